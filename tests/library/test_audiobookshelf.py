"""The Audiobookshelf scan request, against a small recording HTTP server on 127.0.0.1
(Audiobookshelf itself cannot be installed here: it is a Node app with no Debian package)."""

from __future__ import annotations

import json

from mamdl.config import load_settings
from mamdl.library.handoff import abs_scan
from mamdl.redact import redact

TOKEN = "abs-api-token-8f3e2d1c0b"


def test_scan_of_the_configured_library(recorder):
    """Catches: the wrong endpoint or method, a missing bearer token, extra requests."""
    srv = recorder()
    h = abs_scan(f"http://127.0.0.1:{srv.server_port}/", TOKEN, library_id="lib_books")
    assert h.ok, h.detail
    assert srv.requests == [
        {"method": "POST", "path": "/api/libraries/lib_books/scan", "auth": f"Bearer {TOKEN}", "body": b""}
    ]


def test_without_a_library_id_every_book_library_is_scanned(recorder):
    """Catches: scanning podcast libraries, or nothing, when no library id is configured."""
    srv = recorder()
    h = abs_scan(f"http://127.0.0.1:{srv.server_port}", TOKEN)
    assert h.ok, h.detail
    assert [(r["method"], r["path"]) for r in srv.requests] == [
        ("GET", "/api/libraries"),
        ("POST", "/api/libraries/lib_books/scan"),
        ("POST", "/api/libraries/lib_ebooks/scan"),
    ]
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in srv.requests)


def test_refused_token_is_a_clear_failure_without_the_token(recorder, monkeypatch):
    """Catches: a 401 reported as success, or the token echoed in the message."""
    monkeypatch.setenv("MAMDL_ABS_TOKEN", TOKEN)
    load_settings()  # registers the token as a secret, as every command does
    srv = recorder(status=401)
    h = abs_scan(f"http://127.0.0.1:{srv.server_port}", TOKEN, library_id="x")
    assert not h.ok and "abs_token" in h.detail and TOKEN not in h.detail
    down = abs_scan("http://127.0.0.1:9", TOKEN, library_id="x")  # nothing listens on the discard port
    assert not down.ok and TOKEN not in down.detail
    assert redact(f"Authorization: Bearer {TOKEN}") == "Authorization: Bearer ***"


def test_token_is_redacted_in_config_show(monkeypatch):
    """Catches: `mam config show` printing the Audiobookshelf token."""
    monkeypatch.setenv("MAMDL_ABS_TOKEN", TOKEN)
    data = load_settings().public_dict()
    assert data["abs_token"] == "<set>" and TOKEN not in json.dumps(data)
