"""Tests for core.ph (proportional-hazards test, R survival::cox.zph).

Expected values come from R's ``survival`` 3.5.3 (tests/fixtures/ph/zph.json, written by
tests/r/make_reviewer_fixtures.R, on the data sets of tests/fixtures/survival/datasets.json), and
from lifelines' ``proportional_hazard_test`` as an independent check of the Schoenfeld residuals
(lifelines implements the older approximate test of survival 2.x; see the test below).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import ph
from core.survival import cox, kaplan_meier

HERE = Path(__file__).resolve().parent / "fixtures"
ZPH = json.loads((HERE / "ph" / "zph.json").read_text())
DATASETS = {k: pd.DataFrame(v) for k, v in json.loads((HERE / "survival" / "datasets.json").read_text()).items()}
DATASETS.update({k: pd.DataFrame(v) for k, v in ZPH["extra_datasets"].items()})
CASES = ZPH["cases"]
RTOL = 1e-6


def _none(v):
    return None if v == {} else v


def _arr(x) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(np.asarray(x, dtype=object))], dtype=float)


def _list(x) -> list:
    return x if isinstance(x, list) else [x]


def _run(case) -> ph.ZphResult:
    d = DATASETS[case["dataset"]]
    kw = dict(
        cluster=_none(case["cluster"]),
        weights=_none(case["weights"]),
        strata=_none(case["strata"]),
        transform=case["transform"],
        terms=case["terms"],
    )
    if case["counting"]:
        return ph.cox_zph_time_varying(d, "start", "stop", "event", _list(case["covariates"]), **kw)
    return ph.cox_zph(d, "time", "event", _list(case["covariates"]), **kw)


def _r_y(case) -> np.ndarray:
    return np.column_stack([_arr(y) for y in case["y"]])


# Rows where R keeps a structural zero: a stratum in which no covariate varies (lung, ecog = 3,
# a single patient). R leaves those residuals unscaled (0 + beta, and would misalign the strata
# after it if it were not the last); core.ph marks them NaN, as R does for a single constant term.
def _r_structural(case, z) -> np.ndarray:
    if z.strata is None:
        return np.zeros(len(z.x), bool)
    rows = np.isnan(z.y.to_numpy()).all(axis=1)
    return rows


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_zph_table_matches_r(case):
    z = _run(case)
    ref = case["table"]
    assert list(z.table.index) == _list(ref["term"])
    np.testing.assert_allclose(z.table["chisq"], _arr(ref["chisq"]), rtol=RTOL, atol=1e-10)
    np.testing.assert_array_equal(z.table["df"], _arr(ref["df"]))
    np.testing.assert_allclose(z.table["p"], _arr(ref["p"]), rtol=RTOL, atol=1e-10)
    np.testing.assert_allclose(z.fit.coef, _arr(case["coef"]), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_zph_residuals_match_r(case):
    z = _run(case)
    assert z.terms == _list(case["y_terms"])
    np.testing.assert_allclose(z.x, _arr(case["x"]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z.time, _arr(case["time"]), rtol=0, atol=0)
    ref = _r_y(case)
    struct = _r_structural(case, z)
    np.testing.assert_allclose(z.y.to_numpy()[~struct], ref[~struct], rtol=RTOL, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(z.var, np.asarray(case["var"], float).reshape(z.var.shape), rtol=RTOL, atol=1e-10)
    if _none(case["strata_of_event"]) is not None:
        labels = [s.split("=", 1)[-1] for s in _list(case["strata_of_event"])]
        assert [str(v) for v in z.strata] == labels
    else:
        assert z.strata is None


def test_structural_zero_stratum_is_nan_where_r_leaves_beta():
    case = next(c for c in CASES if c["name"] == "lung_sex_age_strata_ecog")
    z = _run(case)
    struct = _r_structural(case, z)
    assert struct.sum() == 1 and str(z.strata[struct][0]) == "3"  # one patient with ECOG 3
    np.testing.assert_allclose(_r_y(case)[struct][0], z.fit.coef, rtol=1e-7)  # R: raw 0 + beta


def test_constant_term_in_one_stratum_is_nan_there_as_r():
    case = next(c for c in CASES if c["name"] == "cstrat_x_z_f_strata_s")
    z = _run(case)
    in_b = np.asarray([str(s) for s in z.strata]) == "B"
    assert np.isnan(z.y.loc[in_b, "z"]).all() and np.isfinite(z.y.loc[~in_b, "z"]).all()
    assert np.isnan(_r_y(case)[in_b, 1]).all()


@pytest.mark.parametrize("case", [c for c in CASES if c["curves"] not in ({}, [])], ids=lambda c: c["name"])
def test_plot_smooth_band_and_axis_match_r(case):
    z = _run(case)
    struct = _r_structural(case, z)
    for term, cur in case["curves"].items():
        p = ph.zph_plot_data(z, term)
        tk = _none(cur["ticks"])
        if tk is not None:
            ok = ~np.isnan(_arr(tk["x"]))
            np.testing.assert_allclose(p.ticks["x"], _arr(tk["x"])[ok], rtol=1e-9)
            assert list(p.ticks["label"]) == list(np.asarray(_list(tk["label"]))[ok])
        else:
            assert p.ticks.empty
        if struct.any():  # R fits its spline through the unscaled structural zero: not comparable
            continue
        np.testing.assert_allclose(p.table["x"], _arr(cur["x"]), rtol=1e-12, atol=1e-12)
        for col in ("fit", "lower", "upper"):
            np.testing.assert_allclose(p.table[col], _arr(cur[col]), rtol=RTOL, atol=1e-9)
        assert len(p.points) == int((~np.isnan(z.y[term])).sum())
        assert p.centre == pytest.approx(float(z.centre[term]))


def test_robust_variance_does_not_change_the_test():
    d = DATASETS["lung"]
    a = ph.cox_zph(d, "time", "event", ["sex", "age", "ecog"])
    b = ph.cox_zph(d, "time", "event", ["sex", "age", "ecog"], cluster="inst")
    assert b.fit.robust and not a.fit.robust
    pd.testing.assert_frame_equal(a.table, b.table)


def test_categorical_term_pooled_and_per_column():
    d = DATASETS["veteran"]
    z = ph.cox_zph(d, "time", "event", ["trt", "celltype", "karno"])
    assert list(z.table.index) == ["trt", "celltype", "karno", "GLOBAL"]
    assert z.table.loc["celltype", "df"] == 3 and z.centre["celltype"] == 1.0
    zc = ph.cox_zph(d, "time", "event", ["trt", "celltype", "karno"], terms=False)
    assert list(zc.table.index)[1:4] == ["celltypelarge", "celltypesmallcell", "celltypesquamous"]
    assert zc.table.loc["GLOBAL", "chisq"] == pytest.approx(z.table.loc["GLOBAL", "chisq"], rel=1e-10)


def test_callable_transform_equals_named_one():
    d = DATASETS["lung"]
    a = ph.cox_zph(d, "time", "event", ["sex", "age"], transform="log")
    b = ph.cox_zph(d, "time", "event", ["sex", "age"], transform=np.log)
    assert b.transform == "user"
    pd.testing.assert_frame_equal(a.table, b.table)


def test_detects_a_time_varying_effect():
    # Deterministic simulation: the effect of x reverses half-way (hazard ratio 3 then 1/3).
    rng = np.random.default_rng(7)
    n = 600
    x = rng.integers(0, 2, n)
    t1 = rng.exponential(1 / (0.1 * np.where(x == 1, 3.0, 1.0)))
    late = t1 > 5
    t2 = 5 + rng.exponential(1 / (0.1 * np.where(x == 1, 1 / 3, 1.0)))
    t = np.where(late, t2, t1)
    c = rng.uniform(2, 30, n)
    d = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int), "x": x})
    z = ph.cox_zph(d, "time", "event", ["x"])
    assert z.table.loc["x", "p"] < 1e-6
    p = ph.zph_plot_data(z, "x")
    assert p.table["fit"].iloc[0] > 0.5 > -0.5 > p.table["fit"].iloc[-1]  # beta(t) falls from ~log 3 to ~-log 3


# ----------------------------------------------------------------------------- lifelines
def _old_zph(z: ph.ZphResult) -> np.ndarray:
    """survival 2.x's approximate test from the scaled residuals (what lifelines implements)."""
    xx = z.x - z.x.mean()
    var = z.fit.naive_var
    test = xx @ (z.y.to_numpy() - z.fit.coef)
    return test**2 / (np.diag(var) * len(xx) * np.sum(xx**2))


def test_lifelines_proportional_hazard_test_agrees_with_our_residuals():
    """lifelines computes the survival 2.x approximation; with the same time transform it equals that
    approximation applied to our scaled Schoenfeld residuals. It is not R 3.x's exact score test (which
    uses the full information of x and x g(t)), and lifelines defines "km" (right-continuous KM) and
    "rank" (rank among deaths) differently from R, so the named transforms differ from cox.zph."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    d = DATASETS["lung"][["time", "event", "sex", "age"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(d, "time", "event")
        km = kaplan_meier(d["time"], d["event"])

    def right_km(t: np.ndarray) -> np.ndarray:
        return 1 - km["survival"].to_numpy()[np.searchsorted(km["time"].to_numpy(), t)]

    for ours, theirs in (("identity", "identity"), ("log", "log"), (right_km, "km")):
        z = ph.cox_zph(d, "time", "event", ["sex", "age"], transform=ours)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ll = proportional_hazard_test(cph, d, time_transform=theirs).summary["test_statistic"]
        np.testing.assert_allclose(ll.loc[["sex", "age"]].to_numpy(), _old_zph(z), rtol=2e-5)
        assert not np.allclose(z.table["chisq"].to_numpy()[:2], _old_zph(z), rtol=1e-3)  # R 3.x differs


# ----------------------------------------------------------------------------- validation
def test_bad_input_gives_clear_messages():
    d = DATASETS["lung"]
    with pytest.raises(ValueError, match="transform must be one of"):
        ph.cox_zph(d, "time", "event", ["sex"], transform="weird")
    with pytest.raises(ValueError, match="one finite number per row"):
        ph.cox_zph(d, "time", "event", ["sex"], transform=lambda t: t[:3])
    with pytest.raises(ValueError, match="not a column"):
        ph.cox_zph(d, "time", "event", ["nope"])
    z = ph.cox_zph(d, "time", "event", ["sex"])
    with pytest.raises(ValueError, match="not one of the tested terms"):
        ph.zph_plot_data(z, "age")
    with pytest.raises(ValueError, match="df must be an integer"):
        ph.zph_plot_data(z, "sex", df=1)
    with pytest.raises(ValueError, match="cox_zph"):
        ph.zph_plot_data(cox(d, "time", "event", ["sex"]), "sex")


def test_log_transform_needs_positive_times():
    d = pd.DataFrame({"time": [0.0, 1, 2, 3, 4, 5], "event": [1, 1, 0, 1, 1, 1], "x": [0, 1, 0, 1, 1, 0]})
    with pytest.raises(ValueError, match="positive times"):
        ph.cox_zph(d, "time", "event", ["x"], transform="log")


def test_smooth_needs_enough_event_times():
    d = pd.DataFrame({"time": [1.0, 2, 3, 4, 5, 6], "event": [1, 0, 1, 0, 1, 0], "x": [0, 1, 1, 0, 1, 0]})
    p = ph.zph_plot_data(ph.cox_zph(d, "time", "event", ["x"]), "x")
    assert p.table.empty and "too few" in p.note and len(p.points) == 3
