"""Numbers, shares, dates and place names as the reader writes them: 1,773,718 and
48.84% and Dec 2, 2029 on an English page; 1.773.718, 48,84 % and 2 dic 2029 on a
Spanish one; 1.773.718, 48,84% and 2 de dez. de 2029 on a Portuguese one (CLDR's rules,
through Babel). The CLI and the API keep one fixed, machine-friendly form (`PLAIN`:
grouped digits, ISO dates), so their outputs stay byte for byte what they were."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Protocol

from babel import Locale, dates, numbers


@dataclass(frozen=True)
class Percent:
    """A share in percent points (48.84 is 48.84 %), told apart from a plain number so a
    line's formatter writes the reader's percent sign where it belongs."""

    points: float


class Formats(Protocol):
    def number(self, value: int | float) -> str: ...

    def percent(self, points: float) -> str: ...

    def date(self, day: date) -> str: ...

    def country(self, code: str) -> str: ...


@dataclass(frozen=True)
class PlainFormats:
    """The CLI's and the API's: `1,773,718`, `48.84 %`, `2029-12-02`, `US`, in every
    language."""

    def number(self, value: int | float) -> str:
        return f"{value:,}"

    def percent(self, points: float) -> str:
        return f"{points} %"

    def date(self, day: date) -> str:
        return day.isoformat()

    def country(self, code: str) -> str:
        return code


PLAIN = PlainFormats()


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@dataclass(frozen=True)
class LocaleFormats:
    """A page's: the conventions of its language (`en`, `es`, `pt`)."""

    code: str

    def number(self, value: int | float) -> str:
        return numbers.format_decimal(value, locale=_locale(self.code))

    def percent(self, points: float) -> str:
        """`points` percent, with as many decimals as it has (at most two): 51 %, 48,84 %."""
        share = Decimal(str(round(points, 2))).normalize() / 100
        return numbers.format_percent(share, locale=_locale(self.code),
                                      decimal_quantization=False)

    def month(self, day: date) -> str:
        """The month of `day`, short, with its year: Dec 2024, dic 2024, dez. de 2024."""
        return dates.format_skeleton("yMMM", day, locale=_locale(self.code))

    def quarter(self, day: date) -> str:
        """The quarter of `day`, with its year: Q4 2024, T4 2024, T4 de 2024."""
        return dates.format_skeleton("yQQQ", day, locale=_locale(self.code))

    def date(self, day: date) -> str:
        return dates.format_date(day, format="medium", locale=_locale(self.code))

    def moment(self, when: datetime) -> str:
        """A day and its time to the minute, on the clock `when` carries (as recorded)."""
        return f"{self.date(when.date())} " + dates.format_time(
            when.time(), format="short", locale=_locale(self.code))

    def country(self, code: str) -> str:
        """The country's name in this language (`US` -> Estados Unidos), or the code
        itself when CLDR knows no such territory."""
        name: str = _locale(self.code).territories.get(code.upper(), code)
        return name
