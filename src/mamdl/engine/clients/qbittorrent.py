"""qBittorrent (4.1+ WebUI API, through qbittorrent-api, which re-logs in on its own and knows
qBittorrent 5.2's 204 login and API keys).

Our torrents carry the configured category (default `mam`), a save path of our choosing (automatic
torrent management off, so the category's folder does not move them), and share limits set to "no
limit" so qBittorrent's own clock never pauses or removes one before MAM counts it satisfied.
"""

from __future__ import annotations

from typing import Any

from mamdl.engine.clients.base import Check, ClientBackend, ClientView
from mamdl.engine.models import TorrentState
from mamdl.errors import ClientError

FIX_DOWN = "start qBittorrent (or its container), enable its WebUI, and check client_url"
FIX_AUTH = "check client_username and client_password (WebUI settings in qBittorrent)"
FIX_BANNED = (
    "qBittorrent banned this IP after failed logins: fix the password, then restart qBittorrent "
    "or wait for the ban to expire (WebUI > Authentication > ban settings)"
)
NO_LIMIT = -1
ETA_UNKNOWN = 8640000
"""qBittorrent's "infinity" for an ETA."""

_STATES: dict[str, TorrentState] = {
    "error": TorrentState.ERROR,
    "missingFiles": TorrentState.ERROR,
    "uploading": TorrentState.SEEDING,
    "stalledUP": TorrentState.SEEDING,
    "forcedUP": TorrentState.SEEDING,
    "queuedUP": TorrentState.QUEUED,
    "pausedUP": TorrentState.PAUSED,
    "stoppedUP": TorrentState.PAUSED,
    "checkingUP": TorrentState.CHECKING,
    "downloading": TorrentState.DOWNLOADING,
    "stalledDL": TorrentState.DOWNLOADING,
    "forcedDL": TorrentState.DOWNLOADING,
    "metaDL": TorrentState.DOWNLOADING,
    "forcedMetaDL": TorrentState.DOWNLOADING,
    "queuedDL": TorrentState.QUEUED,
    "pausedDL": TorrentState.PAUSED,
    "stoppedDL": TorrentState.PAUSED,
    "checkingDL": TorrentState.CHECKING,
    "checkingResumeData": TorrentState.CHECKING,
    "allocating": TorrentState.CHECKING,
    "moving": TorrentState.CHECKING,
}


def to_view(t: Any, trackers: list[str] | None = None) -> ClientView:
    """The one mapping from a qBittorrent torrent (`/api/v2/torrents/info` item) to mamdl's terms."""
    qstate = str(t.get("state", "unknown"))
    state = _STATES.get(qstate, TorrentState.DOWNLOADING)
    eta = int(t.get("eta", ETA_UNKNOWN) or 0)
    completion = float(t.get("completion_on", 0) or 0)
    return ClientView(
        info_hash=str(t["hash"]).lower(),
        name=str(t.get("name", "")),
        state=state,
        progress=float(t.get("progress", 0.0)),
        total_size=int(t.get("total_size", 0) or t.get("size", 0) or 0),
        downloaded=int(t.get("downloaded", 0) or 0),
        uploaded=int(t.get("uploaded", 0) or 0),
        download_rate=int(t.get("dlspeed", 0) or 0),
        upload_rate=int(t.get("upspeed", 0) or 0),
        peers=int(t.get("num_leechs", 0) or 0) + int(t.get("num_seeds", 0) or 0),
        seeds=int(t.get("num_seeds", 0) or 0),
        eta_seconds=None if state != TorrentState.DOWNLOADING or eta >= ETA_UNKNOWN else eta,
        seeding_seconds=int(t.get("seeding_time", 0) or 0),
        save_path=str(t.get("save_path", "")).rstrip("/"),
        error=f"qBittorrent reports {qstate}" if state == TorrentState.ERROR else None,
        paused=qstate.startswith(("paused", "stopped")),
        completed_at=completion if completion > 0 else None,
        added_at=float(t.get("added_on", 0) or 0) or None,
        trackers=trackers or [],
        category=str(t.get("category", "")),
    )


class QBittorrentBackend(ClientBackend):
    label = "qBittorrent"
    default_url = "http://127.0.0.1:8080"

    _client: Any = None

    def _api(self) -> Any:
        if self._client is None:
            import qbittorrentapi

            api_key = None
            if not self.username and self._password:
                api_key = self._password  # qBittorrent 5.2+: an API key instead of a login
            self._client = qbittorrentapi.Client(
                host=self.url,
                username=self.username or None,
                password=None if api_key else self._password or None,
                api_key=api_key,
                REQUESTS_ARGS={"timeout": (5, 30)},
                VERIFY_WEBUI_CERTIFICATE=True,
                DISABLE_LOGGING_DEBUG_OUTPUT=True,
            )
        return self._client

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Every API call, with the library's errors turned into one clear `ClientError`."""
        import qbittorrentapi as q

        try:
            return fn(*args, **kwargs)
        except q.LoginFailed as exc:
            raise self._fail("login refused", exc, FIX_AUTH) from None
        except q.Forbidden403Error as exc:
            text = str(exc).lower()
            if "ban" in text:
                raise self._fail("our IP is banned", exc, FIX_BANNED) from None
            raise self._fail(f"{what} forbidden", exc, FIX_AUTH) from None
        except q.Unauthorized401Error as exc:
            raise self._fail("not authorised", exc, FIX_AUTH) from None
        except q.APIConnectionError as exc:
            raise self._fail("not reachable", exc, FIX_DOWN) from None
        except q.APIError as exc:
            raise self._fail(f"{what} failed", exc, "see the qBittorrent log") from None

    def _client_connect(self) -> None:
        api = self._api()
        self._call("login", api.auth_log_in)
        self._ensure_category()

    def _ensure_category(self) -> None:
        import qbittorrentapi as q

        api = self._api()
        cats = self._call("categories", api.torrents_categories)
        if self.category and self.category not in cats:
            try:
                api.torrents_create_category(name=self.category)
            except q.Conflict409Error:
                pass  # created meanwhile
            except q.APIError as exc:
                raise self._fail(f"creating category {self.category!r}", exc, "create it in qBittorrent") from None

    def _client_close(self) -> None:
        if self._client is not None:
            try:
                self._client.auth_log_out()
            except Exception:
                pass
            self._client = None

    def _client_version(self) -> str:
        return str(self._call("version", self._api().app_version))

    def _client_add(self, data: bytes, save_path: str, *, paused: bool) -> None:
        api = self._api()
        answer = self._call(
            "add",
            api.torrents_add,
            torrent_files={"book.torrent": data},
            save_path=save_path,
            category=self.category or None,
            is_paused=paused,
            use_auto_torrent_management=False,
            ratio_limit=NO_LIMIT,
            seeding_time_limit=NO_LIMIT,
        )
        if str(answer).strip().lower().startswith("fail"):
            raise ClientError(
                "qBittorrent refused the torrent (already in qBittorrent, or an unwritable save path); "
                "`mam adopt` brings a torrent already there under mamdl"
            )

    def _client_torrents(self, hashes: list[str]) -> dict[str, ClientView]:
        if not hashes:
            return {}
        api = self._api()
        rows = self._call("list", api.torrents_info, torrent_hashes=hashes)
        return {v.info_hash: v for v in (to_view(t) for t in rows)}

    def _client_all(self) -> list[ClientView]:
        api = self._api()
        out = []
        for t in self._call("list", api.torrents_info):
            trackers = [str(x.get("url", "")) for x in self._call("trackers", api.torrents_trackers, t["hash"])]
            out.append(to_view(t, [u for u in trackers if "://" in u]))
        return out

    def _client_pause(self, info_hash: str) -> None:
        api = self._api()
        self._call("pause", api.torrents_stop, torrent_hashes=info_hash)
        self._wait_until(info_hash, lambda v: v.paused)

    def _client_resume(self, info_hash: str) -> None:
        api = self._api()
        self._call("resume", api.torrents_start, torrent_hashes=info_hash)
        self._wait_until(info_hash, lambda v: not v.paused)

    def _client_remove(self, info_hash: str, *, delete_data: bool) -> None:
        api = self._api()
        self._call("remove", api.torrents_delete, delete_files=delete_data, torrent_hashes=info_hash)

    def _client_no_share_limits(self, info_hash: str) -> None:
        api = self._api()
        self._call(
            "share limits",
            api.torrents_set_share_limits,
            ratio_limit=NO_LIMIT,
            seeding_time_limit=NO_LIMIT,
            inactive_seeding_time_limit=NO_LIMIT,
            torrent_hashes=info_hash,
        )

    def _client_checks(self) -> list[Check]:
        api = self._api()
        p = self._call("preferences", api.app_preferences)
        info = self._call("transfer info", api.transfer_info)
        out = [
            Check(
                "ok" if info.get("connection_status") == "connected" else "warn",
                "qBittorrent listen port",
                f"port {p.get('listen_port')}, qBittorrent says {info.get('connection_status', '?')}"
                + ("" if info.get("connection_status") == "connected" else " (forward the port to be connectable)"),
            )
        ]
        on = [n for n, k in (("DHT", "dht"), ("PeX", "pex"), ("LSD", "lsd")) if p.get(k)]
        out.append(self._peer_sources_check(on, "DHT/PeX/LSD"))
        limits = []
        if p.get("max_ratio_enabled"):
            limits.append(f"ratio {p.get('max_ratio')}")
        if p.get("max_seeding_time_enabled"):
            limits.append(f"seeding time {p.get('max_seeding_time')} min")
        if p.get("max_inactive_seeding_time_enabled"):
            limits.append(f"inactive seeding time {p.get('max_inactive_seeding_time')} min")
        action = {0: "pause", 1: "remove", 2: "super-seed", 3: "remove with files"}.get(
            int(p.get("max_ratio_act", 0) or 0), "stop"
        )
        out.append(
            self._share_limits_check(
                f"{', '.join(limits)} then {action}" if limits else None,
                "Options > BitTorrent > Seeding Limits",
                none="no global ratio or seeding-time limit",
            )
        )
        queue = None
        if p.get("queueing_enabled"):
            queue = (
                f"on (at most {p.get('max_active_uploads')} uploads, {p.get('max_active_torrents')} active torrents)"
            )
        out.append(
            self._queueing_check(
                queue, "raise the limits or turn queueing off (Options > BitTorrent > Torrent Queueing)", none="off"
            )
        )
        return out
