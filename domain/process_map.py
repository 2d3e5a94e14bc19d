"""The cross-functional process map: which function delivers what for every customer, and when.

Sales, Customer Success, Support, Services, Marketing, Product and Finance each own milestones on
the customer's lifecycle timeline. A milestone starts at an offset from an anchor (the payment, a
journey stage's start, the contract's end), is due a number of days after it starts, may depend
on other functions' milestones, may hold a journey stage until it is done (`gates`), and tells
the functions that depend on it, and any it names, when it is done.

The map is configuration kept in the repository (`domain/process_maps/default.yaml`); a journey
carries the map it started with, so editing the file changes new journeys only.
`domain.process_map_checks` finds what would make a map unworkable (cycles, unknown names,
missing owners, timings that cannot be met).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from domain.input_checks import each_error

DEFAULT_MAP_PATH = Path(__file__).parent / "process_maps" / "default.yaml"

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]


class Anchor(StrEnum):
    """Moments of the journey a milestone's timing counts from."""

    PAYMENT_RECEIVED = "payment_received"
    REQUIREMENTS_STARTED = "requirements_started"
    ONBOARDING_STARTED = "onboarding_started"
    ADOPTION_STARTED = "adoption_started"
    RENEWAL_STARTED = "renewal_started"
    CONTRACT_END = "contract_end"


# The order anchors happen in for every customer (the contract's end has no fixed place).
ANCHOR_ORDER = [
    Anchor.PAYMENT_RECEIVED,
    Anchor.REQUIREMENTS_STARTED,
    Anchor.ONBOARDING_STARTED,
    Anchor.ADOPTION_STARTED,
]
# In people's words, for errors, emails and the picture.
ANCHOR_WORDS = {
    Anchor.PAYMENT_RECEIVED: "the payment is received",
    Anchor.REQUIREMENTS_STARTED: "requirements gathering starts",
    Anchor.ONBOARDING_STARTED: "onboarding starts",
    Anchor.ADOPTION_STARTED: "adoption starts",
    Anchor.RENEWAL_STARTED: "the renewal starts",
    Anchor.CONTRACT_END: "the contract ends",
}


class GatedStage(StrEnum):
    """Journey stages that can wait for a milestone (the ones that start a workflow)."""

    REQUIREMENTS = "requirements"
    ONBOARDING = "onboarding"
    RENEWAL = "renewal"


# The anchor at which each gated stage starts: a gate must be met by then.
GATE_ANCHOR = {
    GatedStage.REQUIREMENTS: Anchor.REQUIREMENTS_STARTED,
    GatedStage.ONBOARDING: Anchor.ONBOARDING_STARTED,
    GatedStage.RENEWAL: Anchor.RENEWAL_STARTED,
}


class MapModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Function(MapModel):
    """A team that owns milestones: where its handoffs go, and who hears when one is late."""

    id: Name
    name: Text
    owner: str | None = Field(default=None, description="the team's address (alias)")
    lead: str | None = Field(default=None, description="who is escalated to when it is late")


class Timing(MapModel):
    anchor: Anchor
    offset_days: int = Field(default=0, ge=-730, le=1460)


class Milestone(MapModel):
    id: Name
    function: Name
    title: Text
    done_when: Text = Field(description="what 'done' means, in the owner's words")
    stage: Text = Field(description="the lifecycle stage it belongs to, for the picture")
    starts: Timing
    due_within_days: int = Field(ge=1, le=365)
    depends_on: list[Name] = Field(default_factory=list)
    notify: list[Name] = Field(
        default_factory=list, description="functions told when it is done, beside dependents'"
    )
    gates: GatedStage | None = Field(default=None, description="journey stage that waits for it")
    repeat_every_days: int | None = Field(default=None, ge=30, le=1460)

    @property
    def due_within(self) -> timedelta:
        return timedelta(days=self.due_within_days)


class ProcessMap(MapModel):
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    title: Text = "Customer lifecycle"
    horizon_days: int = Field(default=1095, ge=30, le=3650)
    # A stage waits this long past its gate's due date, then escalates and goes ahead.
    gate_grace_days: int = Field(default=3, ge=0, le=60)
    functions: list[Function]
    milestones: list[Milestone]

    @property
    def label(self) -> str:
        """The version and a digest of the content: two different maps never share a label."""
        return f"{self.version}+{self.digest()[:8]}"

    def digest(self) -> str:
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(body).hexdigest()

    def function(self, function_id: str) -> Function:
        return next(f for f in self.functions if f.id == function_id)

    def milestone(self, milestone_id: str) -> Milestone:
        return next(m for m in self.milestones if m.id == milestone_id)

    def dependents(self, milestone_id: str) -> list[Milestone]:
        return [m for m in self.milestones if milestone_id in m.depends_on]

    def gates_of(self, stage: GatedStage) -> list[Milestone]:
        return [m for m in self.milestones if m.gates == stage]

    def starts_at(self, milestone: Milestone, anchor_at: datetime, cycle: int = 0) -> datetime:
        """When a milestone's `cycle`-th occurrence starts, given when its anchor happened."""
        every = timedelta(days=milestone.repeat_every_days or 0)
        return anchor_at + timedelta(days=milestone.starts.offset_days) + every * cycle


class InvalidProcessMap(ValueError):
    """A map that cannot run: every problem found, one per line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def parse_map(text: str, source: str = "process map") -> ProcessMap:
    """The map in `text` (YAML), checked; `InvalidProcessMap` says everything that is wrong."""
    from domain.process_map_checks import map_problems

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidProcessMap(source, [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise InvalidProcessMap(source, ["expected a mapping with version, functions, milestones"])
    try:
        process_map = ProcessMap.model_validate(data)
    except ValidationError as exc:
        raise InvalidProcessMap(source, each_error(exc)) from None
    problems = map_problems(process_map)
    if problems:
        raise InvalidProcessMap(source, problems)
    return process_map


def configured_map() -> ProcessMap:
    """The map new journeys start with: `CSFLOW_PROCESS_MAP`, else the shipped one (read again
    when the file changes)."""
    from domain.settings import Settings

    path = Settings.from_env().process_map or DEFAULT_MAP_PATH
    try:
        changed = path.stat().st_mtime_ns
    except OSError:
        changed = 0  # load_map says what is wrong with it
    return _loaded(path, changed)


@lru_cache(maxsize=8)
def _loaded(path: Path, changed: int) -> ProcessMap:
    return load_map(path)


def load_map(path: Path | None = None) -> ProcessMap:
    """The map at `path` (default: the shipped one)."""
    path = path or DEFAULT_MAP_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidProcessMap(str(path), [f"cannot be read: {exc.strerror or exc}"]) from None
    return parse_map(text, str(path))
