"""The tracker, driven by hand-made announces: bencoding, compact peers, refusals, accounting, and
the snatch summary and ratio that follow from it."""

from __future__ import annotations

import socket
import time
from urllib.parse import quote_from_bytes

import fastbencode
import pytest

from mamdl.mam.models import UserInfo
from mamdl.sandbox import Sandbox
from tests.waiting import wait_until

from .conftest import Http

GiB = 1024**3


class Announcer:
    """One fake BitTorrent client: a passkey, a peer id and a port."""

    def __init__(self, http: Http, passkey: str, port: int, peer_id: bytes = b"-LT2110-abcdefghijkl") -> None:
        self.http = http
        self.passkey = passkey
        self.port = port
        self.peer_id = peer_id

    def __call__(
        self, info_hash: str, *, uploaded=0, downloaded=0, left=0, event="", compact=1, path: str | None = None
    ) -> dict:
        query = (
            f"info_hash={quote_from_bytes(bytes.fromhex(info_hash))}&peer_id={quote_from_bytes(self.peer_id)}"
            f"&port={self.port}&uploaded={uploaded}&downloaded={downloaded}&left={left}&compact={compact}"
            + (f"&event={event}" if event else "")
        )
        path = path or f"/announce?passkey={self.passkey}&"
        resp = self.http.get(f"{path}{query}", cookie=None)
        assert resp.status_code == 200
        return fastbencode.bdecode(resp.content)


def _peers(compact: bytes) -> list[tuple[str, int]]:
    return [
        (socket.inet_ntoa(compact[i : i + 4]), int.from_bytes(compact[i + 4 : i + 6], "big"))
        for i in range(0, len(compact), 6)
    ]


@pytest.fixture
def torrent(sb):
    """A generated torrent (no libtorrent session needed: the store only hashes it)."""
    entry = next(e for e in sb.catalogue.entries if e.kind == "ebook" and not e.free)
    return entry, sb.store.ensure(entry).info_hash


def test_announce_answer_and_compact_peers(sb, http, torrent):
    _, ih = torrent
    a = Announcer(http, sb.passkey, 50001, b"-LT2110-aaaaaaaaaaaa")
    b = Announcer(http, sb.passkey, 50002, b"-qB4500-bbbbbbbbbbbb")
    first = a(ih, left=1000, event="started")
    assert first[b"interval"] == 2 and first[b"min interval"] == 2
    assert first[b"peers"] == b""
    second = b(ih, left=0, event="started")
    assert _peers(second[b"peers"]) == [("127.0.0.1", 50001)]
    assert (second[b"complete"], second[b"incomplete"]) == (1, 1)
    again = a(ih, left=1000)
    assert _peers(again[b"peers"]) == [("127.0.0.1", 50002)]
    listed = a(ih, left=1000, compact=0)
    assert listed[b"peers"][0][b"port"] == 50002 and listed[b"peers"][0][b"ip"] == b"127.0.0.1"
    b(ih, event="stopped")
    assert a(ih, left=1000)[b"peers"] == b""


def test_refusals(sb, http, torrent):
    _, ih = torrent
    assert Announcer(http, "f" * 32, 50001)(ih)[b"failure reason"] == b"Unrecognized host/passkey"
    assert http.get("/announce", cookie=None).status_code == 200
    assert (
        fastbencode.bdecode(http.get("/announce", cookie=None).content)[b"failure reason"]
        == b"Unrecognized host/passkey"
    )
    stranger = Announcer(http, sb.passkey, 50001, b"-XX0100-abcdefghijkl")
    assert stranger(ih)[b"failure reason"] == b"Client not allowed"
    for prefix in (b"-LT2110-", b"-qB4500-", b"-TR3000-", b"A2-1-36-", b"-DE2110-"):
        assert b"failure reason" not in Announcer(http, sb.passkey, 50001, prefix + b"x" * 12)(ih)
    unknown = Announcer(http, sb.passkey, 50001)("ab" * 20)
    assert unknown[b"failure reason"] == b"Torrent not registered with this tracker"


def test_allow_list_is_configurable(tmp_path):
    with Sandbox(data_dir=tmp_path, allowed_clients=None) as sb:
        entry = sb.catalogue.entries[0]
        ih = sb.store.ensure(entry).info_hash
        assert b"failure reason" not in Announcer(Http(sb), sb.passkey, 50001, b"-XX0100-abcdefghijkl")(ih)


def test_mam_style_tracker_path(sb, http, torrent):
    _, ih = torrent
    reply = Announcer(http, sb.passkey, 50001)(ih, left=5, path=f"/tracker.php/{sb.passkey}/announce?")
    assert b"failure reason" not in reply and reply[b"interval"] == 2


def test_accounting_from_deltas_and_freeleech(sb, http, torrent):
    entry, ih = torrent
    a = Announcer(http, sb.passkey, 50001)
    a(ih, left=1000, event="started")
    a(ih, uploaded=100, downloaded=400, left=600)
    a(ih, uploaded=300, downloaded=1000, left=0, event="completed")
    user = http.get("/jsonLoad.php").json()
    assert user["uploaded_bytes"] - 25 * GiB == 300
    assert user["downloaded_bytes"] - 10 * GiB == 1000
    # a restarted client reports from zero again: counted as new traffic, never negative
    a(ih, uploaded=50, downloaded=0, left=0, event="started")
    assert http.get("/jsonLoad.php").json()["uploaded_bytes"] - 25 * GiB == 350
    # a personal freeleech torrent costs no download
    sb.set_user(wedges=1)
    http.get(f"/tor/download.php?tid={entry.id}&fl")
    a(ih, uploaded=50, downloaded=5000, left=0)
    assert http.get("/jsonLoad.php").json()["downloaded_bytes"] - 10 * GiB == 1000


def test_user_info_fields_and_infinite_ratio(tmp_path):
    with Sandbox(data_dir=tmp_path, user={"base_downloaded": 0, "base_uploaded": 5 * GiB}) as sb:
        data = Http(sb).get("/jsonLoad.php").json()
        assert data["ratio"] == "∞" and data["downloaded"] == "0 B" and data["uploaded"] == "5.000 GiB"
        info = UserInfo.from_api(data)
        assert info.ratio is None and info.uploaded_bytes == 5 * GiB and info.snatch_summary is None
        for key in ("username", "uid", "classname", "seedbonus", "wedges", "vip_until", "connectable", "country_code"):
            assert key in data


def test_snatch_summary_follows_announces(tmp_path):
    with Sandbox(data_dir=tmp_path, satisfy_seconds=0.6, inactive_seconds=4, rotate_every=0) as sb:
        http = Http(sb)
        entry = next(e for e in sb.catalogue.entries if e.kind == "ebook")
        ih = sb.store.ensure(entry).info_hash
        a = Announcer(http, sb.passkey, 50001)

        def summary():
            info = UserInfo.from_api(http.get("/jsonLoad.php", params={"snatch_summary": ""}).json())
            s = info.snatch_summary
            return s.leeching, s.seeding_unsatisfied, s.seeding_satisfied, s.inactive_satisfied, s.unsatisfied

        assert summary() == (0, 0, 0, 0, 0)
        a(ih, left=1000, event="started")
        assert summary() == (1, 0, 0, 0, 1)
        time.sleep(0.3)
        assert summary() == (1, 0, 0, 0, 1)  # leeching time is not seeding time
        a(ih, left=0, event="completed", downloaded=1000)
        assert summary() == (0, 1, 0, 0, 1)
        wait_until(lambda: summary() == (0, 0, 1, 0, 0), timeout=20)  # seeded for satisfy_seconds
        wait_until(lambda: summary() == (0, 0, 0, 1, 0), timeout=20, interval=0.25)  # no announce since
        data = http.get("/jsonLoad.php?snatch_summary").json()
        nested = data["snatch_summary"]  # MAM's form since spring 2026: nested, no `red`
        assert nested["inactSat"] == {"name": "Inactive, Satisfied", "count": 1, "size": entry.size_bytes}
        assert nested["unsat"]["limit"] == 100 and data["unsat"] is None


def test_stopped_makes_a_snatch_inactive_and_stops_the_clock(tmp_path):
    with Sandbox(data_dir=tmp_path, satisfy_seconds=1.0, rotate_every=0) as sb:
        http = Http(sb)
        ih = sb.store.ensure(sb.catalogue.entries[0]).info_hash
        a = Announcer(http, sb.passkey, 50001)
        a(ih, left=0, event="started")
        a(ih, left=0, event="stopped")
        time.sleep(1.1)
        data = http.get("/jsonLoad.php?snatch_summary").json()["snatch_summary"]
        assert data["inactUnsat"]["count"] == 1 and data["sSat"]["count"] == 0


def test_hit_and_run_and_unsat_limit(http, sb):
    tids = [e.id for e in sb.catalogue.entries[:4]]
    sb.set_user(unsat_limit=2)
    sb.add_snatch(tids[0], age=31 * 86400, seeded=3600, active=False)
    sb.add_snatch(tids[1], age=31 * 86400, seeded=3600, active=True)
    sb.add_snatch(tids[2], age=3600, seeded=0, active=True)
    http.client.post("/_sandbox/snatches", json={"tid": tids[3], "age": 7200, "seeded": 100, "active": False})
    sb.configure(summary_style="top")  # the older form still carries `red`
    data = http.get("/jsonLoad.php?snatch_summary").json()
    assert data["inactHnr"]["count"] == 1 and data["inactHnr"]["red"] is True
    assert data["seedHnr"]["count"] == 1
    assert data["seedUnsat"]["count"] == 1 and data["inactUnsat"]["count"] == 1
    assert data["unsat"] == {"name": "Unsatisfied", "count": 2, "red": True, "size": data["unsat"]["size"], "limit": 2}
    rows = http.search({"id": str(tids[0])})["data"]
    assert rows[0]["my_snatched"] == 1


def test_runtime_settings_and_state(http, sb):
    resp = http.client.post("/_sandbox/settings", json={"satisfy_seconds": 5, "announce_interval": 3})
    assert resp.json()["info"]["timing"]["satisfy_seconds"] == 5
    assert http.client.post("/_sandbox/settings", json={"bogus": 1}).status_code == 400
    assert http.client.post("/_sandbox/user", json={"wedges": 9}).json()["state"]["wedges"] == 9
    assert http.client.post("/_sandbox/user", json={"passkey": "x"}).status_code == 400
    state = http.client.get("/_sandbox/state").json()
    assert state["user"]["wedges"] == 9 and state["snatches"] == [] and state["timing"]["announce_interval"] == 3


def test_leecher_is_never_told_about_the_sandbox_seeder(sb, http, torrent):
    _, ih = torrent
    seeder, leecher = sb.swarm.seeder_account, sb.swarm.leecher_account
    sb.tracker.register_peer(ih, seeder.passkey, 40001)
    sb.tracker.register_peer(ih, sb.swarm.corrupt_account.passkey, 40002)
    user = Announcer(http, sb.passkey, 50001)
    user_view = _peers(user(ih, left=0, event="started")[b"peers"])
    assert user_view[0] == ("127.0.0.1", 40002)  # the corrupt peer comes first, so clients meet it
    assert set(user_view) == {("127.0.0.1", 40001), ("127.0.0.1", 40002)}
    leech_view = _peers(Announcer(http, leecher.passkey, 50009)(ih, left=100, event="started")[b"peers"])
    assert leech_view == [("127.0.0.1", 50001)]


def test_torrents_from_an_earlier_run_stay_registered_and_seeded(tmp_path):
    with Sandbox(data_dir=tmp_path) as first:
        entry = first.catalogue.entries[2]
        ih = first.store.ensure(entry).info_hash
    with Sandbox(data_dir=tmp_path, announce_interval=2) as second:
        assert second.store.get(entry.id) is None
        reply = Announcer(Http(second), second.passkey, 50001)(ih, left=10, event="started")
        assert b"failure reason" not in reply
        assert entry.id in second.swarm.status()["seeding"]
        assert _peers(reply[b"peers"]) == [("127.0.0.1", second.swarm.seeder_port)]
