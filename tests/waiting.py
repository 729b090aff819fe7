"""Wait on a condition, not on the clock: a busy 2-core CI machine misses sub-second margins."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.05, what: str = "") -> T:
    """Call `check` until it returns something truthy (returned), or fail after `timeout` seconds
    with the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what or check}: {value!r}"
        time.sleep(interval)
