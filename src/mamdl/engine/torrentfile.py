"""Read and vet a `.torrent` before libtorrent ever sees it.

libtorrent quietly renames hostile file names (`../`, absolute paths, backslashes) and carries on;
mamdl would rather refuse such a torrent outright, so the raw info dictionary is inspected here with
fastbencode. The announce URL of a MAM torrent carries the user's passkey: it is kept out of
`repr()`, registered with `mamdl.redact`, and only ever shown in a redacted form.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import fastbencode

from mamdl.errors import TorrentError
from mamdl.redact import MASK, register_secret

MAX_TORRENT_BYTES = 50 * 1024 * 1024
"""A .torrent larger than this is not a book: refuse it before decoding."""
MIN_PIECE_LENGTH = 16 * 1024
MAX_PIECE_LENGTH = 512 * 1024 * 1024

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class TorrentFileEntry:
    """One file of the torrent, with its path relative to the save folder (always `/`-separated)."""

    path: str
    size: int
    pad: bool = False


@dataclass(frozen=True)
class TorrentFile:
    """A vetted .torrent: plain data only, safe to log (announce URLs are hidden from `repr`)."""

    raw: bytes = field(repr=False)
    info_hash: str
    """v1 info-hash, 40 lowercase hex digits (SHA-1 of the bencoded info dictionary)."""
    name: str
    total_size: int
    piece_length: int
    num_pieces: int
    files: tuple[TorrentFileEntry, ...] = field(repr=False)
    private: bool
    announce_urls: tuple[str, ...] = field(repr=False)
    """Every tracker URL, first tier first. Secret: holds the passkey; never log it."""
    comment: str = ""
    """The .torrent's comment (MAM's and the sandbox's name the torrent's page, `…/t/<id>`)."""

    @property
    def announce_redacted(self) -> tuple[str, ...]:
        """The tracker URLs with their secret parts masked, fit for logs and messages."""
        return tuple(redact_announce(u) for u in self.announce_urls)

    @property
    def multi_file(self) -> bool:
        return len(self.files) > 1 or (bool(self.files) and "/" in self.files[0].path)


def redact_announce(url: str) -> str:
    """Keep scheme, host and port, mask everything that could be a passkey (path and query)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if not parts.scheme or not parts.hostname:
        return MASK
    host = parts.hostname
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}/{MASK}"


def load_torrent(source: bytes | bytearray | memoryview | str | Path) -> TorrentFile:
    """Parse and vet a .torrent given as bytes or a path; raise `TorrentError` with a clear reason."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        where = "the .torrent"
    else:
        path = Path(source)
        where = f"{path.name}"
        try:
            if path.stat().st_size > MAX_TORRENT_BYTES:
                raise TorrentError(f"{where} is larger than {MAX_TORRENT_BYTES // 2**20} MiB: not a .torrent file")
            raw = path.read_bytes()
        except TorrentError:
            raise
        except OSError as exc:
            raise TorrentError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_torrent(raw, where=where)


def parse_torrent(raw: bytes, *, where: str = "the .torrent") -> TorrentFile:
    if len(raw) > MAX_TORRENT_BYTES:
        raise TorrentError(f"{where} is larger than {MAX_TORRENT_BYTES // 2**20} MiB: not a .torrent file")
    if not raw:
        raise TorrentError(f"{where} is empty")
    try:
        top = fastbencode.bdecode(raw)
    except Exception as exc:  # fastbencode raises ValueError/TypeError with terse texts
        raise TorrentError(f"{where} is not valid bencode ({exc}); is it really a .torrent file?") from None
    if not isinstance(top, dict):
        raise TorrentError(f"{where} is not a .torrent: the top level is not a dictionary")
    info = top.get(b"info")
    if not isinstance(info, dict):
        raise TorrentError(f"{where} has no 'info' dictionary")

    # fastbencode only accepts canonical bencode (sorted keys, no leading zeros), so re-encoding the
    # decoded info dictionary gives back exactly the original bytes and hence the real info-hash.
    info_bytes = fastbencode.bencode(info)
    if info_bytes not in raw:
        raise TorrentError(f"{where} has a non-canonical info dictionary; refusing it")
    info_hash = hashlib.sha1(info_bytes).hexdigest()

    piece_length = info.get(b"piece length")
    if (
        not isinstance(piece_length, int)
        or isinstance(piece_length, bool)
        or piece_length < MIN_PIECE_LENGTH
        or piece_length > MAX_PIECE_LENGTH
        or piece_length % MIN_PIECE_LENGTH
    ):
        raise TorrentError(
            f"{where} has a bad piece length ({piece_length!r}): expected a multiple of 16 KiB up to 512 MiB"
        )
    pieces = info.get(b"pieces")
    if not isinstance(pieces, bytes):
        if b"file tree" in info:
            raise TorrentError(f"{where} is a BitTorrent v2-only torrent; mamdl (like MAM) needs v1 torrents")
        raise TorrentError(f"{where} has no piece hashes")
    if len(pieces) == 0 or len(pieces) % 20:
        raise TorrentError(f"{where} has a malformed piece-hash list ({len(pieces)} bytes, not a multiple of 20)")

    name = _text(info, b"name", where, "name")
    _check_component(name, where, "the torrent name")

    files = _files(info, name, where)
    total = sum(f.size for f in files)
    if total <= 0:
        raise TorrentError(f"{where} holds no data (total size 0)")
    num_pieces = len(pieces) // 20
    if num_pieces != math.ceil(total / piece_length):
        raise TorrentError(
            f"{where} is inconsistent: {num_pieces} piece hashes for {total} bytes in {piece_length}-byte pieces"
        )

    private = info.get(b"private") == 1
    announce = _announce_urls(top)
    for url in announce:
        register_secret(url)
        _register_passkey(url)

    return TorrentFile(
        raw=raw,
        info_hash=info_hash,
        name=name,
        total_size=total,
        piece_length=piece_length,
        num_pieces=num_pieces,
        files=tuple(files),
        private=private,
        announce_urls=tuple(announce),
        comment=_comment(top),
    )


def _comment(top: dict) -> str:
    raw = top.get(b"comment")
    if not isinstance(raw, bytes):
        return ""
    return raw.decode("utf-8", "replace")[:500]


def _text(d: dict, key: bytes, where: str, what: str) -> str:
    """A string field, preferring the `.utf-8` variant some clients add."""
    value = d.get(key + b".utf-8", d.get(key))
    if not isinstance(value, bytes):
        raise TorrentError(f"{where} has no {what}")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("utf-8", errors="replace")


def _check_component(part: str, where: str, what: str) -> None:
    """Refuse anything that could leave the save folder or mean something else on another OS."""
    if part in ("", ".", ".."):
        raise TorrentError(f"{where} is unsafe: {what} has an empty, '.' or '..' path component; refusing it")
    if "/" in part or "\\" in part:
        raise TorrentError(f"{where} is unsafe: {what} contains a path separator ({part!r}); refusing it")
    if "\x00" in part:
        raise TorrentError(f"{where} is unsafe: {what} contains a NUL byte; refusing it")
    if _DRIVE.match(part):
        raise TorrentError(f"{where} is unsafe: {what} looks like an absolute Windows path ({part!r}); refusing it")


def _path_list(entry: dict, key: bytes, where: str, what: str) -> list[str]:
    raw = entry.get(key + b".utf-8", entry.get(key))
    if not isinstance(raw, list) or not raw:
        raise TorrentError(f"{where} has a file with no path")
    parts: list[str] = []
    for p in raw:
        if not isinstance(p, bytes):
            raise TorrentError(f"{where} has a file path that is not a list of strings")
        text = p.decode("utf-8", errors="replace")
        _check_component(text, where, what)
        parts.append(text)
    return parts


def _files(info: dict, name: str, where: str) -> list[TorrentFileEntry]:
    if b"files" in info:
        entries = info[b"files"]
        if not isinstance(entries, list) or not entries:
            raise TorrentError(f"{where} has an empty or malformed file list")
        out: list[TorrentFileEntry] = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise TorrentError(f"{where} has a malformed file entry")
            length = entry.get(b"length")
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise TorrentError(f"{where} has a file with a bad length ({length!r})")
            parts = _path_list(entry, b"path", where, "a file path")
            attr = entry.get(b"attr", b"")
            attr = attr if isinstance(attr, bytes) else b""
            if b"l" in attr:
                _path_list(entry, b"symlink path", where, "a symlink target")
            out.append(TorrentFileEntry(path="/".join([name, *parts]), size=length, pad=b"p" in attr))
        return out
    length = info.get(b"length")
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise TorrentError(f"{where} has neither a file list nor a valid length")
    return [TorrentFileEntry(path=name, size=length)]


def _announce_urls(top: dict) -> list[str]:
    urls: list[str] = []
    tiers = top.get(b"announce-list")
    if isinstance(tiers, list):
        for tier in tiers:
            if isinstance(tier, list):
                for u in tier:
                    if isinstance(u, bytes) and u:
                        urls.append(u.decode("utf-8", errors="replace"))
    single = top.get(b"announce")
    if isinstance(single, bytes) and single:
        s = single.decode("utf-8", errors="replace")
        if s not in urls:
            urls.insert(0, s)
    return urls


def _register_passkey(url: str) -> None:
    """Register the path segments and query values of an announce URL as secrets (the passkey)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    for seg in parts.path.split("/"):
        if len(seg) >= 16 and seg not in ("announce", "tracker.php"):
            register_secret(seg)
    for pair in parts.query.split("&"):
        _, _, value = pair.partition("=")
        if len(value) >= 16:
            register_secret(value)
