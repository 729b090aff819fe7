"""Account safety on every path: the one decision point and the one admission point.

**May this torrent stop or be removed?** (`may_stop`, `may_stop_many`) Every front (CLI remove,
the seeding loop, MCP, the coming supervisor) asks here and nowhere else. The answer is yes only
when

- the torrent is not a MAM torrent, judged by its tracker's host (not by whether a MAM id was
  recorded: a MAM torrent added from a file has none), or
- MAM's own per-torrent snatch list (`loadUserDetailsTorrents.php`), read fresh for this decision
  through the 1 request/s gate, lists it among the satisfied snatches.

Anything else is no, with the reason: MAM lists it unsatisfied (with MAM's seed time to go), MAM
does not list it as satisfied at all, its MAM id cannot be found, or MAM's answer is missing or
unreadable (fail closed). Comparing bucket counts is never used: it cannot tell which torrent MAM
means.

**May this download start?** (`admission`) One critical section per state dir, across processes
(an exclusive `flock` on `admission.lock`, like the request gate): inside it MAM's snatch summary
and unsatisfied list are read fresh, every earlier admission MAM does not list yet is added to
MAM's count (the durable ledger `admissions.json`), the decision is made, and an admitted download
is written to the ledger before the lock is released. A missing summary refuses unless forced.
The freeleech-wedge decision is made in the same critical section and recorded before the
request that spends it, so parallel `--wedge always` runs spend one wedge.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mamdl.errors import GuardRefused, MamdlError
from mamdl.fsutil import atomic_write
from mamdl.mam.snatchlist import SATISFIED_BUCKETS, UserTorrent
from mamdl.service.base import ServiceBase
from mamdl.service.guards import Decision, unsatisfied_room

if TYPE_CHECKING:
    from mamdl.engine import SeedGoal, TorrentFile
    from mamdl.mam.models import UserInfo
    from mamdl.service.models import TorrentStatus

log = logging.getLogger(__name__)

MAM_MIN_SEED_HOURS = 72.0
ADMISSION_LOCK = "admission.lock"
ADMISSION_LEDGER = "admissions.json"
LEDGER_TTL_SECONDS = 24 * 3600
"""An admitted download MAM never lists (it never announced) stops counting after a day."""
TRACKER_RISK_FAILURES = 3
"""Announces failed in a row before an unsatisfied MAM torrent counts as a hit-and-run risk."""
MAM_HOST_SUFFIX = "myanonamouse.net"
_TORRENT_PAGE = re.compile(r"/t/(\d+)(?:\b|/|$)")


@dataclass(frozen=True)
class StopDecision:
    """The decision point's answer for one torrent."""

    info_hash: str
    allowed: bool
    reason: str
    is_mam: bool
    mam_id: int | None = None
    mam_row: UserTorrent | None = None
    """MAM's own row for this torrent when it was found (seedtime, seed time to go)."""


@dataclass
class Admission:
    allowed: bool
    reason: str
    user: UserInfo | None = None
    forced: bool = False
    key: str | None = None
    """The ledger key when this admission added an entry (see `withdraw`)."""


@dataclass
class _MamLists:
    """The per-torrent lists read for one decision: bucket -> {id: row}; `error` when unreadable."""

    rows: dict[str, dict[int, UserTorrent]] = field(default_factory=dict)
    error: str | None = None


def is_mam_tracker(url: str, base_url: str) -> bool:
    """A tracker URL on MAM's host (or, on loopback, on the configured site's host and port)."""
    try:
        parts = urlsplit(url)
        base = urlsplit(base_url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if host == MAM_HOST_SUFFIX or host.endswith("." + MAM_HOST_SUFFIX):
        return True
    return bool(host) and parts.netloc.lower() == base.netloc.lower()


def mam_id_from_comment(comment: str, base_url: str) -> int | None:
    """The torrent id from a comment naming its MAM page (`https://www.myanonamouse.net/t/123`)."""
    m = _TORRENT_PAGE.search(comment or "")
    if not m:
        return None
    url = comment[: m.end()].split()[-1] if comment.strip() else ""
    if url.startswith("http") and not is_mam_tracker(url, base_url):
        return None
    return int(m.group(1))


class SafetyMixin(ServiceBase):
    """The safety half of `Service`: `ServiceBase` gives it `settings`, `client`, `cache` and
    `user_info`; the downloads half (which inherits it) gives `status`."""

    if TYPE_CHECKING:

        def status(self, info_hash: str | None = None, *, with_mam: bool = False) -> list[TorrentStatus]: ...

    _torrent_meta: dict[str, TorrentFile | None]

    # ------------------------------------------------------------------ which torrents are MAM's

    def _meta(self, info_hash: str) -> TorrentFile | None:
        """The stored .torrent, parsed (None when it is gone or unreadable)."""
        cache = self.__dict__.setdefault("_torrent_meta", {})
        if cache.get(info_hash) is None:  # a miss is asked again: the torrent may be added later
            from mamdl.engine import parse_torrent, read_torrent_file

            raw = read_torrent_file(self.settings.paths.state_dir, info_hash)
            try:
                cache[info_hash] = parse_torrent(raw) if raw else None
            except MamdlError:
                cache[info_hash] = None
        return cache[info_hash]

    def is_mam_torrent_file(self, tf: TorrentFile) -> bool:
        return any(is_mam_tracker(u, self.settings.base_url) for u in tf.announce_urls)

    def is_mam_torrent(self, row: TorrentStatus) -> bool:
        """By tracker host. A torrent whose .torrent cannot be read is treated as MAM's when a MAM
        id was recorded for it, or when nothing at all can be told (fail closed)."""
        tf = self._meta(row.info_hash)
        if tf is None:
            return True
        return self.is_mam_torrent_file(tf)

    def _mam_id_of(self, row: TorrentStatus, lists: _MamLists | None = None) -> int | None:
        """The recorded MAM id; else the one the .torrent's comment names; else the one snatch
        whose size and title match in MAM's lists (never a guess between several)."""
        if row.mam_id is not None:
            return row.mam_id
        tf = self._meta(row.info_hash)
        if tf is not None:
            found = mam_id_from_comment(tf.comment, self.settings.base_url)
            if found is not None:
                return found
        if lists is None:
            return None
        names = {n.strip().lower() for n in (row.title, row.name) if n}
        matches = {
            t.id
            for bucket in lists.rows.values()
            for t in bucket.values()
            if t.size_bytes == row.total_size and t.title.strip().lower() in names
        }
        return matches.pop() if len(matches) == 1 else None

    def mam_id_for_file(self, tf: TorrentFile) -> int | None:
        return mam_id_from_comment(tf.comment, self.settings.base_url) if self.is_mam_torrent_file(tf) else None

    # ------------------------------------------------------------------ MAM's per-torrent truth

    def _read_lists(self, buckets: tuple[str, ...], *, want: set[int] | None = None) -> _MamLists:
        """MAM's lists, fresh. `unsat` is read as its first page only (MAM sends it whole; a row
        missed there can only make a decision stricter). With `want`, paging stops once every
        wanted id was seen, and later lists are skipped."""
        lists = _MamLists()
        missing = set(want or ())
        try:
            uid = self.user_info()[0].uid
            if uid <= 0:
                raise MamdlError("MAM's user details carry no uid")
            for bucket in buckets:
                if want is not None and not missing:
                    break
                rows = self.client.user_torrents(uid, bucket, until=_stop_after(bucket, missing if want else None))
                lists.rows[bucket] = {t.id: t for t in rows}
                missing -= set(lists.rows[bucket])
        except MamdlError as exc:
            lists.error = str(exc)
        return lists

    def may_stop(self, info_hash: str) -> StopDecision:
        """May this torrent stop seeding or be removed without becoming a hit-and-run? (fresh)"""
        return self.may_stop_many([info_hash])[info_hash]

    def may_stop_many(self, info_hashes: list[str]) -> dict[str, StopDecision]:
        """The decision point for several torrents at once (one fresh read of MAM's lists)."""
        rows = {r.info_hash: r for r in self.status()}
        out: dict[str, StopDecision] = {}
        mam_rows: list[TorrentStatus] = []
        for h in info_hashes:
            row = rows.get(h)
            if row is None:
                out[h] = StopDecision(h, False, f"no torrent {h} here", is_mam=False)
            elif not self.is_mam_torrent(row):
                out[h] = StopDecision(
                    h, True, "not a MAM torrent (its tracker is not MAM's); no hit-and-run rule applies.", is_mam=False
                )
            else:
                mam_rows.append(row)
        if not mam_rows:
            return out
        lists = self._read_lists(("unsat",))
        if lists.error is None:
            ids = [self._mam_id_of(r) for r in mam_rows if self._mam_id_of(r) not in lists.rows["unsat"]]
            if ids:
                # An id not known yet (added from a file) needs whole lists to be matched in.
                more = self._read_lists(SATISFIED_BUCKETS, want=None if None in ids else {i for i in ids if i})
                lists.rows.update(more.rows)
                lists.error = more.error
        for row in mam_rows:
            out[row.info_hash] = self._judge(row, lists)
        return out

    def _judge(self, row: TorrentStatus, lists: _MamLists) -> StopDecision:
        name = row.title or row.name
        h = row.info_hash
        unsat = lists.rows.get("unsat", {})
        mam_id = self._mam_id_of(row, lists if lists.error is None else None)
        if mam_id is None:
            return StopDecision(
                h,
                False,
                f"{name!r} is a MAM torrent but its MAM id is unknown (added from a file, and MAM's snatch "
                "lists do not identify it), so it counts as unsatisfied until MAM shows otherwise.",
                is_mam=True,
            )
        if mam_id in unsat:
            t = unsat[mam_id]
            togo = f"; MAM wants {_hours(t.seed_time_to_go)} more" if t.seed_time_to_go else ""
            return StopDecision(
                h,
                False,
                f"MAM counts {name!r} (id {mam_id}) as unsatisfied: seeded {_hours(t.seedtime)} by MAM's clock{togo}. "
                "Stopping now would make it a hit-and-run.",
                is_mam=True,
                mam_id=mam_id,
                mam_row=t,
            )
        if lists.error is not None:
            return StopDecision(
                h,
                False,
                f"MAM's per-torrent snatch list could not be read ({lists.error}), so nothing confirms "
                f"{name!r} is satisfied; refusing until MAM answers.",
                is_mam=True,
                mam_id=mam_id,
            )
        for bucket in SATISFIED_BUCKETS:
            t_sat = lists.rows.get(bucket, {}).get(mam_id)
            if t_sat is not None:
                self.cache.put(_sat_key(self.settings.base_url, mam_id), {"at": time.time()})
                return StopDecision(
                    h,
                    True,
                    f"MAM lists {name!r} (id {mam_id}) as satisfied (seeded {_hours(t_sat.seedtime)} by MAM's clock).",
                    is_mam=True,
                    mam_id=mam_id,
                    mam_row=t_sat,
                )
        return StopDecision(
            h,
            False,
            f"MAM does not list {name!r} (id {mam_id}) among your satisfied snatches (not announced yet, or a "
            "hit-and-run): keep it seeding.",
            is_mam=True,
            mam_id=mam_id,
        )

    # ------------------------------------------------------------------ goals

    def check_goal(self, goal: SeedGoal, *, is_mam: bool, force: bool) -> None:
        """A MAM torrent's time goal may not go below MAM's 72 h unless forced (MCP never forces)."""
        if is_mam and goal.seed_seconds < MAM_MIN_SEED_HOURS * 3600 and not force:
            raise GuardRefused(
                f"a seeding time of {goal.seed_seconds / 3600:g} h is below MAM's {MAM_MIN_SEED_HOURS:g} h: the torrent "
                "would stop before MAM counts it satisfied. Use at least 72 h (or --force on the command line)."
            )

    def goal_for(self, info_hash: str, goal: SeedGoal) -> SeedGoal:
        """Goals survive a re-add: the stored goal, raised to the requested one where that is higher."""
        from mamdl.engine import SeedGoal as Goal
        from mamdl.engine import read_goal

        stored = read_goal(self.settings.paths.state_dir, info_hash)
        if stored is None:
            return goal
        return Goal(ratio=max(stored.ratio, goal.ratio), seed_seconds=max(stored.seed_seconds, goal.seed_seconds))

    # ------------------------------------------------------------------ admission

    @contextmanager
    def admission(self) -> Iterator[None]:
        """The per-state-dir critical section for admissions and wedge decisions (across processes)."""
        path = Path(self.settings.paths.state_dir) / ADMISSION_LOCK
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _ledger_path(self) -> Path:
        return Path(self.settings.paths.state_dir) / ADMISSION_LEDGER

    def _ledger(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self._ledger_path().read_text())
        except (OSError, ValueError):
            return []
        return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []

    def _write_ledger(self, entries: list[dict[str, Any]]) -> None:
        atomic_write(self._ledger_path(), json.dumps(entries).encode(), mode=0o600)

    def preview_admission(self, *, tid: int | None, already_snatched: bool) -> Decision:
        """What `admit` would answer now, without recording anything (for a front's preview)."""
        try:
            with self.admission():
                adm = self.admit(
                    key=f"tid:{tid}", tid=tid, already_snatched=already_snatched, force=False, record=False
                )
            return Decision(True, adm.reason)
        except GuardRefused as exc:
            return Decision(False, str(exc))

    def admit(
        self, *, key: str, tid: int | None, already_snatched: bool, force: bool, record: bool = True
    ) -> Admission:
        """Call inside `admission()`: may one more download start? Records it when admitted
        (`record=False`: only answer)."""
        now = time.time()
        # MAM's unsatisfied list first, then its summary: an admission that starts announcing
        # between the two reads is then counted twice (safe), never zero times.
        lists = self._read_lists(("unsat",))
        unsat_ids: set[int] | None = set(lists.rows["unsat"]) if lists.error is None else None
        try:
            user = self.user_info(refresh=True)[0]
        except MamdlError as exc:
            if not force:
                raise GuardRefused(
                    f"MAM's account details could not be read ({exc}), so the unsatisfied limit cannot be "
                    "checked; refusing (use --force on the command line to override)."
                ) from None
            return Admission(True, f"Unsatisfied guard overridden (--force): MAM unreadable ({exc}).", forced=True)
        summary = user.snatch_summary
        ledger = [e for e in self._ledger() if now - float(e.get("at", 0)) < LEDGER_TTL_SECONDS]
        if unsat_ids is not None:
            # MAM counts these now: they are in its summary, so they stop being pending.
            ledger = [e for e in ledger if e.get("tid") not in unsat_ids]
        pending = [e for e in ledger if e.get("key") != key]
        repeat = any(e.get("key") == key for e in ledger) or (
            tid is not None and unsat_ids is not None and tid in unsat_ids
        )
        if summary is None or summary.unsat_limit <= 0:
            d = Decision(
                False,
                "MAM's answer had no snatch summary (unsatisfied count and limit), so the unsatisfied limit "
                "cannot be checked; refusing (use --force on the command line to override).",
            )
        else:
            d = unsatisfied_room(
                summary,
                pending=len(pending),
                reserve=self.settings.unsat_reserve,
                already_snatched=already_snatched or repeat,
            )
        if not d.allowed and not force:
            if record:
                self._write_ledger(ledger)
            raise GuardRefused(d.reason)
        if not record:
            return Admission(d.allowed, d.reason, user=user)
        if not repeat:
            ledger.append({"key": key, "tid": tid, "at": now})
        self._write_ledger(ledger)
        added = None if repeat else key
        if not d.allowed:
            return Admission(
                True, "Unsatisfied guard overridden (--force): " + d.reason, user=user, forced=True, key=added
            )
        return Admission(True, d.reason, user=user, key=added)

    def withdraw(self, admission: Admission | None) -> None:
        """The admitted download never started (the fetch or the add failed): it stops counting."""
        if admission is None or admission.key is None:
            return
        with self.admission():
            self._write_ledger([e for e in self._ledger() if e.get("key") != admission.key])

    # ------------------------------------------------------------------ tracker health

    def hit_and_run_risks(self) -> list[TorrentStatus]:
        """MAM torrents not known to be satisfied whose tracker keeps failing: MAM's clock is not
        running for them. For the supervisor to raise, and for `mam status` to show. Local only
        (no request to MAM)."""
        return [r for r in self.status() if r.hnr_risk]

    def _mark_risks(self, rows: list[TorrentStatus]) -> None:
        for r in rows:
            if r.tracker_failures < TRACKER_RISK_FAILURES or r.state in ("removed",):
                continue
            if not self.is_mam_torrent(r):
                continue
            mam_id = self._mam_id_of(r)
            if r.mam_satisfied or (
                mam_id is not None and self.cache.get(_sat_key(self.settings.base_url, mam_id), 10 * 365 * 86400)
            ):
                continue
            r.hnr_risk = True
            r.warnings.append(
                f"hit-and-run risk: the tracker failed {r.tracker_failures} announces in a row"
                + (f" ({r.tracker_error})" if r.tracker_error else "")
                + "; MAM's seeding clock is not running for this unsatisfied torrent."
            )


def _stop_after(bucket: str, need: set[int] | None) -> Callable[[list[UserTorrent]], bool] | None:
    """When to stop paging a list: `unsat` after its first page; others once `need` is covered."""
    if bucket == "unsat":
        return lambda rows: True
    if need is None:
        return None
    wanted = frozenset(need)
    return lambda rows: wanted <= {t.id for t in rows}


def _sat_key(base_url: str, mam_id: int) -> str:
    return f"satisfied:{base_url}:{mam_id}"


def _hours(seconds: int | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds / 3600:.1f} h" if seconds >= 360 else f"{seconds} s"
