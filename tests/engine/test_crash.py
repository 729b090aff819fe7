"""kill -9 in the middle of a download: the restart re-adds the torrent from its resume data and
downloads again at most what the last resume-save interval had not yet recorded."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mamdl.engine import TorrentState, live_holder, parse_torrent, read_status
from mamdl.engine.store import Store, db_path
from tests.engine.swarm import PIECE, Payload, make_payload, verify_files

pytestmark = pytest.mark.slow

RATE = 1024 * 1024  # the seeder's throttled upload rate, bytes/s
RESUME_INTERVAL = 1.0
REPO = Path(__file__).resolve().parents[2]


BLOCK = 16 * 1024  # BitTorrent's request size


def bytes_on_disk(payload: Payload, save_path: Path) -> int:
    """Bytes already on disk, counted per 16 KiB torrent block (in the torrent's own file order)
    against the original files. The data is random, so a block that matches really was written:
    this is what a crash must not make us fetch again."""
    want, have = bytearray(), bytearray()
    for f in parse_torrent(payload.torrent).files:  # torrent order, pad files included
        if f.pad:
            want += b"\0" * f.size
            have += b"\0" * f.size
            continue
        want += (payload.root / f.path).read_bytes()
        p = save_path / f.path
        data = p.read_bytes()[: f.size] if p.exists() else b""
        have += data + b"\0" * (f.size - len(data))
    return sum(
        len(want[off : off + BLOCK])
        for off in range(0, len(want), BLOCK)
        if have[off : off + BLOCK] == want[off : off + BLOCK]
    )


def start_child(state_dir: Path, payload: Payload, dl: Path, port: int, tmp_path: Path) -> subprocess.Popen:
    torrent = tmp_path / "big.torrent"
    torrent.write_bytes(payload.torrent)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("crash_child.py")),
            str(state_dir),
            str(torrent),
            str(dl),
            str(port),
            str(RESUME_INTERVAL),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )


def test_kill_9_mid_download(tmp_path: Path, seeders, make_engine, state_dir: Path) -> None:
    payload = make_payload(tmp_path / "src", name="big", sizes=(4 * 2**20, 2 * 2**20 + 777), seed=5)
    dl = tmp_path / "dl"
    seeder = seeders(payload, upload_rate=RATE)
    child = start_child(state_dir, payload, dl, seeder.port, tmp_path)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        # Watch it from outside through the state database, as `mam status` would.
        deadline = time.monotonic() + 30
        progress = 0.0
        while time.monotonic() < deadline:
            snaps = read_status(state_dir)
            progress = snaps[0].progress if snaps else 0.0
            if progress >= 0.4:
                break
            time.sleep(0.05)
        assert 0.4 <= progress < 0.8, f"progress {progress}: throttle not effective?"
        # Kill at a random moment of the resume-save cycle, not in step with the store writes.
        time.sleep(random.uniform(0, RESUME_INTERVAL))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    on_disk = bytes_on_disk(payload, dl)
    assert on_disk >= payload.total_size * 0.4

    # Restart with a fresh, unthrottled seeder.
    fresh = seeders(payload)
    eng = make_engine()
    (snap,) = eng.snapshots()
    assert snap.info_hash == payload.info_hash and snap.state != TorrentState.ERROR
    start = eng.snapshot(snap.info_hash).downloaded  # all-time total carried over from the child
    eng.connect_peer(snap.info_hash, "127.0.0.1", fresh.port)
    eng.wait_done(snap.info_hash, timeout=30)
    verify_files(dl, payload)
    fetched_again = eng.snapshot(snap.info_hash).downloaded - start
    assert "fastresume_rejected_alert" not in eng.session_info()["alerts_seen"]  # resume data was used
    needed = payload.total_size - on_disk
    twice = fetched_again - needed
    allowed = RATE * RESUME_INTERVAL + 2 * PIECE
    print(
        f"on disk at kill {on_disk}, fetched after restart {fetched_again}, needed {needed}, "
        f"downloaded twice {twice} (allowed {allowed:.0f})"
    )
    assert twice <= allowed


def test_sigterm_closes_cleanly(tmp_path: Path, seeders, state_dir: Path) -> None:
    """SIGTERM ends like Ctrl-C: resume data saved, lock released, no traceback."""
    payload = make_payload(tmp_path / "src", name="big", sizes=(2 * 2**20,), seed=6)
    seeder = seeders(payload, upload_rate=RATE // 2)
    child = start_child(state_dir, payload, tmp_path / "dl", seeder.port, tmp_path)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        assert live_holder(state_dir).pid == child.pid
        time.sleep(0.5)
        sent = time.time()
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert "closed" in out
    assert "Traceback" not in err
    assert live_holder(state_dir) is None
    with Store(db_path(state_dir)) as store:
        (rec,) = store.records()
        assert store.resume_saved_at(rec.info_hash) >= sent  # saved on the way out
        assert rec.state in (TorrentState.DOWNLOADING, TorrentState.QUEUED)
