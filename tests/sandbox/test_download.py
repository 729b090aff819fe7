"""`.torrent` downloads (both link forms), their contents, payload generation and wedges."""

from __future__ import annotations

import hashlib

import fastbencode
import pytest

from mamdl.sandbox import Sandbox
from mamdl.sandbox.catalogue import parse_size
from mamdl.sandbox.payloads import info_hash_of

from .conftest import Http


def _tid(http, text: str, main_cat: str) -> int:
    return int(http.search({"text": text, "main_cat": [main_cat]}, dlLink="true")["data"][0]["id"])


def test_plain_and_hash_forms(http, sb):
    row = http.search({"text": "piranesi", "main_cat": ["13"]}, dlLink="true")["data"][0]
    plain = http.get("/tor/download.php", params={"tid": row["id"]})
    hashed = http.get(f"/tor/download.php/{row['dl']}", params={"tid": row["id"]})
    for resp in (plain, hashed):
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/x-bittorrent"
        assert "attachment" in resp.headers["content-disposition"]
    assert plain.content == hashed.content


def test_link_errors(http):
    resp = http.get("/tor/download.php/somehash")
    assert resp.status_code == 400 and resp.text == "Invalid download link: missing tid"
    assert http.get("/tor/download.php").status_code == 400
    assert http.get("/tor/download.php", params={"tid": "999999999"}).status_code == 404
    tid = _tid(http, "circe", "14")
    assert http.get("/tor/download.php/wronghash", params={"tid": tid}).status_code == 400


def test_torrent_is_private_v1_only_with_the_users_passkey(http, sb):
    tid = _tid(http, "circe", "13")
    meta = fastbencode.bdecode(http.get("/tor/download.php", params={"tid": tid}).content)
    assert meta[b"announce"].decode() == f"{sb.base_url}/announce?passkey={sb.passkey}"
    info = meta[b"info"]
    assert info[b"private"] == 1
    assert b"meta version" not in info and b"file tree" not in info  # no v2 parts
    assert b"piece layers" not in meta
    assert info[b"name"].decode() == "Madeline Miller - Circe"
    assert [b"/".join(f[b"path"]).decode() for f in info[b"files"]] == ["Circe.m4b"]


def test_info_hash_is_the_same_for_every_passkey(sb):
    tid = sb.catalogue.entries[0].id
    mine = sb.torrent_bytes(tid)
    other = sb.torrent_bytes(tid, passkey="b" * 32)
    assert mine != other and info_hash_of(mine) == info_hash_of(other) == sb.info_hash(tid)


def test_ebook_with_several_types_is_a_folder(http, sb):
    tid = _tid(http, "project hail mary", "14")
    files = sb.payload_files(tid)
    assert [f.relpath for f in files] == [
        "Andy Weir - Project Hail Mary/Andy Weir - Project Hail Mary.epub",
        "Andy Weir - Project Hail Mary/Andy Weir - Project Hail Mary.mobi",
        "Andy Weir - Project Hail Mary/Andy Weir - Project Hail Mary.azw3",
    ]
    assert files[0].path.read_bytes()[:4] == b"PK\x03\x04"


def test_payload_files_hashes_match_disk_and_are_deterministic(tmp_path, sb):
    tid = next(e.id for e in sb.catalogue.entries if e.kind == "audiobook" and e.numfiles > 10)
    files = sb.payload_files(tid)
    assert len(files) > 10
    for f in files:
        assert f.path.is_file() and f.path.stat().st_size == f.size
        assert hashlib.sha256(f.path.read_bytes()).hexdigest() == f.sha256
    with Sandbox(data_dir=tmp_path / "elsewhere") as other:
        assert [(f.relpath, f.sha256) for f in other.payload_files(tid)] == [(f.relpath, f.sha256) for f in files]
        assert other.info_hash(tid) == sb.info_hash(tid)


def test_payload_cache_is_reused(tmp_path):
    with Sandbox(data_dir=tmp_path) as first:
        tid = first.catalogue.entries[3].id
        made = first.payload(tid)
        mtime = made.files[0].path.stat().st_mtime_ns
    with Sandbox(data_dir=tmp_path) as second:
        again = second.payload(tid)
        assert again.info_hash == made.info_hash and again.files[0].path.stat().st_mtime_ns == mtime
    with Sandbox(data_dir=tmp_path, payload_scale=0.5) as smaller:
        assert smaller.payload(tid).total_size < made.total_size


def test_payload_control_endpoint(http, sb):
    tid = sb.catalogue.entries[1].id
    data = http.client.get("/_sandbox/payload", params={"tid": tid}).json()
    assert data["info_hash"] == sb.info_hash(tid)
    assert [f["sha256"] for f in data["files"]] == [f.sha256 for f in sb.payload_files(tid)]
    assert http.client.get("/_sandbox/payload", params={"tid": 1}).status_code == 400


def test_wedge_spending(http, sb):
    tid = _tid(http, "way of kings", "13")
    assert http.get("/jsonLoad.php").json()["wedges"] == 3
    resp = http.get(f"/tor/download.php?tid={tid}&fl")
    assert resp.content.startswith(b"d")
    user = http.get("/jsonLoad.php").json()
    assert user["wedges"] == 2
    row = http.search({"id": str(tid)})["data"][0]
    assert row["personal_freeleech"] == 1
    assert sb.wedge_spends()[0]["tid"] == tid and sb.wedge_spends()[0]["wasted"] is False
    # a second bare `&fl` spends again; `fl=1` and `fl=0` (unconfirmed forms) spend nothing
    http.get(f"/tor/download.php?tid={tid}&fl")
    assert http.get("/tor/download.php", params={"tid": tid, "fl": "1"}).content.startswith(b"d")
    http.get("/tor/download.php", params={"tid": tid, "fl": "0"})
    assert http.get("/jsonLoad.php").json()["wedges"] == 1
    assert sb.wedge_spends()[1]["wasted"] is True  # it already was personal freeleech


def test_wedge_on_a_free_torrent_is_wasted_but_still_costs(http, sb):
    free_tid = next(int(r["id"]) for r in http.search({"searchType": "fl"})["data"])
    http.get(f"/tor/download.php?tid={free_tid}&fl")
    assert sb.wedge_spends() == [{"t": pytest.approx(sb.wedge_spends()[0]["t"]), "tid": free_tid, "wasted": True}]
    assert http.get("/jsonLoad.php").json()["wedges"] == 2


def test_vip_freeleech_counts_as_free_for_a_vip_only(http, sb):
    tid = next(int(r["id"]) for r in http.search({"searchType": "VIP"})["data"] if str(r["fl_vip"]) == "1")
    http.get(f"/tor/download.php?tid={tid}&fl")
    assert sb.wedge_spends()[-1]["wasted"] is False
    sb.set_user(classname="VIP", vip_until="2027-01-01 00:00:00")
    http.get(f"/tor/download.php?tid={tid}&fl")
    assert sb.wedge_spends()[-1]["wasted"] is True


def test_no_wedges_left(http, sb):
    sb.set_user(wedges=0)
    tid = _tid(http, "circe", "14")
    resp = http.get(f"/tor/download.php?tid={tid}&fl")
    assert resp.status_code == 200 and not resp.content.startswith(b"d")
    assert "no freeleech wedges" in resp.text
    assert sb.wedge_spends() == []
    assert http.get("/tor/download.php", params={"tid": tid}).content.startswith(b"d")


def test_bonus_buy_refuses_wedges_via_api(http):
    resp = http.get("/json/bonusBuy.php/", params={"spendtype": "personalFL", "_": "1"})
    assert resp.status_code == 200
    assert resp.json() == {"success": "false", "error": "Not allowed via API"}


def test_sandbox_instances_share_nothing(tmp_path):
    with Sandbox(data_dir=tmp_path / "a") as a, Sandbox(data_dir=tmp_path / "b") as b:
        assert a.port != b.port and a.mam_id != b.mam_id and a.passkey != b.passkey
        assert Http(a).get("/jsonLoad.php", cookie=b.mam_id).status_code == 403


def test_honest_sizes_show_what_will_really_be_downloaded(tmp_path):
    with Sandbox(data_dir=tmp_path, honest_sizes=True, payload_scale=0.5) as sb:
        http = Http(sb)
        row = http.search({"text": "project hail mary", "main_cat": ["13"]})["data"][0]
        assert row["size"].endswith("MiB") and float(row["size"].split()[0]) < 10
        real = sum(f.size for f in sb.payload_files(int(row["id"])))
        assert abs(parse_size(row["size"]) - real) < 0.01 * 2**20
