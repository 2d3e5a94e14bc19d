"""What every bench shares for its output: stdout carries only `name value` lines, and latency
percentiles are computed one way."""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator, Sequence


@contextlib.contextmanager
def child_stdout_to_stderr() -> Iterator[None]:
    """Processes spawned inside the block write their stdout to our stderr.

    `temporal server start-dev` prints a banner on stdout; this keeps stdout to the numbers.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in 0..1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
