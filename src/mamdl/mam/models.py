"""Typed models of MAM's JSON, and the one place where its quirks are parsed.

MAM sends numbers as strings, booleans as 0/1/"0"/"1"/true, sizes as "350.50 MiB" or a byte count,
and author/narrator/series as JSON *strings* inside the JSON. Everything downstream (ranking, the
engine, the fronts) sees only the clean models below, so no other module ever has to know that.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

log = logging.getLogger(__name__)

MAIN_CATEGORIES = {13: "audiobook", 14: "ebook", 15: "musicology", 16: "radio"}

_UNITS = {
    "b": 1,
    "bytes": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
    "tb": 1000**4,
    "tib": 1024**4,
    "pib": 1024**5,
}
_SIZE_RE = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: Any) -> int:
    """Bytes from "350.50 MiB", "1,234 KiB", "5.125 TiB", 123456 or "123456". Unknown -> 0."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return max(0, int(value))
    m = _SIZE_RE.match(str(value))
    if not m:
        return 0
    number = float(m.group(1).replace(",", ""))
    unit = m.group(2).lower() or "b"
    return max(0, int(round(number * _UNITS.get(unit, 1))))


def format_size(n: int | float) -> str:
    """The inverse of `parse_size`, in binary units, as MAM prints them."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} TiB"  # pragma: no cover


def parse_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def parse_int(value: Any, default: int = 0) -> int:
    if value is None or value == "" or isinstance(value, bool):
        return default if not isinstance(value, bool) else int(value)
    try:
        return int(float(str(value).replace(",", "")))
    except ValueError:
        return default


def _json_string(value: Any) -> dict[str, Any]:
    """MAM's `author_info` & co: a dict, or a string holding one, or junk (-> {})."""
    if isinstance(value, dict):
        return value
    if not value or not isinstance(value, str):
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _clean_name(value: Any) -> str:
    return html.unescape(str(value)).strip()


class Person(BaseModel):
    id: int | None = None
    name: str


class SeriesRef(BaseModel):
    id: int | None = None
    name: str
    number: str = ""
    """As MAM sends it: "3", "01-16, 13.5", or empty."""


def parse_people(value: Any) -> list[Person]:
    people = []
    for key, name in _json_string(value).items():
        if isinstance(name, str) and name.strip():
            people.append(Person(id=parse_int(key, 0) or None, name=_clean_name(name)))
    return people


def parse_series(value: Any) -> list[SeriesRef]:
    out = []
    for key, info in _json_string(value).items():
        if isinstance(info, list) and info:
            name = info[0]
            number = info[1] if len(info) > 1 else ""
        elif isinstance(info, str):
            name, number = info, ""
        else:
            continue
        if isinstance(name, str) and name.strip():
            out.append(
                SeriesRef(
                    id=parse_int(key, 0) or None,
                    name=_clean_name(name),
                    number="" if number is None else str(number).strip(),
                )
            )
    return out


def parse_added(value: Any) -> datetime | None:
    """MAM's `added` is UTC "YYYY-MM-DD HH:MM:SS"; sometimes a unix time."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), UTC)
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        try:
            dt = datetime.fromisoformat(str(value))
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class SearchResult(BaseModel):
    """One row of `loadSearchJSONbasic.php`, cleaned. Build it with `SearchResult.from_api(row)`."""

    model_config = ConfigDict(frozen=False)

    id: int
    title: str
    authors: list[Person] = Field(default_factory=list)
    narrators: list[Person] = Field(default_factory=list)
    series: list[SeriesRef] = Field(default_factory=list)
    added: datetime | None = None
    size_bytes: int = 0
    seeders: int = 0
    leechers: int = 0
    snatches: int = 0
    numfiles: int = 0
    category: int = 0
    catname: str = ""
    main_cat: int = 0
    language: int = 0
    lang_code: str = ""
    filetypes: list[str] = Field(default_factory=list)
    tags: str = ""
    browseflags: int = 0
    vip: bool = False
    free: bool = False
    fl_vip: bool = False
    personal_freeleech: bool = False
    my_snatched: bool = False
    owner_name: str = ""
    dl: str | None = None
    weight: float | None = None
    description: str | None = None
    isbn: str | None = None
    thumbnail: str | None = None
    """The cover's URL (only when the search asked for `thumbnail`)."""

    @property
    def format(self) -> str:
        """ "audiobook", "ebook", "musicology", "radio" or "other", from the main category."""
        return MAIN_CATEGORIES.get(self.main_cat, "other")

    @property
    def author_names(self) -> list[str]:
        return [p.name for p in self.authors]

    @property
    def narrator_names(self) -> list[str]:
        return [p.name for p in self.narrators]

    def is_free_for(self, *, vip_user: bool) -> bool:
        """True when downloading it costs no ratio: site freeleech, personal FL, or VIP-FL for a VIP."""
        return self.free or self.personal_freeleech or (vip_user and self.fl_vip)

    @classmethod
    def from_api(cls, row: dict[str, Any]) -> SearchResult:
        return cls.model_validate(row)

    @model_validator(mode="before")
    @classmethod
    def _from_mam(cls, data: Any) -> Any:
        if not isinstance(data, dict) or ("author_info" not in data and "times_completed" not in data):
            return data  # already clean (e.g. round-tripped through model_dump)
        out: dict[str, Any] = {}
        for name, parse in _ROW_FIELDS.items():
            try:
                value = parse(data)
            except Exception as exc:  # one odd field must not sink the row: drop it, say so once
                _warn_field(name, exc)
                continue
            if value is not _MISSING:
                out[name] = value
        return out


_MISSING = object()
_warned_fields: set[str] = set()


def _warn_field(name: str, problem: object) -> None:
    """One warning per field for the life of the process, however many rows share the quirk:
    a whole page of odd `isbn`s should not bury the log, and a new quirk should not go unseen."""
    if name in _warned_fields:
        return
    _warned_fields.add(name)
    log.warning("MAM sent a search-row field mamdl could not read; kept the row without it: %s (%s)", name, problem)


def _text(value: Any) -> str:
    """A string field that MAM may send as a JSON number (`title` 1984, `isbn`, an all-digit
    `owner_name`). Containers are not text: they raise, so the field is dropped with a warning."""
    if value is None:
        return ""
    if isinstance(value, (bool, dict, list)):
        raise ValueError(f"expected text, got {type(value).__name__}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return html.unescape(str(value)).strip()


def _optional_text(value: Any) -> str | None:
    return _text(value) or None


def _owner_name(data: dict[str, Any]) -> str:
    """`owner_name`, or the name inside `ownership` (a list, or a *string* holding `[id,"name"]`)."""
    name = data.get("owner_name")
    if name not in (None, ""):
        return _text(name)
    ownership = data.get("ownership")
    if isinstance(ownership, str) and ownership.strip():
        ownership = json.loads(ownership)
    if isinstance(ownership, list) and len(ownership) > 1:
        return _text(ownership[1])
    return ""


def _filetypes(value: Any) -> list[str]:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return [t.lower() for t in re.split(r"[\s,]+", _text(value)) if t]


def _weight(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _strict_int(value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        raise ValueError(f"expected a number, got {value!r:.40}")
    return int(float(str(value).replace(",", "")))


_ROW_FIELDS: dict[str, Any] = {
    # Each entry reads one model field from a raw row; an exception drops that field only.
    "id": lambda d: _strict_int(d.get("id")),
    "title": lambda d: _text(d.get("title")),
    "authors": lambda d: parse_people(d.get("author_info")),
    "narrators": lambda d: parse_people(d.get("narrator_info")),
    "series": lambda d: parse_series(d.get("series_info")),
    "added": lambda d: parse_added(d.get("added")),
    "size_bytes": lambda d: parse_size(d.get("size")),
    "seeders": lambda d: _strict_int(d.get("seeders")),
    "leechers": lambda d: _strict_int(d.get("leechers")),
    "snatches": lambda d: _strict_int(d.get("times_completed")),
    "numfiles": lambda d: _strict_int(d.get("numfiles")),
    "category": lambda d: _strict_int(d.get("category")),
    "catname": lambda d: _text(d.get("catname")),
    "main_cat": lambda d: _strict_int(d.get("main_cat")),
    "language": lambda d: _strict_int(d.get("language")),
    "lang_code": lambda d: _text(d.get("lang_code")),
    "filetypes": lambda d: _filetypes(d.get("filetype")),
    "tags": lambda d: _text(d.get("tags")),
    "browseflags": lambda d: _strict_int(d.get("browseflags")),
    "vip": lambda d: parse_bool(d.get("vip")),
    "free": lambda d: parse_bool(d.get("free")),
    "fl_vip": lambda d: parse_bool(d.get("fl_vip")),
    "personal_freeleech": lambda d: parse_bool(d.get("personal_freeleech")),
    "my_snatched": lambda d: parse_bool(d.get("my_snatched")),
    "owner_name": _owner_name,
    "dl": lambda d: _optional_text(d.get("dl")),
    "weight": lambda d: _weight(d.get("w")),
    "description": lambda d: _optional_text(d.get("description")),
    "isbn": lambda d: _optional_text(d.get("isbn")),
    "thumbnail": lambda d: _optional_text(d.get("thumbnail")),
}


def _is_number(v: Any) -> bool:
    try:
        return v is not None and not isinstance(v, bool) and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


class SearchPage(BaseModel):
    results: list[SearchResult]
    total: int = 0
    found: int = 0


class SearchField(StrEnum):
    title = "title"  # type: ignore[assignment]  # MAM's name for the field; shadows str.title, harmlessly
    author = "author"
    narrator = "narrator"
    series = "series"
    description = "description"
    tags = "tags"
    filenames = "filenames"
    filetypes = "fileTypes"


class SearchType(StrEnum):
    all = "all"
    active = "active"
    inactive = "inactive"
    freeleech = "fl"
    freeleech_vip = "fl-VIP"
    vip = "VIP"
    not_vip = "nVIP"
    no_meta = "nMeta"


class SortType(StrEnum):
    default = "default"
    title_asc = "titleAsc"
    title_desc = "titleDesc"
    size_asc = "sizeAsc"
    size_desc = "sizeDesc"
    seeders_asc = "seedersAsc"
    seeders_desc = "seedersDesc"
    leechers_asc = "leechersAsc"
    leechers_desc = "leechersDesc"
    snatched_asc = "snatchedAsc"
    snatched_desc = "snatchedDesc"
    date_asc = "dateAsc"
    date_desc = "dateDesc"
    category_asc = "categoryAsc"
    category_desc = "categoryDesc"
    random = "random"


class SearchRequest(BaseModel):
    """What one call to MAM's search sends; `to_payload` gives the JSON body."""

    text: str = ""
    fields: list[SearchField] = Field(
        default_factory=lambda: [SearchField.title, SearchField.author, SearchField.narrator, SearchField.series]
    )
    search_type: SearchType = SearchType.all
    search_in: str = "torrents"
    main_cat: list[int] = Field(default_factory=list)
    cat: list[int] = Field(default_factory=list)
    languages: list[int] = Field(default_factory=list)
    sort: SortType = SortType.default
    start: int = 0
    per_page: int = Field(default=50, ge=5, le=100)
    min_size_bytes: int | None = None
    max_size_bytes: int | None = None
    min_seeders: int | None = None
    info_hash: str | None = None
    torrent_id: int | None = None
    details: bool = False
    """Ask for the optional row fields (description, ISBN, thumbnail): the library's metadata needs them."""

    def to_payload(self) -> dict[str, Any]:
        tor: dict[str, Any] = {
            "text": self.text,
            "srchIn": [f.value for f in self.fields],
            "searchType": self.search_type.value,
            "searchIn": self.search_in,
            "sortType": self.sort.value,
            "startNumber": str(self.start),
            "cat": [str(c) for c in self.cat] or ["0"],
        }
        if self.main_cat:
            tor["main_cat"] = [str(c) for c in self.main_cat]
        if self.languages:  # an empty list breaks MAM's search: omit the key instead
            tor["browse_lang"] = [str(lang) for lang in self.languages]
        if self.min_size_bytes is not None or self.max_size_bytes is not None:
            tor["unit"] = "1"
            if self.min_size_bytes is not None:
                tor["minSize"] = str(self.min_size_bytes)
            if self.max_size_bytes is not None:
                tor["maxSize"] = str(self.max_size_bytes)
        if self.min_seeders is not None:
            tor["minSeeders"] = str(self.min_seeders)
        if self.info_hash:
            tor["hash"] = self.info_hash
        if self.torrent_id is not None:
            tor["id"] = str(self.torrent_id)
        flag = "true" if self.details else "false"
        return {
            "tor": tor,
            "perpage": self.per_page,
            "dlLink": "true",
            "thumbnail": flag,
            **({"description": "true", "isbn": "true"} if self.details else {}),
        }


class SnatchBucket(BaseModel):
    name: str = ""
    count: int = 0
    red: bool = False
    size: int = 0


class SnatchSummary(BaseModel):
    """MAM's view of the user's snatches; `unsat_limit` is the class's cap on unsatisfied torrents."""

    leeching: int = 0
    seeding_satisfied: int = 0
    seeding_unsatisfied: int = 0
    seeding_hnr: int = 0
    inactive_satisfied: int = 0
    inactive_unsatisfied: int = 0
    inactive_hnr: int = 0
    unsatisfied: int = 0
    unsat_limit: int = 0

    @property
    def hit_and_runs(self) -> int:
        return self.seeding_hnr + self.inactive_hnr

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> SnatchSummary:
        def count(key: str) -> int:
            bucket = data.get(key)
            return parse_int(bucket.get("count")) if isinstance(bucket, dict) else parse_int(bucket)

        raw_unsat = data.get("unsat")
        unsat = raw_unsat if isinstance(raw_unsat, dict) else {}
        return cls(
            leeching=count("leeching"),
            seeding_satisfied=count("sSat"),
            seeding_unsatisfied=count("seedUnsat"),
            seeding_hnr=count("seedHnr"),
            inactive_satisfied=count("inactSat"),
            inactive_unsatisfied=count("inactUnsat"),
            inactive_hnr=count("inactHnr"),
            unsatisfied=count("unsat"),
            unsat_limit=parse_int(unsat.get("limit")),
        )


class UserInfo(BaseModel):
    """`/jsonLoad.php`, cleaned."""

    username: str
    uid: int = 0
    classname: str = ""
    ratio: float | None = None
    """None means infinite (MAM sends "∞" when nothing was downloaded)."""
    uploaded_bytes: int = 0
    downloaded_bytes: int = 0
    seedbonus: float = 0
    wedges: int = 0
    vip_until: str | None = None
    connectable: str | None = None
    country_code: str | None = None
    snatch_summary: SnatchSummary | None = None

    @property
    def is_vip(self) -> bool:
        return "vip" in self.classname.lower() or bool(self.vip_until)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UserInfo:
        ratio_raw = data.get("ratio")
        ratio: float | None
        try:
            ratio = float(str(ratio_raw).replace(",", "")) if ratio_raw not in (None, "") else None
            if ratio is not None and not math.isfinite(ratio):
                ratio = None
        except ValueError:
            ratio = None  # "∞"
        summary = _merged_summary(data)
        return cls(
            username=str(data.get("username") or ""),
            uid=parse_int(data.get("uid")),
            classname=str(data.get("classname") or ""),
            ratio=ratio,
            uploaded_bytes=parse_int(data.get("uploaded_bytes")) or parse_size(data.get("uploaded")),
            downloaded_bytes=parse_int(data.get("downloaded_bytes")) or parse_size(data.get("downloaded")),
            seedbonus=float(data.get("seedbonus") or 0) if _is_number(data.get("seedbonus")) else 0.0,
            wedges=parse_int(data.get("wedges")),
            vip_until=str(data["vip_until"]) if data.get("vip_until") else None,
            connectable=str(data["connectable"]) if data.get("connectable") is not None else None,
            country_code=str(data["country_code"]).upper() if data.get("country_code") else None,
            snatch_summary=SnatchSummary.from_api(summary) if isinstance(summary, dict) else None,
        )

    @field_validator("seedbonus", mode="before")
    @classmethod
    def _bonus(cls, v: Any) -> Any:
        return v if _is_number(v) else 0.0


_BUCKETS = (
    "leeching",
    "sSat",
    "seedUnsat",
    "seedHnr",
    "inactSat",
    "inactUnsat",
    "inactHnr",
    "upAct",
    "upInact",
    "unsat",
)


def _merged_summary(data: dict[str, Any]) -> dict[str, Any] | None:
    """The snatch buckets, nested form first, then the top level.

    Since spring 2026 MAM nests them under `snatch_summary`; older answers (and some accounts) put
    them at the top level, and one capture has a top-level `"unsat": null` beside the nested one.
    A bucket that is null or absent in one place is taken from the other, so neither form (nor a
    mix) loses the unsatisfied count the download guard depends on."""
    nested = data.get("snatch_summary")
    nested = nested if isinstance(nested, dict) else {}
    merged: dict[str, Any] = {}
    for key in _BUCKETS:
        for source in (nested, data):
            value = source.get(key)
            if isinstance(value, dict) or _is_number(value):
                merged[key] = value
                break
    return merged or None


class SeedboxAnswer(BaseModel):
    """`/json/dynamicSeedbox.php`."""

    success: bool
    msg: str = ""
    ip: str | None = None
    asn: str | None = None
    as_name: str | None = None
    status: int = 200
