"""The Calibre hand-off with the real `calibredb` (Debian's calibre, installed by
`scripts/system-deps`, which `./dev test` runs). Without calibredb these tests skip locally and
fail in CI (`CI=true`), so CI can never pass without having run them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from mamdl.library.handoff import calibredb_add
from mamdl.mam.models import SearchResult
from mamdl.sandbox.server import thumbnail_png

FRANKENSTEIN = 418286


@pytest.fixture
def calibredb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real calibredb, with its own config and cache dirs (not ~/.config/calibre, which a test on
    another xdist worker may be using at the same moment); child `mam` processes inherit them."""
    exe = shutil.which("calibredb")
    if exe is None:
        msg = "calibredb is missing: run scripts/system-deps (as root) or apt-get install calibre"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    monkeypatch.setenv("CALIBRE_CONFIG_DIRECTORY", str(tmp_path / "calibre-config"))
    monkeypatch.setenv("CALIBRE_CACHE_DIRECTORY", str(tmp_path / "calibre-cache"))
    return exe


def _list(calibredb: str, library: Path) -> list[dict]:
    p = subprocess.run(
        [calibredb, "list", "--with-library", str(library), "--for-machine", "--fields", "all"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(p.stdout)


def _epub(path: Path, title: str) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        z.writestr(
            "content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">'
            f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
            '<dc:identifier id="id">x</dc:identifier></metadata><manifest><item id="t" href="t.html" '
            'media-type="application/xhtml+xml"/></manifest><spine><itemref idref="t"/></spine></package>',
        )
        z.writestr("t.html", "<html><body><p>It was on a dreary night of November.</p></body></html>")
    return path


ROW = SearchResult.from_api(
    {
        "id": "418286",
        "title": "Frankenstein",
        "author_info": '{"1065":"Mary Shelley"}',
        "series_info": '{"7":["Gothic Classics","3"]}',
        "main_cat": "14",
        "lang_code": "ENG",
        "tags": "horror, classic",
        "isbn": "9780141439471",
        "times_completed": "1",
    }
)


@pytest.mark.slow
def test_calibredb_add_brings_mams_metadata_formats_and_cover(calibredb, tmp_path):
    """Catches: calibredb options dropped or misspelled (title, authors, series and index, ISBN,
    tags, language), a second format added as a second book, the cover lost, and a second run
    adding a duplicate."""
    epub = _epub(tmp_path / "Frankenstein.epub", "Some other title inside the file")
    txt = tmp_path / "Frankenstein.txt"
    txt.write_text("It was on a dreary night of November.")
    cover = tmp_path / "cover.png"
    cover.write_bytes(thumbnail_png(FRANKENSTEIN, size=64))
    library = tmp_path / "Calibre Library"
    h = calibredb_add(calibredb, library, [epub, txt, tmp_path / "chapter.mp3"], ROW, cover=cover)
    assert h.ok, h.detail
    (book,) = _list(calibredb, library)
    assert book["title"] == "Frankenstein" and book["authors"] == "Mary Shelley"
    assert book["series"] == "Gothic Classics" and book["series_index"] == 3.0
    assert book["isbn"] == "9780141439471" and sorted(book["tags"]) == ["classic", "horror"]
    assert book["languages"] == ["eng"]
    assert sorted(Path(f).suffix for f in book["formats"]) == [".epub", ".txt"]
    assert book.get("cover") and Path(book["cover"]).is_file()
    again = calibredb_add(calibredb, library, [epub], ROW, cover=cover)
    assert again.ok and "already" in again.detail
    assert len(_list(calibredb, library)) == 1


def test_missing_calibredb_is_a_clear_failure(tmp_path):
    """Catches: a crash (FileNotFoundError) when calibredb isn't installed."""
    h = calibredb_add(str(tmp_path / "no-calibredb"), tmp_path / "lib", [tmp_path / "a.epub"], ROW)
    assert not h.ok and "install Calibre" in h.detail


@pytest.mark.slow
def test_get_places_the_ebook_then_hands_it_to_calibre_and_cwa_once(calibredb, make_swarm, mam, tmp_path, monkeypatch):
    """Catches: the hand-offs not run after a download, CWA's folder given a link to seeding data,
    and `mam import` repeating the hand-offs (a duplicate Calibre book, a re-ingested CWA copy)."""
    swarm = make_swarm()
    library, calibre, ingest = tmp_path / "library", tmp_path / "Calibre Library", tmp_path / "cwa-ingest"
    monkeypatch.setenv("MAMDL_LIBRARY_DIR", str(library))
    monkeypatch.setenv("MAMDL_CALIBRE_LIBRARY", str(calibre))
    monkeypatch.setenv("MAMDL_CWA_INGEST_DIR", str(ingest))
    p = mam("get", str(FRANKENSTEIN), "--download", "--to", str(tmp_path / "dl"), "--json", timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr
    lib = json.loads(p.stdout)["status"]["library"]
    assert lib["status"] == "placed" and {h["name"]: h["ok"] for h in lib["handoffs"]} == {"calibre": True, "cwa": True}
    (book,) = _list(calibredb, calibre)
    assert book["title"] == "Frankenstein" and book["authors"] == "Mary Shelley"
    (f,) = swarm.payload_files(FRANKENSTEIN)
    (copied,) = list(ingest.iterdir())
    assert os.stat(copied).st_ino != os.stat(tmp_path / "dl" / f.relpath).st_ino
    copied.unlink()  # what CWA does after ingesting
    again = mam("import", "--all", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(_list(calibredb, calibre)) == 1 and not list(ingest.iterdir())
