import os
import stat

from mamdl.fsutil import atomic_write, safe_filename


def test_atomic_write_mode_and_replace(tmp_path):
    p = tmp_path / "a" / "f.bin"
    atomic_write(p, b"one", mode=0o600)
    atomic_write(p, b"two", mode=0o600)
    assert p.read_bytes() == b"two"
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert [x for x in os.listdir(p.parent) if x.endswith(".tmp")] == []


def test_safe_filename_refuses_escape_and_junk():
    assert "/" not in safe_filename("../../etc/passwd")
    assert not safe_filename("../../etc/passwd").startswith(".")
    assert safe_filename("..") == "untitled"
    assert safe_filename("a\x00b\nc") == "a b c"
    assert safe_filename('Why? A "Book": <1/2>') == "Why A Book 1 2"
    assert len(safe_filename("é" * 300).encode()) <= 120
    assert safe_filename("Ostatnie życzenie") == "Ostatnie życzenie"
