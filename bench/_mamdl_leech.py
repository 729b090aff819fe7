#!/usr/bin/env python3
"""mamdl's download engine as a benchmark client, in its own process (like the other clients).

    _mamdl_leech.py STATE_DIR SAVE_DIR TORRENT CONFIG_JSON [LT_EXTRA_JSON]

Starts `mamdl.engine.Engine(STATE_DIR, EngineConfig.loopback(**CONFIG))` and prints one JSON line
per step on stdout: {"ready": listen_port}; after reading `go` on stdin it adds the torrent and
prints {"done": monotonic_time, "rssanon_kib": peak, "rssfile_kib": peak} on the engine's own `finished` event (libtorrent's
torrent_finished_alert: every piece downloaded and hash-checked), or {"error": ...}. On `quit`
it closes the engine (resume data saved, files closed) and prints {"closed": true, "maxrss_kib": peak RSS}.
LT_EXTRA_JSON: raw libtorrent settings applied to the engine's session after start, to try
settings `EngineConfig` does not expose (benchmark experiments only).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mamdl.engine import Engine, EngineConfig  # noqa: E402


def say(**kw: object) -> None:
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def sample_memory(done: threading.Event, result: dict[str, object]) -> None:
    """Peak anonymous and file-backed RSS during the download, every 50 ms (mmap's mapped file
    pages are file-backed: the kernel can drop them, unlike anonymous memory)."""
    peaks = {"rssanon_kib": 0, "rssfile_kib": 0}
    while True:
        for ln in Path("/proc/self/status").read_text().splitlines():
            key = ln.split(":")[0].lower() + "_kib"
            if key in peaks:
                peaks[key] = max(peaks[key], int(ln.split()[1]))
        result.update(peaks)
        if done.wait(0.05):
            return


def main() -> None:
    state, save, torrent = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    config = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    engine = Engine(state, EngineConfig.loopback(**config), owner_label="bench")
    engine.start()
    try:
        if extra:
            engine._session.apply_settings(extra)
        done = threading.Event()
        result: dict[str, object] = {}

        def listen() -> None:
            # events() registers its queue on the first next(); the main thread waits for that
            for ev in engine.events(timeout=None):
                if ev.kind == "finished":
                    result["done"] = time.monotonic()
                    done.set()
                elif ev.kind == "error":
                    result["error"] = ev.message
                    done.set()

        t = threading.Thread(target=listen, daemon=True)
        t.start()
        while not engine._subscribers:
            time.sleep(0.001)
        say(ready=engine.listen_port)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "go":
                threading.Thread(target=sample_memory, args=(done, result), daemon=True).start()
                engine.add(torrent.read_bytes(), save, title="bench")
                done.wait()
                time.sleep(0.06)  # let the sampler take its last look
                say(**result)
            elif cmd == "quit":
                break
    finally:
        engine.close()
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent across exec
    hwm = next(
        int(ln.split()[1]) for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith("VmHWM")
    )
    say(closed=True, maxrss_kib=hwm)


if __name__ == "__main__":
    main()
