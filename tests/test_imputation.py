"""Tests for core.imputation (chained equations).

The imputations are random, so they are not compared with mice draw for draw; these tests check
the properties an imputation must have, and that simulated means and proportions are recovered
under MCAR and MAR (fixed seeds, no timing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.cohort import demo
from core.dictionary import DEFAULT_PROPENSITY_COVARIATES, C
from core.imputation import impute_chained
from core.pooling import pool_rubin


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _simulated(n: int, seed: int, mechanism: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Full data and the same data with missing values: x1 complete; x2, b, g depend on x1."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0, 1, n)
    x2 = 1.0 + 0.8 * x1 + rng.normal(0, 0.6, n)
    b = rng.random(n) < _expit(-0.3 + 1.2 * x1)
    eta = np.column_stack([np.zeros(n), 0.3 + 1.0 * x1, -0.5 - 1.0 * x1])
    pg = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    g = np.array(["a", "b", "c"], dtype=object)[(rng.random(n)[:, None] > np.cumsum(pg, axis=1)).sum(axis=1)]
    full = pd.DataFrame({"x1": x1, "x2": x2, "b": b, "g": g})
    obs = full.copy()
    for col in ("x2", "b", "g"):
        p = np.full(n, 0.3) if mechanism == "MCAR" else _expit(-1.2 + 1.5 * x1)  # MAR: depends on x1 only
        miss = rng.random(n) < p
        obs[col] = obs[col].astype(object) if col != "x2" else obs[col]
        obs.loc[miss, col] = np.nan if col == "x2" else None
    obs["b"] = obs["b"].astype("boolean")
    return full, obs


@pytest.fixture(scope="module")
def mar():
    full, obs = _simulated(3000, 5, "MAR")
    return full, obs, impute_chained(obs, ["x2", "b", "g"], predictors=["x1"], m=5, iterations=5, seed=42)


def test_no_missing_observed_untouched_and_dtypes_kept(mar):
    _, obs, res = mar
    assert res.m == len(res.imputations) == 5
    for comp in res.imputations:
        assert comp[["x2", "b", "g"]].isna().sum().sum() == 0
        assert list(comp.columns) == list(obs.columns) and comp.index.equals(obs.index)
        for col in ("x1", "x2", "b", "g"):
            seen = obs[col].notna().to_numpy()
            assert (comp.loc[seen, col].to_numpy() == obs.loc[seen, col].to_numpy()).all(), col
        assert comp["b"].dtype == obs["b"].dtype and comp["x2"].dtype == obs["x2"].dtype
        assert set(comp["g"]) <= {"a", "b", "c"} and set(comp["b"]) <= {True, False}


def test_pmm_imputes_observed_values(mar):
    _, obs, res = mar
    observed = set(obs["x2"].dropna())
    for comp in res.imputations:
        assert set(comp.loc[obs["x2"].isna(), "x2"]) <= observed


def test_mar_means_and_proportions_are_recovered(mar):
    full, obs, res = mar
    # complete-case estimates are biased (missingness rises with x1, which raises x2, b and lowers g = "c")
    assert obs["x2"].mean() - full["x2"].mean() < -0.15
    cases = (
        ("x2", full["x2"].mean(), obs["x2"].mean()),
        ("b", full["b"].mean(), obs["b"].dropna().astype(float).mean()),
        ("gc", (full["g"] == "c").mean(), (obs["g"].dropna() == "c").mean()),
    )
    for col, target, complete_case in cases:
        vals = [
            (comp["g"] == "c").mean() if col == "gc" else comp[col].astype(float).mean() for comp in res.imputations
        ]
        err = abs(np.mean(vals) - target)
        assert err < 0.03 and err < abs(complete_case - target) / 2, (col, np.mean(vals), target, complete_case)
        assert np.std(vals) > 0  # the imputations differ (between-imputation variability)


def test_mcar_means_are_recovered_and_pooled_interval_covers():
    full, obs = _simulated(2000, 8, "MCAR")
    res = impute_chained(obs, ["x2", "b", "g"], predictors=["x1"], m=10, iterations=5, seed=3)
    q = [c["x2"].mean() for c in res.imputations]
    u = [c["x2"].var(ddof=1) / len(c) for c in res.imputations]
    pooled = pool_rubin(q, u, dfcom=len(obs) - 1).table.iloc[0]
    true_mean = 1.0  # E[x2] = 1 + 0.8 E[x1]
    assert abs(pooled["estimate"] - full["x2"].mean()) < 0.03
    assert pooled["lower"] < true_mean < pooled["upper"]
    assert 0 < pooled["fmi"] < 0.6  # about 30% missing, partly recovered through x1


def test_same_seed_same_imputations_other_seed_differs():
    _, obs = _simulated(300, 2, "MAR")
    a = impute_chained(obs, ["x2", "b", "g"], predictors=["x1"], m=2, seed=9)
    b = impute_chained(obs, ["x2", "b", "g"], predictors=["x1"], m=2, seed=9)
    c = impute_chained(obs, ["x2", "b", "g"], predictors=["x1"], m=2, seed=10)
    for x, y in zip(a.imputations, b.imputations, strict=True):
        pd.testing.assert_frame_equal(x, y)
    assert not a.imputations[0].equals(c.imputations[0])
    assert not a.imputations[0].equals(a.imputations[1])


def test_propensity_covariates_of_the_demo_cohort_at_n90():
    d = demo().data.copy()
    cols = list(DEFAULT_PROPENSITY_COVARIATES)
    rng = np.random.default_rng(1)
    for col in cols:
        miss = rng.random(len(d)) < 0.2
        d.loc[miss, col] = np.nan if d[col].dtype.kind == "f" else None
    d["arm"] = (d[C.TREATMENT_GROUP] == d[C.TREATMENT_GROUP].iloc[0]).astype(int)
    res = impute_chained(d, cols, predictors=["arm"], m=3, seed=4)
    methods = res.table["method"].to_dict()
    assert methods[C.AGE] == "pmm" and methods[C.CA19_9_BASELINE] == "pmm"
    assert methods[C.CHEMO_REGIMEN] == "polyreg" and methods[C.RESECTABILITY] == "logreg"
    assert res.table.loc["arm", "role"] == "predictor"
    for comp in res.imputations:
        assert comp[cols].isna().sum().sum() == 0
        assert comp[C.AGE].dtype == d[C.AGE].dtype  # nullable Int64 stays Int64
        assert set(comp[C.CHEMO_REGIMEN]) <= set(d[C.CHEMO_REGIMEN].dropna())


def test_separation_and_single_level_do_not_break():
    # b is perfectly predicted by x (separation): the augmentation keeps the logistic fit finite
    x = np.arange(40, dtype=float)
    b = pd.Series(x > 20, dtype="boolean")
    b[[3, 30]] = pd.NA
    one = pd.Series(["only"] * 40, dtype=object)
    one[[5, 6]] = None
    d = pd.DataFrame({"x": x, "b": b, "one": one})
    comp = impute_chained(d, ["b", "one"], predictors=["x"], m=2, seed=1).imputations[0]
    assert comp["b"].notna().all() and (comp["one"] == "only").all()


def test_ordered_categorical_uses_pmm_on_codes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    grade = pd.Categorical(np.where(x < -0.5, "low", np.where(x < 0.5, "mid", "high")),
                           categories=["low", "mid", "high"], ordered=True)
    s = pd.Series(grade)
    s[rng.random(200) < 0.2] = np.nan
    res = impute_chained(pd.DataFrame({"x": x, "grade": s}), ["grade"], predictors=["x"], m=1, seed=2)
    assert res.table.loc["grade", "method"] == "pmm"
    comp = res.imputations[0]
    assert comp["grade"].dtype == s.dtype and comp["grade"].notna().all()


def test_bad_input_gives_clear_messages():
    d = pd.DataFrame({"a": [1.0, None, 3.0], "b": [None, 1.0, 2.0], "t": pd.to_datetime(["2020-01-01"] * 3)})
    with pytest.raises(ValueError, match="not a column"):
        impute_chained(d, ["zzz"])
    with pytest.raises(ValueError, match="predictor 'b' has 1 missing"):
        impute_chained(d, ["a"], predictors=["b"])
    with pytest.raises(ValueError, match="cannot be imputed"):
        impute_chained(d.assign(t=[None, pd.Timestamp("2020-01-01"), None]), ["t"])
    with pytest.raises(ValueError, match="no observed values"):
        impute_chained(d.assign(a=np.nan), ["a"])
    with pytest.raises(ValueError, match="m must be an integer"):
        impute_chained(d, ["a"], m=0)
    with pytest.raises(ValueError, match="method for 'a'"):
        impute_chained(d, ["a"], methods={"a": "norm"})
    with pytest.raises(ValueError, match="logreg needs exactly two"):
        impute_chained(d, ["a"], methods={"a": "logreg"})
    with pytest.raises(ValueError, match="listed twice"):
        impute_chained(d, ["a"], predictors=["a"])
    with pytest.raises(ValueError, match="DataFrame"):
        impute_chained([[1, 2]])
