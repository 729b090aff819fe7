"""A port for a process a test starts and must name its port up front (a client daemon, `mam mcp
--http`): one that no other process on the machine is handed meanwhile.

Binding port 0 and closing the socket gives back an *ephemeral* port, and the kernel hands the same
range to every `bind(0)` and outgoing `connect()` on the machine: with two pytest-xdist workers, the
other worker's sandbox or libtorrent session can be given that port in the second between our pick
and the daemon's bind, and the daemon then fails to listen (or, worse, the test talks to the wrong
process). Ports below the ephemeral range are never handed out by the kernel, so one picked at
random there and checked free stays ours until the daemon binds it; only another picker like this
one, choosing the same port out of thousands in the same moment, could take it.
"""

from __future__ import annotations

import random
import socket

_LOW = 20000  # above the well-known/registered ports local services tend to use


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default floor


def _bind_zero() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port() -> int:
    """A free 127.0.0.1 TCP port outside the kernel's ephemeral range (falls back to `bind(0)` when
    that range leaves no room below it)."""
    top = _ephemeral_floor()
    if top - _LOW < 1000:
        return _bind_zero()
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(_LOW, top)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    return _bind_zero()
