"""The badge a certified city embeds on its own site: an SVG with the city's name, its
tier and until when it holds, in the page's language. Its state is computed at each
request from the program's date, so the same embedded image says "expired" by itself
once the certification runs out, and "ended" once it stopped early (the city left).

The city's name is on it, so a badge copied onto another city's site gives itself away.
Text is measured with a table of DejaVu Sans advance widths (the widest of the fonts
named) and pinned to that length (`textLength`), so it fits in any font the viewer has."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from xml.sax.saxutils import escape, quoteattr

from infra.i18n.catalogs import Language
from infra.readside.rows import AnnouncedCertification

FONT = "DejaVu Sans,Verdana,Geneva,sans-serif"
INK = "#1b1f24"
COLOURS = {"silver": "#5f6b76", "gold": "#8a5a00", "platinum": "#3b4a8f"}
NOT_IN_FORCE = "#a4161a"
HEIGHT = 44
PAD = 8
BOLD = 1.08  # bold glyphs are this much wider
# Advance widths in ems (DejaVu Sans); a character not listed counts as `_WIDE`.
_WIDTHS = {
    " ": .318, ",": .318, ".": .318, ":": .337, ";": .337, "-": .361, "'": .275,
    "(": .390, ")": .390, "/": .337, "·": .318, "&": .780, "!": .400, "?": .531,
    **dict.fromkeys("0123456789", .636),
    "a": .613, "b": .635, "c": .550, "d": .635, "e": .615, "f": .352, "g": .635,
    "h": .634, "i": .278, "j": .278, "k": .579, "l": .278, "m": .974, "n": .634,
    "o": .612, "p": .635, "q": .635, "r": .411, "s": .521, "t": .392, "u": .634,
    "v": .592, "w": .818, "x": .592, "y": .592, "z": .525,
    "A": .684, "B": .686, "C": .698, "D": .770, "E": .632, "F": .575, "G": .775,
    "H": .752, "I": .295, "J": .295, "K": .656, "L": .557, "M": .863, "N": .748,
    "O": .787, "P": .603, "Q": .787, "R": .695, "S": .635, "T": .611, "U": .732,
    "V": .684, "W": .989, "X": .685, "Y": .611, "Z": .685,
}
_WIDE = .8


class State(StrEnum):
    VALID = "valid"  # announced, in force, not past its expiry
    EXPIRED = "expired"  # past its expiry (or lapsed at it)
    ENDED = "ended"  # ended before its expiry: the city left the program


@dataclass(frozen=True)
class Standing:
    state: State
    tier: str
    until: date  # valid or expired: its expiry date; ended: the day it ended


def standing(latest: AnnouncedCertification, today: date) -> Standing:
    """What the badge says on `today` of the city's latest announced certification. From
    its expiry date on (the day the program lapses it) it says "expired", whether or not
    the lapse is recorded yet, and also while a renewal keeps it held: the certificate
    itself has run out, and the renewal is the city's own business until announced."""
    if latest.ended_on is not None and latest.ended_on < latest.expires_on:
        return Standing(State.ENDED, latest.tier, latest.ended_on)
    if latest.ended_on is not None or today >= latest.expires_on:
        return Standing(State.EXPIRED, latest.tier, latest.expires_on)
    return Standing(State.VALID, latest.tier, latest.expires_on)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Pixels `text` takes at `size` px (accents count as their letter)."""
    ems = sum(_WIDTHS.get(unicodedata.normalize("NFD", c)[:1] or c, _WIDE) for c in text)
    return ems * size * (BOLD if bold else 1.0)


def _capital(word: str) -> str:
    return word[:1].upper() + word[1:]


@dataclass(frozen=True)
class Lines:
    """The badge's words in one language."""

    brand: str
    city: str
    headline: str
    detail: str
    title: str


def lines(city: str, standing_: Standing, language: Language) -> Lines:
    _ = language.gettext
    tier = _capital(_(standing_.tier))
    day = language.date(standing_.until)
    if standing_.state is State.VALID:
        headline, detail = tier, _("valid until %(date)s") % {"date": day}
    else:
        headline = _("Expired") if standing_.state is State.EXPIRED else _("Ended")
        detail = _("%(tier)s until %(date)s") % {"tier": tier, "date": day}
    title = _("What Works Cities certification of %(city)s: %(state)s") % {
        "city": city, "state": f"{headline}, {detail}"}
    return Lines("What Works Cities", city, headline, detail, title)


def _text(x: float, y: float, size: int, text: str, *, bold: bool = False) -> str:
    width = text_width(text, size, bold=bold)
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y}" font-size="{size}"{weight} '
            f'textLength="{width:.1f}" lengthAdjust="spacingAndGlyphs">{escape(text)}</text>')


def badge_svg(words: Lines, standing_: Standing, *, language: str, link: str) -> str:
    """The badge: the program and the city on the left, the tier (or "expired") and the
    date on the right, in the tier's colour while in force, red once not."""
    left = PAD * 2 + max(text_width(words.brand, 11), text_width(words.city, 13, bold=True))
    right = PAD * 2 + max(text_width(words.headline, 14, bold=True),
                          text_width(words.detail, 11))
    width = round(left + right)
    colour = COLOURS.get(standing_.tier, INK) if standing_.state is State.VALID \
        else NOT_IN_FORCE
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
        f'viewBox="0 0 {width} {HEIGHT}" role="img" aria-labelledby="wwc-badge-title" '
        f'lang="{language}" data-state="{standing_.state.value}">'
        f'<title id="wwc-badge-title">{escape(words.title)}</title>'
        f"<a href={quoteattr(link)}>"
        f'<rect width="{width}" height="{HEIGHT}" rx="4" fill="{colour}"/>'
        f'<rect width="{left:.1f}" height="{HEIGHT}" rx="4" fill="{INK}"/>'
        f'<rect x="{left - 4:.1f}" width="4" height="{HEIGHT}" fill="{INK}"/>'
        f'<g fill="#ffffff" font-family="{FONT}">'
        + _text(PAD, 18, 11, words.brand)
        + _text(PAD, 35, 13, words.city, bold=True)
        + _text(left + PAD, 19, 14, words.headline, bold=True)
        + _text(left + PAD, 35, 11, words.detail)
        + "</g></a></svg>")
