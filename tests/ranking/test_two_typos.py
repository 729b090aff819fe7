"""Searches that survive two mistakes (issue 11, point 7), against the strict search of mam-api.md.

People often misspell both the title and the author ("the hobit" by "tolkein"), drop or add a
word, or type the series name with the title. Each shape must find the book, confidently, within
`MAX_REQUESTS` strict searches."""

from __future__ import annotations

import pytest

from mamdl.mam.models import SearchField
from mamdl.ranking import MAX_REQUESTS, Prefs, Query, SearchOutcome, broadened_search
from mamdl.ranking.planner import EXACT, SKELETON, Planner, make_word, skeleton, words_of

from .helpers import book
from .strict_search import StrictSearch

CATALOGUE = [
    book("The Hobbit", "J.R.R. Tolkien", snatches=9000),
    book("The Hobbit", "J.R.R. Tolkien", fmt="audiobook", filetypes="m4b", narrators=["Andy Serkis"], snatches=7000),
    book("The Fellowship of the Ring", "J.R.R. Tolkien", series=("The Lord of the Rings", "1"), snatches=6000),
    book("The Silmarillion", "J.R.R. Tolkien", snatches=2000),
    book("The Habit of Art", "Alan Bennett", snatches=40),
    book("Summary of The Hobbit", "Quick Reads", snatches=15),
    book("The Magician's Nephew", "C.S. Lewis", series=("The Chronicles of Narnia", "1"), snatches=1500),
    book("The Lion, the Witch and the Wardrobe", "C.S. Lewis", series=("The Chronicles of Narnia", "2"), snatches=3000),
    book("All Systems Red", "Martha Wells", series=("The Murderbot Diaries", "1"), snatches=2500),
    book("Artificial Condition", "Martha Wells", series=("The Murderbot Diaries", "2"), snatches=1800),
    book("Stranger in a Strange Land", "Robert A. Heinlein", snatches=1700),
    book("Starship Troopers", "Robert A. Heinlein", snatches=1600),
    book("The Way of Shadows", "Brent Weeks", series=("Night Angel", "1"), snatches=1400),
    *[book(f"Unrelated Story {i}", f"Writer {i}", snatches=i) for i in range(40)],
]


@pytest.fixture
def search() -> StrictSearch:
    return StrictSearch(CATALOGUE)


def found(search: StrictSearch, title: str, author: str = "") -> SearchOutcome:
    outcome = broadened_search(Query(title=title, author=author), search.search, prefs=Prefs(languages=["ENG"]))
    assert outcome.requests <= MAX_REQUESTS and len(search.calls) == outcome.requests
    return outcome


def test_title_and_author_both_mistyped(search: StrictSearch) -> None:
    """ "the hobit" by "tolkein": no single-wildcard form of "hobit" survives the lost "b" and the
    planner must doubt both words. Sabotage caught: without the skeleton form ("H*b*t T*l*k*n"),
    or with typos independent (`SLOPPY_SHARE` 0), four searches never reach The Hobbit."""
    outcome = found(search, "the hobit", "tolkein")
    assert outcome.confident, [q.text for q in outcome.queries]
    assert outcome.ranked[0].result.title == "The Hobbit"
    outcome = found(StrictSearch(CATALOGUE), "Strangr in a Strange Land", "Hienlein")
    assert outcome.confident and outcome.ranked[0].result.title == "Stranger in a Strange Land"


def test_dropped_word_and_mistyped_author(search: StrictSearch) -> None:
    """A title word left out and the surname misspelled. Sabotage caught: the skeleton of "Lewsi"
    gone, the author word never matches."""
    outcome = found(search, "The Lion the Wardrobe", "C.S. Lewsi")
    assert outcome.confident, [q.text for q in outcome.queries]
    assert outcome.ranked[0].result.title == "The Lion, the Witch and the Wardrobe"


def test_extra_word_and_mistyped_author(search: StrictSearch) -> None:
    """ "the hobbit book": a generic word the record lacks, plus a misspelled author. Sabotage
    caught: "book" weighing like a title word (`GENERIC_WORDS` empty) leaves the match unsure, or
    is sent to MAM in every search and nothing comes back."""
    outcome = found(search, "The Hobbit book", "Tolkein")
    assert outcome.confident, [q.text for q in outcome.queries]
    assert outcome.ranked[0].result.title == "The Hobbit"


def test_series_name_typed_with_a_mistyped_title(search: StrictSearch) -> None:
    """ "Murderbot All Sistems Red": the series name in the title box and a typo in the title."""
    outcome = found(search, "Murderbot All Sistems Red", "Wells")
    assert outcome.confident, [q.text for q in outcome.queries]
    assert outcome.ranked[0].result.title == "All Systems Red"


def test_mistyped_author_typed_after_the_title(search: StrictSearch) -> None:
    """No author box, the surname typed (wrongly) after the title. Sabotage caught: without typo
    credit for a title word found among the authors, "Lewwis" counts as a title word the book
    lacks and the match is not confident."""
    outcome = found(search, "The Magician's Nephew Lewwis")
    assert outcome.confident, (outcome.confidence, [q.text for q in outcome.queries])
    assert outcome.ranked[0].result.title == "The Magician's Nephew"


@pytest.mark.parametrize(
    ("typed", "bones", "meant"),
    [
        ("Tolkein", "T*l*k*n", "Tolkien"),  # swapped vowels
        ("hobit", "h*b*t", "hobbit"),  # lost double letter
        ("Rendevous", "R*n*d*v*s", "Rendezvous"),  # lost consonant
        ("Steinbek", "S*t*n*b*k", "Steinbeck"),
        ("Sapkowsky", "S*p*k*w*s*k*", "Sapkowski"),  # a final "y" for "i": open end
    ],
)
def test_skeleton_keeps_the_first_letter_and_the_consonants(typed: str, bones: str, meant: str) -> None:
    """The skeleton form, and that a strict search with it finds the word meant. Sabotage
    caught: a skeleton that keeps vowels or anchors the end after a vowel misses the word."""
    assert skeleton(typed) == bones
    assert make_word(typed, "author").forms[SKELETON] == bones
    one = StrictSearch([book(f"Book by {meant}", meant)])
    assert one.search(bones, [SearchField.author]), bones


def test_short_or_consonant_poor_words_have_no_skeleton() -> None:
    """Too few fixed letters would match half the catalogue: "Ubik", "Aeon"."""
    assert skeleton("Aeon") is None
    assert SKELETON not in make_word("Ubik", "title").forms


def test_one_typo_makes_a_second_likelier() -> None:
    """Typos are not independent: the chance that both typed words are right is more than the
    product of each being right. Sabotage caught: `SLOPPY_SHARE` 0 makes them independent."""
    planner = Planner(words_of(Query(title="hobit", author="tolkein")), has_author=True)
    both = planner._chance({0: EXACT, 1: EXACT})
    assert both > planner._chance({0: EXACT}) * planner._chance({1: EXACT}) + 0.01
