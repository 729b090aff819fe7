"""The engine gives a finished download's memory back: a service that downloaded one book must not
sit at that download's peak for good (bench: `mam serve` RSS climbed over nine 1 GiB downloads)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import mamdl.engine.engine as engine_mod
from mamdl.engine import Engine
from mamdl.engine.settings import release_free_memory
from tests.engine.swarm import Payload, make_payload
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def test_glibc_takes_the_trim() -> None:
    """Sabotage caught: `release_free_memory` not reaching glibc's malloc_trim on Linux."""
    import platform
    import sys

    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert release_free_memory() is True


def test_heap_is_trimmed_once_the_last_download_ends(
    make_engine, payload: Payload, seeders, tmp_path: Path, monkeypatch
) -> None:
    """Two downloads at once: the first to finish must not trim (the other still downloads and would
    fault the pages straight back in); the last one's finish trims, and a removal trims again.
    Sabotage caught: trimming whenever anything finishes, never trimming, or no trim after a removal."""
    calls: list[int] = []
    trimmed = threading.Event()

    def spy() -> bool:
        calls.append(sum(1 for t in eng._torrents.values() if t.downloading))
        trimmed.set()
        return True

    monkeypatch.setattr(engine_mod, "release_free_memory", spy)
    monkeypatch.setattr(Engine, "TRIM_DELAY_S", 0.1)
    eng = make_engine()
    slow_payload = make_payload(tmp_path / "slow", name="slow book", seed=7)
    fast = seeders(payload)
    slow = seeders(slow_payload, upload_rate=256 * 1024)
    h_fast = eng.add(payload.torrent, tmp_path / "dl")
    h_slow = eng.add(slow_payload.torrent, tmp_path / "dl")
    eng.connect_peer(h_fast, "127.0.0.1", fast.port)
    eng.connect_peer(h_slow, "127.0.0.1", slow.port)
    eng.wait_done(h_fast, timeout=30)
    assert eng.snapshot(h_slow).progress < 1.0, "the slow download must still run for this test to mean anything"
    wait_until(lambda: eng._trim_at == 0.0, timeout=5, what="the trim deadline after the first finish")
    assert calls == []  # the slow one still downloads: no trim
    slow.handle.set_upload_limit(-1)
    eng.wait_done(h_slow, timeout=60)
    assert trimmed.wait(5), "no trim after the last download finished"
    assert calls == [0]
    trimmed.clear()
    eng.remove(h_fast)
    assert trimmed.wait(5), "no trim after a removal"
