"""Account safety against the sandbox, through the CLI and the MCP tools: the unsatisfied guard,
hit-and-run-proof removal, freeleech wedges."""

from __future__ import annotations

import json

import anyio
import pytest

pytestmark = pytest.mark.slow

DUNE_EBOOK = "dune"


@pytest.fixture
def swarm(make_swarm):
    return make_swarm(satisfy_seconds=3600, snatch_refresh="0")


def _tid(mam, title: str) -> int:
    return json.loads(mam("search", "-t", title, "--best", "--json").stdout)[0]["id"]


def _near_limit(sb, mam) -> None:
    sb.set_user(unsat_limit=8)
    for title in ("the hobbit", "frankenstein", "the metamorphosis"):
        sb.add_snatch(_tid(mam, title), age=60, seeded=0, left=0, active=True)


def test_unsatisfied_guard_refuses_with_numbers_and_force_overrides(swarm, mam, tmp_path):
    _near_limit(swarm, mam)
    tid = _tid(mam, DUNE_EBOOK)
    refused = mam("get", str(tid), "--download", "--to", str(tmp_path / "d"), "--json")
    assert refused.returncode == 3
    body = json.loads(refused.stdout)
    assert body["kind"] == "GuardRefused" and "3 unsatisfied" in body["error"] and "limit is 8" in body["error"]
    assert not (tmp_path / "d").exists()
    forced = mam("get", str(tid), "--download", "--force", "--to", str(tmp_path / "d"), timeout=120)
    assert forced.returncode == 0, forced.stderr
    assert "overridden" in forced.stdout


def test_unsatisfied_guard_in_the_mcp_tool(swarm, mam):
    from mcp import Client

    from mamdl.cli.common import make_service
    from mamdl.mcp_server import build_server

    _near_limit(swarm, mam)
    tid = _tid(mam, DUNE_EBOOK)

    async def main():
        with make_service() as svc:
            async with Client(build_server(svc)) as client:
                r = await client.call_tool("download_torrent", {"torrent_id": tid, "download_content": True})
                text = " ".join(c.text for c in r.content)
                assert r.is_error and "limit is 8" in text
                # Fetching the .torrent alone is not a download: allowed.
                ok = await client.call_tool("download_torrent", {"torrent_id": tid})
                assert not ok.is_error and ok.structured_content["download_started"] is False

    anyio.run(main)


def test_removal_refused_while_mam_disagrees_with_local_clock(swarm, mam, tmp_path):
    import time

    tid = _tid(mam, DUNE_EBOOK)
    # A zero seeding goal: the local clock calls it satisfied at once; the sandbox needs an hour.
    p = mam("get", str(tid), "--download", "--seed-hours", "0", "--force", "--to", str(tmp_path / "d"), timeout=120)
    assert p.returncode == 0, p.stderr
    h = json.loads(mam("status", "--json").stdout)[0]["info_hash"]
    rows = json.loads(mam("status", "--mam", "--json").stdout)
    assert rows[0]["mam_satisfied"] is False
    refused = mam("remove", h)
    assert refused.returncode == 3 and "unsatisfied" in refused.stderr
    # MAM's clock catches up once it has seen a little seeding: then removal is allowed.
    swarm.configure(satisfy_seconds=1)
    assert mam("service", "start").returncode == 0  # seeds in the background; `remove` goes through it
    try:
        deadline = time.monotonic() + 40
        while True:
            ok = mam("remove", h)
            if ok.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert ok.returncode == 0, ok.stderr
    finally:
        assert mam("service", "stop").returncode == 0


def test_wedges_auto_never_twice_and_not_on_free(swarm, mam, tmp_path, monkeypatch):
    monkeypatch.setenv("MAMDL_WEDGE_MIN_BYTES", "1")
    tid = _tid(mam, DUNE_EBOOK)
    first = mam("get", str(tid), "--wedge", "auto")
    assert first.returncode == 0 and "Wedge: spending" in first.stdout
    assert len(swarm.wedge_spends()) == 1
    again = mam("get", str(tid), "--wedge", "always")
    assert "never twice" in again.stdout and len(swarm.wedge_spends()) == 1
    free = mam("get", "410734", "--wedge", "always")  # Pride and Prejudice, freeleech
    assert "already freeleech" in free.stdout and len(swarm.wedge_spends()) == 1
    never = mam("get", str(_tid(mam, "the hobbit")))
    assert "wedges are off" in never.stdout and len(swarm.wedge_spends()) == 1
