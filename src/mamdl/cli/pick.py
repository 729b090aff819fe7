"""The interactive picker: a page of ten results, choose by number, `n` next, `p` previous, `q` quit."""

from __future__ import annotations

from mamdl.cli.tables import results_table
from mamdl.service.models import ResultRow

PAGE = 10


def pick_row(rows: list[ResultRow], out, *, input_fn=input) -> ResultRow | None:
    """Returns the chosen row, or None when the person quits (or input ends)."""
    page = 0
    pages = max(1, (len(rows) + PAGE - 1) // PAGE)
    while True:
        start = page * PAGE
        out.print(results_table(rows[start : start + PAGE], offset=start, title=f"Page {page + 1}/{pages}"))
        hint = (
            "number to choose"
            + (", n next" if page + 1 < pages else "")
            + (", p previous" if page else "")
            + ", q quit"
        )
        out.print(f"[bold]Choose[/] ({hint}): ", end="")
        try:
            answer = input_fn().strip().lower()
        except EOFError:
            return None
        if answer in ("q", "quit", ""):
            return None
        if answer == "n" and page + 1 < pages:
            page += 1
            continue
        if answer == "p" and page > 0:
            page -= 1
            continue
        if answer.isdigit() and 1 <= int(answer) <= len(rows):
            return rows[int(answer) - 1]
        out.print(f"[red]'{answer}' is not a choice.[/]")
