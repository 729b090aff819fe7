"""The sandbox's account state: users, their snatches, ratio accounting, wedges, seedbox IP.

Everything MAM derives from the tracker is derived here from the sandbox tracker's announces, so
a client's view (`/jsonLoad.php?snatch_summary`) moves for the same reasons it would on MAM:

- a snatch starts at the user's first announce for a torrent;
- seeding time accumulates while the user announces with `left=0` (each gap between announces
  counts, capped at `inactive_seconds`, and the time since the last announce counts too while the
  snatch is still active, so short test timings show up without waiting for the next announce);
- a snatch is *satisfied* once it has seeded `satisfy_seconds` (MAM: 72 hours);
- it is *inactive* when the user has not announced for `inactive_seconds`, or sent `stopped`;
- it is a *hit and run* when it is still unsatisfied `hnr_seconds` after it started (MAM: 30 days).

Uploaded/downloaded are a starting balance plus the per-torrent deltas the tracker accounted;
downloads of freeleech torrents (site FL, personal FL from a wedge, VIP FL for VIPs) cost nothing.
All access goes through one lock: the HTTP server is threaded.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

GiB = 1024**3
DAY = 86400.0


@dataclass
class Timing:
    """Knobs that decide how the account reacts over time; all can change while the sandbox runs."""

    satisfy_seconds: float = 72 * 3600
    inactive_seconds: float = 900.0
    hnr_seconds: float = 30 * DAY
    announce_interval: int = 5
    seedbox_window: float = 3600.0


@dataclass
class Account:
    uid: int
    username: str
    passkey: str
    role: str = "user"
    """"user" for the client's account; "seeder", "leecher", "corrupt" for the sandbox's own peers."""
    classname: str = "Power User"
    wedges: int = 3
    seedbonus: float = 12500.0
    base_uploaded: int = 25 * GiB
    base_downloaded: int = 10 * GiB
    vip_until: str | None = None
    unsat_limit: int = 100
    connectable: str = "yes"
    country_code: str = "us"
    """Lowercase, as MAM sends it."""
    seedbox_allowed: bool = True
    """False: dynamicSeedbox.php answers 403 (the session is not a dynamic-seedbox session)."""
    seedbox_ip: str = "203.0.113.10"
    seedbox_changed_at: float | None = None
    personal_freeleech: set[int] = field(default_factory=set)
    uploaded: int = 0
    """Accounted by the tracker, on top of base_uploaded."""
    downloaded: int = 0

    @property
    def is_vip(self) -> bool:
        return "vip" in self.classname.lower() or bool(self.vip_until)

    @property
    def total_uploaded(self) -> int:
        return self.base_uploaded + self.uploaded

    @property
    def total_downloaded(self) -> int:
        return self.base_downloaded + self.downloaded


@dataclass
class Snatch:
    uid: int
    tid: int
    info_hash: str
    started: float
    last_announce: float
    left: int = -1
    stopped: bool = False
    seeded: float = 0.0
    """Seconds seeded up to `last_announce`."""
    completed: bool = False
    uploaded: int = 0
    downloaded: int = 0

    def seeded_until(self, now: float, inactive_seconds: float) -> float:
        extra = 0.0
        if self.left == 0 and not self.stopped:
            extra = min(max(0.0, now - self.last_announce), inactive_seconds)
        return self.seeded + extra

    def is_active(self, now: float, inactive_seconds: float) -> bool:
        return not self.stopped and now - self.last_announce < inactive_seconds


@dataclass
class WedgeSpend:
    t: float
    tid: int
    wasted: bool
    """True when the torrent was already free for this user (site FL, personal FL, or VIP FL for a VIP)."""


def human_size(n: float) -> str:
    """Bytes as MAM prints them on jsonLoad ("5.125 TiB")."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{int(n)} {unit}" if unit == "B" else f"{n:.3f} {unit}"
        n /= 1024
    return f"{n:.3f} PiB"  # pragma: no cover


_BUCKET_NAMES = {
    "leeching": "Leeching",
    "sSat": "Seeding, Satisfied",
    "seedUnsat": "Seeding, Unsatisfied",
    "seedHnr": "Seeding, Hit & Run",
    "inactSat": "Inactive, Satisfied",
    "inactUnsat": "Inactive, Unsatisfied",
    "inactHnr": "Inactive, Hit & Run",
    "upAct": "Uploads, Active",
    "upInact": "Uploads, Inactive",
    "unsat": "Unsatisfied",
}


class AccountState:
    """Accounts by passkey, snatches by (uid, tid), wedge spends. Thread-safe."""

    def __init__(self, user: Account, timing: Timing) -> None:
        self.lock = threading.RLock()
        self.timing = timing
        self.user = user
        self._initial_user = asdict(user)
        self.accounts: dict[str, Account] = {user.passkey: user}
        self.snatches: dict[tuple[int, int], Snatch] = {}
        self.wedge_log: list[WedgeSpend] = []

    # ------------------------------------------------------------------ accounts

    def add_internal(self, role: str, uid: int, username: str) -> Account:
        account = Account(
            uid=uid,
            username=username,
            passkey=secrets.token_hex(16),
            role=role,
            classname="Bot",
            base_uploaded=0,
            base_downloaded=0,
        )
        with self.lock:
            self.accounts[account.passkey] = account
        return account

    def by_passkey(self, passkey: str) -> Account | None:
        return self.accounts.get(passkey)

    def update_user(self, **fields: Any) -> None:
        allowed = {
            "username",
            "uid",
            "classname",
            "wedges",
            "seedbonus",
            "base_uploaded",
            "base_downloaded",
            "vip_until",
            "unsat_limit",
            "connectable",
            "country_code",
            "seedbox_allowed",
            "seedbox_ip",
            "seedbox_changed_at",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(
                f"unknown user field(s): {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
            )
        with self.lock:
            for key, value in fields.items():
                setattr(self.user, key, value)

    def reset(self) -> None:
        with self.lock:
            initial = dict(self._initial_user)
            initial["personal_freeleech"] = set()
            for key, value in initial.items():
                if key != "passkey":
                    setattr(self.user, key, value)
            for account in self.accounts.values():
                account.uploaded = account.downloaded = 0
            self.snatches.clear()
            self.wedge_log.clear()

    # ------------------------------------------------------------------ freeleech & wedges

    def is_free_for(self, account: Account, tid: int, *, free: bool, fl_vip: bool) -> bool:
        return free or tid in account.personal_freeleech or (fl_vip and account.is_vip)

    def spend_wedge(self, account: Account, tid: int, *, free: bool, fl_vip: bool, now: float) -> bool:
        """Spend one wedge on `tid`; False when none are left. Wasting one on a free torrent still costs it."""
        with self.lock:
            if account.wedges <= 0:
                return False
            wasted = self.is_free_for(account, tid, free=free, fl_vip=fl_vip)
            account.wedges -= 1
            account.personal_freeleech.add(tid)
            self.wedge_log.append(WedgeSpend(t=now, tid=tid, wasted=wasted))
            return True

    # ------------------------------------------------------------------ tracker input

    def record_announce(
        self,
        account: Account,
        tid: int,
        info_hash: str,
        *,
        uploaded_delta: int,
        downloaded_delta: int,
        left: int,
        event: str,
        free: bool,
        now: float,
    ) -> None:
        """Account one announce: ratio deltas (downloads of free torrents excepted) and the snatch."""
        inactive = self.timing.inactive_seconds
        with self.lock:
            account.uploaded += max(0, uploaded_delta)
            if not free:
                account.downloaded += max(0, downloaded_delta)
            key = (account.uid, tid)
            snatch = self.snatches.get(key)
            if snatch is None:
                snatch = Snatch(uid=account.uid, tid=tid, info_hash=info_hash, started=now, last_announce=now)
                self.snatches[key] = snatch
            else:
                if snatch.left == 0 and not snatch.stopped:
                    snatch.seeded += min(max(0.0, now - snatch.last_announce), inactive)
                snatch.last_announce = now
            snatch.left = left
            snatch.stopped = event == "stopped"
            snatch.uploaded += max(0, uploaded_delta)
            snatch.downloaded += max(0, downloaded_delta)
            if left == 0:
                snatch.completed = True

    def add_snatch(
        self,
        tid: int,
        *,
        info_hash: str = "",
        age: float = 0.0,
        seeded: float = 0.0,
        left: int = 0,
        active: bool = True,
        account: Account | None = None,
        now: float | None = None,
    ) -> Snatch:
        """A snatch made up for tests: started `age` seconds ago, with `seeded` seconds of seeding."""
        now = time.time() if now is None else now
        account = account or self.user
        with self.lock:
            snatch = Snatch(
                uid=account.uid,
                tid=tid,
                info_hash=info_hash,
                started=now - age,
                last_announce=now if active else now - max(age, self.timing.inactive_seconds + 1),
                left=left,
                stopped=not active,
                seeded=seeded,
                completed=left == 0,
            )
            self.snatches[(account.uid, tid)] = snatch
            return snatch

    def has_snatched(self, account: Account, tid: int) -> bool:
        return (account.uid, tid) in self.snatches

    # ------------------------------------------------------------------ views

    def classify(self, s: Snatch, now: float) -> tuple[str, bool]:
        """(the snatch's bucket, whether it also counts in `unsat`): the one rule the summary and
        the per-torrent lists share, so they can never disagree."""
        t = self.timing
        satisfied = s.seeded_until(now, t.inactive_seconds) >= t.satisfy_seconds
        hnr = not satisfied and now - s.started >= t.hnr_seconds
        if s.is_active(now, t.inactive_seconds):
            if s.left != 0:
                bucket = "leeching"
            else:
                bucket = "sSat" if satisfied else "seedHnr" if hnr else "seedUnsat"
        else:
            bucket = "inactSat" if satisfied else "inactHnr" if hnr else "inactUnsat"
        return bucket, not satisfied and not hnr

    def snatch_buckets(self, account: Account, sizes: dict[int, int], now: float) -> dict[str, dict[str, Any]]:
        """MAM's snatch_summary buckets for `account`, computed from its snatches at `now`."""
        counts = {k: 0 for k in _BUCKET_NAMES}
        totals = {k: 0 for k in _BUCKET_NAMES}
        with self.lock:
            snatches = [s for s in self.snatches.values() if s.uid == account.uid]
            for s in snatches:
                bucket, unsatisfied = self.classify(s, now)
                size = sizes.get(s.tid, 0)
                counts[bucket] += 1
                totals[bucket] += size
                if unsatisfied:
                    counts["unsat"] += 1
                    totals["unsat"] += size
        out: dict[str, dict[str, Any]] = {}
        for key, name in _BUCKET_NAMES.items():
            red = counts[key] > 0 if key in ("seedHnr", "inactHnr") else False
            out[key] = {"name": name, "count": counts[key], "red": red, "size": totals[key]}
        out["unsat"]["limit"] = account.unsat_limit
        out["unsat"]["red"] = counts["unsat"] >= account.unsat_limit
        return out

    def user_json(
        self,
        account: Account,
        *,
        sizes: dict[int, int],
        now: float,
        snatch_summary: bool,
        summary_style: str = "nested",
    ) -> dict[str, Any]:
        """The body of /jsonLoad.php for `account`.

        `summary_style` "nested" is MAM since spring 2026: the buckets (without `red`) inside a
        `snatch_summary` object that also carries `connectable`, `created`, `created_at`, and a
        stray top-level `"unsat": null` beside it; "top" is the older form, buckets at the top level."""
        with self.lock:
            up, down = account.total_uploaded, account.total_downloaded
            ratio: float | str = "∞" if down == 0 else round(up / down, 2)
            data: dict[str, Any] = {
                "classname": account.classname,
                "connectable": account.connectable,
                "country_code": account.country_code,
                "country_name": "United States" if account.country_code.lower() == "us" else account.country_code,
                "created": 1357041600,
                "downloaded": human_size(down),
                "downloaded_bytes": down,
                "ratio": ratio,
                "seedbonus": min(99_999, int(account.seedbonus)),  # an integer, capped, on MAM
                "uid": account.uid,
                "uploaded": human_size(up),
                "uploaded_bytes": up,
                "username": account.username,
                "vip_until": account.vip_until or "",
                "wedges": account.wedges,
            }
        if snatch_summary:
            buckets = self.snatch_buckets(account, sizes, now)
            if summary_style == "top":
                data.update(buckets)
            else:
                nested: dict[str, Any] = {
                    key: {k: v for k, v in bucket.items() if k != "red"} for key, bucket in buckets.items()
                }
                nested.update(
                    connectable=data["connectable"], created=data["created"], created_at="2013-01-01 12:00:00"
                )
                data["snatch_summary"] = nested
                data["unsat"] = None
        return data

    def snapshot(self, now: float) -> dict[str, Any]:
        """Everything a test may want to assert on, as plain JSON."""
        t = self.timing
        with self.lock:
            return {
                "user": {
                    "uid": self.user.uid,
                    "username": self.user.username,
                    "classname": self.user.classname,
                    "wedges": self.user.wedges,
                    "uploaded_bytes": self.user.total_uploaded,
                    "downloaded_bytes": self.user.total_downloaded,
                    "accounted_uploaded": self.user.uploaded,
                    "accounted_downloaded": self.user.downloaded,
                    "personal_freeleech": sorted(self.user.personal_freeleech),
                    "seedbox_ip": self.user.seedbox_ip,
                    "seedbox_allowed": self.user.seedbox_allowed,
                },
                "snatches": [
                    {
                        "tid": s.tid,
                        "info_hash": s.info_hash,
                        "started": s.started,
                        "last_announce": s.last_announce,
                        "left": s.left,
                        "active": s.is_active(now, t.inactive_seconds),
                        "seeded_seconds": round(s.seeded_until(now, t.inactive_seconds), 3),
                        "satisfied": s.seeded_until(now, t.inactive_seconds) >= t.satisfy_seconds,
                        "uploaded": s.uploaded,
                        "downloaded": s.downloaded,
                    }
                    for s in self.snatches.values()
                    if s.uid == self.user.uid
                ],
                "wedge_spends": [asdict(w) for w in self.wedge_log],
                "timing": asdict(t),
            }
