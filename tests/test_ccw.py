"""Tests for core.ccw (clone-censor-weight target-trial emulation).

Expected values of the whole procedure (cloning, censoring, the Cox censoring models, the IPC
weights, the weighted Kaplan-Meier curves, survival and RMST at 12/24/36 months, the weighted Cox
model and its robust SE) come from R ``survival`` 3.5.3 following the tutorial's published R code
step by step (tests/r/make_ccw_fixtures.R, which splits at every follow-up time as the tutorial
does; core.ccw splits only where the censoring hazard jumps) on the demo patients of
tests/fixtures/ccw/demo.csv (tests/r/export_ccw_data.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import ccw, cohort, survival
from core.spec import AnalysisSpec

HERE = Path(__file__).resolve().parent / "fixtures" / "ccw"
R = json.loads((HERE / "ccw.json").read_text())
DEMO = pd.read_csv(HERE / "demo.csv")
RTOL = 1e-7


def _fit(case: dict) -> ccw.StrategyFit:
    cols = ["x_" + c for c in case["covariates"]]
    X = DEMO[cols].rename(columns=lambda c: c[2:]) if cols else None
    return ccw.fit_strategies(DEMO["time"].to_numpy(float), DEMO["event"].to_numpy(float),
                              DEMO["surgery"].to_numpy(float), X, float(case["grace"]))


def _arr(x) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(x)], dtype=float)


@pytest.mark.parametrize("name", sorted(R["cases"]))
def test_censoring_models_equal_the_tutorial_in_r(name):
    case = R["cases"][name]
    fit = _fit(case)
    for arm in ("resect", "no_resect"):
        ref = case["censoring"][arm]
        model = fit.models[arm]
        coef = ref["coef"] if isinstance(ref["coef"], dict) else {}
        assert sorted(model.coefficients.index) == sorted(coef)
        for term, value in coef.items():
            assert model.coefficients[term] == pytest.approx(value, rel=1e-6, abs=1e-9)
        np.testing.assert_allclose(model.times, _arr(ref["basehaz"]["time"]), rtol=RTOL)
        np.testing.assert_allclose(model.cumhaz, _arr(ref["basehaz"]["hazard"]), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(R["cases"]))
def test_weighted_curves_survival_and_rmst_equal_r(name):
    case = R["cases"][name]
    fit = _fit(case)
    for arm in ("resect", "no_resect"):
        ref, km = case["km"][arm], fit.km[arm]
        np.testing.assert_allclose(km["time"], _arr(ref["time"]), rtol=RTOL)
        np.testing.assert_allclose(km["n_risk"], _arr(ref["n_risk"]), rtol=1e-6)
        np.testing.assert_allclose(km["n_event"], _arr(ref["n_event"]), rtol=1e-6)
        np.testing.assert_allclose(km["survival"], _arr(ref["survival"]), rtol=1e-6)
    v = fit.values.reshape(2, 3, 3)  # (survival, rmst) x horizon x (resect, no_resect, difference)
    for k, key in enumerate(("at", "rmst")):
        np.testing.assert_allclose(v[k, :, 0], _arr(case["km"]["resect"][key]), rtol=1e-6)
        np.testing.assert_allclose(v[k, :, 1], _arr(case["km"]["no_resect"][key]), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(R["cases"]))
def test_weighted_cox_and_robust_se_equal_r(name):
    case = R["cases"][name]
    hr, lower, upper, p, se = ccw.weighted_cox(_fit(case).rows)
    assert np.log(hr) == pytest.approx(case["cox"]["coef"], rel=1e-6)
    assert se == pytest.approx(case["cox"]["robust_se"], rel=1e-6)
    assert lower < hr < upper


def test_splitting_only_at_censoring_jumps_gives_fewer_rows_than_the_tutorial():
    case = R["cases"]["grace9"]
    assert len(_fit(case).rows) < case["split_rows"]


def test_clone_rules_by_hand():
    # 0: operated at 4 (within G=9), dies at 20; 1: dies at 5 unoperated (before G); 2: operated at 12 (after G);
    # 3: never operated, dies at 14; 4: operated at 6, censored alive at 7.
    c = ccw.clone([20.0, 5.0, 30.0, 14.0, 7.0], [1, 1, 0, 1, 0], [4.0, np.nan, 12.0, np.nan, 6.0], grace=9.0)
    r = c[c["arm"] == 1].set_index("row")
    n = c[c["arm"] == 0].set_index("row")
    assert r.loc[0.0, ["fup", "outcome", "censored"]].tolist() == [20.0, 1.0, 0.0]
    assert r.loc[1.0, ["fup", "outcome", "censored"]].tolist() == [5.0, 1.0, 0.0]  # death before G: in both arms
    assert n.loc[1.0, ["fup", "outcome", "censored"]].tolist() == [5.0, 1.0, 0.0]
    assert r.loc[2.0, ["fup", "outcome", "censored"]].tolist() == [9.0, 0.0, 1.0]  # operated too late
    assert n.loc[2.0, ["fup", "outcome", "censored"]].tolist() == [12.0, 0.0, 1.0]  # censored at surgery
    assert r.loc[3.0, ["fup", "outcome", "censored"]].tolist() == [9.0, 0.0, 1.0]
    assert n.loc[3.0, ["fup", "outcome", "censored"]].tolist() == [14.0, 1.0, 0.0]
    assert n.loc[4.0, ["fup", "outcome", "censored"]].tolist() == [6.0, 0.0, 1.0]


def test_efron_baseline_hazard_with_ties_by_hand():
    # two tied censorings at 2 among 3 at risk (risk 1): 1/3 + 1/(3 - 1) = 0.8333 (Efron), not 2/3 (Breslow)
    m = ccw.censoring_model(np.array([2.0, 2.0, 5.0]), np.array([1.0, 1.0, 0.0]), None)
    assert m.cumhaz.tolist() == pytest.approx([1 / 3 + 1 / 2])


def test_weighted_km_without_entry_times_equals_the_r_checked_kaplan_meier():
    rng = np.random.default_rng(4)
    t = np.round(rng.exponential(10, 60), 1) + 0.1
    e = (rng.random(60) < 0.7).astype(float)
    w = rng.uniform(0.5, 3, 60)
    mine = ccw.weighted_km(np.zeros(60), t, e, w)
    ref = survival.kaplan_meier(t, e, weights=w)
    ref = ref[ref["n_event"] > 0]
    np.testing.assert_allclose(mine["survival"], ref["survival"], rtol=1e-12)
    np.testing.assert_allclose(mine["n_risk"], ref["n_risk"], rtol=1e-12)


def test_weights_are_one_before_the_first_deviation():
    fit = _fit(R["cases"]["grace9"])
    rows = fit.rows[fit.rows["arm"] == 1]
    assert (rows.loc[rows["start"] < 9.0, "weight"] == 1.0).all()
    assert (rows.loc[rows["start"] >= 9.0, "weight"] > 1.0).all()


@pytest.fixture(scope="module")
def demo_result():
    return ccw.run(cohort.demo(), AnalysisSpec(), n_boot=40)


def test_demo_gives_numbers_intervals_and_a_headline(demo_result):
    r = demo_result
    assert r.estimated and np.isfinite(r.hr)
    two = r.table[(r.table["measure"] == "Survival") & (r.table["months"] == 24.0)].iloc[0]
    assert two["lower"] <= two["difference"] <= two["upper"]
    assert ccw.headline(r).startswith("At 2 years")
    assert "resect within 9 months" in r.estimand
    assert r.n_boot == 40 and r.n_boot_ok <= 40


def test_bootstrap_is_reproducible_with_its_seed_and_changes_with_another():
    c = cohort.demo()
    a = ccw.run(c, AnalysisSpec(), n_boot=15, seed=1).table
    b = ccw.run(c, AnalysisSpec(), n_boot=15, seed=1).table
    other = ccw.run(c, AnalysisSpec(), n_boot=15, seed=2).table
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["lower"].to_numpy(float), other["lower"].to_numpy(float), equal_nan=True)


def test_estimates_table_has_the_hazard_ratio_and_states_the_intervals(demo_result):
    t = ccw.estimates_table(demo_result)
    assert t["measure"].iloc[-1].startswith("Hazard ratio")
    assert t["interval"].iloc[0] == "bootstrap percentile, 40 replicates, seed 20240101"


@pytest.mark.parametrize("changes", [
    {"eligibility": ("not_progressing",)}, {"eligibility": ("mets_le3", "not_progressing")},
    {"regimens": ("GEM",)}, {"mets_groups": (">3",)}, {"origin": "diagnosis"}, {"endpoint": "efs"},
    {"centres": ("C01",)},
])
def test_every_subgroup_of_the_demo_gives_numbers_or_one_plain_reason(changes):
    r = ccw.run(cohort.demo(), AnalysisSpec(**changes), n_boot=0)
    if r.estimated:
        assert np.isfinite(r.table["difference"].iloc[0])
    else:
        assert r.reason and "\n" not in r.reason
        assert r.table["difference"].isna().all()


def test_too_few_patients_operated_within_the_grace_period_gives_the_counts():
    r = ccw.run(cohort.demo(), AnalysisSpec(), grace=3.5, n_boot=0)
    assert not r.estimated
    assert "operated within 3.5 months" in r.reason and "at least 5 patients" in r.reason


@pytest.mark.parametrize("bad", [0.0, 30.0, "9"])
def test_a_grace_period_outside_the_range_is_refused(bad):
    with pytest.raises(ValueError, match="grace period"):
        ccw.run(cohort.demo(), AnalysisSpec(), grace=bad, n_boot=0)


def test_display_table_shows_levels_in_percent_and_differences_in_points(demo_result):
    t = ccw.display_table(demo_result)
    row = t.iloc[1]
    assert row["Measure"] == "Survival at 24 months"
    surv = demo_result.table.iloc[1]
    assert row["Resect within 9 months"] == f"{100 * surv['resect']:.0f}%"
    assert row["Difference (95% CI)"].startswith(f"{100 * surv['difference']:+.0f} pts (")


def test_counts_in_words_name_who_followed_each_strategy(demo_result):
    c = demo_result.counts
    words = ccw.counts_in_words(demo_result)
    assert f"{c.n_surgery} patients operated within 9 months ({c.events_surgery} deaths)" in words
    assert f"{c.n_chemotherapy} patients never operated ({c.events_chemotherapy} deaths)" in words


def test_a_covariate_measured_after_time_zero_is_said_so(demo_result):
    assert any(n.startswith("RECIST response is measured at restaging, after time zero") for n in demo_result.notes)
    r = ccw.run(cohort.demo(), AnalysisSpec(covariates=("age_at_diagnosis", "ecog_baseline")), n_boot=0)
    assert not any("after time zero" in n for n in r.notes)
