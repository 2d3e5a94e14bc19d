"""Unit tests for the in-memory visibility query language (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from temporalio.api.enums.v1 import IndexedValueType, WorkflowExecutionStatus

from devserver.visibility_query import (
    BOOL,
    DATETIME,
    DOUBLE,
    EXECUTION_STATUSES,
    INT,
    KEYWORD,
    KEYWORD_LIST,
    SYSTEM_ATTRIBUTES,
    TEXT,
    And,
    Between,
    Comparison,
    InList,
    IsNull,
    Not,
    Or,
    OrderBy,
    QueryError,
    StartsWith,
    VisibilityQuery,
    parse_query,
)

CUSTOM_ATTRIBUTES = {
    "CustomerTier": KEYWORD,
    "Notes": TEXT,
    "Score": DOUBLE,
    "Priority": INT,
    "IsVip": BOOL,
    "Tags": KEYWORD_LIST,
    "DueAt": DATETIME,
    # Collides with the ORDER keyword, so it can only be used backquoted.
    "Order": KEYWORD,
}
TYPES = {**SYSTEM_ATTRIBUTES, **CUSTOM_ATTRIBUTES}

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000
HOUR_NS = 3600 * 1_000_000_000

RECORD: dict[str, object] = {
    "WorkflowId": "order-123",
    "RunId": "run-1",
    "WorkflowType": "OrderWorkflow",
    "TaskQueue": "orders",
    "ExecutionStatus": "Running",
    "StartTime": T0,
    "ExecutionDuration": 90 * 60 * 1_000_000_000,
    "HistoryLength": 42,
    "BuildIds": ["v1", "v2"],
    "TemporalSchedulePaused": False,
    "CustomerTier": "gold",
    "Notes": "Urgent: call the customer back",
    "Score": 3.5,
    "Priority": 5,
    "IsVip": True,
    "Tags": ["billing", "escalated"],
    "DueAt": datetime(2024, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
}

# Every attribute type has a NULL here: missing key, explicit None, or empty list.
SPARSE: dict[str, object] = {"RunId": "run-2", "Priority": None, "Tags": []}


def matches(query: str, record: dict[str, object]) -> bool:
    return parse_query(query, TYPES).matches(record)


MATCH_CASES: list[tuple[str, bool]] = [
    # empty query and ORDER BY without filter
    ("", True),
    ("   \n\t", True),
    ("ORDER BY StartTime", True),
    ("order by StartTime desc", True),
    # Keyword: equality, quoting, backquoted names
    ("WorkflowId = 'order-123'", True),
    ('WorkflowId = "order-123"', True),
    ("`WorkflowId` = 'order-123'", True),
    ("WorkflowId='order-123'", True),
    ("WorkflowId = 'order-12'", False),
    ("WorkflowId = 'ORDER-123'", False),
    ("WorkflowId != 'other'", True),
    ("WorkflowId <> 'order-123'", False),
    # Keyword: lexicographic ordering
    ("WorkflowId < 'order-2'", True),
    ("WorkflowId <= 'order-100'", False),
    ("WorkflowId > 'order-123'", False),
    ("WorkflowId >= 'order-123'", True),
    ("WorkflowId BETWEEN 'order-1' AND 'order-2'", True),
    ("WorkflowId NOT BETWEEN 'order-1' AND 'order-2'", False),
    # Keyword: IN, STARTS_WITH
    ("WorkflowId IN ('a', 'order-123')", True),
    ("WorkflowId NOT IN ('a', 'order-123')", False),
    ("WorkflowId not in ('a','b')", True),
    ("WorkflowType IN ('OrderWorkflow')", True),
    ("WorkflowId STARTS_WITH 'order-'", True),
    ("WorkflowId starts_with 'Order-'", False),
    ("WorkflowId NOT STARTS_WITH 'order-'", False),
    ("TaskQueue NOT STARTS_WITH 'billing'", True),
    # IS NULL
    ("WorkflowId IS NOT NULL", True),
    ("WorkflowId IS NULL", False),
    ("ParentWorkflowId IS NULL", True),
    ("ParentWorkflowId is not null", False),
    ("CloseTime IS NULL", True),
    # comparisons with NULL are UNKNOWN, never true, even negated
    ("ParentWorkflowId = 'x'", False),
    ("ParentWorkflowId != 'x'", False),
    ("NOT ParentWorkflowId = 'x'", False),
    ("CloseTime < '2100-01-01'", False),
    # ExecutionStatus: names normalized, enum numbers accepted
    ("ExecutionStatus = 'Running'", True),
    ("ExecutionStatus = 'running'", True),
    ("ExecutionStatus = 'WORKFLOW_EXECUTION_STATUS_RUNNING'", True),
    ("ExecutionStatus = 1", True),
    ("ExecutionStatus IN ('Completed', 'Failed')", False),
    ("ExecutionStatus != 'Completed'", True),
    # Int
    ("HistoryLength = 42", True),
    ("HistoryLength = '42'", True),
    ("HistoryLength > 40 AND HistoryLength < 43", True),
    ("HistoryLength >= 43", False),
    ("HistoryLength <= 42", True),
    ("HistoryLength BETWEEN 42 AND 42", True),
    ("HistoryLength NOT BETWEEN 1 AND 10", True),
    ("HistoryLength IN (1, 2, 42)", True),
    ("HistoryLength NOT IN (1, 2, 42)", False),
    ("Priority > -5", True),
    ("Priority = +5", True),
    # Int: ExecutionDuration takes Go duration strings
    ("ExecutionDuration = '1h30m'", True),
    ("ExecutionDuration > '1h'", True),
    ("ExecutionDuration < '90m'", False),
    ("ExecutionDuration <= '5400s'", True),
    ("ExecutionDuration > '100ms'", True),
    ("ExecutionDuration = 5400000000000", True),
    ("ExecutionDuration BETWEEN '1.5h' AND '2h'", True),
    # Double
    ("Score = 3.5", True),
    ("Score > 3", True),
    ("Score < '3.6'", True),
    ("Score >= 35e-1", True),
    ("Score BETWEEN 1 AND 3.4", False),
    ("Score IN (1.0, 3.5)", True),
    ("Score != 3.5", False),
    # Bool
    ("IsVip = true", True),
    ("IsVip = TRUE", True),
    ("IsVip = 'true'", True),
    ("IsVip = false", False),
    ("IsVip != false", True),
    ("IsVip IN (false)", False),
    ("TemporalSchedulePaused = false", True),
    # Datetime: RFC3339 with offsets and fractions, plain dates, epoch nanoseconds
    ("StartTime = '2024-01-02T03:04:05Z'", True),
    ("StartTime = '2024-01-02T04:04:05+01:00'", True),
    ("StartTime = '2024-01-02T03:04:05.000Z'", True),
    ("StartTime > '2024-01-02'", True),
    ("StartTime < '2024-01-02T03:04:05.000001Z'", True),
    ("StartTime > '2024-01-02T03:04:04.999999999Z'", True),
    ("StartTime < '2024-01-02T03:04:05-00:01'", True),
    ("StartTime BETWEEN '2024-01-01' AND '2024-01-03'", True),
    ("StartTime NOT BETWEEN '2024-01-01' AND '2024-01-03'", False),
    (f"StartTime >= {T0_NS}", True),
    (f"StartTime > {T0_NS}", False),
    (f"StartTime = '{T0_NS}'", True),
    ("DueAt = '2024-03-01T10:00:00Z'", True),
    ("DueAt IN ('2024-03-01T10:00:00Z', '2025-01-01')", True),
    # KeywordList: = contains, != does not contain, IN any element
    ("Tags = 'billing'", True),
    ("Tags = 'bill'", False),
    ("Tags != 'billing'", False),
    ("Tags != 'other'", True),
    ("Tags IN ('x', 'escalated')", True),
    ("Tags NOT IN ('x', 'escalated')", False),
    ("Tags NOT IN ('x', 'y')", True),
    ("Tags STARTS_WITH 'esc'", True),
    ("Tags NOT STARTS_WITH 'esc'", False),
    ("BuildIds = 'v2'", True),
    # Text: every literal token must occur, case-insensitively
    ("Notes = 'urgent:'", True),
    ("Notes = 'CUSTOMER call'", True),
    ("Notes = 'customer refund'", False),
    ("Notes = 'cust'", False),
    ("Notes != 'refund'", True),
    ("Notes != 'back'", False),
    ("Notes STARTS_WITH 'urgent'", True),
    ("Notes IN ('refund', 'back')", True),
    # boolean logic and precedence (NOT > AND > OR)
    ("WorkflowId = 'x' OR HistoryLength = 42", True),
    ("WorkflowId = 'x' OR HistoryLength = 42 AND IsVip = false", False),
    ("(WorkflowId = 'x' OR HistoryLength = 42) AND IsVip = true", True),
    ("NOT WorkflowId = 'x' AND IsVip = true", True),
    ("NOT (WorkflowId = 'order-123' OR IsVip = false)", False),
    ("NOT NOT IsVip = true", True),
    ("((IsVip = true))", True),
    ("WorkflowId = 'x' or HistoryLength between 40 and 50", True),
    ("IsVip = true AND HistoryLength BETWEEN 1 AND 50 AND Score > 1", True),
    # three-valued logic: UNKNOWN OR TRUE = TRUE, UNKNOWN AND FALSE = FALSE
    ("ParentWorkflowId = 'x' OR IsVip = true", True),
    ("ParentWorkflowId = 'x' AND IsVip = true", False),
    ("NOT (ParentWorkflowId = 'x' AND IsVip = false)", True),
    ("NOT (ParentWorkflowId = 'x' OR IsVip = false)", False),
    # clauses after the filter, reserved word as backquoted attribute
    ("IsVip = true ORDER BY StartTime DESC, RunId", True),
    ("IsVip = true GROUP BY ExecutionStatus", True),
    ("`Order` IS NULL", True),
]


@pytest.mark.parametrize(("query", "expected"), MATCH_CASES)
def test_matches(query: str, expected: bool) -> None:
    assert matches(query, RECORD) is expected


NULL_CASES: list[tuple[str, bool]] = [
    ("Priority = 1", False),
    ("Priority != 1", False),
    ("Priority < 1", False),
    ("Priority IN (1)", False),
    ("Priority NOT IN (1)", False),
    ("Priority NOT BETWEEN 1 AND 2", False),
    ("Score != 1.5", False),
    ("IsVip != true", False),
    ("DueAt < '2100-01-01'", False),
    ("Tags != 'x'", False),
    ("Tags NOT STARTS_WITH 'x'", False),
    ("Notes != 'x'", False),
    ("CustomerTier NOT STARTS_WITH 'x'", False),
    ("NOT CustomerTier = 'x'", False),
    ("Priority IS NULL", True),
    ("Tags IS NULL", True),
    ("Notes IS NULL", True),
    ("Tags IS NOT NULL", False),
    ("RunId IS NOT NULL", True),
    ("Priority IS NULL AND Tags IS NULL AND Score IS NULL", True),
]


@pytest.mark.parametrize(("query", "expected"), NULL_CASES)
def test_null_semantics(query: str, expected: bool) -> None:
    assert matches(query, SPARSE) is expected


ERROR_CASES: list[tuple[str, list[str]]] = [
    # syntax errors point at the position and the text there
    ("WorkflowId = AND AND", ["position 14", "near 'AND AND'", "expected a value"]),
    ("WorkflowId = 'x' AND", ["end of query", "expected a search attribute name or '('"]),
    ("WorkflowId = 'x' AND AND", ["position 22", "expected a search attribute name"]),
    ("= 'x'", ["position 1", "expected a search attribute name"]),
    ("'x' = WorkflowId", ["expected a search attribute name"]),
    ("WorkflowId", ["end of query", "expected an operator"]),
    ("WorkflowId LIKE 'x%'", ["near 'LIKE 'x%''", "expected an operator"]),
    ("WorkflowId == 'x'", ["position 13", "expected a value"]),
    ("WorkflowId = abc", ["quote string literals"]),
    ("WorkflowId = NULL", ["use IS NULL or IS NOT NULL"]),
    ("WorkflowId IS 'x'", ["expected NULL or NOT NULL after IS"]),
    ("WorkflowId NOT = 'x'", ["expected IN, BETWEEN or STARTS_WITH after NOT"]),
    ("WorkflowId IN 'a'", ["expected '(' after IN"]),
    ("WorkflowId IN ()", ["expected a value"]),
    ("WorkflowId IN ('a' 'b')", ["position 20", "expected ',' or ')' in IN list"]),
    ("WorkflowId IN ('a',", ["end of query", "expected a value"]),
    ("HistoryLength BETWEEN 1 OR 2", ["expected AND between the BETWEEN bounds"]),
    ("(WorkflowId = 'x'", ["end of query", "expected AND, OR or ')'"]),
    ("()", ["expected a search attribute name or '('"]),
    (
        "WorkflowId = 'x')",
        ["position 17", "expected AND, OR, GROUP BY, ORDER BY or end of query"],
    ),
    ("WorkflowId = 'x", ["position 14", "unterminated string literal"]),
    ("`WorkflowId = 'x'", ["position 1", "unterminated attribute name"]),
    ("`` = 'x'", ["empty attribute name"]),
    ("WorkflowId = 'x' # y", ["position 18", "unexpected character '#'"]),
    ("HistoryLength = 12abc", ["malformed number"]),
    ("HistoryLength = 1.2.3", ["malformed number"]),
    ("Order = 'x'", ["expected BY after ORDER", "'ORDER' is a reserved word", "`Name`"]),
    ("IsVip = true AND Order = 'x'", ["position 18", "'ORDER' is a reserved word"]),
    # unknown attributes, with a hint for near misses
    ("Foo = 'x'", ["unknown search attribute 'Foo'"]),
    ("workflowId = 'x'", ["unknown search attribute 'workflowId'", "did you mean 'WorkflowId'"]),
    ("WorkflowID = 'x'", ["did you mean 'WorkflowId'"]),
    ("IsVip = true ORDER BY Nope", ["unknown search attribute 'Nope'"]),
    # values validated against the attribute type
    ("Priority = 'abc'", ["invalid value 'abc' for Int attribute 'Priority'"]),
    ("Priority = 1.5", ["invalid value '1.5' for Int attribute 'Priority'"]),
    ("Priority = true", ["invalid value 'true' for Int attribute 'Priority'"]),
    ("HistoryLength > '1h'", ["invalid value '1h' for Int attribute 'HistoryLength'"]),
    ("ExecutionDuration > '1 hour'", ["invalid value '1 hour' for Int attribute"]),
    ("ExecutionDuration > '1d'", ["'ExecutionDuration'", "duration such as"]),
    ("Score = 'x'", ["invalid value 'x' for Double attribute 'Score'"]),
    ("Score = false", ["invalid value 'false' for Double attribute 'Score'"]),
    ("IsVip = 1", ["invalid value '1' for Bool attribute 'IsVip'"]),
    ("IsVip = 'yes'", ["invalid value 'yes' for Bool attribute 'IsVip'"]),
    ("StartTime > 'yesterday'", ["invalid value 'yesterday' for Datetime attribute 'StartTime'"]),
    ("StartTime > '2024-13-01'", ["invalid value '2024-13-01' for Datetime attribute"]),
    ("StartTime > 1.5", ["invalid value '1.5' for Datetime attribute 'StartTime'"]),
    ("WorkflowId = 5", ["invalid value '5' for Keyword attribute 'WorkflowId'"]),
    ("Tags IN ('a', 1)", ["invalid value '1' for KeywordList attribute 'Tags'"]),
    ("Notes = true", ["invalid value 'true' for Text attribute 'Notes'"]),
    ("ExecutionStatus = 'Done'", ["invalid value 'Done'", "'ExecutionStatus'", "Running"]),
    ("ExecutionStatus = 42", ["invalid value '42'", "'ExecutionStatus'"]),
    # operators the attribute type does not support
    ("IsVip > true", ["operator '>' is not supported for Bool attribute 'IsVip'"]),
    ("Notes < 'a'", ["operator '<' is not supported for Text attribute 'Notes'"]),
    ("Tags >= 'a'", ["operator '>=' is not supported for KeywordList attribute 'Tags'"]),
    ("Tags BETWEEN 'a' AND 'b'", ["operator 'BETWEEN' is not supported for KeywordList"]),
    ("IsVip NOT BETWEEN false AND true", ["operator 'BETWEEN' is not supported for Bool"]),
    ("Priority STARTS_WITH '1'", ["operator 'STARTS_WITH' is not supported for Int"]),
    ("StartTime STARTS_WITH '2024'", ["'STARTS_WITH' is not supported for Datetime"]),
    ("WorkflowId STARTS_WITH 5", ["invalid value '5'", "STARTS_WITH needs a string"]),
    # ORDER BY / GROUP BY clauses
    ("ORDER BY", ["end of query", "expected a search attribute name in ORDER BY"]),
    ("ORDER StartTime", ["expected BY after ORDER"]),
    ("ORDER BY StartTime GROUP BY ExecutionStatus", ["GROUP BY must come before ORDER BY"]),
    ("ORDER BY StartTime DESC StartTime", ["expected ',' or end of query"]),
    ("ORDER BY StartTime,", ["expected a search attribute name in ORDER BY"]),
    ("GROUP BY WorkflowType", ["GROUP BY is only supported on ExecutionStatus", "WorkflowType"]),
    ("GROUP BY ExecutionStatus, WorkflowType", ["only supported on ExecutionStatus"]),
    ("GROUP ExecutionStatus", ["expected BY after GROUP"]),
    ("GROUP BY ExecutionStatus IsVip", ["expected ORDER BY or end of query"]),
]


@pytest.mark.parametrize(("query", "fragments"), ERROR_CASES)
def test_errors(query: str, fragments: list[str]) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query, TYPES)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_error_message_format_and_position() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("WorkflowId = AND AND", TYPES)
    assert str(caught.value) == "invalid query at position 14 near 'AND AND': expected a value"
    assert caught.value.position == 14
    assert isinstance(caught.value, ValueError)


def test_long_snippets_are_truncated() -> None:
    query = "WorkflowId = 'x' ) AND HistoryLength = 1 AND HistoryLength = 2"
    with pytest.raises(QueryError, match=r"near '\) AND HistoryLength = 1\.\.\.'"):
        parse_query(query, TYPES)


def test_semantic_errors_carry_position() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("IsVip = true AND Priority = 'abc'", TYPES)
    assert caught.value.position == 29
    with pytest.raises(QueryError) as unknown:
        parse_query("IsVip = true AND Foo = 1", TYPES)
    assert unknown.value.position == 18


def test_unsupported_attribute_type() -> None:
    with pytest.raises(QueryError, match="search attribute 'X' has unsupported type 0"):
        parse_query("X = 1", {"X": 0})


def test_attribute_names_are_case_sensitive_keywords_are_not() -> None:
    assert parse_query("WORKFLOWID = 'a'", {"WORKFLOWID": KEYWORD}).matches({"WORKFLOWID": "a"})
    with pytest.raises(QueryError, match="unknown search attribute 'WORKFLOWID'"):
        parse_query("WORKFLOWID = 'a'", TYPES)


# ----------------------------------------------------------------- parse structure


def test_empty_query_has_no_clauses() -> None:
    query = parse_query("  ", TYPES)
    assert query == VisibilityQuery(where=None, order_by=(), group_by=())
    assert query.matches({})


def test_precedence_not_and_or() -> None:
    query = parse_query("WorkflowId = 'a' OR HistoryLength > 1 AND NOT IsVip = true", TYPES)
    assert query.where == Or(
        (
            Comparison("WorkflowId", "=", "a", KEYWORD),
            And(
                (
                    Comparison("HistoryLength", ">", 1, INT),
                    Not(Comparison("IsVip", "=", True, BOOL)),
                )
            ),
        )
    )


def test_chains_are_flattened() -> None:
    query = parse_query("IsVip = true AND Priority = 1 AND Score = 2", TYPES)
    assert isinstance(query.where, And)
    assert len(query.where.operands) == 3


def test_node_types() -> None:
    query = parse_query(
        "WorkflowId <> 'a' AND Tags NOT IN ('x', 'y') AND Priority NOT BETWEEN 1 AND '3'"
        " AND TaskQueue STARTS_WITH 'q' AND CloseTime IS NOT NULL",
        TYPES,
    )
    assert query.where == And(
        (
            Comparison("WorkflowId", "!=", "a", KEYWORD),
            InList("Tags", ("x", "y"), KEYWORD_LIST, negated=True),
            Between("Priority", 1, 3, INT, negated=True),
            StartsWith("TaskQueue", "q", KEYWORD),
            IsNull("CloseTime", DATETIME, negated=True),
        )
    )


@pytest.mark.parametrize(
    ("literal", "decoded"),
    [
        ("'it''s'", "it's"),
        ("'it\\'s'", "it's"),
        ('"it\'s"', "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'a\\nb\\tc'", "a\nb\tc"),
        ("'back\\\\slash'", "back\\slash"),
        ("''", ""),
        ("'unicode ✓ ü'", "unicode ✓ ü"),
    ],
)
def test_string_literal_escapes(literal: str, decoded: str) -> None:
    query = parse_query(f"WorkflowId = {literal}", TYPES)
    assert query.where == Comparison("WorkflowId", "=", decoded, KEYWORD)


def test_backquoted_names_may_contain_anything() -> None:
    types = {"Odd Name": KEYWORD, "Tick`Name": INT}
    query = parse_query("`Odd Name` = 'x' AND `Tick``Name` = 1", types)
    assert query.matches({"Odd Name": "x", "Tick`Name": 1})


@pytest.mark.parametrize(
    ("literal", "nanos"),
    [
        ("'2024-01-02T03:04:05Z'", T0_NS),
        ("'2024-01-02t03:04:05z'", T0_NS),
        ("'2024-01-02 03:04:05Z'", T0_NS),
        ("'2024-01-02T03:04:05'", T0_NS),
        ("'2024-01-02T05:34:05+02:30'", T0_NS),
        ("'2024-01-02T05:34:05+0230'", T0_NS),
        ("'2024-01-02T03:04:05.123456789Z'", T0_NS + 123_456_789),
        ("'2024-01-02T03:04:05.5Z'", T0_NS + 500_000_000),
        ("'2024-01-02'", T0_NS - (3 * 3600 + 4 * 60 + 5) * 1_000_000_000),
        (str(T0_NS), T0_NS),
        ("'1969-12-31T23:59:59Z'", -1_000_000_000),
    ],
)
def test_datetime_literals(literal: str, nanos: int) -> None:
    query = parse_query(f"StartTime = {literal}", TYPES)
    assert query.where == Comparison("StartTime", "=", nanos, DATETIME)


@pytest.mark.parametrize(
    ("literal", "nanos"),
    [
        ("'1h'", HOUR_NS),
        ("'30m'", HOUR_NS // 2),
        ("'1h30m'", HOUR_NS * 3 // 2),
        ("'100ms'", 100_000_000),
        ("'1.5s'", 1_500_000_000),
        ("'2us'", 2_000),
        ("'2µs'", 2_000),
        ("'7ns'", 7),
        ("'1h2m3s4ms'", HOUR_NS + 123_004_000_000),
        ("'-1m'", -60_000_000_000),
        ("'0'", 0),
        ("'123'", 123),
        ("123", 123),
    ],
)
def test_execution_duration_literals(literal: str, nanos: int) -> None:
    query = parse_query(f"ExecutionDuration = {literal}", TYPES)
    assert query.where == Comparison("ExecutionDuration", "=", nanos, INT)


def test_order_by_and_group_by() -> None:
    query = parse_query(
        "ExecutionStatus = 'Running' GROUP BY `ExecutionStatus` "
        "ORDER BY StartTime DESC, WorkflowId asc, HistoryLength",
        TYPES,
    )
    assert query.group_by == ("ExecutionStatus",)
    assert query.order_by == (
        OrderBy("StartTime", True),
        OrderBy("WorkflowId", False),
        OrderBy("HistoryLength", False),
    )


def test_system_attributes_match_temporal_enums() -> None:
    assert (TEXT, KEYWORD, INT, DOUBLE, BOOL, DATETIME, KEYWORD_LIST) == (
        IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
        IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        IndexedValueType.INDEXED_VALUE_TYPE_INT,
        IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
        IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
        IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
        IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    )
    for number, name in EXECUTION_STATUSES.items():
        enum_name = WorkflowExecutionStatus.Name(number)  # type: ignore[arg-type]
        assert enum_name.replace("_", "") == "WORKFLOWEXECUTIONSTATUS" + name.upper()
    assert SYSTEM_ATTRIBUTES["ExecutionStatus"] == KEYWORD
    assert SYSTEM_ATTRIBUTES["BuildIds"] == KEYWORD_LIST
    assert SYSTEM_ATTRIBUTES["StartTime"] == DATETIME
    assert SYSTEM_ATTRIBUTES["ExecutionDuration"] == INT
    expected = {
        "WorkflowId", "RunId", "WorkflowType", "TaskQueue", "ParentWorkflowId", "ParentRunId",
        "RootWorkflowId", "RootRunId", "BuildIds", "BatcherUser", "TemporalChangeVersion",
        "TemporalScheduledById", "TemporalSchedulePaused", "TemporalNamespaceDivision",
        "ExecutionStatus", "StartTime", "CloseTime", "ExecutionTime", "ExecutionDuration",
        "HistoryLength", "HistorySizeBytes", "StateTransitionCount",
    }  # fmt: skip
    assert set(SYSTEM_ATTRIBUTES) == expected


# ----------------------------------------------------------------- record shapes


def test_lenient_record_values() -> None:
    record: dict[str, object] = {
        "ExecutionStatus": 2,  # enum number instead of name
        "Tags": "solo",  # single keyword stored for a KeywordList
        "StartTime": datetime(2024, 1, 2, 3, 4, 5),  # naive means UTC
        "ExecutionDuration": timedelta(minutes=5),
        "DueAt": "2024-03-01T10:00:00Z",
        "Score": 2,
    }
    query = parse_query(
        "ExecutionStatus = 'Completed' AND Tags = 'solo' AND StartTime = '2024-01-02T03:04:05Z'"
        " AND ExecutionDuration = '5m' AND DueAt > '2024-03-01' AND Score = 2.0",
        TYPES,
    )
    assert query.matches(record)


def test_wrongly_typed_record_values_are_null() -> None:
    query = parse_query("Priority IS NULL AND IsVip IS NULL AND Score IS NULL", TYPES)
    assert query.matches({"Priority": "many", "IsVip": "yes", "Score": True})


# ----------------------------------------------------------------- sorting


def _run(run_id: str, start: datetime | None, **extra: object) -> dict[str, object]:
    return {"RunId": run_id, "StartTime": start, **extra}


def _ids(records: list[dict[str, object]]) -> list[object]:
    return [record["RunId"] for record in records]


def test_default_order_is_newest_first_then_run_id() -> None:
    records = [
        _run("b", T0),
        _run("null", None),
        _run("new", T0 + timedelta(hours=1)),
        _run("a", T0),
        _run("old", T0 - timedelta(days=1)),
    ]
    assert _ids(parse_query("", TYPES).sort_records(records)) == ["new", "a", "b", "old", "null"]


def test_order_by_nulls_last_both_directions() -> None:
    records = [
        _run("r1", T0, HistoryLength=5),
        _run("r2", T0),
        _run("r3", T0, HistoryLength=1),
        _run("r4", T0, HistoryLength=None),
        _run("r5", T0, HistoryLength=5),
    ]
    ascending = parse_query("ORDER BY HistoryLength", TYPES).sort_records(records)
    assert _ids(ascending) == ["r3", "r1", "r5", "r2", "r4"]
    descending = parse_query("ORDER BY HistoryLength DESC", TYPES).sort_records(records)
    assert _ids(descending) == ["r1", "r5", "r3", "r2", "r4"]


def test_order_by_multiple_keys_mixed_directions() -> None:
    records = [
        _run("r1", T0, WorkflowType="B", Score=1.0),
        _run("r2", T0, WorkflowType="A", Score=1.0),
        _run("r3", T0, WorkflowType="B", Score=2.0),
        _run("r4", T0, WorkflowType="A", Score=3.0),
    ]
    query = parse_query("ORDER BY WorkflowType ASC, Score DESC", TYPES)
    assert _ids(query.sort_records(records)) == ["r4", "r2", "r3", "r1"]


def test_order_by_datetime_across_offsets() -> None:
    plus_two = timezone(timedelta(hours=2))
    records = [
        _run("utc", datetime(2024, 1, 1, 11, 0, tzinfo=UTC)),
        _run("plus2", datetime(2024, 1, 1, 12, 30, tzinfo=plus_two)),  # 10:30 UTC
        _run("naive", datetime(2024, 1, 1, 10, 45)),
    ]
    query = parse_query("ORDER BY StartTime ASC", TYPES)
    assert _ids(query.sort_records(records)) == ["plus2", "naive", "utc"]


def test_order_by_run_id_descending_replaces_tie_breaker() -> None:
    records = [_run("a", T0), _run("c", T0), _run("b", T0)]
    query = parse_query("ORDER BY RunId DESC", TYPES)
    assert _ids(query.sort_records(records)) == ["c", "b", "a"]


def test_filter_records_and_group_counts() -> None:
    records = [
        _run("r1", T0, ExecutionStatus="Running", WorkflowType="A"),
        _run("r2", T0 + timedelta(seconds=1), ExecutionStatus="Completed", WorkflowType="A"),
        _run("r3", T0 + timedelta(seconds=2), ExecutionStatus="Running", WorkflowType="A"),
        _run("r4", T0, ExecutionStatus="Failed", WorkflowType="B"),
    ]
    query = parse_query("WorkflowType = 'A'", TYPES)
    assert _ids(query.filter_records(records)) == ["r3", "r2", "r1"]
    assert query.group_counts(records) == [(None, 3)]
    grouped = parse_query("WorkflowType = 'A' GROUP BY ExecutionStatus", TYPES)
    assert grouped.group_counts(records) == [("Running", 2), ("Completed", 1)]


def test_query_objects_are_hashable_values() -> None:
    first = parse_query("IsVip = true ORDER BY StartTime", TYPES)
    second = parse_query("isvip = TRUE order by StartTime", {**TYPES, "isvip": BOOL})
    assert first == parse_query("IsVip = true ORDER BY StartTime", TYPES)
    assert hash(first) == hash(parse_query("IsVip = true ORDER BY StartTime", TYPES))
    assert first != second
