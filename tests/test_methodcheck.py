"""Tests of core.methodcheck: summaries on a hand-made runs frame, coverage flags, a tiny simulation."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from core import methodcheck, synthetic
from core.methodcheck import compare_with_truth, simulate, summarise

NAN = float("nan")


def runs() -> pd.DataFrame:
    return pd.DataFrame({
        "cohort": [1, 2, 3, 4, 1, 2, 3, 4],
        "method": ["A"] * 4 + ["B"] * 4,
        "hr": [0.5, 1.0, 0.8, NAN, 0.35, 0.35, 0.35, 0.35],
        "lower": [0.3, 0.7, 0.6, NAN, 0.2, 0.25, 0.3, 0.1],
        "upper": [0.69, 1.4, 1.1, NAN, 0.7, 0.5, 0.5, 0.9],
        "patients": [100, 90, 80, 70, 10, 10, 10, 10],
        "events": [50, 40, 30, 20, 5, 5, 5, 5],
    })


def test_summarise_by_hand():
    s = summarise(runs(), true_hr=0.7)
    assert s.index.tolist() == ["A", "B"]
    a = s.loc["A"]
    logs = np.log([0.5, 1.0, 0.8])
    assert a["cohorts"] == 3 and a["failed"] == 1
    assert a["geometric_mean_hr"] == pytest.approx((0.5 * 1.0 * 0.8) ** (1 / 3))
    assert a["median_hr"] == pytest.approx(0.8)
    assert a["bias_log_hr"] == pytest.approx(logs.mean() - math.log(0.7))
    assert a["sd_log_hr"] == pytest.approx(math.sqrt(((logs - logs.mean()) ** 2).sum() / 2))
    # 0.69 < 0.7: not covered; [0.7, 1.4] covers (boundary included); [0.6, 1.1] covers
    assert a["coverage"] == pytest.approx(2 / 3)
    assert a["mean_patients"] == pytest.approx(85.0) and a["mean_events"] == pytest.approx(35.0)
    b = s.loc["B"]
    assert b["geometric_mean_hr"] == pytest.approx(0.35) and b["sd_log_hr"] == pytest.approx(0.0)
    # covered by [0.2, 0.7], [0.1, 0.9]; not by [0.25, 0.5], [0.3, 0.5]
    assert b["coverage"] == pytest.approx(0.5)
    assert b["bias_log_hr"] == pytest.approx(math.log(0.5))


def test_summarise_with_no_estimate_at_all():
    r = runs()
    r["hr"] = NAN
    s = summarise(r)
    assert (s["cohorts"] == 0).all() and s["coverage"].isna().all() and s["geometric_mean_hr"].isna().all()


def test_compare_with_truth_coverage_flags():
    methods = pd.DataFrame({"method": ["a", "b", "c", "d"], "HR": [0.5, 0.8, NAN, 0.3],
                            "lower": [0.3, 0.7, NAN, 0.1], "upper": [0.69, 1.2, NAN, 0.7]})
    t = compare_with_truth(SimpleNamespace(methods=methods), true_hr=0.7)
    assert t.columns.tolist() == ["Method", "True HR", "Estimated HR", "lower", "upper", "CI covers truth",
                                  "Ratio estimate / truth"]
    assert t["CI covers truth"].tolist() == ["no", "yes", "no estimate", "yes"]
    assert t["Ratio estimate / truth"].iloc[0] == pytest.approx(0.5 / 0.7)
    assert (t["True HR"] == 0.7).all()


def test_default_truth_is_the_generator_truth():
    methods = pd.DataFrame({"method": ["a"], "HR": [0.7], "lower": [0.6], "upper": [0.8]})
    assert compare_with_truth(SimpleNamespace(methods=methods))["True HR"].iloc[0] == synthetic.TRUE_HR == 0.7


def test_simulate_two_small_cohorts():
    df = simulate(2, n_surgery=80, n_chemotherapy=80)
    assert df.columns.tolist() == ["cohort", "method", "hr", "lower", "upper", "p", "patients", "events",
                                   "patients_surgery", "patients_chemotherapy", "events_surgery", "events_chemotherapy"]
    assert (df["patients"] == df["patients_surgery"] + df["patients_chemotherapy"]).all()
    assert len(df) == 6 and sorted(df["cohort"].unique()) == [1, 2]
    assert df.groupby("cohort")["method"].nunique().tolist() == [3, 3]
    ok = df["hr"].notna()
    assert ok.any()
    assert ((df.loc[ok, "lower"] <= df.loc[ok, "hr"]) & (df.loc[ok, "hr"] <= df.loc[ok, "upper"])).all()
    assert (df["patients"] <= 160).all() and (df["events"] <= df["patients"]).all()
    s = summarise(df)
    assert len(s) == 3 and (s["cohorts"] + s["failed"] == 2).all()
    assert ((0 <= s["power"]) & (s["power"] <= s["estimable"])).all()


def test_power_is_the_share_of_all_cohorts_with_a_ci_below_one():
    runs = pd.DataFrame({"cohort": [1, 2, 3, 4], "method": ["m"] * 4, "hr": [0.5, 0.6, 0.9, float("nan")],
                         "lower": [0.3, 0.4, 0.5, float("nan")], "upper": [0.8, 1.1, 1.6, float("nan")],
                         "patients": [10] * 4, "events": [5] * 4})
    s = summarise(runs).loc["m"]
    assert s["power"] == 0.25 and s["estimable"] == 0.75 and s["failed"] == 1


def test_subgroup_answers_count_the_analysed_population(demo_cohort):
    answers = methodcheck.subgroup_answers(demo_cohort)
    assert {"Pancreatic procedure", "Metastasis group", "Regimen", "Resectability", "Centre",
            "Hepatectomy"} <= set(answers["filter"])
    row = answers[(answers["filter"] == "Hepatectomy") & (answers["option"] == "major")].iloc[0]
    assert not row["eligible"] and not row["estimated"] and row["reason"]
    assert (answers["estimated"] == answers["hr"].notna()).all()


@pytest.fixture(scope="module")
def demo_cohort():
    from core import cohort

    return cohort.demo()


def test_is_demo():
    from core import cohort

    assert methodcheck.is_demo(cohort.demo().sha256)
    assert not methodcheck.is_demo("0" * 64)


def test_summarise_ccw_by_hand():
    runs = pd.DataFrame({
        "cohort": [1, 2, 3, 1, 2, 3],
        "measure": ["Survival 12"] * 3 + ["HR"] * 3,
        "estimate": [0.10, -0.02, NAN, 0.8, 1.2, 1.0],
        "lower": [0.02, -0.10, NAN, 0.6, 0.9, NAN],
        "upper": [0.20, 0.05, NAN, 0.95, 1.5, NAN],
    })
    t = methodcheck.summarise_ccw(runs)
    s = t.loc["Survival 12"]
    assert (s["cohorts"], s["with_ci"]) == (2, 2)
    assert s["bias"] == pytest.approx(0.04)
    assert s["coverage"] == 0.5 and s["rejects"] == pytest.approx(1 / 3)
    h = t.loc["HR"]
    assert (h["cohorts"], h["with_ci"]) == (3, 2)
    assert h["bias"] == pytest.approx(0.0) and h["coverage"] == 0.5
    assert methodcheck.summarise_ccw(runs, truth={"HR": 0.92}).loc["HR", "coverage"] == 1.0


def test_null_calibration_makes_surgery_change_nothing():
    res = synthetic.generate_with_truth(30, 30, seed=5, calibration=methodcheck.NULL_CALIBRATION)
    t = res.truth
    assert (t["os_months_actual"] == t["os_months_no_surgery"]).all()
