"""What the operators' weekly digest says: the cities that joined that week, what is
overdue now (clarification answers, reviews), and the certifications expiring in the next
90 days. Read from the read models; the deadlines from the domain's own rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg

from activities.ports import DigestRequest
from domain.city_state import CityState
from domain.deadlines import deadlines
from infra.mail.templates import Facts

EXPIRING_WITHIN = timedelta(days=90)


async def digest_facts(pool: asyncpg.Pool[Any], request: DigestRequest) -> Facts:
    """The digest's facts as the program records them (ISO dates, a tier's id, a
    deadline's kind): each reader's language writes them (templates.render)."""
    end = request.week_ending
    # The digest goes out at the start of its Monday: the week is the seven days before
    # it, that Monday's own joins belong to the next digest. (With (end-7, end] a join made
    # on a Monday, after that morning's digest, fell in no digest at all.)
    joins = await pool.fetch(
        "SELECT name FROM wwc_registry WHERE joined_on >= $1 AND joined_on < $2 "
        "ORDER BY name", end - timedelta(days=7), end)
    overdue = []
    for row in await pool.fetch("SELECT city_key, state FROM wwc_city_views "
                                "ORDER BY city_key"):
        state = CityState.model_validate(row["state"])
        name = state.profile.name if state.profile else row["city_key"]
        for deadline in deadlines(state.application, request.rules):
            if deadline.step == "due" and deadline.due_on <= end:
                overdue.append({"name": name, "kind": deadline.kind,
                                "due_on": deadline.due_on.isoformat()})
    expiring = await pool.fetch(
        "SELECT name, tier, expires_on FROM wwc_registry WHERE tier <> 'none' "
        "AND expires_on <= $1 ORDER BY expires_on, name", end + EXPIRING_WITHIN)
    return {
        "week_ending": end.isoformat(),
        "joins": [{"name": r["name"]} for r in joins],
        "joins_count": str(len(joins)),
        "overdue": overdue,
        "overdue_count": str(len(overdue)),
        "expiring": [{"name": r["name"], "tier": r["tier"],
                      "expires_on": r["expires_on"].isoformat()} for r in expiring],
        "expiring_count": str(len(expiring)),
    }
