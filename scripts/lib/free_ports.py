"""free_ports: distinct TCP ports free on 127.0.0.1 now, for daemons about to
bind them (scripts/up through cf_free_ports, the tests through harness).

They are drawn below the kernel's ephemeral range, so that no outgoing
connection can take one as its source port between this choice and the
daemon's bind (a port from bind(("127.0.0.1", 0)) comes from that range).
All are held open at once while choosing, so no two are the same; none is
one of `taken`, the ports an earlier call chose for daemons that have not
bound them yet.

    python3 scripts/lib/free_ports.py N [TAKEN...]   prints N ports
"""
import random
import socket
import sys


def ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(n, taken=()):
    low = max(ephemeral_low(), 10001)
    taken = {int(p) for p in taken}
    held = []
    try:
        while len(held) < n:
            port = random.randrange(10000, low)
            if port in taken:
                continue
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
                held.append(s)
            except OSError:
                s.close()
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


if __name__ == "__main__":
    try:
        count = int(sys.argv[1])
        print(" ".join(str(p) for p in free_ports(count, sys.argv[2:])))
    except (IndexError, ValueError):
        sys.exit("usage: free_ports.py N [TAKEN...] (N and TAKEN whole numbers)")
