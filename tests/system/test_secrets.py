"""No secret in any file or screen: a real run against the shop whose profile holds a datastore URL password,
a component env value, the argv of a `secret: true` command and a `secrets:` literal (used by the scenario's
values) — every output file and the terminal are grepped for all four. Only the journal's private file,
mode 0600, keeps what a heal needs."""
import json
import os
import stat

from helpers import run_cli, load_verdict

SECRETS = {"url": "pgPass-S3cr3tQ", "env": "envTok-9f8e7d6c5b", "argv": "argvTok-77aa99", "listed": "literal-Zq7Xw"}
SCENARIO = f"""\
name: secret-run
system: shop
load: {{users: 5, spawn_rate: 5, run_time: 6s, user_classes: [OrderUser], wait: [0.1, 0.3]}}
values: {{product: "sec-{{run_id}}", stock: 500, note: "{SECRETS['listed']}"}}
faults:
  - {{name: kill-worker, action: process.kill, target: worker, at: 1s, heal_after: 2s}}
  - {{name: touch, action: shell.command, target: touch, at: 1.5s, heal_after: 1s}}
invariants: {{no_data_loss: {{}}}}
"""


def test_no_secret_in_any_output(tmp_path, home, system_stack):
    stack = system_stack("shop")
    data = json.load(open(stack.profile_path))
    data["datastores"]["db"] = data["datastores"]["db"].replace("postgres@", f"postgres:{SECRETS['url']}@")
    data["components"]["worker"].setdefault("env", {})["SHOP_API_TOKEN"] = SECRETS["env"]
    data["commands"] = {"touch": {"run": ["sh", "-c", "true", SECRETS["argv"]],
                                  "heal": ["sh", "-c", "true", SECRETS["argv"]], "secret": True}}
    data["secrets"] = [SECRETS["listed"]]
    target = tmp_path / "target.json"
    target.write_text(json.dumps(data))
    scenario = tmp_path / "secret-run.yaml"
    scenario.write_text(SCENARIO)
    report = tmp_path / "report"
    code, out = run_cli(["run", str(scenario), "--target", str(target), "--report-dir", str(report), "--quiet"],
                        home)
    verdict = load_verdict(report)
    assert code == 0 and "Traceback" not in out, out[-3000:]
    assert [f["healed_at"] is not None for f in verdict["faults"]] == [True, True]
    assert "***" in json.dumps(verdict)  # the listed secret was there, masked
    for name, secret in SECRETS.items():
        assert secret not in out, f"{name} secret on the terminal"
    private = os.path.join(home, "journal.private.jsonl")
    written = [os.path.join(d, f) for root in (report, home) for d, _, files in os.walk(root) for f in files]
    assert {"verdict.json", "faults.json", "report.html", "junit.xml", "history.jsonl", "journal.jsonl"} <= \
        {os.path.basename(p) for p in written}
    for path in written:
        if path == private:
            continue
        text = open(path, "rb").read().decode(errors="replace")
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} secret in {path}"
    # What a heal from the journal needs is kept, readable by the owner only.
    assert SECRETS["env"] in open(private).read()
    for path in (private, os.path.join(home, "journal.jsonl")):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o700
    for name in os.listdir(report):
        assert stat.S_IMODE(os.stat(report / name).st_mode) == 0o600, name
