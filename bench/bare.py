"""The baseline for bench/lifecycle.py: a workflow with no domain in it that takes the same
number of updates, activities and timers as a city's lifecycle."""

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

    @workflow.run
    async def run(self, shape: list[int]) -> int:
        updates, activities, timers = shape
        await workflow.wait_condition(lambda: self.steps >= updates)
        for step in range(max(activities - updates, 0)):
            await workflow.execute_activity(bare_noop, step,
                                            start_to_close_timeout=timedelta(seconds=10))
        for _ in range(timers):
            await workflow.sleep(timedelta(milliseconds=1))
        return self.steps

    @workflow.update
    async def step(self) -> int:
        # Like a city command: one activity (the event append) per update.
        await workflow.execute_activity(bare_noop, self.steps,
                                        start_to_close_timeout=timedelta(seconds=10))
        self.steps += 1
        return self.steps
