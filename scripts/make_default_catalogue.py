#!/usr/bin/env python3
"""Write src/mamdl/sandbox/data/default_catalogue.json: the sandbox's built-in MAM look-alike catalogue.

Why a script: the catalogue is data, but hand-editing 80 JSON rows full of JSON-inside-JSON strings is
error-prone. Here each book is written once, compactly, and its editions (ebook, audiobook, other
languages) become rows in exactly the shape MAM's search API returns: `author_info` & co as JSON
*strings*, sizes as "350.50 MiB" strings, numbers often as strings, `added` as UTC "YYYY-MM-DD HH:MM:SS".

The output is deterministic (fixed seed), so rerunning it gives the same file byte for byte.
Run: `.venv/bin/python scripts/make_default_catalogue.py`.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "mamdl" / "sandbox" / "data" / "default_catalogue.json"

LANGS = {  # MAM's browse_lang ids
    "ENG": (1, "ENG"),
    "FRA": (36, "FRA"),
    "DEU": (37, "DEU"),
    "SPA": (4, "SPA"),
    "SWE": (40, "SWE"),
    "ITA": (43, "ITA"),
}

# MAM category ids (as listed by Prowlarr's MyAnonamouse indexer).
EBOOK_CATS = {
    "Action/Adventure": 60,
    "Biographical": 72,
    "Crime/Thriller": 62,
    "Fantasy": 63,
    "General Fiction": 64,
    "General Non-Fiction": 74,
    "Historical Fiction": 102,
    "History": 76,
    "Horror": 65,
    "Humor": 103,
    "Juvenile": 66,
    "Literary Classics": 67,
    "Mystery": 94,
    "Philosophy": 95,
    "Science Fiction": 69,
    "Self-Help": 75,
    "Young Adult": 112,
}
AUDIO_CATS = {
    "Action/Adventure": 39,
    "Biographical": 50,
    "Crime/Thriller": 40,
    "Fantasy": 41,
    "General Fiction": 42,
    "General Non-Fiction": 52,
    "Historical Fiction": 98,
    "History": 54,
    "Horror": 43,
    "Humor": 99,
    "Juvenile": 44,
    "Literary Classics": 45,
    "Mystery": 87,
    "Philosophy": 88,
    "Science Fiction": 47,
    "Self-Help": 53,
    "Young Adult": 111,
}
AUDIO_CATNAME_FIX = {"General Non-Fiction": "General Non-Fic"}

OWNERS = [
    (211457, "booklover42"),
    (98812, "aural_ghost"),
    (305561, "mousekeeper"),
    (77120, "quietreader"),
    (412009, "inkwell"),
    (150334, "tapehead"),
    (266871, "marginalia"),
    (388120, "owlet"),
]

# Each book: shared metadata + editions. Edition keys: kind (e/a), lang, title/authors overrides,
# narrators, ft (filetype), n (numfiles, audio only), mib (listed size), s/l/c (seeders, leechers,
# snatched), date, flags (free, vip, fl_vip), bf (browseflags).
BOOKS: list[dict] = [
    dict(
        title="Project Hail Mary",
        authors=["Andy Weir"],
        cat="Science Fiction",
        tags="science fiction, space, first contact, survival, humor",
        desc="A lone astronaut wakes up with no memory on a ship light-years from home, and has to work out "
        "why he is there before a dimming sun dooms Earth.",
        isbn="9780593135204",
        editions=[
            dict(kind="e", ft="epub mobi azw3", mib=3.2, s=412, l=2, c=3980, date="2021-05-04"),
            dict(
                kind="a",
                narrators=["Ray Porter"],
                ft="m4b",
                n=1,
                mib=1010.4,
                s=788,
                l=5,
                c=6120,
                date="2021-05-04",
                vip=1,
                fl_vip=1,
            ),
        ],
    ),
    dict(
        title="The Martian",
        authors=["Andy Weir"],
        cat="Science Fiction",
        tags="science fiction, mars, survival, humor",
        bf=2,
        desc="Stranded on Mars after a dust storm, a botanist-engineer has to make his supplies last until "
        "a rescue that may never come.",
        isbn="9780553418026",
        editions=[
            dict(kind="e", ft="epub", mib=1.9, s=255, l=0, c=4410, date="2014-02-11"),
            dict(kind="a", narrators=["R. C. Bray"], ft="mp3", n=18, mib=311.7, s=301, l=1, c=5012, date="2013-03-22"),
        ],
    ),
    dict(
        title="Dune",
        authors=["Frank Herbert"],
        series=[("Dune", "1")],
        cat="Science Fiction",
        tags="science fiction, desert planet, politics, ecology, classic",
        desc="Paul Atreides follows his family to the desert planet Arrakis, sole source of the spice that "
        "makes space travel possible, and into a web of betrayal.",
        isbn="9780441172719",
        editions=[
            dict(kind="e", ft="epub mobi pdf", mib=5.8, s=380, l=1, c=7020, date="2013-07-19"),
            dict(
                kind="a",
                narrators=["Scott Brick", "Orlagh Cassidy", "Euan Morton", "Simon Vance"],
                ft="m4b",
                n=2,
                mib=982.0,
                s=522,
                l=3,
                c=6611,
                date="2016-09-30",
            ),
            dict(kind="a", narrators=["George Guidall"], ft="mp3", n=36, mib=402.3, s=0, l=0, c=311, date="2012-04-02"),
            dict(
                kind="e", lang="DEU", title="Der Wüstenplanet", ft="epub", mib=2.7, s=21, l=0, c=188, date="2019-11-08"
            ),
        ],
    ),
    dict(
        title="Childhood's End",
        authors=["Arthur C. Clarke"],
        cat="Science Fiction",
        tags="science fiction, first contact, classic, evolution",
        desc="The Overlords arrive, end war and want, and never show their faces. Humanity's golden age has "
        "a price nobody expected.",
        isbn="9780345347954",
        editions=[
            dict(kind="e", ft="epub", mib=0.9, s=64, l=0, c=902, date="2015-12-01"),
            dict(
                kind="a", narrators=["Robert J. Sawyer"], ft="mp3", n=9, mib=254.9, s=37, l=0, c=540, date="2016-01-19"
            ),
        ],
    ),
    dict(
        title="The Hobbit",
        authors=["J. R. R. Tolkien"],
        series=[("Middle-earth", "0")],
        cat="Fantasy",
        tags="fantasy, dragons, adventure, classic",
        desc="Bilbo Baggins is swept out of his comfortable hole by a wizard and thirteen dwarves on a quest "
        "to reclaim a mountain and its treasure from a dragon.",
        isbn="9780547928227",
        editions=[
            dict(kind="e", ft="epub mobi", mib=4.4, s=499, l=1, c=8801, date="2012-09-21"),
            dict(kind="a", narrators=["Andy Serkis"], ft="m4b", n=1, mib=488.6, s=611, l=4, c=5220, date="2020-11-05"),
            dict(kind="a", narrators=["Rob Inglis"], ft="mp3", n=22, mib=296.1, s=74, l=0, c=2905, date="2012-08-14"),
            dict(kind="e", lang="DEU", title="Der Hobbit", ft="epub", mib=3.1, s=33, l=0, c=402, date="2017-03-02"),
        ],
    ),
    dict(
        title="The Fellowship of the Ring",
        authors=["J. R. R. Tolkien"],
        series=[("The Lord of the Rings", "1")],
        cat="Fantasy",
        tags="fantasy, epic, quest, classic",
        desc="Frodo inherits a plain gold ring that turns out to be the One Ring, and sets out with eight "
        "companions to destroy it.",
        isbn="9780547928210",
        editions=[
            dict(kind="e", ft="epub", mib=2.6, s=301, l=0, c=5330, date="2012-10-02"),
            dict(kind="a", narrators=["Rob Inglis"], ft="mp3", n=30, mib=571.2, s=140, l=1, c=3330, date="2013-01-11"),
        ],
    ),
    dict(
        title="Mistborn: The Final Empire",
        authors=["Brandon Sanderson"],
        series=[("Mistborn", "1")],
        cat="Fantasy",
        tags="fantasy, magic system, heist, rebellion",
        desc="In a world of ash and mist ruled by an immortal emperor, a street thief discovers she can burn "
        "metals for power and joins a crew planning the impossible.",
        isbn="9780765311788",
        editions=[
            dict(kind="e", ft="epub mobi", mib=2.2, s=350, l=2, c=4875, date="2014-06-17"),
            dict(
                kind="a", narrators=["Michael Kramer"], ft="m4b", n=1, mib=761.0, s=402, l=2, c=4402, date="2015-02-27"
            ),
        ],
    ),
    dict(
        title="The Way of Kings",
        authors=["Brandon Sanderson"],
        series=[("The Stormlight Archive", "1")],
        cat="Fantasy",
        tags="fantasy, epic, war, highstorms",
        desc="On a world scoured by highstorms, a slave, a scholar and a highprince are drawn into a war "
        "whose roots reach back to the fall of the Knights Radiant.",
        isbn="9780765326355",
        editions=[
            dict(kind="e", ft="epub", mib=9.7, s=297, l=1, c=3877, date="2016-10-09"),
            dict(
                kind="a",
                narrators=["Michael Kramer", "Kate Reading"],
                ft="m4b",
                n=3,
                mib=1536.4,
                s=316,
                l=3,
                c=3560,
                date="2017-05-14",
            ),
        ],
    ),
    dict(
        title="The Name of the Wind",
        authors=["Patrick Rothfuss"],
        series=[("The Kingkiller Chronicle", "1")],
        cat="Fantasy",
        tags="fantasy, magic, university, music",
        desc="Kvothe, now an innkeeper in hiding, tells the true story of how he became the most notorious "
        "wizard of his age.",
        isbn="9780756404741",
        editions=[
            dict(kind="e", ft="epub mobi", mib=3.0, s=270, l=0, c=4102, date="2013-04-25"),
            dict(kind="a", narrators=["Nick Podehl"], ft="mp3", n=28, mib=734.5, s=189, l=1, c=2894, date="2013-05-30"),
        ],
    ),
    dict(
        title="A Game of Thrones",
        authors=["George R. R. Martin"],
        series=[("A Song of Ice and Fire", "1")],
        cat="Fantasy",
        tags="fantasy, epic, politics, dragons",
        bf=2 | 4 | 16,
        desc="Noble houses scheme for the Iron Throne while an ancient threat stirs beyond the Wall.",
        isbn="9780553593716",
        editions=[
            dict(kind="e", ft="epub", mib=3.6, s=318, l=1, c=6207, date="2012-06-30"),
            dict(kind="a", narrators=["Roy Dotrice"], ft="mp3", n=40, mib=956.3, s=207, l=2, c=3987, date="2012-07-12"),
        ],
    ),
    dict(
        title="Harry Potter and the Philosopher's Stone",
        authors=["J. K. Rowling"],
        series=[("Harry Potter", "1")],
        cat="Juvenile",
        tags="fantasy, school, magic, children",
        desc="On his eleventh birthday Harry learns he is a wizard and leaves the cupboard under the stairs "
        "for Hogwarts School of Witchcraft and Wizardry.",
        isbn="9780747532699",
        editions=[
            dict(kind="e", ft="epub", mib=1.4, s=460, l=3, c=9120, date="2015-11-20"),
            dict(kind="a", narrators=["Stephen Fry"], ft="mp3", n=17, mib=263.8, s=390, l=2, c=7751, date="2015-11-21"),
            dict(
                kind="a",
                lang="FRA",
                title="Harry Potter à l'école des sorciers",
                narrators=["Bernard Giraudeau"],
                ft="mp3",
                n=12,
                mib=281.0,
                s=26,
                l=0,
                c=233,
                date="2018-08-06",
            ),
            dict(
                kind="e",
                lang="FRA",
                title="Harry Potter à l'école des sorciers",
                ft="epub",
                mib=1.5,
                s=41,
                l=0,
                c=390,
                date="2018-08-05",
            ),
        ],
    ),
    dict(
        title="The Hunger Games",
        authors=["Suzanne Collins"],
        series=[("The Hunger Games", "1")],
        cat="Young Adult",
        tags="dystopia, survival, young adult",
        bf=4,
        desc="Katniss Everdeen volunteers in her sister's place for a televised fight to the death.",
        isbn="9780439023528",
        editions=[
            dict(kind="e", ft="epub mobi", mib=1.1, s=233, l=0, c=5001, date="2012-03-19"),
            dict(
                kind="a",
                narrators=["Carolyn McCormick"],
                ft="mp3",
                n=15,
                mib=318.4,
                s=145,
                l=0,
                c=2766,
                date="2012-03-22",
            ),
        ],
    ),
    dict(
        title="Red Rising",
        authors=["Pierce Brown"],
        series=[("Red Rising Saga", "1")],
        cat="Science Fiction",
        tags="science fiction, dystopia, mars, revenge",
        bf=2 | 4,
        desc="A Red miner on Mars learns his caste has been lied to for generations and infiltrates the "
        "ruling Golds to tear their society down.",
        isbn="9780345539786",
        editions=[
            dict(kind="e", ft="epub", mib=2.0, s=188, l=1, c=2611, date="2014-01-28"),
            dict(
                kind="a",
                narrators=["Tim Gerard Reynolds"],
                ft="m4b",
                n=1,
                mib=455.9,
                s=204,
                l=1,
                c=2490,
                date="2014-01-30",
            ),
        ],
    ),
    dict(
        title="Pride and Prejudice",
        authors=["Jane Austen"],
        cat="Literary Classics",
        tags="classic, romance, regency, public domain",
        desc="Elizabeth Bennet and Mr Darcy misjudge each other thoroughly before they learn better.",
        isbn="9780141439518",
        editions=[
            dict(kind="e", ft="epub mobi pdf", mib=0.8, s=520, l=0, c=9801, date="2012-01-15", free=1),
            dict(
                kind="a",
                narrators=["Rosamund Pike"],
                ft="m4b",
                n=1,
                mib=392.7,
                s=287,
                l=1,
                c=4330,
                date="2018-06-22",
                free=1,
            ),
        ],
    ),
    dict(
        title="Frankenstein",
        authors=["Mary Shelley"],
        cat="Horror",
        tags="classic, gothic, horror, science fiction, public domain",
        desc="Victor Frankenstein builds a living creature and abandons it, with consequences for both.",
        isbn="9780141439471",
        editions=[
            dict(kind="e", ft="epub", mib=0.6, s=390, l=0, c=5407, date="2012-02-10", free=1),
            dict(kind="a", narrators=["Dan Stevens"], ft="mp3", n=12, mib=243.0, s=166, l=0, c=2180, date="2016-10-28"),
        ],
    ),
    dict(
        title="Nineteen Eighty-Four",
        authors=["George Orwell"],
        cat="Literary Classics",
        tags="classic, dystopia, surveillance, politics",
        desc="Winston Smith rewrites history for the Ministry of Truth and begins, dangerously, to remember.",
        isbn="9780451524935",
        editions=[
            dict(kind="e", ft="epub mobi", mib=0.9, s=401, l=1, c=7330, date="2012-05-05"),
            dict(
                kind="a", narrators=["Simon Prebble"], ft="mp3", n=14, mib=331.4, s=220, l=1, c=3904, date="2012-05-09"
            ),
        ],
    ),
    dict(
        title="Fahrenheit 451",
        authors=["Ray Bradbury"],
        cat="Science Fiction",
        tags="classic, dystopia, books, censorship",
        desc="Guy Montag is a fireman whose job is to burn books, until a neighbour asks him whether he is happy.",
        isbn="9781451673319",
        editions=[
            dict(kind="e", ft="epub", mib=0.7, s=260, l=0, c=4012, date="2013-08-08"),
            dict(kind="a", narrators=["Tim Robbins"], ft="m4b", n=1, mib=148.2, s=180, l=0, c=2750, date="2014-02-03"),
        ],
    ),
    dict(
        title="The Hitchhiker's Guide to the Galaxy",
        authors=["Douglas Adams"],
        series=[("The Hitchhiker's Guide to the Galaxy", "1")],
        cat="Humor",
        tags="humor, science fiction, space, satire",
        desc="Seconds before Earth is demolished for a hyperspace bypass, Arthur Dent is rescued by a friend "
        "who turns out to be from Betelgeuse.",
        isbn="9780345391803",
        editions=[
            dict(kind="e", ft="epub", mib=0.8, s=344, l=0, c=6120, date="2012-11-11"),
            dict(kind="a", narrators=["Stephen Fry"], ft="mp3", n=8, mib=171.6, s=298, l=1, c=4750, date="2012-11-12"),
        ],
    ),
    dict(
        title="Guards! Guards!",
        authors=["Terry Pratchett"],
        series=[("Discworld", "8")],
        cat="Fantasy",
        tags="fantasy, humor, satire, dragons, city watch",
        desc="A secret society summons a dragon to Ankh-Morpork, and only the drunken, understaffed Night "
        "Watch stands in its way.",
        isbn="9780062225757",
        editions=[
            dict(kind="e", ft="epub", mib=1.2, s=201, l=0, c=2950, date="2015-03-14"),
            dict(
                kind="a", narrators=["Richard Coyle"], ft="m4b", n=1, mib=398.8, s=132, l=0, c=1420, date="2022-05-05"
            ),
            dict(kind="a", narrators=["Nigel Planer"], ft="mp3", n=10, mib=288.3, s=12, l=0, c=760, date="2014-07-01"),
        ],
    ),
    dict(
        title="Good Omens",
        authors=["Terry Pratchett", "Neil Gaiman"],
        cat="Fantasy",
        tags="fantasy, humor, apocalypse, angels, demons",
        desc="An angel and a demon who have grown fond of Earth try to stop the Antichrist from ending it.",
        isbn="9780060853983",
        editions=[
            dict(kind="e", ft="epub mobi", mib=1.6, s=240, l=1, c=3670, date="2013-09-27"),
            dict(
                kind="a", narrators=["Stephen Briggs"], ft="mp3", n=13, mib=352.0, s=150, l=0, c=2301, date="2013-10-02"
            ),
        ],
    ),
    dict(
        title="American Gods",
        authors=["Neil Gaiman"],
        cat="Fantasy",
        tags="fantasy, mythology, road trip, america",
        bf=2 | 4 | 8,
        desc="Released from prison, Shadow Moon takes a job with a con man who is more than he seems, in a "
        "war between old gods and new.",
        isbn="9780062572233",
        editions=[
            dict(kind="e", ft="epub", mib=2.3, s=175, l=0, c=2988, date="2014-04-04"),
            dict(
                kind="a", narrators=["George Guidall"], ft="m4b", n=2, mib=873.5, s=118, l=1, c=1804, date="2014-04-10"
            ),
        ],
    ),
    dict(
        title="Circe",
        authors=["Madeline Miller"],
        cat="Fantasy",
        tags="mythology, greek, witch, literary",
        desc="The daughter of Helios, banished to an island for witchcraft, meets the gods and heroes of "
        "Greek myth on her own terms.",
        isbn="9780316556347",
        editions=[
            dict(kind="e", ft="epub", mib=1.8, s=212, l=1, c=2870, date="2018-04-10"),
            dict(
                kind="a", narrators=["Perdita Weeks"], ft="m4b", n=1, mib=344.2, s=190, l=0, c=2213, date="2018-04-12"
            ),
        ],
    ),
    dict(
        title="Piranesi",
        authors=["Susanna Clarke"],
        cat="Fantasy",
        tags="fantasy, mystery, labyrinth, literary",
        desc="Piranesi lives in an endless House of halls and tides and statues, and keeps careful journals "
        "that do not add up.",
        isbn="9781635575637",
        editions=[
            dict(kind="e", ft="epub mobi", mib=2.9, s=141, l=0, c=1650, date="2020-09-15"),
            dict(
                kind="a",
                narrators=["Chiwetel Ejiofor"],
                ft="m4b",
                n=1,
                mib=187.5,
                s=133,
                l=0,
                c=1490,
                date="2020-09-16",
            ),
        ],
    ),
    dict(
        title="The Thursday Murder Club",
        authors=["Richard Osman"],
        series=[("Thursday Murder Club", "1")],
        cat="Mystery",
        tags="mystery, cozy, retirement village, humor",
        desc="Four pensioners who meet weekly to study cold cases find a fresh murder on their doorstep.",
        isbn="9781984880963",
        editions=[
            dict(kind="e", ft="epub", mib=2.1, s=156, l=1, c=1720, date="2020-09-03"),
            dict(
                kind="a", narrators=["Lesley Manville"], ft="m4b", n=1, mib=501.3, s=171, l=1, c=1655, date="2020-09-04"
            ),
        ],
    ),
    dict(
        title="Gone Girl",
        authors=["Gillian Flynn"],
        cat="Crime/Thriller",
        tags="thriller, marriage, unreliable narrator",
        bf=2 | 4 | 8,
        desc="On their fifth anniversary Nick Dunne's wife disappears, and every clue seems to point at him.",
        isbn="9780307588371",
        editions=[
            dict(kind="e", ft="epub mobi", mib=1.3, s=199, l=0, c=3390, date="2012-06-12"),
            dict(
                kind="a",
                narrators=["Julia Whelan", "Kirby Heyborne"],
                ft="mp3",
                n=20,
                mib=536.7,
                s=122,
                l=0,
                c=2011,
                date="2012-06-15",
            ),
        ],
    ),
    dict(
        title="The Girl with the Dragon Tattoo",
        authors=["Stieg Larsson"],
        series=[("Millennium", "1")],
        cat="Crime/Thriller",
        tags="thriller, sweden, journalism, hacker",
        bf=4 | 16,
        desc="A disgraced journalist and a brilliant, guarded hacker investigate a forty-year-old "
        "disappearance in a wealthy family.",
        isbn="9780307454546",
        editions=[
            dict(kind="e", ft="epub", mib=1.7, s=140, l=0, c=2900, date="2012-02-20"),
            dict(kind="a", narrators=["Simon Vance"], ft="mp3", n=26, mib=612.8, s=97, l=0, c=1754, date="2012-02-25"),
            dict(
                kind="e",
                lang="SWE",
                title="Män som hatar kvinnor",
                ft="epub",
                mib=1.6,
                s=11,
                l=0,
                c=95,
                date="2016-05-18",
            ),
        ],
    ),
    dict(
        title="Educated",
        authors=["Tara Westover"],
        cat="Biographical",
        tags="memoir, education, family, idaho",
        desc="Raised by survivalists in the mountains of Idaho, Tara Westover first set foot in a classroom "
        "at seventeen.",
        isbn="9780399590504",
        editions=[
            dict(kind="e", ft="epub", mib=2.4, s=230, l=1, c=3120, date="2018-02-20"),
            dict(kind="a", narrators=["Julia Whelan"], ft="m4b", n=1, mib=352.9, s=244, l=0, c=2990, date="2018-02-21"),
        ],
    ),
    dict(
        title="Sapiens: A Brief History of Humankind",
        authors=["Yuval Noah Harari"],
        cat="History",
        tags="history, anthropology, evolution, non-fiction",
        desc="How an unremarkable ape came to rule the planet: the cognitive, agricultural and scientific revolutions.",
        isbn="9780062316097",
        editions=[
            dict(kind="e", ft="epub mobi", mib=6.1, s=310, l=1, c=4480, date="2015-02-10"),
            dict(
                kind="a", narrators=["Derek Perkins"], ft="mp3", n=24, mib=498.7, s=277, l=1, c=3900, date="2015-02-12"
            ),
        ],
    ),
    dict(
        title="Atomic Habits",
        authors=["James Clear"],
        cat="Self-Help",
        tags="habits, productivity, self-help, psychology",
        desc="Small changes, compounded: a practical framework for building good habits and breaking bad ones.",
        isbn="9780735211292",
        editions=[
            dict(kind="e", ft="epub pdf", mib=4.9, s=388, l=2, c=5120, date="2018-10-16"),
            dict(
                kind="a",
                narrators=["James Clear"],
                ft="m4b",
                n=1,
                mib=161.3,
                s=402,
                l=2,
                c=5001,
                date="2018-10-16",
                vip=1,
                fl_vip=1,
            ),
        ],
    ),
    dict(
        title="Thinking, Fast and Slow",
        authors=["Daniel Kahneman"],
        cat="General Non-Fiction",
        tags="psychology, behavioral economics, decision making",
        desc="The two systems that drive the way we think, and the biases that come from the fast one.",
        isbn="9780374533557",
        editions=[
            dict(kind="e", ft="epub", mib=3.3, s=205, l=0, c=3560, date="2012-08-30"),
            dict(
                kind="a", narrators=["Patrick Egan"], ft="mp3", n=32, mib=577.1, s=110, l=0, c=2210, date="2012-09-03"
            ),
        ],
    ),
    dict(
        title="A Man Called Ove",
        authors=["Fredrik Backman"],
        cat="General Fiction",
        tags="contemporary, grief, neighbours, humor, sweden",
        desc="A grumpy widower's careful routines are upended by the chaotic young family that moves in next door.",
        isbn="9781476738024",
        editions=[
            dict(kind="e", ft="epub", mib=1.5, s=176, l=0, c=2450, date="2014-07-15"),
            dict(
                kind="a", narrators=["George Newbern"], ft="mp3", n=16, mib=271.4, s=150, l=0, c=2107, date="2014-07-16"
            ),
            dict(
                kind="e",
                lang="SWE",
                title="En man som heter Ove",
                ft="epub",
                mib=1.2,
                s=9,
                l=0,
                c=70,
                date="2017-02-07",
            ),
        ],
    ),
    dict(
        title="Les Misérables",
        authors=["Victor Hugo"],
        cat="Literary Classics",
        tags="classic, france, revolution, public domain",
        desc="Jean Valjean, released after nineteen years in the galleys for stealing bread, is hunted by "
        "the inspector Javert across decades of French history.",
        editions=[
            dict(kind="e", ft="epub mobi", mib=3.4, s=122, l=0, c=2011, date="2012-12-24"),
            dict(
                kind="a",
                narrators=["Frederick Davidson"],
                ft="mp3",
                n=40,
                mib=1402.6,
                s=35,
                l=0,
                c=640,
                date="2013-01-05",
            ),
            dict(kind="e", lang="FRA", ft="epub", mib=3.9, s=47, l=0, c=512, date="2014-03-21"),
            dict(
                kind="a",
                lang="FRA",
                narrators=["Bernard Petit"],
                ft="mp3",
                n=40,
                mib=1511.0,
                s=8,
                l=0,
                c=97,
                date="2019-01-30",
            ),
        ],
    ),
    dict(
        title="The Stranger",
        authors=["Albert Camus"],
        cat="Literary Classics",
        tags="classic, existentialism, algeria, absurd",
        desc="Meursault attends his mother's funeral without weeping, and a few weeks later kills a man on a beach.",
        isbn="9780679720201",
        editions=[
            dict(kind="e", ft="epub", mib=0.5, s=150, l=0, c=2801, date="2013-06-06"),
            dict(
                kind="a", narrators=["Jonathan Davis"], ft="m4b", n=1, mib=112.7, s=77, l=0, c=1340, date="2013-06-07"
            ),
            dict(kind="e", lang="FRA", title="L'Étranger", ft="epub", mib=0.5, s=62, l=0, c=804, date="2015-09-09"),
            dict(
                kind="a",
                lang="FRA",
                title="L'Étranger",
                narrators=["Albert Camus"],
                ft="mp3",
                n=6,
                mib=98.4,
                s=14,
                l=0,
                c=150,
                date="2016-04-12",
            ),
        ],
    ),
    dict(
        title="The Little Prince",
        authors=["Antoine de Saint-Exupéry"],
        cat="Juvenile",
        tags="classic, fable, children, philosophy",
        desc="A pilot stranded in the Sahara meets a small prince who has travelled from asteroid B-612.",
        isbn="9780156012195",
        editions=[
            dict(kind="e", ft="epub pdf", mib=2.8, s=133, l=0, c=2500, date="2013-02-14"),
            dict(
                kind="a", narrators=["Viggo Mortensen"], ft="mp3", n=4, mib=88.9, s=64, l=0, c=1402, date="2013-02-15"
            ),
            dict(
                kind="e", lang="FRA", title="Le Petit Prince", ft="epub", mib=3.0, s=70, l=0, c=955, date="2014-10-01"
            ),
        ],
    ),
    dict(
        title="The Metamorphosis",
        authors=["Franz Kafka"],
        cat="Literary Classics",
        tags="classic, absurd, family, novella, public domain",
        desc="Gregor Samsa wakes one morning transformed into a monstrous insect; his family adjusts, badly.",
        editions=[
            dict(kind="e", ft="epub mobi", mib=0.4, s=188, l=0, c=3010, date="2012-07-07", free=1),
            dict(
                kind="a",
                narrators=["Benedict Cumberbatch"],
                ft="m4b",
                n=1,
                mib=121.0,
                s=101,
                l=0,
                c=1770,
                date="2017-12-12",
            ),
            dict(
                kind="e", lang="DEU", title="Die Verwandlung", ft="epub", mib=0.3, s=55, l=0, c=601, date="2013-11-11"
            ),
            dict(
                kind="a",
                lang="DEU",
                title="Die Verwandlung",
                narrators=["Ulrich Matthes"],
                ft="mp3",
                n=5,
                mib=95.0,
                s=18,
                l=0,
                c=175,
                date="2018-03-15",
            ),
        ],
    ),
    dict(
        title="One Hundred Years of Solitude",
        authors=["Gabriel García Márquez"],
        cat="Literary Classics",
        tags="magical realism, family saga, colombia, classic",
        desc="Seven generations of the Buendía family in the town of Macondo, from its founding to its last hurricane.",
        isbn="9780060883287",
        editions=[
            dict(kind="e", ft="epub", mib=1.5, s=143, l=0, c=2320, date="2013-03-06"),
            dict(kind="a", narrators=["John Lee"], ft="mp3", n=22, mib=476.4, s=66, l=0, c=980, date="2014-12-02"),
            dict(
                kind="e",
                lang="SPA",
                title="Cien años de soledad",
                ft="epub mobi",
                mib=1.8,
                s=59,
                l=0,
                c=690,
                date="2015-04-17",
            ),
            dict(
                kind="a",
                lang="SPA",
                title="Cien años de soledad",
                narrators=["Héctor Bonilla"],
                ft="mp3",
                n=20,
                mib=520.0,
                s=9,
                l=0,
                c=88,
                date="2020-07-22",
            ),
        ],
    ),
    dict(
        title="The Name of the Rose",
        authors=["Umberto Eco"],
        cat="Mystery",
        tags="mystery, medieval, monastery, historical",
        desc="A Franciscan friar and his novice investigate a series of deaths in an Italian abbey with a "
        "labyrinthine library.",
        isbn="9780544176560",
        editions=[
            dict(kind="e", ft="epub", mib=2.5, s=98, l=0, c=1540, date="2014-05-05"),
            dict(kind="a", narrators=["Sean Barrett"], ft="mp3", n=30, mib=640.2, s=41, l=0, c=655, date="2016-08-08"),
            dict(
                kind="e",
                lang="ITA",
                title="Il nome della rosa",
                ft="epub",
                mib=2.2,
                s=28,
                l=0,
                c=310,
                date="2016-01-20",
            ),
        ],
    ),
]


def size_str(mib: float) -> str:
    if mib >= 1024:
        return f"{mib / 1024:.2f} GiB"
    if mib < 1:
        return f"{mib * 1024:.2f} KiB"
    return f"{mib:.2f} MiB"


def _php_json(value: object) -> str:
    """JSON as PHP's json_encode writes it: compact, non-ASCII as \\uXXXX (MAM's inner strings look so)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


def build() -> list[dict]:
    rng = random.Random(20261101)
    editions = []
    for book_no, book in enumerate(BOOKS):
        for ed in book["editions"]:
            when = datetime.strptime(ed["date"], "%Y-%m-%d") + timedelta(seconds=rng.randint(0, 86399))
            editions.append((when, book_no, book, ed))
    editions.sort(key=lambda x: (x[0], x[1]))  # ids grow with the upload time, as on MAM

    rows = []
    next_id = 402113
    author_ids: dict[str, int] = {}
    narrator_ids: dict[str, int] = {}
    series_ids: dict[str, int] = {}

    def ident(table: dict[str, int], name: str, base: int) -> int:
        if name not in table:
            table[name] = base + len(table) * 37 + rng.randint(1, 30)
        return table[name]

    for day, book_no, book, ed in editions:
        next_id += rng.randint(4000, 12000)
        kind = ed["kind"]
        lang_id, lang_code = LANGS[ed.get("lang", "ENG")]
        title = ed.get("title", book["title"])
        authors = ed.get("authors", book["authors"])
        narrators = ed.get("narrators", []) if kind == "a" else []
        series = book.get("series", [])
        cat_name = book["cat"]
        if kind == "e":
            main_cat, category = 14, EBOOK_CATS[cat_name]
            catname = f"Ebooks - {cat_name}"
            numfiles = len(ed["ft"].split())
        else:
            main_cat, category = 13, AUDIO_CATS[cat_name]
            catname = f"Audiobooks - {AUDIO_CATNAME_FIX.get(cat_name, cat_name)}"
            numfiles = ed["n"]
        owner_id, owner_name = OWNERS[rng.randrange(len(OWNERS))]
        flags = {k: ed.get(k, 0) for k in ("free", "vip", "fl_vip")}
        # MAM mixes types freely; so does this catalogue (strings for some numbers, ints for others).
        row = {
            "id": next_id,
            "title": title,
            "author_info": _php_json({str(ident(author_ids, a, 1000)): a for a in authors}),
            "narrator_info": _php_json({str(ident(narrator_ids, n, 5000)): n for n in narrators}) if narrators else "",
            "series_info": _php_json({str(ident(series_ids, s, 300)): [s, num] for s, num in series}) if series else "",
            "added": day.strftime("%Y-%m-%d %H:%M:%S"),
            "size": size_str(ed["mib"]),
            "seeders": ed["s"],
            "leechers": ed["l"],
            "times_completed": ed["c"],
            "numfiles": numfiles,
            "comments": rng.randint(0, 25),
            "category": category,
            "main_cat": main_cat,
            "catname": catname,
            "language": lang_id,
            "lang_code": lang_code,
            "filetype": ed["ft"],
            "tags": book["tags"],
            "browseflags": book.get("bf", 0),
            "vip": flags["vip"],
            "free": flags["free"],
            "fl_vip": flags["fl_vip"],
            "personal_freeleech": 0,
            "my_snatched": 0,
            "owner": owner_id,
            "owner_name": owner_name,
            "description": book["desc"],
            "isbn": book.get("isbn", "") if lang_code == "ENG" else "",
        }
        # Loose typing, as on the real site: some counters arrive as strings.
        if rng.random() < 0.5:
            for key in ("seeders", "leechers", "times_completed", "numfiles"):
                row[key] = str(row[key])
        if rng.random() < 0.3:
            for key in ("vip", "free", "fl_vip"):
                row[key] = str(row[key])
        rows.append(row)
    return rows


def main() -> None:
    rows = build()
    payload = {
        "_comment": "Generated by scripts/make_default_catalogue.py; rows in MAM's search-result format.",
        "torrents": rows,
    }
    OUT.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
