"""The HTTP fronts' one reading of a JSON body: what a client sends wrong is a usage error."""

from __future__ import annotations

import pytest

from mamdl import errors
from mamdl.jsonbody import json_object


def test_empty_body_is_an_empty_object_and_an_object_is_kept() -> None:
    assert json_object(b"") == {}
    assert json_object(b'{"force": true}') == {"force": True}


@pytest.mark.parametrize(("raw", "said"), [(b"{not json", "not JSON"), (b"[1, 2]", "JSON object"), (b"7", "object")])
def test_anything_but_an_object_is_a_usage_error(raw: bytes, said: str) -> None:
    """Sabotage caught: a list or a number passed on as the body (the routes' `.get` would raise
    AttributeError, a 500 instead of the caller's 400), or a parse error escaping as ValueError."""
    with pytest.raises(errors.UsageError, match=said):
        json_object(raw)
