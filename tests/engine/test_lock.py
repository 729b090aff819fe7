"""One engine per state directory, with a message that names the holder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mamdl.engine import Engine
from mamdl.engine.lock import LOCK_NAME, EngineLock, live_holder, read_holder
from mamdl.errors import EngineBusy

HOLDER = """
import sys, time
from mamdl.engine.lock import EngineLock
lock = EngineLock(sys.argv[1], command="mam mcp")
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_second_engine_same_dir_is_busy(make_engine, state_dir: Path) -> None:
    make_engine(owner_label="mam mcp")
    second = Engine(state_dir)
    with pytest.raises(EngineBusy) as err:
        second.start()
    msg = str(err.value)
    assert f"pid {os.getpid()}" in msg and "(mam mcp)" in msg and "since" in msg
    assert not second.running


def test_other_process_holding_the_lock(state_dir: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(state_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(EngineBusy, match=rf"held by pid {proc.pid} \(mam mcp\) since \d{{4}}-"):
            EngineLock(state_dir).acquire()
        holder = live_holder(state_dir)
        assert holder is not None and holder.pid == proc.pid
    finally:
        proc.kill()
        proc.wait()
    # The kernel dropped the flock with the process: the stale lock file is taken over.
    assert live_holder(state_dir) is None
    lock = EngineLock(state_dir, command="mam status")
    lock.acquire()
    try:
        assert read_holder(state_dir).pid == os.getpid()
    finally:
        lock.release()


def test_stale_lock_file_is_taken_over(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / LOCK_NAME).write_text(
        json.dumps({"pid": 999999, "hostname": socket.gethostname(), "command": "mam get", "started_at": time.time()})
    )
    assert live_holder(state_dir) is None  # that pid is gone
    lock = EngineLock(state_dir)
    lock.acquire()
    lock.release()
    assert read_holder(state_dir) is None  # released: no holder advertised


def test_engine_restarts_after_close(make_engine) -> None:
    first = make_engine()
    first.close()
    make_engine()  # same dir, same process: fine once the first is closed


def test_one_session_per_process(make_engine, tmp_path: Path) -> None:
    make_engine()
    with pytest.raises(EngineBusy, match="one libtorrent session per process"):
        make_engine(directory=tmp_path / "other-state")
