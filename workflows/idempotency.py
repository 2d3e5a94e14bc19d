"""Idempotency keys: workflow id + step (+ cadence attempt), stable across replays and retries."""

from __future__ import annotations


def step_key(workflow_id: str, step: str, attempt: int | None = None) -> str:
    key = f"{workflow_id}:{step}"
    return key if attempt is None else f"{key}:{attempt}"
