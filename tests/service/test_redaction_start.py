"""The session cookies are known to the redactor as soon as a `Service` exists."""

from __future__ import annotations

import os
import subprocess
import sys

from mamdl.config import load_settings
from mamdl.mam.session import SessionStore

ROTATED = "rotated-cookie-value-0123456789"
SCRIPT = """
from mamdl.redact import redact
from mamdl.service import Service
with Service():
    print(redact(f"configured={COOKIE} rotated={ROTATED}"))
"""


def test_cookies_are_redacted_before_mam_is_ever_asked(isolated_home):
    """A command that never builds the MAM client (`status`, `pause`) still prints and logs through
    the redactor. Sabotage caught: registering the cookies only when `MamClient` is built (as
    before), which leaves both the configured and the rotated cookie printable in such commands."""
    settings = load_settings()
    cookie = settings.require_cookie()
    SessionStore(settings.paths.session_file, cookie).rotate(ROTATED)
    code = f"COOKIE = {cookie!r}\nROTATED = {ROTATED!r}\n" + SCRIPT
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert p.returncode == 0, p.stderr
    assert cookie not in p.stdout and ROTATED not in p.stdout
    assert p.stdout.startswith("configured=") and "rotated=" in p.stdout
