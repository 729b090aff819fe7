"""Placing files: hardlink on one file system, copy across, idempotent, never overwriting, never
touching the seeding copy; CWA's ingest folder always gets independent copies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mamdl.library.book import SourceFile, place_book, source_files
from mamdl.library.handoff import cwa_ingest
from mamdl.library.place import LibraryConflict, Method, place_file
from mamdl.mam.models import Person, SearchResult


def _seed_file(tmp_path: Path, name: str = "book.epub", data: bytes = b"epub-bytes" * 1000) -> Path:
    src = tmp_path / "downloads" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    return src


def test_hardlink_on_one_file_system(tmp_path):
    """Catches: copying when a hardlink works (double disk use), or moving the seeding copy."""
    src = _seed_file(tmp_path)
    dst = tmp_path / "lib" / "A" / "book.epub"
    assert place_file(src, dst) is Method.hardlink
    assert os.stat(src).st_ino == os.stat(dst).st_ino and src.read_bytes() == dst.read_bytes()
    assert place_file(src, dst) is Method.existing  # a second run changes nothing


def test_copy_across_file_systems_and_source_untouched(tmp_path, other_fs):
    """Catches: a hardlink failing silently across file systems (no file in the library), or a
    fallback that moves the source."""
    src = _seed_file(tmp_path)
    before = os.stat(src)
    dst = other_fs / "lib" / "book.epub"
    assert place_file(src, dst) in (Method.copy, Method.reflink)
    assert dst.read_bytes() == src.read_bytes() and os.stat(dst).st_dev != before.st_dev
    after = os.stat(src)
    assert (after.st_ino, after.st_size, after.st_mtime_ns, after.st_nlink) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
        before.st_nlink,
    )
    assert place_file(src, dst) is Method.existing
    assert not [p for p in dst.parent.iterdir() if p.name.endswith(".mamdl-part")]  # no temporary left


def test_a_different_file_at_the_target_is_never_overwritten(tmp_path):
    """Catches: silently replacing the person's own file with ours."""
    src = _seed_file(tmp_path)
    dst = tmp_path / "lib" / "book.epub"
    dst.parent.mkdir(parents=True)
    dst.write_bytes(b"the person's own edited copy")
    with pytest.raises(LibraryConflict, match="not overwritten"):
        place_file(src, dst)
    assert dst.read_bytes() == b"the person's own edited copy"


def test_identical_copy_already_there_counts_as_placed(tmp_path):
    """Catches: a conflict reported for a file that is byte-for-byte the same (a second run after a copy)."""
    src = _seed_file(tmp_path)
    dst = tmp_path / "lib" / "book.epub"
    dst.parent.mkdir(parents=True)
    dst.write_bytes(src.read_bytes())
    assert place_file(src, dst) is Method.existing


def test_book_conflict_stops_before_any_file_is_placed(tmp_path):
    """Catches: half a book placed when one of its files conflicts."""
    d = tmp_path / "downloads" / "Author - T"
    d.mkdir(parents=True)
    for n in ("01.mp3", "02.mp3"):
        (d / n).write_bytes(n.encode() * 100)
    files = source_files(tmp_path / "downloads", ["Author - T/01.mp3", "Author - T/02.mp3"])
    row = SearchResult(id=7, title="T", authors=[Person(id=1, name="Author")], main_cat=13)
    lib = tmp_path / "lib"
    (lib / "Author" / "T").mkdir(parents=True)
    (lib / "Author" / "T" / "02.mp3").write_bytes(b"someone else's")
    p = place_book("h" * 40, row, files, root=lib, template="{author}/{title}")
    assert p.status == "conflict" and "02.mp3" in (p.error or "")
    assert not (lib / "Author" / "T" / "01.mp3").exists()
    assert (lib / "Author" / "T" / "02.mp3").read_bytes() == b"someone else's"


def test_missing_source_is_an_error_not_a_crash(tmp_path):
    """Catches: a traceback (or an empty book folder) when the download was moved away."""
    row = SearchResult(id=7, title="T", authors=[Person(id=1, name="A")], main_cat=14)
    files = [SourceFile(path=tmp_path / "gone.epub", relpath=Path("gone.epub"))]  # type: ignore[arg-type]
    p = place_book("h" * 40, row, files, root=tmp_path / "lib", template="{author}/{title}")
    assert p.status == "error" and "missing" in (p.error or "")


def test_cwa_ingest_gets_independent_copies_even_on_one_file_system(tmp_path):
    """Catches: hardlinking into CWA's ingest folder (CWA deletes what it ingests; with a link the
    person would lose the library copy's twin and with a move the seeding data)."""
    src = _seed_file(tmp_path)
    audio = _seed_file(tmp_path, "chapter.mp3", b"mp3")
    ingest = tmp_path / "cwa-ingest"
    h = cwa_ingest(ingest, [src, audio])
    assert h.ok, h.detail
    copied = ingest / "book.epub"
    assert copied.read_bytes() == src.read_bytes()
    assert os.stat(copied).st_ino != os.stat(src).st_ino and os.stat(src).st_nlink == 1
    assert not (ingest / "chapter.mp3").exists()  # only ebooks go to Calibre
    assert [p.name for p in ingest.iterdir()] == ["book.epub"]  # flat: no subfolder


def test_two_placers_racing_on_one_copy_both_succeed(tmp_path, other_fs, monkeypatch):
    """Catches: a false conflict when another process (the MCP server's watcher and `mam get`)
    publishes the same copy while ours is being written."""
    import shutil

    import mamdl.library.place as place

    src = _seed_file(tmp_path)
    dst = other_fs / "lib" / "book.epub"
    real_copystat = shutil.copystat

    def copystat_while_another_publishes(a, b, **kw):
        if not dst.exists():
            dst.write_bytes(src.read_bytes())  # the other process wins the race right now
        return real_copystat(a, b, **kw)

    monkeypatch.setattr(place.shutil, "copystat", copystat_while_another_publishes)
    assert place.place_file(src, dst) in (Method.copy, Method.reflink)
    assert dst.read_bytes() == src.read_bytes()
    assert not [p for p in dst.parent.iterdir() if p.name.endswith(".mamdl-part")]
