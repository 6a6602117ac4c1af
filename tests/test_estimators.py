"""Tests for core.estimators: the whole table of the time-dependent Cox model.

Expected values come from R's ``survival`` 3.5.3: ``coxph(Surv(start, stop, event) ~ treated + x_...,
cluster = row)`` on the (start, stop] episodes in tests/fixtures/td_cox/*.csv (written by
tests/r/export_td_cox_data.py from the demo cohort; R script tests/r/make_td_cox_fixtures.R).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import cohort, estimators, survival
from core.analysis import run
from core.spec import AnalysisSpec

FIX = Path(__file__).resolve().parent / "fixtures" / "td_cox"
REF = json.loads((FIX / "reference.json").read_text())["cases"]
RTOL = 1e-6
REGENERATE = "the demo or the model changed: python tests/r/export_td_cox_data.py && Rscript tests/r/make_td_cox_fixtures.R"


@pytest.fixture(scope="module")
def demo():
    return cohort.demo()


def _model(demo, query: str) -> estimators.ModelTable:
    res = run(demo, AnalysisSpec.from_query(dict(p.split("=") for p in query.split("&") if p)))
    td = next(c for c in res.comparisons if c.key == "time_dependent")
    assert td.model is not None
    return td.model


@pytest.mark.parametrize("case", sorted(REF))
def test_episode_data_fit_equals_r(case):
    # independent of the demo cohort: the committed episodes, fitted as the estimator fits them
    r = REF[case]
    cp = pd.read_csv(FIX / f"{case}.csv")
    fit = survival.cox_time_varying(cp, "start", "stop", "event", r["terms"], cluster="row")
    np.testing.assert_allclose(fit.table["coef"], r["coef"], rtol=RTOL)
    np.testing.assert_allclose(fit.table["se"], r["robust_se"], rtol=RTOL)
    np.testing.assert_allclose(fit.table["p"], r["p"], rtol=RTOL)


@pytest.mark.parametrize("case", sorted(REF))
def test_every_term_of_the_time_dependent_model_equals_r(demo, case):
    r = REF[case]
    t = _model(demo, r["query"]).table
    assert ["x_" + term if term != "treated" else term for term in t["term"]] == r["terms"], REGENERATE
    for col, ref in (("hr", "hr"), ("lower", "lower"), ("upper", "upper"), ("p", "p"), ("coef", "coef"),
                     ("se", "robust_se")):
        np.testing.assert_allclose(t[col].to_numpy(float), r[ref], rtol=RTOL, err_msg=f"{col}: {REGENERATE}")


@pytest.mark.parametrize("case", sorted(REF))
def test_model_counts_patients_not_episodes(demo, case):
    r = REF[case]
    m = _model(demo, r["query"])
    assert m.n_patients == r["n_patients"] < r["n"]  # R's n counts episodes
    assert m.n_events == r["nevent"]
    assert f"{m.n_patients} patients" in m.note


def test_the_surgery_row_is_the_headline_hazard_ratio(demo):
    res = run(demo, AnalysisSpec(method="time_dependent"))
    t = res.chosen.model.table
    assert t.loc[0, "term"] == "treated" and t.loc[0, "label"] == estimators.SURGERY_TERM_LABEL
    assert t.loc[0, "compared_with"].startswith("vs chemotherapy alone")
    assert t.loc[0, "hr"] == res.hr.hr and t.loc[0, "lower"] == res.hr.lower and t.loc[0, "p"] == res.hr.p


def test_terms_are_in_words_with_what_they_are_compared_with(demo):
    t = _model(demo, "").table.set_index("term")
    assert t.loc["chemo_regimenGEM_NABPAC", "label"] == "Regimen: Gemcitabine + nab-paclitaxel"
    assert t.loc["chemo_regimenGEM_NABPAC", "compared_with"] == "vs FOLFIRINOX"
    assert t.loc["age_at_diagnosis", "compared_with"] == "per year older"
    assert t.loc["objective_response", "compared_with"] == "yes vs no"
    assert t.loc["log_ca19_9_baseline", "compared_with"].startswith("per 1 unit of log(1 + CA19-9")
    assert not any(lab.startswith("x_") or "_" in lab for lab in t["label"])


def test_no_estimate_means_no_model_table(demo):
    res = run(demo, AnalysisSpec(hepatectomy="major", method="time_dependent"))
    assert not res.hr.estimated
    assert res.chosen.model is None


def test_model_table_of_a_plain_cox_fit_uses_the_fits_counts():
    df = pd.DataFrame({"time": [5, 8, 3, 9, 4, 7, 6, 2, 10, 1], "event": [1, 1, 1, 0, 1, 1, 0, 1, 1, 1],
                       "g": ["a", "b", "a", "b", "a", "b", "a", "b", "b", "a"]})
    from core.design import build_design

    d = build_design(df, ["g"], missing="raise")
    fit = survival.cox(pd.concat([df[["time", "event"]], d.matrix.add_prefix("x_")], axis=1), "time", "event",
                       ["x_" + n for n in d.names])
    m = estimators.model_table(fit, d)
    assert (m.n_patients, m.n_events) == (10, 8)
    row = m.table.iloc[0]
    assert row["compared_with"] == "vs a" and row["hr"] == pytest.approx(math.exp(row["coef"]))
