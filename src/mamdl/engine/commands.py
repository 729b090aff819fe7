"""The engine owner's side of the cross-process command queue (a mixin of `Engine`).

Another process (e.g. `mam pause` while the MCP server owns the engine) writes a row in the state
database's `commands` table; a thread here claims pending rows every `command_poll_interval`,
runs them through the engine's own public methods, and writes back the result or the error.
"""

from __future__ import annotations

import base64
import logging
import threading
from typing import TYPE_CHECKING, Any

from mamdl.engine.models import SeedGoal
from mamdl.engine.store import Command, Store
from mamdl.errors import EngineError, MamdlError
from mamdl.redact import redact

if TYPE_CHECKING:
    from mamdl.engine.models import TorrentSnapshot
    from mamdl.engine.settings import EngineConfig

log = logging.getLogger("mamdl.engine.engine")


class CommandServer:
    """Serves queued commands by calling the engine's public methods (add, pause, …)."""

    config: EngineConfig
    _stop: threading.Event
    _closing: bool
    _store: Store | None

    if TYPE_CHECKING:  # provided by Engine; see there for the meaning of each

        def add(
            self,
            torrent: bytes,
            save_path: str,
            mam_id: int | None = None,
            title: str | None = None,
            goal: SeedGoal | None = None,
            *,
            paused: bool = False,
        ) -> str: ...
        def pause(self, info_hash: str) -> TorrentSnapshot: ...
        def resume(self, info_hash: str) -> TorrentSnapshot: ...
        def finish(self, info_hash: str) -> TorrentSnapshot: ...
        def remove(self, info_hash: str, delete_data: bool = False) -> None: ...
        def set_goal(self, info_hash: str, goal: SeedGoal) -> TorrentSnapshot: ...
        def set_limits(
            self, info_hash: str | None, download_bps: int | None = None, upload_bps: int | None = None
        ) -> None: ...

    def _command_loop(self) -> None:
        interval = self.config.command_poll_interval
        while not self._stop.wait(interval):
            if self._closing:
                return
            store = self._store
            if store is None:
                return
            try:
                commands = store.claim_commands()
            except Exception:
                log.exception("reading the engine command queue failed")
                continue
            for cmd in commands:
                self._serve_command(store, cmd)

    def _serve_command(self, store: Store, cmd: Command) -> None:
        try:
            result = self._run_command(cmd)
        except MamdlError as exc:
            store.complete_command(cmd.id, error=str(exc))
        except Exception as exc:
            log.exception("engine command %s failed", cmd.action)
            store.complete_command(cmd.id, error=f"internal error: {redact(str(exc))}")
        else:
            store.complete_command(cmd.id, result=result)

    def _run_command(self, cmd: Command) -> Any:
        """Execute one queued command; returns something JSON-serialisable."""
        a = cmd.args
        h = cmd.info_hash
        if cmd.action == "add":
            goal = SeedGoal(**a["goal"]) if a.get("goal") else None
            return self.add(
                base64.b64decode(a["torrent_b64"]),
                a["save_path"],
                mam_id=a.get("mam_id"),
                title=a.get("title"),
                goal=goal,
                paused=bool(a.get("paused", False)),
            )
        if h is None and cmd.action != "set_limits":
            raise EngineError(f"the {cmd.action!r} command needs an info-hash")
        if cmd.action == "pause":
            return self.pause(h).model_dump(mode="json")  # type: ignore[arg-type]
        if cmd.action == "resume":
            return self.resume(h).model_dump(mode="json")  # type: ignore[arg-type]
        if cmd.action == "finish":
            return self.finish(h).model_dump(mode="json")  # type: ignore[arg-type]
        if cmd.action == "remove":
            self.remove(h, delete_data=bool(a.get("delete_data", False)))  # type: ignore[arg-type]
            return None
        if cmd.action == "set_goal":
            return self.set_goal(h, SeedGoal(**a["goal"])).model_dump(mode="json")  # type: ignore[arg-type]
        if cmd.action == "set_limits":
            self.set_limits(h, a.get("download_bps"), a.get("upload_bps"))
            return None
        raise EngineError(f"unknown engine command {cmd.action!r}")
