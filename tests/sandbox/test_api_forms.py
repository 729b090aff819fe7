"""The sandbox's answer forms (live vs doc rows, nested vs top-level summary) and the faults issue 11
needs (a lost answer after the server acted; an exact canned answer). Docstrings name the sabotage."""

from __future__ import annotations

import json

import httpx2
import pytest

from mamdl.sandbox import Sandbox

from .conftest import Http


def test_rows_are_live_style_by_default(http, sb):
    """Sabotage caught: serving the catalogue's strings verbatim (doc style) by default, or leaving
    out `w`, `ownership` (a string holding JSON) and the undocumented extras live rows carry."""
    rows = http.search({"text": ""})["data"]  # no text: live rows still carry `w`
    assert rows and all(isinstance(r["id"], int) and isinstance(r["seeders"], int) for r in rows)
    assert all(isinstance(r["w"], int) for r in rows)
    owned = next(r for r in rows if "owner" in r)
    assert json.loads(owned["ownership"]) == [owned["owner"], str(owned["owner_name"])]
    assert {"mediatype", "bookmarked", "vip_expire"} <= set(owned)
    with_isbn = next(r for r in rows if r.get("isbn"))
    assert isinstance(with_isbn["isbn"], int)  # all-digit text arrives as a JSON number


def test_doc_style_rows_on_request_and_at_runtime(http, sb, tmp_path):
    """Sabotage caught: `row_style` ignored by the constructor or by `/_sandbox/settings`."""
    resp = http.client.post("/_sandbox/settings", json={"row_style": "doc"})
    assert resp.status_code == 200 and resp.json()["info"]["row_style"] == "doc"
    rows = http.search({"text": "dune"}, dlLink="true")["data"]
    assert all(isinstance(r["id"], str) and isinstance(r["w"], str) and isinstance(r["seeders"], str) for r in rows)
    assert http.client.post("/_sandbox/settings", json={"row_style": "xml"}).status_code == 400
    with pytest.raises(ValueError, match="row_style"):
        Sandbox(data_dir=tmp_path / "x", row_style="xml", start=False)


def test_drop_answer_spends_the_wedge_then_loses_the_answer(http, sb):
    """Sabotage caught: a `drop_answer` fault that skips the request (no wedge spent) or that
    still delivers the answer."""
    tid = next(e.id for e in sb.catalogue.entries if not e.free)
    sb.add_fault("drop_answer", path="/tor/download.php")
    with pytest.raises(httpx2.TransportError):
        http.get(f"/tor/download.php?tid={tid}&fl")
    assert [w["tid"] for w in sb.wedge_spends()] == [tid]
    assert http.get("/jsonLoad.php").json()["wedges"] == 2


def test_answer_fault_sends_exactly_what_it_is_given(http, sb):
    """Sabotage caught: an `answer` fault that ignores its status, content type or body."""
    sb.add_fault("answer", path="/json/checkCookie.php", status=401, content_type="text/plain", body="ip 1.2.3.4 no")
    resp = http.get("/json/checkCookie.php")
    assert (resp.status_code, resp.headers["content-type"], resp.text) == (401, "text/plain", "ip 1.2.3.4 no")
    assert http.get("/json/checkCookie.php").json()["Success"] is True  # consumed
    refused = http.client.post("/_sandbox/faults", json={"kind": "answer"})
    assert refused.status_code == 400 and "needs a body" in refused.json()["error"]


def test_summary_style_at_runtime(tmp_path):
    """Sabotage caught: `summary_style` not switchable while running."""
    with Sandbox(data_dir=tmp_path, rotate_every=0, summary_style="top") as sb:
        http = Http(sb)
        assert "snatch_summary" not in http.get("/jsonLoad.php?snatch_summary").json()
        sb.configure(summary_style="nested")
        data = http.get("/jsonLoad.php?snatch_summary").json()
        assert data["unsat"] is None and data["snatch_summary"]["unsat"]["limit"] == 100
        http.close()
