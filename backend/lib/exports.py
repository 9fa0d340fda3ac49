"""Spreadsheet exports that never carry a live formula (CSV/formula injection).

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel, WPS and LibreOffice,
and a leading tab or carriage return hides such a start; ``=HYPERLINK(...)`` typed into a contact
line would otherwise go out to every administrator who opens the export. Every export goes
through here:

- CSV has no types, so such a text is prefixed with an apostrophe (OWASP's advice): the program
  shows the text and evaluates nothing.
- XLSX cells are written as text, never formulas, with the "quote prefix" style, so the value
  is kept exactly and stays text even when someone edits the cell.

Numbers stay numbers (a negative count is not text someone typed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    """Whether a spreadsheet program could read ``value`` as the start of a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A CSV cell: formula-like text behind an apostrophe, everything else as it is."""
    return "'" + value if is_formula_like(value) else value


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through ``csv_cell``."""

    def __init__(self, stream: Any) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row, neutralised."""
        self._writer.writerow([csv_cell(v) for v in row])


def csv_bytes(header: Iterable[Any], rows: Iterable[Iterable[Any]], *, bom: bool = True) -> bytes:
    """A whole CSV document, every cell neutralised (UTF-8, with a BOM for spreadsheet programs)."""
    return csv_text(header, rows, bom=bom).encode("utf-8")


def csv_text(header: Iterable[Any], rows: Iterable[Iterable[Any]], *, bom: bool = True) -> str:
    """The same as ``csv_bytes``, as text."""
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return ("\ufeff" if bom else "") + buffer.getvalue()


def xlsx_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append one row to an openpyxl sheet; text is always a text cell, never a formula."""
    values = list(values)
    sheet.append(values)
    for cell, value in zip(sheet[sheet.max_row], values, strict=False):
        if is_formula_like(value):
            cell.data_type = "s"  # openpyxl took the "=" for a formula: the exact text instead
            cell.quotePrefix = True
