"""`GET /api/backend/{hash}/wait`: the service tells a following process the moment a download is
done, instead of being polled; and `RemoteBackend`, which calls it, on a real `mam serve`."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx2
import pytest

from mamdl.engine.models import TorrentState
from mamdl.errors import EngineError, UsageError
from mamdl.service.daemon import ServiceInfo
from mamdl.service.remote import RemoteBackend
from tests.cli.conftest import run_mam


def _service(home) -> ServiceInfo:
    p = run_mam("service", "start", timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return ServiceInfo.model_validate_json((home / "serve.json").read_text())


@pytest.mark.slow
def test_wait_returns_when_done_times_out_cleanly_and_needs_the_token(make_swarm, isolated_home, tmp_path):
    """Sabotage caught: the wait ignoring completion (it would hold the request for its whole
    timeout), a wait that errors or hangs instead of answering with the current progress when
    its time is up, the route outside the bearer token, or a path segment that is not an
    info-hash reaching the backend."""
    sb = make_swarm()
    tid = json.loads(run_mam("search", "-t", "the hobbit", "--best", "--json").stdout)[0]["id"]
    info = _service(isolated_home)
    rb = RemoteBackend(info)
    try:
        h = rb.add(sb.torrent_bytes(tid), tmp_path / "d", paused=True)

        t0 = time.monotonic()
        snap = rb.wait_download(h, 1.0)  # paused: never done, so this is the timeout's answer
        waited = time.monotonic() - t0
        assert snap.info_hash == h and snap.progress < 1.0 and snap.state == TorrentState.PAUSED
        assert 0.9 <= waited < 20, waited

        url = f"{info.url}/api/backend/{h}/wait?timeout=0"
        assert httpx2.get(url).status_code == 401
        assert httpx2.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        with pytest.raises(UsageError, match="not an info-hash"):
            rb._call("GET", "/api/backend/not-a-hash/wait?timeout=0")
        with pytest.raises(EngineError):
            rb.wait_download("0" * 40, 0)

        rb.resume(h)
        t0 = time.monotonic()
        snap = rb.wait_download(h, 30.0)
        waited = time.monotonic() - t0
        assert snap.progress >= 1.0 and snap.state == TorrentState.SEEDING, snap
        assert waited < 25, f"the wait returned after {waited:.1f} s: at its timeout, not when the download was done"
    finally:
        rb.close()
        assert run_mam("service", "stop", timeout=120).returncode == 0


class _OldService(BaseHTTPRequestHandler):
    """A service of an earlier mamdl: no wait route (Starlette answers 405 in plain text there),
    snapshots as JSON."""

    snapshot: ClassVar[dict] = {}

    def do_GET(self) -> None:
        if self.path == "/api/backend/snapshots":
            body, kind, code = json.dumps([self.snapshot]).encode(), "application/json", 200
        else:
            body, kind, code = b"Method Not Allowed", "text/plain; charset=utf-8", 405
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_wait_falls_back_to_snapshots_on_a_service_without_the_route():
    """A CLI upgraded while an older service still runs keeps following its download. Sabotage
    caught: the 405 of a missing route raised as an error instead of reading the snapshots."""
    from mamdl.engine.models import TorrentSnapshot

    snap = TorrentSnapshot(info_hash="ab" * 20, name="book", state=TorrentState.SEEDING, progress=1.0, save_path="/x")
    _OldService.snapshot = snap.model_dump(mode="json")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OldService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    info = ServiceInfo(pid=1, url=f"http://127.0.0.1:{port}", token="t", started_at=0, host="127.0.0.1", port=port)
    rb = RemoteBackend(info)
    try:
        got = rb.wait_download("ab" * 20, 0.05)
        assert got.info_hash == "ab" * 20 and got.progress == 1.0
        assert rb.wait_download("ab" * 20, 0.05).state == TorrentState.SEEDING  # and again, without the route
        with pytest.raises(EngineError, match="disappeared"):
            rb.wait_download("cd" * 20, 0.05)
    finally:
        rb.close()
        server.shutdown()
        server.server_close()
