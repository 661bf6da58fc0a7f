"""The baselines for bench/lifecycle.py: a workflow with no domain in it that takes the same
number of updates, activities and timers as a city's lifecycle, its activities run as
regular activities (the baseline the target is set against) or all as local activities
(what Temporal does at best with that shape, since our short activities run locally)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bare_noop")
async def bare_noop(step: int) -> int:
    return step


@workflow.defn(name="BareLifecycle")
class BareWorkflow:
    def __init__(self) -> None:
        self.steps = 0
        self.local = False

    async def _activity(self, step: int) -> None:
        if self.local:
            await workflow.execute_local_activity(bare_noop, step,
                                                  start_to_close_timeout=timedelta(seconds=10))
        else:
            await workflow.execute_activity(bare_noop, step,
                                            start_to_close_timeout=timedelta(seconds=10))

    @workflow.run
    async def run(self, shape: list[int]) -> int:
        """shape: updates, activities, timers, and 1 to run the activities locally."""
        updates, activities, timers, local = shape
        self.local = bool(local)
        await workflow.wait_condition(lambda: self.steps >= updates)
        for step in range(max(activities - updates, 0)):
            await self._activity(step)
        for _ in range(timers):
            await workflow.sleep(timedelta(milliseconds=1))
        return self.steps

    @workflow.update
    async def step(self) -> int:
        # Like a city command: one activity (the event append) per update.
        await self._activity(self.steps)
        self.steps += 1
        return self.steps
