"""How numbers and states read in the terminal: sizes, rates, durations, peer counts, the state
word of a torrent, and the one-line download progress display.

Kept apart from the command loops so that whichever process drives a download (the CLI today, a
long-running service tomorrow) renders it the same way. One unit family everywhere: binary sizes
(KiB, MiB, GiB) and the same units per second for rates, as MAM prints sizes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamdl.cli.text import inert

if TYPE_CHECKING:
    from rich.console import RenderableType

    from mamdl.service.models import TorrentStatus

UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
ACTIVE_STATES = {"queued", "checking", "downloading", "seeding"}


def size(n: float) -> str:
    """Compact binary size: `0 B`, `512 B`, `12.3 KiB`, `870.4 MiB`, `1.21 GiB`."""
    n = float(n)
    for unit in UNITS:
        if abs(n) < 1024 or unit == UNITS[-1]:
            if unit == "B":
                return f"{n:.0f} B"
            return f"{n:.2f} {unit}" if unit in ("GiB", "TiB") else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def rate(bps: float) -> str:
    """Bytes per second in the same units as sizes."""
    return size(bps) + "/s"


def duration(seconds: float | None) -> str:
    """`45s`, `12m 05s`, `3h 07m`, `2d 4h`; `—` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def count(n: int, word: str, plural: str | None = None) -> str:
    """`1 peer`, `2 peers`, `0 peers`."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def peers_text(s: TorrentStatus) -> str:
    """Who we are connected to. While downloading, how many of them have the whole book; while
    seeding every useful peer is a downloader, so seeds are not counted."""
    if s.state == "downloading" and s.seeds:
        return f"{count(s.peers, 'peer')} ({count(s.seeds, 'seed')})"
    return count(s.peers, "peer")


def state_word(s: TorrentStatus, *, engine_running: bool = True) -> str:
    """What is really happening to this torrent, in a few words.

    The store keeps the last state the engine saw; with no engine running nothing moves, so an
    active-looking state is reported as stopped. `finished` means the policy stopped seeding: it
    says whether the goals are met (a goal raised later may no longer be)."""
    if s.state == "error":
        return "error"
    if not engine_running and s.state in ACTIVE_STATES:
        return "stopped — no engine"
    if s.state == "finished":
        return "done, goals met" if s.goal_met else "stopped, goals not met"
    if s.state == "downloading" and s.progress >= 1.0:
        return "complete"
    if s.state == "checking":
        return "checking files"
    return s.state


def rates_text(s: TorrentStatus, *, engine_running: bool = True) -> str:
    """`↓ 1.2 MiB/s ↑ 0 B/s`; no download rate once the data is complete, nothing without an engine."""
    if not engine_running or s.state not in ACTIVE_STATES:
        return "—"
    up = f"↑ {rate(s.upload_rate)}"
    if s.progress >= 1.0:
        return up
    return f"↓ {rate(s.download_rate)} {up}"


def eta_text(s: TorrentStatus) -> str:
    if s.progress >= 1.0:
        return "done"
    if s.state == "downloading" and s.eta_seconds is None:
        return "stalled" if s.peers else "waiting for peers"
    return duration(s.eta_seconds)


def progress_line(s: TorrentStatus, *, width: int) -> RenderableType:
    """One line for a running download: title, bar, percent and bytes, rate, peers, ETA.

    Fits `width` columns: the title shrinks first (ending in "…"), then the bar; below 60 columns
    the bar goes."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    total = max(s.total_size, 1)
    done = int(s.progress * s.total_size)
    percent = f"{s.progress:>4.0%}"
    amount = f"{percent} {size(done)}/{size(s.total_size)}"
    if s.state == "downloading" and s.progress < 1.0:
        speed = rate(s.download_rate)
    else:
        speed = state_word(s)
    eta = eta_text(s)
    eta = eta if eta in ("done", "stalled", "waiting for peers", "—") else f"ETA {eta}"
    peers = count(s.peers, "peer")
    # What to keep as the width shrinks: bytes go first, then the peer count; the title takes the rest.
    for parts in ([amount, speed, peers, eta], [percent, speed, peers, eta], [percent, speed, eta]):
        fixed = sum(len(p) for p in parts) + len(parts) + 1  # one space between cells
        room = width - fixed - 1
        if room >= 10:
            break
    grid = Table.grid(padding=(0, 1), expand=False)
    title = Text(inert(s.title or s.name), no_wrap=True, overflow="ellipsis")
    if room >= 24:
        title_w = max(8, min(40, room // 2))
        bar_w = max(6, min(40, room - title_w - 1))
        grid.add_column(width=title_w, no_wrap=True, overflow="ellipsis")
        grid.add_column(width=bar_w)
        cells: list[RenderableType] = [title, ProgressBar(total=total, completed=done, width=bar_w)]
    else:
        grid.add_column(width=max(4, room), no_wrap=True, overflow="ellipsis")
        cells = [title]
    for p in parts:
        grid.add_column(no_wrap=True)
        cells.append(Text(p))
    grid.add_row(*cells)
    return grid


class DownloadDisplay:
    """A live progress line (or nothing when `quiet`): `with DownloadDisplay(out) as d: d.update(st)`."""

    def __init__(self, out, *, quiet: bool = False) -> None:
        from mamdl.cli import common

        self.out = out
        self.quiet = quiet or common.VERBOSITY < 0  # `mam -q`
        self._live: Any = None

    def __enter__(self) -> DownloadDisplay:
        if not self.quiet:
            from rich.live import Live

            live = Live(console=self.out, refresh_per_second=4, transient=False, redirect_stdout=False)
            live.__enter__()
            self._live = live
        return self

    def update(self, s: TorrentStatus) -> None:
        if self._live is not None:
            self._live.update(progress_line(s, width=self.out.width), refresh=True)

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            if not self.out.is_terminal:  # Live leaves its last frame without a line end there
                self.out.line()
