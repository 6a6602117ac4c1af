"""Tests for core.survival.

Expected values come from R's ``survival`` 3.5.3 (fixtures written by
tests/r/make_survival_fixtures.R), from lifelines (independent implementation, at its
tolerance) and from hand computations.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import survival as sv
from core.dictionary import C

FIX = Path(__file__).resolve().parent / "fixtures" / "survival"
RTOL = 1e-6


def _load(name: str):
    return json.loads((FIX / name).read_text())


def _none(v):
    """jsonlite writes R's NULL inside a list as {}."""
    return None if v == {} else v


def _arr(x) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(np.asarray(x, dtype=object))], dtype=float)


def _close(actual, expected, rtol=RTOL, atol=1e-10):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), _arr(expected), rtol=rtol, atol=atol, equal_nan=True)


DATASETS = {k: pd.DataFrame(v) for k, v in _load("datasets.json").items()}
KM_CASES = _load("km.json")
LR_CASES = _load("logrank.json")
COX_CASES = [{k: _none(v) for k, v in c.items()} for c in _load("cox.json")]
COXTV = _load("coxtv.json")


def _km_data(case):
    d = DATASETS[case["dataset"]]
    if _none(case["subset"]):
        d = d.query(case["subset"])
    w = d[case["weights"]] if _none(case["weights"]) else None
    return d, w


# ============================================================================ Kaplan-Meier vs R
@pytest.mark.parametrize("case", KM_CASES, ids=[c["name"] for c in KM_CASES])
def test_kaplan_meier_matches_r_survfit(case):
    d, w = _km_data(case)
    km = sv.kaplan_meier(d["time"], d["event"], conf_type=case["conf_type"], conf_level=case["conf_level"], weights=w)
    ref = case["table"]
    for col in ("time", "n_risk", "n_event", "n_censor", "survival", "lower", "upper"):
        _close(km[col], ref[col])
    # R's survfit stores se(S) for a robust (non-integer weight) fit, se(-log S) otherwise
    factor = km["survival"] if w is not None else 1.0
    _close(km["std_err"] * factor, ref["std_err"])


@pytest.mark.parametrize("case", KM_CASES, ids=[c["name"] for c in KM_CASES])
def test_median_matches_r_print_survfit(case):
    d, w = _km_data(case)
    med = sv.median_survival(d["time"], d["event"], conf_type=case["conf_type"], conf_level=case["conf_level"], weights=w)
    ref = case["print"]
    _close(list(med), [ref["median"], ref["lower"], ref["upper"]])


@pytest.mark.parametrize("case", KM_CASES, ids=[c["name"] for c in KM_CASES])
def test_survival_at_matches_r_summary_times(case):
    d, w = _km_data(case)
    at = case["at"]
    res = sv.survival_at(
        d["time"], d["event"], at["times"], conf_type=case["conf_type"], conf_level=case["conf_level"], weights=w
    )
    _close(res["time"], at["time"])
    for col in ("n_risk", "survival", "std_err", "lower", "upper"):
        _close(res[col], at[col])


@pytest.mark.parametrize("case", KM_CASES, ids=[c["name"] for c in KM_CASES])
def test_rmst_matches_r_survmean(case):
    d, w = _km_data(case)
    ref = case["print"]
    r = sv.rmst(d["time"], d["event"], ref["tau"], weights=w)
    _close([r.rmst, r.se], [ref["rmean"], ref["rmean_se"]])
    assert r.lower == pytest.approx(r.rmst - 1.959963984540054 * r.se)


def test_median_midpoint_rule_by_hand():
    # S = 0.75, 0.5, 0.25, 0 at 1..4: S == 0.5 exactly on [2, 3) -> median (2 + 3) / 2
    assert sv.median_survival([1, 2, 3, 4], [1, 1, 1, 1]).median == 2.5
    # not reached -> NaN
    assert math.isnan(sv.median_survival([1, 2, 3, 4], [1, 0, 0, 0]).median)
    med, lo, up = sv.median_survival([1, 2, 3, 4, 5], [1, 1, 1, 1, 1])  # unpackable
    assert med == 3.0 and lo <= med


def test_kaplan_meier_by_hand():
    km = sv.kaplan_meier([3, 1, 2, 2, 4], [1, 1, 0, 1, 0], conf_type="log")
    np.testing.assert_allclose(km["survival"], [0.8, 0.6, 0.3, 0.3])
    np.testing.assert_allclose(km["n_risk"], [5, 4, 2, 1])
    np.testing.assert_allclose(km["n_censor"], [0, 1, 0, 1])
    greenwood = math.sqrt(1 / (5 * 4) + 1 / (4 * 3))
    assert km["std_err"].iloc[1] == pytest.approx(greenwood)
    assert km["lower"].iloc[1] == pytest.approx(0.6 * math.exp(-1.959963984540054 * greenwood))


def test_weighted_km_with_integer_weights_equals_replicated_rows():
    t = np.array([1.0, 2, 2, 3, 5, 6, 6, 8])
    e = np.array([1, 0, 1, 1, 0, 1, 1, 0])
    w = np.array([1, 2, 3, 1, 2, 1, 2, 1])
    a = sv.kaplan_meier(t, e, weights=w)
    b = sv.kaplan_meier(np.repeat(t, w), np.repeat(e, w))
    pd.testing.assert_frame_equal(a, b)


def test_number_at_risk_counts_time_ge_t():
    d = DATASETS["lung"]
    tab = sv.number_at_risk(d["time"], d["event"], d["sex"], [0, 100, 365, 1000])
    for g in (1, 2):
        for t in (0, 100, 365, 1000):
            assert tab.loc[g, t] == int(((d["sex"] == g) & (d["time"] >= t)).sum())
    # matches R's summary(survfit, times)$n.risk for the treated arm of the pairs data
    case = next(c for c in KM_CASES if c["name"] == "pairs_treated_log")
    p = DATASETS["pairs"]
    tab = sv.number_at_risk(p["time"], p["event"], p["treat"], case["at"]["times"])
    _close(tab.loc[1].to_numpy(), case["at"]["n_risk"])


# ============================================================================ log-rank vs R
@pytest.mark.parametrize("case", LR_CASES, ids=[c["name"] for c in LR_CASES])
def test_logrank_matches_r_survdiff(case):
    d = DATASETS[case["dataset"]]
    r = sv.logrank(d["time"], d["event"], d[case["group"]])
    assert [str(g) for g in r.groups] == case["groups"]
    _close([r.chi2], [case["chi2"]])
    _close(r.observed, case["observed"])
    _close(r.expected, case["expected"])
    _close(r.variance.ravel(), np.asarray(case["var"], dtype=float).ravel(), atol=1e-9)
    _close([r.p], [case["p"]])
    assert r.df == case["df"]
    assert list(r.table["n"]) == [int(x) for x in case["n"]]


def test_logrank_by_hand_two_groups():
    # t: 1(A) 2(B) 3(A) 4(B), all events; hand: O_A=2, E_A = 1/2 + 1/3 + 1/2 + 0 = 4/3
    # V = 1/4 + 2/9 + 1/4 = 13/18 -> chi2 = (2/3)^2 / (13/18) = 8/13
    r = sv.logrank([1, 2, 3, 4], [1, 1, 1, 1], ["A", "B", "A", "B"])
    assert r.expected[0] == pytest.approx(4 / 3)
    assert r.chi2 == pytest.approx(8 / 13)
    assert r.df == 1


# ============================================================================ Cox vs R
@pytest.mark.parametrize("case", COX_CASES, ids=[c["name"] for c in COX_CASES])
def test_cox_matches_r_coxph(case):
    d = DATASETS[case["dataset"]]
    covs = case["covariates"] if isinstance(case["covariates"], list) else [case["covariates"]]
    fit = sv.cox(d, "time", "event", covs, cluster=case["cluster"], weights=case["weights"], strata=case["strata"])
    terms = case["terms"] if isinstance(case["terms"], list) else [case["terms"]]
    assert fit.terms == terms
    assert fit.robust == case["robust"]
    t = fit.table
    _close(t["coef"], case["coef"])
    _close(t["se"], case["se"])
    _close(t["naive_se"], case["naive_se"])
    _close(t["p"], case["p"])
    _close(fit.loglik, case["loglik"])
    assert fit.n == case["n"] and fit.n_events == case["nevent"]
    np.testing.assert_allclose(t["hr"], np.exp(t["coef"]))
    np.testing.assert_allclose(t["lower"], np.exp(t["coef"] - 1.959963984540054 * t["se"]))


def test_split_at_surgery_matches_r_tmerge():
    imm = DATASETS["immortal"]
    ep = sv.split_at_surgery(imm["time"], imm["event"], imm["surg"].astype(float), ids=imm["id"])
    ref = pd.DataFrame(COXTV["split"])
    assert list(ep.columns) == ["id", "start", "stop", "event", C.SURGERY]
    np.testing.assert_allclose(ep.to_numpy(dtype=float), ref[["id", "start", "stop", "event", "surgery"]].to_numpy(float))


def _immortal_episodes():
    imm = DATASETS["immortal"]
    ep = sv.split_at_surgery(imm["time"], imm["event"], imm["surg"].astype(float), ids=imm["id"])
    return ep.merge(imm[["id", "age", "centre", "wt", "site"]], on="id")


@pytest.mark.parametrize(
    ("key", "covs", "cluster", "extra"),
    [
        ("tv_surgery_age_cl_id", ["surgery", "age"], "id", {}),
        ("tv_surgery_cl_centre", ["surgery"], "centre", {}),
        ("tv_surgery_age_strata_site_w_cl_id", ["surgery", "age"], "id", {"weights": "wt", "strata": "site"}),
    ],
)
def test_cox_time_varying_matches_r(key, covs, cluster, extra):
    ref = COXTV[key]
    fit = sv.cox_time_varying(_immortal_episodes(), "start", "stop", "event", covs, cluster=cluster, **extra)
    _close(fit.table["coef"], ref["coef"])
    _close(fit.table["se"], ref["se"])
    _close(fit.table["naive_se"], ref["naive_se"])
    _close(fit.loglik, ref["loglik"])
    assert fit.n == ref["n"] and fit.n_events == ref["nevent"]


def test_naive_fixed_surgery_cox_matches_r():
    imm = DATASETS["immortal"].assign(operated=lambda x: x["surg"].notna().astype(int))
    naive = sv.cox(imm, "time", "event", ["operated", "age"])
    _close(naive.table["coef"], COXTV["naive"]["coef"])
    _close(naive.table["se"], COXTV["naive"]["se"])


def test_cox_right_censored_equals_counting_process_from_zero():
    d = DATASETS["pairs"].assign(start=0.0)
    a = sv.cox(d, "time", "event", ["treat", "age"], cluster="pair")
    b = sv.cox_time_varying(d, "start", "time", "event", ["treat", "age"], cluster="pair")
    np.testing.assert_allclose(a.table[["coef", "se", "naive_se"]], b.table[["coef", "se", "naive_se"]], rtol=1e-10)


def test_cox_integer_weights_are_not_robust_by_default_as_r():
    d = DATASETS["pairs"].head(80).assign(w=np.tile([1, 2, 3, 1], 20))
    assert not sv.cox(d, "time", "event", ["treat"], weights="w").robust
    assert sv.cox(d.assign(w=d["w"] / 2), "time", "event", ["treat"], weights="w").robust
    assert sv.cox(d, "time", "event", ["treat"], weights="w", robust=True).robust


# ============================================================================ against lifelines
lifelines = pytest.importorskip("lifelines")


@pytest.mark.parametrize("ds", ["lung", "veteran", "pairs"])
def test_km_agrees_with_lifelines(ds):
    from lifelines import KaplanMeierFitter

    d = DATASETS[ds]
    kmf = KaplanMeierFitter().fit(d["time"], d["event"], alpha=0.05)
    km = sv.kaplan_meier(d["time"], d["event"], conf_type="log-log")
    sf = kmf.survival_function_.iloc[:, 0].reindex(km["time"])
    np.testing.assert_allclose(km["survival"], sf, rtol=1e-9)
    ci = kmf.confidence_interval_.reindex(km["time"])
    ok = km["survival"].between(1e-12, 1 - 1e-12).to_numpy()
    np.testing.assert_allclose(km["lower"][ok], ci.iloc[:, 0][ok], rtol=1e-6)
    np.testing.assert_allclose(km["upper"][ok], ci.iloc[:, 1][ok], rtol=1e-6)
    # lifelines' event table "at_risk" at each distinct time = R's n.risk
    np.testing.assert_allclose(km["n_risk"], kmf.event_table["at_risk"].reindex(km["time"]))


def test_logrank_agrees_with_lifelines():
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    d = DATASETS["pairs"]
    a, b = d[d["treat"] == 1], d[d["treat"] == 0]
    ll = logrank_test(a["time"], b["time"], a["event"], b["event"])
    assert sv.logrank(d["time"], d["event"], d["treat"]).chi2 == pytest.approx(ll.test_statistic, rel=1e-8)
    v = DATASETS["veteran"]
    mv = multivariate_logrank_test(v["time"], v["celltype"], v["event"])
    assert sv.logrank(v["time"], v["event"], v["celltype"]).chi2 == pytest.approx(mv.test_statistic, rel=1e-8)


def test_cox_agrees_with_lifelines():
    from lifelines import CoxPHFitter

    d = DATASETS["pairs"][["time", "event", "treat", "age", "pair"]]
    ours = sv.cox(d, "time", "event", ["treat", "age"], cluster="pair").table
    cph = CoxPHFitter().fit(d.drop(columns="pair"), "time", "event")
    np.testing.assert_allclose(ours["coef"], cph.params_[["treat", "age"]], rtol=1e-5)
    np.testing.assert_allclose(ours["naive_se"], cph.standard_errors_[["treat", "age"]], rtol=1e-5)
    cl = CoxPHFitter().fit(d, "time", "event", cluster_col="pair")
    # lifelines' clustered sandwich differs from R's (ours equals R to 1e-6) by ~1% with tied times
    np.testing.assert_allclose(ours["se"], cl.standard_errors_[["treat", "age"]], rtol=2e-2)


def test_weighted_cox_agrees_with_lifelines():
    from lifelines import CoxPHFitter

    d = DATASETS["kw"][["time", "event", "treat", "ecog", "w", "subclass"]]
    ours = sv.cox(d, "time", "event", ["treat", "ecog"], weights="w", cluster="subclass").table
    cph = CoxPHFitter().fit(d, "time", "event", weights_col="w", cluster_col="subclass", robust=True)
    np.testing.assert_allclose(ours["coef"], cph.params_[["treat", "ecog"]], rtol=1e-5)
    np.testing.assert_allclose(ours["se"], cph.standard_errors_[["treat", "ecog"]], rtol=2e-2)


def test_time_varying_cox_agrees_with_lifelines():
    from lifelines import CoxTimeVaryingFitter

    ep = _immortal_episodes()
    ours = sv.cox_time_varying(ep, "start", "stop", "event", ["surgery", "age"], cluster="id").table
    ctv = CoxTimeVaryingFitter().fit(ep[["id", "start", "stop", "event", "surgery", "age"]], id_col="id",
                                     event_col="event", start_col="start", stop_col="stop")
    np.testing.assert_allclose(ours["coef"], ctv.params_[["surgery", "age"]], rtol=1e-5)
    np.testing.assert_allclose(ours["naive_se"], ctv.standard_errors_[["surgery", "age"]], rtol=1e-5)


def test_rmst_agrees_with_lifelines():
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    d = DATASETS["lung"]
    kmf = KaplanMeierFitter().fit(d["time"], d["event"])
    assert sv.rmst(d["time"], d["event"], 500).rmst == pytest.approx(restricted_mean_survival_time(kmf, t=500), rel=1e-6)


def test_rmst_difference_is_group1_minus_group0():
    d = DATASETS["pairs"]
    diff = sv.rmst_difference(d["time"], d["event"], d["treat"], 20)
    r0 = sv.rmst(d["time"][d["treat"] == 0], d["event"][d["treat"] == 0], 20)
    r1 = sv.rmst(d["time"][d["treat"] == 1], d["event"][d["treat"] == 1], 20)
    assert diff.groups == (0, 1)
    assert diff.difference == pytest.approx(r1.rmst - r0.rmst)
    assert diff.se == pytest.approx(math.hypot(r0.se, r1.se))
    assert 0 < diff.p < 1


# ============================================================================ validation
@pytest.mark.parametrize(
    ("time", "event", "msg"),
    [
        ([1, -2, 3], [1, 0, 1], "negative"),
        ([1, float("nan"), 3], [1, 0, 1], "missing"),
        ([1, 2, 3], [1, 2, 0], "0/1"),
        ([1, 2, 3], [1, 0], "length"),
        ([], [], "empty"),
    ],
)
def test_kaplan_meier_rejects_bad_input(time, event, msg):
    with pytest.raises(ValueError, match=msg):
        sv.kaplan_meier(time, event)


def test_bad_options_rejected():
    with pytest.raises(ValueError, match="conf_type"):
        sv.kaplan_meier([1, 2], [1, 1], conf_type="logit")
    with pytest.raises(ValueError, match="conf_level"):
        sv.median_survival([1, 2], [1, 1], conf_level=95)
    with pytest.raises(ValueError, match="tau"):
        sv.rmst([1, 2], [1, 1], tau=-1)
    with pytest.raises(ValueError, match="weights"):
        sv.kaplan_meier([1, 2], [1, 1], weights=[1, 0])


def test_logrank_rejects_degenerate_groups():
    with pytest.raises(ValueError, match="at least two groups"):
        sv.logrank([1, 2, 3], [1, 1, 0], ["a", "a", "a"])
    grp = pd.Series(pd.Categorical(["a", "a", "b"], categories=["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"\['c'\] have no patients"):
        sv.logrank([1, 2, 3], [1, 1, 0], grp)
    with pytest.raises(ValueError, match="no events"):
        sv.logrank([1, 2, 3], [0, 0, 0], ["a", "b", "a"])


def test_cox_rejects_separation_no_events_and_bad_covariates():
    df = pd.DataFrame({"t": np.arange(1.0, 11), "d": [1, 1, 0, 1, 1, 1, 0, 1, 1, 0], "x": [0] * 5 + [1] * 5})
    with pytest.raises(ValueError, match="monotone"):  # events ordered by x: coefficient -> -inf
        sv.cox(df.assign(d=1, x=np.arange(10.0, 0, -1)), "t", "d", ["x"])
    with pytest.raises(ValueError, match="monotone"):  # no events among x == 1 after the last x == 0 death
        sv.cox(df.assign(d=[1, 1, 1, 1, 1, 0, 0, 0, 0, 0]), "t", "d", ["x"])
    with pytest.raises(ValueError, match="no events"):
        sv.cox(df.assign(d=0), "t", "d", ["x"])
    with pytest.raises(ValueError, match="constant"):
        sv.cox(df.assign(x=1), "t", "d", ["x"])
    with pytest.raises(ValueError, match="missing"):
        sv.cox(df.assign(x=[np.nan] + [1.0] * 9), "t", "d", ["x"])
    with pytest.raises(ValueError, match="collinear"):
        sv.cox(df.assign(y=2 * df["x"]), "t", "d", ["x", "y"])
    with pytest.raises(ValueError, match="not a column"):
        sv.cox(df, "t", "d", ["nope"])


def test_cox_time_varying_rejects_bad_episodes():
    df = pd.DataFrame({"a": [0.0, 2.0], "b": [2.0, 2.0], "d": [0, 1], "x": [0, 1]})
    with pytest.raises(ValueError, match="stop <= start"):
        sv.cox_time_varying(df, "a", "b", "d", ["x"])
    with pytest.raises(ValueError, match="time <= 0"):
        sv.split_at_surgery([0, 3], [1, 1], [np.nan, 1])


# ============================================================================ properties
@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 12), st.integers(0, 1), st.integers(0, 1)), min_size=4, max_size=40),
)
def test_km_properties(rows):
    t = np.array([r[0] for r in rows], float)
    e = np.array([r[1] for r in rows])
    km = sv.kaplan_meier(t, e, conf_type="plain")
    s = km["survival"].to_numpy()
    assert np.all(np.diff(s) <= 1e-15) and np.all((s >= 0) & (s <= 1))
    assert km["n_event"].sum() + km["n_censor"].sum() == len(t)
    lo, up = km["lower"].to_numpy(), km["upper"].to_numpy()
    ok = ~np.isnan(lo)
    assert np.all(lo[ok] <= s[ok] + 1e-12) and np.all(up[ok] >= s[ok] - 1e-12)
    g = np.array([r[2] for r in rows])
    if e.sum() and len(set(g)) == 2:
        try:
            r = sv.logrank(t, e, g)
        except ValueError as exc:  # degenerate: every patient at risk died, or one group never at risk
            assert "singular" in str(exc) or "fewer than two groups" in str(exc)
        else:
            assert r.chi2 >= 0 and sum(r.observed) == pytest.approx(sum(r.expected))


def test_efron_information_equals_a_term_by_term_sum_over_event_times_and_tied_deaths():
    """The information written as weighted matrix products equals the textbook Efron sum, computed here death by
    death with explicit risk sets ((start, stop] rows, strata, case weights, tied deaths)."""
    rng = np.random.default_rng(7)
    n, p = 60, 3
    X = rng.normal(size=(n, p))
    start = rng.integers(0, 3, n).astype(float)
    stop = start + rng.integers(1, 6, n)
    event = (rng.uniform(size=n) < 0.7).astype(int)
    w = rng.uniform(0.5, 2.0, n)
    strata = rng.integers(0, 2, n)
    beta = np.array([0.3, -0.2, 0.1])
    st = sv._efron(sv._risk_sets(start, stop, event, strata), X, w, beta)
    r = w * np.exp(X @ beta)
    expected = np.zeros((p, p))
    for s in (0, 1):
        for t in np.unique(stop[(event == 1) & (strata == s)]):
            at_risk = (strata == s) & (start < t) & (stop >= t)
            dead = (strata == s) & (stop == t) & (event == 1)
            d, mw = dead.sum(), w[dead].mean()
            for ell in range(d):
                f = ell / d
                den = r[at_risk].sum() - f * r[dead].sum()
                s1 = (r[at_risk, None] * X[at_risk]).sum(0) - f * (r[dead, None] * X[dead]).sum(0)
                s2 = (X[at_risk].T * r[at_risk]) @ X[at_risk] - f * (X[dead].T * r[dead]) @ X[dead]
                expected += mw * (s2 / den - np.outer(s1, s1) / den**2)
    np.testing.assert_allclose(st.info, expected, rtol=1e-12, atol=1e-12)
