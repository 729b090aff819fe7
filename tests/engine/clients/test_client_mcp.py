"""The MCP server over a client backend: the same tools and the same fields as with the embedded
engine, the removal guard, and no password, cookie or passkey in any result."""

from __future__ import annotations

import json
import os

import anyio
import pytest

from mamdl.service.models import TorrentStatus
from tests.cli.conftest import MAM
from tests.engine.clients.test_clients_e2e import Dialer, _tid
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("client", ["qbittorrent", "transmission"], indirect=True)
def test_mcp_download_progress_and_refused_removal(client, make_swarm, isolated_home):
    """Sabotage caught: get_progress over a client backend missing fields the embedded engine
    gives (a front would break), manage_seeding's remove bypassing the hit-and-run guard (the
    torrent gone from the client), or a secret in a tool result."""
    from mcp import Client, StdioServerParameters

    sb = make_swarm(satisfy_seconds=3600)  # MAM counts it unsatisfied throughout
    tid = _tid("the hobbit")
    h = sb.info_hash(tid)
    params = StdioServerParameters(command=MAM, args=["mcp"], env=dict(os.environ))
    seen: list[str] = []

    async def main() -> None:
        async with Client(params, read_timeout_seconds=60) as mcp:
            started = await mcp.call_tool("download_torrent", {"torrent_id": tid, "download_content": True})
            assert not started.is_error, started.content
            seen.append(json.dumps(started.structured_content))
            deadline = anyio.current_time() + 120
            while True:
                prog = (await mcp.call_tool("get_progress", {"info_hash": h})).structured_content
                if prog["torrents"][0]["progress"] == 1.0 and prog["torrents"][0]["state"] == "seeding":
                    break
                assert anyio.current_time() < deadline, prog
                await anyio.sleep(0.5)
            seen.append(json.dumps(prog))
            row = prog["torrents"][0]
            assert set(TorrentStatus.model_fields) <= set(row), set(TorrentStatus.model_fields) - set(row)
            assert row["state"] == "seeding" and row["mam_id"] == tid
            removed = await mcp.call_tool("manage_seeding", {"info_hash": h, "action": "remove"})
            seen.append(" ".join(getattr(c, "text", "") for c in removed.content))
            assert removed.is_error, removed.content

    with Dialer(sb, tid, client):
        anyio.run(main)
    wait_until(lambda: h in client.held(), timeout=10, what="the torrent still in the client")
    text = "\n".join(seen)
    for secret in (client.password, sb.mam_id, sb.passkey):
        assert secret not in text
