"""The files reader apps read beside a book, built from MAM's row only (no online look-ups).

- `metadata.json`: Audiobookshelf's own format (what it writes with "store metadata with item" and
  reads back on a scan): `series` is a list of `"Name #sequence"` strings.
- `metadata.opf`: OPF 2.0 as Calibre writes it (`calibre:series` / `calibre:series_index` metas;
  narrators as `dc:contributor` with role `nrt`); Audiobookshelf reads it too.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET

from mamdl.mam.models import SearchResult

LANGUAGE_NAMES = {
    "ENG": ("English", "eng"),
    "FRA": ("French", "fra"),
    "FRE": ("French", "fra"),
    "DEU": ("German", "deu"),
    "GER": ("German", "deu"),
    "SPA": ("Spanish", "spa"),
    "ITA": ("Italian", "ita"),
    "POR": ("Portuguese", "por"),
    "POL": ("Polish", "pol"),
    "RUS": ("Russian", "rus"),
    "SWE": ("Swedish", "swe"),
    "NLD": ("Dutch", "nld"),
    "JPN": ("Japanese", "jpn"),
}
EXPLICIT_FLAG = 16
ABRIDGED_FLAG = 32
_XML_BAD = re.compile(r"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """XML 1.0 cannot hold NUL or most control characters, even escaped: drop them."""
    return _XML_BAD.sub("", text)


def split_title(title: str) -> tuple[str, str | None]:
    """MAM has no subtitle field; `Sapiens: A Brief History of Humankind` holds one after `: `."""
    head, sep, tail = title.partition(": ")
    return (head.strip(), tail.strip()) if sep and head.strip() and tail.strip() else (title, None)


def tags_of(row: SearchResult) -> list[str]:
    return [t.strip() for t in re.split(r"[,;|]", row.tags) if t.strip()]


def genre_of(row: SearchResult) -> list[str]:
    """`Audiobooks - Science Fiction` → `Science Fiction`."""
    name = row.catname.split(" - ", 1)[-1].strip()
    return [name] if name else []


def description_of(row: SearchResult) -> str | None:
    return html.unescape(row.description).strip() if row.description else None


def abs_metadata(row: SearchResult) -> dict:
    """Audiobookshelf's metadata.json for this row."""
    title, subtitle = split_title(row.title)
    lang = LANGUAGE_NAMES.get(row.lang_code.upper(), (row.lang_code or None, None))[0]
    series = [f"{s.name} #{s.number}" if s.number else s.name for s in row.series if s.name]
    return {
        "tags": tags_of(row),
        "chapters": [],
        "title": title,
        "subtitle": subtitle,
        "authors": row.author_names,
        "narrators": row.narrator_names,
        "series": series,
        "genres": genre_of(row),
        "publishedYear": None,
        "publishedDate": None,
        "publisher": None,
        "description": description_of(row),
        "isbn": row.isbn,
        "asin": None,
        "language": lang,
        "explicit": bool(row.browseflags & EXPLICIT_FLAG),
        "abridged": bool(row.browseflags & ABRIDGED_FLAG),
    }


def abs_metadata_json(row: SearchResult) -> bytes:
    return (json.dumps(abs_metadata(row), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


OPF_NS = "http://www.idpf.org/2007/opf"
DC_NS = "http://purl.org/dc/elements/1.1/"


def opf_xml(row: SearchResult, *, cover_name: str | None = None) -> bytes:
    """An OPF 2.0 package document Calibre reads (`calibredb add` with `metadata.opf`, or import)."""
    ET.register_namespace("", OPF_NS)
    ET.register_namespace("dc", DC_NS)
    ET.register_namespace("opf", OPF_NS)
    pkg = ET.Element(f"{{{OPF_NS}}}package", {"version": "2.0", "unique-identifier": "mam_id"})
    meta = ET.SubElement(pkg, f"{{{OPF_NS}}}metadata")

    def dc(tag: str, text: str, **attrs: str) -> None:
        el = ET.SubElement(meta, f"{{{DC_NS}}}{tag}", {f"{{{OPF_NS}}}{k}": v for k, v in attrs.items()})
        el.text = _xml_text(text)

    ident = ET.SubElement(meta, f"{{{DC_NS}}}identifier", {"id": "mam_id", f"{{{OPF_NS}}}scheme": "MAM"})
    ident.text = str(row.id)
    if row.isbn:
        dc("identifier", row.isbn, scheme="ISBN")
    dc("title", row.title)
    for name in row.author_names:
        dc("creator", name, role="aut")
    for name in row.narrator_names:
        dc("contributor", name, role="nrt")
    lang = LANGUAGE_NAMES.get(row.lang_code.upper(), (None, row.lang_code.lower() or None))[1]
    if lang:
        dc("language", lang)
    desc = description_of(row)
    if desc:
        dc("description", desc)
    for tag in [*genre_of(row), *tags_of(row)]:
        dc("subject", tag)
    if row.series:
        s = row.series[0]
        ET.SubElement(meta, f"{{{OPF_NS}}}meta", {"name": "calibre:series", "content": _xml_text(s.name)})
        if re.fullmatch(r"\d+(\.\d+)?", s.number.strip()):
            ET.SubElement(meta, f"{{{OPF_NS}}}meta", {"name": "calibre:series_index", "content": s.number.strip()})
    if cover_name:
        guide = ET.SubElement(pkg, f"{{{OPF_NS}}}guide")
        ET.SubElement(guide, f"{{{OPF_NS}}}reference", {"type": "cover", "title": "Cover", "href": cover_name})
    ET.indent(pkg)
    return ET.tostring(pkg, encoding="utf-8", xml_declaration=True) + b"\n"


def cover_name_for(data: bytes) -> str | None:
    """`cover.jpg` / `cover.png` / … from the image's magic bytes; None when it isn't an image."""
    if data.startswith(b"\xff\xd8\xff"):
        return "cover.jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "cover.png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "cover.webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "cover.gif"
    return None
