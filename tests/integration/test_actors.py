"""Who did what: the actor of each command reaches the metadata of the events it caused,
through a Temporal header (old histories without one read as the server's operator)."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain.streams import city_stream
from tests.integration.test_city_lifecycle import JOIN, KEY
from tests.temporal import Service, program_clock
from workflows.actors import RequestContext


async def test_each_events_metadata_names_the_actor_and_the_request(service: Service) -> None:
    program = service.operations(program_clock(date(2023, 1, 2), ms_per_day=200))
    editor = RequestContext(actor_id="acc-editor-1", actor_role="city_editor",
                            correlation_id="req-join-1")
    operator = RequestContext(actor_id="acc-op-7", actor_role="operator",
                              correlation_id="req-withdraw-2")

    await program.join(JOIN, context=editor)
    await program.send(KEY, c.Withdraw(reason="moving on"), context=operator)
    await program.send(KEY, c.JoinNetwork(name=JOIN.name, country=JOIN.country,
                                          population=JOIN.population))

    stored = await service.store.read_stream(city_stream(KEY))
    who = [(r.event_type, r.metadata["actor"], r.metadata["actor_role"],
            r.metadata["correlation_id"]) for r in stored]
    assert who[:3] == [
        ("city.joined", "acc-editor-1", "city_editor", "req-join-1"),
        ("application.opened", "acc-editor-1", "city_editor", "req-join-1"),
        ("city.withdrew", "acc-op-7", "operator", "req-withdraw-2")]
    # No context given: the operator on the server, correlated by the update's id.
    assert who[3][1:3] == ("operator", "operator")
    assert who[3][3].startswith("update:")
