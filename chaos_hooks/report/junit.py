"""junit.xml for CI (GitLab, Jenkins): one testcase per invariant (probes and guards included); an invalid one is
a <failure>, an undecided one an <error>, each message carrying the figure; harness problems are one more
testcase with an <error>. Times are real: the suite's is the run's duration (start to the end of the load), a
case's the invariant's own check time when the verdict has it (`check_s`), else the run's duration."""
import time
from xml.etree import ElementTree as ET

from chaos_hooks.report.terminal import interrupted_line

PROPERTIES = ("run_id", "status", "seed", "nemesis_seed", "report_dir")
UNDECIDED = "undecided: "


def run_seconds(verdict: dict) -> float:
    start, end = verdict.get("started_at"), verdict.get("load_ended_at")
    return max(end - start, 0.0) if start and end else 0.0


def _undecided(summary: str) -> str:
    """The message of an unknown invariant says "undecided" once, whether or not the summary already does."""
    return summary if summary.startswith(UNDECIDED) else UNDECIDED + summary


def render(verdict: dict) -> bytes:
    suite_name = f"locust-chaos.{verdict['scenario']}"
    duration = run_seconds(verdict)
    cases = []
    for inv in verdict["invariants"]:
        seconds = inv.get("check_s") if inv.get("check_s") is not None else duration
        case = ET.Element("testcase", classname=suite_name, name=inv["name"], time=f"{max(seconds, 0.0):.3f}")
        figure = f" (figure {inv['figure']})" if inv.get("figure") is not None else ""
        if inv["status"] == "invalid":
            ET.SubElement(case, "failure", message=f"{inv['summary']}{figure}"[:1000], type="invalid").text = \
                inv["summary"]
        elif inv["status"] == "unknown":
            ET.SubElement(case, "error", message=f"{_undecided(inv['summary'])}{figure}"[:1000],
                          type="unknown").text = inv["summary"]
        cases.append(case)
    if verdict.get("interrupted"):
        case = ET.Element("testcase", classname=suite_name, name="interrupted", time="0")
        text = interrupted_line(verdict)
        ET.SubElement(case, "error", message=text[:1000], type="interrupted").text = text
        cases.append(case)
    if verdict.get("harness_problems"):
        case = ET.Element("testcase", classname=suite_name, name="harness", time=f"{duration:.3f}")
        text = "; ".join(verdict["harness_problems"])
        ET.SubElement(case, "error", message=text[:1000], type="harness").text = text
        cases.append(case)
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    root = ET.Element("testsuites", name="locust-chaos", tests=str(len(cases)), failures=str(failures),
                      errors=str(errors), time=f"{duration:.3f}")
    attrs = {}
    if verdict.get("started_at"):
        attrs["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(verdict["started_at"]))
    suite = ET.SubElement(root, "testsuite", name=suite_name, tests=str(len(cases)), failures=str(failures),
                          errors=str(errors), skipped="0", time=f"{duration:.3f}", **attrs)
    props = ET.SubElement(suite, "properties")
    for key in PROPERTIES:
        if verdict.get(key) is not None:  # no seed="None": a run without a seed has no seed property
            ET.SubElement(props, "property", name=key, value=str(verdict[key]))
    suite.extend(cases)
    ET.SubElement(suite, "system-out").text = "\n".join(f"{i['name']}: {i['status']}: {i['summary']}"
                                                         for i in verdict["invariants"])
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
