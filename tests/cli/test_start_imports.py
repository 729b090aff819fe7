"""What a `mam download` through the running service loads before it hands the torrent over:
every module here is start-up time the user waits for (the bench's "start -> add" phase)."""

from __future__ import annotations

import os
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


TRIO_SCRIPT = r"""
import importlib.util
import sys
assert importlib.util.find_spec("trio"), "trio is not installed: this test proves nothing here"
from mamdl.entry import skip_trio
skip_trio()
import httpx2
httpx2.Client().close()
assert "trio" not in [m.split(".")[0] for m, mod in sys.modules.items() if mod is not None], "trio imported"
print("ok")
"""


def test_a_mam_process_never_loads_trio(tmp_path):
    """Sabotage caught: `skip_trio` gone from the entry point, or no longer effective: httpcore2
    imports trio whenever it is installed (4.8 MiB and 60-80 ms for every `mam` process, and for
    the service's peak memory), though mamdl only runs on asyncio."""
    p = subprocess.run([sys.executable, "-c", TRIO_SCRIPT], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stdout + p.stderr
    # `python -m mamdl` (how the service is started), on a search that builds the MAM client;
    # port 9 on loopback refuses at once
    env = dict(
        os.environ,
        MAMDL_HOME=str(tmp_path),
        MAM_BASE_URL="http://127.0.0.1:9",
        MAM_ID="not-a-cookie",
        MAMDL_MAX_ATTEMPTS="1",
        MAMDL_RETRY_BUDGET_SECONDS="0",
    )
    p = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mamdl", "search", "-t", "dune"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time")}
    assert "Could not reach MAM" in p.stderr and "httpx2" in imported, p.stderr[-2000:]
    # a blocked `import trio` is still listed (an instant failure); trio's own modules are not
    assert not [m for m in imported if m.startswith("trio.")], "python -m mamdl imports trio"
