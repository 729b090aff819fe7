"""Parsing and vetting .torrent files before libtorrent sees them."""

from __future__ import annotations

import hashlib
import math

import fastbencode
import libtorrent as lt
import pytest

from mamdl.engine.torrentfile import load_torrent, parse_torrent, redact_announce
from mamdl.errors import TorrentError
from mamdl.redact import redact
from tests.engine.swarm import FAKE_ANNOUNCE, Payload

PASSKEY = "0123456789abcdef0123456789abcdef"
MAM_ANNOUNCE = f"https://t.myanonamouse.net/tracker.php/{PASSKEY}/announce"


def raw_torrent(
    files: list[tuple[list[bytes], int]] | None = None,
    *,
    name: bytes = b"book",
    piece: int = 16384,
    private: bool = True,
    announce: str = MAM_ANNOUNCE,
    extra_info: dict | None = None,
    file_extra: dict | None = None,
) -> bytes:
    """A hand-made .torrent with a consistent piece count (hash values are dummies)."""
    files = files if files is not None else [([b"a.epub"], 40000), ([b"sub", b"b.mobi"], 1000)]
    total = sum(size for _, size in files)
    info: dict = {
        b"name": name,
        b"piece length": piece,
        b"pieces": b"\x01" * 20 * max(1, math.ceil(total / (piece if isinstance(piece, int) and piece > 0 else 16384))),
        b"files": [{b"length": size, b"path": path, **(file_extra or {})} for path, size in files],
    }
    if private:
        info[b"private"] = 1
    info.update(extra_info or {})
    return fastbencode.bencode({b"announce": announce.encode(), b"info": info})


def test_parses_a_real_torrent(payload: Payload) -> None:
    tf = parse_torrent(payload.torrent)
    assert tf.info_hash == payload.info_hash == str(lt.torrent_info(payload.torrent).info_hashes().v1)
    assert tf.name == "book"
    assert tf.total_size == payload.total_size
    assert {f.path for f in tf.files} == set(payload.files)
    assert tf.private is True
    assert tf.multi_file
    assert tf.num_pieces == math.ceil(payload.total_size / tf.piece_length)


def test_load_from_path(tmp_path, payload: Payload) -> None:
    p = tmp_path / "x.torrent"
    p.write_bytes(payload.torrent)
    assert load_torrent(p).info_hash == payload.info_hash
    assert load_torrent(str(p)).info_hash == payload.info_hash
    with pytest.raises(TorrentError, match="cannot read"):
        load_torrent(tmp_path / "missing.torrent")


def test_announce_url_never_shown() -> None:
    tf = parse_torrent(raw_torrent())
    assert tf.announce_urls == (MAM_ANNOUNCE,)
    assert PASSKEY not in repr(tf)
    assert tf.announce_redacted == ("https://t.myanonamouse.net/***",)
    assert PASSKEY not in redact(f"oops {MAM_ANNOUNCE}")
    assert PASSKEY not in redact(f"bare {PASSKEY}")  # registered as a secret on parse


def test_redact_announce_forms() -> None:
    assert redact_announce(FAKE_ANNOUNCE) == "http://127.0.0.1:9/***"
    assert redact_announce("not a url") == "***"


def test_single_file_torrent() -> None:
    info = {b"name": b"one.epub", b"piece length": 16384, b"pieces": b"\x02" * 40, b"length": 20000}
    tf = parse_torrent(fastbencode.bencode({b"info": info}))
    assert [f.path for f in tf.files] == ["one.epub"]
    assert tf.private is False
    assert tf.announce_urls == ()
    assert tf.info_hash == hashlib.sha1(fastbencode.bencode(info)).hexdigest()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"this is not bencode", "not valid bencode"),
        (b"d4:infod4:name1:a", "not valid bencode"),
        (b"li1ei2ee", "top level is not a dictionary"),
        (fastbencode.bencode({b"announce": b"x"}), "no 'info'"),
        (fastbencode.bencode({b"info": b"x"}), "no 'info'"),
    ],
)
def test_malformed(raw: bytes, message: str) -> None:
    with pytest.raises(TorrentError, match=message):
        parse_torrent(raw)


@pytest.mark.parametrize("piece", [0, -16384, 1000, 16385, 2**30, b"16384"])
def test_bad_piece_length(piece) -> None:
    with pytest.raises(TorrentError, match="bad piece length"):
        parse_torrent(raw_torrent(piece=piece))


def test_piece_hashes_must_match_size() -> None:
    with pytest.raises(TorrentError, match="multiple of 20"):
        parse_torrent(raw_torrent(extra_info={b"pieces": b"\x01" * 21}))
    with pytest.raises(TorrentError, match="inconsistent"):
        parse_torrent(raw_torrent(extra_info={b"pieces": b"\x01" * 20 * 9}))
    with pytest.raises(TorrentError, match="v2-only"):
        info_v2 = {b"name": b"x", b"piece length": 16384, b"file tree": {}, b"meta version": 2}
        parse_torrent(fastbencode.bencode({b"info": info_v2}))


@pytest.mark.parametrize(
    "path",
    [
        [b"..", b"etc", b"passwd"],
        [b"sub", b"..", b"..", b"x"],
        [b"", b"etc", b"passwd"],  # absolute: leading empty component
        [b"/etc/passwd"],
        [b"sub\\..\\x"],
        [b"a", b"", b"b"],
        [b"."],
        [b"C:", b"x"],
        [b"nul\x00byte"],
    ],
)
def test_unsafe_file_paths_are_refused(path: list[bytes]) -> None:
    raw = raw_torrent([(path, 1000)])
    with pytest.raises(TorrentError, match="unsafe"):
        parse_torrent(raw)


@pytest.mark.parametrize("name", [b"..", b"/abs", b"a/b", b"a\\b", b""])
def test_unsafe_names_are_refused(name: bytes) -> None:
    with pytest.raises(TorrentError, match="unsafe|no name"):
        parse_torrent(raw_torrent(name=name))


def test_utf8_variant_is_checked_too() -> None:
    raw = raw_torrent([([b"ok.txt"], 1000)], file_extra={b"path.utf-8": [b"..", b"x"]})
    with pytest.raises(TorrentError, match="unsafe"):
        parse_torrent(raw)


def test_symlink_pointing_out_is_refused() -> None:
    raw = raw_torrent(
        [([b"link"], 0), ([b"data.bin"], 1000)],
        file_extra={b"attr": b"l", b"symlink path": [b"..", b"..", b"etc"]},
    )
    with pytest.raises(TorrentError, match="symlink"):
        parse_torrent(raw)


def test_libtorrent_alone_would_accept_traversal() -> None:
    """Why we vet: libtorrent loads such a torrent (and renames the file) instead of refusing it."""
    raw = raw_torrent([([b"..", b"evil.txt"], 1000)])
    lt.torrent_info(raw)  # no exception
    with pytest.raises(TorrentError):
        parse_torrent(raw)
