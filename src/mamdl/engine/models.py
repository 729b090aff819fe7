"""Plain data that crosses the engine boundary: states, goals, snapshots, events.

Nothing here imports libtorrent: the service layer, the CLI, the MCP server and other processes
reading the state database all work with these types only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAM_MIN_SEED_SECONDS = 72 * 3600
"""MAM: each download must be seeded 72 hours (within 30 days) or it becomes a hit-and-run."""


class TorrentState(str, Enum):
    QUEUED = "queued"
    """Waiting for a download slot (libtorrent's auto-manager holds it)."""
    CHECKING = "checking"
    DOWNLOADING = "downloading"
    PAUSED = "paused"
    """Paused by the user."""
    SEEDING = "seeding"
    FINISHED = "finished"
    """Seeding goals met and stopped by the policy: paused, data kept."""
    ERROR = "error"
    """Stopped on an error (disk full, unreadable files): paused, data kept, see `error`."""
    REMOVED = "removed"


# libtorrent's torrent_status.state_t values (checked against libtorrent in the tests), so that
# this module stays free of libtorrent.
LT_QUEUED_FOR_CHECKING = 0
LT_CHECKING_FILES = 1
LT_DOWNLOADING_METADATA = 2
LT_DOWNLOADING = 3
LT_FINISHED = 4
LT_SEEDING = 5
LT_ALLOCATING = 6
LT_CHECKING_RESUME_DATA = 7


def map_state(
    lt_state: int,
    *,
    paused: bool,
    auto_managed: bool,
    has_error: bool = False,
    stopped_by_policy: bool = False,
    removed: bool = False,
) -> TorrentState:
    """The one mapping from libtorrent's state and flags to ours. Order matters: removal, error
    and the policy stop win over whatever libtorrent reports; a paused auto-managed torrent is one
    libtorrent queued itself, a paused manual one is the user's."""
    if removed:
        return TorrentState.REMOVED
    if has_error:
        return TorrentState.ERROR
    if stopped_by_policy:
        return TorrentState.FINISHED
    if paused:
        return TorrentState.QUEUED if auto_managed else TorrentState.PAUSED
    if lt_state in (LT_QUEUED_FOR_CHECKING, LT_CHECKING_FILES, LT_CHECKING_RESUME_DATA, LT_ALLOCATING):
        return TorrentState.CHECKING
    if lt_state in (LT_FINISHED, LT_SEEDING):
        # mamdl always wants every file (MAM: no partial downloads), so "finished" means seeding.
        return TorrentState.SEEDING
    return TorrentState.DOWNLOADING


class SeedGoal(BaseModel):
    """When a torrent may stop seeding: ratio reached AND seeded long enough (both must hold)."""

    model_config = ConfigDict(frozen=True)

    ratio: float = Field(1.0, ge=0)
    """Uploaded ÷ size to reach; 0 means no ratio requirement."""
    seed_seconds: int = Field(MAM_MIN_SEED_SECONDS, ge=0)
    """Seconds of seeding to reach; MAM's 72 h by default so a download never becomes a hit-and-run."""


def ratio_of(uploaded: int, downloaded: int, total_size: int) -> float:
    """uploaded ÷ max(downloaded, size): a torrent re-verified from disk has downloaded nothing,
    and must not count as an infinite ratio."""
    base = max(downloaded, total_size)
    return uploaded / base if base > 0 else 0.0


def goal_flags(goal: SeedGoal, *, ratio: float, seeding_seconds: float) -> tuple[bool, bool]:
    """(ratio goal met, seed-time goal met)."""
    ratio_met = goal.ratio <= 0 or ratio + 1e-9 >= goal.ratio
    time_met = seeding_seconds >= goal.seed_seconds
    return ratio_met, time_met


_DERIVED = frozenset({"ratio", "ratio_goal_met", "seed_time_goal_met", "goal_met"})


class TorrentSnapshot(BaseModel):
    """Everything known about one torrent at one moment, as plain data.

    Every backend (the stored row, the live engine, an external client) builds it with `build`
    from raw figures, so the derived values (ratio, goal flags) are computed in one place.
    """

    info_hash: str
    name: str
    title: str | None = None
    mam_id: int | None = None
    state: TorrentState
    progress: float = Field(0.0, ge=0, le=1)
    download_rate: int = 0
    """Payload bytes per second."""
    upload_rate: int = 0
    peers: int = 0
    seeds: int = 0
    eta_seconds: int | None = None
    """None when unknown (stalled) or not downloading."""
    total_size: int = 0
    downloaded: int = 0
    """All-time payload bytes downloaded (persisted across restarts)."""
    uploaded: int = 0
    """All-time payload bytes uploaded (persisted across restarts)."""
    ratio: float = 0.0
    """uploaded ÷ max(downloaded, total_size): like the tracker's view of this torrent, and not
    infinite for a torrent whose data was already on disk."""
    seeding_seconds: int = 0
    save_path: str = ""
    error: str | None = None
    hash_failures: int = 0
    """Pieces that failed their hash check (a peer sent bad data); they are fetched again."""
    tracker_error: str | None = None
    """The last tracker failure, with the announce URL redacted."""
    tracker_ok: bool | None = None
    """The last announce: True accepted, False failed, None nothing answered yet (or no tracker)."""
    tracker_message: str | None = None
    tracker_at: float | None = None
    """When the last announce answer (or failure) came."""
    tracker_failures: int = 0
    """Announces failed in a row; seeding time is not counted while the tracker fails (MAM's
    clock only runs between accepted announces)."""
    goal: SeedGoal = Field(default_factory=SeedGoal)
    ratio_goal_met: bool = False
    seed_time_goal_met: bool = False
    goal_met: bool = False
    added_at: float | None = None
    finished_at: float | None = None
    """When the download completed (not when seeding stopped)."""
    updated_at: float = Field(default_factory=time.time)
    """When the engine produced this snapshot; readers in other processes judge staleness by it."""

    @classmethod
    def build(
        cls,
        *,
        goal: SeedGoal,
        total_size: int,
        downloaded: int,
        uploaded: int,
        seeding_seconds: int,
        progress: float,
        **raw: Any,
    ) -> TorrentSnapshot:
        """A snapshot from a backend's raw figures. Why a builder: three backends used to compute
        ratio and the goal flags each on their own, and a fix to one would silently miss the
        others. The derived fields are refused here (a caller passing its own `goal_met` would
        bring the copies back), and so are names that are not fields (pydantic would drop a typo)."""
        bad = sorted(_DERIVED & raw.keys())
        if bad:
            raise TypeError(f"TorrentSnapshot.build derives {', '.join(bad)}; do not pass them")
        unknown = sorted(raw.keys() - cls.model_fields.keys())
        if unknown:
            raise TypeError(f"TorrentSnapshot.build: no such field(s): {', '.join(unknown)}")
        ratio = ratio_of(uploaded, downloaded, total_size)
        ratio_met, time_met = goal_flags(goal, ratio=ratio, seeding_seconds=seeding_seconds)
        if raw.get("state", TorrentState.DOWNLOADING) != TorrentState.DOWNLOADING:
            # Backends average rates over seconds, so a torrent that just finished would go on
            # showing its last download speed while it seeds; only a download has one.
            raw["download_rate"], raw["eta_seconds"] = 0, None
        return cls(
            goal=goal,
            total_size=total_size,
            downloaded=downloaded,
            uploaded=uploaded,
            seeding_seconds=seeding_seconds,
            progress=min(max(progress, 0.0), 1.0),
            ratio=ratio,
            ratio_goal_met=ratio_met,
            seed_time_goal_met=time_met,
            goal_met=ratio_met and time_met,
            **raw,
        )

    @property
    def done(self) -> bool:
        return self.progress >= 1.0 and self.state in (TorrentState.SEEDING, TorrentState.FINISHED)


@dataclass(frozen=True)
class EngineEvent:
    """Something happened to a torrent (`kind`: added, progress, state, finished, hash_failed,
    error or removed)."""

    kind: str
    info_hash: str
    message: str = ""
    snapshot: TorrentSnapshot | None = None
