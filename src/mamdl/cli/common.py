"""What every command shares: the service, output helpers, and the one error boundary.

The error boundary turns a `MamdlError` into its message (exit code per class) and any other
exception into a short "internal error" line, with the redacted traceback in the log file. Typer's
pretty tracebacks are off because they print local variables, and a local may hold the cookie.
Usage errors from argument parsing, an interrupted start-up and closed input go through
`run_app()` and print in the same one-line style: `Error: <cause>. <fix>` on stderr.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("mamdl.cli")

EXIT_INTERNAL = 70
EXIT_NOT_CONFIDENT = 4
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

VERBOSITY = 0
"""-1 with `-q` (no progress line, no warnings on stderr), 1 with `-v` (debug messages on stderr too)."""


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def make_service(**overrides: Any):
    from mamdl.config import load_settings
    from mamdl.redact import setup_logging
    from mamdl.service import Service

    _check_home()
    settings = load_settings(**overrides)
    setup_logging(settings.paths.logs_dir / "mamdl.log", verbose=VERBOSITY > 0)
    if VERBOSITY < 0:  # -q: warnings still reach the log file, not the screen
        for h in logging.getLogger().handlers:
            if type(h) is logging.StreamHandler:
                h.setLevel(logging.ERROR)
    _warn_unknown_keys(settings.paths.config_file)
    return Service(settings)


_warned_files: set[Path] = set()


def _warn_unknown_keys(path: Path) -> None:
    """Once per process and file: a key in config.toml that is no setting (it is ignored)."""
    from mamdl.config import unknown_config_keys

    if path in _warned_files:
        return
    _warned_files.add(path)
    for key, close in unknown_config_keys(path):
        hint = f" (did you mean {close!r}?)" if close else ""
        logging.getLogger("mamdl.config").warning("%s: %r is not a setting and is ignored%s", path, key, hint)


def _check_home() -> None:
    """MAMDL_HOME must be a folder: say so, instead of failing deep inside on the first mkdir."""
    import os

    from mamdl.errors import ConfigError

    home = os.environ.get("MAMDL_HOME")
    if home and os.path.exists(home) and not os.path.isdir(home):
        raise ConfigError(
            f"MAMDL_HOME={home} is a file, not a folder. Point MAMDL_HOME at a folder "
            "(mamdl keeps its config, cache and downloads there) or unset it."
        )


def emit_json(data: Any) -> None:
    """Print JSON to stdout; pydantic models and lists of them are serialised the same way."""
    from pydantic import BaseModel

    def plain(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None  # JSON has no Infinity/NaN; a reader would choke on Python's spelling
        if isinstance(x, BaseModel):
            return plain(x.model_dump(mode="json"))
        if isinstance(x, list):
            return [plain(i) for i in x]
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        return x

    from mamdl.redact import redact

    sys.stdout.write(redact(json.dumps(plain(data), ensure_ascii=False, indent=2)) + "\n")
    sys.stdout.flush()


def handle_errors(fn: F) -> F:
    """Wrap a command: clear messages and exit codes instead of tracebacks."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from mamdl.errors import MamdlError
        from mamdl.redact import redact

        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            console(stderr=True).print("Interrupted.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except MamdlError as exc:
            _fail(_advice(exc, redact(str(exc))), type(exc).__name__, exc.exit_code, as_json)
        except OSError as exc:  # the file system said no: name the file and the reason
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}", "OSError", 1, as_json)
        except Exception as exc:
            _fail(internal_error(exc), "InternalError", EXIT_INTERNAL, as_json)

    return wrapper  # type: ignore[return-value]


def internal_error(exc: BaseException) -> str:
    """Log the traceback (redacted) to the log file and return the one line to show instead."""
    from mamdl.redact import redact

    where = _log_file()
    root = logging.getLogger()
    handler = None
    if where is not None and not getattr(root, "_mamdl_configured", False):
        # the failure came before logging was set up: a handler for this one record
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(where, encoding="utf-8")
        except OSError:  # the log file may be what is broken; the message below still stands
            where = None
        else:
            handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            log.addHandler(handler)
    try:  # `file_only`: the stderr handler skips it, or the trace would be on screen after all
        log.error("internal error", exc_info=exc, extra={"file_only": True})
    finally:
        if handler is not None:
            log.removeHandler(handler)
            handler.close()
    detail = f"{type(exc).__name__}: {redact(str(exc))}"[:200]
    return f"internal error ({detail}). " + (
        f"The details are in {where}; please report it with that file's last lines." if where else "Please report it."
    )


class _RedactingFormatter(logging.Formatter):
    """Redacts the formatted text (trace included) without changing the record other handlers see."""

    def format(self, record: logging.LogRecord) -> str:
        from mamdl.redact import redact

        return redact(super().format(record))


def _log_file():
    try:
        from mamdl.config import Paths

        return Paths.resolve().logs_dir / "mamdl.log"
    except Exception:
        return None


def _advice(exc: Exception, message: str) -> str:
    """Replace advice that cannot help in this situation."""
    import os

    from mamdl.errors import SessionExpired

    if isinstance(exc, SessionExpired) and os.environ.get("MAM_ID"):
        message = message.replace(
            "and run `mam config init`",
            "and put it in the MAM_ID environment variable (it is set, and wins over config.toml; "
            "unset it to use `mam config init`)",
        )
    return message


_WORDING = [
    (r"Input should be greater than or equal to (\S+)", r"must be at least \1"),
    (r"Input should be less than or equal to (\S+)", r"must be at most \1"),
    (r"Input should be greater than (\S+)", r"must be more than \1"),
    (r"Input should be a valid number, unable to parse string as a number", "must be a number"),
    (r"Input should be a valid integer, unable to parse string as an integer", "must be a whole number"),
    (r"Input should be a finite number", "must be a finite number"),
    (r"Input should be a valid (\w+)", r"must be a valid \1"),
    (r"Input should be ", "must be "),
]
"""pydantic's phrasing (which typer passes through) in plain words."""


def one_line(message: str) -> str:
    """Messages print as one line: pydantic's "For further information visit …" and line breaks go."""
    import re

    message = re.sub(r"\s*For further information visit \S+", "", message)
    for pydantic_words, plain in _WORDING:
        message = re.sub(pydantic_words, plain, message)
    return " ".join(message.split())


def _fail(message: str, kind: str, code: int, as_json: bool) -> None:
    message = one_line(message)
    if as_json:
        emit_json({"error": message, "kind": kind})
    else:
        from mamdl.cli.text import safe

        console(stderr=True).print(f"[bold red]Error:[/] {safe(message)}", soft_wrap=True)
    raise typer.Exit(code)


def run_app(app: typer.Typer) -> None:
    """Run the command line with one error style for what happens outside a command's body:
    argument errors, closed input at a prompt, Ctrl-C during start-up, and anything unexpected."""
    from typer._click import exceptions as click  # typer vendors its own click

    from mamdl.cli.text import safe

    err = console(stderr=True)
    err.soft_wrap = True  # one line, however narrow the terminal: easy to grep, easy to quote
    try:
        code = app(standalone_mode=False)
    except click.NoArgsIsHelpError:
        code = 0  # `mam` or `mam config` alone: the help was printed, like gh
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx is not None else "mam"
        err.print(
            f"[bold red]Error:[/] {safe(one_line(exc.format_message()).rstrip('.'))}. See `{cmd} --help`.",
            soft_wrap=True,
        )
        code = EXIT_USAGE
    except click.ClickException as exc:
        err.print(f"[bold red]Error:[/] {safe(one_line(exc.format_message()))}", soft_wrap=True)
        code = exc.exit_code
    except typer.Abort:
        # typer.prompt with stdin closed (`mam config init </dev/null`) or Ctrl-D
        err.print("[bold red]Error:[/] no input to read (stdin is closed or not a terminal). Nothing was changed.")
        code = 1
    except KeyboardInterrupt:
        err.print("Interrupted.")
        code = EXIT_INTERRUPTED
    except Exception as exc:
        err.print(f"[bold red]Error:[/] {safe(internal_error(exc))}", soft_wrap=True)
        code = EXIT_INTERNAL
    # The command is over and has closed what it opened: spare the interpreter's final garbage
    # collection over everything it imported (about 0.1 s between a download's last line and
    # the shell prompt). Finalizers and atexit handlers (the log's flush) still run.
    import gc

    gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)
