"""The worker: both workflows and every activity over adapters injected by the caller (an
event store, the awaiting-announcement query, the standards source, the reviewers'
accounts, the postbox), so the same worker runs on PostgreSQL in production (composed in
`infra.bootstrap`) and on the in-memory store in fast workflow tests. Structured logs
carry workflow id, run id and activity."""

from __future__ import annotations

import compileall
import contextlib
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from activities.announce import AnnouncementActivities
from activities.append import AppendActivities
from activities.catalog import CatalogActivities
from activities.contracts import AppendRequest, AppendResponse
from activities.mail import MailActivities
from activities.notify import send_notification
from activities.ports import (
    AwaitingAnnouncement,
    EventAppender,
    Postbox,
    ReviewerAccounts,
    StandardsSource,
)
from activities.reviewers import ReviewerActivities
from activities.scoring import score_application
from domain.clock import ProgramClock
from domain.rules import ProgramRules
from infra.mail.postbox import LoggingPostbox
from infra.platform import metrics
from infra.temporal.headers import WorkerActorInterceptor
from workflows.city import CityWorkflow
from workflows.cohort import CohortWorkflow
from workflows.digest import DIGEST_WORKFLOW_ID, DigestInput, DigestWorkflow
from workflows.outbox import OutboxWorkflow

WORKFLOWS: Sequence[type] = (CityWorkflow, CohortWorkflow, DigestWorkflow, OutboxWorkflow)
# How long activities in flight may finish when the worker stops before they are cancelled
# (and retried by Temporal on another worker, or this one when it is back: they are
# idempotent). A deployment's `wwc worker` gives them this; `wwc up` less, to stop promptly.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)
log = structlog.get_logger("wwc.worker")


def cache_workflow_bytecode() -> None:
    """Write the bytecode of the sandboxed workflow modules if it is missing or stale.

    The sandbox imports a workflow's module afresh for every workflow run. Without a
    `__pycache__` (PYTHONDONTWRITEBYTECODE is set, or the files changed since install)
    every run compiled `workflows/city.py` from source: a tenth of the worker's CPU in the
    lifecycle benchmark's profile. py_compile writes the cache whatever that setting says;
    a read-only install (already compiled by pip) is left as it is."""
    folder = Path(workflows.__file__).parent
    with contextlib.suppress(OSError):
        compileall.compile_dir(folder, quiet=2, workers=1)


def workflow_runner() -> SandboxedWorkflowRunner:
    # Our domain and the activity contracts are deterministic, pure Python: load them once,
    # outside the sandbox, instead of re-importing them for every workflow run.
    # OpenTelemetry too: the tracing interceptor's workflow side uses it in the sandbox.
    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        "domain", "activities", "pydantic", "pydantic_core", "annotated_types",
        "opentelemetry")
    return SandboxedWorkflowRunner(restrictions=restrictions)


class _BindLogContext(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityLogContext(next)


class _ActivityLogContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.attempt > 1:
            metrics.ACTIVITY_RETRIES.labels(info.activity_type).inc()
        with structlog.contextvars.bound_contextvars(
            workflow_id=info.workflow_id, run_id=info.workflow_run_id,
            activity=info.activity_type, attempt=info.attempt,
        ):
            result = await super().execute_activity(input)
        if isinstance(result, AppendResponse) and not result.duplicate and input.args:
            request = input.args[0]
            if isinstance(request, AppendRequest):
                kind = request.stream_id.partition("/")[0]
                metrics.EVENTS_APPENDED.labels(kind).inc(len(request.events))
        return result


def build_worker(client: Client, *, task_queue: str, store: EventAppender,
                 awaiting: AwaitingAnnouncement, standards: StandardsSource,
                 reviewers: ReviewerAccounts, postbox: Postbox | None = None,
                 max_concurrent_activities: int = 10,
                 graceful_shutdown: timedelta = GRACEFUL_SHUTDOWN) -> Worker:
    """Both workflows and every activity over the given adapters. With a database behind
    them, keep `max_concurrent_activities` at or below the pool's size. The client brings
    the data converter (payloads sealed: `infra/temporal/codec.py`)."""
    appends = AppendActivities(store)
    accounts = ReviewerActivities(reviewers)
    catalog = CatalogActivities(standards)
    announcements = AnnouncementActivities(awaiting)
    mail = MailActivities(postbox or LoggingPostbox())
    cache_workflow_bytecode()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=[appends.append_events, score_application, send_notification,
                    catalog.load_standards, announcements.awaiting_announcement,
                    accounts.reviewer_standing, mail.send_mail, mail.send_digest,
                    mail.send_recorded_mail],
        max_concurrent_activities=max_concurrent_activities,
        workflow_runner=workflow_runner(),
        interceptors=[_BindLogContext(), WorkerActorInterceptor()],
        graceful_shutdown_timeout=graceful_shutdown,
    )


async def ensure_digest(client: Client, task_queue: str, clock: ProgramClock,
                        rules: ProgramRules | None = None) -> None:
    """The operators' weekly digest workflow, started once per program (a running one is
    left as it is)."""
    await client.start_workflow(
        DigestWorkflow.run, DigestInput(clock=clock, rules=rules or ProgramRules()),
        id=DIGEST_WORKFLOW_ID, task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
