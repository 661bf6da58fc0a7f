"""The program in numbers as of a day: what the operators' page (`/portal/numbers`), its
CSV files, `GET /api/stats` and `wwc stats` all show. One pure function over plain rows
(each city's events, as `CityFact`s, and the announced certifications): no clock, no I/O,
the day is given (`numbers_reader.numbers_as_of` reads the rows).

- **Certified cities over time, by tier**: the certifications held (announced and not
  ended) at the end of each quarter and of the day itself, by the rule the registry's
  `?as_of=` uses (`as_of.held_on`).
- **Applications in each stage over time**, on the same days: each city's events stepped
  through the domain's own `stage_after`, as the workflow and the pipeline move them.
- **Days between the steps of an application**: joining to submission (a reapplication:
  from its opening), submission to decision, a certified decision to its announcement;
  the median and the 90th percentile by nearest rank (`domain/percentiles.py`) of the
  steps completed by the day.
- **Reviewer load and deadlines**: per reviewer, the reviews in hand and those completed,
  and their review deadlines met or missed; per kind (review, clarification), the
  deadlines met, missed and still pending. A deadline is missed once the program
  recorded it due (`DeadlineReached`, step "due") before the review was completed or the
  question answered, and met when those came first. One whose application closed, or
  whose reviewer was replaced, before either is neither.
- **Renewals due within a year**: the certifications in force at the end of the day by
  the month they expire (up to the same day a year on), and how many are held past their
  expiry while their renewal is decided.

Nothing after the day counts: the rows are cut at it before anything is counted, so an
event recorded later changes no figure."""

from __future__ import annotations

import calendar
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain import events
from domain.city_state import Stage
from domain.lifecycle import stage_after
from domain.percentiles import median, nearest_rank
from domain.tiers import CERTIFIED_TIERS
from infra.platform.errors import InvalidInput
from infra.readside.as_of import announced_by, held_on
from infra.readside.rows import AnnouncedCertification, CityFact

# The events the numbers read (what `numbers_reader.city_facts` asks the log for).
FACT_TYPES: tuple[str, ...] = tuple(cls.TYPE for cls in (
    events.ApplicationOpened, events.AssessmentSubmitted, events.ReviewerAssigned,
    events.ClarificationRequested, events.ClarificationAnswered, events.ReviewCompleted,
    events.DeadlineReached, events.CertificationDecided, events.CertificationAnnounced,
    events.CityWithdrew))
Step = Literal["join_to_submission", "submission_to_decision", "decision_to_announcement"]
STEPS: tuple[Step, ...] = ("join_to_submission", "submission_to_decision",
                           "decision_to_announcement")
DeadlineKind = Literal["review", "clarification"]
DEADLINE_KINDS: tuple[DeadlineKind, ...] = ("review", "clarification")
Chart = Literal["certified", "stages", "durations", "reviewers", "deadlines", "renewals"]
# Every chart, in the page's order; each is a list in `ProgramNumbers` and a CSV file.
CHARTS: tuple[Chart, ...] = ("certified", "stages", "durations", "reviewers", "deadlines",
                             "renewals")


class Figures(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TiersOnDay(Figures):
    """Cities holding an announced certification at the end of `day`, by tier."""

    day: date
    silver: int
    gold: int
    platinum: int
    total: int


class StagesOnDay(Figures):
    """Applications open at the end of `day`, by stage."""

    day: date
    assessing: int
    submitted: int
    under_review: int
    awaiting_clarification: int
    review_complete: int
    decided: int  # certified, waiting for its cohort's announcement
    total: int


class StepDays(Figures):
    """Days one step of an application took: how many applications took it by the day,
    the median and the 90th percentile (nearest rank; None when none did)."""

    step: Step
    applications: int
    median_days: int | None
    p90_days: int | None


class ReviewerLoad(Figures):
    reviewer: str
    open_reviews: int  # assigned, not yet completed
    completed_reviews: int
    deadlines_met: int
    deadlines_missed: int


class DeadlineTally(Figures):
    kind: DeadlineKind
    met: int
    missed: int
    pending: int  # not yet met, not yet due


class RenewalsInMonth(Figures):
    """Certifications in force that expire in `month` (YYYY-MM), by tier."""

    month: str
    silver: int
    gold: int
    platinum: int
    total: int


class ProgramNumbers(Figures):
    """The figures as of the end of `as_of`: one list per chart (`CHARTS`), each row a
    line of its CSV file."""

    as_of: date
    certified: tuple[TiersOnDay, ...]
    stages: tuple[StagesOnDay, ...]
    durations: tuple[StepDays, ...]
    reviewers: tuple[ReviewerLoad, ...]
    deadlines: tuple[DeadlineTally, ...]
    renewals: tuple[RenewalsInMonth, ...]
    held_past_expiry: int  # in force past its expiry: held while its renewal is decided

    def table(self, chart: Chart) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
        """The chart's columns (its row's fields) and its rows' values, in that order."""
        rows: tuple[Figures, ...] = getattr(self, chart)
        columns = tuple(ROW_MODELS[chart].model_fields)
        return columns, [tuple(getattr(row, name) for name in columns) for row in rows]


ROW_MODELS: dict[Chart, type[Figures]] = {
    "certified": TiersOnDay, "stages": StagesOnDay, "durations": StepDays,
    "reviewers": ReviewerLoad, "deadlines": DeadlineTally, "renewals": RenewalsInMonth}


def program_numbers(facts: Iterable[CityFact],
                    certifications: Sequence[AnnouncedCertification],
                    as_of: date) -> ProgramNumbers:
    """The figures at the end of `as_of` (see the module), from the cities' events in the
    order they were recorded and every announced certification."""
    known = [fact for fact in facts if fact.on <= as_of]
    public = announced_by(list(certifications), as_of)
    first = min([*(f.on for f in known), *(c.awarded_on for c in public)], default=as_of)
    days = sample_days(first, as_of)
    walk = _Walk()
    for fact in known:
        walk.step(fact)
    return ProgramNumbers(
        as_of=as_of,
        certified=tuple(_tiers_on(public, day) for day in days),
        stages=tuple(walk.stages_on(day) for day in days),
        durations=tuple(StepDays(step=step, applications=len(taken),
                                 median_days=median(taken),
                                 p90_days=nearest_rank(taken, 90))
                        for step in STEPS for taken in [walk.took[step]]),
        reviewers=walk.reviewers(),
        deadlines=walk.deadlines(),
        renewals=renewals(held_on(public, as_of), as_of),
        held_past_expiry=sum(1 for c in held_on(public, as_of) if c.expires_on <= as_of))


def sample_days(first: date, last: date) -> list[date]:
    """The end of each quarter from `first`'s up to `last`, then `last` itself (once)."""
    found = []
    end = _quarter_end(first)
    while end < last:
        found.append(end)
        end = _quarter_end(end + timedelta(days=1))
    return [*found, last]


def _quarter_end(day: date) -> date:
    month = (day.month - 1) // 3 * 3 + 3
    return date(day.year, month, calendar.monthrange(day.year, month)[1])


def _tiers_on(certifications: Sequence[AnnouncedCertification], day: date) -> TiersOnDay:
    held = Counter(c.tier for c in held_on(list(certifications), day))
    by_tier = {tier.value: held[tier.value] for tier in CERTIFIED_TIERS}
    return TiersOnDay(day=day, **by_tier, total=sum(by_tier.values()))


def a_year_after(day: date) -> date:
    """The same day a year later (29 February: the 28th)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def renewals(in_force: Sequence[AnnouncedCertification], as_of: date
             ) -> tuple[RenewalsInMonth, ...]:
    """Every month from `as_of`'s to a year on, with the certifications in force that
    expire in it after `as_of` and within the year, by tier."""
    horizon = a_year_after(as_of)
    due = Counter((c.expires_on.strftime("%Y-%m"), c.tier) for c in in_force
                  if as_of < c.expires_on <= horizon)
    months = []
    year, month = as_of.year, as_of.month
    while (year, month) <= (horizon.year, horizon.month):
        name = f"{year:04d}-{month:02d}"
        by_tier = {tier.value: due[(name, tier.value)] for tier in CERTIFIED_TIERS}
        months.append(RenewalsInMonth(month=name, **by_tier, total=sum(by_tier.values())))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


# --- stepping through each city's events --------------------------------------------------

@dataclass
class _Review:
    reviewer: str
    key: str  # the deadline's key: "review:<assigned on>"
    missed: bool = False


@dataclass
class _Application:
    opened: date
    stage: Stage | None = Stage.ASSESSING
    submitted: date | None = None
    decided: date | None = None
    review: _Review | None = None
    questions: dict[int, bool] = field(default_factory=dict)  # open ones: missed already?


@dataclass
class _Reviewer:
    completed: int = 0
    met: int = 0
    missed: int = 0


@dataclass
class _Walk:
    """Each city's open application as its events come, and what they add up to."""

    open: dict[str, _Application] = field(default_factory=dict)
    # Per city, the days its stage changed and the stage from then (None: none open).
    changes: dict[str, tuple[list[date], list[Stage | None]]] = field(default_factory=dict)
    took: dict[Step, list[int]] = field(default_factory=lambda: {s: [] for s in STEPS})
    people: dict[str, _Reviewer] = field(default_factory=dict)
    met: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)

    def step(self, fact: CityFact) -> None:
        if fact.type == events.ApplicationOpened.TYPE:
            self.open[fact.city_key] = _Application(opened=fact.on)
        app = self.open.get(fact.city_key)
        if app is None:
            return  # a join, or an event of no open application
        self._record(app, fact)
        stage = stage_after(app.stage, fact.type, clarifications_open=len(app.questions),
                            certified=fact.certified is not False)
        if stage is None:
            del self.open[fact.city_key]
        app.stage = stage
        days, stages = self.changes.setdefault(fact.city_key, ([], []))
        if days and days[-1] == fact.on:  # the stage at the end of the day is the last
            stages[-1] = stage
        elif not stages or stages[-1] != stage:
            days.append(fact.on)
            stages.append(stage)

    def _record(self, app: _Application, fact: CityFact) -> None:
        match fact.type:
            case events.AssessmentSubmitted.TYPE:
                app.submitted = fact.on
                self._took("join_to_submission", app.opened, fact.on)
            case events.ReviewerAssigned.TYPE if fact.reviewer is not None:
                # A reviewer replaced before the review was done: that review is neither
                # met nor missed (a miss already counted stays counted).
                app.review = _Review(reviewer=fact.reviewer, key=f"review:{fact.on}")
                self.people.setdefault(fact.reviewer, _Reviewer())
            case events.ClarificationRequested.TYPE if fact.clarification is not None:
                app.questions[fact.clarification] = False
            case events.ClarificationAnswered.TYPE if fact.clarification is not None:
                if app.questions.pop(fact.clarification, True) is False:
                    self.met["clarification"] += 1
            case events.ReviewCompleted.TYPE if app.review is not None:
                person = self.people[app.review.reviewer]
                person.completed += 1
                if not app.review.missed:
                    person.met += 1
                    self.met["review"] += 1
                app.review = None
            case events.DeadlineReached.TYPE if fact.step == "due":
                self._due(app, fact)
            case events.CertificationDecided.TYPE:
                app.decided = fact.on
                if app.submitted is not None:
                    self._took("submission_to_decision", app.submitted, fact.on)
            case events.CertificationAnnounced.TYPE if app.decided is not None:
                self._took("decision_to_announcement", app.decided, fact.on)

    def _due(self, app: _Application, fact: CityFact) -> None:
        """A deadline came due before what it waited for: missed (counted once)."""
        review = app.review
        if fact.kind == "review" and review is not None and not review.missed \
                and fact.deadline == f"{review.key}:due":
            review.missed = True
            self.people[review.reviewer].missed += 1
            self.missed["review"] += 1
        elif fact.kind == "clarification" and fact.deadline is not None:
            asked = fact.deadline.split(":")[1]
            question = int(asked) if asked.isdigit() else None
            if question is not None and app.questions.get(question) is False:
                app.questions[question] = True
                self.missed["clarification"] += 1

    def _took(self, step: Step, start: date, end: date) -> None:
        self.took[step].append((end - start).days)

    def stages_on(self, day: date) -> StagesOnDay:
        counts: Counter[Stage] = Counter()
        for days, stages in self.changes.values():
            at = bisect_right(days, day) - 1
            if at >= 0 and (stage := stages[at]) is not None:
                counts[stage] += 1
        by_stage = {stage.value: counts[stage] for stage in Stage}
        return StagesOnDay(day=day, **by_stage, total=sum(by_stage.values()))

    def reviewers(self) -> tuple[ReviewerLoad, ...]:
        in_hand = Counter(app.review.reviewer for app in self.open.values()
                          if app.review is not None)
        return tuple(ReviewerLoad(reviewer=name, open_reviews=in_hand[name],
                                  completed_reviews=person.completed,
                                  deadlines_met=person.met, deadlines_missed=person.missed)
                     for name, person in sorted(self.people.items()))

    def deadlines(self) -> tuple[DeadlineTally, ...]:
        apps = list(self.open.values())
        pending = {
            "review": sum(1 for a in apps if a.review is not None and not a.review.missed),
            "clarification": sum(1 for a in apps for missed in a.questions.values()
                                 if not missed)}
        return tuple(DeadlineTally(kind=kind, met=self.met[kind], missed=self.missed[kind],
                                   pending=pending[kind]) for kind in DEADLINE_KINDS)


def as_of_day(value: str | None, today: date, *, field: str = "as_of") -> date:
    """The day the figures are asked for: `value` (YYYY-MM-DD), or today when none is
    given. A day after the program's today is refused: what it holds is not known yet."""
    if value is None or value == "":
        return today
    try:
        # The one form (3.11's fromisoformat also takes 20260105 and 2026-W01-1).
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a date (YYYY-MM-DD)",
                           code="not_a_day", facts={"value": value}) from None
    if day > today:
        raise InvalidInput(f"{field}: {day} is after the program's today ({today}): the "
                           "figures of a day still to come are not known yet",
                           code="day_to_come", facts={"day_on": day.isoformat(),
                                                      "today_on": today.isoformat()})
    return day
