"""What the program's streams are named by: a city's stable business key (from its country
code and name) and the event streams (and Temporal workflow ids) keyed by it, a city's, its
drafts', its review sheet's and a cohort's."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str) -> str:
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    )
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def city_key(country: str, name: str) -> str:
    """e.g. ('US', 'Los Angeles, CA') -> 'us-los-angeles-ca'; ('CO', 'Bogotá') -> 'co-bogota'."""
    slug = slugify(name)
    if not slug or not re.fullmatch(r"[A-Za-z]{2}", country):
        raise ValueError(f"cannot make a city key from country {country!r} and name {name!r}")
    return f"{country.lower()}-{slug}"


CITY_STREAM_PREFIX = "city/"
COHORT_STREAM_PREFIX = "cohort/"
DRAFT_STREAM_PREFIX = "draft/"
REVIEW_SHEET_STREAM_PREFIX = "review-sheet/"


def city_stream(key: str) -> str:
    """The event stream (and Temporal workflow id) of a city: 'city/us-los-angeles-ca'."""
    return f"{CITY_STREAM_PREFIX}{key}"


def cohort_stream(cohort_id: str) -> str:
    return f"{COHORT_STREAM_PREFIX}{cohort_id}"


def draft_stream(key: str) -> str:
    """The stream of a city's assessment drafts: 'draft/us-los-angeles-ca'. Saves go here,
    not through the city's workflow (see domain/drafts.py)."""
    return f"{DRAFT_STREAM_PREFIX}{key}"


def review_sheet_stream(key: str) -> str:
    """The stream of the reviewer's sheet of a city's application under review:
    'review-sheet/us-los-angeles-ca'. Saves go here, not through the city's workflow (see
    domain/review_sheets.py)."""
    return f"{REVIEW_SHEET_STREAM_PREFIX}{key}"
