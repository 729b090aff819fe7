"""Payload files and `.torrent` files for catalogue entries: deterministic, small, made on demand.

Why generated: the sandbox must hand out real torrents that real clients can download and verify,
without shipping gigabytes. Each entry gets files with real-looking names (`Author - Title.epub`,
`Author - Title/Title - Part 01.mp3`) and deterministic pseudo-random content, scaled down from
the listed size (ebooks ~0.5-2 MiB, audiobooks ~4-16 MiB at `scale=1`) so a whole demo is quick.

Generation happens on the first download of an entry and is cached in the sandbox's data dir (a
manifest records what was made, so a later run with the same settings reuses the files). Torrents
are v1-only and private, like MAM's; the info-hash is the same for every user, only the top-level
announce URL (which carries the user's passkey) differs per download (`torrent_for`).

Names are planned without touching the disk (`plan_payload`), which the search uses for the
`filenames` field before anything was generated.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastbencode

from mamdl.sandbox.catalogue import Entry

GENERATOR_VERSION = 1
KiB = 1024
MiB = 1024 * 1024
_AUDIO_TYPES = ("m4b", "mp3", "m4a", "flac", "ogg", "opus", "aac", "wma")
_MAGIC = {
    "epub": b"PK\x03\x04",
    "pdf": b"%PDF-1.7\n",
    "mp3": b"ID3\x04\x00\x00",
    "m4b": b"\x00\x00\x00\x20ftypM4B \x00\x00\x02\x00",
    "m4a": b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00",
    "flac": b"fLaC",
}
_EBOOK_WEIGHT = {"epub": 1.0, "mobi": 1.3, "azw3": 1.25, "pdf": 1.8, "txt": 0.4}
_MAX_AUDIO_PARTS = 60


@dataclass(frozen=True)
class PlannedFile:
    relpath: str
    """Path inside the torrent, '/'-separated, starting with the torrent name."""
    size: int


@dataclass(frozen=True)
class PayloadPlan:
    name: str
    files: tuple[PlannedFile, ...]
    single_file: bool

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class PayloadFile:
    relpath: str
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Payload:
    """A generated payload: where its files are, their hashes, and its `.torrent` (no announce set)."""

    tid: int
    name: str
    save_path: Path
    """The directory to give libtorrent as save_path (the torrent's files/folder are inside)."""
    files: tuple[PayloadFile, ...]
    torrent_path: Path
    info_hash: str
    """v1 info-hash, 40 lowercase hex digits."""
    piece_length: int
    num_pieces: int

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def torrent_bytes(self) -> bytes:
        return self.torrent_path.read_bytes()


def safe_name(text: str) -> str:
    """A file-name component: no path separators or characters Windows refuses, no leading dots."""
    text = text.replace(":", " -")
    text = re.sub(r'[\\/*?"<>|\x00-\x1f]+', "", text)
    text = re.sub(r"\s+", " ", text).strip().lstrip(".")
    return text[:150] or "untitled"


def _seed(entry: Entry, extra: str = "") -> int:
    digest = hashlib.sha256(f"mamdl-sandbox:{GENERATOR_VERSION}:{entry.id}:{entry.title}:{extra}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _fraction(size: int, low: float, high: float) -> float:
    """Where `size` sits between `low` and `high` on a log scale, clamped to 0..1."""
    if size <= 0:
        return 0.5
    return min(1.0, max(0.0, (math.log2(size) - math.log2(low)) / (math.log2(high) - math.log2(low))))


def plan_payload(entry: Entry, scale: float = 1.0) -> PayloadPlan:
    """File names and sizes for `entry`, derived only from its row (no disk access)."""
    rng = random.Random(_seed(entry, "plan"))
    base = safe_name(f"{entry.author_line} - {entry.title}")
    title = safe_name(entry.title)
    if entry.is_audio:
        total = (4 * MiB + _fraction(entry.listed_size or entry.size_bytes, 64 * MiB, 2048 * MiB) * 12 * MiB) * scale
        ext = next((t for t in entry.filetypes if t in _AUDIO_TYPES), "mp3")
        parts = max(1, min(entry.numfiles, _MAX_AUDIO_PARTS))
        weights = [1.0 + rng.uniform(-0.15, 0.15) for _ in range(parts)]
        names = [f"{title}.{ext}"] if parts == 1 else [f"{title} - Part {i:02d}.{ext}" for i in range(1, parts + 1)]
        sizes = _split(total, weights)
        files = tuple(PlannedFile(f"{base}/{n}", s) for n, s in zip(names, sizes))
        return PayloadPlan(name=base, files=files, single_file=False)
    types = entry.filetypes or ["epub"]
    types = list(dict.fromkeys(types))  # dedupe, keep order
    total = (0.5 * MiB + _fraction(entry.listed_size or entry.size_bytes, 256 * KiB, 16 * MiB) * 1.5 * MiB) * scale
    weights = [_EBOOK_WEIGHT.get(t, 1.0) * (1.0 + rng.uniform(-0.05, 0.05)) for t in types]
    sizes = _split(total, weights)
    names = [f"{base}.{t}" for t in types]
    if len(names) == 1:
        return PayloadPlan(name=names[0], files=(PlannedFile(names[0], sizes[0]),), single_file=True)
    return PayloadPlan(
        name=base, files=tuple(PlannedFile(f"{base}/{n}", s) for n, s in zip(names, sizes)), single_file=False
    )


def _split(total: float, weights: list[float]) -> list[int]:
    whole = sum(weights)
    return [max(4 * KiB, int(total * w / whole)) for w in weights]


def file_names(entry: Entry) -> list[str]:
    """The bare file names of `entry`'s payload (what MAM's `filenames` search field looks at)."""
    return [f.relpath.rsplit("/", 1)[-1] for f in plan_payload(entry).files]


def _content(seed: int, size: int, ext: str) -> bytes:
    magic = _MAGIC.get(ext, b"")[:size]
    return magic + random.Random(seed).randbytes(size - len(magic))


def info_hash_of(torrent: bytes) -> str:
    """The v1 info-hash of a bencoded torrent, computed from its info dict."""
    meta = fastbencode.bdecode(torrent)
    return hashlib.sha1(fastbencode.bencode(meta[b"info"])).hexdigest()


def with_announce(torrent: bytes, announce_url: str, comment: str | None = None) -> bytes:
    """`torrent` with its top-level announce replaced; the info dict (and so the info-hash) is untouched."""
    meta: dict[bytes, Any] = fastbencode.bdecode(torrent)
    meta[b"announce"] = announce_url.encode()
    meta.pop(b"announce-list", None)
    if comment is not None:
        meta[b"comment"] = comment.encode()
    return fastbencode.bencode(meta)


class PayloadStore:
    """Makes (once) and remembers payloads under `root`; thread-safe, one lock per torrent id."""

    def __init__(self, root: Path, *, scale: float = 1.0) -> None:
        self.root = Path(root)
        self.scale = scale
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        self._made: dict[int, Payload] = {}
        self._by_hash: dict[str, int] = {}
        self._on_disk: dict[str, int] = self._scan_manifests()

    def _scan_manifests(self) -> dict[str, int]:
        """info-hash -> tid of payloads a previous run left in this data dir, so a client that
        kept seeding across a sandbox restart is still recognised (loaded lazily on first use)."""
        found: dict[str, int] = {}
        for manifest in (self.root / "payloads").glob("*/manifest.json"):
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                if data.get("version") == GENERATOR_VERSION:
                    found[str(data["info_hash"])] = int(data["tid"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return found

    def _lock(self, tid: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(tid, threading.Lock())

    def get(self, tid: int) -> Payload | None:
        """The payload if it was already made in this run, else None (no generation)."""
        return self._made.get(tid)

    def tid_for_hash(self, info_hash: str) -> int | None:
        """The torrent id of a payload made in this run, or left on disk by an earlier one."""
        info_hash = info_hash.lower()
        return self._by_hash.get(info_hash, self._on_disk.get(info_hash))

    def generated(self) -> list[Payload]:
        return list(self._made.values())

    def ensure(self, entry: Entry) -> Payload:
        """The payload for `entry`, generating files and `.torrent` on first use."""
        made = self._made.get(entry.id)
        if made is not None:
            return made
        with self._lock(entry.id):
            made = self._made.get(entry.id)
            if made is not None:
                return made
            payload = self._load_cached(entry) or self._generate(entry)
            with self._guard:
                self._made[entry.id] = payload
                self._by_hash[payload.info_hash] = entry.id
            return payload

    def _dir(self, tid: int) -> Path:
        return self.root / "payloads" / str(tid)

    def _load_cached(self, entry: Entry) -> Payload | None:
        base = self._dir(entry.id)
        manifest_path = base / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        plan = plan_payload(entry, self.scale)
        expected = [[f.relpath, f.size] for f in plan.files]
        if (
            manifest.get("version") != GENERATOR_VERSION
            or manifest.get("title") != entry.title
            or [[f["relpath"], f["size"]] for f in manifest.get("files", [])] != expected
        ):
            return None
        save = base / "data"
        files = []
        for f in manifest["files"]:
            path = save / f["relpath"]
            if not path.is_file() or path.stat().st_size != f["size"]:
                return None
            files.append(PayloadFile(f["relpath"], path, f["size"], f["sha256"]))
        torrent_path = base / "base.torrent"
        if not torrent_path.is_file():
            return None
        return Payload(
            tid=entry.id,
            name=plan.name,
            save_path=save,
            files=tuple(files),
            torrent_path=torrent_path,
            info_hash=manifest["info_hash"],
            piece_length=manifest["piece_length"],
            num_pieces=manifest["num_pieces"],
        )

    def _generate(self, entry: Entry) -> Payload:
        import libtorrent as lt  # lazy: the HTTP side of the sandbox starts without it

        plan = plan_payload(entry, self.scale)
        base = self._dir(entry.id)
        if base.exists():
            shutil.rmtree(base)
        save = base / "data"
        files = []
        seed = _seed(entry, "content")
        for index, planned in enumerate(plan.files):
            path = save / planned.relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            data = _content(seed + index, planned.size, planned.relpath.rsplit(".", 1)[-1].lower())
            path.write_bytes(data)
            files.append(PayloadFile(planned.relpath, path, planned.size, hashlib.sha256(data).hexdigest()))

        entries = [lt.create_file_entry(f.relpath, f.size) for f in plan.files]
        ct = lt.create_torrent(entries, 0, lt.create_torrent.v1_only)
        ct.set_priv(True)
        ct.set_creator("mamdl-sandbox")
        ct.set_creation_date(int(entry.added_ts))
        lt.set_piece_hashes(ct, str(save))
        torrent = lt.bencode(ct.generate())
        torrent_path = base / "base.torrent"
        torrent_path.write_bytes(torrent)
        info_hash = info_hash_of(torrent)
        manifest = {
            "version": GENERATOR_VERSION,
            "tid": entry.id,
            "title": entry.title,
            "scale": self.scale,
            "info_hash": info_hash,
            "piece_length": ct.piece_length(),
            "num_pieces": ct.num_pieces(),
            "files": [{"relpath": f.relpath, "size": f.size, "sha256": f.sha256} for f in files],
        }
        (base / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        return Payload(
            tid=entry.id,
            name=plan.name,
            save_path=save,
            files=tuple(files),
            torrent_path=torrent_path,
            info_hash=info_hash,
            piece_length=ct.piece_length(),
            num_pieces=ct.num_pieces(),
        )

    def corrupt_copy(self, payload: Payload) -> Path:
        """A copy of `payload` with bytes flipped every 8 KiB (so nearly every piece fails its hash).

        Returns the save_path of the copy. Used by the corrupt peer, which serves it in seed mode."""
        dest = self.root / "corrupt" / str(payload.tid)
        marker = dest / ".complete"
        if marker.exists():
            return dest
        if dest.exists():
            shutil.rmtree(dest)
        for f in payload.files:
            target = dest / f.relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            data = bytearray(f.path.read_bytes())
            for pos in range(0, len(data), 8 * KiB):
                data[pos] ^= 0xFF
            if data:
                data[-1] ^= 0xFF
            target.write_bytes(bytes(data))
        marker.write_text("ok")
        return dest
