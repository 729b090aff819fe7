"""Configuration: defaults < TOML file < environment < command-line flags.

All state lives under one *home* folder so that a test, a demo or a second account can be isolated by
pointing `MAMDL_HOME` somewhere else. Without it the config file sits in the platform's user config
folder and the state in the user data folder (platformdirs). The file may hold the `mam_id` cookie,
so it is always written with mode 0600, atomically.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mamdl.errors import ConfigError

REAL_MAM = "https://www.myanonamouse.net"
REAL_SEEDBOX = "https://t.myanonamouse.net"
MAM_HNR_SECONDS = 72 * 3600
ENGINE_DB_NAME = "engine.db"
"""The engine's SQLite state (torrents, resume data, the last snapshots) inside the state folder."""
DEFAULT_LISTEN_INTERFACES = "0.0.0.0:0"
"""libtorrent's listen string unless configured: every interface, a free port libtorrent picks
(MAM's tracker is told the port in each announce; 6881-6889 are often blocked by ISPs)."""


@dataclass(frozen=True)
class Paths:
    """Where each kind of state lives. One object so that nothing else guesses at paths."""

    config_file: Path
    state_dir: Path

    @property
    def cache_db(self) -> Path:
        return self.state_dir / "cache.sqlite"

    @property
    def torrents_dir(self) -> Path:
        return self.state_dir / "torrents"

    @property
    def engine_db(self) -> Path:
        return self.state_dir / ENGINE_DB_NAME

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def session_file(self) -> Path:
        """The rotated `mam_id`, shared by every process on this state (see `mamdl.mam.session`)."""
        return self.state_dir / "session.json"

    @property
    def ratelimit_file(self) -> Path:
        return self.state_dir / "ratelimit.lock"

    @property
    def serve_file(self) -> Path:
        """Where the running service says where it listens (pid, URL, token): mode 0600."""
        return self.state_dir / "serve.json"

    @property
    def default_download_dir(self) -> Path:
        return self.state_dir / "downloads"

    @classmethod
    def resolve(cls) -> Paths:
        home = os.environ.get("MAMDL_HOME")
        if home:
            root = Path(home).expanduser().resolve()
            return cls(config_file=root / "config.toml", state_dir=root)
        import platformdirs

        return cls(
            config_file=platformdirs.user_config_path("mamdl") / "config.toml",
            state_dir=platformdirs.user_data_path("mamdl"),
        )


class Settings(BaseSettings):
    """Every setting; the TOML file uses the same names (flat keys)."""

    model_config = SettingsConfigDict(env_prefix="MAMDL_", extra="ignore", populate_by_name=True)

    # --- the site ---------------------------------------------------------------------------
    mam_id: SecretStr | None = Field(default=None, validation_alias=AliasChoices("MAM_ID", "mam_id"))
    base_url: str = Field(default=REAL_MAM, validation_alias=AliasChoices("MAM_BASE_URL", "base_url"))
    seedbox_url: str | None = Field(default=None, validation_alias=AliasChoices("MAM_SEEDBOX_URL", "seedbox_url"))
    """The dynamic-seedbox host; defaults to t.myanonamouse.net, or to base_url on loopback."""

    min_interval: float = Field(default=1.0, ge=0.0)
    """Seconds between two requests to MAM, held across every process sharing the state dir."""
    request_timeout: float = Field(default=30.0, gt=0)
    retry_budget_seconds: float = Field(default=60.0, ge=0)
    """Total time one call may spend retrying 429/5xx/connection errors before giving up."""
    max_attempts: int = Field(default=5, ge=1)
    cache_ttl_seconds: int = Field(default=24 * 3600, ge=0)
    snatch_refresh_seconds: float = Field(default=300.0, ge=0)
    """How old MAM's unsatisfied counts may be when a guard decides (before a download, before
    the seeding loop stops a torrent)."""

    # --- what the user prefers ------------------------------------------------------------------
    format: Literal["any", "ebook", "audiobook"] = "any"
    ebook_filetypes: list[str] = Field(default_factory=lambda: ["epub", "azw3", "mobi", "pdf"])
    audiobook_filetypes: list[str] = Field(default_factory=lambda: ["m4b", "mp3", "m4a"])
    languages: list[str] = Field(default_factory=lambda: ["ENG"])

    # --- downloading and seeding ------------------------------------------------------------------
    download_dir: Path | None = None
    seed_ratio: float = Field(default=1.0, ge=0)
    seed_hours: float = Field(default=MAM_HNR_SECONDS / 3600, ge=0)
    listen_interfaces: str = DEFAULT_LISTEN_INTERFACES
    enable_utp: bool = True
    resume_save_interval: float = Field(default=30.0, gt=0)
    download_limit_kibps: int = Field(default=0, ge=0)
    """All downloads together, KiB/s (0 = unlimited); every peer counts, LAN ones too. The embedded
    engine only (an external client keeps its own limits). `mam limit` changes it live."""
    upload_limit_kibps: int = Field(default=0, ge=0)
    """All uploads together, KiB/s (0 = unlimited). On MAM upload is ratio: limit it only when the
    line needs it."""
    socket_recv_buffer: int | None = Field(default=None, ge=0)
    """SO_RCVBUF for peer connections in bytes; None = the engine's default (3 MiB, only where the
    kernel allows it), 0 = the kernel's autotuning. See `EngineConfig.socket_recv_buffer`."""

    # --- the library (finished books placed where reader apps find them; see mamdl.library) -----------
    library_dir: Path | None = None
    """Root of the book library; None = no placement. Env `MAMDL_LIBRARY_DIR`."""
    ebook_library_dir: Path | None = None
    """Ebooks go here instead of `library_dir` when set."""
    audiobook_library_dir: Path | None = None
    audiobook_template: str = "{author}/[{series}/][{series_number} - ]{title}[ {{{narrators}}}]"
    """Audiobookshelf's convention: `Author/Series/1 - Title {Narrator}`; `[...]` drops when a field in it is empty."""
    ebook_template: str = "{author}/[{series}/][{series_number} - ]{title}"
    abs_url: str | None = None
    """Audiobookshelf's base URL; with `abs_token`, mamdl asks it to scan after placing."""
    abs_token: SecretStr | None = None
    abs_library_id: str | None = None
    """Which Audiobookshelf library to scan; unset = every book library it has."""
    calibre_library: Path | None = None
    """A Calibre library folder: finished ebooks are added with `calibredb add`."""
    calibredb: str = "calibredb"
    cwa_ingest_dir: Path | None = None
    """Calibre-Web-Automated's ingest folder: ebooks are *copied* in (CWA moves/deletes what it ingests)."""

    # --- the BitTorrent client that moves the bytes -------------------------------------------------
    backend: Literal["embedded", "qbittorrent", "transmission", "deluge"] = "embedded"
    """`embedded`: mamdl's own libtorrent engine. Otherwise the client the user already runs, driven
    through its API (`client_url` ...); mamdl's guards and seeding policy apply either way."""
    client_url: str | None = None
    """The client's API: qBittorrent's WebUI (`http://host:8080`), Transmission's RPC
    (`http://host:9091/transmission/rpc`) or deluged's daemon port (`host:58846`)."""
    client_username: str | None = None
    client_password: SecretStr | None = None
    """A secret like the cookie: never printed, registered with the redactor, 0600 on disk."""
    client_category: str = "mam"
    """qBittorrent category; a label in Transmission and Deluge."""
    ebook_save_path: Path | None = None
    audiobook_save_path: Path | None = None
    """Where the client saves each format (`--to` wins; then these; then `download_dir`)."""
    path_map: dict[str, str] = Field(default_factory=dict)
    """Local path prefix -> the same folder as the client sees it (containers, seedboxes), e.g.
    `{"/srv/books" = "/downloads"}`."""

    # --- account safety ---------------------------------------------------------------------------
    unsat_reserve: int = Field(default=5, ge=0)
    wedge: Literal["never", "auto", "always"] = "never"
    wedge_min_bytes: int = Field(default=1024**3, ge=0)

    # --- bonus points (automation off by default: MAM's staff discourage blind auto-buy scripts) ---
    bonus_reserve: float = Field(default=1000, ge=0)
    """Points no purchase may go below (manual or automatic)."""
    bonus_auto_upload: bool = False
    """Automation: buy upload credit while the ratio is below `bonus_auto_upload_below_ratio` and the
    points exceed `bonus_auto_upload_above_points`."""
    bonus_auto_upload_below_ratio: float = Field(default=1.5, ge=0)
    bonus_auto_upload_above_points: float = Field(default=60000, ge=0)
    bonus_auto_upload_gb: Literal[50, 100] = 50
    bonus_auto_vip: bool = False
    """Automation: renew VIP when it ends within `bonus_auto_vip_within_days` and the points allow."""
    bonus_auto_vip_within_days: float = Field(default=7, ge=0)
    bonus_auto_vip_weeks: int = Field(default=4, ge=1, le=12)
    bonus_auto_daily_cap: int = Field(default=1, ge=0, le=5)
    """At most this many automatic purchases in any 24 hours (uncertain ones count)."""

    # --- connectability -------------------------------------------------------------------------------
    listen_port: int = Field(default=0, ge=0, le=65535)
    """The BitTorrent port. 0: chosen once at the first engine start and written here, so it can be
    forwarded (a port given in `listen_interfaces` wins)."""
    port_mapping: bool = False
    """Ask the router for the port via UPnP and NAT-PMP. Never on a loopback MAM (the sandbox)."""

    # --- the background service (`mam serve`) ----------------------------------------------------
    auto_serve: bool = True
    """A download command with no service running starts one, detached, so seeding outlives the
    terminal. Off: the command drives its own engine until it exits (like `--foreground`)."""
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=0, ge=0, le=65535)
    """0 picks a free port (written to `serve.json` in the state dir for local clients)."""
    api_token: SecretStr | None = None
    """Bearer token for the HTTP API; required to bind anything but loopback. On loopback without
    one, each run makes a random token that only this user can read (`serve.json`, mode 0600)."""
    api_allowed_hosts: list[str] = Field(default_factory=list)
    """Extra Host-header names the API accepts (beyond loopback names and the bound address)."""
    notify_urls: list[str] = Field(default_factory=list)
    """Apprise URLs (https://github.com/caronc/apprise#supported-notifications); may hold tokens."""
    seedbox_auto: bool = False
    """Opt-in: the service tells MAM this machine's IP (dynamic seedbox) at most hourly."""
    policy_interval: float = Field(default=30.0, gt=0)
    """Seconds between two runs of the supervisor's seeding policy and risk checks."""
    keepalive_seconds: float = Field(default=24 * 3600.0, gt=0)
    snatch_schedule_seconds: float = Field(default=3600.0, gt=0)
    """How often the service refreshes MAM's snatch summary on its own."""
    stall_seconds: float = Field(default=3600.0, gt=0)
    """An unsatisfied torrent with no peers for this long is a hit-and-run risk."""

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @field_validator("audiobook_template", "ebook_template")
    @classmethod
    def _check_template(cls, v: str) -> str:
        """A typo in a template is caught when the config is read, not when a book is placed."""
        problem = template_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("abs_token")
    @classmethod
    def _register_token(cls, v: SecretStr | None) -> SecretStr | None:
        """The Audiobookshelf token is a secret like the cookie: scrubbed from every message."""
        if v is not None:
            from mamdl.redact import register_secret

            register_secret(v.get_secret_value())
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=Paths.resolve().config_file)
        return (init_settings, env_settings, toml)

    # --- derived ------------------------------------------------------------------------------------
    _paths: Paths = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        # Resolved once, with the rest of the settings: a later change to MAMDL_HOME (a test, a
        # library user) must not move one Service's files half-way through its life.
        self._paths = Paths.resolve()
        if self.client_password is not None:
            from mamdl.redact import register_secret

            # Known to the redactor as soon as it is read: no log line, error or output can carry it.
            register_secret(self.client_password.get_secret_value())

    @property
    def paths(self) -> Paths:
        return self._paths

    @property
    def is_loopback(self) -> bool:
        from urllib.parse import urlsplit

        host = urlsplit(self.base_url).hostname or ""
        return host in {"localhost", "::1"} or host.startswith("127.")

    @property
    def effective_seedbox_url(self) -> str:
        if self.seedbox_url:
            return self.seedbox_url.rstrip("/")
        return self.base_url if self.is_loopback else REAL_SEEDBOX

    @property
    def effective_download_dir(self) -> Path:
        return (self.download_dir or self.paths.default_download_dir).expanduser()

    def library_root(self, fmt: str) -> Path | None:
        """Where a book of format `fmt` ("ebook"/"audiobook"/other) is placed; None = no library."""
        specific = {"ebook": self.ebook_library_dir, "audiobook": self.audiobook_library_dir}.get(fmt)
        root = specific or self.library_dir
        return root.expanduser() if root else None

    @property
    def library_configured(self) -> bool:
        return any((self.library_dir, self.ebook_library_dir, self.audiobook_library_dir))

    @property
    def seed_seconds(self) -> int:
        return int(self.seed_hours * 3600)

    def client_path(self, local: str | Path) -> str:
        """A local path as the client sees it (`path_map`, longest prefix first)."""
        return _map_prefix(str(local), self.path_map)

    def local_path(self, client: str) -> str:
        """A path the client reports, as seen here (the reverse of `client_path`)."""
        return _map_prefix(client, {v: k for k, v in self.path_map.items()})

    def require_cookie(self) -> str:
        if self.mam_id is None or not self.mam_id.get_secret_value().strip():
            raise ConfigError(
                "No MAM session cookie configured. Run `mam config init` (or set MAM_ID). "
                "Create one on MAM under Preferences -> Security."
            )
        return self.mam_id.get_secret_value().strip()

    def public_dict(self) -> dict[str, Any]:
        """Everything, with secrets replaced by a marker: safe for `mam config show` and logs."""
        data = self.model_dump(mode="json")
        data["mam_id"] = "<set>" if self.mam_id else None
        data["abs_token"] = "<set>" if self.abs_token else None
        data["client_password"] = "<set>" if self.client_password else None
        data["config_file"] = str(self.paths.config_file)
        data["state_dir"] = str(self.paths.state_dir)
        return data


LIBRARY_FIELDS = (
    "author",
    "authors",
    "series",
    "series_number",
    "title",
    "narrator",
    "narrators",
    "year",
    "language",
    "filetype",
    "mam_id",
)
"""What a library template may name (see `mamdl.library.naming`)."""


def template_problem(template: str) -> str | None:
    """Why a library template can't work (an unknown field, unbalanced braces), or None."""
    import re
    import string

    try:
        for _, name, _, _ in string.Formatter().parse(re.sub(r"\[([^\[\]]*)\]", r"\1", template)):
            if name is not None and name not in LIBRARY_FIELDS:
                return f"Library template {template!r}: unknown field {{{name}}}; known: {', '.join(LIBRARY_FIELDS)}"
    except ValueError as exc:
        return f"Library template {template!r} is malformed: {exc}"
    return None


def _map_prefix(path: str, mapping: dict[str, str]) -> str:
    for src in sorted(mapping, key=len, reverse=True):
        s = src.rstrip("/")
        if path == s or path.startswith(s + "/"):
            return mapping[src].rstrip("/") + path[len(s) :]
    return path


def load_settings(**overrides: Any) -> Settings:
    """Settings with flags (`overrides`, None values ignored) on top; a bad file is a ConfigError."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{Paths.resolve().config_file} is not valid TOML: {exc}") from None
    except ValueError as exc:  # pydantic.ValidationError
        raise ConfigError(f"Invalid configuration: {_short_validation_error(exc)}") from None


def unknown_config_keys(path: Path) -> list[tuple[str, str | None]]:
    """Keys in the TOML file that are no setting, each with the closest setting name (or None).
    Why: unknown keys are ignored (an old file must still load after a setting is renamed), so a
    typo like `seed_ratoi = 2` would silently leave the seeding goal at its default; the CLI warns
    instead (`make_service`)."""
    import difflib

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return []  # a missing file is fine; a broken one is load_settings' error
    known: set[str] = set()
    for name, field in Settings.model_fields.items():
        known.add(name)
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            known.update(a for a in alias.choices if isinstance(a, str))
    out = []
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(Settings.model_fields), n=1)
            out.append((key, close[0] if close else None))
    return out


def _short_validation_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for e in errors():
            loc = ".".join(str(x) for x in e.get("loc", ()))
            parts.append(f"{loc}: {e.get('msg')}")  # never the input value: it may be the cookie
        return "; ".join(parts)
    return exc.__class__.__name__


def write_config(values: dict[str, Any], path: Path | None = None) -> Path:
    """Merge `values` into the TOML config file and write it atomically with mode 0600."""
    from mamdl.fsutil import atomic_write

    path = path or Paths.resolve().config_file
    current: dict[str, Any] = {}
    if path.exists():
        try:
            current = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    current.update({k: v for k, v in values.items() if v is not None})
    atomic_write(path, _dump_toml(current).encode(), mode=0o600)
    return path


def _dump_toml(data: dict[str, Any]) -> str:
    """A flat TOML writer: our config has only scalars and lists of strings."""
    lines = ["# mamdl configuration. Holds your MAM session cookie: keep it private (mode 0600)."]
    for key in sorted(data):
        lines.append(f"{key} = {_toml_value(data[key])}")
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string
