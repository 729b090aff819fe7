"""The engine's configuration as plain data, and its translation into libtorrent settings.

`EngineConfig` is what the rest of mamdl sees; `session_settings()` is the one place that knows
libtorrent's setting names. Defaults suit a private tracker: no DHT, no local peer discovery, no
port mapping, SSRF mitigation on, honest identification (libtorrent's own `-LT` peer-id and a user
agent naming mamdl and libtorrent).
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mamdl import __version__
from mamdl.config import DEFAULT_LISTEN_INTERFACES

if TYPE_CHECKING:
    import libtorrent as lt

DiskIO = Literal["pread", "posix", "mmap"]

DISK_IO_CONSTRUCTORS: dict[str, str] = {
    "pread": "pread_disk_io_constructor",
    "posix": "posix_disk_io_constructor",
    "mmap": "mmap_disk_io_constructor",
}
"""Our names → libtorrent's. libtorrent silently falls back to its default on a misspelled name,
so the choice is validated here against this table instead."""


def _lt_version() -> str:
    """libtorrent's version without importing it (keeps `mam status` and config loading cheap)."""
    try:
        return metadata.version("libtorrent")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source build without metadata
        import libtorrent

        return str(libtorrent.__version__)


LT_VERSION = _lt_version()


def usable_cpus() -> int:
    """CPUs this process may run on (a taskset or cpuset limits it), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def default_alert_mask() -> int:
    import libtorrent as lt

    c = lt.alert.category_t
    return int(
        c.error_notification
        | c.status_notification
        | c.storage_notification
        | c.tracker_notification
        | c.performance_warning
        | c.peer_notification
        # DHT is never started; subscribing anyway means that if it ever were, the engine would see it.
        | c.dht_notification
    )


def default_user_agent() -> str:
    return f"mamdl/{__version__} libtorrent/{LT_VERSION}"


def default_fingerprint() -> str:
    """libtorrent's own peer-id prefix, e.g. `-LT2110-` (same encoding as lt.generate_fingerprint):
    we identify as what we are."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    parts = []
    for p in (LT_VERSION.split(".") + ["0"] * 4)[:4]:
        n = int(p) if p.isdigit() else 0
        parts.append(digits[n] if n < len(digits) else "0")
    return f"-LT{''.join(parts)}-"


class EngineConfig(BaseModel):
    """Everything configurable about the engine. Rates are bytes per second, 0 = unlimited."""

    model_config = ConfigDict(extra="forbid")

    listen_interfaces: str = DEFAULT_LISTEN_INTERFACES
    """libtorrent's `listen_interfaces` string (`127.0.0.1:0` in tests); the same default as mamdl's
    `listen_interfaces` setting, so the engine a library user builds is the one `mam` runs."""
    enable_dht: bool = False
    enable_lsd: bool = False
    enable_upnp: bool = False
    enable_natpmp: bool = False
    enable_utp: bool = True
    """uTP is fine on real swarms, pathologically slow on loopback: turn it off there."""
    enable_tcp: bool = True
    allow_multiple_connections_per_ip: bool = False
    """Needed on loopback (every peer is 127.0.0.1), and harmless behind a shared NAT."""
    user_agent: str = Field(default_factory=default_user_agent)
    peer_fingerprint: str = Field(default_factory=default_fingerprint)
    connections_limit: int = Field(200, ge=2)
    min_announce_interval: int = Field(300, ge=1)
    """libtorrent's floor under the tracker's interval; the sandbox's short intervals need it low."""
    tracker_backoff: int = Field(250, ge=0)
    """How fast libtorrent backs off retrying a failing tracker (percent); 0 retries every ~5 s."""
    download_rate_limit: int = Field(0, ge=0)
    """Bytes/s for all torrents together, every peer counted (LAN ones too); 0 = unlimited."""
    upload_rate_limit: int = Field(0, ge=0)
    max_active_downloads: int = Field(3, ge=-1)
    """Downloads beyond this wait QUEUED. Seeds are never queued (a stopped seed risks a hit-and-run)."""
    disk_io: DiskIO = "pread"
    """pread, measured by `./dev bench` (loopback, 2 cores). Unloaded, 1 GiB: 1,178 MiB/s single
    file and 1,148 multi-file with 2 hashing threads, against posix's 667 and 562. On a machine
    busy with other work (tuning table, 2 rounds, 1 GiB): 296 against 170 single, 352 against 196
    on 24 files, peak RSS 130 MiB against 111 (anonymous 97 against 78). Its disk-full recovery
    passes (tests/engine/test_faults.py: `resume()` of an errored torrent re-adds it).

    It was held back because the kill -9 test (tests/engine/test_crash.py) downloaded more again
    after the restart than its bound allows, 1 run in 12. That was not pread's doing: pread writes
    blocks as promptly as posix (resume data saved with `flush_disk_cache` covered everything on
    disk right after each save, with either backend). What went over was the data written since
    the last save, which the throttled test seeder delivers in ~512 KiB bursts (two, sometimes
    three, in one 1 s interval), plus a few blocks fetched twice in the end game from the old
    seeder the resume data reconnects to. A restart after a crash now finds the pieces written
    after the last save by their hashes (mamdl.engine.recover): over 30 runs "downloaded twice" is
    at most 224 KiB against the allowed 1,152 KiB (before: up to 1,104 KiB with pread, 912 KiB
    with posix). mmap's RSS grows with the file size."""
    hashing_threads: int = Field(default_factory=lambda: max(1, min(usable_cpus() - 1, 4)), ge=1, le=16)
    """One hashing thread per usable CPU but one (which the network thread needs: it receives and
    copies every block), from 1 to 4. An earlier measurement (512 MiB, 2 busy cores, libtorrent's
    100 MiB store buffer) had 2 threads ahead (406 against 293 MiB/s, the buffer filling while one
    hasher lagged). With the 16 MiB store buffer and the 3 MiB socket receive buffer, one thread is
    ahead on 2 cores in every comparison made (1 GiB; the loopback seeder shares the cores): 1.05x
    and 1.05x in two full `./dev bench` tuning tables (5 rounds each), and 5 rounds each on
    2026-12-01: 499 against 480 MiB/s on one file, 535 against 490 on the 120-file audiobook, CPU
    per GiB 2.66 against 2.73, peak RSS alike. A second hasher on 2 cores only adds switching."""
    aio_threads: int = Field(4, ge=1, le=64)
    """Disk I/O threads (libtorrent's default: 10). Fewer threads mean less switching on a small
    machine, and pread's writes to the page cache are quick: 4 was ahead of 10 in every comparison
    made (1 GiB, 2 cores shared with the loopback seeder): 1.07x, 1.01x and 1.13x in three full
    `./dev bench` tuning tables, and 5 rounds each on 2026-12-01: 569 against 549 MiB/s on one
    file, 643 against 606 on the 120-file audiobook, CPU per GiB 2.32 against 2.45 and 2.04
    against 2.12. Still several, so a slow disk serving many seeds keeps requests in flight."""
    max_queued_disk_bytes: int = Field(16 * 2**20, ge=2**20)
    """Bytes of received blocks libtorrent may hold in memory before they are written (pread's
    store buffer); past it, peers are asked to slow down. libtorrent's default is 100 MiB. On an
    unloaded 2-core machine (`./dev bench` tuning, 1 GiB, 5 rounds) it sets the peak: 16, 32 and
    100 MiB gave peak RSS 107, 125 and 144 MiB (anonymous 72, 92, 110) at 539, 574 and 536 MiB/s,
    all inside one another's min–max. 16 MiB keeps the engine under 128 MiB and bounds what a crash
    loses; an internet download (tens of MB/s) never fills it. (On a machine busy with other work
    the hasher lags and the cap mattered less: 132, 130, 129 MiB.)"""
    socket_recv_buffer: int = Field(3 * 2**20, ge=0)
    """SO_RCVBUF for peer connections, in bytes (the kernel doubles it); 0 leaves the kernel's
    autotuning. Why: whenever a read fills a peer's receive buffer, libtorrent drains everything the
    socket holds into one buffer of that size (`peer_connection::on_receive_data`), so the engine's
    memory follows the kernel's socket buffer, not `max_peer_recv_buffer_size`. Linux autotunes that
    buffer up to `net.ipv4.tcp_rmem`'s maximum: 6 MiB as shipped, but tuned hosts raise it (this
    bench VM: 32 MiB), and a fast loopback or LAN peer fills it. Measured on 1 GiB from one loopback
    peer (`./dev bench` machine, 4 rounds): peak anonymous RSS 71-86 MiB with autotuning (single
    reads of up to 21 MiB), 46-49 with 1 MiB, 50-56 with 2 MiB, 64-78 with 4 MiB, at the same speed.
    3 MiB gives a 6 MiB buffer: the ceiling a stock kernel's autotuning reaches anyway, so a distant
    peer gets the same TCP window as without the cap. Applied only where `net.core.rmem_max` allows
    the full value (see `effective_recv_buffer`): below it the kernel would clamp the buffer under
    what autotuning gives and slow distant peers."""
    malloc_arena_max: int | None = None
    """Caps glibc's malloc arenas for this process (`mallopt(M_ARENA_MAX)`, set before libtorrent's
    threads start; ignored where there is no glibc). Each libtorrent thread (network, disk, hashers)
    otherwise allocates from an arena of its own, and blocks freed in one arena are not reused by
    the others, so peak RSS grows with the thread count rather than with the data in flight.
    None keeps glibc's default (8 per CPU): measured on 1 GiB (pread, 2 cores, 3 rounds each,
    single and 24-file), peak RSS was 118–133 MiB by default, 96–125 with 1 arena and 114–127 with
    2, speed within the rounds' spread; the full `./dev bench` of 2026-12-01 (5 rounds, 32 MiB store
    buffer) gave 125 MiB by default, 123 with 1 arena, 121 with 2. Not enough to change the default
    (the store buffer is what sets the peak, see `max_queued_disk_bytes`)."""
    alert_mask: int | None = None
    """libtorrent alert categories; None = errors, status, storage, tracker, peer, performance and DHT."""
    resume_save_interval: float = Field(30.0, gt=0)
    """Seconds between periodic resume-data saves: bounds what a crash can make us download twice."""
    status_interval: float = Field(0.5, gt=0)
    """Seconds between `post_torrent_updates` calls (status refresh)."""
    store_interval: float = Field(1.0, gt=0)
    """Seconds between snapshot writes to the state database, for other processes to read."""
    close_timeout: float = Field(15.0, gt=0)
    """How long `close()` waits for the last resume data before giving up."""

    @field_validator("peer_fingerprint")
    @classmethod
    def _fingerprint_shape(cls, v: str) -> str:
        if not (1 <= len(v) <= 20):
            raise ValueError("peer_fingerprint must be 1 to 20 characters")
        return v

    @classmethod
    def loopback(cls, **overrides: Any) -> EngineConfig:
        """Settings for a swarm on 127.0.0.1 (tests, the sandbox): TCP only, any port, many peers per IP."""
        base: dict[str, Any] = {
            "listen_interfaces": "127.0.0.1:0",
            "enable_utp": False,
            "allow_multiple_connections_per_ip": True,
            "min_announce_interval": 1,
            "tracker_backoff": 0,
        }
        base.update(overrides)
        return cls(**base)

    def disk_io_constructor(self) -> str:
        return DISK_IO_CONSTRUCTORS[self.disk_io]


def session_settings(config: EngineConfig) -> dict[str, Any]:
    """libtorrent settings (a plain dict for `session_params` / `apply_settings`) from the config."""
    return {
        "listen_interfaces": config.listen_interfaces,
        "enable_dht": config.enable_dht,
        "enable_lsd": config.enable_lsd,
        "enable_upnp": config.enable_upnp,
        "enable_natpmp": config.enable_natpmp,
        "enable_outgoing_utp": config.enable_utp,
        "enable_incoming_utp": config.enable_utp,
        "enable_outgoing_tcp": config.enable_tcp,
        "enable_incoming_tcp": config.enable_tcp,
        "allow_multiple_connections_per_ip": config.allow_multiple_connections_per_ip,
        "user_agent": config.user_agent,
        "peer_fingerprint": config.peer_fingerprint,
        "connections_limit": config.connections_limit,
        "min_announce_interval": config.min_announce_interval,
        "tracker_backoff": config.tracker_backoff,
        "hashing_threads": config.hashing_threads,
        "aio_threads": config.aio_threads,
        "max_queued_disk_bytes": config.max_queued_disk_bytes,
        "recv_socket_buffer_size": effective_recv_buffer(config.socket_recv_buffer),
        "download_rate_limit": config.download_rate_limit,
        "upload_rate_limit": config.upload_rate_limit,
        "active_downloads": config.max_active_downloads,
        "active_seeds": -1,
        "active_limit": -1,
        "active_checking": 1,
        "alert_mask": config.alert_mask if config.alert_mask is not None else default_alert_mask(),
        "ssrf_mitigation": True,
        "validate_https_trackers": True,
        "anonymous_mode": False,
        # The alert queue must never drop a save_resume_data_alert or a file error.
        "alert_queue_size": 10000,
    }


RMEM_MAX = Path("/proc/sys/net/core/rmem_max")
"""Linux's ceiling on SO_RCVBUF (`net.core.rmem_max`)."""


def effective_recv_buffer(requested: int) -> int:
    """The SO_RCVBUF libtorrent should set: `requested`, or 0 (the kernel's autotuning) where the
    kernel would clamp it (`net.core.rmem_max` below it: 208 KiB on many distributions, where a
    forced buffer would be smaller than what autotuning reaches) or where the limit can't be read
    (not Linux)."""
    if requested <= 0:
        return 0
    try:
        rmem_max = int(RMEM_MAX.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return requested if rmem_max >= requested else 0


def _glibc(name: str) -> Any | None:
    """The C library's function `name` on Linux (glibc's malloc tuning calls), or None where there
    is no such C library or function."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def limit_malloc_arenas(arenas: int | None) -> bool:
    """Apply `malloc_arena_max` to this process; True when glibc took it. Why at run time and not
    with MALLOC_ARENA_MAX in the environment: the engine runs inside `mam serve`, `mam download
    --foreground` or a test process, none of which mamdl starts with its own environment."""
    if not arenas:
        return False
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    import ctypes

    m_arena_max = -8  # glibc's malloc.h; musl's mallopt ignores it and returns 0
    return bool(mallopt(ctypes.c_int(m_arena_max), ctypes.c_int(arenas)))


def release_free_memory() -> bool:
    """Hand the heap's free pages back to the OS (glibc `malloc_trim(0)`, which walks every
    arena); True when glibc did. Why: a download's buffers (store buffer, socket drains, hashing)
    are freed when it ends, but glibc keeps the pages, so a service that downloaded one book sat
    at that download's peak for good, and the next download's peak started from there (`./dev
    bench`: `mam serve` RSS climbed over nine 1 GiB downloads). The engine calls it once nothing
    is downloading (see `Engine._trim_if_idle`)."""
    trim = _glibc("malloc_trim")  # musl and others have none
    if trim is None:
        return False
    import ctypes

    trim(ctypes.c_size_t(0))
    return True


def session_params(config: EngineConfig) -> lt.session_params:
    """Full `session_params`: settings plus the disk I/O backend (which cannot change later)."""
    import libtorrent as lt

    params = lt.session_params(session_settings(config))  # type: ignore[call-overload]  # a dict works; stubs omit it
    params.disk_io_constructor = config.disk_io_constructor()
    return params


LOCAL_V4 = [
    ("10.0.0.0", "10.255.255.255"),
    ("172.16.0.0", "172.31.255.255"),
    ("192.168.0.0", "192.168.255.255"),
    ("169.254.0.0", "169.254.255.255"),
    ("127.0.0.0", "127.255.255.255"),
]
LOCAL_V6 = [
    ("fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("::1", "::1"),
]
"""The address ranges libtorrent puts in its "local" peer class (its session_impl.cpp)."""


def limit_local_peers_too(ses: lt.session) -> None:
    """Put peers on the local network in the global peer class as well as the local one. Why:
    libtorrent exempts local peers from the session-wide rate limits (they sit in the local class
    only), so a user's limit would not hold for a peer on their LAN or a seedbox next door, and
    could not be seen working on a loopback swarm. qBittorrent applies its limits to LAN peers by
    default too. Local peers keep the local class's other privilege (they don't use unchoke
    slots). Called only once a limit is set, so an unlimited session keeps libtorrent's mapping."""
    import libtorrent as lt

    glob, local = 1 << ses.global_peer_class_id, 1 << ses.local_peer_class_id
    f = lt.ip_filter()
    f.add_rule("0.0.0.0", "255.255.255.255", glob)
    f.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", glob)
    for first, last in LOCAL_V4 + LOCAL_V6:
        f.add_rule(first, last, glob | local)
    ses.set_peer_class_filter(f)
