"""Stored values in words: how a stage, segment, band, kind or role that the CRM stores as an
enum's value (`at_risk`, `mid_market`, `auto_renewed`) is said to people. The CRM writes its
timeline entries with these words, and the console shows values with them."""

from __future__ import annotations

from enum import Enum

# Words for values whose enum value is not already a word people use; any other value is said
# as itself, `_` as a space and capitalized (`onboarding` -> "Onboarding").
_WORDS = {
    "at_risk": "At risk",
    "mid_market": "Mid-market",
    "smb": "Small business",
    "decision_maker": "Decision maker",
    "csat": "CSAT survey",
    "email_suppressed": "Email not sent (opted out)",
    "email_deferred": "Email held back",
    "survey_sent": "Survey sent",
    "survey_response": "Survey answer",
    "stage_change": "Stage change",
    "health_score": "Health score",
    "auto_renewed": "Renewed automatically",
    "csm": "CSM",
    "nps": "NPS survey",
    # The health score's inputs (domain.models.HealthInputs), named in "what changed".
    "latest_nps": "Latest NPS answer",
    "latest_csat": "Latest CSAT answer",
    "logins_30d": "Logins in 30 days",
    "baseline_logins_30d": "Usual logins in 30 days",
    "key_actions_30d": "Key actions in 30 days",
    "baseline_key_actions_30d": "Usual key actions in 30 days",
    "days_since_last_touchpoint": "Days since the last touch",
    "outreach_sent_90d": "Emails sent in 90 days",
    "outreach_replied_90d": "Emails replied to in 90 days",
}


def in_words(value: Enum | str) -> str:
    """An enum member (or its stored value) as words, capitalized: `at_risk` -> "At risk",
    `mid_market` -> "Mid-market", `customer_success` -> "Customer success". Lower it where it
    falls mid-sentence ("Moved from adoption to at risk")."""
    raw = str(value.value if isinstance(value, Enum) else value)
    return _WORDS.get(raw, raw.replace("_", " ").strip().capitalize())
