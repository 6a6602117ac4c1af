"""Tests of core.export: CSV/Excel/Parquet/zip, formula injection, small-cell suppression, figures.

Expected values are written by hand. Figure tests drive Debian's Chromium through Kaleido: when
``/usr/bin/chromium`` is missing they FAIL (never skip).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import plotly.graph_objects as go
import pytest

from core.export import (
    AT_RISK_HOVER,
    COMPLEMENTARY,
    blank_binary_means,
    count_text,
    csv_bytes,
    figure_png,
    figure_svg,
    hide_bare_counts,
    hide_hover_at_risk,
    linked_suppression,
    neutralise,
    parquet_bytes,
    sheet_names,
    suppress_small_counts,
    suppress_text_counts,
    xlsx_bytes,
    zip_bytes,
)

BOM = b"\xef\xbb\xbf"


def require_chromium() -> str:
    """Debian's Chromium must be there: fail, never skip."""
    path = "/usr/bin/chromium"
    assert Path(path).exists(), "Debian's chromium is required (apt-get install -y chromium)"
    return path


def mixed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-03-01", None, "1999-12-31"]),
            "n": pd.array([7, None, -2], dtype="Int64"),
            "flag": [True, False, True],
            "code": ["007", None, "0"],
            "x": [1.5, np.nan, -3.5],
        }
    )


# -- formula injection ---------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\",\"y\")"])
def test_neutralise_prefixes_every_trigger(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["a=b", " =1", "", "'=1", "007", -3.5, -2, None, True])
def test_neutralise_leaves_other_values(value):
    assert neutralise(value) == value


def test_csv_injection_text_neutralised_numbers_kept():
    df = pd.DataFrame(
        {
            "=cmd": ["=1+1", "-5", "@x", "plain"],
            "num": [-3.5, 2.0, -0.25, 1e-3],
            "int": [-1, 2, -3, 4],
            "cat": pd.Categorical(["+a", "b", "+a", "b"]),
            "s": pd.array(["\tt", "u", None, "-"], dtype="string"),
        }
    )
    text = csv_bytes(df).decode("utf-8-sig")
    assert text == (
        "'=cmd,num,int,cat,s\n"
        "'=1+1,-3.5,-1,'+a,'\tt\n"
        "'-5,2.0,2,b,u\n"
        "'@x,-0.25,-3,'+a,\n"
        "plain,0.001,4,b,'-\n"
    )


def test_csv_index_is_neutralised_too():
    df = pd.DataFrame({"v": [1, 2]}, index=pd.Index(["=a", "b"], name="-id"))
    assert csv_bytes(df, index=True).decode("utf-8-sig") == "'-id,v\n'=a,1\nb,2\n"


def test_csv_has_bom_comma_and_iso_dates():
    df = pd.DataFrame(
        {
            "day": pd.to_datetime(["2024-03-01", "2024-12-31"]),
            "when": pd.to_datetime(["2024-03-01 14:30:00", "2024-03-02 00:00:00"]),
            "utc": pd.to_datetime(["2024-03-01 10:00"]).tz_localize("UTC").append(pd.DatetimeIndex([pd.NaT], tz="UTC")),
            "name": ["é", "≥ 3"],
        }
    )
    data = csv_bytes(df)
    assert data.startswith(BOM)
    assert data[3:].decode("utf-8") == (
        "day,when,utc,name\n"
        "2024-03-01,2024-03-01T14:30:00,2024-03-01T10:00:00+00:00,é\n"
        "2024-12-31,2024-03-02T00:00:00,,≥ 3\n"
    )


def test_csv_round_trip_as_text():
    back = pd.read_csv(io.BytesIO(csv_bytes(mixed_frame())), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    expected = pd.DataFrame(
        {
            "date": ["2024-03-01", "", "1999-12-31"],
            "n": ["7", "", "-2"],
            "flag": ["True", "False", "True"],
            "code": ["007", "", "0"],
            "x": ["1.5", "", "-3.5"],
        }
    )
    pd.testing.assert_frame_equal(back, expected)


def test_csv_rejects_non_frames():
    with pytest.raises(ValueError, match="DataFrame"):
        csv_bytes([1, 2])


# -- Parquet -------------------------------------------------------------------------------------------
def test_parquet_round_trip_exact_and_deterministic():
    df = mixed_frame()
    df["s"] = pd.array(["=a", pd.NA, "b"], dtype="string")
    df["cat"] = pd.Categorical(["x", None, "y"])
    data = parquet_bytes(df)
    assert data[:4] == b"PAR1"
    assert parquet_bytes(df.copy()) == data
    back = pd.read_parquet(io.BytesIO(data))
    pd.testing.assert_frame_equal(back, df)
    assert back.loc[0, "s"] == "=a"  # data format: values unchanged


# -- Excel ----------------------------------------------------------------------------------------------
def _load(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def test_plain_pandas_to_excel_would_write_a_formula():
    """The risk is real: pandas/openpyxl write '=...' text as a live formula."""
    buf = io.BytesIO()
    pd.DataFrame({"a": ["=1+1"]}).to_excel(buf, index=False)
    assert _load(buf.getvalue()).active["A2"].data_type == "f"


def test_xlsx_never_writes_formulas_and_keeps_numbers():
    df = pd.DataFrame({"=h": ["=1+1", "-5", "+x", "@y", "ok"], "v": [-3.5, -1.0, 0.0, 2.5, 1e6], "i": [-1, 0, 1, 2, 3]})
    ws = _load(xlsx_bytes({"t": df}, {}))["t"]
    assert ws["A1"].value == "'=h" and ws["A1"].data_type == "s"
    for r, raw in enumerate(["=1+1", "-5", "+x", "@y"], start=2):
        cell = ws.cell(row=r, column=1)
        assert cell.data_type != "f"
        assert cell.data_type == "s"
        assert cell.value == "'" + raw
    assert ws["A6"].value == "ok"
    for r, v in enumerate([-3.5, -1.0, 0.0, 2.5, 1e6], start=2):
        assert ws.cell(row=r, column=2).data_type == "n"
        assert ws.cell(row=r, column=2).value == v
    assert [ws.cell(row=r, column=3).value for r in range(2, 7)] == [-1, 0, 1, 2, 3]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_xlsx_values_types_and_layout():
    prov = {"Data source": "demo.csv", "Filters and settings": "Filters:\n- Regimen: GEM", "Bad": "=evil()"}
    data = xlsx_bytes({"KM table": mixed_frame(), "Notes": pd.DataFrame({"t": ["a"]})}, prov)
    wb = _load(data)
    assert wb.sheetnames == ["KM table", "Notes", "Methods"]
    ws = wb["KM table"]
    assert [c.value for c in ws[1]] == ["date", "n", "flag", "code", "x"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    row2 = [c.value for c in ws[2]]
    assert row2 == [dt.datetime(2024, 3, 1), 7, True, "007", 1.5]
    assert ws["A2"].is_date and ws["A2"].number_format == "yyyy-mm-dd"
    assert ws["D2"].data_type == "s"  # leading zeros kept as text
    assert [c.value for c in ws[3]] == [None, None, False, None, None]
    assert [c.value for c in ws[4]] == [dt.datetime(1999, 12, 31), -2, True, "0", -3.5]
    assert 8 <= ws.column_dimensions["A"].width <= 60
    m = wb["Methods"]
    assert [c.value for c in m[1]] == ["Item", "Value"]
    assert m["A2"].value == "Data source" and m["B2"].value == "demo.csv"
    assert m["B3"].value == "Filters:\n- Regimen: GEM" and m["B3"].alignment.wrap_text
    assert m["B4"].value == "'=evil()" and m["B4"].data_type == "s"


def test_xlsx_timezone_dates_written_in_utc_and_datetimes_with_time():
    df = pd.DataFrame({"t": pd.to_datetime(["2024-03-01 12:00"]).tz_localize("Europe/Rome"),
                       "d": [dt.date(2020, 1, 2)]})
    ws = _load(xlsx_bytes({"x": df}, {}))["x"]
    assert ws["A2"].value == dt.datetime(2024, 3, 1, 11, 0)
    assert ws["A2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws["B2"].value == dt.datetime(2020, 1, 2) and ws["B2"].is_date


def test_sheet_names_follow_excel_rules():
    names = sheet_names(["a[1]:*?/\\", "x" * 40, "x" * 40, "Methods", "methods", "", "  ", "'q'"])
    assert names == [
        "a_1______",
        "x" * 31,
        "x" * 27 + " (2)",
        "Methods",
        "methods (2)",
        "Sheet",
        "Sheet (2)",
        "q",
    ]
    assert all(len(n) <= 31 for n in names)


def test_xlsx_user_sheet_named_methods_does_not_clash():
    """'Methods' always holds the provenance; a table of that name is renamed."""
    wb = _load(xlsx_bytes({"Methods": pd.DataFrame({"a": [1]})}, {"k": "v"}))
    assert wb.sheetnames == ["Methods (2)", "Methods"]
    assert wb["Methods"]["A2"].value == "k"


def test_xlsx_validates_input():
    with pytest.raises(ValueError, match="DataFrames"):
        xlsx_bytes({"a": [1]}, {})


# -- zip --------------------------------------------------------------------------------------------------
def test_zip_bundles_files_and_provenance_deterministically():
    prov = {"Generated (UTC)": "2026-01-02T03:04:05Z", "Data source": "demo.csv", "Notes": "a\nb"}
    data = zip_bytes({"tables/km.csv": b"t\n1\n"}, prov)
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.namelist() == ["tables/km.csv", "provenance.json", "README.txt"]
    assert zf.read("tables/km.csv") == b"t\n1\n"
    assert json.loads(zf.read("provenance.json")) == prov
    assert zf.read("README.txt").decode() == (
        "Provenance\n==========\nGenerated (UTC): 2026-01-02T03:04:05Z\nData source: demo.csv\nNotes:\n  a\n  b\n"
    )
    assert zf.getinfo("README.txt").date_time == (2026, 1, 2, 3, 4, 4)  # zip stores even seconds
    assert zip_bytes({"tables/km.csv": b"t\n1\n"}, prov) == data


def _suppressed_table() -> pd.DataFrame:
    counts = pd.DataFrame({"arm": ["surgery", "chemotherapy"], "patients": [7, 40], "events": [30, 50]})
    shown = suppress_small_counts(counts, ["patients", "events"], k=11)
    shown.loc[1, "events"] = "*"  # as complementary suppression marks a cell
    return shown


def test_zip_readme_defines_the_columns_and_explains_the_marks():
    data = zip_bytes({"estimates.csv": csv_bytes(_suppressed_table()), "other.csv": b"x\n1\n"},
                     {"Data source": "demo"})
    readme = zipfile.ZipFile(io.BytesIO(data)).read("README.txt").decode()
    head, notes = readme.split("\nAbout the tables\n================\n")
    assert head == "Provenance\n==========\nData source: demo\n"
    lines = notes.splitlines()
    assert lines[0] == "estimates.csv"
    assert lines[1].startswith("  arm: treatment arm: surgery = resection")
    assert lines[2] == "  patients: patients in the analysis (a count)."
    assert lines[4] == "  <11: a count from 1 to 10, hidden by small-cell suppression (k = 11)."
    assert lines[5].startswith("  *: a count hidden only so that a hidden count cannot be recovered by subtraction")
    assert "other.csv" not in notes  # nothing known, nothing marked: nothing said


def test_xlsx_methods_sheet_defines_the_columns_and_explains_the_marks():
    wb = _load(xlsx_bytes({"Estimates": _suppressed_table(), "Other": pd.DataFrame({"x": [1]})},
                          {"Data source": "demo"}))
    assert wb.sheetnames == ["Estimates", "Other", "Methods"]
    rows = [(r[0].value, r[1].value) for r in wb["Methods"].iter_rows(min_row=2)]
    assert rows[0] == ("Data source", "demo") and rows[1] == (None, None)
    assert rows[2][0] == "About the tables"
    notes = dict(rows[3:])
    assert list(notes) == ["Estimates: arm", "Estimates: patients", "Estimates: events", "Estimates: <11",
                           "Estimates: *"]
    assert notes["Estimates: <11"] == "a count from 1 to 10, hidden by small-cell suppression (k = 11)."
    ws = wb["Estimates"]
    assert ws["B2"].value == "<11" and ws["B3"].value == 40 and ws["B3"].data_type == "n"


@pytest.mark.parametrize("name", ["../x.csv", "/abs.csv", "a/../../b", "C:x", "README.txt", ""])
def test_zip_rejects_unsafe_or_reserved_names(name):
    with pytest.raises(ValueError):
        zip_bytes({name: b""}, {})


# -- small-cell suppression ----------------------------------------------------------------------------------
def _rows(df: pd.DataFrame) -> list[list]:
    return df.astype(object).where(df.notna(), None).values.tolist()


def test_primary_suppression_only_without_totals():
    t = pd.DataFrame({"arm": ["S", "C"], "a": [0, 10], "b": [1, 11], "c": [pd.NA, 150]})
    t["c"] = t["c"].astype("Int64")
    out = suppress_small_counts(t, ["a", "b", "c"])
    assert _rows(out) == [["S", 0, "<11", None], ["C", "<11", 11, 150]]
    assert _rows(t)[0] == ["S", 0, 1, None]  # input untouched


def test_threshold_k():
    out = suppress_small_counts(pd.DataFrame({"a": [4, 5, 0]}), ["a"], k=5)
    assert _rows(out) == [["<5"], [5], [0]]


def test_row_totals_complementary_suppression():
    t = pd.DataFrame(
        {
            "a": [5, 5, 0, 0, 5],
            "b": [20, 7, 4, 12, None],
            "c": [30, 30, 0, 0, 0],
            "total": [55, 42, 4, 12, 40],
        }
    )
    out = suppress_small_counts(t, ["a", "b", "c"], total_column="total")
    assert _rows(out) == [
        ["<11", COMPLEMENTARY, 30, 55],  # 5 recoverable as 55-20-30: next smallest (20) hidden too
        ["<11", "<11", 30, 42],  # two hidden cells: their sum only is known
        [0, "<11", 0, "<11"],  # small total hidden by primary suppression
        [0, 12, 0, 12],
        ["<11", None, 0, COMPLEMENTARY],  # no other non-zero cell: the total is hidden
    ]


def test_column_totals_complementary_suppression():
    t = pd.DataFrame({"a": [4, 30, 25, 59], "b": [12, 13, 14, 39]}, index=["x", "y", "z", "Total"])
    out = suppress_small_counts(t, ["a", "b"], total_row="Total")
    assert _rows(out) == [["<11", 12], [30, 13], [COMPLEMENTARY, 14], [59, 39]]


def test_both_totals_cascade_until_safe():
    t = pd.DataFrame(
        {"a": [3, 20, 40, 63], "b": [50, 30, 60, 140], "t": [53, 50, 100, 203]},
        index=["r0", "r1", "r2", "T"],
    )
    out = suppress_small_counts(t, ["a", "b"], total_column="t", total_row="T")
    assert _rows(out) == [
        ["<11", COMPLEMENTARY, 53],
        [COMPLEMENTARY, COMPLEMENTARY, 50],
        [40, 60, 100],
        [63, 140, 203],
    ]


@pytest.mark.parametrize(
    ("table", "kwargs", "message"),
    [
        (pd.DataFrame({"a": [-1]}), {}, "non-negative"),
        (pd.DataFrame({"a": [1.5]}), {}, "non-negative integers"),
        (pd.DataFrame({"a": [1]}), {"k": 1}, "k must"),
        (pd.DataFrame({"a": [1]}), {"total_column": "a"}, "total_column"),
        (pd.DataFrame({"a": [1]}), {"total_column": "zz"}, "unknown column"),
        (pd.DataFrame({"a": [1]}), {"total_row": "T"}, "total_row"),
    ],
)
def test_suppression_validation(table, kwargs, message):
    with pytest.raises(ValueError, match=message):
        suppress_small_counts(table, ["a"], **kwargs)


def test_suppressed_table_exports_cleanly():
    out = suppress_small_counts(pd.DataFrame({"arm": ["S"], "a": [3], "b": [40]}), ["a", "b"])
    assert csv_bytes(out).decode("utf-8-sig") == "arm,a,b\nS,<11,40\n"
    ws = _load(xlsx_bytes({"t": out}, {}))["t"]
    assert ws["B2"].value == "<11" and ws["C2"].value == 40 and ws["C2"].data_type == "n"


# -- figures (Kaleido + Debian's Chromium) ----------------------------------------------------------------------
def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def figure():
    require_chromium()
    fig = go.Figure(go.Scatter(x=[0, 6, 12], y=[1.0, 0.7, 0.4], name="Surgery", line={"color": "#0072B2"}))
    fig.update_layout(title="Overall survival")
    return fig


def test_figure_png_presets_and_explicit_size(figure):
    assert _png_size(figure_png(figure, preset="slide")) == (1600, 900)
    assert _png_size(figure_png(figure, preset="journal column"))[0] == 1004  # 85 mm at 300 dpi
    assert _png_size(figure_png(figure, width=400, height=300, scale=2)) == (800, 600)


def test_figure_png_uses_layout_size_unless_told(figure):
    sized = go.Figure(figure).update_layout(width=700, height=380)
    assert _png_size(figure_png(sized)) == (700, 380)
    assert _png_size(figure_png(sized, preset="slide")) == (1600, 900)


def test_figure_svg(figure):
    svg = figure_svg(figure, width=640, height=480).decode("utf-8")
    assert svg.startswith("<svg")
    assert 'width="640"' in svg and 'height="480"' in svg
    assert "Overall survival" in svg


def test_figure_validation(figure):
    with pytest.raises(ValueError, match="preset"):
        figure_png(figure, preset="poster")
    with pytest.raises(ValueError, match="width"):
        figure_png(figure, width=5)
    with pytest.raises(ValueError, match="plotly Figure"):
        figure_png({"data": []})



# -- linked (block) suppression: expected marks worked out by hand --------------------------------------
def test_linked_one_small_cell_gets_the_smallest_other_nonzero_as_complement():
    # a = 3 could be recovered as 73 - 50 - 20: the smallest other non-zero (c = 20) is hidden too
    assert linked_suppression({"a": 3, "b": 50, "c": 20}, [["a", "b", "c"]]) == {"a": "<11", "c": COMPLEMENTARY}


def test_linked_two_small_cells_need_no_complement():
    assert linked_suppression({"a": 3, "b": 5, "c": 40}, [["a", "b", "c"]]) == {"a": "<11", "b": "<11"}


def test_linked_zeros_are_never_hidden_nor_chosen():
    marks = linked_suppression({"a": 0, "b": 3, "c": 0, "d": 30, "e": 12}, [["a", "b", "c", "d", "e"]])
    assert marks == {"b": "<11", "e": COMPLEMENTARY}
    # nothing non-zero left to hide: left alone (the hidden count is the whole total)
    assert linked_suppression({"a": 3, "b": 0}, [["a", "b"]]) == {"a": "<11"}


def test_linked_ties_go_to_the_first_cell():
    assert linked_suppression({"a": 3, "b": 20, "c": 20}, [["a", "b", "c"]]) == {"a": "<11", "b": COMPLEMENTARY}


def test_linked_suppression_repeats_until_stable_across_lines():
    # levels 20 + 30 = known 50; known 50 + missing 4 = arm of 54. Missing 4 is small; hiding it alone
    # is undone by 54 - 50, so "known" is hidden; then known = 20 + 30 again, so the level 20 is hidden.
    values = {"n1": 20, "n2": 30, "known": 50, "missing": 4}
    lines = [["n1", "n2", "known"], ["known", "missing"]]
    assert linked_suppression(values, lines) == {"n1": COMPLEMENTARY, "known": COMPLEMENTARY, "missing": "<11"}


def test_linked_weighted_counts_and_threshold():
    assert linked_suppression({"a": 10.5, "b": 11.0, "c": 40.0}, [["a", "b", "c"]]) == {"a": "<11", "b": COMPLEMENTARY}
    assert linked_suppression({"a": 4, "b": 5, "c": 40}, [["a", "b", "c"]], k=5) == {"a": "<5", "b": COMPLEMENTARY}
    assert linked_suppression({"a": 12, "b": 40}, [["a", "b"]]) == {}
    with pytest.raises(ValueError, match="k must be"):
        linked_suppression({"a": 1}, [["a"]], k=1)
    with pytest.raises(ValueError, match="non-negative"):
        linked_suppression({"a": -1}, [["a"]])
    with pytest.raises(ValueError, match="unknown cell"):
        linked_suppression({"a": 1}, [["a", "b"]])


def test_text_counts_inside_notes_are_hidden():
    notes = pd.DataFrame({"note": ["only 7 surgery patients (fewer than 10); only 12 chemotherapy patients",
                                   "only 1 events (fewer than 5)", "17 [12, 18] (n=5)", "15 [11, 20] (n=45)",
                                   "0 / 0", "only 0 patients"]})
    assert suppress_text_counts(notes, k=11)["note"].tolist() == [
        "only <11 surgery patients (fewer than 10); only 12 chemotherapy patients",
        "only <11 events (fewer than 5)", "17 [12, 18] (n=<11)", "15 [11, 20] (n=45)", "0 / 0", "only 0 patients"]


def test_text_counts_of_the_adjuvant_groups_are_hidden():
    # core.outcomes.adjuvant_landmark names its groups "adjuvant-treated" and "no-adjuvant" (core.guards.ArmCounts)
    note = pd.DataFrame({"note": ["only 2 deaths among the 8 no-adjuvant patients",
                                  "only 4 adjuvant-treated patients; 30 no-adjuvant patients"]})
    assert suppress_text_counts(note, k=11)["note"].tolist() == [
        "only <11 deaths among the <11 no-adjuvant patients", "only <11 adjuvant-treated patients; 30 no-adjuvant patients"]


def test_linked_cells_hidden_from_the_start_are_protected_too():
    # "b" (30) is hidden up front (its unshown complement is small): the line then needs a second hidden cell
    assert linked_suppression({"a": 40, "b": 30, "c": 12}, [["a", "b", "c"]], hide=["b"]) == {
        "b": COMPLEMENTARY, "c": COMPLEMENTARY}
    assert linked_suppression({"a": 0, "b": 30}, [["a", "b"]], hide=["a"]) == {}  # zeros stay shown
    with pytest.raises(ValueError, match="hide names"):
        linked_suppression({"a": 1}, [["a"]], hide=["z"])


# -- counts outside formatted tables (pages and report under suppression) -------------------------------
def test_count_text_hides_one_to_k_minus_one_only():
    assert [count_text(n, k=11) for n in (0, 1, 10, 11, 250)] == ["0", "<11", "<11", "11", "250"]
    assert count_text(np.int64(3), k=5) == "<5" and count_text(3, k=None) == "3"
    with pytest.raises(ValueError, match="k must be"):
        count_text(3, k=1)


def test_hide_bare_counts_only_touches_text_that_is_a_small_count():
    t = pd.DataFrame({"Surgery": ["24", "7", "18.8 (7.9–33.2)", "62% (40%–78%)"],
                      "Chemotherapy": ["10", " 1 ", "0", "8 months"],
                      "n": [3, 4, 5, 6]}, index=["Patients", "Deaths", "Median", "1-year"])
    out = hide_bare_counts(t, k=11)
    assert out["Surgery"].tolist() == ["24", "<11", "18.8 (7.9–33.2)", "62% (40%–78%)"]
    assert out["Chemotherapy"].tolist() == ["<11", "<11", "0", "8 months"]
    assert out["n"].tolist() == [3, 4, 5, 6]  # numbers are not text: suppress_small_counts handles them
    assert list(out.index) == ["Patients", "Deaths", "Median", "1-year"]
    assert hide_bare_counts(t, k=5)["Chemotherapy"].tolist() == ["10", "<5", "0", "8 months"]
    assert hide_bare_counts(t, k=None) is t
    assert hide_bare_counts(t.iloc[:0], k=11).empty
    with pytest.raises(ValueError, match="k must be"):
        hide_bare_counts(t, k=True)


def test_blank_binary_means_keeps_continuous_terms_and_smds():
    nan = float("nan")
    b = pd.DataFrame({
        "mean_treated_before": [57.8, 0.711, 0.053], "mean_control_after": [60.7, 0.625, 0.042],
        "smd_after": [-0.068, 0.092, -0.187], "var_ratio_before": [2.13, nan, nan], "var_ratio_after": [2.08, nan, nan],
    }, index=["Age", "Regimen: FOLFIRINOX", "Regimen: GEM"])
    out = blank_binary_means(b, k=11)
    assert out.loc["Age", "mean_treated_before"] == 57.8 and out.loc["Age", "mean_control_after"] == 60.7
    assert out.loc[["Regimen: FOLFIRINOX", "Regimen: GEM"], ["mean_treated_before", "mean_control_after"]].isna().all().all()
    assert out["smd_after"].tolist() == [-0.068, 0.092, -0.187]
    assert b.loc["Regimen: GEM", "mean_treated_before"] == 0.053  # the input is not changed
    # one missing variance ratio (before or after) marks the term as binary
    b2 = b.copy()
    b2.loc["Age", "var_ratio_after"] = nan
    assert blank_binary_means(b2, k=11)["mean_treated_before"].isna().all()
    # without variance ratios every term's means are blanked (nothing tells continuous terms apart)
    assert blank_binary_means(b.drop(columns=["var_ratio_before", "var_ratio_after"]), k=11)[
        "mean_treated_before"].isna().all()
    assert blank_binary_means(b, k=None) is b


def test_hide_hover_at_risk_changes_only_the_at_risk_hover_of_km_curves():
    template = "<b>Surgery</b><br>Survival %{y}<br>" + AT_RISK_HOVER + "<extra></extra>"
    fig = go.Figure([
        go.Scatter(x=[0, 6, 12, 18], y=[1, 0.8, 0.5, 0.3], hovertemplate=template,
                   customdata=[[1.0, 1.0, 24], [0.6, 0.9, 11.0], [0.3, 0.7, 10.0], [0.1, 0.5, 1]]),
        go.Scatter(x=[1], y=[2], customdata=[[0, 0, 3]], hovertemplate="other %{customdata[2]}"),
    ])
    out = hide_hover_at_risk(fig, k=11)
    assert out is fig
    assert [row[2] for row in out.data[0].customdata] == [24, 11.0, "<11", "<11"]
    assert [list(row[:2]) for row in out.data[0].customdata] == [[1.0, 1.0], [0.6, 0.9], [0.3, 0.7], [0.1, 0.5]]
    assert list(out.data[1].customdata[0]) == [0, 0, 3]
    plain = go.Figure(go.Scatter(x=[0], y=[1], customdata=[[1.0, 1.0, 3]], hovertemplate=template))
    assert list(hide_hover_at_risk(plain, k=None).data[0].customdata[0]) == [1.0, 1.0, 3]


def test_figures_from_the_demo_are_marked_synthetic(figure):
    from core.export import SYNTHETIC_MARK, mark_synthetic

    marked = figure_svg(mark_synthetic(figure), width=640, height=480).decode("utf-8")
    assert "Synthetic demo data" in marked and SYNTHETIC_MARK.startswith("Synthetic demo data")
    assert "Synthetic demo data" not in figure_svg(figure, width=640, height=480).decode("utf-8")
    assert not figure.layout.annotations  # the figure shown on screen is not changed
