"""Placing one finished torrent as a book: plan every target first, then link/copy, then metadata.

Planning first means a conflict anywhere stops the book before any file is touched, so a half-placed
book only happens on an I/O failure midway — and a second run completes it (existing identical
files count as done).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mamdl.library.metadata import abs_metadata_json, cover_name_for, opf_xml
from mamdl.library.models import PlacedFile, Placement
from mamdl.library.naming import BookFields, render, safe_filename
from mamdl.library.place import LibraryConflict, LibraryError, Method, check_target, place_file, write_new_file
from mamdl.mam.models import SearchResult


@dataclass(frozen=True)
class SourceFile:
    path: Path
    """Where the seeding copy is."""
    relpath: PurePosixPath
    """Its path inside the book folder (the torrent's top folder left out)."""


def source_files(save_path: Path, torrent_paths: list[str]) -> list[SourceFile]:
    """The torrent's files (paths as in the .torrent, top folder first) on disk and in the book."""
    out = []
    for p in torrent_paths:
        parts = p.split("/")
        inner = parts[1:] if len(parts) > 1 else parts
        rel = PurePosixPath(*[safe_filename(x) for x in inner])
        out.append(SourceFile(path=save_path.joinpath(*parts), relpath=rel))
    return out


def book_dir(root: Path, template: str, row: SearchResult) -> Path:
    return root / render(template, BookFields.from_row(row))


def _inside(root: Path, path: Path) -> bool:
    r, p = os.path.realpath(root), os.path.realpath(path)
    return p == r or p.startswith(r.rstrip(os.sep) + os.sep)


def place_book(
    info_hash: str,
    row: SearchResult,
    files: list[SourceFile],
    *,
    root: Path,
    template: str,
    cover: bytes | None = None,
) -> Placement:
    """Link (or copy) every file of the torrent into its book folder and write the metadata."""
    target_dir = book_dir(root, template, row)
    base = Placement(info_hash=info_hash, mam_id=row.id, title=row.title, status="error", path=str(target_dir))
    if not _inside(root, target_dir):  # belt and braces: naming already forbids this
        return base.model_copy(update={"error": f"refused: {target_dir} is outside the library {root}"})
    plan = [(f.path, target_dir / f.relpath) for f in files]
    try:
        root.mkdir(parents=True, exist_ok=True)
        for src, dst in plan:
            if not src.is_file():
                raise LibraryError(f"{src} is missing: the download is incomplete or was moved.")
            if not _inside(root, dst):
                raise LibraryError(f"refused: {dst} is outside the library {root}")
            check_target(src, dst)
        placed = [PlacedFile(source=str(s), target=str(d), method=place_file(s, d).value) for s, d in plan]
        written = []
        cover_name = cover_name_for(cover) if cover else None
        if cover and cover_name:
            write_new_file(target_dir / cover_name, cover)
            written.append(cover_name)
        for name, data in (
            ("metadata.json", abs_metadata_json(row)),
            ("metadata.opf", opf_xml(row, cover_name=cover_name)),
        ):
            try:
                write_new_file(target_dir / name, data)
            except LibraryConflict:
                pass  # the person (or their app) edited it: theirs wins, quietly
            written.append(name)
    except LibraryConflict as exc:
        return base.model_copy(update={"status": "conflict", "error": str(exc)})
    except (LibraryError, OSError) as exc:
        msg = str(exc) if isinstance(exc, LibraryError) else f"{exc.strerror or exc} ({getattr(exc, 'filename', '')})"
        return base.model_copy(update={"error": msg})
    method, note = describe(placed)
    return base.model_copy(
        update={"status": "placed", "files": placed, "metadata": written, "method": method, "note": note}
    )


def describe(placed: list[PlacedFile]) -> tuple[str, str]:
    """(method, a sentence for the person) from the methods used per file."""
    new = [p.method for p in placed if p.method != Method.existing]
    if not new:
        return "existing", "already in the library; nothing changed"
    methods = sorted(set(new), key=[m.value for m in Method].index)
    method = "+".join(methods)
    if methods == ["hardlink"]:
        return method, "hardlinked: the library files are the seeding files (no extra space)"
    if "hardlink" not in methods:
        why = "the library is on another file system, so hardlinks are impossible"
        how = {"reflink": "reflinked (copy-on-write clones)", "copy": "copied"}.get(
            method, method.replace("+", " and ")
        )
        return method, f"{how}: {why}; the seeding copy is untouched"
    return method, f"{method.replace('+', ' and ')} used; the seeding copy is untouched"
