"""Transmission (RPC 15+, through transmission-rpc, which does the 409 `X-Transmission-Session-Id`
handshake itself).

Transmission has no categories: our torrents carry a label (`client_category`, default `mam`;
labels exist since Transmission 3.00) and a per-torrent download dir. Their seed-ratio and
idle-seeding modes are set to "unlimited" so Transmission's global limits never stop one before
MAM counts it satisfied.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mamdl.engine.clients.base import Check, ClientBackend, ClientView
from mamdl.engine.models import TorrentState

FIX_DOWN = "start transmission-daemon (or its container), enable RPC, and check client_url"
FIX_AUTH = "check client_username and client_password (settings.json: rpc-username, rpc-password)"
FIX_WHITELIST = "Transmission refuses this address: add it to rpc-whitelist (or rpc-host-whitelist) in settings.json"
UNLIMITED = 2
"""seedRatioMode / seedIdleMode: 0 = the session's limit, 1 = the torrent's own, 2 = unlimited."""

FIELDS = [
    "hashString",
    "name",
    "status",
    "percentDone",
    "totalSize",
    "sizeWhenDone",
    "downloadedEver",
    "uploadedEver",
    "rateDownload",
    "rateUpload",
    "peersConnected",
    "peersSendingToUs",
    "eta",
    "secondsSeeding",
    "downloadDir",
    "error",
    "errorString",
    "doneDate",
    "addedDate",
    "labels",
    "trackers",
]

# Transmission's tr_torrent_activity (RPC "status").
_STATES = {
    0: TorrentState.PAUSED,  # stopped
    1: TorrentState.CHECKING,  # queued to check
    2: TorrentState.CHECKING,
    3: TorrentState.QUEUED,  # queued to download
    4: TorrentState.DOWNLOADING,
    5: TorrentState.QUEUED,  # queued to seed
    6: TorrentState.SEEDING,
}


def to_view(f: dict[str, Any]) -> ClientView:
    """The one mapping from Transmission's torrent fields to mamdl's terms."""
    status = int(f.get("status", 0))
    state = _STATES.get(status, TorrentState.DOWNLOADING)
    error_code = int(f.get("error", 0) or 0)
    error = None
    if error_code == 3:  # local error (disk full, missing files): the torrent is stopped
        state, error = TorrentState.ERROR, f"Transmission: {f.get('errorString', '')}"
    elif error_code in (1, 2):  # tracker warning/error: shown, the torrent keeps going
        error = None
    eta = int(f.get("eta", -1))
    done = float(f.get("doneDate", 0) or 0)
    return ClientView(
        info_hash=str(f["hashString"]).lower(),
        name=str(f.get("name", "")),
        state=state,
        progress=float(f.get("percentDone", 0.0)),
        total_size=int(f.get("sizeWhenDone", 0) or f.get("totalSize", 0) or 0),
        downloaded=int(f.get("downloadedEver", 0) or 0),
        uploaded=int(f.get("uploadedEver", 0) or 0),
        download_rate=int(f.get("rateDownload", 0) or 0),
        upload_rate=int(f.get("rateUpload", 0) or 0),
        peers=int(f.get("peersConnected", 0) or 0),
        seeds=int(f.get("peersSendingToUs", 0) or 0),
        eta_seconds=eta if state == TorrentState.DOWNLOADING and eta >= 0 else None,
        seeding_seconds=int(f.get("secondsSeeding", 0) or 0),
        save_path=str(f.get("downloadDir", "")).rstrip("/"),
        error=error,
        paused=status == 0,
        completed_at=done if done > 0 else None,
        added_at=float(f.get("addedDate", 0) or 0) or None,
        trackers=[str(t.get("announce", "")) for t in f.get("trackers", []) or []],
        category=",".join(f.get("labels", []) or []),
    )


class TransmissionBackend(ClientBackend):
    label = "Transmission"
    default_url = "http://127.0.0.1:9091/transmission/rpc"

    _client: Any = None

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import transmission_rpc.error as te

        try:
            if self._client is None:
                self._client_connect()
            return fn(*args, **kwargs)
        except te.TransmissionAuthError as exc:
            raise self._fail("login refused", exc, FIX_AUTH) from None
        except te.TransmissionConnectError as exc:
            self._client = None  # a new session-id handshake once it is back
            raise self._fail("not reachable", exc, FIX_DOWN) from None
        except te.TransmissionError as exc:
            text = str(exc)
            if "403" in text or "whitelist" in text.lower():
                raise self._fail("forbidden", exc, FIX_WHITELIST) from None
            raise self._fail(f"{what} failed", exc, "see the Transmission log") from None

    def _client_connect(self) -> None:
        import transmission_rpc
        import transmission_rpc.error as te

        u = urlsplit(self.url if "://" in self.url else "http://" + self.url)
        try:
            self._client = transmission_rpc.Client(
                protocol="https" if u.scheme == "https" else "http",
                host=u.hostname or "127.0.0.1",
                port=u.port or (443 if u.scheme == "https" else 9091),
                path=u.path or "/transmission/rpc",
                username=self.username or None,
                password=self._password or None,
                timeout=30,
            )
        except te.TransmissionAuthError as exc:
            raise self._fail("login refused", exc, FIX_AUTH) from None
        except te.TransmissionConnectError as exc:
            raise self._fail("not reachable", exc, FIX_DOWN) from None
        except te.TransmissionError as exc:
            raise self._fail("refused the connection", exc, FIX_WHITELIST) from None

    def _client_close(self) -> None:
        self._client = None

    def _api(self) -> Any:
        if self._client is None:
            self._client_connect()
        return self._client

    def _client_version(self) -> str:
        s = self._call("session", lambda: self._api().get_session())
        return str(s.fields.get("version", "?"))

    def _client_add(self, data: bytes, save_path: str, *, paused: bool) -> None:
        t = self._call("add", lambda: self._api().add_torrent(data, download_dir=save_path, paused=paused))
        h = str(t.hash_string).lower()
        if self.category:  # torrent-add takes labels only from RPC 17 (Transmission 4): set them after
            self._call("labels", lambda: self._api().change_torrent(h, labels=[self.category]))

    def _get(self, ids: Any) -> list[dict[str, Any]]:
        torrents = self._call("list", lambda: self._api().get_torrents(ids, arguments=FIELDS))
        return [t.fields for t in torrents]

    def _client_torrents(self, hashes: list[str]) -> dict[str, ClientView]:
        if not hashes:
            return {}
        return {v.info_hash: v for v in (to_view(f) for f in self._get(hashes))}

    def _client_all(self) -> list[ClientView]:
        return [to_view(f) for f in self._get(None)]

    def _client_pause(self, info_hash: str) -> None:
        self._call("stop", lambda: self._api().stop_torrent(info_hash))
        self._wait_until(info_hash, lambda v: v.paused)

    def _client_resume(self, info_hash: str) -> None:
        self._call("start", lambda: self._api().start_torrent(info_hash))
        self._wait_until(info_hash, lambda v: not v.paused)

    def _client_remove(self, info_hash: str, *, delete_data: bool) -> None:
        self._call("remove", lambda: self._api().remove_torrent(info_hash, delete_data=delete_data))

    def _client_no_share_limits(self, info_hash: str) -> None:
        self._call(
            "share limits",
            lambda: self._api().change_torrent(info_hash, seed_ratio_mode=UNLIMITED, seed_idle_mode=UNLIMITED),
        )

    def _client_checks(self) -> list[Check]:
        # Never `port-test`: it asks a server on the internet (portcheck.transmissionbt.com).
        f = self._call("session", lambda: self._api().get_session()).fields
        out = [Check("ok", "Transmission listen port", f"port {f.get('peer-port')} (test it from outside)")]
        on = [n for n, k in (("DHT", "dht-enabled"), ("PEX", "pex-enabled"), ("LPD", "lpd-enabled")) if f.get(k)]
        out.append(self._peer_sources_check(on, "DHT/PEX/LPD"))
        limits = []
        if f.get("seedRatioLimited"):
            limits.append(f"ratio {f.get('seedRatioLimit')}")
        if f.get("idle-seeding-limit-enabled"):
            limits.append(f"idle seeding {f.get('idle-seeding-limit')} min")
        out.append(
            self._share_limits_check(
                ", ".join(limits) or None,
                "ratio-limit-enabled, idle-seeding-limit-enabled",
                none="no global ratio or idle-seeding limit",
            )
        )
        queue = None
        if f.get("seed-queue-enabled") or f.get("download-queue-enabled"):
            queue = f"on (seed queue {f.get('seed-queue-size')}, download queue {f.get('download-queue-size')})"
        out.append(self._queueing_check(queue, "turn the queues off or raise them", none="off"))
        return out
