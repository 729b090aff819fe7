"""The one user-error channel: `UsageError` is a usage error (exit 2); any other exception, a
`ValueError` included, is a bug and is reported as an internal error with its trace in the log."""

from __future__ import annotations

import json

import pytest
import typer

from mamdl.cli.common import EXIT_INTERNAL, handle_errors
from mamdl.errors import UsageError
from mamdl.mcp_server import _as_tool_error


def test_bad_option_values_are_usage_errors(mam, sandbox_env):
    """Sabotage caught: `mam search` raising a bare ValueError for an empty search (or `--wedge`
    checked with ValueError) would now be an internal error, exit 70, not 2."""
    p = mam("search", "--title", "   ", "--json")
    assert p.returncode == 2, p.stderr
    body = json.loads(p.stdout)
    assert body["kind"] == "UsageError" and "at least one" in body["error"]
    p = mam("get", "1", "--wedge", "sometimes", "--json")
    assert p.returncode == 2 and json.loads(p.stdout)["kind"] == "UsageError"


def _run(exc: Exception, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    @handle_errors
    def command(as_json: bool = True) -> None:
        raise exc

    with pytest.raises(typer.Exit) as info:
        command(as_json=True)
    return info.value.exit_code, json.loads(capsys.readouterr().out)


def test_a_bug_is_not_a_usage_error(capsys, caplog):
    """Sabotage caught: putting back `except ValueError: ... "UsageError", 2` in `handle_errors`
    makes a bug (say `parsedate_to_datetime` choking on a header) look like the user's mistake."""
    code, body = _run(ValueError("Invalid date value or format 'soon'"), capsys)
    assert code == EXIT_INTERNAL and body["kind"] == "InternalError"
    # the trace is on the record as exc_info, or as the redacted exc_text once mamdl's logging
    # (set up in-process by an earlier test) has frozen the record
    assert any(r.exc_info or (r.exc_text and "Invalid date value" in r.exc_text) for r in caplog.records), (
        "the trace must reach the log"
    )
    code, body = _run(UsageError("--wedge must be never, auto or always"), capsys)
    assert code == 2 and body == {"error": "--wedge must be never, auto or always", "kind": "UsageError"}


def test_mcp_reports_a_bug_as_internal():
    """Sabotage caught: `_as_tool_error` treating `ValueError` like `MamdlError` again hands the
    bug's raw text to the agent as if it were advice."""
    assert "internal error" in str(_as_tool_error(ValueError("secret-ish detail"), "search_mam"))
    assert "secret-ish" not in str(_as_tool_error(ValueError("secret-ish detail"), "search_mam"))
    assert str(_as_tool_error(UsageError("Give at least one title."), "search_mam")) == "Give at least one title."
