"""Each way a client can refuse us is one clear `ClientError` naming the client and the fix, with no
password in it; nothing is lost (mamdl's records stay as they were). Real daemons."""

from __future__ import annotations

import pytest

from mamdl.config import load_settings
from mamdl.engine.clients import client_backend
from mamdl.errors import ClientError
from tests.engine.swarm import make_payload
from tests.ports import free_port

pytestmark = pytest.mark.slow

ALL = ["qbittorrent", "transmission", "deluge"]
LABEL = {"qbittorrent": "qBittorrent", "transmission": "Transmission", "deluge": "Deluge"}


@pytest.mark.parametrize("client", ALL, indirect=True)
def test_wrong_password(client, monkeypatch, request):
    """Sabotage caught: the library's exception escaping (not a ClientError), the message not naming
    the client or the setting to fix, or the wrong password echoed back."""
    wrong = "wrong-" + client.password[::-1]
    monkeypatch.setenv("MAMDL_CLIENT_PASSWORD", wrong)
    with pytest.raises(ClientError) as err:
        client_backend(load_settings()).start()
    msg = str(err.value)
    assert LABEL[client.backend] in msg and "client_password" in msg, msg
    assert wrong not in msg and client.password not in msg


@pytest.mark.parametrize("client", ALL, indirect=True)
def test_client_down(client, monkeypatch):
    """Sabotage caught: a connection error surfacing as a traceback, or a message that does not say
    to start the client and check client_url."""
    url = client.url.replace(str(client.api_port), str(free_port()))
    monkeypatch.setenv("MAMDL_CLIENT_URL", url)
    with pytest.raises(ClientError) as err:
        client_backend(load_settings()).start()
    msg = str(err.value)
    assert LABEL[client.backend] in msg and "not reachable" in msg and "client_url" in msg, msg
    assert client.password not in msg


@pytest.mark.parametrize("client", ["qbittorrent"], indirect=True)
def test_qbittorrent_ban_is_named(client, monkeypatch):
    """Sabotage caught: qBittorrent's 403 ban answered as a plain "wrong password" (the user would
    keep retrying and stay banned)."""
    monkeypatch.setenv("MAMDL_CLIENT_PASSWORD", "wrong-password-0")
    for _ in range(6):  # the test daemon bans after 5 failures
        with pytest.raises(ClientError) as err:
            client_backend(load_settings()).start()
    assert "banned" in str(err.value) and "wait for the ban to expire" in str(err.value), str(err.value)


@pytest.mark.parametrize("client", ALL, indirect=True)
def test_duplicate_torrent_added_outside_mamdl(client, tmp_path):
    """Sabotage caught: mamdl silently taking over (or re-adding) a torrent the user added to the
    client themselves: it must point at `mam adopt`, and leave no record behind."""
    payload = make_payload(tmp_path / "src")
    outside = client_backend(load_settings(), take_lock=False).start()
    try:
        outside._client_add(payload.torrent, str(tmp_path / "theirs"), paused=True)
        outside._wait_visible(payload.info_hash)
    finally:
        outside.close()
    backend = client_backend(load_settings()).start()
    try:
        with pytest.raises(ClientError, match="mam adopt"):
            backend.add(payload.torrent, tmp_path / "ours", mam_id=1)
        assert backend.snapshots() == []
    finally:
        backend.close()
