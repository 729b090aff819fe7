"""Finding, starting and stopping the background service (`mam serve`) of a state dir.

The service writes `serve.json` (mode 0600: it holds the API token) once it listens; a client
trusts it only while the recorded pid is alive *and* holds the engine lock, so a file left by a
`kill -9` is ignored. Starting is serialised by `serve.spawn.lock`: two `mam get --download` at
once start exactly one service — the second waits for the first's and then uses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from mamdl.config import Paths, Settings
from mamdl.engine.lock import live_holder
from mamdl.errors import EngineBusy, EngineError

SPAWN_LOCK = "serve.spawn.lock"
STDERR_LOG = "serve-stderr.log"


class ServiceInfo(BaseModel):
    """What `serve.json` says about the running service."""

    pid: int
    url: str
    token: str
    started_at: float
    host: str
    port: int

    def describe(self) -> str:
        return f"the background service (pid {self.pid}, {self.url})"


def read_service(paths: Paths) -> ServiceInfo | None:
    """The running service of this state dir, or None (no file, or its process is gone)."""
    try:
        info = ServiceInfo.model_validate_json(paths.serve_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    holder = live_holder(paths.state_dir)
    if holder is None or holder.pid != info.pid:
        return None
    return info


def write_service(paths: Paths, info: ServiceInfo) -> None:
    from mamdl.fsutil import atomic_write

    atomic_write(paths.serve_file, info.model_dump_json().encode(), mode=0o600)


def clear_service(paths: Paths, pid: int) -> None:
    """Remove `serve.json` if it is still ours."""
    try:
        data = json.loads(paths.serve_file.read_text(encoding="utf-8"))
        if int(data.get("pid", -1)) == pid:
            paths.serve_file.unlink()
    except (OSError, ValueError):
        pass


@contextlib.contextmanager
def _spawn_lock(paths: Paths, timeout: float) -> Iterator[None]:
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.state_dir / SPAWN_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EngineError("timed out waiting for another process starting the service") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def ensure_service(settings: Settings, *, timeout: float = 60.0) -> tuple[ServiceInfo, bool]:
    """The running service, starting one detached if none runs. Returns (info, started_by_us).

    Refuses (EngineBusy) when a self-contained `--foreground` run holds the engine: a service
    could not take the state dir while it runs."""
    paths = settings.paths
    with _spawn_lock(paths, timeout):
        info = read_service(paths)
        if info is not None:
            return info, False
        holder = live_holder(paths.state_dir)
        if holder is not None:
            raise EngineBusy(
                f"the download engine for {paths.state_dir} is held by {holder.describe()}; "
                "let it finish (or stop it), or use --foreground after it exits"
            )
        proc = spawn_detached(paths)
        return wait_ready(paths, proc, timeout), True


def spawn_detached(paths: Paths) -> subprocess.Popen[bytes]:
    """`python -m mamdl serve` in its own session: closing the terminal does not stop it."""
    paths.logs_dir.mkdir(parents=True, exist_ok=True)
    err = open(paths.logs_dir / STDERR_LOG, "wb")  # start-up crashes land here
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "mamdl", "serve"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            close_fds=True,
            env=dict(os.environ),
        )
    finally:
        err.close()


def wait_ready(paths: Paths, proc: subprocess.Popen[bytes] | None, timeout: float) -> ServiceInfo:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = read_service(paths)
        if info is not None and (proc is None or info.pid == proc.pid):
            return info
        if proc is not None and proc.poll() is not None:
            raise EngineError(f"the background service exited at start-up: {_stderr_tail(paths)}")
        time.sleep(0.02)  # a command waits on this before its download starts: two file reads a tick
    raise EngineError(f"the background service did not become ready within {timeout:.0f} s: {_stderr_tail(paths)}")


def _stderr_tail(paths: Paths) -> str:
    from mamdl.redact import redact

    try:
        text = (paths.logs_dir / STDERR_LOG).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "no output"
    lines = [line for line in text.splitlines() if line.strip()]
    return redact(lines[-1] if lines else "no output")[:500]


def stop_service(paths: Paths, *, timeout: float = 60.0) -> ServiceInfo | None:
    """SIGTERM the running service and wait until it has saved and released the state dir."""
    info = read_service(paths)
    if info is None:
        return None
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = live_holder(paths.state_dir)
        if holder is None or holder.pid != info.pid:
            return info
        time.sleep(0.1)
    raise EngineError(f"the service (pid {info.pid}) did not stop within {timeout:.0f} s")


def log_file(paths: Paths) -> Path:
    return paths.logs_dir / "mamdl.log"
