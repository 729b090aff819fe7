"""A real client daemon per test, with mamdl pointed at it (environment, like a user's config)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.clients.daemons import DAEMONS, Daemon, need


@pytest.fixture
def client(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home) -> Iterator[Daemon]:
    """`request.param` names the client; the daemon runs with a generated user and password."""
    cls = DAEMONS[request.param]
    need(cls.binary)
    daemon = cls(tmp_path / f"{request.param}-profile")
    daemon.start()
    for k, v in daemon.mamdl_env().items():
        monkeypatch.setenv(k, v)
    try:
        yield daemon
    finally:
        daemon.stop()
