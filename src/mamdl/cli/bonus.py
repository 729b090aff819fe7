"""`mam bonus`: points, wedges, VIP, what they buy and MAM's history; `mam bonus upload|vip` to spend.

Spending asks first (cost, balance after) and is refused without a terminal unless `--yes`: a
script that buys by accident cannot take the points back.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mamdl.cli import app
from mamdl.cli.common import console, emit_json, handle_errors, make_service
from mamdl.cli.text import safe

bonus_app = typer.Typer(
    help="Bonus points: balance, what they buy, MAM's history; spend on upload credit or VIP.",
    invoke_without_command=True,
)
app.add_typer(bonus_app, name="bonus")

YES = typer.Option("--yes", "-y", help="Spend without asking (needed without a terminal).")


@bonus_app.callback()
@handle_errors
def bonus_cmd(
    ctx: typer.Context,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask MAM now instead of using the 24 h cache.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Points, wedges and VIP now, what they can buy, and MAM's bonus history.

    Examples: mam bonus · mam bonus --refresh --json
    """
    if ctx.invoked_subcommand is not None:
        return
    with make_service() as svc:
        st = svc.bonus_status(refresh=refresh)
    if as_json:
        emit_json(st)
        return
    from rich.table import Table

    out = console()
    t = Table(show_header=False, box=None)
    vip = "no"
    if st.vip_until:
        vip = st.vip_until + (f" ({st.vip_days_left:g} days left)" if st.vip_days_left is not None else "")
    for k, v in [
        ("Bonus points", f"{st.points:,.0f}"),
        ("Reserve", f"{st.reserve:,.0f} (bonus_reserve; purchases never go below it)"),
        ("Spendable", f"{st.spendable:,.0f}"),
        ("Wedges", str(st.wedges)),
        ("VIP until", vip),
        ("Data", f"cached, {st.age_seconds:.0f}s old" if st.cached else "fresh from MAM"),
    ]:
        t.add_row(f"[bold]{k}[/]", v)
    out.print(t)
    opts = Table(title="What the points buy (through MAM's API)", header_style="bold")
    for col in ("buy", "cost", "", "command"):
        opts.add_column(col)
    for o in st.options:
        cmd = f"mam bonus {o.kind} {o.amount}"
        opts.add_row(o.label, f"{o.cost:,}", "[green]yes[/]" if o.affordable else "[dim]no[/]", cmd)
    out.print(opts)
    if st.history:
        hist = Table(title=f"History (MAM's, {st.summary.entries} entries)", header_style="bold")
        for col in ("when (UTC)", "type", "points", "about"):
            hist.add_column(col)
        for h in st.history:
            about = h.title or h.other_name
            hist.add_row(safe(h.when), safe(h.type), f"{h.amount:+,.0f}", safe(about))  # MAM's text, inert
        out.print(hist)
    auto = st.automation
    rules = []
    if auto["upload"]:
        rules.append(
            f"upload {auto['upload_gb']} GB when ratio < {auto['upload_below_ratio']} "
            f"and points > {auto['upload_above_points']:,.0f}"
        )
    if auto["vip"]:
        rules.append(f"renew VIP ({auto['vip_weeks']} weeks) within {auto['vip_within_days']:g} days of its end")
    out.print(
        "Automation: "
        + (("; ".join(rules) + f" (at most {auto['daily_cap']} a day)") if rules else "off (see README: Bonus points)")
    )


@bonus_app.command("upload")
@handle_errors
def upload_cmd(
    gb: Annotated[str, typer.Argument(help="GB of upload credit: 50 or 100 (what MAM's API accepts).")],
    yes: Annotated[bool, YES] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Buy upload credit with bonus points (500 points per GB).

    Example: mam bonus upload 50
    """
    _buy("upload", gb, yes=yes, as_json=as_json)


@bonus_app.command("vip")
@handle_errors
def vip_cmd(
    weeks: Annotated[str, typer.Argument(help="Whole weeks (at least 1), or 'max' (VIP up to ~90 days ahead).")],
    yes: Annotated[bool, YES] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Buy VIP with bonus points (1,250 points per week).

    Examples: mam bonus vip 4 · mam bonus vip max --yes
    """
    _buy("vip", weeks, yes=yes, as_json=as_json)


def _buy(kind: str, amount: str, *, yes: bool, as_json: bool) -> None:
    from mamdl.errors import GuardRefused
    from mamdl.service.bonus import normalise

    normalise(kind, amount)  # a bad amount is refused before anything is asked of MAM
    if not yes and not sys.stdin.isatty():
        raise GuardRefused("Not spending bonus points without a terminal to confirm in: add --yes.")
    with make_service() as svc:
        dry = svc.bonus_buy(kind, amount, confirm=False)
        q = dry.quote
        err = console(stderr=as_json)
        err.print(
            f"{q.description}: costs {q.cost:,} points; balance {q.balance:,.0f} -> {q.balance_after:,.0f} "
            f"(reserve {q.reserve:,.0f})."
        )
        if not yes and not typer.confirm("Spend them?", default=False, err=as_json):
            err.print("Nothing bought.")
            raise typer.Exit(1)
        done = svc.bonus_buy(kind, amount, confirm=True, quoted=q)
    if as_json:
        emit_json(done)
        return
    out = console()
    out.print(f"[green]{safe(done.message)}[/]")
    if done.balance_after is not None:
        out.print(f"Bonus points now {done.balance_after:,.0f}.")
    if done.uploaded_bytes is not None:
        from mamdl.mam.models import format_size

        ratio = "" if done.ratio is None else f", ratio {done.ratio:.2f}"
        out.print(f"Uploaded now {format_size(done.uploaded_bytes)}{ratio}.")
    if done.vip_until:
        out.print(f"VIP until {done.vip_until}.")
