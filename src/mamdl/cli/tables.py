"""Rich tables shared by commands (search results, torrent status), decided by the terminal width.

Every cell is one line that ends in "…" when too long, so a row never takes more lines than it
has things to say (at most three): a cell split mid-word (`Narrato`/`rs`) or a size split from its
unit is worse than a shortened title. Narrow terminals (under 110 columns) fold secondary facts
into labelled lines under the title instead of keeping a column each. Everything that comes from
MAM or a `.torrent` goes through `inert()` (see `mamdl.cli.text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamdl.cli.render import count, peers_text, rates_text, size, state_word
from mamdl.cli.text import inert
from mamdl.service.models import ResultRow, TorrentStatus

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table
    from rich.text import Text

WIDE = 110
"""From this many columns up, authors, narrators and language get columns of their own."""
STATUS_WIDE = 150
"""The status table gives state, rates and peers columns of their own only from here up; below,
they are labelled lines under the title (the title stays readable at 120 columns)."""
HASH_CHARS = 8
"""The info-hash prefix shown: long enough to be unique in practice and accepted by pause/remove."""


def marks(row: ResultRow) -> list[tuple[str, str]]:
    """(label, style) for the flags worth seeing while choosing."""
    out = []
    if row.freeleech or row.personal_freeleech:
        out.append(("freeleech" if row.freeleech else "personal FL", "green"))
    if row.vip:
        out.append(("VIP", "magenta"))
    if row.snatched:
        out.append(("snatched", "yellow"))
    return out


def format_cell(row: ResultRow, *, wide: bool = True) -> str:
    """`audio m4b`, `ebook epub mobi` (wide) or `ebook epub+2` (narrow)."""
    kind = {"audiobook": "audio", "ebook": "ebook"}.get(row.format, row.format)
    types = row.filetypes if wide or len(row.filetypes) < 2 else [f"{row.filetypes[0]}+{len(row.filetypes) - 1}"]
    return inert(f"{kind} {' '.join(types)}".strip())


def _names(names: list[str], most: int = 2) -> str:
    return ", ".join(names[:most]) + (f" +{len(names) - most}" if len(names) > most else "")


def _series(row: ResultRow) -> str:
    if not row.series:
        return ""
    s = row.series[0]
    return "Series: " + s.name + (f" #{s.number}" if s.number else "")


def _line(text: Text) -> Text:
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def _title_cell(row: ResultRow, *, wide: bool) -> Text:
    from rich.text import Text

    t = Text(inert(row.title), style="bold")
    if not wide:
        who = "by " + (inert(_names(row.authors)) or "unknown author")
        if row.narrators:
            who += " · read by " + inert(_names(row.narrators, 1))
        t.append("\n" + who, style="")
    extra: list[tuple[str, str]] = []
    if row.series:
        extra.append((inert(_series(row)), "dim"))
    if not wide and row.language:
        extra.append(("Lang " + inert(row.language), "dim"))
    extra.extend(marks(row))
    if extra:
        t.append("\n")
        for i, (label, style) in enumerate(extra):
            if i:
                t.append(" · ", style="dim")
            t.append(label, style=style)
    return _line(t)


def _table(width: int | None = None) -> Table:
    from rich import box
    from rich.table import Table

    return Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold", padding=(0, 1), width=width)


def results_table(rows: list[ResultRow], *, offset: int = 0, title: str | None = None, width: int = 80) -> Table:
    """The search results for a terminal `width` columns wide; rows are numbered from `offset + 1`."""
    from rich.text import Text

    wide = width >= WIDE
    table = _table()
    table.title = title
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Title", ratio=3, min_width=16, no_wrap=True, overflow="ellipsis")
    if wide:
        table.add_column("Author", ratio=2, max_width=28, no_wrap=True, overflow="ellipsis")
        if any(r.narrators for r in rows):
            table.add_column("Narrator", ratio=2, max_width=22, no_wrap=True, overflow="ellipsis")
    table.add_column("Format", max_width=12, no_wrap=True, overflow="ellipsis")
    if wide:
        table.add_column("Lang", no_wrap=True, max_width=5, overflow="ellipsis")
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Seeds", justify="right", no_wrap=True)
    table.add_column("ID", justify="right", no_wrap=True)
    table.expand = True
    table.width = width
    has_narrators = any(r.narrators for r in rows)
    for i, row in enumerate(rows, start=offset + 1):
        cells: list[RenderableType] = [str(i), _title_cell(row, wide=wide)]
        if wide:
            cells.append(_line(Text(inert(_names(row.authors)))))
            if has_narrators:
                cells.append(_line(Text(inert(_names(row.narrators)))))
        cells.append(_line(Text(format_cell(row, wide=wide))))
        if wide:
            cells.append(Text(inert(row.language)))
        cells += [size(row.size_bytes), str(row.seeders), str(row.id)]
        table.add_row(*cells)
    return table


def _hours(seconds: int) -> str:
    """Hours with one decimal from an hour up (`72.0`); below, minutes (`36s` → `0.6m`), so a short
    goal does not read as `0.0/0.0`."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.1f}m"


def _goal(done: bool) -> str:
    return " ✓" if done else ""


def status_table(
    rows: list[TorrentStatus],
    *,
    notes: dict[str, str] | None = None,
    engine_running: bool = True,
    width: int = 80,
) -> RenderableType:
    """Progress toward each goal: the table of `mam status` and `mam seed`.

    `engine_running` False (no process drives libtorrent) shows active-looking states as
    "stopped — no engine" and no rates: the figures are as last saved."""
    from rich.text import Text

    wide = width >= STATUS_WIDE
    show_mam = any(r.mam_satisfied is not None or r.hnr_risk for r in rows)
    table = _table()
    table.add_column("Hash", no_wrap=True)
    table.add_column("Title", ratio=1, min_width=30 if wide else 14, no_wrap=True, overflow="ellipsis")
    if wide:
        table.add_column("State", no_wrap=True, overflow="ellipsis", max_width=22)
        table.add_column("Done", justify="right", no_wrap=True)
        table.add_column("Down / Up", no_wrap=True)
        table.add_column("Peers", no_wrap=True)
    table.add_column("Ratio/goal", justify="right", no_wrap=True)
    table.add_column("Seeded/goal", justify="right", no_wrap=True)
    if show_mam:
        table.add_column("MAM", no_wrap=True)
    table.expand = True
    table.width = width
    for r in rows:
        word = state_word(r, engine_running=engine_running)
        live = engine_running and r.state in ("downloading", "seeding", "queued", "checking")
        title = Text(inert(r.title or r.name), style="bold")
        if not wide:
            detail = f"{word} · {r.progress:.0%}"
            if live:
                detail += " · " + peers_text(r)
            title.append("\n" + detail, style="red" if r.state == "error" else "")
        problem = None
        if r.error:
            problem = ("error: " + inert(r.error), "red")
        elif r.tracker_error and engine_running:
            problem = ("tracker: " + inert(r.tracker_error), "yellow")
        if problem:
            title.append("\n" + problem[0], style=problem[1])
        elif not wide and live:
            title.append("\n" + rates_text(r, engine_running=engine_running), style="dim")
        cells: list[RenderableType] = [r.info_hash[:HASH_CHARS], _line(title)]
        if wide:
            cells += [
                Text(word, style="red" if r.state == "error" else ""),
                f"{r.progress:.0%}",
                rates_text(r, engine_running=engine_running),
                peers_text(r) if live else "—",
            ]
        ratio_met = r.ratio >= r.ratio_goal
        time_met = r.seeding_seconds >= r.seed_seconds_goal
        cells += [
            f"{r.ratio:.2f}/{r.ratio_goal:.2f}{_goal(ratio_met)}",
            f"{_hours(r.seeding_seconds)}/{_hours(r.seed_seconds_goal)}{_goal(time_met)}",
        ]
        if show_mam:
            mam = {True: "[green]satisfied[/]", False: "[yellow]not yet[/]", None: ""}[r.mam_satisfied]
            if r.mam_seed_time_to_go:
                mam += f"\n{_hours(r.mam_seed_time_to_go)} to go"
            if r.hnr_risk:
                mam += ("\n" if mam else "") + "[bold red]H&R risk[/]"
            cells.append(mam)
        table.add_row(*cells)
    if not notes:
        return table
    from rich.console import Group

    lines = [
        _line(Text(f"{h[:HASH_CHARS]}: {inert(why)}", style="dim"))
        for h, why in notes.items()
        if any(r.info_hash == h for r in rows)
    ]
    return Group(table, *lines)


def summary(rows: list[TorrentStatus]) -> str:
    """`3 torrents: 1 downloading, 2 seeding`."""
    from collections import Counter

    c = Counter(r.state for r in rows)
    parts = ", ".join(f"{n} {state}" for state, n in sorted(c.items()))
    return f"{count(len(rows), 'torrent')}: {parts}" if rows else "no torrents"
