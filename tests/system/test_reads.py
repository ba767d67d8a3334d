"""Read kinds and setup steps against real Redis, PostgreSQL, NATS JetStream and HTTP, each checked against
what the test itself wrote."""
import asyncio
import http.server
import json
import textwrap
import threading
import uuid

import psycopg
import pytest
import redis

from chaos_hooks.datastores.connections import Datastores, ReadFailed
from chaos_hooks.history.view import elements
from chaos_hooks.common.ports import free_port
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.reads import ReadContext
from chaos_hooks.setup_steps import SetupFailed
from chaos_hooks.common.table import NO_VALUE


def profile(tmp_path, datastores, reads="", setup="", host="http://127.0.0.1:1"):
    text = textwrap.dedent(f"""\
        host: {host}
        datastores: {{db: "{datastores['database_url']}", cache: "{datastores['redis_url']}",
                     bus: "{datastores['nats_url']}"}}
        """) + reads + setup
    path = tmp_path / "target.yaml"
    path.write_text(text)
    return load_profile(str(path))


def ctx(prof, values):
    return ReadContext(Datastores(prof.datastores), values, prof.control_host)


def test_sql_rows_by_copy_hashes_every_row_and_gives_text_back(tmp_path, datastores):
    table = f"t_{uuid.uuid4().hex[:8]}"
    odd = ["tab\there", "new\nline", "back\\slash", "ünïcode", ""]
    with psycopg.connect(datastores["database_url"], autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (n serial, k text, i text, s bigint, run text)")
        with conn.cursor().copy(f"COPY {table} (k, i, s, run) FROM STDIN") as copy:
            for n in range(150_000):
                copy.write_row((f"key-{n}", None if n % 7 == 0 else f"id-{n}", n, "r1"))
            for n, k in enumerate(odd):
                copy.write_row((k, f"odd-{n}", None, "r1"))
            copy.write_row(("other-run", "x", 1, "r2"))
    prof = profile(tmp_path, datastores, f"""reads:
  persisted: {{from: db, sql: "SELECT k AS key, i AS id, s AS seq FROM {table} WHERE run = %(run_id)s ORDER BY n"}}
""")
    rows = prof.read("persisted").rows(ctx(prof, {"run_id": "r1"}))
    assert rows.n == 150_005 and rows.has("id") and rows.has("seq") and not rows.has("units")
    assert rows.columns["key"][43] == hash("key-43") and rows.columns["id"][43] == hash("id-43")
    assert rows.columns["id"][49] == NO_VALUE and rows.columns["seq"][150_002] == NO_VALUE
    assert rows.strings("key", [149_999, 150_000, 150_001, 150_002, 150_003, 150_004]) == ["key-149999"] + odd
    assert rows.strings("id", [0, 1]) == [None, "id-1"]
    assert len(set(elements(rows.columns["key"], rows.columns["seq"]))) == 150_005
    assert prof.read("persisted").count(ctx(prof, {"run_id": "r2"})) == 1


def test_sql_value_redis_value_and_rows(tmp_path, datastores):
    r = redis.Redis.from_url(datastores["redis_url"])
    r.set("stock:p1", 17)
    r.sadd("done:p1", "a", "b", "c")
    prof = profile(tmp_path, datastores, """reads:
  stock_left: {from: cache, redis: [GET, "stock:{product}"]}
  done: {from: cache, redis: [SMEMBERS, "done:{product}"]}
  one: {from: db, sql: "SELECT %(n)s::int + 1"}
  many: {from: db, sql: "SELECT generate_series(1, 3)"}
""")
    c = ctx(prof, {"product": "p1", "n": 41})
    assert prof.read("stock_left").value(c) == "17"
    done = prof.read("done").rows(c)
    assert sorted(done.strings("key", range(done.n))) == ["a", "b", "c"]
    assert prof.read("one").value(c) == 42
    with pytest.raises(ReadFailed, match="expected one row with one value, got 3 rows"):
        prof.read("many").value(c)


def test_redis_stream_backlog_is_lag_plus_pending(tmp_path, datastores):
    r = redis.Redis.from_url(datastores["redis_url"])
    stream = f"s-{uuid.uuid4().hex[:6]}"
    for i in range(10):
        r.xadd(stream, {"i": i})
    r.xgroup_create(stream, "g", id="0")
    r.xreadgroup("g", "c1", {stream: ">"}, count=4)  # 4 delivered, unacknowledged; 6 undelivered
    prof = profile(tmp_path, datastores, f"reads:\n  backlog: {{from: cache, stream: {stream}, group: g}}\n"
                                         f"  missing: {{from: cache, stream: {stream}, group: nope}}\n")
    c = ctx(prof, {})
    assert prof.read("backlog").value(c) == 10
    ids = [e[0] for e in r.xrange(stream, count=3)]
    r.xack(stream, "g", *ids)
    assert prof.read("backlog").value(c) == 7
    with pytest.raises(ReadFailed, match="has no consumer group 'nope'"):
        prof.read("missing").value(c)


def test_jetstream_backlog_is_pending_plus_ack_pending(tmp_path, datastores):
    import nats

    stream = f"S{uuid.uuid4().hex[:6]}"

    async def prepare():
        nc = await nats.connect(datastores["nats_url"])
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[f"{stream}.in"])
        for i in range(9):
            await js.publish(f"{stream}.in", b"x")
        sub = await js.pull_subscribe(f"{stream}.in", durable="w", stream=stream)
        msgs = await sub.fetch(5)
        await msgs[0].ack()
        await msgs[1].ack()
        await nc.close()
    asyncio.run(prepare())
    prof = profile(tmp_path, datastores, f"reads:\n  backlog: {{from: bus, jetstream: {stream}, consumer: w}}\n"
                                         f"  gone: {{from: bus, jetstream: {stream}, consumer: nobody}}\n")
    c = ctx(prof, {})
    assert prof.read("backlog").value(c) == 4 + 3  # 4 undelivered, 3 delivered and unacknowledged
    with pytest.raises(ReadFailed, match="consumer not found"):
        prof.read("gone").value(c)


class _Json(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/stats":
            self._answer(200, {"queue": {"depth": 5}, "kept": [{"key": "a", "id": "1"}, "b"]})
        else:
            self._answer(404, {"error": "no"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Json.seen.append(body)
        self._answer(201, {"sale": {"id": f"sale-{body['product']}"}})

    def log_message(self, *args):
        pass


@pytest.fixture
def json_server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Json)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_http_reads_and_setup_steps_save_values(tmp_path, datastores, json_server):
    table = f"p_{uuid.uuid4().hex[:8]}"
    prof = profile(tmp_path, datastores, host=json_server, reads="""reads:
  depth: {http: GET /stats, path: queue.depth}
  kept: {http: GET /stats, path: kept}
  broken: {http: GET /nope}
""", setup=f"""setup:
  - {{http: POST /sales, json: {{product: "{{product}}", quantity: "{{stock}}"}}, expect: 201, save: {{sale: sale.id}}}}
  - {{redis: [SET, "stock:{{sale}}", "{{stock}}"], from: cache}}
  - {{sql: "CREATE TABLE IF NOT EXISTS {table} (id text, n int)", from: db}}
  - {{sql: "INSERT INTO {table} VALUES (%(sale)s, %(stock)s) RETURNING n * 2", from: db, save: doubled}}
""")
    values = {"product": "p9", "stock": 12}
    c = ctx(prof, values)
    for step in prof.setup:
        values.update(step.run(c))
    assert values["sale"] == "sale-p9" and values["doubled"] == 24
    assert _Json.seen[-1] == {"product": "p9", "quantity": 12}  # a whole placeholder keeps the number
    assert redis.Redis.from_url(datastores["redis_url"]).get("stock:sale-p9") == b"12"
    with psycopg.connect(datastores["database_url"]) as conn:
        assert conn.execute(f"SELECT id, n FROM {table}").fetchall() == [("sale-p9", 12)]
    assert prof.read("depth").value(c) == 5
    kept = prof.read("kept").rows(c)
    assert kept.n == 2 and kept.strings("key", [0, 1]) == ["a", "b"] and kept.strings("id", [0, 1]) == ["1", None]
    with pytest.raises(ReadFailed, match="answered 404, not 200"):
        prof.read("broken").value(c)


def test_a_failing_setup_step_says_which_and_why(tmp_path, datastores, json_server):
    prof = profile(tmp_path, datastores, host=json_server,
                   setup='setup:\n  - {http: POST /sales, json: {product: "{product}"}, expect: 200}\n')
    with pytest.raises(SetupFailed, match="answered 201 \\(expected 200\\)"):
        prof.setup[0].run(ctx(prof, {"product": "p"}))


def test_a_datastore_that_is_down_is_a_read_failure_not_a_crash(tmp_path, datastores):
    prof = profile(tmp_path, datastores, "reads:\n  x: {from: cache, redis: [GET, k]}\n  y: {from: db, sql: SELECT 1}\n")
    prof.datastores.update(cache="redis://127.0.0.1:1/0", db="postgresql://u@127.0.0.1:1/x")
    c = ctx(prof, {})
    with pytest.raises(ReadFailed, match="redis 127.0.0.1:1"):
        prof.read("x").value(c)
    with pytest.raises(ReadFailed, match="postgresql 127.0.0.1:1"):
        prof.read("y").value(c)
