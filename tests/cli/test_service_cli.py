"""`mam service install|status` without a running service."""

from __future__ import annotations

import os
import shutil
import subprocess

from tests.cli.conftest import run_mam


def test_install_writes_a_valid_unit_without_secrets(tmp_path, isolated_home):
    """Sabotage caught: the cookie written into the unit, or a unit systemd-analyze rejects."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    p = run_mam("service", "install", "--no-enable", env=env)
    assert p.returncode == 0, p.stderr
    unit = tmp_path / "cfg" / "systemd" / "user" / "mamdl.service"
    text = unit.read_text()
    assert "-m mamdl serve" in text and f"MAMDL_HOME={isolated_home}" in text
    assert os.environ["MAM_ID"] not in text
    assert "enable-linger" in p.stdout
    if shutil.which("systemd-analyze"):
        v = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
        assert v.returncode == 0, v.stderr
    p = run_mam("service", "uninstall", env=env)
    assert p.returncode == 0 and not unit.exists()


def test_service_status_without_service(isolated_home):
    p = run_mam("service", "status")
    assert p.returncode == 3 and "No service is running: nothing is seeding now" in p.stdout
    p = run_mam("service", "stop")
    assert p.returncode == 0 and "No service is running" in p.stdout
