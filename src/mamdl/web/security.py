"""The web page's guards, in one ASGI middleware so every route passes through them.

- **Login** (any bind but the default loopback names): the API token, typed once into a form,
  becomes an HttpOnly, SameSite=Strict cookie. The cookie holds an HMAC of the token, not the
  token, so the browser never holds the API's bearer secret.
- **CSRF**: every request that can change something (anything but GET/HEAD) must come from this
  origin (`Origin`, else `Sec-Fetch-Site`) *and* carry the page's CSRF token (`X-CSRF-Token`
  header; the login form a hidden field). On loopback there is no cookie to ride on, but a page on
  any other site could still POST to 127.0.0.1: the token is what stops it.
- **Headers**: a Content-Security-Policy that allows only this origin's own scripts and styles
  (no inline script, so an injected `<script>` would not run even if escaping failed), no framing,
  no referrer to other sites, no caching of pages that show account data.

The Host-header check (DNS rebinding) is the server's `TrustedHostMiddleware`, in front of this.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "mamdl_web"
CSRF_HEADER = "x-csrf-token"
OPEN_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
"""Binds where the page needs no login: the default. Any other address (even another loopback
address such as 127.0.0.2) asks for the token: what the bind reaches is not ours to guess."""

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" makes Chrome send `Origin: null` on form posts
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
SAFE_METHODS = frozenset({"GET", "HEAD"})
PUBLIC_PATHS = ("/login", "/static/")


def login_required(bind_host: str) -> bool:
    return bind_host.strip().lower() not in OPEN_HOSTS


class WebKeys:
    """The values derived from the API token: the session cookie and the CSRF tokens.

    Derived (HMAC) rather than random so a restart of the service keeps people logged in; they
    reveal nothing of the token itself."""

    def __init__(self, token: str, *, require_login: bool) -> None:
        key = token.encode()
        self.require_login = require_login
        self.session = hmac.new(key, b"mamdl-web-session-v1", hashlib.sha256).hexdigest()
        self.csrf = hmac.new(key, b"mamdl-web-csrf-v1", hashlib.sha256).hexdigest()
        # The login form's own token: the login page is public, so it must not hand out the one
        # that guards the logged-in page's changes.
        self.login_csrf = hmac.new(key, b"mamdl-web-login-csrf-v1", hashlib.sha256).hexdigest()
        self._token = token

    def token_ok(self, typed: str) -> bool:
        return secrets.compare_digest(typed.strip().encode(), self._token.encode())

    def session_ok(self, cookie: str | None) -> bool:
        return cookie is not None and secrets.compare_digest(cookie.encode(), self.session.encode())

    def csrf_ok(self, value: str | None) -> bool:
        return value is not None and secrets.compare_digest(value.encode(), self.csrf.encode())

    def login_csrf_ok(self, value: str | None) -> bool:
        return value is not None and secrets.compare_digest(value.encode(), self.login_csrf.encode())


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}


def cookie_value(headers: dict[str, str]) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def same_origin(headers: dict[str, str], scheme: str) -> bool:
    """Did the browser say this request comes from a page of this very origin?

    `Origin` is sent by every current browser on a POST; a request with neither `Origin` nor
    `Sec-Fetch-Site` is not from a browser page (curl, a script) and the CSRF token still applies."""
    host = headers.get("host", "")
    origin = headers.get("origin")
    if origin is not None:
        return origin == f"{scheme}://{host}"
    site = headers.get("sec-fetch-site")
    return site is None or site in ("same-origin", "none")


class WebGuard:
    """Login, CSRF and security headers around the web application (see the module docstring)."""

    def __init__(self, app: ASGIApp, keys: WebKeys) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        path: str = scope["path"]
        method: str = scope["method"]
        scheme: str = scope.get("scheme", "http")
        wants_json = path.startswith("/web/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(HEADERS)
                if not path.startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        if method not in SAFE_METHODS:
            if not same_origin(headers, scheme):
                await _refuse(send_with_headers, 403, "cross-origin request refused", wants_json)
                return
            # The login form carries its token in the body; the endpoint checks it there.
            if path != "/login" and not self.keys.csrf_ok(headers.get(CSRF_HEADER)):
                await _refuse(send_with_headers, 403, "missing or wrong CSRF token; reload the page", wants_json)
                return
        public = path == "/login" or path.startswith("/static/")
        if self.keys.require_login and not public and not self.keys.session_ok(cookie_value(headers)):
            if method in SAFE_METHODS and not wants_json:
                await send_with_headers(
                    {"type": "http.response.start", "status": 303, "headers": [(b"location", b"/login")]}
                )
                await send_with_headers({"type": "http.response.body", "body": b""})
            else:
                await _refuse(send_with_headers, 401, "log in first", wants_json)
            return
        await self.app(scope, receive, send_with_headers)


async def _refuse(send: Send, status: int, message: str, as_json: bool) -> None:
    import json

    if as_json:
        body, ctype = json.dumps({"error": message, "kind": "Refused"}).encode(), b"application/json"
    else:
        body, ctype = message.encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype)]})
    await send({"type": "http.response.body", "body": body})
