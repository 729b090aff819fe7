"""`mam serve`: the one long-lived process per state dir.

It owns the backend (the embedded engine), runs the supervisor, and serves the HTTP API, MCP and
the web page (`mamdl.web`, composed here) on one uvicorn server. It writes `serve.json` (mode 0600) once listening, so other processes find
it; on SIGTERM/SIGINT uvicorn stops serving, the supervisor stops, resume data is saved and the
engine lock released, then `serve.json` is removed.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import socket
import time
from typing import TYPE_CHECKING

from mamdl.config import Settings
from mamdl.errors import ConfigError

if TYPE_CHECKING:
    from starlette.types import ASGIApp

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def api_token(settings: Settings, host: str) -> str:
    """The configured token; on loopback without one, a fresh random one for this run.
    Binding anything but loopback without a configured token is refused."""
    if settings.api_token is not None and settings.api_token.get_secret_value().strip():
        return settings.api_token.get_secret_value().strip()
    if not is_loopback(host):
        raise ConfigError(
            f"binding the API to {host} (not loopback) requires a bearer token: set api_token in the "
            "config (or MAMDL_API_TOKEN), e.g. `openssl rand -hex 24`"
        )
    return secrets.token_urlsafe(24)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


def run_serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Run until SIGTERM/SIGINT. Raises EngineBusy if something else owns the state dir."""
    import anyio
    import uvicorn

    from mamdl.api.app import LazyApp, build_app
    from mamdl.redact import register_secret
    from mamdl.service import Service
    from mamdl.service.daemon import ServiceInfo, clear_service, write_service
    from mamdl.service.supervisor import Supervisor

    host = host or settings.api_host
    port = settings.api_port if port is None else port
    token = api_token(settings, host)
    register_secret(token)
    paths = settings.paths
    svc = Service(settings)
    svc.foreground = True
    sup_svc = Service(settings)  # its own MAM client and cache: the supervisor runs on its own thread
    sock = None
    supervisor = None
    try:
        backend = svc.start_engine(require_client=False)  # a client down now is picked up later
        svc.watch_library()  # place each download in the library when it finishes (if configured)
        sup_svc.attach_backend(backend)
        supervisor = Supervisor(sup_svc)
        sock = _bind(host, port)
        bound_port = sock.getsockname()[1]
        url_host = f"[{host}]" if ":" in host else host

        def make_web() -> ASGIApp:  # built on the page's first request (Jinja2 is not loaded before)
            from mamdl.web import build_web  # the web front, mounted here: the one place composing the server
            from mamdl.web.security import login_required

            return build_web(svc, token=token, require_login=login_required(host), supervisor=supervisor)

        web = LazyApp(make_web)
        app = build_app(
            svc, token=token, host=host, supervisor=supervisor, extra_hosts=settings.api_allowed_hosts, web=web
        )
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        server = uvicorn.Server(config)
        info = ServiceInfo(
            pid=os.getpid(),
            url=f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else url_host}:{bound_port}",
            token=token,
            started_at=time.time(),
            host=host,
            port=bound_port,
        )
        supervisor.start()
        write_service(paths, info)
        log.info("service on %s:%d for %s", host, bound_port, paths.state_dir)
        print(
            f"mamdl service: pid {info.pid}, web page {info.url}/, API {info.url}/api, MCP {info.url}/mcp", flush=True
        )
        anyio.run(server.serve, [sock])
    finally:
        clear_service(paths, os.getpid())
        if supervisor is not None:
            supervisor.stop()
        sup_svc.detach_backend()
        sup_svc.close()
        svc.close()  # saves resume data, releases the engine lock
        if sock is not None:
            sock.close()
        log.info("service on %s stopped", paths.state_dir)
