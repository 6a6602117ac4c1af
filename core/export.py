"""Downloads: CSV, Excel, Parquet, zip bundles, small-cell suppression and static figures.

Rules shared by every export
----------------------------
* **CSV** is UTF-8 *with* a byte-order mark (``utf-8-sig``), comma-separated, ``\\n`` line
  ends, dates as ISO 8601 (``2024-03-01``; ``2024-03-01T14:30:00`` when a column has a time
  of day). The BOM is what makes Excel on Windows read UTF-8 (``é``, ``≥``) correctly;
  pandas reads it with ``encoding="utf-8-sig"`` and most other tools skip it.
* **Formula (CSV) injection** (OWASP): a *text* value that begins with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return is prefixed with a single quote ``'`` in CSV and Excel,
  and so are such column names. Only text is touched: values of numeric, boolean and date
  columns are never changed (a float ``-3.5`` stays ``-3.5``), but the *text* ``"-5"`` in an
  object/string column becomes ``"'-5"`` (it is text, and text is what gets executed).
  In Excel every text value is written as a string cell, never as a formula. Parquet is a data
  format, not a spreadsheet: it is written unchanged.
* **Small-cell suppression** is off unless the caller applies :func:`suppress_small_counts`
  (the dashboard exposes it as one switch, off by default).
* **Notes inside the files**: the zip's ``README.txt`` and the workbook's "Methods" sheet define
  every known column of each table (units, time origin, what R calls the number) and explain
  every suppression mark (``<k``, ``*``) that occurs in it (:mod:`core.export_notes`).

Static figures
--------------
:func:`figure_png` and :func:`figure_svg` use Kaleido 1.x (pip ``kaleido==1.5.0``), which drives
an installed Chrome/Chromium over the DevTools protocol. Kaleido never downloads a browser here:
it is called directly with ``kopts={"path": <chromium>, "mathjax": False}``:

* ``path`` is Debian's ``/usr/bin/chromium`` (or ``$CHROMIUM`` / ``$BROWSER_PATH`` when set);
  without it Kaleido searches ``PATH`` and only ``kaleido.get_chrome_sync()`` (never called)
  would download one;
* ``mathjax=False`` stops the page from loading MathJax from a CDN (plotly's
  ``plotly.io.to_image`` cannot pass ``False`` through ``plotly.io.defaults.mathjax``, which is
  why Kaleido is called directly); plotly.js itself is read from the installed plotly package.

Examples
--------
>>> import pandas as pd
>>> csv_bytes(pd.DataFrame({"x": ["=1+1", "ok"], "y": [-1.5, 2.0]})).decode("utf-8-sig")
"x,y\\n'=1+1,-1.5\\nok,2.0\\n"
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import export_notes
from core.export_notes import COMPLEMENTARY

#: First characters that make a spreadsheet treat text as a formula (OWASP CSV injection).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: Excel limits.
SHEET_NAME_MAX = 31
CELL_TEXT_MAX = 32767
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Name of the provenance sheet of :func:`xlsx_bytes`.
METHODS_SHEET = "Methods"
#: Heading of the notes on the tables, in the "Methods" sheet and in the zip's README.txt.
NOTES_HEADING = "About the tables"
#: Figure size presets (width and height in CSS pixels, scale): a 16:9 slide of 1600 x 900, and
#: one journal column of 85 mm at 300 dpi = 85 / 25.4 * 300 = 1004 image pixels, laid out at
#: 502 CSS px and rendered at scale 2 so that 12 px text prints at about 6 pt.
FIGURE_PRESETS: dict[str, tuple[int, int, float]] = {
    "slide": (1600, 900, 1.0),
    "journal column": (502, 377, 2.0),
}


# -- formula injection ---------------------------------------------------------------------------
def neutralise(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with ``'``; leave anything else alone.

    Examples
    --------
    >>> neutralise("=HYPERLINK(1)"), neutralise("-5"), neutralise(-5), neutralise("a-b")
    ("'=HYPERLINK(1)", "'-5", -5, 'a-b')
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _is_text_column(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.categories.dtype == object or pd.api.types.is_string_dtype(s.cat.categories.dtype)
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype)


def _neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if _is_text_column(s):
            if isinstance(s.dtype, pd.CategoricalDtype):
                s = s.astype(object)
            out.isetitem(i, s.map(neutralise, na_action="ignore"))
    out.columns = [neutralise(c) for c in out.columns]
    if _is_text_column(out.index.to_series()):
        out.index = out.index.map(neutralise)
    out.index.names = [neutralise(n) for n in out.index.names]
    return out


# -- CSV -------------------------------------------------------------------------------------------
def _iso_dates(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            has_time = bool((s.dropna() != s.dropna().dt.normalize()).any())
            fmt = "%Y-%m-%dT%H:%M:%S" if has_time else "%Y-%m-%d"
            text = s.dt.strftime(fmt)
            if getattr(s.dt, "tz", None) is not None:
                text = text + s.dt.strftime("%z").str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)
            out.isetitem(i, text.astype(object).where(s.notna(), None))
    return out


def csv_bytes(df: pd.DataFrame, *, index: bool = False) -> bytes:
    """A table as CSV bytes (UTF-8 with BOM, comma, ISO dates, formula-safe text).

    Parameters
    ----------
    df : pandas.DataFrame
        Table to write.
    index : bool
        Also write the index (as the first column).

    Returns
    -------
    bytes
        The file content. Missing values are empty fields.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"d": pd.to_datetime(["2024-03-01", None]), "n": pd.array([7, None], dtype="Int64")})
    >>> csv_bytes(df).decode("utf-8-sig").splitlines()
    ['d,n', '2024-03-01,7', ',']
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError("csv_bytes expects a pandas DataFrame")
    safe = _iso_dates(_neutralise_frame(df))
    text = safe.to_csv(index=index, lineterminator="\n")
    return text.encode("utf-8-sig")


# -- Parquet ---------------------------------------------------------------------------------------
def parquet_bytes(df: pd.DataFrame) -> bytes:
    """A table as Parquet bytes (pyarrow, zstd); the same frame always gives the same bytes.

    The values are written unchanged (no formula neutralisation: Parquet is not opened by
    spreadsheets); pandas dtypes (nullable integers, categories, dates) survive a round trip.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2]})
    >>> parquet_bytes(df) == parquet_bytes(df.copy())
    True
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(df, pd.DataFrame):
        raise ValueError("parquet_bytes expects a pandas DataFrame")
    if not all(isinstance(c, str) for c in df.columns):
        raise ValueError("parquet_bytes needs text column names")
    table = pa.Table.from_pandas(df)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


# -- Excel -----------------------------------------------------------------------------------------
def sheet_names(names: Sequence[str]) -> list[str]:
    """Excel-safe, unique sheet names (31 characters, none of ``[]:*?/\\``, not "History").

    Uniqueness is case-insensitive, as in Excel; duplicates get `` (2)``, `` (3)``, ...

    Examples
    --------
    >>> sheet_names(["a/b", "A_B", "x" * 40, "'quoted'", "", "History"])
    ['a_b', 'A_B (2)', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'quoted', 'Sheet', 'History_']
    """
    out: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = _SHEET_BAD.sub("_", _ILLEGAL_XML.sub("", str(raw))).strip().strip("'").strip()
        if not name:
            name = "Sheet"
        if name.lower() == "history":
            name = "History_"
        name = name[:SHEET_NAME_MAX]
        candidate, i = name, 1
        while candidate.lower() in seen:
            i += 1
            suffix = f" ({i})"
            candidate = name[: SHEET_NAME_MAX - len(suffix)] + suffix
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def _excel_value(value: Any) -> tuple[Any, str | None]:
    """Cell value and number format for one Python/pandas value."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None, None
    if isinstance(value, (bool, np.bool_)):
        return bool(value), None
    if isinstance(value, (int, np.integer)):
        return int(value), None
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f):
            return None, None
        if math.isinf(f):
            return ("inf" if f > 0 else "-inf"), None  # Excel has no infinity
        return f, None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:  # Excel has no time zones: write UTC
            ts = ts.tz_convert("UTC").tz_localize(None)
        if ts == ts.normalize():
            return ts.to_pydatetime(), "yyyy-mm-dd"
        return ts.to_pydatetime(), "yyyy-mm-dd hh:mm:ss"
    if isinstance(value, dt.date):
        return value, "yyyy-mm-dd"
    text = value if isinstance(value, str) else str(value)
    text = neutralise(_ILLEGAL_XML.sub("\ufffd", text))
    if len(text) > CELL_TEXT_MAX:
        text = text[: CELL_TEXT_MAX - 14] + " [truncated]"
    return text, None


def _write_text_cell(ws, row: int, col: int, value: Any, number_format: str | None = None):
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever openpyxl inferred
    if number_format:
        cell.number_format = number_format
    return cell


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return 19 if pd.Timestamp(value) != pd.Timestamp(value).normalize() else 10
    if isinstance(value, float):
        return len(f"{value:.6g}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def _frame_notes(df: pd.DataFrame) -> list[str]:
    cells = (v for j in range(df.shape[1]) if _is_text_column(df.iloc[:, j]) for v in df.iloc[:, j].tolist())
    return export_notes.table_notes(list(df.columns), cells)


def _csv_notes(content: bytes) -> list[str]:
    try:
        rows = list(csv.reader(io.StringIO(bytes(content).decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error):
        return []
    if not rows:
        return []
    return export_notes.table_notes(rows[0], (cell for row in rows[1:] for cell in row))


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame], provenance: Mapping[str, str]) -> bytes:
    """One Excel workbook: one sheet per table plus a "Methods" sheet holding the provenance.

    Below the provenance, the "Methods" sheet defines the known columns of every sheet and
    explains the suppression marks found in it (see :mod:`core.export_notes`).

    Headers are bold with the header row frozen; numbers, booleans and dates are written as
    real Excel values (dates formatted ``yyyy-mm-dd``, time zones converted to UTC); text is
    formula-safe (see the module notes); index levels are not written (reset them first to keep
    them). Sheet names are made Excel-safe by :func:`sheet_names`.

    Parameters
    ----------
    sheets : mapping of str to pandas.DataFrame
        Sheet name -> table, in order.
    provenance : mapping of str to str
        Key/value rows of the "Methods" sheet (e.g. from :func:`core.provenance.provenance`).

    Returns
    -------
    bytes
        The ``.xlsx`` file.

    Examples
    --------
    >>> import io, openpyxl, pandas as pd
    >>> data = xlsx_bytes({"KM": pd.DataFrame({"t": [1.5], "note": ["=cmd"]})}, {"Data source": "demo"})
    >>> wb = openpyxl.load_workbook(io.BytesIO(data))
    >>> wb.sheetnames, wb["KM"]["A2"].value, wb["KM"]["B2"].value
    (['KM', 'Methods'], 1.5, "'=cmd")
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    if not isinstance(sheets, Mapping) or not all(isinstance(v, pd.DataFrame) for v in sheets.values()):
        raise ValueError("sheets must map sheet names to pandas DataFrames")
    if not isinstance(provenance, Mapping):
        raise ValueError("provenance must be a mapping of str to str")
    # "Methods" is reserved for the provenance: a table of that name gets a numbered name instead.
    reserved = sheet_names([METHODS_SHEET, *sheets.keys()])
    names = [*reserved[1:], reserved[0]]
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for name, df in zip(names[:-1], sheets.values(), strict=True):
        ws = wb.create_sheet(title=name)
        widths = [0] * df.shape[1]
        for j, col in enumerate(df.columns):
            header, _ = _excel_value(col if isinstance(col, str) else str(col))
            _write_text_cell(ws, 1, j + 1, header).font = bold
            widths[j] = _display_width(header)
        for j in range(df.shape[1]):
            values = df.iloc[:, j].astype(object).tolist()
            for i, raw in enumerate(values):
                value, fmt = _excel_value(raw)
                _write_text_cell(ws, i + 2, j + 1, value, fmt)
                if i < 1000:
                    widths[j] = max(widths[j], _display_width(value))
        for j, w in enumerate(widths):
            ws.column_dimensions[get_column_letter(j + 1)].width = min(max(w + 2, 8), 60)
        ws.freeze_panes = "A2"
    ws = wb.create_sheet(title=names[-1])
    wrap = Alignment(wrap_text=True, vertical="top")
    _write_text_cell(ws, 1, 1, "Item").font = bold
    _write_text_cell(ws, 1, 2, "Value").font = bold
    rows: list[tuple[str, str]] = [(str(key), "" if val is None else str(val)) for key, val in provenance.items()]
    notes = {name: _frame_notes(df) for name, df in zip(names[:-1], sheets.values(), strict=True)}
    if any(notes.values()):
        rows.append(("", ""))
        rows.append((NOTES_HEADING, "What the columns of each sheet mean and what the marks in its cells mean."))
        for name, lines in notes.items():
            rows.extend((f"{name}: {line.split(': ', 1)[0]}", line.split(": ", 1)[1]) for line in lines)
    for i, (key, val) in enumerate(rows):
        k, _ = _excel_value(key)
        v, _ = _excel_value(val)
        _write_text_cell(ws, i + 2, 1, k).font = bold
        cell = _write_text_cell(ws, i + 2, 2, v)
        cell.alignment = wrap
        ws.cell(row=i + 2, column=1).alignment = wrap
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- zip bundle ------------------------------------------------------------------------------------
def zip_bytes(files: Mapping[str, bytes], provenance: Mapping[str, str]) -> bytes:
    """A zip of ``files`` plus ``provenance.json`` and ``README.txt`` (the provenance as text).

    ``README.txt`` also defines the known columns of every CSV file and explains the
    suppression marks found in it (see :mod:`core.export_notes`); nothing is added for a file
    with neither.

    Entries are stored in the given order with the provenance's time stamp (or 1980-01-01), so
    the same input gives the same bytes.

    Examples
    --------
    >>> import io, zipfile
    >>> data = zip_bytes({"km.csv": b"t\\n1\\n"}, {"Data source": "demo"})
    >>> zipfile.ZipFile(io.BytesIO(data)).namelist()
    ['km.csv', 'provenance.json', 'README.txt']
    """
    from core.provenance import GENERATED_KEY, provenance_text

    reserved = {"provenance.json", "readme.txt"}
    for name, content in files.items():
        parts = name.replace("\\", "/").split("/")
        if not name or name.startswith(("/", "\\")) or ".." in parts or ":" in name:
            raise ValueError(f"unsafe file name in zip: {name!r}")
        if name.lower() in reserved:
            raise ValueError(f"{name!r} is written by zip_bytes itself")
        if not isinstance(content, (bytes, bytearray)):
            raise ValueError(f"content of {name!r} must be bytes")
    stamp = (1980, 1, 1, 0, 0, 0)
    generated = provenance.get(GENERATED_KEY)
    if generated:
        try:
            t = dt.datetime.fromisoformat(generated.replace("Z", "+00:00"))
            stamp = (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second)
        except ValueError:
            pass
    all_files = dict(files)
    all_files["provenance.json"] = (json.dumps(dict(provenance), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    readme = provenance_text(provenance)
    notes = {name: _csv_notes(content) for name, content in files.items() if name.lower().endswith(".csv")}
    if any(notes.values()):
        readme += f"\n{NOTES_HEADING}\n{'=' * len(NOTES_HEADING)}\n"
        for name, lines in notes.items():
            if lines:
                readme += f"{name}\n" + "".join(f"  {line}\n" for line in lines)
    all_files["README.txt"] = readme.encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in all_files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, bytes(content))
    return buf.getvalue()


# -- small-cell suppression ------------------------------------------------------------------------
# COMPLEMENTARY ("*"), the marker of a cell suppressed only to protect another cell, is defined in
# core.export_notes (which explains it inside every download) and imported above.


def suppress_small_counts(
    table: pd.DataFrame,
    count_columns: Sequence[str],
    *,
    k: int = 11,
    total_column: str | None = None,
    total_row: Any = None,
) -> pd.DataFrame:
    """Hide small counts: 1 to k-1 become ``"<k"``; 0 stays 0; protect them from subtraction.

    *Primary* suppression replaces every count from 1 to ``k - 1`` (in ``count_columns`` and
    in ``total_column``) by ``"<k"``. *Complementary* suppression then repeats until nothing
    changes: whenever a line with a shown total holds exactly one suppressed cell (so that the
    cell could be recovered as total minus the others), the smallest other non-zero shown cell
    of that line is replaced by :data:`COMPLEMENTARY` (``"*"``); when there is none, the
    line's total is. Lines with a shown total are: each row when ``total_column`` is given
    (cells: ``count_columns``), each count column (and the total column) when ``total_row``
    (an index label) is given (cells: the other rows). Without totals nothing can be
    subtracted and only primary suppression applies. Ties go to the first cell in table order.

    Parameters
    ----------
    table : pandas.DataFrame
        Table of counts.
    count_columns : sequence of str
        Columns holding counts (non-negative integers or missing).
    k : int
        Threshold: counts below ``k`` (and above 0) are hidden. Default 11.
    total_column : str, optional
        Column holding each row's total of ``count_columns``.
    total_row : index label, optional
        Row holding each column's total over the other rows.

    Returns
    -------
    pandas.DataFrame
        A copy; the count and total columns become ``object`` columns of int and str.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [3, 50, 0], "b": [40, 60, 8]})
    >>> suppress_small_counts(t, ["a", "b"]).values.tolist()
    [['<11', 40], [50, 60], [0, '<11']]
    >>> t["total"] = t["a"] + t["b"]
    >>> suppress_small_counts(t, ["a", "b"], total_column="total").values.tolist()
    [['<11', '*', 43], [50, 60, 110], [0, '<11', '<11']]
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError("table must be a pandas DataFrame")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError("k must be an integer of at least 2")
    cols = list(count_columns)
    if not cols:
        raise ValueError("name at least one count column")
    missing = [c for c in [*cols, *([total_column] if total_column is not None else [])] if c not in table.columns]
    if missing:
        raise ValueError(f"unknown column(s): {', '.join(map(str, missing))}")
    if total_column is not None and total_column in cols:
        raise ValueError("total_column must not also be a count column")
    if not table.index.is_unique:
        raise ValueError("the table's index must be unique")
    if total_row is not None and total_row not in table.index:
        raise ValueError(f"total_row {total_row!r} is not in the index")
    all_cols = cols + ([total_column] if total_column is not None else [])
    values: dict[tuple[int, int], int | None] = {}
    for j, c in enumerate(all_cols):
        for i, v in enumerate(table[c].tolist()):
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                values[i, j] = None
                continue
            if isinstance(v, bool) or not float(v).is_integer() or v < 0:
                raise ValueError(f"column {c!r} holds {v!r}: counts must be non-negative integers")
            values[i, j] = int(v)
    n_rows = len(table)
    n_count = len(cols)
    t_col = n_count if total_column is not None else None
    t_row = table.index.get_loc(total_row) if total_row is not None else None
    mark: dict[tuple[int, int], str] = {cell: f"<{k}" for cell, v in values.items() if v is not None and 0 < v < k}

    lines: list[tuple[list[tuple[int, int]], tuple[int, int]]] = []
    body_rows = [i for i in range(n_rows) if i != t_row]
    if t_col is not None:
        for i in range(n_rows):
            lines.append(([(i, j) for j in range(n_count)], (i, t_col)))
    if t_row is not None:
        for j in range(len(all_cols)):
            lines.append(([(i, j) for i in body_rows], (t_row, j)))
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            if total in mark or values[total] is None:
                continue
            hidden = [c for c in cells if c in mark]
            if len(hidden) != 1:
                continue
            candidates = [c for c in cells if c not in mark and values[c]]
            target = min(candidates, key=lambda c: values[c]) if candidates else total
            mark[target] = COMPLEMENTARY
            changed = True
    out = table.copy()
    for j, c in enumerate(all_cols):
        out[c] = pd.Series(
            [mark.get((i, j), values[i, j]) for i in range(n_rows)], index=table.index, dtype=object
        ).where(lambda s: s.notna(), None)
    return out


def linked_suppression(
    values: Mapping[Any, float | None],
    lines: Sequence[Sequence[Any]],
    *,
    k: int = 11,
    hide: Sequence[Any] = (),
) -> dict[Any, str]:
    """Primary and complementary suppression of counts tied together by known sums.

    Each *line* is a set of cells whose (signed) sum is known to the reader, e.g. the category
    counts of one arm plus that arm's missing count (they add up to the arm's size), or the
    category counts and their shown total. *Primary*: every count from 1 to ``k - 1`` is hidden
    (mark ``"<k"``). *Complementary*: while some line holds exactly one hidden cell (it could be
    recovered by subtraction), the smallest non-zero shown cell of that line is hidden too (mark
    :data:`COMPLEMENTARY`; ties: the first in the line's order), repeated until no line changes.
    Zeros and missing values are never hidden. A line with one hidden cell and no non-zero shown
    cell left cannot be protected and is left as it is (all its other cells are zero: the
    hidden count is then the known total itself).

    Parameters
    ----------
    values : mapping
        Cell key -> count (non-negative; ``None``/NaN for no value). Counts may be weighted
        (non-integer).
    lines : sequence of sequences of keys
        The linked sets of cells, each in tie-break order.
    k : int
        Threshold: counts above 0 and below ``k`` are hidden. Default 11.
    hide : sequence of keys
        Cells to hide as complementary from the start (e.g. a count ``n`` whose unshown
        complement ``N - n`` is small).

    Returns
    -------
    dict
        Key -> mark, for the hidden cells only.

    Examples
    --------
    >>> linked_suppression({"a": 3, "b": 50, "c": 0, "d": 60}, [["a", "b", "c", "d"]])
    {'a': '<11', 'b': '*'}
    >>> linked_suppression({"a": 3, "b": 5, "c": 40}, [["a", "b", "c"]])
    {'a': '<11', 'b': '<11'}
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError("k must be an integer of at least 2")
    clean: dict[Any, float | None] = {}
    for key, v in values.items():
        if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and math.isnan(v)):
            clean[key] = None
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or v < 0:
            raise ValueError(f"cell {key!r} holds {v!r}: counts must be non-negative numbers")
        clean[key] = float(v)
    unknown = [key for line in lines for key in line if key not in clean]
    if unknown:
        raise ValueError(f"lines name unknown cell(s): {unknown[:5]}")
    mark: dict[Any, str] = {key: f"<{k}" for key, v in clean.items() if v is not None and 0 < v < k}
    for key in hide:
        if key not in clean:
            raise ValueError(f"hide names an unknown cell: {key!r}")
        if clean[key] and key not in mark:
            mark[key] = COMPLEMENTARY
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(key in mark for key in line) != 1:
                continue
            candidates = [key for key in line if key not in mark and clean[key]]
            if candidates:
                mark[min(candidates, key=lambda c: clean[c])] = COMPLEMENTARY  # min keeps the first of ties
                changed = True
    return {key: mark[key] for key in clean if key in mark}


# -- static figures --------------------------------------------------------------------------------
def chromium_path() -> str:
    """Path of the Chromium/Chrome binary used for static exports (never downloaded).

    ``$CHROMIUM``, then ``$BROWSER_PATH``, then ``chromium`` on ``PATH``, then ``/usr/bin/chromium``.
    Raises ``RuntimeError`` when none exists.
    """
    path = (
        os.environ.get("CHROMIUM")
        or os.environ.get("BROWSER_PATH")
        or shutil.which("chromium")
        or "/usr/bin/chromium"
    )
    if not Path(path).exists():
        raise RuntimeError(
            "Static figure and PDF export need Chromium: install Debian's `chromium` or set $CHROMIUM."
        )
    return path


def _figure_image(fig, fmt: str, width: int | None, height: int | None, scale: float | None, preset: str | None) -> bytes:
    import kaleido
    import plotly.graph_objects as go

    if not isinstance(fig, go.Figure):
        raise ValueError("fig must be a plotly Figure")
    if preset is not None:
        if preset not in FIGURE_PRESETS:
            raise ValueError(f"preset must be one of {', '.join(FIGURE_PRESETS)}")
        pw, ph, ps = FIGURE_PRESETS[preset]
        width, height, scale = width or pw, height or ph, scale or ps
    width = width or fig.layout.width or 1000
    height = height or fig.layout.height or 600
    scale = 1.0 if scale is None else scale
    for what, v, lo, hi in (("width", width, 100, 10000), ("height", height, 100, 10000), ("scale", scale, 0.1, 10)):
        if not (lo <= v <= hi):
            raise ValueError(f"{what} must be between {lo} and {hi}")
    opts = {"format": fmt, "width": int(width), "height": int(height), "scale": float(scale)}
    out = kaleido.calc_fig_sync(fig, opts=opts, kopts={"path": chromium_path(), "mathjax": False})
    return out if isinstance(out, bytes) else str(out).encode("utf-8")


SYNTHETIC_MARK = "Synthetic demo data (true HR 0.70): not study results"


def mark_synthetic(fig):
    """A copy of ``fig`` marked as made from the synthetic demo cohort (a line of text at the bottom right).

    Examples
    --------
    >>> import plotly.graph_objects as go
    >>> mark_synthetic(go.Figure()).layout.annotations[0].text == SYNTHETIC_MARK
    True
    """
    import plotly.graph_objects as go

    out = go.Figure(fig)
    out.add_annotation(text=SYNTHETIC_MARK, xref="paper", yref="paper", x=1, y=-0.02, xanchor="right",
                       yanchor="top", showarrow=False, font={"size": 12, "color": "#B91C1C"})
    return out


def figure_png(
    fig, *, width: int | None = None, height: int | None = None, scale: float | None = None, preset: str | None = None
) -> bytes:
    """A plotly figure as PNG bytes (Kaleido with the local Chromium; see the module notes).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        Figure to render.
    width, height : int, optional
        Size in CSS pixels (default: the preset's, else the figure's layout size, else 1000 x 600).
    scale : float, optional
        Pixel ratio: the PNG is ``width * scale`` pixels wide.
    preset : {"slide", "journal column"}, optional
        Size preset from :data:`FIGURE_PRESETS`; explicit arguments override it.

    Returns
    -------
    bytes
        PNG image.

    Examples
    --------
    >>> width, height, scale = FIGURE_PRESETS["journal column"]
    >>> width * scale == round(85 / 25.4 * 300)
    True
    """
    return _figure_image(fig, "png", width, height, scale, preset)


def figure_svg(
    fig, *, width: int | None = None, height: int | None = None, scale: float | None = None, preset: str | None = None
) -> bytes:
    """A plotly figure as SVG bytes (UTF-8); parameters as :func:`figure_png`.

    Examples
    --------
    >>> sorted(FIGURE_PRESETS)
    ['journal column', 'slide']
    """
    return _figure_image(fig, "svg", width, height, scale, preset)


_COUNT_PERCENT = re.compile(r"^(\d+) \((\d+(?:\.\d+)?)%\)$")
_COUNT_OF = re.compile(r"^(\d+)/(\d+) \((.*)\)$")
_COUNT_PAIR = re.compile(r"^(\d+) / (\d+)$")
#: Counts inside free text: "only 7 surgery patients (fewer than 10)" (reliability notes), "(n=8)".
_TEXT_COUNTS = re.compile(r"(?<=\bonly )(\d+)(?= )|(?<=\(n=)(\d+)(?=\))"
                          r"|(?<!at least )(?<!fewer than )\b(\d+)"
                          r"(?= (?:operated|chemotherapy-only|adjuvant-treated|no-adjuvant|patients?|deaths?|events?)\b)")


def suppress_text_counts(table: pd.DataFrame, *, k: int = 11) -> pd.DataFrame:
    """Small-cell suppression for formatted tables (Table 1, short-term outcomes, subgroup counts).

    Cells of the forms ``"n (x%)"``, ``"n/N (x%)"`` and ``"n / m"`` with a count from 1 to
    k-1 are replaced: ``"<k"`` (the percentage would give the count away), ``"<k/N"``, and
    each small number of a pair by ``"<k"``; inside other text, the counts of ``"only n ..."``
    (reliability notes) and ``"(n=n)"`` become ``"<k"``. Other cells are left alone. Unlike
    :func:`suppress_small_counts` no complementary cell is hidden: the formatted tables whose
    counts add up to a known total have their own complementary suppression, built on
    :func:`linked_suppression` (:func:`core.table1.suppress_table_one`,
    :func:`core.subgroups.suppress_subgroup_counts`, :func:`core.outcomes.suppress_short_term`).

    Parameters
    ----------
    table : pandas.DataFrame
        Formatted table.
    k : int
        Threshold (counts below k are hidden).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> t = pd.DataFrame({"a": ["3 (6.7%)", "20 (44.4%)", "2/45 (4.4%)", "12 / 4"]})
    >>> suppress_text_counts(t)["a"].tolist()
    ['<11', '20 (44.4%)', '<11/45', '12 / <11']
    >>> notes = pd.DataFrame({"a": ["only 7 surgery patients (fewer than 10)", "17 [12, 18] (n=5)",
    ...                             "3 operated (2 deaths) and 14 chemotherapy-only patients (at least 5 patients)"]})
    >>> suppress_text_counts(notes)["a"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['only <11 surgery patients (fewer than 10)', '17 [12, 18] (n=<11)',
     '<11 operated (<11 deaths) and 14 chemotherapy-only patients (at least 5 patients)']
    """
    if k < 2:
        raise ValueError("k must be at least 2")
    small = f"<{k}"

    def hide(n: str) -> bool:
        return 1 <= int(n) < k

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        m = _COUNT_PERCENT.match(text)
        if m:
            return small if hide(m.group(1)) else value
        m = _COUNT_OF.match(text)
        if m:
            return f"{small}/{m.group(2)}" if hide(m.group(1)) else value
        m = _COUNT_PAIR.match(text)
        if m:
            a, b = m.group(1), m.group(2)
            return f"{small if hide(a) else a} / {small if hide(b) else b}"
        return _TEXT_COUNTS.sub(lambda t: small if hide(t.group(0)) else t.group(0), value)

    return table.map(cell)


# -- counts outside formatted tables -----------------------------------------------------------------
_BARE_COUNT = re.compile(r"^\s*(\d+)\s*$")
#: The hover text of a Kaplan-Meier curve quotes the number at risk (see ``core.figures.km_figure``).
AT_RISK_HOVER = "At risk %{customdata[2]}"


def _check_k(k: int | None) -> int | None:
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError("k must be an integer of at least 2, or None (no suppression)")
    return int(k)


def count_text(n: int, *, k: int | None) -> str:
    """One count as text: ``"<k"`` when it is from 1 to k-1, else the number (k None: no suppression).

    Parameters
    ----------
    n : int
        The count.
    k : int or None
        Threshold (counts below k are hidden); None leaves the count as it is.

    Returns
    -------
    str

    Examples
    --------
    >>> count_text(7, k=11), count_text(0, k=11), count_text(11, k=11), count_text(7, k=None)
    ('<11', '0', '11', '7')
    """
    k = _check_k(k)
    n = int(n)
    return f"<{k}" if k is not None and 1 <= n < k else str(n)


def suppress_formatted(table: pd.DataFrame, *, k: int | None) -> pd.DataFrame:
    """A formatted table as it may be shown: integer columns (primary suppression) and counts
    quoted in text cells (:func:`suppress_text_counts`) hidden; k None leaves it as it is.

    The rule of the pages (``ui.downloads.shown``) and of the one-click report alike.

    Examples
    --------
    >>> t = pd.DataFrame({"n": [3, 20], "note": ["only 7 patients", "12 (40.0%)"]})
    >>> suppress_formatted(t, k=11).values.tolist()
    [['<11', 'only <11 patients'], [20, '12 (40.0%)']]
    >>> suppress_formatted(t, k=None) is t
    True
    """
    k = _check_k(k)
    if k is None:
        return table
    ints = [c for c in table.columns if pd.api.types.is_integer_dtype(table[c])]
    out = suppress_small_counts(table, ints, k=k) if ints else table
    return suppress_text_counts(out, k=k)


def suppress_in_text(value: str, *, k: int | None) -> str:
    """Free text (headline, warning, note) with small quoted counts ("only 7 patients") hidden.

    Examples
    --------
    >>> suppress_in_text("only 7 surgery patients", k=11)
    'only <11 surgery patients'
    >>> suppress_in_text("only 7 surgery patients", k=None)
    'only 7 surgery patients'
    """
    k = _check_k(k)
    if k is None:
        return value
    return str(suppress_text_counts(pd.DataFrame({"t": [value]}), k=k)["t"].iloc[0])


def hide_bare_counts(table: pd.DataFrame, *, k: int | None) -> pd.DataFrame:
    """Text cells that are a bare count (``"8"``) from 1 to k-1 become ``"<k"``.

    For formatted tables whose counts are text (the estimates' patients and deaths, the
    matching card's dropped patients). Primary suppression only: use it where no total is
    shown next to the count. Numbers that are not text, and text that is not only digits,
    are left alone (use :func:`suppress_text_counts` for ``"n (x%)"`` and ``"n / m"``).

    Parameters
    ----------
    table : pandas.DataFrame
        Formatted table.
    k : int or None
        Threshold (counts below k are hidden); None returns the table unchanged.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> t = pd.DataFrame({"a": ["8", "24", " 3 ", "0"], "b": [5, "10", "3.5", "1 / 2"]})
    >>> out = hide_bare_counts(t, k=11)
    >>> out["a"].tolist(), out["b"].tolist()
    (['<11', '24', '<11', '0'], [5, '<11', '3.5', '1 / 2'])
    """
    k = _check_k(k)
    if k is None or not len(table):
        return table

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            m = _BARE_COUNT.match(value)
            if m and 1 <= int(m.group(1)) < k:
                return f"<{k}"
        return value

    return table.apply(lambda col: col.map(cell))


def blank_binary_means(balance: pd.DataFrame, *, k: int | None) -> pd.DataFrame:
    """A covariate balance table with the means of binary terms blanked (NaN).

    The mean of a binary term is a proportion, which gives a count away (proportion times the
    group size). Binary terms are the rows without a variance ratio (MatchIt reports none for
    them; all rows when the table has no ``var_ratio*`` column); every ``mean_*`` column of
    those rows is blanked, whatever the count, as the group sizes are shown elsewhere.
    Standardised mean differences and the rows of continuous terms are kept.

    Parameters
    ----------
    balance : pandas.DataFrame
        Balance table (columns ``mean_*``, ``smd_*``, ``var_ratio_*``), as
        :attr:`core.analysis.AnalysisResult.balance`.
    k : int or None
        Threshold of the suppression; None returns the table unchanged.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> b = pd.DataFrame({"mean_treated_after": [60.0, 0.25], "smd_after": [0.1, -0.2],
    ...                   "var_ratio_after": [1.2, float("nan")]}, index=["Age", "Female"])
    >>> blank_binary_means(b, k=11)["mean_treated_after"].tolist()
    [60.0, nan]
    >>> blank_binary_means(b, k=None)["mean_treated_after"].tolist()
    [60.0, 0.25]
    """
    k = _check_k(k)
    if k is None:
        return balance
    out = balance.copy()
    ratios = [c for c in out.columns if str(c).startswith("var_ratio")]
    binary = out[ratios].isna().any(axis=1) if ratios else pd.Series(True, index=out.index)
    means = [c for c in out.columns if str(c).startswith("mean_")]
    out.loc[binary, means] = math.nan
    return out


def hide_hover_at_risk(fig, *, k: int | None):
    """Numbers at risk quoted in the hover text of Kaplan-Meier curves: 1 to k-1 become ``"<k"``.

    Only traces whose hover template contains :data:`AT_RISK_HOVER` are touched (the number at
    risk is the third ``customdata`` column there, see :func:`core.figures.km_figure`).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure; it is changed in place.
    k : int or None
        Threshold; None leaves the figure unchanged.

    Returns
    -------
    plotly.graph_objects.Figure
        The same figure.

    Examples
    --------
    >>> import plotly.graph_objects as go
    >>> fig = go.Figure(go.Scatter(x=[0, 6], y=[1.0, 0.8], customdata=[[0.9, 1.0, 24], [0.6, 0.9, 7]],
    ...                            hovertemplate="Survival %{y}<br>" + AT_RISK_HOVER))
    >>> [list(row) for row in hide_hover_at_risk(fig, k=11).data[0].customdata]
    [[0.9, 1.0, 24], [0.6, 0.9, '<11']]
    """
    k = _check_k(k)
    if k is None:
        return fig
    for trace in fig.data:
        template = getattr(trace, "hovertemplate", None)
        if not template or AT_RISK_HOVER not in template or trace.customdata is None:
            continue
        rows = []
        for row in trace.customdata:
            row = list(row)
            n = row[2]
            if isinstance(n, (int, float, np.integer, np.floating)) and not math.isnan(float(n)) and 1 <= n < k:
                row[2] = f"<{k}"
            rows.append(row)
        trace.customdata = rows
    return fig
