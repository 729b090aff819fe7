"""The decision point (may this torrent stop?) and the admission point (may this download start?)
against the sandbox, with the engine's state database written directly (no libtorrent needed:
the service reads the store when no engine runs)."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from mamdl.errors import GuardRefused
from mamdl.service.safety import is_mam_tracker, mam_id_from_comment

H72 = 72 * 3600


@pytest.fixture
def sb(sandbox_env, monkeypatch):
    monkeypatch.setenv("MAMDL_SNATCH_REFRESH_SECONDS", "0")
    return sandbox_env


def _service():
    from mamdl.service import Service

    return Service()


def _put(svc, sb, tid: int, *, mam_id: int | None = None, announce: str | None = None, comment: str | None = None,
         seeded: int = 0, goal: int = H72, name: str | None = None) -> str:  # fmt: skip
    """Record torrent `tid` in the state database as the engine would after a download."""
    from mamdl.engine import Store, parse_torrent
    from mamdl.engine.models import TorrentState
    from mamdl.engine.store import TorrentRecord, db_path
    from mamdl.sandbox.payloads import with_announce

    raw = sb.torrent_bytes(tid)
    if announce is not None or comment is not None:
        raw = with_announce(raw, announce or sb.announce_url, comment=comment if comment is not None else "")
    tf = parse_torrent(raw)
    rec = TorrentRecord(
        info_hash=tf.info_hash,
        name=name or tf.name,
        save_path="/nonexistent",
        state=TorrentState.SEEDING,
        ratio_goal=0.0,
        seed_seconds_goal=goal,
        added_at=time.time(),
        mam_id=mam_id,
        seeding_seconds=seeded,
        total_size=tf.total_size,
        progress=1.0,
    )
    with Store(db_path(svc.settings.paths.state_dir)) as store:
        store.add_torrent(rec, raw)
    return tf.info_hash


def _tids(sb, n: int) -> list[int]:
    return [e.id for e in sb.catalogue.entries][:n]


def test_tracker_host_decides_what_is_a_mam_torrent():
    base = "http://127.0.0.1:4567"
    assert is_mam_tracker("https://t.myanonamouse.net/tracker.php/abc/announce", "https://www.myanonamouse.net")
    assert is_mam_tracker("http://127.0.0.1:4567/announce?passkey=x", base)
    assert not is_mam_tracker("http://127.0.0.1:4568/announce", base)
    assert not is_mam_tracker("https://tracker.example.org/announce", "https://www.myanonamouse.net")
    assert not is_mam_tracker("https://myanonamouse.net.evil.example/announce", "https://www.myanonamouse.net")
    assert mam_id_from_comment("https://www.myanonamouse.net/t/12345", "https://www.myanonamouse.net") == 12345
    assert mam_id_from_comment("https://other.example/t/12345", "https://www.myanonamouse.net") is None


def test_unsatisfied_on_mam_is_refused_with_mams_seed_time_to_go(sb):
    """Sabotage caught: trusting the local clock (the torrent has seeded 100 h here) over MAM's row."""
    (tid,) = _tids(sb, 1)
    sb.add_snatch(tid, age=60, seeded=1)
    with _service() as svc:
        h = _put(svc, sb, tid, mam_id=tid, seeded=100 * 3600)
        d = svc.may_stop(h)
        assert not d.allowed and "unsatisfied" in d.reason and "more" in d.reason
        assert d.mam_row is not None and d.mam_row.seed_time_to_go and d.mam_row.seed_time_to_go <= 5
        sb.add_snatch(tid, age=60, seeded=100)  # MAM now counts it satisfied
        d = svc.may_stop(h)
        assert d.allowed and "satisfied" in d.reason


def test_count_comparison_cannot_be_fooled_by_an_old_satisfied_snatch(sb):
    """Reproduction 3. A is an old snatch MAM counts satisfied, re-downloaded (0 s seeded here);
    B is new and unsatisfied on MAM but has a zero goal here. Counting (1 unsatisfied here, 1 on
    MAM) called B removable. Sabotage caught: any return to comparing counts."""
    a, b = _tids(sb, 2)
    sb.add_snatch(a, age=86400, seeded=10**6)
    sb.add_snatch(b, age=60, seeded=0)
    with _service() as svc:
        ha = _put(svc, sb, a, mam_id=a, seeded=0)
        hb = _put(svc, sb, b, mam_id=b, seeded=3600, goal=0)
        decisions = svc.may_stop_many([ha, hb])
        assert decisions[ha].allowed and not decisions[hb].allowed
        rows = {r.info_hash: r for r in svc.status(with_mam=True)}
        assert rows[ha].mam_satisfied is True and rows[hb].mam_satisfied is False
        assert rows[hb].mam_seed_time_to_go and rows[ha].mam_seed_time_to_go is None
        with pytest.raises(GuardRefused, match="unsatisfied"):
            svc.remove(hb)


def test_mam_torrent_from_a_file_gets_its_id_or_counts_unsatisfied(sb):
    """Reproduction 1 (decision half). Sabotage caught: "not a MAM torrent" for a MAM torrent
    that has no recorded id (the old rule keyed on the recorded id)."""
    a, b = _tids(sb, 2)
    sb.add_snatch(a, age=60, seeded=0)
    sb.add_snatch(b, age=60, seeded=10**6)
    with _service() as svc:
        from_comment = _put(svc, sb, a)  # the sandbox's .torrent names its page: /t/<id>
        assert not svc.may_stop(from_comment).allowed
        # No comment; a satisfied snatch of the same size and title in MAM's lists identifies it.
        by_list = _put(svc, sb, b, comment="", name=sb.catalogue.get(b).title)
        entry = sb.catalogue.get(b)
        sb.sizes[b] = next(r.total_size for r in svc.status() if r.info_hash == by_list)
        d = svc.may_stop(by_list)
        assert d.allowed and d.mam_id == b, d.reason
        sb.sizes[b] = entry.size_bytes
        # Nothing identifies it: unsatisfied until proven otherwise.
        d = svc.may_stop(by_list)
        assert not d.allowed and "id is unknown" in d.reason


def test_not_a_mam_torrent_by_tracker_host_even_with_an_id_recorded(sb):
    (tid,) = _tids(sb, 1)
    sb.add_snatch(tid, age=60, seeded=0)
    with _service() as svc:
        h = _put(svc, sb, tid, mam_id=tid, announce="http://tracker.example.org/announce", comment="")
        d = svc.may_stop(h)
        assert d.allowed and not d.is_mam and "not a MAM torrent" in d.reason


def test_missing_or_unreadable_answer_means_no(sb):
    """Reproduction 5 (decision half). Sabotage caught: an error answer read as an empty list."""
    (tid,) = _tids(sb, 1)
    sb.add_snatch(tid, age=60, seeded=10**6)
    with _service() as svc:
        h = _put(svc, sb, tid, mam_id=tid)
        assert svc.may_stop(h).allowed
        sb.add_fault("status", status=200, path="/json/loadUserDetailsTorrents.php", body="{}", count=-1)
        d = svc.may_stop(h)
        assert not d.allowed and "could not be read" in d.reason
        sb.clear_faults()
        sb.add_fault("status", status=503, path="/json/loadUserDetailsTorrents.php", count=-1)
        d = svc.may_stop(h)
        assert not d.allowed and "could not be read" in d.reason


def test_admission_refuses_when_the_summary_is_missing_unless_forced(sb):
    """Reproduction 5 (admission half): "not checked" used to let the download start."""
    body = '{"username": "sandbox_reader", "uid": 214748, "classname": "User", "wedges": 0}'
    sb.add_fault("status", status=200, path="/jsonLoad.php", body=body, count=-1)
    with _service() as svc, svc.admission():
        with pytest.raises(GuardRefused, match="no snatch summary"):
            svc.admit(key="tid:1", tid=1, already_snatched=False, force=False)
        assert svc.admit(key="tid:1", tid=1, already_snatched=False, force=True).forced


def test_goal_floor_and_goals_survive_a_re_add(sb):
    """Reproduction 7 (goals). Sabotage caught: a 0.005 h goal accepted for a MAM torrent; a
    re-add putting the default goal back over a longer one."""
    from mamdl.engine import SeedGoal

    (tid,) = _tids(sb, 1)
    with _service() as svc:
        with pytest.raises(GuardRefused, match="below MAM's 72 h"):
            svc.check_goal(SeedGoal(seed_seconds=18), is_mam=True, force=False)
        svc.check_goal(SeedGoal(seed_seconds=18), is_mam=False, force=False)
        svc.check_goal(SeedGoal(seed_seconds=18), is_mam=True, force=True)
        h = _put(svc, sb, tid, mam_id=tid, goal=200 * 3600)
        kept = svc.goal_for(h, SeedGoal())
        assert kept.seed_seconds == 200 * 3600


def _admit_in_child(home: str, env: dict, tid: int, start: float, out) -> None:
    os.environ.update(env)
    os.environ["MAMDL_HOME"] = home
    from mamdl.errors import GuardRefused
    from mamdl.service import Service

    while time.time() < start:
        time.sleep(0.005)
    with Service() as svc:
        try:
            with svc.admission():
                svc.admit(key=f"tid:{tid}", tid=tid, already_snatched=False, force=False)
            out.put((tid, True))
        except GuardRefused:
            out.put((tid, False))


def test_four_processes_racing_for_one_free_slot_admit_exactly_one(sb, isolated_home):
    """Reproduction 4 (admission, process level): four processes start together against one
    free slot. Sabotage caught: reading MAM's count outside the lock, or not counting admissions
    MAM does not list yet (then all four pass: MAM counts none of them)."""
    sb.set_user(unsat_limit=6)  # reserve 5: one slot
    env = {k: v for k, v in os.environ.items() if k.startswith(("MAM", "MAMDL"))}
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start = time.time() + 3
    procs = [
        ctx.Process(target=_admit_in_child, args=(str(isolated_home), env, tid, start, out)) for tid in _tids(sb, 4)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert sum(ok for _, ok in results) == 1, results
    assert len(Path(isolated_home, "admissions.json").read_text()) > 2


def test_a_download_that_never_starts_gives_its_slot_back(sb, tmp_path):
    """The admission is withdrawn when the add fails (here: the download folder is a file).
    Sabotage caught: a failed `mam get` holding the one free slot for a day."""
    from mamdl.errors import MamdlError

    sb.set_user(unsat_limit=6)  # reserve 5: one slot
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    a, b = _tids(sb, 2)
    with _service() as svc:
        with pytest.raises(MamdlError):
            svc.get(a, download=True, dest=blocker / "sub")
        with svc.admission():
            assert svc.admit(key=f"tid:{b}", tid=b, already_snatched=False, force=False).allowed


def test_mcp_status_carries_mams_seed_time_to_go(sb):
    """MCP's `get_progress with_mam=true` shows the decision point's answer and MAM's seed time to
    go. Sabotage caught: the MCP front computing its own view (or none)."""
    import anyio
    from mcp import Client

    from mamdl.mcp_server import build_server

    (tid,) = _tids(sb, 1)
    sb.add_snatch(tid, age=60, seeded=1)
    with _service() as svc:
        h = _put(svc, sb, tid, mam_id=tid)

        async def main() -> dict:
            async with Client(build_server(svc)) as client:
                r = await client.call_tool("get_progress", {"info_hash": h[:10], "with_mam": True})
                assert not r.is_error
                return r.structured_content["torrents"][0]

        row = anyio.run(main)
    assert row["mam_satisfied"] is False and 0 < row["mam_seed_time_to_go"] <= 5
    assert "unsatisfied" in row["mam_reason"]
