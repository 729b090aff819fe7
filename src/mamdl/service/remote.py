"""`RemoteBackend`: the `TorrentBackend` of a process that is not the service.

It speaks to the running service's local HTTP API (`mamdl.api`), the one transport between mamdl
processes. Guards and decisions stay in the calling process's `Service`; this class only moves
the backend's verbs across, so a `mam pause` reaches the torrent whoever started it.

The transport is the standard library's `http.client` on one kept-alive connection, not httpx2:
the peer is always this machine's own service (plain HTTP on loopback, JSON, no proxy, no TLS, no
cookies), and httpx2's import and client set-up cost a `mam download` about 0.3 s of its start.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mamdl.engine.models import EngineEvent, SeedGoal, TorrentSnapshot
from mamdl.errors import EngineError, MamdlError
from mamdl.redact import redact
from mamdl.service.daemon import ServiceInfo

WAIT_MAX_SECONDS = 30.0
"""The longest the service holds one `wait` request (the route caps it too)."""

# A kept-alive connection the service closed while idle fails on first use with one of these; a
# GET is sent once more on a fresh connection (a closed connection is usually noticed before use).
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _dropped(sock: socket.socket) -> bool:
    """The peer closed this idle kept-alive connection (it is readable: EOF) and it must not be reused."""
    import select

    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class RemoteBackend:
    """The backend verbs over `/api/backend/*` of the running service."""

    def __init__(self, info: ServiceInfo, *, timeout: float = 60.0) -> None:
        self.info = info
        url = urllib.parse.urlsplit(info.url)
        if url.scheme != "http" or not url.hostname:
            raise EngineError(f"{info.describe()} has an address mamdl cannot use; `mam service status` tells more")
        self._host = url.hostname
        self._port = url.port or 80
        self._prefix = url.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"Authorization": f"Bearer {info.token}", "Accept": "application/json"}
        self._conn: http.client.HTTPConnection | None = None
        self._old_service = False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self._conn is not None and self._conn.sock is not None and _dropped(self._conn.sock):
                self.close()
            reused = self._conn is not None
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            conn = self._conn
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(timeout or self._timeout)
                else:
                    conn.timeout = timeout or self._timeout
                conn.request(method, self._prefix + path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                if resp.will_close:
                    self.close()
                break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 1 and reused and method == "GET" and isinstance(exc, _STALE):
                    continue
                why = "timed out" if isinstance(exc, socket.timeout) else str(exc) or type(exc).__name__
                raise EngineError(
                    f"cannot reach {self.info.describe()}: {redact(why)}; `mam service status` tells more"
                ) from None
        is_json = (resp.getheader("content-type") or "").startswith("application/json")
        try:
            payload = json.loads(raw) if is_json and raw else {}
        except ValueError:
            payload = {}
        if resp.status in (404, 405) and not is_json:
            raise _NoRoute(f"{self.info.describe()} has no {method} {path.split('?')[0]}")
        if resp.status >= 400:
            raise remote_error(payload, resp.status)
        return payload

    def add(
        self,
        torrent: bytes | str | Path,
        save_path: str | Path,
        mam_id: int | None = None,
        title: str | None = None,
        goal: SeedGoal | None = None,
        *,
        paused: bool = False,
    ) -> str:
        raw = torrent if isinstance(torrent, bytes) else Path(torrent).read_bytes()
        body = {
            "torrent_b64": base64.b64encode(raw).decode("ascii"),
            "save_path": str(Path(save_path).expanduser().absolute()),
            "mam_id": mam_id,
            "title": title,
            "goal": goal.model_dump() if goal else None,
            "paused": paused,
        }
        return str(self._call("POST", "/api/backend/add", body)["info_hash"])

    def _verb(self, verb: str, info_hash: str, body: dict[str, Any] | None = None) -> TorrentSnapshot:
        return TorrentSnapshot.model_validate(self._call("POST", f"/api/backend/{info_hash}/{verb}", body or {}))

    def pause(self, info_hash: str) -> TorrentSnapshot:
        return self._verb("pause", info_hash)

    def resume(self, info_hash: str) -> TorrentSnapshot:
        return self._verb("resume", info_hash)

    def finish(self, info_hash: str) -> TorrentSnapshot:
        return self._verb("finish", info_hash)

    def set_goal(self, info_hash: str, goal: SeedGoal) -> TorrentSnapshot:
        return self._verb("goal", info_hash, goal.model_dump())

    def remove(self, info_hash: str, delete_data: bool = False) -> None:
        self._call("POST", f"/api/backend/{info_hash}/remove", {"delete_data": delete_data})

    def set_rate_limits(self, download_bps: int | None = None, upload_bps: int | None = None) -> None:
        """Through the service's own `set_rate_limits` (`POST /api/limits`), so the service's
        settings (its web page, `GET /api/limits`) show the new limits too."""
        body = {
            "download_kibps": None if download_bps is None else download_bps // 1024,
            "upload_kibps": None if upload_bps is None else upload_bps // 1024,
        }
        self._call("POST", "/api/limits", body)

    def snapshots(self) -> list[TorrentSnapshot]:
        return [TorrentSnapshot.model_validate(s) for s in self._call("GET", "/api/backend/snapshots")]

    def wait_download(self, info_hash: str, timeout: float) -> TorrentSnapshot:
        """The torrent's snapshot as soon as its download is done (complete and verified, stopped
        by an error, or removed), or after `timeout` s (at most `WAIT_MAX_SECONDS`) with its
        current progress: the service tells this process instead of being polled."""
        timeout = max(0.0, min(timeout, WAIT_MAX_SECONDS))
        if not self._old_service:
            try:
                return TorrentSnapshot.model_validate(
                    self._call(
                        "GET", f"/api/backend/{info_hash}/wait?timeout={timeout:g}", timeout=self._timeout + timeout
                    )
                )
            except _NoRoute:  # a service started before this version: read its snapshots instead
                self._old_service = True
        time.sleep(timeout)
        for s in self.snapshots():
            if s.info_hash == info_hash:
                return s
        raise EngineError(f"torrent {info_hash} disappeared (removed elsewhere?)")

    def events(self, timeout: float | None = None) -> Iterator[EngineEvent]:
        """Changes seen by polling the snapshots once a second (state and progress events)."""
        last: dict[str, TorrentSnapshot] = {}
        quiet_since = time.monotonic()
        while True:
            for s in self.snapshots():
                old = last.get(s.info_hash)
                if old is None or old.state != s.state:
                    quiet_since = time.monotonic()
                    yield EngineEvent(kind="state", info_hash=s.info_hash, message=s.state.value, snapshot=s)
                elif old.progress != s.progress:
                    quiet_since = time.monotonic()
                    yield EngineEvent(kind="progress", info_hash=s.info_hash, snapshot=s)
                last[s.info_hash] = s
            if timeout is not None and time.monotonic() - quiet_since > timeout:
                return
            time.sleep(1.0)


class _NoRoute(EngineError):
    """The service does not serve this route (it runs an older mamdl)."""


def remote_error(data: Any, status: int) -> MamdlError:
    """The service's error, re-raised here as the same kind (so exit codes match)."""
    from mamdl import errors

    kind = data.get("kind") if isinstance(data, dict) else None
    message = data.get("error") if isinstance(data, dict) else None
    cls = getattr(errors, kind or "", None)
    text = redact(str(message or f"the service answered HTTP {status}"))
    if isinstance(cls, type) and issubclass(cls, MamdlError):
        exc = cls.__new__(cls)
        Exception.__init__(exc, text)
        return exc
    return EngineError(text)
