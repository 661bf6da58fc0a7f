"""Numbers, shares, dates and names as the page's language writes them
(`infra/i18n/formats.py`), the CLI's fixed forms unchanged, the tier "none" in words, and
the public map telling which cities it leaves out."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from babel.numbers import parse_decimal
from hypothesis import given
from hypothesis import strategies as st

from domain.events import (
    CertificationAnnounced,
    CertificationDecided,
    CityJoined,
    Event,
    event_to_data,
)
from domain.report import build_report
from domain.tiers import Outcome, Tier
from infra.eventstore.model import RecordedEvent
from infra.i18n.catalogs import Catalogs
from infra.i18n.formats import PLAIN, LocaleFormats
from infra.i18n.words import tier_word
from infra.readside.history import summarize
from infra.readside.rows import MapPlace
from infra.web.portal.map import markers, unmapped
from tests.factories import WWC_2022, answers

CATALOGS = Catalogs()
NBSP = "\u00a0"


@pytest.mark.parametrize(("language", "population", "share", "day"), [
    ("en", "1,773,718", "48.84%", "Dec 2, 2029"),
    ("es", "1.773.718", f"48,84{NBSP}%", "2 dic 2029"),
    ("pt", "1.773.718", "48,84%", "2 de dez. de 2029"),
])
def test_a_page_writes_numbers_shares_and_dates_as_its_language_does(
        language: str, population: str, share: str, day: str) -> None:
    formats = LocaleFormats(language)
    assert formats.number(1_773_718) == population
    assert formats.percent(48.84) == share
    assert formats.date(date(2029, 12, 2)) == day


def test_a_share_keeps_the_decimals_it_has_and_no_more_than_two() -> None:
    formats = LocaleFormats("es")
    assert formats.percent(51.0) == f"51{NBSP}%"
    assert formats.percent(72.093) == f"72,09{NBSP}%"
    assert formats.percent(67.4) == f"67,4{NBSP}%"
    assert formats.percent(100.0) == f"100{NBSP}%"
    assert formats.percent(0.0) == f"0{NBSP}%"


@given(st.integers(min_value=0, max_value=100_000_000), st.sampled_from(["en", "es", "pt"]))
def test_a_written_number_reads_back_as_itself(value: int, language: str) -> None:
    """Whatever the grouping (1.773.718, 1,773,718; Spanish leaves 4 digits ungrouped),
    the reader's language reads the number back unchanged."""
    assert parse_decimal(LocaleFormats(language).number(value), locale=language) == value


@given(st.integers(min_value=0, max_value=10_000), st.sampled_from(["en", "es", "pt"]))
def test_a_written_share_reads_back_as_itself(hundredths: int, language: str) -> None:
    written = LocaleFormats(language).percent(hundredths / 100)
    digits = written.replace("%", "").replace(NBSP, "").strip()
    assert parse_decimal(digits, locale=language) == Decimal(hundredths) / 100


def test_a_moment_is_its_day_and_time_to_the_minute() -> None:
    when = datetime(2026, 3, 4, 13, 5, 59, tzinfo=UTC)
    assert LocaleFormats("es").moment(when) == "4 mar 2026 13:05"
    assert LocaleFormats("pt").moment(when) == "4 de mar. de 2026 13:05"


def test_a_month_and_a_quarter_are_named_in_the_pages_language() -> None:
    day = date(2024, 12, 31)
    assert [LocaleFormats(code).month(day) for code in ("en", "es", "pt")] == [
        "Dec 2024", "dic 2024", "dez. de 2024"]
    assert [LocaleFormats(code).quarter(day) for code in ("en", "es", "pt")] == [
        "Q4 2024", "T4 2024", "T4 de 2024"]


def test_countries_are_named_in_the_pages_language() -> None:
    assert LocaleFormats("en").country("US") == "United States"
    assert LocaleFormats("es").country("us") == "Estados Unidos"
    assert LocaleFormats("pt").country("BR") == "Brasil"
    assert LocaleFormats("es").country("MX") == "México"
    assert LocaleFormats("pt").country("XX") == "XX"  # no such territory: as given


def test_the_cli_and_api_keep_their_fixed_forms() -> None:
    assert (PLAIN.number(1_773_718), PLAIN.percent(48.84), PLAIN.date(date(2029, 12, 2))) \
        == ("1,773,718", "48.84 %", "2029-12-02")


def test_the_tier_none_is_not_certified_in_every_language() -> None:
    assert [tier_word(t) for t in ("none", "silver", "gold", "platinum")] == [
        "not certified", "silver", "gold", "platinum"]
    assert [CATALOGS.get(lang).gettext(tier_word("none")) for lang in ("en", "es", "pt")] \
        == ["not certified", "no certificada", "não certificada"]


def recorded(event: Event) -> RecordedEvent:
    return RecordedEvent(1, 1, "city/br-curitiba", 1, uuid.uuid4(), event.TYPE,
                         event.SCHEMA_VERSION, event_to_data(event), {},
                         datetime(2026, 12, 2, tzinfo=UTC))


JOINED = recorded(CityJoined(on=date(2026, 1, 5), city_key="br-curitiba", name="Curitiba",
                             country="BR", population=1_773_718))
DECIDED = recorded(CertificationDecided(
    on=date(2026, 6, 1), standard_id="wwc-2022", tier=Tier.NONE, points=10, total=43,
    percent=23.26, report=build_report(WWC_2022, answers(WWC_2022, 10))))
ANNOUNCED = recorded(CertificationAnnounced(
    on=date(2026, 12, 2), cohort_id="2026-12", standard_id="wwc-2022", tier=Tier.GOLD,
    previous_tier=Tier.SILVER, outcome=Outcome.MOVED_UP, expires_on=date(2029, 12, 2)))


def test_a_timeline_line_writes_its_numbers_and_dates_as_the_page_does() -> None:
    spanish, portuguese = CATALOGS.get("es"), CATALOGS.get("pt")
    assert summarize(JOINED, spanish.gettext, spanish.formats) == (
        "Curitiba (Brasil, 1.773.718 habitantes)")  # the country by name, as on every page
    assert summarize(ANNOUNCED, spanish.gettext, spanish.formats) == (
        "oro en la cohorte 2026-12, subió de nivel, vence el 2 dic 2029")
    assert summarize(DECIDED, portuguese.gettext, portuguese.formats) == (
        "não certificada (10/43, 23,26%)")


def test_the_cli_timeline_is_unchanged_but_for_the_tier_in_words() -> None:
    assert summarize(JOINED) == "Curitiba (BR, 1,773,718 residents)"
    assert summarize(ANNOUNCED) == "gold in cohort 2026-12, moved up, expires 2029-12-02"
    assert summarize(DECIDED) == "not certified (10/43, 23.26 %)"


def test_the_map_says_which_cities_it_leaves_out_and_why() -> None:
    def place(key: str, where: tuple[float, float] | None) -> MapPlace:
        return MapPlace(city_key=key, name=key, tier="gold",
                        latitude=where[0] if where else None,
                        longitude=where[1] if where else None)
    places = [place("br-curitiba", (-25.43, -49.27)), place("br-ponta-grossa", None),
              place("us-honolulu-hi", (21.3, -157.9)), place("nz-auckland", (-36.8, 174.7))]
    left_out = unmapped(places)
    assert [p.city_key for p in left_out.no_location] == ["br-ponta-grossa"]
    assert [p.city_key for p in left_out.outside] == ["nz-auckland"]
    drawn = {m.city_key for m in markers(places)}
    assert drawn == {"br-curitiba", "us-honolulu-hi"}
    # Every city is either drawn or said to be left out, never silently missing.
    assert drawn | {p.city_key for p in (*left_out.no_location, *left_out.outside)} == {
        p.city_key for p in places}
