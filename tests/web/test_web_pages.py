"""The web page's routes through Starlette's TestClient on the in-process sandbox: the same
answers as the service, bad input refused with a clear message, MAM's text inert."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from starlette.testclient import TestClient

from mamdl.config import load_settings
from mamdl.service import SearchSpec, Service
from mamdl.web import build_web

TOKEN = "pages-token-1d9e4c"


@pytest.fixture
def web():
    svc = Service(load_settings())
    client = TestClient(build_web(svc, token=TOKEN, require_login=False), base_url="http://127.0.0.1:8765")
    page = client.get("/torrents").text
    client.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)
    yield client, svc
    svc.close()


def test_search_page_shows_the_services_ranking(sandbox_env, web):
    """Sabotage caught: the page searching on its own (no broadening: "the hobit" finds nothing)
    or reordering the service's rows."""
    client, svc = web
    html = client.get("/", params={"title": "the hobit"}).text
    ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]
    expected = [r.id for r in svc.search(SearchSpec(title="the hobit"), limit=25).rows]
    assert ids and ids == expected
    assert "broadened" in html


def test_bad_input_gets_a_clear_answer(sandbox_env, web):
    """Sabotage caught: a bad id, wedge, body or hash reaching the service as a crash (500) or
    being taken for something else; each answer names the problem."""
    client, _ = web
    cases = [
        (client.post("/web/download", json={"id": "abc"}), 400, "must be a number"),
        (client.post("/web/download", json={"id": -3}), 400, "positive"),
        (client.post("/web/download", json={"id": 1, "wedge": "sometimes"}), 400, "never, auto or always"),
        (client.post("/web/download", content=b"{not json"), 400, "not JSON"),
        (client.post("/web/download", content=b"[1, 2]"), 400, "JSON object"),
        (client.get("/web/preview/xyz"), 400, "must be a number"),
        (client.post("/web/torrents/abcd1234/explode"), 404, "unknown action"),
        (client.post("/web/torrents/abcd1234/pause"), 400, "no torrent with info-hash"),
        (client.post("/web/torrents/ab/remove", json={}), 400, "no torrent with info-hash"),
    ]
    for r, status, words in cases:
        assert r.status_code == status, (r.request.url, r.status_code, r.text)
        assert words in r.json()["error"], r.json()
    assert client.get("/web/status").json() == []


def test_guard_refusal_is_the_services_sentence(sandbox_env, web):
    """Sabotage caught: the download route bypassing `Service.get`'s unsatisfied guard."""
    client, svc = web
    tid = svc.search(SearchSpec(title="dune"), limit=1).rows[0].id
    svc.settings.unsat_reserve = 1000
    preview = client.get(f"/web/preview/{tid}").json()
    assert preview["allowed"] is False
    r = client.post("/web/download", json={"id": tid})
    assert r.status_code == 409 and r.json()["kind"] == "GuardRefused"
    assert r.json()["error"] == preview["unsatisfied_reason"]


def test_hostile_title_is_shown_as_text(tmp_path, monkeypatch):
    """Sabotage caught: Jinja's autoescape turned off (or `|safe` on MAM's text): a title from MAM
    would become markup in the page."""
    from mamdl.sandbox import Sandbox

    data = resources.files("mamdl.sandbox").joinpath("data/default_catalogue.json").read_text()
    row = json.loads(data)["torrents"][0]
    evil = dict(row, title='Evil <script>alert("x")</script><img src=x onerror=alert(1)> Book')
    cat = tmp_path / "cat.json"
    cat.write_text(json.dumps({"torrents": [evil]}))
    with Sandbox(catalogue=cat, data_dir=tmp_path / "sb") as sb:
        monkeypatch.setenv("MAM_BASE_URL", sb.base_url)
        monkeypatch.setenv("MAM_ID", sb.mam_id)
        monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.02")
        svc = Service(load_settings())
        try:
            client = TestClient(build_web(svc, token=TOKEN, require_login=False), base_url="http://127.0.0.1:8765")
            html = client.get("/", params={"text": "evil book", "format": "any"}).text
        finally:
            svc.close()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html
