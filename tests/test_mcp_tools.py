"""The MCP server's tools in-process (the MCP SDK's client over memory streams), against the
sandbox: what the schema offers, and what error results carry. Fast; the stdio/HTTP runs are in
`test_mcp_server.py`."""

from __future__ import annotations

import anyio
import pytest

from mamdl.mcp_server import build_server
from mamdl.service import Service


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


@pytest.mark.parametrize("allow_destructive", [True, False])
def test_no_destructive_takes_remove_out_of_the_schema(sandbox_env, allow_destructive):
    """Sabotage caught: `--no-destructive` only refusing `remove` at call time while the schema
    the model reads still offers it (drop `@_offer_only(actions)` from `manage_seeding`)."""
    from mcp import Client

    async def main() -> None:
        with Service() as svc:
            async with Client(build_server(svc, allow_destructive=allow_destructive)) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                manage = tools["manage_seeding"]
                offered = set(manage.input_schema["properties"]["action"]["enum"])
                assert offered == {"pause", "resume", "set_goal"} | ({"remove"} if allow_destructive else set())
                assert manage.annotations.destructive_hint is allow_destructive
                if not allow_destructive:
                    r = await client.call_tool("manage_seeding", {"info_hash": "ab" * 20, "action": "remove"})
                    assert r.is_error

    anyio.run(main)


def test_error_results_never_carry_secrets(sandbox_env, monkeypatch):
    """Every failing tool call, the ones MAM makes fail included (login page, 429s, an expired
    session, an unknown torrent, bad arguments), answers with a message and no cookie or passkey.
    Sabotage caught: an error message that quotes the cookie (say `SessionExpired` naming the
    refused value) reaching the result because `_as_tool_error` no longer redacts, or an expected
    failure turned into an "internal error"."""
    from mcp import Client

    sb = sandbox_env
    sb.configure(rotate_every=1)
    errors: list[str] = []

    async def call(client, tool: str, args: dict) -> None:
        r = await client.call_tool(tool, args)
        assert r.is_error, (tool, args, _text(r))
        errors.append(_text(r))

    async def main() -> None:
        with Service() as svc:
            async with Client(build_server(svc)) as client:
                await call(client, "search_mam", {})
                await call(client, "download_torrent", {"torrent_id": 987654321})
                await call(client, "manage_seeding", {"info_hash": "zz", "action": "pause"})
                await call(client, "manage_seeding", {"info_hash": "ab" * 20, "action": "set_goal"})
                sb.add_fault("login_page", count=1)
                await call(client, "get_user_stats", {"refresh": True})
                sb.add_fault("malformed_json", count=1)
                await call(client, "get_user_stats", {"refresh": True})
                sb.add_fault("status", status=429, count=-1, retry_after=0.05)
                await call(client, "search_mam", {"title": "dune"})
                sb.clear_faults()
                sb.add_fault("expire_after", n=0)
                await call(client, "get_user_stats", {"refresh": True})
                await call(client, "fetch_torrent_file", {"torrent_id": 1})

    monkeypatch.setenv("MAMDL_MAX_ATTEMPTS", "2")
    anyio.run(main)
    text = "\n".join(errors)
    assert "internal error" not in text, text  # each of these is an expected failure with a message
    assert "Traceback" not in text
    for secret in {*sb.cookies.issued, sb.passkey}:
        assert secret not in text
