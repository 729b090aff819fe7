"""`mam doctor` with a client backend: the client's own report (version, port, DHT/PEX/LSD) and
warnings for the global limits and queues that stop MAM torrents on the client's clock."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run_mam

pytestmark = pytest.mark.slow

ALL = ["qbittorrent", "transmission", "deluge"]


def _client_rows(client) -> dict[str, dict]:
    p = run_mam("doctor", "--json")
    assert "Traceback" not in p.stderr and client.password not in p.stdout + p.stderr
    return {r["name"]: r for r in json.loads(p.stdout)}


def _limit_everything(client) -> None:
    """The settings behind mass hit-and-runs: a global ratio limit and queueing."""
    if client.backend == "qbittorrent":
        import qbittorrentapi

        c = qbittorrentapi.Client(host=client.url, username=client.username, password=client.password)
        c.app_set_preferences(
            {"max_ratio_enabled": True, "max_ratio": 1.0, "max_ratio_act": 1, "queueing_enabled": True}
        )
    elif client.backend == "transmission":
        import transmission_rpc

        c = transmission_rpc.Client(port=client.api_port, username=client.username, password=client.password)
        c.set_session(seed_ratio_limited=True, seed_ratio_limit=1.0, seed_queue_enabled=True)
    else:
        from deluge_client import DelugeRPCClient

        c = DelugeRPCClient("127.0.0.1", client.api_port, client.username, client.password, decode_utf8=True)
        c.connect()
        c.call("core.set_config", {"stop_seed_at_ratio": True, "stop_seed_ratio": 1.0, "max_active_seeding": 5})
        c.disconnect()


@pytest.mark.parametrize("client", ALL, indirect=True)
def test_doctor_reports_the_client_and_warns_on_its_limits(client, make_swarm, isolated_home):
    """Sabotage caught: doctor still describing the embedded engine for a client backend (no
    client rows), or missing the global ratio limit / queue that would stop MAM torrents early."""
    make_swarm()
    label = {"qbittorrent": "qBittorrent", "transmission": "Transmission", "deluge": "Deluge"}[client.backend]
    rows = _client_rows(client)
    assert rows[f"{label} reachable"]["status"] == "ok", rows
    assert rows[f"{label} share limits"]["status"] == "ok" and rows[f"{label} queueing"]["status"] == "ok"
    assert "client identity" not in rows and "client IP" not in rows  # not the engine; the client is here
    _limit_everything(client)
    rows = _client_rows(client)
    assert rows[f"{label} share limits"]["status"] == "warn", rows
    assert "hit-and-run" in rows[f"{label} share limits"]["detail"]
    assert rows[f"{label} queueing"]["status"] == "warn", rows


@pytest.mark.parametrize("client", ["qbittorrent"], indirect=True)
def test_doctor_with_the_client_down_fails_with_the_fix(client, make_swarm, isolated_home):
    """Sabotage caught: doctor crashing (or passing) when the client is down."""
    make_swarm()
    client.stop()
    p = run_mam("doctor", "--json")
    assert p.returncode == 1 and "Traceback" not in p.stderr
    rows = [r for r in json.loads(p.stdout) if r["name"] == "qBittorrent"]
    assert rows and rows[0]["status"] == "fail" and "start qBittorrent" in rows[0]["detail"]
