"""`locust-chaos proxy`: the embedded Toxiproxy-compatible server, standalone."""


EXIT_CODES = ("Exit codes: 0 stopped by SIGINT or SIGTERM; 2 bad arguments or a --config it cannot load; 3 it "
              "cannot listen on --host:--port (e.g. the port is taken).")


def add_to(sub) -> None:
    p = sub.add_parser("proxy", help="run the embedded Toxiproxy-compatible server",
                       description="Serve Toxiproxy 2.x's HTTP API (for network faults without a Toxiproxy binary).",
                       epilog=EXIT_CODES)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8474)
    p.add_argument("--pidfile", help="write the server's pid here (how the embedded stack addresses it)")
    p.add_argument("--config", help="JSON list of proxies to create at start (the shape of POST /populate)")
    p.set_defaults(func=run)


def run(args) -> int:
    from chaos_hooks.proxy.server import serve_forever
    serve_forever(args.host, args.port, args.pidfile, args.config)
    return 0
