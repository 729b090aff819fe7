"""The web page's guards, fast, through Starlette's TestClient on the app `mam serve` composes:
security headers, CSRF (token and origin), the Host check, the login cookie, and the API's bearer
token still guarding /api next to the open page. No browser and no sandbox needed: every request
here is refused (or answered) before the service would reach MAM."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from mamdl.api.app import build_app
from mamdl.config import load_settings
from mamdl.service import Service
from mamdl.web import build_web
from mamdl.web.security import COOKIE, CSP, login_required

TOKEN = "web-token-5b0e1d77c2"


_OPEN: list[Service] = []


@pytest.fixture(autouse=True)
def _close_services():
    """`/api/health` starts this process's engine; close it so later tests can start theirs."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(host: str = "127.0.0.1", **kw) -> TestClient:
    svc = Service(load_settings())
    _OPEN.append(svc)
    web = build_web(svc, token=TOKEN, require_login=login_required(host))
    app = build_app(svc, token=TOKEN, host=host, mcp=False, web=web)
    base = f"http://{host}:8765"
    return TestClient(app, base_url=base, follow_redirects=False, **kw)


def _csrf(client: TestClient) -> str:
    html = client.get("/torrents").text
    return re.search(r'name="csrf-token" content="([0-9a-f]+)"', html).group(1)


def test_pages_carry_the_security_headers():
    """Sabotage caught: the CSP (or nosniff / no-framing / no-store) header dropped from a page,
    a JSON route or a static file."""
    c = _client()
    for path in ("/torrents", "/static/app.js", "/login"):
        r = c.get(path)
        assert r.status_code in (200, 303), (path, r.status_code)
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
    assert c.get("/torrents").headers["cache-control"] == "no-store"
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP


def test_page_serves_no_inline_script_and_only_local_assets():
    """Sabotage caught: an inline <script> (the CSP would block it, so the page would break) or an
    asset from a CDN (the page must work with no internet)."""
    html = _client().get("/torrents").text
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert "http://" not in html and "https://" not in html


def test_csrf_token_required_for_every_change():
    """Sabotage caught: WebGuard's CSRF check skipped (a page on any site could POST to 127.0.0.1,
    which needs no login) or a wrong token accepted."""
    c = _client()
    for path in ("/web/download", "/web/torrents/abcd1234/pause", "/web/torrents/abcd1234/remove", "/logout"):
        assert c.post(path, json={"id": 1}).status_code == 403, path
        assert c.post(path, json={"id": 1}, headers={"X-CSRF-Token": "0" * 64}).status_code == 403, path
    # With the page's token the request reaches the route (here: refused for a bad id, 400).
    r = c.post("/web/download", json={"id": "x"}, headers={"X-CSRF-Token": _csrf(c)})
    assert r.status_code == 400 and r.json()["kind"] == "UsageError"


def test_cross_origin_post_refused_even_with_the_token():
    """Sabotage caught: the Origin / Sec-Fetch-Site check removed (a token leaked into another
    site's page would then be enough)."""
    c = _client()
    tok = _csrf(c)
    evil = c.post("/web/download", json={"id": "x"}, headers={"X-CSRF-Token": tok, "Origin": "http://evil.example"})
    assert evil.status_code == 403 and "cross-origin" in evil.json()["error"]
    site = c.post("/web/download", json={"id": "x"}, headers={"X-CSRF-Token": tok, "Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403
    same = c.post("/web/download", json={"id": "x"}, headers={"X-CSRF-Token": tok, "Origin": "http://127.0.0.1:8765"})
    assert same.status_code == 400  # through the guard, refused by the route for the bad id


def test_host_header_checked_for_the_page():
    """Sabotage caught: the web page mounted outside TrustedHostMiddleware (DNS rebinding: a page
    on evil.example resolving to 127.0.0.1 could read the account)."""
    c = _client()
    assert c.get("/torrents").status_code == 200
    assert c.get("/torrents", headers={"Host": "evil.example"}).status_code == 400
    assert c.get("/account", headers={"Host": "evil.example:8765"}).status_code == 400


def test_api_still_needs_the_bearer_token_beside_the_open_page():
    """Sabotage caught: PathSplit sending /api (or /mcp) to the web page, which needs no token on
    loopback."""
    c = _client()
    assert c.get("/api/health").status_code == 401
    assert c.get("/api/status").status_code == 401
    assert c.get("/api/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.2", "0.0.0.0", "192.168.1.5"])
def test_other_binds_need_the_login(host):
    """Sabotage caught: `login_required` answering False for an address other than the default."""
    assert login_required(host)


def test_login_once_then_the_cookie_works():
    """Sabotage caught: pages served without the login on another address; a wrong token accepted;
    the cookie missing HttpOnly or SameSite=Strict; the token itself (not a derived value) put in
    the cookie; the public login page handing out the CSRF token of the logged-in page."""
    c = _client("127.0.0.2")
    r = c.get("/account")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/web/status").status_code == 401
    page = c.get("/login")
    assert page.status_code == 200 and TOKEN not in page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    assert c.post("/login", data={"csrf": csrf, "token": "wrong"}).status_code == 401
    assert c.post("/login", data={"csrf": "bad", "token": TOKEN}).status_code == 403
    evil = c.post("/login", data={"csrf": csrf, "token": TOKEN}, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403
    ok = c.post("/login", data={"csrf": csrf, "token": TOKEN})
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert TOKEN not in cookie
    assert c.get("/torrents").status_code == 200
    # CSRF still applies once logged in, and the public login page's token is not the page's.
    assert c.post("/web/download", json={"id": "x"}).status_code == 403
    assert c.post("/web/download", json={"id": "x"}, headers={"X-CSRF-Token": csrf}).status_code == 403
    assert c.post("/web/download", json={"id": "x"}, headers={"X-CSRF-Token": _csrf(c)}).status_code == 400


def test_login_page_not_offered_on_the_default_bind():
    """Sabotage caught: the default (127.0.0.1) bind asking for a login it does not need."""
    c = _client()
    assert c.get("/login").status_code == 303
    assert c.get("/torrents").status_code == 200
