"""The sandbox's `loadUserDetailsTorrents.php`: MAM's shape, computed from tracker accounting."""

from __future__ import annotations

import httpx2


def _get(sb, **params):
    r = httpx2.get(
        sb.base_url + "/json/loadUserDetailsTorrents.php",
        params={"uid": sb.state.user.uid, "iteration": 0, **params},
        headers={"Cookie": f"mam_id={sb.mam_id}"},
    )
    assert r.status_code == 200
    return r.json()


def test_rows_have_mams_fields_as_strings_and_stg_only_while_unsatisfied(sandbox):
    """Sabotage caught: a satisfied row still carrying STG, or a row put in the wrong list."""
    a, b, c = [e.id for e in sandbox.catalogue.entries][:3]
    sandbox.add_snatch(a, age=60, seeded=1)
    sandbox.add_snatch(b, age=60, seeded=100, active=False)
    sandbox.add_snatch(c, age=60, seeded=1, left=5)
    unsat = _get(sandbox, type="unsat")
    assert unsat["success"] is True and {r["id"] for r in unsat["rows"]} == {str(a), str(c)}
    row = next(r for r in unsat["rows"] if r["id"] == str(a))
    for key in (
        "title",
        "size",
        "seedtime",
        "STG",
        "finished",
        "complete_unix",
        "start_unix",
        "last_action_unix",
        "dl",
    ):
        assert key in row
    # the fixture's satisfy_seconds is 5; an active seed's clock keeps running between announces
    assert row["STG"] in ("00:00:04", "00:00:03", "00:00:02") and row["finished"] == "1"
    assert 5 - int(row["seedtime"]) == int(row["STG"][-2:])
    assert _get(sandbox, type="unsat", iteration=1)["rows"] == []  # unsat comes back whole
    inact = _get(sandbox, type="inactSat")["rows"]
    assert [r["id"] for r in inact] == [str(b)] and "STG" not in inact[0]
    assert [r["id"] for r in _get(sandbox, type="leeching")["rows"]] == [str(c)]


def test_other_users_lists_are_refused(sandbox):
    body = _get(sandbox, type="unsat", uid=1)
    assert body["success"] is False and body["rows"] == []
