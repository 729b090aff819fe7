"""The sandbox's bonus store: MAM's response shapes for purchases, refusals and the history."""

from __future__ import annotations

import httpx2
import pytest

from mamdl.sandbox import Sandbox

from .conftest import Http

BUY = "/json/bonusBuy.php/"


@pytest.fixture
def rich(tmp_path):
    with Sandbox(data_dir=tmp_path / "sb", rotate_every=0, user={"seedbonus": 60000.0}) as sb:
        yield sb, Http(sb)


def test_upload_purchase_moves_points_and_upload_and_is_counted(rich):
    """Catches a store that answers success without charging, crediting, or counting."""
    sb, http = rich
    before = http.get("/jsonLoad.php").json()
    body = http.get(BUY, params={"spendtype": "upload", "amount": "50", "_": "1700000000000"}).json()
    assert body["success"] is True and body["seedbonus"] == 35000
    after = http.get("/jsonLoad.php").json()
    assert after["seedbonus"] == 35000
    assert after["uploaded_bytes"] - before["uploaded_bytes"] == 50 * 1024**3
    assert [p["cost"] for p in sb.bonus_purchases()] == [25000]
    history = http.get("/json/userBonusHistory.php").json()
    assert isinstance(history, list) and history[-1]["amount"] == -25000
    assert set(history[0]) == {"timestamp", "amount", "type", "tid", "title", "other_userid", "other_name"}
    assert any(isinstance(h["title"], int) for h in history)  # MAM sends numeric titles as numbers


@pytest.mark.parametrize(
    ("params", "success", "words"),
    [
        ({"spendtype": "upload", "amount": "20"}, False, "50 or 100 GB"),
        ({"spendtype": "VIP", "duration": "0.5"}, "false", "at least one"),
        ({"spendtype": "VIP", "duration": "20"}, False, "maximum"),
        ({"spendtype": "personalFL"}, "false", "Not allowed via API"),
    ],
)
def test_refusals_are_http_200_with_success_false_and_nothing_bought(rich, params, success, words):
    """Catches a refusal that charges points, changes status code, or loses MAM's two `success` spellings."""
    sb, http = rich
    resp = http.get(BUY, params={**params, "_": "1"})
    assert resp.status_code == 200
    assert resp.json()["success"] == success and words in resp.json()["error"]
    assert sb.bonus_purchases() == [] and http.get("/jsonLoad.php").json()["seedbonus"] == 60000


def test_not_enough_points(rich):
    sb, http = rich
    sb.set_user(seedbonus=24999.0)
    body = http.get(BUY, params={"spendtype": "upload", "amount": "50", "_": "1"}).json()
    assert body == {"success": False, "error": "You do not have enough bonus points to buy that."}
    assert sb.bonus_purchases() == []


def test_vip_purchase_sets_vip_until_and_max_fills_up_to_90_days(rich):
    sb, http = rich
    body = http.get(BUY, params={"spendtype": "VIP", "duration": "4", "_": "1"}).json()
    assert body["success"] is True and body["vip_until"]
    assert http.get("/jsonLoad.php").json()["classname"] == "VIP"
    more = http.get(BUY, params={"spendtype": "VIP", "duration": "max", "_": "2"}).json()
    assert more["success"] is True and [p["amount"] for p in sb.bonus_purchases()] == [4, 8]
    again = http.get(BUY, params={"spendtype": "VIP", "duration": "max", "_": "3"}).json()
    assert again["success"] is False and "maximum" in again["error"]


def test_drop_answer_fault_counts_the_purchase_but_sends_nothing(rich):
    """Catches a fault that drops the answer *before* the purchase (then a retry test proves nothing)."""
    sb, http = rich
    sb.add_fault("drop_answer", path=BUY)
    with pytest.raises(httpx2.TransportError):
        http.get(BUY, params={"spendtype": "upload", "amount": "50", "_": "1"})
    assert len(sb.bonus_purchases()) == 1
    assert http.get("/jsonLoad.php").json()["seedbonus"] == 35000


def test_connectable_is_settable(rich):
    sb, http = rich
    assert http.get("/jsonLoad.php").json()["connectable"] == "yes"
    http.post("/_sandbox/user", json={"connectable": "no"}, cookie=False)
    assert http.get("/jsonLoad.php").json()["connectable"] == "no"
    assert http.get("/_sandbox/bonus", cookie=False).json()["purchases"] == []
