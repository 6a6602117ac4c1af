"""Load, validate and enrich a study cohort file.

:func:`load` reads a CSV (comma, semicolon, tab or vertical bar; decimal point or comma;
UTF-8 with or without BOM, UTF-16 with BOM, Latin-1/Windows-1252), an Excel ``.xlsx`` or a
Parquet file, converts every column according to ``core.dictionary``, checks the
consistency rules of the study (domain.md §3) and adds the derived columns. Anything wrong raises
:class:`CohortValidationError` listing *every* problem found, row by row.

Examples
--------
>>> from pathlib import Path
>>> cohort = load(Path(__file__).parent.parent / "tests" / "corpus" / "valid_minimal.csv")
>>> cohort.n_surgery, cohort.n_chemotherapy
(3, 3)
>>> load(b"patient_id\\n1\\n", filename="x.csv")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
core.readers.CohortValidationError: The cohort file has ... problems: file, column centre_id: ...
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from core.derive import POSTOP_DAYS, derive
from core.dictionary import (
    DICTIONARY_VERSION,
    DICTIONARY_VERSIONS,
    IMPORTED,
    IMPORTED_NAMES,
    Arm,
    C,
    ClavienDindo,
    Column,
    Pancreatic,
    Popf,
    Setting,
    Vital,
    value_label,
)
from core.dictionary import label as column_label
from core.identifiers import identifier_warnings
from core.readers import CohortValidationError, Problem, RawTable, clip, read_raw

__all__ = ["Cohort", "CohortValidationError", "Problem", "canonical_csv", "demo", "derive", "from_table",
           "hashed_columns", "load", "optional_columns_recorded",
           "read_label", "DEMO_PATH"]

#: The embedded default cohort (written by ``core.synthetic``).
DEMO_PATH = Path(__file__).resolve().parent.parent / "data" / "demo_cohort.parquet"

#: Cell texts read as a missing value (compared after stripping and lower-casing).
MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "n.a.", "n.a", "nan", "none", "null", "nil", "n.d.", "n.d", "nd", "n/d",
     "k.a.", "k.a", "ka", "k. a.", "-", "--", "---", ".", "?", "#n/a", "missing", "not available"}
)

#: Cell texts read as booleans (after stripping and lower-casing).
TRUE_TOKENS = frozenset({"true", "t", "yes", "y", "1", "1.0", "ja", "j", "si", "sì", "sí", "vero", "oui", "wahr", "x"})
FALSE_TOKENS = frozenset({"false", "f", "no", "n", "0", "0.0", "nein", "falso", "non", "falsch"})

#: Excel serial numbers accepted as dates: 1950-01-01 to 2099-12-31.
EXCEL_SERIAL_RANGE = (18264, 73050)
_EXCEL_ORIGIN = pd.Timestamp("1899-12-30")

_BY_NAME = {c.name: c for c in IMPORTED}


# ------------------------------------------------------------------------------------------
# result


@dataclass(frozen=True, eq=False)
class Cohort:
    """A validated cohort.

    Attributes
    ----------
    data : pandas.DataFrame
        Imported columns in dictionary order, typed (dates ``datetime64[ns]``; categories and
        text as ``str``/``None`` in object columns, categories in their canonical labels;
        booleans nullable ``boolean``; integers ``Int64``; numbers ``float64``), then the
        derived columns (``core.dictionary.DERIVED``), then unknown extra columns (as text).
    sha256 : str
        Hex SHA-256 of :func:`canonical_csv` of ``data``: the same validated content gives the
        same hash whichever file format it came from.
    dictionary_version : str
        ``core.dictionary.DICTIONARY_VERSION`` used to validate.
    notes : tuple of str
        Plain sentences about how the file was read (separator, encoding, extra columns...).
    source_name : str
        File name (or ``"demo"``).
    warnings : tuple of str
        Columns not in the dictionary that look like direct identifiers (names, dates of
        birth, addresses, record numbers...), each sentence starting with
        ``"Possible direct identifier"`` (:func:`core.identifiers.identifier_warnings`); to be
        shown before anything else.
    """

    data: pd.DataFrame
    sha256: str
    dictionary_version: str
    notes: tuple[str, ...]
    source_name: str
    warnings: tuple[str, ...] = ()

    @property
    def n_patients(self) -> int:
        """Number of patients (rows)."""
        return len(self.data)

    @property
    def n_surgery(self) -> int:
        """Number of patients in the surgery group."""
        return int((self.data[C.TREATMENT_GROUP] == Arm.SURGERY).sum())

    @property
    def n_chemotherapy(self) -> int:
        """Number of patients in the chemotherapy group."""
        return int((self.data[C.TREATMENT_GROUP] == Arm.CHEMOTHERAPY).sum())


# ------------------------------------------------------------------------------------------
# public functions


def load(source: str | os.PathLike[str] | bytes | bytearray | BinaryIO, *, filename: str | None = None) -> Cohort:
    """Read, validate and enrich a cohort file.

    Parameters
    ----------
    source : str, path, bytes or binary file object
        CSV, Excel ``.xlsx`` or Parquet; the format is recognised from the content (magic
        bytes), so a CSV named ``.xlsx`` is still read (with a note).
    filename : str, optional
        Name for messages and :attr:`Cohort.source_name` when ``source`` is bytes or a file object.

    Returns
    -------
    Cohort

    Raises
    ------
    CohortValidationError
        For anything wrong with the file, with every problem found in ``.problems``. No other
        exception type is raised for any file content.
    TypeError
        If ``source`` is not a path, bytes or a binary file object.

    Examples
    --------
    >>> text = Path(__file__).parent.parent.joinpath("tests", "corpus", "valid_minimal.csv").read_bytes()
    >>> c = load(text.replace(b"chemotherapy", b"Chemotherapy "), filename="upload.csv")
    >>> c.n_chemotherapy, c.source_name, len(c.sha256)
    (3, 'upload.csv', 64)
    """
    raw = read_raw(source, filename=filename)
    name = filename or (Path(source).name if isinstance(source, (str, os.PathLike)) else "") or "upload"
    return _validate(raw, name)


def from_table(raw: RawTable, name: str) -> Cohort:
    """Validate and enrich a table already read (with dictionary column names), like :func:`load`.

    The upload mapping (``core.mapping``) renames and recodes an export's columns, then validates
    through here; row numbers in problems are ``raw.rows`` (those of the original file).

    Raises
    ------
    CohortValidationError
        With every problem found.

    Examples
    --------
    >>> from core.readers import read_raw
    >>> from_table(read_raw(Path(__file__).parent.parent / "tests" / "corpus" / "valid_minimal.csv"), "x").n_patients
    6
    """
    return _validate(raw, name)


def read_label(column: str, text: str) -> str | None:
    """The label the loader reads for the text of a category cell, ``None`` when it reads none.

    Case, spaces, hyphens and underscores do not matter when they leave no doubt.

    Examples
    --------
    >>> read_label(C.TREATMENT_GROUP, " Chemotherapy"), read_label(C.SEX, "Maschio")
    ('chemotherapy', None)
    """
    labels = CATEGORY_MAPS.get(column, {})
    text = str(text).strip()
    return labels.get(text) or labels.get(_norm_key(text))


def demo() -> Cohort:
    """Load the embedded synthetic demo cohort (``data/demo_cohort.parquet``).

    Returns
    -------
    Cohort
        With ``source_name == "demo"``.

    Examples
    --------
    >>> demo().source_name if DEMO_PATH.exists() else "demo"
    'demo'
    """
    raw = read_raw(DEMO_PATH)
    return _validate(raw, "demo")


def canonical_csv(data: pd.DataFrame) -> bytes:
    """Canonical serialisation of the imported columns of a validated table (for the hash).

    UTF-8 CSV, every field quoted, ``\\n`` line ends, a header line, the imported columns in
    dictionary order (derived and extra columns excluded), rows in file order. Missing values
    are empty fields; dates ``YYYY-MM-DD``; integers as digits; numbers as Python ``repr`` of
    the float (``64.0``, ``12.5``); booleans ``true``/``false``; text and categories as is.

    The columns of dictionary 1.0 are always serialised; a column added later (``Column.since``
    after ``"1.0"``, all optional) only when at least one patient has a value. So a 1.0 file, or
    a 1.1 file whose new columns are empty, keeps the hash it had under dictionary 1.0 (there is
    one hash version: shared links and provenance made with 1.0 still match).

    Examples
    --------
    >>> df = pd.DataFrame({C.PATIENT_ID: ["007"], C.AGE: pd.array([64], dtype="Int64")})
    >>> canonical_csv(df).decode().splitlines()[1][:12]
    '"007","","",'
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(data)
    fields = []
    columns = hashed_columns(data)
    for c in columns:
        s = data[c.name] if c.name in data.columns else pd.Series([None] * n, index=data.index, dtype=object)
        codes, uniq = pd.factorize(s, use_na_sentinel=True)  # format (and quote) each distinct value once
        if c.kind == "date":
            txt = [pd.Timestamp(v).strftime("%Y-%m-%d") for v in uniq]
        elif c.kind == "number":
            txt = [repr(float(v)) for v in uniq]
        elif c.kind == "boolean":
            txt = ["true" if bool(v) else "false" for v in uniq]
        else:
            txt = [str(v) for v in uniq]
        end = "\n" if c is columns[-1] else ""  # the last field of a line carries the line end
        quoted = pa.array([_quoted(t) + end for t in txt] + ['""' + end], type=pa.large_string())
        fields.append(quoted.take(pa.array(np.where(codes < 0, len(txt), codes), type=pa.int64())))
    header = ",".join(_quoted(c.name) for c in columns) + "\n"
    if n == 0:
        return header.encode("utf-8")
    lines = pc.binary_join_element_wise(*fields, pa.scalar(",", pa.large_string()))  # one string per line, line end included
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset: lines.offset + n + 1]
    body = lines.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]  # the lines, back to back
    return header.encode("utf-8") + body


def hashed_columns(data: pd.DataFrame) -> tuple[Column, ...]:
    """The imported columns :func:`canonical_csv` serialises: every 1.0 column, later ones only when used.

    Examples
    --------
    >>> df = pd.DataFrame({C.PATIENT_ID: ["007"], C.CEA_BASELINE: [None]})
    >>> C.CEA_BASELINE in [c.name for c in hashed_columns(df)]
    False
    >>> C.CEA_BASELINE in [c.name for c in hashed_columns(df.assign(**{C.CEA_BASELINE: [3.2]}))]
    True
    """
    return tuple(c for c in IMPORTED if c.since == DICTIONARY_VERSIONS[0]
                 or (c.name in data.columns and bool(data[c.name].notna().any())))


def _quoted(text: str) -> str:
    """One CSV field, always quoted (``csv.QUOTE_ALL``: inner quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


# ------------------------------------------------------------------------------------------
# conversion of text cells


def _norm_key(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", text.lower())


def _category_maps() -> dict[str, dict[str, str]]:
    """Tolerant label -> canonical label, per category column; ambiguous keys are left out."""
    maps: dict[str, dict[str, str]] = {}
    for c in IMPORTED:
        if c.kind != "category" or not c.categories:
            continue
        keys: dict[str, list[str]] = {}
        for label in c.categories:
            keys.setdefault(_norm_key(label), []).append(label)
        m = {k: v[0] for k, v in keys.items() if len(v) == 1}
        m.update({label: label for label in c.categories})
        maps[c.name] = m
    return maps


CATEGORY_MAPS = _category_maps()


@dataclass
class _Converted:
    typed: dict[str, pd.Series]
    missing: dict[str, np.ndarray]
    problems: list[Problem]


def _cells_problems(problems: list[Problem], rows: np.ndarray, col: str, text: pd.Series, mask: np.ndarray, message: str) -> None:
    for i in np.flatnonzero(mask):
        problems.append(Problem(int(rows[i]), col, clip(text.iat[i]), message))


def _text(s: pd.Series, categories: tuple[str, ...] | None = None) -> tuple[pd.Series, np.ndarray]:
    """Stripped text (object) and the missing mask.

    A missing-value token that is also a label of the column (``none`` for POPF, PHLF and
    vascular resection) is a value there, not a missing cell.
    """
    s = s.astype(object)
    present = s.notna().to_numpy()
    text = pd.Series(np.where(present, s.astype(str), ""), index=s.index, dtype=object).str.strip()
    tokens = MISSING_TOKENS - {c.lower() for c in categories} if categories else MISSING_TOKENS
    missing = ~present | text.str.lower().isin(tokens).to_numpy()
    return text, missing


_NUM_COMMA = r"[+-]?\d*,\d+"
_NUM_DOT = r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?"


def _decimal_mode(texts: dict[str, tuple[pd.Series, np.ndarray]]) -> tuple[str, list[str]]:
    n_comma = n_dot = 0
    for c in IMPORTED:
        if c.kind in ("integer", "number") and c.name in texts:
            t, miss = texts[c.name]
            n_comma += int(t[~miss].str.fullmatch(_NUM_COMMA).sum())
            n_dot += int(t[~miss].str.fullmatch(_NUM_DOT).sum())
    if n_comma and not n_dot:
        return ",", ["Numbers use a decimal comma."]
    if n_comma and n_dot:
        return ("mixed-dot" if n_dot >= n_comma else "mixed-comma"), []
    return ".", []


def _to_number(text: pd.Series, missing: np.ndarray, mode: str) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Floats (NaN when missing or bad), the bad mask and the 'mixed decimal mark' mask."""
    t = text.where(~missing, "")
    mixed = np.zeros(len(t), dtype=bool)
    is_comma = t.str.fullmatch(_NUM_COMMA).to_numpy(dtype=bool)
    if mode == ",":
        t = t.where(~is_comma, t.str.replace(",", ".", regex=False))
    elif mode == "mixed-dot":
        mixed = is_comma & ~missing
    elif mode == "mixed-comma":
        mixed = t.str.fullmatch(_NUM_DOT).to_numpy(dtype=bool) & ~missing
    values = pd.to_numeric(t.where(~missing & ~mixed, None), errors="coerce").astype(float)
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    bad = ~missing & ~mixed & ~np.isfinite(arr)
    arr = np.where(bad | mixed, np.nan, arr)
    return pd.Series(arr, index=text.index, dtype=float), bad, mixed


_ISO = r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?"
_DMY_DOT = r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?"
_DMY_DASH = r"(\d{1,2})-(\d{1,2})-(\d{4})"
_SLASH = r"(\d{1,2})/(\d{1,2})/(\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?"
_SERIAL = r"\d{5}(?:\.\d+)?"


def _slash_evidence(texts: dict[str, tuple[pd.Series, np.ndarray]]) -> tuple[bool, str | None]:
    """Whether any slash date in the file can only be month/day/year (second part > 12)."""
    for c in IMPORTED:
        if c.kind == "date" and c.name in texts:
            t, miss = texts[c.name]
            parts = t[~miss].str.extract("^" + _SLASH + "$")
            if len(parts):
                first = pd.to_numeric(parts[0], errors="coerce")
                second = pd.to_numeric(parts[1], errors="coerce")
                hit = (second > 12) & (first <= 12)
                if hit.any():
                    return True, str(t[~miss][hit.to_numpy()].iloc[0])
    return False, None


def _to_date(text: pd.Series, missing: np.ndarray, mdy_example: str | None) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    n = len(text)
    t = text.where(~missing, "")
    y = np.full(n, np.nan)
    m = np.full(n, np.nan)
    d = np.full(n, np.nan)
    handled = missing.copy()
    issues: list[tuple[np.ndarray, str]] = []

    def take(pattern: str, order: tuple[int, int, int]) -> np.ndarray:
        parts = t.str.extract("^" + pattern + "$")
        hit = parts[0].notna().to_numpy() & ~handled
        vals = [pd.to_numeric(parts[k], errors="coerce").to_numpy(dtype=float) for k in range(3)]
        y[hit], m[hit], d[hit] = vals[order[0]][hit], vals[order[1]][hit], vals[order[2]][hit]
        handled[hit] = True
        return hit

    take(_ISO, (0, 1, 2))
    take(_DMY_DOT, (2, 1, 0))
    take(_DMY_DASH, (2, 1, 0))
    slash = t.str.extract("^" + _SLASH + "$")
    is_slash = slash[0].notna().to_numpy() & ~handled
    if is_slash.any():
        a = pd.to_numeric(slash[0], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(slash[1], errors="coerce").to_numpy(dtype=float)
        c = pd.to_numeric(slash[2], errors="coerce").to_numpy(dtype=float)
        if mdy_example is None:  # European day/month/year, the documented default
            sel = is_slash
            y[sel], m[sel], d[sel] = c[sel], b[sel], a[sel]
        else:
            month_first = is_slash & (b > 12) & (a <= 12)
            day_first = is_slash & (a > 12) & (b <= 12)
            same = is_slash & (a == b)
            ambiguous = is_slash & ~month_first & ~day_first & ~same
            y[month_first], m[month_first], d[month_first] = c[month_first], a[month_first], b[month_first]
            y[day_first | same], m[day_first | same], d[day_first | same] = (
                c[day_first | same], b[day_first | same], a[day_first | same])
            issues.append((ambiguous, f"Ambiguous date: the file also has month-first dates such as '{mdy_example}', "
                           "so day and month cannot be told apart. Write dates as YYYY-MM-DD."))
            handled[ambiguous] = True
        handled[is_slash] = True
    serial_hit = t.str.fullmatch(_SERIAL).to_numpy(dtype=bool) & ~handled
    serial = pd.to_numeric(t.where(serial_hit, None), errors="coerce").to_numpy(dtype=float)
    in_range = serial_hit & (serial >= EXCEL_SERIAL_RANGE[0]) & (serial <= EXCEL_SERIAL_RANGE[1])
    handled[serial_hit] = True
    issues.append((serial_hit & ~in_range, "Not a date: a number that is not an Excel date between 1950 and 2099. "
                   "Allowed: a date (YYYY-MM-DD)."))
    short_year = t.str.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{2}").to_numpy(dtype=bool) & ~handled
    issues.append((short_year, "Ambiguous date: two-digit year. Allowed: a date (YYYY-MM-DD)."))
    handled |= short_year
    issues.append((~handled, "Not a date. Allowed: a date (YYYY-MM-DD), DD.MM.YYYY, DD/MM/YYYY or an Excel date."))

    ok_ymd = ~np.isnan(y) & ~np.isnan(m) & ~np.isnan(d)
    parts = pd.DataFrame({"year": np.where(ok_ymd, y, 2000), "month": np.where(ok_ymd, m, 1), "day": np.where(ok_ymd, d, 1)})
    dates = pd.to_datetime(parts, errors="coerce")
    dates = dates.where(ok_ymd)
    issues.append((ok_ymd & dates.isna().to_numpy(), "Not a valid calendar date. Allowed: a date (YYYY-MM-DD)."))
    serial_dates = _EXCEL_ORIGIN + pd.to_timedelta(np.floor(np.where(in_range, serial, 0)), unit="D")
    dates = dates.where(~in_range, pd.Series(serial_dates))
    out = pd.Series(dates.to_numpy(dtype="datetime64[ns]"), index=text.index)
    return out, issues


def _convert(raw: RawTable) -> tuple[_Converted, list[str]]:
    """Convert every dictionary column; string work is done once per distinct cell text."""
    frame, rows = raw.frame, raw.rows
    notes: list[str] = []
    problems: list[Problem] = []
    n = len(frame)
    codes: dict[str, np.ndarray] = {}
    texts: dict[str, tuple[pd.Series, np.ndarray]] = {}
    for c in IMPORTED:
        if c.name in frame.columns:
            k, uniq = pd.factorize(frame[c.name].astype(object), use_na_sentinel=True)
            uniq_s = pd.Series(list(uniq) + [None], dtype=object)  # the last entry stands for empty cells
            codes[c.name] = np.where(k < 0, len(uniq), k)
            texts[c.name] = _text(uniq_s, c.categories)
    mode, more = _decimal_mode(texts)
    notes += more
    _, mdy_example = _slash_evidence(texts)
    typed: dict[str, pd.Series] = {}
    missing: dict[str, np.ndarray] = {}
    for c in IMPORTED:
        if c.name not in texts:
            missing[c.name] = np.ones(n, dtype=bool)
            typed[c.name] = _empty(c, n)
            continue
        text_u, miss_u = texts[c.name]
        k = codes[c.name]
        typed_u, issues = _convert_column(c, text_u, miss_u, mode, mdy_example)
        missing[c.name] = miss_u[k]
        typed[c.name] = typed_u.take(k).reset_index(drop=True)
        original = frame[c.name]
        for mask_u, message in issues:
            if mask_u.any():
                _cells_problems(problems, rows, c.name, original, mask_u[k], message)
    return _Converted(typed, missing, problems), notes


def _convert_column(c: Column, text: pd.Series, miss: np.ndarray, mode: str,
                    mdy_example: str | None) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    """Typed values and (mask, message) problems for the distinct texts of one column."""
    allowed = c.allowed()
    issues: list[tuple[np.ndarray, str]] = []
    if c.kind == "text":
        return text.where(~miss, None), issues
    if c.kind == "category":
        mapped = text.map(CATEGORY_MAPS[c.name])
        key_mapped = text.map(_norm_key).map(CATEGORY_MAPS[c.name])
        mapped = mapped.where(mapped.notna(), key_mapped).where(~miss, None)
        issues.append((~miss & mapped.isna().to_numpy(), f"Unknown label. Allowed: {allowed}."))
        return mapped.astype(object), issues
    if c.kind == "boolean":
        low = text.str.lower()
        is_true = low.isin(TRUE_TOKENS).to_numpy()
        is_false = low.isin(FALSE_TOKENS).to_numpy()
        bad = ~miss & ~is_true & ~is_false
        issues.append((bad, f"Not a yes/no value. Allowed: {allowed} (also yes/no, 1/0)."))
        arr = pd.array(is_true, dtype="boolean")
        arr[miss | bad] = pd.NA
        return pd.Series(arr), issues
    if c.kind in ("integer", "number"):
        values, bad, mixed = _to_number(text, miss, mode)
        issues.append((bad, f"Not a number. Allowed: {allowed}."))
        issues.append((mixed, "Decimal comma and decimal point are mixed in this file; "
                       f"use one of them throughout. Allowed: {allowed}."))
        arr = values.to_numpy()
        if c.kind == "integer":
            frac = ~np.isnan(arr) & (arr != np.round(arr))
            issues.append((frac, f"Not a whole number. Allowed: {allowed}."))
            arr = np.where(frac, np.nan, arr)
        out_of_range = np.zeros(len(arr), dtype=bool)
        with np.errstate(invalid="ignore"):
            if c.minimum is not None:
                out_of_range |= arr < c.minimum
            if c.maximum is not None:
                out_of_range |= arr > c.maximum
        issues.append((out_of_range, f"Out of range. Allowed: {allowed}."))
        arr = np.where(out_of_range, np.nan, arr)
        if c.kind == "integer":
            unusable = np.isnan(arr) | (np.abs(arr) > 2**53)
            ints = pd.array(np.where(unusable, 0, arr).astype(np.int64), dtype="Int64")
            ints[unusable] = pd.NA
            return pd.Series(ints), issues
        return pd.Series(arr, dtype=float), issues
    if c.kind == "date":
        dates, date_issues = _to_date(text, miss, mdy_example)
        return dates, date_issues
    raise AssertionError(f"unknown kind {c.kind!r}")  # pragma: no cover - the dictionary only uses the kinds above


def _empty(c: Column, n: int) -> pd.Series:
    if c.kind == "date":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    if c.kind == "number":
        return pd.Series(np.full(n, np.nan))
    if c.kind == "integer":
        return pd.Series(pd.array([pd.NA] * n, dtype="Int64"))
    if c.kind == "boolean":
        return pd.Series(pd.array([pd.NA] * n, dtype="boolean"))
    return pd.Series([None] * n, dtype=object)


# ------------------------------------------------------------------------------------------
# consistency rules


def _date_text(s: pd.Series, i: int) -> str:
    v = s.iat[i]
    return "missing" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")


def _check_rules(cv: _Converted, raw: RawTable) -> list[Problem]:
    d, miss, rows = cv.typed, cv.missing, raw.rows
    present = set(raw.frame.columns)
    problems: list[Problem] = []
    n = len(rows)

    def add(mask: np.ndarray, col: str, message: str, value: pd.Series | None = None) -> None:
        shown = value if value is not None else raw.frame[col] if col in present else pd.Series([None] * n)
        for i in np.flatnonzero(mask):
            v = shown.iat[i]
            if isinstance(v, pd.Timestamp):
                v = v.strftime("%Y-%m-%d")
            problems.append(Problem(int(rows[i]), col, clip(None if v is None or v is pd.NaT else v), message))

    for c in IMPORTED:
        if c.requirement == "required" and c.name not in present:
            problems.append(Problem(None, c.name, None, f"Required column '{c.name}' is missing. Allowed: {c.allowed()}."))
        elif c.requirement == "required":
            add(miss[c.name], c.name, f"A value is required. Allowed: {c.allowed()}.")

    group = d[C.TREATMENT_GROUP]
    surgery = (group == Arm.SURGERY).to_numpy(dtype=bool)
    chemo = (group == Arm.CHEMOTHERAPY).to_numpy(dtype=bool)

    # duplicate patient ids
    if C.PATIENT_ID in present:
        ids = d[C.PATIENT_ID]
        known_id = ids.notna().to_numpy()
        dup = ids.duplicated(keep="first").to_numpy() & known_id
        if dup.any():
            values = ids.to_numpy()
            first: dict[object, int] = {}
            for i in np.flatnonzero(ids.duplicated(keep=False).to_numpy() & known_id):
                first.setdefault(values[i], i)
            for i in np.flatnonzero(dup):
                problems.append(Problem(int(rows[i]), C.PATIENT_ID, clip(values[i]),
                                        f"Duplicate patient id: already used in row {int(rows[first[values[i]]])}. "
                                        "Each patient id must be unique."))

    # surgery-only fields: empty for chemotherapy, conditional ones required for surgery
    for c in IMPORTED:
        if c.applies_to != "surgery":
            continue
        add(chemo & ~miss[c.name], c.name, "Must be empty for the chemotherapy group (surgery-group field).")
        if c.requirement == "conditional":
            if c.name not in present:
                if surgery.any():
                    problems.append(Problem(None, c.name, None, f"Column '{c.name}' is missing; it is required for the surgery group. Allowed: {c.allowed()}."))
            else:
                add(surgery & miss[c.name], c.name, f"Required for the surgery group. Allowed: {c.allowed()}.")

    add(surgery & (d[C.CHEMO_SETTING] == Setting.PALLIATIVE).to_numpy(dtype=bool), C.CHEMO_SETTING,
        f"'{Setting.PALLIATIVE}' is only for the chemotherapy group. Allowed for the surgery group: "
        + ", ".join(s for s in Setting.ALL if s != Setting.PALLIATIVE) + ".")

    # death date exactly when dead; progression date when progression true
    vital = d[C.VITAL_STATUS]
    dead = (vital == Vital.DEAD).to_numpy(dtype=bool)
    alive = (vital == Vital.ALIVE).to_numpy(dtype=bool)
    _exactly(problems, add, present, miss, C.DEATH_DATE, dead, alive,
             f"Required when {C.VITAL_STATUS} is {Vital.DEAD}.", f"Must be empty when {C.VITAL_STATUS} is {Vital.ALIVE}.")
    prog = d[C.PROGRESSION]
    prog_true = prog.fillna(False).to_numpy(dtype=bool)
    prog_false = (~prog.fillna(True)).to_numpy(dtype=bool)
    _exactly(problems, add, present, miss, C.PROGRESSION_DATE, prog_true, prog_false,
             f"Required when {C.PROGRESSION} is true.", f"Must be empty when {C.PROGRESSION} is false.")

    # Clavien-Dindo V exactly when death within 90 days of surgery
    surg, death = d[C.SURGERY_DATE], d[C.DEATH_DATE]
    days = (death - surg).dt.days.to_numpy(dtype=float, na_value=np.nan)
    cd = d[C.CLAVIEN_DINDO]
    cd_v = (cd == ClavienDindo.V).to_numpy(dtype=bool)
    cd_known = cd.notna().to_numpy()
    with np.errstate(invalid="ignore"):
        died_90 = surgery & dead & (days >= 0) & (days <= POSTOP_DAYS)
        not_died_90 = surgery & (alive | (dead & (days > POSTOP_DAYS)))
    add(cd_v & not_died_90, C.CLAVIEN_DINDO,
        f"Grade V (death) requires a death within {POSTOP_DAYS} days of surgery; death_date and vital_status say otherwise.")
    add(cd_known & ~cd_v & died_90, C.CLAVIEN_DINDO,
        f"The patient died within {POSTOP_DAYS} days of surgery, so the grade must be V.")

    # POPF not_applicable exactly after total pancreatectomy
    proc = d[C.PANCREATIC_PROCEDURE]
    popf = d[C.POPF]
    tp = (proc == Pancreatic.TP).to_numpy(dtype=bool)
    other_proc = proc.notna().to_numpy() & ~tp
    popf_na = (popf == Popf.NOT_APPLICABLE).to_numpy(dtype=bool)
    add(surgery & tp & popf.notna().to_numpy() & ~popf_na, C.POPF,
        f"After total pancreatectomy ({Pancreatic.TP}) the grade must be {Popf.NOT_APPLICABLE}.")
    add(surgery & other_proc & popf_na, C.POPF,
        f"'{Popf.NOT_APPLICABLE}' is only for total pancreatectomy ({Pancreatic.TP}). Allowed: "
        + ", ".join(p for p in Popf.ALL if p != Popf.NOT_APPLICABLE) + ".")

    # date order
    adjuvant_only = (d[C.CHEMO_SETTING] == Setting.ADJUVANT_ONLY).to_numpy(dtype=bool)
    censored = ~prog_true & ~dead
    everyone = np.ones(n, dtype=bool)
    restaging_missing = d[C.RESTAGING_DATE].isna().to_numpy()
    order = (
        (C.DIAGNOSIS_DATE, C.CHEMO_START_DATE, False, everyone),
        (C.CHEMO_START_DATE, C.SURGERY_DATE, True, surgery & ~adjuvant_only),
        (C.DIAGNOSIS_DATE, C.SURGERY_DATE, False, surgery),
        (C.SURGERY_DATE, C.PROGRESSION_DATE, False, surgery),
        (C.CHEMO_START_DATE, C.PROGRESSION_DATE, False, chemo),
        (C.PROGRESSION_DATE, C.DEATH_DATE, False, everyone),
        (C.SURGERY_DATE, C.DEATH_DATE, False, surgery),
        (C.DEATH_DATE, C.LAST_FOLLOWUP_DATE, False, everyone),
        (C.PROGRESSION_DATE, C.LAST_FOLLOWUP_DATE, False, everyone),
        (C.SURGERY_DATE, C.LAST_FOLLOWUP_DATE, False, surgery),
        (C.CHEMO_START_DATE, C.LAST_FOLLOWUP_DATE, False, everyone),
        (C.LAST_IMAGING_DATE, C.LAST_FOLLOWUP_DATE, "reverse", everyone),
        # dictionary 1.1 (optional dates; a missing date is never checked)
        (C.CHEMO_START_DATE, C.RESTAGING_DATE, False, everyone),
        (C.RESTAGING_DATE, C.MDT_DATE, False, everyone),
        (C.CHEMO_START_DATE, C.MDT_DATE, False, restaging_missing),
        (C.CHEMO_START_DATE, C.EXPLORATION_DATE, True, ~(surgery & adjuvant_only)),
        (C.EXPLORATION_DATE, C.SURGERY_DATE, False, surgery),
        (C.CHEMO_START_DATE, C.CHEMO_END_DATE, False, everyone),
        (C.RESTAGING_DATE, C.LAST_FOLLOWUP_DATE, False, everyone),
        (C.MDT_DATE, C.LAST_FOLLOWUP_DATE, False, everyone),
        (C.EXPLORATION_DATE, C.LAST_FOLLOWUP_DATE, False, everyone),
        (C.CHEMO_END_DATE, C.LAST_FOLLOWUP_DATE, False, everyone),
        (C.SURGERY_DATE, C.LAST_IMAGING_DATE, False, surgery & censored),
        (C.CHEMO_START_DATE, C.LAST_IMAGING_DATE, False, chemo & censored),
    )
    for early, late, strict, where in order:
        a, b = d[early], d[late]
        if strict == "reverse":  # report on the earlier column (last imaging after last follow-up)
            bad = where & (a > b).to_numpy(dtype=bool)
            for i in np.flatnonzero(bad):
                problems.append(Problem(int(rows[i]), early, _date_text(a, i),
                                        f"{early} ({_date_text(a, i)}) is after {late} ({_date_text(b, i)}); it must be on or before it."))
            continue
        bad = where & ((a >= b) if strict else (a > b)).to_numpy(dtype=bool)
        need = "after" if strict else "on or after"
        for i in np.flatnonzero(bad):
            problems.append(Problem(int(rows[i]), late, _date_text(b, i),
                                    f"{late} ({_date_text(b, i)}) is {'on or before' if strict else 'before'} {early} "
                                    f"({_date_text(a, i)}); it must be {need} it."))
    return problems


def _exactly(problems: list[Problem], add: object, present: set[str], miss: dict[str, np.ndarray], col: str,
             needed: np.ndarray, forbidden: np.ndarray, need_msg: str, forbid_msg: str) -> None:
    if col not in present:
        if needed.any():
            problems.append(Problem(None, col, None, f"Column '{col}' is missing. {need_msg}"))
        return
    add(needed & miss[col], col, need_msg)  # type: ignore[operator]
    add(forbidden & ~miss[col], col, forbid_msg)  # type: ignore[operator]


# ------------------------------------------------------------------------------------------
# assembly


def _validate(raw: RawTable, name: str) -> Cohort:
    notes = list(raw.notes)
    cv, more = _convert(raw)
    notes += more
    problems = cv.problems + _check_rules(cv, raw)
    if problems:
        raise CohortValidationError(problems)
    index = pd.RangeIndex(len(raw.rows))
    imported = pd.DataFrame({k: pd.Series(v.to_numpy() if not isinstance(v.dtype, pd.api.extensions.ExtensionDtype) else v.array,
                                          index=index) for k, v in cv.typed.items()}, index=index)
    imported = imported[list(IMPORTED_NAMES)]
    derived = derive(imported)
    extras = [c for c in raw.frame.columns if c not in IMPORTED_NAMES]
    extra = raw.frame[extras].set_axis(index).astype(object)
    if extras:
        notes.append("Columns not in the data dictionary were kept as text: " + ", ".join(map(str, extras)) + ".")
    data = pd.concat([imported, derived.set_axis(index), extra], axis=1)
    digest = hashlib.sha256(canonical_csv(data)).hexdigest()
    warnings = tuple(identifier_warnings([str(c) for c in extras], raw.frame))
    return Cohort(data=data, sha256=digest, dictionary_version=DICTIONARY_VERSION, notes=tuple(notes), source_name=name,
                  warnings=warnings)




def optional_columns_recorded(data: pd.DataFrame, since: str = "1.1") -> pd.DataFrame:
    """How many patients per arm have a value in each column added by a dictionary version.

    Parameters
    ----------
    data : pandas.DataFrame
        A validated cohort table (:attr:`Cohort.data`).
    since : str
        Dictionary version (one of ``core.dictionary.DICTIONARY_VERSIONS``) whose new columns are counted.

    Returns
    -------
    pandas.DataFrame
        One row per imported column: ``Column`` (label), ``Surgery``,
        ``Chemotherapy alone`` and ``All`` as ``"n/N (x%)"`` (text, so that small-cell
        suppression applies as to Table 1). A 1.0 file gives ``0/N (0.0%)`` throughout.

    Examples
    --------
    >>> optional_columns_recorded(demo().data).iloc[0].tolist()
    ['CEA baseline (ng/mL)', '37/45 (82.2%)', '36/45 (80.0%)', '73/90 (81.1%)']
    """
    arms = data[C.TREATMENT_GROUP].astype(object)
    rows = []
    for c in IMPORTED:
        if c.since != since or c.name not in data.columns:
            continue
        known = data[c.name].notna().to_numpy()
        row = {"Column": column_label(c.name)}
        for arm in (*Arm.ALL, None):
            where = np.ones(len(data), bool) if arm is None else (arms == arm).to_numpy()
            n, total = int((known & where).sum()), int(where.sum())
            row["All" if arm is None else value_label(C.TREATMENT_GROUP, arm)] = (
                f"{n}/{total} ({100.0 * n / total:.1f}%)" if total else "0/0")
        rows.append(row)
    return pd.DataFrame(rows, columns=["Column", *(value_label(C.TREATMENT_GROUP, a) for a in Arm.ALL), "All"])


def problems_to_csv(err: CohortValidationError) -> bytes:
    """The problems of an error as CSV bytes (for download).

    Examples
    --------
    >>> err = CohortValidationError([Problem(2, "sex", "X", "Unknown label.")])
    >>> problems_to_csv(err).decode().splitlines()[1]
    '2,sex,X,Unknown label.'
    """
    buf = io.StringIO()
    err.problems_frame().to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")
