"""Fixtures for the sandbox's own tests: a fresh sandbox per test (it starts in milliseconds) and a
small HTTP helper that sends exactly the cookie we say, so rotation can be observed precisely."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from mamdl.sandbox import Sandbox

SEARCH = "/tor/js/loadSearchJSONbasic.php"


class Http:
    """Requests to one sandbox with an explicit cookie (no cookie jar, no surprises)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.client = httpx2.Client(base_url=sb.base_url, timeout=10)

    def get(self, path: str, *, cookie: str | bool | None = True, **kw: Any) -> httpx2.Response:
        return self.client.get(path, headers=self._headers(cookie), **kw)

    def post(self, path: str, *, cookie: str | bool | None = True, **kw: Any) -> httpx2.Response:
        return self.client.post(path, headers=self._headers(cookie), **kw)

    def search(self, tor: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
        body = {"tor": tor or {}, **top}
        resp = self.post(SEARCH, json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def titles(self, tor: dict[str, Any] | None = None, **top: Any) -> list[str]:
        data = self.search(tor, **top)
        return [row["title"] for row in data.get("data", [])]

    def _headers(self, cookie: str | bool | None) -> dict[str, str]:
        if cookie is True:
            cookie = self.sb.mam_id
        return {"Cookie": f"mam_id={cookie}"} if cookie else {}

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def sb(tmp_path) -> Iterator[Sandbox]:
    with Sandbox(data_dir=tmp_path / "sandbox-data", rotate_every=0, announce_interval=2) as sandbox:
        yield sandbox


@pytest.fixture
def http(sb: Sandbox) -> Iterator[Http]:
    client = Http(sb)
    yield client
    client.close()
