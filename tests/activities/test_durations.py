"""Durations in customer- and CSM-facing text read as people write them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.durations import in_words


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        (timedelta(hours=8), "8 hours"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(days=10), "10 days"),
        (timedelta(days=14), "2 weeks"),
        (timedelta(days=1, hours=4), "1 day 4 hours"),
        (timedelta(minutes=90), "1 hour 30 minutes"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(seconds=20), "less than a minute"),
    ],
)
def test_in_words(duration: timedelta, words: str) -> None:
    assert in_words(duration) == words
