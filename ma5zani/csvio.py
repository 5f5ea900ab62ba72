"""CSV written for spreadsheet programs: UTF-8 with a BOM, streamed, and no cell that a
spreadsheet would run as a formula (CSV injection). Every export of the project goes through it."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def defuse(cell: object) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def undefuse(cell: str) -> str:
    """Read back a cell that an export defused, so that export then import changes nothing."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_PREFIXES) else cell


def csv_stream(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The rows as CSV text chunks (header first, as given), with a BOM."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([defuse(cell) for cell in row])
