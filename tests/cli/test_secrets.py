"""The cookie never appears in stdout, stderr, log files or --json output, whatever goes wrong."""

from pathlib import Path


def _all_text(home: Path) -> str:
    out = []
    for p in home.rglob("*"):
        if p.is_file() and p.suffix in (".log", ".json", ".txt", "") and p.name != "session.json":
            out.append(p.read_text(errors="ignore"))
    return "\n".join(out)


def test_cookie_never_leaks(sandbox_env, mam, isolated_home, monkeypatch):
    sb = sandbox_env
    original = sb.mam_id
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
    monkeypatch.setenv("MAM_ID", "wrong-cookie-value-123")
    run("search", "-t", "dune")
    cookies = {original, sb.mam_id, "wrong-cookie-value-123"}
    text = "\n".join(outputs) + _all_text(isolated_home)
    assert "Traceback" not in text
    for cookie in cookies:
        assert cookie and cookie not in text
    assert (isolated_home / "logs" / "mamdl.log").exists()
