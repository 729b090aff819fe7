"""`mam limit`'s rate input, as people type it (fast; the limits at work: tests/service/test_rate_limits_e2e.py)."""

from __future__ import annotations

import pytest

from mamdl.cli.torrents import rate_kibps
from mamdl.errors import UsageError


@pytest.mark.parametrize(
    ("text", "kibps"),
    [
        ("500", 500),
        ("500K", 500),
        ("500 KiB/s", 500),
        ("2M", 2048),
        ("1.5MiB", 1536),
        ("2mb/s", 2048),
        ("1G", 1024 * 1024),
        ("0", 0),
        ("off", 0),
        ("None", 0),
    ],
)
def test_rates_read_as_kib_per_second(text, kibps):
    """Sabotage caught: a unit read as the wrong power of 1024 (2M as 2 KiB/s or 2 GiB/s), or `off`
    not meaning unlimited."""
    assert rate_kibps(text) == kibps


@pytest.mark.parametrize("text", ["fast", "-1", "2T", "1,5M", ""])
def test_a_rate_that_is_not_one_is_refused_with_the_forms_that_work(text):
    """Sabotage caught: garbage read as 0 (silently unlimited) or as some number."""
    with pytest.raises(UsageError, match="500K, 2M"):
        rate_kibps(text)
