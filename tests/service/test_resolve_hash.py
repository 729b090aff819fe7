"""Info-hash prefixes: any unique prefix is enough (the status table shows 8 characters)."""

from __future__ import annotations

import pytest

from mamdl.config import Settings
from mamdl.errors import EngineError
from mamdl.service import Service

KNOWN = ["a" * 40, "ab" + "0" * 38, "c1" + "f" * 38]


@pytest.fixture
def svc(isolated_home):
    with Service(Settings()) as s:
        yield s


def test_short_unique_prefix_is_accepted(svc):
    """Sabotage caught: the old 4-character minimum, which refused `c` although it is unique."""
    assert svc.resolve_hash("c", KNOWN) == KNOWN[2]
    assert svc.resolve_hash("AB", KNOWN) == KNOWN[1]


@pytest.mark.parametrize(
    ("prefix", "words"), [("a", "matches 2 torrents"), ("", "not (the start of)"), ("zz", "not (the start of)")]
)
def test_ambiguous_empty_or_non_hex_prefixes_are_refused(svc, prefix, words):
    with pytest.raises(EngineError, match=words.replace("(", r"\(").replace(")", r"\)")):
        svc.resolve_hash(prefix, KNOWN)


def test_unknown_prefix(svc):
    with pytest.raises(EngineError, match="no torrent with info-hash 'dd'"):
        svc.resolve_hash("dd", KNOWN)
