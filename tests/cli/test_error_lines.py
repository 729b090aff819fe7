"""Every error a person can run into prints one line on stderr — cause, where, fix — with a
meaningful exit code and never a traceback (issue 19's list, case by case)."""

from __future__ import annotations

import json
import math
import os
import textwrap

import pytest

from mamdl.mam.client import SEEDBOX_PATH


def one_error(p, code: int) -> str:
    """The single `Error:` line of a failed run (asserting the exit code and no traceback)."""
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr + p.stdout
    assert "╭" not in p.stderr  # one style: no framed boxes
    errors = [line for line in p.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, p.stderr
    return errors[0]


def test_unreachable_mam_names_the_url_and_the_setting(isolated_home, mam, monkeypatch):
    """Sabotage caught: the old "Could not reach MAM: ConnectError" (no URL, no fix)."""
    monkeypatch.setenv("MAMDL_RETRY_BUDGET_SECONDS", "1")
    line = one_error(mam("user"), 1)
    assert "http://127.0.0.1:9" in line and "MAM_BASE_URL" in line


def test_rejected_cookie_from_the_environment_gives_advice_that_can_work(sandbox_env, mam, monkeypatch):
    """Sabotage caught: advising `mam config init` while MAM_ID in the environment overrides it."""
    monkeypatch.setenv("MAM_ID", "not-the-right-cookie-0000")
    line = one_error(mam("user", "--refresh"), 1)
    assert "MAM_ID environment variable" in line and "not-the-right-cookie" not in line


@pytest.mark.parametrize("value", ["1e308", "inf", "nan"])
def test_absurd_seed_hours_are_a_usage_error(isolated_home, mam, value):
    """Sabotage caught: dropping `max=` on --seed-hours (int(inf * 3600) → OverflowError)."""
    line = one_error(mam("get", "1", "--seed-hours", value), 2)
    assert "--seed-hours" in line and "mam get --help" in line
    assert "pydantic" not in line and "Input should" not in line


def test_mamdl_home_pointing_at_a_file(tmp_path, isolated_home, mam, monkeypatch):
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    monkeypatch.setenv("MAMDL_HOME", str(afile))
    line = one_error(mam("status"), 2)
    assert f"MAMDL_HOME={afile} is a file" in line
    assert afile.read_text() == "x"


def test_config_init_with_no_input(isolated_home, mam, monkeypatch):
    """Sabotage caught: letting typer's Abort escape (a traceback, or a bare "Aborted!")."""
    monkeypatch.delenv("MAM_ID")
    line = one_error(mam("config", "init", input=""), 2)
    assert "No cookie on standard input" in line and not (isolated_home / "config.toml").exists()


def test_config_init_with_token_checks_the_login(sandbox_env, mam, isolated_home, monkeypatch):
    monkeypatch.delenv("MAM_ID")
    p = mam("config", "init", "--with-token", "--base-url", sandbox_env.base_url, input=sandbox_env.mam_id + "\n")
    assert p.returncode == 0, p.stderr
    assert "Saved to" in p.stdout and "Signed in as" in p.stdout
    assert sandbox_env.mam_id not in p.stdout + p.stderr


def test_seedbox_endpoint_answering_a_json_array(sandbox_env, mam):
    """Sabotage caught: `data.get` on a list (AttributeError → internal error)."""
    sandbox_env.add_fault("malformed_json", body="[1, 2, 3]", path=SEEDBOX_PATH)
    line = one_error(mam("seedbox-ip"), 1)
    assert "seedbox endpoint" in line and "JSON list" in line


def _hook(tmp_path, exc: str):
    """A sitecustomize that raises `exc` when the service layer is imported: a deterministic
    stand-in for Ctrl-C (or a bug) during a command's start-up."""
    d = tmp_path / "hook"
    d.mkdir()
    (d / "sitecustomize.py").write_text(
        textwrap.dedent(f"""
        import sys
        class _Boom:
            def find_spec(self, name, path=None, target=None):
                if name == "mamdl.service":
                    raise {exc}
                return None
        sys.meta_path.insert(0, _Boom())
        """)
    )
    return str(d)


def test_ctrl_c_during_start_up(tmp_path, isolated_home, mam, monkeypatch):
    """Sabotage caught: removing the KeyboardInterrupt branch from the error boundary."""
    monkeypatch.setenv("PYTHONPATH", _hook(tmp_path, "KeyboardInterrupt"))
    p = mam("status")
    assert p.returncode == 130 and "Interrupted." in p.stderr and "Traceback" not in p.stderr


def test_internal_error_points_at_the_log_file(tmp_path, isolated_home, mam, monkeypatch):
    """Sabotage caught: printing the traceback (or nothing useful) instead of the log's path."""
    monkeypatch.setenv("PYTHONPATH", _hook(tmp_path, "RuntimeError('boom')"))
    line = one_error(mam("status"), 70)
    log = isolated_home / "logs" / "mamdl.log"
    assert "internal error (RuntimeError: boom)" in line and str(log) in line
    assert "Traceback" in log.read_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["search", "dune", "--lang", "xyz"], "--lang 'XYZ' is not one MAM knows"),
        (["search", "dune", "--filetype", "docx"], "--filetype 'docx' is not one MAM knows"),
        (["search", "dune", "--limit", "0"], "must be at least 1. See `mam search --help`"),
        (["frobnicate"], "No such command 'frobnicate'. See `mam --help`"),
        (["get", "--nope", "1"], "No such option: --nope"),
    ],
)
def test_usage_errors_are_one_line(isolated_home, mam, args, needle):
    """Sabotage caught: `--lang`/`--filetype` accepted silently, or typer's framed error boxes."""
    assert needle in one_error(mam(*args), 2)


def test_json_never_prints_infinity(capsys):
    """Sabotage caught: json.dumps' default `Infinity`, which JSON parsers reject."""
    from mamdl.cli.common import emit_json

    emit_json({"ratio": math.inf, "rows": [{"x": -math.inf, "y": math.nan}]})
    assert json.loads(capsys.readouterr().out) == {"ratio": None, "rows": [{"x": None, "y": None}]}


def test_conventions(isolated_home, mam):
    from mamdl import __version__

    assert mam("--version").stdout.strip() == f"mam (mamdl) {__version__}"
    for cmd in (["-h"], ["search", "-h"], ["get", "-h"], ["status", "-h"], ["config", "init", "-h"]):
        p = mam(*cmd)
        assert p.returncode == 0 and "Usage:" in p.stdout
        for python_type in ("<str>", "<int>", "<float", "<bool>", "list[", "<path>", "x>="):
            assert python_type not in p.stdout, (cmd, python_type)
    assert "--install-completion" in mam("-h").stdout and "--verbose" in mam("-h").stdout
    assert os.environ.get("MAM_ID")  # isolated_home sets one; -q still prints errors


def test_config_set_get_show_path(isolated_home, mam, monkeypatch):
    """Sabotage caught: `config set` writing unchecked values, or `show` losing the sources."""
    monkeypatch.setenv("MAMDL_SEED_RATIO", "2")
    assert mam("config", "path").stdout.strip() == str(isolated_home / "config.toml")
    p = mam("config", "set", "seed_hours", "96")
    assert p.returncode == 0 and "saved in" in p.stdout
    assert mam("config", "get", "seed_hours").stdout.strip() == "96.0"
    assert "must be at least 0" in one_error(mam("config", "set", "seed_hours", "--", "-1"), 2)
    assert "must be 'any', 'ebook' or 'audiobook'" in one_error(mam("config", "set", "format", "pdf"), 2)
    assert "mam config init" in one_error(mam("config", "set", "mam_id", "abcdefghijkl"), 2)
    assert "abcdefghijkl" not in (isolated_home / "config.toml").read_text()
    shown = mam("config", "show").stdout
    import tomllib

    parsed = tomllib.loads(shown)  # valid TOML
    assert parsed["seed_hours"] == 96.0 and parsed["mam_id"] == "<set>"
    assert re_line(shown, "seed_hours", "# config file")
    assert re_line(shown, "seed_ratio", "# environment MAMDL_SEED_RATIO")
    assert re_line(shown, "mam_id", "# environment MAM_ID")
    assert re_line(shown, "wedge", "# default")


def re_line(text: str, key: str, source: str) -> bool:
    return any(line.startswith(f"{key} = ") and line.rstrip().endswith(source) for line in text.splitlines())


def test_sandbox_has_a_stable_default_port(mam):
    assert "8707" in mam("sandbox", "-h").stdout


def test_every_option_has_help_and_every_command_an_example():
    """Sabotage caught: a new option without `help=` or a command docstring without an example."""
    import typer

    from mamdl.cli import app

    def walk(c, path):
        subs = getattr(c, "commands", None) or {}
        for name, sub in subs.items():
            yield from walk(sub, [*path, name])
        if not subs:
            yield " ".join(path), c

    missing = []
    for path, c in walk(typer.main.get_command(app), ["mam"]):
        missing += [f"{path} {p.name}" for p in c.params if p.name != "help" and not getattr(p, "help", None)]
        if "Example" not in (c.help or ""):
            missing.append(f"{path}: no example")
    assert missing == []


def test_ctrl_c_while_the_cli_is_importing(tmp_path, isolated_home, monkeypatch):
    """Sabotage caught: pointing the console script back at `mamdl.cli:main` (checked in
    pyproject.toml, so a venv installed before the change cannot hide it), where a Ctrl-C during
    the typer/rich imports ends in a traceback; or dropping the `except` in `mamdl.entry`."""
    import subprocess
    import sys
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["mam"] == "mamdl.entry:main"
    d = tmp_path / "hook2"
    d.mkdir()
    (d / "sitecustomize.py").write_text(
        textwrap.dedent("""
        import sys
        class _Boom:
            def find_spec(self, name, path=None, target=None):
                if name == "typer":
                    raise KeyboardInterrupt
                return None
        sys.meta_path.insert(0, _Boom())
        """)
    )
    monkeypatch.setenv("PYTHONPATH", str(d))
    p = subprocess.run(
        [sys.executable, "-c", "from mamdl.entry import main; main()", "status"], capture_output=True, text=True
    )
    assert p.returncode == 130 and p.stderr.strip() == "Interrupted."


def test_quiet_and_verbose(isolated_home, mam, monkeypatch):
    """Sabotage caught: `-q` not reaching the log setup (the retry warning still on screen)."""
    monkeypatch.setenv("MAMDL_RETRY_BUDGET_SECONDS", "1")
    loud = mam("user")
    assert "WARNING" in loud.stderr
    quiet = mam("-q", "user")
    assert "WARNING" not in quiet.stderr and one_error(quiet, 1).startswith("Error: Could not reach MAM")
    assert one_error(mam("-v", "user"), 1).startswith("Error: Could not reach MAM")
