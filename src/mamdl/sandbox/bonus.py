"""The sandbox's bonus-point store: `/json/bonusBuy.php` and `/json/userBonusHistory.php`.

Shapes follow `shared/mam-api.md`: every refusal is HTTP 200 with `{"success": false, "error": …}`,
and some refusals send `success` as the *string* `"false"` (both happen on MAM; a client must
treat either as a refusal and show the text). Prices: 500 points per GB of upload credit,
1,250 points per week of VIP, VIP at most about 90 days ahead, the balance capped at 99,999.
What the API refuses (reported by tool authors): VIP under one week, upload credit under 50 GB,
and freeleech wedges ("Not allowed via API"). The sandbox sells upload credit in the steps MAM's
store offers at and above that floor (50 or 100 GB).

Every purchase that was *performed* is counted (`BonusShop.purchases`), whether or not its answer
reached the client: the `drop_answer` fault closes the connection after the purchase, which is
how a client that retries a purchase would be caught buying twice.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mamdl.sandbox.state import Account, human_size

UPLOAD_POINTS_PER_GB = 500
VIP_POINTS_PER_WEEK = 1250
VIP_MAX_DAYS = 90
POINTS_CAP = 99_999
UPLOAD_STEPS_GB = (50, 100)
WEEK = 7 * 86400.0
VIP_FORMAT = "%Y-%m-%d %H:%M:%S"

NOT_ENOUGH = "You do not have enough bonus points to buy that."
UPLOAD_STEP = "Invalid amount: upload credit is sold through the API in 50 or 100 GB."
VIP_TOO_SHORT = "Invalid duration: VIP is sold through the API in whole weeks, at least one."
VIP_AT_MAX = "You already have the maximum amount of VIP time."
NOT_VIA_API = "Not allowed via API"


@dataclass
class Purchase:
    t: float
    spendtype: str
    amount: float
    """GB of upload credit, or weeks of VIP."""
    cost: int
    balance_after: float


def parse_vip_until(value: str | None) -> float | None:
    """MAM's `vip_until` ("YYYY-MM-DD HH:MM:SS", UTC) as a Unix time; None when unset or unreadable."""
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), VIP_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def format_vip_until(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime(VIP_FORMAT)


class BonusShop:
    """Purchases and the bonus history of the sandbox user. Thread-safe (the server is threaded)."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.purchases: list[Purchase] = []
        self.history: list[dict[str, Any]] = []
        self.reset()

    def reset(self, now: float | None = None) -> None:
        """The history starts with what an account typically earned: a gift, and a bonus tied to a
        torrent whose title is a number (MAM sends such titles as JSON numbers)."""
        now = time.time() if now is None else now
        with self.lock:
            self.purchases.clear()
            self.history = [
                {
                    "timestamp": now - 9 * 86400 + 0.25,
                    "amount": 250,
                    "type": "giftPoints",
                    "tid": 0,
                    "title": "",
                    "other_userid": 17321,
                    "other_name": 20112,
                },
                {
                    "timestamp": now - 3 * 86400 + 0.5,
                    "amount": 500,
                    "type": "torrentBonus",
                    "tid": 1984,
                    "title": 1984,
                    "other_userid": 0,
                    "other_name": "",
                },
            ]

    # ------------------------------------------------------------------ the endpoint

    def buy(self, account: Account, params: dict[str, list[str]], now: float) -> dict[str, Any]:
        """The JSON answer of `bonusBuy.php` for these query parameters (a purchase, or a refusal)."""
        spendtype = (params.get("spendtype") or [""])[0]
        if spendtype == "upload":
            return self._upload(account, (params.get("amount") or [""])[0], now)
        if spendtype == "VIP":
            return self._vip(account, (params.get("duration") or [""])[0], now)
        return {"success": "false", "error": NOT_VIA_API}

    def _upload(self, account: Account, raw: str, now: float) -> dict[str, Any]:
        try:
            gb = float(raw)
        except ValueError:
            gb = 0.0
        if gb not in UPLOAD_STEPS_GB:
            return {"success": False, "error": UPLOAD_STEP}
        cost = int(gb * UPLOAD_POINTS_PER_GB)
        with self.lock:
            if account.seedbonus < cost:
                return {"success": False, "error": NOT_ENOUGH}
            account.seedbonus -= cost
            account.base_uploaded += int(gb * 1024**3)
            self._record(account, "upload", gb, cost, now, "Upload Credit")
            up, down = account.total_uploaded, account.total_downloaded
            return {
                "success": True,
                "type": "Upload Credit",
                "amount": gb,
                "seedbonus": round(account.seedbonus, 1),
                "uploaded": human_size(up),
                "downloaded": human_size(down),
                "uploaded_bytes": up,
                "downloaded_bytes": down,
                "ratio": "∞" if down == 0 else round(up / down, 2),
            }

    def _vip(self, account: Account, raw: str, now: float) -> dict[str, Any]:
        with self.lock:
            current = parse_vip_until(account.vip_until)
            start = max(now, current or now)
            room_weeks = math.floor((now + VIP_MAX_DAYS * 86400 - start) / WEEK)
            if raw.strip().lower() == "max":
                weeks = room_weeks
                if weeks < 1:
                    return {"success": False, "error": VIP_AT_MAX}
            else:
                try:
                    weeks_f = float(raw)
                except ValueError:
                    weeks_f = 0.0
                if weeks_f < 1 or weeks_f != int(weeks_f):
                    return {"success": "false", "error": VIP_TOO_SHORT}
                weeks = int(weeks_f)
                if weeks > room_weeks:
                    return {"success": False, "error": VIP_AT_MAX}
            cost = weeks * VIP_POINTS_PER_WEEK
            if account.seedbonus < cost:
                return {"success": "false", "error": NOT_ENOUGH}
            account.seedbonus -= cost
            account.vip_until = format_vip_until(start + weeks * WEEK)
            if "vip" not in account.classname.lower() and account.classname in ("User", "Power User", "Mouse"):
                account.classname = "VIP"
            self._record(account, "VIP", weeks, cost, now, "VIP")
            return {
                "success": True,
                "type": "VIP",
                "amount": weeks,
                "seedbonus": round(account.seedbonus, 1),
                "vip_until": account.vip_until,
            }

    def _record(self, account: Account, spendtype: str, amount: float, cost: int, now: float, kind: str) -> None:
        self.purchases.append(
            Purchase(t=now, spendtype=spendtype, amount=amount, cost=cost, balance_after=account.seedbonus)
        )
        self.history.append(
            {
                "timestamp": now,
                "amount": -cost,
                "type": kind,
                "tid": 0,
                "title": f"{amount:g} GB" if spendtype == "upload" else f"{amount:g} week(s)",
                "other_userid": 0,
                "other_name": "",
            }
        )

    def add_points(self, account: Account, points: float) -> None:
        """Earned points (seeding), capped like MAM's balance."""
        with self.lock:
            account.seedbonus = min(POINTS_CAP, account.seedbonus + points)

    # ------------------------------------------------------------------ views

    def history_json(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(h) for h in self.history]

    def purchases_json(self) -> list[dict[str, Any]]:
        with self.lock:
            return [asdict(p) for p in self.purchases]
