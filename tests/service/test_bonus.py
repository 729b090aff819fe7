"""Spending bonus points through the service, against the sandbox: quotes, the reserve, the
confirmation, and the opt-in automation with its daily cap."""

from __future__ import annotations

import pytest

from mamdl.config import load_settings
from mamdl.errors import GuardRefused, PurchaseUncertain, UsageError
from mamdl.service import Service
from mamdl.service.bonus import normalise, tick

BUY = "/json/bonusBuy.php/"


@pytest.fixture
def sb(make_swarm, monkeypatch):
    monkeypatch.setenv("MAMDL_RETRY_BUDGET_SECONDS", "20")
    # ratio 15 GiB / 100 GiB = 0.15, and still 0.65 after a 50 GB purchase: only the cap stops a second one
    return make_swarm(
        rotate_every=0, user={"seedbonus": 80000.0, "base_downloaded": 100 * 1024**3, "base_uploaded": 15 * 1024**3}
    )


def service(**overrides) -> Service:
    return Service(load_settings(**overrides))


def test_amounts_outside_mams_api_limits_are_refused_before_asking(sb):
    for kind, amount in (("upload", 20), ("upload", 75), ("vip", 0), ("vip", "1.5"), ("wedge", 1)):
        with pytest.raises(UsageError):
            normalise(kind, amount)
    assert normalise("upload", "100GB") == ("upload", "100") and normalise("VIP", "max") == ("vip", "max")


def test_dry_run_buys_nothing_and_states_cost_and_balance_after(sb):
    """Sabotage: ignore `confirm` and the sandbox counts a purchase."""
    with service() as svc:
        out = svc.bonus_buy("upload", 50, confirm=False)
    assert out.dry_run and not out.done
    assert out.quote.cost == 25000 and out.quote.balance_after == 55000
    assert sb.bonus_purchases() == []


def test_purchase_changes_the_account_and_the_history(sb):
    with service() as svc:
        before = svc.user(refresh=True)
        svc.bonus_status()  # fills the history cache, which the purchase must invalidate
        out = svc.bonus_buy("upload", "50", confirm=True)
        after = svc.user()  # from the cache: refreshed by the purchase
        status = svc.bonus_status()
    assert out.done and out.balance_after == 55000
    assert after.bonus_points == 55000 and after.uploaded_bytes - before.uploaded_bytes == 50 * 1024**3
    assert status.summary.purchases == 1 and status.summary.points_spent == 25000
    assert len(sb.bonus_purchases()) == 1


def test_reserve_is_respected(sb):
    """Sabotage: drop the reserve check in `quote` and MAM is asked to spend below it."""
    sb.set_user(seedbonus=30000.0)
    with service(bonus_reserve=5001) as svc, pytest.raises(GuardRefused, match="reserve of 5,001"):
        svc.bonus_buy("upload", 50, confirm=True)
    assert sb.bonus_purchases() == []
    assert not any(r["path"].startswith("/json/bonusBuy.php") for r in sb.requests())
    with service(bonus_reserve=5000) as svc:
        assert svc.bonus_buy("upload", 50, confirm=True).balance_after == 5000


def test_uncertain_purchase_is_recorded_and_raised(sb):
    sb.add_fault("drop_answer", path=BUY)
    with service() as svc:
        with pytest.raises(PurchaseUncertain):
            svc.bonus_buy("vip", 1, confirm=True)
        assert [r["outcome"] for r in svc.purchase_log()] == ["uncertain"]
    assert len(sb.bonus_purchases()) == 1


def test_automation_is_off_by_default_and_asks_mam_nothing(sb):
    with service() as svc:
        before = len(sb.requests())
        assert svc.bonus_tick() == [] and tick(svc) == []
    assert len(sb.requests()) == before and sb.bonus_purchases() == []


def test_automation_buys_exactly_once_then_respects_the_daily_cap(sb):
    """Sabotage: count only purchases of the last minute (or forget to record them) and the
    second tick buys again."""
    notices: list[str] = []
    opts = {"bonus_auto_upload": True, "bonus_auto_upload_below_ratio": 2.0, "bonus_auto_upload_above_points": 50000}
    with service(**opts) as svc:
        svc.notify = notices.append
        first = tick(svc)
        assert [d.acted for d in first] == [True] and first[0].purchase and first[0].purchase.done
        second = tick(svc)
        assert [d.acted for d in second] == [False] and "daily cap" in second[0].reason
    with service(**opts) as svc:  # a new process reads the same purchase log
        assert not svc.bonus_tick()[0].acted
    assert len(sb.bonus_purchases()) == 1
    assert len(notices) == 1 and "50 GB" in notices[0]


def test_automation_waits_for_its_conditions(sb):
    opts = {"bonus_auto_upload": True, "bonus_auto_upload_below_ratio": 0.1, "bonus_auto_upload_above_points": 50000}
    with service(**opts) as svc:
        assert "not below" in svc.bonus_tick()[0].reason  # ratio 0.15 >= 0.1
    with service(**{**opts, "bonus_auto_upload_below_ratio": 2.0, "bonus_auto_upload_above_points": 90000}) as svc:
        assert "do not exceed" in svc.bonus_tick()[0].reason
    assert sb.bonus_purchases() == []


def test_automation_renews_vip_only_near_its_end(sb):
    from datetime import UTC, datetime, timedelta

    def until(days: float) -> str:
        return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")

    opts = {"bonus_auto_vip": True, "bonus_auto_vip_within_days": 5, "bonus_auto_vip_weeks": 4}
    sb.set_user(vip_until=until(20), classname="VIP")
    with service(**opts) as svc:
        assert "20.0 days left" in svc.bonus_tick()[0].reason
    sb.set_user(vip_until=until(3))
    with service(**opts) as svc:
        d = svc.bonus_tick()[0]
    assert d.acted and [p["amount"] for p in sb.bonus_purchases()] == [4]


def test_automation_does_not_hammer_a_refusing_mam(sb):
    """MAM refusing for a reason the quote could not foresee: the attempt counts toward the cap,
    so the next pass does not ask again. Sabotage: record only purchases that succeeded."""
    opts = {"bonus_auto_upload": True, "bonus_auto_upload_below_ratio": 2.0, "bonus_auto_upload_above_points": 50000}
    sb.add_fault("status", status=200, path=BUY, body='{"success": "false", "error": "Bonus store closed"}')
    with service(**opts) as svc:
        assert tick(svc) == []  # refused: logged, reported through the notifier, not raised
        assert [r["outcome"] for r in svc.purchase_log()] == ["refused"]
        assert "daily cap" in svc.bonus_tick()[0].reason
    assert sum(1 for r in sb.requests() if r["path"].startswith("/json/bonusBuy.php")) == 1
