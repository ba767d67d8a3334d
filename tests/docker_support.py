"""A real Docker Engine and one local image for the container tests (no registry is reachable: nothing is pulled).

    docker_engine   session fixture: runs .ci/dockerd.sh once, returns a docker.DockerClient
    harness_image   session fixture: the tag of the harness image, built once per machine and reused
    run_harness     fixture: starts containers from that image and removes every one it started at teardown
    make_network    fixture: creates user-defined bridge networks and removes them at teardown

The harness image is `docker import` of a root filesystem cut from this host: the base interpreter of the
tests' venv (pyenv Python 3.11.7: binary, libpython and the stdlib with its .pyc, without test/, idlelib,
tkinter, lib2to3, ensurepip, pydoc_data, optimised .pyc and the global site-packages) at its own path, plus the
system shared libraries that ldd says the interpreter and every native module of the venv load. It has no
shell; commands are argv lists. The venv and the project's code are not copied in: harness_kwargs mounts the
worktree (and so .venv) read-only at its own path and puts .venv/bin first on PATH, so `python` in a container
is the venv's, with the same dependencies and the editable install, and a code change never rebuilds the image.
Why not copy the venv too: with the vfs storage driver every container copies its whole image; a 300 MB image
with the venv took about 9 s per container to create here.
The tag hashes the names, sizes and mtimes of what goes in (and the venv's native modules' names and sizes),
so a later session, or another worktree with the same wheels, finds it with `docker image inspect` and reuses it.
Measured on the 2-core test machine: BUILD_NOTE
"""
import fcntl
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
REPO = "locust-chaos-harness"
TEST_LABEL = "locust-chaos.test"  # on everything the tests create, so a leftover is recognisable
_BUILDER_VERSION = "3"  # bump when the layout below changes
_SKIP_STDLIB = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "site-packages", "lib2to3",
                "pydoc_data"}
_SKIP_FILE = re.compile(r"(\.opt-[12]\.pyc$|^_test|^_xxtest|^_ctypes_test|^_tkinter)")


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    """Polls condition() until it returns something truthy; fails the test naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --- the rootfs ---------------------------------------------------------------------------------------------
def _walk(top: str):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        yield dirpath, dirnames, sorted(filenames)


def _base_interpreter() -> list[str]:
    """Host paths of the base interpreter's pieces that go in, at their own paths; the binary first."""
    base = sys.base_prefix
    if sys.prefix == base or os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        raise RuntimeError(f"run the tests with {VENV}/bin/python (containers run that venv, mounted)")
    stdlib = os.path.join(base, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}")
    out = [os.path.realpath(os.path.join(base, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}"))]
    out += [os.path.join(base, "lib", n) for n in sorted(os.listdir(os.path.join(base, "lib")))
            if n.startswith("libpython")]
    for dirpath, dirnames, filenames in _walk(stdlib):
        if dirpath == stdlib:
            dirnames[:] = [d for d in dirnames if d not in _SKIP_STDLIB and not d.startswith("config-")]
        out += [os.path.join(dirpath, n) for n in dirnames]
        out += [os.path.join(dirpath, n) for n in filenames if not _SKIP_FILE.search(n)]
    out.append(os.path.join(stdlib, "site-packages"))  # empty: site.py expects it
    return out


def _venv_extensions() -> list[str]:
    """The venv's native modules: the image must hold the system libraries they link against."""
    return [os.path.join(d, n) for d, _, names in _walk(VENV) for n in names
            if n.endswith(".so") or ".so." in n]


def _content_hash(members, extensions) -> str:
    h = hashlib.sha256(_BUILDER_VERSION.encode())
    for host in members:
        st = os.lstat(host)
        h.update(f"{host}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_mode}\n".encode())
    for ext in extensions:  # relative names and sizes: worktrees with the same wheels share one image
        h.update(f"{os.path.relpath(ext, VENV)}\0{os.path.getsize(ext)}\n".encode())
    for lib in ("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"):
        st = os.stat(lib)
        h.update(f"{lib}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _shared_libs(members, extensions) -> set[str]:
    """The system shared libraries the interpreter and every extension module load (by ldd)."""
    elves = [members[0]] + extensions + [m for m in members if m.endswith(".so") or ".so." in os.path.basename(m)]
    libs = {"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libgcc_s.so.1"}  # glibc dlopens libgcc_s
    for i in range(0, len(elves), 200):
        out = subprocess.run(["ldd", *elves[i:i + 200]], capture_output=True, text=True).stdout
        libs.update(m.group(1) for m in re.finditer(r"=> (/\S+) \(", out))
    return {lib for lib in libs
            if not lib.startswith((sys.base_prefix + "/", sys.prefix + "/")) and os.path.exists(lib)}


def _add(tar: tarfile.TarFile, host: str, inside: str) -> None:
    info = tar.gettarinfo(host, arcname=inside.lstrip("/"))
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if info.isreg():
        with open(host, "rb") as f:
            tar.addfile(info, f)
    else:
        tar.addfile(info)


def _dir(tar: tarfile.TarFile, path: str, seen: set, mode: int = 0o755) -> None:
    """Adds path and its parents as plain directories (once each)."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i])
        if sub not in seen:
            seen.add(sub)
            info = tarfile.TarInfo(sub)
            info.type, info.mode = tarfile.DIRTYPE, mode if i == len(parts) else 0o755
            tar.addfile(info)


def _symlink(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name.lstrip("/"))
    info.type, info.linkname = tarfile.SYMTYPE, target
    tar.addfile(info)


def write_rootfs(path: str, members, extensions) -> None:
    seen: set[str] = set()
    with tarfile.open(path, "w") as tar:
        # Merged /usr as on the host, so the paths ldd printed (/lib/..., /lib64/...) resolve the same way.
        _dir(tar, "/usr/lib64", seen)
        _dir(tar, "/usr/lib/x86_64-linux-gnu", seen)
        _symlink(tar, "/lib", "usr/lib")
        _symlink(tar, "/lib64", "usr/lib64")
        _symlink(tar, "/bin", "usr/bin")
        _dir(tar, "/tmp", seen, mode=0o1777)
        for d in ("/etc", "/app", "/proc", "/sys", "/dev", "/usr/bin"):
            _dir(tar, d, seen)
        for lib in sorted(_shared_libs(members, extensions)):
            real = os.path.realpath(lib)
            inside = "/usr" + lib if lib.startswith(("/lib/", "/lib64/")) else lib
            _dir(tar, os.path.dirname(inside), seen)
            info = tar.gettarinfo(real, arcname=inside.lstrip("/"))
            with open(real, "rb") as f:
                tar.addfile(info, f)
        for host in members:
            _dir(tar, os.path.dirname(host), seen)
            if os.path.isdir(host) and not os.path.islink(host):
                _dir(tar, host, seen)
            else:
                _add(tar, host, host)
        # The venv's bin/python3 links to <base>/bin/python3; the base links that to python3.X.
        for name in ("python", "python3"):
            _symlink(tar, os.path.join(os.path.dirname(members[0]), name), os.path.basename(members[0]))
        _symlink(tar, "/usr/bin/python3", members[0])


def build_harness_image(client) -> tuple[str, bool]:
    """The image tag, and whether this call built it (False: it was already there)."""
    import docker
    members, extensions = _base_interpreter(), _venv_extensions()
    tag = f"{REPO}:{_content_hash(members, extensions)}"
    # One builder per machine at a time; the others find the image afterwards.
    with open(os.path.join(tempfile.gettempdir(), "locust-chaos-harness-image.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            client.images.get(tag)
            return tag, False
        except docker.errors.ImageNotFound:
            pass
        with tempfile.TemporaryDirectory(prefix="harness-rootfs-") as tmp:
            path = os.path.join(tmp, "rootfs.tar")
            write_rootfs(path, members, extensions)
            client.api.import_image(src=path, repository=REPO, tag=tag.split(":")[1], changes=[
                f"ENV PATH={os.path.join(sys.base_prefix, 'bin')}:/usr/bin", "ENV PYTHONDONTWRITEBYTECODE=1",
                "ENV PYTHONUNBUFFERED=1", f"LABEL {TEST_LABEL}=image"])
        client.images.get(tag)  # fails loudly when the import did not produce it
        return tag, True


# --- fixtures -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def docker_engine():
    """A docker.DockerClient on a daemon .ci/dockerd.sh made sure answers."""
    import docker
    done = subprocess.run(["bash", os.path.join(ROOT, ".ci", "dockerd.sh")], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f".ci/dockerd.sh failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture(scope="session")
def harness_image(docker_engine):
    tag, _built = build_harness_image(docker_engine)
    return tag


def http_server(port: int, bind: str = "127.0.0.1") -> list[str]:
    """A command serving /tmp over HTTP that stops on SIGTERM, as a service does: as a container's pid 1, plain
    `python -m http.server` would ignore it, so every stop and term would wait Docker's 10 s for SIGKILL."""
    return ["python", "-c", "import functools, signal, sys, http.server as h; "
            "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
            "h.test(functools.partial(h.SimpleHTTPRequestHandler, directory='/tmp'), h.ThreadingHTTPServer, "
            f"port={port}, bind={bind!r})"]


def harness_kwargs(image: str, command: list[str], **extra) -> dict:
    """containers.run() arguments for a harness container: host network, detached, the worktree (and so its
    .venv) mounted read-only at its own path with that venv first on PATH: `python` is the venv's."""
    path = f"{VENV}/bin:{os.path.join(sys.base_prefix, 'bin')}:/usr/bin"
    kwargs = dict(image=image, command=command, detach=True, network_mode="host", working_dir=ROOT,
                  volumes={ROOT: {"bind": ROOT, "mode": "ro"}}, environment={"PATH": path},
                  labels={TEST_LABEL: "container"}, name=f"lctest-{uuid.uuid4().hex[:10]}")
    kwargs.update(extra)
    return kwargs


@pytest.fixture
def run_harness(docker_engine, harness_image):
    """run_harness(command, **containers.run kwargs) -> Container; removed (forced) at teardown."""
    import docker
    started = []

    def run(command: list[str], **extra):
        container = docker_engine.containers.run(**harness_kwargs(harness_image, command, **extra))
        started.append(container.id)
        return container
    yield run
    for cid in started:
        try:
            docker_engine.api.remove_container(cid, force=True, v=True)
        except docker.errors.NotFound:
            pass


@pytest.fixture
def make_network(docker_engine):
    """make_network(subnet) -> Network, a user-defined bridge with that subnet; removed at teardown."""
    import docker
    made = []

    def make(subnet: str):
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
        net = docker_engine.networks.create(f"lctest-{uuid.uuid4().hex[:10]}", driver="bridge", ipam=ipam,
                                            labels={TEST_LABEL: "network"})
        made.append(net.id)
        return net
    yield make
    for nid in made:
        try:
            net = docker_engine.networks.get(nid)
            for c in net.attrs.get("Containers") or {}:
                net.disconnect(c, force=True)
            net.remove()
        except docker.errors.NotFound:
            pass


@pytest.fixture(scope="module")
def compose_project(docker_engine, harness_image, tmp_path_factory):
    """compose_project(yaml_text, *up_args) -> (project, file): a real docker-compose 1.29 project brought up
    with `up -d`; brought down (`down -v`) when the test module ends (tests of a module may share a project),
    and anything left with its label removed."""
    import docker
    made = []
    tmp_path = tmp_path_factory.mktemp("compose")

    def up(text: str, *args: str):
        project = f"lctest{uuid.uuid4().hex[:10]}"
        path = tmp_path / f"{project}.yml"
        path.write_text(text.replace("HARNESS_IMAGE", harness_image))
        made.append((project, str(path)))
        done = subprocess.run(["docker-compose", "-p", project, "-f", str(path), "up", "-d", *args],
                              capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"docker-compose up failed: {done.stderr.strip()[-2000:]}")
        return project, str(path)
    yield up
    for project, path in made:
        subprocess.run(["docker-compose", "-p", project, "-f", path, "down", "-v", "--remove-orphans"],
                       capture_output=True, text=True, timeout=180)
        label = f"com.docker.compose.project={project}"
        for c in docker_engine.api.containers(all=True, filters={"label": label}):
            try:
                docker_engine.api.remove_container(c["Id"], force=True, v=True)
            except docker.errors.NotFound:
                pass
        for net in docker_engine.api.networks(filters={"label": label}):
            try:
                docker_engine.api.remove_network(net["Id"])
            except docker.errors.NotFound:
                pass
