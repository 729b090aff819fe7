"""`mam` driving the user's own client (real qBittorrent, Transmission, Deluge daemons from Debian)
on the sandbox swarm: the torrent lands in the client under our category at the requested path,
the files match, the sandbox tracker counts the client's download, and mamdl's guards still apply."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
from pathlib import Path

import pytest

from tests.cli.conftest import MAM, run_mam
from tests.engine.clients.daemons import Daemon
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

ALL = ["qbittorrent", "transmission", "deluge"]


def _tid(title: str) -> int:
    return json.loads(run_mam("search", "-t", title, "--best", "--json").stdout)[0]["id"]


class Dialer:
    """Transmission 3.00 ignores 127.x peers a tracker hands out: the sandbox seeder dials it
    (as bench/clients.md describes) until the test stops it. Harmless for the other clients."""

    def __init__(self, sb, tid: int, daemon: Daemon) -> None:
        self.sb, self.tid, self.daemon = sb, tid, daemon
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            handle = self.sb.swarm._seeding.get(self.tid)
            if handle is not None:
                try:
                    handle.connect_peer(("127.0.0.1", self.daemon.peer_port))
                except Exception:
                    pass

    def __enter__(self) -> Dialer:
        self.sb.payload(self.tid)  # seeded before the client asks
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


HOLDS_SECRETS = {"session.json", "serve.json", "config.toml"}
"""State files whose job is to hold a secret (mode 0600). The `.torrent`s, and the engine database
that keeps a copy of each (as with the embedded engine), hold the passkey."""


def _no_secrets(texts: list[str], home: Path, password: str, cookie: str, passkey: str) -> None:
    """No client password or cookie in the outputs or any state file; no passkey in the outputs
    or logs."""
    named = {f"output {i}": t for i, t in enumerate(texts)}
    for path in home.rglob("*"):
        if path.is_file() and path.name not in HOLDS_SECRETS and path.suffix != ".torrent":
            named[str(path.relative_to(home))] = path.read_bytes().decode("latin-1")
    for what, s in (("client password", password), ("cookie", cookie), ("passkey", passkey)):
        leaks = [n for n, t in named.items() if s in t and not (what == "passkey" and n.startswith("engine.db"))]
        assert not leaks, f"the {what} is in {leaks}"


@pytest.mark.parametrize("client", ALL, indirect=True)
def test_get_download_lands_in_the_client_and_removal_is_guarded(client, make_swarm, isolated_home, tmp_path):
    """Sabotage caught: handing the client MAM's URL instead of the bytes (the client has no cookie:
    nothing downloads), no category/label (category check), the save path ignored (files not under
    `--to`), state mapping broken (status not `seeding` at 100 %), the removal guard bypassed for a
    client backend (torrent gone from the client), or the password reaching output or logs."""
    sb = make_swarm(satisfy_seconds=3600)  # MAM counts it unsatisfied throughout
    tid = _tid("the hobbit")
    dest = tmp_path / "books"
    outputs: list[str] = []
    with Dialer(sb, tid, client):
        p = run_mam("get", str(tid), "--download", "--to", str(dest), timeout=240)
    outputs += [p.stdout, p.stderr]
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Complete and verified" in p.stdout
    h = sb.info_hash(tid)
    held = client.held()
    assert h in held and held[h]["category"] == "mam" and held[h]["save_path"] == str(dest)
    for f in sb.payload_files(tid):
        assert hashlib.sha256((dest / f.relpath).read_bytes()).hexdigest() == f.sha256
    size = sum(f.size for f in sb.payload_files(tid))
    # The tracker counts what our client announced (its `completed` announce may trail the data).
    wait_until(
        lambda: sb.state_snapshot()["user"]["accounted_downloaded"] >= size,
        timeout=90,
        interval=0.5,
        what="the sandbox tracker counting the client's download",
    )

    p = run_mam("status", "--json")
    outputs += [p.stdout, p.stderr]
    row = json.loads(p.stdout)[0]
    assert row["info_hash"] == h and row["mam_id"] == tid and row["progress"] == 1.0
    assert row["state"] == "seeding" and row["save_path"] == str(dest) and row["total_size"] == size

    p = run_mam("remove", h[:8])  # MAM counts it unsatisfied (not seeded 72 h): refused
    outputs += [p.stdout, p.stderr]
    assert p.returncode == 3, p.stdout + p.stderr
    assert h in client.held()
    _no_secrets(outputs, isolated_home, client.password, sb.mam_id, sb.passkey)


@pytest.mark.parametrize("client", ["qbittorrent"], indirect=True)
def test_client_killed_mid_download_then_back(client, make_swarm, isolated_home, tmp_path, monkeypatch):
    """Sabotage caught: a dead client reported as a traceback or a vague error (the message must
    name qBittorrent and say to start it), or the service not picking up once it is back (the
    download never completes; the backend must log in again on its own)."""
    monkeypatch.setenv("MAMDL_AUTO_SERVE", "1")
    monkeypatch.setenv("MAMDL_POLICY_INTERVAL", "1")
    sb = make_swarm()
    tid = _tid("the hobbit")
    dest = tmp_path / "books"
    h = sb.info_hash(tid)
    sb.payload(tid)  # seeded now, so the seeder can be held back: the download stays under way
    seeder = sb.swarm._sessions["seeder"]
    seeder.pause()
    follower = subprocess.Popen(
        [MAM, "get", str(tid), "--download", "--to", str(dest)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: h in client.held(), timeout=90, what="the download handed to qBittorrent")
        # Killed before it has saved the torrent itself, qBittorrent forgets an add made a moment
        # earlier (mamdl then says "no longer in qBittorrent"): a different case from this one.
        saved = client.workdir / "qBittorrent" / "data" / "BT_backup" / f"{h}.fastresume"
        wait_until(saved.exists, timeout=60, what="qBittorrent to save the torrent's resume file")
        client.kill()
        out, err = follower.communicate(timeout=60)
    finally:
        if follower.poll() is None:
            follower.kill()
    # The command following the download ends with one clear line naming the client and the fix.
    assert follower.returncode != 0 and "Traceback" not in err
    assert "qBittorrent" in err and "start qBittorrent" in err, out + err
    # `mam status` (the saved view) says why the numbers stopped, once the service has noticed.
    p = wait_until(
        lambda: (q := run_mam("status", "--json")).returncode == 0 and "start qBittorrent" in q.stdout and q,
        timeout=60,
        interval=0.5,
        what="status naming the dead client",
    )
    assert client.password not in out + err + p.stdout + p.stderr
    client.start()
    seeder.resume()

    def done() -> bool:
        q = run_mam("status", "--json")
        return q.returncode == 0 and json.loads(q.stdout)[0]["progress"] == 1.0

    wait_until(done, timeout=180, interval=1.0, what="the service following the download again")
    for f in sb.payload_files(tid):
        assert hashlib.sha256((dest / f.relpath).read_bytes()).hexdigest() == f.sha256
    assert run_mam("service", "stop").returncode == 0


@pytest.mark.parametrize("client", ["qbittorrent"], indirect=True)
def test_wrong_password_is_one_clear_line(client, make_swarm, isolated_home, monkeypatch):
    """Sabotage caught: the library's exception (or the password) reaching the user instead of one
    line naming qBittorrent and the settings to fix."""
    make_swarm()
    wrong = "not-the-password-" + client.password[:4]
    monkeypatch.setenv("MAMDL_CLIENT_PASSWORD", wrong)
    p = run_mam("seed", "--foreground")
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert "qBittorrent" in p.stderr and "client_password" in p.stderr, p.stderr
    assert wrong not in p.stderr + p.stdout


@pytest.mark.parametrize("client", ALL, indirect=True)
def test_adopt_takes_only_mam_torrents(client, make_swarm, isolated_home, tmp_path):
    """Sabotage caught: adopting every torrent in the client (the non-MAM one shows up in status),
    not matching the MAM id by info-hash (mam_id missing: the hit-and-run guard could not judge
    it), or adopt touching the data (the MAM torrent re-downloaded or moved)."""
    import fastbencode

    from mamdl.config import load_settings
    from mamdl.engine.clients import client_backend
    from tests.engine.swarm import make_payload

    sb = make_swarm(satisfy_seconds=3600)  # MAM counts it unsatisfied throughout
    tid = _tid("dune")
    theirs = make_payload(tmp_path / "other-src", name="linux-iso")
    meta = fastbencode.bdecode(theirs.torrent)
    meta[b"announce"] = b"http://127.0.0.2:9/announce"  # another tracker (loopback, nobody listens)
    mam_dir, other_dir = tmp_path / "client-mam", tmp_path / "client-other"
    raw = client_backend(load_settings(), take_lock=False).start()  # adds as the user would, no records
    try:
        with Dialer(sb, tid, client):
            raw._client_add(sb.torrent_bytes(tid), str(mam_dir), paused=False)
            raw._client_add(fastbencode.bencode(meta), str(other_dir), paused=True)
            h = sb.info_hash(tid)
            wait_until(lambda: client.held().get(h, {}).get("progress") == 1.0, timeout=120, what="MAM download")
    finally:
        raw.close()
    before = {p: p.stat().st_mtime_ns for p in mam_dir.rglob("*") if p.is_file()}

    p = run_mam("adopt", "--dry-run", "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    assert [r["info_hash"] for r in json.loads(p.stdout)] == [h] and json.loads(
        run_mam("status", "--json").stdout
    ) == []

    p = run_mam("adopt", "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    rows = json.loads(p.stdout)
    assert [(r["info_hash"], r["mam_id"], r["adopted"]) for r in rows] == [(h, tid, True)]
    status = json.loads(run_mam("status", "--json").stdout)
    assert [(s["info_hash"], s["mam_id"], s["state"]) for s in status] == [(h, tid, "seeding")]
    assert status[0]["save_path"] == str(mam_dir)
    assert run_mam("remove", h[:8]).returncode == 3  # now guarded: MAM counts it unsatisfied
    assert {p: p.stat().st_mtime_ns for p in mam_dir.rglob("*") if p.is_file()} == before
    assert theirs.info_hash in client.held() and h in client.held()
    assert json.loads(run_mam("adopt", "--json").stdout)[0]["adopted"] is False  # twice is a no-op


@pytest.mark.parametrize("client", ["qbittorrent"], indirect=True)
def test_service_starts_while_the_client_is_down(client, make_swarm, isolated_home, tmp_path, monkeypatch):
    """Sabotage caught: `mam serve` refusing to start (or dying) because the client is down at
    boot (a reboot where the service starts before the client's container): it must start, and
    work once the client is back."""
    monkeypatch.setenv("MAMDL_AUTO_SERVE", "1")
    sb = make_swarm()
    client.stop()
    p = run_mam("service", "start", timeout=90)
    assert p.returncode == 0, p.stdout + p.stderr
    client.start()
    tid = _tid("dune")
    p = run_mam("get", str(tid), "--download", "--to", str(tmp_path / "d"), timeout=180)
    assert p.returncode == 0 and "Complete and verified" in p.stdout, p.stdout + p.stderr
    assert sb.info_hash(tid) in client.held()
    assert run_mam("service", "stop").returncode == 0


@pytest.mark.parametrize("client", ["qbittorrent"], indirect=True)
def test_the_service_policy_stops_a_satisfied_torrent_in_the_client(
    client, make_swarm, isolated_home, tmp_path, monkeypatch
):
    """Sabotage caught: the seeding policy not reaching a client backend (`finish` not pausing the
    torrent in qBittorrent), or a policy stop read back as the user's pause (status `paused`, so
    the policy would resume or ignore it)."""
    monkeypatch.setenv("MAMDL_AUTO_SERVE", "1")
    monkeypatch.setenv("MAMDL_POLICY_INTERVAL", "1")
    monkeypatch.setenv("MAMDL_SNATCH_SCHEDULE_SECONDS", "2")
    sb = make_swarm()
    tid = _tid("dune")
    p = run_mam(
        "get", str(tid), "--download", "--ratio", "0", "--seed-hours", "0.002", "--force", "--to", str(tmp_path / "d")
    )  # --force: a goal under MAM's 72 h (the sandbox counts 3 s as satisfied)
    assert p.returncode == 0, p.stdout + p.stderr
    h = sb.info_hash(tid)
    wait_until(
        lambda: [r for r in json.loads(run_mam("status", "--json").stdout) if r["state"] == "finished"],
        timeout=120,
        interval=1.0,
        what="the service stopping the satisfied torrent",
    )
    assert client.held()[h]["state"] in ("pausedUP", "stoppedUP")  # stopped, kept, in the client
    assert run_mam("service", "stop").returncode == 0


@pytest.mark.parametrize("client", ALL, indirect=True)
def test_torrent_removed_in_the_client_is_added_back_by_resume(
    client, make_swarm, isolated_home, tmp_path, monkeypatch
):
    """Sabotage caught: `mam resume` of a torrent the user removed in the client (data kept)
    failing or doing nothing (it would seed nowhere: a hit-and-run in the making), adding it
    back elsewhere or without our category (files not where they were, or downloaded again:
    their mtimes change), or status not saying how to bring it back."""
    from mamdl.config import load_settings
    from mamdl.engine.clients import client_backend

    monkeypatch.setenv("MAMDL_AUTO_SERVE", "1")  # the service watches the client, as users run it
    monkeypatch.setenv("MAMDL_POLICY_INTERVAL", "1")
    sb = make_swarm(satisfy_seconds=3600)
    tid = _tid("dune")
    dest = tmp_path / "books"
    h = sb.info_hash(tid)
    with Dialer(sb, tid, client):
        p = run_mam("get", str(tid), "--download", "--to", str(dest), timeout=240)
        assert p.returncode == 0 and "Complete and verified" in p.stdout, p.stdout + p.stderr
        before = {f: f.stat().st_mtime_ns for f in dest.rglob("*") if f.is_file()}
        raw = client_backend(load_settings(), take_lock=False).start()  # the user, in the client's own UI
        try:
            raw._client_remove(h, delete_data=False)
        finally:
            raw.close()
        wait_until(lambda: h not in client.held(), timeout=30, what="the client to drop the torrent")

        row = wait_until(
            lambda: (r := json.loads(run_mam("status", "--json").stdout)[0])["state"] == "error" and r,
            timeout=60,
            interval=1.0,
            what="status noticing the torrent is gone",
        )
        assert "resume it to add it back" in row["error"], row

        p = run_mam("resume", h[:8], "--json", timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        wait_until(
            lambda: client.held().get(h, {}).get("progress") == 1.0, timeout=120, what="the re-added torrent checked"
        )
    held = client.held()[h]
    assert held["save_path"] == str(dest) and held["category"] == "mam"
    assert {f: f.stat().st_mtime_ns for f in dest.rglob("*") if f.is_file()} == before  # checked, not rewritten
    row = wait_until(
        lambda: (r := json.loads(run_mam("status", "--json").stdout)[0])["state"] == "seeding" and r,
        timeout=60,
        interval=1.0,
        what="status seeding again",
    )
    assert row["error"] is None
    assert run_mam("service", "stop").returncode == 0
