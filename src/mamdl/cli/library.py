"""`mam import`: put finished books in the library (see `mamdl.library`)."""

from __future__ import annotations

from typing import Annotated

import typer

from mamdl.cli import app
from mamdl.cli.common import console, emit_json, handle_errors, make_service


@app.command("import")
@handle_errors
def import_cmd(
    info_hash: Annotated[str | None, typer.Argument(help="The torrent to place (a unique prefix is enough).")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Place every finished MAM torrent (not those fetched with --no-library).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the placements as JSON.")] = False,
) -> None:
    """Place finished books in the library: hardlinks (copies across file systems) in
    Author/Series/Title folders, metadata.json + metadata.opf + cover, then Audiobookshelf /
    Calibre hand-offs. The seeding copy is never moved; running it again changes nothing.

    Examples:

      MAMDL_LIBRARY_DIR=~/Books mam import --all

      mam import 3f2a9c1b --json
    """
    from mamdl.errors import UsageError
    from mamdl.service.library import summary_line

    if (info_hash is None) == (not all_):
        raise UsageError("Give one info-hash, or --all.")

    with make_service() as svc:
        placements = svc.place_all() if all_ else [svc.place(info_hash or "")]
    if as_json:
        emit_json(placements)
    else:
        out = console()
        if not placements:
            out.print("No finished MAM torrents to place.")
        for p in placements:
            colour = "green" if p.status == "placed" else "red"
            out.print(f"[{colour}]{p.status}[/] {p.title}: ", end="")
            out.print(summary_line(p), markup=False)
    if any(p.status != "placed" for p in placements):
        raise typer.Exit(1)
