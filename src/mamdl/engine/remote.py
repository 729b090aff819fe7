"""Talk to the engine owned by another process, through the state database only.

`mam status` while the MCP server holds the engine reads the snapshots the owner writes every
second; `mam pause` queues a command the owner picks up within ~0.5 s. Nothing here imports
libtorrent, so it is cheap to use from a CLI.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from mamdl.engine.lock import LockHolder, default_command_label, live_holder
from mamdl.engine.models import SeedGoal, TorrentSnapshot
from mamdl.engine.store import Store, db_path
from mamdl.errors import EngineError


def read_status(state_dir: str | Path, *, include_removed: bool = False) -> list[TorrentSnapshot]:
    """Snapshots as last written by the engine; live fields (rates, peers, ETA) are zeroed when no
    engine is running on this state dir."""
    path = db_path(Path(state_dir))
    if not path.exists():
        return []
    live = live_holder(Path(state_dir)) is not None
    with Store(path) as store:
        return store.snapshots(live=live, include_removed=include_removed)


class EngineRemote:
    """The requester side of the command queue, with the same verbs as `Engine`."""

    def __init__(self, state_dir: str | Path, *, timeout: float = 30.0) -> None:
        self.state_dir = Path(state_dir)
        self.timeout = timeout
        self._store = Store(db_path(self.state_dir))
        self._requester = f"{default_command_label()} pid {os.getpid()}"

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> EngineRemote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def owner(self) -> LockHolder | None:
        return live_holder(self.state_dir)

    def snapshots(self, *, include_removed: bool = False) -> list[TorrentSnapshot]:
        return self._store.snapshots(live=self.owner() is not None, include_removed=include_removed)

    def snapshot(self, info_hash: str) -> TorrentSnapshot:
        snap = self._store.snapshot(info_hash, live=self.owner() is not None)
        if snap is None:
            raise EngineError(f"unknown torrent {info_hash}")
        return snap

    def _call(self, action: str, info_hash: str | None = None, **args: Any) -> Any:
        if self.owner() is None:
            raise EngineError(f"no download engine is running on {self.state_dir}")
        cid = self._store.submit_command(action, info_hash, args, requester=self._requester)
        cmd = self._store.wait_command(cid, self.timeout)
        if cmd.status == "failed":
            raise EngineError(cmd.error or f"the engine could not {action}")
        if cmd.status == "cancelled":
            raise EngineError(f"the {action!r} request was cancelled")
        return cmd.result

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
        return str(
            self._call(
                "add",
                torrent_b64=base64.b64encode(raw).decode("ascii"),
                save_path=str(Path(save_path).expanduser().absolute()),
                mam_id=mam_id,
                title=title,
                goal=goal.model_dump() if goal else None,
                paused=paused,
            )
        )

    def pause(self, info_hash: str) -> TorrentSnapshot:
        return TorrentSnapshot.model_validate(self._call("pause", info_hash))

    def resume(self, info_hash: str) -> TorrentSnapshot:
        return TorrentSnapshot.model_validate(self._call("resume", info_hash))

    def finish(self, info_hash: str) -> TorrentSnapshot:
        return TorrentSnapshot.model_validate(self._call("finish", info_hash))

    def remove(self, info_hash: str, delete_data: bool = False) -> None:
        self._call("remove", info_hash, delete_data=delete_data)

    def set_goal(self, info_hash: str, goal: SeedGoal) -> TorrentSnapshot:
        return TorrentSnapshot.model_validate(self._call("set_goal", info_hash, goal=goal.model_dump()))

    def set_limits(self, info_hash: str | None, download_bps: int | None = None, upload_bps: int | None = None) -> None:
        self._call("set_limits", info_hash, download_bps=download_bps, upload_bps=upload_bps)
