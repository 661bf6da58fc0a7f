"""The portal's pure parts: choosing a page's language, the catalogs' completeness, the
map's projection, the session's CSRF token, and the assessment preview's promise."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract, extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.accounts import LANGUAGES
from domain.answers import Answers, CriterionAnswer
from domain.events import CertificationAnnounced, DraftSaved, Event, event_to_data
from domain.preview import preview
from domain.scoring import score
from domain.tiers import Outcome, Tier
from infra.eventstore.model import RecordedEvent
from infra.i18n.catalogs import Catalogs
from infra.identity.sessions import csrf_token_for
from infra.readside.history import summarize
from infra.readside.rows import MapPlace
from infra.standards.folder import load_catalog
from infra.web.portal.map import markers, outlines
from tests.factories import CityDriver, answers

CATALOGS = Catalogs()
STANDARD = load_catalog()["wwc-2022"]


def choose(**given_: str | None) -> str:
    values: dict[str, str | None] = {"asked": None, "remembered": None, "account": None,
                                     "accept_language": None}
    return CATALOGS.choose(**(values | given_)).code


def test_the_page_language_is_asked_then_remembered_then_the_account_then_the_browser() -> None:
    assert choose() == "en"
    assert choose(accept_language="pt-BR,pt;q=0.9,en;q=0.5") == "pt"
    assert choose(accept_language="es-MX") == "es"
    assert choose(accept_language="fr-FR,de") == "en"
    assert choose(account="es", accept_language="pt-BR") == "es"
    assert choose(remembered="pt", account="es") == "pt"
    assert choose(asked="es", remembered="pt") == "es"
    assert choose(asked="xx", remembered="zz", account="pt") == "pt"  # unknown: ignored


def test_every_interface_string_is_translated_in_every_language() -> None:
    root = resources.files("infra.i18n").joinpath("locales")
    with root.joinpath("messages.pot").open("rb") as file:
        wanted = {m.id if isinstance(m.id, str) else m.id[0]
                  for m in read_po(file) if m.id}
    for language in LANGUAGES[1:]:
        with root.joinpath(language, "LC_MESSAGES", "messages.po").open("rb") as file:
            catalog = read_po(file)
        done = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                if m.id and all(m.string if isinstance(m.string, tuple) else (m.string,))}
        assert wanted - done == set(), language
        # A placeholder lost in translation would break the page's formatting.
        for message in catalog:
            if message.id and isinstance(message.id, str):
                assert sorted(re.findall(r"%\(\w+\)[sd]", message.id)) == sorted(
                    re.findall(r"%\(\w+\)[sd]", str(message.string))), message.id


def test_every_criterion_and_practice_of_the_2022_standard_speaks_three_languages() -> None:
    for criterion in STANDARD.criteria:
        assert {"es", "pt"} <= set(criterion.labels), criterion.code
        assert criterion.label_in("en") == criterion.label
    assert all({"es", "pt"} <= set(p.names) for p in STANDARD.practices)
    for gate in STANDARD.gates:
        assert {"es", "pt"} <= set(gate.labels), gate.id
        assert all({"es", "pt"} <= set(o.labels) for o in gate.options), gate.id
    assert STANDARD.criteria[0].label_in("fr") == STANDARD.criteria[0].label


def test_the_map_projects_inside_its_frame_and_drops_what_lies_outside() -> None:
    frame = outlines()
    assert frame.project(frame.north, frame.west) == (0.0, 0.0)
    assert frame.project(frame.south, frame.east) == (frame.width, frame.height)
    assert frame.project(48.85, 2.35) is None  # Paris
    found = markers([
        MapPlace(city_key="br-recife", name="Recife", tier="platinum", latitude=-8.05,
                 longitude=-34.88),
        MapPlace(city_key="us-x", name="X", tier="silver", latitude=None, longitude=None),
        MapPlace(city_key="us-a", name="A", tier="silver", latitude=40.0, longitude=-100.0)])
    assert [m.city_key for m in found] == ["us-a", "br-recife"]  # platinum drawn on top
    assert len(frame.countries) > 25


def test_the_csrf_token_is_the_sessions_own_and_no_other() -> None:
    assert csrf_token_for("session-a") == csrf_token_for("session-a")
    assert csrf_token_for("session-a") != csrf_token_for("session-b")
    assert "session-a" not in csrf_token_for("session-a")


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(STANDARD.codes)), st.booleans())
def test_meeting_the_previewed_path_reaches_the_next_tier(met: set[str], outcome: bool) -> None:
    answers = Answers(criteria={c: CriterionAnswer(met=True, evidence=("https://e.x/1",))
                                for c in met},
                      outcomes={"air_quality": True} if outcome else {})
    seen = preview(STANDARD, answers)
    assert seen.missing_evidence == ()
    if seen.next_tier is None:
        return
    more = {**answers.criteria, **{c: CriterionAnswer(met=True, evidence=("https://e.x/1",))
                                   for c in seen.next_tier.criteria}}
    outcomes = {"air_quality": True} if seen.next_tier.gates else answers.outcomes
    reached = score(STANDARD, Answers(criteria=more, outcomes=outcomes))
    assert reached.tier.rank >= seen.next_tier.tier.rank
    # ... and it is the smallest such set: one criterion fewer falls short.
    if seen.next_tier.criteria:
        fewer = dict(more)
        fewer.pop(seen.next_tier.criteria[0])
        short = score(STANDARD, Answers(criteria=fewer, outcomes=outcomes))
        assert short.criteria_tier.rank < seen.next_tier.tier.rank


def test_a_claim_without_its_evidence_is_listed_before_submitting() -> None:
    answers = Answers(criteria={"DM1": CriterionAnswer(met=True),
                                "DM2": CriterionAnswer(met=True, evidence=("https://e.x",))})
    seen = preview(STANDARD, answers)
    assert [m.code for m in seen.missing_evidence] == ["DM1"]
    assert not seen.ready_to_submit


def recorded(event: Event) -> RecordedEvent:
    return RecordedEvent(1, 1, "city/br-recife", 1, uuid.uuid4(), event.TYPE,
                         event.SCHEMA_VERSION, event_to_data(event), {},
                         datetime(2026, 12, 2, tzinfo=UTC))


def test_a_citys_timeline_speaks_the_pages_language_words_included() -> None:
    announced = recorded(CertificationAnnounced(
        on=date(2026, 12, 2), cohort_id="2026-12", standard_id="wwc-2022", tier=Tier.GOLD,
        previous_tier=Tier.SILVER, outcome=Outcome.MOVED_UP, expires_on=date(2029, 12, 2)))
    assert summarize(announced) == "gold in cohort 2026-12, moved up, expires 2029-12-02"
    assert summarize(announced, CATALOGS.get("es").gettext) == (
        "oro en la cohorte 2026-12, subió de nivel, vence el 2029-12-02")
    draft = recorded(DraftSaved(on=date(2026, 12, 2), application=2,
                                answers=Answers(criteria={"DM1": CriterionAnswer(met=True)})))
    assert summarize(draft, CATALOGS.get("pt").gettext) == (
        "rascunho da candidatura 2: 1 critérios respondidos")


def test_the_catalog_template_holds_every_string_the_sources_mark() -> None:
    """The template is what translators work from: a string marked in a template, in
    words.py or in a timeline line, but never extracted, would stay English silently."""
    root = resources.files("infra.i18n").joinpath("locales")
    with root.joinpath("messages.pot").open("rb") as file:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(file) if m.id}
    repo = Path(__file__).resolve().parents[2]
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    marked = {message for folder in (repo / "infra" / "web" / "portal", repo / "infra" / "i18n")
              for _, _, message, _, _ in extract_from_dir(
                  folder, method_map, keywords={**DEFAULT_KEYWORDS, "N_": None})}
    with (repo / "infra" / "readside" / "history.py").open("rb") as source:
        marked |= {message for _, message, _, _ in
                   extract("python", source, keywords={"N_": None})}
    marked = {m if isinstance(m, str) else m[0] for m in marked}
    assert marked - template == set()


def test_every_line_of_a_lifecycle_reads_in_every_language() -> None:
    """A whole cycle's events (what the portal's timeline shows) each make a line in
    every language: no event without one, no placeholder a translation lost."""
    city = CityDriver()
    day = date(2023, 1, 5)
    claimed = answers(STANDARD, 31)
    for command in (c.JoinNetwork(name="Recife", country="BR", population=1_488_920),
                    c.TouchDraft(), c.SubmitAssessment(answers=claimed),
                    c.AssignReviewer(reviewer="r@x.test"),
                    c.RecordReviews(reviews=tuple(c.RecordCriterionReview(code=code, met=True)
                                                  for code in claimed.criteria)),
                    c.RequestClarification(criterion="DM1", question="Minutes?"),
                    c.AnswerClarification(clarification_id=1, answer="Online."),
                    c.CompleteReview(), c.Withdraw(reason="merged with a neighbour")):
        city(command, day)
    for language in LANGUAGES:
        lines = [summarize(recorded(event), CATALOGS.get(language).gettext)
                 for event in city.events]
        assert all(lines), (language, lines)
