"""The mam_id cookie: required everywhere on MAM's endpoints, rotated, with a configurable grace."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

import pytest

from mamdl.sandbox import Sandbox

from .conftest import SEARCH, Http

MAM_ENDPOINTS = [
    ("GET", "/jsonLoad.php"),
    ("GET", "/json/checkCookie.php"),
    ("POST", SEARCH),
    ("GET", "/tor/download.php?tid=1"),
    ("GET", "/json/dynamicSeedbox.php"),
    ("GET", "/json/bonusBuy.php/?spendtype=upload&amount=1"),
]


def _rotated(resp) -> str | None:
    header = resp.headers.get("set-cookie")
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    return jar["mam_id"].value


@pytest.mark.parametrize(("method", "path"), MAM_ENDPOINTS)
@pytest.mark.parametrize("cookie", [None, "not-the-cookie"])
def test_every_mam_endpoint_needs_the_cookie(http, method, path, cookie):
    resp = http.client.request(method, path, headers={"Cookie": f"mam_id={cookie}"} if cookie else {})
    if cookie is None and path.startswith("/tor/download.php"):
        # MAM's own answer to a cookie-less download: the session's IP lock, not a login page
        assert resp.status_code == 401
        assert resp.text == "ip 127.0.0.1 does not match account, and no auth cookie provided"
        return
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.text.startswith("Error, you are not signed in")


def test_check_cookie(http, sb):
    data = http.get("/json/checkCookie.php").json()
    assert data["Success"] is True and data["username"] == sb.state.user.username


def test_fixed_cookie_and_passkey(tmp_path):
    with Sandbox(mam_id="fixed-cookie", passkey="a" * 32, data_dir=tmp_path) as sb:
        assert sb.mam_id == "fixed-cookie" and sb.passkey == "a" * 32
        assert Http(sb).get("/json/checkCookie.php", cookie="fixed-cookie").status_code == 200


def test_rotation_every_n_with_grace(tmp_path):
    with Sandbox(rotate_every=3, grace=2, data_dir=tmp_path) as sb:
        http = Http(sb)
        first = sb.mam_id
        answers = [http.get("/json/checkCookie.php", cookie=first) for _ in range(3)]
        assert [_rotated(r) for r in answers[:2]] == [None, None]
        new = _rotated(answers[2])
        assert new and new != first and sb.mam_id == new
        assert answers[2].headers["set-cookie"] == f"mam_id={new}; path=/; HttpOnly"
        # the old value still works during the grace period, the new one works too
        assert http.get("/json/checkCookie.php", cookie=first).status_code == 200
        assert http.get("/json/checkCookie.php", cookie=new).status_code == 200
        # ...and stops once the grace period is over. A sleep is a lower bound, so a slow machine
        # only makes it longer; polling would count as requests and rotate the cookie again.
        time.sleep(2.5)
        assert http.get("/json/checkCookie.php", cookie=first).status_code == 403
        assert http.get("/json/checkCookie.php", cookie=new).status_code == 200


def test_rotation_strict_single_use(tmp_path):
    with Sandbox(rotate_every=1, grace=0, data_dir=tmp_path) as sb:
        http = Http(sb)
        cookie = sb.mam_id
        for _ in range(4):
            resp = http.get("/jsonLoad.php", cookie=cookie)
            assert resp.status_code == 200
            new = _rotated(resp)
            assert new and new != cookie
            assert http.get("/jsonLoad.php", cookie=cookie).status_code == 403  # old one is dead at once
            cookie = new
        assert sb.state_snapshot()["cookie"]["rotations"] == 4


def test_rotation_can_be_turned_off_and_changed_at_runtime(http, sb):
    assert all(_rotated(http.get("/jsonLoad.php")) is None for _ in range(6))
    sb.configure(rotate_every=2)
    answers = [http.get("/jsonLoad.php") for _ in range(2)]
    assert _rotated(answers[1]) is not None


def test_new_session_revokes_old_values(http, sb):
    old = sb.mam_id
    new = sb.new_session()
    assert http.get("/jsonLoad.php", cookie=old).status_code == 403
    assert http.get("/jsonLoad.php", cookie=new).status_code == 200


def test_control_session_endpoint(http, sb):
    data = http.client.post("/_sandbox/session", json={"mam_id": "chosen"}).json()
    assert data["mam_id"] == "chosen" == sb.mam_id
    assert http.get("/jsonLoad.php", cookie="chosen").status_code == 200


def test_request_log_never_holds_the_cookie_passkey_or_dl_hash(http, sb):
    http.get("/jsonLoad.php")
    http.get(f"/announce?passkey={sb.passkey}&info_hash=x")
    http.get(f"/tracker.php/{sb.passkey}/announce?info_hash=x")
    tid = sb.catalogue.entries[0].id
    http.get(f"/tor/download.php/{sb.dl_hash(tid)}", params={"tid": tid})
    text = http.client.get("/_sandbox/requests").text
    assert sb.mam_id not in text and sb.passkey not in text and sb.dl_hash(tid) not in text
    paths = [r["path"] for r in http.client.get("/_sandbox/requests").json()]
    # The download makes the sandbox's own seeder announce too, possibly before the download is
    # logged: only the order of the first three is certain.
    assert paths[:3] == ["/jsonLoad.php", "/announce", "/tracker.php/<passkey>/announce"]
    assert "/tor/download.php/<dl>" in paths
    without = [r["path"] for r in http.client.get("/_sandbox/requests", params={"announces": "0"}).json()]
    assert without == ["/jsonLoad.php", "/tracker.php/<passkey>/announce", "/tor/download.php/<dl>"]
