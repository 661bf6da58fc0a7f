"""The portal's lists as CSV files ("Download CSV"): the same rows and columns a list
shows, its column names in the reader's language.

Written for people who open them in a spreadsheet:
- UTF-8 with a byte-order mark. Excel reads a CSV without one in the computer's legacy
  code page (Windows-1252 on a Spanish or Portuguese Windows), so "São Paulo" would open
  as "SÃ£o Paulo"; with the mark it reads UTF-8. LibreOffice, Numbers, Google Sheets,
  pandas and Python's csv (encoding "utf-8-sig") all take the mark as it is meant.
- Commas between fields and CRLF between rows (RFC 4180), quoted where needed; dates as
  ISO 8601 (2026-03-01) and whole numbers plain, which every spreadsheet reads as dates
  and numbers whatever its locale. (A spreadsheet set to a locale whose list separator
  is ";" may open the file in one column on a double click; its "import text/CSV" reads
  it right. One format for every reader beats a file whose shape changes with the page's
  language, which scripts would trip over.)
- Safe against formula injection: a text cell that starts with =, +, -, @, a tab or a
  carriage return is written with a leading apostrophe, so a city's or a subject's name
  can never run as a formula in the spreadsheet of the person who downloads it (OWASP's
  advice for CSV exports)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from fastapi.responses import Response

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | date | datetime | None


def cell(value: Cell) -> str:
    """One value as the file writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    writer.writerows([cell(v) for v in row] for row in rows)
    return (BOM + out.getvalue()).encode("utf-8")


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Cell]], *,
                 filename: str, cache: str | None = None) -> Response:
    """The file, offered for download under `filename`. Its column names follow the
    reader's language, so caches must keep one per language (`Vary`)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"',
               "Vary": "Cookie, Accept-Language"}
    if cache:
        headers["Cache-Control"] = cache
    return Response(csv_bytes(header, rows), media_type="text/csv; charset=utf-8",
                    headers=headers)
