"""Rendering a message: its kind's template in the recipient's language (English when the
language has none), with its facts as that language writes them (dates, numbers and
shares by CLDR's rules, through Babel: 1.773.718 and 48,84 % in Spanish; a tier in words,
"ouro", never "gold", and never "none"), a plain-text body and an HTML one made from it,
with a link to the portal.

(The portal's pages format with infra/i18n/formats.py; the mail is on the same floor and
so formats by itself, with the same rules.)"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import yaml
from babel import Locale, dates, numbers

from domain.accounts import LANGUAGES

_ENV = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined,
                          keep_trailing_newline=False)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def templates(language: str) -> dict[str, dict[str, str]]:
    source = resources.files("infra.mail").joinpath("templates", f"{language}.yaml")
    found: dict[str, dict[str, str]] = yaml.safe_load(source.read_text(encoding="utf-8"))
    return found


def render(kind: str, language: str, facts: dict[str, str], *, link: str) -> Rendered:
    language = language if language in LANGUAGES else "en"
    template = templates(language).get(kind) or templates("en")[kind]
    values: dict[str, Any] = {k: _formatted(k, v, language) for k, v in facts.items()}
    subject = _ENV.from_string(template["subject"]).render(values).strip()
    text = _ENV.from_string(template["body"]).render(values).strip() + f"\n\n{link}\n"
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
                         for p in text.strip().split("\n\n") if p != link)
    body_html = (f'<!doctype html><html lang="{language}"><body>{paragraphs}'
                 f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p></body></html>')
    return Rendered(subject=subject.replace("\n", " "), text=text, html=body_html)


# A tier in words, in each language (the portal's catalogs say the same).
TIERS = {
    "en": {"silver": "silver", "gold": "gold", "platinum": "platinum", "none": "not certified"},
    "es": {"silver": "plata", "gold": "oro", "platinum": "platino", "none": "no certificada"},
    "pt": {"silver": "prata", "gold": "ouro", "platinum": "platina", "none": "não certificada"},
}
# The facts that are counts, written with the language's digit grouping.
_COUNTS = frozenset({"points", "total", "criteria", "days", "joins_count", "overdue_count",
                     "expiring_count"})


def _formatted(key: str, value: str, language: str) -> str:
    locale = Locale.parse(language)
    try:
        if key == "on" or key.endswith("_on") or key == "week_ending":
            return dates.format_date(date.fromisoformat(value), format="long", locale=locale)
        if key in _COUNTS:
            return numbers.format_decimal(int(value), locale=locale)
        if key == "percent":  # percent points, as many decimals as they have: 48,84 %
            share = Decimal(value).normalize() / 100
            return numbers.format_percent(share, locale=locale, decimal_quantization=False)
    except (ValueError, ArithmeticError):
        return value
    if key == "tier":
        return TIERS.get(language, TIERS["en"]).get(value, value)
    return value


# Where each kind of message leads: the reviewer's to the review screen, a decision to
# the city's report (behind the portal's sign-in: a page asked for signed out leads to
# the sign-in, then back), the rest to the city's page.
_TO_REVIEW = frozenset({"review_assigned", "city_answered", "review_reminder"})
_TO_REPORT = frozenset({"decision", "decision_not_certified"})


def addressed(kind: str, city_key: str, facts: dict[str, str],
              portal_url: str) -> tuple[str, dict[str, str]]:
    """The link a message of `kind` about `city_key` ends with, and its facts with the
    links its text names: an announcement's public certificate (awarded on its date)."""
    portal = portal_url.rstrip("/")
    city = f"{portal}/portal/cities/{city_key}"
    link = (f"{city}/review" if kind in _TO_REVIEW
            else f"{city}#report-title" if kind in _TO_REPORT else city)
    if kind == "announcement":
        facts = {**facts, "certificate": f"{portal}/certificates/{city_key}/{facts['on']}"}
    return link, facts
