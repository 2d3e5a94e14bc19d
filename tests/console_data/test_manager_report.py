"""crm.manager_report: each figure from the rows the workflows leave, over its period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from crm.manager_report import ManagerReport, RenewalOutlook, manager_report
from tests.console_data.rows import CASEY, NOW, ROBIN, Rows, days

# NOW is 15 Jun 2026: the report's twelve months run from 1 Jul 2025.
MAY = datetime(2026, 5, 20, tzinfo=UTC)
JUNE = datetime(2026, 6, 3, tzinfo=UTC)


def report(session: Session) -> ManagerReport:
    return manager_report(session, now=NOW)


def test_nps_by_month_and_its_distribution(session: Session, rows: Rows) -> None:
    rows.account("acme")
    for score, at in [(10, MAY), (9, MAY), (3, MAY), (8, JUNE), (6, JUNE)]:
        rows.answer("acme", "nps", score, at)
    rows.answer("acme", "nps", 0, datetime(2025, 6, 30, tzinfo=UTC))  # before the period
    rows.answer("acme", "nps", None, JUNE)  # never answered
    rows.answer("acme", "csat", 5, JUNE)  # another kind of survey
    nps = report(session).nps
    assert [m.month for m in nps.months][:1] == [date(2025, 7, 1)]
    assert [m.month for m in nps.months][-2:] == [date(2026, 5, 1), date(2026, 6, 1)]
    may, june = nps.months[-2:]
    assert (may.answers, may.good, may.middle, may.bad) == (3, 2, 0, 1)
    assert may.nps is not None and round(may.nps, 1) == 33.3
    assert june.nps == -50 and june.label == "Jun 2026"
    assert nps.months[0].nps is None
    assert [s.answers for s in nps.scores] == [0, 0, 0, 1, 0, 0, 1, 0, 1, 1, 1]
    assert nps.total.answers == 5 and nps.total.nps == 0


def test_csat_average_and_share_satisfied(session: Session, rows: Rows) -> None:
    rows.account("acme")
    for score in (5, 4, 2, 1):
        rows.answer("acme", "csat", score, JUNE)
    total = report(session).csat.total
    assert total.average == 3
    assert total.satisfied_share == 0.5
    assert [s.score for s in report(session).csat.scores] == [1, 2, 3, 4, 5]


def test_onboarding_completion_and_time_to_value(session: Session, rows: Rows) -> None:
    for account_id in ("fast", "slow", "gave-up", "still", "long-ago"):
        rows.account(account_id)
    starts = {"fast": -100, "slow": -90, "gave-up": -80, "still": -10, "long-ago": -500}
    for account_id, day in starts.items():
        rows.stage(account_id, "requirements", "onboarding", days(day))
    # The onboarding workflow's completion email (its "complete" step) is the customer there.
    rows.email("fast", None, days(-80), step="complete", workflow_id="onboarding-fast")
    rows.email("slow", None, days(-50), step="complete", workflow_id="onboarding-slow")
    rows.email("long-ago", None, days(-450), step="complete", workflow_id="onboarding-long-ago")
    rows.email("gave-up", None, days(-30), step="complete", workflow_id="renewal-gave-up")
    for account_id, day in (("fast", -79), ("slow", -49), ("gave-up", -20)):
        rows.stage(account_id, "onboarding", "adoption", days(day))
    figures = report(session).onboarding
    assert (figures.started, figures.completed) == (4, 2)
    assert (figures.moved_on_incomplete, figures.in_progress) == (1, 1)
    assert figures.completion_rate is not None and round(figures.completion_rate, 3) == 0.667
    assert figures.median_days_to_value == 30  # 20 and 40 days


def test_renewals_by_window_and_likely_outcome(session: Session, rows: Rows) -> None:
    today = NOW.date()
    plan = [
        # (account, ARR, health, auto-renew, ends in days)
        ("healthy", 100, 85, False, 30),
        ("automatic", 200, None, True, 60),
        ("healthy-auto", 300, 90, True, 150),
        ("shaky", 400, 50, True, 120),
        ("failing", 500, 10, False, 80),
        ("unscored", 600, None, False, 170),
        ("far-off", 700, 85, False, 200),
        ("lapsed", 800, 85, False, -1),
    ]
    for account_id, arr, health, auto, ends in plan:
        rows.account(account_id, arr=arr, health=health)
        rows.contract(account_id, today + timedelta(days=ends), auto_renew=auto)
    rows.account("churned", arr=900, health=85, stage="churned")
    rows.contract("churned", today + timedelta(days=10))
    next_90, next_180 = report(session).renewals
    assert (next_90.within_days, next_180.within_days) == (90, 180)

    def by_outlook(window: object) -> dict[RenewalOutlook, tuple[int, float]]:
        return {g.outlook: (g.accounts, g.arr) for g in window.groups}  # type: ignore[attr-defined]

    assert by_outlook(next_90) == {
        RenewalOutlook.LIKELY: (1, 100),
        RenewalOutlook.AUTOMATIC: (1, 200),
        RenewalOutlook.AT_RISK: (0, 0),
        RenewalOutlook.LIKELY_CHURN: (1, 500),
        RenewalOutlook.UNSCORED: (0, 0),
    }
    assert by_outlook(next_180) == {
        RenewalOutlook.LIKELY: (1, 100),
        RenewalOutlook.AUTOMATIC: (2, 500),
        RenewalOutlook.AT_RISK: (1, 400),
        RenewalOutlook.LIKELY_CHURN: (1, 500),
        RenewalOutlook.UNSCORED: (1, 600),
    }
    assert (next_180.accounts, next_180.arr) == (6, 2_100)
    assert next_90.groups[0].outlook_words == "Likely to renew"


def test_sla_breaches_come_from_the_escalations_tasks(session: Session, rows: Rows) -> None:
    rows.account("acme")
    late, kept = "escalation-acme-ticket-1", "escalation-acme-nps-2"
    rows.task("acme", "Escalation opened", created=MAY, workflow_id=late, key=f"{late}:opened:task")
    rows.task("acme", "Missed", created=MAY, workflow_id=late, key=f"{late}:sla:acknowledge:task")
    rows.task("acme", "Missed", created=JUNE, workflow_id=late, key=f"{late}:sla:update:1:task")
    rows.task("acme", "Missed", created=JUNE, workflow_id=late, key=f"{late}:sla:update:2:task")
    rows.task(
        "acme", "Escalation opened", created=JUNE, workflow_id=kept, key=f"{kept}:opened:task"
    )
    rows.task("acme", "Unrelated", created=JUNE, key="journey-acme:bounce:1")
    sla = report(session).sla
    assert (sla.opened, sla.breached) == (2, 1)
    assert {b.sla: b.count for b in sla.by_sla} == {"acknowledge": 1, "update": 2, "resolve": 0}
    assert [b.sla_words for b in sla.by_sla] == [
        "Acknowledgement late",
        "Update late",
        "Resolution late",
    ]
    may, june = sla.months[-2:]
    assert (may.opened, may.breaches, june.opened, june.breaches) == (1, 1, 1, 2)


def test_tasks_planned_against_done_per_csm(session: Session, rows: Rows) -> None:
    rows.account("acme")
    rows.task("acme", "planned, done", due=days(-5), status="done", completed=days(-4))
    rows.task("acme", "planned, late", due=days(-3))
    rows.task("acme", "unplanned, done", due=days(20), status="done", completed=days(-1))
    rows.task("acme", "due later", due=days(3))
    rows.task("acme", "long overdue", due=days(-90))
    rows.task("acme", "robin's", owner=ROBIN, due=days(-2), status="done", completed=days(-2))
    rows.task("acme", "old", owner="old@csflow.example", due=days(-90), status="done",
              completed=days(-89))  # fmt: skip
    figures = {t.csm: t for t in report(session).tasks_by_csm}
    assert list(figures) == [CASEY, ROBIN]
    casey = figures[CASEY]
    assert (casey.planned, casey.done, casey.planned_done, casey.overdue) == (2, 2, 1, 2)
    robin = figures[ROBIN]
    assert (robin.planned, robin.done, robin.planned_done, robin.overdue) == (1, 1, 1, 0)


def test_emails_per_contact_per_week(session: Session, rows: Rows) -> None:
    rows.account("acme")
    monday = datetime(2026, 6, 8, 9, tzinfo=UTC)  # the week before NOW's
    for n in range(3):
        rows.email("acme", "pat", monday + timedelta(days=n))
    rows.email("acme", "ann", monday + timedelta(days=4))
    rows.email("acme", "ann", monday, status="suppressed")
    rows.email("acme", None, monday, category="csm_alert")
    rows.email("acme", "pat", monday, category="csm_alert")
    rows.email("acme", "pat", NOW - timedelta(hours=1))
    report_ = report(session)
    weeks = report_.email_weeks
    assert len(weeks) == 8 and weeks[-1].week_start == date(2026, 6, 15)
    last, this = weeks[-2:]
    assert last.week_start == date(2026, 6, 8)
    assert (last.contacts, last.emails, last.most_to_one_contact) == (2, 4, 3)
    assert last.contacts_over_cap == 1 and report_.email_cap == 2
    assert last.per_contact == 2
    assert (this.contacts, this.emails) == (1, 1)
    assert weeks[0].contacts == 0 and weeks[0].per_contact is None


def test_an_empty_crm_reports_nothing_without_failing(session: Session) -> None:
    result = report(session)
    assert result.nps.total.nps is None and result.csat.total.average is None
    assert result.onboarding.completion_rate is None
    assert result.onboarding.median_days_to_value is None
    assert [w.accounts for w in result.renewals] == [0, 0]
    assert result.sla.opened == 0 and result.tasks_by_csm == []
    assert result.since == datetime(2025, 7, 1, tzinfo=UTC)
