"""`Service.preview_get`: the guards' answers before a download, as the web page asks for them."""

from __future__ import annotations

import pytest

from mamdl.config import load_settings
from mamdl.errors import GuardRefused
from mamdl.service import SearchSpec, Service


def test_preview_answers_like_get_and_starts_nothing(sandbox_env):
    """Sabotage caught: the preview fetching the .torrent or spending a wedge (it must only ask),
    or answering differently from `get` (it would say "allowed" where `get` refuses)."""
    svc = Service(load_settings())
    try:
        tid = svc.search(SearchSpec(title="dune"), limit=1).rows[0].id
        p = svc.preview_get(tid, wedge="never")
        assert p.torrent_id == tid and p.title and p.size
        assert p.allowed and "unsatisfied after this download" in p.unsatisfied_reason
        assert not p.wedge and "wedges are off" in p.wedge_reason
        paths = [r["path"] for r in sandbox_env.requests(include_announces=False)]
        assert not any("download.php" in x for x in paths), paths
        assert sandbox_env.wedge_spends() == []
    finally:
        svc.close()

    strict = Service(load_settings(unsat_reserve=1000))
    try:
        p = strict.preview_get(tid, wedge="never")
        assert not p.allowed
        with pytest.raises(GuardRefused) as refused:
            strict.get(tid, download=True, wedge="never")
        assert str(refused.value) == p.unsatisfied_reason
    finally:
        strict.close()
