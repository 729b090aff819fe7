"""`mam limit` end to end on the sandbox swarm: a limit set while `mam serve` runs holds for the
next download at once, and one saved in config.toml holds after the service restarts. The swarm
is on loopback, where libtorrent would exempt the peers from a session-wide limit: the limits
must count every peer, LAN ones included, or neither download is slowed."""

from __future__ import annotations

import json

import httpx2
import pytest

from tests.cli.conftest import run_mam
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

LIMIT_KIBPS = 256


def _tid(title: str) -> int:
    return json.loads(run_mam("search", "-t", title, "--best", "--json").stdout)[0]["id"]


def _download(tid: int, dest) -> dict:
    """`mam get --download` through the service; the torrent's row once complete."""
    p = run_mam("get", str(tid), "--download", "--to", str(dest), timeout=240)
    assert p.returncode == 0 and "Complete and verified" in p.stdout, p.stdout + p.stderr
    return wait_until(
        lambda: next(
            (r for r in json.loads(run_mam("status", "--json").stdout) if r["mam_id"] == tid and r["finished_at"]),
            None,
        ),
        timeout=30,
        interval=0.5,
        what="the finished torrent in status",
    )


def _at_least_limited(row: dict) -> None:
    """Downloading took at least 70% of what the limit allows (a lower bound: a slow machine only
    adds to it); unlimited, these ebooks take well under a second on loopback."""
    took = row["finished_at"] - row["added_at"]
    floor = 0.7 * row["total_size"] / (LIMIT_KIBPS * 1024)
    assert took >= floor, f"{row['total_size']} bytes in {took:.2f} s: faster than {LIMIT_KIBPS} KiB/s allows"


def test_limit_holds_live_and_after_a_restart(make_swarm, monkeypatch, isolated_home, tmp_path):
    """Sabotage caught: the limit only saved, not handed to the running engine (the second
    download runs at full speed); not saved (gone after the restart); loopback/LAN peers left
    exempt (no download slowed at all); `mam limit` reporting what it did not do; or the
    service's own view (its web page, `GET /api/limits`) left at the old limit."""
    monkeypatch.setenv("MAMDL_AUTO_SERVE", "1")
    make_swarm()
    _download(_tid("the hobbit"), tmp_path / "a")  # starts the service, unlimited

    p = run_mam("limit", "--down", f"{LIMIT_KIBPS}K", "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout) == {"download_kibps": LIMIT_KIBPS, "upload_kibps": 0, "applied_now": True}
    info = json.loads((isolated_home / "serve.json").read_text())  # the service shows it too (its web page)
    seen = httpx2.get(info["url"] + "/api/limits", headers={"Authorization": f"Bearer {info['token']}"}, timeout=30)
    assert seen.json()["download_kibps"] == LIMIT_KIBPS
    _at_least_limited(_download(_tid("dune"), tmp_path / "b"))
    assert "Rate limits: download 256 KiB/s, upload unlimited" in run_mam("status").stdout  # why it is slow
    # `mam config set` on a limit is the same live path; on other keys it says the service restarts
    p = run_mam("config", "set", "upload_limit_kibps", "100")
    assert p.returncode == 0 and "applied now" in p.stdout, p.stdout + p.stderr
    seen = httpx2.get(info["url"] + "/api/limits", headers={"Authorization": f"Bearer {info['token']}"}, timeout=30)
    assert seen.json()["upload_kibps"] == 100
    p = run_mam("config", "set", "seed_hours", "96")
    assert p.returncode == 0 and "keeps the settings it started with" in p.stdout, p.stdout + p.stderr

    assert run_mam("service", "stop").returncode == 0
    assert "Download: 256 KiB/s. Upload: 100 KiB/s." in run_mam("limit").stdout  # as saved
    _at_least_limited(_download(_tid("gone girl"), tmp_path / "c"))  # a new service, from the file
    assert run_mam("service", "stop").returncode == 0


def test_limit_refused_for_an_external_client(isolated_home, monkeypatch):
    """Sabotage caught: mamdl writing a limit it cannot apply (with qBittorrent the limits are the
    client's own, for every torrent it holds), or failing without saying where to set it."""
    monkeypatch.setenv("MAMDL_BACKEND", "qbittorrent")
    p = run_mam("limit", "--down", "1M")
    assert p.returncode != 0 and "set them in the client" in p.stderr, p.stdout + p.stderr
    cfg = isolated_home / "config.toml"
    assert not cfg.exists() or "download_limit_kibps" not in cfg.read_text()
