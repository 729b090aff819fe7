"""The local seeding policy: when has a torrent been seeded enough to stop?

Only the local view lives here (our own ratio and seed clock). MAM's own view (the user's snatch
summary) can lag or lead ours; checking it before stopping anything is the service layer's job.
Stopping means FINISHED: paused and kept on disk, never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable

from mamdl.engine.models import SeedGoal, TorrentSnapshot, TorrentState


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


def goals_met(snapshot: TorrentSnapshot) -> bool:
    r, t = goal_flags(snapshot.goal, ratio=snapshot.ratio, seeding_seconds=snapshot.seeding_seconds)
    return r and t


def torrents_to_stop(snapshots: Iterable[TorrentSnapshot]) -> list[str]:
    """Info-hashes of complete, seeding torrents whose goals are all met locally."""
    return [s.info_hash for s in snapshots if s.state == TorrentState.SEEDING and s.progress >= 1.0 and goals_met(s)]
