"""The history API a locustfile uses, against real HTTP answers from Locust's own clients: invoke -> ok | fail
| info, the system's id recorded, refused-before-send a failure, anything uncertain unknown."""
import http.server
import json
import subprocess
import sys
import threading

import pytest

from chaos_hooks.history import FAIL, INFO, OK, Recorder, worker_tag
from chaos_hooks.history.recorder import decode_batch
from chaos_hooks.history.store import HistoryStore
from chaos_hooks.common.ports import free_port


class _Answers(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # /<status> answers that status with {"id": "x<status>"}
        status = int(self.path.strip("/"))
        body = b'{"id": "x%d"}' % status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Answers)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


CLASSIFY = """
import json, sys
from locust.clients import HttpSession
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from chaos_hooks.history import Recorder
from chaos_hooks.history.recorder import decode_batch

base, calls = sys.argv[1], json.loads(sys.argv[2])
env = Environment()
out = []
for session in (HttpSession(base_url=base, request_event=env.events.request, user=None),
                FastHttpSession(base_url=base, request_event=env.events.request, user=None)):
    rec = Recorder()
    rec.reset("r")
    for path, kwargs in calls:
        with rec.operation("order", path) as op:
            sets = {k: set(v) for k, v in kwargs.items()}
            op.from_http(session.post(path), id=lambda r: r.json()["id"], **sets)
    batch = decode_batch(rec.take_all())
    out.append({"outcome": list(batch["outcome"]), "id": batch["id"]})
print(json.dumps(out))
"""


def classify(base: str, calls: list) -> list[dict]:
    """Real Locust clients (HttpSession and FastHttpSession) in their own process: importing Locust patches
    everything with gevent, which the test process must not be."""
    proc = subprocess.run([sys.executable, "-c", CLASSIFY, base, json.dumps(calls)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_default_classification(server):
    statuses = [200, 202, 409, 404, 500, 503, 302]
    expected = [OK, OK, FAIL, FAIL, INFO, INFO, INFO]
    for result in classify(server, [(f"/{s}", {}) for s in statuses]):
        assert result["outcome"] == expected
        assert result["id"] == ["x200", "x202", None, None, None, None, None]


def test_explicit_sets_and_the_rest_is_unknown(server):
    calls = [(f"/{s}", {"ok": [202], "fail": [409]}) for s in (202, 409, 400, 200)]
    for result in classify(server, calls):
        assert result["outcome"] == [OK, FAIL, INFO, INFO]


def test_refused_before_sending_is_a_failure():
    for result in classify(f"http://127.0.0.1:{free_port()}", [("/x", {})]):
        assert result["outcome"] == [FAIL] and result["id"] == [None]


def test_an_exception_or_a_cut_leaves_the_outcome_unknown():
    rec = Recorder()
    rec.reset("r")
    with pytest.raises(RuntimeError):
        with rec.operation("order", "a"):
            raise RuntimeError("user code failed after sending")
    rec.operation("order", "b")  # in flight when the run stops
    batch = decode_batch(rec.take_all())
    assert batch["key"] == ["a", "b"] and batch["outcome"] == bytes([INFO, INFO])


def test_keys_are_tagged_with_the_load_generator():
    rec = Recorder()
    rec.tag = worker_tag("host_abc123")
    assert rec.new_key().startswith(worker_tag("host_abc123") + "-") and len(rec.new_key()) == 8 + 1 + 32


def test_the_master_store_keeps_columns_and_gives_text_back():
    rec = Recorder()
    rec.reset("r")
    for i in range(5):
        with rec.operation("publish", f"key-{i % 2}", seq=i) as op:
            op.ok(id=f"id-{i}") if i != 3 else op.info()
    store = HistoryStore()
    store.add("w1", rec.take_completed())
    store.add("w1", rec.take_all(), final_total=rec.total_shipped)
    cols = store.columns()
    assert len(cols["key"]) == 5 and list(cols["seq"]) == [0, 1, 2, 3, 4] and store.complete({"w1"})
    assert store.texts([4, 3]) == [("key-0", "id-4"), ("key-1", None)]
    records = list(store.iter_records())
    assert records[3]["outcome"] == "info" and records[4] == {**records[4], "key": "key-0", "seq": 4, "id": "id-4",
                                                             "op": "publish", "source": "w1"}
    assert store.missing({"w1", "w2"}) == ["w2"]
