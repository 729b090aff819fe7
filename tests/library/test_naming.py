"""Library paths from MAM's row: the default layouts, and hostile metadata kept inside the library."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mamdl.config import Settings
from mamdl.errors import ConfigError
from mamdl.library.book import book_dir
from mamdl.library.naming import MAX_COMPONENT_BYTES, BookFields, render, safe_component, safe_filename
from mamdl.mam.models import Person, SearchResult, SeriesRef

AUDIO = Settings.model_fields["audiobook_template"].default
EBOOK = Settings.model_fields["ebook_template"].default


def row(**kw) -> SearchResult:
    base = {
        "id": 42,
        "title": "The Way of Kings",
        "authors": [Person(id=1, name="Brandon Sanderson")],
        "narrators": [Person(id=2, name="Michael Kramer"), Person(id=3, name="Kate Reading")],
        "series": [SeriesRef(id=4, name="The Stormlight Archive", number="01")],
        "main_cat": 13,
        "lang_code": "ENG",
    }
    return SearchResult.model_validate({**base, **kw})


def test_default_layouts_follow_audiobookshelf():
    """Catches: a lost series level or sequence, narrators outside braces, zero-padded sequence,
    the series level kept when there is no series."""
    assert str(render(AUDIO, BookFields.from_row(row()))) == (
        "Brandon Sanderson/The Stormlight Archive/1 - The Way of Kings {Michael Kramer, Kate Reading}"
    )
    assert str(render(AUDIO, BookFields.from_row(row(series=[], narrators=[])))) == "Brandon Sanderson/The Way of Kings"
    assert str(render(EBOOK, BookFields.from_row(row(series=[], main_cat=14)))) == "Brandon Sanderson/The Way of Kings"
    assert str(render(EBOOK, BookFields.from_row(row(main_cat=14)))) == (
        "Brandon Sanderson/The Stormlight Archive/1 - The Way of Kings"
    )


def test_custom_template_fields_and_unknown_field_is_a_config_error():
    """Catches: a template field silently rendering as empty, or a typo accepted without a word."""
    fields = BookFields.from_row(row(added="2021-05-04 10:11:12", filetypes=["m4b"]))
    got = render("{authors}/{series} #{series_number} - {title} ({year}) {language} {filetype} {mam_id}", fields)
    assert str(got) == "Brandon Sanderson/The Stormlight Archive #1 - The Way of Kings (2021) ENG m4b 42"
    assert (
        str(render("{author}/{title}[ ({year})]", BookFields.from_row(row()))) == "Brandon Sanderson/The Way of Kings"
    )
    with pytest.raises(ConfigError, match="unknown field"):
        render("{autor}/{title}", BookFields.from_row(row()))


HOSTILE = [
    "../../../etc/passwd",
    "/absolute/path",
    "a/../../b",
    "nul\x00byte\x01and\x1fcontrols",
    "x" * 300,
    "é" * 300,
    "\u202eevil\u202dfdp.exe\u200f",
    "CON",
    "aux.txt",
    "..",
    ".",
    ".hidden",
    "trailing dots...",
    'win:dows*?"<>|\\chars',
    "line\nbreak\u2028sep",
]


@pytest.mark.parametrize("title", HOSTILE)
@pytest.mark.parametrize("where", ["title", "author", "series", "narrator"])
def test_hostile_metadata_stays_inside_the_library(tmp_path: Path, title: str, where: str):
    """Catches: traversal (`..`, `/`), NUL and control characters, over-long components, bidi
    overrides, reserved Windows names and hidden names reaching the file system."""
    kw: dict = {
        "title": {"title": title},
        "author": {"authors": [Person(id=1, name=title)]},
        "series": {"series": [SeriesRef(id=4, name=title, number=title)]},
        "narrator": {"narrators": [Person(id=2, name=title)]},
    }[where]
    root = tmp_path / "lib"
    target = book_dir(root, AUDIO, row(**kw))
    rel = target.relative_to(root)
    assert os.path.realpath(target).startswith(os.path.realpath(root) + os.sep)
    for part in rel.parts:
        assert part not in ("", ".", "..") and not part.startswith(".")
        assert len(part.encode()) <= MAX_COMPONENT_BYTES
        assert not any(ord(c) < 32 or c in '/\\:*?"<>|\u202e\u202d\u200f\u2028' for c in part)
        assert part.split(".")[0].strip().upper() not in {"CON", "AUX", "NUL"}
    target.mkdir(parents=True)  # the file system takes it


def test_unicode_is_kept_and_long_names_cut_on_a_character():
    """Catches: accents or non-Latin scripts folded away, UTF-8 cut in the middle of a character."""
    assert safe_component("Cien años de soledad") == "Cien años de soledad"
    assert safe_component("三体") == "三体"
    assert safe_component("می‌خواهم") == "می‌خواهم"  # the zero-width non-joiner is part of the word
    cut = safe_component("é" * 300)
    assert cut == "é" * (MAX_COMPONENT_BYTES // 2)
    assert safe_component("Title: Subtitle") == "Title - Subtitle"


def test_long_file_names_keep_their_extension():
    """Catches: an over-long chapter name losing `.m4b` (reader apps then ignore it)."""
    name = safe_filename("x" * 400 + ".m4b")
    assert name.endswith(".m4b") and len(name.encode()) <= MAX_COMPONENT_BYTES
    assert safe_filename("../../evil.epub") == "evil.epub"
