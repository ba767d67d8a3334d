"""`locust-chaos proxy`: the embedded Toxiproxy-compatible server, standalone (chaos_hooks.proxy.main)."""
from chaos_hooks.proxy.main import DESCRIPTION, EXIT_CODES, add_arguments, serve


def add_to(sub) -> None:
    p = sub.add_parser("proxy", help="run the embedded Toxiproxy-compatible server", description=DESCRIPTION,
                       epilog=EXIT_CODES)
    add_arguments(p)
    p.set_defaults(func=serve)
