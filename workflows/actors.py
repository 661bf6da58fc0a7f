"""Who gave a command, as the events it causes record it. It travels in a Temporal header
on the update (so every update keeps its one command argument), sealed by the payload
codec like every payload, is checked by the worker's interceptor before the update's
validator runs (`infra/temporal/headers.py`) and handed to the workflow by update id.

The header names the workflow and the update it was made for and when: only a holder of
the payload keys can seal one, and one copied from a history is refused for any other
update, and for its own once it is stale. An update without an authentic header is
refused (`unauthenticated`), nothing recorded. Histories recorded before headers existed
have none: their commands read as given by an operator on the server, which is what they
were."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.model import Frozen

CONTEXT_HEADER = "wwc-context"
# How old a command's header may be when its workflow validates it: far beyond a
# command's own wait (a minute) and any clock skew between hosts, far below the time a
# history copied out of Temporal would take to be of use to someone replaying it.
HEADER_FRESH_FOR = timedelta(minutes=15)


class RequestContext(Frozen):
    actor_id: str  # an account id, or "operator" for the CLI on the server
    actor_role: str
    correlation_id: str = ""


class CommandHeader(RequestContext):
    """The header of an update: its actor, and the workflow, update and time it was sealed
    for (absent in headers recorded before they were bound)."""

    workflow_id: str = ""
    update_id: str = ""
    issued_at: datetime | None = None

    @property
    def context(self) -> RequestContext:
        return RequestContext(actor_id=self.actor_id, actor_role=self.actor_role,
                              correlation_id=self.correlation_id)


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
