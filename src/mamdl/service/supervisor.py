"""The supervisor: what keeps an account safe while nobody is watching.

It runs inside the process that owns the backend (`mam serve`; a `--foreground` run), on its own
thread, one `tick()` every `policy_interval` seconds:

- **seeding policy** for every torrent whoever added it: `Service.stop_satisfied()` stops a
  torrent only when its goals are met *and* MAM agrees (the service's one decision function);
- **session keepalive** at least every `keepalive_seconds` and before scheduled work, telling a
  dead cookie from a session locked to another IP/ASN;
- **snatch-summary refresh** every `snatch_schedule_seconds` (through the client's 1 request/s
  gate and the cache);
- **hit-and-run risk**: an unsatisfied torrent that is paused, errored, stalled with no peers, or
  whose remaining seeding time no longer fits MAM's 30-day window;
- the **dynamic-seedbox IP** update, opt-in (`seedbox_auto`), at most hourly;
- the **bonus-point automation**, opt-in (`bonus_auto_*`, see `service/bonus.py`), on the account
  just refreshed, so it adds no request of its own unless it buys; every purchase is notified;
- **notifications** (Apprise, each event once) and the **download-completed hook** other parts
  plug into (`add_completion_hook`).

`tick()` is plain and synchronous so tests can call it directly with a fake clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from mamdl.errors import MamdlError, SessionExpired, SessionLocked
from mamdl.service.notify import Notifier

if TYPE_CHECKING:
    from mamdl.service.core import Service
    from mamdl.service.models import TorrentStatus

log = logging.getLogger(__name__)

MAM_WINDOW_SECONDS = 30 * 86400
"""MAM counts a hit-and-run when a snatch is not seeded its 72 h within 30 days."""

RETRY_SECONDS = 600.0
"""After a failed account check, the next one waits this long (or the schedule, if shorter)."""

CompletionHook = Callable[["TorrentStatus"], None]


def classify_session_error(exc: Exception) -> str:
    """'ip_lock' when MAM says the session does not cover this IP/ASN, else 'dead'."""
    if isinstance(exc, SessionLocked):
        return "ip_lock"
    text = str(exc).lower()
    return "ip_lock" if ("does not match" in text or " asn " in text) else "dead"


class Supervisor:
    """Background duties of the backend's owner. Start with `start()`, stop with `stop()`."""

    def __init__(self, svc: Service, *, notifier: Notifier | None = None, clock: Callable[[], float] = time.time):
        self.svc = svc
        s = svc.settings
        self.notifier = notifier or Notifier(s.notify_urls, svc.cache, scope=s.base_url)
        svc.notify = self._bonus_notice  # every bonus purchase (or lost answer) is notified
        self.clock = clock
        self._hooks: list[CompletionHook] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_snatch = 0.0
        self._last_session_ok = 0.0
        self._no_peers_since: dict[str, float] = {}
        self.session_state = "unknown"
        """'ok', 'dead', 'ip_lock' or 'unknown' (shown by /api/health and `mam service status`)."""
        self.risks: dict[str, str] = {}
        """info-hash -> why it is at risk of becoming a hit-and-run (latest pass)."""
        self.decisions: dict[str, str] = {}
        self.ticks = 0

    # ------------------------------------------------------------------ life cycle

    def add_completion_hook(self, hook: CompletionHook) -> None:
        """Call `hook(status)` once per torrent when its download completes (verified)."""
        self._hooks.append(hook)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mamdl-supervisor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("supervisor pass failed")
            self._stop.wait(self.svc.settings.policy_interval)

    # ------------------------------------------------------------------ one pass

    def tick(self) -> None:
        now = self.clock()
        self.ticks += 1
        statuses = self.svc.status()
        self._completions(statuses)
        self._disk_full(statuses)
        scheduled = now >= self._next_snatch
        has_mam = any(s.mam_id is not None for s in statuses)
        refreshed = scheduled and self._refresh_account(now)
        if scheduled:
            # A failed check is tried again sooner, but not every pass: MAM may be down.
            wait = min(self.svc.settings.snatch_schedule_seconds, self.svc.settings.keepalive_seconds)
            self._next_snatch = now + (wait if refreshed else min(wait, RETRY_SECONDS))
        if self.session_state == "ok" and has_mam:
            try:
                for h, why in self.svc.stop_satisfied():
                    self.decisions[h] = why
            except MamdlError as exc:
                log.warning("seeding policy skipped this pass: %s", exc)
        self._hit_and_run_risks(self.svc.status() if has_mam else statuses, now)
        if self.svc.settings.seedbox_auto and self.session_state != "dead":
            self._seedbox()
        if refreshed:
            self._bonus()

    def _refresh_account(self, now: float) -> bool:
        """Keepalive and snatch refresh in one request (`user` with the snatch summary)."""
        try:
            user = self.svc.user_info(refresh=True)[0]
        except (SessionExpired, SessionLocked) as exc:
            kind = classify_session_error(exc)
            self.session_state = kind
            if kind == "ip_lock":
                self.notifier.notify(
                    "session_ip_lock",
                    "mamdl: MAM session locked to another IP/ASN",
                    "MAM refuses this session from this address: the session is locked to another IP or "
                    "ASN. Allow this IP/ASN for the session on MAM (or enable seedbox_auto for a "
                    "dynamic-seedbox session). Seeding continues; nothing is stopped meanwhile.",
                    kind="failure",
                )
            else:
                self.notifier.notify(
                    "session_dead",
                    "mamdl: MAM session dead",
                    "MAM no longer accepts mamdl's session cookie (expired or revoked). Create a new "
                    "mam_id on MAM (Preferences -> Security) and run `mam config init`. Seeding "
                    "continues; nothing is stopped until MAM can be asked again.",
                    kind="failure",
                )
            return False
        except MamdlError as exc:
            log.warning("account refresh failed: %s", exc)
            return False
        if self.session_state in ("dead", "ip_lock"):
            self.notifier.forget("session_dead")
            self.notifier.forget("session_ip_lock")
        self.session_state = "ok"
        self._last_session_ok = now
        s = user.snatch_summary
        if s is not None and s.unsat_limit:
            near = s.unsatisfied >= s.unsat_limit - self.svc.settings.unsat_reserve
            if near:
                self.notifier.notify(
                    f"unsat_near:{s.unsatisfied}",
                    "mamdl: unsatisfied count near the limit",
                    f"MAM counts {s.unsatisfied} unsatisfied torrents of a limit of {s.unsat_limit}; "
                    "new downloads are refused until some are seeded to 72 h.",
                    kind="warning",
                )
        return True

    def _completions(self, statuses: list[TorrentStatus]) -> None:
        """Each verified download once (kept across restarts): hooks, then the notification."""
        cache = self.svc.cache
        for s in statuses:
            if s.progress < 1.0 or s.state not in ("seeding", "finished"):
                continue
            key = f"completed:{self.svc.settings.base_url}:{s.info_hash}"
            if cache.get(key, 100 * 365 * 86400) is None:
                cache.put(key, {"at": time.time()})
                for hook in self._hooks:
                    try:
                        hook(s)
                    except Exception:
                        log.exception("download-completed hook failed for %s", s.info_hash)
            name = s.title or s.name
            self.notifier.notify(
                f"finished:{s.info_hash}",
                f"mamdl: downloaded {name}",
                f"{name} is complete and verified in {s.save_path}.",
                kind="success",
            )

    def _disk_full(self, statuses: list[TorrentStatus]) -> None:
        for s in statuses:
            if s.state == "error" and s.error and "disk full" in s.error.lower():
                self.notifier.notify(
                    f"disk_full:{s.info_hash}",
                    "mamdl: disk full",
                    f"{s.title or s.name}: {s.error}",
                    kind="failure",
                )

    def _hit_and_run_risks(self, statuses: list[TorrentStatus], now: float) -> None:
        risks: dict[str, str] = {}
        stall = self.svc.settings.stall_seconds
        for s in statuses:
            if (
                s.mam_id is None
                or (s.seeding_seconds >= s.seed_seconds_goal and s.progress >= 1.0)
                or s.state == "finished"
            ):
                self._no_peers_since.pop(s.info_hash, None)
                continue
            why = None
            if s.hnr_risk:  # the decision point's view: its tracker keeps failing (service/safety.py)
                why = f"its tracker failed {s.tracker_failures} announces in a row, so MAM's clock is not running"
            elif s.state == "paused":
                why = "paused before MAM's seeding time was reached"
            elif s.state == "error":
                why = f"stopped by an error: {s.error}"
            else:
                if s.peers == 0:
                    since = self._no_peers_since.setdefault(s.info_hash, now)
                    if now - since >= stall:
                        why = f"no connectable peers for {int((now - since) // 60)} min"
                else:
                    self._no_peers_since.pop(s.info_hash, None)
            if why is None and s.added_at:
                left = max(s.seed_seconds_goal - s.seeding_seconds, 0)
                window_left = s.added_at + MAM_WINDOW_SECONDS - now
                if left > window_left:
                    why = (
                        f"needs {left / 3600:.1f} h more seeding but only {max(window_left, 0) / 3600:.1f} h "
                        "remain of MAM's 30-day window"
                    )
            if why is not None:
                risks[s.info_hash] = why
                self.notifier.notify(
                    f"hnr_risk:{s.info_hash}:{why.split(':')[0].split(' ')[0]}",
                    f"mamdl: hit-and-run risk: {s.title or s.name}",
                    f"{s.title or s.name} ({s.info_hash[:8]}) is unsatisfied and {why}. "
                    f"`mam resume {s.info_hash[:8]}` or check `mam status`.",
                    kind="warning",
                )
        self.risks = risks

    def _bonus(self) -> None:
        """Opt-in bonus automation on the account `_refresh_account` just read (off by default;
        daily cap and reserve enforced by the service)."""
        from mamdl.service.bonus import tick as bonus_tick

        try:
            bonus_tick(self.svc, refresh=False)  # real time: the purchase log's clock, not `self.clock`
        except MamdlError as exc:  # an uncertain purchase: already logged, recorded and notified
            log.warning("bonus automation: %s", exc)

    def _bonus_notice(self, message: str) -> None:
        self.notifier.notify(f"bonus:{time.time():.6f}", "mamdl: bonus points", message, kind="info")

    def _seedbox(self) -> None:
        try:
            out = self.svc.seedbox_update()
            if out.called:
                log.info("dynamic seedbox IP: %s", out.msg)
        except MamdlError as exc:
            log.warning("dynamic seedbox IP update failed: %s", exc)
