"""Every fault kind, injected from Python and over the control API, and the request log."""

from __future__ import annotations

import time

import httpx2
import pytest

from mamdl.sandbox import FaultError

from .conftest import SEARCH


def test_status_429_with_retry_after_for_count_requests_on_one_path(http, sb):
    sb.add_fault("status", status=429, count=2, retry_after=1, path=SEARCH)
    assert http.get("/jsonLoad.php").status_code == 200  # other paths are untouched
    for _ in range(2):
        resp = http.post(SEARCH, json={"tor": {"text": "dune"}})
        assert resp.status_code == 429 and resp.headers["retry-after"] == "1"
    assert http.post(SEARCH, json={"tor": {"text": "dune"}}).status_code == 200
    assert [r["status"] for r in sb.requests()] == [200, 429, 429, 200]


def test_status_503_hits_any_mam_path_before_the_cookie_check(http, sb):
    sb.add_fault({"kind": "status", "status": 503, "count": 1})
    resp = http.get("/jsonLoad.php", cookie=None)
    assert resp.status_code == 503
    assert http.get("/jsonLoad.php").status_code == 200


def test_faults_never_hit_the_tracker(http, sb):
    sb.add_fault("status", status=500)
    assert http.get("/announce?passkey=nope").status_code == 200
    assert http.get("/json/checkCookie.php").status_code == 500


def test_slow(http, sb):
    sb.add_fault("slow", delay=2)
    start = time.monotonic()
    assert http.get("/jsonLoad.php").status_code == 200
    assert time.monotonic() - start >= 2
    start = time.monotonic()
    http.get("/jsonLoad.php")
    assert time.monotonic() - start < 2  # the fault was used up: no second delay


def test_slow_can_time_a_client_out(sb):
    sb.add_fault("slow", delay=1.0)
    with httpx2.Client(base_url=sb.base_url, timeout=0.3) as client, pytest.raises(httpx2.ReadTimeout):
        client.get("/jsonLoad.php", headers={"Cookie": f"mam_id={sb.mam_id}"})


def test_expire_after_n_requests(http, sb):
    sb.add_fault("expire_after", n=3)
    assert [http.get("/jsonLoad.php").status_code for _ in range(5)] == [200, 200, 200, 403, 403]
    assert http.get("/jsonLoad.php").text.startswith("Error, you are not signed in")
    sb.new_session()
    assert http.get("/jsonLoad.php").status_code == 200


def test_malformed_json(http, sb):
    sb.add_fault("malformed_json")
    resp = http.post(SEARCH, json={"tor": {"text": "dune"}})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):
        resp.json()
    assert "data" in http.post(SEARCH, json={"tor": {"text": "dune"}}).json()


def test_login_page_where_json_was_expected(http, sb):
    sb.add_fault("login_page", path="/jsonLoad.php")
    resp = http.get("/jsonLoad.php")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert resp.text.lstrip().lower().startswith("<!doctype html") and "login" in resp.text.lower()
    assert http.get("/jsonLoad.php").json()["username"]


def test_disconnect(http, sb):
    sb.add_fault("disconnect")
    with pytest.raises(httpx2.TransportError):
        http.get("/jsonLoad.php")
    assert http.get("/jsonLoad.php").status_code == 200


def test_count_minus_one_lasts_until_cleared(http, sb):
    sb.add_fault("status", status=502, count=-1)
    assert [http.get("/jsonLoad.php").status_code for _ in range(3)] == [502, 502, 502]
    sb.clear_faults()
    assert http.get("/jsonLoad.php").status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "bogus"},
        {"kind": "status", "status": 99},
        {"kind": "slow"},
        {"kind": "status", "count": 0},
        {"kind": "status", "colour": "red"},
    ],
)
def test_bad_fault_specs_are_refused(sb, spec):
    with pytest.raises(FaultError):
        sb.add_fault(spec)


def test_faults_over_the_control_api(http, sb):
    control = http.client
    resp = control.post(
        "/_sandbox/faults",
        json=[{"kind": "status", "status": 429, "count": 1, "retry_after": 2}, {"kind": "login_page", "count": 1}],
    )
    assert resp.status_code == 200 and len(resp.json()["faults"]) == 2
    assert control.get("/_sandbox/faults").json()[0]["status"] == 429
    assert http.get("/jsonLoad.php").status_code == 429
    assert http.get("/jsonLoad.php").headers["content-type"].startswith("text/html")
    assert http.get("/jsonLoad.php").status_code == 200
    assert control.post("/_sandbox/faults", json={"kind": "expire_after", "n": 1}).status_code == 200
    assert [http.get("/jsonLoad.php").status_code for _ in range(2)] == [200, 403]
    bad = control.post("/_sandbox/faults", json={"kind": "nope"})
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["error"]
    control.post("/_sandbox/faults", json={"kind": "status", "status": 500, "count": -1})
    assert control.delete("/_sandbox/faults").json() == {"ok": True}
    assert control.get("/_sandbox/faults").json() == []


def test_request_log_over_http(http, sb):
    http.get("/jsonLoad.php")
    http.get("/jsonLoad.php", cookie=None)
    rows = http.client.get("/_sandbox/requests").json()
    assert [(r["path"], r["method"], r["status"]) for r in rows] == [
        ("/jsonLoad.php", "GET", 200),
        ("/jsonLoad.php", "GET", 403),
    ]
    assert all(isinstance(r["t"], float) and abs(r["t"] - time.time()) < 30 for r in rows)
    http.client.delete("/_sandbox/requests")
    assert http.client.get("/_sandbox/requests").json() == []


def test_reset_restores_everything(http, sb):
    sb.set_user(wedges=0, base_downloaded=0)
    sb.add_fault("status", status=500, count=-1)
    sb.add_fault("expire_after", n=0)
    info = http.client.post("/_sandbox/reset").json()
    assert info["ok"] and info["mam_id"] == sb.mam_id
    data = http.get("/jsonLoad.php").json()
    assert data["wedges"] == 3 and data["downloaded_bytes"] > 0
    assert [r["path"] for r in sb.requests()] == ["/jsonLoad.php"]


def test_info_endpoint(http, sb):
    info = http.client.get("/_sandbox/info").json()
    assert info["base_url"] == sb.base_url and info["mam_id"] == sb.mam_id
    assert info["announce_url"] == f"{sb.base_url}/announce?passkey={sb.passkey}"
    assert info["catalogue"]["torrents"] == len(sb.catalogue)
    assert http.client.get("/_sandbox/nothing").status_code == 404
