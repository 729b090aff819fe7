"""The `mam` console script: catches Ctrl-C even while the CLI's modules are still importing.

`mamdl.cli` pulls in typer and rich, which takes a noticeable moment; a Ctrl-C in that window
would otherwise print a traceback from the import machinery. This module imports nothing heavy.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from mamdl.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    cli_main()
