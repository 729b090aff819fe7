"""What placing a book produced: JSON-ready, shown by `mam import`, `mam status` and MCP `get_progress`."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field


class PlacedFile(BaseModel):
    source: str
    target: str
    method: str
    """hardlink, reflink, copy, or existing (already there: nothing done)."""


class Handoff(BaseModel):
    """A reader app told about the book: Audiobookshelf scan, `calibredb add`, CWA ingest copy."""

    name: Literal["audiobookshelf", "calibre", "cwa"]
    ok: bool
    detail: str = ""


class LibraryStatus(BaseModel):
    """Where a book went and how (the short form fronts show beside a torrent)."""

    status: Literal["placed", "conflict", "error", "skipped"]
    """skipped: fetched with `--no-library`; only an explicit `mam import HASH` places it."""
    path: str | None = None
    """The book's folder in the library."""
    method: str = ""
    """How its files got there: hardlink, reflink, copy, or a mix such as `hardlink+copy`."""
    note: str = ""
    error: str | None = None
    handoffs: list[Handoff] = Field(default_factory=list)
    placed_at: float = Field(default_factory=time.time)


class Placement(LibraryStatus):
    info_hash: str
    mam_id: int | None = None
    title: str = ""
    files: list[PlacedFile] = Field(default_factory=list)
    metadata: list[str] = Field(default_factory=list)
    """The metadata files beside the book (metadata.json, metadata.opf, cover)."""

    def short(self) -> LibraryStatus:
        return LibraryStatus.model_validate(self.model_dump(include=set(LibraryStatus.model_fields)))
