"""CSV files the admin and the commands write: spreadsheet formulas neutralised (OWASP).

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `=cmd|...`), so a blacklist
value or reason typed by a partner's customer could run in an operator's spreadsheet. Every
such cell is written with a leading `'` — OWASP's "CSV injection" rule — which spreadsheets
show as text and do not display.

Import stays round-trippable: `restore_cell` strips exactly that added quote, i.e. one leading
`'` when what follows begins (after any further quotes) with one of those characters. A value
that itself begins with quotes before such a character gets one more quote on export, so
export → import gives back every value unchanged; any other leading `'` is data and is kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

FORMULA_TRIGGERS = frozenset({"=", "+", "-", "@", "\t", "\r"})
QUOTE = "'"


def _quoted_formula(text: str) -> bool:
    """Whether `text` would read as a formula once its leading quotes are removed."""
    return text.lstrip(QUOTE)[:1] in FORMULA_TRIGGERS


def neutralise_cell(value: Any) -> Any:
    """The cell as written: `'`-prefixed when a spreadsheet would take it for a formula."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in FORMULA_TRIGGERS or (value[0] == QUOTE and _quoted_formula(value)):
        return QUOTE + value
    return value


def restore_cell(value: str) -> str:
    """The inverse of `neutralise_cell`, for importers reading files this project wrote."""
    if value[:1] == QUOTE and _quoted_formula(value):
        return value[1:]
    return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text line by line (header first), every cell neutralised: for streaming responses."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(list(header))
    yield flush()
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])
        yield flush()
