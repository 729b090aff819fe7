"""The service's placement path without a swarm: a finished torrent in the engine's store, MAM's
row remembered, files on disk; the hand-offs run once and a second run changes nothing."""

from __future__ import annotations

import fastbencode

from mamdl.config import load_settings
from mamdl.engine.models import TorrentState
from mamdl.engine.store import Store, TorrentRecord, db_path
from mamdl.mam.models import SearchResult
from mamdl.service import Service

TOKEN = "abs-token-for-the-service-77aa"

ROW = SearchResult.from_api(
    {
        "id": "5150",
        "title": "Mistborn: The Final Empire",
        "author_info": '{"1":"Brandon Sanderson"}',
        "narrator_info": '{"2":"Michael Kramer"}',
        "series_info": '{"3":["Mistborn","1"]}',
        "main_cat": "13",
        "lang_code": "ENG",
        "times_completed": "1",
    }
)


def _finished_torrent(home, save) -> str:
    files = {"01.mp3": b"one" * 1000, "02.mp3": b"two" * 1000}
    for name, data in files.items():
        (save / "Mistborn").mkdir(parents=True, exist_ok=True)
        (save / "Mistborn" / name).write_bytes(data)
    info = {
        b"name": b"Mistborn",
        b"piece length": 16384,
        b"pieces": b"\0" * 20,
        b"files": [{b"length": len(d), b"path": [n.encode()]} for n, d in files.items()],
        b"private": 1,
    }
    raw = fastbencode.bencode({b"announce": b"http://127.0.0.1:9/announce", b"info": info})
    h = "cd" * 20
    rec = TorrentRecord(
        info_hash=h,
        name="Mistborn",
        title=ROW.title,
        mam_id=ROW.id,
        save_path=str(save),
        state=TorrentState.SEEDING,
        ratio_goal=1.0,
        seed_seconds_goal=0,
        added_at=0.0,
        progress=1.0,
        total_size=6000,
    )
    with Store(db_path(home)) as store:
        store.add_torrent(rec, raw)
    return h


def test_place_runs_the_abs_scan_once_and_is_idempotent(isolated_home, tmp_path, monkeypatch, recorder):
    """Catches: the scan not sent after placing, sent again when nothing changed, placement
    needing MAM when the row was remembered, and a second run touching the library."""
    srv = recorder()
    monkeypatch.setenv("MAMDL_LIBRARY_DIR", str(tmp_path / "lib"))
    monkeypatch.setenv("MAMDL_ABS_URL", f"http://127.0.0.1:{srv.server_port}")
    monkeypatch.setenv("MAMDL_ABS_TOKEN", TOKEN)
    monkeypatch.setenv("MAMDL_ABS_LIBRARY_ID", "lib_books")
    h = _finished_torrent(isolated_home, tmp_path / "dl")
    with Service(load_settings()) as svc:  # MAM_BASE_URL is the discard port: any MAM request fails
        svc.library_store.remember(h, ROW)
        first = svc.place(h[:8])
        assert first.status == "placed" and first.method == "hardlink", first
        assert first.path == str(
            tmp_path / "lib" / "Brandon Sanderson" / "Mistborn" / "1 - Mistborn - The Final Empire {Michael Kramer}"
        )
        assert [h_.name for h_ in first.handoffs] == ["audiobookshelf"] and first.handoffs[0].ok
        assert [r["path"] for r in srv.requests] == ["/api/libraries/lib_books/scan"]
        second = svc.place(h)
        assert second.method == "existing" and second.handoffs == first.handoffs
        assert len(srv.requests) == 1  # nothing changed: no second scan
        (status,) = svc.status(h)
        assert status.library is not None and status.library.path == first.path
        assert TOKEN not in status.model_dump_json() + second.model_dump_json()


def test_no_library_is_respected_by_import_all_but_not_by_an_explicit_import(isolated_home, tmp_path, monkeypatch):
    """Catches: `--no-library` forgotten by `mam import --all` (or the engine owner's watcher, which
    uses the same marker), and an explicit `mam import HASH` refused after it."""
    monkeypatch.setenv("MAMDL_LIBRARY_DIR", str(tmp_path / "lib"))
    h = _finished_torrent(isolated_home, tmp_path / "dl")
    with Service(load_settings()) as svc:
        svc.library_store.remember(h, ROW)
        svc.skip_library(h)
        assert svc.place_all() == []
        assert not (tmp_path / "lib").exists()
        (status,) = svc.status(h)
        assert status.library is not None and status.library.status == "skipped"
        assert svc.place(h).status == "placed"
        assert svc.place_all()[0].method == "existing"  # placed now: --all keeps it placed


class _QuietEngine:
    """An engine owner whose events never come (dropped, or finished before a restart)."""

    def __init__(self, home) -> None:
        self.home = home
        self.running = True

    def snapshots(self):
        from mamdl.engine import read_status

        return read_status(self.home)

    def events(self, timeout=None):
        import time

        time.sleep(0.05)
        return iter(())

    def wait_done(self, info_hash, timeout=0):
        return None

    def close(self) -> None:
        self.running = False


def test_engine_owner_places_what_finished_without_an_event(isolated_home, tmp_path, monkeypatch):
    """Catches: a watcher that relies only on the finished event (lost when the engine drops a
    slow reader's oldest events, or sent before a restart)."""
    from tests.waiting import wait_until

    monkeypatch.setenv("MAMDL_LIBRARY_DIR", str(tmp_path / "lib"))
    h = _finished_torrent(isolated_home, tmp_path / "dl")
    with Service(load_settings()) as svc:
        svc.library_store.remember(h, ROW)
        svc._engine, svc._owns_engine = _QuietEngine(isolated_home), True
        svc.watch_library()
        wait_until(lambda: (p := svc.library_store.placement(h)) is not None and p.status == "placed", timeout=60)
        assert (tmp_path / "lib" / "Brandon Sanderson" / "Mistborn").is_dir()
