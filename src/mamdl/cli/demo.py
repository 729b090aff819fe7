"""`mam demo`: the whole job, offline, against the sandbox, in well under a minute.

It is the same code path a user runs (service -> client -> sandbox over HTTP, engine -> sandbox
tracker and seeder over loopback), only with MAM's 72-hour seeding rule compressed to seconds so
that the tour ends. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

DEMO_TITLE = "the hobit"  # title and author mistyped on purpose: MAM finds nothing as typed,
DEMO_AUTHOR = "tolkein"  # broadening has to find "The Hobbit" (by J.R.R. Tolkien) within 4 searches
DEMO_SEED_SECONDS = 8


def run_demo(*, home: Path | None = None, title: str = DEMO_TITLE, author: str = DEMO_AUTHOR) -> int:
    from rich.console import Console

    from mamdl.sandbox import Sandbox

    out = Console(highlight=False)
    home = Path(home or tempfile.mkdtemp(prefix="mamdl-demo-"))
    out.rule("[bold]mamdl demo[/] (offline: a MAM look-alike on 127.0.0.1)")
    t_start = time.monotonic()
    with Sandbox(
        data_dir=home / "sandbox",
        leecher=True,
        announce_interval=1,
        satisfy_seconds=DEMO_SEED_SECONDS,
    ) as sb:
        os.environ.update(
            MAMDL_HOME=str(home),
            MAM_BASE_URL=sb.base_url,
            MAM_ID=sb.mam_id,
            MAMDL_SNATCH_REFRESH_SECONDS="2",
        )
        out.print(f"Sandbox at {sb.base_url}; state in {home}")
        from mamdl.cli.tables import results_table
        from mamdl.config import load_settings
        from mamdl.redact import setup_logging
        from mamdl.service import SearchSpec, Service
        from mamdl.service.follow import seed_loop

        settings = load_settings()
        setup_logging(settings.paths.logs_dir / "mamdl.log")
        with Service(settings) as svc:
            svc.foreground = True  # the tour is self-contained: it ends, and nothing keeps running
            out.print(f"\n[bold]1. Search[/] title={title!r} author={author!r} (typos on purpose)")
            outcome = svc.search(SearchSpec(title=title, author=author), limit=5)
            out.print(results_table(outcome.rows, width=out.width))
            out.print(
                f"Queries sent: {', '.join(repr(q.text) for q in outcome.queries_sent)} "
                f"({outcome.requests} request(s), paced at {svc.settings.min_interval:g}/s); "
                f"confidence {outcome.confidence:.0%}"
            )
            if not outcome.rows or not outcome.confident:
                out.print("[red]The demo expected a confident match.[/]")
                return 1
            best = outcome.rows[0]
            out.print(f"\n[bold]2. Pick[/] the best match: {best.title} — {', '.join(best.authors)} (id {best.id})")

            out.print("\n[bold]3. Fetch and download[/]")
            goal = svc.default_goal(ratio=1.0, seed_hours=DEMO_SEED_SECONDS / 3600)
            # force: the sandbox's "72 h" is DEMO_SEED_SECONDS, below the real floor the guard keeps.
            got = svc.get(best.id, download=True, goal=goal, force=True)
            out.print(f"Saved {got.fetch.path}")
            assert got.info_hash is not None  # download=True always starts one
            t0 = time.monotonic()
            status = _follow(svc, got.info_hash, out)
            took = time.monotonic() - t0
            if status.state == "error":
                return 1

            out.print("\n[bold]4. Verify[/] every file against the sandbox's originals")
            ok = _verify(Path(status.save_path), sb.payload_files(best.id), out)

            out.print(f"\n[bold]5. Seed[/] to ratio 1.0 (MAM's 72 h compressed to {DEMO_SEED_SECONDS} s)")
            _seed(svc, got.info_hash, out, seed_loop)
            final = svc.status(got.info_hash)[0]
            user = svc.user(refresh=True)

        out.rule("[bold]Summary")
        rate = final.total_size / took / 1024**2 if took > 0 else 0
        out.print(
            f"Book:        {best.title} ({final.total_size / 1024**2:.1f} MiB, {len(sb.payload_files(best.id))} files)"
        )
        out.print(f"Download:    {took:.1f} s ({rate:.1f} MiB/s), files verified: {'yes' if ok else 'NO'}")
        out.print(
            f"Seeding:     uploaded {final.uploaded / 1024**2:.1f} MiB, ratio {final.ratio:.2f}, state {final.state}"
        )
        out.print(
            f"Account:     tracker counted {user.uploaded} up / {user.downloaded} down; "
            f"unsatisfied {user.unsatisfied} of {user.unsatisfied_limit}"
        )
        out.print(f"Total time:  {time.monotonic() - t_start:.1f} s")
        return 0 if ok and final.ratio >= 1.0 else 1


def _follow(svc, info_hash: str, out):
    """The download with a live progress bar (rendering here; following is the service's)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from mamdl.service.follow import follow_download

    first = svc.status(info_hash)[0]
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        console=out,
    ) as progress:
        task = progress.add_task((first.title or first.name)[:40], total=first.total_size or None)
        status = follow_download(
            svc, info_hash, lambda st: progress.update(task, completed=int(st.progress * st.total_size))
        )
    if status.state == "error":
        out.print(f"[red]Stopped:[/] {status.error}")
    else:
        out.print(f"[green]Complete and verified[/]: {status.save_path}")
    return status


def _seed(svc, info_hash: str, out, seed_loop) -> None:
    """Seed to the (compressed) goals; this process owns the engine, so the policy runs here."""
    from rich.live import Live

    from mamdl.cli.tables import status_table

    with Live(console=out, refresh_per_second=4, transient=False) as live:
        seed_loop(svc, lambda rows, notes: live.update(status_table(rows, notes=notes)), only=[info_hash], interval=0.5)
    out.print()
    out.print("Every seeding goal is met (and MAM agrees).")


def _verify(save_path: Path, originals, out) -> bool:
    ok = True
    for entry in originals:
        rel, digest = entry.relpath, entry.sha256
        got = save_path / rel
        actual = hashlib.sha256(got.read_bytes()).hexdigest() if got.exists() else None
        good = actual == digest
        ok &= good
        out.print(f"  {'[green]ok[/]' if good else '[red]MISMATCH[/]'}  {rel}")
    return ok
