"""Run by test_crash.py in a subprocess: an engine downloading from a loopback seeder, until it is
killed (SIGKILL) or stopped (SIGTERM). Arguments: state_dir torrent_path save_path seeder_port resume_interval."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from mamdl.engine import Engine, EngineConfig


def main() -> None:
    state_dir, torrent, save_path, port, interval = sys.argv[1:6]
    config = EngineConfig.loopback(resume_save_interval=float(interval), status_interval=0.2, store_interval=0.2)
    engine = Engine(Path(state_dir), config, owner_label="crash-child")
    engine.install_signal_handlers()
    try:
        with engine:
            h = engine.add(Path(torrent).read_bytes(), save_path)
            engine.connect_peer(h, "127.0.0.1", int(port))
            print("ready", flush=True)
            while True:  # until SIGKILL (nothing runs) or SIGTERM (KeyboardInterrupt, clean close)
                time.sleep(0.2)
    except KeyboardInterrupt:
        print("closed", flush=True)


if __name__ == "__main__":
    main()
