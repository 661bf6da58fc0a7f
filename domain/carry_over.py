"""What a reapplication starts from: the city's last reviewed answers and evidence,
carried over, each criterion marked "carried over: confirm it still holds".

**What is carried.** The last decided application's reviewed answers: the criteria the
review recorded as met (`last_review`), with their evidence links and the documents the
decision named for them. Only criteria that exist in the reapplication's standard are
carried: a reapplication under a newer standard carries the codes that still exist, and
lists the others as `dropped` (their answers mean nothing under the new standard; the page
says so). Checklist items the new standard no longer has are left out the same way.

**Evidence that lasts.** A link or a document may carry a valid-through date (a policy
adopted until it is revised). Evidence whose valid-through is before the reapplication's
day is not carried; evidence with none, or valid on that day or later, is. A criterion
whose every piece of evidence expired is still carried (its answer), with no evidence:
the editors must give new evidence before the submission's evidence check passes.

**Where the carried-over answers live.** In the reapplication's draft (`domain/drafts.py`):
until the first save of the new application, reading the draft falls back to the carried
answers (`infra/application/drafts.py`), so nothing is recorded at reapplication (the
city's workflow and its recorded histories are untouched) and a city that never opens its
assessment page has nothing written. The first save stores them, with the criteria still
to confirm (`DraftSaved.carried`); a confirmation removes a criterion from that set, and
the submission is refused (`unconfirmed_carry_over`) while the set is not empty, at every
door, because the submission is built by `domain/drafts.py:submission`. Confirming a
criterion also attaches its carried-over documents to the new application
(`documents_to_attach`, sent as `AddDocument` by the service), so they are evidence in the
city's log as any upload is.

**Valid-through bounds** (`check_valid_through`): not before the day it is given (evidence
already expired proves nothing), and at most `MAX_VALID_YEARS` ahead: a certification
lasts a few years, and a date decades off is a typo (2205 for 2025) that would carry the
document into every future cycle unread."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from domain import commands, events
from domain.answers import Answers, CriterionAnswer
from domain.documents import Documents, EvidenceDocument
from domain.errors import AssessmentError
from domain.model import Frozen
from domain.standard import Standard

MAX_VALID_YEARS = 10


class LastReview(Frozen):
    """The last decided application's reviewed answers, as the decision counted them."""

    standard_id: str
    decided_on: date
    answers: dict[str, CriterionAnswer] = {}  # the criteria reviewed as met
    documents: Documents = {}  # the documents the decision named, per criterion


class CarriedOver(Frozen):
    """The answers a reapplication starts from."""

    answers: Answers = Answers()
    documents: Documents = {}
    carried: tuple[str, ...] = ()  # the criteria carried over (to confirm)
    dropped: tuple[str, ...] = ()  # met last cycle, but not in the new standard


def last_review(history: Iterable[events.Event]) -> LastReview | None:
    """The last decided application's reviewed answers in a city's log (`history`, in
    order): the reviews recorded as met on it, and the documents its decision named."""
    reviews: dict[str, CriterionAnswer] = {}
    submitted = Answers()
    found: LastReview | None = None
    for event in history:
        match event:
            case events.ApplicationOpened():
                reviews, submitted = {}, Answers()
            case events.AssessmentSubmitted():
                submitted = event.answers
            case events.CriterionReviewed():
                reviews[event.code] = event.answer
            case events.CertificationDecided():
                # The verdict says met (and which items); the evidence the review accepted
                # is the submission's (a verdict rarely repeats the links).
                met = {code: _with_evidence(answer, submitted.answer(code))
                       for code, answer in reviews.items() if answer.met or answer.items}
                found = LastReview(standard_id=event.standard_id, decided_on=event.on,
                                   answers=met, documents={
                                       code: docs for code, docs in event.documents.items()
                                       if code in met})
            case _:
                pass
    return found


def _with_evidence(verdict: CriterionAnswer, claimed: CriterionAnswer) -> CriterionAnswer:
    links = tuple(dict.fromkeys((*claimed.evidence, *verdict.evidence)))
    return verdict.model_copy(update={
        "evidence": links, "valid_through": {**claimed.valid_through,
                                             **verdict.valid_through}})


def accepted_evidence(last: LastReview | None) -> dict[str, frozenset[str]]:
    """What the last review accepted, per criterion: its links and its documents'
    SHA-256 (the review screen marks them "accepted last cycle")."""
    if last is None:
        return {}
    return {code: frozenset((*answer.evidence,
                             *(d.sha256 for d in last.documents.get(code, ()))))
            for code, answer in last.answers.items()}


def still_valid(valid_through: date | None, on: date) -> bool:
    """Whether evidence valid through `valid_through` (None: no end) holds on `on`."""
    return valid_through is None or valid_through >= on


def carry_over(last: LastReview | None, standard: Standard, on: date) -> CarriedOver:
    """The answers a reapplication under `standard`, opened on `on`, starts from."""
    if last is None:
        return CarriedOver()
    known = set(standard.codes)
    criteria: dict[str, CriterionAnswer] = {}
    documents: dict[str, tuple[EvidenceDocument, ...]] = {}
    for code, answer in sorted(last.answers.items()):
        if code not in known:
            continue
        criteria[code] = _carried_answer(answer, standard, code, on)
        kept = tuple(d for d in last.documents.get(code, ())
                     if still_valid(d.valid_through, on))
        if kept:
            documents[code] = kept
    dropped = tuple(sorted(set(last.answers) - known))
    return CarriedOver(answers=Answers(criteria=criteria), documents=documents,
                       carried=tuple(criteria), dropped=dropped)


def _carried_answer(answer: CriterionAnswer, standard: Standard, code: str,
                    on: date) -> CriterionAnswer:
    links = tuple(link for link in answer.evidence
                  if still_valid(answer.valid_through.get(link), on))
    valid = {link: d for link, d in answer.valid_through.items() if link in links}
    checklist = standard.criterion(code).checklist
    items = answer.items
    if items is not None:
        if checklist is None:
            items = None  # the new standard asks yes or no: the review said met
        else:
            ids = {item.id for item in checklist.items}
            items = tuple(i for i in items if i in ids)
    return CriterionAnswer(met=True if items is None else answer.met, items=items,
                           evidence=links, valid_through=valid)


def check_valid_through(valid_through: date | None, today: date, where: str) -> None:
    """Refuse a valid-through date before `today` or more than `MAX_VALID_YEARS` ahead
    (why: the module's docstring)."""
    if valid_through is None:
        return
    if valid_through < today:
        raise AssessmentError(
            f"{where}: valid_through {valid_through.isoformat()} is already past",
            code="invalid_valid_through", facts={"field": where,
                                                 "date": valid_through.isoformat()})
    latest = _years_after(today, MAX_VALID_YEARS)
    if valid_through > latest:
        raise AssessmentError(
            f"{where}: valid_through {valid_through.isoformat()} is more than "
            f"{MAX_VALID_YEARS} years ahead", code="invalid_valid_through",
            facts={"field": where, "date": valid_through.isoformat()})


def valid_through_day(value: str, where: str) -> date:
    """A valid-through day written by hand (YYYY-MM-DD, the one form: 3.11's
    `fromisoformat` also takes 20260105 and 2026-W01-1), or a refusal naming `where`."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise AssessmentError(f"{where}: {value!r} is not a date "
                              "(YYYY-MM-DD)", code="invalid_valid_through",
                              facts={"field": where, "date": ""}) from None


def check_answers_valid_through(answers: Answers, today: date, *,
                                kept: Answers | None = None) -> None:
    """Refuse answers whose links' valid-through dates are out of bounds, or name a link
    the answer does not give. A link's date kept as it stands in `kept` (the draft as
    last saved, or as carried over) is not judged again: it was in bounds when given,
    and one that has passed since must not make every later save of the draft fail (the
    page still shows its day, for the editors to renew or remove)."""
    for code, answer in answers.criteria.items():
        before = kept.criteria.get(code) if kept is not None else None
        for link, through in answer.valid_through.items():
            if link not in answer.evidence:
                raise AssessmentError(
                    f"criterion {code}: valid_through names a link it does not give",
                    code="invalid_valid_through",
                    facts={"field": f"criteria.{code}.valid_through", "date": ""})
            if (before is not None and link in before.evidence
                    and before.valid_through.get(link) == through):
                continue
            check_valid_through(through, today, f"criteria.{code}.valid_through")


def documents_to_attach(carried: CarriedOver, confirmed: Iterable[str],
                        today: date) -> list[commands.AddDocument]:
    """The carried-over documents of the criteria just confirmed, to attach to the new
    application (their bytes are kept already: every submitted document is, see
    `domain/evidence.py:needed_bytes`); those past their valid-through by `today` stay
    behind. Attaching the same bytes twice records nothing, so a retry is harmless."""
    return [commands.AddDocument(criterion=code, name=d.name, media_type=d.media_type,
                                 size=d.size, sha256=d.sha256, valid_through=d.valid_through)
            for code in dict.fromkeys(confirmed) for d in carried.documents.get(code, ())
            if still_valid(d.valid_through, today)]


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
