"""`locust-chaos init`: write a starting target profile for your own system, every field explained."""
import os

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.spec.compose_profile import compose_profile

TEMPLATE = """\
# Target profile: where your system is and how the harness reads what it kept.
# Check it with:  locust-chaos validate SCENARIO --target {path}
# Run with:       locust-chaos run SCENARIO --target {path} --locustfile your_locustfile.py

host: http://127.0.0.1:8080                 # what the Locust users load
# control_host: http://127.0.0.1:8080       # setup and http reads (default: host)
ready: {{http: GET /health, expect: 200}}     # checked before any load; or: ready: none

datastores:                                 # read directly by the checks (never through a proxy)
  db: postgresql://app@127.0.0.1:5432/app
  cache: redis://127.0.0.1:6379/0
  # bus: nats://127.0.0.1:4222

components:                                 # what process faults may act on; each must name ONE process
  worker:
    pidfile: /run/myapp/worker.pid          # or pid_command: [...] printing one pid, or match: [exact, argv]
    start: [/usr/bin/myapp-worker, --pidfile, /run/myapp/worker.pid]   # how a heal starts it again
    env: {{APP_ENV: chaos}}
    log: /tmp/myapp-worker.log

# toxiproxy_url: http://127.0.0.1:8474      # network faults act on these links (Toxiproxy proxy names)
# links: {{cache: {{listen: 127.0.0.1:16379, upstream: 127.0.0.1:6379}}}}

setup:                                      # once per run, before the load; strings take run values
  - {{redis: [SET, "stock:{{product}}", "{{stock}}"], from: cache}}

reads:                                      # by role; the invariants say which roles they need
  # rows: a `key` column (the operation's key), optional `id` (what your API answered), `seq`, `units`
  persisted: {{from: db, sql: "SELECT request_key AS key, hold_id AS id FROM holds WHERE product = %(product)s"}}
  stock_left: {{from: cache, redis: [GET, "stock:{{product}}"]}}
  backlog: {{from: cache, stream: holds, group: hold-writers}}   # or {{from: bus, jetstream: S, consumer: C}}
"""


EXIT_CODES = "Exit codes: 0 written; 2 the file exists (without --force) or cannot be written."


def add_to(sub) -> None:
    p = sub.add_parser("init", help="write a starting target profile for your own system",
                       description="Writes a commented target profile to edit for your system.", epilog=EXIT_CODES)
    p.add_argument("--output", "-o", default="target.yaml", help="file to write (default target.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--compose", metavar="FILE", help="start from a docker compose file: every service listed, "
                   "roles guessed from images (redis, postgres, rabbitmq, nats, toxiproxy) for you to confirm")
    p.set_defaults(func=run)


def run(args) -> int:
    if os.path.exists(args.output) and not args.force:
        raise ScenarioError(f"{args.output}: already exists (use --force to overwrite)")
    try:
        text = compose_profile(args.compose, output=args.output) if args.compose else TEMPLATE.format(path=args.output)
        with open(args.output, "w") as f:
            f.write(text)
    except OSError as err:
        raise ScenarioError(f"{args.output}: cannot write: {err.strerror or err}") from None
    print(f"wrote {args.output}: edit host, datastores, components, setup and reads for your system")
    return 0
