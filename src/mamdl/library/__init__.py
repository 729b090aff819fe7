"""Finished books placed where reader apps find them: folder layout, metadata, hand-offs.

Pure file-system and metadata work; `mamdl.service` decides *when* (a download completed, `mam
import`) and supplies MAM's row and the torrent's files.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Each name's module, imported on first use: `mamdl.library.models` (which every status row
# needs) must not pull in the placing, naming, metadata and hand-off code (0.05-0.2 s of each
# `mam` command's start).
_WHERE = {
    "SourceFile": "book",
    "book_dir": "book",
    "place_book": "book",
    "source_files": "book",
    "abs_scan": "handoff",
    "calibredb_add": "handoff",
    "cwa_ingest": "handoff",
    "Handoff": "models",
    "LibraryStatus": "models",
    "PlacedFile": "models",
    "Placement": "models",
    "BookFields": "naming",
    "check_template": "naming",
    "render": "naming",
    "safe_component": "naming",
    "safe_filename": "naming",
    "LibraryConflict": "place",
    "LibraryError": "place",
    "Method": "place",
    "place_file": "place",
    "LibraryStore": "store",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BookFields",
    "Handoff",
    "LibraryConflict",
    "LibraryError",
    "LibraryStatus",
    "LibraryStore",
    "Method",
    "PlacedFile",
    "Placement",
    "SourceFile",
    "abs_scan",
    "book_dir",
    "calibredb_add",
    "check_template",
    "cwa_ingest",
    "place_book",
    "place_file",
    "render",
    "safe_component",
    "safe_filename",
    "source_files",
]
