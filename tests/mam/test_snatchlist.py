"""MAM's per-torrent snatch lists: the typed rows and the client's paging, against the sandbox."""

from __future__ import annotations

import pytest

from mamdl.errors import MalformedResponse
from mamdl.mam.snatchlist import UserTorrent, parse_duration


def test_seed_time_to_go_parses_every_form_and_never_guesses():
    """Sabotage caught: reading "1d 12:10:28" as 12 h (days dropped) or junk as 0 s ("nothing left")."""
    assert parse_duration("1d 12:10:28") == 86400 + 12 * 3600 + 10 * 60 + 28
    assert parse_duration("12:10:28") == 12 * 3600 + 628
    assert parse_duration("10:28") == 628
    assert parse_duration("3600") == 3600 and parse_duration(90) == 90
    assert parse_duration("") is None and parse_duration(None) is None
    assert parse_duration("soon") is None


def test_rows_with_numbers_as_strings_keep_their_values():
    """Sabotage caught: a row with string numbers losing its seedtime (MAM's lists send strings)."""
    t = UserTorrent.from_api(
        {"id": "42", "title": 1984, "size": "1048576", "seedtime": "7200", "STG": "2:00:00", "finished": "1"}, "unsat"
    )
    assert (t.id, t.title, t.size_bytes, t.seedtime, t.seed_time_to_go, t.finished) == (
        42, "1984", 1048576, 7200, 7200, True,
    )  # fmt: skip
    assert not t.satisfied and UserTorrent.from_api({"id": 1}, "inactSat").satisfied


def _client(sb, monkeypatch):
    from mamdl.config import load_settings
    from mamdl.mam.client import MamClient

    monkeypatch.setenv("MAM_BASE_URL", sb.base_url)
    monkeypatch.setenv("MAM_ID", sb.mam_id)
    monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0")
    return MamClient(load_settings())


def test_client_pages_until_empty_and_matches_the_summary(sandbox, monkeypatch):
    """Sabotage caught: stopping after the first page (the sandbox pages 25 rows), or rows that
    disagree with the bucket counts of jsonLoad."""
    ids = [e.id for e in sandbox.catalogue.entries]
    satisfied, unsatisfied = ids[:30], ids[30:33]
    for tid in satisfied:
        sandbox.add_snatch(tid, age=100, seeded=10**6)
    for tid in unsatisfied:
        sandbox.add_snatch(tid, age=100, seeded=1)
    with _client(sandbox, monkeypatch) as c:
        uid = c.user().uid
        sat = c.user_torrents(uid, "sSat")
        unsat = c.user_torrents(uid, "unsat")
        summary = c.user().snatch_summary
    assert sorted(t.id for t in sat) == sorted(satisfied) and len(sat) == summary.seeding_satisfied == 30
    assert sorted(t.id for t in unsat) == sorted(unsatisfied) and len(unsat) == summary.unsatisfied
    assert all(t.seed_time_to_go and t.seed_time_to_go > 0 for t in unsat)
    assert all(t.seed_time_to_go is None and t.seedtime >= 10**6 for t in sat)


def test_an_answer_without_rows_is_an_error_not_an_empty_list(sandbox, monkeypatch):
    """Sabotage caught: treating a broken answer as "no unsatisfied torrents" (fail open)."""
    sandbox.add_fault("status", status=200, path="/json/loadUserDetailsTorrents.php", body='{"error": "busy"}', count=1)
    with _client(sandbox, monkeypatch) as c:
        with pytest.raises(MalformedResponse, match="no rows"):
            c.user_torrents(214748, "unsat")
        with pytest.raises(MalformedResponse, match="said it failed"):
            c.user_torrents(1, "unsat")  # another user's list: MAM says no, never "empty"
        with pytest.raises(ValueError):
            c.user_torrents(214748, "everything")
