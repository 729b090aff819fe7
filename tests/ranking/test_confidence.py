"""Confidence: high when the match is good and no other work competes, low otherwise."""

from __future__ import annotations

from mamdl.ranking import CONFIDENCE_THRESHOLD, Query, is_confident, rank, top_confidence
from mamdl.ranking.confidence import shares, work_confidence

from .helpers import book


def test_threshold_is_a_probability() -> None:
    assert 0.0 < CONFIDENCE_THRESHOLD < 1.0


def test_clear_case_is_confident() -> None:
    results = [
        book("Project Hail Mary", "Andy Weir", snatches=3000),
        book("Project Hail Mary", "Andy Weir", fmt="audiobook", filetypes="m4b", snatches=5000),
        book("Summary of Project Hail Mary", "Instaread", snatches=30),
        book("The Martian", "Andy Weir", snatches=4000),
    ]
    ranked = rank(Query(title="Project Hail Mary", author="Andy Weir"), results)
    assert is_confident(top_confidence(ranked))
    assert ranked[0].confidence > 0.95


def test_namesakes_without_an_author_are_ambiguous() -> None:
    results = [
        book("The Lost World", "Arthur Conan Doyle", snatches=500),
        book("The Lost World", "Michael Crichton", snatches=600),
    ]
    assert not is_confident(top_confidence(rank(Query(title="The Lost World"), results)))


def test_a_far_more_popular_namesake_is_confident() -> None:
    results = [
        book("Royal Assassin", "Robin Hobb", snatches=4000, seeders=120),
        book("Royal Assassin", "Kim Smith", snatches=12, seeders=1),
    ]
    ranked = rank(Query(title="Royal Assassin"), results)
    assert ranked[0].result.author_names == ["Robin Hobb"]
    assert is_confident(ranked[0].confidence)


def test_a_poor_match_is_not_confident_even_alone() -> None:
    results = [book("Children of Memory", "Adrian Tchaikovsky")]
    assert not is_confident(top_confidence(rank(Query(title="Children of Time", author="Banks"), results)))


def test_a_typo_with_the_author_is_still_confident() -> None:
    results = [book("Wuthering Heights", "Emily Brontë"), book("Jane Eyre", "Charlotte Brontë")]
    assert is_confident(top_confidence(rank(Query(title="Wuthering Hieghts", author="Emily Bronte"), results)))


def test_rows_below_the_top_work_have_low_confidence() -> None:
    results = [book("Dune", "Frank Herbert"), book("Dune Messiah", "Frank Herbert"), book("Dune", "Frank Herbert")]
    ranked = rank(Query(title="Dune", author="Frank Herbert"), results)
    assert ranked[0].confidence == ranked[1].confidence  # editions of one work share it
    assert ranked[-1].confidence < 0.05


def test_empty_results_have_zero_confidence() -> None:
    assert top_confidence(rank(Query(title="Nothing"), [])) == 0.0


def test_confidence_needs_both_quality_and_margin() -> None:
    assert work_confidence(1.0, 0.99) > 0.95
    assert work_confidence(1.0, 0.5) < CONFIDENCE_THRESHOLD  # a tie
    assert work_confidence(0.5, 1.0) < CONFIDENCE_THRESHOLD  # alone, but a poor match
    assert abs(sum(shares([10.0, 9.0, 1.0])) - 1.0) < 1e-9
