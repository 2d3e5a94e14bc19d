"""How customer email names people: a contact by first name, a CSM by a display name.

Pure functions (no I/O), used by the email activities for greetings and signatures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Honorifics skipped when a contact's first name is taken from their full name.
_HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "mx", "miss", "prof", "sir", "dame"})
_LOCAL_PART_WORDS = re.compile(r"[._+\-]+")


def first_name(full_name: str | None) -> str | None:
    """The name to greet someone by: the first word of their name that is not a title
    ("Dr. Jane Doe" -> "Jane"); None for no name."""
    words = (full_name or "").split()
    for word in words:
        if word.rstrip(".").lower() not in _HONORIFICS:
            return word
    return words[-1] if words else None


def display_name(email: str, names: Mapping[str, str] | None = None) -> str:
    """A team member's name as they sign: from `names` (address -> name, CSFLOW_TEAM_NAMES),
    else from the address's first word, capitalised (`casey.csm@example.com` -> "Casey")."""
    address = email.strip().lower()
    known = (names or {}).get(address)
    if known:
        return known
    local = address.partition("@")[0]
    word = next((w for w in _LOCAL_PART_WORDS.split(local) if w), local)
    return word[:1].upper() + word[1:] if word else email
