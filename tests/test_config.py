import stat

import pytest

from mamdl.config import load_settings, write_config
from mamdl.errors import ConfigError


def test_env_overrides_file_and_flags_override_env(isolated_home, monkeypatch):
    write_config({"seed_ratio": 2.0, "min_interval": 3.0, "mam_id": "from-file-cookie"})
    monkeypatch.delenv("MAM_ID")
    s = load_settings()
    assert s.seed_ratio == 2.0 and s.min_interval == 3.0
    assert s.require_cookie() == "from-file-cookie"
    monkeypatch.setenv("MAMDL_SEED_RATIO", "1.5")
    monkeypatch.setenv("MAM_ID", "from-env-cookie")
    s = load_settings()
    assert s.seed_ratio == 1.5 and s.require_cookie() == "from-env-cookie"
    assert load_settings(seed_ratio=3.0).seed_ratio == 3.0


def test_config_file_is_private(isolated_home):
    path = write_config({"mam_id": "secret-cookie-value"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.parent == isolated_home


def test_show_never_contains_cookie(isolated_home):
    data = load_settings().public_dict()
    assert "test-cookie" not in repr(data)
    assert data["mam_id"] == "<set>"


def test_missing_cookie_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("MAM_ID")
    with pytest.raises(ConfigError, match="mam config init"):
        load_settings().require_cookie()


def test_bad_toml_and_bad_values_are_clear(isolated_home, monkeypatch):
    (isolated_home / "config.toml").write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()
    (isolated_home / "config.toml").write_text("seed_ratio = -1\n")
    with pytest.raises(ConfigError, match="seed_ratio"):
        load_settings()


def test_paths_live_under_home(isolated_home):
    p = load_settings().paths
    for sub in (p.cache_db, p.torrents_dir, p.engine_db, p.logs_dir, p.default_download_dir, p.session_file):
        assert isolated_home in sub.parents


def test_paths_are_resolved_once(isolated_home, monkeypatch, tmp_path):
    """Sabotage caught: `Settings.paths` calling `Paths.resolve()` on every access again, so a
    change of MAMDL_HOME moves one Service's files half-way through its life."""
    settings = load_settings()
    first = settings.paths
    monkeypatch.setenv("MAMDL_HOME", str(tmp_path / "elsewhere"))
    assert settings.paths is first and settings.paths.state_dir == isolated_home.resolve()
    assert load_settings().paths.state_dir == (tmp_path / "elsewhere").resolve()
