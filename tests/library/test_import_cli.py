"""`mam import` and the library settings: every bad input is a clear error that changes nothing."""

from __future__ import annotations

import json
import stat

from mamdl.config import load_settings, write_config
from tests.cli.conftest import run_mam


def test_import_needs_a_hash_or_all(tmp_path, monkeypatch):
    """Catches: `mam import` with nothing (or both) doing something anyway."""
    monkeypatch.setenv("MAMDL_LIBRARY_DIR", str(tmp_path / "lib"))
    for args in (["import"], ["import", "abcdef12", "--all"]):
        p = run_mam(*args)
        assert p.returncode == 2 and "--all" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "lib").exists()


def test_import_without_a_library_says_how_to_set_one(tmp_path):
    """Catches: placing into some default folder the person never chose."""
    p = run_mam("import", "--all", "--json")
    assert p.returncode == 2
    assert json.loads(p.stdout) == {
        "error": "No library configured: set library_dir (or MAMDL_LIBRARY_DIR) first.",
        "kind": "ConfigError",
    }


def test_import_unknown_hash_is_a_clear_error(tmp_path, monkeypatch):
    """Catches: a traceback for a hash that isn't there."""
    monkeypatch.setenv("MAMDL_LIBRARY_DIR", str(tmp_path / "lib"))
    p = run_mam("import", "deadbeef")
    assert p.returncode == 1 and "no torrent with info-hash" in p.stderr and "Traceback" not in p.stderr


def test_bad_template_is_a_config_error_at_load(monkeypatch):
    """Catches: a template typo found only when a finished book fails to place."""
    monkeypatch.setenv("MAMDL_AUDIOBOOK_TEMPLATE", "{autor}/{title}")
    p = run_mam("status")
    assert p.returncode == 2 and "unknown field {autor}" in p.stderr


def test_abs_token_in_the_config_file_is_private(isolated_home):
    """Catches: the Audiobookshelf token written world-readable or shown by `mam config show`."""
    path = write_config({"abs_token": "abs-token-in-file-1234", "abs_url": "http://127.0.0.1:13378"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings().abs_token.get_secret_value() == "abs-token-in-file-1234"
    shown = run_mam("config", "show", "--json")
    assert shown.returncode == 0 and "abs-token-in-file-1234" not in shown.stdout + shown.stderr


def test_import_of_an_unfinished_download_is_refused(isolated_home, tmp_path, monkeypatch):
    """Catches: linking half-downloaded files into the library."""
    from mamdl.engine.models import TorrentState
    from mamdl.engine.store import Store, TorrentRecord, db_path

    monkeypatch.setenv("MAMDL_LIBRARY_DIR", str(tmp_path / "lib"))
    h = "ab" * 20
    with Store(db_path(isolated_home)) as store:
        rec = TorrentRecord(
            info_hash=h,
            name="Book",
            title="Book",
            mam_id=5,
            save_path=str(tmp_path / "dl"),
            state=TorrentState.DOWNLOADING,
            ratio_goal=1.0,
            seed_seconds_goal=0,
            added_at=0.0,
            progress=0.4,
        )
        store.add_torrent(rec, b"d4:infod4:name4:Bookee")
    p = run_mam("import", h[:8])
    assert p.returncode == 1 and "not completely downloaded" in p.stderr and "40%" in p.stderr
    assert not (tmp_path / "lib").exists()


def test_abs_token_is_set_with_hidden_input_only(isolated_home):
    """Catches: the token taken from the command line (shell history), or written as the
    `**********` placeholder of a SecretStr, or echoed back."""
    refused = run_mam("config", "set", "abs_token", "abs-token-on-cli-5678")
    assert refused.returncode == 2 and "hidden input" in refused.stderr
    p = run_mam("config", "set", "abs_token", "-", input="abs-token-hidden-5678\n")
    assert p.returncode == 0, p.stderr
    assert "abs-token-hidden-5678" not in p.stdout + p.stderr and "<set>" in p.stdout
    assert load_settings().abs_token.get_secret_value() == "abs-token-hidden-5678"
    assert run_mam("config", "get", "abs_token").stdout.strip() == "<set>"
