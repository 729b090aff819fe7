"""The built-in catalogue is realistic and parses with the client's models; bad files fail clearly."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from mamdl.mam.models import SearchResult
from mamdl.sandbox import CatalogueError, load_catalogue
from mamdl.sandbox.catalogue import catalogue_from_data, default_catalogue_path
from mamdl.sandbox.payloads import plan_payload

GOOD_ROW = {
    "id": 7,
    "title": "A Book",
    "author_info": '{"1":"Some One"}',
    "narrator_info": "",
    "series_info": "",
    "added": "2020-01-02 03:04:05",
    "size": "1.50 MiB",
    "main_cat": 14,
    "category": 63,
    "filetype": "epub",
}


def test_default_catalogue_rows_parse_with_the_client_models():
    raw = json.loads(default_catalogue_path().read_text(encoding="utf-8"))["torrents"]
    results = [SearchResult.from_api(row) for row in raw]
    assert len(results) >= 60
    assert all(r.title and r.authors and r.size_bytes > 0 and r.added for r in results)
    for row in raw:  # MAM's JSON-inside-JSON: strings, never objects
        assert isinstance(row["author_info"], str)
        assert isinstance(row["narrator_info"], str) and isinstance(row["series_info"], str)
    assert any(isinstance(row["seeders"], str) for row in raw), "some numbers should arrive as strings"


def test_default_catalogue_has_editions_languages_and_flags():
    cat = load_catalogue()
    by_title = Counter((e.authors[0], e.kind) for e in cat.entries)
    authors_with_both = {a for (a, kind) in by_title if (a, "ebook") in by_title and (a, "audiobook") in by_title}
    assert len(authors_with_both) >= 25
    assert {e.language for e in cat.entries} >= {1, 4, 36, 37}
    assert any(e.free for e in cat.entries) and any(e.vip for e in cat.entries) and any(e.fl_vip for e in cat.entries)
    assert any(e.seeders == 0 for e in cat.entries)
    audio = [e for e in cat.entries if e.kind == "audiobook"]
    assert all(e.narrators for e in audio)
    ids = [e.id for e in sorted(cat.entries, key=lambda e: e.added_ts)]
    assert ids == sorted(ids), "ids grow with the added date, as on MAM"


def test_payload_plans_match_numfiles_and_have_real_names():
    cat = load_catalogue()
    for entry in cat.entries:
        plan = plan_payload(entry)
        if entry.kind == "audiobook":
            assert len(plan.files) == entry.numfiles
            assert not plan.single_file
            assert 4 * 2**20 <= plan.total_size <= 16.5 * 2**20
        else:
            assert len(plan.files) == len(entry.filetypes)
            assert 0.5 * 2**20 <= plan.total_size <= 2.1 * 2**20
    hobbit = next(e for e in cat.entries if e.title == "The Hobbit" and e.kind == "audiobook" and "mp3" in e.filetypes)
    names = [f.relpath for f in plan_payload(hobbit).files]
    assert names[0] == "J. R. R. Tolkien - The Hobbit/The Hobbit - Part 01.mp3"


def test_missing_file(tmp_path):
    with pytest.raises(CatalogueError, match="not found"):
        load_catalogue(tmp_path / "nope.json")


def test_bad_json_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"torrents": [\n  {"id": 1,, }\n]}')
    with pytest.raises(CatalogueError, match=r"not valid JSON: .* line 2, column"):
        load_catalogue(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rows": []}, 'must be an object with a "torrents" list'),
        ({"torrents": {}}, '"torrents" must be a list'),
        ({"torrents": []}, "holds no torrents"),
        ({"torrents": ["x"]}, "row 0: must be an object"),
        ({"torrents": [{**GOOD_ROW, "id": "abc"}]}, 'positive integer "id"'),
        ({"torrents": [{**GOOD_ROW, "title": ""}]}, 'non-empty string "title"'),
        ({"torrents": [{**GOOD_ROW, "main_cat": 99}]}, '"main_cat" must be one of'),
        ({"torrents": [{**GOOD_ROW, "size": "huge"}]}, '"size" must be a size'),
        ({"torrents": [{**GOOD_ROW, "added": "2020-01-02"}]}, '"added" must be UTC'),
        ({"torrents": [{**GOOD_ROW, "author_info": {"1": "Some One"}}]}, '"author_info" must be a \\*string\\*'),
        ({"torrents": [{**GOOD_ROW, "seeders": -3}]}, '"seeders" must be a non-negative'),
        ({"torrents": [GOOD_ROW, GOOD_ROW]}, "row 1 repeats id 7"),
    ],
)
def test_invalid_catalogues_are_explained(data, message):
    with pytest.raises(CatalogueError, match=message):
        catalogue_from_data(data, source="test.json")


def test_malformed_info_strings_are_tolerated_like_on_mam():
    cat = catalogue_from_data({"torrents": [{**GOOD_ROW, "author_info": "{not json", "series_info": None}]})
    assert cat.entries[0].authors == [] and cat.entries[0].series == []
