"""State mapping, seeding policy and libtorrent settings: fast, no swarm."""

from __future__ import annotations

import libtorrent as lt
import pydantic
import pytest

from mamdl.engine import models
from mamdl.engine.models import MAM_MIN_SEED_SECONDS, SeedGoal, TorrentSnapshot, TorrentState, map_state
from mamdl.engine.seeding import goal_flags, goals_met, ratio_of, torrents_to_stop
from mamdl.engine.settings import EngineConfig, default_fingerprint, session_settings

S = lt.torrent_status.states


def test_libtorrent_state_constants_match() -> None:
    assert int(S.queued_for_checking) == models.LT_QUEUED_FOR_CHECKING
    assert int(S.checking_files) == models.LT_CHECKING_FILES
    assert int(S.downloading_metadata) == models.LT_DOWNLOADING_METADATA
    assert int(S.downloading) == models.LT_DOWNLOADING
    assert int(S.finished) == models.LT_FINISHED
    assert int(S.seeding) == models.LT_SEEDING
    assert int(S.checking_resume_data) == models.LT_CHECKING_RESUME_DATA


@pytest.mark.parametrize(
    ("lt_state", "kw", "expected"),
    [
        (S.downloading, dict(paused=False, auto_managed=True), TorrentState.DOWNLOADING),
        (S.downloading_metadata, dict(paused=False, auto_managed=True), TorrentState.DOWNLOADING),
        (S.downloading, dict(paused=True, auto_managed=True), TorrentState.QUEUED),
        (S.downloading, dict(paused=True, auto_managed=False), TorrentState.PAUSED),
        (S.seeding, dict(paused=True, auto_managed=False), TorrentState.PAUSED),
        (S.checking_files, dict(paused=False, auto_managed=True), TorrentState.CHECKING),
        (S.checking_resume_data, dict(paused=False, auto_managed=True), TorrentState.CHECKING),
        (S.finished, dict(paused=False, auto_managed=True), TorrentState.SEEDING),
        (S.seeding, dict(paused=False, auto_managed=True), TorrentState.SEEDING),
        (S.seeding, dict(paused=True, auto_managed=False, stopped_by_policy=True), TorrentState.FINISHED),
        (S.downloading, dict(paused=True, auto_managed=False, has_error=True), TorrentState.ERROR),
        (S.downloading, dict(paused=False, auto_managed=True, has_error=True), TorrentState.ERROR),
        (S.seeding, dict(paused=False, auto_managed=True, removed=True), TorrentState.REMOVED),
    ],
)
def test_map_state(lt_state, kw, expected) -> None:
    assert map_state(int(lt_state), **kw) is expected


def snap(**kw) -> TorrentSnapshot:
    base = dict(info_hash="a" * 40, name="x", state=TorrentState.SEEDING, progress=1.0, total_size=100)
    base.update(kw)
    return TorrentSnapshot(**base)


def test_default_goal_is_mam_72_hours() -> None:
    assert SeedGoal().seed_seconds == MAM_MIN_SEED_SECONDS == 259200
    assert SeedGoal().ratio == 1.0
    with pytest.raises(pydantic.ValidationError):
        SeedGoal(ratio=-1)


def test_ratio_is_relative_to_size_when_nothing_was_downloaded() -> None:
    assert ratio_of(uploaded=100, downloaded=0, total_size=100) == 1.0
    assert ratio_of(uploaded=100, downloaded=200, total_size=100) == 0.5
    assert ratio_of(0, 0, 0) == 0.0


def test_goals_need_both_ratio_and_time() -> None:
    goal = SeedGoal(ratio=1.0, seed_seconds=100)
    assert goal_flags(goal, ratio=2.0, seeding_seconds=99) == (True, False)
    assert goal_flags(goal, ratio=0.5, seeding_seconds=100) == (False, True)
    assert goal_flags(SeedGoal(ratio=0, seed_seconds=0), ratio=0, seeding_seconds=0) == (True, True)
    assert not goals_met(snap(goal=goal, ratio=2.0, seeding_seconds=99))
    assert goals_met(snap(goal=goal, ratio=1.0, seeding_seconds=100))


def test_torrents_to_stop_only_complete_seeding_ones() -> None:
    """`torrents_to_stop` is what the seeding loop (`Service.stop_satisfied`) asks before it checks
    MAM's view. Sabotage caught: dropping the SEEDING-state or the progress condition (a paused,
    finished or half-downloaded torrent would be offered for stopping)."""
    goal = SeedGoal(ratio=0, seed_seconds=10)
    candidates = [
        snap(info_hash="1" * 40, goal=goal, seeding_seconds=11),
        snap(info_hash="2" * 40, goal=goal, seeding_seconds=9),
        snap(info_hash="3" * 40, goal=goal, seeding_seconds=11, state=TorrentState.PAUSED),
        snap(info_hash="4" * 40, goal=goal, seeding_seconds=11, state=TorrentState.FINISHED),
        snap(info_hash="5" * 40, goal=goal, seeding_seconds=11, progress=0.5, state=TorrentState.DOWNLOADING),
        snap(info_hash="6" * 40, seeding_seconds=11),  # default goal: 72 h
    ]
    assert torrents_to_stop(candidates) == ["1" * 40]


def test_private_tracker_defaults() -> None:
    s = session_settings(EngineConfig())
    assert s["enable_dht"] is False
    assert s["enable_lsd"] is False
    assert s["enable_upnp"] is False
    assert s["enable_natpmp"] is False
    assert s["ssrf_mitigation"] is True
    assert s["listen_interfaces"] == "0.0.0.0:0"
    assert s["active_seeds"] == -1  # seeds are never queued: a stopped seed risks a hit-and-run
    assert s["user_agent"].startswith("mamdl/") and "libtorrent/2." in s["user_agent"]
    assert (
        s["peer_fingerprint"]
        == default_fingerprint()
        == lt.generate_fingerprint("LT", *[int(x) for x in lt.__version__.split(".")[:4]])
    )
    assert s["alert_mask"] & int(lt.alert.category_t.error_notification)


def test_loopback_profile() -> None:
    s = session_settings(EngineConfig.loopback())
    assert s["listen_interfaces"] == "127.0.0.1:0"
    assert s["enable_outgoing_utp"] is False and s["enable_incoming_utp"] is False
    assert s["allow_multiple_connections_per_ip"] is True
    assert s["enable_dht"] is False


def test_settings_are_accepted_by_libtorrent() -> None:
    """Every name we set exists in libtorrent (an unknown key would raise)."""
    pack = lt.default_settings()
    for key in session_settings(EngineConfig()):
        assert key in pack, key


def test_disk_io_choice_is_validated() -> None:
    assert EngineConfig(disk_io="mmap").disk_io_constructor() == "mmap_disk_io_constructor"
    assert EngineConfig().disk_io_constructor() == "pread_disk_io_constructor"
    assert EngineConfig(disk_io="posix").disk_io_constructor() == "posix_disk_io_constructor"
    with pytest.raises(pydantic.ValidationError):
        EngineConfig(disk_io="mmapp")  # libtorrent would silently fall back; we refuse
    with pytest.raises(pydantic.ValidationError):
        EngineConfig(enable_dth=True)  # typos in config keys are errors too


def test_pread_store_buffer_and_hashers_reach_libtorrent() -> None:
    """The default pread backend holds blocks in memory until written: the cap and the hashing
    threads must reach libtorrent's session settings, and the thread count follows the CPUs this
    process may use. Sabotage caught: dropping `max_queued_disk_bytes`, `hashing_threads` or
    `aio_threads` from `session_settings` (libtorrent's 100 MiB buffer, single hasher or ten disk
    threads come back)."""
    import os

    from mamdl.engine.settings import session_settings

    settings = session_settings(EngineConfig())
    assert settings["max_queued_disk_bytes"] == 16 * 2**20
    assert settings["hashing_threads"] == max(1, min(len(os.sched_getaffinity(0)) - 1, 4))
    assert session_settings(EngineConfig(hashing_threads=3))["hashing_threads"] == 3  # 1 is also libtorrent's own
    assert settings["aio_threads"] == 4  # libtorrent's own default is 10
    assert session_settings(EngineConfig(max_queued_disk_bytes=8 * 2**20))["max_queued_disk_bytes"] == 8 * 2**20
    with pytest.raises(pydantic.ValidationError):
        EngineConfig(max_queued_disk_bytes=1000)  # below one MiB: surely a value meant in KiB or MiB


def test_peer_socket_receive_buffer_is_capped_only_where_the_kernel_allows_it(tmp_path, monkeypatch) -> None:
    """libtorrent drains a peer's whole socket buffer into one allocation, so the engine's peak
    memory follows SO_RCVBUF (21 MiB single reads on a host with a 32 MiB `tcp_rmem`). The cap must
    reach libtorrent where the kernel honours it, and must not be forced where `rmem_max` would
    clamp it below what autotuning reaches (distant peers would slow down). Sabotage caught:
    dropping `recv_socket_buffer_size` from `session_settings`, or setting it whatever `rmem_max` says."""
    import mamdl.engine.settings as settings_mod
    from mamdl.engine.settings import effective_recv_buffer, session_settings

    rmem = tmp_path / "rmem_max"
    monkeypatch.setattr(settings_mod, "RMEM_MAX", rmem)
    three = 3 * 2**20
    assert EngineConfig().socket_recv_buffer == three
    rmem.write_text("212992\n")  # many distributions' default
    assert effective_recv_buffer(three) == 0
    assert session_settings(EngineConfig())["recv_socket_buffer_size"] == 0
    rmem.write_text(f"{three}\n")
    assert effective_recv_buffer(three) == three
    rmem.write_text("33554432\n")
    assert session_settings(EngineConfig())["recv_socket_buffer_size"] == three
    assert session_settings(EngineConfig(socket_recv_buffer=0))["recv_socket_buffer_size"] == 0  # autotuning asked for
    rmem.unlink()  # not Linux, or /proc unreadable: leave the OS alone
    assert effective_recv_buffer(three) == 0


def test_live_session_gets_the_receive_buffer_cap(make_engine, tmp_path, monkeypatch) -> None:
    """Sabotage caught: the cap computed but not in the settings the running session was built with."""
    import mamdl.engine.settings as settings_mod
    from tests.engine.conftest import loopback_config

    rmem = tmp_path / "rmem_max"
    rmem.write_text("8388608\n")
    monkeypatch.setattr(settings_mod, "RMEM_MAX", rmem)
    eng = make_engine(loopback_config())
    assert eng._session.get_settings()["recv_socket_buffer_size"] == 3 * 2**20


def test_malloc_arena_cap_reaches_glibc_before_the_session_starts(make_engine, monkeypatch) -> None:
    """Sabotage caught: `malloc_arena_max` accepted by the config but never applied by `Engine.start`
    (or applied after libtorrent's threads already took arenas of their own), or `limit_malloc_arenas`
    not reaching glibc's mallopt."""
    import sys

    import mamdl.engine.engine as engine_mod
    from mamdl.engine.settings import limit_malloc_arenas

    assert limit_malloc_arenas(None) is False
    if sys.platform.startswith("linux") and "glibc" in " ".join(__import__("platform").libc_ver()):
        assert limit_malloc_arenas(8) is True  # glibc's own default on one CPU: harmless to set
    calls: list[tuple[int | None, bool]] = []

    def spy(n: int | None) -> bool:
        calls.append((n, make_engine_started()))
        return False

    made: list = []

    def make_engine_started() -> bool:
        return bool(made) and made[0]._session is not None

    monkeypatch.setattr(engine_mod, "limit_malloc_arenas", spy)
    from tests.engine.conftest import loopback_config

    eng = make_engine(loopback_config().model_copy(update={"malloc_arena_max": 2}), start=False)
    made.append(eng)
    eng.start()
    assert calls == [(2, False)]
