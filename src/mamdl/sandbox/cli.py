"""`serve(...)` (what `mam sandbox` runs) and `python -m mamdl.sandbox`.

`serve` starts a `Sandbox`, prints the two lines a client needs, flushed at once so a parent
process can read them::

    MAM_BASE_URL=http://127.0.0.1:PORT
    MAM_ID=<cookie>

then runs until SIGINT/SIGTERM (or `stop_event`) and shuts down cleanly. Anything else it says goes
to stderr, so stdout stays machine-readable.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from mamdl.errors import MamdlError
from mamdl.sandbox.app import Sandbox


def serve(
    *,
    catalogue: str | Path | None = None,
    port: int = 0,
    data_dir: str | Path | None = None,
    leecher: bool = False,
    corrupt_peer: bool | Iterable[int] = False,
    mam_id: str | None = None,
    passkey: str | None = None,
    satisfy_seconds: float = 72 * 3600,
    inactive_seconds: float = 900.0,
    rotate_every: int = 5,
    grace: float = 60.0,
    announce_interval: int = 5,
    payload_scale: float = 1.0,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stop_event: threading.Event | None = None,
    export: bool = False,
    **options: Any,
) -> None:
    """Run the sandbox in the foreground until SIGINT/SIGTERM or `stop_event` is set.

    Every keyword is passed to `Sandbox` (see its docstring); `options` takes the rarer ones
    (hnr_seconds, seedbox_window, leecher_pause, seeder_rate_limit, honest_sizes, allowed_clients,
    user, row_style, summary_style).
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    stop = stop_event or threading.Event()
    sandbox = Sandbox(
        catalogue,
        port=port,
        data_dir=data_dir,
        leecher=leecher,
        corrupt_peer=corrupt_peer,
        mam_id=mam_id,
        passkey=passkey,
        satisfy_seconds=satisfy_seconds,
        inactive_seconds=inactive_seconds,
        rotate_every=rotate_every,
        grace=grace,
        announce_interval=announce_interval,
        payload_scale=payload_scale,
        **options,
    )
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        # `mam sandbox` prints shell lines to paste in the terminal that runs `mam`;
        # `python -m mamdl.sandbox` keeps the bare NAME=value lines scripts parse
        prefix = "export " if export else ""
        print(f"{prefix}MAM_BASE_URL={shlex.quote(sandbox.base_url)}", file=out, flush=True)
        print(f"{prefix}MAM_ID={shlex.quote(sandbox.mam_id)}", file=out, flush=True)
        print(
            f"mamdl sandbox: {len(sandbox.catalogue)} torrents from {sandbox.catalogue.source}; "
            f"data in {sandbox.data_dir}; control API at {sandbox.base_url}/_sandbox/info. Ctrl-C stops it.",
            file=err,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sandbox.close()
        print("mamdl sandbox: stopped", file=err, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mamdl.sandbox", description="Run the offline MAM sandbox on 127.0.0.1."
    )
    parser.add_argument(
        "--catalogue", type=Path, help='JSON {"torrents": [...]} of MAM search rows (default: built-in)'
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data-dir", type=Path, help="where payloads go (default: a temporary directory)")
    parser.add_argument("--leecher", action="store_true", help="download what the client seeds, so its ratio climbs")
    parser.add_argument("--corrupt-peer", action="store_true", help="also serve corrupted copies from a second peer")
    parser.add_argument("--mam-id", help="use this cookie value instead of a random one")
    parser.add_argument("--satisfy-seconds", type=float, default=72 * 3600)
    parser.add_argument("--inactive-seconds", type=float, default=900.0)
    parser.add_argument("--rotate-every", type=int, default=5, help="rotate mam_id every N responses (0: never)")
    parser.add_argument("--grace", type=float, default=60.0, help="seconds an old mam_id stays valid")
    parser.add_argument("--announce-interval", type=int, default=5)
    parser.add_argument("--payload-scale", type=float, default=1.0)
    parser.add_argument(
        "--honest-sizes", action="store_true", help="search rows show the real (scaled-down) payload sizes"
    )
    parser.add_argument("--seeder-rate-limit", type=int, default=0, help="seeder upload limit in bytes/s (0: none)")
    parser.add_argument("--row-style", choices=("live", "doc"), default="live", help="search rows typed live or doc")
    parser.add_argument(
        "--summary-style", choices=("nested", "top"), default="nested", help="snatch summary nested or top-level"
    )
    args = parser.parse_args(argv)
    try:
        serve(
            catalogue=args.catalogue,
            port=args.port,
            data_dir=args.data_dir,
            leecher=args.leecher,
            corrupt_peer=args.corrupt_peer,
            mam_id=args.mam_id,
            satisfy_seconds=args.satisfy_seconds,
            inactive_seconds=args.inactive_seconds,
            rotate_every=args.rotate_every,
            grace=args.grace,
            announce_interval=args.announce_interval,
            payload_scale=args.payload_scale,
            honest_sizes=args.honest_sizes,
            seeder_rate_limit=args.seeder_rate_limit,
            row_style=args.row_style,
            summary_style=args.summary_style,
        )
    except MamdlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)
    except OSError as exc:
        print(f"error: could not start the sandbox: {exc}", file=sys.stderr)
        return 1
    return 0
