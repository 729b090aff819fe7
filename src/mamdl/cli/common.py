"""What every command shares: the service, output helpers, and the one error boundary.

The error boundary turns a `MamdlError` into its message (exit code per class) and any other
exception into a short "internal error" line, with the redacted traceback in the log file. Typer's
pretty tracebacks are off because they print local variables, and a local may hold the cookie.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("mamdl.cli")

EXIT_INTERNAL = 70
EXIT_NOT_CONFIDENT = 4


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def make_service(**overrides: Any):
    from mamdl.config import load_settings
    from mamdl.redact import setup_logging
    from mamdl.service import Service

    settings = load_settings(**overrides)
    setup_logging(settings.paths.logs_dir / "mamdl.log")
    return Service(settings)


def emit_json(data: Any) -> None:
    """Print JSON to stdout; pydantic models and lists of them are serialised the same way."""
    from pydantic import BaseModel

    def plain(x: Any) -> Any:
        if isinstance(x, BaseModel):
            return x.model_dump(mode="json")
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
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            console(stderr=True).print("Interrupted.")
            raise typer.Exit(130) from None
        except MamdlError as exc:
            _fail(redact(str(exc)), type(exc).__name__, exc.exit_code, as_json)
        except Exception as exc:
            log.error("internal error in %s", fn.__name__, exc_info=True)
            _fail(
                f"internal error ({type(exc).__name__}: {redact(str(exc))[:300]}). "
                "Details are in the log file (mam config show prints where).",
                "InternalError",
                EXIT_INTERNAL,
                as_json,
            )

    return wrapper  # type: ignore[return-value]


def _fail(message: str, kind: str, code: int, as_json: bool) -> None:
    if as_json:
        emit_json({"error": message, "kind": kind})
    else:
        console(stderr=True).print(f"[bold red]Error:[/] {_escape(message)}")
    raise typer.Exit(code)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
