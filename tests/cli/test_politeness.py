"""The 1 request/second limit holds across processes, and a rotated cookie survives into the next one."""

import json
import os
import subprocess

from tests.cli.conftest import MAM


def test_two_processes_searching_at_once_stay_one_second_apart(sandbox_env, monkeypatch):
    """Sabotage caught: a request gate held per process instead of across processes (gaps of
    0.05 s between the two processes' requests). Both processes must finish their whole search: a
    process that dies early would leave only one process's requests, which are spaced anyway."""
    monkeypatch.setenv("MAMDL_MIN_INTERVAL", "1.0")  # the real default
    sandbox_env.clear_requests()
    # Queries that MAM's strict search misses make each process send several (broadened) requests.
    procs = [
        subprocess.Popen(
            [MAM, "search", "-t", q, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
            text=True,
        )
        for q in ("zzqq nothing here", "qqzz nothing there")
    ]
    sent = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert json.loads(out) == []
        sent.append(json.loads(err.strip().splitlines()[-1])["requests"])
    assert min(sent) >= 2, sent  # each process broadened: several requests each
    times = sorted(r["t"] for r in sandbox_env.requests(include_announces=False))
    assert len(times) == sum(sent), (times, sent)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 1.0, gaps


def test_rotated_cookie_is_used_by_the_next_process(tmp_path, monkeypatch, mam):
    from mamdl.sandbox import Sandbox

    with Sandbox(data_dir=tmp_path / "sb", rotate_every=1, grace=0) as sb:
        original = sb.mam_id
        monkeypatch.setenv("MAM_BASE_URL", sb.base_url)
        monkeypatch.setenv("MAM_ID", original)
        monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.01")
        first = mam("search", "-t", "dune", "--json")
        assert first.returncode == 0, first.stderr
        second = mam("user", "--json", "--refresh")  # would be refused with the original cookie
        assert second.returncode == 0, second.stdout + second.stderr
        assert json.loads(second.stdout)["username"]
        assert sb.mam_id != original
