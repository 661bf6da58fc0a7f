"""The portal's languages: English, Spanish and Portuguese. Interface strings come from
gettext catalogs (`locales/LANG/LC_MESSAGES/messages.po`, compiled by Babel when the
portal starts, so no build step and no compiled file to forget); criteria labels come
from the standard files.

The language of a page: `?lang=` (remembered in a cookie), else that cookie, else the
signed-in account's language, else the browser's Accept-Language, else English."""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date
from importlib import resources

from babel import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from domain.accounts import LANGUAGES
from infra.i18n.formats import LocaleFormats

DEFAULT = "en"
LANGUAGE_COOKIE = "wwc_lang"
NAMES = {"en": "English", "es": "Español", "pt": "Português"}


def _compiled(language: str) -> gettext.NullTranslations:
    if language == DEFAULT:
        return gettext.NullTranslations()
    source = resources.files("infra.i18n").joinpath(
        "locales", language, "LC_MESSAGES", "messages.po")
    with source.open("rb") as file:
        catalog = read_po(file, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@dataclass(frozen=True)
class Language:
    code: str
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    @property
    def formats(self) -> LocaleFormats:
        """Numbers, shares, dates and country names as this language writes them."""
        return LocaleFormats(self.code)

    def date(self, day: date | None) -> str:
        return self.formats.date(day) if day else "—"


class Catalogs:
    def __init__(self) -> None:
        self._by_code = {code: Language(code, _compiled(code)) for code in LANGUAGES}

    def get(self, code: str) -> Language:
        return self._by_code.get(code, self._by_code[DEFAULT])

    def choose(self, *, asked: str | None, remembered: str | None, account: str | None,
               accept_language: str | None) -> Language:
        for candidate in (asked, remembered, account):
            if candidate in LANGUAGES:
                return self.get(candidate)
        offered = [part.split(";")[0].strip().replace("-", "_")
                   for part in (accept_language or "").split(",") if part.strip()]
        found = negotiate_locale(offered, list(LANGUAGES), sep="_") if offered else None
        if found is None and offered:  # "es_MX" offered, "es" known
            found = next((o.split("_")[0] for o in offered
                          if o.split("_")[0] in LANGUAGES), None)
        return self.get(found or DEFAULT)
