"""Reading financial statements from files: JSON, CSV or Excel (openpyxl), one period a row.

JSON holds one statement document or a list of them (flat, or with ``balance_sheet``,
``income_statement`` and ``cash_flow`` sections). CSV and Excel (the first sheet) have a
header row naming the lines of :data:`tenor.risk.ews.FIGURES` plus ``period_end``,
``period_months`` and ``currency``, and one row per period. Every row is validated; the first
bad row refuses the whole file, naming the row.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tenor.core.errors import DomainError
from tenor.risk.ews import Statement, StatementError, statement_from_document


def _rows_from_excel(path: Path) -> list[dict[str, Any]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    if not rows:
        return []
    header = [str(cell).strip().lower() if cell is not None else "" for cell in rows[0]]
    documents = []
    for row in rows[1:]:
        if all(cell is None for cell in row):
            continue
        document: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=False):
            # Spreadsheets hold dates as datetimes; statements want YYYY-MM-DD.
            if isinstance(cell, dt.datetime):
                document[name] = cell.date().isoformat()
            elif isinstance(cell, dt.date):
                document[name] = cell.isoformat()
            else:
                document[name] = cell
        documents.append(document)
    return documents


def read_documents(path: Path) -> Sequence[Mapping[str, Any]]:
    """The statement documents in a ``.json``, ``.csv`` or ``.xlsx`` file, unvalidated."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise StatementError(
                f"{path.name} is not JSON: {error.msg} at line {error.lineno}"
            ) from None
        documents = loaded if isinstance(loaded, list) else [loaded]
        if not all(isinstance(item, Mapping) for item in documents):
            raise StatementError(f"{path.name} must hold a statement object or a list of them")
        return documents
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return list(csv.DictReader(handle))
    if suffix in (".xlsx", ".xlsm"):
        return _rows_from_excel(path)
    raise StatementError(f"{path.name}: statements must be .json, .csv or .xlsx")


def read_statements(path: Path) -> list[Statement]:
    """The validated statements in ``path``; the first bad one refuses the file, by row."""
    documents = read_documents(path)
    if not documents:
        raise StatementError(f"{path.name} holds no statement")
    statements = []
    for number, document in enumerate(documents, start=1):
        try:
            statements.append(statement_from_document(document))
        except DomainError as error:
            raise type(error)(f"{path.name} statement {number}: {error.message}") from None
    return statements
