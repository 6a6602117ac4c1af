"""Tests of core.export_tables: the downloaded numbers of the Overview and Survival pages.

Expected values are recomputed from the matched sample with core.survival (checked against R in
test_survival.py) or counted by hand, never read from the table under test.
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core import analysis, cohort, export, export_tables, survival
from core.dictionary import Arm
from core.export_notes import column_note
from core.population import EVENT, TIME, TREATED
from core.spec import AnalysisSpec


@pytest.fixture(scope="module")
def demo():
    return cohort.demo()


@pytest.fixture(scope="module")
def res(demo):
    return analysis.run(demo, AnalysisSpec())


def _arm(res, treated: int) -> pd.DataFrame:
    m = res.match.matched
    return m[m[TREATED] == treated]


def _all_tables(res, k=None) -> dict[str, pd.DataFrame]:
    return {"flow": export_tables.flow(res, k=k), "estimates": export_tables.estimates(res, k=k),
            "comparison": export_tables.comparison(res, k=k), "km": export_tables.km_estimates(res),
            "risk": export_tables.number_at_risk(res, k=k), "methods": export_tables.immortal_time_methods(res, k=k)}


def test_comparison_carries_the_log_rank_test_and_the_rmst(res):
    t = export_tables.comparison(res).set_index("quantity")
    m = res.match.matched
    lr = survival.logrank(m[TIME], m[EVENT], m[TREATED])
    assert t.loc["log-rank test", "p"] == pytest.approx(lr.p, rel=1e-12)
    tau = min(36.0, _arm(res, 1)[TIME].max(), _arm(res, 0)[TIME].max())
    rm = survival.rmst_difference(m[TIME], m[EVENT], m[TREATED], tau)
    diff = t.loc["restricted mean survival time difference, surgery minus chemotherapy"]
    assert (diff["estimate"], diff["lower_95"], diff["upper_95"], diff["p"], diff["tau_months"]) == pytest.approx(
        (rm.difference, rm.lower, rm.upper, rm.p, tau), rel=1e-12)
    assert diff["unit"] == "months"
    for treated, arm in ((1, Arm.SURGERY), (0, Arm.CHEMOTHERAPY)):
        part = _arm(res, treated)
        alone = survival.rmst(part[TIME], part[EVENT], tau)
        assert t.loc[f"restricted mean survival time, {arm}", "estimate"] == pytest.approx(alone.rmst, rel=1e-12)
    hr = t.loc["hazard ratio, surgery vs chemotherapy"]
    cox = survival.cox(m, TIME, EVENT, [TREATED], cluster="subclass").table.loc[TREATED]
    assert (hr["estimate"], hr["lower_95"], hr["upper_95"]) == pytest.approx((cox["hr"], cox["lower"], cox["upper"]))
    assert hr["unit"] == "ratio" and "Landmark at 6 months" in hr["note"]
    assert set(t["time_origin"]) == {"landmark at 6 months after the start of chemotherapy"}


def test_comparison_says_why_the_tests_are_missing_with_weighted_curves(demo):
    t = export_tables.comparison(analysis.run(demo, AnalysisSpec(ratio=2))).set_index("quantity")
    for row in ("log-rank test", "restricted mean survival time difference, surgery minus chemotherapy"):
        assert math.isnan(t.loc[row, "p"])
        assert "weighted" in t.loc[row, "note"] and "ignore the weights" in t.loc[row, "note"]


def test_estimates_are_numbers_recomputed_from_the_matched_sample(res):
    t = export_tables.estimates(res).set_index("arm")
    assert list(t.index) == [Arm.SURGERY, Arm.CHEMOTHERAPY]
    for treated, arm in ((1, Arm.SURGERY), (0, Arm.CHEMOTHERAPY)):
        part = _arm(res, treated)
        assert t.loc[arm, "patients"] == len(part) and t.loc[arm, "events"] == int(part[EVENT].sum())
        med = survival.median_survival(part[TIME], part[EVENT])
        assert (t.loc[arm, "median_months"], t.loc[arm, "median_lower_95"]) == pytest.approx((med.median, med.lower))
        at = survival.survival_at(part[TIME], part[EVENT], [12.0, 24.0, 36.0]).set_index("time")
        for month in (12, 24, 36):
            assert t.loc[arm, f"survival_at_{month}_months"] == pytest.approx(at.loc[float(month), "survival"])
            assert t.loc[arm, f"survival_at_{month}_months_upper_95"] == pytest.approx(at.loc[float(month), "upper"])
    numeric = t.drop(columns=["time_origin", "note"])
    assert all(pd.api.types.is_numeric_dtype(numeric[c]) for c in numeric.columns), numeric.dtypes


def test_number_at_risk_counted_by_hand(res):
    t = export_tables.number_at_risk(res)
    assert list(t.columns) == ["months_since_landmark", "n_at_risk_surgery", "n_at_risk_chemotherapy"]
    for _, row in t.iterrows():
        for treated, arm in ((1, Arm.SURGERY), (0, Arm.CHEMOTHERAPY)):
            times = _arm(res, treated)[TIME].to_numpy()
            assert row[f"n_at_risk_{arm}"] == int((times >= row["months_since_landmark"]).sum())


def test_km_table_names_its_time_origin_and_its_standard_error(demo, res):
    t = export_tables.km_estimates(res)
    assert list(t.columns) == ["arm", "months_since_landmark", "n_risk", "n_event", "n_censor", "survival",
                               "se_neg_log_survival", "survival_lower_95", "survival_upper_95"]
    part = _arm(res, 1)
    km = survival.kaplan_meier(part[TIME], part[EVENT])
    got = t[t["arm"] == Arm.SURGERY]
    np.testing.assert_allclose(got["se_neg_log_survival"], km["std_err"])
    # the standard error of -log S: Greenwood's sum d / (n (n - d)) at the first event time, by hand
    first = got.iloc[0]
    d, n = first["n_event"], first["n_risk"]
    assert first["se_neg_log_survival"] == pytest.approx(math.sqrt(d / (n * (n - d))))
    naive = export_tables.km_estimates(analysis.run(demo, AnalysisSpec(method="naive", origin="diagnosis")))
    assert "months_since_diagnosis" in naive.columns
    naive = export_tables.number_at_risk(analysis.run(demo, AnalysisSpec(method="naive")))
    assert naive.columns[0] == "months_since_chemotherapy_start"


def test_every_exported_column_is_defined_in_the_download(res):
    for name, table in _all_tables(res).items():
        undefined = [c for c in table.columns if column_note(c) is None]
        assert not undefined, (name, undefined)


def test_small_counts_are_suppressed_with_k(res):
    k = max(_arm(res, 1).shape[0], _arm(res, 0).shape[0]) + 1  # above both arms' matched patients
    tables = _all_tables(res, k=k)
    est = tables["estimates"]
    assert est["patients"].tolist() == [f"<{k}", f"<{k}"]
    risk = tables["risk"]
    assert f"<{k}" in risk["n_at_risk_chemotherapy"].tolist()
    for name, table in tables.items():
        if name == "km":
            continue  # event-level life tables: withheld by the page under suppression
        for col in table.columns:
            ints = [v for v in table[col] if isinstance(v, (int, np.integer)) and not isinstance(v, bool)]
            assert not [v for v in ints if 1 <= v < k], (name, col)


def test_downloads_keep_numbers_numeric_and_explain_marks(res):
    k = max(_arm(res, 1).shape[0], _arm(res, 0).shape[0]) + 1  # above both arms' matched patients
    sheets = {"Estimates": export_tables.estimates(res, k=k), "Comparison": export_tables.comparison(res),
              "Number at risk": export_tables.number_at_risk(res, k=11)}
    wb = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(sheets, {"Data source": "demo"})))
    ws = wb["Estimates"]
    header = [c.value for c in ws[1]]
    for name in ("median_months", "survival_at_12_months", "survival_at_36_months_lower_95"):
        col = header.index(name) + 1
        cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
        assert all(c.data_type == "n" and isinstance(c.value, float) for c in cells), name
    risk = wb["Number at risk"]
    assert all(risk.cell(row=r, column=1).data_type == "n" for r in range(2, risk.max_row + 1))
    counts = [risk.cell(row=r, column=2).value for r in range(2, risk.max_row + 1)]
    assert all(isinstance(v, int) or v == "<11" for v in counts) and 0 < counts.count("<11") < len(counts)
    methods = {row[0].value: row[1].value for row in wb["Methods"].iter_rows() if row[0].value}
    assert methods[f"Estimates: <{k}"].startswith(f"a count from 1 to {k - 1}")
    assert methods["Number at risk: <11"].startswith("a count from 1 to 10")
    assert methods["Comparison: unit"].startswith("unit of estimate")
    files = {f"{k}.csv": export.csv_bytes(v) for k, v in sheets.items()}
    with zipfile.ZipFile(io.BytesIO(export.zip_bytes(files, {"Data source": "demo"}))) as z:
        readme = z.read("README.txt").decode()
        back = pd.read_csv(z.open("Comparison.csv"), encoding="utf-8-sig")
    assert "Estimates.csv\n  arm: treatment arm" in readme and f"  <{k}: a count from 1 to {k - 1}" in readme
    assert "Comparison.csv\n  quantity:" in readme
    assert pd.api.types.is_float_dtype(back["estimate"]) and pd.api.types.is_float_dtype(back["p"])
