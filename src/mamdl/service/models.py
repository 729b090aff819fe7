"""What the service hands to its fronts: plain, JSON-ready models.

The CLI's `--json` output and the MCP tools' structured output are these models serialised, so
the two fronts cannot drift apart, and the README documents one contract. None of them can hold
the cookie or a passkey: they are built field by field from parsed data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mamdl.library.models import LibraryStatus
from mamdl.mam.models import SearchResult, UserInfo, format_size

if TYPE_CHECKING:
    from mamdl.engine.models import TorrentSnapshot


class SeriesOut(BaseModel):
    name: str
    number: str = ""


class ResultRow(BaseModel):
    """One search result as fronts show it (the `--json` row contract)."""

    id: int
    title: str
    authors: list[str]
    narrators: list[str]
    series: list[SeriesOut]
    format: str
    filetypes: list[str]
    size_bytes: int
    size: str
    seeders: int
    leechers: int
    snatches: int
    language: str
    category: str
    added: str | None
    freeleech: bool
    vip: bool
    fl_vip: bool
    personal_freeleech: bool
    snatched: bool
    score: float = 0.0
    confidence: float = 0.0
    found_by: list[str] = Field(default_factory=list)

    @classmethod
    def build(
        cls, r: SearchResult, *, score: float = 0.0, confidence: float = 0.0, found_by: list[str] | None = None
    ) -> ResultRow:
        return cls(
            id=r.id,
            title=r.title,
            authors=r.author_names,
            narrators=r.narrator_names,
            series=[SeriesOut(name=s.name, number=s.number) for s in r.series],
            format=r.format,
            filetypes=r.filetypes,
            size_bytes=r.size_bytes,
            size=format_size(r.size_bytes),
            seeders=r.seeders,
            leechers=r.leechers,
            snatches=r.snatches,
            language=r.lang_code,
            category=r.catname,
            added=r.added.strftime("%Y-%m-%d %H:%M:%S") if r.added else None,
            freeleech=r.free,
            vip=r.vip,
            fl_vip=r.fl_vip,
            personal_freeleech=r.personal_freeleech,
            snatched=r.my_snatched,
            score=round(score, 4),
            confidence=round(confidence, 4),
            found_by=found_by or [],
        )


class SentQuery(BaseModel):
    text: str
    fields: list[str]
    results: int


class SearchOutcome(BaseModel):
    rows: list[ResultRow]
    confidence: float
    """How sure the top row is the intended work, 0-1."""
    confident: bool
    queries_sent: list[SentQuery]
    requests: int


class UserStats(BaseModel):
    """The account as `mam user` and `get_user_stats` show it."""

    username: str
    uid: int
    user_class: str
    ratio: float | None
    uploaded_bytes: int
    downloaded_bytes: int
    uploaded: str
    downloaded: str
    bonus_points: float
    wedges: int
    vip_until: str | None
    connectable: str | None
    leeching: int = 0
    seeding_satisfied: int = 0
    seeding_unsatisfied: int = 0
    inactive_unsatisfied: int = 0
    unsatisfied: int = 0
    unsatisfied_limit: int = 0
    hit_and_runs: int = 0
    cached: bool = False
    age_seconds: float = 0.0
    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def build(cls, u: UserInfo, *, cached: bool, age: float, reserve: int) -> UserStats:
        s = u.snatch_summary
        warnings = []
        if s and s.unsat_limit:
            room = s.unsat_limit - s.unsatisfied
            if room <= reserve:
                warnings.append(
                    f"Only {max(room, 0)} unsatisfied slot(s) left of {s.unsat_limit}: "
                    "seed what you have before downloading more."
                )
        if s and s.hit_and_runs:
            warnings.append(f"{s.hit_and_runs} hit-and-run(s) on record: seed them to clear them.")
        if u.ratio is not None and u.ratio < 1.0:
            warnings.append(f"Ratio {u.ratio:.2f} is below MAM's minimum of 1.0.")
        return cls(
            username=u.username,
            uid=u.uid,
            user_class=u.classname,
            ratio=u.ratio,
            uploaded_bytes=u.uploaded_bytes,
            downloaded_bytes=u.downloaded_bytes,
            uploaded=format_size(u.uploaded_bytes),
            downloaded=format_size(u.downloaded_bytes),
            bonus_points=u.seedbonus,
            wedges=u.wedges,
            vip_until=u.vip_until,
            connectable=u.connectable,
            leeching=s.leeching if s else 0,
            seeding_satisfied=s.seeding_satisfied if s else 0,
            seeding_unsatisfied=s.seeding_unsatisfied if s else 0,
            inactive_unsatisfied=s.inactive_unsatisfied if s else 0,
            unsatisfied=s.unsatisfied if s else 0,
            unsatisfied_limit=s.unsat_limit if s else 0,
            hit_and_runs=s.hit_and_runs if s else 0,
            cached=cached,
            age_seconds=round(age, 1),
            warnings=warnings,
        )


class FetchResult(BaseModel):
    torrent_id: int
    title: str
    path: str
    info_hash: str
    size_bytes: int
    files: int
    skipped: bool
    """True when an identical file was already there."""
    wedge_used: bool = False
    wedge_reason: str = ""


class GetPreview(BaseModel):
    """What the guards would answer for `get(torrent_id, download=True)`, asked before it starts
    (the web page shows it and asks for a confirmation). Nothing is fetched or spent."""

    torrent_id: int
    title: str
    size: str
    allowed: bool
    """False: the unsatisfied guard would refuse this download."""
    unsatisfied_reason: str
    """How many unsatisfied torrents after this download, against the limit (or why refused)."""
    wedge: bool
    """True: a freeleech wedge would be spent on it."""
    wedge_reason: str


class RateLimits(BaseModel):
    """The embedded engine's session-wide limits, KiB/s (0 = unlimited), as saved in config.toml."""

    download_kibps: int
    upload_kibps: int
    applied_now: bool
    """True when a running engine took them at once; False: saved, used when the service starts."""


class GetResult(BaseModel):
    fetch: FetchResult
    info_hash: str | None = None
    """Set when the download was started."""
    engine_owner: str | None = None
    """When another process drives the engine (e.g. `mam mcp`), who: the download runs there."""
    notes: list[str] = Field(default_factory=list)


class TorrentStatus(BaseModel):
    """One torrent as `mam status --json` and `get_progress` show it."""

    info_hash: str
    name: str
    title: str | None = None
    mam_id: int | None = None
    state: str
    progress: float
    download_rate: int
    upload_rate: int
    peers: int
    seeds: int
    eta_seconds: int | None = None
    total_size: int
    downloaded: int
    uploaded: int
    ratio: float
    ratio_goal: float
    seeding_seconds: int
    seed_seconds_goal: int
    goal_met: bool
    hash_failures: int = 0
    error: str | None = None
    tracker_error: str | None = None
    """The last tracker failure (announce URL redacted), while the engine runs; None when it answers."""
    save_path: str
    added_at: float | None = None
    finished_at: float | None = None
    mam_satisfied: bool | None = None
    """MAM's view when asked (`status --mam`): True only when MAM's per-torrent list shows it
    satisfied, or it is not a MAM torrent (the decision point's answer)."""
    mam_reason: str | None = None
    """The decision point's reason, as a sentence."""
    mam_seedtime: int | None = None
    """Seconds of seeding MAM has counted for this torrent (its own clock)."""
    mam_seed_time_to_go: int | None = None
    """MAM's "seed time to go" in seconds, when MAM still wants seeding."""
    tracker_ok: bool | None = None
    """The last announce: True accepted, False failed, None nothing answered yet."""
    tracker_failures: int = 0
    """Announces failed in a row; seeding time does not count meanwhile."""
    hnr_risk: bool = False
    """An unsatisfied MAM torrent whose tracker keeps failing: MAM's clock is not running."""
    warnings: list[str] = Field(default_factory=list)
    library: LibraryStatus | None = None
    """Where the finished book was placed in the library, and how (None: not placed)."""

    @classmethod
    def from_snapshot(cls, s: TorrentSnapshot) -> TorrentStatus:
        """The snapshot's shared fields as they are; only the renamed (goal), rounded and
        status-only ones are spelled out, so a field added to both models needs no edit here."""
        shared = s.model_dump(include=cls.model_fields.keys() & type(s).model_fields.keys())
        return cls(
            **{
                **shared,
                "state": s.state.value,
                "progress": round(s.progress, 4),
                "ratio": round(s.ratio, 3),
                "ratio_goal": s.goal.ratio,
                "seed_seconds_goal": s.goal.seed_seconds,
            }
        )
