"""Engine-side bookkeeping per torrent: the plain fields kept from libtorrent's status, and
the messages made from libtorrent's disk errors. Nothing here leaves the engine package."""

from __future__ import annotations

import errno
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import libtorrent as lt

from mamdl.engine.models import LT_FINISHED, LT_SEEDING
from mamdl.engine.store import TorrentRecord


@dataclass
class LiveStatus:
    """The plain fields we keep from a libtorrent torrent_status."""

    lt_state: int = 0
    paused: bool = True
    auto_managed: bool = False
    upload_mode: bool = False
    lt_error: str | None = None
    progress: float = 0.0
    download_rate: int = 0
    upload_rate: int = 0
    peers: int = 0
    seeds: int = 0
    total_wanted: int = 0
    total_wanted_done: int = 0
    all_time_download: int = 0
    all_time_upload: int = 0
    session_download: int = 0
    session_upload: int = 0
    seeding_seconds: int = 0
    save_path: str = ""
    observed_at: float = field(default_factory=time.monotonic)
    """When this status was read. libtorrent only re-posts the status of torrents that changed, so
    an idle seed's `seeding_seconds` is extrapolated from here (see `seeding_seconds_now`)."""

    @property
    def seeding_now(self) -> bool:
        return not self.paused and self.lt_state in (LT_SEEDING, LT_FINISHED) and self.lt_error is None

    def seeding_seconds_now(self) -> int:
        """libtorrent's seeding clock runs while the torrent seeds and is not paused."""
        if self.seeding_now:
            return self.seeding_seconds + int(time.monotonic() - self.observed_at)
        return self.seeding_seconds


@dataclass
class TorrentEntry:
    """Engine-side bookkeeping for one torrent in the session."""

    rec: TorrentRecord
    handle: Any  # lt.torrent_handle
    private: bool
    live: LiveStatus = field(default_factory=LiveStatus)
    base_uploaded: int = 0
    base_downloaded: int = 0
    base_seeding: int = 0
    """Totals restored at start-up (libtorrent's status lags them by up to a second)."""
    tracker_error: str | None = None
    has_tracker: bool = False
    tracker_ok: bool | None = None
    tracker_message: str | None = None
    tracker_at: float | None = None
    tracker_failures: int = 0
    seeding_credit: float = 0.0
    """Seconds of seeding that count: only while the torrent seeds *and* its tracker accepts
    announces (MAM's clock does not run while it cannot see us). A torrent without a tracker
    counts all its seeding."""
    removing: threading.Event | None = None
    deleting: bool = False
    delete_error: str | None = None

    @property
    def info_hash(self) -> str:
        return self.rec.info_hash

    @property
    def downloading(self) -> bool:
        """Not finished yet and not paused (a queued torrent counts as paused)."""
        return self.rec.finished_at is None and not self.live.paused


def status_to_live(st: Any) -> LiveStatus:
    flags = int(st.flags)
    err = None
    if st.errc.value() != 0:
        err = st.errc.message()
        if st.error_file >= 0:
            err = f"{err} (file #{st.error_file})"
    return LiveStatus(
        lt_state=int(st.state),
        paused=bool(flags & int(lt.torrent_flags.paused)),
        auto_managed=bool(flags & int(lt.torrent_flags.auto_managed)),
        upload_mode=bool(flags & int(lt.torrent_flags.upload_mode)),
        lt_error=err,
        progress=float(st.progress),
        download_rate=int(st.download_payload_rate),
        upload_rate=int(st.upload_payload_rate),
        peers=int(st.num_peers),
        seeds=int(st.num_seeds),
        total_wanted=int(st.total_wanted),
        total_wanted_done=int(st.total_wanted_done),
        all_time_download=int(st.all_time_download),
        all_time_upload=int(st.all_time_upload),
        session_download=int(st.total_payload_download),
        session_upload=int(st.total_payload_upload),
        seeding_seconds=int(st.seeding_duration.total_seconds()),
        save_path=str(st.save_path),
    )


def disk_error_message(exc_value: int, text: str, path: str, save_path: str) -> str:
    if exc_value == errno.ENOSPC:
        return f"disk full: no space left on the device holding {save_path}; free some space, then resume"
    if exc_value == errno.EDQUOT:
        return f"disk quota exceeded for {save_path}; free some space or raise the quota, then resume"
    if exc_value in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {path or save_path}: {text}; fix the folder's permissions, then resume"
    return f"disk error on {path or save_path}: {text}"
