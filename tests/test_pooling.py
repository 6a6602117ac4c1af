"""Tests for core.pooling (Rubin's rules).

Expected values come from R's ``mice`` 3.15.0 (``pool`` and ``pool.scalar``), in
tests/fixtures/pooling/pool.json written by tests/r/make_reviewer_fixtures.R: the per-imputation
estimates and standard errors that ``mice::pool`` pooled are stored with its pooled output, so
the same numbers go into :func:`core.pooling.pool_rubin`. The Cox case also stores mice's
completed data sets, refitted here with core.survival.cox and pooled with pool_cox.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.pooling import barnard_rubin_df, pool_cox, pool_rubin
from core.survival import cox

POOL = json.loads((Path(__file__).resolve().parent / "fixtures" / "pooling" / "pool.json").read_text())
CASES = POOL["cases"]
TOL = 1e-10
COLS = ("estimate", "std_error", "statistic", "df", "p", "lower", "upper", "riv", "lambda", "fmi", "ubar", "b", "t")


def _dfcom(v) -> float:
    return math.inf if v in (None, "Inf", "inf") else float(v)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_pool_rubin_equals_mice_pool(case):
    q = np.asarray(case["estimates"], float)
    u = np.asarray(case["se"], float) ** 2
    r = pool_rubin(q, u, dfcom=_dfcom(case["dfcom"]), terms=case["terms"])
    ref = case["pooled"]
    assert list(r.table.index) == ref["term"]
    assert r.m == case["m"] == len(q)
    for col in COLS:
        np.testing.assert_allclose(r.table[col], np.asarray(ref[col], float), rtol=TOL, atol=TOL, err_msg=col)
    r90 = pool_rubin(q, u, dfcom=_dfcom(case["dfcom"]), terms=case["terms"], conf_level=0.90)
    np.testing.assert_allclose(r90.table["lower"], ref["lower90"], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(r90.table["upper"], ref["upper90"], rtol=TOL, atol=TOL)


@pytest.mark.parametrize("i", range(len(POOL["scalar"])))
def test_pool_rubin_equals_mice_pool_scalar(i):
    c = POOL["scalar"][i]
    dfcom = _dfcom(c["n"]) - c["k"]
    r = pool_rubin(c["Q"], c["U"], dfcom=dfcom).table.iloc[0]
    for ours, theirs in (("estimate", "qbar"), ("ubar", "ubar"), ("b", "b"), ("t", "t"), ("df", "df"),
                         ("riv", "r"), ("fmi", "fmi")):
        assert r[ours] == pytest.approx(c[theirs], rel=TOL, abs=TOL), ours


def test_pool_cox_on_mice_completed_data_equals_mice_pool():
    """End to end: mice's completed data -> core.survival.cox -> pool_cox, against mice::pool(with(imp, coxph)).

    The tolerance is the Cox fits' agreement with R (about 1e-9), not the pooling's."""
    case = next(c for c in CASES if c["name"] == "lung_cox")
    covs = POOL["lung_cox_formula"]
    fits = [cox(pd.DataFrame(d), "time", "status", covs) for d in POOL["lung_cox_completed"]]
    r = pool_cox(fits)
    assert r.dfcom == case["dfcom"]  # mice: nevent - number of coefficients
    ref = case["pooled"]
    for col in ("estimate", "std_error", "df", "p", "lower", "upper", "fmi"):
        np.testing.assert_allclose(r.table[col], ref[col], rtol=1e-7, atol=1e-10, err_msg=col)
    np.testing.assert_allclose(r.table["hr"], np.exp(ref["estimate"]), rtol=1e-7)


def test_pool_cox_uses_robust_se_as_mice():
    case = next(c for c in CASES if c["name"] == "lung_cox_robust")
    fits = [cox(pd.DataFrame(d), "time", "status", ["age", "sex", "ph.karno"], robust=True)
            for d in POOL["lung_cox_completed"]]
    r = pool_cox(fits)
    np.testing.assert_allclose(r.table["std_error"], case["pooled"]["std_error"], rtol=1e-7)
    np.testing.assert_allclose(r.table["df"], case["pooled"]["df"], rtol=1e-7)


def test_hand_computed_small_example():
    # m = 3: Q = (1, 2, 3), U = (0.5, 0.5, 0.5): qbar 2, ubar 0.5, b 1, t = 0.5 + 4/3.
    r = pool_rubin([1.0, 2.0, 3.0], [0.5, 0.5, 0.5]).table.iloc[0]
    t = 0.5 + 4 / 3
    lam = (4 / 3) / t
    assert (r["estimate"], r["ubar"], r["b"]) == (2.0, 0.5, 1.0)
    assert r["t"] == pytest.approx(t, rel=1e-15)
    assert r["df"] == pytest.approx(2 / lam**2, rel=1e-14)  # (m - 1) / lambda^2 with dfcom = inf
    assert r["riv"] == pytest.approx((4 / 3) / 0.5, rel=1e-15)
    assert r["upper"] - r["estimate"] == pytest.approx(
        __import__("scipy").stats.t.ppf(0.975, 2 / lam**2) * math.sqrt(t), rel=1e-12
    )


def test_zero_between_variance_floors_lambda_in_df_only():
    r = pool_rubin([0.2, 0.2, 0.2], [0.01, 0.02, 0.03], dfcom=40).table.iloc[0]
    assert r["lambda"] == 0.0 and r["b"] == 0.0
    assert r["df"] == pytest.approx(float(barnard_rubin_df(3, 0.0, 0.02, 40)))
    assert r["df"] < 40  # the floor lambda = 1e-4 keeps the df finite and below dfcom


def test_dataframe_input_keeps_term_names():
    q = pd.DataFrame({"a": [0.1, 0.2], "b": [1.0, 1.5]})
    u = pd.DataFrame({"a": [0.01, 0.01], "b": [0.2, 0.3]})
    assert list(pool_rubin(q, u).table.index) == ["a", "b"]


def test_bad_input_gives_clear_messages():
    with pytest.raises(ValueError, match="at least 2 imputations"):
        pool_rubin([0.1], [0.01])
    with pytest.raises(ValueError, match="differ in shape"):
        pool_rubin([0.1, 0.2], [0.01])
    with pytest.raises(ValueError, match="finite"):
        pool_rubin([0.1, float("nan")], [0.01, 0.02])
    with pytest.raises(ValueError, match=">= 0"):
        pool_rubin([0.1, 0.2], [0.01, -0.02])
    with pytest.raises(ValueError, match="dfcom"):
        pool_rubin([0.1, 0.2], [0.01, 0.02], dfcom=0)
    with pytest.raises(ValueError, match="term names"):
        pool_rubin([0.1, 0.2], [0.01, 0.02], terms=["a", "b"])
    with pytest.raises(ValueError, match="numeric"):
        pool_rubin(["a", "b"], [0.01, 0.02])
    d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "e": [1, 1, 0, 1, 1, 1, 0, 1], "x": [1, 0, 1, 1, 0, 0, 1, 0],
                      "y": [0, 0, 1, 1, 0, 1, 1, 0]})
    with pytest.raises(ValueError, match="same terms"):
        pool_cox([cox(d, "t", "e", ["x"]), cox(d, "t", "e", ["y"])])
    with pytest.raises(ValueError, match="at least 2 fitted"):
        pool_cox([cox(d, "t", "e", ["x"])])
