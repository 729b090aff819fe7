"""The download engine: the only part of mamdl that imports libtorrent.

Everything crossing this package's boundary is plain data. Importing `mamdl.engine` is cheap:
libtorrent is loaded only when `Engine` (or the settings translation) is first used, so readers
such as `mam status` (`read_status`) never pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamdl.engine.lock import LockHolder, live_holder
from mamdl.engine.models import MAM_MIN_SEED_SECONDS, EngineEvent, SeedGoal, TorrentSnapshot, TorrentState, map_state
from mamdl.engine.saved import read_goal, read_status, read_torrent_file
from mamdl.engine.savedir import check_save_dir
from mamdl.engine.seeding import goals_met, torrents_to_stop
from mamdl.engine.settings import EngineConfig
from mamdl.engine.store import Store
from mamdl.engine.torrentfile import TorrentFile, load_torrent, parse_torrent, redact_announce

if TYPE_CHECKING:
    from mamdl.engine.engine import Engine

__all__ = [
    "MAM_MIN_SEED_SECONDS",
    "Engine",
    "EngineConfig",
    "EngineEvent",
    "LockHolder",
    "SeedGoal",
    "Store",
    "TorrentFile",
    "TorrentSnapshot",
    "TorrentState",
    "check_save_dir",
    "goals_met",
    "live_holder",
    "load_torrent",
    "map_state",
    "parse_torrent",
    "read_goal",
    "read_status",
    "read_torrent_file",
    "redact_announce",
    "torrents_to_stop",
]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from mamdl.engine.engine import Engine

        return Engine
    raise AttributeError(f"module 'mamdl.engine' has no attribute {name!r}")
