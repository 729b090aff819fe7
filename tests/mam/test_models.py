from mamdl.mam.models import SearchRequest, SearchResult, SnatchSummary, UserInfo, parse_size

ROW = {
    "id": "1234",
    "title": "Love &amp; Stakes",
    "author_info": '{"8234":"Kerrelyn Sparks","9":"A &amp; B"}',
    "narrator_info": "",
    "series_info": '{"67":["Love at Stake","01-16, 13.5"]}',
    "size": "350.50 MiB",
    "seeders": "12",
    "leechers": 0,
    "times_completed": "99",
    "main_cat": "13",
    "filetype": "m4b mp3",
    "vip": "1",
    "free": 0,
    "fl_vip": True,
    "personal_freeleech": "0",
    "my_snatched": 1,
    "added": "2021-05-06 07:08:09",
    "lang_code": "ENG",
    "ownership": [5, "uploader"],
    "w": "12.5",
}


def test_quirky_row_parses_once():
    r = SearchResult.from_api(ROW)
    assert r.id == 1234 and r.title == "Love & Stakes"
    assert r.author_names == ["Kerrelyn Sparks", "A & B"]
    assert r.narrators == []
    assert r.series[0].name == "Love at Stake" and r.series[0].number == "01-16, 13.5"
    assert r.size_bytes == int(350.5 * 1024**2)
    assert (r.seeders, r.snatches, r.format) == (12, 99, "audiobook")
    assert r.filetypes == ["m4b", "mp3"]
    assert r.vip and not r.free and r.fl_vip and r.my_snatched
    assert r.owner_name == "uploader" and r.weight == 12.5
    assert r.is_free_for(vip_user=True) and not r.is_free_for(vip_user=False)


def test_malformed_inner_json_is_tolerated():
    r = SearchResult.from_api({**ROW, "author_info": "{not json", "series_info": None, "size": "12345"})
    assert r.authors == [] and r.series == [] and r.size_bytes == 12345


def test_sizes():
    assert parse_size("1,024 KiB") == 1024**2
    assert parse_size("5.125 TiB") == int(5.125 * 1024**4)
    assert parse_size(None) == 0 and parse_size("junk") == 0


def test_user_and_snatch_summary():
    u = UserInfo.from_api(
        {
            "username": "reader",
            "uid": "7",
            "classname": "Power User",
            "ratio": "∞",
            "uploaded": "5.125 TiB",
            "downloaded_bytes": "0",
            "seedbonus": "1234.5",
            "wedges": "3",
            "snatch_summary": {
                "sSat": {"name": "x", "count": "4", "red": False, "size": 0},
                "seedUnsat": {"count": 2},
                "unsat": {"count": 3, "limit": 100},
                "inactHnr": {"count": "1"},
            },
        }
    )
    assert u.ratio is None and u.uploaded_bytes == int(5.125 * 1024**4) and u.wedges == 3
    s = u.snatch_summary
    assert isinstance(s, SnatchSummary)
    assert (s.seeding_satisfied, s.seeding_unsatisfied, s.unsatisfied, s.unsat_limit, s.hit_and_runs) == (
        4,
        2,
        3,
        100,
        1,
    )


def test_search_payload_omits_empty_language_list():
    p = SearchRequest(text="dune").to_payload()
    assert "browse_lang" not in p["tor"] and p["perpage"] == 50 and p["dlLink"] == "true"
    p = SearchRequest(text="dune", languages=[1], main_cat=[14]).to_payload()
    assert p["tor"]["browse_lang"] == ["1"] and p["tor"]["main_cat"] == ["14"]
