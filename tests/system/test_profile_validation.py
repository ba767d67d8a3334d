"""Target profiles: every field type-checked with file:line:field (exit 2); a scenario that does not fit its
profile is told why before anything starts; an unreachable target is exit 3 naming the profile and check."""
import textwrap

import pytest

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.spec.fit import check_fit
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.spec.scenario import load_scenario
from helpers import run_cli

PROFILE = """\
host: http://127.0.0.1:9
ready: {http: GET /health, expect: 200}
datastores:
  db: postgresql://u@127.0.0.1:9/app
  cache: redis://127.0.0.1:9/0
  bus: nats://127.0.0.1:9
components:
  worker: {pidfile: /run/w.pid, start: [w, --pidfile, /run/w.pid], env: {A: "1"}}
  api: {match: [python3, -m, app]}
setup:
  - {redis: [SET, "stock:{product}", "{stock}"], from: cache}
  - {http: POST /things, json: {n: "{stock}"}, save: {thing: id}}
reads:
  persisted: {from: db, sql: "SELECT k AS key FROM t WHERE p = %(product)s AND x = %(thing)s"}
  stock_left: {from: cache, redis: [GET, "stock:{product}"]}
  backlog: {from: bus, jetstream: S, consumer: C}
"""

SCENARIO = """\
name: s
load: {users: 1, run_time: 5s}
values: {product: "p-{run_id}", stock: 3}
faults: [{name: k, action: process.kill, target: worker, at: 1s}]
invariants: {no_data_loss: {}, no_oversell: {initial: stock}, catch_up: {max: 5s}}
"""


def write(tmp_path, text, name="target.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_a_complete_profile_loads_and_fits(tmp_path):
    profile = load_profile(write(tmp_path, PROFILE))
    assert set(profile.reads) == {"persisted", "stock_left", "backlog"}
    assert profile.components["api"].match == ["python3", "-m", "app"]
    check_fit(load_scenario(write(tmp_path, SCENARIO, "s.yaml")), profile)


@pytest.mark.parametrize("bad, line, needle", [
    (PROFILE.replace("host: http://127.0.0.1:9", "host: ftp://x"), 1, "host: 'ftp://x' is not a http/https URL"),
    (PROFILE.replace("host: http://127.0.0.1:9\n", ""), None, "host: is required"),
    (PROFILE.replace('  worker: {pidfile: /run/w.pid, start: [w, --pidfile, /run/w.pid], env: {A: "1"}}\n'
                     '  api: {match: [python3, -m, app]}', "  - worker\n  - api"), 7, "components: expected a mapping"),
    (PROFILE.replace('env: {A: "1"}', "env: [A]"), 8, "components.worker.env: expected a mapping"),
    (PROFILE.replace("  api: {match: [python3, -m, app]}", "  api: {log: /x}"), 9, "components.api: needs a way to find"),
    (PROFILE.replace("redis://127.0.0.1:9/0", "mysql://x/y"), 5, "datastores.cache"),
    (PROFILE.replace("jetstream: S, consumer: C", "jetstream: S"), 16, "reads.backlog.consumer: is required"),
    (PROFILE.replace("{from: bus, jetstream", "{from: db, jetstream"), 16, "reads.backlog.from: 'db' is"),
    (PROFILE.replace("{from: cache, redis: [GET", "{from: cachee, redis: [GET"), 15, "reads.stock_left.from: 'cachee' is not one of"),
    (PROFILE.replace("stock_left: {from: cache, redis:", "stock_left: {from: cache, sql: x, redis:"), 15,
     "a read needs exactly one of"),
    (PROFILE.replace("http: POST /things", "http: FETCH /things"), 12, "setup.1.http: expected 'METHOD /path'"),
    (PROFILE.replace("ready: {http: GET /health, expect: 200}", "ready: {http: GET /health, expect: 999}"), 2,
     "ready.expect"),
    (PROFILE + "links: {cache: {listen: nope, upstream: 127.0.0.1:1}}\n", 17, "links.cache.listen: expected host:port"),
    (PROFILE + "colour: blue\n", 17, "unknown field 'colour'"),
    ("host: [unclosed\n", 2, "not valid YAML"),
    ("- a\n- b\n", 1, "expected a target profile"),
])
def test_profile_errors_name_file_line_and_field(tmp_path, bad, line, needle):
    path = write(tmp_path, bad)
    with pytest.raises(ScenarioError) as err:
        load_profile(path)
    message = str(err.value)
    assert needle in message, message
    assert message.startswith(f"{path}:{line}:" if line else path), message


def test_a_directory_is_not_a_profile(tmp_path, home):
    code, out = run_cli(["validate", "worker-crash", "--target", str(tmp_path)], home)
    assert code == 2 and f"{tmp_path}: is a directory" in out and out.count("\n") == 1


@pytest.mark.parametrize("scenario, profile, needle", [
    (SCENARIO.replace("catch_up: {max: 5s}", "per_key_order: {}"), PROFILE.replace(
        "  persisted: {from: db", "  kept: {from: db"), "invariants.no_data_loss: needs the read 'persisted'"),
    (SCENARIO.replace('values: {product: "p-{run_id}", stock: 3}', "values: {stock: 3}"), PROFILE,
     "values: no run value 'product', which setup.0 at"),
    (SCENARIO, PROFILE.replace("save: {thing: id}", "save: {other: id}"), "values: no run value 'thing', which "
                                                                            "reads.persisted at"),
    (SCENARIO.replace("target: worker", "target: wrker"), PROFILE, "unknown target component 'wrker'"),
])
def test_a_scenario_that_does_not_fit_its_profile(tmp_path, scenario, profile, needle):
    with pytest.raises(ScenarioError) as err:
        check_fit(load_scenario(write(tmp_path, scenario, "s.yaml")), load_profile(write(tmp_path, profile)))
    assert needle in str(err.value), str(err.value)


def test_validate_target_checks_reachability_exit_3(tmp_path, home):
    path = write(tmp_path, PROFILE)
    code, out = run_cli(["validate", write(tmp_path, SCENARIO, "s.yaml"), "--target", path], home)
    assert code == 3, out
    assert out.startswith(f"locust-chaos: error: {path}: ready check GET ") and "127.0.0.1:9" in out and out.count("\n") == 1


def test_validate_target_against_a_live_stack(system_stack, home):
    stack = system_stack("shop")
    code, out = run_cli(["validate", "worker-crash", "--target", stack.profile_path], home)
    assert code == 0 and "reachable: ready" in out and "datastore db" in out and "fault proxy" in out, out
