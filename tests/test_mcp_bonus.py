"""The MCP bonus tools, in-process over the SDK's own client, against the sandbox."""

from __future__ import annotations

import anyio
import pytest

from mamdl.config import load_settings
from mamdl.mcp_server import build_server
from mamdl.service import Service


@pytest.fixture
def svc(sandbox_env):
    sandbox_env.set_user(seedbonus=60000.0)
    with Service(load_settings()) as s:
        yield s


def _run(server, body):
    from mcp import Client

    async def main():
        async with Client(server, read_timeout_seconds=60) as client:
            return await body(client)

    return anyio.run(main)


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def test_spend_tool_is_destructive_and_absent_with_no_destructive(svc):
    """Sabotage: register the tool regardless of --no-destructive and it shows in the list."""

    async def tools(client):
        return {t.name: t for t in (await client.list_tools()).tools}

    listed = _run(build_server(svc), tools)
    spend = listed["spend_bonus_points"]
    assert spend.annotations.destructive_hint is True and spend.annotations.read_only_hint is False
    assert spend.output_schema and "confirm_cost" in spend.input_schema["properties"]
    assert "confirm_cost" not in spend.input_schema.get("required", [])
    assert "spend_bonus_points" not in _run(build_server(svc, allow_destructive=False), tools)


def test_dry_run_by_default_then_spend_only_with_the_stated_cost(svc, sandbox_env):
    """Sabotage: spend when confirm_cost is missing or wrong and the sandbox counts purchases early."""

    async def flow(client):
        dry = await client.call_tool("spend_bonus_points", {"kind": "upload", "amount": "50"})
        assert not dry.is_error, dry.content
        out = dry.structured_content
        assert out["dry_run"] and not out["done"] and out["quote"]["cost"] == 25000
        assert out["quote"]["balance_after"] == 35000
        assert sandbox_env.bonus_purchases() == []
        wrong = await client.call_tool("spend_bonus_points", {"kind": "upload", "amount": "50", "confirm_cost": 1})
        assert wrong.is_error and "25,000" in _text(wrong)
        assert sandbox_env.bonus_purchases() == []
        done = await client.call_tool("spend_bonus_points", {"kind": "upload", "amount": "50", "confirm_cost": 25000})
        assert not done.is_error, done.content
        assert done.structured_content["done"] and done.structured_content["balance_after"] == 35000
        bad = await client.call_tool("spend_bonus_points", {"kind": "vip", "amount": "0"})
        assert bad.is_error and "at least 1" in _text(bad)
        stats = await client.call_tool("get_user_stats", {})
        return stats.structured_content

    stats = _run(build_server(svc), flow)
    assert len(sandbox_env.bonus_purchases()) == 1
    assert stats["bonus_points"] == 35000
    history = stats["bonus_history"]
    assert history["purchases"] == 1 and history["points_spent"] == 25000 and "Upload" in history["last_purchase"]
