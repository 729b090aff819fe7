"""`mam config init` asks for the cookie without echoing it and writes a private file."""

import io
import json
import os
import stat

import pytest

from tests.cli.conftest import MAM


def test_config_init_hidden_input_and_private_file(isolated_home, mam, monkeypatch):
    pexpect = pytest.importorskip("pexpect")
    monkeypatch.delenv("MAM_ID")
    child = pexpect.spawn(MAM, ["config", "init"], env=dict(os.environ), encoding="utf-8", timeout=30)
    screen = io.StringIO()
    child.logfile_read = screen  # everything the terminal showed
    child.expect("mam_id cookie")
    child.sendline("typed-secret-cookie-123456")
    child.expect("Saved to")
    child.expect(pexpect.EOF)
    assert "Saved to" in screen.getvalue() and "typed-secret-cookie-123456" not in screen.getvalue()
    cfg = isolated_home / "config.toml"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert "typed-secret-cookie-123456" in cfg.read_text()
    shown = mam("config", "show", "--json")
    assert "typed-secret-cookie-123456" not in shown.stdout
    assert json.loads(shown.stdout)["mam_id"] == "<set>"


def test_config_init_refuses_junk(isolated_home, mam):
    p = mam("config", "init", input="short\n")
    assert p.returncode == 2 and "does not look like" in p.stderr
