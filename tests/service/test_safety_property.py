"""Property: whatever the order of adds, stops, removals, seeding-loop ticks, MAM reads and time
passing, no torrent ends up removed or stopped while the sandbox counts it unsatisfied.

Random interleavings from a seeded RNG (reproducible: the seed is in the test id), bounded in
length, against the sandbox and a real engine in this process. Sabotage caught: any path that
stops or removes on the local clock, on bucket counts, on a stale or unreadable MAM answer, or on
a MAM torrent whose id was not recorded (the file path)."""

from __future__ import annotations

import random
import time

import pytest

from mamdl.errors import GuardRefused

pytestmark = pytest.mark.slow

STEPS = 28
OPS = ("add", "add_file", "stop", "remove", "tick", "mam_read", "wait", "resume", "unreadable")


@pytest.fixture
def sb(sandbox_env, monkeypatch):
    monkeypatch.setenv("MAMDL_SNATCH_REFRESH_SECONDS", "0")
    sandbox_env.configure(satisfy_seconds=4)
    return sandbox_env


def _violations(svc, sb, tid_of: dict[str, int]) -> list[str]:
    from mamdl.engine.models import TorrentState

    satisfied = {s["tid"]: s["satisfied"] for s in sb.state_snapshot()["snatches"]}
    bad = []
    for snap in svc.engine().snapshots(include_removed=True):
        if snap.state in (TorrentState.REMOVED, TorrentState.FINISHED):
            tid = tid_of.get(snap.info_hash)
            if tid is not None and not satisfied.get(tid, False):
                bad.append(f"{snap.name} ({tid}) is {snap.state.value} but the sandbox counts it unsatisfied")
    return bad


@pytest.mark.parametrize("seed", [18, 1801, 424242])
def test_no_interleaving_stops_or_removes_an_unsatisfied_torrent(sb, seed, tmp_path):
    from pathlib import Path

    from mamdl.engine import SeedGoal
    from mamdl.sandbox.payloads import with_announce
    from mamdl.service import Service

    rng = random.Random(seed)
    tids = [e.id for e in sb.catalogue.entries if e.main_cat == 14][:3]
    tid_of = {sb.info_hash(t): t for t in tids}
    zero = SeedGoal(ratio=0, seed_seconds=0)  # the local goal is always met: only MAM's view protects
    log: list[str] = []
    with Service() as svc:
        svc.start_engine()
        for step in range(STEPS):
            op = rng.choice(OPS)
            hashes = [s.info_hash for s in svc.status()]
            h = rng.choice(hashes) if hashes else None
            try:
                if op == "add":
                    svc.get(rng.choice(tids), download=True, goal=zero, force=True)
                elif op == "add_file":
                    path = Path(svc.fetch(rng.choice(tids)).path)
                    if rng.random() < 0.5:  # a .torrent whose comment no longer names its MAM page
                        path = tmp_path / f"{step}.torrent"
                        path.write_bytes(with_announce(Path(svc.fetch(rng.choice(tids)).path).read_bytes(),
                                                       sb.announce_url, comment=""))  # fmt: skip
                    svc.add_torrent_file(path, goal=zero, force=True)
                elif op == "stop" and h:
                    if svc.may_stop(h).allowed:
                        svc.engine().finish(h)
                elif op == "remove" and h:
                    svc.remove(h, delete_data=rng.random() < 0.5)
                elif op == "tick":
                    svc.stop_satisfied()
                elif op == "mam_read":
                    svc.status(with_mam=True)
                elif op == "wait":
                    time.sleep(rng.uniform(0.5, 2.5))
                elif op == "resume" and h:
                    svc.resume(h, force=True)
                elif op == "unreadable" and h:
                    sb.add_fault("status", status=503, path="/json/loadUserDetailsTorrents.php", count=1)
                    if rng.random() < 0.5:
                        svc.remove(h)
                    else:
                        svc.stop_satisfied()
                    sb.clear_faults()
                log.append(f"{step}: {op} {h and h[:8]} ok")
            except GuardRefused as exc:
                log.append(f"{step}: {op} {h and h[:8]} refused: {exc}")
            bad = _violations(svc, sb, tid_of)
            assert not bad, "\n".join([*log, *bad])
        # Let MAM's clock catch up, then the seeding loop may stop what MAM now counts satisfied.
        time.sleep(5)
        svc.stop_satisfied()
        assert not _violations(svc, sb, tid_of), "\n".join(log)
