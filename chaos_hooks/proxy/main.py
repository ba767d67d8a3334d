"""The proxy's command line, shared by `locust-chaos proxy` and `python -m chaos_hooks.proxy`. The embedded
stack starts the second: loading the whole CLI first was half of each proxy start (every stack, every restart)."""
import argparse
import sys

from chaos_hooks.common.internal_error import run_guarded

EXIT_CODES = ("Exit codes: 0 stopped by SIGINT or SIGTERM; 2 bad arguments or a --config it cannot load; 3 it "
              "cannot listen on --host:--port (e.g. the port is taken).")
DESCRIPTION = "Serve Toxiproxy 2.x's HTTP API (for network faults without a Toxiproxy binary)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8474)
    p.add_argument("--pidfile", help="write the server's pid here (how the embedded stack addresses it)")
    p.add_argument("--config", help="JSON list of proxies to create at start (the shape of POST /populate)")


def serve(args: argparse.Namespace) -> int:
    from chaos_hooks.proxy.server import serve_forever
    serve_forever(args.host, args.port, args.pidfile, args.config)
    return 0


def main(argv=None) -> None:
    """Ends as `locust-chaos proxy` does (run_guarded): a ChaosError is one line and its exit code."""
    p = argparse.ArgumentParser(prog="python -m chaos_hooks.proxy", description=DESCRIPTION, epilog=EXIT_CODES)
    add_arguments(p)
    args = p.parse_args(argv)
    sys.exit(run_guarded(lambda: serve(args), "locust-chaos proxy"))
