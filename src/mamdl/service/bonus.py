"""Bonus points: what the account has and can buy, purchases with guardrails, and opt-in automation.

Spending is deliberate. Every purchase — from `mam bonus`, the MCP tool or the automation — goes
through `bonus_buy`, which quotes first (cost, balance after, MAM's API limits, the configured
reserve), requires `confirm=True`, sends the purchase exactly once, logs it, records it in the
local purchase log and notifies. The automation (`BonusMixin.bonus_tick`, or the module-level
`tick(service)` for a long-running supervisor) is off by default, buys at most
`bonus_auto_daily_cap` times in any 24 hours (a purchase whose answer was lost counts too), and
re-reads the account from MAM before deciding. MAM's staff have discouraged blind auto-buy
scripts; the defaults are conservative and every rule's decision is reported.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from mamdl.errors import BonusRefused, GuardRefused, PurchaseUncertain, UsageError
from mamdl.mam import bonus as mam_bonus
from mamdl.mam.models import UserInfo
from mamdl.service.base import ServiceBase
from mamdl.service.models import UserStats

if TYPE_CHECKING:
    from mamdl.config import Settings

log = logging.getLogger("mamdl.bonus")

Kind = Literal["upload", "vip"]
DAY = 86400.0
WEEK = 7 * DAY
PURCHASE_LOG_TTL = 400 * DAY


class BonusOption(BaseModel):
    kind: Kind
    amount: str = Field(description="'50' (GB) for upload credit, weeks (or 'max') for VIP.")
    label: str
    cost: int
    affordable: bool = Field(description="True when buying it keeps the balance at or above the reserve.")


class HistoryRow(BaseModel):
    when: str
    timestamp: float
    amount: float
    type: str
    title: str = ""
    tid: int = 0
    other_name: str = ""


class HistorySummary(BaseModel):
    """What MAM's bonus history says, in a few numbers (for `get_user_stats`)."""

    entries: int
    points_earned: float
    points_spent: float
    purchases: int
    last_purchase: str | None = None
    last_30_days_spent: float = 0.0
    cached: bool = False


class BonusStatus(BaseModel):
    points: float
    wedges: int
    vip_until: str | None
    vip_days_left: float | None
    reserve: float
    spendable: float
    options: list[BonusOption]
    history: list[HistoryRow]
    summary: HistorySummary
    automation: dict[str, Any]
    cached: bool
    age_seconds: float


class BonusQuote(BaseModel):
    kind: Kind
    amount: str
    description: str
    cost: int
    balance: float
    balance_after: float
    reserve: float
    allowed: bool
    reason: str = ""


class PurchaseOut(BaseModel):
    quote: BonusQuote
    done: bool
    dry_run: bool = False
    message: str
    balance_after: float | None = None
    uploaded_bytes: int | None = None
    ratio: float | None = None
    vip_until: str | None = None


class AutoDecision(BaseModel):
    rule: Literal["upload", "vip"]
    acted: bool
    reason: str
    purchase: PurchaseOut | None = None


class UserStatsWithBonus(UserStats):
    """`get_user_stats` for the assistant: the account plus MAM's bonus history in a few numbers."""

    bonus_history: HistorySummary | None = None


# ---------------------------------------------------------------------- pure helpers


def normalise(kind: str, amount: str | int | float) -> tuple[Kind, str]:
    """A validated (kind, amount) within what MAM accepts through the API; UsageError otherwise."""
    k = kind.strip().lower()
    raw = str(amount).strip().lower()
    if k == "upload":
        try:
            gb = float(raw.removesuffix("gb").strip())
        except ValueError:
            gb = -1
        if gb not in mam_bonus.UPLOAD_STEPS_GB:
            steps = " or ".join(str(s) for s in mam_bonus.UPLOAD_STEPS_GB)
            raise UsageError(
                f"Upload credit is bought in {steps} GB through MAM's API (it refuses less than 50 GB); got {amount!r}."
            )
        return "upload", str(int(gb))
    if k == "vip":
        if raw == "max":
            return "vip", "max"
        try:
            weeks = float(raw)
        except ValueError:
            weeks = 0
        if weeks < 1 or weeks != int(weeks):
            raise UsageError(
                f"VIP is bought in whole weeks, at least 1 (MAM's API refuses less), or 'max'; got {amount!r}."
            )
        return "vip", str(int(weeks))
    raise UsageError(f"Unknown purchase {kind!r}: use 'upload' or 'vip'.")


def vip_room_weeks(vip_until: str | None, now: float) -> int:
    """Whole weeks of VIP that still fit under MAM's ~90-day ceiling."""
    current = mam_bonus.parse_vip_until(vip_until)
    start = max(now, current or now)
    return max(0, math.floor((now + mam_bonus.VIP_MAX_DAYS * DAY - start) / WEEK))


def quote(user: UserInfo, kind: Kind, amount: str, reserve: float, *, now: float | None = None) -> BonusQuote:
    """Cost, balance after, and whether the reserve and MAM's limits allow the purchase."""
    now = time.time() if now is None else now
    balance = float(user.seedbonus)
    reason = ""
    if kind == "upload":
        cost = int(amount) * mam_bonus.UPLOAD_POINTS_PER_GB
        description = f"{amount} GB of upload credit"
    else:
        room = vip_room_weeks(user.vip_until, now)
        weeks = room if amount == "max" else int(amount)
        cost = weeks * mam_bonus.VIP_POINTS_PER_WEEK
        description = f"{weeks} week(s) of VIP" + (" (max)" if amount == "max" else "")
        if room < 1:
            reason = "VIP already runs as far ahead as MAM allows (about 90 days)."
        elif weeks > room:
            reason = f"Only {room} more week(s) of VIP fit under MAM's ~90-day limit."
    after = balance - cost
    if not reason and cost > balance:
        reason = f"It costs {cost:,} points and you have {balance:,.0f}."
    elif not reason and after < reserve:
        reason = f"It would leave {after:,.0f} points, below your reserve of {reserve:,.0f} (setting bonus_reserve)."
    return BonusQuote(
        kind=kind,
        amount=amount,
        description=description,
        cost=cost,
        balance=balance,
        balance_after=after,
        reserve=reserve,
        allowed=not reason,
        reason=reason,
    )


def summarise(entries: list[mam_bonus.BonusHistoryEntry], *, cached: bool, now: float | None = None) -> HistorySummary:
    now = time.time() if now is None else now
    spent = [e for e in entries if e.amount < 0]
    last = max(spent, key=lambda e: e.timestamp) if spent else None
    return HistorySummary(
        entries=len(entries),
        points_earned=sum(e.amount for e in entries if e.amount > 0),
        points_spent=-sum(e.amount for e in spent),
        purchases=len(spent),
        last_purchase=f"{last.when} {last.type} {last.title}".strip() if last else None,
        last_30_days_spent=-sum(e.amount for e in spent if now - e.timestamp <= 30 * DAY),
        cached=cached,
    )


def automation_settings(settings: Settings) -> dict[str, Any]:
    return {
        "upload": settings.bonus_auto_upload,
        "upload_below_ratio": settings.bonus_auto_upload_below_ratio,
        "upload_above_points": settings.bonus_auto_upload_above_points,
        "upload_gb": settings.bonus_auto_upload_gb,
        "vip": settings.bonus_auto_vip,
        "vip_within_days": settings.bonus_auto_vip_within_days,
        "vip_weeks": settings.bonus_auto_vip_weeks,
        "daily_cap": settings.bonus_auto_daily_cap,
    }


# ---------------------------------------------------------------------- the service part


class BonusMixin(ServiceBase):
    """The bonus half of `Service`; builds on `ServiceBase`'s `settings`, `client`, `cache`,
    `user_info` and `user`."""

    notify: Callable[[str], None] | None = None
    """Set by a front or the supervisor to hear about every purchase (desktop notice, chat, ...)."""

    # ------------------------------------------------------------------ reading

    def bonus_history(self, *, refresh: bool = False) -> tuple[list[mam_bonus.BonusHistoryEntry], bool]:
        """MAM's bonus history, cached like the user details (`--refresh` asks MAM now)."""
        key = f"bonus_history:{self.settings.base_url}"
        if not refresh:
            hit = self.cache.get(key, self.settings.cache_ttl_seconds)
            if hit is not None and isinstance(hit[0], list):
                return [mam_bonus.BonusHistoryEntry.model_validate(r) for r in hit[0]], True
        rows = mam_bonus.history(self.client)
        self.cache.put(key, [r.model_dump(mode="json") for r in rows])
        return rows, False

    def bonus_status(self, *, refresh: bool = False, history_rows: int = 20) -> BonusStatus:
        user, cached, age = self.user_info(refresh=refresh)
        rows, hist_cached = self.bonus_history(refresh=refresh)
        now = time.time()
        reserve = self.settings.bonus_reserve
        options: list[BonusOption] = []
        for gb in mam_bonus.UPLOAD_STEPS_GB:
            q = quote(user, "upload", str(gb), reserve, now=now)
            options.append(
                BonusOption(kind="upload", amount=str(gb), label=q.description, cost=q.cost, affordable=q.allowed)
            )
        room = vip_room_weeks(user.vip_until, now)
        for weeks in sorted({1, 4, room} - {0}):
            if weeks <= room:
                q = quote(user, "vip", str(weeks), reserve, now=now)
                options.append(
                    BonusOption(kind="vip", amount=str(weeks), label=q.description, cost=q.cost, affordable=q.allowed)
                )
        until = mam_bonus.parse_vip_until(user.vip_until)
        return BonusStatus(
            points=user.seedbonus,
            wedges=user.wedges,
            vip_until=user.vip_until,
            vip_days_left=round(max(0.0, (until - now) / DAY), 1) if until else None,
            reserve=reserve,
            spendable=max(0.0, user.seedbonus - reserve),
            options=options,
            history=[
                HistoryRow(
                    when=e.when,
                    timestamp=e.timestamp,
                    amount=e.amount,
                    type=e.type,
                    title=e.title,
                    tid=e.tid,
                    other_name=e.other_name,
                )
                for e in rows[:history_rows]
            ],
            summary=summarise(rows, cached=hist_cached, now=now),
            automation=automation_settings(self.settings),
            cached=cached,
            age_seconds=age,
        )

    def user_with_bonus(self, *, refresh: bool = False) -> UserStatsWithBonus:
        """The account, plus the bonus history summary when MAM serves it (a failure there never
        hides the account stats)."""
        from mamdl.errors import MamdlError

        stats = self.user(refresh=refresh)
        try:
            rows, cached = self.bonus_history(refresh=refresh)
            summary: HistorySummary | None = summarise(rows, cached=cached)
        except MamdlError as exc:
            log.warning("bonus history unavailable: %s", exc)
            summary = None
        return UserStatsWithBonus(**stats.model_dump(), bonus_history=summary)

    def bonus_quote(self, kind: str, amount: str | int | float) -> BonusQuote:
        """A quote on MAM's current numbers (asks MAM: a stale balance would mislead)."""
        k, a = normalise(kind, amount)
        user = self.user_info(refresh=True)[0]
        return quote(user, k, a, self.settings.bonus_reserve)

    # ------------------------------------------------------------------ spending

    def bonus_buy(
        self,
        kind: str,
        amount: str | int | float,
        *,
        confirm: bool,
        source: str = "manual",
        quoted: BonusQuote | None = None,
    ) -> PurchaseOut:
        """Spend points once. Without `confirm` nothing is sent (a dry run with the quote).

        Refused (GuardRefused) when the reserve or MAM's limits say no; BonusRefused carries MAM's
        own text; PurchaseUncertain when the answer was lost (never retried). `quoted`: a quote
        this process just made (and showed) for the same purchase, to save asking MAM again."""
        k, a = normalise(kind, amount)
        q = quoted if quoted is not None and (quoted.kind, quoted.amount) == (k, a) else self.bonus_quote(k, a)
        if not q.allowed:
            raise GuardRefused(f"Not buying {q.description}: {q.reason}")
        if not confirm:
            return PurchaseOut(
                quote=q,
                done=False,
                dry_run=True,
                message=f"Would spend {q.cost:,} points on {q.description}, leaving {q.balance_after:,.0f}. Not bought.",
            )
        spendtype: mam_bonus.SpendType = "upload" if q.kind == "upload" else "VIP"
        log.info("buying %s for %d points (%s)", q.description, q.cost, source)
        try:
            answer = mam_bonus.buy(self.client, spendtype, q.amount)
        except BonusRefused as exc:
            self._record_purchase(q, source, "refused")  # counts toward the automation's cap too
            self._announce(f"MAM refused {q.description} ({source}): {exc}")
            raise
        except PurchaseUncertain:
            self._record_purchase(q, source, "uncertain")
            self._announce(f"Bonus purchase of {q.description} ({source}) got no answer: it may have been made.")
            self._forget_account()
            raise
        self._record_purchase(q, source, "done")
        self._forget_account()
        out = PurchaseOut(
            quote=q,
            done=True,
            message=f"Bought {q.description} for {q.cost:,} points.",
            balance_after=answer.seedbonus if answer.seedbonus is not None else q.balance_after,
            uploaded_bytes=answer.uploaded_bytes,
            ratio=answer.ratio,
            vip_until=answer.vip_until,
        )
        self._announce(f"{out.message} Balance now {out.balance_after:,.0f} ({source}).")
        return out

    def purchase_log(self) -> list[dict[str, Any]]:
        """mamdl's own record of the purchases it sent: `{t, kind, amount, cost, source, outcome}`."""
        hit = self.cache.get(self._log_key, PURCHASE_LOG_TTL)
        return list(hit[0]) if hit is not None and isinstance(hit[0], list) else []

    @property
    def _log_key(self) -> str:
        return f"bonus_purchases:{self.settings.base_url}"

    def _record_purchase(self, q: BonusQuote, source: str, outcome: str) -> None:
        rows = [r for r in self.purchase_log() if time.time() - float(r.get("t", 0)) < PURCHASE_LOG_TTL]
        rows.append(
            {"t": time.time(), "kind": q.kind, "amount": q.amount, "cost": q.cost, "source": source, "outcome": outcome}
        )
        self.cache.put(self._log_key, rows)

    def _forget_account(self) -> None:
        """The balance changed: the next read of the account and the history asks MAM."""
        from mamdl.errors import MamdlError

        self.cache.put(f"bonus_history:{self.settings.base_url}", None)
        try:
            self.user_info(refresh=True)
        except MamdlError as exc:  # the purchase stands; the next read will ask again
            log.warning("could not re-read the account after a purchase: %s", exc)

    def _announce(self, message: str) -> None:
        log.info("%s", message)  # the log file keeps every purchase
        if self.notify is not None:
            try:
                self.notify(message)
            except Exception:  # a broken notifier must not undo or hide a purchase
                log.exception("bonus notifier failed")

    # ------------------------------------------------------------------ automation

    def bonus_tick(self, *, now: float | None = None, refresh: bool = True) -> list[AutoDecision]:
        """One pass of the opt-in automation. Does nothing (and asks MAM nothing) unless a rule is
        enabled; buys at most `bonus_auto_daily_cap` times in any 24 hours. `refresh=False` decides
        on the cached account (for a caller that has just refreshed it); a purchase always quotes
        on MAM's current numbers."""
        s = self.settings
        if not (s.bonus_auto_upload or s.bonus_auto_vip):
            return []
        now = time.time() if now is None else now
        decisions: list[AutoDecision] = []

        def used() -> int:
            return sum(1 for r in self.purchase_log() if r.get("source") == "auto" and now - float(r.get("t", 0)) < DAY)

        if used() >= s.bonus_auto_daily_cap:
            capped = f"daily cap of {s.bonus_auto_daily_cap} purchase(s) reached"
            pairs: list[tuple[Kind, bool]] = [("vip", s.bonus_auto_vip), ("upload", s.bonus_auto_upload)]
            rules = [r for r, on in pairs if on]
            return [AutoDecision(rule=r, acted=False, reason=capped) for r in rules]
        user = self.user_info(refresh=refresh)[0]
        if s.bonus_auto_vip:
            decisions.append(self._auto_vip(user, now, used))
            if decisions[-1].acted:
                user = self.user_info()[0]
        if s.bonus_auto_upload:
            decisions.append(self._auto_upload(user, used))
        return decisions

    def _auto_vip(self, user: UserInfo, now: float, used: Callable[[], int]) -> AutoDecision:
        s = self.settings
        until = mam_bonus.parse_vip_until(user.vip_until)
        if until is None:
            return AutoDecision(rule="vip", acted=False, reason="not VIP (only renews an existing VIP)")
        left = (until - now) / DAY
        if left > s.bonus_auto_vip_within_days:
            return AutoDecision(rule="vip", acted=False, reason=f"VIP has {left:.1f} days left")
        weeks = min(s.bonus_auto_vip_weeks, vip_room_weeks(user.vip_until, now))
        return self._auto_buy("vip", str(weeks), user, used, f"VIP ends in {left:.1f} days")

    def _auto_upload(self, user: UserInfo, used: Callable[[], int]) -> AutoDecision:
        s = self.settings
        if user.ratio is None or user.ratio >= s.bonus_auto_upload_below_ratio:
            shown = "infinite" if user.ratio is None else f"{user.ratio:.2f}"
            return AutoDecision(
                rule="upload", acted=False, reason=f"ratio {shown} is not below {s.bonus_auto_upload_below_ratio}"
            )
        if user.seedbonus <= s.bonus_auto_upload_above_points:
            return AutoDecision(
                rule="upload",
                acted=False,
                reason=f"{user.seedbonus:,.0f} points do not exceed {s.bonus_auto_upload_above_points:,.0f}",
            )
        return self._auto_buy("upload", str(s.bonus_auto_upload_gb), user, used, f"ratio {user.ratio:.2f}")

    def _auto_buy(self, kind: Kind, amount: str, user: UserInfo, used: Callable[[], int], why: str) -> AutoDecision:
        s = self.settings
        if used() >= s.bonus_auto_daily_cap:
            return AutoDecision(
                rule=kind, acted=False, reason=f"daily cap of {s.bonus_auto_daily_cap} purchase(s) reached"
            )
        if amount == "0":
            return AutoDecision(rule=kind, acted=False, reason="no VIP week fits under MAM's limit")
        q = quote(user, kind, amount, s.bonus_reserve)
        if not q.allowed:
            return AutoDecision(rule=kind, acted=False, reason=f"{why}, but {q.reason}")
        out = self.bonus_buy(kind, amount, confirm=True, source="auto")
        return AutoDecision(rule=kind, acted=True, reason=why, purchase=out)


def tick(service: Any, *, now: float | None = None, refresh: bool = True) -> list[AutoDecision]:
    """The automation's entry point for a long-running supervisor: one pass, errors logged and
    swallowed except an uncertain purchase (which the caller should surface)."""
    from mamdl.errors import MamdlError

    try:
        decisions: list[AutoDecision] = service.bonus_tick(now=now, refresh=refresh)
    except PurchaseUncertain:
        raise
    except MamdlError as exc:
        log.warning("bonus automation skipped this round: %s", exc)
        return []
    for d in decisions:
        if d.acted:
            log.info("bonus automation: %s (%s)", d.purchase.message if d.purchase else "bought", d.reason)
    return decisions


__all__ = [
    "AutoDecision",
    "BonusMixin",
    "BonusQuote",
    "BonusStatus",
    "HistorySummary",
    "PurchaseOut",
    "UserStatsWithBonus",
    "normalise",
    "quote",
    "tick",
]
