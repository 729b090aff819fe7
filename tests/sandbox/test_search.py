"""Search semantics over real HTTP: strict whole words, AND, wildcards, fields, filters, paging, sorts."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from mamdl.mam.models import SearchRequest, SearchResult
from mamdl.sandbox.search import parse_bracketed

from .conftest import SEARCH


def test_whole_words_and_case_insensitive(http):
    assert set(http.titles({"text": "DUNE"})) == {"Dune", "Der Wüstenplanet"}  # the German one via its series
    assert http.search({"text": "Dun"}) == {"error": "Nothing returned, out of 0"}
    assert http.titles({"text": "hobbit"}) == ["The Hobbit", "Der Hobbit", "The Hobbit", "The Hobbit"]


def test_words_are_anded(http):
    assert set(http.titles({"text": "the hobbit"})) == {"The Hobbit"}
    assert http.search({"text": "hobbit dragon"})["error"].startswith("Nothing returned, out of")


def test_punctuation_separates_words(http):
    assert set(http.titles({"text": "Childhood's End"})) == {"Childhood's End"}
    assert set(http.titles({"text": "childhood s end"})) == {"Childhood's End"}
    assert "error" in http.search({"text": "Childhoods End"})  # no stemming, no apostrophe folding
    assert set(http.titles({"text": "guards"})) == {"Guards! Guards!"}
    assert set(http.titles({"text": "Mistborn: The Final Empire"})) == {"Mistborn: The Final Empire"}


def test_no_accent_folding_no_typo_tolerance(http):
    assert set(http.titles({"text": "años"})) == {"Cien años de soledad"}
    assert "error" in http.search({"text": "anos"})
    assert "error" in http.search({"text": "Miserables"})
    assert set(http.titles({"text": "Misérables"})) == {"Les Misérables"}
    assert "error" in http.search({"text": "Sandersen"})


def test_wildcards_inside_words(http):
    assert set(http.titles({"text": "sand*"})) == {"Mistborn: The Final Empire", "The Way of Kings"}
    assert set(http.titles({"text": "*born"})) == {"Mistborn: The Final Empire"}
    assert set(http.titles({"text": "m*born"})) == {"Mistborn: The Final Empire"}
    assert "error" in http.search({"text": "*xyz*"})


def test_default_fields_include_author_narrator_series_but_not_description(http):
    assert http.titles({"text": "ray porter"}) == ["Project Hail Mary"]  # narrator
    assert set(http.titles({"text": "kingkiller"})) == {"The Name of the Wind"}  # series
    assert "error" in http.search({"text": "Arrakis"})  # only in the description


def test_field_restriction(http):
    assert "error" in http.search({"text": "ray porter", "srchIn": ["title"]})
    assert http.titles({"text": "ray porter", "srchIn": ["narrator"]}) == ["Project Hail Mary"]
    assert set(http.titles({"text": "Arrakis", "srchIn": ["description"]})) == {"Dune", "Der Wüstenplanet"}
    assert "The Martian" in http.titles({"text": "mars", "srchIn": ["tags"]})
    azw3 = http.titles({"text": "azw3", "srchIn": ["fileTypes"]})
    assert azw3 == ["Project Hail Mary"]
    parts = http.search({"text": "Part 40", "srchIn": ["filenames"]})
    assert {row["title"] for row in parts["data"]} >= {"A Game of Thrones", "Les Misérables"}
    # author only: "The" is in nobody's name
    assert "error" in http.search({"text": "the martian", "srchIn": ["author"]})


def test_get_bracketed_form_matches_post(http):
    query = urlencode(
        {
            "tor[text]": "tolkien",
            "tor[srchIn][title]": "true",
            "tor[srchIn][author]": "true",
            "tor[main_cat][]": "13",
            "tor[sortType]": "dateAsc",
            "perpage": "10",
            "dlLink": "",
        }
    )
    via_get = http.get(f"{SEARCH}?{query}").json()
    via_post = http.search(
        {"text": "tolkien", "srchIn": ["title", "author"], "main_cat": ["13"], "sortType": "dateAsc"},
        perpage=10,
        dlLink="true",
    )
    assert [r["id"] for r in via_get["data"]] == [r["id"] for r in via_post["data"]]
    assert all("dl" in r for r in via_get["data"])
    assert via_get["perpage"] == 10


def test_parse_bracketed_nested_and_lists():
    parsed = parse_bracketed("tor[text]=a+b&tor[srchIn][title]=true&tor[cat][]=0&tor[main_cat][0]=13&perpage=5")
    assert parsed == {
        "tor": {"text": "a b", "srchIn": {"title": "true"}, "cat": ["0"], "main_cat": {"0": "13"}},
        "perpage": "5",
    }


def test_zero_results_is_an_error_object_with_http_200(http):
    resp = http.post(SEARCH, json={"tor": {"text": "zzzqqq"}})
    assert resp.status_code == 200
    assert resp.json() == {"error": "Nothing returned, out of 0"}


def test_paging_and_perpage(http):
    first = http.search({"text": "", "main_cat": ["14"], "startNumber": "0"}, perpage=5)
    assert first["perpage"] == 5 and len(first["data"]) == 5 and first["found"] == first["total"] > 40
    second = http.search({"main_cat": ["14"], "startNumber": "5"}, perpage=5)
    assert second["start"] == 5
    assert not {r["id"] for r in first["data"]} & {r["id"] for r in second["data"]}
    everything = http.search({"main_cat": ["14"]})  # perpage missing -> 100
    assert everything["perpage"] == 100 and len(everything["data"]) == everything["found"]
    nested = http.search({"main_cat": ["14"], "perpage": 5})  # nested in tor -> ignored
    assert nested["perpage"] == 100
    assert http.search({}, perpage=1)["perpage"] == 5
    assert http.search({}, perpage=500)["perpage"] == 100
    past_end = http.search({"main_cat": ["14"], "startNumber": "1000"}, perpage=5)
    # MAM answers paging past the end with an error object that still says how many there were
    assert past_end == {"error": f"Nothing returned, out of {first['found']}"}


def test_default_sort_title_matches_first_then_newest(http):
    rows = http.search({"text": "dune"})["data"]
    assert [r["title"] for r in rows][-1] == "Der Wüstenplanet"  # matched by series only
    dunes = [r["id"] for r in rows if r["title"] == "Dune"]
    assert dunes == sorted(dunes, reverse=True)
    assert rows[0]["w"] > rows[-1]["w"]
    browse = http.search({}, perpage=20)["data"]  # no text: newest first
    assert [r["id"] for r in browse] == sorted((r["id"] for r in browse), reverse=True)


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("seedersDesc", lambda r: int(r["seeders"]), True),
        ("seedersAsc", lambda r: int(r["seeders"]), False),
        ("sizeAsc", lambda r: SearchResult.from_api(r).size_bytes, False),
        ("sizeDesc", lambda r: SearchResult.from_api(r).size_bytes, True),
        ("dateAsc", lambda r: r["added"], False),
        ("dateDesc", lambda r: r["added"], True),
        ("titleAsc", lambda r: r["title"].lower(), False),
        ("snatchedDesc", lambda r: int(r["times_completed"]), True),
        ("leechersDesc", lambda r: int(r["leechers"]), True),
        ("categoryAsc", lambda r: r["catname"].lower(), False),
    ],
)
def test_sorts(http, sort, key, reverse):
    rows = http.search({"sortType": sort})["data"]
    assert len(rows) > 50
    values = [key(r) for r in rows]
    assert values == sorted(values, reverse=reverse)


def test_random_sort_returns_everything(http):
    rows = http.search({"text": "the", "sortType": "random"})["data"]
    assert len(rows) == http.search({"text": "the"})["found"]


def test_category_language_and_type_filters(http):
    audio = http.search({"text": "hobbit", "main_cat": ["13"]})["data"]
    assert audio and all(int(r["main_cat"]) == 13 for r in audio)
    french = http.search({"browse_lang": ["36"]})["data"]
    assert french and all(r["lang_code"] == "FRA" for r in french)
    fantasy_ebooks = http.search({"cat": ["63"]})["data"]
    assert fantasy_ebooks and all(r["catname"] == "Ebooks - Fantasy" for r in fantasy_ebooks)
    assert http.search({"cat": ["0"]})["found"] == http.search({})["found"]
    free = http.search({"searchType": "fl"})["data"]
    assert free and all(SearchResult.from_api(r).free for r in free)
    vip = http.search({"searchType": "VIP"})["data"]
    assert vip and all(SearchResult.from_api(r).vip for r in vip)
    not_vip = http.search({"searchType": "nVIP"})
    assert not_vip["found"] == http.search({})["found"] - len(vip)
    inactive = http.search({"searchType": "inactive"})["data"]
    assert inactive and all(int(r["seeders"]) == 0 for r in inactive)
    assert http.search({"searchType": "active"})["found"] == http.search({})["found"] - len(inactive)


def test_empty_browse_lang_breaks_the_search_loudly(http):
    data = http.search({"text": "dune", "browse_lang": []})
    assert "data" not in data and "browse_lang" in data["error"]
    assert not data["error"].startswith("Nothing returned")


def test_size_seeders_id_and_date_filters(http):
    big = http.search({"minSize": "1", "unit": "1073741824"})["data"]
    assert big and all(SearchResult.from_api(r).size_bytes >= 2**30 for r in big)
    small = http.search({"maxSize": "600", "unit": "1024"})["data"]
    assert small and all(SearchResult.from_api(r).size_bytes <= 600 * 1024 for r in small)
    popular = http.search({"minSeeders": "500"})["data"]
    assert popular and all(int(r["seeders"]) >= 500 for r in popular)
    one = http.search({"id": str(popular[0]["id"])})["data"]
    assert [r["id"] for r in one] == [popular[0]["id"]]
    recent = http.search({"startDate": "2021-01-01"})["data"]
    assert recent and all(r["added"] >= "2021-01-01" for r in recent)


def test_hash_filter_finds_generated_torrents(http, sb):
    tid = http.search({"text": "circe", "main_cat": ["14"]})["data"][0]["id"]
    info_hash = sb.store.ensure(sb.catalogue.get(tid)).info_hash
    assert [r["id"] for r in http.search({"hash": info_hash})["data"]] == [tid]
    assert "error" in http.search({"hash": "0" * 40})


def test_client_search_request_payload_is_understood(http):
    req = SearchRequest(text="sanderson", per_page=5, main_cat=[13], languages=[1], min_seeders=1)
    resp = http.post(SEARCH, json=req.to_payload())
    rows = resp.json()["data"]
    results = [SearchResult.from_api(r) for r in rows]
    assert {r.title for r in results} == {"Mistborn: The Final Empire", "The Way of Kings"}
    assert all(r.format == "audiobook" and r.dl for r in results)
    assert results[0].narrators[0].name == "Michael Kramer"


def test_dl_only_with_dllink_and_rows_carry_user_fields(http, sb):
    row = http.search({"text": "piranesi"})["data"][0]
    assert "dl" not in row and row["my_snatched"] == 0 and row["personal_freeleech"] == 0
    sb.add_snatch(row["id"], seeded=10)
    sb.set_user(wedges=1)
    assert http.get(f"/tor/download.php?tid={row['id']}&fl").status_code == 200
    again = http.search({"text": "piranesi"}, dlLink="true")["data"]
    mine = next(r for r in again if r["id"] == row["id"])
    assert mine["my_snatched"] == 1 and mine["personal_freeleech"] == 1 and mine["dl"] == sb.dl_hash(row["id"])
    assert SearchResult.from_api(mine).personal_freeleech
