"""Telling reader apps about a placed book.

- Audiobookshelf: its folder watcher misses changes on network shares, so ask it to scan
  (`POST /api/libraries/<id>/scan` with `Authorization: Bearer <API token>`).
- Calibre: the real `calibredb add` into a configured library (Calibre copies the files into its
  own folders), metadata passed as options so the book arrives with MAM's title, authors, series.
- Calibre-Web-Automated: its ingest folder *moves or deletes* what it finds, so the files are
  independent copies, flat in the folder (CWA wants no subfolders), never links to seeding data.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from pathlib import Path

from mamdl.library.models import Handoff
from mamdl.library.naming import safe_filename
from mamdl.library.place import LibraryError, place_file
from mamdl.mam.models import SearchResult
from mamdl.redact import redact

log = logging.getLogger(__name__)

EBOOK_EXTENSIONS = {
    "epub",
    "azw3",
    "azw",
    "mobi",
    "pdf",
    "kepub",
    "fb2",
    "djvu",
    "cbz",
    "cbr",
    "lit",
    "rtf",
    "txt",
    "docx",
}


def ebook_files(files: list[Path]) -> list[Path]:
    return [f for f in files if f.suffix.lower().lstrip(".") in EBOOK_EXTENSIONS]


def abs_scan(base_url: str, token: str, *, library_id: str | None = None, timeout: float = 15.0) -> Handoff:
    """Ask Audiobookshelf to scan one library (or every book library it has)."""
    import httpx2

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    base = base_url.rstrip("/")
    try:
        with httpx2.Client(timeout=timeout, headers=headers, follow_redirects=False) as http:
            ids = [library_id] if library_id else []
            if not ids:
                r = http.get(f"{base}/api/libraries")
                if r.status_code != 200:
                    return Handoff(
                        name="audiobookshelf", ok=False, detail=_abs_status(r.status_code, "listing libraries")
                    )
                libs = r.json().get("libraries", [])
                ids = [str(lib["id"]) for lib in libs if lib.get("mediaType", "book") == "book" and lib.get("id")]
                if not ids:
                    return Handoff(
                        name="audiobookshelf", ok=False, detail="Audiobookshelf has no book library to scan."
                    )
            for lid in ids:
                r = http.post(f"{base}/api/libraries/{lid}/scan")
                if r.status_code not in (200, 204):
                    return Handoff(
                        name="audiobookshelf", ok=False, detail=_abs_status(r.status_code, f"scanning {lid}")
                    )
    except (httpx2.HTTPError, ValueError, KeyError, TypeError) as exc:
        return Handoff(name="audiobookshelf", ok=False, detail=redact(f"Audiobookshelf at {base} failed: {exc}"))
    return Handoff(name="audiobookshelf", ok=True, detail=f"scan requested for library {', '.join(ids)}")


def _abs_status(status: int, what: str) -> str:
    if status in (401, 403):
        return f"Audiobookshelf refused the API token ({status}) while {what}: check `abs_token`."
    return f"Audiobookshelf answered {status} while {what}."


def calibredb_add(
    calibredb: str,
    library: Path,
    files: list[Path],
    row: SearchResult,
    *,
    cover: Path | None = None,
    timeout: float = 300,
) -> Handoff:
    """`calibredb add` the book's ebook files as one book (extra formats with `add_format`)."""
    books = ebook_files(files)
    if not books:
        return Handoff(name="calibre", ok=True, detail="no ebook files to add")
    first, *others = books
    args = [calibredb, "add", "--with-library", str(library), "--title", row.title]
    if row.authors:
        args += ["--authors", " & ".join(row.author_names)]
    if row.isbn:
        args += ["--isbn", row.isbn]
    if row.series:
        args += ["--series", row.series[0].name]
        if re.fullmatch(r"\d+(\.\d+)?", row.series[0].number.strip()):
            args += ["--series-index", row.series[0].number.strip()]
    tags = [t.strip() for t in re.split(r"[,;|]", row.tags) if t.strip()]
    if tags:
        args += ["--tags", ",".join(t.replace(",", " ") for t in tags)]
    if row.lang_code:
        args += ["--languages", row.lang_code.lower()]
    if cover is not None:
        args += ["--cover", str(cover)]
    args.append(str(first))
    try:
        p = _run(args, timeout)
    except FileNotFoundError:
        return Handoff(
            name="calibre", ok=False, detail=f"{calibredb} not found: install Calibre (apt-get install calibre)."
        )
    out = p.stdout + p.stderr
    if "already exist in the database" in out:
        return Handoff(name="calibre", ok=True, detail=f"already in the Calibre library {library}")
    m = re.search(r"Added book ids?: ([\d, ]+)", out)
    if p.returncode != 0 or not m:
        return Handoff(name="calibre", ok=False, detail=f"calibredb add failed: {_last_line(out)}")
    book_id = m.group(1).split(",")[0].strip()
    for extra in others:
        q = _run([calibredb, "add_format", "--with-library", str(library), book_id, str(extra)], timeout)
        if q.returncode != 0:
            return Handoff(
                name="calibre", ok=False, detail=f"calibredb add_format failed: {_last_line(q.stdout + q.stderr)}"
            )
    return Handoff(name="calibre", ok=True, detail=f"added as book {book_id} to {library}")


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 124, "", f"timed out after {timeout:.0f} s")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return redact(lines[-1][:300]) if lines else "no output"


def cwa_ingest(ingest_dir: Path, files: list[Path]) -> Handoff:
    """Copy the ebook files, flat, into Calibre-Web-Automated's ingest folder (never links)."""
    books = ebook_files(files)
    if not books:
        return Handoff(name="cwa", ok=True, detail="no ebook files to hand over")
    try:
        for f in books:
            place_file(f, ingest_dir / safe_filename(f.name), link=False)
    except (LibraryError, OSError) as exc:
        return Handoff(name="cwa", ok=False, detail=str(exc))
    return Handoff(name="cwa", ok=True, detail=f"copied {len(books)} file(s) into {ingest_dir}")
