"""Each account-safety rule on its own (the service raises GuardRefused with these reasons)."""

from mamdl.mam.models import SearchResult, SnatchSummary, UserInfo
from mamdl.service.guards import unsatisfied_room, wedge_decision


def summary(unsat: int, limit: int = 50) -> SnatchSummary:
    return SnatchSummary(unsatisfied=unsat, unsat_limit=limit)


def test_unsatisfied_guard_counts_pending_and_reserve():
    assert unsatisfied_room(summary(44), pending=0, reserve=5).allowed  # 45 <= 45
    refused = unsatisfied_room(summary(44), pending=1, reserve=5)
    assert not refused.allowed and "44" in refused.reason and "50" in refused.reason and "46" in refused.reason
    assert unsatisfied_room(summary(45), pending=0, reserve=5, already_snatched=True).allowed
    missing = unsatisfied_room(None, pending=0, reserve=5)
    assert not missing.allowed and "no snatch summary" in missing.reason  # fails closed


def result(**kw) -> SearchResult:
    return SearchResult(**{"id": 1, "title": "Big", "size_bytes": 2 * 1024**3, **kw})


def user(**kw) -> UserInfo:
    return UserInfo(username="u", wedges=kw.pop("wedges", 3), **kw)


def test_wedge_rules():
    assert not wedge_decision("never", result(), user(), min_bytes=1024**3, already_wedged=False).allowed
    assert wedge_decision("auto", result(), user(), min_bytes=1024**3, already_wedged=False).allowed
    assert not wedge_decision("auto", result(size_bytes=10), user(), min_bytes=1024**3, already_wedged=False).allowed
    assert wedge_decision("always", result(size_bytes=10), user(), min_bytes=1024**3, already_wedged=False).allowed
    for flags in ({"free": True}, {"personal_freeleech": True}):
        d = wedge_decision("always", result(**flags), user(), min_bytes=0, already_wedged=False)
        assert not d.allowed and "already" in d.reason
    vip = user(classname="VIP")
    assert not wedge_decision("always", result(fl_vip=True), vip, min_bytes=0, already_wedged=False).allowed
    assert wedge_decision(
        "always", result(fl_vip=True), user(classname="Power User"), min_bytes=0, already_wedged=False
    ).allowed
    assert not wedge_decision("always", result(), user(wedges=0), min_bytes=0, already_wedged=False).allowed
    twice = wedge_decision("always", result(), user(), min_bytes=0, already_wedged=True)
    assert not twice.allowed and "never twice" in twice.reason
