"""`/console/report` (managers only): the managers' report of crm.manager_report as charts with
their numbers beside them: NPS and CSAT by month and by answer, onboarding, renewals ahead by
likely outcome, escalation SLAs, each task owner's planned against done, and the email each
contact gets a week against the contact policy's cap."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from crm.database import Store
from crm.manager_report import ManagerReport, RenewalOutlook, SurveyFigures, manager_report
from domain.models import SurveyKind
from domain.people import display_name
from starter.charts import (
    Bar,
    BarGroup,
    BarKey,
    Guide,
    LineSeries,
    bar_chart,
    bar_groups_chart,
    line_chart,
)
from starter.console.access import ManagerDep, console_store
from starter.console.pages import render
from starter.console.words import count, money

router = APIRouter(prefix="/console", include_in_schema=False)
_OUTLOOK_TONES = {
    RenewalOutlook.LIKELY: "good",
    RenewalOutlook.AUTOMATIC: "accent",
    RenewalOutlook.AT_RISK: "warn",
    RenewalOutlook.LIKELY_CHURN: "bad",
    RenewalOutlook.UNSCORED: "muted",
}


@dataclass(frozen=True)
class ReportCharts:
    nps_months: Markup
    nps_scores: Markup
    csat_months: Markup
    csat_scores: Markup
    renewals: Markup
    sla: Markup
    tasks: Markup
    email: Markup


def _survey_charts(figures: SurveyFigures) -> tuple[Markup, Markup]:
    nps = figures.kind == SurveyKind.NPS
    name = "NPS" if nps else "CSAT"
    months = figures.months
    values = [m.nps if nps else m.average for m in months]
    answered = [m for m, v in zip(months, values, strict=True) if v is not None]
    total = figures.total
    if nps:
        said = (
            f"{count(total.answers, 'answer')} in twelve months: "
            f"{count(total.good, 'promoter')}, {count(total.middle, 'passive')}, "
            f"{count(total.bad, 'detractor')}"
            + (f"; NPS {total.nps:+.0f} over the year." if total.nps is not None else ".")
        )
    else:
        said = f"{count(total.answers, 'answer')} in twelve months" + (
            f", {total.average:.1f} out of 5 on average." if total.average is not None else "."
        )
    by_month = line_chart(
        [m.label.split()[0] for m in months],
        [LineSeries(name, values)],
        title=f"{name} by month",
        desc=said + f" {len(answered)} of the twelve months had answers.",
        low=-100 if nps else 1,
        high=100 if nps else 5,
        guides=[Guide(0, "0")] if nps else [Guide(4, "Satisfied")],
        value_format=(lambda v: f"{v:+.0f}") if nps else (lambda v: f"{v:.1f}"),
    )

    def tone(score: int) -> str:
        if nps:
            return "bad" if score <= 6 else ("neutral" if score <= 8 else "good")
        return "bad" if score <= 2 else ("neutral" if score == 3 else "good")

    by_score = bar_chart(
        [Bar(str(s.score), s.answers, tone(s.score)) for s in figures.scores],
        title=f"{name} answers by score",
        desc=", ".join(f"{s.score}: {s.answers}" for s in figures.scores if s.answers)
        or "No answers yet.",
    )
    return by_month, by_score


def _charts(report: ManagerReport, names: dict[str, str]) -> ReportCharts:
    nps_months, nps_scores = _survey_charts(report.nps)
    csat_months, csat_scores = _survey_charts(report.csat)
    outlooks = [g.outlook for g in report.renewals[0].groups] if report.renewals else []
    renewals = bar_groups_chart(
        [
            BarGroup(f"Next {w.within_days} days", [g.arr for g in w.groups])
            for w in report.renewals
        ],
        [BarKey(_outlook_words(report, o), _OUTLOOK_TONES.get(o, "neutral")) for o in outlooks],
        layout="stacked",
        title="ARR up for renewal, by likely outcome",
        desc="; ".join(
            f"next {w.within_days} days: {count(w.accounts, 'account')}, ARR {money(w.arr)}"
            for w in report.renewals
        )
        + ".",
        value_format=money,
    )
    sla_months = report.sla.months
    sla = line_chart(
        [m.label.split()[0] for m in sla_months],
        [
            LineSeries("Escalations opened", [m.opened for m in sla_months], "accent"),
            LineSeries("SLAs missed", [m.breaches for m in sla_months], "bad"),
        ],
        title="Escalations and missed SLAs by month",
        desc=f"{count(report.sla.opened, 'escalation')} opened in twelve months, "
        f"{report.sla.breached} of them missed at least one SLA.",
        low=0,
        high=_even_top([m.opened for m in sla_months] + [m.breaches for m in sla_months]),
        value_format=lambda v: f"{v:.0f}",
    )
    tasks = bar_groups_chart(
        [
            BarGroup(display_name(t.csm, names), [t.planned, t.done, t.overdue])
            for t in report.tasks_by_csm
        ],
        [BarKey("Due", "accent"), BarKey("Done", "good"), BarKey("Overdue", "bad")],
        layout="grouped",
        title="Tasks due, done and overdue by owner, last 30 days",
        desc="; ".join(
            f"{display_name(t.csm, names)}: {t.planned} due, {t.done} done, {t.overdue} overdue"
            for t in report.tasks_by_csm
        )
        or "No tasks in the last 30 days.",
        value_format=lambda v: f"{v:.0f}",
    )
    weeks = report.email_weeks
    busiest = max((w.most_to_one_contact for w in weeks), default=0)
    most = max(report.email_cap, busiest)
    email = line_chart(
        [w.label for w in weeks],
        [
            LineSeries("Average per contact", [w.per_contact for w in weeks], "accent"),
            LineSeries("Most to one contact", [w.most_to_one_contact for w in weeks], "warn"),
        ],
        title="Emails per contact a week",
        desc=f"Over the last {len(weeks)} weeks, at most {busiest} emails to one contact in a "
        f"week; the cap is {report.email_cap}. "
        f"{sum(w.contacts_over_cap for w in weeks)} contact-weeks went over it.",
        low=0,
        high=most + 1,
        guides=[Guide(report.email_cap, "Cap", "bad")],
        value_format=lambda v: f"{v:.1f}".removesuffix(".0"),
    )
    return ReportCharts(
        nps_months, nps_scores, csat_months, csat_scores, renewals, sla, tasks, email
    )


def _even_top(counts: list[int]) -> int:
    """A count axis's top: even (its middle line is a whole number), at least 2."""
    top = max([2, *counts])
    return top + top % 2


def _outlook_words(report: ManagerReport, outlook: RenewalOutlook) -> str:
    for window in report.renewals:
        for group in window.groups:
            if group.outlook == outlook:
                return group.outlook_words
    return str(outlook.value)


def _report(store: Store) -> ManagerReport:
    with store.session() as session:
        return manager_report(session, now=datetime.now(UTC))


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


@router.get("/report")
async def report_page(request: Request, viewer: ManagerDep) -> Response:
    report = await asyncio.to_thread(_report, console_store())
    names: dict[str, str] = request.app.state.settings.team_names
    return render(
        request,
        "report.html.j2",
        viewer=viewer,
        page="report",
        report=report,
        charts=_charts(report, names),
        percent=percent,
    )
