"""crm.portfolio: what each row shows, the filters, who sees what, sorting, paging and the
totals over every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import Session

from crm.portfolio import PortfolioPage, PortfolioQuery, PortfolioSort, portfolio_page
from domain.models import HealthBand, LifecycleStage, Segment
from tests.console_data.rows import CASEY, NOW, ROBIN, Rows, days


def page(session: Session, viewer: str | None = None, **query: object) -> PortfolioPage:
    return portfolio_page(session, PortfolioQuery.model_validate(query), now=NOW, visible_to=viewer)


def ids(result: PortfolioPage) -> list[str]:
    return [r.account_id for r in result.rows]


def test_a_row_shows_its_accounts_figures(session: Session, rows: Rows) -> None:
    rows.account("acme", arr=42_000, segment="mid_market", health=55, stage="renewal")
    rows.contract("acme", NOW.date() + timedelta(days=40))
    rows.contract("acme", NOW.date() - timedelta(days=325), status="renewed")
    rows.task("acme", "Call the champion", due=days(-2))
    rows.task("acme", "Prepare the renewal", due=days(3))
    rows.task("acme", "Undated idea")
    rows.task("acme", "Done already", due=days(-5), status="done", completed=days(-4))
    rows.touch("acme", "email", days(-6))
    rows.touch("acme", "call", days(-3))
    # Bookkeeping is no touch: a later health score or task entry does not count.
    rows.touch("acme", "health_score", days(-1))
    rows.touch("acme", "task", days(-1))
    for week in range(14):
        rows.score("acme", 40 + week, days(-7 * (14 - week)), segment="mid_market")

    (row,) = page(session).rows

    assert (row.name, row.arr, row.segment, row.stage) == (
        "Acme",
        42_000,
        Segment.MID_MARKET,
        LifecycleStage.RENEWAL,
    )
    assert (row.health_score, row.health_band) == (55, HealthBand.AT_RISK)
    assert row.renews_on == NOW.date() + timedelta(days=40)
    assert (row.open_tasks, row.overdue_tasks) == (3, 1)
    assert row.last_touch_at == days(-3)
    # The last twelve readings, oldest first.
    assert row.health_trend == list(range(42, 54))


def test_an_account_with_nothing_yet_shows_empty_figures(session: Session, rows: Rows) -> None:
    rows.account("new")
    (row,) = page(session).rows
    assert row.health_score is None and row.health_band is None and row.health_trend == []
    assert row.renews_on is None and row.last_touch_at is None
    assert (row.open_tasks, row.overdue_tasks) == (0, 0)


def test_bands_follow_each_tiers_cut_offs(session: Session, rows: Rows) -> None:
    # 72 is healthy for a small business (from 70) but at risk for an enterprise (from 75).
    rows.account("small", segment="smb", health=72)
    rows.account("big", segment="enterprise", health=72)
    rows.account("low", segment="smb", health=20)
    rows.account("unscored")
    assert ids(page(session, bands=["healthy"])) == ["small"]
    assert ids(page(session, bands=["at_risk"])) == ["big"]
    assert ids(page(session, bands=["at_risk", "critical"])) == ["big", "low"]


def test_filters_combine(session: Session, rows: Rows) -> None:
    rows.account("a", segment="smb", stage="onboarding", csm=CASEY)
    rows.account("b", segment="smb", stage="adoption", csm=ROBIN)
    rows.account("c", segment="enterprise", stage="adoption", csm=CASEY)
    assert ids(page(session, segment="smb")) == ["a", "b"]
    assert ids(page(session, stage="adoption")) == ["b", "c"]
    assert ids(page(session, csm=ROBIN.upper())) == ["b"]
    assert ids(page(session, segment="smb", stage="adoption")) == ["b"]


def test_renewal_window_counts_active_contracts_ending_within_it(
    session: Session, rows: Rows
) -> None:
    today = NOW.date()
    for account_id, ends, status in [
        ("soon", today + timedelta(days=20), "active"),
        ("on-the-edge", today + timedelta(days=30), "active"),
        ("later", today + timedelta(days=31), "active"),
        ("lapsed", today - timedelta(days=3), "active"),  # ended, not decided yet
        ("decided", today + timedelta(days=5), "renewed"),
    ]:
        rows.account(account_id)
        rows.contract(account_id, ends, status=status)
    rows.account("no-contract")
    assert ids(page(session, renewing_within_days=30)) == ["lapsed", "on-the-edge", "soon"]


def test_a_csm_sees_only_their_accounts(session: Session, rows: Rows) -> None:
    rows.account("mine", csm=CASEY, arr=1_000)
    rows.account("theirs", csm=ROBIN, arr=2_000)
    casey = page(session, CASEY)
    assert ids(casey) == ["mine"]
    assert casey.totals.arr == 1_000
    assert casey.csm_choices == [CASEY]
    # Filtering by another CSM shows nothing of theirs.
    assert ids(page(session, CASEY, csm=ROBIN)) == []
    manager = page(session, None)
    assert ids(manager) == ["mine", "theirs"]
    assert manager.csm_choices == [CASEY, ROBIN]


def test_totals_cover_every_page_and_arr_at_risk_counts_the_bands_below_healthy(
    session: Session, rows: Rows
) -> None:
    rows.account("healthy", arr=100, health=90)
    rows.account("at-risk", arr=20, health=50)
    rows.account("critical", arr=3, health=10)
    rows.account("unscored", arr=4_000)
    # A churned account counts among the accounts but brings no ARR.
    rows.account("gone", arr=50_000, health=10, stage="churned")
    result = page(session, per_page=2)
    assert len(result.rows) == 2 and result.pages == 3
    assert result.totals.accounts == 5
    assert result.totals.arr == 4_123
    assert result.totals.arr_at_risk == 23
    assert result.totals.accounts_at_risk == 2


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        (PortfolioSort.NAME, False, ["alpha", "bravo", "charlie", "delta"]),
        (PortfolioSort.ARR, True, ["charlie", "alpha", "delta", "bravo"]),
        # Never scored, no contract, never touched: last either way.
        (PortfolioSort.HEALTH, False, ["bravo", "charlie", "alpha", "delta"]),
        (PortfolioSort.HEALTH, True, ["alpha", "charlie", "bravo", "delta"]),
        (PortfolioSort.RENEWAL, False, ["charlie", "alpha", "bravo", "delta"]),
        (PortfolioSort.RENEWAL, True, ["bravo", "alpha", "charlie", "delta"]),
        # In the order an account lives through the stages.
        (PortfolioSort.STAGE, False, ["delta", "bravo", "alpha", "charlie"]),
        (PortfolioSort.OPEN_TASKS, True, ["bravo", "alpha", "charlie", "delta"]),
        (PortfolioSort.OVERDUE_TASKS, True, ["alpha", "bravo", "charlie", "delta"]),
        (PortfolioSort.LAST_TOUCH, True, ["charlie", "alpha", "bravo", "delta"]),
        (PortfolioSort.LAST_TOUCH, False, ["bravo", "alpha", "charlie", "delta"]),
    ],
)
def test_sorting_by_each_column(
    session: Session, rows: Rows, sort: PortfolioSort, descending: bool, expected: list[str]
) -> None:
    rows.account("alpha", arr=500, health=80, stage="renewal")
    rows.account("bravo", arr=100, health=30, stage="onboarding")
    rows.account("charlie", arr=900, health=60, stage="churned")
    rows.account("delta", arr=200, stage="trial")
    rows.contract("alpha", NOW.date() + timedelta(days=50))
    rows.contract("bravo", NOW.date() + timedelta(days=90))
    rows.contract("charlie", NOW.date() + timedelta(days=10))
    rows.task("alpha", "late", due=days(-1))
    rows.task("bravo", "one", due=days(2))
    rows.task("bravo", "two", due=days(3))
    rows.touch("alpha", "email", days(-5))
    rows.touch("bravo", "email", days(-50))
    rows.touch("charlie", "meeting", days(-1))
    assert ids(page(session, sort=sort, descending=descending)) == expected


def test_paging_past_the_end_shows_the_last_page(session: Session, rows: Rows) -> None:
    for n in range(5):
        rows.account(f"account-{n}")
    result = page(session, per_page=2, page=9)
    assert result.page == 3 and ids(result) == ["account-4"]
    assert (result.first_row, result.last_row) == (5, 5)
    middle = page(session, per_page=2, page=2)
    assert ids(middle) == ["account-2", "account-3"]
    assert (middle.first_row, middle.last_row) == (3, 4)


def test_the_query_refuses_what_it_cannot_mean() -> None:
    with pytest.raises(ValidationError):
        PortfolioQuery.model_validate({"bands": ["amber"]})
    with pytest.raises(ValidationError):
        PortfolioQuery.model_validate({"per_page": 0})
    with pytest.raises(ValidationError):
        PortfolioQuery.model_validate({"sort": "name; drop table accounts"})
