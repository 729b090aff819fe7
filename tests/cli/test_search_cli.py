"""`mam search`, `mam fetch`, `mam user` as a user runs them: subprocesses against the sandbox."""

import json
import os
import stat

import pytest

from tests.cli.conftest import MAM

ROW_KEYS = {
    "id",
    "title",
    "authors",
    "narrators",
    "series",
    "format",
    "filetypes",
    "size_bytes",
    "seeders",
    "leechers",
    "snatches",
    "language",
    "category",
    "freeleech",
    "vip",
    "snatched",
    "confidence",
}


def test_search_json_contract(mam, sandbox_env):
    p = mam("search", "--title", "dune", "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert isinstance(rows, list) and rows
    assert set(rows[0]) >= ROW_KEYS
    assert rows[0]["title"] == "Dune" and rows[0]["authors"] == ["Frank Herbert"]
    assert all(isinstance(s, dict) and "name" in s and "number" in s for s in rows[0]["series"])
    meta = json.loads(p.stderr.strip().splitlines()[-1])
    assert meta["requests"] >= 1 and meta["queries_sent"][0]["text"]


def test_best_json_takes_the_confident_top(mam, sandbox_env):
    p = mam("search", "-t", "the hobbit", "-a", "tolkien", "--best", "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert len(rows) == 1 and rows[0]["title"] == "The Hobbit"


def test_best_json_not_confident_exits_4(mam, sandbox_env):
    p = mam("search", "zzqqxx nothingatall", "--best", "--json")
    assert p.returncode == 4
    body = json.loads(p.stdout)
    assert "error" in body and body["candidates"] == []


def test_fetch_saves_private_file_and_skips_identical(mam, sandbox_env, isolated_home):
    rows = json.loads(mam("search", "-t", "dune", "--json").stdout)
    tid = str(rows[0]["id"])
    first = mam("fetch", tid, "--json")
    assert first.returncode == 0, first.stderr
    info = json.loads(first.stdout)
    path = info["path"]
    assert os.path.basename(path).startswith(f"{tid}_") and path.endswith(".torrent")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert info["skipped"] is False and len(info["info_hash"]) == 40
    again = json.loads(mam("fetch", tid, "--json").stdout)
    assert again["skipped"] is True and again["path"] == path


def test_fetch_unknown_id_is_a_clear_error(mam, sandbox_env):
    p = mam("fetch", "987654321")
    assert p.returncode == 1 and "no torrent with id" in p.stderr and "Traceback" not in p.stderr


def test_user_is_cached_until_refresh(mam, sandbox_env):
    first = json.loads(mam("user", "--json").stdout)
    assert first["cached"] is False and first["unsatisfied_limit"] > 0
    n = len(sandbox_env.requests())
    second = json.loads(mam("user", "--json").stdout)
    assert second["cached"] is True and len(sandbox_env.requests()) == n
    third = json.loads(mam("user", "--json", "--refresh").stdout)
    assert third["cached"] is False and len(sandbox_env.requests()) == n + 1


def test_interactive_pick_with_keystrokes(sandbox_env):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        MAM, ["search", "-t", "dune", "--pick"], env=dict(os.environ, COLUMNS="160"), encoding="utf-8", timeout=30
    )
    child.expect("Choose")
    child.sendline("x")  # not a choice: asked again
    child.expect("not a choice")
    child.sendline("2")
    child.expect(r"Chosen: .*\(id (\d+)\)")
    chosen = int(child.match.group(1))
    child.expect(pexpect.EOF)
    rows = json.loads(
        __import__("subprocess").run([MAM, "search", "-t", "dune", "--json"], capture_output=True, text=True).stdout
    )
    assert chosen == rows[1]["id"]


def test_interactive_pick_quit(sandbox_env, mam):
    p = mam("search", "-t", "dune", "--pick", input="q\n")
    assert p.returncode == 1 and "Page 1/" in p.stdout


def test_fetch_sanitises_a_hostile_title(tmp_path, mam, monkeypatch, isolated_home):
    from importlib import resources

    from mamdl.sandbox import Sandbox

    rows = json.loads(resources.files("mamdl.sandbox").joinpath("data/default_catalogue.json").read_text())["torrents"]
    evil = dict(rows[0], title="../../../etc/cron.d/evil\\..\u0000 name")
    cat = tmp_path / "cat.json"
    cat.write_text(json.dumps({"torrents": [evil]}))
    with Sandbox(catalogue=cat, data_dir=tmp_path / "sb") as sb:
        monkeypatch.setenv("MAM_BASE_URL", sb.base_url)
        monkeypatch.setenv("MAM_ID", sb.mam_id)
        monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.02")
        p = mam("fetch", str(evil["id"]), "--json")
        assert p.returncode == 0, p.stdout + p.stderr
        path = json.loads(p.stdout)["path"]
    torrents = isolated_home / "torrents"
    assert os.path.dirname(path) == str(torrents)
    assert [f.name for f in torrents.iterdir()] == [os.path.basename(path)]
    assert ".." not in os.path.basename(path) and "\\" not in os.path.basename(path)
