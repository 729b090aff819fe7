"""`mam get`, `mam download`, `mam status`, `mam pause|resume|remove`, `mam limit`, `mam seed`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mamdl.cli import app
from mamdl.cli.common import console, emit_json, handle_errors, make_service
from mamdl.cli.text import safe
from mamdl.errors import UsageError

FOREGROUND_HELP = "Drive the download in this process only (no background service); seeding stops when it exits."


@app.command("get")
@handle_errors
def get_cmd(
    torrent_id: Annotated[int, typer.Argument(help="MAM torrent id (from `mam search`).")],
    download: Annotated[bool, typer.Option("--download", "-d", help="Download the book, with a progress bar.")] = False,
    seed: Annotated[bool, typer.Option("--seed", help="After downloading, seed until the goals are met.")] = False,
    ratio: Annotated[
        float | None, typer.Option("--ratio", min=0, max=1000, help="Ratio goal (default from config: 1.0).")
    ] = None,
    seed_hours: Annotated[
        float | None,
        typer.Option("--seed-hours", min=0, max=87600, help="Minimum seeding time in hours (default 72, MAM's rule)."),
    ] = None,
    to: Annotated[Path | None, typer.Option("--to", help="Download folder.")] = None,
    wedge: Annotated[
        str | None, typer.Option("--wedge", help="Freeleech wedge: never, auto or always (default from config).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Override the unsatisfied-limit guard and MAM's 72 h seeding floor.")
    ] = False,
    library: Annotated[
        bool, typer.Option("--library/--no-library", help="Place the finished book in the library (when configured).")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON (no progress bar).")] = False,
    foreground: Annotated[bool, typer.Option("--foreground", help=FOREGROUND_HELP)] = False,
) -> None:
    """Fetch a .torrent and, with --download, download it; with --seed, seed it afterwards.

    Examples:

      mam get 123456 --download

      mam get 123456 --seed --to ~/Books --ratio 1.5
    """
    if wedge is not None and wedge not in ("never", "auto", "always"):
        raise UsageError("--wedge must be never, auto or always")
    with make_service() as svc:
        svc.foreground = foreground
        goal = svc.default_goal(ratio, seed_hours)
        result = svc.get(torrent_id, download=download or seed, goal=goal, dest=to, wedge=wedge, force=force)
        out = console(stderr=as_json)
        for note in result.notes:
            out.print(f"[dim]{safe(note)}[/]")
        if result.fetch.wedge_reason:
            out.print(("Wedge: " if result.fetch.wedge_used else "No wedge: ") + result.fetch.wedge_reason)
        out.print(f"Saved {safe(result.fetch.path)}")
        if result.info_hash is None:
            if as_json:
                emit_json(result)
            return
        if not library:
            svc.skip_library(result.info_hash)  # nor may an engine owner's watcher place it
        _say_service(svc, out)
        if result.engine_owner and not svc.service_started:
            out.print(f"The download runs in {result.engine_owner}; showing its progress.")
        status = _follow_download(svc, result.info_hash, out, quiet=as_json)
        if status.state != "error" and library and svc.settings.library_configured:
            status = _place(svc, result.info_hash, out) or status
        if as_json:
            emit_json({"get": result.model_dump(mode="json"), "status": status.model_dump(mode="json")})
        if status.state == "error":
            raise typer.Exit(1)
        if seed:
            _seed_loop(svc, out, only=[result.info_hash], quiet=as_json)
        elif not as_json:
            _say_seeding(svc, out)


@app.command("download")
@handle_errors
def download_cmd(
    torrent_file: Annotated[Path, typer.Argument(help="A .torrent file.", exists=True, dir_okay=False)],
    to: Annotated[Path | None, typer.Option("--to", help="Download folder (default: config download_dir).")] = None,
    ratio: Annotated[float | None, typer.Option("--ratio", min=0, max=1000, help="Ratio goal (default 1.0).")] = None,
    seed_hours: Annotated[
        float | None, typer.Option("--seed-hours", min=0, max=87600, help="Minimum seeding hours (default 72).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Override the unsatisfied-limit guard and MAM's 72 h seeding floor.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    foreground: Annotated[bool, typer.Option("--foreground", help=FOREGROUND_HELP)] = False,
) -> None:
    """Download a .torrent file you already have (a MAM one passes the same guards as `mam get`).

    Example: mam download ~/Downloads/dune.torrent --to ~/Books
    """
    with make_service() as svc:
        svc.foreground = foreground
        out = console(stderr=as_json)
        h = svc.add_torrent_file(torrent_file, dest=to, goal=svc.default_goal(ratio, seed_hours), force=force)
        _say_service(svc, out)
        status = _follow_download(svc, h, out, quiet=as_json)
        if as_json:
            emit_json(status)
        if status.state == "error":
            raise typer.Exit(1)
        if not as_json:
            _say_seeding(svc, out)


@app.command("status")
@handle_errors
def status_cmd(
    info_hash: Annotated[str | None, typer.Argument(help="Only this torrent (a unique prefix is enough).")] = None,
    mam_view: Annotated[
        bool,
        typer.Option("--mam/--no-mam", help="Ask MAM now, per torrent: satisfied or not, and its seed time to go."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Every torrent: progress, rates, ratio and seeding time against the goals.

    Examples: mam status · mam status 3f2a --mam · mam status --json
    """
    with make_service() as svc:
        rows = svc.status(info_hash, with_mam=mam_view)
        holder = svc.engine_holder()
        limits = svc.rate_limits() if svc.settings.backend == "embedded" else None
    if as_json:
        emit_json(rows)
        return
    out = console()
    if holder is None and rows:
        out.print(
            "[bold yellow]Nothing is seeding now:[/] no mamdl service is running. "
            "The figures below are as last saved; `mam service start` resumes seeding."
        )
    if rows:
        from mamdl.cli.tables import status_table
        from mamdl.service.library import summary_line

        out.print(status_table(rows, engine_running=holder is not None, width=out.width))
        for r in rows:
            if r.library is not None:
                out.print(f"[dim]Library {r.info_hash[:8]}:[/] ", end="")
                out.print(summary_line(r.library), markup=False)
            for warning in r.warnings:
                out.print(f"[bold yellow]{r.info_hash[:8]}:[/] {safe(warning)}")
    else:
        out.print("No torrents yet. `mam get ID --download` adds one.")
    out.print(
        f"[dim]Engine: {safe(holder) if holder else 'not running (figures as last saved; `mam seed` runs it)'}[/]"
    )
    if limits is not None and (limits.download_kibps or limits.upload_kibps):  # the first answer to "why so slow?"
        out.print(
            f"Rate limits: download {rate_text(limits.download_kibps)}, upload {rate_text(limits.upload_kibps)} "
            "(`mam limit` changes them).",
            style="dim",
            markup=False,
        )


@app.command("pause")
@handle_errors
def pause_cmd(
    info_hash: Annotated[
        str, typer.Argument(help="Info-hash of the torrent; a unique prefix is enough (as `mam status` shows).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Pause a torrent (data kept).

    Example: mam pause 3f2a
    """
    with make_service() as svc:
        s = svc.pause(info_hash)
    if as_json:
        emit_json(s)
        return
    console().print(f"Paused {safe(s.title or s.name)}.")
    for warning in s.warnings:
        console(stderr=True).print(f"[bold yellow]Warning:[/] {safe(warning)}")


@app.command("resume")
@handle_errors
def resume_cmd(
    info_hash: Annotated[
        str, typer.Argument(help="Info-hash of the torrent; a unique prefix is enough (as `mam status` shows).")
    ],
    force: Annotated[bool, typer.Option("--force", help="Override the unsatisfied-limit guard.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Resume a paused or finished torrent.

    Example: mam resume 3f2a
    """
    with make_service() as svc:
        s = svc.resume(info_hash, force=force)
        owner = svc.owns_engine
    if as_json:
        emit_json(s)
        return
    console().print(
        f"Resumed {safe(s.title or s.name)}." + (" It runs while the engine runs (`mam seed`)." if owner else "")
    )


RATE_UNITS = {"": 1, "k": 1, "kib": 1, "kb": 1, "m": 1024, "mib": 1024, "mb": 1024, "g": 1024**2, "gib": 1024**2}


def rate_kibps(text: str) -> int:
    """A rate as people type it, in KiB/s: `500` or `500K` (KiB/s), `2M`, `1.5MiB`, a trailing
    `/s` allowed; `0`, `off` or `none` = unlimited."""
    import re

    t = text.strip().lower().removesuffix("/s").replace(" ", "")
    if t in ("off", "none", "unlimited"):
        return 0
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]*)", t)
    if m is None or m.group(2) not in RATE_UNITS:
        raise UsageError(f"{text!r} is not a rate: give KiB/s (500), or 500K, 2M, 1.5MiB; 0 or off = unlimited")
    return round(float(m.group(1)) * RATE_UNITS[m.group(2)])


def rate_text(kibps: int) -> str:
    return "unlimited" if kibps == 0 else (f"{kibps / 1024:g} MiB/s" if kibps >= 1024 else f"{kibps} KiB/s")


@app.command("limit")
@handle_errors
def limit_cmd(
    down: Annotated[
        str | None,
        typer.Option("--down", metavar="RATE", help="Download limit: 500K, 2M (per second); 0 or off = none."),
    ] = None,
    up: Annotated[
        str | None,
        typer.Option("--up", metavar="RATE", help="Upload limit, the same way. On MAM upload is your ratio."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Show or set the rate limits for all torrents together (the embedded engine; every peer
    counts, LAN ones too). Saved in config.toml and applied at once by a running service.

    Examples: mam limit · mam limit --down 2M · mam limit --down off --up 500K
    """
    with make_service() as svc:
        if down is None and up is None:
            r = svc.rate_limits()
        else:
            r = svc.set_rate_limits(None if down is None else rate_kibps(down), None if up is None else rate_kibps(up))
    if as_json:
        emit_json(r)
        return

    out = console()
    out.print(f"Download: {rate_text(r.download_kibps)}. Upload: {rate_text(r.upload_kibps)}.", markup=False)
    if down is not None or up is not None:
        import os

        from mamdl.cli.configcmd import env_name

        for key, given in (("download_limit_kibps", down), ("upload_limit_kibps", up)):
            if given is not None and env_name(key) in os.environ:
                out.print(f"Note: {env_name(key)} is set in the environment and wins at the next start.", markup=False)
        out.print(
            "Applied now and saved in config.toml."
            if r.applied_now
            else "Saved in config.toml; used when the service (or a download) starts.",
            markup=False,
        )


@app.command("remove")
@handle_errors
def remove_cmd(
    info_hash: Annotated[
        str, typer.Argument(help="Info-hash of the torrent; a unique prefix is enough (as `mam status` shows).")
    ],
    delete_data: Annotated[bool, typer.Option("--delete-data", help="Also delete the downloaded files.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Remove even if MAM would count a hit-and-run.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete data without asking.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Remove a torrent; refused unless MAM's own per-torrent list shows it satisfied (or it is not
    a MAM torrent). --delete-data asks first in a terminal; elsewhere it needs --yes.

    Example: mam remove 3f2a --delete-data
    """
    import sys

    def confirm(question: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise UsageError(f"{question} Refusing to delete data without a terminal to ask in; pass --yes.")
        return typer.confirm(question, default=False)

    with make_service() as svc:
        reason = svc.remove(info_hash, delete_data=delete_data, force=force, confirm=confirm)
    if as_json:
        emit_json({"removed": info_hash, "data_deleted": delete_data, "reason": reason})
    else:
        console().print(f"Removed{' with its data' if delete_data else ' (data kept)'}: {safe(reason)}")


@app.command("seed")
@handle_errors
def seed_cmd(
    forever: Annotated[bool, typer.Option("--forever", help="Keep running after every goal is met.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.2, help="Seconds between table refreshes.")] = 1.0,
    foreground: Annotated[bool, typer.Option("--foreground", help=FOREGROUND_HELP)] = False,
) -> None:
    """Show progress toward each seeding goal until every goal is met. Seeding itself runs in the
    background service (started if needed), which stops each torrent when its ratio and
    seeding-time goals are met and MAM agrees; Ctrl-C only ends this view. With --foreground this
    process seeds and applies the policy itself (Ctrl-C saves and exits).

    Examples: mam seed · mam seed --forever
    """
    with make_service() as svc:
        svc.foreground = foreground
        if foreground:
            svc.start_engine()
            svc.watch_library()  # downloads other processes add are placed when they finish
        else:
            svc.engine()
            _say_service(svc, console())
        _seed_loop(svc, console(), forever=forever, interval=interval)


@app.command("adopt")
@handle_errors
def adopt_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be adopted; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Bring the MAM torrents already in your client (qBittorrent, Transmission, Deluge) under
    mamdl's status, seeding policy and hit-and-run guard, matched to MAM ids by info-hash. Only
    torrents on MAM's tracker are taken; their data is not touched.

    Examples: `mam adopt --dry-run`, then `mam adopt`."""
    from mamdl.service.adopt import adopt

    with make_service() as svc:
        rows = adopt(svc, dry_run=dry_run)
    if as_json:
        emit_json(rows)
        return
    out = console()
    if not rows:
        out.print("No MAM torrents in the client.")
        return
    from rich.markup import escape

    for r in rows:
        mark = "[green]adopted[/]" if r.adopted else ("[dim]would adopt[/]" if dry_run else "[dim]kept[/]")
        ident = f"MAM {r.mam_id}" if r.mam_id is not None else "no MAM id"
        out.print(f"{mark} {r.info_hash[:8]} {escape(r.title or r.name)} ({ident}){' - ' + r.note if r.note else ''}")


# ---------------------------------------------------------------------- shared loops


def _place(svc, info_hash: str, out):
    """Place a finished download in the library and say where; returns the refreshed status."""
    from mamdl.errors import MamdlError
    from mamdl.service.library import summary_line

    try:
        p = svc.place(info_hash)
    except MamdlError as exc:
        out.print(f"[red]Not placed in the library:[/] {exc}", markup=True)
        return None
    out.print("[green]Library[/]: " if p.status == "placed" else "[red]Library[/]: ", end="")
    out.print(summary_line(p), markup=False)
    return svc.status(info_hash)[0]


def _say_service(svc, out) -> None:
    if svc.service_started and svc.service_info is not None:
        out.print(
            f"Started the background service (pid {svc.service_info.pid}): seeding continues after this "
            "command exits; `mam service stop` ends it."
        )


def _say_seeding(svc, out) -> None:
    if svc.owns_engine and svc.settings.backend != "embedded":
        out.print(
            f"Seeding continues in {svc.settings.backend}; mamdl's seeding policy and hit-and-run checks "
            "run while `mam serve` (the background service) runs."
        )
    elif svc.owns_engine:
        out.print("Downloaded. MAM needs 72 h of seeding: this run has stopped seeding; `mam seed` resumes it.")
    elif svc.service_info is not None:
        out.print(
            f"Seeding continues in the background service, pid {svc.service_info.pid}; `mam service stop` ends it."
        )


def _follow_download(svc, info_hash: str, out, *, quiet: bool = False):
    """Show a live progress line until the torrent is complete or fails; returns its last status."""
    from mamdl.cli.render import DownloadDisplay
    from mamdl.service.follow import follow_download

    with DownloadDisplay(out, quiet=quiet) as display:
        status = follow_download(svc, info_hash, display.update)
    if status.state == "error":
        out.print(
            f"[red]Stopped:[/] {safe(status.error)} (nothing was deleted; fix it and `mam resume {info_hash[:8]}`)"
        )
    elif not quiet:
        extra = f", {status.hash_failures} corrupt piece(s) re-downloaded" if status.hash_failures else ""
        out.print(f"[green]Complete and verified[/]: {safe(status.save_path)}{extra}")
    return status


def _seed_loop(
    svc, out, *, only: list[str] | None = None, forever: bool = False, interval: float = 1.0, quiet: bool = False
) -> None:
    from rich.live import Live

    from mamdl.cli.tables import status_table
    from mamdl.service.follow import seed_loop

    with Live(console=out, refresh_per_second=4, transient=False, redirect_stdout=False) as live:

        def show(rows, decisions) -> None:
            if not quiet:
                live.update(status_table(rows, notes=decisions, width=out.width))

        rows = seed_loop(svc, show, only=only, forever=forever, interval=interval)
    if not quiet:
        out.print()
        out.print("Every seeding goal is met (and MAM agrees)." if rows else "Nothing to seed.")
