"""Who an email is from and what surrounds its words: the CSM's name and signature, the company
and its postal address (settings), the greeting's first name, and, on marketing and nurture mail,
the unsubscribe link and headers (domain.email_kinds, domain.unsubscribe).

Every value here reaches customers: none names csflow (tests/activities/test_email_content.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from activities.email_ledger import Recipient
from crm.tables import AccountRow
from domain.email_kinds import is_transactional
from domain.models import EmailRequest
from domain.people import display_name, first_name
from domain.settings import Settings
from domain.unsubscribe import (
    list_unsubscribe_headers,
    unsubscribe_mailto,
    unsubscribe_token,
    unsubscribe_url,
)


@dataclass(frozen=True)
class Unsubscribe:
    """How the recipient stops this kind of email: a link for the footer, and the headers."""

    link: str
    headers: dict[str, str]


def unsubscribe_for(settings: Settings, contact_id: str | None) -> Unsubscribe:
    """The one-click link of `contact_id` (signed with Settings.unsubscribe_key) and a mailto.

    The mailto goes to the Inbound Parse domain when replies are configured (the API opts the
    contact out), else to the sender's mailbox. Without a contact or a key there is no link, and
    the footer offers the mailto."""
    key = settings.unsubscribe_key()
    token = unsubscribe_token(contact_id, key) if contact_id and key else None
    mailbox = (
        f"unsubscribe@{settings.reply_domain}"
        if settings.reply_secret is not None
        else settings.from_email
    )
    mailto = unsubscribe_mailto(mailbox, token)
    url = unsubscribe_url(settings.public_url, token) if token else None
    return Unsubscribe(link=url or mailto, headers=list_unsubscribe_headers(url, mailto))


def identity_context(
    settings: Settings, account: AccountRow, recipient: Recipient
) -> dict[str, Any]:
    """The template variables of sender and recipient identity (a request's context may add)."""
    company = settings.company_name
    return {
        "company_name": company,
        "product_name": settings.product_name,
        "csm_name": display_name(account.csm_owner, settings.team_names),
        "csm_email": account.csm_owner,
        "signature": settings.email_signature or f"Customer Success, {company}",
        "postal_address": settings.postal_address,
        "public_url": settings.public_url,
        "meeting_url": settings.meeting_url,
        "first_name": first_name(recipient.name) or "there",
        # The reader's zone: times in the email are theirs.
        "timezone": recipient.timezone,
    }


def unsubscribe_of(
    settings: Settings, request: EmailRequest, recipient: Recipient
) -> Unsubscribe | None:
    """None for transactional (service) mail, which carries no unsubscribe."""
    if is_transactional(request.template, request.category):
        return None
    return unsubscribe_for(settings, recipient.contact_id)
