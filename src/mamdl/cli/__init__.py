"""The `mam` command. Each command is a thin wrapper over `mamdl.service.Service`.

Command modules import their heavy dependencies inside the functions so that `mam --help`
only loads typer.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mamdl.cli import helptext

helptext.install()

app = typer.Typer(
    name="mam",
    help="Search, download and seed MyAnonaMouse books. Try `mam demo` for an offline tour.",
    epilog="Examples: mam search -t dune --best · mam get 123456 --download · mam status · mam seed",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # pretty tracebacks print locals, which may hold the cookie
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from mamdl import __version__

        typer.echo(f"mam (mamdl) {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print debug messages (they always go to the log file).")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress line and no warnings on screen (results and errors still print)."
        ),
    ] = False,
) -> None:
    """Search, download and seed MyAnonaMouse books. Try `mam demo` for an offline tour.

    The log file is `logs/mamdl.log` in the state folder (`mam config show` prints where)."""
    from mamdl.cli import common

    common.VERBOSITY = 1 if verbose else -1 if quiet else 0


from mamdl.cli import account, bonus, configcmd, library, sandbox, search, service, torrents  # noqa: E402  (they register commands)

__all__ = ["account", "app", "bonus", "configcmd", "library", "main", "sandbox", "search", "service", "torrents"]


def main() -> None:
    import signal

    from mamdl.cli.common import run_app

    def _terminate(signum, frame):  # SIGTERM (systemd, kill) ends like Ctrl-C: state saved, lock released
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    run_app(app)
