"""The HTTP API: every route calls the same `Service` method the CLI and the MCP tools call.

Security: every request carries `Authorization: Bearer <token>` (compared in constant time); the
Host header must name this machine (DNS-rebinding protection), and errors are the service's own
redacted messages, never a traceback. The routes are listed in `ROUTES_DOC` (served at
`/api/openapi.json`-lite: `GET /api`) and in the README.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mamdl import errors
from mamdl.bearer import BearerAuth
from mamdl.jsonbody import json_object
from mamdl.redact import redact

if TYPE_CHECKING:
    from mamdl.service.core import Service
    from mamdl.service.supervisor import Supervisor

log = logging.getLogger(__name__)

ROUTES_DOC: dict[str, str] = {
    "GET /api": "this list",
    "GET /api/health": "liveness: pid, version, session state, torrent count, hit-and-run risks",
    "GET /api/status[?hash=H&mam=1]": "every torrent (or one) as `mam status --json` shows it",
    "POST /api/torrents {id, ratio?, hours?, wedge?, to?, force?}": "fetch and download a MAM torrent (guards apply)",
    "POST /api/torrents/{hash}/pause": "pause",
    "POST /api/torrents/{hash}/resume {force?}": "resume",
    "POST /api/torrents/{hash}/goal {ratio?, hours?, force?}": "set the seeding goal (under 72 h only with force)",
    "DELETE /api/torrents/{hash}?delete_data=0&force=0": "remove (refused while it would be a hit-and-run)",
    "GET /api/limits, POST /api/limits {download_kibps?, upload_kibps?}": (
        "the embedded engine's rate limits, KiB/s (0 = unlimited): saved in config.toml and applied now"
    ),
    "GET /api/search?title=&author=&narrator=&series=&text=&format=&limit=": "search and rank",
    "GET /api/account[?refresh=1]": "account stats (`mam user --json`)",
    "GET /api/doctor": "`mam doctor --json`",
    "GET /api/backend/snapshots, POST /api/backend/add, POST /api/backend/{hash}/{verb}": (
        "the backend verbs other mamdl processes use (no guards: their Service applied them)"
    ),
    "GET /api/backend/{hash}/wait?timeout=S": (
        "the torrent's snapshot once its download is done (or errored, removed), or after S seconds (at most 30)"
    ),
    "/mcp": "MCP streamable HTTP (same tools as `mam mcp`)",
}

_STATUS = {
    "GuardRefused": 409,
    "EngineBusy": 409,
    "NotFound": 404,
    "SessionExpired": 502,
    "AccountBlocked": 502,
    "RateLimited": 503,
    "UsageError": 400,
    "ConfigError": 400,
    "TorrentError": 400,
    "EngineError": 400,
}


def _plain(x: Any) -> Any:
    if isinstance(x, BaseModel):
        return x.model_dump(mode="json")
    if isinstance(x, list):
        return [_plain(i) for i in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _error(kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": redact(message), "kind": kind}, status_code=_STATUS.get(kind, 500))


def endpoint(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """A sync handler (Starlette runs it in a worker thread) -> JSON, errors -> {error, kind}."""

    @functools.wraps(fn)
    def wrapper(request: Request) -> JSONResponse:
        try:
            return JSONResponse(_plain(fn(request)))
        except errors.MamdlError as exc:
            return _error(type(exc).__name__, str(exc))
        except Exception as exc:
            log.error("API %s failed", request.url.path, exc_info=True)
            return _error("InternalError", f"internal error ({type(exc).__name__}); see the mamdl log")

    return wrapper


def _body(request: Request) -> dict[str, Any]:
    """The JSON body, read from a route that runs in a worker thread."""
    import anyio.from_thread

    return json_object(anyio.from_thread.run(request.body))


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "0").lower() in ("1", "true", "yes")


def _num(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise errors.UsageError(f"{name} must be a number") from None
    if out < 0:
        raise errors.UsageError(f"{name} must not be negative")
    return out


def _whole(value: Any, name: str) -> int | None:
    """A whole, non-negative number from a JSON body (None when absent)."""
    out = _num(value, name)
    if out is not None and out != int(out):
        raise errors.UsageError(f"{name} must be a whole number")
    return None if out is None else int(out)


def _goal(data: Any) -> Any:
    from pydantic import ValidationError

    from mamdl.engine import SeedGoal

    try:
        return SeedGoal.model_validate(data)
    except ValidationError:
        raise errors.UsageError("goal must be {ratio: number >= 0, seed_seconds: integer >= 0}") from None


def api_routes(svc: Service, supervisor: Supervisor | None) -> list[Route]:
    from mamdl.service import SearchSpec

    started = time.time()

    @endpoint
    def index(request: Request) -> Any:
        return {"routes": ROUTES_DOC}

    @endpoint
    def health(request: Request) -> Any:
        return {
            "ok": True,
            "pid": os.getpid(),
            "version": __import__("mamdl").__version__,
            "up_seconds": int(time.time() - started),
            "torrents": len(svc.engine().snapshots()),
            "session": supervisor.session_state if supervisor else "unknown",
            "risks": supervisor.risks if supervisor else {},
            "supervisor_passes": supervisor.ticks if supervisor else 0,
        }

    @endpoint
    def status(request: Request) -> Any:
        return svc.status(request.query_params.get("hash") or None, with_mam=_flag(request, "mam"))

    @endpoint
    def add(request: Request) -> Any:
        b = _body(request)
        if "id" not in b:
            raise errors.UsageError("give the MAM torrent id as `id`")
        try:
            tid = int(b["id"])
        except (TypeError, ValueError):
            raise errors.UsageError("`id` must be a MAM torrent id (a number)") from None
        wedge = b.get("wedge")
        if wedge not in (None, "never", "auto", "always"):
            raise errors.UsageError("wedge must be never, auto or always")
        goal = svc.default_goal(_num(b.get("ratio"), "ratio"), _num(b.get("hours"), "hours"))
        dest = Path(b["to"]) if b.get("to") else None
        return svc.get(tid, download=True, goal=goal, dest=dest, wedge=wedge, force=bool(b.get("force")))

    @endpoint
    def pause(request: Request) -> Any:
        return svc.pause(request.path_params["h"])

    @endpoint
    def resume(request: Request) -> Any:
        return svc.resume(request.path_params["h"], force=bool(_body(request).get("force")))

    @endpoint
    def goal(request: Request) -> Any:
        b = _body(request)
        ratio, hours = _num(b.get("ratio"), "ratio"), _num(b.get("hours"), "hours")
        if ratio is None and hours is None:
            raise errors.UsageError("give ratio and/or hours")
        return svc.set_goal(request.path_params["h"], ratio=ratio, hours=hours, force=bool(b.get("force")))

    @endpoint
    def limits(request: Request) -> Any:
        if request.method == "GET":
            return svc.rate_limits()
        b = _body(request)
        down, up = _whole(b.get("download_kibps"), "download_kibps"), _whole(b.get("upload_kibps"), "upload_kibps")
        if down is None and up is None:
            raise errors.UsageError("give download_kibps and/or upload_kibps (KiB/s, 0 = unlimited)")
        return svc.set_rate_limits(down, up)

    @endpoint
    def remove(request: Request) -> Any:
        h = svc.resolve_hash(request.path_params["h"])
        reason = svc.remove(h, delete_data=_flag(request, "delete_data"), force=_flag(request, "force"))
        return {"removed": h, "data_deleted": _flag(request, "delete_data"), "reason": reason}

    @endpoint
    def search(request: Request) -> Any:
        q = request.query_params
        fmt = q.get("format") or None
        if fmt not in (None, "ebook", "audiobook", "any"):
            raise errors.UsageError("format must be ebook, audiobook or any")
        spec = SearchSpec(
            title=q.get("title", ""),
            author=q.get("author", ""),
            narrator=q.get("narrator", ""),
            series=q.get("series", ""),
            text=q.get("text", ""),
            format=fmt,
        )
        limit = int(_num(q.get("limit"), "limit") or 25)
        return svc.search(spec, limit=max(1, min(limit, 100)))

    @endpoint
    def account(request: Request) -> Any:
        return svc.user(refresh=_flag(request, "refresh"))

    @endpoint
    def doctor(request: Request) -> Any:
        return svc.doctor()

    # ---- the backend verbs, for other mamdl processes (RemoteBackend)

    @endpoint
    def b_snapshots(request: Request) -> Any:
        return svc.engine().snapshots()

    @endpoint
    def b_add(request: Request) -> Any:
        b = _body(request)
        try:
            raw = base64.b64decode(b["torrent_b64"], validate=True)
        except (KeyError, ValueError):
            raise errors.UsageError("torrent_b64 must hold the .torrent file, base64-encoded") from None
        g = b.get("goal")
        h = svc.engine().add(
            raw,
            str(b.get("save_path") or svc.settings.effective_download_dir),
            mam_id=b.get("mam_id"),
            title=b.get("title"),
            goal=_goal(g) if g else None,
            paused=bool(b.get("paused")),
        )
        return {"info_hash": h}

    @endpoint
    def b_wait(request: Request) -> Any:
        # Blocks a worker thread for at most WAIT_MAX_SECONDS: a front is told the moment a
        # download completes instead of polling for it.
        from mamdl.service.remote import WAIT_MAX_SECONDS

        h = request.path_params["h"].lower()
        if not h or any(c not in "0123456789abcdef" for c in h):
            raise errors.UsageError(f"{h!r} is not an info-hash")
        timeout = _num(request.query_params.get("timeout"), "timeout")
        return svc.wait_download(h, min(WAIT_MAX_SECONDS, 10.0 if timeout is None else timeout))

    @endpoint
    def b_verb(request: Request) -> Any:
        be = svc.engine()
        h, verb = request.path_params["h"].lower(), request.path_params["verb"]
        if verb == "pause":
            return be.pause(h)
        if verb == "resume":
            return be.resume(h)
        if verb == "finish":
            return be.finish(h)
        if verb == "goal":
            return be.set_goal(h, _goal(_body(request)))
        if verb == "remove":
            be.remove(h, delete_data=bool(_body(request).get("delete_data")))
            return {"removed": h}
        raise errors.UsageError(f"unknown backend verb {verb!r}")

    return [
        Route("/api", index),
        Route("/api/health", health),
        Route("/api/status", status),
        Route("/api/torrents", add, methods=["POST"]),
        Route("/api/torrents/{h}/pause", pause, methods=["POST"]),
        Route("/api/torrents/{h}/resume", resume, methods=["POST"]),
        Route("/api/torrents/{h}/goal", goal, methods=["POST"]),
        Route("/api/torrents/{h}", remove, methods=["DELETE"]),
        Route("/api/limits", limits, methods=["GET", "POST"]),
        Route("/api/search", search),
        Route("/api/account", account),
        Route("/api/doctor", doctor),
        Route("/api/backend/snapshots", b_snapshots),
        Route("/api/backend/add", b_add, methods=["POST"]),
        Route("/api/backend/{h}/wait", b_wait),
        Route("/api/backend/{h}/{verb}", b_verb, methods=["POST"]),
    ]


LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]


def allowed_hosts(bind_host: str, extra: list[str]) -> list[str]:
    """Host-header names accepted: loopback names, the bound address, and the configured extras.
    A wildcard bind with no extras accepts any name (the token still guards it)."""
    if bind_host in ("0.0.0.0", "::", "") and not extra:
        return ["*"]
    return sorted({*LOOPBACK_NAMES, bind_host, *extra})


def build_app(
    svc: Service,
    *,
    token: str,
    host: str = "127.0.0.1",
    supervisor: Supervisor | None = None,
    extra_hosts: list[str] | None = None,
    mcp: bool = True,
    web: ASGIApp | None = None,
) -> ASGIApp:
    """The whole application: /api routes and (with `mcp`) the MCP endpoint at /mcp, behind the
    bearer token; with `web`, every other path goes to the web page, which has its own guards
    (login cookie, CSRF) because a browser cannot send a bearer token. The Host check covers all."""
    hosts = allowed_hosts(host, list(extra_hosts or []))
    routes = api_routes(svc, supervisor)
    if mcp:
        lazy = LazyMcp(svc, host=host, hosts=hosts)
        app = Starlette(routes=[*routes, Route("/mcp", lazy)], lifespan=lazy.lifespan)
    else:
        app = Starlette(routes=routes)
    api: ASGIApp = BearerAuth(app, token)
    if web is not None:
        api = PathSplit(api, web)
    return TrustedHostMiddleware(api, allowed_hosts=hosts)


class LazyApp:
    """An ASGI app made by `build()` on its first request, in a worker thread (the loop keeps
    serving meanwhile). Why: `mam serve` should not hold what nobody has asked for yet (the web
    page's Jinja2 environment, about 2 MiB)."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    def _get(self) -> ASGIApp:
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app
        if app is None:
            import anyio.to_thread

            app = await anyio.to_thread.run_sync(self._get)
        await app(scope, receive, send)


class LazyMcp:
    """The MCP endpoint (`/mcp`), built on its first request.

    Why: the MCP SDK is the largest thing `mam serve` would load (about 24 MiB of its resident
    memory and 0.7 s of its start), and most services never get an MCP client. The app's
    lifespan holds a task group; the first request builds the MCP app (in a worker thread, so
    the API keeps answering meanwhile) and runs its session manager in that group until the
    service stops."""

    def __init__(self, svc: Service, *, host: str, hosts: list[str]) -> None:
        self._svc = svc
        self._host = host
        self._hosts = hosts
        self._app: ASGIApp | None = None
        self._lock: Any = None
        self._stop: Any = None
        self._tg: Any = None

    def build(self) -> Starlette:
        from mcp.server.transport_security import TransportSecuritySettings

        from mamdl.mcp_server import build_server  # the MCP front, mounted in this process

        server = build_server(self._svc)
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection="*" not in self._hosts,
            allowed_hosts=[f"{h}:*" for h in self._hosts],
            allowed_origins=[f"http://{h}:*" for h in self._hosts],
        )
        return server.streamable_http_app(host=self._host, transport_security=security)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        import anyio

        self._lock, self._stop = anyio.Lock(), anyio.Event()
        async with anyio.create_task_group() as tg:
            self._tg = tg
            try:
                yield
            finally:
                self._tg = None
                self._stop.set()  # ends the MCP session manager, if it was started

    async def _start(self) -> ASGIApp:
        import anyio
        import anyio.to_thread

        if self._tg is None or self._lock is None:
            raise RuntimeError("the MCP endpoint needs the app's lifespan (uvicorn runs it)")
        async with self._lock:
            if self._app is None:
                inner = await anyio.to_thread.run_sync(self.build)
                ready = anyio.Event()
                stop = self._stop

                async def run() -> None:
                    async with inner.router.lifespan_context(inner):
                        ready.set()
                        await stop.wait()

                self._tg.start_soon(run)
                await ready.wait()
                self._app = inner
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app if self._app is not None else await self._start()
        await app(scope, receive, send)


class PathSplit:
    """`/api` and `/mcp` (and the lifespan, which the MCP session manager needs) to the API; every
    other path to the web page."""

    PREFIXES = ("/api", "/mcp")

    def __init__(self, api: ASGIApp, web: ASGIApp) -> None:
        self.api = api
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "lifespan" or any(path == p or path.startswith(p + "/") for p in self.PREFIXES):
            await self.api(scope, receive, send)
        else:
            await self.web(scope, receive, send)
