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


def test_unknown_config_key_is_named_with_the_setting_meant(isolated_home, mam):
    """A misspelt key is ignored (old files must still load), so it must at least be said: a silent
    `seed_ratoi = 2` leaves the seeding goal at its default. Sabotage caught: no warning, or a
    warning for a real setting too."""
    cfg = isolated_home / "config.toml"
    cfg.write_text("seed_ratoi = 2.0\nseed_hours = 80\n")
    cfg.chmod(0o600)
    p = mam("status")
    assert p.returncode == 0, p.stderr
    assert "'seed_ratoi' is not a setting and is ignored (did you mean 'seed_ratio'?)" in p.stderr
    assert "seed_hours" not in p.stderr
