"""Injectable misbehaviour, so clients can be tested against the ways MAM actually fails.

A fault is queued (from Python or `POST /_sandbox/faults`) and consumed by the next matching MAM
request(s). Kinds:

- `status`: answer `status` (e.g. 429 with `retry_after`, 503) `count` times;
- `slow`: wait `delay` seconds before answering normally;
- `malformed_json`: HTTP 200, content-type JSON, a truncated body;
- `login_page`: HTTP 200, an HTML login page where JSON was expected (a silently expired session);
- `disconnect`: close the connection without an answer;
- `drop_answer`: do the request's work (a bonus purchase is made and counted), then close the
  connection without an answer: what a client sees when the network fails after MAM acted;
- `answer`: reply with exactly `body`, `status` (default 200) and `content_type` (default JSON),
  e.g. a 401 "ip … does not match account", or a `checkCookie` whose `Success` is a sentence;
- `expire_after`: not queued here; the session dies after `n` more requests (see `cookies.py`).

`path` limits a fault to one endpoint (exact path, or a prefix ending in `/`); without it, a fault
hits the next request to any MAM endpoint (never the tracker or `/_sandbox/`). `count: -1` keeps
the fault until it is cleared. A fault with `path: "/announce"` hits the tracker (a dead or
erroring tracker: `status` 503 or `disconnect`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("status", "slow", "malformed_json", "login_page", "disconnect", "drop_answer", "answer", "expire_after")


class FaultError(ValueError):
    """A fault specification that makes no sense; the message says why."""


@dataclass
class Fault:
    kind: str
    count: int = 1
    path: str | None = None
    status: int = 503
    retry_after: float | str | None = None
    """Seconds, or the header's raw text (an HTTP-date, or garbage a broken proxy might send)."""
    delay: float = 0.0
    body: str | None = None
    n: int = 0
    content_type: str | None = None

    def matches(self, path: str) -> bool:
        if self.path is None:
            return True
        if self.path.endswith("/") and len(self.path) > 1:
            return path.startswith(self.path)
        return path == self.path or path.startswith(self.path + "/")

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _retry_after(value: Any) -> float | str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return "".join(c for c in value if c.isprintable())[:100]  # never a control character in a header
    return float(value)


def parse_fault(spec: dict[str, Any]) -> Fault:
    if not isinstance(spec, dict):
        raise FaultError('a fault must be a JSON object such as {"kind": "status", "status": 429}')
    kind = spec.get("kind")
    if kind not in KINDS:
        raise FaultError(f"unknown fault kind {kind!r}; one of: {', '.join(KINDS)}")
    known = {"kind", "count", "path", "status", "retry_after", "delay", "body", "n", "content_type"}
    unknown = set(spec) - known
    if unknown:
        raise FaultError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
    try:
        fault = Fault(
            kind=kind,
            count=int(spec.get("count", 1)),
            path=str(spec["path"]) if spec.get("path") else None,
            status=int(spec.get("status", 200 if kind == "answer" else 503)),
            retry_after=_retry_after(spec.get("retry_after")),
            delay=float(spec.get("delay", 0.0)),
            body=str(spec["body"]) if spec.get("body") is not None else None,
            n=int(spec.get("n", 0)),
            content_type=str(spec["content_type"]) if spec.get("content_type") else None,
        )
    except (TypeError, ValueError) as exc:
        raise FaultError(f"bad fault value: {exc}") from None
    if fault.count == 0 or fault.count < -1:
        raise FaultError("count must be a positive number of requests, or -1 for 'until cleared'")
    if kind == "answer" and fault.body is None:
        raise FaultError("an answer fault needs a body")
    if kind in ("status", "answer") and not 100 <= fault.status <= 599:
        raise FaultError("status must be an HTTP status code (100-599)")
    if kind == "slow" and fault.delay <= 0:
        raise FaultError("a slow fault needs a positive delay (seconds)")
    if kind == "expire_after" and fault.n < 0:
        raise FaultError("expire_after needs n >= 0 (requests that still succeed)")
    return fault


class FaultBook:
    """Queued faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, path: str, *, exact: bool = False) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if (not exact or fault.path is not None) and fault.matches(path):
                    if fault.count > 0:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def take_exact(self, path: str) -> Fault | None:
        """Only a fault aimed at `path` itself (the tracker: a site-wide fault never hits it)."""
        return self.take(path, exact=True)

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
