"""Durable state on a SQLite file (`--db-filename`), as the Temporal CLI dev server keeps it.

Every RPC and every batch of fired deadlines ends with one transaction that writes the runs it
changed: new history events are appended, and the run's pending state (workflow task, activities,
timers, children, updates, buffered events) is stored as a versioned JSON snapshot. On start the
file is read back and every deadline is armed again; overdue ones fire at once.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from google.protobuf import symbol_database
from google.protobuf.message import Message
from temporalio.api.history.v1 import message_pb2 as history_pb

from devserver import execution
from devserver.clock import TimerHandle
from devserver.namespaces import Namespace, Namespaces

if TYPE_CHECKING:
    from devserver.engine import Engine
    from devserver.execution import MutableState

log = structlog.get_logger("devserver.persistence")

# Bump when the stored layout changes; an older file is refused with a clear message.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    namespace TEXT NOT NULL, run_id TEXT NOT NULL, workflow_id TEXT NOT NULL,
    snapshot TEXT NOT NULL, PRIMARY KEY (namespace, run_id));
CREATE TABLE IF NOT EXISTS events (
    namespace TEXT NOT NULL, run_id TEXT NOT NULL, event_id INTEGER NOT NULL,
    data BLOB NOT NULL, PRIMARY KEY (namespace, run_id, event_id));
CREATE TABLE IF NOT EXISTS current_runs (
    namespace TEXT NOT NULL, workflow_id TEXT NOT NULL, run_id TEXT NOT NULL,
    PRIMARY KEY (namespace, workflow_id));
CREATE TABLE IF NOT EXISTS schedules (
    namespace TEXT NOT NULL, schedule_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (namespace, schedule_id));
"""

# Live objects that are rebuilt on load rather than stored.
_TRANSIENT = {"changed", "queries", "run_timer", "start_timer", "timeout", "history"}
_DATACLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        execution.WorkflowTask,
        execution.ActivityInfo,
        execution.UserTimer,
        execution.ChildInfo,
        execution.UpdateState,
        execution.ParentRef,
        execution.MutableState,
    )
}


class StoreError(RuntimeError):
    """The database file cannot be used (wrong layout, not a devserver file)."""


@dataclasses.dataclass(frozen=True)
class PendingDue:
    """A deadline read back from disk, to be armed again by the engine."""

    due: float


def encode(value: Any) -> Any:
    if isinstance(value, Message):
        return {
            "$pb": value.DESCRIPTOR.full_name,
            "b": base64.b64encode(value.SerializeToString()).decode(),
        }
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": value.total_seconds()}
    if isinstance(value, TimerHandle):
        return {"$due": value.due}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "$dc": type(value).__name__,
            "f": {
                f.name: encode(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if f.name not in _TRANSIENT
            },
        }
    if isinstance(value, dict):
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, set):
        return {"$set": [encode(v) for v in value]}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$pb" in value:
        message_class = symbol_database.Default().GetSymbol(value["$pb"])
        message = message_class()
        message.ParseFromString(base64.b64decode(value["b"]))
        return message
    if "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if "$td" in value:
        return timedelta(seconds=value["$td"])
    if "$due" in value:
        return PendingDue(value["$due"])
    if "$map" in value:
        return {_hashable(decode(k)): decode(v) for k, v in value["$map"]}
    if "$set" in value:
        return {decode(v) for v in value["$set"]}
    if "$dc" in value:
        cls = _DATACLASSES.get(value["$dc"])
        if cls is None:
            raise StoreError(f"unknown stored type {value['$dc']!r}")
        return cls(**{name: decode(v) for name, v in value["f"].items()})
    raise StoreError(f"unrecognised stored value {sorted(value)!r}")


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


class Store:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        # Checked before anything is written, so a refused file is left exactly as it was.
        self._check_layout()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self._persisted_events: dict[tuple[str, str], int] = {}

    def _check_layout(self) -> None:
        tables = {
            r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not tables:
            self.db.executescript(_SCHEMA)
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            return
        if "meta" not in tables:
            raise StoreError(f"{self.path} is not a devserver database (no meta table)")
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        found = int(row[0]) if row else 0
        if found != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has devserver storage layout {found}, this devserver reads layout "
                f"{SCHEMA_VERSION}; move the file aside (nothing was changed in it)"
            )

    def close(self) -> None:
        self.db.close()

    # ---- writing ---------------------------------------------------------------------------

    def save(self, engine: Engine, states: Iterable[MutableState], namespaces: bool) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            if namespaces:
                for namespace in engine.namespaces.all():
                    db.execute(
                        "INSERT OR REPLACE INTO namespaces (name, body) VALUES (?, ?)",
                        (namespace.name, json.dumps(encode(namespace))),
                    )
            for state in states:
                self._save_run(engine, state)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _save_run(self, engine: Engine, state: MutableState) -> None:
        key = (state.namespace, state.run_id)
        written = self._persisted_events.get(key, 0)
        new_events = state.history.events[written:]
        self.db.executemany(
            "INSERT OR REPLACE INTO events (namespace, run_id, event_id, data) VALUES (?, ?, ?, ?)",
            [
                (state.namespace, state.run_id, e.event_id, e.SerializeToString())
                for e in new_events
            ],
        )
        self._persisted_events[key] = state.history.last_event_id
        self.db.execute(
            "INSERT OR REPLACE INTO runs (namespace, run_id, workflow_id, snapshot) "
            "VALUES (?, ?, ?, ?)",
            (state.namespace, state.run_id, state.workflow_id, json.dumps(encode(state))),
        )
        current = engine.current.get((state.namespace, state.workflow_id))
        if current:
            self.db.execute(
                "INSERT OR REPLACE INTO current_runs (namespace, workflow_id, run_id) "
                "VALUES (?, ?, ?)",
                (state.namespace, state.workflow_id, current),
            )

    def save_schedule(self, namespace: str, schedule_id: str, body: Any | None) -> None:
        if body is None:
            self.db.execute(
                "DELETE FROM schedules WHERE namespace = ? AND schedule_id = ?",
                (namespace, schedule_id),
            )
        else:
            self.db.execute(
                "INSERT OR REPLACE INTO schedules (namespace, schedule_id, body) VALUES (?, ?, ?)",
                (namespace, schedule_id, json.dumps(encode(body))),
            )

    # ---- reading ---------------------------------------------------------------------------

    def load_namespaces(self, namespaces: Namespaces) -> None:
        for (body,) in self.db.execute("SELECT body FROM namespaces"):
            stored = decode(json.loads(body))
            existing = namespaces.ensure(stored.name)
            existing.id = stored.id
            existing.description = stored.description
            existing.retention = stored.retention
            existing.search_attributes.update(stored.search_attributes)

    def load_runs(self) -> tuple[list[MutableState], dict[tuple[str, str], str]]:
        runs: list[MutableState] = []
        for namespace, run_id, snapshot in self.db.execute(
            "SELECT namespace, run_id, snapshot FROM runs"
        ):
            state = decode(json.loads(snapshot))
            for (data,) in self.db.execute(
                "SELECT data FROM events WHERE namespace = ? AND run_id = ? ORDER BY event_id",
                (namespace, run_id),
            ):
                state.history.append(history_pb.HistoryEvent.FromString(data))
            self._persisted_events[(namespace, run_id)] = state.history.last_event_id
            runs.append(state)
        current = {
            (ns, wid): rid
            for ns, wid, rid in self.db.execute(
                "SELECT namespace, workflow_id, run_id FROM current_runs"
            )
        }
        return runs, current

    def load_schedules(self) -> list[tuple[str, str, Any]]:
        return [
            (ns, sid, decode(json.loads(body)))
            for ns, sid, body in self.db.execute(
                "SELECT namespace, schedule_id, body FROM schedules"
            )
        ]


_DATACLASSES["Namespace"] = Namespace
