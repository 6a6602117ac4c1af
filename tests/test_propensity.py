"""Tests for core.propensity: R's glm to the last bit, Firth's penalised fit equal to R's brglm2.

R references (tests/r/make_propensity_fixtures.R, R 4.2 with Debian's reference BLAS, brglm2
0.9): fits.json (glm and brglm2 AS_mean fits on ordinary, badly scaled and separated data),
demo_firth.json (brglm2 on subgroups of the demo cohort after the design rules). Independent
checks: the penalised likelihood's gradient by finite differences, scikit-learn's unpenalised
logistic regression.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.design import build_design
from core.propensity import (
    PropensityFit,
    SeparationError,
    _dqrls,
    _Workspace,
    estimate_propensity,
    fit_firth,
    fit_propensity,
    libm_exp,
)

HERE = Path(__file__).resolve().parent
PROP = HERE / "fixtures" / "propensity"
MATCH = HERE / "fixtures" / "matching"
DEMO_COVS = ["age_at_diagnosis", "ecog_baseline", "liver_mets_n", "log_ca19_9_baseline", "chemo_regimen",
             "objective_response", "resectability"]
EXAMPLE_COVS = ["age", "ecog", "mets", "regimen", "log(ca19_9)"]


def _load(name: str) -> dict:
    return json.loads((PROP / name).read_text())


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip", keep_default_na=False, na_values=[""])


def _example() -> pd.DataFrame:
    d = _read(MATCH / "matching_example.csv")
    d["log(ca19_9)"] = np.log(d["ca19_9"])
    return d


def _datasets() -> dict[str, tuple[pd.DataFrame, str, list[str]]]:
    ex = _example()
    quasi = ex.copy()
    quasi.loc[quasi.index[quasi["surgery"] == 1][:3], "regimen"] = "RARE"
    return {
        "sep1": (pd.DataFrame({"x": np.arange(6.0), "t": [0, 0, 0, 1, 1, 1]}), "t", ["x"]),
        "sep2": (_read(PROP / "separated2.csv"), "t", ["x1", "x2"]),
        "quasi_category": (quasi, "surgery", EXAMPLE_COVS),
        "quasi_continuous": (_read(PROP / "quasi_continuous.csv"), "t", ["x", "z"]),
        "example": (ex, "surgery", EXAMPLE_COVS),
        "scaled": (_read(MATCH / "scaled_example.csv"), "treated", ["income", "flag", "age", "region"]),
        "lalonde": (_read(PROP / "lalonde.csv"), "treat", ["age", "educ", "race", "married", "nodegree", "re74", "re75"]),
    }


# ---------------------------------------------------------------------------------------
# Maximum likelihood: R's glm to the last bit
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["example", "scaled", "lalonde"])
def test_glm_equals_r_glm_bit_for_bit(case):
    df, t, covs = _datasets()[case]
    ref = _load("fits.json")["fits"][case]["glm"]
    fit = fit_propensity(build_design(df, covs).matrix, df[t].to_numpy())
    assert fit.coefficients.index.tolist() == ref["names"]
    np.testing.assert_array_equal(fit.coefficients.to_numpy(), ref["coefficients"])
    np.testing.assert_array_equal(fit.logit, ref["logit"])
    assert fit.iterations == ref["iterations"] and fit.method == "glm"


def test_glm_agrees_with_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    df, t, covs = _datasets()["example"]
    X = build_design(df, covs).matrix
    fit = fit_propensity(X, df[t].to_numpy())
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X.to_numpy(), df[t].to_numpy())
    np.testing.assert_allclose(fit.coefficients.to_numpy(), np.r_[sk.intercept_, sk.coef_[0]], atol=1e-5)


def test_glm_refuses_separation_and_names_the_level():
    df, t, covs = _datasets()["quasi_category"]
    with pytest.raises(SeparationError, match="regimenRARE.*only in treated") as exc:
        estimate_propensity(df, t, covs, method="glm")
    assert (exc.value.covariate, exc.value.level, exc.value.arm, exc.value.n) == ("regimen", "RARE", "treated", 3)
    df, t, covs = _datasets()["quasi_continuous"]
    with pytest.raises(SeparationError, match="separation") as exc:
        fit_propensity(build_design(df, covs).matrix, df[t].to_numpy())
    assert exc.value.covariate == "x"


def test_least_squares_step_and_sequential_sums():
    rng = np.random.default_rng(7)
    A = rng.normal(size=(60, 4)) * np.array([1.0, 1e4, 1e-3, 1.0])
    y = rng.normal(size=60)
    b = _dqrls(np.ascontiguousarray(A.T), y.copy(), 1e-11, _Workspace(4, 60))
    np.testing.assert_allclose(b, np.linalg.lstsq(A, y, rcond=None)[0], rtol=1e-10)
    # the dot products add left to right (reference BLAS ddot), not pairwise as numpy's sum
    rows = rng.normal(size=(3, 5000)) * np.exp(rng.normal(0, 4, size=(3, 5000)))
    v = rng.normal(size=5000)
    got = _Workspace(3, 5000, use_blas=False).dots(rows, v)
    plain: list[float] = []
    for r in rows:
        s = 0.0
        for a, c in zip(r.tolist(), v.tolist(), strict=True):
            s += a * c
        plain.append(s)
    assert got.tolist() == plain
    assert any(float(np.sum(r * v)) != p for r, p in zip(rows, plain, strict=True))  # the order matters here
    # the system's reference BLAS (R's), when present and passing its probe, gives the same sums
    assert _Workspace(3, 5000).dots(rows, v).tolist() == plain
    assert _Workspace(3, 5000).dots(rows, rows).tolist() == _Workspace(3, 5000, use_blas=False).dots(rows, rows).tolist()


def test_glm_bits_do_not_depend_on_the_blas_kernel(monkeypatch):
    import core.propensity as prop

    df, t, covs = _datasets()["lalonde"]
    X = build_design(df, covs).matrix
    with_blas = fit_propensity(X, df[t].to_numpy())
    monkeypatch.setattr(prop, "_USE_BLAS_DDOT", False)
    without = fit_propensity(X, df[t].to_numpy())
    np.testing.assert_array_equal(with_blas.logit, without.logit)
    np.testing.assert_array_equal(without.coefficients.to_numpy(), _load("fits.json")["fits"]["lalonde"]["glm"]["coefficients"])


def test_exp_is_the_c_librarys():
    x = np.random.default_rng(3).uniform(-35, 35, 5000)
    assert libm_exp(x).tolist() == [math.exp(v) for v in x.tolist()]


def test_collinear_and_constant_columns_refused():
    X = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6], "b": [2.0, 4, 6, 8, 10, 12]})
    y = np.array([0, 1, 0, 1, 1, 0])
    for fitter in (fit_propensity, fit_firth):
        with pytest.raises(ValueError, match="collinear"):
            fitter(X, y)
        with pytest.raises(ValueError, match="constant"):
            fitter(X.assign(b=1.0), y)


# ---------------------------------------------------------------------------------------
# Firth: R's brglm2 (AS_mean)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", ["sep1", "sep2", "quasi_category", "quasi_continuous", "example", "scaled", "lalonde"]
)
def test_firth_equals_brglm2(case):
    df, t, covs = _datasets()[case]
    ref = _load("fits.json")["fits"][case]["firth"]
    fit = fit_firth(build_design(df, covs).matrix, df[t].to_numpy())
    assert fit.coefficients.index.tolist() == ref["names"] and fit.method == "firth"
    np.testing.assert_allclose(fit.coefficients.to_numpy(), ref["coefficients"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(fit.logit, ref["logit"], rtol=0, atol=1e-6)


def test_firth_on_demo_subgroups_equals_brglm2():
    demo = _read(PROP / "demo_landmark.csv")
    for name, c in _load("demo_firth.json")["subgroups"].items():
        sub = demo.iloc[np.asarray(c["rows"]) - 1].reset_index(drop=True)
        model = estimate_propensity(sub, "treated", DEMO_COVS, method="firth", drop_constant=True,
                                    min_level_count=c["min_count"])
        assert model.coefficients.index.tolist() == c["firth"]["names"], name
        np.testing.assert_allclose(model.coefficients.to_numpy(), c["firth"]["coefficients"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(model.logit, c["firth"]["logit"], rtol=0, atol=1e-6)
        assert int(model.treated.sum()) == c["n_treated"] and int((~model.treated).sum()) == c["n_control"]


def _penalised_loglik(X: np.ndarray, y: np.ndarray, b: np.ndarray) -> float:
    eta = X @ b
    w = 1.0 / (1.0 + np.exp(-eta)) * (1.0 / (1.0 + np.exp(eta)))
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)) + 0.5 * np.linalg.slogdet((X * w[:, None]).T @ X)[1])


@pytest.mark.parametrize("case", ["sep2", "quasi_category", "example"])
def test_firth_maximises_the_jeffreys_penalised_likelihood(case):
    # independent of brglm2: the gradient of loglik + log|X'WX| / 2 (by central differences) is
    # zero at the estimate, and moving away lowers it
    df, t, covs = _datasets()[case]
    X = build_design(df, covs).matrix
    y = df[t].to_numpy(float)
    b = fit_firth(X, y).coefficients.to_numpy()
    Xr = np.column_stack([np.ones(len(X)), X.to_numpy()])
    f0 = _penalised_loglik(Xr, y, b)
    for j in range(b.size):
        h = 1e-5 * max(1.0, abs(b[j]))
        e = np.zeros_like(b)
        e[j] = h
        grad = (_penalised_loglik(Xr, y, b + e) - _penalised_loglik(Xr, y, b - e)) / (2 * h)
        assert abs(grad) < 1e-4 * max(1.0, abs(f0)), (j, grad)
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert _penalised_loglik(Xr, y, b + rng.normal(0, 1e-2, b.size) * np.maximum(1, np.abs(b))) < f0


def test_firth_is_finite_where_glm_separates():
    df, t, covs = _datasets()["sep2"]
    X = build_design(df, covs).matrix
    with pytest.raises(SeparationError):
        fit_propensity(X, df[t].to_numpy())
    fit = fit_firth(X, df[t].to_numpy())
    assert np.all(np.isfinite(fit.coefficients)) and np.max(np.abs(fit.logit)) < 30


# ---------------------------------------------------------------------------------------
# estimate_propensity
# ---------------------------------------------------------------------------------------


def test_estimate_propensity_reports_the_design_repairs():
    demo = _read(PROP / "demo_landmark.csv")
    sub = demo[demo["chemo_regimen"] == "FOLFIRINOX"].reset_index(drop=True)
    with pytest.raises(ValueError, match="'chemo_regimen' takes a single value"):
        estimate_propensity(sub, "treated", DEMO_COVS, method="firth")
    m = estimate_propensity(sub, "treated", DEMO_COVS, method="firth", drop_constant=True)
    assert m.method == "firth" and isinstance(m.fit, PropensityFit)
    assert "chemo_regimen" not in m.covariates and [d.covariate for d in m.dropped] == ["chemo_regimen"]
    assert m.pooled == () and m.rows.size == m.logit.size == m.treated.size
    assert m.dropped[0].describe("Regimen") == (
        f"Regimen left out of the propensity model: FOLFIRINOX for all {m.rows.size} patients."
    )


def test_estimate_propensity_rejects_bad_input():
    df = pd.DataFrame({"t": [1, 1, 1], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="no control patients"):
        estimate_propensity(df, "t", ["x"])
    with pytest.raises(ValueError, match="method"):
        estimate_propensity(df, "t", ["x"], method="lasso")
    with pytest.raises(ValueError, match="not in the data"):
        estimate_propensity(df, "nope", ["x"])
    with pytest.raises(ValueError, match="0/1 or boolean"):
        estimate_propensity(df.assign(t=[1, 2, 0]), "t", ["x"])
    m = estimate_propensity(df.assign(t=[1, 0, 1]), "t", ["x"], method="firth", rows=np.array([True, True, False]))
    assert m.rows.tolist() == [0, 1]


def test_libm_exp_overflows_to_infinity_on_both_paths(monkeypatch):
    """Where numpy's exp differs from the C library's (AVX-512 builds), the element-wise fallback is used; a
    separated fit sends the linear predictor past 709, and both paths must give inf there, not raise."""
    import numpy as np

    from core import propensity

    x = np.array([800.0, -800.0, 1.5])
    expected = [np.inf, 0.0, np.exp(1.5)]
    assert propensity.libm_exp(x).tolist() == pytest.approx(expected)
    monkeypatch.setattr(propensity, "_EXP", np.frompyfunc(propensity._c_exp, 1, 1))
    assert propensity.libm_exp(x).tolist() == pytest.approx(expected)
