"""free_port: a port outside the kernel's ephemeral range (an outgoing connection can take any port of that
range between the choice and the bind: a stack's fault proxy once failed so, "address already in use"), free
when given, never given twice by one process, and not drawn from a seeded random."""
import json
import socket
import subprocess
import sys

from chaos_hooks.common.ports import LOWEST, free_port


def kernel_ephemeral_range() -> tuple[int, int]:
    low, high = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
    return int(low), int(high)


def test_ports_are_outside_the_ephemeral_range_free_and_never_given_twice():
    low, high = kernel_ephemeral_range()
    given = [free_port() for _ in range(300)]
    assert len(set(given)) == 300
    assert all(LOWEST <= p < 65536 and not low <= p <= high for p in given)
    with socket.socket() as s:  # free when given: a server can bind it
        s.bind(("127.0.0.1", given[-1]))
        s.listen()


def test_a_seeded_random_does_not_make_two_processes_draw_the_same_ports():
    code = ("import json, random; from chaos_hooks.common.ports import free_port; random.seed(7); "
            "print(json.dumps([free_port() for _ in range(5)]))")
    draws = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       timeout=30).stdout) for _ in range(2)]
    assert draws[0] != draws[1]
