"""Shared fixtures. Every test runs with its own MAMDL_HOME and a loopback base URL, so no test can
touch the user's real config or the real site."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TEST_COOKIE = "test-cookie-4f1c9a7e2b"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "mamdl-home"
    home.mkdir()
    for var in list(os.environ):
        if var.startswith(("MAMDL_", "MAM_")):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MAMDL_HOME", str(home))
    monkeypatch.setenv("MAM_BASE_URL", "http://127.0.0.1:9")  # discard port: never the real site
    monkeypatch.setenv("MAM_ID", TEST_COOKIE)
    # Commands drive their own engine unless a test asks for the background service; a test that
    # starts one gets it stopped afterwards (`stop_services`).
    monkeypatch.setenv("MAMDL_AUTO_SERVE", "0")
    yield home
    _stop_service(home)


def _stop_service(home: Path) -> None:
    """Stop a `mam serve` a test left running in its home (SIGTERM, then SIGKILL)."""
    import json
    import signal
    import time

    from mamdl.engine.lock import read_holder

    holder = read_holder(home)
    pids = {holder.pid} if holder else set()
    try:
        pids.add(int(json.loads((home / "serve.json").read_text())["pid"]))
    except (OSError, ValueError, KeyError):
        pass
    pids |= _serve_processes_of(home)  # one still starting, or whose records were lost
    for pid in pids - {os.getpid()}:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def sandbox(tmp_path: Path):
    """A running sandbox (site API + tracker) with fast timings; nothing seeded until asked."""
    from mamdl.sandbox import Sandbox

    with Sandbox(data_dir=tmp_path / "sandbox-data", announce_interval=1, satisfy_seconds=5) as sb:
        yield sb


@pytest.fixture
def sandbox_env(sandbox, monkeypatch: pytest.MonkeyPatch):
    """Point mamdl (this process and child processes) at the sandbox, with a fast request pace."""
    monkeypatch.setenv("MAM_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("MAM_ID", sandbox.mam_id)
    monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.05")
    monkeypatch.setenv("MAMDL_RETRY_BUDGET_SECONDS", "10")
    return sandbox


@pytest.fixture
def make_swarm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Start a sandbox swarm (tracker + seeder, options as `Sandbox` takes them) and point mamdl at
    it with fast pacing and a fresh view of MAM's snatch counts."""
    from contextlib import ExitStack

    from mamdl.sandbox import Sandbox

    with ExitStack() as stack:

        def start(**options):
            options = {"announce_interval": 1, "satisfy_seconds": 3, **options}
            refresh = str(options.pop("snatch_refresh", "1"))
            sb = stack.enter_context(Sandbox(data_dir=tmp_path / "sb", **options))
            monkeypatch.setenv("MAM_BASE_URL", sb.base_url)
            monkeypatch.setenv("MAM_ID", sb.mam_id)
            monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.05")
            monkeypatch.setenv("MAMDL_SNATCH_REFRESH_SECONDS", refresh)
            return sb

        yield start


def _serve_processes_of(home: Path) -> set[int]:
    """`mamdl serve` processes of this user whose MAMDL_HOME is this test's home (Linux /proc)."""
    found = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if b"mamdl\0serve" not in (proc / "cmdline").read_bytes():
                continue
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"MAMDL_HOME={home}".encode() in env:
            found.add(int(proc.name))
    return found
