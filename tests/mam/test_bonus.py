"""The client's side of the bonus store: one attempt per purchase, MAM's refusal text as is."""

from __future__ import annotations

import pytest

from mamdl.config import load_settings
from mamdl.errors import BonusRefused, PurchaseUncertain
from mamdl.mam import bonus
from mamdl.mam.client import MamClient
from mamdl.sandbox import Sandbox

BUY = "/json/bonusBuy.php/"


@pytest.fixture
def sb(tmp_path, monkeypatch):
    with Sandbox(data_dir=tmp_path / "sb", rotate_every=0, user={"seedbonus": 60000.0}) as s:
        monkeypatch.setenv("MAM_BASE_URL", s.base_url)
        monkeypatch.setenv("MAM_ID", s.mam_id)
        monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.01")
        monkeypatch.setenv("MAMDL_RETRY_BUDGET_SECONDS", "20")
        yield s


@pytest.fixture
def client(sb):
    with MamClient(load_settings()) as c:
        yield c


def _buy_requests(sb) -> int:
    return sum(1 for r in sb.requests() if r["path"].startswith("/json/bonusBuy.php"))


def test_purchase_parses_mams_answer(sb, client):
    answer = bonus.buy(client, "upload", "50")
    assert answer.seedbonus == 35000 and answer.uploaded_bytes and answer.ratio
    assert client.user().seedbonus == 35000


@pytest.mark.parametrize(
    ("spendtype", "amount", "text"),
    [
        ("upload", "20", "Invalid amount: upload credit is sold through the API in 50 or 100 GB."),
        ("VIP", "0", "Invalid duration: VIP is sold through the API in whole weeks, at least one."),
        ("VIP", "30", "You already have the maximum amount of VIP time."),
    ],
)
def test_each_refusal_shape_carries_mams_text(sb, client, spendtype, amount, text):
    """Catches treating the string "false" as success, or replacing MAM's text with our own."""
    with pytest.raises(BonusRefused) as err:
        bonus.buy(client, spendtype, amount)
    assert text in str(err.value)
    assert sb.bonus_purchases() == []


def test_refusal_string_false_for_not_enough_points(sb, client):
    sb.set_user(seedbonus=100.0)
    with pytest.raises(BonusRefused, match="You do not have enough bonus points to buy that."):
        bonus.buy(client, "VIP", "1")  # the sandbox sends this one as {"success": "false"}


def test_dropped_answer_is_uncertain_and_never_retried(sb, client):
    """Sabotage: let the purchase go through `_send` (the retry loop) and the sandbox counts two
    purchases and two requests."""
    sb.add_fault("drop_answer", path=BUY)
    with pytest.raises(PurchaseUncertain, match="not retried"):
        bonus.buy(client, "upload", "50")
    assert len(sb.bonus_purchases()) == 1
    assert _buy_requests(sb) == 1


def test_server_error_on_a_purchase_is_not_retried(sb, client):
    """A 503 would be retried for any other request; a purchase gets exactly one attempt."""
    sb.add_fault("status", status=503, path=BUY, count=3)
    with pytest.raises(PurchaseUncertain):
        bonus.buy(client, "upload", "50")
    assert _buy_requests(sb) == 1


def test_history_is_a_list_with_numeric_titles(sb, client):
    rows = bonus.history(client)
    assert rows and rows[0].timestamp >= rows[-1].timestamp
    assert any(r.title == "1984" for r in rows) and all(isinstance(r.other_name, str) for r in rows)
