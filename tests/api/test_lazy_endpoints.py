"""`mam serve` builds its MCP endpoint on the first `/mcp` request and its web page on the first
page request: the MCP SDK is the largest thing the service would otherwise load at start (about
24 MiB resident, 0.7 s), the page's Jinja2 environment about 2 MiB."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import sys
from starlette.testclient import TestClient
from mamdl.api.app import build_app
from mamdl.config import load_settings
from mamdl.service import Service

svc = Service(load_settings())
app = build_app(svc, token="tok-123", host="127.0.0.1")
assert not any(m == "mcp" or m.startswith("mcp.") for m in sys.modules), "MCP SDK imported at build time"
headers = {"Authorization": "Bearer tok-123", "Accept": "application/json, text/event-stream"}
init = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
with TestClient(app, base_url="http://127.0.0.1:8765") as client:
    assert client.get("/api", headers=headers).status_code == 200
    assert "mcp.server" not in sys.modules, "MCP SDK imported by an /api request"
    assert client.post("/mcp", json=init).status_code == 401  # the bearer token still guards it
    r = client.post("/mcp", json=init, headers=headers)
    assert r.status_code == 200, (r.status_code, r.text)
    assert "mamdl" in r.text and "serverInfo" in r.text, r.text
    assert "mcp.server" in sys.modules
    r2 = client.post("/mcp", json=init, headers=headers)  # built once, served again
    assert r2.status_code == 200, (r2.status_code, r2.text)
print("ok")
"""


def test_mcp_is_built_on_first_use_and_still_answers(isolated_home):
    """Sabotage caught: `build_app` importing the MCP server eagerly again (the service's memory
    and start-up grow back), or the lazily built endpoint not running its session manager (the
    first MCP request would fail) or skipping the bearer token."""
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip().endswith("ok"), p.stdout + p.stderr


def test_web_page_is_built_on_its_first_request_once(isolated_home):
    """Sabotage caught: `LazyApp` building at construction (the service holds Jinja2 from its
    start again) or building again on every request."""
    from starlette.responses import PlainTextResponse
    from starlette.testclient import TestClient

    from mamdl.api.app import LazyApp, build_app
    from mamdl.config import load_settings
    from mamdl.service import Service

    built = []

    def make():
        built.append(1)
        return PlainTextResponse("the page")

    web = LazyApp(make)
    app = build_app(Service(load_settings()), token="tok-123", host="127.0.0.1", mcp=False, web=web)
    assert built == []
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        assert client.get("/api", headers={"Authorization": "Bearer tok-123"}).status_code == 200
        assert built == []  # the API alone never builds the page
        assert client.get("/").text == "the page"
        assert client.get("/torrents").text == "the page"
    assert built == [1]
