"""`mam mcp` driven by the MCP SDK's own client, as a subprocess, against the sandbox swarm."""

from __future__ import annotations

import json
import os
import subprocess
import time

import anyio
import pytest

from tests.cli.conftest import MAM, run_mam
from tests.ports import free_port

pytestmark = pytest.mark.slow

TOOLS = {
    "search_mam",
    "download_torrent",
    "get_progress",
    "manage_seeding",
    "get_user_stats",
    "fetch_torrent_file",
    "set_rate_limits",
}


@pytest.fixture
def swarm(make_swarm):
    return make_swarm(leecher=True)


def _structured(result):
    assert not result.is_error, result.content
    return result.structured_content


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def _poll(client, tool, args, pred, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        out = _structured(await client.call_tool(tool, args))
        if pred(out):
            return out
        assert time.monotonic() < deadline, out
        await anyio.sleep(0.5)


def test_full_flow_over_stdio(swarm, isolated_home):
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=MAM, args=["mcp"], env=dict(os.environ))
    seen: list[str] = []
    progress_events: list[float] = []

    async def main() -> None:
        async with Client(params, read_timeout_seconds=60) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) >= TOOLS
            assert tools["search_mam"].annotations.read_only_hint is True
            assert tools["manage_seeding"].annotations.destructive_hint is True
            for name in TOOLS:
                assert tools[name].output_schema, name

            bad = await client.call_tool("search_mam", {})
            assert bad.is_error and "at least one" in _text(bad)
            seen.append(_text(bad))  # error results are scanned for secrets too

            async def on_progress(progress, total, message):
                progress_events.append(progress)

            found = await client.call_tool(
                "search_mam", {"title": "the hobit", "author": "tolkein"}, progress_callback=on_progress
            )
            found = _structured(found)
            seen.append(json.dumps(found))
            assert found["confident"] and found["results"][0]["title"] == "The Hobbit"
            tid = found["results"][0]["id"]

            before = _structured(await client.call_tool("get_user_stats", {"refresh": True}))
            unknown = await client.call_tool("download_torrent", {"torrent_id": 987654321})
            assert unknown.is_error and "no torrent" in _text(unknown)
            seen.append(_text(unknown))

            started = _structured(
                await client.call_tool(
                    "download_torrent",
                    {
                        "torrent_id": tid,
                        "download_content": True,
                        "seed_after": True,
                        "seed_ratio": 1.0,
                    },
                )
            )
            seen.append(json.dumps(started))
            h = started["info_hash"]
            assert started["download_started"] and len(h) == 40

            prog = await _poll(
                client, "get_progress", {"info_hash": h}, lambda o: o["torrents"][0]["state"] in ("seeding", "finished")
            )
            seen.append(json.dumps(prog))
            assert prog["torrents"][0]["progress"] == 1.0

            # The CLI sees the same store while the server owns the engine.
            status = run_mam("status", "--json")
            assert status.returncode == 0, status.stderr
            assert [r["info_hash"] for r in json.loads(status.stdout)] == [h]
            busy = run_mam("seed")
            assert busy.returncode != 0 and "mam mcp" in busy.stderr and "pid" in busy.stderr

            paused = _structured(await client.call_tool("manage_seeding", {"info_hash": h[:10], "action": "pause"}))
            assert paused["status"]["state"] == "paused"
            resumed = _structured(await client.call_tool("manage_seeding", {"info_hash": h, "action": "resume"}))
            assert resumed["status"]["state"] in ("seeding", "checking", "finished")
            goal = _structured(
                await client.call_tool("manage_seeding", {"info_hash": h, "action": "set_goal", "ratio": 1.5})
            )
            assert goal["status"]["ratio_goal"] == 1.5
            limits = _structured(await client.call_tool("set_rate_limits", {"download_kibps": 1024}))
            assert limits == {"download_kibps": 1024, "upload_kibps": 0, "applied_now": True}
            assert "download_limit_kibps = 1024" in (isolated_home / "config.toml").read_text()
            assert _structured(await client.call_tool("set_rate_limits", {}))["download_kibps"] == 1024
            limits = _structured(await client.call_tool("set_rate_limits", {"download_kibps": 0}))
            assert limits["download_kibps"] == 0

            after = await _poll(
                client,
                "get_user_stats",
                {"refresh": True},
                lambda o: o["uploaded_bytes"] > before["uploaded_bytes"],
                timeout=60,
            )
            seen.append(json.dumps(after))
            assert after["username"] and "unsatisfied_limit" in after

    anyio.run(main)
    assert progress_events, "search_mam sent no progress notifications"
    text = "\n".join(seen)
    for secret in {*swarm.cookies.issued, swarm.passkey}:  # every rotated cookie, not only the last
        assert secret not in text


def test_http_needs_the_bearer_token(swarm, isolated_home):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    port = free_port()
    proc = subprocess.Popen(
        [MAM, "mcp", "--http", "--port", str(port), "--token", "s3cret-token-xyz"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx2.post(url, json={})
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, (
                    proc.stderr.read().decode() if proc.poll() is not None else "timeout"
                )
                time.sleep(0.2)
        assert r.status_code == 401

        async def main() -> None:
            http = httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret-token-xyz"}, timeout=30)
            async with Client(streamable_http_client(url, http_client=http)) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                assert names >= TOOLS
                found = _structured(await client.call_tool("search_mam", {"title": "dune"}))
                assert found["results"]
            await http.aclose()

        anyio.run(main)
    finally:
        proc.terminate()
        proc.wait(15)
