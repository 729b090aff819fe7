"""`mam mcp`: the Model Context Protocol server, a thin front over `mamdl.service.Service`.

Tools are written for a model to read: short descriptions, typed structured output (pydantic
models, so clients get an output schema), annotations saying which tools only read and which
destroy. Every expected failure becomes a `ToolError` whose text is the service's own message,
redacted; nothing else (no traceback, no cookie, no passkey) reaches the model.

Downloads run in the background service (`mam serve`, started on first need when `auto_serve` is
on), so they keep running and seeding after the assistant's session ends; the same tools are
also served by the service itself at `/mcp`.
"""

from __future__ import annotations

import functools
import inspect
import logging
import secrets
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from mamdl.bearer import BearerAuth
from mamdl.errors import MamdlError
from mamdl.redact import redact
from mamdl.service import SearchSpec, Service
from mamdl.service.bonus import PurchaseOut, UserStatsWithBonus
from mamdl.service.models import FetchResult, RateLimits, ResultRow, SentQuery, TorrentStatus

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


class SearchOut(BaseModel):
    results: list[ResultRow]
    confidence: float = Field(description="How sure the first result is the intended work (0-1).")
    confident: bool = Field(description="True when the first result can be taken without asking the user.")
    queries_sent: list[SentQuery]


def _as_tool_error(exc: Exception, name: str) -> ToolError:
    if isinstance(exc, ToolError):
        return exc
    if isinstance(exc, MamdlError):
        return ToolError(redact(str(exc)))
    log.error("tool %s failed", name, exc_info=True)
    return ToolError(f"internal error ({type(exc).__name__}); see the mamdl log")


def _tool_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Expected failures -> ToolError with the service's message; anything else -> a short,
    redacted internal-error message (the traceback goes to the log, also redacted)."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                raise _as_tool_error(exc, fn.__name__) from None

        return awrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _as_tool_error(exc, fn.__name__) from None

    return wrapper


def _offer_only(actions: list[str]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Narrow a tool's `action` parameter to `actions`, so that the schema the model reads offers
    nothing else (`--no-destructive` takes `remove` out of it, not only refuses it)."""

    def narrow(fn: Callable[..., T]) -> Callable[..., T]:
        fn.__annotations__["action"] = Literal.__getitem__(tuple(actions))
        return fn

    return narrow


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
    async def search_mam(
        ctx: Context,
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
            title=title or "",
            author=author or "",
            narrator=narrator or "",
            series=series or "",
            text=text or "",
            format=format,
        )
        if spec.is_empty():
            raise ToolError("Give at least one of title, author, narrator, series or text.")
        await ctx.report_progress(0, 2, "searching MAM (at most 4 requests, 1 per second)")
        outcome = await anyio.to_thread.run_sync(functools.partial(service.search, spec, limit=max_results))
        await ctx.report_progress(2, 2, f"{len(outcome.rows)} results ranked")
        return SearchOut(
            results=outcome.rows,
            confidence=outcome.confidence,
            confident=outcome.confident,
            queries_sent=outcome.queries_sent,
        )

    @server.tool(annotations=READ_ONLY)
    @_tool_errors
    def get_user_stats(refresh: bool = False) -> UserStatsWithBonus:
        """The user's MAM account: class, ratio, upload/download, bonus points, wedges, unsatisfied
        count and limit, hit-and-runs, with warnings when close to a limit, and a summary of MAM's
        bonus-point history (earned, spent, last purchase). Cached for 24 h unless refresh=true."""
        return service.user_with_bonus(refresh=refresh)

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        )
    )
    @_tool_errors
    def fetch_torrent_file(torrent_id: int) -> FetchResult:
        """Save a torrent's .torrent file (does not download the book). Prefer download_torrent."""
        return service.fetch(torrent_id)

    _register_engine_tools(server, service, allow_destructive=allow_destructive)
    if allow_destructive:  # --no-destructive: the tool does not exist at all
        _register_bonus_tools(server, service)
    return server


class DownloadOut(BaseModel):
    torrent_id: int
    title: str
    torrent_file: str
    info_hash: str
    download_started: bool
    goal_ratio: float | None = None
    goal_seed_hours: float | None = None
    wedge_used: bool = False
    wedge_reason: str = ""
    notes: list[str] = Field(default_factory=list)


class ProgressOut(BaseModel):
    torrents: list[TorrentStatus]
    engine: str = Field(description="Which process drives the download engine.")


class ManageOut(BaseModel):
    info_hash: str
    action: str
    message: str
    status: TorrentStatus | None = None


MUTATING = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)


def _register_engine_tools(server: MCPServer, service: Service, *, allow_destructive: bool) -> None:
    @server.tool(annotations=MUTATING)
    @_tool_errors
    def download_torrent(
        torrent_id: int,
        download_content: bool = False,
        seed_after: bool = False,
        seed_ratio: Annotated[float, Field(ge=0, le=100)] = 1.0,
        seed_hours: Annotated[float | None, Field(ge=0)] = None,
        wedge: Literal["never", "auto", "always"] | None = None,
    ) -> DownloadOut:
        """Fetch a torrent's .torrent file by MAM id. With download_content=true also start
        downloading it in the background (returns at once with the info_hash; poll get_progress).
        It always seeds for MAM's minimum time (72 h; seed_hours below that is refused) so it never
        becomes a hit-and-run; seed_after=true also seeds until seed_ratio. Refused, with the
        numbers, when the account is near its unsatisfied limit or MAM's numbers cannot be read.
        wedge: spend a freeleech wedge (default: config)."""
        goal = service.default_goal(ratio=seed_ratio if seed_after else 0.0, seed_hours=seed_hours)
        got = service.get(torrent_id, download=download_content, goal=goal, wedge=wedge, force=False)
        return DownloadOut(
            torrent_id=torrent_id,
            title=got.fetch.title,
            torrent_file=got.fetch.path,
            info_hash=got.info_hash or got.fetch.info_hash,
            download_started=got.info_hash is not None,
            goal_ratio=goal.ratio if got.info_hash else None,
            goal_seed_hours=round(goal.seed_seconds / 3600, 3) if got.info_hash else None,
            wedge_used=got.fetch.wedge_used,
            wedge_reason=got.fetch.wedge_reason,
            notes=got.notes,
        )

    @server.tool(annotations=READ_ONLY)
    @_tool_errors
    def get_progress(info_hash: str | None = None, with_mam: bool = False) -> ProgressOut:
        """Progress of one torrent (info_hash, or a unique prefix of it) or of all: state, progress
        0-1, rates, peers, ETA, ratio and seeding time against the goals, tracker health and
        hit-and-run risk. with_mam=true also asks MAM, per torrent, whether it is satisfied and
        how much seeding MAM still wants (mam_seed_time_to_go, seconds)."""
        rows = service.status(info_hash, with_mam=with_mam)
        return ProgressOut(torrents=rows, engine=service.engine_holder() or "not running")

    @server.tool(annotations=MUTATING)
    @_tool_errors
    def set_rate_limits(
        download_kibps: Annotated[int | None, Field(ge=0)] = None,
        upload_kibps: Annotated[int | None, Field(ge=0)] = None,
    ) -> RateLimits:
        """Show (no arguments) or set the rate limits for all torrents together, in KiB/s
        (0 = unlimited; 1024 = 1 MiB/s). Saved in the config and applied at once. Limit upload
        only when the user asks: on MAM, upload is the account's ratio. Refused when the user's
        own torrent client does the downloading (its limits are set there)."""
        if download_kibps is None and upload_kibps is None:
            return service.rate_limits()
        return service.set_rate_limits(download_kibps, upload_kibps)

    actions = ["pause", "resume", "set_goal"] + (["remove"] if allow_destructive else [])

    @server.tool(annotations=DESTRUCTIVE if allow_destructive else MUTATING)
    @_tool_errors
    @_offer_only(actions)
    def manage_seeding(
        info_hash: str,
        action: Literal["pause", "resume", "remove", "set_goal"],
        delete_data: bool = False,
        ratio: Annotated[float | None, Field(ge=0)] = None,
        hours: Annotated[float | None, Field(ge=0)] = None,
    ) -> ManageOut:
        """Control a torrent: pause, resume, remove, or set_goal (ratio and/or hours; a MAM
        torrent's hours cannot go below 72). remove keeps the downloaded files unless
        delete_data=true (only when the user explicitly asked for deletion), and is refused unless
        MAM's own per-torrent list shows the torrent satisfied. Pausing an unsatisfied torrent
        works but warns: MAM's clock stops while it is paused."""
        if action not in actions:
            raise ToolError(f"'{action}' is disabled on this server (started with --no-destructive).")
        if action == "pause":
            st = service.pause(info_hash)
            message = "paused" + ("; warning: " + " ".join(st.warnings) if st.warnings else "")
            return ManageOut(info_hash=st.info_hash, action=action, message=message, status=st)
        if action == "resume":
            st = service.resume(info_hash)
            return ManageOut(info_hash=st.info_hash, action=action, message="resumed", status=st)
        if action == "set_goal":
            if ratio is None and hours is None:
                raise ToolError("set_goal needs ratio and/or hours.")
            st = service.set_goal(info_hash, ratio=ratio, hours=hours)
            return ManageOut(info_hash=st.info_hash, action=action, message="goal set", status=st)
        h = service.resolve_hash(info_hash)
        reason = service.remove(h, delete_data=delete_data, force=False)
        return ManageOut(
            info_hash=h,
            action=action,
            message=("removed with its data: " if delete_data else "removed, data kept: ") + reason,
        )


SPENDS = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)


def _register_bonus_tools(server: MCPServer, service: Service) -> None:
    @server.tool(annotations=SPENDS)
    @_tool_errors
    def spend_bonus_points(
        kind: Literal["upload", "vip"],
        amount: Annotated[
            str, Field(description="GB of upload credit (50 or 100), or VIP weeks (1 or more, or 'max').")
        ],
        confirm_cost: Annotated[
            int | None,
            Field(description="Leave out for a dry run. To spend, the exact cost the dry run stated."),
        ] = None,
    ) -> PurchaseOut:
        """Spend the user's MAM bonus points on upload credit or VIP. Without confirm_cost this is a
        dry run: it states the cost and the balance after and buys nothing. Tell the user; only when
        they explicitly agree, call again with confirm_cost set to that cost. Purchases cannot be
        undone and are never retried; a reserve of points is always kept."""
        if confirm_cost is None:
            return service.bonus_buy(kind, amount, confirm=False)
        q = service.bonus_quote(kind, amount)
        if q.cost != confirm_cost:
            raise ToolError(
                f"The cost is now {q.cost:,} points, not {confirm_cost:,}: nothing bought. Ask the user again."
            )
        return service.bonus_buy(kind, amount, confirm=True, source="mcp", quoted=q)


def run(
    *,
    http: bool = False,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    allow_destructive: bool = True,
) -> None:
    """Serve over stdio (default) or streamable HTTP (`/mcp`, bearer token required)."""
    from mamdl.config import load_settings
    from mamdl.redact import setup_logging

    settings = load_settings()
    setup_logging(settings.paths.logs_dir / "mamdl.log")
    service = Service(settings)
    try:
        if not settings.auto_serve and service.service_running() is None:
            # No background service wanted: this server owns the downloads while it runs.
            service.start_engine()
            service.watch_library()  # place each download in the library when it finishes
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


__all__ = ["build_server", "run"]
