"""Connectability: one listen port kept in the config across engine starts; port mapping only
when asked for and never against the loopback sandbox; `mam doctor` relays MAM's verdict."""

from __future__ import annotations

import tomllib

from mamdl.config import load_settings
from mamdl.service import Service
from mamdl.service.connectivity import connectable_verdict
from mamdl.service.downloads import engine_config


def test_listen_port_is_the_same_across_two_engine_starts(sandbox_env, isolated_home):
    """Sabotage: stop saving the chosen port (or go back to port 0) and the second start listens
    elsewhere."""
    ports = []
    for _ in range(2):
        with Service(load_settings()) as svc:
            engine = svc.start_engine()
            ports.append(engine.listen_port)
            assert engine.session_info()["settings"]["enable_upnp"] is False
    assert ports[0] == ports[1] and 61000 <= ports[0] <= 65500
    saved = tomllib.loads((isolated_home / "config.toml").read_text())
    assert saved["listen_port"] == ports[0]
    assert (isolated_home / "config.toml").stat().st_mode & 0o077 == 0


def test_explicit_port_wins_and_mapping_needs_a_real_mam(isolated_home):
    s = load_settings(listen_interfaces="0.0.0.0:51413", port_mapping=True, base_url="https://mam.example")
    cfg = engine_config(s)
    assert cfg.listen_interfaces == "0.0.0.0:51413" and cfg.enable_upnp and cfg.enable_natpmp
    assert not (isolated_home / "config.toml").exists()  # nothing chosen, nothing written
    loop = engine_config(load_settings(listen_port=62000, port_mapping=True))  # MAM_BASE_URL is loopback in tests
    assert loop.listen_interfaces == "127.0.0.1:62000" and not loop.enable_upnp and not loop.enable_natpmp


def test_connectable_verdict_says_what_to_do(isolated_home):
    from mamdl.mam.models import UserInfo

    s = load_settings(listen_port=62001, base_url="https://mam.example")
    assert connectable_verdict(s, UserInfo(username="u", connectable="yes")).status == "ok"
    no = connectable_verdict(s, UserInfo(username="u", connectable="no"))
    assert no.status == "warn" and "62001" in no.detail and "Forward TCP port 62001" in no.fix and "VPN" in no.fix
    assert "port_mapping" in no.fix
    off = connectable_verdict(s, UserInfo(username="u", connectable="offline"))
    assert off.status == "warn" and "mam seed" in off.fix
