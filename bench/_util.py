"""Shared plumbing for the benchmarks: child processes that are always stopped, free ports,
payloads, hashing, small HTTP helpers. Standard library only (plus libtorrent for torrents)."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import signal
import socket
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MiB = 1 << 20


# ---------------------------------------------------------------------------- processes


class Procs:
    """Every child process the benchmark starts, each in its own process group, so that a
    normal end, an exception, Ctrl-C or SIGTERM all stop exactly those (and their children)."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()

    def start(self, argv: list[str], **kw: Any) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        with self._lock:
            self._procs.append(p)
        return p

    def stop(self, p: subprocess.Popen, timeout: float = 10.0) -> None:
        """SIGTERM the child's process group, then SIGKILL it if it lingers."""
        if p.poll() is None:
            _signal_group(p, signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(p, signal.SIGKILL)
                p.wait(5)
        else:
            _signal_group(p, signal.SIGKILL)  # strays the child may have left in its group
        for s in (p.stdin, p.stdout, p.stderr):
            try:
                if s:
                    s.close()
            except OSError:
                pass
        with self._lock:
            if p in self._procs:
                self._procs.remove(p)

    def stop_all(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for p in procs:
            try:
                self.stop(p, timeout=5)
            except Exception:
                pass


def _signal_group(p: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(p.pid, sig)  # start_new_session=True: the group id is the child's pid
    except (ProcessLookupError, PermissionError):
        pass


PROCS = Procs()
atexit.register(PROCS.stop_all)


def install_signal_handlers() -> None:
    """Ctrl-C, SIGTERM and SIGHUP all raise KeyboardInterrupt, so `finally:` blocks clean up.
    SIGINT is set explicitly (a background job of a script starts with it ignored); SIGHUP is
    left alone when ignored (nohup)."""

    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGINT, _raise)
    signal.signal(signal.SIGTERM, _raise)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, _raise)


# ---------------------------------------------------------------------------- ports & HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


def http(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "----mamdlbench" + os.urandom(8).hex()
    out = bytearray()
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for k, (fname, blob) in files.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{fname}"\r\n'
            "Content-Type: application/x-bittorrent\r\n\r\n"
        ).encode()
        out += blob + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------------------- payloads


@dataclass
class Payload:
    """A torrent's content on disk (`root/name`), its .torrent and the files' SHA-256."""

    name: str
    root: Path
    files: dict[str, int]  # relative path (under name for multi-file) -> size
    torrent: bytes = b""
    info_hash: str = ""
    sha256: dict[str, str] = field(default_factory=dict)
    piece_length: int = 0

    @property
    def size(self) -> int:
        return sum(self.files.values())

    @property
    def multi(self) -> bool:
        return len(self.files) > 1


def write_random_file(path: Path, size: int, chunk: int = 4 * MiB) -> str:
    """Random (incompressible, non-repeating) bytes; returns the SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            b = os.urandom(min(chunk, left))
            h.update(b)
            f.write(b)
            left -= len(b)
    return h.hexdigest()


def make_payload(root: Path, name: str, sizes: list[int], announce: str, piece_length: int = 0) -> Payload:
    """Write files of the given sizes under root/name (one file: root/name itself) and make a
    private, v1-only torrent for them (MAM's torrents are v1; see mam-api.md)."""
    import libtorrent as lt

    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, int] = {}
    sha: dict[str, str] = {}
    if len(sizes) == 1:
        rel = name
        sha[rel] = write_random_file(root / rel, sizes[0])
        files[rel] = sizes[0]
    else:
        width = len(str(len(sizes)))
        for i, sz in enumerate(sizes, 1):
            rel = f"{name}/{i:0{width}d} - Chapter {i}.mp3" if i < len(sizes) else f"{name}/cover.jpg"
            sha[rel] = write_random_file(root / rel, sz)
            files[rel] = sz
    fs = lt.file_storage()
    lt.add_files(fs, str(root / name))
    ct = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v1_only)
    ct.add_tracker(announce)
    ct.set_priv(True)
    ct.set_creator("mamdl bench")
    lt.set_piece_hashes(ct, str(root))
    blob = lt.bencode(ct.generate())
    ti = lt.torrent_info(blob)
    return Payload(
        name=name,
        root=root,
        files=files,
        torrent=blob,
        info_hash=str(ti.info_hashes().v1),
        sha256=sha,
        piece_length=ti.piece_length(),
    )


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def verify(payload: Payload, dest: Path) -> str | None:
    """None when every file under dest matches the source by size and SHA-256, else why not."""
    for rel, size in payload.files.items():
        p = dest / rel
        if not p.is_file():
            return f"missing {rel}"
        if p.stat().st_size != size:
            return f"{rel}: {p.stat().st_size} bytes, expected {size}"
        if file_sha256(p) != payload.sha256[rel]:
            return f"{rel}: SHA-256 differs from the source"
    return None


def drop_file_cache(path: Path) -> None:
    """Tell the kernel we will not need these pages (best effort; keeps runs comparable)."""
    for p in [path] if path.is_file() else [q for q in path.rglob("*") if q.is_file()]:
        try:
            fd = os.open(p, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
        except OSError:
            pass


# ---------------------------------------------------------------------------- stats


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(x: float | None, nd: int = 0) -> str:
    return "–" if x is None else f"{x:,.{nd}f}"


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False, default=str)


# ---------------------------------------------------------------------------- /proc and the sandbox


def proc_hwm_mib(pid: int) -> float | None:
    """Peak resident memory (VmHWM) of a live process in MiB: read at the end of a part, it is the
    peak over the process's whole life, without sampling (None once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def start_sandbox(cwd: Path, timeout: float = 60.0) -> tuple[subprocess.Popen, dict[str, str]]:
    """mamdl's MAM look-alike on a free loopback port (cookie rotation off); returns the process and
    the `MAM_BASE_URL`/`MAM_ID` it prints. Any mamdl process pointed there never leaves 127.0.0.1."""
    import re
    import sys

    sb = PROCS.start(
        [sys.executable, "-m", "mamdl.sandbox", "--port", "0", "--rotate-every", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=str(cwd),
    )
    env_vals: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    assert sb.stdout is not None
    try:
        while len(env_vals) < 2:
            line = sb.stdout.readline().decode()
            if not line:
                raise RuntimeError("the sandbox exited before printing MAM_BASE_URL and MAM_ID")
            m = re.match(r"(MAM_BASE_URL|MAM_ID)=(\S+)", line)
            if m:
                env_vals[m.group(1)] = m.group(2)
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
    except BaseException:
        PROCS.stop(sb)
        raise
    return sb, env_vals
