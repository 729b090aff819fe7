"""`mam bonus` against the sandbox: status and history, purchases with confirmation, MAM's refusals."""

from __future__ import annotations

import json

import pytest

BUY = "/json/bonusBuy.php/"


@pytest.fixture
def sb(sandbox_env):
    sandbox_env.set_user(seedbonus=60000.0)
    return sandbox_env


def test_status_shows_points_options_and_history(sb, mam):
    p = mam("bonus", "--json")
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    assert st["points"] == 60000 and st["reserve"] == 1000 and st["automation"]["upload"] is False
    assert {(o["kind"], o["amount"]) for o in st["options"]} >= {("upload", "50"), ("upload", "100"), ("vip", "1")}
    assert st["history"] and st["summary"]["entries"] == len(st["history"])
    n = len(sb.requests())
    assert mam("bonus", "--json").returncode == 0
    assert len(sb.requests()) == n  # cached like the user details
    text = mam("bonus", "--refresh").stdout
    assert "60,000" in text and "mam bonus upload 50" in text and "Automation: off" in text
    assert len(sb.requests()) > n


def test_purchase_with_yes_shows_in_mam_user(sb, mam):
    """Sabotage: skip refreshing the cached account after a purchase and `mam user` shows the old balance."""
    before = json.loads(mam("user", "--json").stdout)
    p = mam("bonus", "upload", "50", "--yes", "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout)
    assert out["done"] and out["quote"]["cost"] == 25000 and out["balance_after"] == 35000
    after = json.loads(mam("user", "--json").stdout)
    assert after["bonus_points"] == 35000
    assert after["uploaded_bytes"] - before["uploaded_bytes"] == 50 * 1024**3
    assert len(sb.bonus_purchases()) == 1


def test_no_purchase_without_a_terminal_or_a_yes(sb, mam):
    """Sabotage: skip the isatty check and the piped 'y' buys."""
    p = mam("bonus", "vip", "4", input="y\n")
    assert p.returncode == 3 and "--yes" in p.stderr
    assert sb.bonus_purchases() == []
    assert not any(r["path"].startswith("/json/bonusBuy.php") for r in sb.requests())


def test_bad_amounts_are_usage_errors(sb, mam):
    for args in (("upload", "20"), ("vip", "0"), ("vip", "half")):
        p = mam("bonus", *args, "--yes")
        assert p.returncode == 2, p.stderr
    assert sb.requests() == []


def test_reserve_refusal_names_the_setting(sb, mam, monkeypatch):
    import os

    env = {**os.environ, "MAMDL_BONUS_RESERVE": "40000"}
    p = mam("bonus", "upload", "50", "--yes", env=env)
    assert p.returncode == 3 and "bonus_reserve" in p.stderr
    assert sb.bonus_purchases() == []


@pytest.mark.parametrize("success", ["false", '"false"'])
def test_mams_refusal_text_is_shown_as_is(sb, mam, success):
    """Both spellings of MAM's refusal (HTTP 200, `success` false or "false") reach the user verbatim.
    Sabotage: treat any JSON object as success, or print a generic message."""
    body = '{"success": ' + success + ', "error": "Bonus store closed: try again after 12:00 <b>UTC</b>"}'
    sb.add_fault("status", status=200, path=BUY, body=body)
    p = mam("bonus", "upload", "50", "--yes")
    assert p.returncode == 1
    assert "Bonus store closed: try again after 12:00 <b>UTC</b>" in " ".join(p.stderr.split())
    assert sb.bonus_purchases() == []


def test_dropped_answer_is_reported_and_not_retried(sb, mam):
    sb.add_fault("drop_answer", path=BUY)
    p = mam("bonus", "upload", "50", "--yes", "--json")
    assert p.returncode == 1
    err = json.loads(p.stdout)
    assert err["kind"] == "PurchaseUncertain" and "not retried" in err["error"]
    assert len(sb.bonus_purchases()) == 1
    assert sum(1 for r in sb.requests() if r["path"].startswith("/json/bonusBuy.php")) == 1


@pytest.mark.parametrize(("answer", "bought"), [("n", 0), ("y", 1)])
def test_terminal_prompt_buys_only_on_yes(sb, answer, bought):
    """In a terminal the cost and balance after are shown and the purchase waits for an answer.
    Sabotage: default the prompt to yes (or skip it) and the 'n' run buys."""
    import os
    import subprocess

    from tests.cli.conftest import MAM

    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [MAM, "bonus", "upload", "50"], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        os.write(master, f"{answer}\n".encode())
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert "costs 25,000 points" in out and "60,000 -> 35,000" in out, out + err
    assert len(sb.bonus_purchases()) == bought
    assert proc.returncode == (0 if bought else 1)
