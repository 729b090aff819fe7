"""Issue 11 from the command line: `mam get` and wedges, `mam get`/`mam fetch` when MAM's search by id
misses, and `mam sandbox`'s answer-form options. Each docstring names the sabotage it catches."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx2
import pytest

from tests.cli.conftest import MAM

DOWNLOAD = "/tor/download.php"
SEARCH = "/tor/js/loadSearchJSONbasic.php"


def _paid_tid(sb) -> int:
    return next(e.id for e in sb.catalogue.entries if not e.free and not e.fl_vip)


def test_repeated_get_never_spends_a_second_wedge(mam, sandbox_env):
    """Sabotage caught: recording the wedge only after a successful answer (the second `mam get`
    would send `&fl` again and MAM would take a second wedge), or retrying the lost request."""
    sb = sandbox_env
    tid = str(_paid_tid(sb))
    sb.add_fault("drop_answer", path=DOWNLOAD)  # MAM spends the wedge, the answer never arrives
    first = mam("get", tid, "--wedge", "always", "--json")
    assert first.returncode == 1, first.stdout + first.stderr
    error = json.loads(first.stdout)  # --json: the error is JSON on stdout
    assert error["kind"] == "WedgeUncertain" and "may have reached MAM" in error["error"]
    assert "Traceback" not in first.stderr
    assert sb.mam_id not in first.stderr + first.stdout
    assert len(sb.wedge_spends()) == 1

    second = mam("get", tid, "--wedge", "always", "--json")
    assert second.returncode == 0, second.stderr
    fetched = json.loads(second.stdout)["fetch"]
    assert fetched["wedge_used"] is False and "already spent" in fetched["wedge_reason"]
    assert Path(fetched["path"]).read_bytes().startswith(b"d")
    assert len(sb.wedge_spends()) == 1
    downloads = [r for r in sb.requests() if r["path"].startswith(DOWNLOAD)]
    assert len(downloads) == 2  # one lost wedge request, one plain fetch: nothing resent


@pytest.mark.parametrize(
    "search_answer",
    [
        '{"error": "Nothing returned, out of 0"}',  # the search by id returns nothing
        '{"error": "Error in search: unknown key id"}',  # the search by id fails
    ],
)
@pytest.mark.parametrize("command", ["get", "fetch"])
def test_get_and_fetch_by_tid_when_the_search_by_id_misses(mam, sandbox_env, search_answer, command):
    """Sabotage caught: `mam get ID` / `mam fetch ID` depending on the `tor[id]` search alone (they
    would stop with "no torrent with id"), or naming the file without a title."""
    sb = sandbox_env
    tid = _paid_tid(sb)
    sb.add_fault("answer", path=SEARCH, body=search_answer, count=-1)
    p = mam(command, str(tid), "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    fetched = out["fetch"] if command == "get" else out
    assert fetched["title"] == sb.payload(tid).name  # the name inside the .torrent
    assert Path(fetched["path"]).name.startswith(f"{tid}_") and Path(fetched["path"]).stat().st_size > 0
    assert any(r["path"] == DOWNLOAD for r in sb.requests())  # fetched by ?tid=, no dl hash needed


def test_sandbox_command_serves_doc_rows_and_top_level_summary(tmp_path):
    """Sabotage caught: `mam sandbox --row-style doc --summary-style top` not reaching the sandbox."""
    env = {**os.environ, "MAMDL_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [MAM, "sandbox", "--row-style", "doc", "--summary-style", "top", "--data-dir", str(tmp_path / "sb")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip().split("=", 1)[1]
        cookie = proc.stdout.readline().strip().split("=", 1)[1]
        headers = {"Cookie": f"mam_id={cookie}"}
        rows = httpx2.post(base + SEARCH, json={"tor": {"text": "dune"}}, headers=headers, timeout=10).json()["data"]
        assert all(isinstance(r["id"], str) and isinstance(r["seeders"], str) for r in rows)
        user = httpx2.get(base + "/jsonLoad.php?snatch_summary", headers=headers, timeout=10).json()
        assert "snatch_summary" not in user and user["unsat"]["limit"] > 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    bad = subprocess.run([MAM, "sandbox", "--row-style", "xml"], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode != 0 and "--row-style must be live or doc" in bad.stderr


def test_doctor_tells_an_ip_locked_session_from_an_expired_one(mam, sandbox_env):
    """Sabotage caught: `mam doctor` giving the expired-cookie advice (a new cookie from the same
    place) for a session MAM refuses because of its IP/ASN lock."""
    sandbox_env.add_fault(
        "answer",
        path="/json/checkCookie.php",
        status=401,
        content_type="text/plain",
        body="ip 198.51.100.7 does not match account",
        count=-1,
    )
    checks = {c["name"]: c for c in json.loads(mam("doctor", "--json").stdout)}
    session = checks["session"]
    assert session["status"] == "fail" and "IP address or ASN" in session["detail"]
    assert "seedbox-ip" in session["fix"] and "mam config init" not in session["fix"]
