"""Temporal's visibility (list filter) query language, evaluated in memory.

`parse_query` turns the text a client sends to ListWorkflowExecutions /
CountWorkflowExecutions into a `VisibilityQuery`, validating every attribute name,
operator and literal against the search attribute types up front so that a bad query
fails with an InvalidArgument-style message instead of silently matching nothing.

Semantics follow Temporal's SQL visibility stores (which the reference dev server
uses): comparisons against a missing/NULL attribute are UNKNOWN, and UNKNOWN propagates
through NOT/AND/OR with SQL three-valued logic, so `NOT (X = 'a')` and `X != 'a'` agree
and neither matches a record without `X`. Only `IS [NOT] NULL` ever matches NULL.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Final, Literal, TypeAlias, TypeVar

__all__ = [
    "BOOL",
    "DATETIME",
    "DOUBLE",
    "EXECUTION_STATUSES",
    "INT",
    "KEYWORD",
    "KEYWORD_LIST",
    "SYSTEM_ATTRIBUTES",
    "TEXT",
    "And",
    "Between",
    "Comparison",
    "Expr",
    "InList",
    "IsNull",
    "Not",
    "Or",
    "OrderBy",
    "QueryError",
    "StartsWith",
    "Value",
    "VisibilityQuery",
    "parse_query",
]

# temporalio.api.enums.v1.IndexedValueType values, mirrored so this module stays stdlib-only.
TEXT: Final = 1
KEYWORD: Final = 2
INT: Final = 3
DOUBLE: Final = 4
BOOL: Final = 5
DATETIME: Final = 6
KEYWORD_LIST: Final = 7

_TYPE_NAMES: Final[dict[int, str]] = {
    TEXT: "Text",
    KEYWORD: "Keyword",
    INT: "Int",
    DOUBLE: "Double",
    BOOL: "Bool",
    DATETIME: "Datetime",
    KEYWORD_LIST: "KeywordList",
}

SYSTEM_ATTRIBUTES: Final[dict[str, int]] = {
    "WorkflowId": KEYWORD,
    "RunId": KEYWORD,
    "WorkflowType": KEYWORD,
    "TaskQueue": KEYWORD,
    "ExecutionStatus": KEYWORD,
    "ParentWorkflowId": KEYWORD,
    "ParentRunId": KEYWORD,
    "RootWorkflowId": KEYWORD,
    "RootRunId": KEYWORD,
    "BatcherUser": KEYWORD,
    "TemporalScheduledById": KEYWORD,
    "TemporalNamespaceDivision": KEYWORD,
    # Temporal registers this one as Bool, not Keyword; schedules filter on `= true`.
    "TemporalSchedulePaused": BOOL,
    "BuildIds": KEYWORD_LIST,
    "TemporalChangeVersion": KEYWORD_LIST,
    "StartTime": DATETIME,
    "CloseTime": DATETIME,
    "ExecutionTime": DATETIME,
    "ExecutionDuration": INT,
    "HistoryLength": INT,
    "HistorySizeBytes": INT,
    "StateTransitionCount": INT,
}

# WorkflowExecutionStatus enum number -> the name used in queries and records.
EXECUTION_STATUSES: Final[dict[int, str]] = {
    1: "Running",
    2: "Completed",
    3: "Failed",
    4: "Canceled",
    5: "Terminated",
    6: "ContinuedAsNew",
    7: "TimedOut",
    8: "Paused",
}
# Accept 'running', 'Running' and 'WORKFLOW_EXECUTION_STATUS_RUNNING' alike.
_STATUS_LOOKUP: Final[dict[str, str]] = {
    **{name.casefold(): name for name in EXECUTION_STATUSES.values()},
    **{
        "workflow_execution_status_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).casefold(): name
        for name in EXECUTION_STATUSES.values()
    },
}

# Internal literal/record representation; datetimes become int nanoseconds since the epoch
# so RFC3339 literals with nanosecond precision compare exactly.
Value: TypeAlias = str | int | float | bool

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ORDERED_TYPES: Final = frozenset({INT, DOUBLE, DATETIME, KEYWORD})
_PREFIX_TYPES: Final = frozenset({KEYWORD, KEYWORD_LIST, TEXT})


class QueryError(ValueError):
    """A query that cannot be parsed or does not fit the search attribute types.

    `position` is the 1-based character position the problem was found at, when known.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


# --------------------------------------------------------------------------- values


def _type_name(value_type: int) -> str:
    return _TYPE_NAMES.get(value_type, f"type {value_type}")


_DATETIME_RE: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*([Zz]|[+-]\d{2}:?\d{2})?)?"
)


def _parse_datetime_ns(text: str) -> int | None:
    """RFC3339 (Go's time.RFC3339Nano, leniently) or YYYY-MM-DD, as epoch nanoseconds."""
    match = _DATETIME_RE.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    if offset and offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = moment - shift if offset[0] == "+" else moment + shift
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    return seconds * 1_000_000_000 + int((fraction or "").ljust(9, "0"))


def _datetime_to_ns(moment: datetime) -> int:
    # Naive datetimes are taken as UTC, which is what the server stores.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


_DURATION_PART_RE: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNIT_NS: Final[dict[str, int]] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}


def _parse_go_duration(text: str) -> int | None:
    """Go's time.ParseDuration syntax ('1h30m', '1.5s', '100ms'), in nanoseconds."""
    rest = text.strip()
    sign = -1 if rest.startswith("-") else 1
    if rest[:1] in ("+", "-"):
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        return None
    total = Fraction(0)
    position = 0
    while position < len(rest):
        match = _DURATION_PART_RE.match(rest, position)
        if match is None:
            return None
        total += Fraction(match.group(1)) * _DURATION_UNIT_NS[match.group(2)]
        position = match.end()
    # Go truncates fractional nanoseconds toward zero.
    return sign * int(total)


_INT_RE: Final = re.compile(r"[-+]?\d+")
_FLOAT_RE: Final = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _canonical_status(raw: object) -> str | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return EXECUTION_STATUSES.get(raw)
    if isinstance(raw, str):
        return _STATUS_LOOKUP.get(raw.strip().casefold())
    return None


def _record_value(raw: object, name: str, value_type: int) -> Value | list[str] | None:
    """A record's attribute in the internal representation; None for NULL.

    Values of the wrong shape count as NULL rather than raising, because one odd record
    must not make a whole List call fail.
    """
    if raw is None:
        return None
    if value_type == KEYWORD:
        if name == "ExecutionStatus":
            return _canonical_status(raw)
        return raw if isinstance(raw, str) else None
    if value_type == TEXT:
        return raw if isinstance(raw, str) else None
    if value_type == KEYWORD_LIST:
        if isinstance(raw, str):
            return [raw]
        if isinstance(raw, list | tuple | set | frozenset):
            items = [item for item in raw if isinstance(item, str)]
            # Temporal treats an empty list as unset.
            return items or None
        return None
    if value_type == BOOL:
        return raw if isinstance(raw, bool) else None
    if isinstance(raw, bool):
        return None
    if value_type == INT:
        if isinstance(raw, int | float):
            return raw
        if isinstance(raw, timedelta):
            return raw // timedelta(microseconds=1) * 1000
        if isinstance(raw, str) and _INT_RE.fullmatch(raw.strip()):
            return int(raw)
        return None
    if value_type == DOUBLE:
        if isinstance(raw, int | float):
            return float(raw)
        if isinstance(raw, str) and _FLOAT_RE.fullmatch(raw.strip()):
            return float(raw)
        return None
    if value_type == DATETIME:
        if isinstance(raw, datetime):
            return _datetime_to_ns(raw)
        if isinstance(raw, date):
            return _datetime_to_ns(datetime(raw.year, raw.month, raw.day, tzinfo=UTC))
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str):
            return _parse_datetime_ns(raw)
        return None
    return None


def _text_tokens(text: str) -> set[str]:
    return set(text.casefold().split())


def _equals(actual: Value | list[str], expected: Value, value_type: int) -> bool:
    if value_type == KEYWORD_LIST:
        return isinstance(actual, list) and expected in actual
    if value_type == TEXT:
        assert isinstance(actual, str) and isinstance(expected, str)
        return _text_tokens(expected) <= _text_tokens(actual)
    return actual == expected


def _starts_with(actual: Value | list[str], prefix: str, value_type: int) -> bool:
    if isinstance(actual, list):
        return any(item.startswith(prefix) for item in actual)
    assert isinstance(actual, str)
    if value_type == TEXT:
        # Text matching is case-insensitive everywhere else, so prefixes are too.
        return actual.casefold().startswith(prefix.casefold())
    return actual.startswith(prefix)


def _ordered(actual: Value | list[str]) -> str | int | float:
    # Parse-time checks guarantee only Int/Double/Datetime/Keyword reach ordering.
    assert isinstance(actual, str | int | float) and not isinstance(actual, bool)
    return actual


# --------------------------------------------------------------------------- AST

Truth: TypeAlias = bool | None  # None is SQL's UNKNOWN


@dataclass(frozen=True)
class Comparison:
    """`attribute <op> value` with op one of =, !=, <, <=, >, >= ('<>' becomes '!=')."""

    attribute: str
    operator: str
    value: Value
    value_type: int

    def evaluate(self, record: Mapping[str, object]) -> Truth:
        actual = _record_value(record.get(self.attribute), self.attribute, self.value_type)
        if actual is None:
            return None
        if self.operator == "=":
            return _equals(actual, self.value, self.value_type)
        if self.operator == "!=":
            return not _equals(actual, self.value, self.value_type)
        left, right = _ordered(actual), _ordered(self.value)
        try:
            if self.operator == "<":
                return left < right  # type: ignore[operator]
            if self.operator == "<=":
                return left <= right  # type: ignore[operator]
            if self.operator == ">":
                return left > right  # type: ignore[operator]
            return left >= right  # type: ignore[operator]
        except TypeError:
            return None


@dataclass(frozen=True)
class InList:
    """`attribute [NOT] IN (values...)`; for KeywordList, any element in the set."""

    attribute: str
    values: tuple[Value, ...]
    value_type: int
    negated: bool = False

    def evaluate(self, record: Mapping[str, object]) -> Truth:
        actual = _record_value(record.get(self.attribute), self.attribute, self.value_type)
        if actual is None:
            return None
        found = any(_equals(actual, value, self.value_type) for value in self.values)
        return found != self.negated


@dataclass(frozen=True)
class Between:
    """`attribute [NOT] BETWEEN low AND high`, inclusive on both ends like SQL."""

    attribute: str
    low: Value
    high: Value
    value_type: int
    negated: bool = False

    def evaluate(self, record: Mapping[str, object]) -> Truth:
        actual = _record_value(record.get(self.attribute), self.attribute, self.value_type)
        if actual is None:
            return None
        value, low, high = _ordered(actual), _ordered(self.low), _ordered(self.high)
        try:
            inside = low <= value <= high  # type: ignore[operator]
        except TypeError:
            return None
        return inside != self.negated


@dataclass(frozen=True)
class StartsWith:
    """`attribute [NOT] STARTS_WITH 'prefix'`."""

    attribute: str
    prefix: str
    value_type: int
    negated: bool = False

    def evaluate(self, record: Mapping[str, object]) -> Truth:
        actual = _record_value(record.get(self.attribute), self.attribute, self.value_type)
        if actual is None:
            return None
        return _starts_with(actual, self.prefix, self.value_type) != self.negated


@dataclass(frozen=True)
class IsNull:
    """`attribute IS [NOT] NULL`; the only predicate that is never UNKNOWN."""

    attribute: str
    value_type: int
    negated: bool = False

    def evaluate(self, record: Mapping[str, object]) -> Truth:
        actual = _record_value(record.get(self.attribute), self.attribute, self.value_type)
        return (actual is None) != self.negated


@dataclass(frozen=True)
class Not:
    operand: Expr

    def evaluate(self, record: Mapping[str, object]) -> Truth:
        result = self.operand.evaluate(record)
        return None if result is None else not result


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]

    def evaluate(self, record: Mapping[str, object]) -> Truth:
        unknown = False
        for operand in self.operands:
            result = operand.evaluate(record)
            if result is False:
                return False
            unknown = unknown or result is None
        return None if unknown else True


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]

    def evaluate(self, record: Mapping[str, object]) -> Truth:
        unknown = False
        for operand in self.operands:
            result = operand.evaluate(record)
            if result is True:
                return True
            unknown = unknown or result is None
        return None if unknown else False


Expr: TypeAlias = Comparison | InList | Between | StartsWith | IsNull | Not | And | Or


@dataclass(frozen=True)
class OrderBy:
    attribute: str
    descending: bool


_DEFAULT_ORDER: Final = (OrderBy("StartTime", True),)
_TIE_BREAKER: Final = OrderBy("RunId", False)

RecordT = TypeVar("RecordT", bound=Mapping[str, object])


def _sort_value(raw: object, name: str, value_type: int | None) -> object:
    value: object
    if value_type is not None:
        value = _record_value(raw, name, value_type)
    elif isinstance(raw, datetime):
        # Attribute of unknown type (query built by hand): make datetimes comparable.
        value = _datetime_to_ns(raw)
    else:
        value = raw
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def _compare_values(left: object, right: object) -> int:
    if left == right:
        return 0
    try:
        return -1 if left < right else 1  # type: ignore[operator]
    except TypeError:
        # Mixed shapes in hand-built records: keep the sort total instead of crashing.
        return -1 if repr(left) < repr(right) else 1


@dataclass(frozen=True)
class VisibilityQuery:
    where: Expr | None
    order_by: tuple[OrderBy, ...] = ()
    group_by: tuple[str, ...] = ()
    # Needed to normalize values when sorting; not part of the query's identity.
    attribute_types: Mapping[str, int] = field(
        default_factory=lambda: dict(SYSTEM_ATTRIBUTES), repr=False, compare=False
    )

    def matches(self, record: Mapping[str, object]) -> bool:
        """True when the filter is TRUE for the record (UNKNOWN does not match)."""
        return self.where is None or self.where.evaluate(record) is True

    def sort_records(self, records: Iterable[RecordT]) -> list[RecordT]:
        """Records in ORDER BY order (default StartTime desc), NULLs last, ties by RunId."""
        keys = self.order_by or _DEFAULT_ORDER
        if all(key.attribute != _TIE_BREAKER.attribute for key in keys):
            keys = (*keys, _TIE_BREAKER)
        types = [self._type_for(key.attribute) for key in keys]

        def decorate(record: RecordT) -> tuple[tuple[object, ...], RecordT]:
            values = tuple(
                _sort_value(record.get(key.attribute), key.attribute, value_type)
                for key, value_type in zip(keys, types, strict=True)
            )
            return values, record

        def compare(
            left: tuple[tuple[object, ...], RecordT], right: tuple[tuple[object, ...], RecordT]
        ) -> int:
            for key, a, b in zip(keys, left[0], right[0], strict=True):
                if a is None or b is None:
                    if a is None and b is None:
                        continue
                    # NULLs sort last in both directions.
                    return 1 if a is None else -1
                result = _compare_values(a, b)
                if result:
                    return -result if key.descending else result
            return 0

        decorated = sorted(map(decorate, records), key=functools.cmp_to_key(compare))
        return [record for _, record in decorated]

    def filter_records(self, records: Iterable[RecordT]) -> list[RecordT]:
        """The matching records, sorted: what a List call returns before paging."""
        return self.sort_records(record for record in records if self.matches(record))

    def group_counts(self, records: Iterable[Mapping[str, object]]) -> list[tuple[object, int]]:
        """(ExecutionStatus value, count) per group of matching records, largest first.

        Only meaningful with GROUP BY; without it, a single (None, count) pair.
        """
        if not self.group_by:
            return [(None, sum(1 for record in records if self.matches(record)))]
        name = self.group_by[0]
        value_type = self._type_for(name)
        counts: Counter[object] = Counter(
            _sort_value(record.get(name), name, value_type)
            for record in records
            if self.matches(record)
        )
        return sorted(counts.items(), key=lambda item: (-item[1], repr(item[0])))

    def _type_for(self, name: str) -> int | None:
        return self.attribute_types.get(name, SYSTEM_ATTRIBUTES.get(name))


# --------------------------------------------------------------------------- lexer

TokenKind: TypeAlias = Literal["name", "keyword", "string", "number", "op", "eof"]

_KEYWORDS: Final = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "IN",
        "BETWEEN",
        "IS",
        "NULL",
        "STARTS_WITH",
        "ORDER",
        "GROUP",
        "BY",
        "ASC",
        "DESC",
        "TRUE",
        "FALSE",
    }
)
_IDENT_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE: Final = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_OPERATOR_RE: Final = re.compile(r"<=|>=|<>|!=|=|<|>|\(|\)|,")
_STRING_ESCAPES: Final[dict[str, str]] = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    text: str  # keywords upper-cased, strings/names decoded, numbers as written
    position: int  # 0-based offset into the query


def _format_position(text: str, position: int) -> str:
    if position >= len(text.rstrip()):
        return f"invalid query at position {position + 1} (end of query)"
    snippet = text[position : position + 24].rstrip()
    if position + 24 < len(text.rstrip()):
        snippet += "..."
    return f"invalid query at position {position + 1} near '{snippet}'"


def _syntax_error(text: str, position: int, problem: str) -> QueryError:
    return QueryError(f"{_format_position(text, position)}: {problem}", position + 1)


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Decode a quoted string/name starting at `start`; return it and the end offset."""
    quote = text[start]
    out: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and quote != "`" and index + 1 < len(text):
            escaped = text[index + 1]
            out.append(_STRING_ESCAPES.get(escaped, escaped))
            index += 2
        elif char == quote:
            if text.startswith(quote, index + 1):  # doubled quote is a literal quote
                out.append(quote)
                index += 2
            else:
                return "".join(out), index + 1
        else:
            out.append(char)
            index += 1
    what = "attribute name" if quote == "`" else "string literal"
    raise _syntax_error(text, start, f"unterminated {what}")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if char in "'\"`":
            value, end = _read_quoted(text, index)
            if char == "`" and not value:
                raise _syntax_error(text, index, "empty attribute name")
            tokens.append(_Token("name" if char == "`" else "string", value, index))
            index = end
            continue
        match = _NUMBER_RE.match(text, index)
        if match:
            end = match.end()
            if end < len(text) and (text[end].isalnum() or text[end] in "_."):
                raise _syntax_error(text, index, "malformed number")
            tokens.append(_Token("number", match.group(), index))
            index = end
            continue
        match = _IDENT_RE.match(text, index)
        if match:
            word = match.group()
            if word.upper() in _KEYWORDS:
                tokens.append(_Token("keyword", word.upper(), index))
            else:
                tokens.append(_Token("name", word, index))
            index = match.end()
            continue
        match = _OPERATOR_RE.match(text, index)
        if match:
            tokens.append(_Token("op", match.group(), index))
            index = match.end()
            continue
        raise _syntax_error(text, index, f"unexpected character '{char}'")
    tokens.append(_Token("eof", "", len(text)))
    return tokens


# --------------------------------------------------------------------------- parser


@dataclass(frozen=True)
class _Literal:
    kind: Literal["string", "int", "float", "bool"]
    value: Value
    shown: str  # as quoted back in error messages
    position: int


@dataclass(frozen=True)
class _Attribute:
    name: str
    value_type: int


_COMPARISON_OPERATORS: Final = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})
_ORDERING_OPERATORS: Final = frozenset({"<", "<=", ">", ">="})


def _join_alternatives(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


class _Parser:
    def __init__(self, text: str, attribute_types: Mapping[str, int]) -> None:
        self._text = text
        self._types = attribute_types
        self._tokens = _tokenize(text)
        self._index = 0

    # -- token helpers

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "eof":
            self._index += 1
        return token

    def _at_keyword(self, *words: str) -> bool:
        token = self._peek()
        return token.kind == "keyword" and token.text in words

    def _at_op(self, op: str) -> bool:
        token = self._peek()
        return token.kind == "op" and token.text == op

    def _error(self, token: _Token, problem: str) -> QueryError:
        return _syntax_error(self._text, token.position, problem)

    def _expect_keyword(self, word: str, problem: str) -> None:
        if not self._at_keyword(word):
            raise self._error(self._peek(), problem)
        self._advance()

    def _expect_op(self, op: str, problem: str) -> None:
        if not self._at_op(op):
            raise self._error(self._peek(), problem)
        self._advance()

    # -- grammar

    def parse(self) -> VisibilityQuery:
        where: Expr | None = None
        if self._peek().kind != "eof" and not self._at_keyword("ORDER", "GROUP"):
            where = self._parse_or()
        group_by: tuple[str, ...] = ()
        if self._at_keyword("GROUP"):
            group_by = self._parse_group_by()
        order_by: tuple[OrderBy, ...] = ()
        if self._at_keyword("ORDER"):
            order_by = self._parse_order_by()
        token = self._peek()
        if token.kind != "eof":
            if order_by and token.kind == "keyword" and token.text == "GROUP":
                raise self._error(token, "GROUP BY must come before ORDER BY")
            expected: list[str] = []
            if where is not None and not group_by and not order_by:
                expected += ["AND", "OR"]
            if not group_by and not order_by:
                expected.append("GROUP BY")
            if order_by:
                expected.append("','")
            else:
                expected.append("ORDER BY")
            expected.append("end of query")
            raise self._error(token, f"expected {_join_alternatives(expected)}")
        return VisibilityQuery(where, order_by, group_by, dict(self._types))

    def _parse_or(self) -> Expr:
        operands = [self._parse_and()]
        while self._at_keyword("OR"):
            self._advance()
            operands.append(self._parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _parse_and(self) -> Expr:
        operands = [self._parse_not()]
        while self._at_keyword("AND"):
            self._advance()
            operands.append(self._parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _parse_not(self) -> Expr:
        if self._at_keyword("NOT"):
            self._advance()
            return Not(self._parse_not())
        return self._parse_primary()

    def _parse_primary(self) -> Expr:
        token = self._peek()
        if self._at_op("("):
            self._advance()
            inner = self._parse_or()
            self._expect_op(")", "expected AND, OR or ')'")
            return inner
        if token.kind == "name":
            return self._parse_predicate()
        problem = "expected a search attribute name or '('"
        if token.kind == "keyword":
            problem += self._reserved_hint(token.text)
        raise self._error(token, problem)

    def _reserved_hint(self, word: str) -> str:
        # An attribute spelled like a keyword parses as the keyword; say how to escape it.
        if any(name.upper() == word for name in self._types):
            return f"; '{word}' is a reserved word, quote the name as `Name`"
        return ""

    def _parse_predicate(self) -> Expr:
        attribute = self._attribute(self._advance())
        token = self._peek()
        if token.kind == "op" and token.text in _COMPARISON_OPERATORS:
            self._advance()
            operator = "!=" if token.text == "<>" else token.text
            if operator in _ORDERING_OPERATORS:
                self._check_ordered(attribute, token.text, token)
            value = self._coerce(attribute, self._parse_literal())
            return Comparison(attribute.name, operator, value, attribute.value_type)

        negated = False
        if self._at_keyword("NOT"):
            self._advance()
            negated = True
            if not self._at_keyword("IN", "BETWEEN", "STARTS_WITH"):
                raise self._error(self._peek(), "expected IN, BETWEEN or STARTS_WITH after NOT")
            token = self._peek()

        if self._at_keyword("IN"):
            self._advance()
            self._expect_op("(", "expected '(' after IN")
            values = [self._coerce(attribute, self._parse_literal())]
            while self._at_op(","):
                self._advance()
                values.append(self._coerce(attribute, self._parse_literal()))
            self._expect_op(")", "expected ',' or ')' in IN list")
            return InList(attribute.name, tuple(values), attribute.value_type, negated)

        if self._at_keyword("BETWEEN"):
            self._advance()
            self._check_ordered(attribute, "BETWEEN", token)
            low = self._coerce(attribute, self._parse_literal())
            self._expect_keyword("AND", "expected AND between the BETWEEN bounds")
            high = self._coerce(attribute, self._parse_literal())
            return Between(attribute.name, low, high, attribute.value_type, negated)

        if self._at_keyword("STARTS_WITH"):
            self._advance()
            if attribute.value_type not in _PREFIX_TYPES:
                raise self._unsupported(attribute, "STARTS_WITH", token)
            literal = self._parse_literal()
            if literal.kind != "string":
                raise self._invalid_value(attribute, literal, "STARTS_WITH needs a string")
            return StartsWith(attribute.name, str(literal.value), attribute.value_type, negated)

        if self._at_keyword("IS"):
            self._advance()
            is_not = self._at_keyword("NOT")
            if is_not:
                self._advance()
            self._expect_keyword("NULL", "expected NULL or NOT NULL after IS")
            return IsNull(attribute.name, attribute.value_type, is_not)

        raise self._error(
            token,
            "expected an operator (=, !=, <, <=, >, >=, IN, BETWEEN, STARTS_WITH or IS)",
        )

    def _parse_literal(self) -> _Literal:
        token = self._peek()
        if token.kind == "string":
            self._advance()
            return _Literal("string", token.text, token.text, token.position)
        if token.kind == "number":
            self._advance()
            if _INT_RE.fullmatch(token.text):
                return _Literal("int", int(token.text), token.text, token.position)
            return _Literal("float", float(token.text), token.text, token.position)
        if token.kind == "keyword" and token.text in ("TRUE", "FALSE"):
            self._advance()
            return _Literal("bool", token.text == "TRUE", token.text.lower(), token.position)
        if token.kind == "keyword" and token.text == "NULL":
            raise self._error(token, "NULL is not a value; use IS NULL or IS NOT NULL")
        if token.kind == "name":
            raise self._error(token, "expected a value; quote string literals, e.g. 'text'")
        raise self._error(token, "expected a value")

    def _parse_group_by(self) -> tuple[str, ...]:
        self._advance()
        self._expect_keyword("BY", "expected BY after GROUP" + self._reserved_hint("GROUP"))
        names = [self._parse_clause_attribute("GROUP BY").name]
        while self._at_op(","):
            self._advance()
            names.append(self._parse_clause_attribute("GROUP BY").name)
        if names != ["ExecutionStatus"]:
            raise QueryError(
                "GROUP BY is only supported on ExecutionStatus, got " + ", ".join(names)
            )
        return tuple(names)

    def _parse_order_by(self) -> tuple[OrderBy, ...]:
        self._advance()
        self._expect_keyword("BY", "expected BY after ORDER" + self._reserved_hint("ORDER"))
        keys: list[OrderBy] = []
        while True:
            name = self._parse_clause_attribute("ORDER BY").name
            descending = False
            if self._at_keyword("ASC", "DESC"):
                descending = self._advance().text == "DESC"
            keys.append(OrderBy(name, descending))
            if not self._at_op(","):
                return tuple(keys)
            self._advance()

    def _parse_clause_attribute(self, clause: str) -> _Attribute:
        token = self._peek()
        if token.kind != "name":
            raise self._error(token, f"expected a search attribute name in {clause}")
        return self._attribute(self._advance())

    # -- semantic checks

    def _attribute(self, token: _Token) -> _Attribute:
        name = token.text
        value_type = self._types.get(name)
        if value_type is None:
            message = f"unknown search attribute '{name}'"
            close = difflib.get_close_matches(name, list(self._types), n=1, cutoff=0.8)
            folded = [known for known in self._types if known.casefold() == name.casefold()]
            if folded or close:
                message += f"; did you mean '{(folded or close)[0]}'?"
            raise QueryError(message, token.position + 1)
        if value_type not in _TYPE_NAMES:
            raise QueryError(
                f"search attribute '{name}' has unsupported type {value_type}",
                token.position + 1,
            )
        return _Attribute(name, value_type)

    def _unsupported(self, attribute: _Attribute, operator: str, token: _Token) -> QueryError:
        return QueryError(
            f"operator '{operator}' is not supported for "
            f"{_type_name(attribute.value_type)} attribute '{attribute.name}'",
            token.position + 1,
        )

    def _check_ordered(self, attribute: _Attribute, operator: str, token: _Token) -> None:
        if attribute.value_type not in _ORDERED_TYPES:
            raise self._unsupported(attribute, operator, token)

    def _invalid_value(self, attribute: _Attribute, literal: _Literal, why: str) -> QueryError:
        return QueryError(
            f"invalid value '{literal.shown}' for {_type_name(attribute.value_type)} "
            f"attribute '{attribute.name}': {why}",
            literal.position + 1,
        )

    def _coerce(self, attribute: _Attribute, literal: _Literal) -> Value:
        """Validate a literal against the attribute type and convert it to internal form."""
        value_type, kind, value = attribute.value_type, literal.kind, literal.value
        if value_type in (KEYWORD, KEYWORD_LIST, TEXT):
            if attribute.name == "ExecutionStatus" and kind in ("string", "int"):
                status = _canonical_status(value)
                if status is None:
                    choices = ", ".join(EXECUTION_STATUSES.values())
                    raise self._invalid_value(attribute, literal, f"expected one of {choices}")
                return status
            if kind != "string":
                raise self._invalid_value(attribute, literal, "expected a quoted string")
            return value
        if value_type == INT:
            if kind == "int":
                return value
            if kind == "string":
                assert isinstance(value, str)
                if _INT_RE.fullmatch(value.strip()):
                    return int(value)
                if attribute.name == "ExecutionDuration":
                    nanos = _parse_go_duration(value)
                    if nanos is not None:
                        return nanos
                    raise self._invalid_value(
                        attribute, literal, "expected nanoseconds or a duration such as '1h30m'"
                    )
            raise self._invalid_value(attribute, literal, "expected an integer")
        if value_type == DOUBLE:
            if kind in ("int", "float"):
                return float(value)
            if kind == "string":
                assert isinstance(value, str)
                if _FLOAT_RE.fullmatch(value.strip()):
                    return float(value)
            raise self._invalid_value(attribute, literal, "expected a number")
        if value_type == BOOL:
            if kind == "bool":
                return value
            if kind == "string":
                assert isinstance(value, str)
                if value.strip().casefold() in ("true", "false"):
                    return value.strip().casefold() == "true"
            raise self._invalid_value(attribute, literal, "expected true or false")
        # DATETIME; _attribute() has rejected every other type.
        if kind == "int":
            return value
        if kind == "string":
            assert isinstance(value, str)
            if _INT_RE.fullmatch(value.strip()):
                return int(value)
            nanos = _parse_datetime_ns(value)
            if nanos is not None:
                return nanos
        raise self._invalid_value(
            attribute, literal, "expected an RFC3339 time such as '2024-01-02T03:04:05Z'"
        )


def parse_query(text: str, attribute_types: Mapping[str, int]) -> VisibilityQuery:
    """Parse a visibility query; raise QueryError describing the first problem found.

    `attribute_types` maps every queryable search attribute name (system and custom) to
    its IndexedValueType number. An empty or blank query matches every record.
    """
    return _Parser(text, attribute_types).parse()
