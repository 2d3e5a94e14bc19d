"""`python -m worker`: the csflow worker process (assembled in starter/worker_process.py)."""

from __future__ import annotations

from starter.worker_process import main

if __name__ == "__main__":
    main()
