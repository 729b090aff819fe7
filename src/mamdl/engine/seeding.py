"""The local seeding policy: when has a torrent been seeded enough to stop?

Only the local view lives here (our own ratio and seed clock). MAM's own view (the user's snatch
summary) can lag or lead ours; checking it before stopping anything is the service layer's job.
Stopping means FINISHED: paused and kept on disk, never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable

from mamdl.engine.models import TorrentSnapshot, TorrentState, goal_flags, ratio_of

# ratio_of and goal_flags live beside TorrentSnapshot.build (their one user there); the policy's
# callers keep importing them from here.
__all__ = ["goal_flags", "goals_met", "ratio_of", "torrents_to_stop"]


def goals_met(snapshot: TorrentSnapshot) -> bool:
    r, t = goal_flags(snapshot.goal, ratio=snapshot.ratio, seeding_seconds=snapshot.seeding_seconds)
    return r and t


def torrents_to_stop(snapshots: Iterable[TorrentSnapshot]) -> list[str]:
    """Info-hashes of complete, seeding torrents whose goals are all met locally."""
    return [s.info_hash for s in snapshots if s.state == TorrentState.SEEDING and s.progress >= 1.0 and goals_met(s)]
