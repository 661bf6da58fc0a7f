"""Deadlines and messages, pure: when each deadline fires, that it stops when the awaited
answer arrives, who hears of which event, and that every message exists in every
language with the facts it needs."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain import events as e
from domain.accounts import LANGUAGES
from domain.city_state import CityState
from domain.deadlines import deadlines, pending, waits
from domain.errors import TransitionRefused
from domain.lifecycle import decide, evolve
from domain.notices import MESSAGE_KINDS, Audience, notices_for
from domain.report import build_report
from domain.rules import ProgramRules
from domain.tiers import Tier
from infra.mail.templates import Facts, addressed, render, templates
from infra.standards.folder import load_catalog
from tests.factories import WWC_2022, answers

CATALOG = load_catalog()
RULES = ProgramRules()
DAY = date(2025, 3, 3)
JOIN = c.JoinNetwork(name="Recife", country="BR", population=1_488_920)


def run(state: CityState, command: c.CityCommand, on: date) -> CityState:
    for event in decide(state, command, on, standards=CATALOG, rules=RULES):
        state = evolve(state, event)
    return state


def under_review(on: date = DAY) -> CityState:
    state = run(CityState(), JOIN, on)
    state = run(state, c.SubmitAssessment(answers=answers(WWC_2022, 31)), on)
    return run(state, c.AssignReviewer(reviewer="r@x.test"), on)


def test_a_draft_is_nudged_after_its_idle_days_and_again_after_each_save() -> None:
    state = run(CityState(), JOIN, DAY)
    [nudge] = pending(state.application, RULES)
    assert (nudge.kind, nudge.fires_on) == ("draft", DAY + timedelta(days=60))
    later = DAY + timedelta(days=20)
    state = run(state, c.SaveAssessment(answers=answers(WWC_2022, 3)), later)
    [nudge] = pending(state.application, RULES)
    assert nudge.fires_on == later + timedelta(days=60)
    # Drafts saved in their own stream tell the workflow with TouchDraft, to the same end.
    again = later + timedelta(days=30)
    state = run(state, c.TouchDraft(), again)
    [nudge] = pending(state.application, RULES)
    assert nudge.fires_on == again + timedelta(days=60)


def test_a_clarification_is_reminded_then_due_and_stops_when_answered() -> None:
    state = run(under_review(), c.RequestClarification(criterion="DM1", question="Who?"), DAY)
    found = {d.key: d for d in pending(state.application, RULES)}
    assert found["clarification:1:reminder"].fires_on == DAY + timedelta(days=23)
    assert found["clarification:1:due"].fires_on == DAY + timedelta(days=30)
    assert found[f"review:{DAY}:due"].fires_on == DAY + timedelta(days=45)
    # Not before its date: the decider refuses it, and nothing is recorded.
    with pytest.raises(TransitionRefused, match="comes on"):
        decide(state, c.ReachDeadline(key="clarification:1:reminder"), DAY, standards=CATALOG,
               rules=RULES)
    state = run(state, c.ReachDeadline(key="clarification:1:reminder"),
                DAY + timedelta(days=23))
    assert "clarification:1:reminder" not in {d.key for d in pending(state.application, RULES)}
    state = run(state, c.AnswerClarification(clarification_id=1, answer="The board",
                                             evidence=("https://x.test/a",)),
                DAY + timedelta(days=25))
    assert not [d for d in pending(state.application, RULES) if d.kind == "clarification"]
    with pytest.raises(TransitionRefused, match="no deadline"):
        decide(state, c.ReachDeadline(key="clarification:1:due"), DAY + timedelta(days=30),
               standards=CATALOG, rules=RULES)


def test_the_review_deadlines_end_with_the_review() -> None:
    state = under_review()
    claimed = state.application.answers.criteria if state.application else {}
    state = run(state, c.RecordReviews(reviews=tuple(
        c.RecordCriterionReview(code=code, met=True) for code in claimed)), DAY)
    state = run(state, c.CompleteReview(), DAY + timedelta(days=3))
    assert pending(state.application, RULES) == []
    assert [w.kind for w in waits(state.application, RULES)] == ["decision"]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 90), st.integers(0, 30), st.integers(1, 90), st.integers(0, 30))
def test_reminders_come_before_their_due_dates(clar: int, clar_before: int, review: int,
                                               review_before: int) -> None:
    rules = ProgramRules(clarification_due_days=clar, clarification_reminder_days=clar_before,
                         review_due_days=review, review_reminder_days=review_before)
    state = under_review()
    for event in decide(state, c.RequestClarification(criterion="DM1", question="Q"), DAY,
                        standards=CATALOG, rules=rules):
        state = evolve(state, event)
    found = deadlines(state.application, rules)
    assert found == sorted(found, key=lambda d: (d.fires_on, d.key))
    for deadline in found:
        assert deadline.fires_on <= deadline.due_on
        assert deadline.since <= deadline.fires_on or deadline.step == "reminder"
    assert len({d.key for d in found}) == len(found)


def test_who_hears_what() -> None:
    state = under_review()
    heard = {}
    for event in (e.AssessmentSubmitted(answers=answers(WWC_2022, 3), on=DAY),
                  e.ReviewerAssigned(reviewer="r@x.test", on=DAY),
                  e.ClarificationRequested(clarification_id=1, criterion="DM1",
                                           question="Q", on=DAY),
                  e.ClarificationAnswered(clarification_id=1, answer="A", evidence=(),
                                          on=DAY),
                  e.CriterionReviewed(code="DM1", answer=answers(WWC_2022, 1).criteria["DM1"],
                                      on=DAY)):
        heard[type(event)] = [(n.kind, n.audience)
                              for n in notices_for(event, state, 30, 45)]
    assert heard[e.AssessmentSubmitted] == [("submission_received", Audience.EDITORS)]
    assert heard[e.ReviewerAssigned] == [("review_assigned", Audience.REVIEWER)]
    assert heard[e.ClarificationRequested] == [("clarification_asked", Audience.EDITORS)]
    assert heard[e.ClarificationAnswered] == [("city_answered", Audience.REVIEWER)]
    assert heard[e.CriterionReviewed] == []  # not every event is news
    asked = notices_for(e.ClarificationRequested(clarification_id=1, criterion="DM1",
                                                 question="Q", on=DAY), state, 30, 45)
    assert asked[0].facts["due_on"] == (DAY + timedelta(days=30)).isoformat()
    overdue = notices_for(e.DeadlineReached(key=f"review:{DAY}:due", kind="review",
                                            step="due", due_on=DAY, on=DAY), state, 30, 45)
    assert [(n.kind, n.audience) for n in overdue] == [("review_escalated",
                                                        Audience.OPERATORS)]
    assert overdue[0].facts["reviewer"] == "r@x.test"


def test_every_message_exists_in_every_language_with_the_same_facts() -> None:
    for language in LANGUAGES:
        assert set(templates(language)) == MESSAGE_KINDS, language
    for kind in MESSAGE_KINDS:
        names = {lang: sorted(set(re.findall(r"{{ ([\w.]+) }}", templates(lang)[kind]["subject"]
                                            + templates(lang)[kind]["body"])))
                 for lang in LANGUAGES}
        assert names["es"] == names["en"] == names["pt"], kind


def test_a_message_renders_its_dates_in_the_readers_language() -> None:
    facts = {"city": "Recife", "on": "2025-03-03", "criterion": "DM1", "question": "Q?",
             "due_on": "2025-04-02"}
    es = render("clarification_asked", "es", facts, link="http://p.test/x")
    pt = render("clarification_asked", "pt", facts, link="http://p.test/x")
    en = render("clarification_asked", "xx", facts, link="http://p.test/x")  # unknown: en
    assert "2 de abril de 2025" in es.subject
    assert "2 de abril de 2025" in pt.subject
    assert "April 2, 2025" in en.subject
    assert "http://p.test/x" in es.text
    assert '<a href="http://p.test/x">' in es.html
    assert "<script" not in render("city_answered", "en", {**facts, "answer": "<script>",
                                                           "clarification": "1"},
                                   link="http://p.test/x").html


DECIDED = {"city": "Recife", "on": "2026-03-03", "tier": "gold", "percent": "72.09",
           "points": "31", "total": "43"}


@pytest.mark.parametrize(("language", "share", "tier"), [
    ("en", "72.09%", "gold"), ("es", "72,09\xa0%", "oro"), ("pt", "72,09%", "ouro")])
def test_a_decision_mail_speaks_the_readers_numbers_and_words(language: str, share: str,
                                                              tier: str) -> None:
    """Decision mails once said "certificação gold" and "(72.09 %)" in every language."""
    link, facts = addressed("decision", "br-recife", DECIDED, "http://p.test/", language)
    mail = render("decision", language, facts, link=link)
    assert f"({share})" in mail.text
    assert f" {tier}." in mail.text
    assert "gold" not in mail.text or language == "en"
    # It leads to the report, behind the sign-in, and leaves the reviewer's notes there.
    assert link == "http://p.test/portal/cities/br-recife#report-title"
    assert mail.text.rstrip().endswith(link)


@pytest.mark.parametrize(("language", "said", "never"), [
    ("en", "not enough for a certification", ("none", "private", "not certified")),
    ("es", "no alcanza para una certificación", ("ninguno", "privada", "none")),
    ("pt", "não é o bastante para uma certificação", ("nenhum", "privada", "none"))])
def test_a_decision_that_does_not_certify_has_its_own_words(
        language: str, said: str, never: tuple[str, ...]) -> None:
    state = under_review()
    decided = e.CertificationDecided(
        on=DAY, standard_id="wwc-2022", tier=Tier.NONE, points=10, total=43,
        percent=23.26, report=build_report(WWC_2022, answers(WWC_2022, 10)))
    [notice] = notices_for(decided, state, 30, 45)
    assert notice.kind == "decision_not_certified"
    link, facts = addressed(notice.kind, "br-recife", notice.facts, "http://p.test",
                            language)
    mail = render(notice.kind, language, facts, link=link)
    assert said in mail.text
    assert "23,26" in mail.text if language != "en" else "23.26%" in mail.text
    for word in never:
        assert word not in f"{mail.subject} {mail.text}".lower(), word


@pytest.mark.parametrize(("language", "subject"), [
    ("en", "Recife is certified gold"), ("es", "Recife obtiene la certificación de nivel oro"),
    ("pt", "Recife recebe a certificação nível ouro")])
def test_an_announcement_leads_to_its_public_certificate(language: str, subject: str) -> None:
    facts = {"city": "Recife", "on": "2026-06-15", "tier": "gold", "cohort": "2026-06",
             "expires_on": "2029-06-15"}
    link, facts = addressed("announcement", "br-recife", facts, "http://p.test", language)
    mail = render("announcement", language, facts, link=link)
    assert mail.subject == subject
    # The public certificate and its PDF, in the mail's language, links in HTML too.
    certificate = "http://p.test/certificates/br-recife/2026-06-15"
    for named in (f"{certificate}?lang={language}",
                  f"{certificate}/certificate.pdf?lang={language}"):
        assert f"{named}\n" in mail.text
        assert f'<a href="{named}">{named}</a>' in mail.html
    assert link == "http://p.test/portal/cities/br-recife"


@pytest.mark.parametrize("kind", ["decision", "decision_not_certified"])
@pytest.mark.parametrize("language", ["en", "es", "pt"])
def test_a_decision_names_the_citys_report_pdf_in_its_language(kind: str,
                                                                 language: str) -> None:
    link, facts = addressed(kind, "br-recife", DECIDED, "http://p.test", language)
    mail = render(kind, language, facts, link=link)
    report = f"http://p.test/portal/cities/br-recife/report.pdf?lang={language}"
    assert f"{report}\n" in mail.text
    assert f'<a href="{report}">' in mail.html


DIGEST: Facts = {"week_ending": "2026-03-09", "joins": [{"name": "Recife"}], "joins_count": "1",
          "overdue": [{"name": "Recife", "kind": "clarification", "due_on": "2026-03-02"},
                      {"name": "Bogotá", "kind": "review", "due_on": "2026-02-27"}],
          "overdue_count": "2",
          "expiring": [{"name": "Quito", "tier": "gold", "expires_on": "2026-05-31"}],
          "expiring_count": "1", "outbox": "http://p.test/portal/outbox"}


@pytest.mark.parametrize(("language", "lines"), [
    ("en", ["- Recife: the answer to a clarification, due on March 2, 2026",
            "- Bogotá: the review, due on February 27, 2026",
            "- Quito (gold), expires on May 31, 2026"]),
    ("es", ["- Recife: la respuesta a una aclaración, vencía el 2 de marzo de 2026",
            "- Bogotá: la revisión, vencía el 27 de febrero de 2026",
            "- Quito (oro), vence el 31 de mayo de 2026"]),
    ("pt", ["- Recife: a resposta a um esclarecimento, vencia em 2 de março de 2026",
            "- Bogotá: a revisão, vencia em 27 de fevereiro de 2026",
            "- Quito (ouro), vence em 31 de maio de 2026"])])
def test_the_digest_writes_its_lines_in_the_readers_words_and_dates(
        language: str, lines: list[str]) -> None:
    """Its lines once came made, in English with ISO dates: "Recife: clarification, due
    2026-03-02", "Quito (gold), 2026-05-31", in every language."""
    digest = render("weekly_digest", language, DIGEST, link="http://p.test/portal/pipeline")
    for line in lines:
        assert f"\n{line}\n" in digest.text, digest.text
    assert not re.search(r"\d{4}-\d{2}", digest.text)
    assert "\n- Recife\n" in digest.text
    assert '<a href="http://p.test/portal/outbox">' in digest.html
    empty = render("weekly_digest", language, {**DIGEST, "joins": [], "joins_count": "0"},
                   link="http://p.test/portal/pipeline")
    assert "(0):\n-\n\n" in empty.text


def test_a_reviewers_mail_leads_to_the_review_screen_and_counts_read_as_written() -> None:
    link, facts = addressed("review_assigned", "br-recife",
                            {"city": "Recife", "on": "2026-03-03", "due_on": "2026-04-17"},
                            "http://p.test", "pt")
    assert link == "http://p.test/portal/cities/br-recife/review"
    assert "http://p.test/portal/cities/br-recife/review" in render(
        "review_assigned", "pt", facts, link=link).text
    received = render("submission_received", "es",
                      {"city": "Recife", "on": "2026-03-03", "criteria": "1773718"}, link=link)
    assert "1.773.718 criterios" in received.text
