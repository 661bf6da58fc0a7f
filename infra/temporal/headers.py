"""Carrying the request's actor into the workflows: the client interceptor puts the
current `RequestContext` (set with `acting_as`; else the operator on the server, whose
process holds the payload keys) in a header on each update, bound to the workflow and the
update; the payload codec seals it. The worker's interceptor refuses an update whose
header is missing, not sealed with our keys, made for another workflow or update, or
stale, before the update's validator runs (so nothing is recorded), and leaves the actor
for the handler (see `workflows/actors.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from temporalio import client as temporal_client
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from workflows.actors import (
    CONTEXT_HEADER,
    HEADER_FRESH_FOR,
    SERVER_OPERATOR,
    ActorsByUpdate,
    CommandHeader,
    RequestContext,
)

_current: ContextVar[RequestContext | None] = ContextVar("wwc_request_context", default=None)
UNAUTHENTICATED = "unauthenticated"


@contextmanager
def acting_as(context: RequestContext) -> Iterator[None]:
    """Updates sent inside this block carry `context` as their actor."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def _with_header(headers: Any, workflow_id: str, update_id: str) -> dict[str, Payload]:
    context = _current.get() or SERVER_OPERATOR
    header = CommandHeader(**context.model_dump(), workflow_id=workflow_id,
                           update_id=update_id, issued_at=datetime.now(UTC))
    merged = dict(headers or {})
    merged[CONTEXT_HEADER] = PayloadConverter.default.to_payload(header.model_dump(mode="json"))
    return merged


class ClientActorInterceptor(temporal_client.Interceptor):
    def intercept_client(
        self, next: temporal_client.OutboundInterceptor
    ) -> temporal_client.OutboundInterceptor:
        return _ClientOutbound(next)


class _ClientOutbound(temporal_client.OutboundInterceptor):
    async def start_workflow_update(
        self, input: temporal_client.StartWorkflowUpdateInput
    ) -> temporal_client.WorkflowUpdateHandle[Any]:
        # The header names the update, so the update needs its id now (the SDK would
        # otherwise draw one later).
        input.update_id = input.update_id or str(uuid.uuid4())
        input.headers = _with_header(input.headers, input.id, input.update_id)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: temporal_client.StartWorkflowUpdateWithStartInput
    ) -> temporal_client.WorkflowUpdateHandle[Any]:
        update = input.update_workflow_input
        update.update_id = update.update_id or str(uuid.uuid4())
        update.headers = _with_header(update.headers, input.start_workflow_input.id,
                                      update.update_id)
        return await super().start_update_with_start_workflow(input)


class WorkerActorInterceptor(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _WorkflowInbound


def _unauthenticated(why: str) -> ApplicationError:
    return ApplicationError(f"the command is not authenticated: {why}", "refused",
                            type=UNAUTHENTICATED, non_retryable=True)


def _header(input: HandleUpdateInput) -> CommandHeader | None:
    payload = (input.headers or {}).get(CONTEXT_HEADER)
    if payload is None:
        return None
    data = workflow.payload_converter().from_payload(payload, dict)
    return CommandHeader.model_validate(data)


def authenticated(input: HandleUpdateInput) -> CommandHeader:
    """The update's header, if it is sealed with our keys for this workflow and this
    update, and fresh; else the refusal (an `ApplicationError`, so the update is rejected
    with nothing recorded)."""
    try:
        header = _header(input)
    except ApplicationError as refused:
        raise _unauthenticated(refused.message) from None
    except Exception:  # a header of another shape: not one of ours
        raise _unauthenticated("its actor header is not one this service writes") from None
    if header is None:
        raise _unauthenticated("it carries no actor header")
    if header.workflow_id != workflow.info().workflow_id or header.update_id != input.id:
        raise _unauthenticated("its actor header was made for another command")
    age = workflow.now() - header.issued_at if header.issued_at else None
    if age is None or not -HEADER_FRESH_FOR < age < HEADER_FRESH_FOR:
        raise _unauthenticated("its actor header is stale")
    return header


class _WorkflowInbound(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        # Validators run for new updates only (never on replay), before anything is
        # recorded: the place to refuse one that is not ours.
        authenticated(input)
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        actors = getattr(workflow.instance(), "actors", None)
        header = _header(input)
        if header is not None and isinstance(actors, ActorsByUpdate):
            actors.put(input.id, header.context)
        return await super().handle_update_handler(input)
