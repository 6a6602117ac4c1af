"""The hostile corpus (tests/hostile/, made by tests/hostile/make_hostile.py).

Each file gives the correct cohort or a readable problem list, under 100 MB of extra memory.
How long each file takes (goal: 2 s) is measured by ``make bench`` (benchmarks/loading.py,
docs/benchmarks.md), not asserted here: a wall-clock budget fails under load with nothing
wrong. How memory is measured:

* memory: the child reads its own ``VmRSS`` when it starts and its ``VmHWM`` (peak resident
  set) when it has parsed, from ``/proc/self/status``; the difference is the extra memory
  the parse needed (``IsolatedRun.child_peak_extra_mb``). The separator/encoding matrix is
  parsed in-process and measured with ``tracemalloc`` (Python
  allocations, incl. pandas/numpy).

Expected values are the hand-written cells of tests/corpus/valid_minimal.csv.
"""

from __future__ import annotations

import datetime as dt
import math
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from core.cohort import load
from core.dictionary import C
from core.isolation import run_isolated, warm_up
from tests.cohort_helpers import VALID
from tests.hostile import make_hostile as mh

HOSTILE = Path(mh.__file__).resolve().parent
EXTRA_MB = 100.0


@pytest.fixture(scope="module", autouse=True)
def _fork_server_started():
    warm_up()
    run_isolated(VALID.read_bytes(), "warm.csv")


@pytest.fixture(scope="module")
def base_sha() -> str:
    return load(mh.to_csv(mh.base()), filename="base.csv").sha256


def isolated(data: bytes, name: str):
    run = run_isolated(data, name)
    assert run.child_peak_extra_mb is not None and run.child_peak_extra_mb < EXTRA_MB, (name, run.child_peak_extra_mb)
    assert run.exitcode == 0
    return run


def check_base_values(data: pd.DataFrame) -> None:
    """Cells of valid_minimal.csv, read off the file by hand."""
    assert data[C.PATIENT_ID].tolist() == ["007", "S02", "S03", "C01", "C02", "C03"]
    assert data[C.TUMOUR_SIZE].iloc[0] == 32.5
    assert data[C.LIVER_METS_MAX].iloc[1] == 20.5
    assert data[C.DIAGNOSIS_DATE].iloc[0] == pd.Timestamp("2019-01-10")
    assert data[C.SURGERY_DATE].iloc[1] == pd.Timestamp("2020-09-01")
    assert data[C.AGE].tolist() == [58, 66, 71, 63, 75, 55]
    assert data[mh.CITY].tolist() == list(mh.CITIES)


# ------------------------------------------------------------------------------------------
# the committed files are what the script makes


def test_committed_corpus_is_what_the_script_makes():
    for name, build in mh.FILES.items():
        assert (HOSTILE / name).read_bytes() == build(), name
    committed = {p.name for p in (HOSTILE / "matrix").iterdir()}
    made = mh.matrix()
    assert committed == set(made) and len(made) == 4 * 2 * 4 * 3
    for name, data in made.items():
        assert (HOSTILE / "matrix" / name).read_bytes() == data, name


# ------------------------------------------------------------------------------------------
# separators x decimal marks x encodings x line endings: the same cohort


@pytest.mark.parametrize("name", sorted(mh.matrix()))
def test_dialect_matrix_gives_the_same_cohort(name, base_sha):
    data = (HOSTILE / "matrix" / name).read_bytes()
    tracemalloc.start()
    try:
        cohort = load(data, filename=name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak / 2**20 < EXTRA_MB
    assert cohort.sha256 == base_sha
    check_base_values(cohort.data)
    if "_utf16_" in name:
        assert any("UTF-16" in n for n in cohort.notes)
    if "_cp1252_" in name:
        assert any("Latin-1" in n for n in cohort.notes)
    if "dec-comma" in name:
        assert "Numbers use a decimal comma." in cohort.notes
    if "sep-pipe" in name:
        assert "Columns are separated by vertical bars." in cohort.notes


def test_matrix_files_really_differ():
    """Guard against a generator bug making all variants the same bytes."""
    made = mh.matrix()
    assert len(set(made.values())) == len(made)
    sample = made[mh.matrix_name("pipe", "comma", "utf16", "crlf")]
    assert sample.startswith(b"\xff\xfe") and "|32,5|".encode("utf-16-le") in sample and "\r\n".encode("utf-16-le") in sample


# ------------------------------------------------------------------------------------------
# hostile files: a correct cohort ...


def test_quoted_newlines_are_kept_inside_the_cell(base_sha):
    run = isolated((HOSTILE / "quoted_newlines.csv").read_bytes(), "quoted_newlines.csv")
    assert run.cohort.sha256 == base_sha
    check_base_values(run.cohort.data)
    assert run.cohort.data["comment"].iloc[1] == 'first line 1\nsecond line, with a comma; and "quotes"'


def test_missing_tokens_in_numeric_columns_are_missing():
    run = isolated((HOSTILE / "missing_tokens.csv").read_bytes(), "missing_tokens.csv")
    d = run.cohort.data
    assert math.isnan(d[C.CA19_9_RESTAGING].iloc[1])  # k.A.
    assert math.isnan(d[C.TUMOUR_SIZE].iloc[3])  # n.d.
    assert math.isnan(d[C.LIVER_METS_MAX].iloc[2])  # n.d.
    assert d[C.CA19_9_RESTAGING].iloc[0] == 30.0


@pytest.mark.parametrize("name", ["excel_serial_dates.csv", "text_dates.csv", "ids_as_text.xlsx",
                                  "serial_numbers.xlsx", "csv_renamed.xlsx", "valid.parquet"])
def test_file_gives_the_base_cohort(name, base_sha):
    run = isolated((HOSTILE / name).read_bytes(), name)
    assert run.cohort.sha256 == base_sha
    check_base_values(run.cohort.data)


def test_excel_serials_are_the_right_days():
    # 43475 = 2019-01-10: 43475 days after 1899-12-30 (Excel's 1900 date system), by hand
    assert dt.date(1899, 12, 30) + dt.timedelta(days=43475) == dt.date(2019, 1, 10)
    text = (HOSTILE / "excel_serial_dates.csv").read_text()
    assert ",43475," in text
    run = isolated(text.encode(), "excel_serial_dates.csv")
    assert run.cohort.data[C.DIAGNOSIS_DATE].iloc[0] == pd.Timestamp("2019-01-10")


# ------------------------------------------------------------------------------------------
# ... or a readable problem list


REFUSED = {
    "ragged.csv": [(3, None, "This row has 49 values but the header has 47 columns"),
                   (5, None, "This row has 44 values but the header has 47 columns")],
    "duplicated_columns.csv": [(None, C.SEX, "appears more than once in the header")],
    "below_limit.csv": [(7, C.CA19_9_RESTAGING, "Not a number")],
    "ambiguous_dates.csv": [(3, C.DIAGNOSIS_DATE, "Ambiguous date")],
    "far_cell.xlsx": [(None, None, "extends to cell XFD1048576")],
    "far_cell_no_dimension.xlsx": [(None, None, "more than 1,000,000 rows or 1,000 columns")],
    "encrypted.xlsx": [(None, None, "password-protected")],
    "truncated.parquet": [(None, None, "could not be read as a Parquet file")],
    "random_magic.parquet": [(None, None, "could not be read as a Parquet file")],
    "huge_footer.parquet": [(None, None, "declares 1,000,000,000 rows")],
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_file_is_refused_with_readable_problems(name):
    run = isolated((HOSTILE / name).read_bytes(), name)
    assert run.cohort is None
    got = run.error.problems
    assert len(got) == len(REFUSED[name])
    for p, (row, column, fragment) in zip(got, REFUSED[name], strict=True):
        assert (p.row, p.column) == (row, column)
        assert fragment in p.message


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    bomb = mh.zip_bomb_xlsx()
    (tmp_path / "bomb.xlsx").write_bytes(bomb)
    assert len(bomb) < 1_000_000
    import zipfile

    with zipfile.ZipFile(tmp_path / "bomb.xlsx") as z:
        assert sum(i.file_size for i in z.infolist()) > 500 * 2**20
    run = isolated(bomb, "bomb.xlsx")
    (p,) = run.error.problems
    assert "compressed bomb" in p.message and "500 MB" in p.message


def test_padded_workbook_under_the_size_limit_loads_within_the_bounds(base_sha):
    """60 MB of padding (under the 64 MB guard) is read, in time and memory."""
    padded = mh.zip_bomb_xlsx(unpacked_mb=60)
    run = isolated(padded, "padded.xlsx")
    assert run.cohort.sha256 == base_sha
