"""Task tokens: opaque to workers, they name the exact task (run, event, attempt) given out."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from devserver.errors import InvalidArgument


@dataclass(frozen=True)
class TaskToken:
    kind: str  # "workflow", "activity" or "query"
    namespace: str
    workflow_id: str
    run_id: str
    scheduled_event_id: int = 0
    attempt: int = 0
    query_id: str = ""

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @staticmethod
    def decode(raw: bytes, expected_kind: str) -> TaskToken:
        try:
            token = TaskToken(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise InvalidArgument("task_token is malformed.") from exc
        if token.kind != expected_kind:
            raise InvalidArgument(f"task_token is a {token.kind} token, expected {expected_kind}.")
        return token
