"""MAM's bonus-point store: purchases (`/json/bonusBuy.php`) and the history (`/json/userBonusHistory.php`).

Quirks, from `shared/mam-api.md`:

- a refusal is HTTP 200 with `{"success": false, "error": "…"}`, and `success` is sometimes the
  *string* `"false"`: only `true`/`"true"`/`1` count as success, and MAM's text is passed on as is;
- a purchase is not idempotent: it is sent exactly once (`MamClient.send_once`); when no answer
  comes back MAM may have made it, so the caller gets `PurchaseUncertain`, never a silent retry;
- the API refuses VIP under one week and upload credit under about 50 GB (reported by tool
  authors); we sell ourselves only what MAM's store offers at and above that floor, 50 or 100 GB;
- the history is a JSON *list* (not an object) of `{timestamp (float), amount, type, tid, title,
  other_userid, other_name}`, where `title` and `other_name` may be numbers.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from mamdl.errors import BonusRefused, MalformedResponse, MamError, PurchaseUncertain, SessionExpired
from mamdl.mam.models import parse_int, parse_size
from mamdl.redact import redact

if TYPE_CHECKING:
    from mamdl.mam.client import MamClient

BONUS_BUY_PATH = "/json/bonusBuy.php/"
BONUS_HISTORY_PATH = "/json/userBonusHistory.php"

UPLOAD_POINTS_PER_GB = 500
VIP_POINTS_PER_WEEK = 1250
VIP_MAX_DAYS = 90
POINTS_CAP = 99_999
UPLOAD_STEPS_GB = (50, 100)
"""Upload credit MAM accepts through the API, in GB per purchase (its store's steps at or above
the reported 50 GB floor)."""

SpendType = Literal["upload", "VIP"]


class BonusHistoryEntry(BaseModel):
    """One line of MAM's bonus history: points earned (positive) or spent (negative)."""

    timestamp: float
    amount: float
    type: str
    tid: int = 0
    title: str = ""
    other_userid: int = 0
    other_name: str = ""

    @property
    def when(self) -> str:
        return datetime.fromtimestamp(self.timestamp, UTC).strftime("%Y-%m-%d %H:%M")

    @classmethod
    def from_api(cls, row: dict[str, Any]) -> BonusHistoryEntry:
        def text(v: Any) -> str:
            return "" if v is None else str(v)

        try:
            amount = float(str(row.get("amount") or 0).replace(",", ""))
        except ValueError:
            amount = 0.0
        try:
            ts = float(row.get("timestamp") or 0)
        except (TypeError, ValueError):
            ts = 0.0
        return cls(
            timestamp=ts,
            amount=amount,
            type=text(row.get("type")),
            tid=parse_int(row.get("tid")),
            title=text(row.get("title")),
            other_userid=parse_int(row.get("other_userid")),
            other_name=text(row.get("other_name")),
        )


class PurchaseAnswer(BaseModel):
    """MAM's answer to a purchase that succeeded; fields MAM did not send stay None."""

    spendtype: SpendType
    amount: str
    seedbonus: float | None = None
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None
    ratio: float | None = None
    vip_until: str | None = None


def buy(client: MamClient, spendtype: SpendType, amount: str) -> PurchaseAnswer:
    """Spend points, once. `amount`: GB for upload credit, weeks (or `max`) for VIP.

    Raises BonusRefused with MAM's text when MAM says no, PurchaseUncertain when no answer came
    back. The caller has already checked cost, reserve and MAM's limits; this only talks."""
    params: dict[str, str] = {"spendtype": spendtype}
    params["amount" if spendtype == "upload" else "duration"] = amount
    params["_"] = str(int(time.time() * 1000))
    resp = client.send_once("GET", BONUS_BUY_PATH, params=params)
    if resp is None:
        raise PurchaseUncertain(
            "MAM did not answer the purchase, so it may or may not have been made. It was not retried. "
            "Check the balance with `mam bonus --refresh` before trying again."
        )
    data = client._parse_json(resp)
    ok = data.get("success")
    if ok not in (True, "true", 1, "1"):
        text = data.get("error") or data.get("message") or data.get("msg")
        raise BonusRefused(
            f"MAM refused the purchase: {redact(str(text))}" if text else "MAM refused the purchase without a reason."
        )
    uploaded = data.get("uploaded_bytes", data.get("uploaded"))
    downloaded = data.get("downloaded_bytes", data.get("downloaded"))
    ratio: float | None
    try:
        ratio = float(data["ratio"]) if data.get("ratio") not in (None, "") else None
    except (TypeError, ValueError):
        ratio = None  # "∞"
    seedbonus = data.get("seedbonus")
    return PurchaseAnswer(
        spendtype=spendtype,
        amount=amount,
        seedbonus=float(seedbonus) if isinstance(seedbonus, (int, float)) else None,
        uploaded_bytes=parse_size(uploaded) if uploaded is not None else None,
        downloaded_bytes=parse_size(downloaded) if downloaded is not None else None,
        ratio=ratio,
        vip_until=str(data["vip_until"]) if data.get("vip_until") else None,
    )


def history(client: MamClient) -> list[BonusHistoryEntry]:
    """MAM's bonus history, newest first. A row that does not parse is dropped, not the list."""
    from mamdl.mam.client import _looks_like_login

    resp = client._send("GET", BONUS_HISTORY_PATH)
    text = resp.text
    if _looks_like_login(text):
        raise SessionExpired("MAM answered the bonus history with a login page")
    try:
        data = json.loads(text)
    except ValueError:
        raise MalformedResponse("MAM's bonus history is not JSON.") from None
    if isinstance(data, dict):
        message = data.get("error") or data.get("message")
        if message:
            raise MamError(f"MAM refused the bonus history: {redact(str(message))}")
        data = data.get("data") or data.get("history") or []
    if not isinstance(data, list):
        raise MalformedResponse("MAM's bonus history is not a list.")
    rows = [BonusHistoryEntry.from_api(r) for r in data if isinstance(r, dict)]
    return sorted(rows, key=lambda r: r.timestamp, reverse=True)


def parse_vip_until(value: str | None) -> float | None:
    """MAM's `vip_until` as a Unix time (UTC); None when unset or in a form we do not know."""
    if not value:
        return None
    raw = value.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    return None
