"""The one reading of a JSON request body for mamdl's HTTP fronts (the service's API and the web
page's JSON routes).

Both must refuse the same bodies with the same user-facing words, so the rule lives here, below
them, and neither front imports the other.
"""

from __future__ import annotations

import json
from typing import Any

from mamdl import errors


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; an empty body is an empty object (every field is optional).
    Anything else is the caller's mistake, said as a usage error rather than a 500."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise errors.UsageError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise errors.UsageError("the request body must be a JSON object")
    return data
