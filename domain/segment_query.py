"""Which accounts a campaign or the nightly health fan-out reaches: a segment filter over the CRM
(the source of truth for segments), and the accounts it selects."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class SegmentQuery(BaseModel):
    """Exactly `segment`, or every segment key starting with `segment_prefix` (a tier such as
    `enterprise` under dynamic segmentation); neither: every active account."""

    segment: str | None = None
    segment_prefix: str | None = None
    limit: int = Field(default=10_000, ge=1)

    @model_validator(mode="after")
    def _one_filter(self) -> SegmentQuery:
        if self.segment is not None and self.segment_prefix is not None:
            raise ValueError("give segment or segment_prefix, not both")
        return self

    def matches(self, segment_key: str) -> bool:
        if self.segment is not None:
            return segment_key == self.segment
        if self.segment_prefix is not None:
            return segment_key.startswith(self.segment_prefix)
        return True

    def describe(self) -> str:
        if self.segment is not None:
            return f"segment {self.segment}"
        if self.segment_prefix is not None:
            return f"segments starting with {self.segment_prefix}"
        return "every active account"


class SegmentMember(BaseModel):
    account_id: str
    journey_id: str
    segment: str | None = None
    health_score: int | None = None


class SegmentAccounts(BaseModel):
    query: str
    members: list[SegmentMember] = Field(default_factory=list)
