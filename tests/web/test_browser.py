"""The web page end to end in a real headless chromium (Selenium, the system chromedriver), on a
real `mam serve` and the sandbox swarm.

Tests may not leave 127.0.0.0/8, so **127.0.0.2 stands for "another address than the default"**:
the page asks for a login on every bind but 127.0.0.1/localhost/::1 (`login_required`), so the
127.0.0.2 run goes through exactly the code a LAN address would.

Set `MAMDL_WEB_SCREENSHOTS=docs` to (re)make the README's screenshots while the tests run."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest
from selenium.webdriver.common.by import By

from tests.cli.conftest import run_mam
from tests.web.conftest import wait_for

pytestmark = pytest.mark.slow
SHOTS = os.environ.get("MAMDL_WEB_SCREENSHOTS")


def _shot(driver, name: str, width: int = 1280, height: int = 900) -> None:
    if SHOTS:
        driver.set_window_size(width, height)
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SHOTS) / f"web-{name}.png"))
        driver.set_window_size(1280, 900)


def _api(info: dict, path: str):
    r = httpx2.get(info["url"] + path, headers={"Authorization": f"Bearer {info['token']}"}, timeout=30)
    r.raise_for_status()
    return r.json()


def _row(driver):
    rows = driver.find_elements(By.CSS_SELECTOR, "#torrents tbody tr")
    return rows[0] if rows else None


def _cell(driver, cls: str) -> str:
    row = _row(driver)
    return row.find_element(By.CSS_SELECTOR, f"td.{cls}").text if row else ""


def _notice(driver) -> str:
    return driver.find_element(By.ID, "notice").text


def test_search_download_watch_seed_and_removal_guard(make_swarm, serve, browser, monkeypatch, tmp_path):
    """A mistyped title finds the book first; Download shows the guards' answer and asks; the
    torrent appears and reaches 100% and "seeding" without a reload; pause and resume work; Remove
    asks first, and is refused while
    MAM's counts say it is unsatisfied and allowed once MAM agrees.

    Sabotage caught: the search page not using the service's broadening/ranking (the hobbit not
    first for "the hobit"); the Download control starting without the guards' preview; the table
    not updating live (or not showing the library placement); the web's remove route skipping `Service.remove`'s stop check (removal would
    succeed while MAM still counts the torrent unsatisfied); secrets in a page or in the JSON."""
    sb = make_swarm(satisfy_seconds=3600)  # MAM counts the snatch unsatisfied until we say so
    monkeypatch.setenv("MAMDL_LIBRARY_DIR", str(tmp_path / "library"))
    info = serve()
    base = info["url"]

    browser.get(base + "/")
    browser.find_element(By.ID, "q-title").send_keys("the hobit")
    browser.find_element(By.ID, "search-submit").click()
    first = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "#results tbody tr"), what="results")
    assert "hobbit" in first.find_element(By.CSS_SELECTOR, ".title").text.lower()
    assert first.find_element(By.CSS_SELECTOR, "td.conf").text.endswith("%")
    _shot(browser, "search")
    _shot(browser, "search-phone", 390, 844)

    first.find_element(By.CSS_SELECTOR, "button.download").click()
    guard = wait_for(
        lambda: (g := browser.find_element(By.CSS_SELECTOR, "tr.confirm .guard")).text and "Asking" not in g.text and g,
        what="the guards' answer",
    )
    assert "unsatisfied after this download" in guard.text, guard.text
    assert "wedge" in guard.text.lower(), guard.text
    assert _api(info, "/api/status") == []  # asking is not starting
    browser.find_element(By.CSS_SELECTOR, "tr.confirm button.start").click()
    wait_for(lambda: "Started" in _notice(browser), what="the download to start")

    browser.find_element(By.LINK_TEXT, "Watch it on the Torrents page").click()
    wait_for(lambda: _row(browser), what="the torrent row")
    seen_states = set()

    def done():
        seen_states.add(_cell(browser, "state"))
        return _cell(browser, "progress") == "100.0%" and _cell(browser, "state") == "seeding"

    wait_for(done, 120, "100% and seeding (no reload)")
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1
    h = _row(browser).get_attribute("data-hash")
    wait_for(lambda: _api(info, "/api/status")[0]["seeding_seconds"] >= 5, 60, "some seeding on our clock")
    wait_for(lambda: _cell(browser, "mam") == "not yet", 60, "MAM's view in the table")
    placed = wait_for(lambda: _cell(browser, "library").startswith(str(tmp_path / "library")), 60, "placement")
    assert placed
    _shot(browser, "torrents")
    _shot(browser, "torrents-phone", 390, 844)

    # Pause and resume from the table.
    _row(browser).find_element(By.CSS_SELECTOR, "button.pause").click()
    wait_for(lambda: _cell(browser, "state") == "paused", what="paused")
    assert _api(info, "/api/status")[0]["state"] == "paused"
    _row(browser).find_element(By.CSS_SELECTOR, "button.resume").click()
    wait_for(lambda: _cell(browser, "state") == "seeding", what="seeding again")

    # Remove: confirm, then the guard refuses while MAM counts it unsatisfied.
    _row(browser).find_element(By.CSS_SELECTOR, "button.remove").click()
    alert = browser.switch_to.alert
    assert "Remove" in alert.text
    alert.accept()
    wait_for(lambda: _notice(browser).startswith("Refused"), what="the refusal")
    assert "as unsatisfied" in _notice(browser), _notice(browser)  # MAM's per-torrent list says so
    assert [r["info_hash"] for r in _api(info, "/api/status")] == [h]
    # Dismissing the confirmation does nothing.
    _row(browser).find_element(By.CSS_SELECTOR, "button.remove").click()
    browser.switch_to.alert.dismiss()
    assert [r["info_hash"] for r in _api(info, "/api/status")] == [h]

    browser.get(base + "/account?refresh=1")  # "Ask MAM again": the figures saved at admission predate it
    facts = browser.find_element(By.ID, "account-facts").text
    assert "Unsatisfied" in facts and "1 of" in facts, facts
    assert "sandbox_reader" in browser.page_source
    assert browser.find_element(By.ID, "session").text in ("ok", "unknown")
    assert browser.find_elements(By.CSS_SELECTOR, "#doctor tbody tr")
    _shot(browser, "account")
    _shot(browser, "account-phone", 390, 844)
    for path in ("/", "/torrents", "/account", "/web/status"):
        browser.get(base + path)
        src = browser.page_source
        assert sb.mam_id not in src and sb.passkey not in src and info["token"] not in src, path

    # MAM now counts it satisfied: the same Remove goes through and the row leaves the table.
    sb.configure(satisfy_seconds=1)
    browser.get(base + "/torrents")
    wait_for(lambda: _row(browser), what="the torrent row")

    def removed():
        _row(browser).find_element(By.CSS_SELECTOR, "button.remove").click()
        browser.switch_to.alert.accept()
        wait_for(lambda: _notice(browser), what="an answer")
        return _api(info, "/api/status") == []

    wait_for(removed, 60, "removal once MAM agrees", poll=2)
    wait_for(lambda: _row(browser) is None, what="the row to leave the table")


def test_other_address_refuses_without_the_token_and_works_after_login(make_swarm, serve, browser):
    """Sabotage caught: the page served without a login on a non-default bind; a wrong token
    accepted; the session cookie readable by JavaScript (HttpOnly dropped) or not SameSite=Strict;
    the API token itself stored in the browser."""
    make_swarm()
    token = "login-token-83c1f0aa7e"
    info = serve("--host", "127.0.0.2", env={"MAMDL_API_TOKEN": token})
    base = info["url"]
    assert base.startswith("http://127.0.0.2:")

    browser.get(base + "/account")
    assert browser.current_url == base + "/login"
    assert "sandbox_reader" not in browser.page_source
    browser.get(base + "/web/status")
    assert "log in first" in browser.page_source

    browser.get(base + "/login")
    browser.find_element(By.ID, "token").send_keys("not-the-token")
    browser.find_element(By.ID, "login-submit").click()
    # The click submits a form: wait for the answer page instead of reading the old one.
    error = wait_for(lambda: browser.find_element(By.ID, "login-error"), what="the login error")
    assert "not the service's API token" in error.text
    assert browser.get_cookies() == []

    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "login-submit").click()
    wait_for(lambda: browser.current_url == base + "/", what="the search page after login")
    (cookie,) = browser.get_cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
    assert token not in cookie["value"]
    assert browser.execute_script("return document.cookie") == ""
    browser.get(base + "/account")
    assert "sandbox_reader" in browser.page_source
    browser.get(base + "/torrents")
    wait_for(lambda: "No torrents yet" in browser.find_element(By.ID, "torrents-meta").text, what="the live table")
    # Logging out ends it.
    browser.find_element(By.ID, "logout").click()
    wait_for(lambda: browser.current_url == base + "/login", what="the login page")
    browser.get(base + "/account")
    assert browser.current_url == base + "/login"


class _Evil(ThreadingHTTPServer):
    page = b""


class _EvilHandler(BaseHTTPRequestHandler):
    server: _Evil

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(self.server.page)

    def log_message(self, *args) -> None:
        pass


def test_csrf_from_another_origin_fails(make_swarm, serve, browser):
    """A page on another origin (another port of 127.0.0.1) submits a form that forges the JSON
    body of a download (`enctype=text/plain`) at the service's page. Sabotage caught: with
    WebGuard's CSRF checks (origin and token) both removed, the forged download would start."""
    make_swarm()
    info = serve()
    tid = __import__("json").loads(run_mam("search", "-t", "dune", "--best", "--json").stdout)[0]["id"]
    evil = _Evil(("127.0.0.1", 0), _EvilHandler)
    evil.page = (
        f'<form method="post" action="{info["url"]}/web/download" enctype="text/plain">'
        f'<input type="hidden" name=\'{{"id": {tid}, "pad": "\' value=\'"}}\'>'
        '<button id="go">win a prize</button></form>'
    ).encode()
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{evil.server_address[1]}/")
        browser.find_element(By.ID, "go").click()
        wait_for(lambda: "refused" in browser.page_source, what="the service's answer")
        assert "cross-origin request refused" in browser.page_source
    finally:
        evil.shutdown()
        evil.server_close()
    assert _api(info, "/api/status") == []


def test_rate_limits_set_from_the_torrents_page(make_swarm, serve, browser, isolated_home):
    """Sabotage caught: the form not reaching `Service.set_rate_limits` (config.toml unchanged, the
    API still unlimited), the page not showing the saved values after a reload, or a bad value
    taken as a limit instead of refused with a message."""
    make_swarm()
    info = serve()
    browser.get(info["url"] + "/torrents")
    form = wait_for(lambda: browser.find_element(By.ID, "limits"), what="the limits form")
    down = form.find_element(By.NAME, "download_kibps")
    assert down.get_attribute("value") == "0"
    down.clear()
    down.send_keys("2048")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "download 2048 KiB/s, upload unlimited, applied now" in wait_for(lambda: _notice(browser), what="saved")
    assert _api(info, "/api/limits") == {"download_kibps": 2048, "upload_kibps": 0, "applied_now": False}
    assert "download_limit_kibps = 2048" in (isolated_home / "config.toml").read_text()
    browser.get(info["url"] + "/torrents")
    assert browser.find_element(By.NAME, "download_kibps").get_attribute("value") == "2048"

    up = browser.find_element(By.NAME, "upload_kibps")
    browser.execute_script("arguments[0].value = '-5'", up)
    # past the browser's own check (min="0" stops the button), as a script or an old browser would
    browser.execute_script("document.getElementById('limits').dispatchEvent(new Event('submit', {cancelable: true}))")
    wait_for(lambda: "whole number of KiB/s" in _notice(browser), what="the refusal")
    assert _api(info, "/api/limits")["upload_kibps"] == 0
