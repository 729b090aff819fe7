#!/usr/bin/env python3
"""mamdl's engine as the seeder of the seeding-at-scale part, in its own process.

    _mamdl_seed.py STATE_DIR SAVE_DIR TORRENT [CONFIG_JSON]

Starts `mamdl.engine.Engine(STATE_DIR, EngineConfig.loopback(**CONFIG))`, adds TORRENT whose data
is already in SAVE_DIR, waits until it is seeding (checked) and prints {"ready": listen_port,
"rss_kib": VmRSS}. On `quit` (stdin) it closes the engine and prints {"closed": true, "maxrss_kib":
VmHWM} (the peak over the process's life: checking plus serving every leecher).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mamdl.engine import Engine, EngineConfig, TorrentState  # noqa: E402


def status_kib(key: str) -> int:
    for ln in Path("/proc/self/status").read_text().splitlines():
        if ln.startswith(key + ":"):
            return int(ln.split()[1])
    return 0


def say(**kw: object) -> None:
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def main() -> None:
    state, save, torrent = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    config = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    engine = Engine(state, EngineConfig.loopback(**config), owner_label="bench-seed")
    engine.start()
    try:
        h = engine.add(torrent.read_bytes(), save, title="bench seed")
        deadline = time.monotonic() + 300
        while True:
            snap = next((s for s in engine.snapshots() if s.info_hash == h), None)
            if snap is not None and snap.state == TorrentState.SEEDING:
                break
            if snap is not None and snap.state == TorrentState.ERROR:
                say(error=f"seeding failed: {snap.error}")
                return
            if time.monotonic() > deadline:
                say(error="not seeding after 300 s")
                return
            time.sleep(0.02)
        say(ready=engine.listen_port, rss_kib=status_kib("VmRSS"))
        for line in sys.stdin:
            if line.strip() == "quit":
                break
    finally:
        engine.close()
    say(closed=True, maxrss_kib=status_kib("VmHWM"))


if __name__ == "__main__":
    main()
