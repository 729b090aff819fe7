"""The supervisor's hit-and-run risk detection and the download-completed hook, on plain
statuses with a fake clock (no swarm needed: these are decisions, not I/O)."""

from __future__ import annotations

import time

from mamdl.service import Service
from mamdl.service.models import TorrentStatus
from mamdl.service.supervisor import MAM_WINDOW_SECONDS, Supervisor, classify_session_error

H = "ab" * 20


def _row(**kw) -> TorrentStatus:
    base = dict(
        info_hash=H,
        name="Book",
        mam_id=7,
        state="seeding",
        progress=1.0,
        download_rate=0,
        upload_rate=0,
        peers=1,
        seeds=0,
        total_size=100,
        downloaded=100,
        uploaded=0,
        ratio=0.0,
        ratio_goal=1.0,
        seeding_seconds=3600,
        seed_seconds_goal=72 * 3600,
        goal_met=False,
        save_path="/tmp/x",
        added_at=time.time(),
    )
    base.update(kw)
    return TorrentStatus(**base)


def _sup() -> Supervisor:
    return Supervisor(Service())


def test_paused_errored_stalled_and_out_of_window_are_risks():
    """Sabotage caught: dropping any one of the four risk rules (its row is then not flagged)."""
    sup = _sup()
    now = time.time()
    sup._hit_and_run_risks([_row(state="paused")], now)
    assert "paused" in sup.risks[H]
    sup._hit_and_run_risks([_row(state="error", error="disk full")], now)
    assert "error" in sup.risks[H]
    sup._hit_and_run_risks([_row(peers=0)], now)
    assert H not in sup.risks  # not stalled yet
    sup._hit_and_run_risks([_row(peers=0)], now + sup.svc.settings.stall_seconds + 1)
    assert "no connectable peers" in sup.risks[H]
    late = now - MAM_WINDOW_SECONDS + 3600  # one hour of the window left, 71 h of seeding to go
    sup._hit_and_run_risks([_row(added_at=late)], now)
    assert "30-day window" in sup.risks[H]


def test_satisfied_finished_and_non_mam_torrents_are_not_risks():
    """Sabotage caught: flagging torrents that cannot become a hit-and-run (noise notifications)."""
    sup = _sup()
    now = time.time()
    rows = [
        _row(state="paused", seeding_seconds=72 * 3600),
        _row(info_hash="cd" * 20, state="paused", mam_id=None),
        _row(info_hash="ef" * 20, state="finished"),
    ]
    sup._hit_and_run_risks(rows, now)
    assert sup.risks == {}


def test_completion_hook_runs_once_per_torrent_across_restarts():
    """Sabotage caught: hooks (library placement) run again each pass or after a restart."""
    seen: list[str] = []
    sup = _sup()
    sup.add_completion_hook(lambda s: seen.append(s.info_hash))
    sup._completions([_row(), _row(info_hash="cd" * 20, progress=0.5, state="downloading")])
    sup._completions([_row()])
    again = _sup()  # a restarted service: same state dir
    again.add_completion_hook(lambda s: seen.append(s.info_hash))
    again._completions([_row()])
    assert seen == [H]


def test_session_errors_are_classified():
    """Sabotage caught: an IP/ASN lock reported as a dead cookie (the advice would be wrong)."""
    from mamdl.errors import SessionLocked

    assert classify_session_error(SessionLocked("HTTP 401")) == "ip_lock"
    assert classify_session_error(Exception("ip 10.1.2.3 does not match account")) == "ip_lock"
    assert classify_session_error(Exception("MAM did not accept the session cookie (HTTP 403)")) == "dead"


def test_an_unreachable_mam_is_not_asked_every_pass(monkeypatch):
    """Sabotage caught: retrying the account check on every pass (every 30 s, each with retries)
    while MAM is down. The test home points at 127.0.0.1:9, where nothing answers."""
    monkeypatch.setenv("MAMDL_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("MAMDL_RETRY_BUDGET_SECONDS", "0")
    clock = [1_000_000.0]
    sup = Supervisor(Service(), clock=lambda: clock[0])
    sup.tick()
    assert sup.session_state == "unknown"
    first = sup._next_snatch
    assert first >= clock[0] + 60
    clock[0] += 31  # the next pass
    sup.tick()
    assert sup._next_snatch == first  # not asked again yet
