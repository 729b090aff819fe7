"""One snapshot model: `TorrentSnapshot.build` derives ratio and the goal flags for every backend."""

from __future__ import annotations

import pytest

from mamdl.engine.models import SeedGoal, TorrentSnapshot, TorrentState
from mamdl.service.models import TorrentStatus


def _build(**kw) -> TorrentSnapshot:
    raw = dict(
        goal=SeedGoal(ratio=1.0, seed_seconds=100),
        total_size=1000,
        downloaded=800,
        uploaded=1500,
        seeding_seconds=50,
        progress=1.2,
        info_hash="a" * 40,
        name="book",
        state=TorrentState.SEEDING,
    )
    raw.update(kw)
    return TorrentSnapshot.build(**raw)


def test_build_derives_ratio_and_each_goal_flag() -> None:
    """Sabotage caught: goal_met computed as `ratio_met or time_met` (or the ratio from
    `downloaded` alone) in the builder."""
    s = _build()
    assert s.ratio == 1.5  # over max(downloaded, size), not downloaded alone
    assert s.progress == 1.0  # clamped
    assert (s.ratio_goal_met, s.seed_time_goal_met, s.goal_met) == (True, False, False)
    s = _build(seeding_seconds=100)
    assert (s.ratio_goal_met, s.seed_time_goal_met, s.goal_met) == (True, True, True)
    s = _build(uploaded=999, seeding_seconds=100)
    assert (s.ratio_goal_met, s.seed_time_goal_met, s.goal_met) == (False, True, False)


def test_build_refuses_derived_and_unknown_fields() -> None:
    """Sabotage caught: dropping the builder's checks, so a caller could pass its own `goal_met`
    (a second copy of the rule) or a misspelt field pydantic would silently ignore."""
    with pytest.raises(TypeError, match="derives goal_met"):
        _build(goal_met=True)
    with pytest.raises(TypeError, match="derives ratio"):
        _build(ratio=9.0)
    with pytest.raises(TypeError, match="no such field.*peerz"):
        _build(peerz=3)


def test_status_from_snapshot_carries_every_shared_field() -> None:
    """Sabotage caught: `from_snapshot` leaving out a shared field (e.g. tracker_failures) or
    the goal's renamed fields, or not rounding."""
    s = _build(
        uploaded=1000,
        total_size=3000,
        title="T",
        mam_id=7,
        download_rate=5,
        upload_rate=6,
        peers=2,
        seeds=1,
        eta_seconds=9,
        save_path="/x",
        error="e",
        hash_failures=3,
        tracker_ok=False,
        tracker_error="tracker: down",
        tracker_failures=4,
        added_at=1.0,
        finished_at=2.0,
    )
    st = TorrentStatus.from_snapshot(s)
    shared = TorrentStatus.model_fields.keys() & TorrentSnapshot.model_fields.keys()
    for name in shared - {"state", "progress", "ratio"}:
        assert getattr(st, name) == getattr(s, name), name
    assert st.state == "seeding" and st.progress == 1.0 and st.ratio == 0.333
    assert (st.ratio_goal, st.seed_seconds_goal) == (1.0, 100)
    assert st.tracker_failures == 4 and st.tracker_ok is False and st.hash_failures == 3


def test_only_a_downloading_torrent_shows_a_download_rate() -> None:
    """Sabotage caught: the builder passing a backend's averaged download rate through for a
    torrent that already seeds (libtorrent and the clients decay it over seconds, so the table
    showed a seeding book still "downloading" at its last speed)."""
    s = _build(state=TorrentState.SEEDING, download_rate=9_000_000, upload_rate=7, eta_seconds=3)
    assert (s.download_rate, s.eta_seconds, s.upload_rate) == (0, None, 7)
    s = _build(state=TorrentState.DOWNLOADING, progress=0.5, download_rate=9_000_000, eta_seconds=3)
    assert (s.download_rate, s.eta_seconds) == (9_000_000, 3)
