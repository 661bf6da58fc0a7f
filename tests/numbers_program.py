"""A small program whose numbers are known (the operators' `/portal/numbers`, `wwc stats`):
nine cities from late 2020 to the end of 2024, driven through the pure deciders as the
workflows drive them, so each event is one the service itself would record.

Written on the calendar of `BASE` (its "today", 2024-12-31); `program(shift)` moves every
day by `shift`, so a test against a live service can end it on the service's today. The
days between steps do not change with the shift (what the durations count).

| City | Its story (reviewers: ANA, BRUNO) |
|---|---|
| Reno | silver, announced 2021-01-10, lapsed 2024-01-10 |
| Denver | gold, 2021-03-01; reapplied 2023-12-01, held past its expiry (2024-03-01) |
| Austin | silver, 2022-06-01 (expires 2025-06-01: a renewal due within the year) |
| Recife | platinum, 2024-04-30, its clarification answered in time |
| Boise | review due before it was completed (BRUNO missed it); not certified |
| Tulsa | clarification answered late, review overdue (ANA): under review |
| Quito | joined 2024-11-01, assessing |
| Lima | submitted, then withdrew |
| Cali | under review, its review and clarification not yet due |
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from domain import commands as c
from domain.events import Event
from domain.report import build_report
from domain.standard import Standard
from domain.streams import city_key, city_stream
from domain.tiers import Tier
from tests.factories import CATALOG, CityDriver, answers

BASE = date(2024, 12, 31)
ANA, BRUNO = "ana@review.test", "bruno@review.test"


@cache
def criteria_for(standard_id: str, tier: Tier) -> int:
    """The fewest criteria, all met, that score `tier` under the standard (at least five:
    an assessment answers something)."""
    standard: Standard = CATALOG[standard_id]
    for count in range(5, len(standard.codes) + 1):
        if build_report(standard, answers(standard, count)).score.tier is tier:
            return count
    raise ValueError(f"{standard_id} has no count of criteria that scores {tier}")


class City:
    """A city's steps by day (ISO, on BASE's calendar), through the deciders."""

    def __init__(self, name: str, country: str, shift: timedelta) -> None:
        self.name, self.country, self.shift = name, country, shift
        self.driver = CityDriver()
        self.claimed: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return city_key(self.country, self.name)

    def on(self, day: str) -> date:
        return date.fromisoformat(day) + self.shift

    def join(self, day: str) -> City:
        # The 2022 standard, whenever the city joins: the older ones in the catalog are
        # not complete enough to score.
        self.driver(c.JoinNetwork(name=self.name, country=self.country, population=300_000,
                                  standard_id="wwc-2022"), self.on(day))
        return self

    def submit(self, day: str, tier: Tier) -> City:
        app = self.driver.state.application
        assert app is not None
        standard = CATALOG[app.standard_id]
        claimed = answers(standard, criteria_for(standard.id, tier))
        self.claimed = tuple(claimed.criteria)
        self.driver(c.SubmitAssessment(answers=claimed), self.on(day))
        return self

    def assign(self, day: str, reviewer: str) -> City:
        self.driver(c.AssignReviewer(reviewer=reviewer), self.on(day))
        return self

    def ask(self, day: str) -> City:
        self.driver(c.RequestClarification(criterion=self.claimed[0],
                                           question="Where are the minutes published?"),
                    self.on(day))
        return self

    def answer(self, day: str, question: int = 1) -> City:
        self.driver(c.AnswerClarification(clarification_id=question, answer="Online."),
                    self.on(day))
        return self

    def review_due(self, day: str, step: str = "due") -> City:
        app = self.driver.state.application
        assert app is not None
        assert app.reviewer_assigned_on is not None
        self.driver(c.ReachDeadline(key=f"review:{app.reviewer_assigned_on}:{step}"),
                    self.on(day))
        return self

    def question_due(self, day: str, question: int = 1) -> City:
        self.driver(c.ReachDeadline(key=f"clarification:{question}:due"), self.on(day))
        return self

    def complete(self, day: str) -> City:
        self.driver(c.RecordReviews(reviews=tuple(
            c.RecordCriterionReview(code=code, met=True) for code in self.claimed)),
            self.on(day))
        self.driver(c.CompleteReview(), self.on(day))
        return self

    def decide(self, day: str) -> City:
        self.driver.score_and_decide(self.on(day))
        return self

    def announce(self, day: str) -> City:
        self.driver(c.Announce(cohort_id=day[:7]), self.on(day))
        return self

    def reapply(self, day: str) -> City:
        self.driver(c.Reapply(standard_id="wwc-2022"), self.on(day))
        return self

    def expire(self) -> City:
        """The certification's expiry comes (three calendar years after its announcement,
        which a shift over a 29 February can move by a day)."""
        cert = self.driver.state.certification
        assert cert is not None
        self.driver(c.Expire(), cert.expires_on)
        return self

    def then(self, command: c.CityCommand, day: str) -> City:
        self.driver(command, self.on(day))
        return self


def cities(shift: timedelta = timedelta(0)) -> list[City]:
    def city(name: str, country: str) -> City:
        return City(name, country, shift)

    return [
        city("Reno", "US").join("2020-10-01").submit("2020-10-11", Tier.SILVER)
        .assign("2020-10-12", BRUNO).complete("2020-10-20").decide("2020-11-01")
        .announce("2021-01-10").expire(),
        city("Denver", "US").join("2020-11-01").submit("2020-11-21", Tier.GOLD)
        .assign("2020-11-22", BRUNO).complete("2020-12-01").decide("2020-12-11")
        .announce("2021-03-01").reapply("2023-12-01").expire(),
        city("Austin", "US").join("2022-01-05").submit("2022-02-04", Tier.SILVER)
        .assign("2022-02-05", ANA).complete("2022-02-25").decide("2022-03-01")
        .announce("2022-06-01"),
        city("Recife", "BR").join("2024-01-10").submit("2024-02-09", Tier.PLATINUM)
        .assign("2024-02-10", ANA).ask("2024-02-15").answer("2024-02-20")
        .complete("2024-03-01").decide("2024-03-11").announce("2024-04-30"),
        city("Boise, ID", "US").join("2024-01-20").submit("2024-03-20", Tier.NONE)
        .assign("2024-03-21", BRUNO).review_due("2024-04-28", "reminder")
        .review_due("2024-05-05").complete("2024-05-10").decide("2024-05-20"),
        city("Tulsa, OK", "US").join("2024-06-01").submit("2024-06-11", Tier.GOLD)
        .assign("2024-06-12", ANA).ask("2024-06-15").question_due("2024-07-15")
        .answer("2024-07-20").review_due("2024-07-27"),
        city("Quito", "EC").join("2024-11-01"),
        city("Lima", "PE").join("2024-02-01").submit("2024-03-01", Tier.GOLD)
        .then(c.Withdraw(reason="merged with the province"), "2024-03-15"),
        city("Cali", "CO").join("2024-11-15").submit("2024-12-05", Tier.GOLD)
        .assign("2024-12-10", ANA).ask("2024-12-20"),
    ]


def program(shift: timedelta = timedelta(0)) -> dict[str, list[Event]]:
    """Each city's stream and its events."""
    return {city_stream(city.key): list(city.driver.events) for city in cities(shift)}


def crowd(shift: timedelta, count: int = 48, seed: int = 25) -> list[City]:
    """`count` more cities (for the pictures: a program of some size), their days drawn
    from a seeded generator over the four years before BASE: most certified at a tier and
    announced at the next quarter's cohort, some not certified, the latest still on their
    way, a review now and then completed after its due date."""
    import random

    draw = random.Random(seed)
    reviewers = (ANA, BRUNO, "carla@review.test", "diego@review.test")
    tiers = (Tier.SILVER, Tier.SILVER, Tier.GOLD, Tier.GOLD, Tier.PLATINUM, Tier.NONE)
    made = []
    for number in range(count):
        joined = BASE - timedelta(days=draw.randint(40, 1460))
        city = City(f"Town {number + 1:02d}", "US", shift)

        def at(days: int, joined: date = joined) -> str:
            return (joined + timedelta(days=days)).isoformat()

        steps = [draw.randint(20, 120), draw.randint(1, 20), draw.randint(15, 70),
                 draw.randint(5, 30)]
        city.join(at(0))
        day = steps[0]
        if joined + timedelta(days=day) > BASE:
            made.append(city)
            continue
        tier = draw.choice(tiers)
        city.submit(at(day), tier)
        day += steps[1]
        if joined + timedelta(days=day) <= BASE:
            city.assign(at(day), draw.choice(reviewers))
            assigned = day
            day += steps[2]
            if assigned + 45 < day and joined + timedelta(days=assigned + 45) <= BASE:
                city.review_due(at(assigned + 45))
            if joined + timedelta(days=day) <= BASE:
                city.complete(at(day))
                day += steps[3]
                if joined + timedelta(days=day) <= BASE:
                    city.decide(at(day))
                    announced = _next_quarter(joined + timedelta(days=day + 20))
                    if tier is not Tier.NONE and announced <= BASE:
                        city.announce(announced.isoformat())
                        held = city.driver.state.certification
                        if held is not None and held.expires_on <= BASE + shift:
                            city.expire()  # lapsed: nobody reapplied
        made.append(city)
    return made


def _next_quarter(day: date) -> date:
    """The first day of the quarter after `day`'s (the crowd's cohorts)."""
    month = (day.month - 1) // 3 * 3 + 4
    return date(day.year + (month > 12), (month - 1) % 12 + 1, 1)
