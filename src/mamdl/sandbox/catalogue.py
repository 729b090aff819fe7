"""The sandbox's catalogue: MAM search rows, loaded once, validated, and indexed for search.

A catalogue file is `{"torrents": [row, ...]}` where every row is exactly what MAM's search API
returns (JSON-inside-JSON `author_info`, sizes as "350.50 MiB", numbers often as strings). The rows
are served back verbatim (plus the per-user fields), so a client sees the same quirks as on the
real site; `Entry` holds the parsed values the sandbox itself needs to search, filter and sort.

Loading is strict about what the sandbox relies on (id, title, main_cat, size, added, the *_info
fields being strings) and explains every problem with the file name and the row, because a
catalogue someone wrote for a test should fail loudly, not serve half its rows.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from mamdl.errors import ConfigError

AUDIOBOOK = 13
EBOOK = 14
MAIN_CATS = {13: "audiobook", 14: "ebook", 15: "musicology", 16: "radio"}

_SIZE_UNITS = {
    "b": 1,
    "bytes": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
    "tb": 1000**4,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")
_ADDED_FORMAT = "%Y-%m-%d %H:%M:%S"


class CatalogueError(ConfigError):
    """The catalogue file is missing, not JSON, or holds a row the sandbox cannot serve."""


def parse_size(value: Any) -> int | None:
    """Bytes from "350.50 MiB" / 123456 / "123456"; None when it is not a size at all."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if value >= 0 else None
    m = _SIZE_RE.match(str(value))
    if not m:
        return None
    unit = m.group(2).lower() or "b"
    if unit not in _SIZE_UNITS:
        return None
    return int(round(float(m.group(1).replace(",", "")) * _SIZE_UNITS[unit]))


def format_size(n: float) -> str:
    """Bytes as MAM's search rows print them: "350.50 MiB"."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{int(n)} B" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GiB"  # pragma: no cover


def _int(value: Any, default: int = 0) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    try:
        return int(float(str(value).replace(",", "")))
    except ValueError:
        return default


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _json_object(raw: Any) -> dict[str, Any]:
    """The object inside one of MAM's JSON-in-JSON strings; malformed content (MAM has some) gives {}."""
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _info_names(raw: Any) -> list[str]:
    """Names from an author_info/narrator_info string."""
    return [html.unescape(v).strip() for v in _json_object(raw).values() if isinstance(v, str) and v.strip()]


def _series_names(raw: Any) -> list[str]:
    names = []
    for value in _json_object(raw).values():
        name = value[0] if isinstance(value, list) and value else value
        if isinstance(name, str) and name.strip():
            names.append(html.unescape(name).strip())
    return names


@dataclass(eq=False)
class Entry:
    """One catalogue row plus the values parsed out of it. `row` is never mutated."""

    row: dict[str, Any]
    id: int
    title: str
    main_cat: int
    category: int
    language: int
    size_bytes: int
    added: str
    added_ts: float
    authors: list[str]
    narrators: list[str]
    series: list[str]
    filetypes: list[str]
    numfiles: int
    seeders: int
    leechers: int
    times_completed: int
    free: bool
    vip: bool
    fl_vip: bool
    catname: str = ""
    listed_size: int = 0
    """The size the catalogue lists; payload sizes derive from it even when rows show another."""
    tags: str = ""
    description: str = ""
    words_cache: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        return MAIN_CATS.get(self.main_cat, "other")

    @property
    def is_audio(self) -> bool:
        return self.main_cat in (AUDIOBOOK, 15, 16)

    @cached_property
    def author_line(self) -> str:
        return ", ".join(self.authors) or "Unknown"


@dataclass
class Catalogue:
    entries: list[Entry]
    source: str = "<built-in>"
    by_id: dict[int, Entry] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id = {e.id: e for e in self.entries}

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, tid: int) -> Entry | None:
        return self.by_id.get(tid)


def default_catalogue_path() -> Path:
    return Path(str(resources.files("mamdl.sandbox") / "data" / "default_catalogue.json"))


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """The catalogue in `path`, or the built-in one. Raises `CatalogueError` with a precise message."""
    if path is None:
        path = default_catalogue_path()
        source = "<built-in catalogue>"
    else:
        path = Path(path)
        source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(f"Catalogue file not found: {source}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"Cannot read catalogue {source}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(
            f"Catalogue {source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    return catalogue_from_data(data, source=source)


def catalogue_from_data(data: Any, *, source: str = "<data>") -> Catalogue:
    """Validate `{"torrents": [...]}` (or a bare list of rows) and index it."""
    if isinstance(data, dict):
        if "torrents" not in data:
            raise CatalogueError(f'Catalogue {source} must be an object with a "torrents" list of MAM search rows.')
        rows = data["torrents"]
    else:
        rows = data
    if not isinstance(rows, list):
        raise CatalogueError(f'Catalogue {source}: "torrents" must be a list, not {type(rows).__name__}.')
    if not rows:
        raise CatalogueError(f"Catalogue {source} holds no torrents.")
    entries: list[Entry] = []
    seen: dict[int, int] = {}
    for index, row in enumerate(rows):
        entry = _entry(row, index, source)
        if entry.id in seen:
            raise CatalogueError(
                f"Catalogue {source}: row {index} repeats id {entry.id} (first used by row {seen[entry.id]})."
            )
        seen[entry.id] = index
        entries.append(entry)
    return Catalogue(entries=entries, source=source)


def _entry(row: Any, index: int, source: str) -> Entry:
    def fail(msg: str) -> CatalogueError:
        label = f"row {index}" + (f" (id {row.get('id')})" if isinstance(row, dict) and "id" in row else "")
        return CatalogueError(f"Catalogue {source}, {label}: {msg}")

    if not isinstance(row, dict):
        raise fail(f"must be an object (a MAM search row), not {type(row).__name__}.")
    tid = _int(row.get("id"), -1)
    if tid <= 0:
        raise fail('needs a positive integer "id".')
    title = row.get("title")
    if isinstance(title, int) and not isinstance(title, bool):
        title = str(title)  # MAM sends an all-digit title ("1984") as a JSON number
    if not isinstance(title, str) or not title.strip():
        raise fail('needs a non-empty string "title".')
    main_cat = _int(row.get("main_cat"), -1)
    if main_cat not in MAIN_CATS:
        raise fail(
            f'"main_cat" must be one of {sorted(MAIN_CATS)} (13 audiobooks, 14 ebooks), got {row.get("main_cat")!r}.'
        )
    size = parse_size(row.get("size"))
    if size is None:
        raise fail(f'"size" must be a size such as "350.50 MiB" or a byte count, got {row.get("size")!r}.')
    added = row.get("added")
    try:
        added_dt = datetime.strptime(str(added), _ADDED_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise fail(f'"added" must be UTC "YYYY-MM-DD HH:MM:SS", got {added!r}.') from None
    for key in ("author_info", "narrator_info", "series_info"):
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            raise fail(
                f'"{key}" must be a *string* holding JSON (as MAM sends it), e.g. "{{\\"12\\":\\"Name\\"}}", '
                f"not a {type(value).__name__}."
            )
    for key in ("seeders", "leechers", "times_completed", "numfiles", "category", "language"):
        value = row.get(key)
        if value not in (None, "") and _int(value, -1) < 0:
            raise fail(f'"{key}" must be a non-negative number (or a string holding one), got {value!r}.')
    filetype = row.get("filetype") or ""
    if not isinstance(filetype, str):
        raise fail('"filetype" must be a space-separated string such as "epub mobi".')
    filetypes = [t.lower() for t in re.split(r"[\s,]+", filetype) if t]
    return Entry(
        row=row,
        id=tid,
        title=html.unescape(title).strip(),
        main_cat=main_cat,
        category=_int(row.get("category")),
        language=_int(row.get("language")),
        size_bytes=size,
        listed_size=size,
        added=str(added),
        added_ts=added_dt.timestamp(),
        authors=_info_names(row.get("author_info")),
        narrators=_info_names(row.get("narrator_info")),
        series=_series_names(row.get("series_info")),
        filetypes=filetypes,
        numfiles=max(1, _int(row.get("numfiles"), 1)),
        seeders=_int(row.get("seeders")),
        leechers=_int(row.get("leechers")),
        times_completed=_int(row.get("times_completed")),
        free=_flag(row.get("free")),
        vip=_flag(row.get("vip")),
        fl_vip=_flag(row.get("fl_vip")),
        catname=str(row.get("catname") or ""),
        tags=str(row.get("tags") or ""),
        description=str(row.get("description") or ""),
    )
