#!/usr/bin/env python3
"""Build the ranking dev-set catalogue: a sandbox catalogue whose rows look exactly like MAM's
search rows, made from the dev works (bench/data/ranking-dev/works.json, vendored from
/work/shared/ranking-dev; `MAMDL_RANKING_DEV=DIR` or --works picks another copy).

Every work gets editions (ebook formats, audiobook formats, sometimes another language), and the
catalogue is salted with what makes ranking hard on the real site: summaries and study guides of
the famous titles, box sets and omnibuses, namesakes (same title, another author), titles that
contain the title ("Beyond Storm Front"), series companions, more books by the same authors, and
thousands of unrelated books built from common title words. Seeders, snatches and dates are
realistic-ish and everything is deterministic (seeded RNG).

    python bench/devset_catalogue.py [--works works.json] [--out bench/data/devset_catalogue.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

DEV_DIR = Path(os.environ.get("MAMDL_RANKING_DEV") or Path(__file__).parent / "data" / "ranking-dev")
"""The dev set (works.json, queries.json), vendored so that every figure is reproducible from a clone."""
DEFAULT_WORKS = DEV_DIR / "works.json"
DEFAULT_OUT = Path(__file__).parent / "data" / "devset_catalogue.json"
SEED = 20261124

LANGUAGES = {"ENG": 1, "SPA": 4, "POL": 34, "FRE": 36, "GER": 37, "POR": 40, "ITA": 43, "RUS": 45}
EBOOK_CATS = [
    (60, "Ebooks - Fantasy"),
    (47, "Ebooks - Science Fiction"),
    (57, "Ebooks - Literary Fiction"),
    (63, "Ebooks - Mystery/Thriller"),
    (71, "Ebooks - General Non-Fiction"),
    (61, "Ebooks - Young Adult"),
]
AUDIO_CATS = [
    (41, "Audiobooks - Fantasy"),
    (42, "Audiobooks - Science Fiction"),
    (43, "Audiobooks - Literary Fiction"),
    (44, "Audiobooks - Mystery/Thriller"),
    (45, "Audiobooks - General Non-Fiction"),
    (46, "Audiobooks - Young Adult"),
]
EBOOK_TYPES = ["epub", "epub", "epub mobi", "epub azw3 mobi", "mobi", "azw3", "pdf", "epub pdf", "azw3 epub"]
AUDIO_TYPES = ["m4b", "m4b", "mp3", "mp3", "m4a", "m4b mp3"]

FIRST = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Susan",
    "Richard",
    "Jessica",
    "Joseph",
    "Sarah",
    "Thomas",
    "Karen",
    "Charles",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Steven",
    "Emily",
    "Paul",
    "Donna",
    "Andrew",
    "Michelle",
    "Joshua",
    "Carol",
    "Kenneth",
    "Amanda",
    "Kevin",
    "Melissa",
    "Brian",
    "Deborah",
    "George",
    "Stephanie",
    "Timothy",
    "Rebecca",
    "Ronald",
    "Sharon",
    "Jason",
    "Laura",
    "Edward",
    "Cynthia",
    "Jeffrey",
    "Kathleen",
    "Ryan",
    "Amy",
    "Jacob",
    "Angela",
    "Gary",
    "Shirley",
    "Nicholas",
    "Anna",
    "Eric",
    "Brenda",
    "Jonathan",
    "Pamela",
    "Stephen",
    "Emma",
    "Larry",
    "Nicole",
    "Justin",
    "Helen",
    "Scott",
    "Samantha",
    "Brandon",
    "Katherine",
    "Benjamin",
    "Christine",
    "Samuel",
    "Debra",
    "Gregory",
    "Rachel",
    "Alexander",
    "Carolyn",
    "Patrick",
    "Janet",
    "Frank",
    "Maria",
    "Raymond",
    "Olivia",
    "Jack",
    "Heather",
    "Dennis",
    "Diane",
    "Jerry",
    "Julie",
    "Tyler",
    "Joyce",
    "Aaron",
    "Victoria",
    "Henry",
    "Kelly",
    "Adam",
    "Christina",
    "Douglas",
    "Lauren",
    "Nathan",
    "Joan",
    "Peter",
    "Evelyn",
    "Zachary",
    "Judith",
    "Kyle",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jimenez",
    "Powell",
    "Jenkins",
    "Perry",
    "Russell",
    "Sullivan",
    "Bell",
    "Coleman",
    "Butler",
    "Henderson",
    "Barnes",
    "Gonzales",
    "Fisher",
    "Vasquez",
    "Simmons",
    "Romero",
    "Jordan",
    "Patterson",
    "Alexander",
    "Hamilton",
    "Graham",
    "Reynolds",
    "Griffin",
    "Wallace",
    "Moreno",
    "West",
    "Cole",
    "Hayes",
    "Bryant",
    "Herrera",
    "Gibson",
    "Ellis",
    "Tran",
    "Medina",
    "Aguilar",
    "Stevens",
    "Murray",
    "Ford",
    "Castro",
    "Marshall",
    "Owens",
    "Harrison",
    "Fernandez",
    "McDonald",
    "Woods",
    "Washington",
    "Kennedy",
    "Wells",
    "Vargas",
    "Henry",
    "Chen",
    "Freeman",
    "Webb",
    "Tucker",
    "Guzman",
    "Burns",
    "Crawford",
    "Olson",
    "Simpson",
    "Porter",
    "Hunter",
    "Gordon",
    "Mendez",
    "Silva",
    "Shaw",
    "Snyder",
    "Mason",
    "Dixon",
    "Munoz",
    "Hunt",
    "Hicks",
    "Holmes",
    "Palmer",
    "Wagner",
    "Black",
    "Robertson",
    "Boyd",
    "Rose",
    "Stone",
    "Salazar",
    "Fox",
    "Warren",
    "Mills",
    "Meyer",
    "Rice",
    "Schmidt",
    "Garza",
    "Daniels",
    "Ferguson",
    "Nichols",
    "Stephens",
    "Soto",
    "Weaver",
    "Ryan",
    "Gardner",
    "Payne",
    "Grant",
    "Dunn",
    "Kelley",
    "Spencer",
    "Hawkins",
    "Arnold",
    "Pierce",
    "Vazquez",
    "Hansen",
    "Peters",
    "Santos",
    "Hart",
    "Bradley",
    "Knight",
    "Elliott",
    "Cunningham",
    "Duncan",
    "Armstrong",
    "Hudson",
    "Carroll",
    "Lane",
    "Riley",
    "Andrews",
    "Alvarado",
    "Ray",
    "Delgado",
    "Berry",
    "Perkins",
    "Hoffman",
    "Johnston",
    "Matthews",
    "Pena",
    "Richards",
    "Contreras",
    "Willis",
    "Carpenter",
    "Lawrence",
    "Sandoval",
]
ADJ = [
    "Dark",
    "Lost",
    "Silent",
    "Broken",
    "Hidden",
    "Golden",
    "Red",
    "Black",
    "White",
    "Burning",
    "Frozen",
    "Secret",
    "Last",
    "First",
    "Eternal",
    "Forgotten",
    "Shattered",
    "Wild",
    "Crimson",
    "Silver",
    "Iron",
    "Bitter",
    "Sweet",
    "Little",
    "Great",
    "Long",
    "Small",
    "Strange",
    "Dead",
    "Deep",
    "Hollow",
    "Pale",
    "Endless",
    "Fallen",
    "Wicked",
    "Quiet",
    "Bright",
    "Savage",
    "Cold",
    "Final",
    "Royal",
    "Sacred",
    "Stolen",
    "Empty",
    "Fifth",
    "Second",
    "Blind",
    "Northern",
    "Southern",
    "Invisible",
    "Electric",
    "Subtle",
    "Harsh",
    "Angry",
    "Normal",
    "Perfect",
    "Dangerous",
]
NOUN = [
    "Time",
    "Night",
    "Storm",
    "Moon",
    "Sea",
    "Fire",
    "Shadow",
    "Kingdom",
    "Crown",
    "Heart",
    "Blood",
    "Wind",
    "River",
    "House",
    "City",
    "World",
    "Season",
    "Garden",
    "Mirror",
    "Throne",
    "Sky",
    "Star",
    "Winter",
    "Summer",
    "Dream",
    "Secret",
    "Empire",
    "Queen",
    "King",
    "Witch",
    "Dragon",
    "Wolf",
    "Ghost",
    "Light",
    "Road",
    "Door",
    "Island",
    "Mountain",
    "Forest",
    "Song",
    "War",
    "Game",
    "Children",
    "Daughter",
    "Son",
    "Wife",
    "Life",
    "Death",
    "Truth",
    "Land",
    "Sun",
    "Rain",
    "Gate",
    "Wing",
    "Flame",
    "Bone",
    "Ash",
    "Glass",
    "Thorn",
    "Rose",
    "Court",
    "Planet",
    "Code",
    "Floor",
    "Front",
    "Castle",
    "Justice",
    "Matter",
    "Lattes",
    "Legends",
    "Mistress",
    "Assassin",
    "Quest",
    "Odyssey",
    "Thief",
    "Compass",
    "Knife",
    "Wish",
    "Husbands",
    "Fires",
    "Crows",
    "Engines",
    "Dragon",
    "Lambs",
    "Sheep",
    "Apprentice",
    "Heights",
    "Expectations",
    "Cities",
    "Carol",
    "Times",
    "Demons",
    "Angels",
]
PLACE = [
    "Paris",
    "London",
    "Venice",
    "Rome",
    "Tokyo",
    "Avalon",
    "Eden",
    "Babylon",
    "Troy",
    "Atlantis",
    "Camelot",
    "Oz",
    "Narnia",
    "Mars",
    "Vienna",
]
SUMMARY_AUTHORS = [
    "SparkNotes",
    "BookRags",
    "Instaread",
    "Quick Read",
    "Book Habits",
    "SuperSummary",
    "Bright Summaries",
    "Worth Books",
    "Readtrepreneur Publishing",
    "CliffsNotes",
]
UPLOADERS = ["mousekeeper", "bookworm42", "audiophile", "tidyshelf", "lanternlight", "quietreader", "rodentia"]


def detect_language(title: str) -> str:
    """The language of a work's title (the dev works are mostly English; a few are not)."""
    t = title.lower()
    if re.search(r"[żźłąęśćń]", t):
        return "POL"
    first = t.split()[0] if t.split() else ""
    if first in ("der", "die", "das") or re.search(r"berg\b", t):
        return "GER"
    if re.search(r"\b(sous|les|mille|lieues)\b", t):
        return "FRE"
    if re.search(r"\b(sobre|cegueira)\b|ção\b", t):
        return "POR"
    if re.search(r"ciones\b|\b(el|los|las)\b", t):
        return "SPA"
    return "ENG"


def stable_id(kind: str, name: str) -> int:
    return int(hashlib.sha1(f"{kind}:{name}".encode()).hexdigest()[:6], 16) % 900000 + 1000


class Builder:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.rows: list[dict] = []
        self.start = datetime(2009, 1, 1)

    # --------------------------------------------------------------- one row

    def row(
        self,
        title: str,
        authors: list[str],
        *,
        fmt: str,
        narrators: list[str] | None = None,
        series: tuple[str, str] | None = None,
        lang: str = "ENG",
        popularity: float = 50.0,
        filetype: str | None = None,
        tags: str = "",
    ) -> None:
        rng = self.rng
        audio = fmt == "audiobook"
        cat, catname = rng.choice(AUDIO_CATS if audio else EBOOK_CATS)
        filetype = filetype or rng.choice(AUDIO_TYPES if audio else EBOOK_TYPES)
        snatches = max(0, int(popularity * rng.uniform(0.4, 1.6)))
        seeders = 0 if rng.random() < 0.08 else max(1, int(snatches / rng.uniform(8, 30)) + rng.randint(0, 3))
        size_mib = rng.uniform(120, 1400) if audio else rng.uniform(0.3, 12)
        if audio and "mp3" in filetype:
            numfiles = rng.randint(8, 60)
        else:
            numfiles = 1 if audio else len(filetype.split())
        added = self.start + timedelta(seconds=rng.randint(0, int(17.5 * 365 * 86400)))
        self.rows.append(
            {
                "title": title,
                "author_info": json.dumps({str(stable_id("a", a)): a for a in authors}),
                "narrator_info": json.dumps({str(stable_id("n", n)): n for n in narrators}) if narrators else "",
                "series_info": json.dumps({str(stable_id("s", series[0])): [series[0], series[1]]}) if series else "",
                "added": added.strftime("%Y-%m-%d %H:%M:%S"),
                "size": f"{size_mib:.2f} MiB",
                "seeders": str(seeders),
                "leechers": str(rng.randint(0, 2) if rng.random() < 0.3 else 0),
                "times_completed": str(snatches),
                "numfiles": str(numfiles),
                "comments": str(rng.randint(0, 12)),
                "main_cat": "13" if audio else "14",
                "category": str(cat),
                "catname": catname,
                "language": str(LANGUAGES[lang]),
                "lang_code": lang,
                "filetype": filetype,
                "tags": tags or catname.split(" - ")[1],
                "browseflags": "0",
                "vip": "1" if rng.random() < 0.08 else "0",
                "free": "1" if rng.random() < 0.1 else "0",
                "fl_vip": "1" if rng.random() < 0.05 else "0",
                "personal_freeleech": "1" if rng.random() < 0.02 else "0",
                "my_snatched": "1" if rng.random() < 0.05 else "0",
                "owner_name": rng.choice(UPLOADERS),
                "description": f"{title} by {', '.join(authors) or 'unknown'}.",
            }
        )

    # --------------------------------------------------------------- helpers

    def person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def random_title(self) -> str:
        rng = self.rng
        pattern = rng.randrange(8)
        if pattern == 0:
            return f"The {rng.choice(ADJ)} {rng.choice(NOUN)}"
        if pattern == 1:
            return f"{rng.choice(NOUN)} of {rng.choice(NOUN)}"
        if pattern == 2:
            return f"A {rng.choice(NOUN)} in {rng.choice(PLACE)}"
        if pattern == 3:
            return f"{rng.choice(ADJ)} {rng.choice(NOUN)}"
        if pattern == 4:
            return f"The {rng.choice(NOUN)} of {rng.choice(ADJ)} {rng.choice(NOUN)}s"
        if pattern == 5:
            return f"{rng.choice(NOUN)}"
        if pattern == 6:
            return f"{rng.choice(ADJ)} {rng.choice(NOUN)}: A Novel"
        return f"The {rng.choice(NOUN)}'s {rng.choice(NOUN)}"

    def edition_title(self, work: dict) -> str:
        """Uploaders decorate titles: series numbers, "A Novel", "(Unabridged)"."""
        rng = self.rng
        title = work["title"]
        series = work.get("series")
        roll = rng.random()
        if series and roll < 0.12:
            return f"{title} ({series['name']} #{series['number']})"
        if series and roll < 0.18:
            return f"{title}: {series['name']}, Book {series['number']}"
        if series and roll < 0.22:
            return f"{series['name']} {series['number']} - {title}"
        if roll < 0.27:
            return f"{title}: A Novel"
        return title

    def author_variant(self, name: str) -> str:
        """Now and then an uploader spells the author another way."""
        if self.rng.random() < 0.12:
            if re.search(r"\b[A-Z]\.[A-Z]\.", name):
                return re.sub(r"\b([A-Z])\.([A-Z])\.", r"\1. \2.", name)
            if re.search(r" [A-Z]\. ", name):
                return re.sub(r" [A-Z]\. ", " ", name)
        return name

    # --------------------------------------------------------------- the catalogue

    def build(self, works: list[dict]) -> list[dict]:
        rng = self.rng
        by_series: dict[tuple[str, str], list[dict]] = {}
        by_author: dict[str, list[dict]] = {}
        for work in works:
            popularity = rng.lognormvariate(5.0, 1.0)
            lang = detect_language(work["title"])
            series = (work["series"]["name"], work["series"]["number"]) if work.get("series") else None
            if work.get("series"):
                by_series.setdefault((work["series"]["name"], work["authors"][0]), []).append(work)
            by_author.setdefault(work["authors"][0], []).append(work)
            for _ in range(rng.choice([1, 2, 2, 3])):
                self.row(
                    self.edition_title(work),
                    [self.author_variant(a) for a in work["authors"]],
                    fmt="ebook",
                    series=series,
                    lang=lang,
                    popularity=popularity,
                )
            if work.get("narrators"):
                for _ in range(rng.choice([1, 1, 2])):
                    self.row(
                        self.edition_title(work),
                        work["authors"],
                        fmt="audiobook",
                        narrators=work["narrators"],
                        series=series,
                        lang=lang,
                        popularity=popularity * 0.8,
                    )
            if lang == "ENG" and rng.random() < 0.2:  # a translation uploaded under the same title
                other = rng.choice(["FRE", "GER", "SPA", "ITA"])
                self.row(
                    work["title"],
                    work["authors"] + [self.person()],
                    fmt="ebook",
                    series=series,
                    lang=other,
                    popularity=popularity * 0.1,
                )
            self.decoys(work, popularity)
        for (series_name, author), members in by_series.items():
            if len(members) >= 2:
                self.omnibus(series_name, author, members)
            if rng.random() < 0.4:
                companion = rng.choice(
                    [
                        f"The World of {series_name}",
                        f"{series_name}: The Official Companion",
                        f"The {series_name} Companion",
                    ]
                )
                who = author if rng.random() < 0.5 else self.person()
                self.row(companion, [who], fmt="ebook", popularity=rng.uniform(5, 60))
        for author in by_author:  # the rest of each author's shelf
            for _ in range(rng.randint(0, 3)):
                self.row(
                    self.random_title(),
                    [author],
                    fmt=rng.choice(["ebook", "ebook", "audiobook"]),
                    narrators=[self.person()],
                    popularity=rng.lognormvariate(3.5, 1.0),
                )
        for _ in range(3500):  # unrelated books
            self.row(
                self.random_title(),
                [self.person()],
                fmt=rng.choice(["ebook", "ebook", "audiobook"]),
                narrators=[self.person()],
                popularity=rng.lognormvariate(3.0, 1.2),
                lang="ENG" if rng.random() < 0.85 else rng.choice(["FRE", "GER", "SPA", "ITA"]),
            )
        self.rows.sort(key=lambda r: r["added"])
        for i, row in enumerate(self.rows):
            row["id"] = 100000 + i * 7 + rng.randint(0, 6)
        return [{"id": r.pop("id"), **r} for r in self.rows]

    def decoys(self, work: dict, popularity: float) -> None:
        rng = self.rng
        title, author = work["title"], work["authors"][0]
        surname = author.split()[-1]
        if rng.random() < 0.6:
            for _ in range(rng.choice([1, 1, 2])):
                template = rng.choice(
                    [
                        "Summary of {t}",
                        "Summary: {t} by {a}",
                        "SparkNotes: {t}",
                        "{t} (SparkNotes Literature Guide)",
                        "Study Guide: {t}",
                        "Analysis of {t}",
                        "{t}: A Study Guide",
                        "Workbook for {t}",
                        "{t} - Conversation Starters",
                        "CliffsNotes on {s}'s {t}",
                        "{t}: Summary & Analysis",
                        "A Reader's Guide to {t}",
                        "{t} Trivia",
                    ]
                )
                who = rng.choice(SUMMARY_AUTHORS) if rng.random() < 0.7 else self.person()
                self.row(
                    template.format(t=title, a=author, s=surname), [who], fmt="ebook", popularity=rng.uniform(1, 40)
                )
        if rng.random() < 0.35:  # a namesake
            self.row(
                title,
                [self.person()],
                fmt=rng.choice(["ebook", "audiobook"]),
                narrators=[self.person()],
                popularity=rng.uniform(2, 60),
            )
        if rng.random() < 0.4:  # a title that contains the title
            template = rng.choice(
                [
                    "{t} Rising",
                    "Beyond {t}",
                    "The {t} Legacy",
                    "Return to {t}",
                    "{t} Reborn",
                    "After {t}",
                    "{t} and Other Stories",
                    "Shadows of {t}",
                ]
            )
            self.row(
                template.format(t=title),
                [self.person()],
                fmt=rng.choice(["ebook", "audiobook"]),
                narrators=[self.person()],
                popularity=rng.uniform(2, 200),
            )

    def omnibus(self, series_name: str, author: str, members: list[dict]) -> None:
        rng = self.rng
        members = sorted(members, key=lambda w: w["series"]["number"])
        titles = ", ".join(w["title"] for w in members)
        numbers = [w["series"]["number"] for w in members]
        span = f"{numbers[0]}-{numbers[-1]}"
        for template in rng.sample(
            [
                f"{series_name} Box Set",
                f"{series_name}: {titles}",
                f"The Complete {series_name}",
                f"{series_name} Books {span}",
                f"{series_name} Omnibus",
            ],
            k=2,
        ):
            self.row(
                template,
                [author],
                fmt=rng.choice(["ebook", "audiobook"]),
                series=(series_name, span),
                popularity=rng.uniform(20, 300),
            )


def build(works: list[dict], seed: int = SEED) -> list[dict]:
    return Builder(seed).build(works)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--works", type=Path, default=DEFAULT_WORKS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    rows = build(json.loads(args.works.read_text()), args.seed)
    write(rows, args.out)
    print(f"{len(rows)} rows -> {args.out}")


def write(rows: list[dict], path: Path) -> None:
    """One row per line: compact, and diffs stay readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows)
    path.write_text('{"torrents": [\n' + lines + "\n]}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
