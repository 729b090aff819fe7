"""`mam search` and `mam fetch`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from mamdl.cli import app
from mamdl.cli.common import EXIT_NOT_CONFIDENT, console, emit_json, handle_errors, make_service
from mamdl.errors import UsageError

PAGE = 10


@app.command("search")
@handle_errors
def search_cmd(
    text: Annotated[str | None, typer.Argument(help="Free text (searched in title, author, narrator, series).")] = None,
    title: Annotated[str | None, typer.Option("--title", "-t")] = None,
    author: Annotated[str | None, typer.Option("--author", "-a")] = None,
    narrator: Annotated[str | None, typer.Option("--narrator", "-n")] = None,
    series: Annotated[str | None, typer.Option("--series", "-s")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="ebook, audiobook or any.")] = None,
    filetype: Annotated[
        list[str] | None, typer.Option("--filetype", help="Preferred file types, best first (repeat).")
    ] = None,
    lang: Annotated[list[str] | None, typer.Option("--lang", help="Language codes such as ENG, FRE (repeat).")] = None,
    freeleech: Annotated[bool, typer.Option("--freeleech", help="Only freeleech torrents.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-l", min=1, max=200)] = 25,
    best: Annotated[bool, typer.Option("--best", help="Take the top result when confidence is high.")] = False,
    fetch: Annotated[bool, typer.Option("--fetch", help="Fetch the chosen .torrent.")] = False,
    pick: Annotated[
        bool | None, typer.Option("--pick/--no-pick", help="Ask which one (default: when run in a terminal).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranked list as JSON; never asks.")] = False,
) -> None:
    """Search MAM and rank what comes back so the book you meant is first."""
    from mamdl.service import SearchSpec

    if fmt is not None and fmt not in ("ebook", "audiobook", "any"):
        raise UsageError("--format must be ebook, audiobook or any")
    spec = SearchSpec(
        title=title or "",
        author=author or "",
        narrator=narrator or "",
        series=series or "",
        text=text or "",
        format=fmt,
        filetypes=[f.lower() for f in filetype or []],
        languages=[code.upper() for code in lang or []],
        freeleech_only=freeleech,
    )
    with make_service() as svc:
        outcome = svc.search(spec, limit=limit)
        rows = outcome.rows
        if as_json:
            meta = {
                "queries_sent": [q.model_dump() for q in outcome.queries_sent],
                "requests": outcome.requests,
                "confidence": outcome.confidence,
            }
            sys.stderr.write(json.dumps(meta) + "\n")
            if best:
                if rows and outcome.confident:
                    chosen = rows[0]
                    if fetch:
                        svc.fetch(chosen.id)
                    emit_json([chosen])
                    return
                emit_json(
                    {
                        "error": "No confident match: choose one of the candidates." if rows else "Nothing found.",
                        "confidence": outcome.confidence,
                        "candidates": rows[:PAGE],
                    }
                )
                raise typer.Exit(EXIT_NOT_CONFIDENT)
            emit_json(rows)
            return

        out = console()
        if not rows:
            out.print("Nothing found. Tried: " + ", ".join(repr(q.text) for q in outcome.queries_sent))
            raise typer.Exit(1)
        chosen = None
        if best and outcome.confident:
            chosen = rows[0]
            out.print(
                f"Best match ({outcome.confidence:.0%} sure): [bold]{chosen.title}[/] — {', '.join(chosen.authors)}  (id {chosen.id})"
            )
        else:
            if best:
                out.print(f"[yellow]Not sure enough ({outcome.confidence:.0%}) to choose for you.[/]")
            interactive = sys.stdin.isatty() if pick is None else pick
            if not interactive:
                from mamdl.cli.tables import results_table

                out.print(results_table(rows[:limit]))
                return
            from mamdl.cli.pick import pick_row

            chosen = pick_row(rows, out)
            if chosen is None:
                raise typer.Exit(1)
            out.print(f"Chosen: [bold]{chosen.title}[/] (id {chosen.id})")
        if fetch:
            result = svc.fetch(chosen.id)
            out.print(("Already have " if result.skipped else "Saved ") + result.path)
        else:
            out.print(f"Fetch it with: mam fetch {chosen.id}")


@app.command("fetch")
@handle_errors
def fetch_cmd(
    torrent_id: Annotated[int, typer.Argument(help="MAM torrent id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fetch a .torrent into the state dir's torrents/ folder."""
    with make_service() as svc:
        result = svc.fetch(torrent_id)
    if as_json:
        emit_json(result)
    else:
        console().print(("Already have " if result.skipped else "Saved ") + result.path)
