"""What reaches the terminal: tables that fit 80 and 120 columns, a progress line that fits,
state words that tell the truth, and outside text (titles, authors, file names) printed inert."""

from __future__ import annotations

import json
import os
import re
from importlib import resources

import pytest
from rich.console import Console

from mamdl.cli.render import progress_line, state_word
from mamdl.cli.tables import results_table, status_table
from mamdl.cli.text import inert, safe
from mamdl.mam.models import SearchResult
from mamdl.service.models import ResultRow, TorrentStatus
from tests.cli.conftest import MAM

HOSTILE = [
    "\x1b]0;pwned window title\x07",  # OSC 0: window title
    "\x1b[2J\x1b[H",  # clear screen, cursor home
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: write the clipboard
    "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x9b31m",  # C1 CSI
    "[link=http://evil.example/]click me[/link]",  # Rich markup link
    "[bold red]/etc/passwd[/]",  # Rich markup style
]
SGR = re.compile(r"\x1b\[[0-9;]*m")


def catalogue_rows() -> list[ResultRow]:
    raw = json.loads(resources.files("mamdl.sandbox").joinpath("data/default_catalogue.json").read_text())["torrents"]
    rows = [ResultRow.build(SearchResult.model_validate(r)) for r in raw]
    return sorted(rows, key=lambda r: (-len(r.narrators), -len(r.title)))  # the widest rows first


def render(renderable, width: int, *, terminal: bool = False) -> str:
    console = Console(
        width=width, record=False, force_terminal=terminal, color_system="truecolor" if terminal else None
    )
    with console.capture() as cap:
        console.print(renderable)
    return cap.get()


def status(**kw) -> TorrentStatus:
    base = dict(
        info_hash="0123456789abcdef0123456789abcdef01234567",
        name="The Way of Kings (Unabridged) - Brandon Sanderson - read by Michael Kramer and Kate Reading",
        state="downloading",
        progress=0.42,
        download_rate=12 * 2**20,
        upload_rate=300 * 2**10,
        peers=3,
        seeds=1,
        eta_seconds=125,
        total_size=2 * 2**30,
        downloaded=2**30,
        uploaded=2**20,
        ratio=0.01,
        ratio_goal=1.0,
        seeding_seconds=0,
        seed_seconds_goal=72 * 3600,
        goal_met=False,
        save_path="/books",
    )
    return TorrentStatus(**{**base, **kw})


@pytest.mark.parametrize("width", [80, 120])
def test_results_table_fits(width):
    """Sabotage caught: `overflow="fold"` cells (the old table) or a fixed-width column set make
    lines longer than the terminal or rows of 4+ lines (99 lines for 10 rows at 80 columns)."""
    rows = catalogue_rows()[:10]
    text = render(results_table(rows, title="Page 1/3", width=width), width)
    lines = text.rstrip("\n").split("\n")
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    header = 3  # title, column names, rule
    assert len(lines) - header <= 3 * len(rows)
    for row in rows:  # every row's id is shown in full: it is what `mam get` takes
        assert str(row.id) in text
    assert "…" in text or width > 80  # at 80 columns something had to be shortened
    assert "Series: " in text and ("Lang ENG" in text or " ENG " in text)


@pytest.mark.parametrize("width", [80, 120])
def test_status_table_fits_and_keeps_a_usable_hash(width):
    """Sabotage caught: a Hash column allowed to shrink (5 characters at 80 columns, which
    `mam pause` would refuse) or cells that wrap."""
    rows = [
        status(),
        status(info_hash="f" * 40, state="seeding", progress=1.0, error=None, tracker_error="tracker said: go away"),
        status(info_hash="e" * 40, state="error", error="No space left on device " * 3),
    ]
    text = render(status_table(rows, width=width), width)
    lines = text.rstrip("\n").split("\n")
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert len(lines) - 2 <= 3 * len(rows)
    assert "01234567" in text and "ffffffff" in text
    assert "tracker: tracker said" in text  # a dead tracker is visible


@pytest.mark.parametrize("width", [50, 80, 120])
def test_progress_line_fits_one_line_with_rate_peers_and_eta(width):
    """Sabotage caught: rich's stock columns (`? 1 peers -:--:--`), or a title that pushes the
    line past the terminal width."""
    text = render(progress_line(status(peers=1, seeds=1), width=width), width)
    assert text.count("\n") == 1 and len(text.rstrip("\n")) <= width
    assert "12.0 MiB/s" in text and "1 peer " in text + " " and "ETA 2m 05s" in text
    assert "MB" not in text  # one unit family: MiB sizes, MiB/s rates


def test_state_words_tell_the_truth():
    """Sabotage caught: showing the stored state as is — `seeding` with no engine running, and
    `finished` for a torrent whose goals are not met."""
    assert state_word(status(state="seeding", progress=1.0), engine_running=False) == "stopped — no engine"
    assert state_word(status(state="finished", goal_met=False)) == "stopped, goals not met"
    assert state_word(status(state="finished", goal_met=True)) == "done, goals met"
    text = render(status_table([status(state="seeding", progress=1.0)], engine_running=False, width=120), 120)
    assert "stopped — no engine" in text and "MiB/s" not in text  # no stale rates either


@pytest.mark.parametrize("evil", HOSTILE)
def test_hostile_text_prints_inert_in_tables_and_progress(evil):
    """Sabotage caught: make `inert()` return its input (or drop `safe()`'s markup escaping):
    the ESC/OSC bytes reach the terminal, or the `[link=…]`/`[bold red]` markup is obeyed."""
    row = catalogue_rows()[0].model_copy(
        update={"title": f"Title {evil}", "authors": [f"Author {evil}"], "narrators": [f"Narr {evil}"]}
    )
    st = status(name=f"file {evil}.m4b", title=None, error=f"disk {evil}")
    for renderable in (
        results_table([row], width=250),
        status_table([st], width=250),
        progress_line(st, width=250),
        safe(f"Saved {evil}"),
    ):
        out = render(renderable, 250, terminal=True)
        residue = SGR.sub("", out)  # our own colours are the only escape sequences allowed
        assert "\x1b" not in residue and "\x07" not in residue and "\x9b" not in residue, repr(residue)
        if evil.startswith("["):
            assert evil.split("]")[0] + "]" in residue  # the markup is shown as text


def test_inert_keeps_ordinary_text():
    assert inert("Les Misérables — Tome 1 [Unabridged]") == "Les Misérables — Tome 1 [Unabridged]"
    assert inert("a\x00b\tc\nd") == "a\\x00b c d"


def _catalogue_of(tmp_path, n: int):
    raw = json.loads(resources.files("mamdl.sandbox").joinpath("data/default_catalogue.json").read_text())["torrents"]
    base = next(r for r in raw if r["title"] == "Dune")
    rows = [dict(base, id=900000 + i, title="Dune", seeders=str(500 - i)) for i in range(n)]
    cat = tmp_path / "cat.json"
    cat.write_text(json.dumps({"torrents": rows}))
    return cat


def test_pick_on_page_3_chooses_from_page_3(tmp_path, monkeypatch, isolated_home):
    """Sabotage caught: numbering across pages (`rows[int(answer) - 1]`), which made `3` on page
    3 choose #3 of page 1, a book not on screen; and reprinting the table on a wrong answer."""
    pexpect = pytest.importorskip("pexpect")
    from mamdl.sandbox import Sandbox

    with Sandbox(catalogue=_catalogue_of(tmp_path, 25), data_dir=tmp_path / "sb") as sb:
        env = dict(os.environ, MAM_BASE_URL=sb.base_url, MAM_ID=sb.mam_id, MAMDL_MIN_INTERVAL="0.02", COLUMNS="80")
        ids = [r["id"] for r in json.loads(_run_json(env))]
        assert len(ids) == 25
        child = pexpect.spawn(MAM, ["search", "-t", "dune", "--pick"], env=env, encoding="utf-8", timeout=60)
        child.expect(r"Choose(?:\x1b\[[0-9;]*m)* \(1-10, n next page, q quit\)")
        child.sendline("n")
        child.expect("Page 2/3")
        child.expect("Choose")
        child.sendline("n")
        child.expect("Page 3/3")
        child.expect(r"Choose(?:\x1b\[[0-9;]*m)* \(1-5, p previous page, q quit\)")
        child.sendline("7")  # page 3 has 5 rows
        child.expect(r"not a choice:(?:\x1b\[[0-9;]*m)* type a number from 1-5 \(page 3\)")
        child.expect("Choose")
        assert "Page 3/3" not in child.before  # asked again without reprinting the table
        child.sendline("3")
        child.expect(r"Chosen: .*\(id (\d+)\)")
        chosen = int(child.match.group(1))
        child.expect(r"mam get \d+ --download")
        child.expect(pexpect.EOF)
    assert chosen == ids[22]


def _run_json(env) -> str:
    import subprocess

    p = subprocess.run(
        [MAM, "search", "-t", "dune", "--json", "--limit", "50"], env=env, capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_search_in_80_columns_through_the_cli(sandbox_env, mam, monkeypatch):
    """The real command at COLUMNS=80 (not a terminal): every line fits."""
    monkeypatch.setenv("COLUMNS", "80")
    p = mam("search", "-t", "dune", "--no-pick")
    assert p.returncode == 0, p.stderr
    assert all(len(line) <= 80 for line in p.stdout.splitlines())
    assert "mam get ID --download" in p.stdout


def test_hostile_catalogue_prints_inert_through_the_cli(tmp_path, mam, monkeypatch, isolated_home):
    """End to end: a catalogue entry whose title, author and series carry ESC/OSC and markup."""
    from mamdl.sandbox import Sandbox

    raw = json.loads(resources.files("mamdl.sandbox").joinpath("data/default_catalogue.json").read_text())["torrents"]
    base = next(r for r in raw if r["title"] == "Dune")
    evil = dict(
        base,
        title="Dune \x1b]52;c;ZXZpbA==\x07\x1b[2J[link=http://evil.example/]x[/link]",
        author_info=json.dumps({"1": "Frank \x1b]0;owned\x07Herbert [bold red]X[/]"}),
    )
    cat = tmp_path / "cat.json"
    cat.write_text(json.dumps({"torrents": [evil]}))
    with Sandbox(catalogue=cat, data_dir=tmp_path / "sb") as sb:
        monkeypatch.setenv("MAM_BASE_URL", sb.base_url)
        monkeypatch.setenv("MAM_ID", sb.mam_id)
        monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.02")
        monkeypatch.setenv("COLUMNS", "250")
        p = mam("search", "-t", "dune", "--no-pick")
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout and "\x07" not in p.stdout
    assert "[link=http://evil.example/]" in p.stdout and "[bold red]" in p.stdout


def test_progress_display_ends_its_line_when_not_a_terminal():
    """Sabotage caught: without the line end, the next message is glued on (`doneComplete and verified`)."""
    from mamdl.cli.render import DownloadDisplay

    console = Console(width=100, force_terminal=False)
    with console.capture() as cap:
        with DownloadDisplay(console) as d:
            d.update(status(progress=1.0, state="seeding"))
        console.print("Complete and verified")
    assert "\nComplete and verified" in cap.get()
