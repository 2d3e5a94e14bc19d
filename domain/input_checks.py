"""Checks for data entering csflow from outside, and a helper to show such data safely.

What comes in at the edge (the HTTP API, the CLI, customer events, CRM syncs) is refused when a
journey could not live with it:

* numbers must be finite: `Infinity`/`NaN` do not survive JSON (they serialize as `null`), so a
  journey carrying one fails to decode its own input later;
* dates must lie in `EARLIEST_DATE`..`LATEST_DATE`: billing systems send `0001-01-01` for
  "no date" (or `9999-12-31` for "forever"), and date arithmetic on those overflows;
* text must not contain control characters: names and one-line fields refuse every one
  (a CR/LF in a contact name is a header injection the mailer refuses); free text allows tabs and
  line breaks only.

The error names the field (pydantic's location) and says what is wrong with it.

Data a journey accepted before these checks existed is re-read under the rules of that time:
validate with `context=ACCEPTED_EARLIER` and the checks step aside, so replaying a journey
recorded earlier takes the same path it took then.

Pure functions (no clock, no I/O): they run inside the workflow sandbox too.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ValidationError, ValidationInfo, field_validator

EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 12, 31)

_CONTEXT_KEY = "csflow_accepted_earlier"
# Validation context for data accepted before these checks existed (see the module docstring).
ACCEPTED_EARLIER: dict[str, Any] = {_CONTEXT_KEY: True}

# C0 controls (tabs and line breaks included), DEL, C1 controls, Unicode line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same without tab, line feed and carriage return: what multi-line free text may not hold.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def accepted_earlier(info: ValidationInfo) -> bool:
    context = info.context
    return isinstance(context, dict) and context.get(_CONTEXT_KEY) is True


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def single_line_problem(value: str) -> str | None:
    """What is wrong with `value` as a name or other one-line text; None: nothing."""
    if found := _CONTROL.search(value):
        return f"must be one line without control characters (found {_codepoint(found.group())})"
    return None


def text_problem(value: str) -> str | None:
    """What is wrong with `value` as free text; None: nothing."""
    if found := _TEXT_CONTROL.search(value):
        return (
            "must not contain control characters other than tabs and line breaks "
            f"(found {_codepoint(found.group())})"
        )
    return None


def date_problem(value: date) -> str | None:
    """What is wrong with `value` (a date or datetime) as a date csflow works with."""
    day = value.date() if isinstance(value, datetime) else value
    if EARLIEST_DATE <= day <= LATEST_DATE:
        return None
    return (
        f"{value.isoformat()} is outside the supported range "
        f"{EARLIEST_DATE.isoformat()}..{LATEST_DATE.isoformat()}"
    )


def finite_problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value}"
    return None


def _validator(problem: Any) -> Any:
    def check(value: Any, info: ValidationInfo) -> Any:
        if not accepted_earlier(info) and (message := problem(value)) is not None:
            raise ValueError(message)
        return value

    return check


check_single_line = _validator(single_line_problem)
check_text = _validator(text_problem)
check_date = _validator(date_problem)
check_finite = _validator(finite_problem)


class FiniteNumbers(BaseModel):
    """Base model whose float fields refuse `Infinity` and `NaN`."""

    # Before the field's own constraints (so NaN is named as such, not as "less than 0") and
    # after parsing (for numbers that arrived as text).
    @field_validator("*", mode="before")
    @classmethod
    def _finite_input(cls, value: Any, info: ValidationInfo) -> Any:
        return check_finite(value, info)

    @field_validator("*", mode="after")
    @classmethod
    def _finite(cls, value: Any, info: ValidationInfo) -> Any:
        return check_finite(value, info)


# A name, id, subject or other one-line text.
SingleLine = Annotated[str, AfterValidator(check_single_line)]
# Free text (comments, notes, descriptions): tabs and line breaks allowed.
Text = Annotated[str, AfterValidator(check_text)]
SaneDate = Annotated[date, AfterValidator(check_date)]
SaneDatetime = Annotated[datetime, AfterValidator(check_date)]


def clean_text(text: str) -> str:
    """Free text without the control characters `Text` refuses (tabs and line breaks stay)."""
    return _TEXT_CONTROL.sub("", text)


def describe_errors(error: ValidationError, whole: str = "input") -> str:
    """A pydantic error as one line naming each field: `contract.start_date: ...; name: ...`
    (`whole` names an error about the input as a whole)."""
    return "; ".join(each_error(error, whole))


def each_error(error: ValidationError, whole: str = "input") -> list[str]:
    """Each problem of a pydantic error, naming its field: `contract.start_date: ...`."""
    return [
        f"{'.'.join(str(p) for p in item['loc']) or whole}: "
        f"{str(item['msg']).removeprefix('Value error, ')}"
        for item in error.errors()
    ]


def one_line(text: str, limit: int = 200) -> str:
    """`text` as one printable line of at most `limit` characters (for subjects, titles, logs)."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: max(limit - 3, 0)] + "..."
