"""Bounds on the numbers, text and nesting of a JSON body, checked before anything uses it.

JSON integers have no size limit and Python's parsers accept `NaN`, `Infinity` and `1e400`; a
400-digit integer overflows the first float conversion it meets (a health score, a timestamp)
and a non-finite number does not survive the trip through Temporal. A `\ud800` escape parses
into a lone surrogate, which no database or payload encoder takes. Deep nesting only costs
recursion. The error names where in the body the value sits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from starter.http.validation_errors import field_error

# The largest integer every JSON consumer (JavaScript included) holds exactly.
MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 32


def check_json_bounds(value: Any, loc: Sequence[str | int] = ("body",)) -> None:
    """Raise a 422 naming the first out-of-bounds number or over-deep value in `value`."""
    pending: list[tuple[Any, tuple[str | int, ...], int]] = [(value, tuple(loc), 0)]
    while pending:
        item, where, depth = pending.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and abs(item) > MAX_SAFE_INTEGER:
            raise field_error(
                where,
                f"integer out of range: must be between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}",
            )
        if isinstance(item, str) and not _encodable(item):
            raise field_error(
                where, "not valid Unicode text (a lone surrogate)", kind="string_unicode"
            )
        if isinstance(item, float) and not math.isfinite(item):
            raise field_error(where, f"must be a finite number, not {item}", kind="finite_number")
        if isinstance(item, dict | list) and depth >= MAX_DEPTH:
            raise field_error(where, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            for key in item:
                if not _encodable(str(key)):
                    raise field_error(where, "a key is not valid Unicode text", "string_unicode")
            pending.extend((v, (*where, str(k)), depth + 1) for k, v in item.items())
        elif isinstance(item, list):
            pending.extend((v, (*where, i), depth + 1) for i, v in enumerate(item))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
