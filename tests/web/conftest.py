"""A real headless browser (Debian's chromium through its own chromedriver, driven by Selenium) and
a real `mam serve` on the sandbox for the web page's end-to-end tests.

The packages come from `scripts/system-deps` (`./dev test` runs it). Selenium is given the system
chromedriver and chromium paths, and `SE_OFFLINE` keeps Selenium Manager from downloading anything.
Without chromium these tests skip locally and fail in CI (`CI=true`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.conftest import MAM
from tests.ports import free_port

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"


def wait_for(pred, timeout: float = 90.0, what: str = "condition", poll: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = pred()
        except AssertionError:
            raise
        except Exception:  # a row replaced while we read it, a page still loading, a file half-written
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(poll)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    missing = [p for p in (CHROMEDRIVER, CHROMIUM) if not (os.path.exists(p) or shutil.which(Path(p).name))]
    if missing:
        msg = f"{', '.join(missing)} not installed: run scripts/system-deps (packages chromium, chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    monkeypatch.setenv("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # containers run tests as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
    ):
        opts.add_argument(arg)
    # Selenium's default port for chromedriver is a bind(0) pick it releases at once, which another
    # xdist worker's process can be handed before chromedriver binds it; `free_port` avoids that.
    service = DriverService(executable_path=CHROMEDRIVER, port=free_port())
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def serve(isolated_home: Path, monkeypatch: pytest.MonkeyPatch):
    """Start `mam serve` (already pointed at the sandbox by `make_swarm`) and return its info."""
    procs: list[subprocess.Popen] = []

    def start(*args: str, env: dict | None = None) -> dict:
        monkeypatch.setenv("MAMDL_POLICY_INTERVAL", "1")
        proc = subprocess.Popen(
            [MAM, "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        procs.append(proc)

        def ready():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            return json.loads((isolated_home / "serve.json").read_text())

        return wait_for(ready, 60, "mam serve to listen")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
