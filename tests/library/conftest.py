"""Fixtures for library tests: a second file system (a tmpfs we mount, else /dev/shm)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def other_fs(tmp_path: Path):
    """A folder on another file system than `tmp_path`, where hardlinks from it must fail."""
    mnt = tmp_path / "otherfs"
    mnt.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mnt)], capture_output=True
        ).returncode
        == 0
    )
    if mounted:
        try:
            yield mnt
        finally:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
        return
    shm = Path("/dev/shm")
    if shm.is_dir() and os.stat(shm).st_dev != os.stat(tmp_path).st_dev:
        with tempfile.TemporaryDirectory(dir=shm) as d:
            yield Path(d)
        return
    if os.environ.get("CI") == "true":
        pytest.fail("no second file system: cannot mount a tmpfs and /dev/shm is not one")
    pytest.skip("no second file system: cannot mount a tmpfs and /dev/shm is not one")


@pytest.fixture
def mam():
    from tests.cli.conftest import run_mam

    return run_mam
