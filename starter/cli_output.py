"""What the `csflow` CLI prints for people: plain-text tables and values written as people write
them (no enum reprs, no `timedelta` text, `-` for nothing). Scripts use `--json` instead."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from starter.api import JourneyListing, JourneyView
from workflows.customer_event import EventAck


def text(value: Any) -> str:
    """One value as a table cell: one line, plain words."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.strftime("%Y-%m-%d %H:%M") + " UTC"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration(value)
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, list | tuple | set):
        return ", ".join(text(v) for v in value) or "-"
    return " ".join(str(value).split())


def duration(span: timedelta) -> str:
    """`8 hours`, `10 days`, `1 day 4 hours`, `90 minutes` -> `1 hour 30 minutes`."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return _count(seconds, "second")
    parts = []
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(_count(amount, unit))
    return " ".join(parts[:2])


def _count(amount: int, unit: str) -> str:
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Columns aligned with two spaces between them, headers in capitals."""
    cells = [[h.upper() for h in headers], *([text(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def fields(pairs: Iterable[tuple[str, Any]]) -> str:
    """`label:  value` lines, the values aligned."""
    items = [(label, text(value)) for label, value in pairs]
    width = max((len(label) for label, _ in items), default=0) + 2
    return "\n".join(f"{label + ':':<{width}}{value}" for label, value in items)


def _section(title: str, body: str) -> str:
    return f"\n{title}\n" + "\n".join(f"  {line}" for line in body.splitlines())


def journey(view: JourneyView) -> str:
    """A journey's status: what a CSM or an engineer asks first, then its lists."""
    since = view.stages[-1].entered_at if view.stages else None
    status = view.workflow_status
    if view.closed_at is not None:
        status += f" (closed {text(view.closed_at)})"
    health = (
        f"{view.health_score} ({text(view.health_band)})" if view.health_score is not None else None
    )
    segment = view.segment + (
        f" ({view.segment_key})" if view.segment_key and view.segment_key != view.segment else ""
    )
    renewal = text(view.contract_end)
    if view.renewal_starts_at is not None:
        renewal += f" (renewal work from {text(view.renewal_starts_at.date())})"
    lines = [
        f"{view.account_name} ({view.account_id})",
        fields(
            [
                ("journey", f"{view.workflow_id}, {status}"),
                *([("failure", view.failure)] if view.failure else []),
                ("stage", f"{view.stage.value}" + (f" since {text(since)}" if since else "")),
                *([("waiting for", view.waiting_for)] if view.waiting_for else []),
                *(
                    [("in progress", f"{view.stage_workflow_id} (its work counts below when done)")]
                    if view.stage_workflow_id
                    else []
                ),
                ("segment", segment),
                ("CSM", view.csm_owner),
                ("health", health),
                ("contract ends", renewal),
                ("next NPS", view.next_nps_at),
                (
                    "work",
                    f"{view.emails_sent} emails, {view.tasks_created} tasks "
                    f"({len(view.open_tasks)} open), {view.alerts} alerts",
                ),
                (
                    "events",
                    f"{view.events_processed} processed"
                    + (f", {view.events_rejected} not applied" if view.events_rejected else ""),
                ),
            ]
        ),
    ]
    if view.stages:
        lines.append(
            _section(
                "Stages",
                table(["stage", "entered"], [(v.stage, v.entered_at) for v in view.stages]),
            )
        )
    if view.open_tasks:
        lines.append(
            _section(
                "Open tasks",
                table(
                    ["id", "task", "owner"],
                    [(t.task_id, t.title, t.owner) for t in view.open_tasks],
                ),
            )
        )
    if view.escalations:
        rows = [
            (
                e.summary,
                e.source,
                e.level,
                "open" if e.open else f"resolved {text(e.resolved_at)}",
                e.missed_slas,
            )
            for e in view.escalations
        ]
        lines.append(
            _section("Escalations", table(["escalation", "from", "level", "state", "missed"], rows))
        )
    if view.renewals:
        renewals = [
            (r.contract_end, text(r.outcome) if r.outcome else "undecided", r.new_end_date)
            for r in view.renewals
        ]
        lines.append(
            _section("Renewals", table(["contract end", "outcome", "renewed to"], renewals))
        )
    if view.surveys:
        surveys = [(s.kind, s.topic, s.sent_at, s.score, s.category) for s in view.surveys]
        lines.append(
            _section("Surveys", table(["survey", "topic", "sent", "score", "category"], surveys))
        )
    if view.playbooks:
        playbooks = [
            (p.kind, p.summary, "open" if p.open else (p.outcome or "closed"))
            for p in view.playbooks
        ]
        lines.append(_section("Playbooks", table(["playbook", "why", "state"], playbooks)))
    return "\n".join(lines)


def listings(found: list[JourneyListing]) -> str:
    if not found:
        return "no journeys match"
    rows = [
        (
            j.account_id,
            j.stage,
            j.csm_owner,
            j.segment,
            j.health_score,
            j.renewal_date.date() if j.renewal_date else None,
            j.status,
        )
        for j in found
    ]
    body = table(["account", "stage", "csm", "segment", "health", "renewal", "status"], rows)
    return body + f"\n{len(found)} journey" + ("" if len(found) == 1 else "s")


def acknowledgement(ack: EventAck) -> str:
    if ack.duplicate:
        result = f"already processed as event #{ack.sequence}: nothing done again"
    elif ack.rejected:
        result = f"received as event #{ack.sequence} but not applied: {ack.rejected}"
    elif ack.kept_for:
        result = f"event #{ack.sequence}, kept until the {ack.kept_for} stage starts"
    else:
        result = f"processed as event #{ack.sequence}"
    return fields(
        [
            ("account", ack.account_id),
            ("event", ack.event_type),
            ("result", result),
            ("stage", ack.stage),
            *([("passed to", ack.forwarded_to)] if ack.forwarded_to else []),
        ]
    )
