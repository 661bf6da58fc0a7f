"""Rendering a message: its kind's template in the recipient's language (English when the
language has none), with its facts as that language writes them (dates, numbers and
shares by CLDR's rules, through Babel: 1.773.718 and 48,84 % in Spanish; a tier in words,
"ouro", never "gold", and never "none"), a plain-text body and an HTML one made from it,
with a link to the portal.

(The portal's pages format with infra/i18n/formats.py; the mail is on the same floor and
so formats by itself, with the same rules.)"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
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


# A message's facts: each a text, or a list of items each with its own (a digest's lines),
# all given as the program records them (ISO dates, plain digits, a tier's id) and
# formatted for the reader's language by their names as they are rendered.
Facts = Mapping[str, str | Sequence[Mapping[str, str]]]


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


def render(kind: str, language: str, facts: Facts, *, link: str) -> Rendered:
    language = language if language in LANGUAGES else "en"
    template = templates(language).get(kind) or templates("en")[kind]
    values: dict[str, Any] = {
        k: _formatted(k, v, language) if isinstance(v, str)
        else [{ik: _formatted(ik, iv, language) for ik, iv in item.items()} for item in v]
        for k, v in facts.items()}
    subject = _ENV.from_string(template["subject"]).render(values).strip()
    text = _ENV.from_string(template["body"]).render(values).strip() + f"\n\n{link}\n"
    # The links the text names (a certificate, a PDF) are links in the HTML part too.
    named = sorted({v for k, v in values.items() if k in _LINKS}, key=len, reverse=True)
    paragraphs = "".join(f"<p>{_linked(html.escape(p), named).replace(chr(10), '<br>')}</p>"
                         for p in text.strip().split("\n\n") if p != link)
    body_html = (f'<!doctype html><html lang="{language}"><body>{paragraphs}'
                 f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p></body></html>')
    return Rendered(subject=subject.replace("\n", " "), text=text, html=body_html)


def _linked(escaped: str, links: list[str]) -> str:
    """`escaped` (a paragraph, HTML-escaped) with each of `links` in it made an anchor."""
    if not links:
        return escaped
    pattern = "|".join(re.escape(html.escape(link)) for link in links)
    return re.sub(pattern, lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)


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
# The facts that are links (made anchors in the HTML part).
_LINKS = frozenset({"certificate", "certificate_pdf", "report_pdf", "outbox"})


def addressed(kind: str, city_key: str, facts: dict[str, str], portal_url: str,
              language: str) -> tuple[str, dict[str, str]]:
    """The link a message of `kind` about `city_key` ends with, and its facts with the
    links its text names, in the reader's `language` (`?lang=`): an announcement's public
    certificate (awarded on its date) and its PDF; a decision's report as a PDF, which,
    as the report's page, asks for the sign-in and shows only to the city's people (the
    mail names it, never holds it)."""
    portal = portal_url.rstrip("/")
    lang = f"?lang={language if language in LANGUAGES else 'en'}"
    city = f"{portal}/portal/cities/{city_key}"
    link = (f"{city}/review" if kind in _TO_REVIEW
            else f"{city}#report-title" if kind in _TO_REPORT else city)
    if kind == "announcement":
        certificate = f"{portal}/certificates/{city_key}/{facts['on']}"
        facts = {**facts, "certificate": f"{certificate}{lang}",
                 "certificate_pdf": f"{certificate}/certificate.pdf{lang}"}
    if kind in _TO_REPORT:
        facts = {**facts, "report_pdf": f"{city}/report.pdf{lang}"}
    return link, facts
