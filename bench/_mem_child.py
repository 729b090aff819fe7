#!/usr/bin/env python3
"""Memory of mamdl's engine seeding N small torrents, in a process of its own.

    _mem_child.py STATE_DIR LIST_JSON SETTLE_SECONDS [CONFIG_JSON]

LIST_JSON: a JSON file with [[torrent_path, save_dir], ...] (the data is already there). Starts
`Engine(STATE_DIR, EngineConfig.loopback(**CONFIG))`, adds them all, waits until every one is seeding
(checked and announced), waits SETTLE_SECONDS more (periodic store writes, announces), and prints
one JSON line: VmRSS and VmHWM (peak) in KiB, and how long it took.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mamdl.engine import Engine, EngineConfig, TorrentState  # noqa: E402


def proc_status() -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0])
    return out


def main() -> None:
    state = Path(sys.argv[1])
    items = json.loads(Path(sys.argv[2]).read_text())
    settle = float(sys.argv[3])
    config = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    t0 = time.monotonic()
    with Engine(state, EngineConfig.loopback(**config), owner_label="bench-memory") as engine:
        before = proc_status()
        for torrent, save in items:
            engine.add(Path(torrent).read_bytes(), save)
        deadline = time.monotonic() + 120
        while True:
            snaps = engine.snapshots()
            seeding = sum(1 for s in snaps if s.state == TorrentState.SEEDING)
            if seeding == len(items):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"only {seeding}/{len(items)} torrents seeding after 120 s")
            time.sleep(0.1)
        t_ready = time.monotonic() - t0
        time.sleep(settle)
        st = proc_status()
        print(
            json.dumps(
                {
                    "n": len(items),
                    "rss_kib": st["VmRSS"],
                    "hwm_kib": st["VmHWM"],
                    "rss_engine_started_kib": before["VmRSS"],
                    "ready_s": t_ready,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
