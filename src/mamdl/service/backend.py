"""The one interface between the service and whatever moves the bytes.

Today two things implement it: the embedded libtorrent `Engine` (in the process that owns the
state dir: `mam serve`, or a `--foreground` run) and `RemoteBackend` (any other process, talking
to the running service over its local HTTP API). External clients (qBittorrent, Transmission)
will implement it too. Everything above this line — guards, the seeding policy, the supervisor,
the fronts — is written against this Protocol only, so it never cares which one it holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from mamdl.engine.models import EngineEvent, SeedGoal, TorrentSnapshot


@runtime_checkable
class TorrentBackend(Protocol):
    """Add, control and observe torrents. Snapshots are plain data (`TorrentSnapshot`)."""

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
        """Add a torrent (raw .torrent bytes or a path); returns its v1 info-hash."""
        ...

    def pause(self, info_hash: str) -> TorrentSnapshot: ...

    def resume(self, info_hash: str) -> TorrentSnapshot: ...

    def finish(self, info_hash: str) -> TorrentSnapshot:
        """The seeding policy's stop: paused, data and record kept."""
        ...

    def remove(self, info_hash: str, delete_data: bool = False) -> None: ...

    def set_goal(self, info_hash: str, goal: SeedGoal) -> TorrentSnapshot: ...

    def snapshots(self) -> list[TorrentSnapshot]: ...

    def set_rate_limits(self, download_bps: int | None = None, upload_bps: int | None = None) -> None:
        """Session-wide rate limits in bytes/s, applied now (0 = unlimited, None = unchanged)."""
        ...

    def events(self, timeout: float | None = None) -> Iterator[EngineEvent]:
        """Events as they happen, until the backend closes or `timeout` passes without one."""
        ...

    def close(self) -> None: ...
