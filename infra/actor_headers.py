"""Carrying the request's actor into the workflows: the client interceptor puts the
current `RequestContext` (set with `acting_as`) in a header on each update; the worker's
interceptor reads it and leaves it for the handler (see `workflows/actors.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from temporalio import client as temporal_client
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from workflows.actors import CONTEXT_HEADER, ActorsByUpdate, RequestContext

_current: ContextVar[RequestContext | None] = ContextVar("wwc_request_context", default=None)


@contextmanager
def acting_as(context: RequestContext) -> Iterator[None]:
    """Updates sent inside this block carry `context` as their actor."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def _with_context(headers: Any) -> dict[str, Payload]:
    context = _current.get()
    merged = dict(headers or {})
    if context is not None:
        merged[CONTEXT_HEADER] = PayloadConverter.default.to_payload(context.model_dump())
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
        input.headers = _with_context(input.headers)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: temporal_client.StartWorkflowUpdateWithStartInput
    ) -> temporal_client.WorkflowUpdateHandle[Any]:
        input.update_workflow_input.headers = _with_context(input.update_workflow_input.headers)
        return await super().start_update_with_start_workflow(input)


class WorkerActorInterceptor(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _WorkflowInbound


class _WorkflowInbound(WorkflowInboundInterceptor):
    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        payload = (input.headers or {}).get(CONTEXT_HEADER)
        actors = getattr(workflow.instance(), "actors", None)
        if payload is not None and isinstance(actors, ActorsByUpdate):
            data = PayloadConverter.default.from_payload(payload, dict)
            actors.put(input.id, RequestContext.model_validate(data))
        return await super().handle_update_handler(input)
