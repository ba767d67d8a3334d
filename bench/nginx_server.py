"""An nginx of the bench's own: a free loopback port, a temp config and prefix, answering POST /orders 202 with a
small JSON body (Debian's nginx-light; `apt-get install -y nginx-light` when missing)."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from chaos_hooks.common.ports import free_port
from chaos_hooks.common.procs import stop_pid

CONFIG = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type application/json;
            return 202 '{{"order_id": "o-0123456789abcdef0123456789abcdef", "status": "accepted"}}';
        }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not found:
        raise SystemExit("bench: nginx not found (apt-get install -y nginx-light)")
    return found


class Nginx:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="locust-chaos-nginx-")
        self.port = free_port()
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(tmp=self.tmp, port=self.port))
        self.proc = subprocess.Popen([nginx_binary(), "-c", conf, "-p", self.tmp], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"bench: nginx did not start (see {self.tmp}/error.log)")
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_pid(self.proc.pid)
        self.proc.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)
