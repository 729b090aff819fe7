"""Putting a file in the library without disturbing the copy that seeds.

A hardlink makes the library file and the seeding file one file: no extra space, and the torrent
keeps seeding. Hardlinks cannot cross file systems, so then a reflink (copy-on-write clone: btrfs,
XFS, bcachefs) and last a plain copy; the method used is returned so the person is told. The
source is only ever read: never moved, renamed or deleted.

Every target appears atomically (written under a temporary name, then linked into place) and is
never overwritten: an existing target is accepted only when it is the same file (same inode) or
has the same bytes; otherwise it is a `LibraryConflict`.
"""

from __future__ import annotations

import errno
import fcntl
import filecmp
import os
import shutil
from enum import StrEnum
from pathlib import Path

from mamdl.errors import MamdlError

FICLONE = 0x40049409
"""Linux ioctl: make the destination share the source's extents (a reflink)."""


class Method(StrEnum):
    hardlink = "hardlink"
    reflink = "reflink"
    copy = "copy"
    existing = "existing"
    """The same file or the same bytes were already there (a second run changes nothing)."""


class LibraryError(MamdlError):
    """Placing a book failed (unwritable library, missing data)."""


class LibraryConflict(LibraryError):
    """A different file already sits where a book's file should go; nothing was overwritten."""


def same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def same_content(a: Path, b: Path) -> bool:
    """Byte for byte (sizes first, stopping at the first difference); never trusts mtimes, which
    some taggers keep while rewriting a file."""
    try:
        return filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def check_target(source: Path, target: Path) -> bool:
    """True when `target` already holds `source` (nothing to do); raise when it holds something else."""
    if not os.path.lexists(target):
        return False
    if target.is_symlink() or not target.is_file():
        raise LibraryConflict(f"{target} already exists and is not a regular file; left alone.")
    if same_file(source, target) or same_content(source, target):
        return True
    raise LibraryConflict(
        f"A different file is already at {target}; it was not overwritten. Move it away (or change the "
        "library template) and run `mam import` again."
    )


def _tmp_name(target: Path) -> Path:
    return target.with_name(f".{target.name[:200]}.{os.getpid()}.mamdl-part")


def _publish(tmp: Path, target: Path) -> None:
    """Move the finished temporary file to `target` without ever replacing an existing file. If
    another process placed the same bytes meanwhile (the MCP server and `mam get` both placing),
    that is success; anything else that appeared is a conflict."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        if same_content(tmp, target):
            return
        raise LibraryConflict(f"{target} appeared while placing it; left alone.") from None
    except OSError:
        if os.path.lexists(target):
            if same_content(tmp, target):
                return
            raise LibraryConflict(f"{target} appeared while placing it; left alone.") from None
        os.rename(tmp, target)  # a file system without hardlinks: no atomic no-replace, checked just above
        return
    os.unlink(tmp)


def reflink_or_copy(source: Path, target: Path, *, allow_reflink: bool = True) -> Method:
    """Clone `source` to `target` when the file system can, else copy its bytes."""
    tmp = _tmp_name(target)
    try:
        method = Method.copy
        if allow_reflink:
            with open(source, "rb") as src, open(tmp, "wb") as dst:
                try:
                    fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
                    method = Method.reflink
                except OSError:
                    pass
        if method is Method.copy:
            shutil.copyfile(source, tmp)
        shutil.copystat(source, tmp)
        os.chmod(tmp, 0o644)
        _publish(tmp, target)
        return method
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def place_file(source: Path, target: Path, *, link: bool = True) -> Method:
    """Make `target` hold `source`'s bytes: hardlink, else reflink, else copy (`link=False`: a real,
    independent copy, for folders whose owner moves or deletes what it finds)."""
    if not source.is_file():
        raise LibraryError(f"{source} is missing: the download is incomplete or was moved.")
    if check_target(source, target):
        return Method.existing
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            os.link(source, target)
            return Method.hardlink
        except FileExistsError:
            if check_target(source, target):
                return Method.existing
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise LibraryError(f"Cannot link {source} to {target}: {exc.strerror}") from None
    try:
        return reflink_or_copy(source, target, allow_reflink=link)
    except LibraryConflict:
        raise
    except OSError as exc:
        raise LibraryError(f"Cannot copy {source} to {target}: {exc.strerror or exc}") from None


def write_new_file(target: Path, data: bytes) -> Method:
    """Write a small file we generate (metadata, cover) unless the same bytes are already there.
    A different existing file is left alone (the person may have edited it)."""
    if target.exists():
        if target.read_bytes() == data:
            return Method.existing
        raise LibraryConflict(f"{target} differs from what mamdl would write; kept yours.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(target)
    try:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
        _publish(tmp, target)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    return Method.copy
