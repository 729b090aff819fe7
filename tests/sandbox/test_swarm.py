"""End to end on a real loopback swarm: a plain libtorrent session gets a payload from the sandbox's
seeder through the sandbox's tracker; the corrupt peer causes hash failures; the leecher makes the
client's ratio climb."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from mamdl.mam.models import UserInfo
from mamdl.sandbox import Sandbox
from mamdl.sandbox.swarm import loopback_settings

lt = pytest.importorskip("libtorrent")

pytestmark = pytest.mark.slow


class Client:
    """A bare libtorrent session, set up the way mam-api.md says loopback sessions must be."""

    def __init__(self) -> None:
        settings = loopback_settings("mamdl-test-client")
        cat = lt.alert.category_t
        settings["alert_mask"] = (
            cat.error_notification | cat.peer_notification | cat.status_notification | cat.storage_notification
        )
        self.ses = lt.session(settings)
        self.hash_failures = 0
        self.bans = 0
        self.flushed = 0

    def add(self, torrent: bytes, save_path: Path):
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent)
        atp.save_path = str(save_path)
        return self.ses.add_torrent(atp)

    def wait_seeding(self, handle, timeout: float = 40.0) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            self.drain()
            if handle.status().is_seeding:
                # Pieces are hash-checked from memory: the last writes may not be on disk yet.
                self.flushed = 0
                handle.flush_cache()
                while not self.flushed and time.monotonic() - start < timeout:
                    time.sleep(0.02)
                    self.drain()
                return time.monotonic() - start
            time.sleep(0.05)
        raise AssertionError(f"not finished after {timeout}s: {handle.status().state} {handle.status().progress:.0%}")

    def drain(self) -> None:
        for alert in self.ses.pop_alerts():
            if isinstance(alert, lt.hash_failed_alert):
                self.hash_failures += 1
            elif isinstance(alert, lt.peer_ban_alert):
                self.bans += 1
            elif isinstance(alert, lt.cache_flushed_alert):
                self.flushed += 1

    def close(self) -> None:
        # The sandbox lives in this process: let the `stopped` announce be answered before the
        # destructor (which holds the GIL) runs, or it waits stop_tracker_timeout for nothing.
        self.ses.pause()
        time.sleep(0.2)
        del self.ses


@pytest.fixture
def client() -> Iterator[Client]:
    c = Client()
    yield c
    c.close()


def _download(sb: Sandbox, tid: int) -> bytes:
    resp = httpx2.get(f"{sb.base_url}/tor/download.php", params={"tid": tid}, headers={"Cookie": f"mam_id={sb.mam_id}"})
    assert resp.status_code == 200
    return resp.content


def _assert_same_files(sb: Sandbox, tid: int, save_path: Path) -> None:
    for f in sb.payload_files(tid):
        got = save_path / f.relpath
        assert got.stat().st_size == f.size
        assert hashlib.sha256(got.read_bytes()).hexdigest() == f.sha256, f.relpath


def test_plain_libtorrent_downloads_from_the_sandbox_seeder(tmp_path, client):
    with Sandbox(data_dir=tmp_path / "sb", announce_interval=1, satisfy_seconds=1.5, rotate_every=0) as sb:
        tid = next(e.id for e in sb.catalogue.entries if e.kind == "audiobook" and e.numfiles > 5 and not e.free)
        handle = client.add(_download(sb, tid), tmp_path / "client")
        client.wait_seeding(handle)
        _assert_same_files(sb, tid, tmp_path / "client")
        total = sum(f.size for f in sb.payload_files(tid))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            data = httpx2.get(
                f"{sb.base_url}/jsonLoad.php?snatch_summary", headers={"Cookie": f"mam_id={sb.mam_id}"}
            ).json()
            summary = UserInfo.from_api(data).snatch_summary
            if summary.seeding_satisfied == 1 and data["downloaded_bytes"] - 10 * 1024**3 == total:
                break
            time.sleep(0.25)
        else:
            raise AssertionError(f"tracker never saw the client complete and seed: {data}")


def test_corrupt_peer_causes_hash_failures_but_the_download_completes(tmp_path, client):
    # A slow good seeder, so the (unlimited) corrupt peer surely delivers some pieces first.
    with Sandbox(
        data_dir=tmp_path / "sb", announce_interval=1, corrupt_peer=True, rotate_every=0, seeder_rate_limit=1024 * 1024
    ) as sb:
        tid = next(e.id for e in sb.catalogue.entries if e.kind == "ebook")
        handle = client.add(_download(sb, tid), tmp_path / "client")
        client.wait_seeding(handle)
        client.drain()
        assert client.hash_failures >= 1 and client.bans >= 1
        _assert_same_files(sb, tid, tmp_path / "client")


def test_leecher_makes_the_clients_ratio_climb(tmp_path, client):
    with Sandbox(
        data_dir=tmp_path / "sb",
        announce_interval=1,
        leecher=True,
        leecher_pause=0.2,
        rotate_every=0,
        user={"base_uploaded": 0, "base_downloaded": 0},
    ) as sb:
        tid = next(e.id for e in sb.catalogue.entries if e.kind == "ebook" and not e.free)
        handle = client.add(_download(sb, tid), tmp_path / "client")
        client.wait_seeding(handle)
        size = sum(f.size for f in sb.payload_files(tid))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            info = UserInfo.from_api(
                httpx2.get(f"{sb.base_url}/jsonLoad.php", headers={"Cookie": f"mam_id={sb.mam_id}"}).json()
            )
            if info.uploaded_bytes > 1.5 * size and info.ratio and info.ratio > 1.5:
                break
            time.sleep(0.25)
        else:
            raise AssertionError(f"ratio did not climb: {info}")
        assert sb.swarm.leecher_rounds()[tid] >= 1  # and a second round is under way: uploaded > 1.5x size
