"""`mam user` and `mam config …`."""

from __future__ import annotations

from typing import Annotated

import typer

from mamdl.cli import app
from mamdl.cli.common import console, emit_json, handle_errors, make_service
from mamdl.cli.text import safe
from mamdl.errors import UsageError

config_app = typer.Typer(help="Show or write the configuration (the cookie is never shown).", no_args_is_help=True)
app.add_typer(config_app, name="config")


@app.command("user")
@handle_errors
def user_cmd(
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask MAM now instead of using the 24 h cache.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Your account: ratio, upload, bonus points, unsatisfied and hit-and-run counts.

    Examples: mam user · mam user --refresh --json
    """
    with make_service() as svc:
        stats = svc.user(refresh=refresh)
    if as_json:
        emit_json(stats)
        return
    from rich.table import Table

    t = Table(show_header=False, box=None)
    ratio = "∞" if stats.ratio is None else f"{stats.ratio:.2f}"
    for k, v in [
        ("User", safe(f"{stats.username} ({stats.user_class})")),  # MAM's text: printed inert
        ("Ratio", ratio),
        ("Uploaded", stats.uploaded),
        ("Downloaded", stats.downloaded),
        ("Bonus points", f"{stats.bonus_points:,.0f}"),
        ("Wedges", str(stats.wedges)),
        ("Unsatisfied", f"{stats.unsatisfied} of {stats.unsatisfied_limit or '?'}"),
        ("Seeding (satisfied)", str(stats.seeding_satisfied)),
        ("Hit-and-runs", str(stats.hit_and_runs)),
        ("Data", f"cached, {stats.age_seconds:.0f}s old" if stats.cached else "fresh from MAM"),
    ]:
        t.add_row(f"[bold]{k}[/]", v)
    out = console()
    out.print(t)
    for w in stats.warnings:
        out.print(f"[yellow]Warning:[/] {safe(w)}")


@config_app.command("init")
@handle_errors
def config_init(
    base_url: Annotated[
        str | None, typer.Option("--base-url", metavar="URL", help="Only for testing against a sandbox.")
    ] = None,
    download_dir: Annotated[
        str | None, typer.Option("--download-dir", metavar="PATH", help="Where books are saved by default.")
    ] = None,
    with_token: Annotated[
        bool, typer.Option("--with-token", help="Read the cookie from standard input instead of asking (scripts).")
    ] = False,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Sign in once to check the cookie.")] = True,
) -> None:
    """Ask for your mam_id cookie (hidden input), save it with mode 0600 and check it signs in.

    Examples:

      mam config init

      pass show mam/mam_id | mam config init --with-token
    """
    import sys

    from mamdl.config import Paths, write_config

    if with_token or not sys.stdin.isatty():  # piped: no prompt, and no "input may be echoed" warning
        cookie = sys.stdin.read().strip()
        if not cookie:
            raise UsageError(
                "No cookie on standard input: run `mam config init` in a terminal, "
                "or pipe it in: `mam config init --with-token < file`."
            )
    else:
        cookie = typer.prompt("mam_id cookie (from MAM Preferences -> Security)", hide_input=True).strip()
    if len(cookie) < 10 or any(c.isspace() for c in cookie):
        raise UsageError("That does not look like a mam_id cookie (too short, or has spaces).")
    path = write_config(
        {"mam_id": cookie, "base_url": base_url, "download_dir": download_dir}, Paths.resolve().config_file
    )
    out = console()
    out.print(f"Saved to {path} (mode 0600).")
    if check:
        _login_check(out)


def _login_check(out) -> None:
    """One call to MAM with the new cookie: "signed in as …", or why not (the file is kept)."""
    import os

    from mamdl.cli.text import safe
    from mamdl.errors import MamError, SessionExpired

    if os.environ.get("MAM_ID"):
        out.print("[yellow]Note:[/] MAM_ID is set in the environment and wins over the file; unset it to use this one.")
    try:
        with make_service(retry_budget_seconds=5, max_attempts=2) as svc:
            stats = svc.user(refresh=True)
    except SessionExpired:
        out.print("[red]MAM did not accept this cookie[/]: create a new mam_id on MAM and run `mam config init` again.")
        raise typer.Exit(1) from None
    except MamError as exc:
        out.print(f"[yellow]Could not check the login now[/] ({safe(exc)}). `mam user` checks it later.")
        return
    out.print(f"Signed in as [bold]{safe(stats.username)}[/] ({safe(stats.user_class)}).")


@app.command("doctor")
@handle_errors
def doctor_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
    """Check the session, cookie rotation, clock, client identity, listen port and file permissions.

    Example: mam doctor
    """
    with make_service() as svc:
        checks = svc.doctor()
    failed = any(c.status == "fail" for c in checks)
    if as_json:
        emit_json(checks)
    else:
        from rich.markup import escape
        from rich.table import Table

        t = Table(header_style="bold")
        for col in ("Check", "", "Detail", "Fix"):
            t.add_column(col)
        marks = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}
        for c in checks:
            t.add_row(c.name, marks[c.status], escape(c.detail), escape(c.fix))
        console().print(t)
    if failed:
        raise typer.Exit(1)


@app.command("seedbox-ip")
@handle_errors
def seedbox_ip_cmd(
    watch: Annotated[bool, typer.Option("--watch", help="Keep running and update once an hour.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Tell MAM this machine's IP for a dynamic-seedbox session (at most once an hour).

    Examples: mam seedbox-ip · mam seedbox-ip --watch
    """
    import time

    with make_service() as svc:
        while True:
            out = svc.seedbox_update()
            if as_json:
                emit_json(out)
            else:
                mark = "[green]ok[/]" if out.success else "[yellow]no[/]"
                console().print(f"{mark} {safe(out.msg)}" + (safe(f" (IP {out.ip}, ASN {out.asn})") if out.ip else ""))
                if out.advice:
                    console().print(safe(out.advice))
            if not watch:
                if not out.success and out.called:
                    raise typer.Exit(1)
                return
            time.sleep(max(out.next_allowed_in_seconds, 60))
