"""What a `mam download` through the running service loads before it hands the torrent over:
every module here is start-up time the user waits for (the bench's "start -> add" phase)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import sys
import mamdl.cli, mamdl.cli.render, mamdl.service, mamdl.service.follow, mamdl.service.remote
from mamdl.engine import load_torrent
heavy = {
    "httpx2": "the HTTP client MAM needs: the service's own API is spoken with http.client",
    "mamdl.library.book": "placing books: a status row needs only mamdl.library.models",
    "mamdl.library.metadata": "book metadata: a status row needs only mamdl.library.models",
    "mcp": "the MCP SDK",
    "jinja2": "the web page",
    "libtorrent": "the engine: it runs in the service",
}
loaded = [f"{m} ({why})" for m, why in heavy.items() if m in sys.modules]
assert not loaded, "imported on the way to the hand-off: " + "; ".join(loaded)
print("ok")
"""


def test_the_download_commands_modules_stay_light():
    """Sabotage caught: `RemoteBackend` back on httpx2 (about 0.3 s of each command's start),
    `mamdl.library` importing all its parts again when `mamdl.library.models` is imported, or
    the engine, MCP or the web page pulled into the command line's imports."""
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stdout + p.stderr
