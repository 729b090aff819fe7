"""The one bearer-token gate for mamdl's HTTP servers (`mam serve`'s API and `mam mcp --http`).

Both fronts need the same check; it lives here, below them, so that neither imports the other.
"""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Receive, Scope, Send

_REFUSAL = b'{"error": "missing or wrong bearer token", "kind": "Auth"}'


class BearerAuth:
    """Every HTTP request must carry `Authorization: Bearer <token>`. The comparison is constant-time
    so that response timing tells an attacker nothing about how much of a guess was right."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if not secrets.compare_digest(headers.get(b"authorization", b""), self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": _REFUSAL})
                return
        await self.app(scope, receive, send)
