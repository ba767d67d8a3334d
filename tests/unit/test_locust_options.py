"""The chaos options come from LOCUST_* environment variables and locust.conf, as Locust's own do: proven with
the real `locust` program, whose error names the scenario only the environment or the file gave it (the
preset's fault at 5s does not fit -t 2s; that check runs before anything is contacted)."""
import json
import os
import subprocess

import configargparse

from chaos_hooks.locust_plugin import options as chaos_options
from helpers import BIN, ROOT

SHOP = os.path.join(ROOT, "locustfiles", "shop.py")
WORKER_CRASH = os.path.join("chaos_hooks", "scenarios", "worker-crash.yaml")


def placeholder_profile(path) -> str:
    """The shop's target profile with addresses nothing listens on: enough for the checks before a run."""
    from chaos_hooks.common.safe_yaml import load_file
    from chaos_hooks.spec.reference_systems import load_system
    data = dict(load_file(load_system("shop").profile).data)
    data.update(host="http://127.0.0.1:1", toxiproxy_url="http://127.0.0.1:1",
                datastores={"cache": "redis://127.0.0.1:1/0", "db": "postgresql://127.0.0.1:1/x"},
                components={n: {"start": ["true"]} for n in ("cache", "db", "worker", "api", "proxy")},
                links={n: {"listen": "127.0.0.1:1", "upstream": "127.0.0.1:1"} for n in ("cache", "db")})
    path.write_text(json.dumps(data))
    return str(path)


def locust(args, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_") or k == "LOCUST_CHAOS_HOME"}
    proc = subprocess.run([os.path.join(BIN, "locust"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=dict(env, **(env_extra or {})))
    return proc.returncode, proc.stdout + proc.stderr


def test_scenario_and_target_from_the_environment(tmp_path):
    profile = placeholder_profile(tmp_path / "profile.json")
    args = ["-f", SHOP, "--headless", "-t", "2s"]
    code, out = locust(args, tmp_path, {"LOCUST_SCENARIO": "worker-crash", "LOCUST_CHAOS_TARGET": profile})
    assert code == 2, out
    assert f"{WORKER_CRASH}:" in out and "faults.kill-worker.at: starts at 5s but the load ends at 2s" in out
    # Without the variable there is no scenario: the error is another one.
    code, out = locust(args + ["--chaos-target", profile], tmp_path)
    assert code == 2 and "no scenario" in out and "worker-crash.yaml" not in out, out


def test_scenario_file_and_target_from_locust_conf(tmp_path):
    profile = placeholder_profile(tmp_path / "profile.json")
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("name: mine\nsystem: shop\nload: {users: 2, run_time: 5s, user_classes: [NoSuchUser]}\n"
                        "values: {product: p, stock: 5}\ninvariants: {no_data_loss: {}}\n")
    (tmp_path / "locust.conf").write_text(f"locustfile = {SHOP}\nheadless = true\nrun-time = 3s\n"
                                          f"chaos-scenario-file = mine.yaml\nchaos-target = {profile}\n")
    code, out = locust([], tmp_path)
    assert code == 2, out
    assert "mine.yaml:3: load.user_classes: 'NoSuchUser' is not a user class" in out


class WebUiAware(configargparse.ArgumentParser):
    """Locust's parser (configargparse) takes include_in_web_ui too; importing Locust here would patch gevent."""

    def add_argument(self, *args, **kwargs):
        kwargs.pop("include_in_web_ui", None)
        return super().add_argument(*args, **kwargs)


def test_every_option_has_its_environment_variable(monkeypatch):
    """Each option, set only in the environment, arrives parsed (types and lists included)."""
    env = {"LOCUST_SCENARIO": "worker-crash", "LOCUST_CHAOS_SCENARIO_FILE": "s.yaml", "LOCUST_CHAOS_TARGET": "t.yaml",
           "LOCUST_CHAOS_REPORT_DIR": "out", "LOCUST_CHAOS_SEED": "42", "LOCUST_CHAOS_PLUGIN": "[a.b, c]",
           "LOCUST_CHAOS_QUIET": "true"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    parser = WebUiAware(default_config_files=[])
    chaos_options.add_to(parser, ["worker-crash"])
    got = vars(parser.parse_args([]))
    assert got == {"scenario": "worker-crash", "chaos_scenario_file": "s.yaml", "chaos_target": "t.yaml",
                   "chaos_report_dir": "out", "chaos_seed": 42, "chaos_plugin": ["a.b", "c"], "chaos_quiet": True}
    assert set(env) == {spec["env_var"] for _, spec in chaos_options.options([])}
