"""WorkLog: what a workflow did for an account (emails, tasks, alerts, surveys).

Child workflows return theirs; the journey merges them so its queries and the demo summary can
answer "what happened to this customer" without reading the CRM.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.models import EmailStatus, SurveyKind


class EmailRecord(BaseModel):
    key: str
    template: str
    status: EmailStatus
    at: datetime
    # It asks the customer for something (an answer, a decision, a reply): a touch that can go
    # unanswered. Informational mail (introductions, "you're live", newsletters) does not.
    asks: bool = False


class TaskRecord(BaseModel):
    task_id: int
    title: str
    owner: str
    key: str
    open: bool = True


class AlertRecord(BaseModel):
    owner: str
    subject: str
    key: str


class SurveyRecord(BaseModel):
    survey_id: int
    kind: SurveyKind
    topic: str
    token: str
    sent_at: datetime
    score: int | None = None
    category: str | None = None


class WorkLog(BaseModel):
    emails: list[EmailRecord] = Field(default_factory=list)
    tasks: list[TaskRecord] = Field(default_factory=list)
    alerts: list[AlertRecord] = Field(default_factory=list)
    surveys: list[SurveyRecord] = Field(default_factory=list)

    def merge(self, other: WorkLog) -> None:
        self.emails.extend(other.emails)
        self.tasks.extend(other.tasks)
        self.alerts.extend(other.alerts)
        self.surveys.extend(other.surveys)

    def sent_keys(self) -> list[str]:
        return [e.key for e in self.emails]

    def open_tasks(self) -> list[TaskRecord]:
        return [t for t in self.tasks if t.open]
