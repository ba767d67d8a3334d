"""The PostgreSQL outage race: the harness that kills PostgreSQL 0.5 s into its run is itself SIGKILLed at a
seeded moment 0.4-0.9 s in (from 0.1 s before its intent to 0.4 s after the kill, the window in which the
db-outage preset's heal used to fail), at eight seeded moments; each time
`locust-chaos heal` exits 0 only with PostgreSQL answering a query, and the journal is empty.

The harness is a real separate process doing what the master does (journal intent, then the
datastore.outage kill through the same classes); a full Locust run per repetition would not fit the suite's
time budget."""
import json
import os
import random
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from chaos_hooks.control.journal import Journal
from helpers import ROOT, run_cli, servers_only, wait_for

pytestmark = pytest.mark.slow

HARNESS = """
import sys, time
from chaos_hooks.control.journal import Journal
from chaos_hooks.faults import build_faults
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.spec.scenario import FaultSpec
profile = load_profile(sys.argv[1])
journal = Journal(sys.argv[2])
spec = FaultSpec("db-down", "datastore.outage", "db", 0.5, 5.0, {})
fault = build_faults([spec], profile)[0]
fault.preflight()
t0 = time.monotonic()
print("t0", flush=True)
time.sleep(spec.at)  # the fault's scheduled moment, as the master's scheduler keeps it
entry = journal.intent(fault.action, "db-down", profile.source, fault.heal_record())
fault.inject()
print("injected", flush=True)
time.sleep(5.0)
fault.heal()
journal.healed(entry)
print("healed", flush=True)
"""


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.Error:
        return False


def test_sigkilled_harness_mid_db_outage_is_healed_at_eight_seeded_moments(tmp_path, home):
    stack = servers_only({"db": {"kind": "postgresql", "database": "t"}})
    urls = stack.start_servers()
    try:
        url = urls["db"]
        comp = stack.components["db"]
        profile = tmp_path / "target.json"
        profile.write_text(json.dumps({"host": "http://127.0.0.1:9", "datastores": {"db": url},
                                       "components": {"db": {**comp.to_dict(), "die_with_parent": False}}}))
        script = tmp_path / "harness.py"
        script.write_text(HARNESS)
        journal = Journal(os.path.join(home, "journal.jsonl"))
        rnd = random.Random(20261203)
        outcomes = []
        for attempt in range(8):
            assert answers(url), f"PostgreSQL down before attempt {attempt}"
            harness = subprocess.Popen([sys.executable, str(script), str(profile), journal.path], cwd=ROOT,
                                       stdout=subprocess.PIPE, text=True,
                                       env=dict(os.environ, LOCUST_CHAOS_HOME=str(home)))
            assert harness.stdout.readline().strip() == "t0"
            began = time.monotonic()
            moment = rnd.uniform(0.4, 0.9)
            wait_for(lambda: time.monotonic() - began >= moment, 5, "the kill moment", interval=0.005)
            harness.send_signal(signal.SIGKILL)
            harness.wait(timeout=10)
            harness.stdout.close()
            pending = bool(journal.pending())
            code, out = run_cli(["heal"], home)
            assert code == 0 and "Traceback" not in out, f"attempt {attempt} (kill at {moment:.3f}s): {out}"
            assert journal.pending() == [], out
            assert answers(url), f"attempt {attempt}: heal said {out!r} but PostgreSQL does not answer"
            outcomes.append((round(moment, 3), pending))
        print(outcomes)
        # The seeded moments hit both sides of the kill: before the intent and with the fault applied.
        assert any(p for _, p in outcomes) and not all(p for _, p in outcomes), outcomes
    finally:
        stack.down()
