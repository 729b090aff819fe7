"""Account-safety decisions, as pure functions so that every rule is tested on its own.

Each guard answers with a decision and a sentence a person understands; the service raises
`GuardRefused` with that sentence unless the user forced it. The rules follow MAM's: a download
counts as unsatisfied until seeded 72 h, the class caps unsatisfied torrents, and the local seed
clock can run ahead of MAM's, so MAM's own view has the last word before anything stops seeding.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamdl.mam.models import SearchResult, SnatchSummary, UserInfo, format_size

# MAM only counts seeding time between announces; keep a margin over 72 h before trusting our clock.
LOCAL_CLOCK_MARGIN_SECONDS = 3600


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
        return Decision(True, "MAM did not report an unsatisfied limit; not checked.")
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


@dataclass(frozen=True)
class LocalSeed:
    """What the service knows locally about one torrent, for the hit-and-run check."""

    info_hash: str
    name: str
    seeding_seconds: int
    complete: bool
    goal_seconds: int
    """This torrent's own minimum seeding time (MAM's 72 h unless the user chose otherwise)."""

    def locally_satisfied(self) -> bool:
        need = self.goal_seconds + min(LOCAL_CLOCK_MARGIN_SECONDS, self.goal_seconds // 10)
        return self.complete and self.seeding_seconds >= need


def removal_decision(
    target: LocalSeed,
    others: list[LocalSeed],
    summary: SnatchSummary | None,
) -> Decision:
    """May this torrent stop seeding (or be removed) without risking a hit-and-run?

    Locally unsatisfied -> no. Locally satisfied -> ask MAM's counts: MAM reports no per-torrent
    status, so if MAM counts more unsatisfied torrents than we hold locally unsatisfied, one of the
    torrents our clock calls satisfied is not satisfied for MAM, and we cannot tell which: refuse."""
    if not target.locally_satisfied():
        need = target.goal_seconds + min(LOCAL_CLOCK_MARGIN_SECONDS, target.goal_seconds // 10)
        done = target.seeding_seconds / 3600
        return Decision(
            False,
            f"{target.name!r} has seeded {done:.1f} h of the {need / 3600:.1f} h MAM needs (the seeding "
            "goal plus a margin for MAM's announce clock); stopping now would become a hit-and-run. Use --force to "
            "override.",
        )
    if summary is None:
        return Decision(
            False, "MAM's snatch summary is unavailable, so mamdl cannot confirm MAM agrees; use --force to override."
        )
    # Undercounting here only makes the check stricter, which is the safe direction.
    locally_unsatisfied = sum(1 for t in others if t.info_hash != target.info_hash and not t.locally_satisfied())
    mam_unsatisfied = summary.unsatisfied
    if mam_unsatisfied > locally_unsatisfied:
        return Decision(
            False,
            f"MAM still counts {mam_unsatisfied} unsatisfied torrent(s) while only {locally_unsatisfied} "
            f"are unsatisfied here, so MAM may not yet count {target.name!r} as satisfied (its clock "
            "lags ours). Keep seeding a little longer, or use --force.",
        )
    return Decision(True, f"{target.name!r} is satisfied here and MAM agrees ({mam_unsatisfied} unsatisfied).")
