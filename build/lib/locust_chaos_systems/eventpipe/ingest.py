"""Event ingest HTTP API: aiohttp, publishing to NATS JetStream.

POST /events {stream_key, seq, payload}; GET /ready; GET /health.
Answers 200 only once JetStream has stored the event (its PubAck); 503 when that is not known.
"""
import argparse
import asyncio
import logging
import signal

from aiohttp import web
from nats.js.errors import NoStreamResponseError

from . import event
from .jetstream import API_TIMEOUT_S, NATS_ERRORS, connect, ensure_stream_and_consumer
from .pidfile import write_pidfile
from .settings import STREAM, SUBJECT, Settings

log = logging.getLogger("eventpipe-ingest")
PUBLISH_TIMEOUT_S = 2.0
READY_TIMEOUT_S = 1.0
MAX_BODY_BYTES = 256 * 1024  # well under NATS's default 1 MB max_payload


class Nats:
    """The connection, made in the background: the HTTP listener is up (answering 503) while NATS is not."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.nc = None
        self.js = None
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._connect_and_ensure())

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def _connect_and_ensure(self) -> None:
        if self.nc is None:
            nc = await connect(self.settings.nats_url, "eventpipe-ingest", log)
            self.nc, self.js = nc, nc.jetstream(timeout=API_TIMEOUT_S)
        backoff = 0.1
        while True:
            try:
                await ensure_stream_and_consumer(self.js)
                return
            except NATS_ERRORS as err:
                log.warning("cannot set up stream %s yet (%s); retrying in %.1fs", STREAM,
                            err or type(err).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    def stream_missing(self) -> None:
        """A server that lost its data answers publishes with no responders: set the stream up again."""
        if self.task is None or self.task.done():
            log.warning("stream %s missing; creating it again", STREAM)
            self.start()

    async def close(self) -> None:
        if self.task:
            self.task.cancel()
        if self.nc is not None:
            await self.nc.close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    conn = Nats(settings)

    async def start_nats(app):
        conn.start()

    async def stop_nats(app):
        await conn.close()

    app.on_startup.append(start_nats)
    app.on_cleanup.append(stop_nats)

    async def publish(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"error": "body must be JSON"}, status=400)
        why = event.problem(body)
        if why:
            return web.json_response({"error": why}, status=400)
        if not conn.connected:
            return web.json_response({"error": "nats unavailable: not connected"}, status=503)
        key, seq = body["stream_key"], body["seq"]
        eid = event.event_id(key, seq)
        try:
            ack = await conn.js.publish(SUBJECT, event.encode(key, seq, body.get("payload")),
                                        timeout=PUBLISH_TIMEOUT_S, headers={"Nats-Msg-Id": eid})
        except NATS_ERRORS as err:
            if isinstance(err, NoStreamResponseError):
                conn.stream_missing()
            # The event may or may not be stored: the client retries with the same (stream_key, seq).
            return web.json_response({"error": f"nats unavailable: {err or type(err).__name__}"}, status=503)
        return web.json_response({"event_id": eid, "stream_seq": ack.seq, "duplicate": bool(ack.duplicate)})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(request: web.Request) -> web.Response:
        problem = None
        if not conn.connected:
            problem = "not connected"
        else:
            try:
                await asyncio.wait_for(conn.js.stream_info(STREAM), READY_TIMEOUT_S)
            except NATS_ERRORS as err:
                problem = f"stream {STREAM}: {err or type(err).__name__}"
        if problem:
            return web.json_response({"status": "unavailable", "problems": {"nats": problem}}, status=503)
        return web.json_response({"status": "ready"})

    app.router.add_post("/events", publish)
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    return app


async def serve(settings: Settings, host: str, port: int, pidfile: str | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, backlog=1024, reuse_address=True).start()
    write_pidfile(pidfile)
    log.info("listening on %s:%d (nats %s)", host, port, settings.nats_url)
    await stop.wait()
    log.info("stopping")
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description="Event ingest API (reference system under test)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--pidfile")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s eventpipe-ingest %(message)s")
    asyncio.run(serve(Settings.from_env(), args.host, args.port, args.pidfile))


if __name__ == "__main__":
    main()
