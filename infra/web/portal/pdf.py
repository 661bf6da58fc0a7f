"""Printable documents as PDF, in the reader's language: a certification's certificate
(public once announced) and a city's decision report (private, as its page).

Made with fpdf2: pure Python (its only binary dependency, Pillow, comes as a wheel), no
system package, no browser, well kept and typed; it embeds the subset of a TrueType font
a document uses, with the map that keeps its text extractable (copy, search, screen
readers). The font is DejaVu Sans (`fonts/`, with its licence, cut down to the Latin
alphabets by tools/make_fonts.py), which covers every letter Spanish and Portuguese
write. A certificate's verification address is also drawn as a QR code, from segno's
matrix (pure Python, no image library involved): rectangles, so it stays sharp at any
scale.

A document is reproducible: the same certification (or decision) in the same language
gives the same bytes, whenever it is asked for, so its hash is stable. Nothing in it
depends on the time of the request: its creation date is the day of the event it shows,
its metadata fixed, and it says nothing that changes later (whether the certification is
still in force is for the verification page to say, not the paper)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import segno
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from domain.text import escape_controls
from infra.i18n.catalogs import Language
from infra.i18n.words import N_, tier_word

FONT = "DejaVu"
PRODUCER = "wwc-certification"  # fixed: the library's name and version would vary
MARGIN = 20.0  # mm on every side: inside what both A4 and Letter print
WIDTH = 210.0 - 2 * MARGIN
GREY = (90, 90, 90)
INK = (20, 20, 20)
LINK = (0, 70, 160)
# The tiers' colours, dark enough for white text on them (WCAG AA at this size).
TIER_COLOURS = {"silver": (92, 99, 106), "gold": (133, 100, 4), "platinum": (45, 74, 110),
                "none": (90, 90, 90)}

PROGRAM = N_("What Works Cities certification")
CERTIFICATE = N_("Certificate")
REPORT = N_("Decision report")
CHECK_TITLE = N_("Check this certificate")
CHECK_TEXT = N_("Open this address, or scan the code: the page recomputes the city's hash "
                "chain up to the event that decided the certification, and says whether "
                "it verifies and whether the certification is still in force.")
PRIVATE = N_("Private: for the city's editors, its reviewer and the program's staff.")
REPORT_CHECK = N_("The hash identifies the decision in the city's log, whose hash chain "
                  "the program's staff can verify at any time.")
PRACTICES = N_("Criteria met per practice")
OUTCOME = N_("Outcome")
DECIDED_ON = N_("Decided on")
STANDARD = N_("Standard")
COHORT = N_("Cohort")
AWARDED = N_("Awarded")
VALID_UNTIL = N_("Valid until")
DECIDED_BY = N_("Decided by event")
EVENT_LINE = N_("number %(v)d of the city's log, on %(date)s")
HASH = N_("Hash of that event")
NEXT_TIER = N_("To reach %(tier)s, the fewest criteria to meet:")
MET, NOT_MET = N_("met"), N_("not met")
# The review's findings, as the city's page says them (the same sentences).
FOUND = N_("What the review found")
UNMET_INTRO = N_("Each criterion the city claimed that the decision does not count as met, "
                 "with the review team's note:")
BLOCKED = N_("validated, but a criterion it builds on is not met")
NO_NOTE = N_("The review team left no note on it.")
ALL_MET = N_("Every criterion the city claimed counts as met.")
NOTED_INTRO = N_("The review team's notes on criteria met:")


@dataclass(frozen=True)
class Decision:
    """The event that decided: its place in the city's log and its hash."""

    number: int
    decided_on: date
    hash: str


@dataclass(frozen=True)
class CertificateFacts:
    city_name: str
    country: str
    tier: str
    standard: str  # its title
    cohort_id: str
    awarded_on: date
    expires_on: date
    decision: Decision
    verify_url: str


@dataclass(frozen=True)
class PracticeLine:
    name: str
    met: int
    total: int


@dataclass(frozen=True)
class FindingLine:
    """A criterion the city claimed (or one the review team wrote a note on), as the
    decision found it."""

    criterion: str  # "CODE label", in the report's language
    met: bool  # counted as met by the decision
    blocked: bool  # validated by the review, but a criterion it builds on is not met
    note: str  # the review team's note on it ("" when none was written)


@dataclass(frozen=True)
class ReportFacts:
    city_name: str
    country: str
    standard: str  # its title
    tier: str
    points: int
    total: int
    percent: float
    practices: Sequence[PracticeLine]
    # The next tier and the fewest criteria to reach it, each as "CODE label".
    next_tier: tuple[str, Sequence[str]] | None
    gates: Sequence[tuple[str, bool]]  # each gate's label, and whether it is met
    decision: Decision
    # What the review found (`domain.reviews.findings`), in the standard's order.
    findings: Sequence[FindingLine] = ()


class _Document(FPDF):
    """An A4 page in DejaVu Sans, with fixed metadata; text left-aligned (fpdf2's
    multi_cell justifies by default, which spreads a short line's words apart)."""

    def multi_cell(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("align", Align.L)
        return super().multi_cell(*args, **kwargs)

    def __init__(self, language: Language, title: str, made_on: date) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.language = language
        fonts = resources.files("infra.web.portal") / "fonts"
        with resources.as_file(fonts / "DejaVuSans-Latin.ttf") as regular, \
                resources.as_file(fonts / "DejaVuSans-Bold-Latin.ttf") as bold:
            self.add_font(FONT, "", str(regular))
            self.add_font(FONT, "B", str(bold))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN)
        self.set_title(title)
        self.set_author(self._(PROGRAM))
        self.set_lang(language.code)
        self.set_producer(PRODUCER)
        self.set_creator(PRODUCER)
        # The day of the event the document shows, never the time it was asked for.
        self.set_creation_date(datetime(made_on.year, made_on.month, made_on.day, tzinfo=UTC))
        self.add_page()

    def _(self, message: str) -> str:
        return self.language.gettext(message)

    def write_line(self, text: str, size: float, *, bold: bool = False,
                   colour: tuple[int, int, int] = INK, align: Align = Align.L,
                   height: float | None = None, link: str | None = None) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(WIDTH, height or size * 0.5, text, align=align, link=link,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, title: str) -> None:
        """The program's name, a rule under it, then the document's title."""
        self.write_line(self._(PROGRAM).upper(), 9, colour=GREY, align=Align.C)
        self.set_draw_color(*GREY)
        self.set_line_width(0.3)
        self.line(MARGIN, self.get_y() + 2, MARGIN + WIDTH, self.get_y() + 2)
        self.ln(8)
        self.write_line(title, 26, bold=True, align=Align.C, height=13)

    def frame(self) -> None:
        """A double rule around the page, inside what A4 and Letter both print."""
        self.set_draw_color(*GREY)
        for inset, width in ((12.0, 0.8), (14.0, 0.3)):
            self.set_line_width(width)
            self.rect(inset, inset, 210 - 2 * inset, 297 - 2 * inset)

    def tier_band(self, tier: str) -> None:
        """The tier in words, white on its colour, centred."""
        said = self._(tier_word(tier))
        words = said[:1].upper() + said[1:]
        self.set_font(FONT, "B", 18)
        width = max(70.0, self.get_string_width(words) + 20)
        self.set_fill_color(*TIER_COLOURS.get(tier, TIER_COLOURS["none"]))
        self.set_text_color(255, 255, 255)
        self.set_x(MARGIN + (WIDTH - width) / 2)
        self.cell(width, 13, words, align=Align.C, fill=True,
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def facts(self, rows: Sequence[tuple[str, str]], *, label_width: float = 44) -> None:
        """Label and value, a row each; the value wraps within its column. A hash is
        written smaller, in regular weight, so that its 64 digits fit on one line."""
        for label, value in rows:
            top = self.get_y()
            self.set_font(FONT, "", 9.5)
            self.set_text_color(*GREY)
            self.multi_cell(label_width, 6, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
            digest = len(value) == 64 and all(c in "0123456789abcdef" for c in value)
            self.set_font(FONT, "" if digest else "B", 8 if digest else 10.5)
            self.set_text_color(*INK)
            self.multi_cell(WIDTH - label_width, 6, value, new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)
            self.set_y(max(self.get_y(), top + 6) + 1.5)

    def qr(self, text: str, x: float, y: float, size: float) -> None:
        """`text` as a QR code, `size` mm wide, as filled rectangles (a run of dark
        modules in a row is one rectangle)."""
        code = segno.make(text, error="m", micro=False)
        rows = code.matrix
        module = size / len(rows)
        self.set_fill_color(0, 0, 0)
        for r, row in enumerate(rows):
            c = 0
            while c < len(row):
                if row[c]:
                    start = c
                    while c < len(row) and row[c]:
                        c += 1
                    self.rect(x + start * module, y + r * module, (c - start) * module,
                              module, style="F")
                else:
                    c += 1

    def finish(self) -> bytes:
        return bytes(self.output())


def certificate_pdf(language: Language, facts: CertificateFacts) -> bytes:
    """One certification on an A4 page: the city, its tier, the standard, the cohort and
    dates, the event that decided it and its hash, and where to check it (its address
    and a QR code of it)."""
    _ = language.gettext
    fmt = language.date
    doc = _Document(language, f"{_(CERTIFICATE)}: {facts.city_name}", facts.awarded_on)
    doc.frame()
    doc.ln(4)
    doc.heading(_(CERTIFICATE))
    doc.ln(12)
    doc.write_line(facts.city_name, 24, bold=True, align=Align.C, height=11)
    doc.write_line(language.formats.country(facts.country), 13, colour=GREY,
                   align=Align.C, height=8)
    doc.ln(10)
    doc.tier_band(facts.tier)
    doc.ln(16)
    doc.facts([
        (_(STANDARD), facts.standard),
        (_(COHORT), facts.cohort_id),
        (_(AWARDED), fmt(facts.awarded_on)),
        (_(VALID_UNTIL), fmt(facts.expires_on)),
        (_(DECIDED_BY), _(EVENT_LINE) % {"v": facts.decision.number,
                                         "date": fmt(facts.decision.decided_on)}),
        (_(HASH), facts.decision.hash),
    ])
    doc.ln(16)
    # Where to check it: its address on a line of its own, then the QR code of it beside
    # what the check does.
    doc.write_line(_(CHECK_TITLE), 12, bold=True, height=7)
    doc.write_line(facts.verify_url, 9, colour=LINK, height=5.5, link=facts.verify_url)
    doc.ln(3)
    top = doc.get_y()
    size = 36.0
    doc.qr(facts.verify_url, MARGIN, top, size)
    doc.set_left_margin(MARGIN + size + 8)
    doc.set_y(top + 2)
    doc.set_font(FONT, "", 9.5)
    doc.set_text_color(*GREY)
    doc.multi_cell(WIDTH - size - 8, 5, _(CHECK_TEXT), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_left_margin(MARGIN)
    return doc.finish()


def report_pdf(language: Language, facts: ReportFacts) -> bytes:
    """A city's decision report: the outcome, the criteria met per practice, the fewest
    criteria to reach the next tier, what the review found (each claimed criterion not
    counted as met, with the review team's note; their notes on criteria met), the event
    that decided it and its hash. Private: it says so."""
    _ = language.gettext
    fmt = language.date
    doc = _Document(language, f"{_(REPORT)}: {facts.city_name}", facts.decision.decided_on)
    doc.heading(_(REPORT))
    doc.ln(4)
    doc.write_line(facts.city_name, 20, bold=True, align=Align.C, height=10)
    doc.write_line(language.formats.country(facts.country), 12, colour=GREY,
                   align=Align.C, height=7)
    doc.ln(5)
    doc.tier_band(facts.tier)
    doc.ln(8)
    doc.facts([
        (_(STANDARD), facts.standard),
        (_(DECIDED_ON), fmt(facts.decision.decided_on)),
        (_(OUTCOME), language.ngettext(
            "%(points)d of %(total)d criterion met (%(percent)s): %(tier)s",
            "%(points)d of %(total)d criteria met (%(percent)s): %(tier)s", facts.total) % {
            "points": facts.points, "total": facts.total,
            "percent": language.formats.percent(facts.percent),
            "tier": _(tier_word(facts.tier))}),
    ])
    doc.ln(4)
    doc.write_line(_(PRACTICES), 12, bold=True, height=8)
    doc.ln(1)
    for line in facts.practices:
        _practice_bar(doc, line)
    for label, met in facts.gates:
        doc.ln(2)
        doc.write_line(f"{label}: {_(MET) if met else _(NOT_MET)}", 10, height=6)
    if facts.next_tier is not None:
        tier, criteria = facts.next_tier
        doc.ln(4)
        doc.write_line(_(NEXT_TIER) % {"tier": _(tier_word(tier))}, 11, bold=True, height=7)
        for criterion in criteria:
            doc.write_line(f"• {criterion}", 9.5, height=5.5)
    if facts.findings:
        _findings(doc, facts.findings)
    doc.ln(6)
    doc.facts([
        (_(DECIDED_BY), _(EVENT_LINE) % {"v": facts.decision.number,
                                         "date": fmt(facts.decision.decided_on)}),
        (_(HASH), facts.decision.hash),
    ])
    doc.ln(2)
    doc.write_line(_(REPORT_CHECK), 9, colour=GREY, height=5)
    doc.ln(2)
    doc.write_line(_(PRIVATE), 9, bold=True, colour=GREY, height=5)
    return doc.finish()


def _practice_bar(doc: _Document, line: PracticeLine) -> None:
    """A practice's name, a bar of its criteria met, and "met/total"."""
    name_width, bar_width = 78.0, 70.0
    top = doc.get_y()
    doc.set_font(FONT, "", 9.5)
    doc.set_text_color(*INK)
    doc.multi_cell(name_width, 5.5, line.name, new_x=XPos.RIGHT, new_y=YPos.TOP)
    bottom = doc.get_y()
    doc.set_fill_color(225, 228, 232)
    doc.rect(MARGIN + name_width + 2, top + 1, bar_width, 3.8, style="F")
    if line.total and line.met:
        doc.set_fill_color(*TIER_COLOURS["platinum"])
        doc.rect(MARGIN + name_width + 2, top + 1, bar_width * line.met / line.total, 3.8,
                 style="F")
    doc.set_xy(MARGIN + name_width + bar_width + 4, top)
    doc.cell(WIDTH - name_width - bar_width - 4, 5.5, f"{line.met}/{line.total}",
             align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_y(max(bottom, top + 5.5) + 1.5)


def _findings(doc: _Document, findings: Sequence[FindingLine]) -> None:
    """What the review found, as the city's page says it: each claimed criterion the
    decision does not count as met and why, with the review team's note (or that there
    is none), then their notes on criteria met. A note is the reviewer's text: control
    characters an older version may have stored are written as escapes, as on the page."""
    _ = doc._
    unmet = [f for f in findings if not f.met]
    noted = [f for f in findings if f.met and f.note]
    doc.ln(4)
    doc.write_line(_(FOUND), 12, bold=True, height=8)
    if not unmet:
        doc.write_line(_(ALL_MET), 9.5, height=5.5)
    else:
        doc.write_line(_(UNMET_INTRO), 9.5, colour=GREY, height=5.5)
    for finding in unmet:
        doc.ln(1.5)
        why = _(BLOCKED) if finding.blocked else _(NOT_MET)
        doc.write_line(f"• {finding.criterion}: {why}.", 10, bold=True, height=5.5)
        if finding.note:
            doc.write_line(escape_controls(finding.note, keep_lines=True), 9.5, height=5.2)
        else:
            doc.write_line(_(NO_NOTE), 9.5, colour=GREY, height=5.2)
    if noted:
        doc.ln(3)
        doc.write_line(_(NOTED_INTRO), 9.5, colour=GREY, height=5.5)
    for finding in noted:
        doc.ln(1.5)
        doc.write_line(f"• {finding.criterion}", 10, bold=True, height=5.5)
        doc.write_line(escape_controls(finding.note, keep_lines=True), 9.5, height=5.2)
