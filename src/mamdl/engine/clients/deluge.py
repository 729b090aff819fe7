"""Deluge (1.3-2.1 daemon RPC, through deluge-client).

Our torrents carry a label from Deluge's Label plugin (enabled when missing; `client_category`,
default `mam`) and their own download location. Stop-at-ratio and remove-at-ratio are turned off
for them, so Deluge's own limits never stop one before MAM counts it satisfied.
"""

from __future__ import annotations

import base64
from typing import Any

from mamdl.engine.clients.base import Check, ClientBackend, ClientView
from mamdl.engine.models import TorrentState
from mamdl.errors import ClientError

FIX_DOWN = "start deluged (or its container), allow it on this address, and check client_url (host:port)"
FIX_AUTH = "check client_username and client_password (an entry in deluged's `auth` file)"
DEFAULT_PORT = 58846

FIELDS = [
    "hash",
    "name",
    "state",
    "paused",
    "progress",
    "total_wanted",
    "total_size",
    "all_time_download",
    "total_uploaded",
    "download_payload_rate",
    "upload_payload_rate",
    "num_peers",
    "num_seeds",
    "eta",
    "seeding_time",
    "save_path",
    "message",
    "completed_time",
    "time_added",
    "trackers",
    "label",
]

_STATES = {
    "Downloading": TorrentState.DOWNLOADING,
    "Seeding": TorrentState.SEEDING,
    "Paused": TorrentState.PAUSED,
    "Checking": TorrentState.CHECKING,
    "Allocating": TorrentState.CHECKING,
    "Moving": TorrentState.CHECKING,
    "Queued": TorrentState.QUEUED,
    "Error": TorrentState.ERROR,
}


def to_view(h: str, f: dict[str, Any]) -> ClientView:
    """The one mapping from Deluge's torrent status to mamdl's terms."""
    dstate = str(f.get("state", ""))
    state = _STATES.get(dstate, TorrentState.DOWNLOADING)
    eta = int(f.get("eta", 0) or 0)
    done = float(f.get("completed_time", 0) or 0)
    return ClientView(
        info_hash=h.lower(),
        name=str(f.get("name", "")),
        state=state,
        progress=float(f.get("progress", 0.0) or 0.0) / 100.0,
        total_size=int(f.get("total_wanted", 0) or f.get("total_size", 0) or 0),
        downloaded=int(f.get("all_time_download", 0) or 0),
        uploaded=int(f.get("total_uploaded", 0) or 0),
        download_rate=int(f.get("download_payload_rate", 0) or 0),
        upload_rate=int(f.get("upload_payload_rate", 0) or 0),
        peers=int(f.get("num_peers", 0) or 0),
        seeds=int(f.get("num_seeds", 0) or 0),
        eta_seconds=eta if state == TorrentState.DOWNLOADING and eta > 0 else None,
        seeding_seconds=int(f.get("seeding_time", 0) or 0),
        save_path=str(f.get("save_path", "")).rstrip("/"),
        error=f"Deluge: {f.get('message', '')}" if state == TorrentState.ERROR else None,
        paused=bool(f.get("paused")) or dstate == "Paused",
        completed_at=done if done > 0 else None,
        added_at=float(f.get("time_added", 0) or 0) or None,
        trackers=[str(t.get("url", "")) for t in f.get("trackers", []) or []],
        category=str(f.get("label", "") or ""),
    )


class DelugeBackend(ClientBackend):
    label = "Deluge"
    default_url = f"127.0.0.1:{DEFAULT_PORT}"

    _client: Any = None

    def _address(self) -> tuple[str, int]:
        from urllib.parse import urlsplit

        u = urlsplit(self.url if "://" in self.url else "deluge://" + self.url)
        return u.hostname or "127.0.0.1", u.port or DEFAULT_PORT

    def _client_connect(self) -> None:
        from deluge_client import DelugeRPCClient

        host, port = self._address()
        client = DelugeRPCClient(host, port, self.username, self._password, decode_utf8=True)
        try:
            client.connect()
        except (OSError, EOFError) as exc:
            raise self._fail("not reachable", exc, FIX_DOWN) from None
        except Exception as exc:  # deluge-client raises remote errors as classes it makes up by name
            name = exc.__class__.__name__
            if "Login" in name or "Auth" in name:
                raise self._fail("login refused", exc, FIX_AUTH) from None
            raise self._fail("refused the connection", exc, FIX_DOWN) from None
        self._client = client
        if self.category:
            self._ensure_label()

    def _ensure_label(self) -> None:
        plugins = self._call("plugins", "core.get_enabled_plugins")
        if "Label" not in plugins:
            self._call("enable Label", "core.enable_plugin", "Label")
        if self.category not in self._call("labels", "label.get_labels"):
            try:
                self._call("add label", "label.add", self.category)
            except ClientError:
                pass  # added meanwhile (Deluge answers "Label already exists")

    def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._client is None or not self._client.connected:
            self._client_connect()
        try:
            return self._client.call(method, *args, **kwargs)
        except (OSError, EOFError) as exc:
            self._client = None
            raise self._fail("not reachable", exc, FIX_DOWN) from None
        except Exception as exc:
            name = exc.__class__.__name__
            if "Login" in name or "Auth" in name:
                raise self._fail("login refused", exc, FIX_AUTH) from None
            if "AddTorrentError" in name and "already" in str(exc).lower():
                raise ClientError(
                    "Deluge already holds this torrent; `mam adopt` brings it under mamdl instead"
                ) from None
            raise self._fail(f"{what} failed", exc, "see the Deluge log") from None

    def _client_close(self) -> None:
        if self._client is not None:
            try:
                self._client.disconnect()
            except Exception:
                pass
            self._client = None

    def _client_version(self) -> str:
        return str(self._call("version", "daemon.info"))

    def _client_add(self, data: bytes, save_path: str, *, paused: bool) -> None:
        options = {"download_location": save_path, "add_paused": paused, "stop_at_ratio": False}
        h = self._call("add", "core.add_torrent_file", "book.torrent", base64.b64encode(data).decode(), options)
        if self.category and h:
            self._call("label", "label.set_torrent", h, self.category)

    def _status(self, filt: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return self._call("list", "core.get_torrents_status", filt, FIELDS) or {}

    def _client_torrents(self, hashes: list[str]) -> dict[str, ClientView]:
        if not hashes:
            return {}
        return {h.lower(): to_view(h, f) for h, f in self._status({"id": hashes}).items()}

    def _client_all(self) -> list[ClientView]:
        return [to_view(h, f) for h, f in self._status({}).items()]

    def _client_pause(self, info_hash: str) -> None:
        self._call("pause", "core.pause_torrent", info_hash)
        self._wait_until(info_hash, lambda v: v.paused)

    def _client_resume(self, info_hash: str) -> None:
        self._call("resume", "core.resume_torrent", info_hash)
        self._wait_until(info_hash, lambda v: not v.paused)

    def _client_remove(self, info_hash: str, *, delete_data: bool) -> None:
        self._call("remove", "core.remove_torrent", info_hash, delete_data)

    def _client_no_share_limits(self, info_hash: str) -> None:
        self._call(
            "share limits",
            "core.set_torrent_options",
            [info_hash],
            {"stop_at_ratio": False, "remove_at_ratio": False},
        )

    def _client_checks(self) -> list[Check]:
        c = self._call("config", "core.get_config")
        port = self._call("listen port", "core.get_listen_port")
        out = [Check("ok", "Deluge listen port", f"port {port} (test it from outside)")]
        on = [n for n, k in (("DHT", "dht"), ("LSD", "lsd"), ("PEX", "utpex")) if c.get(k)]
        out.append(self._peer_sources_check(on, "DHT/LSD/PEX"))
        stop = None
        if c.get("stop_seed_at_ratio") or c.get("remove_seed_at_ratio"):
            stop = f"stop at ratio {c.get('stop_seed_ratio')}{' and remove' if c.get('remove_seed_at_ratio') else ''}"
        out.append(self._share_limits_check(stop, "Preferences > Queue", none="no global stop or remove at ratio"))
        active = [int(c.get(k, -1)) for k in ("max_active_seeding", "max_active_limit")]
        queue = None
        if any(0 <= a < 1000 for a in active):
            queue = f"at most {active[0]} seeding / {active[1]} active torrents"
        out.append(self._queueing_check(queue, "set them to -1 (Preferences > Queue)", none="no active-torrent limits"))
        return out
