"""`mam config show|get|set|path`: read and change settings without editing TOML by hand.

`show` prints valid TOML with each value's source as a comment (default, config file, or the
environment variable that wins), because "why is it using that?" is the usual question. The
cookie is never printed and cannot be `set` (it would land in the shell history):
`mam config init` asks for it with hidden input.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from mamdl.cli.account import config_app
from mamdl.cli.common import console, emit_json, handle_errors
from mamdl.errors import UsageError

SECRET = "mam_id"
HIDDEN_INPUT = {"abs_token", "client_password"}
"""Other secrets: set with `mam config set KEY -` (hidden input), never from the command line."""
ENV_NAMES = {"mam_id": "MAM_ID", "base_url": "MAM_BASE_URL", "seedbox_url": "MAM_SEEDBOX_URL"}


def env_name(key: str) -> str:
    return ENV_NAMES.get(key, "MAMDL_" + key.upper())


def _file_values() -> dict[str, Any]:
    import tomllib

    from mamdl.config import Paths
    from mamdl.errors import ConfigError

    path = Paths.resolve().config_file
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def source_of(key: str, file_values: dict[str, Any]) -> str:
    name = env_name(key)
    if name in os.environ:
        return f"environment {name}"
    if key in file_values:
        return "config file"
    return "default"


def _known(key: str) -> str:
    from mamdl.config import Settings

    if key not in Settings.model_fields:
        raise UsageError(f"no setting called {key!r}; `mam config show` lists them all")
    return key


def _toml(v: Any) -> str:
    import json

    if v is None:
        return '""'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


@config_app.command("show")
@handle_errors
def config_show(as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False) -> None:
    """Print the effective configuration as TOML, each value with where it came from (secrets redacted).

    Unset values show as "" (commented out).

    Examples: mam config show · mam config show --json
    """
    from mamdl.cli.text import inert
    from mamdl.config import Paths, load_settings

    data = load_settings().public_dict()
    files = _file_values()
    paths = Paths.resolve()
    if as_json:
        emit_json({**data, "sources": {k: source_of(k, files) for k in data if k not in ("config_file", "state_dir")}})
        return
    lines = [f"# config file: {paths.config_file}", f"# state folder: {paths.state_dir}", ""]
    for k in sorted(data):
        if k in ("config_file", "state_dir"):
            continue
        v = data[k]
        value = '"<set>"' if k == SECRET and v else _toml(v)
        line = f"{k} = {value}"
        lines.append(f"{'# ' if v is None else ''}{line:<50} # {source_of(k, files)}")
    for line in lines:
        typer.echo(inert(line))


@config_app.command("get")
@handle_errors
def config_get(key: Annotated[str, typer.Argument(help="A setting name, as `mam config show` lists them.")]) -> None:
    """Print one setting's effective value (the cookie only as <set>).

    Example: mam config get seed_hours"""
    from mamdl.config import load_settings

    data = load_settings().public_dict()
    v = data[_known(key)]
    typer.echo("<set>" if key == SECRET and v else ("" if v is None else _toml(v).strip('"')))


LIVE_LIMITS = {"download_limit_kibps": "download_kibps", "upload_limit_kibps": "upload_kibps"}
"""Settings a running engine takes at once (through `Service.set_rate_limits`); the rest are read
when a process starts."""


@config_app.command("set")
@handle_errors
def config_set(
    key: Annotated[str, typer.Argument(help="A setting name, as `mam config show` lists them.")],
    value: Annotated[str, typer.Argument(help="The new value; lists are comma-separated (epub,mobi).")],
) -> None:
    """Change one setting in the config file (checked first; the file stays mode 0600).

    Examples:

      mam config set seed_hours 96

      mam config set ebook_filetypes epub,azw3
    """
    from pydantic import TypeAdapter, ValidationError

    from mamdl.cli.common import one_line
    from mamdl.config import Paths, Settings, write_config

    if _known(key) == SECRET:
        raise UsageError("the cookie is set with `mam config init` (hidden input), never on the command line")
    hidden = key in HIDDEN_INPUT
    if hidden:
        if value != "-":
            raise UsageError(f"{key} is a secret: `mam config set {key} -` asks for it with hidden input")
        value = typer.prompt(key, hide_input=True).strip()
    field = Settings.model_fields[key]
    raw: Any = value
    if "list" in str(field.annotation):
        raw = [x.strip() for x in value.split(",") if x.strip()]
    elif "dict" in str(field.annotation):  # path_map: LOCAL=CLIENT,LOCAL2=CLIENT2
        pairs = [x.split("=", 1) for x in value.split(",") if x.strip()]
        if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
            raise UsageError(f"{key}: give LOCAL=CLIENT pairs, comma-separated (/srv/books=/downloads)")
        raw = {a.strip(): b.strip() for a, b in pairs}
    try:
        checked = TypeAdapter(field.annotation or str).validate_python(raw, strict=False)
        for meta in field.metadata:  # ge/gt bounds live here, not in the annotation
            lo = getattr(meta, "ge", None)
            if lo is not None and checked < lo:
                raise ValueError(f"must be at least {lo}")
            above = getattr(meta, "gt", None)
            if above is not None and checked <= above:
                raise ValueError(f"must be more than {above}")
    except ValidationError as exc:
        raise UsageError(f"{key}: " + one_line(exc.errors()[0]["msg"])) from None
    except ValueError as exc:  # the bounds checked just above
        raise UsageError(f"{key}: {exc}") from None
    if hasattr(checked, "__fspath__"):
        checked = str(checked)
    if hasattr(checked, "get_secret_value"):
        checked = checked.get_secret_value()
    out = console()
    if key in LIVE_LIMITS:  # saved and handed to a running engine at once, as `mam limit` does
        from mamdl.cli.common import make_service

        with make_service() as svc:
            r = svc.set_rate_limits(**{LIVE_LIMITS[key]: checked})
        path = Paths.resolve().config_file
        live = " and applied now" if r.applied_now else ""
        out.print(f"{key} = {_toml(checked)} saved in {path}{live}", markup=False)
    else:
        path = write_config({key: checked}, Paths.resolve().config_file)
        out.print(f"{key} = {'<set>' if hidden else _toml(checked)} saved in {path}", markup=False)
        from mamdl.service.daemon import read_service

        running = read_service(Paths.resolve())
        if running is not None:
            out.print(
                f"Note: the running service (pid {running.pid}) keeps the settings it started with; for what it "
                "does itself (seeding, its engine, the web page), `mam service stop` and start it again.",
                markup=False,
            )
    if env_name(key) in os.environ:
        out.print(f"Note: {env_name(key)} is set in the environment and wins over the file.", markup=False)


@config_app.command("path")
@handle_errors
def config_path() -> None:
    """Print the config file's path (MAMDL_HOME moves it).

    Example: $EDITOR "$(mam config path)"
    """
    from mamdl.config import Paths

    typer.echo(str(Paths.resolve().config_file))
