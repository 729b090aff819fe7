"""The cookie never appears in stdout, stderr, --json output, logs or any state file but the one
meant for it (`session.json`, mode 0600), whatever goes wrong; neither does the passkey in output
or logs. Every cookie the sandbox hands out while the commands run (it rotates them) counts."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

SECRET_HOME = {"session.json"}
"""The one state file meant to hold the (rotated) cookie."""


def _stored(home: Path) -> dict[str, bytes]:
    """Every file under the mamdl home except the cookie's own, as bytes: logs (rotated ones too),
    the `.sqlite`/`.db` stores with their WAL files, `.toml`, `.json`, `.torrent`."""
    return {
        str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file() and p.name not in SECRET_HOME
    }


def _assert_clean(outputs: list[str], home: Path, cookies: set[str], passkey: str) -> None:
    text = "\n".join(outputs)
    assert "Traceback" not in text
    files = _stored(home)
    assert any(name.endswith(".sqlite") for name in files), sorted(files)  # the scan covers the stores
    for cookie in cookies:
        assert cookie and cookie not in text
        leaked = [name for name, data in files.items() if cookie.encode() in data]
        assert not leaked, leaked
    logs = "\n".join(data.decode(errors="ignore") for name, data in files.items() if name.startswith("logs"))
    assert passkey not in text and passkey not in logs
    session = home / "session.json"
    if session.exists():
        assert stat.S_IMODE(session.stat().st_mode) == 0o600


def test_cookie_never_leaks(sandbox_env, mam, isolated_home, monkeypatch):
    """Sabotage caught: logging the `Cookie` header or the rotated `Set-Cookie` value, writing the
    cookie into the cache (`cache.sqlite`) or `config.toml`, or printing it in `config show`,
    `doctor` or an error. The sandbox rotates the cookie every 2 answers, so the values in between
    (not only the first and the last) are looked for."""
    sb = sandbox_env
    sb.configure(rotate_every=2)
    outputs = []

    def run(*args):
        p = mam(*args)
        outputs.append(p.stdout + p.stderr)
        return p

    run("search", "-t", "dune", "--json")
    run("search", "-t", "dune", "--no-pick")
    run("user", "--json", "--refresh")
    run("config", "show")
    run("config", "show", "--json")
    run("status", "--json")
    run("doctor")
    run("doctor", "--json")
    sb.add_fault("malformed_json", count=1)
    run("user", "--refresh")
    sb.add_fault("login_page", count=1)
    run("search", "-t", "dune", "--json")
    sb.add_fault("status", status=429, count=-1, retry_after=0.05)
    monkeypatch.setenv("MAMDL_MAX_ATTEMPTS", "2")
    run("search", "-t", "dune", "--json")
    sb.clear_faults()
    run("fetch", "1")
    sb.add_fault("expire_after", n=0)
    p = run("user", "--refresh", "--json")
    assert p.returncode != 0 and "SessionExpired" in p.stdout
    run("doctor", "--json")
    monkeypatch.setenv("MAM_ID", "wrong-cookie-value-123")
    run("search", "-t", "dune")
    issued = set(sb.cookies.issued)
    assert len(issued) >= 4, "the sandbox should have rotated the cookie several times"
    _assert_clean(outputs, isolated_home, issued | {"wrong-cookie-value-123"}, sb.passkey)
    assert (isolated_home / "logs" / "mamdl.log").exists()


@pytest.mark.slow
def test_cookie_never_leaks_while_downloading(make_swarm, mam, isolated_home, tmp_path):
    """`get --download`, `download`, `status` and `doctor` on a real swarm, the cookie rotating
    every 2 answers. Sabotage caught: the cookie stored with a torrent (say, `get` passing it in
    the title): it shows up in `engine.db` and in `status --json`."""
    sb = make_swarm(rotate_every=2)
    outputs = []

    def run(*args, **kw):
        p = mam(*args, **kw)
        outputs.append(p.stdout + p.stderr)
        return p

    rows = json.loads(run("search", "-t", "the hobbit", "--best", "--json").stdout)
    p = run("get", str(rows[0]["id"]), "--download", "--to", str(tmp_path / "books"), "--json", timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    torrents = sorted((isolated_home / "torrents").glob("*.torrent"))
    assert torrents
    run("download", str(torrents[0]), "--to", str(tmp_path / "books"))  # already there: a no-op add
    run("status", "--json")
    run("status", "--mam", "--json")
    run("doctor", "--json")
    run("user", "--refresh", "--json")
    issued = set(sb.cookies.issued)
    assert len(issued) >= 3, "the sandbox should have rotated the cookie"
    _assert_clean(outputs, isolated_home, issued, sb.passkey)
