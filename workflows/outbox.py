"""Delivering a message the outbox already holds (a person's invitation or password reset,
recorded with the event that caused it by the account directory): one short workflow per
message's cause (id `mail/<cause>`), whose activity sends it with the same retries as the
cities' mail. A front door starts it after recording; starting it twice sends nothing
twice (the postbox skips what is sent)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import SEND_RECORDED_MAIL, MailResult, RecordedMail
    from workflows.city import MAIL_HEARTBEAT, MAIL_RETRY, MAIL_TIMEOUT

# Retried while its link can still be used (an invitation's lifetime, and a day more):
# after that the message would only lead to "this link has expired".
TRIES_FOR = timedelta(days=8)


def outbox_workflow_id(cause: str) -> str:
    return f"mail/{cause}"


@workflow.defn(name="OutboxDelivery")
class OutboxWorkflow:
    @workflow.run
    async def run(self, input: RecordedMail) -> MailResult:
        result: MailResult = await workflow.execute_activity(
            SEND_RECORDED_MAIL, input, result_type=MailResult,
            start_to_close_timeout=MAIL_TIMEOUT, heartbeat_timeout=MAIL_HEARTBEAT,
            retry_policy=MAIL_RETRY, schedule_to_close_timeout=TRIES_FOR,
            summary="a recorded message")
        return result
