"""Small helpers over the proxy's HTTP API for tests (requests, as toxiproxy-python uses)."""
import requests


class Api:
    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, body=None):
        resp = requests.request(method, self.url + path, json=body, timeout=5)
        data = resp.json() if resp.content else None
        return resp.status_code, data

    def proxy(self, name: str, upstream: str, **extra) -> int:
        """Creates a proxy on an ephemeral port; returns that port."""
        status, data = self.call("POST", "/proxies", {"name": name, "upstream": upstream,
                                                     "listen": "127.0.0.1:0", **extra})
        assert status == 201, data
        return int(data["listen"].rsplit(":", 1)[1])

    def toxic(self, proxy: str, type_: str, stream: str = "downstream", toxicity: float = 1.0, **attributes):
        status, data = self.call("POST", f"/proxies/{proxy}/toxics",
                                 {"type": type_, "stream": stream, "toxicity": toxicity, "attributes": attributes})
        assert status == 200, data
        return data["name"]

    def remove(self, proxy: str, toxic: str) -> None:
        status, data = self.call("DELETE", f"/proxies/{proxy}/toxics/{toxic}")
        assert status == 204, data
