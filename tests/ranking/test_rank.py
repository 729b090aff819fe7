"""Ranking rules: the work meant first, then its best edition."""

from __future__ import annotations

from mamdl.ranking import Kind, Prefs, Query, rank

from .helpers import book, titles


def test_exact_title_beats_a_longer_title_that_contains_it() -> None:
    results = [
        book("It Ends with Us", "Colleen Hoover", seeders=400, snatches=9000),
        book("It", "Stephen King", seeders=50, snatches=2000),
    ]
    assert titles(rank(Query(title="It"), results)) == ["It", "It Ends with Us"]


def test_exact_title_beats_the_sequel() -> None:
    results = [book("Dune Messiah", "Frank Herbert", snatches=3000), book("Dune", "Frank Herbert", snatches=500)]
    assert titles(rank(Query(title="Dune", author="Herbert"), results))[0] == "Dune"


def test_matching_author_outweighs_a_closer_looking_title() -> None:
    results = [
        book("Rendevous with Rama", "Kim Smith", snatches=50),  # the typo, verbatim, by someone else
        book("Rendezvous with Rama", "Arthur C. Clarke", snatches=50),
    ]
    top = rank(Query(title="Rendevous with Rama", author="Arthur Clarke"), results)[0]
    assert top.result.author_names == ["Arthur C. Clarke"]


def test_same_title_other_author_is_told_apart_by_the_author() -> None:
    results = [
        book("The Lost World", "Arthur Conan Doyle", snatches=800),
        book("The Lost World", "Michael Crichton", snatches=500),
    ]
    ranked = rank(Query(title="The Lost World", author="Crichton"), results)
    assert ranked[0].result.author_names == ["Michael Crichton"]
    assert ranked[0].confidence > ranked[1].confidence


def test_study_guides_and_summaries_rank_below_the_work() -> None:
    results = [
        book("SparkNotes: Of Mice and Men", "SparkNotes", seeders=90, snatches=5000),
        book("Summary of Of Mice and Men", "Instaread", seeders=90, snatches=5000),
        book("Of Mice and Men: A Study Guide", "John Steinbeck", seeders=90, snatches=5000),
        book("Analysis of Of Mice and Men", "Kim Lee", seeders=90, snatches=5000),
        book("Workbook for Of Mice and Men", "Kim Lee", seeders=90, snatches=5000),
        book("Of Mice and Men", "John Steinbeck", seeders=3, snatches=40),
    ]
    ranked = rank(Query(title="Of Mice and Men"), results)
    assert ranked[0].result.title == "Of Mice and Men"
    assert all(r.kind is Kind.derivative for r in ranked[1:])


def test_companions_rank_below_the_work() -> None:
    results = [
        book("The Wheel of Time Companion", "Robert Jordan", snatches=900),
        book("The Eye of the World", "Robert Jordan", series=("The Wheel of Time", "1"), snatches=300),
    ]
    assert rank(Query(title="Eye of the World", author="Robert Jordan"), results)[0].result.title == (
        "The Eye of the World"
    )


def test_a_guide_in_the_real_title_is_not_a_study_guide() -> None:
    results = [book("The Hitchhiker's Guide to the Galaxy", "Douglas Adams")]
    assert rank(Query(title="Hitchhikers Guide to the Galaxy"), results)[0].kind is Kind.work


def test_asking_for_a_study_guide_gets_one() -> None:
    results = [
        book("Jane Eyre", "Charlotte Brontë", snatches=900),
        book("Jane Eyre: A Study Guide", "BookRags", snatches=20),
    ]
    assert rank(Query(title="Jane Eyre study guide"), results)[0].result.title == "Jane Eyre: A Study Guide"


def test_omnibus_ranks_below_the_single_work() -> None:
    results = [
        book(
            "The Farseer Trilogy: Assassin's Apprentice, Royal Assassin, Assassin's Quest",
            "Robin Hobb",
            series=("Farseer Trilogy", "1-3"),
            snatches=3000,
        ),
        book("Royal Assassin Box Set", "Robin Hobb", snatches=3000),
        book("Royal Assassin", "Robin Hobb", series=("Farseer Trilogy", "2"), snatches=200),
    ]
    ranked = rank(Query(title="Royal Assassin"), results)
    assert ranked[0].result.title == "Royal Assassin"
    assert {r.kind for r in ranked[1:]} == {Kind.omnibus}


def test_asking_for_a_box_set_gets_one() -> None:
    results = [
        book("Mistborn: The Final Empire", "Brandon Sanderson", series=("Mistborn", "1"), snatches=900),
        book("Mistborn Box Set", "Brandon Sanderson", series=("Mistborn", "1-3"), snatches=100),
    ]
    assert rank(Query(title="Mistborn box set"), results)[0].result.title == "Mistborn Box Set"


def test_series_prefix_and_subtitle_shapes() -> None:
    results = [
        book("The Well of Ascension", "Brandon Sanderson", series=("Mistborn", "2")),
        book("Mistborn: The Final Empire", "Brandon Sanderson", series=("Mistborn", "1")),
    ]
    assert rank(Query(title="Mistborn"), results)[0].result.title == "Mistborn: The Final Empire"
    cradle = [
        book("Soulsmith", "Will Wight", series=("Cradle", "2")),
        book("Unsouled", "Will Wight", series=("Cradle", "1")),
    ]
    assert rank(Query(title="Cradle Unsouled"), cradle)[0].result.title == "Unsouled"
    murderbot = [
        book("Artificial Condition", "Martha Wells", series=("The Murderbot Diaries", "2")),
        book("All Systems Red", "Martha Wells", series=("The Murderbot Diaries", "1")),
    ]
    assert rank(Query(title="Murderbot all systems red"), murderbot)[0].result.title == "All Systems Red"


def test_editions_follow_format_then_language_then_filetype() -> None:
    work = "Children of Time"
    results = [
        book(work, "Adrian Tchaikovsky", id=1, fmt="audiobook", filetypes="m4b", seeders=80),
        book(work, "Adrian Tchaikovsky", id=2, lang="FRE", filetypes="epub", seeders=80),
        book(work, "Adrian Tchaikovsky", id=3, filetypes="pdf", seeders=80),
        book(work, "Adrian Tchaikovsky", id=4, filetypes="mobi azw3", seeders=5),
        book(work, "Adrian Tchaikovsky", id=5, filetypes="epub", seeders=5),
    ]
    prefs = Prefs(format="ebook", filetypes=["epub", "azw3", "mobi", "pdf"], languages=["ENG"])
    ranked = rank(Query(title=work, author="Tchaikovsky"), results, prefs)
    assert [r.id for r in ranked] == [5, 4, 3, 2, 1]
    prefs = Prefs(format="audiobook", filetypes=["m4b", "mp3"], languages=["ENG"])
    assert rank(Query(title=work), results, prefs)[0].id == 1


def test_language_may_be_given_as_an_id() -> None:
    results = [book("Dune", "Frank Herbert", id=1, lang="ENG"), book("Dune", "Frank Herbert", id=2, lang="FRE")]
    assert rank(Query(title="Dune"), results, Prefs(languages=[36]))[0].id == 2


def test_health_then_freeleech_orders_equal_editions() -> None:
    results = [
        book("Babel", "R.F. Kuang", id=1, seeders=0, snatches=900, free=True),
        book("Babel", "R.F. Kuang", id=2, seeders=12),
        book("Babel", "R.F. Kuang", id=3, seeders=14, free=True),
        book("Babel", "R.F. Kuang", id=4, seeders=40),
        book("Babel", "R.F. Kuang", id=5, seeders=2),
    ]
    ranked = rank(Query(title="Babel", author="Kuang"), results)
    assert [r.id for r in ranked] == [3, 4, 2, 5, 1]  # 10-49 seeders (free first), then 1-2, then dead


def test_snatched_rows_are_marked_not_hidden() -> None:
    results = [
        book("Fourth Wing", "Rebecca Yarros", id=1, my_snatched=True),
        book("Fourth Wing", "Rebecca Yarros", id=2),
    ]
    ranked = rank(Query(title="Fourth Wing"), results)
    assert {r.id for r in ranked} == {1, 2}
    assert {r.id: r.snatched for r in ranked} == {1: True, 2: False}


def test_every_edition_of_the_best_work_comes_first() -> None:
    results = [
        book("The Giver", "Lois Lowry", id=1, seeders=0),
        book("Gathering Blue", "Lois Lowry", id=2, seeders=500),
        book("The Giver", "Lois Lowry", id=3, fmt="audiobook", filetypes="mp3", seeders=1),
    ]
    ranked = rank(Query(title="The Giver", author="Lowry"), results)
    assert [r.work_rank for r in ranked] == [0, 0, 1]
    assert ranked[2].id == 2
    assert ranked == sorted(ranked, key=lambda r: r.sort_key)


def test_duplicate_ids_are_kept_once() -> None:
    a = book("Ubik", "Philip K. Dick", id=7)
    assert len(rank(Query(title="Ubik"), [a, a, a])) == 1


def test_narrator_series_and_free_text_queries() -> None:
    results = [
        book("Storm Front", "Jim Butcher", narrators=["James Marsters"], series=("The Dresden Files", "1")),
        book("Storm Front", "Jim Butcher", narrators=["Someone Else"], series=("The Dresden Files", "1")),
        book("Fool Moon", "Jim Butcher", narrators=["James Marsters"], series=("The Dresden Files", "2")),
    ]
    top = rank(Query(title="Storm Front", narrator="Marsters"), results)[0]
    assert top.result.narrator_names == ["James Marsters"]
    assert rank(Query(series="Dresden Files", title="Fool Moon"), results)[0].result.title == "Fool Moon"
    assert rank(Query(text="storm front butcher"), results)[0].result.title == "Storm Front"


def test_scores_are_bounded() -> None:
    results = [book("Anything", "Anyone"), book("Dune", "Frank Herbert")]
    for r in rank(Query(title="Dune", author="Frank Herbert"), results):
        assert 0.0 <= r.score <= 1.0
        assert 0.0 <= r.confidence <= 1.0


def test_ranking_a_thousand_results_is_fast() -> None:
    """Smoke check only (generous for slow CI); bench/bench_ranking.py prints the real figure."""
    import time

    results = [
        book(f"Title Number {i} of the Dark Series", f"Author {i % 97} Name{i % 13}", seeders=i % 50)
        for i in range(1000)
    ]
    t0 = time.perf_counter()
    ranked = rank(Query(title="The Dark Title", author="Name3"), results)
    assert len(ranked) == 1000
    assert time.perf_counter() - t0 < 3  # about 0.1 s when idle; a loaded 2-core CI box is slower
