"""Issue 18's seven reproductions, each against the sandbox through the fronts (CLI processes, MCP
tools), racing real processes where the bug was a race. Each failed on the code before the
decision point / admission point existed; the docstrings say what each one catches."""

from __future__ import annotations

import json
import os
import subprocess
import time

import anyio
import pytest

from tests.cli.conftest import MAM

pytestmark = pytest.mark.slow

TITLES = ("dune", "the hobbit", "frankenstein", "the metamorphosis")


def _tid(mam, title: str) -> int:
    return json.loads(mam("search", "-t", title, "--best", "--json").stdout)[0]["id"]


def _status(mam, *args: str) -> list[dict]:
    p = mam("status", "--json", *args)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _in_a_terminal(cmd: list[str], *, answer: bytes) -> subprocess.CompletedProcess:
    """Run `cmd` with a pseudo-terminal as stdin (so it may ask) and type `answer`."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.close(slave)
        os.write(master, answer)
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _unsat_ids(sb) -> set[int]:
    return {s["tid"] for s in sb.state_snapshot()["snatches"] if not s["satisfied"]}


def test_1_download_of_a_fetched_mam_torrent_is_admitted_once_and_not_removable(make_swarm, mam, tmp_path):
    """`mam download FILE` of a MAM torrent recorded no MAM id: removal said "not a MAM torrent",
    and four one-at-a-time downloads passed one free slot. Catches: deciding MAM-ness by the
    recorded id, and a download path that skips the admission point."""
    sb = make_swarm(satisfy_seconds=3600, snatch_refresh="0")
    files = []
    for title in TITLES:
        p = mam("fetch", str(_tid(mam, title)), "--json")
        assert p.returncode == 0, p.stderr
        files.append(json.loads(p.stdout)["path"])
    sb.set_user(unsat_limit=6)  # reserve 5: one free slot
    first = mam("download", files[0], "--to", str(tmp_path / "d"), timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    for f in files[1:]:
        refused = mam("download", f, "--to", str(tmp_path / "d"))
        assert refused.returncode == 3 and "limit is 6" in refused.stderr, refused.stderr
    rows = _status(mam)
    assert len(rows) == 1 and rows[0]["mam_id"] == _tid(mam, TITLES[0])
    removal = mam("remove", rows[0]["info_hash"][:10])
    assert removal.returncode == 3 and "unsatisfied" in removal.stderr and "not a MAM" not in removal.stderr
    assert _status(mam)[0]["mam_id"] in _unsat_ids(sb)


def test_2_seed_loop_never_stops_on_a_stale_count(make_swarm, mam, tmp_path):
    """`mam seed` stopped a torrent with a goal under 72 h on a snatch count read before the
    download existed (0 unsatisfied, cached). Catches: any stop decided from cached counts."""
    sb = make_swarm(satisfy_seconds=3600, snatch_refresh="300")
    assert json.loads(mam("user", "--json", "--refresh").stdout)["unsatisfied"] == 0  # the stale count
    tid = _tid(mam, "dune")
    p = mam(
        "get", str(tid), "--download", "--ratio", "0", "--seed-hours", "0", "--force", "--to", str(tmp_path / "d"),
        timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    seeder = subprocess.Popen([MAM, "seed"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(8)  # four policy passes at least
        assert seeder.poll() is None, seeder.communicate()
        assert _status(mam)[0]["state"] == "seeding" and tid in _unsat_ids(sb)
    finally:
        seeder.terminate()
        seeder.communicate(timeout=30)
    # Once MAM itself counts it satisfied the loop stops it, and exits.
    sb.configure(satisfy_seconds=2)
    env = dict(os.environ, MAMDL_SNATCH_REFRESH_SECONDS="1")
    done = subprocess.run([MAM, "seed"], capture_output=True, text=True, env=env, timeout=90)
    assert done.returncode == 0, done.stderr
    assert _status(mam)[0]["state"] == "finished" and tid not in _unsat_ids(sb)


def test_3_an_old_satisfied_snatch_cannot_cover_for_a_new_one(make_swarm, mam, tmp_path):
    """One old satisfied snatch re-downloaded beside a new unsatisfied one: counts (1 here, 1 on
    MAM) made `status --mam` and `remove` (CLI, and MCP set_goal hours=0 + remove) pick the wrong
    one. Catches: any decision from bucket counts instead of MAM's per-torrent list."""
    from mcp import Client

    from mamdl.cli.common import make_service
    from mamdl.mcp_server import build_server

    sb = make_swarm(satisfy_seconds=3600, snatch_refresh="0")
    old, new = _tid(mam, "the hobbit"), _tid(mam, "dune")
    sb.add_snatch(old, age=10 * 86400, seeded=10**6, active=False)
    assert mam("get", str(old), "--download", "--to", str(tmp_path / "d"), timeout=120).returncode == 0
    p = mam("get", str(new), "--download", "--seed-hours", "0", "--force", "--to", str(tmp_path / "d"), timeout=120)
    assert p.returncode == 0, p.stderr
    rows = {r["mam_id"]: r for r in _status(mam, "--mam")}
    assert rows[old]["mam_satisfied"] is True and rows[new]["mam_satisfied"] is False
    assert rows[new]["mam_seed_time_to_go"] > 3000 and rows[old]["mam_seed_time_to_go"] is None
    h_new, h_old = rows[new]["info_hash"], rows[old]["info_hash"]
    refused = mam("remove", h_new[:10])
    assert refused.returncode == 3 and "unsatisfied" in refused.stderr

    async def mcp_tries() -> None:
        with make_service() as svc:
            async with Client(build_server(svc)) as client:
                goal = await client.call_tool("manage_seeding", {"info_hash": h_new, "action": "set_goal", "hours": 0})
                assert goal.is_error and "72 h" in goal.content[0].text
                rm = await client.call_tool("manage_seeding", {"info_hash": h_new, "action": "remove"})
                assert rm.is_error and "unsatisfied" in rm.content[0].text

    anyio.run(mcp_tries)
    assert new in _unsat_ids(sb) and h_new in {r["info_hash"] for r in _status(mam)}
    assert mam("remove", h_old[:10]).returncode == 0  # MAM lists the old one satisfied


def test_4a_four_parallel_cli_downloads_one_free_slot_admit_exactly_one(make_swarm, mam, tmp_path):
    """Four parallel `mam get --download` with one free slot started three. Catches: a check
    outside a cross-process critical section, or admissions MAM does not list yet not counted."""
    sb = make_swarm(satisfy_seconds=3600, snatch_refresh="0")
    tids = [_tid(mam, t) for t in TITLES]
    sb.set_user(unsat_limit=6)
    procs = [
        subprocess.Popen(
            [MAM, "get", str(tid), "--download", "--json", "--to", str(tmp_path / f"d{tid}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tid in tids
    ]
    codes = [p.wait(120) for p in procs]
    outs = [p.communicate() for p in procs]
    assert sorted(codes) == [0, 3, 3, 3], (codes, outs)
    assert len(_status(mam)) == 1


def test_4b_a_batch_of_mcp_downloads_admits_exactly_one(make_swarm, mam):
    """Two MCP `download_torrent` calls in one batch both passed. Catches the same as 4a, in one
    process with concurrent tool calls."""
    from mcp import Client

    from mamdl.cli.common import make_service
    from mamdl.mcp_server import build_server

    sb = make_swarm(satisfy_seconds=3600, snatch_refresh="0")
    tids = [_tid(mam, t) for t in TITLES[:3]]
    sb.set_user(unsat_limit=6)
    results: list = []

    async def main() -> None:
        with make_service() as svc:
            async with Client(build_server(svc)) as client:

                async def one(tid: int) -> None:
                    r = await client.call_tool("download_torrent", {"torrent_id": tid, "download_content": True})
                    results.append(r)

                async with anyio.create_task_group() as tg:
                    for tid in tids:
                        tg.start_soon(one, tid)

    anyio.run(main)
    ok = [r for r in results if not r.is_error]
    assert len(ok) == 1, [r.content[0].text for r in results if r.is_error]
    assert all("limit is 6" in r.content[0].text for r in results if r.is_error)


def test_4c_three_parallel_wedge_always_spend_one_wedge(make_swarm, mam):
    """Three parallel `--wedge always` on one torrent spent three wedges. Catches: deciding the
    wedge outside the critical section, or recording it only after the request."""
    sb = make_swarm(satisfy_seconds=3600, snatch_refresh="0")
    tid = _tid(mam, "dune")
    procs = [
        subprocess.Popen([MAM, "get", str(tid), "--wedge", "always"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    assert [p.wait(120) for p in procs] == [0, 0, 0]
    assert len(sb.wedge_spends()) == 1


def test_5_missing_snatch_summary_refuses_unless_forced(make_swarm, mam, tmp_path):
    """MAM's answer without the snatch summary used to mean "not checked" and the download
    started. Catches: failing open on a missing summary."""
    sb = make_swarm(satisfy_seconds=3600, snatch_refresh="0")
    tid = _tid(mam, "dune")
    body = json.dumps({"username": "sandbox_reader", "uid": 214748, "classname": "User", "wedges": 2})
    sb.add_fault("status", status=200, path="/jsonLoad.php", body=body, count=-1)
    refused = mam("get", str(tid), "--download", "--to", str(tmp_path / "d"))
    assert refused.returncode == 3 and "no snatch summary" in refused.stderr
    assert not (tmp_path / "d").exists()
    forced = mam("get", str(tid), "--download", "--force", "--to", str(tmp_path / "d"), timeout=120)
    assert forced.returncode == 0, forced.stderr


def test_6_seeding_time_stops_while_the_tracker_fails_and_status_shows_the_risk(make_swarm, mam, tmp_path):
    """Seeding time counted while the tracker was dead, and nothing showed it. Catches: crediting
    seed time without accepted announces; a hit-and-run risk missing from status and from
    `Service.hit_and_run_risks()` (what the supervisor raises)."""
    from mamdl.cli.common import make_service

    sb = make_swarm(satisfy_seconds=3600, snatch_refresh="0")
    tid = _tid(mam, "dune")
    seeder = subprocess.Popen(
        [MAM, "get", str(tid), "--download", "--seed", "--to", str(tmp_path / "d")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ((rows := _status(mam)) and rows[0]["seeding_seconds"] >= 2):
            assert time.monotonic() < deadline and seeder.poll() is None
            time.sleep(0.5)
        sb.add_fault("status", status=503, path="/announce", count=-1)
        while not ((rows := _status(mam)) and rows[0]["tracker_failures"] >= 3):
            assert time.monotonic() < deadline + 60 and seeder.poll() is None
            time.sleep(0.5)
        frozen = rows[0]["seeding_seconds"]
        time.sleep(4)
        row = _status(mam)[0]
        assert row["tracker_ok"] is False and row["seeding_seconds"] <= frozen + 1
        assert row["hnr_risk"] and "hit-and-run risk" in " ".join(row["warnings"])
        assert "H&R risk" in mam("status", env=dict(os.environ, COLUMNS="200")).stdout
        with make_service() as svc:
            assert [r.info_hash for r in svc.hit_and_run_risks()] == [row["info_hash"]]
        sb.clear_faults()
        while not (row := _status(mam)[0])["tracker_ok"]:
            assert time.monotonic() < deadline + 120
            time.sleep(0.5)
        time.sleep(3)
        assert _status(mam)[0]["seeding_seconds"] > frozen + 1 and not _status(mam)[0]["hnr_risk"]
    finally:
        seeder.terminate()
        seeder.communicate(timeout=30)


def test_7_goal_floor_goals_survive_confirmation_and_pause_warning(make_swarm, mam, tmp_path):
    """A 0.005 h goal accepted silently; a re-add reset goals; `remove --delete-data` deleted
    without asking (then said "Use --force"); pausing an unsatisfied torrent said nothing.
    Catches each of those."""
    make_swarm(satisfy_seconds=3600, snatch_refresh="0")
    tid = _tid(mam, "dune")
    low = mam("get", str(tid), "--download", "--seed-hours", "0.005", "--to", str(tmp_path / "d"))
    assert low.returncode == 3 and "72 h" in low.stderr and not (tmp_path / "d").exists()
    p = mam("get", str(tid), "--download", "--seed-hours", "100", "--to", str(tmp_path / "d"), timeout=120)
    assert p.returncode == 0, p.stderr
    again = mam("get", str(tid), "--download", "--to", str(tmp_path / "d"), timeout=120)
    assert again.returncode == 0, again.stderr
    row = _status(mam)[0]
    assert row["seed_seconds_goal"] == 100 * 3600  # the re-add kept the longer goal
    h = row["info_hash"]
    paused = mam("pause", h[:10])
    assert paused.returncode == 0 and "Warning" in paused.stderr and "not satisfied on MAM" in paused.stderr
    files = list((tmp_path / "d").rglob("*.*"))
    assert files
    no_tty = mam("remove", h[:10], "--delete-data", "--force")  # stdin is not a terminal here
    assert no_tty.returncode == 2 and "--yes" in no_tty.stderr and "Use --force" not in no_tty.stderr
    assert all(f.exists() for f in files) and _status(mam)
    said_no = _in_a_terminal([MAM, "remove", h[:10], "--delete-data", "--force"], answer=b"n\n")
    assert said_no.returncode == 3 and "Not confirmed" in said_no.stderr, said_no.stderr
    assert all(f.exists() for f in files)
    yes = mam("remove", h[:10], "--delete-data", "--force", "--yes")
    assert yes.returncode == 0 and not any(f.exists() for f in files)
