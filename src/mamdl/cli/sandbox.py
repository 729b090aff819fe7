"""`mam sandbox` (a local MAM look-alike) and `mam demo` (the whole flow, offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from mamdl.cli import app
from mamdl.cli.common import handle_errors


@app.command("sandbox")
@handle_errors
def sandbox_cmd(
    catalogue: Annotated[Optional[Path], typer.Option("--catalogue", help="JSON {\"torrents\": [...]} of MAM search rows.")] = None,
    port: Annotated[int, typer.Option("--port", help="0 picks a free port.")] = 0,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Where payloads and .torrent files go.")] = None,
    leecher: Annotated[bool, typer.Option("--leecher", help="Run a leecher so seeding clients' ratio climbs.")] = False,
) -> None:
    """Run a MAM-compatible server, tracker and seeder on 127.0.0.1 (prints MAM_BASE_URL and MAM_ID)."""
    from mamdl.sandbox import serve

    serve(catalogue=catalogue, port=port, data_dir=data_dir, leecher=leecher)


@app.command("demo")
@handle_errors
def demo_cmd(
    home: Annotated[Optional[Path], typer.Option("--home", help="Keep the demo's state here (default: a temp dir).")] = None,
) -> None:
    """The whole flow offline: sandbox, search (typos included), pick, fetch, download, verify, seed."""
    from mamdl.demo import run_demo

    raise typer.Exit(run_demo(home=home))
