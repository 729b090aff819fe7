"""`mam serve` and `mam service start|stop|status|logs|install|uninstall`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from mamdl.cli import app
from mamdl.cli.common import console, emit_json, handle_errors, make_service

service_app = typer.Typer(help="Manage the background service that downloads and seeds.", no_args_is_help=True)
app.add_typer(service_app, name="service")

UNIT_NAME = "mamdl.service"


@app.command("serve")
@handle_errors
def serve_cmd(
    host: Annotated[str | None, typer.Option("--host", help="API bind address (default api_host: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="API port (default api_port; 0 = any free).")] = None,
) -> None:
    """Run the service in the foreground: owns the downloads, seeds by MAM's rules, watches the
    account, serves the local HTTP API and MCP (/mcp). SIGTERM or Ctrl-C saves and stops.

    Example: mam serve --port 8765
    """
    from mamdl.api.server import run_serve

    with make_service() as svc:
        settings = svc.settings
    try:
        run_serve(settings, host=host, port=port)
    except KeyboardInterrupt:  # SIGTERM/SIGINT: state saved on the way out; a clean stop
        pass


@service_app.command("start")
@handle_errors
def start_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print pid and URL as JSON.")] = False) -> None:
    """Start the background service (detached) unless it already runs.

    Example: mam service start
    """
    from mamdl.service.daemon import ensure_service

    with make_service() as svc:
        info, started = ensure_service(svc.settings)
    if as_json:
        emit_json({"started": started, **info.model_dump(exclude={"token"})})
        return
    verb = "Started" if started else "Already running:"
    console().print(f"{verb} {info.describe()}. `mam service stop` ends it.")


@service_app.command("stop")
@handle_errors
def stop_cmd() -> None:
    """Stop the background service (resume data saved; seeding stops until it runs again).

    Example: mam service stop
    """
    from mamdl.service.daemon import stop_service

    with make_service() as svc:
        info = stop_service(svc.settings.paths)
    if info is None:
        console().print("No service is running.")
    else:
        console().print(f"Stopped the service (pid {info.pid}). Nothing is seeding now.")


@service_app.command("status")
@handle_errors
def status_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the service's health as JSON.")] = False,
) -> None:
    """Is the service running, where, and what it is doing (exit code 3 when it is not running).

    Example: mam service status
    """
    from mamdl.service.remote import RemoteBackend

    with make_service() as svc:
        info = svc.service_running()
        holder = svc.engine_holder()
        health = None
        if info is not None:
            rb = RemoteBackend(info, timeout=10)
            try:
                health = rb._call("GET", "/api/health")
            finally:
                rb.close()
    if as_json:
        emit_json(
            {
                "running": info is not None,
                "service": info.model_dump(exclude={"token"}) if info else None,
                "health": health,
                "engine": holder,
            }
        )
        if info is None:
            raise typer.Exit(3)
        return
    out = console()
    if info is None:
        out.print("No service is running: nothing is seeding now." + (f" (engine held by {holder})" if holder else ""))
        raise typer.Exit(3)
    up = int(health.get("up_seconds", 0)) if health else 0
    out.print(
        f"Running: pid {info.pid}, web page {info.url}/, API {info.url}/api, MCP {info.url}/mcp, up {up // 3600} h {up % 3600 // 60} min"
    )
    if health:
        out.print(f"Torrents: {health.get('torrents')}; MAM session: {health.get('session')}")
        for h, why in (health.get("risks") or {}).items():
            out.print(f"[yellow]Hit-and-run risk[/] {h[:8]}: {why}")


@service_app.command("logs")
@handle_errors
def logs_cmd(
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, help="How many of the last lines to print.")] = 50,
    follow: Annotated[bool, typer.Option("-f", "--follow", help="Keep printing new lines (Ctrl-C ends).")] = False,
) -> None:
    """The service's log (secrets scrubbed; rotated at 5 MiB).

    Example: mam service logs -n 100 -f
    """
    from mamdl.service.daemon import log_file

    with make_service() as svc:
        path = log_file(svc.settings.paths)
    if not path.exists():
        console().print(f"No log yet ({path}).")
        return
    with open(path, encoding="utf-8", errors="replace") as fh:
        tail = fh.readlines()[-lines:]
        sys.stdout.write("".join(tail))
        sys.stdout.flush()
        while follow:
            line = fh.readline()
            if line:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                time.sleep(0.5)


def unit_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def unit_text() -> str:
    """The systemd user unit: `python -m mamdl serve` with this install's interpreter. It carries
    MAMDL_HOME when set, never the cookie (that stays in the 0600 config file)."""
    env = ""
    if os.environ.get("MAMDL_HOME"):
        env = f"Environment=MAMDL_HOME={Path(os.environ['MAMDL_HOME']).expanduser().resolve()}\n"
    return (
        "[Unit]\n"
        "Description=mamdl: download and seed MyAnonaMouse books\n"
        "After=network-online.target\n"
        "Wants=network-online.target\n\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={sys.executable} -m mamdl serve\n"
        f"{env}"
        "Restart=on-failure\n"
        "RestartSec=10\n"
        "KillSignal=SIGTERM\n"
        "TimeoutStopSec=90\n\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


@service_app.command("install")
@handle_errors
def install_cmd(
    enable: Annotated[bool, typer.Option("--enable/--no-enable", help="Also enable and start it now.")] = True,
) -> None:
    """Write a systemd user unit for the service (and enable it), so it starts at login/boot.

    Example: mam service install && loginctl enable-linger "$USER"
    """
    path = unit_dir() / UNIT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(unit_text(), encoding="utf-8")
    out = console()
    out.print(f"Wrote {path}")
    analyze = shutil.which("systemd-analyze")
    if analyze:
        p = subprocess.run([analyze, "--user", "verify", str(path)], capture_output=True, text=True, timeout=60)
        problems = [line for line in (p.stdout + p.stderr).splitlines() if UNIT_NAME in line or "mamdl" in line]
        if p.returncode != 0 and problems:
            out.print("[yellow]systemd-analyze verify:[/] " + "; ".join(problems))
        else:
            out.print("systemd-analyze verify: ok")
    systemctl = shutil.which("systemctl")
    if enable and systemctl:
        subprocess.run([systemctl, "--user", "daemon-reload"], check=False, timeout=60)
        p = subprocess.run(
            [systemctl, "--user", "enable", "--now", UNIT_NAME], capture_output=True, text=True, timeout=60
        )
        out.print("Enabled and started." if p.returncode == 0 else f"[yellow]systemctl:[/] {p.stderr.strip()}")
    elif enable:
        out.print("systemctl is not available here; enable the unit by hand.")
    out.print(
        "On a headless machine (seedbox, NAS) run `loginctl enable-linger $USER` once, so the service "
        "runs without a login session and after a reboot."
    )


@service_app.command("uninstall")
@handle_errors
def uninstall_cmd() -> None:
    """Disable and remove the systemd user unit (the data and state stay).

    Example: mam service uninstall
    """
    path = unit_dir() / UNIT_NAME
    systemctl = shutil.which("systemctl")
    if systemctl and path.exists():
        subprocess.run([systemctl, "--user", "disable", "--now", UNIT_NAME], capture_output=True, timeout=60)
    if path.exists():
        path.unlink()
        console().print(f"Removed {path}")
    else:
        console().print("No unit installed.")
    if systemctl:
        subprocess.run([systemctl, "--user", "daemon-reload"], capture_output=True, timeout=60)
