"""dynamicSeedbox.php: Completed / No change / 429 too recent / 403 wrong session type."""

from __future__ import annotations

from tests.waiting import wait_until

SEEDBOX = "/json/dynamicSeedbox.php"


def test_first_change_then_no_change(http):
    first = http.get(SEEDBOX)
    assert first.status_code == 200
    body = first.json()
    assert body["Success"] is True and body["msg"] == "Completed" and body["ip"] == "127.0.0.1"
    assert isinstance(body["ASN"], int) and body["AS"]
    again = http.get(SEEDBOX)
    assert again.status_code == 200 and again.json()["msg"] == "No change"


def test_change_too_recent_then_allowed_after_the_window(http, sb):
    sb.configure(seedbox_window=3)
    assert http.get(SEEDBOX).json()["msg"] == "Completed"
    sb.set_user(seedbox_ip="198.51.100.7")  # the client's IP "changed"
    resp = http.get(SEEDBOX)
    assert resp.status_code == 429 and resp.json() == {"Success": False, "msg": "Last change too recent"}
    resp = wait_until(lambda: (r := http.get(SEEDBOX)).status_code == 200 and r, timeout=20, interval=0.25)
    assert resp.json()["msg"] == "Completed"


def test_wrong_session_type(http, sb):
    sb.set_user(seedbox_allowed=False)
    resp = http.get(SEEDBOX)
    assert resp.status_code == 403 and resp.json()["Success"] is False


def test_no_cookie_is_403_html(http):
    resp = http.get(SEEDBOX, cookie=None)
    assert resp.status_code == 403 and resp.text.startswith("Error, you are not signed in")
