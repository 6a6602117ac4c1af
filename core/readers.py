"""Reading cohort files (CSV, Excel ``.xlsx``, Parquet) into a table of text cells.

This module only *parses*: every cell comes back as text (or ``None`` when the cell is empty),
so that ids such as ``"007"`` survive and each value can later be converted according to its
dictionary kind (:mod:`core.cohort`). Anything that cannot be read becomes a
:class:`Problem` inside a :class:`CohortValidationError`; no other exception type escapes
:func:`read_raw` for any input bytes.

Examples
--------
>>> raw = read_raw(b"patient_id;age_at_diagnosis\\n007;64,5\\n", filename="x.csv")
>>> raw.frame.to_dict("list")
{'patient_id': ['007'], 'age_at_diagnosis': ['64,5']}
>>> raw.rows.tolist(), raw.fmt
([2], 'csv')
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from core import template
from core.dictionary import COLUMNS_BY_NAME, DERIVED, IMPORTED

#: Longest offending value kept in a :class:`Problem` (longer values are truncated).
MAX_VALUE_CHARS = 60

#: Candidate CSV separators, in order of preference on ties.
SEPARATORS = (",", ";", "\t", "|")

#: Largest total uncompressed size of an ``.xlsx`` (zip) accepted, from its declared sizes.
XLSX_MAX_UNPACKED_BYTES = 64 * 1024 * 1024

#: Largest sheet accepted (from its declared dimension, and while reading).
MAX_COLUMNS = 1000
MAX_ROWS = 1_000_000
XLSX_MAX_CELLS = 20_000_000

_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a cohort file.

    Attributes
    ----------
    row : int or None
        Row as in the file, 1-based with the header as row 1 (Excel: the sheet row);
        ``None`` for problems with the file or a whole column.
    column : str or None
        Column concerned (``None`` when the whole file or row is concerned).
    value : str or None
        Offending value as text (truncated), ``None`` when the value is missing.
    message : str
        Plain sentence of what is wrong and what is allowed.

    Examples
    --------
    >>> Problem(row=3, column="sex", value="X", message="Unknown label.").row
    3
    """

    row: int | None
    column: str | None
    value: str | None
    message: str


class CohortValidationError(ValueError):
    """A cohort file could not be read or did not pass validation.

    Attributes
    ----------
    problems : tuple of Problem
        Every problem found (not just the first), sorted by row then column.

    Examples
    --------
    >>> err = CohortValidationError([Problem(None, None, None, "The file is empty.")])
    >>> err.problems[0].message
    'The file is empty.'
    >>> err.problems_frame().shape
    (1, 4)
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        if not problems:
            raise ValueError("CohortValidationError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(sorted(problems, key=_problem_key))
        n = len(self.problems)
        head = "; ".join(_describe(p) for p in self.problems[:5])
        more = f" (and {n - 5} more)" if n > 5 else ""
        super().__init__(f"The cohort file has {n} problem{'s' if n != 1 else ''}: {head}{more}")

    def problems_frame(self) -> pd.DataFrame:
        """Return the problems as a table with columns ``row, column, value, message``."""
        return pd.DataFrame(
            {
                "row": pd.array([p.row for p in self.problems], dtype="Int64"),
                "column": [p.column for p in self.problems],
                "value": [p.value for p in self.problems],
                "message": [p.message for p in self.problems],
            }
        )


_ORDER = {c.name: i for i, c in enumerate(IMPORTED)}


def _problem_key(p: Problem) -> tuple[int, int, str, str]:
    return (-1 if p.row is None else p.row, _ORDER.get(p.column or "", len(_ORDER)), p.column or "", p.message)


def _describe(p: Problem) -> str:
    where = "file" if p.row is None else f"row {p.row}"
    if p.column:
        where += f", column {p.column}"
    return f"{where}: {p.message}"


def clip(value: object) -> str | None:
    """Offending value as text for a :class:`Problem`, truncated to :data:`MAX_VALUE_CHARS`.

    Examples
    --------
    >>> clip("x" * 100)[-3:], clip(None)
    ('...', None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


@dataclass(frozen=True)
class RawTable:
    """A parsed file: text cells plus where they came from.

    Attributes
    ----------
    frame : pandas.DataFrame
        One column per file column (names canonicalised to dictionary names where they match),
        object dtype, cells ``str`` or ``None``.
    rows : numpy.ndarray
        Row number in the file of each frame row (header = row 1).
    fmt : {"csv", "xlsx", "parquet"}
        Format actually read.
    notes : tuple of str
        Plain sentences about how the file was read.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    fmt: str
    notes: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------------------------------
# entry point


def read_raw(source: str | os.PathLike[str] | bytes | bytearray | BinaryIO, *, filename: str | None = None) -> RawTable:
    """Read a CSV, Excel or Parquet file into a :class:`RawTable` of text cells.

    Headers that match a dictionary column (tolerating case, spaces and hyphens) are renamed to
    it; columns named like derived columns are dropped (they are recomputed).

    Parameters
    ----------
    source : str, path, bytes or binary file object
        The file. Its format is told apart by content (magic bytes) and extension.
    filename : str, optional
        Name used for the extension and messages when ``source`` is bytes or a file object.

    Returns
    -------
    RawTable

    Raises
    ------
    CohortValidationError
        If the file cannot be read as a table (empty, binary, damaged, no data rows...).
    TypeError
        If ``source`` is not one of the accepted types (a programming error).

    Examples
    --------
    >>> read_raw(b"", filename="empty.csv")
    Traceback (most recent call last):
    ...
    core.readers.CohortValidationError: The cohort file has 1 problem: file: The file is empty.
    """
    return canonical(read_table(source, filename=filename))


def read_table(source: str | os.PathLike[str] | bytes | bytearray | BinaryIO, *, filename: str | None = None) -> RawTable:
    """Read a file like :func:`read_raw` but keep its headers as written (for the upload mapping).

    Header cells are stripped; columns without a name and without data are dropped, a column
    without a name but with data is called ``column_<n>``. Two columns with the same name are
    refused (a mapping could not tell them apart).

    Examples
    --------
    >>> raw = read_table(b"Sesso;Et\\xc3\\xa0\\nMaschio;64\\n", filename="x.csv")
    >>> list(raw.frame.columns), raw.rows.tolist()
    (['Sesso', 'Età'], [2])
    """
    data, name = _read_bytes(source, filename)
    ext = Path(name).suffix.lower() if name else ""
    notes: list[str] = []
    if not data.strip():
        _fail("The file is empty.")
    kind = _sniff(data)
    if kind == "xlsx":
        frame, rows, xlsx_notes = _read_xlsx(data)
        notes += xlsx_notes
        fmt = "xlsx"
    elif kind == "parquet":
        frame, rows = _read_parquet(data)
        fmt = "parquet"
    elif kind == "text":
        if ext in (".xlsx", ".xlsm", ".xls", ".parquet", ".pq"):
            notes.append(f"The file is named '{ext}' but contains plain text; it was read as CSV.")
        frame, rows, csv_notes = _read_csv(data)
        notes += csv_notes
        fmt = "csv"
    else:
        _fail(kind)
    frame, more = _original_header(frame)
    notes += more
    if len(frame) == 0:
        _fail("The file has a header but no data rows.")
    return RawTable(frame=frame, rows=rows, fmt=fmt, notes=tuple(notes))


def canonical(raw: RawTable) -> RawTable:
    """The same table with its headers renamed to dictionary names (see :func:`read_raw`).

    Examples
    --------
    >>> raw = read_table(b"Patient ID,os_event\\n7,1\\n")
    >>> list(canonical(raw).frame.columns)
    ['patient_id']
    """
    frame, more = _canonical_header(raw.frame)
    return RawTable(frame=frame, rows=raw.rows, fmt=raw.fmt, notes=raw.notes + tuple(more))


def _fail(message: str) -> None:
    raise CohortValidationError([Problem(None, None, None, message)])


def _read_bytes(source: object, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), filename or ""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return path.read_bytes(), filename or path.name
        except OSError as exc:
            _fail(f"The file '{path.name}' could not be opened ({exc.strerror or type(exc).__name__}).")
    if hasattr(source, "read"):
        try:
            data = source.read()  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - any I/O failure of a foreign file object
            _fail(f"The file could not be read ({type(exc).__name__}).")
        if isinstance(data, str):
            raise TypeError("load() needs a binary file object (open the file with 'rb')")
        return bytes(data), filename or str(getattr(source, "name", "") or "")
    raise TypeError(f"load() accepts a path, bytes or a binary file object, not {type(source).__name__}")


_MAGIC = (
    (b"\x89PNG", "The file is a PNG image, not a table. Upload a CSV, Excel (.xlsx) or Parquet file."),
    (b"\xff\xd8\xff", "The file is a JPEG image, not a table. Upload a CSV, Excel (.xlsx) or Parquet file."),
    (b"GIF8", "The file is a GIF image, not a table. Upload a CSV, Excel (.xlsx) or Parquet file."),
    (b"%PDF", "The file is a PDF document, not a table. Upload a CSV, Excel (.xlsx) or Parquet file."),
    (b"\xd0\xcf\x11\xe0", "The file is in the old Excel .xls (or another Office 97) format; save it as .xlsx or CSV."),
    (b"\x1f\x8b", "The file is gzip-compressed; decompress it first."),
)


_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


def _sniff(data: bytes) -> str:
    """Return ``"xlsx"``, ``"parquet"``, ``"text"`` or a problem sentence."""
    if data.startswith(b"\xd0\xcf\x11\xe0") and _ENCRYPTED in data[:1_000_000]:
        return ("The workbook is password-protected (encrypted) and cannot be read. Remove the password "
                "in Excel (File > Info > Protect Workbook) and upload again, or save it as CSV.")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "xlsx"
    if data.startswith(b"PAR1"):
        return "parquet"
    for magic, message in _MAGIC:
        if data.startswith(magic):
            return message
    return "text"


# ------------------------------------------------------------------------------------------
# CSV


def _decode(data: bytes) -> tuple[str, list[str]]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), []
        except UnicodeDecodeError:
            _fail("The file starts with a UTF-8 byte-order mark but is not valid UTF-8.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ["The file was read as UTF-16 text."]
        except UnicodeDecodeError:
            _fail("The file starts with a UTF-16 byte-order mark but is not valid UTF-16.")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text, ["The file is not UTF-8; it was read as Latin-1 (Windows-1252)."]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _read_csv(data: bytes) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    text, notes = _decode(data)  # type: ignore[misc]
    if "\x00" in text or len(_CONTROL.findall(text[:100_000])) > 0.001 * min(len(text), 100_000) + 2:
        _fail("The file is not a text table (it contains binary data). Upload a CSV, Excel (.xlsx) or Parquet file.")
    lines = text.splitlines()
    header_line = next((ln for ln in lines if ln.strip()), "")
    sep = _detect_separator(header_line)
    if sep != ",":
        notes.append(f"Columns are separated by {_SEP_NAMES[sep]}s.")
    fast = _read_csv_arrow(text, sep, len(lines))
    if fast is not None:
        return fast[0], fast[1], notes
    records: list[list[str]] = []
    rows: list[int] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', skipinitialspace=False)
        last = 0
        for rec in reader:
            start = last + 1
            last = reader.line_num
            if not rec or all(not f.strip() for f in rec):
                continue
            records.append(rec)
            rows.append(start)
    except csv.Error as exc:
        _fail(f"The file could not be read as CSV ({exc}).")
    if not records:
        _fail("The file is empty.")
    header, body, body_rows = records[0], records[1:], rows[1:]
    width = len(header)
    problems = []
    for j, rec in enumerate(body):
        if len(rec) == width:
            continue
        if len(rec) < width or any(f.strip() for f in rec[width:]):
            problems.append(
                Problem(body_rows[j], None, None, f"This row has {len(rec)} values but the header has {width} columns; "
                        "check for stray separators or quotes.")
            )
        else:  # trailing empty fields (e.g. a separator at the end of the line) are harmless
            body[j] = rec[:width]
    if problems:
        raise CohortValidationError(problems)
    frame = pd.DataFrame(body, columns=range(width), dtype=object) if body else pd.DataFrame(columns=range(width), dtype=object)
    frame.columns = header
    return frame, np.asarray(body_rows, dtype=np.int64), notes


def _read_csv_arrow(text: str, sep: str, n_lines: int) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The table read by Arrow's CSV reader when every record is one whole line, else None.

    The fast path of :func:`_read_csv` for large, regular files: every cell stays text, exactly as
    Python's ``csv`` module reads it. It is taken only when the file has as many physical lines
    as records (no blank line, no quoted line break), so row ``i`` of the body is line ``i + 2``,
    and no record is all blank; anything else (a ragged row, a quoted line break, a parse error)
    returns None and the ``csv`` module reads the file and reports each problem by line.

    Examples
    --------
    >>> frame, rows = _read_csv_arrow('id,name\\n1," a, b"\\n2,""\\n', ",", 3)
    >>> frame.values.tolist(), rows.tolist()
    ([['1', ' a, b'], ['2', '']], [2, 3])
    >>> _read_csv_arrow("id,name\\n1,a\\n\\n2,b\\n", ",", 4) is None  # a blank line: line numbers would shift
    True
    """
    if n_lines < 2:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        first = next(csv.reader([text.split("\n", 1)[0].rstrip("\r")], delimiter=sep, quotechar='"'), [])
    except csv.Error:
        return None
    names = [f"f{j}" for j in range(len(first))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, null_values=[],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != n_lines or table.num_rows < 2:
        return None
    header = [str(v) for v in table.slice(0, 1).to_pylist()[0].values()]
    if header != first:
        return None
    body = table.slice(1)
    blank = None
    for col in body.columns:
        empty = pc.equal(pc.utf8_trim_whitespace(col), "")
        blank = empty if blank is None else pc.and_(blank, empty)
    if blank is not None and pc.any(blank).as_py():
        return None
    frame = pd.DataFrame({j: col.to_numpy(zero_copy_only=False).astype(object) for j, col in enumerate(body.columns)})
    frame.columns = header
    return frame, np.arange(2, body.num_rows + 2, dtype=np.int64)


def _detect_separator(header_line: str) -> str:
    """Choose the separator that splits the header into the most known column names.

    Ties (e.g. no known names) go to the separator giving the most fields, then to the order
    of :data:`SEPARATORS`; a header without any candidate separator is a one-column file.
    """
    best, best_score = ",", (-1, -1)
    for sep in SEPARATORS:
        try:
            fields = next(csv.reader([header_line], delimiter=sep), [])
        except csv.Error:
            continue
        known = sum(_header_key(f) in _KNOWN for f in fields)
        score = (known, len(fields))
        if score > best_score:
            best, best_score = sep, score
    return best


# ------------------------------------------------------------------------------------------
# Excel


def _check_zip(data: bytes) -> None:
    """Refuse a zip whose declared uncompressed size is absurd (a compressed bomb).

    Python's zipfile (used by openpyxl) never inflates a member beyond its declared size,
    so the declared sizes bound what reading can produce.
    """
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            total = sum(i.file_size for i in z.infolist())
    except Exception as exc:  # noqa: BLE001 - any zip failure means a damaged file
        _fail(f"The file could not be read as an Excel workbook (.xlsx); it may be damaged or truncated ({type(exc).__name__}).")
    if total > XLSX_MAX_UNPACKED_BYTES:
        _fail(f"The workbook would unpack to {total / 2**20:,.0f} MB, more than the {XLSX_MAX_UNPACKED_BYTES / 2**20:,.0f} MB "
              "allowed; it may be damaged or a compressed bomb. Save the table as CSV and upload that.")


def _check_dimension(ws: object) -> None:
    rows, cols = getattr(ws, "max_row", None), getattr(ws, "max_column", None)
    if not isinstance(rows, int) or not isinstance(cols, int):
        return
    if cols > MAX_COLUMNS or rows > MAX_ROWS or rows * cols > XLSX_MAX_CELLS:
        from openpyxl.utils import get_column_letter

        _fail(f"The sheet '{getattr(ws, 'title', '')}' extends to cell {get_column_letter(cols)}{rows} "
              f"({rows:,} rows x {cols:,} columns), far more than a cohort table (at most {MAX_ROWS:,} rows and "
              f"{MAX_COLUMNS:,} columns). Delete the stray cells far from the table (or save it as CSV) and upload again.")


def _read_xlsx(data: bytes) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    _check_zip(data)
    try:
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            table: list[list[str | None]] = []
            rows: list[int] = []
            if template.is_template(wb.sheetnames):
                sheets = {title: _sheet_rows(wb[title]) for title in template.SECTION_TITLES}
                frame, row_numbers, notes = template.combine_sections(sheets)
                return frame, row_numbers, notes
            for ws in wb.worksheets:
                _check_dimension(ws)
                for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
                    if len(values) > MAX_COLUMNS or r > MAX_ROWS:
                        _fail(f"The sheet '{ws.title}' has more than {MAX_ROWS:,} rows or {MAX_COLUMNS:,} columns; "
                              "it is not a cohort table. Delete stray cells (or save it as CSV) and upload again.")
                    cells = [_excel_text(v) for v in values]
                    if any(c is not None and c.strip() for c in cells):
                        table.append(cells)
                        rows.append(r)
                if table:
                    break
        finally:
            wb.close()
    except CohortValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure inside the Excel parser means a damaged file
        _fail(f"The file could not be read as an Excel workbook (.xlsx); it may be damaged or truncated ({type(exc).__name__}).")
    if not table:
        _fail("The file is empty.")
    header = table[0]
    width = max(len(t) for t in table)
    header = header + [None] * (width - len(header))
    body = [t + [None] * (width - len(t)) for t in table[1:]]
    names = [h if h is not None else "" for h in header]
    frame = pd.DataFrame(body, columns=range(width), dtype=object) if body else pd.DataFrame(columns=range(width), dtype=object)
    frame.columns = names
    return frame, np.asarray(rows[1:], dtype=np.int64), []


def _sheet_rows(ws: object) -> list[tuple[int, list[str | None]]]:
    """The non-empty rows of one sheet as (sheet row number, text cells)."""
    _check_dimension(ws)
    out: list[tuple[int, list[str | None]]] = []
    for r, values in enumerate(ws.iter_rows(values_only=True), start=1):  # type: ignore[attr-defined]
        if len(values) > MAX_COLUMNS or r > MAX_ROWS:
            _fail(f"The sheet '{getattr(ws, 'title', '')}' has more than {MAX_ROWS:,} rows or {MAX_COLUMNS:,} columns; "
                  "it is not a cohort table. Delete stray cells (or save it as CSV) and upload again.")
        cells = [_excel_text(v) for v in values]
        if any(c is not None and c.strip() for c in cells):
            out.append((r, cells))
    return out


def _excel_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


def _float_text(v: float) -> str | None:
    if math.isnan(v):
        return None
    if math.isfinite(v) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


# ------------------------------------------------------------------------------------------
# Parquet


def _read_parquet(data: bytes) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        _check_parquet(meta)
        table = pq.read_table(io.BytesIO(data))
        cols: dict[int, pd.Series] = {}
        for i, name in enumerate(table.column_names):
            cols[i] = _arrow_text(table.column(name))
        names = [str(n) for n in table.column_names]
        frame = pd.DataFrame(cols, index=range(table.num_rows))
        frame.columns = names
    except CohortValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure inside the Parquet reader means a damaged file
        _fail(f"The file could not be read as a Parquet file; it may be damaged or truncated ({type(exc).__name__}).")
    return frame, np.arange(2, len(frame) + 2, dtype=np.int64)


def _check_parquet(meta: object) -> None:
    """Refuse a Parquet file whose footer declares an absurd or inconsistent size."""
    n_rows, n_cols = int(meta.num_rows), int(meta.num_columns)  # type: ignore[attr-defined]
    in_groups = sum(int(meta.row_group(i).num_rows) for i in range(meta.num_row_groups))  # type: ignore[attr-defined]
    if n_rows > MAX_ROWS or n_cols > MAX_COLUMNS:
        _fail(f"The Parquet file declares {n_rows:,} rows and {n_cols:,} columns, more than allowed "
              f"({MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns); it may be damaged.")
    if in_groups != n_rows:
        _fail(f"The Parquet file is damaged: its footer declares {n_rows:,} rows but its row groups hold {in_groups:,}.")


def _arrow_text(col: object) -> pd.Series:
    """Text cells of one Parquet column (dates ISO, booleans true/false, whole floats without .0)."""
    import pyarrow as pa  # imported lazily: only needed for Parquet files

    t = col.type  # type: ignore[attr-defined]
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)  # type: ignore[attr-defined]
        t = t.value_type
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        s = col.to_pandas()  # type: ignore[attr-defined]
        s = pd.to_datetime(s, errors="coerce")
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        has_time = (s.dropna() != s.dropna().dt.normalize()).any()
        out = s.dt.strftime("%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d")
        return out.astype(object).where(s.notna(), None)
    if pa.types.is_boolean(t):
        s = col.to_pandas()  # type: ignore[attr-defined]
        return s.map({True: "true", False: "false"}).astype(object).where(s.notna(), None)
    if pa.types.is_floating(t):
        s = col.to_pandas().astype(float)  # type: ignore[attr-defined]
        return pd.Series([_float_text(v) for v in s.to_numpy()], dtype=object)
    if pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.Series(col.cast(pa.string()).to_pylist(), dtype=object)  # type: ignore[attr-defined]
    return pd.Series([None if v is None else str(v) for v in col.to_pylist()], dtype=object)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------
# header


def _header_key(name: object) -> str:
    text = "" if name is None else str(name)
    return re.sub(r"[\s\-]+", "_", text.replace("\ufeff", "").strip().lower())


_KNOWN = {c.name for c in IMPORTED}


def dictionary_name(header: object) -> str | None:
    """The imported dictionary column a file header names for the loader (case, spaces, hyphens tolerated).

    Examples
    --------
    >>> dictionary_name(" Patient-ID"), dictionary_name("Sesso")
    ('patient_id', None)
    """
    key = _header_key(header)
    return key if key in _KNOWN else None
_DERIVED_NAMES = {c.name for c in DERIVED}


def _is_unnamed(key: str) -> bool:
    return key == "" or re.fullmatch(r"unnamed:_?\d+", key) is not None


def _blank_column(col: pd.Series) -> bool:
    return bool(col.isna().all() or col.astype(str).str.strip().eq("").all())


def _original_header(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Strip header cells, drop unnamed empty (or pandas index) columns, name unnamed ones with data."""
    names: list[str] = []
    keep: list[int] = []
    dropped = 0
    seen: set[str] = set()
    problems: list[Problem] = []
    for i, raw in enumerate(frame.columns):
        key = _header_key(raw)
        if _is_unnamed(key) and (key.startswith("unnamed") or _blank_column(frame.iloc[:, i])):
            dropped += 1
            continue
        name = f"column_{i + 1}" if key == "" else str(raw).replace("\ufeff", "").strip()
        if name in seen:
            problems.append(Problem(None, name, None, f"The column '{name}' appears more than once in the header."))
            continue
        seen.add(name)
        names.append(name)
        keep.append(i)
    if problems:
        raise CohortValidationError(problems)
    out = frame if len(keep) == frame.shape[1] else frame.iloc[:, keep].copy()
    out.columns = names  # the parsers' own fresh frame: renamed in place
    if not isinstance(out.index, pd.RangeIndex) or out.index.start != 0:
        out = out.reset_index(drop=True)
    notes = [f"{dropped} column(s) without a name (or pandas index columns) were ignored."] if dropped else []
    return out, notes


def _canonical_header(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Rename headers to dictionary names (tolerating case, spaces, hyphens); drop derived ones."""
    notes: list[str] = []
    names: list[str] = []
    keep: list[int] = []
    derived: list[str] = []
    empty_dropped = 0
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(frame.columns):
        key = _header_key(raw)
        if key in _KNOWN:
            name = COLUMNS_BY_NAME[key].name
        elif key in _DERIVED_NAMES:
            derived.append(key)
            continue
        elif key == "" or re.fullmatch(r"unnamed:_?\d+", key):
            col = frame.iloc[:, i]
            if col.isna().all() or col.astype(str).str.strip().eq("").all() or key.startswith("unnamed"):
                empty_dropped += 1
                continue
            name = f"column_{i + 1}"
        else:
            name = str(raw).replace("\ufeff", "").strip()
        if name in seen:
            problems.append(Problem(None, name, None, f"The column '{name}' appears more than once in the header."))
            continue
        seen[name] = i
        names.append(name)
        keep.append(i)
    if problems:
        raise CohortValidationError(problems)
    out = frame.iloc[:, keep].copy()
    out.columns = names
    out = out.reset_index(drop=True)
    if derived:
        notes.append(
            "Columns computed by the software were ignored and recomputed: " + ", ".join(derived) + "."
        )
    if empty_dropped:
        notes.append(f"{empty_dropped} column(s) without a name (or pandas index columns) were ignored.")
    return out, notes
