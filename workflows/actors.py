"""Who gave a command, as the events it causes record it. It travels in a Temporal header
on the update (so every update keeps its one command argument), is read by the worker's
interceptor (`infra/actor_headers.py`) and handed to the workflow by update id.

Histories recorded before headers existed have none: their commands read as given by an
operator on the server, which is what they were."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.model import Frozen

CONTEXT_HEADER = "wwc-context"


class RequestContext(Frozen):
    actor_id: str  # an account id, or "operator" for the CLI on the server
    actor_role: str
    correlation_id: str = ""


SERVER_OPERATOR = RequestContext(actor_id="operator", actor_role="operator")


class ActorsByUpdate:
    """Where the interceptor leaves each update's context for its handler."""

    def __init__(self) -> None:
        self._by_update: dict[str, RequestContext] = {}

    def put(self, update_id: str, context: RequestContext) -> None:
        self._by_update[update_id] = context

    def take(self, update_id: str | None) -> RequestContext:
        if update_id is None:
            return SERVER_OPERATOR
        return self._by_update.pop(update_id, SERVER_OPERATOR)
