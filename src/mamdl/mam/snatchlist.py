"""MAM's per-torrent snatch lists (`/json/loadUserDetailsTorrents.php`), typed.

The snatch summary only counts torrents per bucket; these lists say, for each of the user's
snatches, which bucket it is in, how long MAM has seen it seeded (`seedtime`) and how much seeding
MAM still wants (`STG`, "seed time to go"). That is MAM's own per-torrent truth, and it is what
every hit-and-run decision in mamdl is based on (see `mamdl.service.safety`).

Quirks handled here (mam-api.md, "Per-torrent snatch lists"): numbers may arrive as strings;
`STG` is a duration such as `"1d 12:10:28"` and is absent (or empty) when nothing is left; paging
is by `iteration` until `rows` is empty or repeats the previous page; `unsat` comes back whole.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from mamdl.mam.models import parse_bool, parse_int, parse_size

SNATCH_LIST_PATH = "/json/loadUserDetailsTorrents.php"

UNSATISFIED_BUCKETS = ("unsat",)
"""`unsat` holds every unsatisfied snatch (leeching, seeding or inactive)."""
SATISFIED_BUCKETS = ("sSat", "inactSat")
HNR_BUCKETS = ("seedHnr", "inactHnr")
BUCKETS = (
    "unsat",
    "seedUnsat",
    "inactUnsat",
    "sSat",
    "inactSat",
    "seedHnr",
    "inactHnr",
    "leeching",
    "upAct",
    "upInact",
)

_STG = re.compile(r"^\s*(?:(\d+)\s*d(?:ays?)?\s*)?(?:(\d+):)?(\d+):(\d+)\s*$")


def parse_duration(value: Any) -> int | None:
    """`"1d 12:10:28"`, `"12:10:28"`, `"10:28"` or a number of seconds -> seconds; None when absent
    or unreadable (the caller decides what an unreadable value means: never "satisfied")."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, (int, float)):
        return max(int(value), 0)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    m = _STG.match(text)
    if not m:
        return None
    days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


class UserTorrent(BaseModel):
    """One row of a snatch list: one of the user's snatches, as MAM accounts it."""

    id: int
    title: str = ""
    bucket: str = ""
    """Which list the row came from (`unsat`, `sSat`, ...)."""
    size_bytes: int = 0
    uploaded: int = 0
    downloaded: int = 0
    seedtime: int = 0
    """Seconds of seeding MAM has counted."""
    seed_time_to_go: int | None = None
    """MAM's `STG` in seconds; None when MAM shows none left (or sent nothing readable)."""
    stg_text: str = ""
    finished: bool = False
    percent_done: float = 0.0
    complete_unix: int | None = None
    start_unix: int | None = None
    last_action_unix: int | None = None
    dl: str = ""

    @property
    def satisfied(self) -> bool:
        return self.bucket in SATISFIED_BUCKETS

    @classmethod
    def from_api(cls, row: dict[str, Any], bucket: str) -> UserTorrent:
        stg_raw = row.get("STG")
        pct = row.get("percentDone")
        try:
            percent = float(str(pct).rstrip("%")) if pct not in (None, "") else 0.0
        except ValueError:
            percent = 0.0

        def opt_int(key: str) -> int | None:
            v = row.get(key)
            return parse_int(v) if v not in (None, "", 0, "0") else None

        return cls(
            id=parse_int(row.get("id")),
            title=str(row.get("title") or ""),
            bucket=bucket,
            size_bytes=parse_size(row.get("size")),
            uploaded=parse_int(row.get("uploaded")),
            downloaded=parse_int(row.get("downloaded")),
            seedtime=parse_int(row.get("seedtime")),
            seed_time_to_go=parse_duration(stg_raw),
            stg_text=str(stg_raw or ""),
            finished=parse_bool(row.get("finished")),
            percent_done=percent,
            complete_unix=opt_int("complete_unix"),
            start_unix=opt_int("start_unix"),
            last_action_unix=opt_int("last_action_unix"),
            dl=str(row.get("dl") or ""),
        )


def parse_rows(data: dict[str, Any], bucket: str) -> list[UserTorrent]:
    """The rows of one page; a row without a usable id is dropped (it cannot be matched)."""
    rows = data.get("rows")
    if not isinstance(rows, list):
        return []
    out = []
    for row in rows:
        if isinstance(row, dict):
            t = UserTorrent.from_api(row, bucket)
            if t.id > 0:
                out.append(t)
    return out
