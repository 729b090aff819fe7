"""Downloads never write through a symlink or over a file that is not the torrent's own data.

Each case adds the torrent to an engine whose `--to` folder already holds something with the
book's names, and checks the user's bytes are untouched afterwards (and that the refusal names
the path). No peer is needed: the check happens before libtorrent sees the torrent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mamdl.errors import EngineError
from tests.engine.swarm import Payload


def _first_file(payload: Payload) -> str:
    return next(iter(payload.files))  # "book/disc1/part0.bin"


def test_planted_symlink_file_is_refused_and_target_untouched(engine, payload: Payload, tmp_path: Path) -> None:
    """Sabotage caught: drop the symlink check in `check_targets` and libtorrent writes into
    `victim` (outside the folder) once it downloads; here the add must fail and leave it as is."""
    dest = tmp_path / "dl"
    rel = _first_file(payload)
    (dest / rel).parent.mkdir(parents=True)
    victim = tmp_path / "outside" / "precious.txt"
    victim.parent.mkdir()
    victim.write_bytes(b"the user's own file\n")
    (dest / rel).symlink_to(victim)
    with pytest.raises(EngineError, match="symbolic link"):
        engine.add(payload.torrent, dest)
    assert victim.read_bytes() == b"the user's own file\n"
    assert (dest / rel).is_symlink() and engine.snapshots() == []


def test_symlinked_folder_in_the_path_is_refused(engine, payload: Payload, tmp_path: Path) -> None:
    """Sabotage caught: checking only the last path component lets `book/` → elsewhere through."""
    dest = tmp_path / "dl"
    dest.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (dest / payload.name).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(EngineError, match="symbolic link"):
        engine.add(payload.torrent, dest)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("content", [b"x" * 5_000_000, None], ids=["longer", "same-size-different"])
def test_existing_foreign_file_is_refused_and_left_alone(
    engine, payload: Payload, tmp_path: Path, content: bytes | None
) -> None:
    """Sabotage caught: accepting any existing file (libtorrent keeps a longer file's old tail and
    rewrites only failing pieces) or accepting a same-size file without hashing it."""
    dest = tmp_path / "dl"
    rel = _first_file(payload)
    target = dest / rel
    target.parent.mkdir(parents=True)
    size = (payload.root / rel).stat().st_size
    original = content if content is not None else b"\x01" * size
    target.write_bytes(original)
    with pytest.raises(EngineError, match="already exists and is not this book's data") as err:
        engine.add(payload.torrent, dest)
    assert str(target) in str(err.value)
    assert target.read_bytes() == original
    assert engine.snapshots() == []


def test_the_books_own_data_already_there_is_accepted(engine, payload: Payload, tmp_path: Path) -> None:
    """Sabotage caught: refusing every existing file would stop re-adding a book kept after
    `mam remove` (its data is verified and seeded instead of downloaded again)."""
    dest = tmp_path / "dl"
    shutil.copytree(payload.root / payload.name, dest / payload.name)
    h = engine.add(payload.torrent, dest)
    assert h == payload.info_hash
    assert engine.wait_done(h, timeout=60).progress == 1.0
