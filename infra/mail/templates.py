"""Rendering a message: its kind's template in the recipient's language (English when the
language has none), dates formatted for that language, a plain-text body and an HTML one
made from it, with a link to the portal."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import yaml
from babel import Locale, dates

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


def _formatted(key: str, value: str, language: str) -> str:
    if key == "on" or key.endswith("_on"):
        try:
            return dates.format_date(date.fromisoformat(value), format="long",
                                     locale=Locale.parse(language))
        except ValueError:
            return value
    return value
