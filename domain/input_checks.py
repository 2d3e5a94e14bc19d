"""Checks for data entering csflow from outside, and a helper to show such data safely.

Pure functions (no clock, no I/O): they run inside the workflow sandbox too.
"""

from __future__ import annotations

import re

# C0 controls (tabs and line breaks included), DEL, C1 controls, Unicode line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str, limit: int = 200) -> str:
    """`text` as one printable line of at most `limit` characters (for subjects, titles, logs)."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: max(limit - 3, 0)] + "..."
