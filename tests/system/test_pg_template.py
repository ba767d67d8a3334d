"""An embedded stack's PostgreSQL cluster: initdb's result kept once in the cache, then copied. The copy keeps
what PostgreSQL checks (owner, mode 0700) and every file; a cache that cannot be written costs only time."""
import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile

import pytest

from chaos_hooks.common import procs
from chaos_hooks.stack import pg_template
from chaos_hooks.stack.servers import find_pg_bin

INITDB_SAYS = "The files belonging to this database system will be owned by user"


@pytest.fixture
def where():
    """A directory PostgreSQL's unprivileged user can reach (pytest's where is root's alone)."""
    path = tempfile.mkdtemp(prefix="locust-chaos-test-pg-")
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def cluster_dir(parent, name: str, user: str | None) -> tuple[str, str]:
    os.makedirs(parent / name)
    if user:
        os.chown(parent / name, pwd.getpwnam(user).pw_uid, -1)  # as the stack does: initdb writes in there
    return str(parent / name / "data"), str(parent / name / "db.log")


def files_of(path: str) -> dict:
    return {os.path.relpath(os.path.join(d, f), path): os.lstat(os.path.join(d, f)).st_size
            for d, _, files in os.walk(path) for f in files}


def test_the_first_cluster_is_kept_and_the_next_one_is_a_copy_postgresql_accepts(where, monkeypatch):
    monkeypatch.setenv("LOCUST_CHAOS_CACHE", str(where / "cache"))
    pg_bin, user = find_pg_bin(), procs.unprivileged_user()
    first, first_log = cluster_dir(where, "first", user)
    pg_template.new_cluster(pg_bin, first, user, first_log)
    template = pg_template.template_path(pg_bin, user)
    assert INITDB_SAYS in open(first_log).read()
    assert files_of(template) == files_of(first)  # kept before PostgreSQL ever ran on it
    assert os.listdir(where / "cache") == [os.path.basename(template)]  # no half-made copy left

    second, second_log = cluster_dir(where, "second", user)
    pg_template.new_cluster(pg_bin, second, user, second_log)
    assert not os.path.exists(second_log) or INITDB_SAYS not in open(second_log).read()  # copied, not made
    assert files_of(second) == files_of(first)
    owner = pwd.getpwnam(user).pw_uid if user else os.geteuid()
    for path in (second, os.path.join(second, "global", "pg_control")):
        assert os.stat(path).st_uid == owner
    assert os.stat(second).st_mode & 0o777 == 0o700  # PostgreSQL refuses any other mode
    # The copy is a cluster PostgreSQL reads: its control file names the same system as the original's.
    control = [output_of([f"{pg_bin}/pg_controldata", d], user) for d in (first, second)]
    assert "Database system identifier" in control[0] and control[0] == control[1]


def test_a_cache_that_cannot_be_written_still_gives_a_cluster(where, monkeypatch):
    (where / "not-a-dir").write_text("")
    monkeypatch.setenv("LOCUST_CHAOS_CACHE", str(where / "not-a-dir" / "cache"))
    pg_bin, user = find_pg_bin(), procs.unprivileged_user()
    data, log = cluster_dir(where, "one", user)
    pg_template.new_cluster(pg_bin, data, user, log)
    text = open(log).read()
    assert INITDB_SAYS in text and "no cluster template kept" in text
    assert os.path.isfile(os.path.join(data, "PG_VERSION"))


def output_of(argv: list[str], user: str | None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, user=user)
    assert done.returncode == 0, done.stderr
    return done.stdout
