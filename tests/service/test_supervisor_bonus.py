"""The supervisor runs the opt-in bonus automation on the account it has just refreshed, and
every purchase reaches the notifier."""

from __future__ import annotations

from mamdl.config import load_settings
from mamdl.service import Service
from mamdl.service.notify import Notifier
from mamdl.service.supervisor import Supervisor


class Recorder(Notifier):
    def __init__(self, cache) -> None:
        super().__init__([], cache)
        self.sent: list[tuple[str, str]] = []

    def notify(self, key, title, body, *, kind="info") -> bool:
        self.sent.append((title, body))
        return True


def test_supervisor_buys_once_when_the_rule_holds_and_notifies(make_swarm, monkeypatch):
    """Sabotage: drop `_bonus()` from `tick` (nothing bought) or the `svc.notify` wiring (no notice)."""
    sb = make_swarm(rotate_every=0, user={"seedbonus": 80000.0, "base_downloaded": 100 * 1024**3})
    monkeypatch.setenv("MAMDL_KEEPALIVE_SECONDS", "0.001")  # every pass refreshes the account
    settings = load_settings(
        bonus_auto_upload=True, bonus_auto_upload_below_ratio=2.0, bonus_auto_upload_above_points=50000
    )
    with Service(settings) as svc:
        rec = Recorder(svc.cache)
        sup = Supervisor(svc, notifier=rec)
        sup.tick()
        sup.tick()
    assert len(sb.bonus_purchases()) == 1
    assert [t for t, _ in rec.sent if "bonus" in t] == ["mamdl: bonus points"]
    assert "50 GB" in [b for t, b in rec.sent if "bonus" in t][0]


def test_supervisor_leaves_bonus_points_alone_by_default(make_swarm, monkeypatch):
    sb = make_swarm(rotate_every=0, user={"seedbonus": 99999.0, "base_downloaded": 200 * 1024**3})
    with Service(load_settings()) as svc:
        Supervisor(svc, notifier=Recorder(svc.cache)).tick()
    assert sb.bonus_purchases() == []
    assert not any(r["path"].startswith("/json/") and "bonus" in r["path"].lower() for r in sb.requests())
