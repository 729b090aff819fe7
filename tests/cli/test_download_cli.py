"""`mam get/download/status/pause/resume/remove/seed` on a real loopback swarm (sandbox tracker + seeder)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def swarm(make_swarm):
    return make_swarm(leecher=True)


def _tid(mam, title: str) -> int:
    return json.loads(mam("search", "-t", title, "--best", "--json").stdout)[0]["id"]


def test_get_download_seed_to_ratio_one(swarm, mam, tmp_path):
    tid = _tid(mam, "the hobbit")
    dest = tmp_path / "books"
    p = mam(
        "get",
        str(tid),
        "--download",
        "--seed",
        "--ratio",
        "1",
        "--seed-hours",
        "0.002",
        "--force",
        "--to",
        str(dest),
        timeout=120,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Complete and verified" in p.stdout and "Every seeding goal is met" in p.stdout
    for f in swarm.payload_files(tid):
        assert hashlib.sha256((dest / f.relpath).read_bytes()).hexdigest() == f.sha256
    rows = json.loads(mam("status", "--json").stdout)
    assert rows[0]["state"] == "finished" and rows[0]["ratio"] >= 1.0 and rows[0]["goal_met"]
    user = json.loads(mam("user", "--json", "--refresh").stdout)
    size = sum(f.size for f in swarm.payload_files(tid))
    torrent = swarm.state_snapshot()
    acc = torrent["user"]
    assert acc["accounted_uploaded"] >= acc["accounted_downloaded"] >= size  # the tracker saw ratio >= 1
    assert user["unsatisfied"] == 0


def test_download_bad_torrent_files_is_a_clear_error(swarm, mam, tmp_path):
    bad = tmp_path / "bad.torrent"
    bad.write_bytes(b"<html>login</html>")
    p = mam("download", str(bad))
    assert p.returncode == 1 and "Traceback" not in p.stderr and "torrent" in p.stderr.lower()

    import fastbencode

    info = {
        b"name": b"evil",
        b"piece length": 16384,
        b"pieces": b"\0" * 20,
        b"files": [{b"length": 10, b"path": [b"..", b"..", b"etc", b"passwd"]}],
        b"private": 1,
    }
    evil = tmp_path / "evil.torrent"
    evil.write_bytes(fastbencode.bencode({b"announce": b"http://127.0.0.1:9/announce", b"info": info}))
    p = mam("download", str(evil), "--force")
    assert p.returncode == 1 and ".." in p.stderr and "Traceback" not in p.stderr


def test_unwritable_download_folder_is_a_clear_error(swarm, mam, tmp_path):
    tid = _tid(mam, "dune")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    p = mam("get", str(tid), "--download", "--to", str(blocker / "sub"))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert str(blocker) in p.stderr or "write" in p.stderr.lower()


def test_pause_resume_remove_refused_then_forced(swarm, mam, tmp_path):
    swarm.configure(satisfy_seconds=3600)  # MAM counts it unsatisfied throughout
    tid = _tid(mam, "dune")
    p = mam("get", str(tid), "--download", "--to", str(tmp_path / "d"), timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    h = json.loads(mam("status", "--json").stdout)[0]["info_hash"]
    assert mam("pause", h[:8]).returncode == 0
    assert json.loads(mam("status", "--json").stdout)[0]["state"] == "paused"
    assert mam("resume", h[:8]).returncode == 0
    refused = mam("remove", h[:8])
    assert refused.returncode == 3 and "hit-and-run" in refused.stderr
    assert mam("remove", h[:8], "--force", "--delete-data", "--yes").returncode == 0
    assert json.loads(mam("status", "--json").stdout) == []
    assert not any((tmp_path / "d").rglob("*.epub"))


def test_ctrl_c_in_seed_saves_and_exits_cleanly(swarm, mam, tmp_path):
    import signal
    import subprocess
    import time

    from tests.cli.conftest import MAM

    tid = _tid(mam, "frankenstein")
    assert mam("get", str(tid), "--download", "--to", str(tmp_path / "d"), timeout=120).returncode == 0
    env = dict(os.environ, COLUMNS="200")
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen(
            [MAM, "seed", "--forever"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        deadline = time.monotonic() + 30
        while "(mam seed)" not in mam("status", env=env).stdout:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.3)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130 and "Traceback" not in err, err
        assert "not running" in mam("status", env=env).stdout  # the lock was released


def test_get_while_a_foreground_run_holds_the_engine_names_it(swarm, mam, tmp_path):
    """Only the service is reachable from other processes (one transport: its HTTP API); a
    self-contained `mam seed` run is not, so `mam get --download` says who holds the engine.

    Sabotage caught: `Service.engine()` starting a second engine (EngineBusy with a raw message,
    or a traceback) or silently spawning a service that cannot take the state dir."""
    import subprocess
    import time

    from tests.cli.conftest import MAM

    env = dict(os.environ, COLUMNS="200", MAMDL_AUTO_SERVE="1")
    owner = subprocess.Popen(
        [MAM, "seed", "--forever", "--foreground"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while "(mam seed)" not in mam("status", env=env).stdout:
            assert time.monotonic() < deadline and owner.poll() is None
            time.sleep(0.3)
        p = mam("get", str(_tid(mam, "dune")), "--download", "--to", str(tmp_path / "d"), env=env, timeout=120)
        assert p.returncode != 0 and "Traceback" not in p.stderr
        assert "(mam seed)" in p.stderr and "held by" in p.stderr, p.stderr
    finally:
        owner.terminate()
        assert owner.wait(30) == 130
