"""Pages and the small JSON routes their JavaScript calls; each calls a `Service` method.

Pages: `/` search (a plain GET form, rendered on the server), `/torrents` (live table, polled from
`/web/status`), `/account` (`mam user` + `mam doctor` + the supervisor's hit-and-run risks) and
`/login`. JSON: `/web/status`, `/web/preview/{id}` (the guards' answer before a download),
`/web/download`, `/web/torrents/{hash}/{pause|resume|remove}`. Refusals are the service's own
sentences (`GuardRefused`), redacted, never a traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from mamdl import errors
from mamdl.jsonbody import json_object
from mamdl.redact import redact
from mamdl.web.security import COOKIE, WebGuard, WebKeys

if TYPE_CHECKING:
    from mamdl.service import Service
    from mamdl.service.supervisor import Supervisor

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
FORMATS = ("", "ebook", "audiobook", "any")
WEDGES = ("never", "auto", "always")
_STATUS = {"GuardRefused": 409, "EngineBusy": 409, "NotFound": 404, "UsageError": 400, "EngineError": 400}


def _env() -> jinja2.Environment:
    # Autoescape everything: titles, authors, MAM's messages are text, never markup.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )


def _plain(x: Any) -> Any:
    if isinstance(x, BaseModel):
        return x.model_dump(mode="json")
    if isinstance(x, list):
        return [_plain(i) for i in x]
    return x


def _fail(exc: Exception, path: str) -> tuple[str, str, int]:
    if isinstance(exc, errors.MamdlError):
        kind = type(exc).__name__
        return kind, redact(str(exc)), _STATUS.get(kind, 502)
    log.error("web %s failed", path, exc_info=True)
    return "InternalError", f"internal error ({type(exc).__name__}); see the mamdl log", 500


async def _call(request: Request, fn: Any, *args: Any, **kwargs: Any) -> JSONResponse:
    """Run a blocking service call in a worker thread; its refusal becomes {error, kind}."""
    try:
        return JSONResponse(_plain(await run_in_threadpool(fn, *args, **kwargs)))
    except Exception as exc:
        kind, message, status = _fail(exc, request.url.path)
        return JSONResponse({"error": message, "kind": kind}, status_code=status)


def _torrent_id(value: Any) -> int:
    try:
        tid = int(value)
    except (TypeError, ValueError):
        raise errors.UsageError("the MAM torrent id must be a number") from None
    if tid <= 0:
        raise errors.UsageError("the MAM torrent id must be a positive number")
    return tid


def _kibps(value: Any, name: str) -> int | None:
    """A rate limit from the page's form: a whole number of KiB/s, 0 or more (None when blank)."""
    if value is None or value == "":
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        raise errors.UsageError(f"{name}: a whole number of KiB/s (0 = unlimited)") from None
    if n < 0:
        raise errors.UsageError(f"{name}: a whole number of KiB/s (0 = unlimited)")
    return n


def _wedge(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if value not in WEDGES:
        raise errors.UsageError("wedge must be never, auto or always")
    return str(value)


def build_web(svc: Service, *, token: str, require_login: bool, supervisor: Supervisor | None = None) -> ASGIApp:
    """The web application, already wrapped in its guards (`WebGuard`)."""
    from mamdl.service import SearchSpec

    env = _env()
    keys = WebKeys(token, require_login=require_login)

    def page(name: str, request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
        csrf = keys.login_csrf if name == "login.html" else keys.csrf
        html = env.get_template(name).render(
            csrf=csrf, page=name.removesuffix(".html"), login=keys.require_login, **ctx
        )
        return HTMLResponse(html, status_code=status)

    # ---------------------------------------------------------------- pages

    def search_page(request: Request) -> HTMLResponse:
        q = request.query_params
        form = {k: q.get(k, "").strip() for k in ("title", "author", "narrator", "series", "text", "lang")}
        form["format"] = q.get("format", "") if q.get("format", "") in FORMATS else ""
        form["freeleech"] = "1" if q.get("freeleech") else ""
        spec = SearchSpec(
            title=form["title"],
            author=form["author"],
            narrator=form["narrator"],
            series=form["series"],
            text=form["text"],
            format=form["format"] or None,
            languages=[c.strip().upper() for c in form["lang"].split(",") if c.strip()],
            freeleech_only=bool(form["freeleech"]),
        )
        outcome, error = None, None
        if not spec.is_empty():
            try:
                outcome = svc.search(spec, limit=25)
            except Exception as exc:
                error = _fail(exc, request.url.path)[1]
        return page("search.html", request, form=form, outcome=outcome, error=error)

    def torrents_page(request: Request) -> HTMLResponse:
        if svc.settings.backend == "embedded":
            return page("torrents.html", request, limits=svc.rate_limits())
        note = f"Rate limits: set them in {svc.settings.backend} (mamdl leaves the client's own limits alone)."
        return page("torrents.html", request, limits=None, limits_note=note)

    def account_page(request: Request) -> HTMLResponse:
        user = checks = None
        problems: list[str] = []
        try:
            user = svc.user(refresh=request.query_params.get("refresh") == "1")
        except Exception as exc:
            problems.append(_fail(exc, request.url.path)[1])
        try:
            checks = svc.doctor()
        except Exception as exc:
            problems.append(_fail(exc, request.url.path)[1])
        names = {}
        try:
            names = {s.info_hash: s.title or s.name for s in svc.status()}
        except Exception as exc:
            problems.append(_fail(exc, request.url.path)[1])
        risks = [
            {"hash": h, "name": names.get(h, h[:12]), "why": why}
            for h, why in (supervisor.risks.items() if supervisor else [])
        ]
        return page(
            "account.html",
            request,
            user=user,
            checks=checks,
            risks=risks,
            session=supervisor.session_state if supervisor else "unknown",
            problems=problems,
        )

    async def login(request: Request) -> Response:
        if request.method == "GET":
            if not keys.require_login:
                return RedirectResponse("/", status_code=303)
            return page("login.html", request, error=None)
        form = await request.form()
        if not keys.login_csrf_ok(str(form.get("csrf", ""))):
            return page("login.html", request, status=403, error="The form expired; try again.")
        if not keys.token_ok(str(form.get("token", ""))):
            return page("login.html", request, status=401, error="That is not the service's API token.")
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(
            COOKIE,
            keys.session,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            max_age=30 * 24 * 3600,
        )
        return resp

    async def logout(request: Request) -> Response:
        resp = RedirectResponse("/login" if keys.require_login else "/", status_code=303)
        resp.delete_cookie(COOKIE, httponly=True, samesite="strict")
        return resp

    # ---------------------------------------------------------------- JSON for the page's script

    async def status(request: Request) -> JSONResponse:
        return await _call(request, svc.status, with_mam=request.query_params.get("mam") == "1")

    async def preview(request: Request) -> JSONResponse:
        try:
            tid = _torrent_id(request.path_params["tid"])
            wedge = _wedge(request.query_params.get("wedge"))
        except errors.UsageError as exc:
            return JSONResponse({"error": str(exc), "kind": "UsageError"}, status_code=400)
        return await _call(request, svc.preview_get, tid, wedge=wedge)

    async def download(request: Request) -> JSONResponse:
        try:
            body = json_object(await request.body())
            tid = _torrent_id(body.get("id"))
            wedge = _wedge(body.get("wedge"))
        except errors.UsageError as exc:
            return JSONResponse({"error": str(exc), "kind": "UsageError"}, status_code=400)
        return await _call(request, svc.get, tid, download=True, goal=svc.default_goal(), wedge=wedge)

    async def limits(request: Request) -> JSONResponse:
        try:
            body = json_object(await request.body())
            down, up = (_kibps(body.get(k), k) for k in ("download_kibps", "upload_kibps"))
        except errors.UsageError as exc:
            return JSONResponse({"error": str(exc), "kind": "UsageError"}, status_code=400)
        return await _call(request, svc.set_rate_limits, down, up)

    async def act(request: Request) -> JSONResponse:
        h, verb = request.path_params["h"], request.path_params["verb"]
        if verb == "pause":
            return await _call(request, svc.pause, h)
        if verb == "resume":
            return await _call(request, svc.resume, h)
        if verb == "remove":
            try:
                body = json_object(await request.body())
            except errors.UsageError as exc:
                return JSONResponse({"error": str(exc), "kind": "UsageError"}, status_code=400)

            def remove() -> dict[str, Any]:
                full = svc.resolve_hash(h)
                reason = svc.remove(full, delete_data=bool(body.get("delete_data")))
                return {"removed": full, "reason": reason}

            return await _call(request, remove)
        return JSONResponse({"error": f"unknown action {verb!r}", "kind": "UsageError"}, status_code=404)

    routes = [
        Route("/", search_page),
        Route("/torrents", torrents_page),
        Route("/account", account_page),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/web/status", status),
        Route("/web/preview/{tid}", preview),
        Route("/web/download", download, methods=["POST"]),
        Route("/web/torrents/{h}/{verb}", act, methods=["POST"]),
        Route("/web/limits", limits, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return WebGuard(Starlette(routes=routes), keys)
