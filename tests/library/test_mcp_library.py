"""The MCP server places what it downloads, and `get_progress` says where the book went."""

from __future__ import annotations

import os
import time
from pathlib import Path

import anyio
import pytest

from tests.cli.conftest import MAM

pytestmark = pytest.mark.slow

FRANKENSTEIN = 418286


def test_mcp_download_is_placed_and_get_progress_reports_it(make_swarm, tmp_path, monkeypatch):
    """Catches: the engine owner's watcher not placing finished downloads, and `get_progress`
    leaving out the placement (path and method)."""
    from mcp import Client, StdioServerParameters

    make_swarm()
    library = tmp_path / "library"
    monkeypatch.setenv("MAMDL_LIBRARY_DIR", str(library))
    params = StdioServerParameters(command=MAM, args=["mcp"], env=dict(os.environ))

    async def main() -> dict:
        async with Client(params, read_timeout_seconds=60) as client:
            started = await client.call_tool("download_torrent", {"torrent_id": FRANKENSTEIN, "download_content": True})
            assert not started.is_error, started.content
            h = started.structured_content["info_hash"]
            deadline = time.monotonic() + 120
            while True:
                out = await client.call_tool("get_progress", {"info_hash": h})
                row = out.structured_content["torrents"][0]
                if row.get("library"):
                    return row
                assert time.monotonic() < deadline, row
                await anyio.sleep(0.5)

    row = anyio.run(main)
    lib = row["library"]
    assert lib["status"] == "placed" and lib["method"] == "hardlink", lib
    assert Path(lib["path"]) == library / "Mary Shelley" / "Frankenstein"
    assert (Path(lib["path"]) / "metadata.opf").is_file()
