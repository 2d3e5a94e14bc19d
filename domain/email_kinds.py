"""Which emails a contact can unsubscribe from, and which ones are internal.

Transactional (service) mail is what the customer's contract and open requests need: an
escalation acknowledgement, a kickoff invitation, onboarding steps, security and billing notices.
It carries no unsubscribe link and still reaches a contact who opted out.

Everything else (campaigns and newsletters, surveys, re-engagement, check-ins, renewal outreach,
training and webinar invitations, thank-you notes) is marketing or nurture mail: it carries
`List-Unsubscribe` (RFC 8058 one-click) and a visible unsubscribe link, and an opted-out contact
does not get it.

The category of a request wins when it says which one it is (a campaign is never service mail);
otherwise its template decides, and a template listed in neither set counts as nurture mail, the
side that honours an opt-out.
"""

from __future__ import annotations

# Staff mail: never addressed to a customer contact.
INTERNAL_TEMPLATES = frozenset({"csm_alert", "handoff_done"})

TRANSACTIONAL_TEMPLATES = frozenset(
    {
        "csm_alert",
        "csm_introduction",
        "handoff_done",
        "escalation_acknowledgement",
        "kickoff_invite",
        "onboarding_complete",
        "requirements_questionnaire",
        "requirements_reminder",
        "upgrade_congratulations",
    }
)

NURTURE_TEMPLATES = frozenset(
    {
        "feature_release",
        "public_mention_thanks",
        "re_engagement_help",
        "re_engagement_milestones",
        "re_engagement_product_updates",
        "renewal_outreach",
        "renewal_reminder",
        "survey_invitation",
        "training_material",
        "upgrade_check_in",
        "usage_check_in",
        "webinar_invitation",
    }
)

# Categories that say what a message is, whatever its template.
MARKETING_CATEGORIES = frozenset(
    {"campaign", "newsletter", "marketing", "survey", "re_engagement", "nurture"}
)
SERVICE_CATEGORIES = frozenset(
    {"csm_alert", "handoff", "kickoff", "escalation", "security", "billing", "service"}
)


def is_transactional(template: str, category: str) -> bool:
    """True for service mail (no unsubscribe link; sent to opted-out contacts too)."""
    if category in MARKETING_CATEGORIES:
        return False
    if category in SERVICE_CATEGORIES:
        return True
    return template in TRANSACTIONAL_TEMPLATES
