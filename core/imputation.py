"""Multiple imputation by chained equations (MICE), after R's ``mice`` (van Buuren 2011).

:func:`impute_chained` returns ``m`` completed copies of a table. Each missing column is imputed
in turn from all the other columns (their current values), for ``iterations`` rounds, starting
from random draws of the observed values, as ``mice()`` does; the ``m`` chains run independently
from one seed. The method per column:

* numeric (and ordered categorical, on its codes): **predictive mean matching**, mice's default
  ``pmm`` (type-1 matching): an OLS fit on the observed rows, a draw of the regression
  parameters from their posterior (``sigma* = sqrt(RSS / chi2_df)``,
  ``beta* = b + sigma* chol((X'X)^-1)' z``), then for each missing row the observed value of one
  of the ``donors`` (5) observed rows whose fitted value ``X b`` is closest to ``X beta*``,
  chosen at random (ties broken at random). Imputed values are always observed values.
* two categories (bool, or two distinct labels): **logistic regression**, mice's ``logreg``: the
  fit is stabilised with mice's augmentation (``2 p k`` pseudo-rows at each predictor's mean
  +/- half an SD with total weight ``p + 1``, so that separation cannot make it diverge), the
  coefficients are drawn from ``N(b, (X'WX)^-1)``, and each missing row is 1 with the
  resulting probability.
* three or more unordered categories: **multinomial (polytomous) logistic regression** with the
  same augmentation. Unlike mice's ``polyreg`` (which draws from the fitted probabilities only),
  the coefficients are drawn from their normal approximation first, so the imputations carry
  the uncertainty of the model ("proper" imputation, as ``logreg``).

Predictors enter as a numeric design (numeric columns standardised, categorical columns as
treatment-contrast dummies); columns constant in the rows used are left out, and a
(near-)singular fit gets mice's small ridge (``1e-5`` times the diagonal). It is not mice draw
for draw (the random streams differ); ``tests/test_imputation.py`` checks its properties
(observed values untouched, pmm imputes observed values, known means recovered under MCAR and
MAR, reproducible with a seed).

For a propensity-score analysis, impute the covariates with the treatment and the outcome
(event indicator and Nelson-Aalen cumulative hazard, White & Royston 2009) as ``predictors``,
match or weight within each completed data set, and pool with :mod:`core.pooling`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["METHODS", "ImputationResult", "impute_chained"]

METHODS = ("pmm", "logreg", "polyreg")
_RIDGE = 1e-5


# ============================================================================ column model
@dataclass
class _Col:
    name: str
    kind: str  # "numeric", "ordered", "binary", "nominal"
    method: str
    levels: list[object]  # category labels (codes index them); empty for numeric
    values: np.ndarray  # current numeric values: floats, or codes as floats
    missing: np.ndarray  # bool mask of originally missing cells


def _kind(s: pd.Series, name: str) -> tuple[str, list[object]]:
    obs = s.dropna()
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = [lv for lv in s.cat.categories if (obs == lv).any()] if not s.cat.ordered else list(s.cat.categories)
        if s.cat.ordered:
            return "ordered", levels
        return ("binary" if len(levels) == 2 else "nominal"), levels
    if pd.api.types.is_bool_dtype(s.dtype) or (s.dtype == object and len(obs) and obs.map(type).eq(bool).all()):
        return "binary", [False, True]
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "numeric", []
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        levels = sorted(pd.unique(obs).tolist(), key=str)
        return ("binary" if len(levels) == 2 else "nominal"), levels
    raise ValueError(f"column {name!r} has dtype {s.dtype}, which cannot be imputed (numeric, boolean or categorical only)")


def _default_method(kind: str) -> str:
    return {"numeric": "pmm", "ordered": "pmm", "binary": "logreg", "nominal": "polyreg"}[kind]


def _encode(s: pd.Series, kind: str, levels: list[object]) -> np.ndarray:
    if kind == "numeric":
        return s.to_numpy(dtype=float, na_value=np.nan)
    if kind == "binary" and levels == [False, True]:
        return s.map({False: 0.0, True: 1.0}).to_numpy(dtype=float, na_value=np.nan)
    lookup = {lv: float(i) for i, lv in enumerate(levels)}
    return s.map(lookup).to_numpy(dtype=float, na_value=np.nan)


def _decode(col: _Col, original: pd.Series) -> pd.Series:
    """The original column with its missing cells filled from the imputed values (dtype kept)."""
    out = original.copy()
    if not col.missing.any():
        return out
    v = col.values[col.missing]
    if col.kind == "numeric":
        fill = np.rint(v) if pd.api.types.is_integer_dtype(original.dtype) else v
    else:
        fill = np.asarray(col.levels, dtype=object)[np.rint(v).astype(int)]
    out.iloc[np.flatnonzero(col.missing)] = fill
    return out


# ============================================================================ design
def _design(cols: list[_Col], skip: int, rows: np.ndarray | slice) -> np.ndarray:
    """Intercept + standardised numeric columns + dummies of categorical ones (without column ``skip``)."""
    parts = []
    for i, c in enumerate(cols):
        if i == skip:
            continue
        v = c.values
        if c.kind in ("numeric", "ordered"):
            sd = v.std()
            parts.append(((v - v.mean()) / (sd if sd > 0 else 1.0))[:, None])
        else:
            codes = np.rint(v).astype(int)
            k = len(c.levels)
            if k > 1:
                parts.append((codes[:, None] == np.arange(1, k)[None, :]).astype(float))
    X = np.column_stack([np.ones(len(cols[skip].values))] + parts) if parts else np.ones((len(cols[skip].values), 1))
    return X[rows]


def _drop_constant(Xo: np.ndarray, Xm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.ones(Xo.shape[1], bool)
    keep[1:] = np.ptp(Xo[:, 1:], axis=0) > 0 if Xo.shape[1] > 1 else keep[1:]
    return Xo[:, keep], Xm[:, keep]


def _inv_psd(A: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive (semi-)definite matrix; mice's ridge when (near-)singular."""
    try:
        L = np.linalg.cholesky(A)
        if np.min(np.diag(L)) ** 2 < 1e-12 * np.max(np.diag(A)):
            raise np.linalg.LinAlgError
        return np.linalg.inv(A)
    except np.linalg.LinAlgError:
        return np.linalg.inv(A + np.diag(_RIDGE * np.maximum(np.diag(A), 1e-12)))


def _chol_lower(V: np.ndarray) -> np.ndarray:
    V = (V + V.T) / 2
    try:
        return np.linalg.cholesky(V)
    except np.linalg.LinAlgError:
        w, U = np.linalg.eigh(V)
        return U * np.sqrt(np.maximum(w, 0.0))


# ============================================================================ methods
def _pmm(y: np.ndarray, Xo: np.ndarray, Xm: np.ndarray, donors: int, rng: np.random.Generator) -> np.ndarray:
    """mice.impute.pmm, matchtype 1: observed fitted with b, missing with a posterior draw beta*."""
    n, p = Xo.shape
    xtx = Xo.T @ Xo
    v = _inv_psd(xtx)
    b = v @ (Xo.T @ y)
    r = y - Xo @ b
    df = max(n - p, 1)
    sigma = np.sqrt(np.sum(r * r) / rng.chisquare(df))
    beta = b + (_chol_lower(v) @ rng.standard_normal(p)) * sigma
    yobs = Xo @ b
    ymis = Xm @ beta
    k = min(donors, n)
    order = np.lexsort((rng.random(n), yobs))  # sorted donors, ties in random order
    ys = yobs[order]
    pos = np.searchsorted(ys, ymis)
    lo = np.clip(pos[:, None] - k + np.arange(2 * k)[None, :], 0, n - 1)  # a window holding the k nearest
    dist = np.abs(ys[lo] - ymis[:, None])
    dist = np.where(np.diff(lo, axis=1, prepend=-1) == 0, np.inf, dist)  # clipped duplicates
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
    pick = nearest[np.arange(len(ymis)), rng.integers(0, k, len(ymis))]
    return y[order][lo[np.arange(len(ymis)), pick]]


def _augment(Xo: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mice's augment(): 2 p k pseudo-rows at mean +/- sd/2 of each predictor, weight (p + 1) / (2 p k)."""
    preds = Xo[:, 1:]
    p = preds.shape[1]
    w = np.ones(len(y))
    if p == 0:
        return Xo, y, w
    mean, sd = preds.mean(axis=0), preds.std(axis=0, ddof=1) if len(y) > 1 else np.zeros(p)
    lo, hi = preds.min(axis=0), preds.max(axis=0)
    nr = 2 * p * k
    d = np.tile(mean, (nr, 1))
    for j in range(p):
        rows = slice(j * 2 * k, (j + 1) * 2 * k)
        d[rows, j] += np.tile([0.5, -0.5], k) * sd[j]
    d = np.clip(d, lo, hi)
    ya = np.tile(np.repeat(np.arange(k), 2), p).astype(float)
    Xa = np.column_stack([np.ones(nr), d])
    return np.vstack([Xo, Xa]), np.concatenate([y, ya]), np.concatenate([w, np.full(nr, (p + 1) / nr)])


def _softmax_rest(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of classes 1..k-1 and the log normaliser, for linear predictors ``eta`` (n, k-1)."""
    top = np.maximum(eta.max(axis=1), 0.0)
    e = np.exp(eta - top[:, None])
    z = np.exp(-top) + e.sum(axis=1)
    return e / z[:, None], top + np.log(z)


def _multinomial_fit(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, k: int, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted multinomial logit (first class = reference) by Newton-Raphson: coefficients (p, k-1) and covariance.

    ``start`` (e.g. the previous round's coefficients) only speeds up convergence to the same maximum.
    """
    n, p = X.shape
    q = k - 1
    yi = y.astype(int)
    Y = (yi[:, None] == np.arange(1, k)[None, :]).astype(float)
    B = np.zeros((p, q)) if start is None or start.shape != (p, q) else start.copy()

    def loglik(B: np.ndarray) -> tuple[float, np.ndarray]:
        eta = X @ B
        P, lse = _softmax_rest(eta)
        own = np.where(yi > 0, eta[np.arange(n), np.maximum(yi - 1, 0)], 0.0)
        return float(np.sum(w * (own - lse))), P

    def hessian(P: np.ndarray) -> np.ndarray:
        H = np.empty((p * q, p * q))
        for a in range(q):
            for c in range(a, q):
                wac = w * P[:, a] * ((a == c) - P[:, c])
                H[a * p : (a + 1) * p, c * p : (c + 1) * p] = blk = X.T @ (wac[:, None] * X)
                H[c * p : (c + 1) * p, a * p : (a + 1) * p] = blk.T
        return H

    ll, P = loglik(B)
    for _ in range(100):
        g = (X.T @ (w[:, None] * (Y - P))).T.reshape(-1)  # class-major
        step = _inv_psd(hessian(P)) @ g
        t = 1.0
        for _half in range(30):
            Bn = B + t * step.reshape(q, p).T
            lln, Pn = loglik(Bn)
            if lln >= ll - 1e-10 * abs(ll):
                break
            t /= 2
        done = abs(lln - ll) < 1e-10 * (abs(ll) + 0.1)
        B, ll, P = Bn, lln, Pn
        if done:
            break
    return B, _inv_psd(hessian(P))


def _categorical(
    y: np.ndarray, Xo: np.ndarray, Xm: np.ndarray, k: int, rng: np.random.Generator, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """logreg (k = 2) / polytomous regression (k > 2): augmented fit, parameter draw, class draw.

    Returns the imputed codes and the fitted coefficients (a warm start for the next round).
    """
    seen = np.unique(y)
    if len(seen) == 1:  # every observed row in one class (mice: cat.has.all.obs)
        return np.full(len(Xm), seen[0]), None
    Xa, ya, wa = _augment(Xo, y, k)
    B, V = _multinomial_fit(Xa, ya, wa, k, start)
    p, q = B.shape
    draw = B + (_chol_lower(V) @ rng.standard_normal(p * q)).reshape(q, p).T
    eta = np.column_stack([np.zeros(len(Xm)), Xm @ draw])
    P = np.exp(eta - eta.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    u = rng.random(len(Xm))
    return np.minimum((u[:, None] > np.cumsum(P, axis=1)).sum(axis=1), k - 1).astype(float), B


# ============================================================================ result and driver
@dataclass(frozen=True, eq=False)
class ImputationResult:
    """``m`` completed copies of the data, and how each column was imputed.

    ``imputations`` holds the completed DataFrames (all columns of the input, same index and
    dtypes; only missing cells of the imputed columns changed). ``table``: one row per column
    used (``role`` imputed/predictor, ``kind``, ``method``, ``n_missing``, ``pct_missing``).
    """

    imputations: tuple[pd.DataFrame, ...] = field(repr=False)
    table: pd.DataFrame
    m: int
    iterations: int
    seed: int
    donors: int

    def __len__(self) -> int:
        return self.m


def _check_int(x: object, name: str, minimum: int) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)) or x < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return int(x)


def impute_chained(
    data: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    predictors: Sequence[str] = (),
    m: int = 5,
    iterations: int = 5,
    seed: int = 20260101,
    donors: int = 5,
    methods: Mapping[str, str] | None = None,
) -> ImputationResult:
    """Impute missing values by chained equations; returns ``m`` completed data sets.

    Parameters
    ----------
    data : pandas.DataFrame
        The table (one row per patient).
    columns : sequence of str, optional
        Columns to impute and to use as predictors of each other (default: every column of
        ``data`` with a missing value).
    predictors : sequence of str
        Complete columns used only as predictors (e.g. treatment, event indicator, cumulative
        hazard).
    m : int
        Number of imputations (completed data sets).
    iterations : int
        Rounds of the chained equations per imputation (mice's ``maxit``, default 5).
    seed : int
        Seed of the random generator (same seed, same imputations).
    donors : int
        Donors for predictive mean matching (mice's default 5).
    methods : mapping, optional
        Override the method of a column: ``"pmm"`` (numeric or ordered categorical),
        ``"logreg"`` (two categories), ``"polyreg"`` (categorical).

    Returns
    -------
    ImputationResult
        ``imputations`` (m DataFrames) and a ``table`` of methods and missing counts.

    Raises
    ------
    ValueError
        Unknown or unsupported columns, a predictor with missing values, a column with no
        observed value, an impossible method, or bad m / iterations / donors / seed.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [50, 61, None, 72, 58, 66, 70, None],
    ...                    "ecog": [0, 1, 1, 2, 0, None, 1, 0],
    ...                    "arm": [0, 1, 0, 1, 0, 1, 1, 0]})
    >>> res = impute_chained(df, ["age", "ecog"], predictors=["arm"], m=3, seed=1)
    >>> len(res.imputations), int(res.imputations[0][["age", "ecog"]].isna().sum().sum())
    (3, 0)
    >>> set(res.imputations[0]["age"]) <= set(df["age"].dropna())  # pmm imputes observed values
    True
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    if len(data) == 0:
        raise ValueError("no observations: data is empty")
    m = _check_int(m, "m", 1)
    iterations = _check_int(iterations, "iterations", 1)
    donors = _check_int(donors, "donors", 1)
    seed = _check_int(seed, "seed", 0)
    if columns is None:
        columns = [c for c in data.columns if data[c].isna().any() and c not in set(predictors)]
    columns, predictors = list(columns), list(predictors)
    for name in columns + predictors:
        if name not in data.columns:
            raise ValueError(f"column {name!r} is not a column of data")
    if len(set(columns + predictors)) != len(columns) + len(predictors):
        raise ValueError("a column is listed twice (in columns and/or predictors)")
    for name in predictors:
        nm = int(data[name].isna().sum())
        if nm:
            raise ValueError(f"predictor {name!r} has {nm} missing value(s); list it in columns to impute it")
    methods = dict(methods or {})
    unknown = set(methods) - set(columns)
    if unknown:
        raise ValueError(f"methods given for {sorted(unknown)}, which are not columns to impute")

    cols: list[_Col] = []
    rows = []
    for name in columns + predictors:
        s = data[name]
        kind, levels = _kind(s, name)
        miss = s.isna().to_numpy()
        role = "imputed" if name in columns else "predictor"
        if role == "imputed" and miss.all():
            raise ValueError(f"column {name!r} has no observed values: it cannot be imputed")
        method = methods.get(name, _default_method(kind)) if role == "imputed" else ""
        if method and method not in METHODS:
            raise ValueError(f"method for {name!r} must be one of {METHODS}, got {method!r}")
        if method == "pmm" and kind in ("binary", "nominal"):
            raise ValueError(f"pmm needs a numeric or ordered categorical column; {name!r} is {kind}")
        if method == "logreg" and kind != "binary":
            raise ValueError(f"logreg needs exactly two categories; {name!r} is {kind}")
        if method == "polyreg" and kind == "numeric":
            raise ValueError(f"polyreg needs a categorical column; {name!r} is numeric")
        if kind in ("binary", "nominal") and len(levels) < 2 and not miss.all():
            kind = "binary"  # a single observed level: imputed as that level
        cols.append(_Col(name, kind, method, levels, _encode(s, kind, levels), miss))
        rows.append({"column": name, "role": role, "kind": kind, "method": method or "-",
                     "n_missing": int(miss.sum()), "pct_missing": 100.0 * miss.mean()})
    table = pd.DataFrame(rows).set_index("column")
    todo = [i for i, c in enumerate(cols) if c.method and c.missing.any()]

    children = np.random.SeedSequence(seed).spawn(m)
    completed = []
    for child in children:
        rng = np.random.default_rng(child)
        state = [_Col(c.name, c.kind, c.method, c.levels, c.values.copy(), c.missing) for c in cols]
        for i in todo:  # mice's initialisation: random draws from the observed values
            c = state[i]
            obs = c.values[~c.missing]
            c.values[c.missing] = rng.choice(obs, int(c.missing.sum()), replace=True)
        warm: dict[int, np.ndarray | None] = {}
        for _ in range(iterations):
            for i in todo:
                c = state[i]
                X = _design(state, i, slice(None))
                Xo, Xm = _drop_constant(X[~c.missing], X[c.missing])
                y = cols[i].values[~c.missing]
                if c.method == "pmm":
                    c.values[c.missing] = _pmm(y, Xo, Xm, donors, rng)
                else:
                    c.values[c.missing], warm[i] = _categorical(y, Xo, Xm, max(len(c.levels), 2), rng, warm.get(i))
        out = data.copy()
        for i in todo:
            out[state[i].name] = _decode(state[i], data[state[i].name])
        completed.append(out)
    return ImputationResult(tuple(completed), table, m, iterations, seed, donors)
