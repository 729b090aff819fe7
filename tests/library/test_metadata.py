"""metadata.json (Audiobookshelf) and metadata.opf (Calibre) from MAM's row only."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from mamdl.library.metadata import abs_metadata_json, cover_name_for, opf_xml
from mamdl.mam.models import SearchResult
from mamdl.sandbox.server import thumbnail_png

OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"

MAM_ROW = {  # as MAM sends it: JSON inside JSON, numbers as strings
    "id": "968284",
    "title": "Sapiens: A Brief History of Humankind",
    "author_info": '{"1944":"Yuval Noah Harari"}',
    "narrator_info": '{"5":"Derek Perkins","6":"Second &amp; Narrator"}',
    "series_info": '{"9":["Big History","2"]}',
    "main_cat": "13",
    "catname": "Audiobooks - History",
    "lang_code": "ENG",
    "tags": "history, anthropology",
    "browseflags": "16",
    "description": "A &lt;b&gt;history&lt;/b&gt; with a NUL\x00 and a bell\x07 inside",
    "isbn": 9780062316097,
    "times_completed": "3",
}


def test_audiobookshelf_metadata_json_carries_the_rows_fields():
    """Catches: a missing or renamed ABS key, series without its sequence, narrators lost, the
    subtitle not split off, HTML entities left escaped."""
    row = SearchResult.from_api(MAM_ROW)
    data = json.loads(abs_metadata_json(row))
    assert data["title"] == "Sapiens" and data["subtitle"] == "A Brief History of Humankind"
    assert data["authors"] == ["Yuval Noah Harari"]
    assert data["narrators"] == ["Derek Perkins", "Second & Narrator"]
    assert data["series"] == ["Big History #2"]
    assert data["isbn"] == "9780062316097" and data["language"] == "English"
    assert data["tags"] == ["history", "anthropology"] and data["genres"] == ["History"]
    assert data["explicit"] is True and data["abridged"] is False
    assert data["description"].startswith("A <b>history</b>")


def test_opf_parses_and_calibre_fields_are_there():
    """Catches: invalid XML from control characters in MAM's text, missing series index, authors
    and narrators given the same role, the cover not referenced."""
    row = SearchResult.from_api(MAM_ROW)
    root = ET.fromstring(opf_xml(row, cover_name="cover.png"))
    md = root.find(f"{OPF}metadata")
    assert md.find(f"{DC}title").text == "Sapiens: A Brief History of Humankind"
    roles = {(e.text, e.get(f"{OPF}role")) for e in md.iter() if e.tag in (f"{DC}creator", f"{DC}contributor")}
    assert roles == {("Yuval Noah Harari", "aut"), ("Derek Perkins", "nrt"), ("Second & Narrator", "nrt")}
    ids = {e.get(f"{OPF}scheme"): e.text for e in md.findall(f"{DC}identifier")}
    assert ids == {"MAM": "968284", "ISBN": "9780062316097"}
    assert md.find(f"{DC}language").text == "eng"
    metas = {m.get("name"): m.get("content") for m in md.findall(f"{OPF}meta")}
    assert metas == {"calibre:series": "Big History", "calibre:series_index": "2"}
    assert "\x00" not in md.find(f"{DC}description").text
    assert root.find(f"{OPF}guide/{OPF}reference").get("href") == "cover.png"


def test_cover_type_from_magic_bytes():
    """Catches: a cover saved under the wrong extension, or a non-image (an HTML error page) kept."""
    assert cover_name_for(thumbnail_png(1)) == "cover.png"
    assert cover_name_for(b"\xff\xd8\xff\xe0JFIF") == "cover.jpg"
    assert cover_name_for(b"<html>login</html>") is None


def test_sandbox_rows_name_a_thumbnail_only_when_asked_and_serve_it(sandbox_env, isolated_home):
    """Catches: the thumbnail missing from rows that asked (no cover in the library), sent to
    clients that didn't ask (MAM's default), or the client fetching covers from other hosts."""
    import pytest

    from mamdl.config import load_settings
    from mamdl.errors import MamError
    from mamdl.mam.client import MamClient
    from mamdl.mam.models import SearchRequest

    with MamClient(load_settings()) as client:
        plain = client.search(SearchRequest(torrent_id=418286)).results[0]
        assert plain.thumbnail is None
        row = client.search(SearchRequest(torrent_id=418286, details=True)).results[0]
        assert row.thumbnail and row.thumbnail.endswith("/tor/thumbnail/418286.png")
        assert client.thumbnail(row.thumbnail) == thumbnail_png(418286)
        with pytest.raises(MamError, match="only MAM's own hosts"):
            client.thumbnail("http://127.0.0.2:1/evil.png")
