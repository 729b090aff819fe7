"""The `mam_id` session cookie: validity, rotation with a grace period, and forced expiry.

MAM sometimes answers with `Set-Cookie: mam_id=<new>`, and reports disagree on whether the old
value keeps working. The sandbox makes both readings testable: every `rotate_every`-th
authenticated response carries a new value, and the old one stays valid for `grace` seconds
(`grace=0`: single-use, the strict reading). A client that does not persist the rotated cookie
fails here within `grace` seconds instead of weeks later on the real site.

`expire_after(n)` makes the session die after n more authenticated requests (as when MAM revokes a
session); `new_session()` is the user creating a fresh mam_id under Preferences -> Security.
Cookie values are secrets: nothing here logs them.
"""

from __future__ import annotations

import secrets
import threading
import time


def new_cookie_value() -> str:
    """A value shaped like MAM's (long, URL-safe)."""
    return secrets.token_urlsafe(96)


class SessionCookies:
    def __init__(self, initial: str | None = None, *, rotate_every: int = 5, grace: float = 60.0) -> None:
        self._lock = threading.Lock()
        self.rotate_every = rotate_every
        self.grace = grace
        self._initial = initial or new_cookie_value()
        self.current = self._initial
        self.issued: list[str] = [self._initial]
        """Every value this session has handed out, in order (leak tests look for all of them)."""
        self._old: dict[str, float] = {}
        self._count = 0
        self._expire_in: int | None = None
        self.revoked = False
        self.rotations = 0

    def is_valid(self, value: str | None, now: float | None = None) -> bool:
        if not value:
            return False
        now = time.time() if now is None else now
        with self._lock:
            if self.revoked:
                return False
            if secrets.compare_digest(value, self.current):
                return True
            until = self._old.get(value)
            return until is not None and now < until

    def after_authenticated(self, now: float | None = None) -> str | None:
        """Count one authenticated response; returns the new value when this response must rotate it."""
        now = time.time() if now is None else now
        with self._lock:
            self._count += 1
            if self._expire_in is not None:
                self._expire_in -= 1
                if self._expire_in <= 0:
                    self.revoked = True
                    self._expire_in = None
            if self.rotate_every > 0 and self._count % self.rotate_every == 0 and not self.revoked:
                return self._rotate_locked(now)
        return None

    def rotate(self, now: float | None = None) -> str:
        with self._lock:
            return self._rotate_locked(time.time() if now is None else now)

    def _rotate_locked(self, now: float) -> str:
        self._old = {v: t for v, t in self._old.items() if t > now}
        if self.grace > 0:
            self._old[self.current] = now + self.grace
        self.current = new_cookie_value()
        self.issued.append(self.current)
        self.rotations += 1
        return self.current

    def expire_after(self, n: int) -> None:
        """The session stops working after `n` more authenticated requests (0: at once)."""
        with self._lock:
            if n <= 0:
                self.revoked = True
            else:
                self._expire_in = n

    def new_session(self, value: str | None = None) -> str:
        """A fresh mam_id; every older value stops working."""
        with self._lock:
            self.current = value or new_cookie_value()
            self.issued.append(self.current)
            self._old.clear()
            self._count = 0
            self._expire_in = None
            self.revoked = False
            return self.current

    def reset(self) -> None:
        """Back to a working session; the current value (and the very first one) stay valid."""
        with self._lock:
            self._old = {self._initial: float("inf")} if self._initial != self.current else {}
            self._count = 0
            self._expire_in = None
            self.revoked = False
