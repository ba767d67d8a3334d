"""Safety and isolation: process faults act only on processes they may own (refused before any load, exit
2/3, located); `validate --target` shows what each component resolves to; a heal is journaled only once
checked from outside, and `heal` exits 3 naming what is still applied; one run per target at a time; the
Chaos tab behind Locust's --web-login."""
import json
import os
import signal
import subprocess
import time

import requests

from chaos_hooks.common import ports, procs
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.control.journal import Journal
from chaos_hooks.control.preflight import preflight
from chaos_hooks.spec.profile import load_profile
from helpers import BIN, ROOT, run_cli, wait_for

SCENARIO = """\
name: own
load: {users: 1, spawn_rate: 1, run_time: 30s}
faults: [{name: k, action: process.kill, target: victim, at: 20s, heal_after: 1s}]
invariants: {no_data_loss: {}}
"""


def profile(tmp_path, db_url, component: str, name="target.yaml", extra="") -> str:
    path = tmp_path / name
    path.write_text(f"host: http://127.0.0.1:9\ndatastores: {{db: {db_url}}}\n"
                    f"reads: {{persisted: {{from: db, sql: \"SELECT 'k' AS key\"}}}}\n"
                    f"components:\n  victim: {component}\n{extra}")
    return str(path)


def pidfile(tmp_path, pid: int, name: str) -> str:
    path = tmp_path / name
    path.write_text(f"{pid}\n")
    return str(path)


def test_ownership_refusals_and_truthful_validate(tmp_path, home, datastores):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    db = datastores["database_url"]
    foreign = subprocess.Popen(["sleep", "300"])  # a process the harness did not start
    nobody = procs.spawn(["sleep", "301"], log_path=os.devnull, user="nobody")
    try:
        # Named explicitly by its pidfile: acted on, and described as what it is.
        ok = profile(tmp_path, db, f"{{pidfile: {pidfile(tmp_path, foreign.pid, 'w.pid')}}}")
        code, out = run_cli(["validate", str(scenario), "--target", ok], home)
        assert code == 0, out
        assert f"component victim: pid {foreign.pid} from {tmp_path}/w.pid, owner root, command: sleep 300" in out
        refused = {
            "init": (f"{{pidfile: {pidfile(tmp_path, 1, 'init.pid')}}}", 3, "is pid 1 (init); refused"),
            "kernel": (f"{{pidfile: {pidfile(tmp_path, 2, 'k.pid')}}}", 3, "is a kernel thread; refused"),
            "harness": (f"{{pid_command: [echo, '{os.getpid()}']}}", 3, "is this harness or one of its parents"),
            "user": (f"{{pidfile: {pidfile(tmp_path, nobody.pid, 'n.pid')}}}", 2,
                     "victim.user: pid %d from %s/n.pid runs as nobody, not as root; add `user: nobody`"
                     % (nobody.pid, tmp_path)),
        }
        for label, (component, exit_code, message) in refused.items():
            path = profile(tmp_path, db, component, f"{label}.yaml")
            code, out = run_cli(["validate", str(scenario), "--target", path], home)
            assert code == exit_code and f"{path}: components.victim" in out and message in out, (label, out)
        # A Locust process is never a target, even when a profile names it.
        master = subprocess.Popen([os.path.join(BIN, "locust"), "--version"], stdout=subprocess.DEVNULL)
        os.kill(master.pid, signal.SIGSTOP)  # held still while it is looked at
        try:
            path = profile(tmp_path, db, f"{{pidfile: {pidfile(tmp_path, master.pid, 'l.pid')}}}", "locust.yaml")
            code, out = run_cli(["validate", str(scenario), "--target", path], home)
            assert code == 3 and "is a Locust / locust-chaos process" in out, out
        finally:
            os.kill(master.pid, signal.SIGKILL)
            master.wait()
        # With `user: nobody` the profile allows it.
        path = profile(tmp_path, db, f"{{pidfile: {tmp_path}/n.pid, user: nobody}}", "nobody.yaml")
        code, out = run_cli(["validate", str(scenario), "--target", path], home)
        assert code == 0 and f"pid {nobody.pid} from {tmp_path}/n.pid, owner nobody" in out, out
        # The refusal comes before any load: a plain locust run against init exits 3 at once.
        started = time.monotonic()
        code, out = locust_run(tmp_path, home, scenario, profile(tmp_path, db, refused["init"][0], "i2.yaml"))
        assert code == 3 and "is pid 1 (init); refused" in out and "Ramping" not in out, out
        assert time.monotonic() - started < 30
        assert procs.is_running(foreign.pid) and procs.is_running(nobody.pid)
    finally:
        for proc in (foreign, nobody):
            procs.stop_pid(proc.pid)


def locust_run(tmp_path, home, scenario, target, *extra, timeout=120):
    done = subprocess.run([os.path.join(BIN, "locust"), "-f", "locustfiles/shop.py", "--headless",
                           "--chaos-scenario-file", str(scenario), "--chaos-target", target,
                           "--chaos-report-dir", str(tmp_path / f"r-{time.monotonic_ns()}"), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, LOCUST_CHAOS_HOME=str(home)))
    return done.returncode, done.stdout + done.stderr


def test_a_failed_heal_exits_3_names_what_is_applied_and_is_retried(tmp_path, home):
    journal = Journal(os.path.join(home, "journal.jsonl"))
    gone = tmp_path / "gone.pid"
    target = tmp_path / "t.yaml"
    target.write_text("host: http://127.0.0.1:9\n")
    # A killed component whose start command cannot bring it back: the heal fails and says so.
    entry = journal.intent("process.kill", "kill-victim", str(target),
                           {"component": {"name": "victim", "pidfile": str(gone), "start": ["false"]}})
    data = [json.loads(line) for line in open(journal.path)]
    data[-1].update(owner_pid=2 ** 22 + 7, owner_started=1)  # its run is gone
    open(journal.path, "w").write("".join(json.dumps(d) + "\n" for d in data))
    for _ in range(2):  # retried each time, never closed as healed
        code, out = run_cli(["heal"], home)
        assert code == 3 and "still applied" in out and "kill-victim (process.kill)" in out, out
        assert [e["id"] for e in journal.pending()] == [entry]
    # The next run's preflight tries it again and refuses at once, naming it.
    started = time.monotonic()
    try:
        preflight(load_profile(str(target)), journal)
        raise AssertionError("preflight ran on top of an applied fault")
    except TargetUnreachable as err:
        assert "kill-victim (process.kill)" in str(err) and "still applied" in str(err)
    assert time.monotonic() - started < 10
    # Once the cause is fixed, heal brings it back, checked from outside, and closes the record.
    fixed = [json.loads(line) for line in open(journal.path)]
    fixed[0]["heal"]["component"]["start"] = ["sh", "-c", f"echo $$ > {gone}; exec sleep 300"]
    open(journal.path, "w").write("".join(json.dumps(d) + "\n" for d in fixed))
    code, out = run_cli(["heal"], home)
    try:
        assert code == 0 and "kill-victim (process.kill): healed" in out, out
        assert procs.is_running(procs.read_pidfile(str(gone))) and journal.pending() == []
    finally:
        procs.stop_pid(procs.read_pidfile(str(gone)))


def test_one_run_per_target(tmp_path, home, datastores):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    victim = subprocess.Popen(["sleep", "300"])
    target = profile(tmp_path, datastores["database_url"], f"{{pidfile: {pidfile(tmp_path, victim.pid, 'v.pid')}}}")
    holder = subprocess.Popen([os.path.join(BIN, "python"), "-c",
                               "import sys, time; from chaos_hooks.control import run_lock; "
                               "from chaos_hooks.spec.profile import load_profile; "
                               "run_lock.acquire(load_profile(sys.argv[1]), sys.argv[2]); print('held', flush=True); "
                               "time.sleep(120)", target, str(home)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, out = locust_run(tmp_path, home, scenario, target)
        assert code == 3 and f"another run is using this target (pid {holder.pid}, started" in out, out
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
        procs.stop_pid(victim.pid)


LOGIN_LOCUSTFILE = """
from flask import redirect, request
from flask_login import UserMixin, login_user
from locust import events
from locustfiles.shop import *  # noqa: F401,F403  the shop's user classes


class Admin(UserMixin):
    id = "admin"


@events.init.add_listener
def _login(environment, **_):
    if environment.web_ui is None or not environment.parsed_options.web_login:
        return
    environment.web_ui.app.secret_key = "test-only-key"
    environment.web_ui.login_manager.user_loader(lambda user_id: Admin() if user_id == "admin" else None)

    @environment.web_ui.app.route("/login_submit", methods=["POST"])
    def login_submit():
        if request.form.get("password") != "right":
            return redirect("/login")
        login_user(Admin())
        return redirect("/")
"""


def test_chaos_tab_honours_web_login(tmp_path, home, datastores):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    victim = subprocess.Popen(["sleep", "300"])
    target = profile(tmp_path, datastores["database_url"], f"{{pidfile: {pidfile(tmp_path, victim.pid, 'v.pid')}}}")
    locustfile = tmp_path / "login_locustfile.py"
    locustfile.write_text(LOGIN_LOCUSTFILE)
    routes = ["/chaos/state", "/chaos/static/chaos-ui.js", "/chaos/report"]
    try:
        for login in (True, False):
            port = ports.free_port()
            ui = subprocess.Popen([os.path.join(BIN, "locust"), "-f", str(locustfile), "--web-host", "127.0.0.1",
                                   "--web-port", str(port), "--chaos-scenario-file", str(scenario),
                                   "--chaos-target", target, *(["--web-login"] if login else [])],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env=dict(os.environ, LOCUST_CHAOS_HOME=str(home), PYTHONPATH=ROOT))
            base = f"http://127.0.0.1:{port}"
            try:
                wait_for(lambda: _answers(base), 60, "the web UI")
                anonymous = requests.Session()
                for route in routes:
                    r = anonymous.get(base + route, allow_redirects=False, timeout=5)
                    if login:
                        assert r.status_code == 302 and "/login" in r.headers["location"], (route, r.status_code)
                        assert '"faults"' not in r.text and "function" not in r.text, route
                    else:
                        assert r.status_code in (200, 404), (route, r.status_code)  # no report yet: 404
                assert (anonymous.get(base + "/chaos/state", timeout=5).headers["content-type"]
                        .startswith("application/json")) is not login
                if login:
                    user = requests.Session()
                    assert user.post(base + "/login_submit", data={"password": "wrong"}, timeout=5).ok
                    assert user.get(base + "/chaos/state", allow_redirects=False, timeout=5).status_code != 200
                    user.post(base + "/login_submit", data={"password": "right"}, timeout=5)
                    r = user.get(base + "/chaos/state", allow_redirects=False, timeout=5)
                    assert r.status_code == 200 and "own" in json.dumps(r.json()["scenario"]) and "faults" in r.json(), r.text[:300]
                    assert user.get(base + "/chaos/static/chaos-ui.js", timeout=5).status_code == 200
            finally:
                procs.stop_pid(ui.pid)
                ui.stdout.close()
    finally:
        procs.stop_pid(victim.pid)


def _answers(base: str) -> bool:
    try:
        requests.get(base + "/login", timeout=1)
        return True
    except requests.RequestException:
        return False
