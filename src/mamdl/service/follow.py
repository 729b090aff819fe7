"""Following a download and the seeding loop: orchestration every front shares.

The fronts only render: they pass a callback that receives each fresh status (a progress bar in
the CLI, lines in the demo). Where the policy runs depends on who owns the backend: in the
service's supervisor normally; in this loop only for a self-contained `--foreground` run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from mamdl.errors import EngineTimeout
from mamdl.service.models import TorrentStatus


class Service(Protocol):
    """What following and seeding need from `mamdl.service.Service` (a Protocol, so the service's
    own halves can use these loops without an import cycle)."""

    def status(self, info_hash: str | None = None, *, with_mam: bool = False) -> list[TorrentStatus]: ...

    def wait_status(self, info_hash: str, timeout: float) -> TorrentStatus: ...

    @property
    def owns_engine(self) -> bool: ...

    def stop_satisfied(self) -> list[tuple[str, str]]: ...


ACTIVE = {"queued", "checking", "downloading"}


def download_done(status: TorrentStatus) -> bool:
    return status.state == "error" or (status.progress >= 1.0 and status.state in ("seeding", "finished"))


def follow_download(
    svc: Service,
    info_hash: str,
    on_update: Callable[[TorrentStatus], None] | None = None,
    *,
    poll: float = 0.25,
    timeout: float | None = None,
) -> TorrentStatus:
    """Wait until the torrent is complete and verified (or stopped by an error); returns its last
    status. `on_update` sees every status read on the way.

    Each read waits in the backend's owner until the download is done or `poll` s pass
    (`Service.wait_status`): completion is seen the moment the engine reports it, and `poll`
    only sets how often a progress bar moves."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic()))
        status = svc.wait_status(info_hash, step)
        if on_update is not None:
            on_update(status)
        if download_done(status):
            return status
        if deadline is not None and time.monotonic() > deadline:
            raise EngineTimeout(f"{status.name!r} is still {status.state} at {status.progress:.0%}")


def seed_loop(
    svc: Service,
    on_tick: Callable[[list[TorrentStatus], dict[str, str]], None] | None = None,
    *,
    only: list[str] | None = None,
    forever: bool = False,
    interval: float = 1.0,
) -> list[TorrentStatus]:
    """Until nothing is left seeding toward a goal (or forever): refresh the statuses, and when this
    process owns the backend, stop each torrent whose goals are met and MAM agrees. Returns the
    last statuses."""
    last_policy = 0.0
    decisions: dict[str, str] = {}
    while True:
        now = time.monotonic()
        if svc.owns_engine and now - last_policy >= max(interval, 2.0):
            for h, why in svc.stop_satisfied():
                decisions[h] = why
            last_policy = now
        rows = svc.status()
        if only:
            rows = [r for r in rows if r.info_hash in only]
        if on_tick is not None:
            on_tick(rows, decisions)
        if not forever and not any(r.state in ACTIVE | {"seeding"} for r in rows):
            return rows
        time.sleep(interval)
