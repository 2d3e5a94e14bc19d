"""ExternalActivityWorkflow: the customer said something in public (`playbook-external-...`).

A negative review, post or mention: the CSM is alerted at once and gets a task, with the link, due
within the segment's response SLA. A positive one: the customer gets a thank-you and the CSM a
task to ask for a reference or a case study. Neutral mentions open nothing. One playbook per
thread: the second mention of the same review or discussion does not open another.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import AlertSeverity, TaskPriority
    from workflows.customer_event import (
        CustomerEventType,
        ExternalActivityPayload,
        ExternalChannel,
        Sentiment,
    )
    from workflows.playbooks import base, spec

# How the channel reads in a sentence for the CSM ("a negative review").
_CHANNEL_WORDS = {
    ExternalChannel.REVIEW_SITE: "review",
    ExternalChannel.COMMUNITY: "community post",
    ExternalChannel.SOCIAL: "social media post",
    ExternalChannel.NEWS: "article",
    ExternalChannel.OTHER: "mention",
}


_RESPOND_HOW = "Reply in public where it helps, and reach out to the customer directly."


class ExternalActivityPolicy(base.PlaybookPolicy):
    # A negative mention is answered within this; None: the segment's escalation SLA for a
    # first response.
    respond_within: timedelta | None = None
    advocacy_ask_within: timedelta = timedelta(days=7)
    thanks_template: str = "public_mention_thanks"


class ExternalActivityInput(base.PlaybookInput[ExternalActivityPolicy]):
    activity: ExternalActivityPayload
    respond_within: timedelta


class ExternalActivityResult(base.PlaybookResult):
    sentiment: Sentiment


@workflow.defn
class ExternalActivityWorkflow:
    @workflow.run
    async def run(self, input: ExternalActivityInput) -> ExternalActivityResult:
        ctx, mention = input.context, input.activity
        work = ctx.actions()
        what = _CHANNEL_WORDS[mention.channel]
        by = f" by {mention.author}" if mention.author else ""
        quote = f'\n\n"{mention.text}"' if mention.text else ""
        if mention.sentiment == Sentiment.NEGATIVE:
            await work.alert(
                f"Negative {what}{by}",
                "alert",
                message=f"{mention.url}{quote}",
                severity=AlertSeverity.CRITICAL
                if mention.channel == ExternalChannel.REVIEW_SITE
                else AlertSeverity.WARNING,
            )
            await work.task(
                f"Respond to a negative {what}{by}",
                "respond",
                description=f"{mention.url}{quote}\n\n{_RESPOND_HOW}",
                due_in=input.respond_within,
                priority=TaskPriority.URGENT,
            )
            outcome = f"negative {what}: CSM alerted, response task"
        else:
            await work.email(
                input.policy.thanks_template,
                "thanks",
                context={"channel": what, "url": mention.url},
            )
            await work.task(
                f"Ask for a reference or case study: positive {what}{by}",
                "advocacy_ask",
                description=f"{mention.url}{quote}",
                due_in=input.policy.advocacy_ask_within,
                priority=ctx.task_priority,
            )
            outcome = f"positive {what}: thank-you, advocacy ask task"
        await base.finish(ctx, outcome, work.log)
        return ExternalActivityResult(sentiment=mention.sentiment, log=work.log)


@spec.opens_on(CustomerEventType.EXTERNAL_ACTIVITY)
def _opens(trigger: spec.Trigger, policy: ExternalActivityPolicy) -> spec.Opening | None:
    mention = trigger.payload
    if not isinstance(mention, ExternalActivityPayload) or mention.sentiment == Sentiment.NEUTRAL:
        return None
    journey = trigger.journey
    author = mention.contact_id
    known = author is not None and any(
        c.id == author and not c.opted_out for c in journey.account.contacts
    )
    return spec.Opening(
        situation=mention.thread_key(),
        summary=f"{mention.sentiment.value} {_CHANNEL_WORDS[mention.channel]}: {mention.url}",
        input=ExternalActivityInput(
            # Thanks go to the author when they are a contact we may write to.
            context=trigger.context(contact_id=author if known else None),
            policy=policy,
            activity=mention,
            respond_within=policy.respond_within or journey.config.escalation.ack_within,
        ),
    )


SPEC = spec.PlaybookSpec(
    "external", "Public mention", ExternalActivityWorkflow, ExternalActivityPolicy, _opens
)
