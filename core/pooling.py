"""Rubin's rules: pool estimates from m imputed data sets exactly as R's ``mice::pool`` (mice 3.15).

For each term, with per-imputation estimates ``Q_1..Q_m`` and variances ``U_1..U_m``
(squared standard errors; robust ones when the analysis used a robust variance, as ``mice``
prefers ``robust.se``):

* ``estimate = mean(Q)``, ``ubar = mean(U)`` (within), ``b = var(Q)`` (between, ``m - 1``
  denominator), ``t = ubar + (1 + 1/m) b`` (total);
* ``riv = (1 + 1/m) b / ubar`` (relative increase in variance), ``lambda = (1 + 1/m) b / t``;
* ``df``: Barnard-Rubin (1999) small-sample degrees of freedom with the complete-data ``dfcom``
  (mice's ``barnard.rubin``, including its floor ``lambda >= 1e-4`` inside the df only);
  ``(m - 1) / lambda^2`` when ``dfcom`` is infinite;
* ``fmi = (riv + 2 / (df + 3)) / (riv + 1)``;
* ``std_error = sqrt(t)``, ``statistic = estimate / std_error``,
  ``p = 2 P(T_df > |statistic|)`` (df floored at 0.001 as ``summary.mipo``), and the interval
  ``estimate +/- qt(1 - alpha/2, df) std_error`` (``confint.mipo``).

``mice::pool`` takes ``dfcom`` from the first model: the residual df of a linear model,
``nevent - number of coefficients`` for a Cox model (:func:`pool_cox` does the same), else
``nobs - number of coefficients``. The agreement is checked in ``tests/test_pooling.py`` against
``tests/fixtures/pooling/pool.json`` written by ``tests/r/make_reviewer_fixtures.R``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.survival import CoxResult

__all__ = ["PooledResult", "barnard_rubin_df", "pool_cox", "pool_rubin"]


def barnard_rubin_df(m: int, b: np.ndarray | float, t: np.ndarray | float, dfcom: float = math.inf) -> np.ndarray:
    """Barnard-Rubin degrees of freedom, as ``mice:::barnard.rubin`` (mice 3.15).

    Parameters
    ----------
    m : int
        Number of imputations (>= 2).
    b, t : float or array
        Between-imputation and total variance.
    dfcom : float
        Complete-data degrees of freedom (``inf`` for large samples).

    Returns
    -------
    numpy.ndarray
        Degrees of freedom per term.

    Examples
    --------
    >>> round(float(barnard_rubin_df(5, 0.02, 0.1, dfcom=50)), 6)  # R mice:::barnard.rubin: 23.9533687978
    23.953369
    """
    b = np.asarray(b, dtype=float)
    t = np.asarray(t, dtype=float)
    lam = np.maximum((1.0 + 1.0 / m) * b / t, 1e-4)
    dfold = (m - 1) / lam**2
    if math.isinf(dfcom):
        return dfold
    dfobs = (dfcom + 1.0) / (dfcom + 3.0) * dfcom * (1.0 - lam)
    return dfold * dfobs / (dfold + dfobs)


@dataclass(frozen=True)
class PooledResult:
    """Pooled estimates, one row per term of ``table`` (index = term).

    Columns ``m, estimate, std_error, statistic, df, p, lower, upper, riv, lambda, fmi, ubar, b,
    t, dfcom`` (mice's ``summary(pool(fit), type = "all", conf.int = TRUE)``; ``lower``/``upper``
    are its ``2.5 %``/``97.5 %`` columns at ``conf_level``). With ``exponentiate`` the
    ``estimate``, ``lower`` and ``upper`` columns ``hr, hr_lower, hr_upper`` are added (the
    pooling itself is always on the estimate's own scale, e.g. the log hazard ratio).
    """

    table: pd.DataFrame
    m: int
    dfcom: float
    conf_level: float


def _as_matrix(x: object, name: str) -> tuple[np.ndarray, list[str] | None]:
    if isinstance(x, pd.DataFrame):
        try:
            arr = x.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric") from exc
        return arr, [str(c) for c in x.columns]
    if isinstance(x, pd.Series):
        try:
            return x.to_numpy(dtype=float)[:, None], None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric") from exc
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric") from exc
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a vector (one term) or an m x terms matrix, got shape {arr.shape}")
    return arr, None


def pool_rubin(
    estimates: Sequence[float] | np.ndarray | pd.DataFrame,
    variances: Sequence[float] | np.ndarray | pd.DataFrame,
    *,
    dfcom: float = math.inf,
    terms: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> PooledResult:
    """Pool per-imputation estimates and variances with Rubin's rules, equal to ``mice::pool``.

    Parameters
    ----------
    estimates : array-like, shape (m,) or (m, k), or DataFrame
        One row per imputation, one column per term (a vector for a single term).
    variances : array-like of the same shape
        The squared standard errors (use the robust ones when the analysis is robust).
    dfcom : float
        Complete-data degrees of freedom (> 0; ``inf`` = large sample). R's ``pool`` takes
        ``nevent - p`` for a Cox model and the residual df for a linear model.
    terms : sequence of str, optional
        Term names (default: the DataFrame's columns, else ``term1..termk``).
    conf_level : float
        Level of the t-based interval.

    Returns
    -------
    PooledResult
        ``.table`` with one row per term (see :class:`PooledResult`).

    Raises
    ------
    ValueError
        Fewer than two imputations, shapes that differ, missing or non-finite values, negative
        variances, or a non-positive ``dfcom``.

    Examples
    --------
    >>> r = pool_rubin([0.1, 0.3, 0.2], [0.04, 0.05, 0.06], dfcom=40)
    >>> row = r.table.loc["term1"]
    >>> [round(float(row[c]), 6) for c in ("estimate", "b", "t", "df")]  # R pool.scalar(n = 41): df 18.0596538393
    [0.2, 0.01, 0.063333, 18.059654]
    """
    q, qnames = _as_matrix(estimates, "estimates")
    u, _ = _as_matrix(variances, "variances")
    if q.shape != u.shape:
        raise ValueError(f"estimates and variances differ in shape ({q.shape} vs {u.shape})")
    m, k = q.shape
    if m < 2:
        raise ValueError(f"pooling needs at least 2 imputations, got {m}")
    if not (np.isfinite(q).all() and np.isfinite(u).all()):
        raise ValueError("estimates and variances must be finite (no missing values)")
    if (u < 0).any():
        raise ValueError("variances must be >= 0 (give squared standard errors)")
    if isinstance(dfcom, bool) or not isinstance(dfcom, (int, float, np.integer, np.floating)) or not dfcom > 0:
        raise ValueError(f"dfcom must be a positive number (or inf), got {dfcom!r}")
    if not (isinstance(conf_level, (int, float)) and 0 < float(conf_level) < 1):
        raise ValueError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")
    dfcom = float(dfcom)
    if terms is not None:
        names = [str(t) for t in terms]
        if len(names) != k:
            raise ValueError(f"{len(names)} term names for {k} terms")
    else:
        names = qnames or [f"term{j + 1}" for j in range(k)]
    qbar = q.mean(axis=0)
    qbar = qbar + (q - qbar).mean(axis=0)  # R's mean(): a second, correcting pass
    ubar = u.mean(axis=0)
    ubar = ubar + (u - ubar).mean(axis=0)
    b = np.sum((q - qbar) ** 2, axis=0) / (m - 1)
    t = ubar + (1.0 + 1.0 / m) * b
    df = barnard_rubin_df(m, b, t, dfcom)
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1.0 + 1.0 / m) * b / ubar
        lam = (1.0 + 1.0 / m) * b / t
        fmi = (riv + 2.0 / (df + 3.0)) / (riv + 1.0)
        se = np.sqrt(t)
        stat = qbar / se
    p = 2.0 * stats.t.sf(np.abs(stat), np.maximum(df, 0.001))
    a = (1.0 - float(conf_level)) / 2.0
    table = pd.DataFrame(
        {
            "m": m,
            "estimate": qbar,
            "std_error": se,
            "statistic": stat,
            "df": df,
            "p": p,
            "lower": qbar + stats.t.ppf(a, df) * se,
            "upper": qbar + stats.t.ppf(1.0 - a, df) * se,
            "riv": riv,
            "lambda": lam,
            "fmi": fmi,
            "ubar": ubar,
            "b": b,
            "t": t,
            "dfcom": dfcom,
        },
        index=pd.Index(names, name="term"),
    )
    return PooledResult(table=table, m=m, dfcom=dfcom, conf_level=float(conf_level))


def pool_cox(fits: Sequence[CoxResult], *, dfcom: float | None = None, conf_level: float = 0.95) -> PooledResult:
    """Pool Cox models fitted on m imputed data sets (log hazard ratios), as ``mice::pool``.

    Uses each fit's ``coef`` and ``se`` (robust when the fit is robust, as mice uses
    ``robust.se``); ``dfcom`` defaults to mice's choice for ``coxph``: events of the first fit
    minus the number of coefficients (at least 1). The table gains ``hr, hr_lower, hr_upper``.

    Parameters
    ----------
    fits : sequence of CoxResult
        At least two fits with the same terms.
    dfcom : float, optional
        Complete-data degrees of freedom; default ``fits[0].n_events - p``.
    conf_level : float
        Level of the interval.

    Returns
    -------
    PooledResult

    Examples
    --------
    >>> from core.survival import cox
    >>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "e": [1, 1, 0, 1, 1, 1, 0, 1],
    ...                   "x": [1, 0, 1, 1, 0, 0, 1, 0]})
    >>> d2 = d.assign(x=[1, 0, 1, 0, 0, 1, 1, 0])
    >>> r = pool_cox([cox(d, "t", "e", ["x"]), cox(d2, "t", "e", ["x"])])
    >>> r.table.loc["x", ["m", "dfcom"]].tolist()
    [2.0, 5.0]
    """
    fits = list(fits)
    if len(fits) < 2:
        raise ValueError(f"pooling needs at least 2 fitted models, got {len(fits)}")
    if not all(isinstance(f, CoxResult) for f in fits):
        raise ValueError("pool_cox takes CoxResult objects (from core.survival.cox / cox_time_varying)")
    terms = fits[0].terms
    for i, f in enumerate(fits[1:], start=2):
        if f.terms != terms:
            raise ValueError(f"fit {i} has terms {f.terms}, fit 1 has {terms}: all fits must have the same terms")
    if dfcom is None:
        dfcom = float(max(fits[0].n_events - len(terms), 1))
    q = np.vstack([f.table["coef"].to_numpy() for f in fits])
    u = np.vstack([f.table["se"].to_numpy() ** 2 for f in fits])
    res = pool_rubin(q, u, dfcom=dfcom, terms=terms, conf_level=conf_level)
    tab = res.table.assign(hr=np.exp(res.table["estimate"]), hr_lower=np.exp(res.table["lower"]),
                           hr_upper=np.exp(res.table["upper"]))
    return PooledResult(table=tab, m=res.m, dfcom=res.dfcom, conf_level=res.conf_level)
