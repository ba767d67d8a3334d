"""`validate --target` tries every read once against real servers and locates each one that fails; an
unreachable target is exit 3 in one line; `validate --locustfile` checks user classes without starting anything."""
import textwrap
import uuid

import psycopg
import redis

from chaos_hooks.common.ports import free_port
from helpers import run_cli, sql


def write(tmp_path, text, name):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def line_of(path, needle) -> int:
    with open(path) as f:
        return next(n for n, line in enumerate(f, 1) if needle in line)


def located(out, path) -> list[str]:
    """The lines that name a place in the profile, errors and warnings apart."""
    lines = [line for line in out.splitlines() if line.startswith(f"{path}:")]
    return [line for line in lines if ": warning: " not in line], [line for line in lines if ": warning: " in line]


def test_each_failing_read_is_one_located_line_and_the_good_ones_answer(tmp_path, datastores, home):
    table, key = f"kept_{uuid.uuid4().hex[:8]}", f"stock:{uuid.uuid4().hex[:8]}"
    with psycopg.connect(datastores["database_url"], autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (k text, run text)")
        conn.execute(f"INSERT INTO {table} VALUES ('a', 'r1'), ('b', 'r1')")
    redis.Redis.from_url(datastores["redis_url"]).set(key, 7)
    path = write(tmp_path, f"""\
        host: http://127.0.0.1:1
        datastores: {{db: "{datastores['database_url']}", cache: "{datastores['redis_url']}"}}
        reads:
          persisted: {{from: db, sql: "SELECT k AS key FROM {table} WHERE run = %(run_id)s"}}
          stock_left: {{from: cache, redis: [GET, "{key}"]}}
          kept_count: {{from: db, sql: "SELECT count(*) FROM {table}_missing"}}
          backlog: {{from: db, sql: "SELECT count(*) FROM {table}"}}
        """, "target.yaml")
    code, out = run_cli(["validate", "--target", path], home, timeout=60)
    assert code == 2, out
    errors, warnings = located(out, path)
    missing = sql(datastores["database_url"], "SELECT to_regclass(%s) IS NULL", (f"{table}_missing",))[0][0]
    assert missing  # the read's table really is not there
    assert errors == [f"{path}:{line_of(path, 'kept_count:')}: reads.kept_count.sql: postgresql "
                      f"{datastores['pg_addr']}: relation \"{table}_missing\" does not exist"], out
    # The one SQL read an invariant uses that takes no run value: a warning, not an error.
    assert warnings == [f"{path}:{line_of(path, 'backlog:')}: reads.backlog.sql: warning: the query takes no run "
                        f"value (%(run_id)s or one of the scenario's values as %(name)s), so it also sees what "
                        f"other runs left"], out
    assert "read stock_left: answered, value '7'" in out and "read persisted: answered, 0 rows" in out
    assert "read backlog: answered, value 2" in out, out
    assert out.splitlines()[-1] == f"locust-chaos: error: {path}: 1 of 4 read(s) failed (each on its own line above)"


def test_an_unreachable_target_is_exit_3_in_one_line(tmp_path, home):
    port = free_port()  # nothing listens there
    path = write(tmp_path, f"""\
        host: http://127.0.0.1:1
        datastores: {{cache: "redis://127.0.0.1:{port}/0"}}
        reads:
          stock_left: {{from: cache, redis: [GET, "stock:{{run_id}}"]}}
        """, "target.yaml")
    code, out = run_cli(["validate", "--target", path], home, timeout=60)
    assert code == 3, out
    assert out.startswith(f"locust-chaos: error: {path}: datastores.cache (127.0.0.1:{port}): ") \
        and out.count("\n") == 1, out


def test_a_read_that_cannot_connect_is_exit_3_located(tmp_path, home):
    port = free_port()
    path = write(tmp_path, f"""\
        host: http://127.0.0.1:{port}
        reads:
          backlog: {{http: GET /queue, path: depth}}
        """, "target.yaml")
    code, out = run_cli(["validate", "--target", path], home, timeout=60)
    assert code == 3, out
    assert out.splitlines() == [
        f"{path}:3: reads.backlog.http: http://127.0.0.1:{port}/queue: connection refused",
        f"locust-chaos: error: {path}: 1 of 1 read(s) failed (each on its own line above); 1 could not connect"], out


LOCUSTFILE = """\
    from locust import HttpUser, task


    class BrowseUser(HttpUser):
        @task
        def browse(self):
            self.client.get("/")
    """


def test_validate_locustfile_locates_a_missing_class_without_starting_anything(tmp_path, home):
    scenario = write(tmp_path, """\
        name: s
        load: {users: 2, run_time: 5s,
               user_classes: [BrowseUser, OrderUser]}
        invariants: {no_data_loss: {}}
        """, "s.yaml")
    locustfile = write(tmp_path, LOCUSTFILE, "users.py")
    code, out = run_cli(["validate", scenario, "--locustfile", locustfile], home, timeout=60)
    assert code == 2, out
    assert out.splitlines() == [f"locust-chaos: error: {scenario}:3: load.user_classes: 'OrderUser' is not a user "
                                f"class of the locustfile (it has: BrowseUser)"], out
    code, out = run_cli(["validate", "--locustfile", locustfile], home, timeout=60)
    assert code == 0 and out.splitlines() == [f"locustfile {locustfile}: user classes BrowseUser",
                                              f"{locustfile}: ok"], out
    broken = write(tmp_path, LOCUSTFILE.replace("    class BrowseUser", "    import no_such_module\n\n\n"
                                                                       "    class BrowseUser"), "broken.py")
    code, out = run_cli(["validate", "--locustfile", broken], home, timeout=60)
    assert code == 2 and out.splitlines() == [
        f"locust-chaos: error: {broken}:4: the locustfile does not import: ModuleNotFoundError: No module named "
        f"'no_such_module'"], out
