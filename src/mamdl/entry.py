"""The `mam` console script (and `python -m mamdl`): catches Ctrl-C even while the CLI's modules
are still importing.

`mamdl.cli` pulls in typer and rich, which takes a noticeable moment; a Ctrl-C in that window
would otherwise print a traceback from the import machinery. This module imports nothing heavy.
"""

from __future__ import annotations

import sys


def skip_trio() -> None:
    """Keep trio out of a mamdl process. httpcore2 (under httpx2) imports trio whenever it is
    installed, for async locks that mamdl never uses: mamdl runs on asyncio only (anyio's asyncio
    backend for the MCP server and the service). trio is there in any environment that also holds
    selenium, such as the README's `.venv` once `./dev test` ran, and it cost every `mam` process
    4.8 MiB and 60-80 ms (`python -c "import httpx2; httpx2.Client()"`, 3 runs each). Not done on
    a plain `import mamdl`: a program that embeds mamdl may use trio itself."""
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]  # None: `import trio` raises ImportError


def main() -> None:
    skip_trio()
    try:
        from mamdl.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    cli_main()
