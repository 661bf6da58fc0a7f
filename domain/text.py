"""What text people may send, and how text that is already stored is shown safely.

A name, a link or an answer is shown back on terminals (`wwc history`, tables), in CSV
files opened by spreadsheets and on the portal. Control characters there act rather than
show: `ESC ] 0 ; ...` retitles an operator's terminal, a carriage return overwrites a
line, the bidi embedding, override and isolate characters reorder what a reader sees
(`U+202E` turns "txt.exe" around). None belongs in a name, a link or an answer, so
commands refuse them (`domain.model.Input`); what older versions stored is escaped when
shown (`escape_controls`).
"""

from __future__ import annotations

import re

# C0 controls but TAB, LF and CR; DEL and the C1 controls; the bidi embeddings and
# overrides (U+202A-U+202E) and isolates (U+2066-U+2069); lone surrogates (not text: no
# UTF-8 encoding, so neither PostgreSQL nor a terminal can take them). NUL is refused
# everywhere on its own (`domain.model`).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                       "\ud800-\udfff]")
# What a single-line field (a name, an e-mail, a link, an id) may not hold besides: the
# line and paragraph breaks and the tab. Multi-line free text (answers, notes, questions,
# reasons) keeps TAB, LF and CR.
LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029]")
# What output escapes: everything above, and the line breaks a one-line cell must not
# have. (Multi-line output keeps its line breaks: `escape_controls(text, keep_lines=True)`.)
_SHOWN_ESCAPED = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029"
                            "\ud800-\udfff]")
_SHOWN_ESCAPED_KEEPING_LINES = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

CONTROL_PROBLEM = "may not contain control or bidi-override characters"
LINE_PROBLEM = "may not contain line breaks or tabs"


def codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def control_problem(text: str) -> str | None:
    """Why `text` may not be sent (a control, bidi-override or surrogate character), or
    None. The character is named by its code point, never echoed."""
    found = FORBIDDEN.search(text)
    return f"{CONTROL_PROBLEM} (found {codepoint(found.group())})" if found else None


def single_line_problem(text: str) -> str | None:
    """Why `text` may not be a single-line field's value, or None."""
    if (problem := control_problem(text)) is not None:
        return problem
    found = LINE_BREAKS.search(text)
    return f"{LINE_PROBLEM} (found {codepoint(found.group())})" if found else None


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_lines: bool = False) -> str:
    """`text` with every control, bidi-override and surrogate character written as an
    escape (`\\x1b`, `\\u202e`): what a terminal or a spreadsheet shows instead of
    obeying it. Text that has none (all text sent since it is refused) is unchanged."""
    pattern = _SHOWN_ESCAPED_KEEPING_LINES if keep_lines else _SHOWN_ESCAPED
    return pattern.sub(_escaped, text)
