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
FILETYPES = [
    "epub",
    "azw",
    "azw3",
    "azw4",
    "kfx",
    "mobi",
    "prc",
    "pdb",
    "pdf",
    "djvu",
    "lit",
    "rtf",
    "txt",
    "fb2",
    "html",
    "cbz",
    "cbr",
    "cb7",
    "m4b",
    "m4a",
    "mp3",
    "aac",
    "flac",
    "ogg",
    "opus",
    "wma",
    "wav",
]
"""File types MAM lists; anything else would silently match nothing."""


def _check_choices(values: list[str], known, option: str) -> None:
    """A value MAM does not know would filter silently to nothing: name the bad one and the choices."""
    bad = [v for v in values if v not in known]
    if bad:
        raise UsageError(f"{option} {bad[0]!r} is not one MAM knows; use one of: {', '.join(known)}")


def _edition(row) -> str:
    """`audiobook m4b, 870.4 MiB` — which edition a choice took."""
    from mamdl.cli.render import size
    from mamdl.cli.text import safe

    return safe(f"{row.format} {' '.join(row.filetypes)}".strip() + f", {size(row.size_bytes)}")


@app.command("search")
@handle_errors
def search_cmd(
    text: Annotated[str | None, typer.Argument(help="Free text (searched in title, author, narrator, series).")] = None,
    title: Annotated[
        str | None, typer.Option("--title", "-t", help="Words of the title (typos are tolerated).")
    ] = None,
    author: Annotated[str | None, typer.Option("--author", "-a", help="An author's name, or part of it.")] = None,
    narrator: Annotated[str | None, typer.Option("--narrator", "-n", help="A narrator's name (audiobooks).")] = None,
    series: Annotated[str | None, typer.Option("--series", "-s", help="The series name.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", metavar="KIND", help="ebook, audiobook or any (default: config).")
    ] = None,
    filetype: Annotated[
        list[str] | None,
        typer.Option(
            "--filetype", metavar="TYPE", help="Preferred file types such as epub or m4b, best first (repeat)."
        ),
    ] = None,
    lang: Annotated[
        list[str] | None,
        typer.Option(
            "--lang", metavar="CODE", help="Only these languages: ENG, FRE, GER, SPA, ITA, POR, POL, RUS (repeat)."
        ),
    ] = None,
    freeleech: Annotated[bool, typer.Option("--freeleech", help="Only freeleech torrents.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-l", min=1, max=200, metavar="N", help="At most N results (1-200).")
    ] = 25,
    best: Annotated[bool, typer.Option("--best", help="Take the top result when confidence is high.")] = False,
    fetch: Annotated[bool, typer.Option("--fetch", help="Fetch the chosen .torrent.")] = False,
    pick: Annotated[
        bool | None, typer.Option("--pick/--no-pick", help="Ask which one (default: when run in a terminal).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranked list as JSON; never asks.")] = False,
) -> None:
    """Search MAM and rank what comes back so the book you meant is first.

    Examples:

      mam search "project hail mary"

      mam search -t "the fifth season" -a jemisin --format ebook --best --fetch

      mam search -t dune --json | jq '.[0].id'
    """
    from mamdl.service import SearchSpec
    from mamdl.service.core import LANGUAGE_IDS

    if fmt is not None and fmt not in ("ebook", "audiobook", "any"):
        raise UsageError("--format must be ebook, audiobook or any")
    _check_choices([f.lower().lstrip(".") for f in filetype or []], FILETYPES, "--filetype")
    _check_choices([code.upper() for code in lang or []], sorted(LANGUAGE_IDS), "--lang")
    spec = SearchSpec(
        title=title or "",
        author=author or "",
        narrator=narrator or "",
        series=series or "",
        text=text or "",
        format=fmt,
        filetypes=[f.lower().lstrip(".") for f in filetype or []],
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

        from mamdl.cli.text import safe

        out = console()
        if not rows:
            tried = ", ".join(repr(q.text) for q in outcome.queries_sent)
            out.print("Nothing found. Tried: " + safe(tried) + ". Try fewer words, or only --title.")
            raise typer.Exit(1)
        chosen = None
        if best and outcome.confident:
            chosen = rows[0]
            out.print(
                f"Best match ({outcome.confidence:.0%} sure): [bold]{safe(chosen.title)}[/] — "
                f"{safe(', '.join(chosen.authors))} · {_edition(chosen)} (id {chosen.id})"
            )
        else:
            if best:
                out.print(f"[yellow]Not sure enough ({outcome.confidence:.0%}) to choose for you.[/]")
            interactive = sys.stdin.isatty() if pick is None else pick
            if not interactive:
                from mamdl.cli.tables import results_table

                out.print(results_table(rows[:limit], width=out.width))
                out.print("[dim]Get one with: mam get ID --download[/]")
                return
            from mamdl.cli.pick import pick_row

            chosen = pick_row(rows, out)
            if chosen is None:
                out.print("Nothing chosen.")
                raise typer.Exit(1)
            out.print(f"Chosen: [bold]{safe(chosen.title)}[/] · {_edition(chosen)} (id {chosen.id})")
        if fetch:
            result = svc.fetch(chosen.id)
            out.print(("Already have " if result.skipped else "Saved ") + safe(result.path))
        out.print(f"Download it with: mam get {chosen.id} --download")


@app.command("fetch")
@handle_errors
def fetch_cmd(
    torrent_id: Annotated[int, typer.Argument(help="MAM torrent id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Fetch a .torrent into the state dir's torrents/ folder.

    Example: mam fetch 123456
    """
    with make_service() as svc:
        result = svc.fetch(torrent_id)
    if as_json:
        emit_json(result)
    else:
        from mamdl.cli.text import safe

        console().print(("Already have " if result.skipped else "Saved ") + safe(result.path))
