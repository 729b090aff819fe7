"""Rich tables shared by commands (search results, torrent status)."""

from __future__ import annotations

from mamdl.service.models import ResultRow


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
            escape(", ".join(row.narrators)),
            f"{row.format} {' '.join(row.filetypes)}".strip(),
            row.size,
            str(row.seeders),
            marks(row),
            str(row.id),
        )
    return table
