"""At most one request to MAM per `min_interval`, across every process that shares a state dir.

A CLI search while the MCP server runs must not double the rate, so the limit cannot live in one
process's memory. An exclusive `flock` on a small file serialises requests; the file holds the
time the previous request *finished*, and the next one starts no sooner than `min_interval` after
that. Holding the lock for the whole request also keeps a rotating cookie consistent: two
processes never send the same single-use value at once. The kernel drops the lock if a process
dies, so a killed process can never wedge the others.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RequestGate:
    def __init__(self, path: Path, min_interval: float) -> None:
        self.path = path
        self.min_interval = min_interval

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for our turn, yield while we talk to MAM, then stamp the finish time."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 64, 0).decode(errors="ignore").strip()
            try:
                last = float(raw) if raw else 0.0
            except ValueError:
                last = 0.0
            wait = last + self.min_interval - time.time()
            if wait > 0:
                time.sleep(min(wait, self.min_interval))  # bounded: a clock jump can't stall us
            try:
                yield
            finally:
                stamp = f"{time.time():.6f}".encode()
                os.ftruncate(fd, 0)
                os.pwrite(fd, stamp, 0)
        finally:
            os.close(fd)  # releases the flock
