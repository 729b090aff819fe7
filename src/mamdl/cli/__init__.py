"""The `mam` command. Each command is a thin wrapper over `mamdl.service.Service`.

Command modules import their heavy dependencies inside the functions so that `mam --help`
only loads typer.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mam",
    help="Search, download and seed MyAnonaMouse books. Try `mam demo` for an offline tour.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # pretty tracebacks print locals, which may hold the cookie
    add_completion=False,
)

from mamdl.cli import account, bonus, sandbox, search, torrents  # noqa: E402  (they register commands on `app`)

__all__ = ["account", "app", "bonus", "main", "sandbox", "search", "torrents"]


def main() -> None:
    import signal

    def _terminate(signum, frame):  # SIGTERM (systemd, kill) ends like Ctrl-C: state saved, lock released
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    app()
