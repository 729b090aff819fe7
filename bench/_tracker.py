"""A minimal private-style HTTP tracker on 127.0.0.1 for the benchmarks.

Served at exactly `/announce` (libtorrent's SSRF mitigation only accepts a loopback tracker at
that path, see mam-api.md). Compact peer lists; a peer is forgotten on `event=stopped` or by
`forget_except()` between runs, so no client is ever handed a dead port from an earlier run.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_to_bytes


def bencode(x: object) -> bytes:
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, str):
        return bencode(x.encode())
    if isinstance(x, list):
        return b"l" + b"".join(bencode(i) for i in x) + b"e"
    if isinstance(x, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in x.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(x))


class Tracker:
    def __init__(self, interval: int = 2) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        # info_hash (20 bytes) -> peer_id -> (ip, port, left, last_seen)
        self._swarms: dict[bytes, dict[bytes, tuple[str, int, int, float]]] = {}
        self.announces = 0
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path != "/announce":
                    self.send_error(404)
                    return
                body = tracker._announce(query, self.client_address[0])
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client hanging up mid-answer (it is being stopped) is not news

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/announce"
        self._thread = threading.Thread(target=self._server.serve_forever, name="bench-tracker", daemon=True)
        self._thread.start()

    def _announce(self, query: str, ip: str) -> bytes:
        q: dict[str, bytes] = {}
        for part in query.split("&"):
            k, _, v = part.partition("=")
            q[k] = unquote_to_bytes(v)
        try:
            ih, pid, port = q["info_hash"], q["peer_id"], int(q["port"])
            left = int(q.get("left", b"0") or 0)
        except (KeyError, ValueError):
            return bencode({"failure reason": "bad announce"})
        event = q.get("event", b"").decode(errors="replace")
        with self._lock:
            self.announces += 1
            swarm = self._swarms.setdefault(ih, {})
            if event == "stopped":
                swarm.pop(pid, None)
            else:
                swarm[pid] = (ip, port, left, time.monotonic())
            others = [(p_ip, p_port) for p, (p_ip, p_port, _, _) in swarm.items() if p != pid]
            seeds = sum(1 for (_, _, lft, _) in swarm.values() if lft == 0)
        import socket
        import struct

        compact = b"".join(socket.inet_aton(h) + struct.pack("!H", p) for h, p in others)
        return bencode(
            {
                "interval": self.interval,
                "min interval": 1,
                "complete": seeds,
                "incomplete": len(others) + 1 - seeds,
                "peers": compact,
            }
        )

    def forget_except(self, port: int) -> None:
        """Forget every peer but the one listening on `port` (the seeder), between runs."""
        with self._lock:
            for swarm in self._swarms.values():
                for pid in [p for p, v in swarm.items() if v[1] != port]:
                    del swarm[pid]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
