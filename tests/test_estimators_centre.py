"""Tests for core.estimators: how the centre enters every Cox model (AnalysisSpec.centre_model).

Expected values come from R's survival 3.5.3 (tests/fixtures/centre/reference.json, written by
tests/r/make_centre_fixtures.R on the samples that tests/r/export_centre_data.py exported from
the demo cohort): ``coxph(... + strata(centre), cluster = <pair or patient>)`` and
``coxph(..., cluster = centre)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import cohort, estimators
from core.analysis import run
from core.dictionary import C
from core.estimators import MIN_CENTRES_FOR_CLUSTER, arm_counts, centre_use, cox_estimate
from core.population import EVENT, TIME, TREATED
from core.spec import AnalysisSpec

HERE = Path(__file__).resolve().parent / "fixtures" / "centre"
REF = json.loads((HERE / "reference.json").read_text())
CASES = REF["cases"]
RTOL = 1e-6


def _read(name: str) -> pd.DataFrame:
    d = pd.read_csv(HERE / name, dtype=str, keep_default_na=False)
    for c in d.columns:
        if d[c].str.match(r"^-?0x").all():
            d[c] = [float.fromhex(v) for v in d[c]]
    return d


def _matched(name: str) -> pd.DataFrame:
    d = _read(name).rename(columns={"time": TIME, "event": EVENT, "treated": TREATED, "patient_id": C.PATIENT_ID,
                                    "centre": C.CENTRE_ID})
    d[TREATED] = d[TREATED].astype(int)
    return d


def _r(case: str, what: str) -> float:
    return float(CASES[case][what][0])


def _estimate(frame: pd.DataFrame, model: str, *, cluster: str, weights: str | None = None):
    return cox_estimate(frame, method="m", cluster=cluster, weights=weights, counts=arm_counts(frame),
                        centre_model=model)


def _se(est) -> float:
    return (np.log(est.upper) - np.log(est.lower)) / (2 * 1.959963984540054)


@pytest.mark.parametrize(("csv", "case", "model", "cluster", "weights"), [
    ("matched.csv", "matched_strata", "strata", "subclass", None),
    ("matched.csv", "matched_cluster", "cluster", "subclass", None),
    ("replace.csv", "replace_strata", "strata", C.PATIENT_ID, "weights"),
    ("replace.csv", "replace_cluster", "cluster", C.PATIENT_ID, "weights"),
])
def test_matched_hazard_ratio_and_robust_se_equal_coxph_with_strata_or_cluster(csv, case, model, cluster, weights):
    est = _estimate(_matched(csv), model, cluster=cluster, weights=weights)
    assert est.estimated
    assert est.hr == pytest.approx(_r(case, "hr"), rel=RTOL)
    assert _se(est) == pytest.approx(_r(case, "se"), rel=RTOL)
    # clustering by centre changes the interval, not the point estimate; strata change both
    plain = _estimate(_matched(csv), "none", cluster=cluster, weights=weights)
    if model == "cluster":
        assert est.hr == pytest.approx(plain.hr, rel=1e-12) and _se(est) != pytest.approx(_se(plain), rel=1e-3)
    else:
        assert est.hr != pytest.approx(plain.hr, rel=1e-3)


def test_a_centre_with_one_arm_is_left_out_of_the_strata_named_and_changes_nothing_in_r():
    d = _matched("matched.csv")
    one = d[~((d[C.CENTRE_ID] == "C01") & (d[TREATED] == 1))]
    n_c01 = int((one[C.CENTRE_ID] == "C01").sum())
    assert n_c01 > 0 and (one.loc[one[C.CENTRE_ID] == "C01", TREATED] == 0).all()
    est = _estimate(one, "strata", cluster="subclass")
    # R keeps the centre's rows (CASES["one_arm_strata"]["n"] counts them); the estimate is the same
    assert CASES["one_arm_strata"]["n"] == len(one)
    assert est.hr == pytest.approx(_r("one_arm_strata", "hr"), rel=RTOL)
    assert _se(est) == pytest.approx(_r("one_arm_strata", "se"), rel=RTOL)
    assert est.n == len(one) - n_c01  # counted where the comparison happens
    assert n_c01 == 1 and "left out: C01 (1 patient)." in est.centre_note
    assert "centres with patients of both arms" in est.counted_in


@pytest.mark.parametrize(("model", "case"), [("strata", "td_strata"), ("cluster", "td_cluster")])
def test_time_dependent_cox_with_centre_equals_coxph_on_the_exported_counting_process(model, case):
    r = run(cohort.demo(), AnalysisSpec(method="time_dependent", centre_model=model))
    assert r.hr.estimated
    assert r.hr.hr == pytest.approx(_r(case, "hr"), rel=RTOL)
    assert _se(r.hr) == pytest.approx(_r(case, "se"), rel=RTOL)
    assert any(n.startswith("Stratified by centre" if model == "strata" else "Standard errors clustered by centre")
               for n in r.notes)


@pytest.mark.parametrize(("model", "case"), [("strata", "matched_strata"), ("cluster", "matched_cluster")])
def test_the_headline_uses_the_centre_choice(model, case):
    r = run(cohort.demo(), AnalysisSpec(centre_model=model))
    assert r.hr.hr == pytest.approx(_r(case, "hr"), rel=RTOL)
    assert _se(r.hr) == pytest.approx(_r(case, "se"), rel=RTOL)


def test_clustering_by_centre_needs_enough_centres_and_says_so():
    few = tuple(f"C0{i}" for i in range(1, MIN_CENTRES_FOR_CLUSTER))  # one centre too few
    r = run(cohort.demo(), AnalysisSpec(centres=few, centre_model="cluster"))
    assert not r.hr.estimated
    assert r.warnings and f"at least {MIN_CENTRES_FOR_CLUSTER} centres" in r.warnings[0]
    assert "stratified by centre" in r.warnings[0]
    # the same selection without clustering by centre has an estimate
    assert run(cohort.demo(), AnalysisSpec(centres=few)).hr.estimated


def test_stratified_model_with_no_centre_holding_both_arms_gives_a_plain_reason():
    df = pd.DataFrame({TIME: np.arange(1.0, 13), EVENT: 1.0, TREATED: [1] * 6 + [0] * 6,
                       "subclass": np.arange(12), C.CENTRE_ID: ["A"] * 6 + ["B"] * 6})
    est = _estimate(df, "strata", cluster="subclass")
    assert not est.estimated and "no centre has patients of both arms" in est.reason


def test_centre_use_leaves_out_one_arm_centres_but_keeps_all_operated_centres_in_a_time_dependent_model():
    df = pd.DataFrame({C.CENTRE_ID: ["A", "A", "B", "B", "C"]})
    arm = np.array([True, True, False, False, True])  # A: everyone operated, B: nobody, C: one operated
    matched = centre_use(df, "strata", arm=arm, cluster="subclass")
    assert [c for c, _ in matched.left_out] == ["A", "B", "C"]
    td = centre_use(df, "strata", arm=arm, cluster="row", time_dependent=True)
    assert [c for c, _ in td.left_out] == ["B"] and td.keep.tolist() == [True, True, False, False, True]
    none = centre_use(df, "none", arm=arm, cluster="subclass")
    assert none.keep.all() and none.strata is None and none.cluster == "subclass"


def test_stratified_time_dependent_model_leaves_out_the_centre_covariate():
    spec = AnalysisSpec(method="time_dependent", centre_model="strata",
                        covariates=(C.AGE, C.ECOG, C.CENTRE_ID))
    r = run(cohort.demo(), spec)
    assert r.hr.estimated
    assert any("centre covariate is left out" in n for n in r.notes)


def test_every_estimator_carries_the_centre_note():
    ctx = estimators.Context(cohort.demo().data, AnalysisSpec(centre_model="strata"))
    for key, estimator in estimators.ESTIMATORS.items():
        c = estimator(ctx)
        assert c.estimate.centre_note.startswith("Stratified by centre"), key
        assert c.estimate.centre_note in c.notes, key
