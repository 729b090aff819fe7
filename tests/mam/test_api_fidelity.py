"""Issue 11: the client against the sandbox where public captures show MAM differs from its docs.

Each test names, in its docstring, the sabotage it catches (break the code that way and it fails).
"""

from __future__ import annotations

import json
import logging

import httpx2
import pytest

from mamdl.config import load_settings
from mamdl.errors import (
    GuardRefused,
    MalformedResponse,
    NetworkError,
    SessionExpired,
    SessionLocked,
    WedgeUncertain,
)
from mamdl.mam import models
from mamdl.mam.client import MamClient
from mamdl.mam.models import SearchRequest
from mamdl.sandbox import Sandbox

DOWNLOAD = "/tor/download.php"


@pytest.fixture
def client(sandbox_env):
    with MamClient(load_settings()) as c:
        yield c


def _raw(sb: Sandbox, path: str, **kw) -> httpx2.Response:
    return httpx2.get(sb.base_url + path, headers={"Cookie": f"mam_id={sb.mam_id}"}, timeout=10, **kw)


def _downloads(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests() if r["path"].startswith(DOWNLOAD))


def _paid_tid(sb: Sandbox) -> int:
    return next(e.id for e in sb.catalogue.entries if not e.free and not e.fl_vip)


# ---------------------------------------------------------------------------------------- 1 wedges


def test_wedge_is_the_bare_fl_form_and_recorded_before_sending(client, sandbox):
    """Sabotage caught: sending `fl=1` (the sandbox, strict, spends nothing for it), or recording the
    spend only after the answer (the ledger is checked from inside the sandbox's request handler)."""
    tid = _paid_tid(sandbox)
    seen_in_ledger: list[bool] = []
    original = sandbox.state.spend_wedge

    def spy(*args, **kwargs):
        seen_in_ledger.append(client.wedge_recorded(tid))  # what the client had written before sending
        return original(*args, **kwargs)

    sandbox.state.spend_wedge = spy  # type: ignore[method-assign]
    body = client.download_torrent(tid, wedge=True)
    assert body.startswith(b"d")
    assert [w["tid"] for w in sandbox.wedge_spends()] == [tid]
    assert seen_in_ledger == [True]
    assert client.wedges.get(client.settings.base_url, tid).state == "spent"


def test_lost_answer_after_the_spend_is_never_resent_and_never_spent_twice(client, sandbox):
    """Sabotage caught: retrying a wedge request like any other (the sandbox would count two spends),
    not recording the spend before sending (the second call would send `&fl` again), or raising the
    generic network error (the user would not learn that a wedge may be gone)."""
    tid = _paid_tid(sandbox)
    sandbox.add_fault("drop_answer", path=DOWNLOAD, count=3)  # three chances to retry: none taken
    with pytest.raises(WedgeUncertain, match=f"mam get {tid}"):
        client.download_torrent(tid, wedge=True)
    assert _downloads(sandbox) == 1
    assert [w["tid"] for w in sandbox.wedge_spends()] == [tid]  # MAM did count it
    assert client.wedge_recorded(tid)
    sandbox.clear_faults()
    with pytest.raises(GuardRefused, match="never sends a second"):
        client.download_torrent(tid, wedge=True)
    assert _downloads(sandbox) == 1  # refused before sending anything
    assert client.download_torrent(tid).startswith(b"d")
    assert len(sandbox.wedge_spends()) == 1


def test_a_wedge_request_that_never_left_is_taken_back(isolated_home, monkeypatch):
    """Sabotage caught: keeping the ledger entry when the connection could not even be opened (the
    user could then never use a wedge on that torrent), or not retrying a connect failure."""
    monkeypatch.setenv("MAM_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.01")
    monkeypatch.setenv("MAMDL_MAX_ATTEMPTS", "2")
    with MamClient(load_settings()) as c:
        with pytest.raises(NetworkError):
            c.download_torrent(42, wedge=True)
        assert not c.wedge_recorded(42)


# ---------------------------------------------------------------------------------------- 2 rows

QUIRKY_ROWS = [
    {
        "id": 501,
        "title": 1984,
        "author_info": '{"1":"George Orwell"}',
        "series_info": '{"9":["Oceania","1","a third element"]}',
        "main_cat": 14,
        "category": "61",
        "size": "1.00 MiB",
        "added": "2020-01-01 00:00:00",
        "description": 1949,
        "isbn": 9780451524935,
        "ownership": '[77,"orwellfan"]',
        "free": "yes",
        "vip": "no",
        "a_field_from_the_future": {"nested": [1, 2]},
        "filetype": "epub",
        "seeders": "12",
    },
    {
        "id": 502,
        "title": "Animal Farm",
        "author_info": '{"1":"George Orwell"}',
        "main_cat": 14,
        "size": 2048,
        "added": "2020-01-02 00:00:00",
        "catname": {"not": "text"},
        "filetype": "epub",
    },
    {
        "id": 503,
        "title": "Homage to Catalonia",
        "author_info": '{"1":"George Orwell"}',
        "main_cat": 14,
        "size": "3 KiB",
        "added": "2020-01-03 00:00:00",
        "catname": ["not", "text"],
        "filetype": "epub",
    },
]


@pytest.fixture(params=["live", "doc"])
def quirky(request, tmp_path, monkeypatch):
    with Sandbox(QUIRKY_ROWS, data_dir=tmp_path / "sb", rotate_every=0, row_style=request.param) as sb:
        monkeypatch.setenv("MAM_BASE_URL", sb.base_url)
        monkeypatch.setenv("MAM_ID", sb.mam_id)
        monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.01")
        yield sb


def test_odd_fields_never_drop_a_row_in_either_wire_form(quirky, monkeypatch, caplog):
    """Sabotage caught: validating the raw row as a whole (a numeric title/description/isbn or an
    unreadable catname drops the row), reading `ownership` only as a list, warning per row."""
    monkeypatch.setattr(models, "_warned_fields", set())
    raw = _raw(quirky, "/tor/js/loadSearchJSONbasic.php", params={"tor[text]": ""}).json()["data"]
    first = next(r for r in raw if str(r["id"]) == "501")
    if quirky.row_style == "live":  # the test really covers both forms
        assert first["title"] == 1984 and first["id"] == 501 and isinstance(first["ownership"], str) and "w" in first
    else:
        assert first["title"] == "1984" and first["id"] == "501" and first["seeders"] == "12"
    with caplog.at_level(logging.WARNING, logger="mamdl.mam.models"), MamClient(load_settings()) as c:
        rows = {r.id: r for r in c.search(SearchRequest(text="")).results}
    assert set(rows) == {501, 502, 503}
    r = rows[501]
    assert r.title == "1984" and r.description == "1949" and r.isbn == "9780451524935"
    assert r.owner_name == "orwellfan" and r.free and not r.vip and r.seeders == 12 and r.category == 61
    assert [(s.name, s.number) for s in r.series] == [("Oceania", "1")]
    assert rows[502].catname == "" and rows[503].catname == "" and rows[502].size_bytes == 2048
    warnings = [rec for rec in caplog.records if "catname" in rec.getMessage()]
    assert len(warnings) == 1  # once per field, not once per row


def test_row_models_read_numbers_and_strings_alike():
    """Sabotage caught: a `SearchResult` field typed as text that refuses a JSON number."""
    live = models.SearchResult.from_api(
        {"id": 7, "title": 1984, "times_completed": 3, "description": 12, "isbn": 978, "owner_name": 123, "w": 40}
    )
    doc = models.SearchResult.from_api(
        {"id": "7", "title": "1984", "times_completed": "3", "description": "12", "isbn": "978", "owner_name": "123"}
    )
    for r in (live, doc):
        assert (r.id, r.title, r.snatches, r.description, r.isbn, r.owner_name) == (7, "1984", 3, "12", "978", "123")
    assert live.weight == 40


# ---------------------------------------------------------------------------------------- 3 user


@pytest.mark.parametrize("style", ["nested", "top"])
def test_user_details_nested_and_top_level(style, tmp_path, monkeypatch):
    """Sabotage caught: reading only the top-level buckets (the nested default, with its stray
    `"unsat": null`, would lose the unsatisfied count and limit), or only the nested ones."""
    with Sandbox(data_dir=tmp_path / "sb", rotate_every=0, summary_style=style, user={"seedbonus": 123456.7}) as sb:
        tids = [e.id for e in sb.catalogue.entries[:3]]
        sb.add_snatch(tids[0], seeded=0)
        sb.add_snatch(tids[1], seeded=0, active=False)
        raw = _raw(sb, "/jsonLoad.php", params={"snatch_summary": ""}).json()
        assert raw["country_code"] == "us" and raw["seedbonus"] == 99_999 and isinstance(raw["seedbonus"], int)
        if style == "nested":
            assert raw["unsat"] is None and "red" not in raw["snatch_summary"]["unsat"]
            assert {"connectable", "created", "created_at"} <= set(raw["snatch_summary"])
        else:
            assert "snatch_summary" not in raw and raw["unsat"]["limit"] == 100
        monkeypatch.setenv("MAM_BASE_URL", sb.base_url)
        monkeypatch.setenv("MAM_ID", sb.mam_id)
        monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.01")
        with MamClient(load_settings()) as c:
            user = c.user()
    s = user.snatch_summary
    assert s is not None
    assert (s.unsatisfied, s.unsat_limit, s.seeding_unsatisfied, s.inactive_unsatisfied) == (2, 100, 1, 1)
    assert user.country_code == "US" and user.seedbonus == 99_999


def test_nested_summary_wins_over_a_null_top_level_bucket():
    """Sabotage caught: taking the nested form alone when present (a bucket only at the top level,
    here `sSat`, is lost), or letting the top-level `"unsat": null` hide the nested count."""
    u = models.UserInfo.from_api(
        {
            "username": "x",
            "unsat": None,
            "sSat": {"count": 9},
            "snatch_summary": {"unsat": {"count": 4, "limit": 50}, "connectable": "yes"},
        }
    )
    assert u.snatch_summary is not None
    assert (u.snatch_summary.unsatisfied, u.snatch_summary.unsat_limit, u.snatch_summary.seeding_satisfied) == (
        4,
        50,
        9,
    )


# ---------------------------------------------------------------------------------------- 4 sessions


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (200, "text/plain; charset=utf-8", "Error: your session has ended (wording MAM never published)"),
        (200, "text/html; charset=utf-8", "<html><body>Please come back later</body></html>"),
        (403, "text/html; charset=utf-8", "Forbidden"),
        (401, "application/json", '{"error": "whatever"}'),
    ],
)
def test_expired_session_judged_by_status_and_content_type(client, sandbox, status, content_type, body):
    """Sabotage caught: recognising a dead session by the one literal "Error, you are not signed in"
    (or a login form) only: these bodies say something else and must still mean SessionExpired."""
    sandbox.add_fault("answer", path="/jsonLoad.php", status=status, content_type=content_type, body=body)
    with pytest.raises(SessionExpired, match="mam config init") as err:
        client.user()
    assert sandbox.mam_id not in str(err.value)


def test_malformed_json_is_still_not_an_expired_session(client, sandbox):
    """Sabotage caught: treating every unparsable answer as an expired session."""
    sandbox.add_fault("answer", path="/jsonLoad.php", body='{"username": "trunc')
    with pytest.raises(MalformedResponse):
        client.user()


def test_check_cookie_accepts_a_sentence_as_success(client, sandbox):
    """Sabotage caught: accepting only `Success: true` (a mock of MAM sends a sentence)."""
    sandbox.add_fault(
        "answer", path="/json/checkCookie.php", body=json.dumps({"Success": "You are logged in as: sandbox_reader"})
    )
    assert client.check_cookie()["Success"].startswith("You are logged in")
    sandbox.add_fault("answer", path="/json/checkCookie.php", body=json.dumps({"Success": "false"}))
    with pytest.raises(SessionExpired):
        client.check_cookie()


def test_ip_locked_download_gets_its_own_error(client, sandbox):
    """Sabotage caught: folding 401 "ip … does not match account" into SessionExpired (whose advice,
    a new cookie, would not help)."""
    tid = sandbox.catalogue.entries[0].id
    sandbox.add_fault(
        "answer",
        path=DOWNLOAD,
        status=401,
        content_type="text/plain; charset=utf-8",
        body="ip 198.51.100.7 does not match account, and no auth cookie provided",
    )
    with pytest.raises(SessionLocked) as err:
        client.download_torrent(tid)
    assert not isinstance(err.value, SessionExpired)
    message = str(err.value)
    assert "IP address or ASN" in message and "Preferences -> Security" in message
    assert sandbox.mam_id not in message and sandbox.passkey not in message
    # the sandbox itself answers a cookie-less download this way
    bare = httpx2.get(f"{sandbox.base_url}{DOWNLOAD}?tid={tid}", timeout=10)
    assert bare.status_code == 401 and "does not match account" in bare.text


# ---------------------------------------------------------------------------------------- 6 paging


def test_paging_past_the_end_is_the_end_of_the_list(client, sandbox):
    """Sabotage caught: treating "Nothing returned, out of N" with N > 0 as an error, or reporting 0
    found for it. (The sandbox's own past-the-end answer is pinned in tests/sandbox/test_search.py.)"""
    first = client.search(SearchRequest(text="", per_page=5))
    assert first.found > 5
    past = client.search(SearchRequest(text="", per_page=5, start=first.found + 50))
    assert past.results == [] and past.found == first.found
    # MAM stops serving rows early on long lists (about 200 reported): "out of 400" ends the list too
    sandbox.add_fault(
        "answer", path="/tor/js/loadSearchJSONbasic.php", body='{"error": "Nothing returned, out of 400"}'
    )
    capped = client.search(SearchRequest(text="", start=200))
    assert capped.results == [] and capped.found == 400
