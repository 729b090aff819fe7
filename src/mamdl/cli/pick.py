"""The interactive picker: a page of ten results, choose by number, `n` next, `p` previous, `q` quit.

Numbers are those printed on the page being shown (1-10 on every page), so a number can only
choose a book that is on screen. A wrong answer is answered with one line naming what is
accepted, and the question is asked again without reprinting the table.
"""

from __future__ import annotations

from collections.abc import Callable

from mamdl.cli.tables import results_table
from mamdl.service.models import ResultRow

PAGE = 10


def pick_row(rows: list[ResultRow], out, *, input_fn: Callable[[], str] = input) -> ResultRow | None:
    """Returns the chosen row, or None when the person quits (`q`) or input ends."""
    page = 0
    pages = max(1, (len(rows) + PAGE - 1) // PAGE)
    show = True
    while True:
        start = page * PAGE
        shown = rows[start : start + PAGE]
        if show:
            out.print(results_table(shown, title=f"Page {page + 1}/{pages}", width=out.width))
            show = False
        keys = [f"1-{len(shown)}" if len(shown) > 1 else "1"]
        keys += ["n next page"] if page + 1 < pages else []
        keys += ["p previous page"] if page else []
        keys += ["q quit"]
        out.print(f"[bold]Choose[/] ({', '.join(keys)}): ", end="")
        try:
            answer = input_fn().strip().lower()
        except EOFError:
            out.print()
            return None
        if answer in ("q", "quit"):
            return None
        if answer == "n" and page + 1 < pages:
            page, show = page + 1, True
            continue
        if answer == "p" and page > 0:
            page, show = page - 1, True
            continue
        if answer.isdigit() and 1 <= int(answer) <= len(shown):
            return shown[int(answer) - 1]
        from mamdl.cli.text import safe

        what = f"'{safe(answer[:20])}' is not a choice" if answer else "Nothing typed"
        out.print(f"[yellow]{what}:[/] type a number from {keys[0]} (page {page + 1}), " + ", ".join(keys[1:]) + ".")
