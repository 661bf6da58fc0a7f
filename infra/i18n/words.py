"""Words the templates translate from data (a tier, a status, a role, an error's title):
listed here so that the message extraction finds them (`_(view.status...)` in a template
cannot be read by a tool). `N_` marks a string for translation and returns it as is."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


TIERS = (N_("none"), N_("silver"), N_("gold"), N_("platinum"))
NOT_CERTIFIED = N_("not certified")


def tier_word(tier: str) -> str:
    """How a tier reads to people (still to be translated): the tier "none" is "not
    certified", never "none" (nor "nenhum")."""
    return NOT_CERTIFIED if tier == "none" else tier

STATUSES = (N_("not joined"), N_("assessing"), N_("submitted"), N_("under review"),
            N_("awaiting clarification"), N_("review complete"), N_("awaiting announcement"),
            N_("not certified"), N_("certified"), N_("renewal due"), N_("reapplying"),
            N_("lapsed"), N_("decided"))
# The last: who the program's own timers and cohorts act as in a city's timeline.
ROLES = (N_("city editor"), N_("reviewer"), N_("operator"), N_("admin"), N_("program"))
TITLES = (N_("Bad request"), N_("Sign-in required"), N_("Forbidden"), N_("Not found"),
          N_("Refused"), N_("Invalid input"), N_("Too many requests"), N_("Internal error"),
          N_("Service unavailable"), N_("Request too large"), N_("Precondition required"),
          N_("Method not allowed"))
WAITS = (N_("assessment"), N_("clarification"), N_("assignment"), N_("review"),
         N_("decision"), N_("announcement"))
ELIGIBILITY = (N_("U.S. cities only"), N_("cities of North, Central and South America"))
MAIL_STATUSES = (N_("pending"), N_("sent"), N_("held"))
# What a criterion's evidence links to when its standard names no documents of its own.
EVIDENCE = (N_("supporting documentation"),)
# The words in a city's timeline lines (infra/readside/history.py): outcomes, deadline kinds, steps.
TIMELINE = (N_("new"), N_("recertified"), N_("moved up"), N_("moved down"), N_("lapsed"),
            N_("clarification"), N_("review"), N_("draft"), N_("reminder"), N_("due"),
            N_("nudge"))
