"""Finished books placed where reader apps find them: folder layout, metadata, hand-offs.

Pure file-system and metadata work; `mamdl.service` decides *when* (a download completed, `mam
import`) and supplies MAM's row and the torrent's files.
"""

from mamdl.library.book import SourceFile, book_dir, place_book, source_files
from mamdl.library.handoff import abs_scan, calibredb_add, cwa_ingest
from mamdl.library.models import Handoff, LibraryStatus, PlacedFile, Placement
from mamdl.library.naming import BookFields, check_template, render, safe_component, safe_filename
from mamdl.library.place import LibraryConflict, LibraryError, Method, place_file
from mamdl.library.store import LibraryStore

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
