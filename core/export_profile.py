"""What is in a study export, column by column: the facts the upload mapping works from.

:func:`profile` reads a table with its own headers (:func:`core.readers.read_table`) and
summarises each column: how many cells are filled, its distinct codes with their counts (for
columns with few of them), the forms its dates take (ISO, Excel serial numbers, ``03/11/2021``
with the day or the month first) and whether it is one box of a REDCap checkbox field
(``field___1`` in a raw export, ``Field (choice=Label)`` in a labels export). The profile is
small (no whole columns), so it can travel from the parsing child process to the page.

Examples
--------
>>> from core.readers import read_table
>>> p = profile(read_table(b"Sesso,Data diagnosi,sede___1\\nMaschio,25/03/2021,1\\nFemmina,03/11/2021,0\\n"))
>>> p.column("Sesso").codes
(('Femmina', 1), ('Maschio', 1))
>>> p.column("Data diagnosi").dates.day_first, p.column("Data diagnosi").dates.either
(1, 1)
>>> p.column("sede___1").checkbox
('sede', '1')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.cohort import EXCEL_SERIAL_RANGE, MISSING_TOKENS
from core.readers import RawTable

__all__ = ["DateForms", "Profile", "SourceColumn", "checkbox_parts", "name_key", "profile"]

#: Distinct codes listed per column (columns with more are not category columns).
MAX_CODES = 100

#: Rows kept for the preview.
PREVIEW_ROWS = 5

_STOP_WORDS = frozenset({"of", "the", "at", "di", "del", "dell", "della", "dello", "dei", "degli", "delle", "al", "alla",
                         "allo", "d"})
_CHECKBOX_RAW = re.compile(r"^(?P<base>.*[^_])___(?P<option>[^_].*)$")
_CHECKBOX_LABELS = re.compile(r"^(?P<base>.+?)\s*\(choice=(?P<option>.+)\)$")
DAY_MONTH = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_ISO = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


def name_key(text: object, *, drop_brackets: bool = False) -> str:
    """A comparison key for headers and codes: no accents, case, spaces, punctuation or filler words.

    Parameters
    ----------
    text : object
        A header or a code.
    drop_brackets : bool
        Also drop text in brackets (units such as ``(mm)``, ``(U/mL)``).

    Examples
    --------
    >>> name_key("Età alla diagnosi"), name_key("CA 19-9 (U/mL)", drop_brackets=True), name_key("Data della diagnosi")
    ('etadiagnosi', 'ca199', 'datadiagnosi')
    """
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    if drop_brackets:
        t = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", t)
    return "".join(w for w in re.findall(r"[a-z0-9]+", t) if w not in _STOP_WORDS)


def checkbox_parts(name: str) -> tuple[str, str] | None:
    """``(field, option)`` when a header is one box of a REDCap checkbox field, else ``None``.

    Examples
    --------
    >>> checkbox_parts("sede_recidiva___2"), checkbox_parts("Sede della recidiva (choice=Fegato)")
    (('sede_recidiva', '2'), ('Sede della recidiva', 'Fegato'))
    >>> checkbox_parts("sede_recidiva") is None
    True
    """
    m = _CHECKBOX_RAW.match(name) or _CHECKBOX_LABELS.match(name)
    return (m["base"].strip(), m["option"].strip()) if m else None


@dataclass(frozen=True)
class DateForms:
    """How many filled cells of a column take each date form.

    ``day_first``: ``25/03/2021`` (first part above 12: only day/month/year fits);
    ``month_first``: ``03/25/2021``; ``either``: ``03/11/2021`` (both parts 12 or less, different);
    ``same``: ``03/03/2021``; ``iso``: ``2021-03-25``; ``serial``: an Excel date number (``44280``).
    Separators ``/``, ``.`` and ``-`` with a four-digit year count alike.
    """

    day_first: int = 0
    month_first: int = 0
    either: int = 0
    same: int = 0
    iso: int = 0
    serial: int = 0
    day_first_example: str = ""
    month_first_example: str = ""
    either_example: str = ""

    @property
    def day_month(self) -> int:
        """Cells written day and month as numbers (``dd/mm/yyyy`` or ``mm/dd/yyyy``)."""
        return self.day_first + self.month_first + self.either + self.same


@dataclass(frozen=True)
class SourceColumn:
    """One column of an export.

    Attributes
    ----------
    name : str
        Header as written (stripped).
    filled : int
        Cells that are neither empty nor a missing-value token (``NA``, ``n.d.``...).
    examples : tuple of str
        Up to three distinct filled values, in file order.
    codes : tuple of (str, int) or None
        Every distinct non-empty value (stripped) with its count, sorted by value; ``None``
        when there are more than :data:`MAX_CODES` of them.
    dates : DateForms
    checkbox : tuple of (str, str) or None
        ``(field, option)`` for a REDCap checkbox column.
    """

    name: str
    filled: int
    examples: tuple[str, ...]
    codes: tuple[tuple[str, int], ...] | None
    dates: DateForms
    checkbox: tuple[str, str] | None


@dataclass(frozen=True)
class Profile:
    """A summary of an export (no whole columns).

    Attributes
    ----------
    n_rows : int
    fmt : str
        ``csv``, ``xlsx`` or ``parquet``.
    columns : tuple of SourceColumn
        In file order.
    preview : tuple of tuple
        The first :data:`PREVIEW_ROWS` rows as text cells (``None`` when empty), in column order.
    preview_rows : tuple of int
        Their row numbers in the file.
    notes : tuple of str
        How the file was read.
    """

    n_rows: int
    fmt: str
    columns: tuple[SourceColumn, ...]
    preview: tuple[tuple[str | None, ...], ...]
    preview_rows: tuple[int, ...]
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Headers in file order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> SourceColumn:
        """The column with this header (``KeyError`` when there is none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def groups(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """REDCap checkbox fields: field -> ``(option, column)`` pairs in file order."""
        out: dict[str, list[tuple[str, str]]] = {}
        for c in self.columns:
            if c.checkbox:
                out.setdefault(c.checkbox[0], []).append((c.checkbox[1], c.name))
        return {k: tuple(v) for k, v in out.items()}

    def preview_table(self) -> RawTable:
        """The preview rows as a :class:`~core.readers.RawTable` (to show a mapping on them)."""
        frame = pd.DataFrame(list(self.preview), columns=range(len(self.columns)), dtype=object) if self.preview else \
            pd.DataFrame(columns=range(len(self.columns)), dtype=object)
        frame.columns = list(self.names)
        return RawTable(frame=frame, rows=np.asarray(self.preview_rows, dtype=np.int64), fmt=self.fmt)


def _date_forms(texts: list[str], counts: list[int]) -> DateForms:
    """Count the date forms among the distinct filled texts of a column (vectorised)."""
    if not any(DAY_MONTH.match(t) or _ISO.match(t) or _SERIAL.match(t) for t in texts[:50]):  # not dates
        return DateForms()
    t = pd.Series(texts, dtype=object)
    n = np.asarray(counts, dtype=np.int64)
    parts = t.str.extract(DAY_MONTH.pattern)
    is_dm = parts[0].notna().to_numpy()
    a = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(parts[2], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        same = is_dm & (a == b)
        day_first = is_dm & (a > 12) & (b <= 12)
        month_first = is_dm & (b > 12) & (a <= 12)
        either = is_dm & (a <= 12) & (b <= 12) & (a != b)
    iso = ~is_dm & t.str.match(_ISO.pattern).to_numpy(dtype=bool)
    number = pd.to_numeric(t.where(t.str.match(_SERIAL.pattern).to_numpy(dtype=bool)), errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        serial = ~is_dm & ~iso & (number >= EXCEL_SERIAL_RANGE[0]) & (number <= EXCEL_SERIAL_RANGE[1])

    def first(mask: np.ndarray) -> str:
        hit = np.flatnonzero(mask)
        return str(t.iat[hit[0]]) if len(hit) else ""

    return DateForms(day_first=int(n[day_first].sum()), month_first=int(n[month_first].sum()),
                     either=int(n[either].sum()), same=int(n[same].sum()), iso=int(n[iso].sum()),
                     serial=int(n[serial].sum()), day_first_example=first(day_first),
                     month_first_example=first(month_first), either_example=first(either))


def _column(name: str, s: pd.Series) -> SourceColumn:
    k, uniq = pd.factorize(s.astype(object), use_na_sentinel=True)  # distinct cells, in order of first appearance
    cell_counts = np.bincount(k[k >= 0], minlength=len(uniq))
    k2, uniq2 = pd.factorize(pd.Series(uniq, dtype=object).astype(str).str.strip())  # the same once stripped
    counts = np.bincount(k2, weights=cell_counts, minlength=len(uniq2)).astype(np.int64)
    values = pd.Series(uniq2, dtype=object)
    nonempty = (values != "").to_numpy()
    filled = nonempty & ~values.str.lower().isin(MISSING_TOKENS).to_numpy()
    texts = [str(v) for v in values[filled]]
    n_filled = counts[filled]
    codes = None
    if int(nonempty.sum()) <= MAX_CODES:
        codes = tuple(sorted((str(v), int(n)) for v, n in zip(values[nonempty], counts[nonempty], strict=True)))
    return SourceColumn(name=name, filled=int(n_filled.sum()), examples=tuple(texts[:3]), codes=codes,
                        dates=_date_forms(texts, [int(n) for n in n_filled]), checkbox=checkbox_parts(name))


def profile(raw: RawTable) -> Profile:
    """Summarise a table read with its own headers.

    Parameters
    ----------
    raw : RawTable
        From :func:`core.readers.read_table`.

    Returns
    -------
    Profile

    Examples
    --------
    >>> from core.readers import read_table
    >>> p = profile(read_table(b"id;eta\\nA;61\\nB;n.d.\\n"))
    >>> p.n_rows, p.column("eta").filled, p.column("eta").codes, p.preview_rows
    (2, 1, (('61', 1), ('n.d.', 1)), (2, 3))
    """
    frame = raw.frame
    columns = tuple(_column(str(name), frame[name]) for name in frame.columns)
    head = frame.head(PREVIEW_ROWS)
    preview = tuple(tuple(None if v is None else str(v) for v in row) for row in head.itertuples(index=False))
    return Profile(n_rows=len(frame), fmt=raw.fmt, columns=columns, preview=preview,
                   preview_rows=tuple(int(r) for r in raw.rows[:PREVIEW_ROWS]), notes=raw.notes)
