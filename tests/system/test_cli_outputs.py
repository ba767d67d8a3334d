"""A real `locust-chaos run` with Locust's own flags (-f before the name, -t, -u, -r, --headless) and a relative
report directory: the verdict is the last thing on screen, and what it writes for machines parses as such
(history.jsonl as JSONL from line 1, junit.xml against the JUnit schema with real times and the seed)."""
import json
import os
import re
import subprocess
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from helpers import CLI, ROOT, load_verdict

pytestmark = pytest.mark.slow


def test_run_with_locust_flags_ends_with_the_verdict_and_writes_parseable_outputs(tmp_path, home):
    done = subprocess.run([CLI, "run", "-f", os.path.join(ROOT, "locustfiles", "shop.py"), "flash-sale", "-t", "4s",
                           "-u", "7", "-r", "7", "--headless", "--seed", "3", "--report-dir", "report"],
                          cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240,
                          env=dict(os.environ, LOCUST_CHAOS_HOME=str(home)))
    out = done.stdout
    assert done.returncode == 0 and "Traceback" not in out, out[-3000:]
    report = tmp_path / "report"
    verdict = load_verdict(report)
    assert verdict["report_dir"] == str(report) and verdict["status"] == "valid"
    assert "(7 total users)" in out  # Locust's own log: -u reached it

    lines = [line for line in out.splitlines() if line.strip()]
    head = max(i for i, line in enumerate(lines) if line.startswith("locust-chaos verdict: flash-sale  ->  "))
    assert lines[head] == "locust-chaos verdict: flash-sale  ->  PASSED"
    assert any("Aggregated" in line for line in lines[:head])  # Locust's summary came before it
    table = lines[head:]
    assert table[-1] == f"  load generators with complete history: 1   report: {report}"
    assert all(line.startswith("  ") for line in table[1:]), table  # nothing but the table after its headline
    assert {i["name"] for i in verdict["invariants"]} == {re.split(r"\s+", l.strip())[1] for l in table[3:3 + len(
        verdict["invariants"])]}

    # history.jsonl: JSON on every line from the first; every field described in the README beside it.
    readme = (report / "README.md").read_text()
    described = set(re.findall(r"^- `([a-z_]+)`:", readme.split("## history.jsonl", 1)[1], re.M))
    with open(report / "history.jsonl") as f:
        records = [json.loads(line) for line in f]
    assert len(records) == verdict["history"]["ops"] > 0
    assert set().union(*records) <= described and {"op", "key", "outcome", "invoke"} <= set(records[0])

    # junit.xml: the schema, the seed, the run's real duration, no "None".
    xml = (report / "junit.xml").read_text()
    xmlschema.XMLSchema(os.path.join(ROOT, "tests", "schemas", "junit.xsd")).validate(xml)
    suite = ET.fromstring(xml).find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["seed"] == "3" and "nemesis_seed" not in props and "None" not in xml
    load_s = verdict["load_ended_at"] - verdict["started_at"]
    assert 3.5 < float(suite.get("time")) == pytest.approx(load_s, abs=0.001)
    assert all(float(c.get("time")) > 0 for c in suite.iter("testcase"))
