"""CRM rows written directly, with only what a test cares about given: the shapes the workflows
leave (stage changes with from/to, escalation tasks keyed by step, onboarding emails by step)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from sqlmodel import Session

from crm.tables import (
    AccountRow,
    ContactRow,
    ContractRow,
    CsmTaskRow,
    EmailSendRow,
    HandoffRow,
    HealthScoreRow,
    SurveyResponseRow,
    SurveyRow,
    TouchpointRow,
)
from domain.health import band_for
from domain.health_config import health_config_for
from domain.models import Segment
from domain.words import in_words

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
CASEY = "casey@csflow.example"
ROBIN = "robin@csflow.example"


def days(n: float) -> datetime:
    """`n` days after NOW (before it when negative)."""
    return NOW + timedelta(days=n)


class Rows:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._serial = count(1)

    def _add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    def account(
        self,
        account_id: str,
        *,
        arr: float = 10_000.0,
        segment: str = "smb",
        stage: str = "adoption",
        csm: str = CASEY,
        health: int | None = None,
        created: datetime | None = None,
        name: str | None = None,
    ) -> AccountRow:
        return self._add(
            AccountRow(
                id=account_id,
                name=name or account_id.capitalize(),
                arr=arr,
                plan="standard",
                segment=segment,
                lifecycle_stage=stage,
                csm_owner=csm,
                health_score=health,
                timezone="UTC",
                created_at=created or days(-400),
                updated_at=created or days(-400),
            )
        )

    def contact(self, account_id: str, contact_id: str, role: str = "champion") -> ContactRow:
        return self._add(
            ContactRow(
                id=contact_id,
                account_id=account_id,
                name=contact_id.replace("-", " ").title(),
                email=f"{contact_id}@customer.example",
                role=role,
            )
        )

    def contract(
        self,
        account_id: str,
        ends: date,
        *,
        status: str = "active",
        auto_renew: bool = False,
        closed: datetime | None = None,
    ) -> ContractRow:
        return self._add(
            ContractRow(
                account_id=account_id,
                start_date=ends - timedelta(days=365),
                end_date=ends,
                value=1000.0,
                auto_renew=auto_renew,
                status=status,
                created_at=days(-400),
                closed_at=closed,
            )
        )

    def task(
        self,
        account_id: str,
        title: str,
        *,
        owner: str = CASEY,
        created: datetime | None = None,
        due: datetime | None = None,
        status: str = "open",
        completed: datetime | None = None,
        outcome: str | None = None,
        workflow_id: str | None = None,
        key: str | None = None,
    ) -> CsmTaskRow:
        return self._add(
            CsmTaskRow(
                account_id=account_id,
                owner=owner,
                title=title,
                due_at=due,
                priority="normal",
                status=status,
                outcome=outcome,
                created_at=created or days(-10),
                completed_at=completed,
                workflow_id=workflow_id,
                idempotency_key=key,
            )
        )

    def touch(
        self,
        account_id: str,
        kind: str,
        at: datetime,
        *,
        summary: str | None = None,
        details: dict[str, Any] | None = None,
        workflow_id: str | None = None,
        step: str | None = None,
    ) -> TouchpointRow:
        return self._add(
            TouchpointRow(
                account_id=account_id,
                kind=kind,
                summary=summary or f"{kind} #{next(self._serial)}",
                occurred_at=at,
                details=details or {},
                workflow_id=workflow_id,
                step=step,
            )
        )

    def stage(self, account_id: str, before: str, after: str, at: datetime) -> TouchpointRow:
        return self.touch(
            account_id,
            "stage_change",
            at,
            summary=f"Moved from {in_words(before).lower()} to {in_words(after).lower()}",
            details={"from": before, "to": after, "reason": "test"},
        )

    def score(
        self, account_id: str, score: int, at: datetime, *, segment: str = "smb"
    ) -> HealthScoreRow:
        band = band_for(score, health_config_for(Segment(segment)))
        component = {
            "name": "usage",
            "weight": 1.0,
            "value": score / 100,
            "points": float(score),
            "explanation": f"{score}% of seats active",
        }
        return self._add(
            HealthScoreRow(
                account_id=account_id,
                score=score,
                band=band.value,
                components=[component],
                inputs={"active_users": score},
                computed_at=at,
            )
        )

    def answer(
        self,
        account_id: str,
        kind: str,
        score: int | None,
        at: datetime,
        *,
        contact_id: str | None = None,
        workflow_id: str | None = None,
    ) -> SurveyRow:
        serial = next(self._serial)
        contact = contact_id or f"{account_id}-contact-{serial}"
        if self.session.get(ContactRow, contact) is None:
            self.contact(account_id, contact)
        survey = self._add(
            SurveyRow(
                account_id=account_id,
                contact_id=contact,
                kind=kind,
                topic="relationship",
                token=f"token-{serial}",
                link=f"https://surveys.example/{serial}",
                workflow_id=workflow_id,
                idempotency_key=f"survey-{serial}",
                created_at=at - timedelta(days=1),
            )
        )
        if score is not None:  # None: sent, never answered
            self._add(
                SurveyResponseRow(survey_id=survey.id, score=score, category="-", responded_at=at)
            )
        return survey

    def email(
        self,
        account_id: str,
        contact_id: str | None,
        at: datetime,
        *,
        status: str = "sent",
        category: str = "customer_success",
        step: str | None = None,
        workflow_id: str | None = None,
    ) -> EmailSendRow:
        serial = next(self._serial)
        # Keyed as workflows key their emails: "<workflow id>:<step>".
        key = f"{workflow_id}:{step}" if workflow_id and step else f"email-{serial}"
        return self._add(
            EmailSendRow(
                idempotency_key=key,
                account_id=account_id,
                contact_id=contact_id,
                to_email=f"{contact_id or 'csm'}@example.com",
                template="checkin",
                subject=f"Email {serial}",
                category=category,
                status=status,
                provider="outbox",
                workflow_id=workflow_id,
                step=step,
                created_at=at,
                sent_at=at if status == "sent" else None,
            )
        )

    def handoff(
        self,
        account_id: str,
        milestone_id: str,
        function: str,
        state: str,
        starts: datetime,
        due: datetime,
        *,
        done: datetime | None = None,
        cycle: int = 0,
        title: str | None = None,
    ) -> HandoffRow:
        return self._add(
            HandoffRow(
                account_id=account_id,
                key=f"{account_id}:{milestone_id}:{cycle}",
                milestone_id=milestone_id,
                cycle=cycle,
                function=function,
                title=title or milestone_id.replace("_", " ").capitalize(),
                owner=f"{function}@csflow.example",
                map_version="test",
                state=state,
                starts_at=starts,
                due_at=due,
                done_at=done,
                updated_at=done or starts,
            )
        )
