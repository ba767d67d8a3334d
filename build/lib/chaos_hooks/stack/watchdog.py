"""A stack's watchdog: a small process that outlives nothing. It polls the stack's owner; the moment the owner
is gone (SIGKILL included) it stops every process the stack's ledger recorded — the servers, the system, and
copies a fault's heal started from another process — then removes the stack's borrowed proxy links and its
directory. PDEATHSIG cannot do this alone: it follows the process that started a child, not the stack's owner.

    python -m chaos_hooks.stack.watchdog --owner PID --owner-started TICKS --registration FILE
"""
import argparse
import os
import signal
import time

from chaos_hooks.common import procs

POLL_S = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--owner", type=int, required=True)
    parser.add_argument("--owner-started", type=int, default=None)
    parser.add_argument("--registration", required=True, help="the stack's registration file (state dir)")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the owner, not for us
    while procs.same_process(args.owner, args.owner_started):
        if not os.path.exists(args.registration):
            return  # the owner tore the stack down itself
        time.sleep(POLL_S)
    from chaos_hooks.stack.running_stacks import reclaim
    reclaim(args.registration)


if __name__ == "__main__":
    main()
