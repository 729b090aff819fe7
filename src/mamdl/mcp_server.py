"""`mam mcp`: the Model Context Protocol server, a thin front over `mamdl.service.Service`.

Tools are written for a model to read: short descriptions, typed structured output (pydantic
models, so clients get an output schema), annotations saying which tools only read and which
destroy. Every expected failure becomes a `ToolError` whose text is the service's own message,
redacted; nothing else (no traceback, no cookie, no passkey) reaches the model.

The engine lives in this process: downloads the assistant starts keep running between calls, and
the server re-adds unfinished torrents when it starts.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from mamdl.errors import MamdlError
from mamdl.redact import redact
from mamdl.service import SearchSpec, Service
from mamdl.service.models import FetchResult, ResultRow, SentQuery, UserStats

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


class SearchOut(BaseModel):
    results: list[ResultRow]
    confidence: float = Field(description="How sure the first result is the intended work (0-1).")
    confident: bool = Field(description="True when the first result can be taken without asking the user.")
    queries_sent: list[SentQuery]


def _tool_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Expected failures -> ToolError with the service's message; anything else -> a short,
    redacted internal-error message (the traceback goes to the log, also redacted)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except ToolError:
            raise
        except MamdlError as exc:
            raise ToolError(redact(str(exc))) from None
        except ValueError as exc:
            raise ToolError(redact(str(exc))) from None
        except Exception as exc:
            log.error("tool %s failed", fn.__name__, exc_info=True)
            raise ToolError(f"internal error ({type(exc).__name__}); see the mamdl log") from None

    return wrapper


def build_server(service: Service, *, allow_destructive: bool = True) -> MCPServer:
    """The server with its tools bound to `service` (tests use this in-process)."""
    server = MCPServer(
        name="mamdl",
        instructions=(
            "Search MyAnonaMouse (a private ebook/audiobook tracker), fetch and download torrents, "
            "watch progress, manage seeding and read account stats. Search first, then pass a result's "
            "id to download_torrent. Downloads run in the background: poll get_progress. Respect the "
            "account: check get_user_stats warnings before downloading many things."
        ),
        version=__import__("mamdl").__version__,
    )

    @server.tool(annotations=READ_ONLY)
    @_tool_errors
    def search_mam(
        title: str | None = None,
        author: str | None = None,
        narrator: str | None = None,
        series: str | None = None,
        text: str | None = None,
        format: Literal["ebook", "audiobook", "any"] | None = None,
        max_results: Annotated[int, Field(ge=1, le=50)] = 10,
    ) -> SearchOut:
        """Search MAM for a book and rank results so the intended work is first. Give at least one of
        title, author, narrator, series or text; typos and missing accents are tolerated."""
        spec = SearchSpec(
            title=title or "", author=author or "", narrator=narrator or "", series=series or "",
            text=text or "", format=format,
        )
        if spec.is_empty():
            raise ToolError("Give at least one of title, author, narrator, series or text.")
        outcome = service.search(spec, limit=max_results)
        return SearchOut(
            results=outcome.rows,
            confidence=outcome.confidence,
            confident=outcome.confident,
            queries_sent=outcome.queries_sent,
        )

    @server.tool(annotations=READ_ONLY)
    @_tool_errors
    def get_user_stats(refresh: bool = False) -> UserStats:
        """The user's MAM account: class, ratio, upload/download, bonus points, wedges, unsatisfied
        count and limit, hit-and-runs, with warnings when close to a limit. Cached for 24 h unless
        refresh=true."""
        return service.user(refresh=refresh)

    @server.tool(
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
    )
    @_tool_errors
    def fetch_torrent_file(torrent_id: int) -> FetchResult:
        """Save a torrent's .torrent file (does not download the book). Prefer download_torrent."""
        return service.fetch(torrent_id)

    _register_engine_tools(server, service, allow_destructive=allow_destructive)
    return server


def _register_engine_tools(server: MCPServer, service: Service, *, allow_destructive: bool) -> None:
    """Tools that need the download engine; filled in by the engine integration."""
    from mamdl.mcp_engine_tools import register

    register(server, service, allow_destructive=allow_destructive, tool_errors=_tool_errors)


def run(*, http: bool = False, host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
        allow_destructive: bool = True) -> None:
    """Serve over stdio (default) or streamable HTTP (`/mcp`, bearer token required)."""
    from mamdl.cli.common import make_service

    service = make_service()
    try:
        service.start_engine()
        server = build_server(service, allow_destructive=allow_destructive)
        if not http:
            server.run()
            return
        _serve_http(server, host=host, port=port, token=token)
    finally:
        service.close()


def _serve_http(server: MCPServer, *, host: str, port: int, token: str | None) -> None:
    import sys

    import anyio
    import uvicorn

    if not token:
        token = secrets.token_urlsafe(24)
        print(f"MCP bearer token: {token}", file=sys.stderr, flush=True)
    app = BearerAuth(server.streamable_http_app(host=host), token)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    print(f"MCP server on http://{host}:{port}/mcp", file=sys.stderr, flush=True)
    anyio.run(uvicorn.Server(config).serve)


class BearerAuth:
    """Minimal ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if not secrets.compare_digest(headers.get(b"authorization", b""), self.expected):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": b"missing or wrong bearer token\n"})
                return
        await self.app(scope, receive, send)


__all__ = ["build_server", "run", "Context"]
