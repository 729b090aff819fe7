"""The HTTP API's guards: bearer token (constant-time compare), Host-header check, and refusing a
non-loopback bind without a token. Tests may not leave 127.0.0.0/8, so 127.0.0.2 (bound with a
configured token) stands for "another address than the default", and the refusal without a token
is shown on 0.0.0.0, which the test refuses before anything listens."""

from __future__ import annotations

import json
import os
import subprocess
import time

import httpx2
import pytest

from mamdl.api.server import is_loopback
from tests.cli.conftest import MAM, run_mam


def _start(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([MAM, "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _ready(home, proc) -> dict:
    deadline = time.monotonic() + 60
    while True:
        try:
            return json.loads((home / "serve.json").read_text())
        except (OSError, ValueError):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_non_loopback_bind_without_a_token_is_refused(isolated_home):
    """Sabotage caught: `api_token` no longer enforced for a non-loopback bind."""
    p = run_mam("serve", "--host", "0.0.0.0", "--port", "0")
    assert p.returncode == 2 and "requires a bearer token" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    assert is_loopback("127.0.0.2") and not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


@pytest.mark.slow
def test_token_and_host_checks(isolated_home):
    """Sabotage caught: BearerAuth letting a missing or wrong token through, or the Host check
    removed (a DNS-rebinding page could then reach the API)."""
    env = dict(os.environ, MAMDL_API_TOKEN="right-token-7a1c93b2")
    proc = _start(env, "--host", "127.0.0.2", "--port", "0")
    try:
        info = _ready(isolated_home, proc)
        assert info["url"].startswith("http://127.0.0.2:")
        url = info["url"] + "/api/health"
        assert httpx2.get(url).status_code == 401
        assert httpx2.get(url, headers={"Authorization": "Bearer wrong-token"}).status_code == 401
        ok = httpx2.get(url, headers={"Authorization": "Bearer right-token-7a1c93b2"})
        assert ok.status_code == 200 and ok.json()["ok"] and ok.json()["pid"] == proc.pid
        evil = httpx2.get(url, headers={"Authorization": "Bearer right-token-7a1c93b2", "Host": "evil.example"})
        assert evil.status_code == 400
        bad = httpx2.post(
            info["url"] + "/api/torrents",
            headers={"Authorization": "Bearer right-token-7a1c93b2"},
            json={"id": "not-a-number"},
        )
        assert bad.status_code == 400 and bad.json()["kind"] == "UsageError"
        # Throttling the user's downloads (or their upload: their ratio) needs the token too.
        assert httpx2.post(info["url"] + "/api/limits", json={"download_kibps": 1}).status_code == 401
        negative = httpx2.post(
            info["url"] + "/api/limits",
            headers={"Authorization": "Bearer right-token-7a1c93b2"},
            json={"upload_kibps": -1},
        )
        assert negative.status_code == 400 and "must not be negative" in negative.json()["error"]
        cfg = isolated_home / "config.toml"
        assert not cfg.exists() or "limit_kibps" not in cfg.read_text()
    finally:
        proc.terminate()
        proc.wait(60)
    assert proc.returncode == 0
    assert not (isolated_home / "serve.json").exists()
