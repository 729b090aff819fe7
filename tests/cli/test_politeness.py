"""The 1 request/second limit holds across processes, and a rotated cookie survives into the next one."""

import json
import os
import subprocess

from tests.cli.conftest import MAM


def test_two_processes_searching_at_once_stay_one_second_apart(sandbox_env, monkeypatch):
    monkeypatch.setenv("MAMDL_MIN_INTERVAL", "1.0")  # the real default
    sandbox_env.clear_requests()
    # Queries that MAM's strict search misses make each process send several (broadened) requests.
    procs = [
        subprocess.Popen(
            [MAM, "search", "-t", q, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ)
        )
        for q in ("zzqq nothing here", "qqzz nothing there")
    ]
    for p in procs:
        p.communicate(timeout=60)
        assert p.returncode in (0, 1)
    times = sorted(r["t"] for r in sandbox_env.requests(include_announces=False))
    assert len(times) >= 4
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
