"""Tests of core.readers: format sniffing, CSV dialects, encodings, Excel and Parquet cells."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import readers
from core.dictionary import C
from core.readers import CohortValidationError, Problem, clip, read_raw
from tests.cohort_helpers import VALID, rows, to_csv, to_parquet, to_xlsx


def fail(data: bytes, filename: str | None = None) -> tuple[Problem, ...]:
    with pytest.raises(CohortValidationError) as info:
        read_raw(data, filename=filename)
    return info.value.problems


def test_one_column_file_is_not_split_on_letters():
    raw = read_raw(b"patient_id\n007\nS02\n", filename="x.csv")
    assert list(raw.frame.columns) == [C.PATIENT_ID]
    assert raw.frame[C.PATIENT_ID].tolist() == ["007", "S02"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separator_detection(sep):
    raw = read_raw(to_csv(rows(), sep=sep))
    assert raw.frame.shape == (6, 46)
    assert raw.frame[C.TUMOUR_SIZE].iloc[0] == "32.5"


def test_separator_chosen_by_known_names_not_by_count():
    # more commas than semicolons, but the semicolon gives the known column names
    data = b"patient_id;centre_id;comment\n1;A;x,y,z,w\n"
    raw = read_raw(data)
    assert list(raw.frame.columns) == [C.PATIENT_ID, C.CENTRE_ID, "comment"]


@pytest.mark.parametrize(
    ("encoding", "prefix", "note"),
    [("utf-8", b"", None), ("utf-8", b"\xef\xbb\xbf", None), ("latin-1", b"", "Latin-1"),
     ("cp1252", b"", "Latin-1"), ("utf-16", b"", "UTF-16")],
)
def test_encodings(encoding, prefix, note):
    data = prefix + "patient_id,centre_id\n1,Módena €\n".encode(encoding, errors="replace")
    raw = read_raw(data)
    assert list(raw.frame.columns) == [C.PATIENT_ID, C.CENTRE_ID]
    assert raw.frame[C.CENTRE_ID].iloc[0].startswith("Módena")
    if note:
        assert any(note in n for n in raw.notes)
    else:
        assert not any("Latin" in n for n in raw.notes)


def test_header_names_are_matched_tolerantly_and_duplicates_rejected():
    raw = read_raw(b"Patient ID , Centre-ID,Other\n1,A,b\n")
    assert list(raw.frame.columns) == [C.PATIENT_ID, C.CENTRE_ID, "Other"]
    problems = fail(b"patient_id,Patient_ID\n1,2\n")
    assert problems[0].column == C.PATIENT_ID and "more than once" in problems[0].message


def test_unnamed_columns_empty_ones_dropped_filled_ones_kept():
    raw = read_raw(b",patient_id,,Unnamed: 4\n0,007,,\n1,S02,,x\n")
    assert list(raw.frame.columns) == ["column_1", C.PATIENT_ID]
    assert raw.frame["column_1"].tolist() == ["0", "1"]
    assert any("2 column(s) without a name" in n for n in raw.notes)


def test_ragged_rows():
    problems = fail(b"patient_id,centre_id\n1,A\n2\n3,B,extra\n4,C,\n")
    assert [(p.row, p.column) for p in problems] == [(3, None), (4, None)]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [(b"", "empty"), (b"   \n\n", "empty"), (b"\x89PNG\r\n\x1a\nxxxx", "PNG"), (b"\xff\xd8\xff\xe0xx", "JPEG"),
     (b"%PDF-1.4 xx", "PDF"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel .xls"),
     (gzip.compress(b"patient_id\n1\n"), "gzip"), (b"a,b\x00c\n1,2\n", "not a text table"),
     (b"patient_id,centre_id\n", "no data rows"), (b"PK\x03\x04garbage", "Excel workbook"),
     (b"PAR1garbagePAR1", "Parquet")],
)
def test_file_level_problems(data, fragment):
    problems = fail(data, filename="x.csv")
    assert len(problems) == 1 and problems[0].row is None and fragment in problems[0].message


def test_csv_named_parquet_is_read_as_csv_with_a_note():
    raw = read_raw(VALID.read_bytes(), filename="cohort.parquet")
    assert raw.fmt == "csv" and any("plain text" in n for n in raw.notes)


def test_xlsx_cells_become_text_and_rows_are_sheet_rows():
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([])  # an empty first row: the header is on sheet row 2
    ws.append([C.PATIENT_ID, C.DIAGNOSIS_DATE, C.AGE, C.TUMOUR_SIZE, C.LEWIS_NEGATIVE, C.CENTRE_ID])
    ws.append(["007", dt.datetime(2020, 3, 5), 64, 32.5, True, None])
    ws.append([7, dt.date(2021, 1, 2), 64.0, 1e-3, False, "B"])
    buf = io.BytesIO()
    wb.save(buf)
    raw = read_raw(buf.getvalue(), filename="x.xlsx")
    assert raw.fmt == "xlsx" and raw.rows.tolist() == [3, 4]
    assert raw.frame.iloc[0].tolist() == ["007", "2020-03-05", "64", "32.5", "true", None]
    assert raw.frame.iloc[1].tolist() == ["7", "2021-01-02", "64", "0.001", "false", "B"]


def test_parquet_cells_become_text():
    table = pa.table({
        C.PATIENT_ID: pa.array(["007", None]),
        C.AGE: pa.array([64, None], type=pa.int64()),
        C.TUMOUR_SIZE: pa.array([32.5, 40.0]),
        C.DIAGNOSIS_DATE: pa.array([dt.datetime(2020, 3, 5), None], type=pa.timestamp("us", tz="UTC")),
        C.LEWIS_NEGATIVE: pa.array([True, None]),
        C.SEX: pa.array(["F", "M"]).dictionary_encode(),
    })
    buf = io.BytesIO()
    pq.write_table(table, buf)
    raw = read_raw(buf.getvalue())
    assert raw.fmt == "parquet" and raw.rows.tolist() == [2, 3]
    assert raw.frame.iloc[0].tolist() == ["007", "64", "32.5", "2020-03-05", "true", "F"]
    assert raw.frame.iloc[1].tolist() == [None, None, "40", None, None, "M"]


def test_clip():
    assert clip(12) == "12" and clip(float("nan")) is None and len(clip("é" * 100)) == 60


def test_error_needs_problems():
    with pytest.raises(ValueError):
        CohortValidationError([])


# ------------------------------------------------------------------------------------------
# cheap guards before parsing (the hostile corpus itself is in tests/test_hostile.py)


def test_xlsx_declared_unpacked_size_is_limited(monkeypatch):

    data = to_xlsx(rows())
    assert read_raw(data).fmt == "xlsx"
    monkeypatch.setattr(readers, "XLSX_MAX_UNPACKED_BYTES", 10_000)  # the workbook unpacks to ~20 kB
    (p,) = fail(data)
    assert "compressed bomb" in p.message and p.row is None


def test_xlsx_sheet_dimension_is_limited():
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["patient_id", "centre_id"])
    wb.active["ALM1"] = "x"  # column 1001: A=1*26*26 + L=12*26 + M=13
    buf = io.BytesIO()
    wb.save(buf)
    (p,) = fail(buf.getvalue())
    assert "extends to cell ALM1 (1 rows x 1,001 columns)" in p.message


def test_encrypted_workbook_is_named_as_such():
    from tests.hostile.make_hostile import encrypted_xlsx

    (p,) = fail(encrypted_xlsx(), "secret.xlsx")
    assert "password-protected" in p.message
    (p,) = fail(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old.xls")
    assert "old Excel .xls" in p.message


def test_parquet_footer_row_count_is_limited(monkeypatch):

    data = to_parquet(rows())
    monkeypatch.setattr(readers, "MAX_ROWS", 5)  # the file has 6 rows
    (p,) = fail(data, "x.parquet")
    assert "declares 6 rows" in p.message


# --- the Arrow fast path reads exactly what the csv module reads --------------------------------------------------

def _both_paths(data: bytes):
    text, _ = readers._decode(data)
    lines = text.splitlines()
    sep = readers._detect_separator(next(ln for ln in lines if ln.strip()))
    fast = readers._read_csv_arrow(text, sep, len(lines))
    slow_reader = readers._read_csv_arrow
    try:
        readers._read_csv_arrow = lambda *a: None
        slow = readers._read_csv(data)
    finally:
        readers._read_csv_arrow = slow_reader
    return fast, slow


def _csv_files():
    root = Path(__file__).parent
    return sorted(p for d in ("corpus", "hostile", "exports") for p in (root / d).rglob("*.csv"))


@pytest.mark.parametrize("path", _csv_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_arrow_path_reads_every_test_file_as_the_csv_module_does(path):
    data = path.read_bytes()
    try:
        fast, slow = _both_paths(data)
    except (readers.CohortValidationError, StopIteration):
        return  # refused or empty by the csv module: the fast path is never consulted for these (see below)
    if fast is not None:
        assert list(fast[0].columns) == list(slow[0].columns)
        assert fast[0].equals(slow[0]) and np.array_equal(fast[1], slow[1])


def test_the_arrow_path_is_taken_for_a_regular_file_with_awkward_cells():
    cells = ['plain', ' leading space', 'a "quoted" word', 'comma, inside', 'semi;colon', 'Età ünïcode', '', '  ']
    rows = [",".join(['"' + c.replace('"', '""') + '"' if any(ch in c for ch in '",') else c for c in
                      (str(i), cells[i % len(cells)], cells[(i * 3) % len(cells)])]) for i in range(200)]
    data = ("patient_id,x,y\n" + "\n".join(rows) + "\n").encode()
    fast, slow = _both_paths(data)
    assert fast is not None
    assert fast[0].equals(slow[0]) and np.array_equal(fast[1], slow[1])
    semi_rows = [";".join(['"' + c.replace('"', '""') + '"' if any(ch in c for ch in '";') else c for c in
                           (str(i), cells[i % len(cells)], cells[(i * 5) % len(cells)])]) for i in range(200)]
    fast, slow = _both_paths(("patient_id;x;y\n" + "\n".join(semi_rows) + "\n").encode())
    assert fast is not None and fast[0].equals(slow[0])


@pytest.mark.parametrize("data", [
    b"id,x\n1,a\n\n2,b\n",             # blank line: the line numbers of later rows would shift
    b'id,x\n1,"two\nlines"\n2,b\n',    # quoted line break: one record on two lines
    b"id,x\n1,a\n,\n2,b\n",            # an all-blank record (dropped by the csv path)
    b"id,x\n1,a\n2,b,c\n",             # ragged row: reported by line by the csv path
])
def test_the_arrow_path_steps_aside_when_lines_and_records_differ(data):
    text, _ = readers._decode(data)
    assert readers._read_csv_arrow(text, ",", len(text.splitlines())) is None
