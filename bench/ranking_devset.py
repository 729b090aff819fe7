#!/usr/bin/env python3
"""Top-1 accuracy of search + ranking on the dev set, and requests per query.

End to end (default): starts the sandbox with the dev catalogue and runs
`mam search --title T --author A --best --json` per query. A low-confidence answer (exit 4) is a
miss. `--in-process` calls `broadened_search` + `rank` directly on the catalogue through a strict
search with MAM's semantics (fast, for iterating on the ranking).

A hit is any edition of the right work: the top row's folded title equals the expected title
(or the expected title with a subtitle/series decoration dropped) and one of its authors has
the expected surname.

`--perturbed N` replaces the dev queries with N queries made by mistyping the dev works (seeded,
`--seed`; 40% with two mistakes, see `perturbed_queries`); top-1 is then also printed per shape.
The dev set is vendored in bench/data/ranking-dev/ (`MAMDL_RANKING_DEV=DIR` reads another copy;
delete bench/data/devset_catalogue.json to rebuild the catalogue from it).

    python bench/ranking_devset.py [--in-process] [--perturbed N [--seed S]] [--queries queries.json]
                                   [--catalogue path] [-v]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from devset_catalogue import DEFAULT_WORKS, DEV_DIR  # noqa: E402

from mamdl.ranking.normalize import fold  # noqa: E402

DEFAULT_QUERIES = DEV_DIR / "queries.json"
DEFAULT_CATALOGUE = ROOT / "bench" / "data" / "devset_catalogue.json"


def _plain(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def _title_forms(title: str) -> set[str]:
    """The title and the title with bracketed or after-colon decoration dropped."""
    forms = {_plain(title)}
    forms.add(_plain(re.sub(r"\s*\([^)]*\)", "", title)))
    for sep in (":", " - "):
        if sep in title:
            head, tail = title.split(sep, 1)
            forms.add(_plain(head))
            forms.add(_plain(tail))
    return forms


def is_hit(title: str, authors: list[str], expected_title: str, expected_author: str) -> bool:
    surname = _plain(expected_author).split()[-1]
    author_ok = any(surname in _plain(a).split() for a in authors)
    return author_ok and _plain(expected_title) in _title_forms(title)


def ensure_catalogue(path: Path) -> None:
    if path.exists():
        return
    from devset_catalogue import build, write

    write(build(json.loads(DEFAULT_WORKS.read_text())), path)


class _SandboxSearch:
    """The sandbox's own search engine, called in-process (same semantics as end to end)."""

    def __init__(self, catalogue: Path) -> None:
        from mamdl.sandbox.catalogue import load_catalogue
        from mamdl.sandbox.search import SearchQuery, run_search

        self._catalogue = load_catalogue(catalogue)
        self._query, self._run = SearchQuery, run_search
        self.name = "mamdl.sandbox.search"

    def search(self, text, fields):
        from mamdl.mam.models import SearchResult

        q = self._query(text=text, fields=[f.value for f in fields], per_page=100)
        return [SearchResult.from_api(h.entry.row) for h in self._run(self._catalogue, q).hits]


def sandbox_search(catalogue: Path):
    try:
        return _SandboxSearch(catalogue)
    except ImportError:
        return None


def _tests_strict_search(catalogue: Path):
    from mamdl.mam.models import SearchResult
    from tests.ranking.strict_search import StrictSearch

    rows = json.loads(catalogue.read_text())["torrents"]
    search = StrictSearch([SearchResult.from_api(r) for r in rows])
    search.name = "tests.ranking.strict_search"
    return search


def run_in_process(queries: list[dict], catalogue: Path, verbose: bool) -> list[dict]:
    from mamdl.ranking import Prefs, Query, broadened_search

    search = sandbox_search(catalogue) or _tests_strict_search(catalogue)
    print(f"strict search: {search.name}")
    prefs = Prefs(format="any", filetypes=["epub", "azw3", "mobi", "pdf", "m4b", "mp3", "m4a"], languages=["ENG"])
    out = []
    for q in queries:
        query = Query(title=q["title_query"], author=q["author_query"])
        t0 = time.perf_counter()
        outcome = broadened_search(query, search.search, prefs=prefs)
        elapsed = time.perf_counter() - t0
        top = outcome.ranked[0] if outcome.ranked and outcome.confident else None
        out.append(
            {
                "query": q,
                "top": (top.result.title, top.result.author_names) if top else None,
                "best_guess": (outcome.ranked[0].result.title, outcome.ranked[0].result.author_names)
                if outcome.ranked
                else None,
                "confidence": outcome.confidence,
                "requests": outcome.requests,
                "queries_sent": [q_.text + " @" + ",".join(f.value for f in q_.fields) for q_ in outcome.queries],
                "seconds": elapsed,
            }
        )
    return out


def run_end_to_end(queries: list[dict], catalogue: Path, verbose: bool, interval: float) -> list[dict]:
    from mamdl.sandbox import Sandbox  # type: ignore[attr-defined]

    mam = Path(sys.executable).parent / "mam"
    cmd = [str(mam)] if mam.exists() else [sys.executable, "-m", "mamdl"]
    out = []
    with Sandbox(catalogue=catalogue, port=0) as sandbox, tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "MAM_BASE_URL": sandbox.base_url,
            "MAM_ID": sandbox.mam_id,
            "MAMDL_HOME": home,
            "MAMDL_MIN_INTERVAL": str(interval),
        }
        for q in queries:
            args = [*cmd, "search", "--title", q["title_query"]]
            if q["author_query"]:
                args += ["--author", q["author_query"]]
            args += ["--best", "--json"]
            t0 = time.perf_counter()
            proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
            elapsed = time.perf_counter() - t0
            meta: dict = {}
            for line in proc.stderr.splitlines():
                line = line.strip()
                if line.startswith("{") and "requests" in line:
                    try:
                        meta = json.loads(line)
                    except ValueError:
                        pass
            top = best_guess = None
            try:
                data = json.loads(proc.stdout) if proc.stdout.strip() else None
            except ValueError:
                data = None
            if proc.returncode == 0 and isinstance(data, list) and data:
                top = best_guess = (data[0]["title"], data[0]["authors"])
            elif isinstance(data, dict) and data.get("candidates"):
                c = data["candidates"][0]
                best_guess = (c["title"], c["authors"])
            elif proc.returncode not in (0, 4):
                print(f"  ! exit {proc.returncode}: {proc.stderr.strip()[-300:]}", file=sys.stderr)
            out.append(
                {
                    "query": q,
                    "top": top,
                    "best_guess": best_guess,
                    "confidence": meta.get("confidence", 0.0),
                    "requests": meta.get("requests", 0),
                    "queries_sent": [
                        f"{s.get('text')} @{','.join(s.get('fields', []))}" if isinstance(s, dict) else str(s)
                        for s in meta.get("queries_sent", [])
                    ],
                    "seconds": elapsed,
                }
            )
    return out


def report(results: list[dict], verbose: bool, label: str) -> float:
    hits = 0
    misses = []
    for r in results:
        q = r["query"]
        ok = r["top"] is not None and is_hit(r["top"][0], r["top"][1], q["expected_title"], q["expected_author"])
        hits += ok
        if not ok:
            misses.append(r)
        if verbose:
            mark = "ok " if ok else "MISS"
            print(
                f"{mark} {q['title_query']!r} / {q['author_query']!r} -> {r['best_guess']} "
                f"conf={r['confidence']:.2f} req={r['requests']} {r['queries_sent']}"
            )
    n = len(results)
    reqs = [r["requests"] for r in results]
    print(f"[{label}] top-1: {hits}/{n} = {hits / n:.1%}")
    print(f"[{label}] requests per query: max {max(reqs)}, mean {sum(reqs) / n:.2f}")
    print(f"[{label}] time per query: mean {sum(r['seconds'] for r in results) / n * 1000:.0f} ms")
    shapes: dict[str, list[bool]] = {}
    for r in results:
        if "shape" in r["query"]:
            shapes.setdefault(r["query"]["shape"], []).append(r not in misses)
    for shape, oks in sorted(shapes.items()):
        print(f"[{label}]   {shape:16} top-1 {sum(oks)}/{len(oks)} = {sum(oks) / len(oks):.1%}")
    for r in misses:
        q = r["query"]
        print(
            f"  miss: {q['title_query']!r} / {q['author_query']!r} expected {q['expected_title']!r} "
            f"({q['expected_author']}); got {r['best_guess']} conf={r['confidence']:.2f} "
            f"queries={r['queries_sent']}"
        )
    return hits / n


DOUBLE_SHARE = 0.4
"""Share of perturbed queries with two mistakes (issue 11: people often misspell both title and author)."""
EXTRA_WORDS = ("novel", "book")
"""Words people add to a title box that the record does not have."""


def perturbed_queries(n: int, seed: int = 7, catalogue: Path | None = None) -> list[dict]:
    """Queries made from works.json the way people mistype them, to check the method generalises
    beyond the hand-written dev queries. Deterministic for a seed.

    One mistake (60%): a typo in the longest title word, lost apostrophes or accents, "and" for
    "&", no leading article, a partial title, punctuation dropped; the author as typed, surname
    only, "Surname, First", without accents, a mistyped surname, or no author at all.

    Two mistakes (40%, `shape` says which): title and surname both mistyped; a title word dropped
    and the surname mistyped (only where the rest still names one work: not "Metro" for "Metro
    2033"); an extra word (or the series name, "Murderbot all systems red") in
    the title box and a typo in the surname or title; the author's surname typed into the title
    box with a typo. Typos keep the first letter (people rarely miss it), are a dropped, swapped,
    replaced or doubled letter, and touch words of five letters or more (as in the one-mistake
    shapes): a four-letter word with a typo keeps too little to search for.

    The author is left out only when no other author in the catalogue has a book of that title
    ("Deep Work" alone names two books there; no ranking can know which one was meant)."""
    import random
    import unicodedata

    rng = random.Random(seed)
    works = json.loads(DEFAULT_WORKS.read_text())
    authors_by_title: dict[str, set[str]] = {}
    rows = json.loads(catalogue.read_text())["torrents"] if catalogue and catalogue.exists() else []

    def key(title: str) -> str:
        return re.sub(r"^(the|a|an) ", "", _plain(title))

    for r in rows:
        names = json.loads(r["author_info"] or "{}").values() if isinstance(r["author_info"], str) else []
        for form in _title_forms(r["title"]):
            authors_by_title.setdefault(key(form), set()).update(_plain(a).split()[-1] for a in names if _plain(a))
    for w in works:
        authors_by_title.setdefault(key(w["title"]), set()).add(_plain(w["authors"][0]).split()[-1])

    def unambiguous(title: str) -> bool:
        return len(authors_by_title.get(key(title), set())) <= 1

    def distinctive(kept: list[str], work: dict) -> bool:
        """Do the kept words still name only this work ("Metro" without "2033" does not)?"""
        words_kept = set(_plain(" ".join(kept)).split())
        return not any(other is not work and words_kept <= set(_plain(other["title"]).split()) for other in works)

    def strip_accents(s: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))

    def typo(word: str) -> str:
        if len(word) < 5 or not word.isalpha():
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(4)
        if kind == 0:
            return word[:i] + word[i + 1 :]
        if kind == 1:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if kind == 2:
            return word[:i] + rng.choice([c for c in "aeiourstln" if c != word[i].lower()]) + word[i + 1 :]
        return word[:i] + word[i] + word[i:]

    def typo_longest(title: str) -> str:
        words = title.split()
        j = max(range(len(words)), key=lambda k: (len(words[k].strip("?!:,.")), rng.random()))
        words[j] = typo(words[j].strip("?!:,."))
        return " ".join(words)

    def author_with_typo(author: str) -> str:
        parts = author.split()
        surname = typo(parts[-1])
        roll = rng.random()
        if roll < 0.4 or len(parts) == 1:
            return surname
        if roll < 0.55:
            return f"{surname}, {' '.join(parts[:-1])}"
        return " ".join(parts[:-1] + [surname])

    out = []
    for _ in range(n):
        w = rng.choice(works)
        title, author = w["title"], w["authors"][0]
        words = title.split()
        if rng.random() < DOUBLE_SHARE:
            shape = rng.choice(["both", "both", "drop", "extra", "series", "author-in-title"])
            droppable = [k for k, x in enumerate(words) if len(x) > 3 and distinctive(words[:k] + words[k + 1 :], w)]
            if shape == "drop" and (len([x for x in words if len(x) > 3]) < 2 or not droppable):
                shape = "both"
            if shape == "series" and not w.get("series"):
                shape = "extra"
            if shape == "both":
                title_q, author_q = typo_longest(title), author_with_typo(author)
            elif shape == "drop":
                j = rng.choice(droppable)
                title_q, author_q = " ".join(words[:j] + words[j + 1 :]), author_with_typo(author)
            elif shape in ("extra", "series"):
                extra = w["series"]["name"] if shape == "series" else rng.choice(EXTRA_WORDS)
                title_q = f"{extra} {title}" if rng.random() < 0.5 else f"{title} {extra}"
                if rng.random() < 0.5:
                    author_q = author_with_typo(author)
                else:
                    title_q, author_q = title_q.replace(title, typo_longest(title)), author.split()[-1]
            else:
                surname = author.split()[-1]
                title_q, author_q = f"{typo_longest(title)} {typo(surname)}", ""
            title_q = re.sub(r"[?!:,.]", "", title_q)
            out.append(
                {
                    "title_query": title_q,
                    "author_query": author_q,
                    "expected_title": title,
                    "expected_author": author,
                    "shape": shape,
                }
            )
            continue
        roll = rng.random()
        if roll < 0.25 and len(words) > 0:
            title_q = typo_longest(title)
        elif roll < 0.4:
            title_q = re.sub(r"['’]", "", title)
        elif roll < 0.5:
            title_q = strip_accents(title).replace("&", "and")
        elif roll < 0.6:
            title_q = re.sub(r"^(The|A|An) ", "", title).lower()
        elif roll < 0.68 and len(words) > 2:
            title_q = " ".join(words[1:]) if words[0].lower() not in ("the", "a", "an") else " ".join(words[2:])
        else:
            title_q = re.sub(r"[?!:,.]", "", title)
        roll = rng.random()
        parts = author.split()
        if roll < 0.25 and unambiguous(title):
            author_q = ""
        elif roll < 0.45:
            author_q = parts[-1]
        elif roll < 0.55:
            author_q = f"{parts[-1]}, {' '.join(parts[:-1])}"
        elif roll < 0.65:
            author_q = strip_accents(author).replace(".", "")
        elif roll < 0.72:
            author_q = " ".join(parts[:-1] + [typo(parts[-1])])
        else:
            author_q = author
        out.append(
            {
                "title_query": title_q,
                "author_query": author_q,
                "expected_title": title,
                "expected_author": author,
                "shape": "one",
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--in-process", action="store_true", help="no sandbox/CLI: strict search in this process")
    ap.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    ap.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE)
    ap.add_argument("--interval", type=float, default=0.02, help="MAMDL_MIN_INTERVAL for the CLI")
    ap.add_argument(
        "--perturbed",
        type=int,
        default=0,
        metavar="N",
        help="instead of the dev queries, N queries made by mistyping works.json (seeded)",
    )
    ap.add_argument("--seed", type=int, default=7, help="seed for --perturbed")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    ensure_catalogue(args.catalogue)
    queries = (
        perturbed_queries(args.perturbed, args.seed, args.catalogue)
        if args.perturbed
        else json.loads(args.queries.read_text())
    )
    if args.in_process:
        report(run_in_process(queries, args.catalogue, args.verbose), args.verbose, "in-process")
    else:
        report(run_end_to_end(queries, args.catalogue, args.verbose, args.interval), args.verbose, "end-to-end")


if __name__ == "__main__":
    main()
