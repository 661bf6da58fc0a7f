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

EXPIRING_WITHIN = timedelta(days=90)


async def digest_facts(pool: asyncpg.Pool[Any], request: DigestRequest) -> dict[str, str]:
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
                overdue.append(f"- {name}: {deadline.kind}, due {deadline.due_on}")
    expiring = await pool.fetch(
        "SELECT name, tier, expires_on FROM wwc_registry WHERE tier <> 'none' "
        "AND expires_on <= $1 ORDER BY expires_on, name", end + EXPIRING_WITHIN)
    return {
        "week_ending": end.isoformat(),
        "joins": "\n".join(f"- {r['name']}" for r in joins) or "-",
        "joins_count": str(len(joins)),
        "overdue": "\n".join(overdue) or "-",
        "overdue_count": str(len(overdue)),
        "expiring": "\n".join(f"- {r['name']} ({r['tier']}), {r['expires_on']}"
                              for r in expiring) or "-",
        "expiring_count": str(len(expiring)),
    }
