"""`mam sandbox` (a local MAM look-alike) and `mam demo` (the whole flow, offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mamdl.cli import app
from mamdl.cli.common import handle_errors
from mamdl.errors import UsageError

SANDBOX_PORT = 8707
"""`mam sandbox`'s default port: stable, so exported MAM_BASE_URL lines keep working."""


@app.command("sandbox")
@handle_errors
def sandbox_cmd(
    catalogue: Annotated[
        Path | None, typer.Option("--catalogue", help='JSON {"torrents": [...]} of MAM search rows.')
    ] = None,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")
    ] = SANDBOX_PORT,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where payloads and .torrent files go.")] = None,
    leecher: Annotated[bool, typer.Option("--leecher", help="Run a leecher so seeding clients' ratio climbs.")] = False,
    row_style: Annotated[
        str, typer.Option("--row-style", help="Search rows as the live site types them (live) or all strings (doc).")
    ] = "live",
    summary_style: Annotated[
        str, typer.Option("--summary-style", help="Snatch summary nested (as MAM now) or at the top level (older).")
    ] = "nested",
) -> None:
    """Run a MAM-compatible server, tracker and seeder on 127.0.0.1; prints `export` lines for
    MAM_BASE_URL and MAM_ID. The port stays the same between runs, so the lines stay valid
    for the base URL (the cookie is new each run).

    Example (in another terminal, paste the two export lines, then):

      mam search -t dune
    """
    import errno

    from mamdl.errors import MamdlError
    from mamdl.sandbox import serve

    if row_style not in ("live", "doc"):
        raise UsageError("--row-style must be live or doc")
    if summary_style not in ("nested", "top"):
        raise UsageError("--summary-style must be nested or top")
    try:
        serve(
            catalogue=catalogue,
            port=port,
            data_dir=data_dir,
            leecher=leecher,
            row_style=row_style,
            summary_style=summary_style,
            export=True,
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise MamdlError(
                f"port {port} on 127.0.0.1 is in use (another sandbox?). Stop it, or pass --port 0 for a free port."
            ) from None
        raise


@app.command("demo")
@handle_errors
def demo_cmd(
    home: Annotated[
        Path | None, typer.Option("--home", help="Keep the demo's state here (default: a temp dir).")
    ] = None,
) -> None:
    """The whole flow offline: sandbox, search (typos included), pick, fetch, download, verify, seed.

    Example: mam demo
    """
    from mamdl.cli.demo import run_demo

    raise typer.Exit(run_demo(home=home))


@app.command("mcp")
@handle_errors
def mcp_cmd(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP at /mcp instead of stdio.")] = False,
    host: Annotated[str, typer.Option("--host", help="HTTP bind address (loopback unless you mean it).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="HTTP port for --http.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="MAMDL_MCP_TOKEN",
            help="Bearer token for --http (default: a random one, printed to stderr).",
        ),
    ] = None,
    no_destructive: Annotated[
        bool, typer.Option("--no-destructive", help="Hide removal (manage_seeding remove).")
    ] = False,
) -> None:
    """Serve the MCP tools (search, download, progress, seeding, account) to an AI assistant.

    Examples: mam mcp · mam mcp --http --port 8765 --token "$(openssl rand -hex 16)"
    """
    from mamdl.mcp_server import run

    run(http=http, host=host, port=port, token=token, allow_destructive=not no_destructive)
