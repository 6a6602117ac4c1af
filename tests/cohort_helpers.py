"""Builders of test files from the hand-written fixture tests/corpus/valid_minimal.csv.

They use only the csv module, openpyxl and pyarrow (never core.cohort), so that the files
they produce are independent of the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from core.dictionary import COLUMNS_BY_NAME

CORPUS = Path(__file__).resolve().parent / "corpus"
VALID = CORPUS / "valid_minimal.csv"


def rows() -> list[list[str]]:
    """Header + data rows of the valid fixture, as text."""
    return [list(r) for r in csv.reader(io.StringIO(VALID.read_text(encoding="utf-8")))]


def edit(table: list[list[str]], pid: str, column: str, value: str) -> list[list[str]]:
    """Set one cell (by patient id and column name), in place; returns the table."""
    j = table[0].index(column)
    for r in table[1:]:
        if r[0] == pid:
            r[j] = value
            return table
    raise KeyError(pid)


def to_csv(table: list[list[str]], sep: str = ",", encoding: str = "utf-8", newline: str = "\n") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator=newline).writerows(table)
    return buf.getvalue().encode(encoding)


def csv_with(edits: dict[tuple[str, str], str]) -> bytes:
    t = rows()
    for (pid, col), value in edits.items():
        edit(t, pid, col, value)
    return to_csv(t)


def _kind(name: str) -> str:
    return COLUMNS_BY_NAME[name].kind if name in COLUMNS_BY_NAME else "text"


def typed_value(name: str, text: str) -> object:
    """The value a spreadsheet program would store for a cell of the fixture."""
    if text == "":
        return None
    kind = _kind(name)
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind in ("integer", "number"):
        return float(text) if "." in text else int(text)
    if kind == "boolean":
        return text == "true"
    return text


def to_xlsx(table: list[list[str]], typed: bool = True) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    header = table[0]
    ws.append(header)
    for r in table[1:]:
        ws.append([typed_value(h, v) if typed else (v or None) for h, v in zip(header, r, strict=True)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_parquet(table: list[list[str]], typed: bool = True) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    header = table[0]
    cols = {}
    for j, h in enumerate(header):
        values = [typed_value(h, r[j]) if typed else (r[j] or None) for r in table[1:]]
        kind = _kind(h)
        if typed and kind == "date":
            cols[h] = pa.array(values, type=pa.date32())
        elif typed and kind in ("integer", "number"):
            cols[h] = pa.array([None if v is None else float(v) for v in values], type=pa.float64())
        elif typed and kind == "boolean":
            cols[h] = pa.array(values, type=pa.bool_())
        else:
            cols[h] = pa.array(values, type=pa.string())
    buf = io.BytesIO()
    pq.write_table(pa.table(cols), buf)
    return buf.getvalue()


def excel_serial(iso: str) -> str:
    """Excel serial day number of an ISO date (1900 date system: day 0 = 1899-12-30)."""
    return str((dt.date.fromisoformat(iso) - dt.date(1899, 12, 30)).days)
