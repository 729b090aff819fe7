"""Rich tables shared by commands (search results, torrent status)."""

from __future__ import annotations

from mamdl.service.models import ResultRow, TorrentStatus


def marks(row: ResultRow) -> str:
    out = []
    if row.freeleech or row.personal_freeleech:
        out.append("[green]FL[/]")
    if row.vip:
        out.append("[magenta]VIP[/]")
    if row.snatched:
        out.append("[yellow]✓snatched[/]")
    return " ".join(out)


def results_table(rows: list[ResultRow], *, offset: int = 0, title: str | None = None):
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    table.add_column("#", justify="right")
    table.add_column("Title", overflow="fold", max_width=44)
    table.add_column("Authors", overflow="fold", max_width=24)
    table.add_column("Narrators", overflow="fold", max_width=18)
    table.add_column("Format")
    table.add_column("Size", justify="right")
    table.add_column("Seed", justify="right")
    table.add_column("Marks")
    table.add_column("ID", justify="right")
    for i, row in enumerate(rows, start=offset + 1):
        title_cell = escape(row.title)
        if row.series:
            s = row.series[0]
            title_cell += f"\n[dim]{escape(s.name)}{' #' + escape(s.number) if s.number else ''}[/]"
        table.add_row(
            str(i),
            title_cell,
            escape(", ".join(row.authors)),
            escape(_names(row.narrators)),
            f"{row.format} {' '.join(row.filetypes)}".strip(),
            row.size,
            str(row.seeders),
            marks(row),
            str(row.id),
        )
    return table


def _names(names: list[str], most: int = 2) -> str:
    return ", ".join(names[:most]) + (f" +{len(names) - most}" if len(names) > most else "")


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 360 else f"{seconds} s"


def status_table(rows: list[TorrentStatus], *, notes: dict[str, str] | None = None):
    """Progress toward each goal: the table of `mam status` and `mam seed`."""
    from rich.markup import escape
    from rich.table import Table

    from mamdl.mam.models import format_size

    table = Table(header_style="bold")
    for col in ("Hash", "Title", "State", "Progress", "Down/Up", "Peers", "Ratio / goal", "Seeded / goal", "MAM"):
        table.add_column(col)
    for r in rows:
        mam = {True: "[green]satisfied[/]", False: "[yellow]not yet[/]", None: ""}[r.mam_satisfied]
        state = r.state + (f"\n[red]{escape(r.error)}[/]" if r.error else "")
        table.add_row(
            r.info_hash[:8],
            escape((r.title or r.name)[:40]),
            state,
            f"{r.progress:.0%}",
            f"{format_size(r.download_rate)}/s / {format_size(r.upload_rate)}/s",
            f"{r.peers} ({r.seeds} seeds)",
            f"{r.ratio:.2f} / {r.ratio_goal:.2f}" + (" ✓" if r.ratio >= r.ratio_goal else ""),
            f"{_hours(r.seeding_seconds)} / {_hours(r.seed_seconds_goal)}"
            + (" ✓" if r.seeding_seconds >= r.seed_seconds_goal else ""),
            mam,
        )
    if not notes:
        return table
    from rich.console import Group
    from rich.text import Text

    lines = [Text(f"{h[:8]}: {why}", style="dim") for h, why in notes.items() if any(r.info_hash == h for r in rows)]
    return Group(table, *lines)
