"""Fast tests (no daemon): the client settings, the one mapping per client from its states and
numbers to mamdl's, and the merge with mamdl's own record."""

from __future__ import annotations

import stat
import time

import pytest

from mamdl.config import load_settings, write_config
from mamdl.engine.clients import deluge as deluge_mod
from mamdl.engine.clients import qbittorrent, transmission
from mamdl.engine.clients.base import ClientBackend, ClientView, is_mam_tracker
from mamdl.engine.models import TorrentState
from mamdl.engine.store import TorrentRecord
from mamdl.errors import ConfigError
from mamdl.redact import redact


def test_client_settings_from_env_and_file(isolated_home, monkeypatch):
    """Sabotage caught: MAMDL_BACKEND or the client_* settings not read, or an unknown backend
    accepted (it would silently fall back to the embedded engine)."""
    monkeypatch.setenv("MAMDL_BACKEND", "qbittorrent")
    monkeypatch.setenv("MAMDL_CLIENT_URL", "http://127.0.0.1:8080")
    s = load_settings()
    assert s.backend == "qbittorrent" and s.client_url == "http://127.0.0.1:8080" and s.client_category == "mam"
    monkeypatch.setenv("MAMDL_BACKEND", "utorrent")
    with pytest.raises(ConfigError, match="backend"):
        load_settings()


def test_client_password_is_a_secret(isolated_home, monkeypatch):
    """Sabotage caught: the password not registered with the redactor (it would print in a log
    line or an error), shown by `mam config show`, or written to a file others can read."""
    pw = "hunter2-client-pass"
    path = write_config({"client_password": pw, "path_map": {"/srv/books": "/downloads"}})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    s = load_settings()
    assert s.client_password is not None and s.client_password.get_secret_value() == pw
    assert pw not in repr(s) and s.public_dict()["client_password"] == "<set>"
    assert redact(f"login with {pw} failed") == "login with *** failed"
    assert s.path_map == {"/srv/books": "/downloads"}


def test_path_map_both_ways(isolated_home, monkeypatch):
    """Sabotage caught: a prefix matched inside a longer folder name (/srv/books2), or the longest
    prefix not winning."""
    monkeypatch.setenv("MAMDL_PATH_MAP", '{"/srv/books": "/downloads", "/srv/books/audio": "/audio"}')
    s = load_settings()
    assert s.client_path("/srv/books/x") == "/downloads/x"
    assert s.client_path("/srv/books/audio/y") == "/audio/y"
    assert s.client_path("/srv/books2/z") == "/srv/books2/z"
    assert s.local_path("/downloads/x") == "/srv/books/x" and s.local_path("/audio/y") == "/srv/books/audio/y"


def test_save_path_per_format(isolated_home, monkeypatch, tmp_path):
    """Sabotage caught: `--to` not winning, or the per-format folders ignored."""
    from mamdl.service import Service

    monkeypatch.setenv("MAMDL_EBOOK_SAVE_PATH", str(tmp_path / "e"))
    monkeypatch.setenv("MAMDL_AUDIOBOOK_SAVE_PATH", str(tmp_path / "a"))
    with Service(load_settings()) as svc:
        assert svc.save_path_for("ebook") == tmp_path / "e"
        assert svc.save_path_for("audiobook") == tmp_path / "a"
        assert svc.save_path_for("radio") == svc.settings.effective_download_dir
        assert svc.save_path_for("ebook", tmp_path / "to") == tmp_path / "to"


@pytest.mark.parametrize(
    ("raw", "state", "paused"),
    [
        ("stalledUP", TorrentState.SEEDING, False),
        ("uploading", TorrentState.SEEDING, False),
        ("pausedUP", TorrentState.PAUSED, True),
        ("stoppedUP", TorrentState.PAUSED, True),  # qBittorrent 5
        ("queuedUP", TorrentState.QUEUED, False),
        ("stalledDL", TorrentState.DOWNLOADING, False),
        ("checkingResumeData", TorrentState.CHECKING, False),
        ("missingFiles", TorrentState.ERROR, False),
    ],
)
def test_qbittorrent_mapping(raw, state, paused):
    """Sabotage caught: a qBittorrent state mapped wrong (a stalled seed shown as downloading,
    qBittorrent 5's `stopped*` not seen as paused), or its infinite ETA shown as 100 days."""
    v = qbittorrent.to_view(
        {
            "hash": "AB" * 20,
            "state": raw,
            "progress": 0.5,
            "eta": qbittorrent.ETA_UNKNOWN,
            "num_seeds": 2,
            "num_leechs": 1,
        }
    )
    assert v.state == state and v.paused == paused and v.info_hash == "ab" * 20
    assert v.eta_seconds is None and v.peers == 3 and v.seeds == 2


@pytest.mark.parametrize(
    ("status", "error", "state"),
    [
        (0, 0, TorrentState.PAUSED),
        (4, 0, TorrentState.DOWNLOADING),
        (6, 0, TorrentState.SEEDING),
        (5, 0, TorrentState.QUEUED),
        (2, 0, TorrentState.CHECKING),
        (0, 3, TorrentState.ERROR),
        (6, 2, TorrentState.SEEDING),
    ],
)
def test_transmission_mapping(status, error, state):
    """Sabotage caught: a local error not shown as ERROR, or a tracker warning (error 1/2) stopping
    the torrent in mamdl's view."""
    v = transmission.to_view(
        {
            "hashString": "cd" * 20,
            "status": status,
            "error": error,
            "errorString": "disk",
            "percentDone": 1.0,
            "sizeWhenDone": 10,
            "secondsSeeding": 7,
            "eta": -1,
        }
    )
    assert v.state == state and v.seeding_seconds == 7 and v.eta_seconds is None


def test_deluge_mapping():
    """Sabotage caught: Deluge's percent progress taken as a fraction (every torrent "done")."""
    v = deluge_mod.to_view(
        "EF" * 20,
        {
            "state": "Downloading",
            "progress": 42.0,
            "eta": 30,
            "total_wanted": 100,
            "trackers": [{"url": "https://t.myanonamouse.net/tracker.php/x/announce"}],
        },
    )
    assert v.progress == pytest.approx(0.42) and v.eta_seconds == 30 and v.state == TorrentState.DOWNLOADING
    assert is_mam_tracker(v.trackers[0], ("myanonamouse.net",))
    assert not is_mam_tracker("https://notmyanonamouse.net/a", ("myanonamouse.net",))


def _record(**fields: object) -> TorrentRecord:
    """mamdl's record of a client torrent; `fields` override the defaults."""
    base: dict = {
        "info_hash": "aa" * 20,
        "name": "n",
        "save_path": "/x",
        "state": TorrentState.SEEDING,
        "ratio_goal": 1.0,
        "seed_seconds_goal": 72 * 3600,
        "added_at": time.time(),
    }
    return TorrentRecord(**{**base, **fields})


def test_policy_stop_reads_as_finished_user_pause_as_paused(isolated_home):
    """Sabotage caught: a torrent the seeding policy stopped shown as merely paused (the policy
    would never count it finished), or a user's pause shown as finished."""
    b = ClientBackend(load_settings(), take_lock=False)
    view = ClientView(
        info_hash="aa" * 20,
        name="n",
        state=TorrentState.PAUSED,
        progress=1.0,
        total_size=10,
        downloaded=10,
        uploaded=12,
        paused=True,
        seeding_seconds=99,
    )
    rec = _record(state=TorrentState.FINISHED, seed_seconds_goal=50, mam_id=7)
    snap = b._merge(rec, view)
    assert snap.state == TorrentState.FINISHED and snap.goal_met and snap.mam_id == 7 and snap.ratio == 1.2
    rec.state = TorrentState.SEEDING
    assert b._merge(rec, view).state == TorrentState.PAUSED
    gone = b._merge(rec, None)
    assert gone.state == TorrentState.ERROR and "no longer in client" in (gone.error or "")


def test_adopted_torrent_gone_from_the_client_names_how_to_get_it_back(isolated_home):
    """Sabotage caught: resuming an adopted torrent (mamdl never held its .torrent) that is gone
    from the client handing the client an empty .torrent, or failing without saying what to do."""
    from mamdl.engine.store import Store
    from mamdl.errors import EngineError

    b = ClientBackend(load_settings(), take_lock=False)
    b._store = Store(b.settings.paths.engine_db)
    rec = _record(info_hash="bb" * 20, name="Dune", mam_id=676504)
    b.store.add_torrent(rec, b"")  # what `mam adopt` records
    added: list[bytes] = []
    b._client_add = lambda data, save, *, paused: added.append(data)  # type: ignore[method-assign]
    with pytest.raises(EngineError, match="mam get 676504"):
        b._add_back(rec)
    assert added == []


def test_client_backends_implement_the_service_protocol(isolated_home):
    """Sabotage caught: a client backend missing a method the service calls (`finish`, `events`...)."""
    from mamdl.engine.clients import client_backend
    from mamdl.service.backend import TorrentBackend

    for name in ("qbittorrent", "transmission", "deluge"):
        assert isinstance(client_backend(load_settings(backend=name), take_lock=False), TorrentBackend)


def test_a_client_on_another_machine_is_told_apart():
    """Sabotage caught: doctor's "client IP" warning firing for a client on this machine, or never
    for one elsewhere (the common 'Unrecognized host/passkey' when the session is locked here)."""
    from mamdl.service.health import _client_host, _is_this_machine

    assert _client_host("http://127.0.0.1:8080") == "127.0.0.1" and _client_host("10.0.0.5:58846") == "10.0.0.5"
    assert _is_this_machine("127.0.0.1") and _is_this_machine("localhost")
    assert not _is_this_machine("192.0.2.10")  # TEST-NET-1: never this machine


def test_config_set_client_settings(isolated_home):
    """Sabotage caught: the client password accepted on the command line (it would sit in shell
    history and `ps`), or path_map impossible to set from `mam config set`."""
    from tests.cli.conftest import run_mam

    p = run_mam("config", "set", "client_password", "hunter2-on-the-command-line")
    assert p.returncode != 0 and "hidden input" in p.stderr and "hunter2" not in p.stdout + p.stderr
    p = run_mam("config", "set", "client_password", "-", input="typed-in-secret\n")
    assert p.returncode == 0 and "typed-in-secret" not in p.stdout + p.stderr, p.stderr
    assert load_settings().client_password.get_secret_value() == "typed-in-secret"
    assert "typed-in-secret" not in run_mam("config", "show").stdout
    p = run_mam("config", "set", "path_map", "/srv/books=/downloads")
    assert p.returncode == 0, p.stderr
    assert load_settings().path_map == {"/srv/books": "/downloads"}
    p = run_mam("config", "set", "path_map", "/srv/books")
    assert p.returncode != 0 and "LOCAL=CLIENT" in p.stderr
    p = run_mam("config", "set", "backend", "qbittorrent")
    assert p.returncode == 0 and load_settings().backend == "qbittorrent"
