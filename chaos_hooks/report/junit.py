"""junit.xml for CI (GitLab, Jenkins): one testcase per invariant (probes and guards included); an invalid one is
a <failure>, an undecided one an <error>, each message carrying the figure; harness problems are one more
testcase with an <error>."""
from xml.etree import ElementTree as ET


def render(verdict: dict) -> bytes:
    suite_name = f"locust-chaos.{verdict['scenario']}"
    cases = []
    for inv in verdict["invariants"]:
        case = ET.Element("testcase", classname=suite_name, name=inv["name"], time="0")
        figure = f" (figure {inv['figure']})" if inv.get("figure") is not None else ""
        if inv["status"] == "invalid":
            ET.SubElement(case, "failure", message=f"{inv['summary']}{figure}"[:1000], type="invalid").text = \
                inv["summary"]
        elif inv["status"] == "unknown":
            ET.SubElement(case, "error", message=f"undecided: {inv['summary']}"[:1000], type="unknown").text = \
                inv["summary"]
        cases.append(case)
    if verdict.get("interrupted"):
        case = ET.Element("testcase", classname=suite_name, name="interrupted", time="0")
        what = verdict["interrupted"]
        text = f"interrupted at +{what.get('at_s')}s: {what['why']}"
        ET.SubElement(case, "error", message=text[:1000], type="interrupted").text = text
        cases.append(case)
    if verdict.get("harness_problems"):
        case = ET.Element("testcase", classname=suite_name, name="harness", time="0")
        text = "; ".join(verdict["harness_problems"])
        ET.SubElement(case, "error", message=text[:1000], type="harness").text = text
        cases.append(case)
    duration = max((verdict.get("load_ended_at") or 0) - (verdict.get("started_at") or 0), 0)
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    root = ET.Element("testsuites", name="locust-chaos", tests=str(len(cases)), failures=str(failures),
                      errors=str(errors), time=f"{duration:.3f}")
    suite = ET.SubElement(root, "testsuite", name=suite_name, tests=str(len(cases)), failures=str(failures),
                          errors=str(errors), skipped="0", time=f"{duration:.3f}")
    props = ET.SubElement(suite, "properties")
    for key in ("run_id", "status", "seed", "nemesis_seed", "report_dir"):
        ET.SubElement(props, "property", name=key, value=str(verdict.get(key)))
    suite.extend(cases)
    ET.SubElement(suite, "system-out").text = "\n".join(f"{i['name']}: {i['status']}: {i['summary']}"
                                                         for i in verdict["invariants"])
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
