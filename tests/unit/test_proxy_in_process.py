"""The proxy also runs in-process, as a greenlet server inside a gevent program (the Locust master)."""
import subprocess
import sys

SCRIPT = r'''
from gevent import monkey; monkey.patch_all()
import sys, time, redis, requests
from chaos_hooks.proxy import ProxyServer
server = ProxyServer("127.0.0.1", 0).start()
listen = requests.post(server.url + "/proxies", json={"name": "r", "upstream": sys.argv[1],
                                                     "listen": "127.0.0.1:0"}).json()["listen"]
client = redis.Redis(host="127.0.0.1", port=int(listen.rsplit(":", 1)[1]))
client.ping()
requests.post(server.url + "/proxies/r/toxics", json={"type": "latency", "attributes": {"latency": 50}})
t = time.perf_counter(); client.ping(); print(round((time.perf_counter() - t) * 1000))
server.stop()
'''


def test_in_process_greenlet_server(datastores):
    out = subprocess.run([sys.executable, "-c", SCRIPT, datastores["redis_addr"]], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert 45 <= int(out.stdout.strip()) <= 80


STOP_SCRIPT = r'''
import socket  # the standard library's: connecting must not give the proxy's event loop a turn
import gevent
from chaos_hooks.proxy.proxy import Proxy
proxy = Proxy("r", "127.0.0.1:0", "127.0.0.1:9")
proxy.start()
gevent.sleep(0)  # the acceptor now waits in accept()
proxy.stop()
host, port = proxy.listen.rsplit(":", 1)
try:
    socket.create_connection((host, int(port)), timeout=2).close()
    print("accepted")
except ConnectionRefusedError:
    print("refused")
'''


def test_a_stopped_proxy_refuses_the_moment_stop_returns():
    """The 'down' fault's partition starts when the API answers: gevent defers closing a socket that a greenlet
    still waits on, so the listener must be free of its acceptor before it is closed."""
    out = subprocess.run([sys.executable, "-c", STOP_SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refused"
