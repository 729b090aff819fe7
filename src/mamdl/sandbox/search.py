"""MAM's search (`/tor/js/loadSearchJSONbasic.php`), reimplemented strictly.

MAM's engine is not public, so the sandbox is deliberately as strict as the confirmed behaviour
allows (see mam-api.md, "Search semantics for the sandbox"): a client that finds what it needs here
will also find it on the real site, and a client that relies on fuzzy matching will fail here first.

- words are runs of letters/digits; punctuation (apostrophes, hyphens, colons, underscores)
  separates words, so "Childhoods" does not match "Childhood's" but "Childhood s" does;
- case-insensitive, but no accent folding ("anos" does not match "años"), no stemming, no typo
  tolerance;
- every query word must match a whole word in at least one chosen field (AND across words);
- `*` inside a query word matches any run of letters/digits ("sand*" matches "Sanderson");
- default fields: title, author, narrator, series; `srchIn` picks others (description, tags,
  filenames, fileTypes);
- default sort: with text, a simple weight (title matches count most) then newest id; without
  text, newest id first.

Both request forms are accepted: GET with bracketed keys (`tor[text]=…&tor[srchIn][title]=true`)
and a JSON body `{"tor": {...}, "perpage": N, "dlLink": "true"}`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from mamdl.sandbox.catalogue import Catalogue, Entry
from mamdl.sandbox.payloads import file_names

FIELDS = ("title", "author", "narrator", "series", "description", "tags", "filenames", "fileTypes")
DEFAULT_FIELDS = ("title", "author", "narrator", "series")
_FIELD_BY_LOWER = {f.lower(): f for f in FIELDS}
SORTS = {
    "default",
    "titleAsc",
    "titleDesc",
    "sizeAsc",
    "sizeDesc",
    "seedersAsc",
    "seedersDesc",
    "leechersAsc",
    "leechersDesc",
    "snatchedAsc",
    "snatchedDesc",
    "dateAsc",
    "dateDesc",
    "categoryAsc",
    "categoryDesc",
    "random",
}
SEARCH_TYPES = {"all", "active", "inactive", "fl", "fl-VIP", "VIP", "nVIP", "nMeta"}
MAX_PER_PAGE = 100
MIN_PER_PAGE = 5
NOTHING_RETURNED = "Nothing returned, out of 0"

_WORD = re.compile(r"[^\W_]+")
_QUERY_WORD = re.compile(r"(?:[^\W_]|\*)+")


class SearchRefused(Exception):
    """A request MAM would refuse outright (answered as `{"error": ...}` with HTTP 200)."""


def words(text: str) -> list[str]:
    """Lower-cased words of `text`; every non-letter/digit (including `_` and `'`) separates words."""
    return [w.lower() for w in _WORD.findall(text)]


def query_words(text: str) -> list[str]:
    """The query's words, keeping `*` wildcards; a lone `*` is dropped (it would match anything)."""
    return [w.lower() for w in _QUERY_WORD.findall(text) if w.strip("*")]


def _field_words(entry: Entry, name: str) -> frozenset[str]:
    cached = entry.words_cache.get(name)
    if cached is not None:
        return cached
    if name == "title":
        text = entry.title
    elif name == "author":
        text = " ".join(entry.authors)
    elif name == "narrator":
        text = " ".join(entry.narrators)
    elif name == "series":
        text = " ".join(entry.series)
    elif name == "description":
        text = entry.description
    elif name == "tags":
        text = entry.tags
    elif name == "filenames":
        text = " ".join(file_names(entry))
    elif name == "fileTypes":
        text = " ".join(entry.filetypes)
    else:  # pragma: no cover - guarded by _fields()
        text = ""
    result = frozenset(words(text))
    entry.words_cache[name] = result
    return result


class _Matcher:
    """One query word: an exact word, or a wildcard pattern over whole words."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.pattern = (
            re.compile("".join("[^\\W_]*" if part == "" else re.escape(part) for part in _split_star(token)))
            if "*" in token
            else None
        )

    def matches(self, field_words: frozenset[str]) -> bool:
        if self.pattern is None:
            return self.token in field_words
        return any(self.pattern.fullmatch(w) for w in field_words)


def _split_star(token: str) -> list[str]:
    """ "sand*son" -> ["sand", "", "son"]: empty strings stand for the wildcards."""
    out: list[str] = []
    for i, part in enumerate(token.split("*")):
        if i:
            out.append("")
        if part:
            out.append(part)
    return out


# ---------------------------------------------------------------------------------------------- parsing


def parse_bracketed(query: str) -> dict[str, Any]:
    """PHP-style nested keys: `tor[srchIn][title]=true&tor[main_cat][]=13` -> nested dicts/lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        parts = re.findall(r"\[([^\]]*)\]", key)
        head = key.split("[", 1)[0]
        if not head:
            continue
        path = [head, *parts]
        node: Any = root
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, list):
                if last:
                    node.append(value)
                    break
                child: Any = {} if parts[i] != "" else []
                node.append(child)
                node = child
                continue
            if last:
                node[part] = value
                break
            nxt = path[i + 1]
            if part not in node or not isinstance(node[part], (dict, list)):
                node[part] = [] if nxt == "" else {}
            node = node[part]
    return root


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, str) and "," in value:
        return [v for v in value.split(",") if v.strip()]
    return [value]


def _ints(value: Any) -> list[int]:
    out = []
    for v in _as_list(value):
        try:
            out.append(int(str(v).strip()))
        except ValueError:
            continue
    return out


def _num(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _fields(value: Any) -> list[str]:
    if isinstance(value, dict):  # GET form: tor[srchIn][title]=true
        names = [k for k, v in value.items() if _truthy(v) or v == ""]
        if all(k.isdigit() for k in value):  # tor[srchIn][0]=title
            names = [str(v) for v in value.values()]
    else:
        names = [str(v) for v in _as_list(value)]
    out = []
    for name in names:
        canonical = _FIELD_BY_LOWER.get(name.strip().lower())
        if canonical and canonical not in out:
            out.append(canonical)
    return out


def _date(value: Any, *, end: bool) -> float | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return day.timestamp() + (86399 if end else 0)


@dataclass
class SearchQuery:
    text: str = ""
    fields: list[str] = field(default_factory=lambda: list(DEFAULT_FIELDS))
    search_type: str = "all"
    search_in: str = "torrents"
    main_cats: list[int] = field(default_factory=list)
    cats: list[int] = field(default_factory=list)
    langs: list[int] = field(default_factory=list)
    sort: str = "default"
    start: int = 0
    per_page: int = MAX_PER_PAGE
    min_size: float | None = None
    max_size: float | None = None
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    start_date: float | None = None
    end_date: float | None = None
    info_hash: str | None = None
    torrent_id: int | None = None
    dl_link: bool = False
    thumbnail: bool = False

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> SearchQuery:
        """From the decoded request (JSON body or bracketed GET form, top level holding `tor`)."""
        tor = body.get("tor")
        if not isinstance(tor, dict):
            tor = {}
        q = cls()
        q.text = str(tor.get("text") or "")
        if "srchIn" in tor:
            q.fields = _fields(tor.get("srchIn")) or list(DEFAULT_FIELDS)
        st = str(tor.get("searchType") or "all")
        q.search_type = st if st in SEARCH_TYPES else "all"
        q.search_in = str(tor.get("searchIn") or "torrents")
        q.main_cats = _ints(tor.get("main_cat"))
        q.cats = [c for c in _ints(tor.get("cat")) if c != 0]
        if "browse_lang" in tor:
            langs = _ints(tor.get("browse_lang"))
            if not langs:
                # Reported on the real site: an empty language list breaks the search. Be loud about it.
                raise SearchRefused("Error in search: browse_lang is empty (omit the key to search every language)")
            q.langs = langs
        sort = str(tor.get("sortType") or "default")
        q.sort = sort if sort in SORTS else "default"
        start = _num(tor.get("startNumber"))
        q.start = max(0, int(start)) if start is not None else 0
        per_page = _num(body.get("perpage"))  # top level only: nested in `tor` it is ignored
        q.per_page = MAX_PER_PAGE if per_page is None else int(min(MAX_PER_PAGE, max(MIN_PER_PAGE, per_page)))
        unit = _num(tor.get("unit")) or 1.0
        lo, hi = _num(tor.get("minSize")), _num(tor.get("maxSize"))
        q.min_size = lo * unit if lo is not None else None
        q.max_size = hi * unit if hi is not None and hi > 0 else None
        for name in ("Seeders", "Leechers", "Snatched"):
            q.ranges[name.lower()] = (_num(tor.get(f"min{name}")), _num(tor.get(f"max{name}")))
        q.start_date = _date(tor.get("startDate"), end=False)
        q.end_date = _date(tor.get("endDate"), end=True)
        h = tor.get("hash")
        q.info_hash = str(h).strip().lower() if h else None
        tid = _num(tor.get("id"))
        q.torrent_id = int(tid) if tid else None
        q.dl_link = "dlLink" in body and str(body["dlLink"]).strip().lower() not in ("false", "0", "none", "no")
        q.thumbnail = "thumbnail" in body and str(body["thumbnail"]).strip().lower() not in ("false", "0", "none", "no")
        return q


# ---------------------------------------------------------------------------------------------- running


@dataclass
class Hit:
    entry: Entry
    weight: float


@dataclass
class SearchOutcome:
    hits: list[Hit]
    """The requested page."""
    found: int
    """All matches, before paging."""
    query: SearchQuery


@dataclass
class UserView:
    """What the search needs to know about the asking user."""

    is_vip: bool = False
    personal_freeleech: Callable[[int], bool] = lambda tid: False
    hash_to_tid: Callable[[str], int | None] = lambda h: None


def _weight(entry: Entry, matchers: list[_Matcher], fields: list[str]) -> float | None:
    """None when some query word matches no chosen field; else the weight (title matches count most)."""
    weight = 0.0
    for m in matchers:
        best = 0.0
        for name in fields:
            if m.matches(_field_words(entry, name)):
                score = 10.0 if name == "title" else 3.0 if name in ("author", "narrator", "series") else 1.0
                best = max(best, score)
        if best == 0.0:
            return None
        weight += best
    return weight


def _passes_filters(entry: Entry, q: SearchQuery, user: UserView) -> bool:
    st = q.search_type
    if st == "active" and entry.seeders <= 0:
        return False
    if st == "inactive" and entry.seeders > 0:
        return False
    if st == "fl" and not (entry.free or user.personal_freeleech(entry.id)):
        return False
    if st == "fl-VIP" and not (entry.free or entry.fl_vip or user.personal_freeleech(entry.id)):
        return False
    if st == "VIP" and not entry.vip:
        return False
    if st == "nVIP" and entry.vip:
        return False
    if q.main_cats and entry.main_cat not in q.main_cats:
        return False
    if q.cats and entry.category not in q.cats:
        return False
    if q.langs and entry.language not in q.langs:
        return False
    if q.min_size is not None and entry.size_bytes < q.min_size:
        return False
    if q.max_size is not None and entry.size_bytes > q.max_size:
        return False
    values = {"seeders": entry.seeders, "leechers": entry.leechers, "snatched": entry.times_completed}
    for name, (lo, hi) in q.ranges.items():
        if lo is not None and values[name] < lo:
            return False
        if hi is not None and hi > 0 and values[name] > hi:
            return False
    if q.start_date is not None and entry.added_ts < q.start_date:
        return False
    if q.end_date is not None and entry.added_ts > q.end_date:
        return False
    if q.torrent_id is not None and entry.id != q.torrent_id:
        return False
    if q.info_hash is not None and user.hash_to_tid(q.info_hash) != entry.id:
        return False
    return True


_SORT_KEYS: dict[str, Callable[[Hit], Any]] = {
    "title": lambda h: h.entry.title.lower(),
    "size": lambda h: h.entry.size_bytes,
    "seeders": lambda h: h.entry.seeders,
    "leechers": lambda h: h.entry.leechers,
    "snatched": lambda h: h.entry.times_completed,
    "date": lambda h: h.entry.added_ts,
    "category": lambda h: h.entry.catname.lower(),
}


def _sort(hits: list[Hit], q: SearchQuery) -> None:
    hits.sort(key=lambda h: -h.entry.id)  # the tie-breaker everywhere: newest id first
    if q.sort == "random":
        random.shuffle(hits)
    elif q.sort == "default":
        if q.text.strip() and query_words(q.text):
            hits.sort(key=lambda h: -h.weight)  # stable: newest id within equal weights
    else:
        ascending = q.sort.endswith("Asc")
        base = q.sort[: -len("Asc")] if ascending else q.sort[: -len("Desc")]
        hits.sort(key=_SORT_KEYS[base], reverse=not ascending)


def run_search(catalogue: Catalogue | Iterable[Entry], q: SearchQuery, user: UserView | None = None) -> SearchOutcome:
    user = user or UserView()
    entries = catalogue.entries if isinstance(catalogue, Catalogue) else list(catalogue)
    matchers = [_Matcher(t) for t in query_words(q.text)]
    hits: list[Hit] = []
    if q.search_in in ("torrents", "new", "all", ""):
        for entry in entries:
            if not _passes_filters(entry, q, user):
                continue
            if matchers:
                weight = _weight(entry, matchers, q.fields)
                if weight is None:
                    continue
            else:
                weight = 0.0
            hits.append(Hit(entry, weight))
    # other searchIn values (mine, bookmarks, uploads, ...) are empty for the sandbox user
    _sort(hits, q)
    return SearchOutcome(hits=hits[q.start : q.start + q.per_page], found=len(hits), query=q)
