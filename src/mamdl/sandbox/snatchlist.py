"""`/json/loadUserDetailsTorrents.php` in the sandbox: the user's per-torrent snatch lists.

Each row is computed from the sandbox tracker's accounting (`AccountState.classify`, the same rule
that counts the snatch summary), in MAM's shape (mam-api.md): numbers as strings, like MAM's
per-user lists; `STG` as `"1d 12:10:28"` and left out once nothing is left; paging by `iteration`
with `PAGE_SIZE` rows, except `unsat`, which comes back whole in one page (then an empty page).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from mamdl.sandbox.catalogue import Catalogue
from mamdl.sandbox.state import AccountState

PAGE_SIZE = 25
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


def format_stg(seconds: float) -> str:
    """Seconds to go, rounded up (never "00:00:00" while some seeding is still owed)."""
    s = max(math.ceil(seconds), 0)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{days}d " if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"


def rows_for(
    state: AccountState,
    catalogue: Catalogue,
    sizes: dict[int, int],
    bucket: str,
    dl_for: Callable[[int], str],
    now: float | None = None,
) -> list[dict[str, Any]]:
    """Every row of `bucket` for the sandbox user, oldest snatch first."""
    now = time.time() if now is None else now
    account = state.user
    timing = state.timing
    out = []
    with state.lock:
        snatches = sorted((s for s in state.snatches.values() if s.uid == account.uid), key=lambda s: s.started)
        for s in snatches:
            where, unsatisfied = state.classify(s, now)
            if not (where == bucket or (bucket == "unsat" and unsatisfied)):
                continue
            entry = catalogue.get(s.tid)
            seeded = s.seeded_until(now, timing.inactive_seconds)
            size = sizes.get(s.tid, 0)
            row: dict[str, Any] = {
                "id": str(s.tid),
                "title": entry.title if entry else str(s.tid),
                "category": str(entry.category) if entry else "0",
                "catname": entry.row.get("catname", "") if entry else "",
                "size": str(size),
                "tags": entry.row.get("tags", "") if entry else "",
                "free": "1" if entry and entry.row.get("free") in (1, "1", True) else "0",
                "vip": "0",
                "personalFree": "1" if s.tid in account.personal_freeleech else "0",
                "uploaded": str(s.uploaded),
                "downloaded": str(s.downloaded),
                "seedtime": str(int(seeded)),
                "leechtime": str(int(max(0.0, s.last_announce - s.started))) if s.left != 0 else "0",
                "finished": "1" if s.completed else "0",
                "complete_unix": str(int(s.started)) if s.completed else "0",
                "start_unix": str(int(s.started)),
                "last_action_unix": str(int(s.last_announce)),
                "last_seed": str(int(s.last_announce)) if s.left == 0 else "0",
                "percentDone": "100" if s.left == 0 else "0",
                "to_go": "0" if s.left == 0 else str(max(s.left, 0)),
                "seeders": str(entry.seeders) if entry else "0",
                "leechers": "0",
                "dl": dl_for(s.tid),
                "author": [{"id": i, "name": n} for i, n in enumerate(entry.authors if entry else [], 1)],
                "narrator": [{"id": i, "name": n} for i, n in enumerate(entry.narrators if entry else [], 1)],
                "series": [],
            }
            left = timing.satisfy_seconds - seeded
            if left > 0 and unsatisfied:
                row["STG"] = format_stg(left)
            out.append(row)
    return out


def page(
    state: AccountState,
    catalogue: Catalogue,
    sizes: dict[int, int],
    bucket: str,
    iteration: int,
    dl_for: Callable[[int], str],
) -> dict[str, Any]:
    """One page of a list, as MAM answers it."""
    if bucket not in BUCKETS:
        return {"rows": [], "success": False, "error": f"Invalid type {bucket}"}
    rows = rows_for(state, catalogue, sizes, bucket, dl_for)
    if bucket == "unsat":
        return {"rows": rows if iteration == 0 else [], "success": True}
    start = iteration * PAGE_SIZE
    return {"rows": rows[start : start + PAGE_SIZE], "success": True}
