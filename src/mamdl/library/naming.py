"""Where a book goes: template fields from MAM's row, and names that cannot escape the library.

Templates are paths with `{field}` placeholders; a part in `[...]` is dropped when any field in it
is empty, so one template covers books with and without a series:

    {author}/[{series}/][{series_number} - ]{title}[ {{{narrators}}}]

gives `Brandon Sanderson/The Stormlight Archive/1 - The Way of Kings {Kate Reading, Michael Kramer}`
and `Mary Shelley/Frankenstein {…}` — Audiobookshelf's folder convention, which it parses for the
series sequence and the narrator. (`{{` and `}}` are literal braces, as in `str.format`.)

Every value is cleaned *before* it is put in the template (so a `/` in a title cannot add a
folder level) and every rendered component again after (so the template itself cannot either):
no separators, control or bidirectional-override characters, no `..`, no leading dots, no names
Windows reserves, and at most `MAX_COMPONENT_BYTES` of UTF-8 per component. Unicode is kept.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from mamdl.config import LIBRARY_FIELDS, template_problem
from mamdl.errors import ConfigError
from mamdl.mam.models import SearchResult

MAX_COMPONENT_BYTES = 180
"""Well under the usual 255-byte limit, leaving room for a `.mamdl-part` suffix and extensions."""

FIELDS = LIBRARY_FIELDS

_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_KEEP_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners: needed to spell Persian, Indic scripts, emoji
_FORBIDDEN = re.compile(r'[/\\*?"<>|]')
_GROUP = re.compile(r"\[([^\[\]]*)\]")


def _clean_chars(text: str) -> str:
    """NFC, without control, surrogate, private-use, unassigned or bidi-format characters."""
    text = unicodedata.normalize("NFC", text)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp") or (cat == "Cf" and ch not in _KEEP_FORMAT):
            out.append(" " if cat in ("Cc", "Zl", "Zp") else "")
        else:
            out.append(ch)
    return "".join(out)


def _truncate_utf8(text: str, max_bytes: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    cut = raw[:max_bytes].decode("utf-8", errors="ignore")
    while cut and unicodedata.combining(cut[-1]):  # never leave an accent without its letter
        cut = cut[:-1]
    return cut


def safe_component(name: str, *, max_bytes: int = MAX_COMPONENT_BYTES, fallback: str = "Unknown") -> str:
    """One folder or file name that stays where it is put, on Linux, macOS and Windows shares."""
    name = _clean_chars(name)
    name = name.replace(":", " - ")
    name = _FORBIDDEN.sub(" ", name)
    name = re.sub(r"\.{2,}", ".", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = _truncate_utf8(name, max_bytes).strip(" .")
    if name.split(".", 1)[0].strip().upper() in _RESERVED:
        name = "_" + name
    return name or fallback


def safe_filename(name: str, *, max_bytes: int = MAX_COMPONENT_BYTES) -> str:
    """Like `safe_component`, but a long name loses the end of its stem, not its extension."""
    clean = safe_component(name, max_bytes=10_000, fallback="file")
    stem, dot, ext = clean.rpartition(".")
    if not dot or not stem or len(ext.encode()) > 16:
        return safe_component(clean, max_bytes=max_bytes, fallback="file")
    stem = safe_component(stem, max_bytes=max_bytes - len(ext.encode()) - 1, fallback="file")
    return f"{stem}.{ext}"


def _value(text: str) -> str:
    """A field value made safe to substitute: one component's worth, no separators."""
    return safe_component(text, fallback="") if text else ""


def _series_number(raw: str) -> str:
    m = re.fullmatch(r"0*(\d+)(\.\d+)?", raw.strip())
    return (m.group(1) + (m.group(2) or "")) if m else raw.strip()


@dataclass(frozen=True)
class BookFields:
    """The template fields of one book, taken from MAM's row only (no online look-ups)."""

    author: str
    authors: str
    series: str
    series_number: str
    title: str
    narrator: str
    narrators: str
    year: str
    """The year MAM lists the torrent as added (MAM's rows carry no publication year)."""
    language: str
    filetype: str
    mam_id: str

    @classmethod
    def from_row(cls, row: SearchResult) -> BookFields:
        series = row.series[0] if row.series else None
        return cls(
            author=row.author_names[0] if row.authors else "Unknown Author",
            authors=", ".join(row.author_names) or "Unknown Author",
            series=series.name if series else "",
            series_number=_series_number(series.number) if series else "",
            title=row.title or f"MAM {row.id}",
            narrator=row.narrator_names[0] if row.narrators else "",
            narrators=", ".join(row.narrator_names),
            year=str(row.added.year) if row.added else "",
            language=row.lang_code,
            filetype=row.filetypes[0] if row.filetypes else "",
            mam_id=str(row.id),
        )

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in FIELDS}


def check_template(template: str) -> None:
    """Raise ConfigError when the template names a field we don't have or is malformed."""
    problem = template_problem(template)
    if problem:
        raise ConfigError(problem)


def render(template: str, fields: BookFields) -> PurePosixPath:
    """The book's folder, relative to the library root: always inside it, never empty."""
    check_template(template)
    values = {k: _value(v) for k, v in fields.as_dict().items()}

    def group(m: re.Match[str]) -> str:
        inner = m.group(1)
        names = [n for _, n, _, _ in string.Formatter().parse(inner) if n]
        return inner if all(values.get(n) for n in names) else ""

    text = _GROUP.sub(group, template).format_map(values)
    parts = [safe_component(p) for p in text.split("/") if p.strip(" .")]
    if not parts:
        parts = [safe_component(fields.title)]
    return PurePosixPath(*parts)
