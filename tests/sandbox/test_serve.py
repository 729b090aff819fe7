"""`serve()` and `python -m mamdl.sandbox`: fast start, the two stdout lines, clean shutdown."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time

import httpx2

from mamdl.sandbox import Sandbox, serve


def test_in_process_start_is_fast_and_lazy(tmp_path):
    start = time.monotonic()
    with Sandbox(data_dir=tmp_path) as sb:
        elapsed = time.monotonic() - start
        assert elapsed < 5  # generous for a busy machine; laziness is the real promise, checked next
        assert sb.swarm.seeder_port is None  # no libtorrent session until something is generated
        assert httpx2.get(sb.base_url + "/_sandbox/info").status_code == 200


def test_serve_prints_url_and_cookie_and_stops(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    stop = threading.Event()
    thread = threading.Thread(
        target=serve,
        kwargs={"data_dir": tmp_path, "stdout": out, "stderr": err, "stop_event": stop, "mam_id": "cookie-123"},
    )
    thread.start()
    deadline = time.monotonic() + 60  # a condition, not a margin: a busy machine starts slower
    while "MAM_ID=" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("MAM_BASE_URL=http://127.0.0.1:") and lines[1] == "MAM_ID=cookie-123"
    base = lines[0].split("=", 1)[1]
    assert httpx2.get(base + "/json/checkCookie.php", headers={"Cookie": "mam_id=cookie-123"}).json()["Success"]
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and "stopped" in err.getvalue()


def test_module_entry_point_runs_until_sigterm(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mamdl.sandbox", "--port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline().strip()
        second = proc.stdout.readline().strip()
        assert first.startswith("MAM_BASE_URL=http://127.0.0.1:") and second.startswith("MAM_ID=")
        base, cookie = first.split("=", 1)[1], second.split("=", 1)[1]
        resp = httpx2.post(
            base + "/tor/js/loadSearchJSONbasic.php",
            json={"tor": {"text": "dune"}},
            headers={"Cookie": f"mam_id={cookie}"},
        )
        assert resp.json()["found"] == 4
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_module_entry_point_reports_a_bad_catalogue(tmp_path):
    bad = tmp_path / "cat.json"
    bad.write_text('{"torrents": [{"id": 1}]}')
    proc = subprocess.run(
        [sys.executable, "-m", "mamdl.sandbox", "--catalogue", str(bad)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2
    assert "row 0 (id 1)" in proc.stderr and 'non-empty string "title"' in proc.stderr
    assert proc.stdout == ""
