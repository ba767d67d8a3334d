"""A seeded mutator turns the presets and profiles into hundreds of broken files; every one must end in exit 0
or 2 within 5 s, with no traceback, and every exit-2 message names the file and a line or field."""
import contextlib
import io
import json
import os
import random
import re
import time

import pytest

from chaos_hooks import cli
from chaos_hooks.spec.scenario import PRESET_DIR, preset_names
from helpers import CLI, ROOT, run_cli

SEED = 7_20261122
BAD_SCALARS = ["[1, 2]", "{a: 1}", "true", "null", "~", ".nan", ".inf", "-.inf", "-1", "0", "1e20", "1.0e+400",
               "9" * 401, "'５s'", "'٣'", "''", "' '", "x" * 5000, "!!binary aGk=", "2001-12-14", "0x7fffffffffffffff",
               "-9223372036854775809", "'{nope}'", "'{'", "&a x", "*undefined"]
PROFILE_BASE = """\
host: http://127.0.0.1:9
control_host: http://127.0.0.1:9
ready: {http: GET /ready, expect: 200}
datastores:
  db: postgresql://u@127.0.0.1:9/app
  cache: redis://127.0.0.1:9/0
  bus: nats://127.0.0.1:9
components:
  worker: {pidfile: /run/w.pid, start: [w, --pidfile, /run/w.pid], env: {A: "1"}, start_timeout: 5s}
  api: {match: [python3, -m, app]}
  proxy: {pid_command: [cat, /run/p.pid]}
toxiproxy_url: http://127.0.0.1:8474
links: {cache: {listen: "127.0.0.1:16379", upstream: "127.0.0.1:6379"}}
setup:
  - {http: POST /sale, json: {product_id: "{product}", quantity: "{stock}"}, expect: 201}
reads:
  persisted: {from: db, sql: "SELECT k AS key, i AS id FROM t WHERE p = %(product)s"}
  stock_left: {from: cache, redis: [GET, "stock:{product}"]}
  backlog: {from: cache, stream: orders, group: writers}
"""


def mutate(text: str, rnd: random.Random) -> bytes:
    lines = text.splitlines()
    for _ in range(rnd.randint(1, 3)):
        i = rnd.randrange(len(lines)) if lines else 0
        kind = rnd.randrange(11)
        if not lines:
            lines = ["x: 1"]
        elif kind == 0:
            del lines[i]
        elif kind in (1, 2, 3):  # a value replaced by something of the wrong type or range
            lines[i] = re.sub(r"(:\s*)([^\s{\[][^,}\]]*|\[[^\]]*\]|\{[^}]*\})", lambda m: m.group(1) + rnd.choice(BAD_SCALARS),
                              lines[i], count=1)
        elif kind == 4:  # a key renamed
            lines[i] = re.sub(r"([A-Za-z_]+):", lambda m: m.group(1) + rnd.choice(["x", "_", "S"]) + ":", lines[i], count=1)
        elif kind == 5:
            lines.append("bomb: &a [x,x,x,x,x,x,x,x]\n" + "\n".join(
                f"b{n}: &a{n} [{','.join(['*a' if n == 0 else f'*a{n - 1}'] * 8)}]" for n in range(8)))
        elif kind == 6:
            lines.append("deep: " + "[" * rnd.choice([50, 1000, 5000]) + "]" * 3)
        elif kind == 7:
            lines.insert(i, "? [a, b]\n: c")
        elif kind == 8:
            lines.insert(i, rnd.choice(["1: x", "true: y", "null: z", lines[i]]))
        elif kind == 9:
            lines[i] = lines[i][: rnd.randrange(len(lines[i]) + 1)]
        else:
            raw = "\n".join(lines).encode()
            pos = rnd.randrange(len(raw) + 1)
            return raw[:pos] + rnd.choice([b"\xff\xfe", b"\x00", b"\x07", b"\xc3\x28", b"\xe2\x82"]) + raw[pos:]
    return ("\n".join(lines) + "\n").encode()


def validate_in_process(args) -> tuple[int, str, float]:
    out = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            cli.main(args)
            code = 0
        except SystemExit as done:
            code = done.code
    return code, out.getvalue(), time.monotonic() - started


def check(path: str, code: int, output: str, took: float) -> None:
    assert took < 5, f"{path}: took {took:.1f}s"
    assert code in (0, 2), f"{path}: exit {code}: {output}"
    assert "Traceback" not in output and "internal error" not in output, output
    if code == 2:
        line = output.strip()
        assert "\n" not in line, output
        assert re.match(rf"locust-chaos: error: {re.escape(path)}(:\d+)?: \S", line), line


def test_mutated_scenarios_and_profiles_end_in_exit_0_or_2(tmp_path, home):
    rnd = random.Random(SEED)
    sources = [open(os.path.join(PRESET_DIR, f"{n}.yaml")).read() for n in preset_names()]
    codes = {0: 0, 2: 0}
    for n in range(320):
        path = str(tmp_path / f"scenario-{n}.yaml")
        with open(path, "wb") as f:
            f.write(mutate(rnd.choice(sources), rnd))
        code, output, took = validate_in_process(["validate", path])
        check(path, code, output, took)
        codes[code] += 1
    profiles = [PROFILE_BASE, json.dumps(json.loads(json.dumps(_as_json(PROFILE_BASE))), indent=2)]
    for n in range(120):
        path = str(tmp_path / f"profile-{n}.{'json' if n % 2 else 'yaml'}")
        with open(path, "wb") as f:
            f.write(mutate(profiles[n % 2], rnd))
        code, output, took = validate_in_process(["validate", "flash-sale", "--target", path, "--offline"])
        check(path, code, output, took)
        codes[code] += 1
    assert codes[2] > 300 and codes[0] > 10, codes  # the mutator produces both, and mostly breakage


def _as_json(text: str) -> dict:
    from chaos_hooks.common.safe_yaml import load_text
    return load_text(text, "base").data


@pytest.mark.parametrize("n", range(6))
def test_the_real_entry_point_on_mutants(tmp_path, home, n):
    rnd = random.Random(SEED + n)
    path = str(tmp_path / f"s{n}.yaml")
    with open(path, "wb") as f:
        f.write(mutate(open(os.path.join(PRESET_DIR, "worker-crash.yaml")).read(), rnd))
    started = time.monotonic()
    code, out = run_cli(["validate", path], home)
    check(path, code, out, time.monotonic() - started)
    assert os.path.exists(CLI) and ROOT
