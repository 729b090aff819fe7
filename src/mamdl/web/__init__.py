"""The web page served by `mam serve` at `/`: search, download, watch torrents, check the account.

A thin front like the CLI and the MCP server: server-rendered Jinja2 pages (autoescaped, so
anything MAM sends is inert text) plus a little plain JavaScript from the package's own `static/`
folder (no CDN, no build step). Every action calls the same `Service` method the API calls. The
security layer (`security.py`) is its own module so it can be read and tested on its own.
"""

from mamdl.web.app import build_web

__all__ = ["build_web"]
