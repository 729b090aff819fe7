"""`RemoteBackend`: the `TorrentBackend` of a process that is not the service.

It speaks to the running service's local HTTP API (`mamdl.api`), the one transport between mamdl
processes. Guards and decisions stay in the calling process's `Service`; this class only moves
the backend's verbs across, so a `mam pause` reaches the torrent whoever started it.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2

from mamdl.engine.models import EngineEvent, SeedGoal, TorrentSnapshot
from mamdl.errors import EngineError, MamdlError
from mamdl.redact import redact
from mamdl.service.daemon import ServiceInfo


class RemoteBackend:
    """The backend verbs over `/api/backend/*` of the running service."""

    def __init__(self, info: ServiceInfo, *, timeout: float = 60.0) -> None:
        self.info = info
        self._http = httpx2.Client(
            base_url=info.url,
            headers={"Authorization": f"Bearer {info.token}"},
            timeout=timeout,
            trust_env=False,  # never a proxy: this is loopback
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            resp = self._http.request(method, path, json=body)
        except httpx2.HTTPError as exc:
            raise EngineError(
                f"cannot reach {self.info.describe()}: {redact(str(exc))}; `mam service status` tells more"
            ) from None
        data = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
        if resp.status_code >= 400:
            raise remote_error(data, resp.status_code)
        return data

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

    def snapshots(self) -> list[TorrentSnapshot]:
        return [TorrentSnapshot.model_validate(s) for s in self._call("GET", "/api/backend/snapshots")]

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
