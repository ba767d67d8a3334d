"""junit.xml as CI reads it: valid against the JUnit schema, real times, the seed as a property only when there is
one, and "undecided" said once."""
import os
from xml.etree import ElementTree as ET

import xmlschema

from chaos_hooks.report import junit
from helpers import ROOT

SCHEMA = xmlschema.XMLSchema(os.path.join(ROOT, "tests", "schemas", "junit.xsd"))


def verdict(**over):
    v = {"scenario": "worker-crash", "run_id": "ab12", "status": "unknown", "seed": None, "nemesis_seed": None,
         "report_dir": "/tmp/r", "started_at": 1000.0, "load_ended_at": 1012.5, "harness_problems": [],
         "invariants": [{"name": "no_data_loss", "status": "valid", "summary": "lost 0 of 3", "figure": 0},
                        {"name": "no_oversell", "status": "unknown", "figure": None,
                         "summary": "undecided: 27 kept + 0 left = 27 of 100"},
                        {"name": "catch_up", "status": "unknown", "figure": None, "summary": "read backlog failed"},
                        {"name": "order", "status": "invalid", "figure": 2, "summary": "2 keys out of order",
                         "check_s": 0.25}]}
    v.update(over)
    return v


def parsed(v) -> ET.Element:
    data = junit.render(v)
    SCHEMA.validate(data.decode())
    return ET.fromstring(data)


def test_times_seed_and_messages():
    root = parsed(verdict())
    suite = root.find("testsuite")
    assert float(suite.get("time")) == float(root.get("time")) == 12.5
    times = {c.get("name"): float(c.get("time")) for c in suite.iter("testcase")}
    assert times == {"no_data_loss": 12.5, "no_oversell": 12.5, "catch_up": 12.5, "order": 0.25}
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"run_id": "ab12", "status": "unknown", "report_dir": "/tmp/r"}  # no seed="None"
    errors = {c.get("name"): c.find("error").get("message") for c in suite.iter("testcase") if c.find("error") is not None}
    assert errors == {"no_oversell": "undecided: 27 kept + 0 left = 27 of 100",
                      "catch_up": "undecided: read backlog failed"}
    assert b"None" not in junit.render(verdict())


def test_seeds_when_there_are_some_and_a_run_that_never_started():
    props = {p.get("name"): p.get("value") for p in parsed(verdict(seed=7, nemesis_seed=0)).iter("property")}
    assert props["seed"] == "7" and props["nemesis_seed"] == "0"
    root = parsed(verdict(started_at=None, load_ended_at=None, harness_problems=["interrupted"]))
    assert float(root.get("time")) == 0.0 and root.find("testsuite").get("errors") == "3"
