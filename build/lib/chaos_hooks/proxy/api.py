"""Toxiproxy 2.x HTTP API as a WSGI app: same routes, JSON shapes and status codes."""
import json
import logging

from .errors import PROXY_EXISTS, PROXY_NOT_FOUND, ApiError, bad_body, missing_field
from .proxy import Proxy
from .toxics import toxic_from_json, toxic_updated

log = logging.getLogger("locust_chaos.proxy")
VERSION = "2.12.0"
_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 500: "Internal Server Error"}


class ProxyCollection:
    def __init__(self):
        self.proxies: dict[str, Proxy] = {}

    def get(self, name: str) -> Proxy:
        if name not in self.proxies:
            raise PROXY_NOT_FOUND
        return self.proxies[name]

    def create(self, body) -> Proxy:
        if not isinstance(body, dict):
            raise bad_body("expected a JSON object")
        name, upstream = body.get("name") or "", body.get("upstream") or ""
        if not name:
            raise missing_field("name")
        if not upstream:
            raise missing_field("upstream")
        if name in self.proxies:
            raise PROXY_EXISTS
        proxy = Proxy(name, body.get("listen") or "127.0.0.1:0", upstream)
        if body.get("enabled", True):
            proxy.start()
        self.proxies[name] = proxy
        return proxy

    def update(self, proxy: Proxy, body) -> Proxy:
        if not isinstance(body, dict):
            raise bad_body("expected a JSON object")
        listen, upstream = body.get("listen", proxy.listen), body.get("upstream", proxy.upstream)
        enabled = body.get("enabled", proxy.enabled)
        if listen != proxy.listen or upstream != proxy.upstream:
            was = proxy.enabled
            proxy.stop()
            proxy.listen, proxy.upstream = listen, upstream
            if was and enabled:
                proxy.start()
        if enabled and not proxy.enabled:
            proxy.start()
        elif not enabled:
            proxy.stop()
        return proxy

    def delete(self, name: str) -> None:
        self.get(name).stop()
        del self.proxies[name]

    def populate(self, body) -> list[Proxy]:
        """Validates the whole list first, then adds or replaces each proxy (same as Toxiproxy)."""
        if not isinstance(body, list):
            raise bad_body("expected a JSON array of proxies")
        seen = set()
        for i, item in enumerate(body, 1):
            if not isinstance(item, dict):
                raise bad_body(f"proxy {i} is not an object")
            if not item.get("name"):
                raise missing_field(f"name at proxy {i}")
            if not item.get("upstream"):
                raise missing_field(f"upstream at proxy {i}")
            if item["name"] in seen:
                raise ApiError(f"duplicate proxy name {item['name']!r}", 400)
            seen.add(item["name"])
        result = []
        for item in body:
            existing = self.proxies.get(item["name"])
            same = existing and existing.upstream == item["upstream"] and \
                existing.listen == (item.get("listen") or existing.listen)
            if existing and same:
                result.append(self.update(existing, {"enabled": item.get("enabled", True)}))
                continue
            if existing:
                self.delete(item["name"])
            result.append(self.create(item))
        return result

    def reset(self) -> None:
        for proxy in self.proxies.values():
            proxy.start()
            proxy.reset_toxics()

    def close(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()


class ToxiproxyApp:
    """WSGI application. Every handler is non-blocking, so the API answers at once under load."""

    def __init__(self, collection: ProxyCollection | None = None):
        self.collection = collection or ProxyCollection()

    def __call__(self, environ, start_response):
        try:
            status, payload = self.dispatch(environ)
        except ApiError as err:
            status, payload = err.status, err.to_dict()
        except Exception as err:  # a bug here must not take the proxy down with it
            log.exception("proxy API error")
            status, payload = 500, {"error": str(err), "status": 500}
        body = b"" if status == 204 else (json.dumps(payload) + "\n").encode()
        headers = [("Content-Type", "application/json")] if status != 204 else []
        start_response(f"{status} {_REASONS.get(status, '')}", headers + [("Content-Length", str(len(body)))])
        return [body]

    def dispatch(self, environ):
        if environ.get("HTTP_USER_AGENT", "").startswith("Mozilla/"):
            raise ApiError("User agent not allowed", 403)  # as Toxiproxy: no browser-driven CSRF
        method = environ["REQUEST_METHOD"]
        parts = [p for p in environ.get("PATH_INFO", "").split("/") if p]
        c = self.collection
        route = {
            ("version",): {"GET": lambda: (200, {"version": VERSION})},
            ("reset",): {"POST": lambda: (c.reset(), (204, None))[1]},
            ("populate",): {"POST": lambda: (201, {"proxies": [p.to_dict() for p in c.populate(_body(environ))]})},
            ("proxies",): {"GET": lambda: (200, {n: p.to_dict() for n, p in c.proxies.items()}),
                           "POST": lambda: (201, c.create(_body(environ)).to_dict())},
        }
        if len(parts) == 1 and (parts[0],) in route:
            return _call(route[(parts[0],)], method)
        if len(parts) >= 2 and parts[0] == "proxies":
            name = parts[1]
            if len(parts) == 2:
                return _call({
                    "GET": lambda: (200, c.get(name).to_dict()),
                    "POST": lambda: (200, c.update(c.get(name), _body(environ)).to_dict()),
                    "PATCH": lambda: (200, c.update(c.get(name), _body(environ)).to_dict()),
                    "DELETE": lambda: (c.delete(name), (204, None))[1],
                }, method)
            if parts[2] == "toxics" and len(parts) == 3:
                return _call({
                    "GET": lambda: (200, c.get(name).toxics_json()),
                    "POST": lambda: (200, c.get(name).add_toxic(toxic_from_json(_body(environ))).to_dict()),
                }, method)
            if parts[2] == "toxics" and len(parts) == 4:
                toxic = parts[3]

                def update():
                    proxy = c.get(name)
                    return 200, proxy.replace_toxic(toxic_updated(proxy.find_toxic(toxic), _body(environ))).to_dict()
                return _call({
                    "GET": lambda: (200, c.get(name).find_toxic(toxic).to_dict()),
                    "POST": update, "PATCH": update,
                    "DELETE": lambda: (c.get(name).remove_toxic(toxic), (204, None))[1],
                }, method)
        raise ApiError("404 page not found", 404)


def _call(handlers: dict, method: str):
    if method not in handlers:
        raise ApiError("method not allowed", 405)
    return handlers[method]()


def _body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
    try:
        return json.loads(raw or b"null")
    except ValueError as err:
        raise bad_body(str(err)) from None
