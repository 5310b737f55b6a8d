"""The one place that writes CSV.

Every export people open in a spreadsheet (the search export, the moderation audit log, the
citizen-budget result, reports and open data to come) writes through ``CsvWriter`` or
``stream``; data files in a fixed format (Pabulib ``.pb``) write through ``data_writer``.
A test (``tests/forum/test_exports.py``) fails when a package calls ``csv.writer`` itself.

What a spreadsheet export gets here:

- formula neutralising: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is run as a formula by Excel, LibreOffice and Google Sheets
  (``=HYPERLINK(...)`` in an idea title becomes a link, ``=WEBSERVICE(...)`` fetches a URL);
  such a cell is written with a leading apostrophe, which the spreadsheet shows as text.
  Numbers are written as numbers (a negative amount is not a formula).
- a UTF-8 byte-order mark, so Excel reads æ, ø and å as such;
- the delimiter rule (``spreadsheet_delimiter``);
- streaming: rows are turned into text as the response is sent, in pieces.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CHUNK_CHARS = 32_000


def neutralise(value) -> str:
    """A cell's text as a spreadsheet shows it, never as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value):
    """A value ready for the CSV writer: numbers as they are, everything else as neutral text."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return int(value)
    return neutralise(value)


def spreadsheet_delimiter() -> str:
    """ ";" for Danish, "," otherwise: Excel splits a CSV file it opens at the list separator
    of the computer's regional settings, and in Danish settings that is the semicolon (the
    comma is the decimal sign) — with commas, every row would land in one column."""
    from flask_babel import get_locale

    locale = get_locale()
    return ";" if locale is not None and locale.language == "da" else ","


class CsvWriter:
    """Rows to CSV text for a spreadsheet, collected until ``take`` hands them out.

    ``delimiter``: None follows ``spreadsheet_delimiter``; ``bom``: start with the UTF-8
    byte-order mark.
    """

    def __init__(self, *, delimiter: str | None = None, bom: bool = True) -> None:
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, delimiter=delimiter or spreadsheet_delimiter())
        if bom:
            self._buf.write(BOM)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([cell(v) for v in row])

    def pending(self) -> int:
        """How many characters are written and not yet taken."""
        return self._buf.tell()

    def take(self) -> str:
        """The text written since the last ``take``."""
        text = self._buf.getvalue()
        self._buf.seek(0)
        self._buf.truncate()
        return text


def stream(
    header: Iterable | None,
    rows: Iterable[Iterable],
    *,
    delimiter: str | None = None,
    bom: bool = True,
    chunk_chars: int = CHUNK_CHARS,
) -> Iterator[str]:
    """A whole export in pieces of about ``chunk_chars`` characters, made as they are sent."""
    writer = CsvWriter(delimiter=delimiter, bom=bom)
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if writer.pending() >= chunk_chars:
            yield writer.take()
    rest = writer.take()
    if rest:
        yield rest


def response(pieces: Iterable[str], filename: str) -> Response:
    """A CSV download streamed from ``pieces`` (iterated inside the request's context)."""
    resp = Response(stream_with_context(iter(pieces)), mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def data_writer(out, **fmtparams):
    """A plain ``csv.writer`` for data files in a fixed format (Pabulib), where a cell must
    come back exactly as it was written: no neutralising, no byte-order mark. Never for a file
    meant to be opened in a spreadsheet."""
    return csv.writer(out, **fmtparams)
