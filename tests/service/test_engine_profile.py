"""The engine profile `mam` builds for a real MAM account (not the sandbox's loopback profile)."""

from __future__ import annotations

import libtorrent as lt

from mamdl.config import REAL_MAM, load_settings
from mamdl.engine.settings import EngineConfig, session_params, session_settings
from mamdl.engine.store import db_path
from mamdl.service.downloads import engine_config


def test_the_profile_users_run(isolated_home, monkeypatch):
    """Built from default settings against the real site, as `mam get --download` does.
    Sabotage caught: the engine's own listen default (`EngineConfig()`) drifting from the
    `listen_interfaces` setting (it was 0.0.0.0:6881 against 0.0.0.0:0), `engine_config` picking
    the loopback profile for a real site, or a setting libtorrent refuses when the session is built."""
    monkeypatch.setenv("MAM_BASE_URL", REAL_MAM)
    settings = load_settings()
    assert not settings.is_loopback
    config = engine_config(settings)
    assert config.listen_interfaces == settings.listen_interfaces == EngineConfig().listen_interfaces == "0.0.0.0:0"
    s = session_settings(config)
    assert s["enable_incoming_utp"] is True and s["allow_multiple_connections_per_ip"] is False
    assert not (s["enable_dht"] or s["enable_lsd"] or s["enable_upnp"] or s["enable_natpmp"])
    params = session_params(config)  # what Engine.start hands libtorrent (no session is started)
    pack = params.settings
    assert pack["listen_interfaces"] == "0.0.0.0:0" and pack["enable_dht"] is False
    assert pack["min_announce_interval"] == EngineConfig().min_announce_interval
    assert isinstance(params, lt.session_params)


def test_engine_database_named_once(isolated_home):
    """Sabotage caught: the engine's store and `Paths.engine_db` (which `mam doctor` checks for
    mode 0600) naming different files."""
    paths = load_settings().paths
    assert db_path(paths.state_dir) == paths.engine_db


def test_receive_buffer_setting_reaches_the_engine(isolated_home):
    """`socket_recv_buffer` in config.toml/env overrides the engine's default; unset keeps it.
    Sabotage caught: `engine_config` dropping the setting."""
    assert engine_config(load_settings()).socket_recv_buffer == EngineConfig().socket_recv_buffer
    assert engine_config(load_settings(socket_recv_buffer=0)).socket_recv_buffer == 0
    assert engine_config(load_settings(socket_recv_buffer=2**20)).socket_recv_buffer == 2**20
