"""Fixtures for library tests: a second file system (a tmpfs we mount, else /dev/shm), and a
recording HTTP server standing in for Audiobookshelf (which can't be installed here)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class Recorder(ThreadingHTTPServer):
    def __init__(self, status: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.status = status


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "body": self.rfile.read(length),
            }
        )
        if self.server.status != 200:
            self.send_response(self.server.status)
            self.end_headers()
            return
        body = b"OK"
        if self.path == "/api/libraries":
            body = json.dumps(
                {
                    "libraries": [
                        {"id": "lib_books", "name": "Audiobooks", "mediaType": "book", "folders": [{"fullPath": "/a"}]},
                        {"id": "lib_pods", "name": "Podcasts", "mediaType": "podcast", "folders": [{"fullPath": "/p"}]},
                        {"id": "lib_ebooks", "name": "Ebooks", "mediaType": "book", "folders": [{"fullPath": "/e"}]},
                    ]
                }
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


@pytest.fixture
def recorder():
    servers = []

    def start(status: int = 200) -> Recorder:
        srv = Recorder(status)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()
