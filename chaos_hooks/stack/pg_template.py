"""A PostgreSQL cluster fresh from initdb, copied from a template kept from the first one made.

Every embedded stack needs a new cluster: initdb takes about 0.7 s, a copy of its result about 0.1 s. The first
stack runs initdb, and copies the result before PostgreSQL ever starts on it into the cache, named by what made
it (initdb's path, arguments and owner). The copy is made in a temporary directory and renamed into place, so a
template that exists is complete; when two stacks keep one at once, the second rename fails and its copy is
dropped. The cache is $LOCUST_CHAOS_CACHE, else $XDG_CACHE_HOME/locust-chaos, else ~/.cache/locust-chaos;
removing it is always safe.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile

from chaos_hooks.common import procs
from chaos_hooks.common.errors import TargetUnreachable

INITDB_ARGS = ("-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")


def cache_root() -> str:
    return os.environ.get("LOCUST_CHAOS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "locust-chaos")


def new_cluster(pg_bin: str, data: str, user: str | None, logfile: str) -> None:
    """Creates the cluster directory `data` (owned by `user`, or by us), as initdb would."""
    template = template_path(pg_bin, user)
    if os.path.isfile(os.path.join(template, "PG_VERSION")):
        if _copy(template, data, logfile):
            return
        shutil.rmtree(data, ignore_errors=True)  # a partial copy: initdb makes the cluster whole
    _initdb(pg_bin, data, user, logfile)
    _keep(data, template, logfile)


def template_path(pg_bin: str, user: str | None) -> str:
    made_by = "\0".join((os.path.realpath(pg_bin), user or str(os.geteuid()), *INITDB_ARGS))
    return os.path.join(cache_root(), f"postgresql-cluster-{hashlib.sha256(made_by.encode()).hexdigest()[:16]}")


def _copy(source: str, target: str, logfile: str) -> bool:
    """cp -a: as root it keeps the files' owner (the unprivileged user PostgreSQL runs as) and modes."""
    copied = subprocess.run(["cp", "-a", source, target], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    if copied.returncode != 0:
        _log(logfile, f"could not copy {source} to {target}: {copied.stderr.strip()}")
    return copied.returncode == 0


def _keep(data: str, template: str, logfile: str) -> None:
    """Copies a cluster PostgreSQL has not started on yet into the cache; a cache that cannot be written is
    only slower."""
    try:
        os.makedirs(cache_root(), exist_ok=True)
        work = tempfile.mkdtemp(prefix=".making-", dir=cache_root())
    except OSError as err:
        _log(logfile, f"no cluster template kept ({err})")
        return
    try:
        if _copy(data, os.path.join(work, "data"), logfile):
            try:
                os.rename(os.path.join(work, "data"), template)
            except OSError:  # another stack kept the same cluster first
                pass
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _initdb(pg_bin: str, data: str, user: str | None, logfile: str) -> None:
    init = procs.spawn([f"{pg_bin}/initdb", "-D", data, *INITDB_ARGS], log_path=logfile, user=user,
                       die_with_parent=True)
    if init.wait(timeout=120) != 0:
        raise TargetUnreachable(f"initdb failed (log: {logfile})")


def _log(logfile: str, line: str) -> None:
    with open(logfile, "a") as f:
        f.write(f"locust-chaos: {line}\n")
