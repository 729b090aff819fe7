"""One engine per state directory: an exclusive `flock` on `engine.lock`.

The lock file also says who holds it (pid, host, command, start time) so a second process gets a
message naming the holder. flock is released by the kernel when its holder dies, so a lock file left
by a crashed process is simply taken over.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mamdl.errors import EngineBusy
from mamdl.redact import redact

LOCK_NAME = "engine.lock"


@dataclass(frozen=True)
class LockHolder:
    pid: int
    hostname: str
    command: str
    started_at: float

    def describe(self) -> str:
        since = datetime.fromtimestamp(self.started_at, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        host = "" if self.hostname == socket.gethostname() else f" on {self.hostname}"
        return f"pid {self.pid}{host} ({self.command}) since {since}"

    def alive(self) -> bool:
        """Best effort: only a process on this host can be checked."""
        if self.hostname != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _zombie(self.pid)


def _zombie(pid: int) -> bool:
    """A killed process nobody has reaped yet (e.g. in a container whose init never reaps) still
    answers `kill(pid, 0)`, but it has closed its files and released the lock: it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def default_command_label() -> str:
    """`mam mcp`-style label: program name and first sub-command only (later words may be secrets)."""
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if prog in ("__main__.py", "-c", ""):
        prog = "python"
    words = [prog]
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        words.append(sys.argv[1])
    return redact(" ".join(words))[:80]


def read_holder(state_dir: Path) -> LockHolder | None:
    """Who wrote the lock file last (without taking the lock). None if no usable record."""
    try:
        data = json.loads((Path(state_dir) / LOCK_NAME).read_text(encoding="utf-8"))
        return LockHolder(
            pid=int(data["pid"]),
            hostname=str(data["hostname"]),
            command=str(data.get("command", "?")),
            started_at=float(data["started_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live_holder(state_dir: Path) -> LockHolder | None:
    """The holder if its process still seems alive: tells readers whether snapshots are live."""
    holder = read_holder(state_dir)
    if holder is None or not holder.alive():
        return None
    return holder


class EngineLock:
    """The exclusive lock; `acquire()` raises EngineBusy naming the current holder."""

    def __init__(self, state_dir: Path, command: str | None = None) -> None:
        self.path = Path(state_dir) / LOCK_NAME
        self.command = command or default_command_label()
        self._fd: int | None = None
        self.unclean = False
        """Set by `acquire()`: the last holder ended without `release()` (killed, crashed, power
        lost), so what it wrote after its last resume-data save is on disk but not recorded."""

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_holder(self.path.parent)
            who = holder.describe() if holder else "another process"
            raise EngineBusy(
                f"the download engine for {self.path.parent} is held by {who}; "
                "stop that process (`mam service stop` for the background service), or let it finish"
            ) from None
        # A clean release() empties the file; anything still in it was left by a holder that died.
        self.unclean = bool(os.pread(fd, 1, 0))
        record = {
            "pid": os.getpid(),
            "hostname": socket.gethostname(),
            "command": self.command,
            "started_at": time.time(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # nobody holds it now: readers must not see a live holder
        except OSError:
            pass
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
