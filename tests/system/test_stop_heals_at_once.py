"""At stop every applied fault is healed at once, whatever its scheduled heal time: a fault whose inject is
still running (slow) delays only its own heal, not the others'. Run in a gevent-patched process, as the
Locust master is."""
import json
import subprocess
import sys

SCRIPT = """
from gevent import monkey; monkey.patch_all()
import json, sys, time
import gevent
from chaos_hooks.control.journal import Journal
from chaos_hooks.control.scheduler import Scheduler
from chaos_hooks.faults import build_faults
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.spec.scenario import FaultSpec
profile = load_profile(sys.argv[1])
specs = [FaultSpec("slow", "shell.command", "slow", 0.0, 60.0, {}),
         FaultSpec("quick-a", "shell.command", "quick-a", 0.0, 60.0, {}),
         FaultSpec("quick-b", "shell.command", "quick-b", 0.2, 90.0, {})]
sched = Scheduler(build_faults(specs, profile), Journal(sys.argv[2]), profile.source)
sched.start()
while sched.records["quick-b"].injected_at is None:
    gevent.sleep(0.01)
stop = time.time()
sched.heal_all()
print(json.dumps({"stop": stop, "done": time.time(), **{n: r.healed_at for n, r in sched.records.items()},
                  "pending": len(Journal(sys.argv[2]).pending())}))
"""


def test_stop_heals_every_fault_at_once(tmp_path):
    marks = {n: tmp_path / n for n in ("slow", "quick-a", "quick-b")}
    profile = tmp_path / "t.yaml"
    profile.write_text("host: http://127.0.0.1:9\ncommands:\n"
                       f"  slow: {{run: [sleep, '3'], heal: [touch, '{marks['slow']}']}}\n"
                       f"  quick-a: {{run: ['true'], heal: [sh, -c, 'sleep 1; touch {marks['quick-a']}']}}\n"
                       f"  quick-b: {{run: ['true'], heal: [sh, -c, 'sleep 1; touch {marks['quick-b']}']}}\n")
    script = tmp_path / "stop.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(profile), str(tmp_path / "journal.jsonl")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    t = json.loads(done.stdout.strip().splitlines()[-1])
    # Both quick heals (1 s each) ran side by side right at stop, not after the slow inject nor one another.
    for name in ("quick-a", "quick-b"):
        assert marks[name].exists() and t[name] - t["stop"] < 0.5, t
        assert marks[name].stat().st_mtime - t["stop"] < 1.8, (name, marks[name].stat().st_mtime - t["stop"])
    # The slow one is healed as soon as its inject (3 s from the start) is done, and nothing stays applied.
    assert marks["slow"].exists() and t["slow"] is not None and t["pending"] == 0, t
    assert t["done"] - t["stop"] < 4.5, t
