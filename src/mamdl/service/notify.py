"""Notifications through Apprise (one library, ~100 services: ntfy, Discord, e-mail, JSON webhook…).

Each event has a key (`session_dead`, `finished:<hash>`, …) and is sent once: the keys already
sent are kept in the state dir's cache, so a restart or the next supervisor pass does not send
it again. Titles and bodies go through `redact()`, and the URLs themselves (they carry tokens)
are registered as secrets, so neither the cookie, a passkey nor a notifier token leaves in a body
or a log line.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Literal, Protocol

from mamdl.redact import redact, register_secret

log = logging.getLogger(__name__)

Kind = Literal["info", "success", "warning", "failure"]
_FOREVER = 100 * 365 * 86400


class SentStore(Protocol):
    def get(self, key: str, ttl: float) -> tuple[Any, float] | None: ...
    def put(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> None: ...


class Notifier:
    """Send each keyed event once to every configured Apprise URL."""

    def __init__(self, urls: list[str], sent: SentStore, *, scope: str = "") -> None:
        self.urls = [u for u in urls if u.strip()]
        self._sent = sent
        self._scope = scope
        self._lock = threading.Lock()
        self._apprise: Any = None
        for u in self.urls:
            register_secret(u)
        if self.urls:
            import apprise

            self._apprise = apprise.Apprise()
            for u in self.urls:
                if not self._apprise.add(u):
                    log.warning("ignoring a notification URL Apprise does not understand: %s", redact(u))

    @property
    def enabled(self) -> bool:
        return self._apprise is not None and len(self._apprise) > 0

    def already_sent(self, key: str) -> bool:
        return self._sent.get(self._key(key), _FOREVER) is not None

    def notify(self, key: str, title: str, body: str, *, kind: Kind = "info") -> bool:
        """Send unless `key` was sent before; True when it was sent now."""
        with self._lock:
            if self.already_sent(key):
                return False
            if not self.enabled:
                self._sent.put(self._key(key), {"at": time.time(), "sent": False})
                return False
            import apprise

            ok = bool(
                self._apprise.notify(
                    title=redact(title)[:250],
                    body=redact(body)[:2000],
                    notify_type=getattr(apprise.NotifyType, kind.upper()),
                )
            )
            if ok:
                self._sent.put(self._key(key), {"at": time.time(), "sent": True})
                log.info("notified: %s", redact(title))
            else:
                log.warning("a notification could not be delivered (%s); will retry", redact(title))
            return ok

    def forget(self, key: str) -> None:
        """Let an event be sent again (e.g. the session came back, so a later death is news)."""
        self._sent.delete(self._key(key))

    def _key(self, key: str) -> str:
        return f"notified:{self._scope}:{key}"
