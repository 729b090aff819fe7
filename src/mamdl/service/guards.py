"""Account-safety decisions, as pure functions so that every rule is tested on its own.

Each guard answers with a decision and a sentence a person understands; the service raises
`GuardRefused` with that sentence unless the user forced it. The rules follow MAM's: a download
counts as unsatisfied until seeded 72 h and the class caps unsatisfied torrents. Whether a torrent
may stop seeding is decided from MAM's per-torrent list, in `mamdl.service.safety`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamdl.mam.models import SearchResult, SnatchSummary, UserInfo, format_size


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def unsatisfied_room(
    summary: SnatchSummary | None, *, pending: int, reserve: int, already_snatched: bool = False
) -> Decision:
    """May one more download start without pushing the account over its unsatisfied cap?

    `pending` counts downloads started since MAM's numbers were read (MAM doesn't count them yet).
    Re-downloading a torrent MAM already counts as snatched adds no new unsatisfied entry."""
    if summary is None or summary.unsat_limit <= 0:
        return Decision(
            False,
            "MAM's answer had no snatch summary (unsatisfied count and limit), so the limit cannot be checked; "
            "refusing (override with --force).",
        )
    current = summary.unsatisfied + pending
    after = current + (0 if already_snatched else 1)
    ceiling = summary.unsat_limit - reserve
    if after > ceiling:
        return Decision(
            False,
            f"MAM counts {summary.unsatisfied} unsatisfied torrent(s)"
            + (f" plus {pending} started since" if pending else "")
            + f"; your limit is {summary.unsat_limit} and mamdl keeps {reserve} in reserve, so at most "
            f"{max(ceiling, 0)}. This download would make {after}. Seed what you have to 72 h first "
            "(or override with --force).",
        )
    return Decision(True, f"{after} of {summary.unsat_limit} unsatisfied after this download (reserve {reserve}).")


def wedge_decision(
    mode: str,
    result: SearchResult | None,
    user: UserInfo | None,
    *,
    min_bytes: int,
    already_wedged: bool,
) -> Decision:
    """Whether to spend a freeleech wedge (`&fl`) on this download, and why."""
    if mode == "never":
        return Decision(False, "wedges are off (--wedge never).")
    if already_wedged:
        return Decision(False, "a wedge was already spent on this torrent; never twice.")
    if result is None:
        return Decision(False, "MAM's search did not return this torrent, so whether it is already free is unknown.")
    vip = bool(user and user.is_vip)
    if result.free:
        return Decision(False, "the torrent is already freeleech.")
    if result.personal_freeleech:
        return Decision(False, "the torrent is already personal freeleech for you.")
    if vip and result.fl_vip:
        return Decision(False, "the torrent is VIP-freeleech and you are VIP.")
    if user is not None and user.wedges <= 0:
        return Decision(False, "you have no wedges left.")
    if mode == "auto" and result.size_bytes < min_bytes:
        return Decision(
            False,
            f"{format_size(result.size_bytes)} is below the {format_size(min_bytes)} threshold for --wedge auto.",
        )
    left = f"; {user.wedges - 1} left after this" if user is not None else ""
    return Decision(True, f"spending a wedge ({mode}): {format_size(result.size_bytes)}, not free{left}.")
