"""The figures the engine last saved, for a process that does not own it (`mam status` with no
service running). Nothing here imports libtorrent, so it is cheap to use from a CLI.
"""

from __future__ import annotations

from pathlib import Path

from mamdl.engine.lock import live_holder
from mamdl.engine.models import SeedGoal, TorrentSnapshot
from mamdl.engine.store import Store, db_path


def read_status(state_dir: str | Path, *, include_removed: bool = False) -> list[TorrentSnapshot]:
    """Snapshots as last written by the engine; live fields (rates, peers, ETA) are zeroed when no
    engine is running on this state dir."""
    path = db_path(Path(state_dir))
    if not path.exists():
        return []
    live = live_holder(Path(state_dir)) is not None
    with Store(path) as store:
        return store.snapshots(live=live, include_removed=include_removed)


def read_torrent_file(state_dir: str | Path, info_hash: str) -> bytes | None:
    """The stored .torrent of a torrent (None once removed): its tracker host tells the service
    whether MAM's hit-and-run rules apply to it."""
    path = db_path(Path(state_dir))
    if not path.exists():
        return None
    with Store(path) as store:
        return store.torrent_bytes(info_hash)


def read_goal(state_dir: str | Path, info_hash: str) -> SeedGoal | None:
    """The goal last recorded for a torrent, removed ones included (goals survive a re-add)."""
    path = db_path(Path(state_dir))
    if not path.exists():
        return None
    with Store(path) as store:
        return store.goal_of(info_hash)
