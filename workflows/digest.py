"""The operators' weekly digest: one workflow for the program (id `program/digest`), a
durable timer on the program clock to each Monday, the digest sent by an activity, then
continue-as-new for the next week. Weeks the program was down for are not sent late:
the next digest is the next Monday after today."""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import SEND_DIGEST, DigestRequest, MailResult
    from domain.clock import ProgramClock
    from domain.model import Frozen
    from domain.rules import ProgramRules
    from workflows.city import MAIL_HEARTBEAT, MAIL_RETRY, MAIL_TIMEOUT
    from workflows.timer import ProgramTimer

DIGEST_WORKFLOW_ID = "program/digest"


def next_monday(after: date) -> date:
    return after + timedelta(days=7 - after.weekday())


class DigestInput(Frozen):
    clock: ProgramClock
    rules: ProgramRules = ProgramRules()
    next_on: date | None = None  # the Monday of the next digest; None: the next one


@workflow.defn(name="ProgramDigest")
class DigestWorkflow:
    @workflow.init
    def __init__(self, input: DigestInput) -> None:
        self.timer = ProgramTimer(input.clock)
        self.due = input.next_on or next_monday(self.timer.today())

    @workflow.run
    async def run(self, input: DigestInput) -> None:
        due = self.due
        # A poke (the clock re-timed) wakes the wait early: wait again for the same day.
        while not await self.timer.wait(due, stop=lambda: False,
                                        summary=f"weekly digest, due {due}"):
            pass
        await workflow.execute_activity(
            SEND_DIGEST, DigestRequest(week_ending=due, rules=input.rules),
            result_type=MailResult, start_to_close_timeout=MAIL_TIMEOUT,
            heartbeat_timeout=MAIL_HEARTBEAT, retry_policy=MAIL_RETRY,
            summary=f"the operators' digest of the week ending {due}")
        following = max(due + timedelta(days=7), next_monday(self.timer.today()))
        workflow.continue_as_new(DigestInput(clock=self.timer.clock, rules=input.rules,
                                             next_on=following))

    @workflow.signal(name="set_clock")
    def set_clock(self, clock: ProgramClock) -> None:
        self.timer.set_clock(clock)

    @workflow.query(name="next_on")
    def next_on(self) -> date:
        """The program date of the next digest."""
        return self.due
