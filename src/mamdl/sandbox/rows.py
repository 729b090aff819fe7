"""How a catalogue row is typed on the wire: the live site's JSON numbers, or the API doc's strings.

Captures of MAM's live search answer carry JSON *numbers* (id, seeders, category, `w`, ...), a
number for an all-digit `title` (`1984`), `isbn` or `owner_name`, `ownership` as a string holding
JSON, and fields no document lists (`mediatype`, `bookmarked`, ...). MAM's own API help shows every
value as a string. A client must read both, so the sandbox serves either: `live` by default (what
users meet), `doc` on request (`Sandbox(row_style="doc")`, `mam sandbox --row-style doc`).

Only values that *are* numbers in one form are converted; anything else a catalogue row holds
(`"yes"` flags, a three-element series entry, odd extra fields) is served verbatim, so a test can
put any quirk it wants in a catalogue and see it reach the client.
"""

from __future__ import annotations

import json
import re
from typing import Any

ROW_STYLES = ("live", "doc")

NUMERIC_FIELDS = (
    "id",
    "seeders",
    "leechers",
    "times_completed",
    "numfiles",
    "comments",
    "category",
    "main_cat",
    "language",
    "browseflags",
    "owner",
    "vip",
    "free",
    "fl_vip",
    "personal_freeleech",
    "my_snatched",
    "w",
)
"""Fields the live site sends as JSON numbers and the doc example as strings."""

DIGIT_TEXT_FIELDS = ("title", "isbn", "description", "owner_name")
"""Text fields that come as a JSON number on the live site when they are all digits."""

_DIGITS = re.compile(r"^[1-9][0-9]{0,17}$")
_INTEGER = re.compile(r"^-?[0-9]+$")


def check_row_style(style: str) -> str:
    if style not in ROW_STYLES:
        raise ValueError(f"row_style must be one of {', '.join(ROW_STYLES)}, not {style!r}")
    return style


def render_row(row: dict[str, Any], style: str) -> dict[str, Any]:
    """`row` as the chosen form of the site would type it (a new dict; `row` is not changed)."""
    out = dict(row)
    if style == "doc":
        for key in NUMERIC_FIELDS:
            value = out.get(key)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[key] = str(value)
        for key in DIGIT_TEXT_FIELDS:
            value = out.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                out[key] = str(value)
        return out
    for key in NUMERIC_FIELDS:
        value = out.get(key)
        if (isinstance(value, str) and _INTEGER.match(value.strip())) or (
            isinstance(value, float) and value.is_integer()
        ):
            out[key] = int(value)
    for key in DIGIT_TEXT_FIELDS:
        value = out.get(key)
        if isinstance(value, str) and _DIGITS.match(value):
            out[key] = int(value)
    out.setdefault("w", 0)  # always present in live rows, even without search text
    if "owner" in out and "ownership" not in out:
        out["ownership"] = json.dumps([out["owner"], str(row.get("owner_name") or "")], separators=(",", ":"))
    out.setdefault("mediatype", 1 if out.get("main_cat") in (14, "14") else 2)
    out.setdefault("bookmarked", None)
    out.setdefault("vip_expire", 0)
    return out
