"""`python -m worker`: the csflow worker process (assembled in starter/worker_process.py)."""

from __future__ import annotations

# ensure_search_attributes: tests/workflows/conftest.py still imports it from here.
from starter.worker_process import ensure_search_attributes, main

__all__ = ["ensure_search_attributes", "main"]

if __name__ == "__main__":
    main()
