"""Propensity-score models: R's ``glm`` and Firth's penalised logistic regression.

Two fitters of the logistic regression of the treatment on an intercept and a design matrix
(:func:`core.design.build_design`):

* :func:`fit_propensity` (``method="glm"``): the maximum-likelihood fit, reproducing R's
  ``glm(..., family = binomial)`` iterations. It has no finite solution when a covariate
  predicts the arm perfectly (separation), which is common in subgroups of a 90-patient study:
  the fitter refuses such data (:class:`SeparationError`).
* :func:`fit_firth` (``method="firth"``): Firth's bias-reduced fit (Jeffreys-prior penalty
  ``0.5 * log det(X'WX)``), equal to R's ``brglm2`` (``glm(..., family = binomial,
  method = "brglmFit", type = "AS_mean")``) and ``logistf``. Its estimates are finite under
  complete and quasi-separation, and close to the ML ones when the data carry information.

:func:`estimate_propensity` builds the design (optionally leaving out constant covariates and
pooling rare levels, see :mod:`core.design`) and fits either model; it is what
:func:`core.matching.match_nearest` uses for ``distance="glm"`` or ``"firth"``.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "x": [3.0, 4, 5, 0, 1, 2]})
>>> model = estimate_propensity(df, "t", ["x"], method="firth")   # x separates the arms
>>> model.coefficients.round(4).tolist()   # R brglm2 (AS_mean): -2.8223, 1.1289
[-2.8223, 1.1289]
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular

from core.design import Design, DroppedCovariate, PooledLevels, build_design

__all__ = [
    "METHODS",
    "PropensityFit",
    "PropensityModel",
    "SeparationError",
    "estimate_propensity",
    "fit_firth",
    "fit_propensity",
]

Method = Literal["glm", "firth"]
#: The propensity models :func:`estimate_propensity` fits (MatchIt's ``distance`` names).
METHODS: tuple[str, ...] = ("glm", "firth")
#: |logit| above this means fitted probabilities of ~1e-13: treated as separation (glm).
MAX_ABS_LOGIT = 30.0


class SeparationError(ValueError):
    """The ML propensity model has no finite solution: a covariate predicts the arm perfectly.

    Attributes
    ----------
    covariate : str or None
        The covariate concerned, when known.
    level : object
        For a categorical covariate, the level found in one arm only (None otherwise).
    arm : str or None
        ``"treated"`` or ``"control"``: the only arm with that level.
    n : int
        Patients with that level.
    """

    def __init__(self, message: str, *, covariate: str | None = None, level: object = None,
                 arm: str | None = None, n: int = 0) -> None:
        super().__init__(message)
        self.covariate = covariate
        self.level = level
        self.arm = arm
        self.n = n


@dataclass(frozen=True)
class PropensityFit:
    """A fitted logistic regression.

    Attributes
    ----------
    coefficients : pd.Series
        Named as R names them (``(Intercept)``, ``age``, ``regimenGEM``, ...).
    logit : np.ndarray
        Linear predictor of every row of the design matrix.
    iterations : int
        Iterations used.
    method : {"glm", "firth"}
        Maximum likelihood (R's ``glm``) or Firth's penalised likelihood.
    """

    coefficients: pd.Series
    logit: np.ndarray = field(repr=False)
    iterations: int
    method: str = "glm"


@dataclass(frozen=True, eq=False)
class PropensityModel:
    """A propensity model fitted to the analysed rows of a data set.

    Attributes
    ----------
    fit : PropensityFit
    design : Design
        The model matrix and what was left out or pooled to build it.
    treated : np.ndarray of bool
        Arm of each analysed row (``design.rows``).
    """

    fit: PropensityFit
    design: Design
    treated: np.ndarray = field(repr=False)

    @property
    def method(self) -> str:
        """``"glm"`` or ``"firth"``."""
        return self.fit.method

    @property
    def coefficients(self) -> pd.Series:
        """Coefficients, R's names."""
        return self.fit.coefficients

    @property
    def logit(self) -> np.ndarray:
        """Linear predictor of each analysed row."""
        return self.fit.logit

    @property
    def rows(self) -> np.ndarray:
        """Positions (into the data) of the analysed rows."""
        return self.design.rows

    @property
    def covariates(self) -> tuple[str, ...]:
        """Covariates in the model."""
        return self.design.covariates

    @property
    def dropped(self) -> tuple[DroppedCovariate, ...]:
        """Covariates left out (``drop_constant``)."""
        return self.design.dropped

    @property
    def pooled(self) -> tuple[PooledLevels, ...]:
        """Rare levels pooled (``min_level_count``)."""
        return self.design.pooled


# ---------------------------------------------------------------------------------------
# Numerics shared by both fitters
# ---------------------------------------------------------------------------------------

_BLAS_CONTROLLER: object | None = None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run BLAS on one thread: the p x p products here are small, and on a busy 2-core
    machine OpenBLAS threads made the fit 2-4 times slower. No-op without threadpoolctl.

    Examples
    --------
    >>> import numpy as np
    >>> with single_threaded_blas():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    global _BLAS_CONTROLLER
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        yield
        return
    if _BLAS_CONTROLLER is None:
        _BLAS_CONTROLLER = ThreadpoolController()
    with _BLAS_CONTROLLER.limit(limits=1, user_api="blas"):  # type: ignore[attr-defined]
        yield


def _rowwise_linear(ZT: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``ZT.T @ b`` accumulated one design column at a time, so equal rows give
    bit-identical logits (BLAS kernels may round rows differently)."""
    eta = np.full(ZT.shape[1], b[0])
    for j in range(1, ZT.shape[0]):
        eta += ZT[j] * b[j]
    return eta


def _expit(eta: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * eta))


def _deviance(y: np.ndarray, eta: np.ndarray) -> float:
    # -2 loglik = 2 * sum(log(1 + exp(eta)) - y * eta), computed stably
    return float(2.0 * np.sum(np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta))) - y * eta))


def _standardised(X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Transposed design with an intercept row and standardised columns; refuses constant and
    collinear columns. Returns (ZT, mean, sd, names)."""
    Xv = np.asarray(X, dtype=float)
    n, p = Xv.shape
    names = ["(Intercept)", *map(str, X.columns)]
    mean = Xv.mean(axis=0) if p else np.zeros(0)
    sd = Xv.std(axis=0) if p else np.ones(0)
    if p and np.any(sd == 0):
        bad = [str(c) for c, s in zip(X.columns, sd, strict=True) if s == 0]
        raise ValueError(f"Design column(s) {bad} are constant in the analysed rows; remove them from the covariates.")
    ZT = np.empty((p + 1, n))
    ZT[0] = 1.0
    if p:
        ZT[1:] = ((Xv - mean) / sd).T
    if p > 1:
        corr = (ZT[1:] @ ZT[1:].T) / n
        ev = np.linalg.eigvalsh(corr)
        if ev[0] < 1e-10 * max(ev[-1], 1.0):
            raise ValueError(
                f"The covariates are collinear (design columns {list(map(str, X.columns))} are linearly "
                "dependent); remove a redundant covariate or merge categories."
            )
    return ZT, mean, sd, names


def _unstandardise(b: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    coef = np.empty_like(b)
    coef[1:] = b[1:] / sd
    coef[0] = b[0] - float(np.sum(coef[1:] * mean))
    return coef


# ---------------------------------------------------------------------------------------
# Maximum likelihood (R's glm)
# ---------------------------------------------------------------------------------------


_DBL_EPS = float(np.finfo(float).eps)
_THRESH = 30.0  # R's binomial family (family.c): logit link clamps |eta| > 30


class _Collinear(Exception):
    pass


class _NotReproduced(Exception):
    pass


def _reference_blas():  # pragma: no cover - depends on the machine's libraries
    """``ddot`` and ``daxpy`` of the system's reference BLAS, if they compute exactly what the
    numpy code computes (sequential sums; multiply then add).

    R calls the reference BLAS, whose ``ddot`` adds the products left to right. Where that
    library is installed (Debian's ``libblas3``, which R uses) it computes the same numbers as
    numpy's ``cumsum`` path, faster and without temporary arrays; it is used only if it returns
    exactly those numbers on a probe. Otherwise None (numpy computes them).
    """
    import ctypes
    import ctypes.util

    names = ["libblas.so.3", ctypes.util.find_library("blas")]
    for name in [n for n in names if n]:
        try:
            lib = ctypes.CDLL(name)
            ddot, daxpy = lib.ddot_, lib.daxpy_
        except (OSError, AttributeError):
            continue
        pint = ctypes.POINTER(ctypes.c_int)
        ddot.restype = ctypes.c_double
        ddot.argtypes = [pint, ctypes.c_void_p, pint, ctypes.c_void_p, pint]
        daxpy.restype = None
        daxpy.argtypes = [pint, ctypes.POINTER(ctypes.c_double), ctypes.c_void_p, pint, ctypes.c_void_p, pint]
        rng = np.random.default_rng(5)
        one = ctypes.byref(ctypes.c_int(1))
        ok = True
        for size in (1, 7, 1000, 4099):
            a = rng.normal(size=size) * np.exp(rng.normal(0, 6, size))
            b = rng.normal(size=size)
            nn = ctypes.byref(ctypes.c_int(size))
            ok &= ddot(nn, a.ctypes.data, one, b.ctypes.data, one) == float(np.cumsum(a * b)[-1])
            t = float(rng.normal())
            want = b + t * a
            daxpy(nn, ctypes.byref(ctypes.c_double(t)), a.ctypes.data, one, b.ctypes.data, one)
            ok &= bool(np.array_equal(b, want))
        if ok:
            return ddot, daxpy
    return None


_DDOT: object = False  # False = not looked up yet
#: Use the system's reference-BLAS ``ddot``/``daxpy`` when they pass the probe (same bits as
#: the numpy path, about twice as fast at a million rows).
_USE_BLAS_DDOT = True


class _Workspace:
    """Scratch space and sequential dot products for :func:`_dqrls`.

    Dot products are summed left to right, as the reference BLAS's ``ddot`` sums them (numpy's
    ``sum`` adds pairwise): by that library itself when it is installed and passes a probe,
    otherwise by numpy's ``cumsum`` into two p x n arrays reused by every IRLS step (fresh
    arrays of that size would be mapped and zeroed by the OS at each allocation).
    """

    def __init__(self, p: int, n: int, use_blas: bool = True) -> None:
        global _DDOT
        if _DDOT is False:
            _DDOT = _reference_blas()
        blas = _DDOT if use_blas else None
        self.ddot, self.daxpy = blas if blas is not None else (None, None)
        self.scratch = np.empty((p, n)) if self.daxpy is None else np.empty((0, 0))
        self.prod = np.empty((p, n)) if self.ddot is None else None
        self.csum = np.empty((p, n)) if self.ddot is None else None

    def axpy(self, t: np.ndarray, v: np.ndarray, rows: np.ndarray) -> None:
        """``rows[i] += t[i] * v`` for each row (BLAS ``daxpy``; rows contiguous), in place."""
        m, k = rows.shape
        if self.daxpy is not None and rows.strides[1] == rows.itemsize and v.strides[0] == v.itemsize:  # pragma: no cover
            import ctypes

            nk = ctypes.byref(ctypes.c_int(k))
            one = ctypes.byref(ctypes.c_int(1))
            step = rows.strides[0]
            base = rows.ctypes.data
            for i in range(m):
                if t[i] != 0.0:
                    self.daxpy(nk, ctypes.byref(ctypes.c_double(t[i])), v.ctypes.data, one, base + i * step, one)
            return
        if self.scratch.shape[0] < m or self.scratch.shape[1] < k:  # pragma: no cover - strided rows
            self.scratch = np.empty((m, k))
        upd = self.scratch[:m, :k]
        np.multiply(t[:, None], v, out=upd)
        np.add(rows, upd, out=rows)

    def dots(self, rows: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Sequential dot product of each row of ``rows`` (contiguous rows) with the vector ``v``,
        or with itself when ``v`` is ``rows`` (squared norms)."""
        m, k = rows.shape
        if self.ddot is not None and rows.strides[1] == rows.itemsize:  # pragma: no cover - machine dependent
            import ctypes

            nk = ctypes.byref(ctypes.c_int(k))
            one = ctypes.byref(ctypes.c_int(1))
            step = rows.strides[0]
            base = rows.ctypes.data
            if v is rows:
                return np.array([self.ddot(nk, base + i * step, one, base + i * step, one) for i in range(m)])  # type: ignore[operator]
            vv = np.ascontiguousarray(v)
            return np.array([self.ddot(nk, base + i * step, one, vv.ctypes.data, one) for i in range(m)])  # type: ignore[operator]
        if self.prod is None or self.csum is None:  # pragma: no cover - strided rows with the BLAS kernel
            self.prod, self.csum = np.empty_like(rows, shape=(m, k)), np.empty_like(rows, shape=(m, k))
        prod = self.prod[:m, :k]
        csum = self.csum[:m, :k]
        np.multiply(rows, v, out=prod)
        np.cumsum(prod, axis=1, out=csum)
        return csum[:, -1].copy()


def _dqrls(AT: np.ndarray, y: np.ndarray, tol: float, ws: _Workspace) -> np.ndarray:
    """Least-squares coefficients of ``y`` on the columns of ``A`` as R's ``Cdqrls`` computes them:
    LINPACK ``dqrdc2`` (Householder QR with R's limited pivoting) and ``dqrsl``, operation by
    operation with the reference BLAS's summation order (``ddot`` and ``dnrm2`` sum
    sequentially; LAPACK >= 3.10's ``dnrm2`` needs no scaling for values in [2^-511, 2^486]),
    so the result is R's to the last bit. ``AT`` is A transposed (p x n, C order: one row per
    column of A) and is overwritten. Raises :class:`_Collinear` where R would pivot a column
    out (rank deficiency)."""
    p, n = AT.shape
    qraux = np.sqrt(ws.dots(AT, AT))
    work = np.where(qraux == 0, 1.0, qraux)
    for k in range(min(n, p)):
        if qraux[k] < work[k] * tol:
            raise _Collinear
        if k == n - 1:
            break
        v = AT[k, k:]
        nrmxl = float(np.sqrt(ws.dots(v[None, :], v)[0]))
        if nrmxl == 0.0:
            raise _Collinear
        if v[0] < 0:
            nrmxl = -nrmxl
        v *= 1.0 / nrmxl
        v[0] = 1.0 + v[0]
        if k + 1 < p:
            block = AT[k + 1:, k:]
            t = -ws.dots(block, v) / v[0]
            t[t == 0.0] = 0.0  # daxpy returns early when t == 0
            ws.axpy(t, v, block)
            for j in range(k + 1, p):
                if qraux[j] == 0.0:
                    continue
                tt = max(1.0 - (abs(AT[j, k]) / qraux[j]) ** 2, 0.0)
                if abs(tt) < 1e-6:
                    c = AT[j, k + 1:]
                    qraux[j] = float(np.sqrt(ws.dots(c[None, :], c)[0]))
                else:
                    qraux[j] = qraux[j] * float(np.sqrt(tt))
        qraux[k] = v[0]
        AT[k, k] = -nrmxl
    # dqrsl(job = 1110): qty = Q'y, then back substitution for b
    qty = y.copy()
    for j in range(min(p, n - 1)):
        if qraux[j] == 0.0:
            continue
        col = AT[j, j:].copy()
        col[0] = qraux[j]
        t = -float(ws.dots(col[None, :], qty[j:])[0]) / col[0]
        if t != 0.0:
            qty[j:] += t * col
    b = qty[:p].copy()
    for j in range(p - 1, -1, -1):
        if AT[j, j] == 0.0:
            raise _Collinear
        b[j] = b[j] / AT[j, j]
        if j > 0 and b[j] != 0.0:
            b[:j] += (-b[j]) * AT[j, :j]
    return b


_EXP: object = None


def _c_exp(v: float) -> float:
    """The C library's ``exp`` of one number; ``inf`` where it overflows (as C's ``exp`` returns HUGE_VAL)."""
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def libm_exp(x: np.ndarray) -> np.ndarray:
    """``exp`` as the C library computes it (R calls the C library's ``exp``).

    numpy's ``exp`` is the C library's on most x86-64 CPUs; with AVX-512 numpy has its own,
    which can differ in the last bit. A one-time probe on 20,000 values decides; if they
    differ, ``math.exp`` (the C library's) is applied element by element (slower).

    Examples
    --------
    >>> import math, numpy as np
    >>> libm_exp(np.array([0.5, -3.0])).tolist() == [math.exp(0.5), math.exp(-3.0)]
    True
    """
    global _EXP
    if _EXP is None:
        probe = np.random.default_rng(20261202).uniform(-31.0, 31.0, 20_000)
        same = np.array_equal(np.exp(probe), np.fromiter((math.exp(v) for v in probe), float, probe.size))
        _EXP = np.exp if same else np.frompyfunc(_c_exp, 1, 1)
    if _EXP is np.exp:
        return np.exp(x)
    return np.asarray(_EXP(x), dtype=float)  # type: ignore[operator]


def _r_logit_linkinv(eta: np.ndarray, e: np.ndarray) -> np.ndarray:
    """R's ``binomial()$linkinv`` (family.c) given ``e = exp(eta)``."""
    tmp = np.where(eta < -_THRESH, _DBL_EPS, np.where(eta > _THRESH, 1.0 / _DBL_EPS, e))
    return tmp / (1.0 + tmp)


def _r_logit_mu_eta(eta: np.ndarray, e: np.ndarray) -> np.ndarray:
    """R's ``binomial()$mu.eta`` (family.c) given ``e = exp(eta)``."""
    with np.errstate(over="ignore", invalid="ignore"):
        opexp = 1.0 + e
        return np.where((eta > _THRESH) | (eta < -_THRESH), _DBL_EPS, e / (opexp * opexp))


def _r_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """R's ``sum(binomial()$dev.resids(y, mu, 1))``: long-double sequential sum, as R's ``sum``."""
    with np.errstate(divide="ignore"):
        r = 2.0 * np.log(1.0 / np.where(y != 0, mu, 1.0 - mu))  # y log(y / mu) + (1 - y) log(...), y in {0, 1}
    return float(np.cumsum(r, dtype=np.longdouble)[-1]) if r.size else 0.0


def _r_linear(XT: np.ndarray, b: np.ndarray) -> np.ndarray:
    """R's ``x %*% b`` (reference BLAS ``dgemv``) from the transposed design: columns accumulated
    left to right, starting from 0."""
    eta = np.zeros(XT.shape[1])
    for j in range(XT.shape[0]):
        eta += XT[j] * b[j]
    return eta


def fit_propensity(X: pd.DataFrame, y: np.ndarray, *, max_iter: int = 25, epsilon: float = 1e-8) -> PropensityFit:
    """Unpenalised logistic regression of ``y`` on an intercept and ``X`` (R's ``glm``).

    R's ``glm.fit`` (``family = binomial``, ``glm.control(epsilon = 1e-8, maxit = 25)``)
    operation by operation: the same start, the IRLS steps solved by R's own least-squares
    routine (LINPACK ``dqrdc2``/``dqrsl`` with reference-BLAS summation order), R's logit link
    functions and its stopping rule. Coefficients and linear predictors are R's to the last bit
    (checked against R 4.2 with Debian's reference BLAS, where numpy's ``exp`` and ``log`` are
    the C library's): units that are equally distant in exact arithmetic but not in floating
    point are then ordered as MatchIt orders them. Raises ``ValueError`` on constant or
    collinear columns and :class:`SeparationError` on separation (no convergence, or fitted
    probabilities numerically 0 or 1).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6]})
    >>> fit = fit_propensity(X, np.array([0, 1, 0, 1, 1, 0]))
    >>> fit.coefficients.round(4).tolist()   # R: glm(y ~ x, binomial) gives -0.4022, 0.1149
    [-0.4022, 0.1149]
    """
    y = np.asarray(y, dtype=float)
    ZT, _, _, names = _standardised(X)  # refuses constant and collinear columns
    p = ZT.shape[0] - 1
    n = ZT.shape[1]
    XT = np.empty((p + 1, n))  # the design with its intercept, one row per column
    XT[0] = 1.0
    if p:
        XT[1:] = np.asarray(X, dtype=float).T
    x_max = max(float(XT.max()), -float(XT.min()))
    nonzero = XT[1:][XT[1:] != 0]
    x_min = min(1.0, float(np.abs(nonzero).min())) if nonzero.size else 1.0
    del nonzero
    tol = min(1e-7, epsilon / 1000.0)
    AT = np.empty_like(XT)
    ws = _Workspace(p + 1, n, use_blas=_USE_BLAS_DDOT)
    # binomial()$linkfun(mustart): log(mu / (1 - mu)) of 0.75 or 0.25, by the C library's log
    eta = np.where(y == 1, math.log(0.75 / (1.0 - 0.75)), math.log(0.25 / (1.0 - 0.25)))
    with np.errstate(over="ignore"):
        e = libm_exp(eta)
    mu = _r_logit_linkinv(eta, e)
    dev_old = _r_deviance(y, mu)
    b = np.zeros(p + 1)
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        mu_eta = _r_logit_mu_eta(eta, e)
        var = mu * (1.0 - mu)
        if not np.all((mu_eta != 0) & (var > 0)):
            break  # fitted probabilities exactly 0 or 1: separation (reported below)
        z = eta + (y - mu) / mu_eta
        w = np.sqrt((1.0 * (mu_eta * mu_eta)) / var)
        try:
            if not (x_min * float(w.min()) >= 2.0 ** -511 and x_max * float(w.max()) <= 2.0 ** 486):
                raise _NotReproduced  # dnrm2 would rescale: same solution, not R's last bits
            np.multiply(XT, w, out=AT)
            b = _dqrls(AT, z * w, tol, ws)
        except _NotReproduced:
            b = np.linalg.lstsq((XT * w).T, z * w, rcond=None)[0]
        except _Collinear:
            raise ValueError(
                f"The covariates are collinear (design columns {list(map(str, X.columns))} are linearly "
                "dependent); remove a redundant covariate or merge categories."
            ) from None
        if not np.all(np.isfinite(b)):
            break
        eta = _r_linear(XT, b)
        with np.errstate(over="ignore"):
            e = libm_exp(eta)
        mu = _r_logit_linkinv(eta, e)
        dev = _r_deviance(y, mu)
        if abs(dev - dev_old) / (0.1 + abs(dev)) < epsilon:
            converged = True
            break
        dev_old = dev
    diverging = False
    if converged and np.max(np.abs(eta)) > 10 and np.all(mu * (1.0 - mu) > 0):
        # one more IRLS step: at a true optimum eta hardly moves; under (quasi-)separation
        # the separated units' logits keep growing by about one per step
        w = mu * (1.0 - mu)
        ZTw = ZT * w
        b_std = np.linalg.lstsq(ZTw @ ZT.T, ZTw @ (eta + (y - mu) / w), rcond=None)[0]
        diverging = bool(np.max(np.abs(_rowwise_linear(ZT, b_std) - eta)) > 0.25)
    if not converged or diverging or not np.all(np.isfinite(b)) or np.max(np.abs(eta)) > MAX_ABS_LOGIT:
        big = names[int(np.argmax(np.abs(b[1:]))) + 1] if p else names[0]
        raise SeparationError(
            "The propensity model cannot be estimated: the covariates predict treatment (almost) perfectly "
            f"(separation; fitted probabilities reach 0 or 1, largest coefficient: {big!r}). Remove or merge "
            "the covariate(s) concerned, widen the selection, or use Firth's penalised model.",
            covariate=big if p else None,
        )
    return PropensityFit(coefficients=pd.Series(b, index=names), logit=eta, iterations=it, method="glm")


# ---------------------------------------------------------------------------------------
# Firth's penalised likelihood (brglm2 AS_mean / logistf)
# ---------------------------------------------------------------------------------------


def _firth_newton_step(
    ZT: np.ndarray, A: np.ndarray, mu: np.ndarray, w: np.ndarray, q: np.ndarray, U: np.ndarray
) -> np.ndarray | None:
    """Newton step on the penalised log-likelihood (its exact Hessian; O(n^2 p) memory and time),
    or None where the Hessian is not negative definite (then the quasi-Fisher step is used).

    With ``c = 1 - 2 mu``, ``G = Z (Z'WZ)^{-1} Z'`` and ``h = w q`` (``q = diag G``), the
    Hessian of ``loglik + log det(Z'WZ) / 2`` is
    ``-Z' diag(w (1 + h) - c^2 w q / 2) Z - Z' diag(w c) (G o G) diag(w c) Z / 2``.
    """
    c = 1.0 - 2.0 * mu
    G = A.T @ A
    Zc = ZT * (w * c)
    neg_hess = (ZT * (w * (1.0 + w * q) - 0.5 * c * c * w * q)) @ ZT.T + 0.5 * (Zc @ (G * G) @ Zc.T)
    try:
        Lh = np.linalg.cholesky(neg_hess)
    except np.linalg.LinAlgError:
        return None
    return solve_triangular(Lh.T, solve_triangular(Lh, U, lower=True, check_finite=False), check_finite=False)


#: Up to this many rows Firth's fit takes exact Newton steps (quadratic convergence; the
#: Hessian needs an n x n matrix); above, quasi-Fisher steps, which converge fast there because
#: the penalty's curvature is O(p / n) of the information.
FIRTH_NEWTON_MAX_N = 2000


def fit_firth(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    max_iter: int = 200,
    tol: float = 1e-10,
    max_halvings: int = 30,
    newton_max_n: int = FIRTH_NEWTON_MAX_N,
) -> PropensityFit:
    """Firth's penalised logistic regression of ``y`` on an intercept and ``X``.

    Maximises ``loglik(b) + 0.5 * log det(X'W X)`` (Jeffreys prior; ``W = diag(mu (1 - mu))``),
    whose score is the bias-reduced (mean-adjusted) score
    ``X' (y - mu + h (1/2 - mu))`` with ``h`` the diagonal of the hat matrix: the estimator of
    R's ``brglm2`` (``glm(y ~ X, family = binomial, method = "brglmFit", type = "AS_mean")``)
    and of ``logistf`` (same estimates). It is finite under complete and quasi-separation.

    Algorithm (vectorised, on standardised columns): Newton steps on the penalised
    log-likelihood with its exact Hessian up to ``newton_max_n`` rows (O(n^2 p)), above that
    modified-score (quasi-Fisher) steps ``(X'WX)^{-1} U*`` as ``logistf`` takes (O(n p^2));
    steps are halved while the penalised log-likelihood would decrease, until the largest
    step is below ``tol`` (standardised scale). The estimator is invariant to the
    standardisation (the penalty changes by a constant), so the coefficients are those of
    the original columns.

    Parameters
    ----------
    X : pd.DataFrame
        Design matrix without intercept (:func:`core.design.build_design`).
    y : array-like of 0/1
    max_iter : int, default 200
    tol : float, default 1e-10
    max_halvings : int, default 30
    newton_max_n : int, default :data:`FIRTH_NEWTON_MAX_N`

    Returns
    -------
    PropensityFit
        ``method = "firth"``.

    Raises
    ------
    ValueError
        Constant or collinear columns, or no convergence.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5]})
    >>> fit = fit_firth(X, np.array([0, 0, 0, 1, 1, 1]))   # complete separation at x = 2.5
    >>> fit.coefficients.round(4).tolist()   # R brglm2 (AS_mean): -2.8223, 1.1289
    [-2.8223, 1.1289]
    """
    y = np.asarray(y, dtype=float)
    ZT, mean, sd, names = _standardised(X)
    p1, n = ZT.shape
    ZTw = np.empty_like(ZT)

    def state(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """eta, mu, Cholesky factor of X'WX, penalised log-likelihood at b."""
        eta = _rowwise_linear(ZT, b)
        mu = _expit(eta)
        w = mu * (1.0 - mu)
        np.multiply(ZT, w, out=ZTw)
        H = ZTw @ ZT.T
        L = np.linalg.cholesky(H)
        pll = -0.5 * _deviance(y, eta) + float(np.sum(np.log(np.diag(L))))
        return eta, mu, L, pll

    b = np.zeros(p1)
    try:
        eta, mu, L, pll = state(b)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - X'WX at mu = 1/2 is X'X / 4
        raise ValueError("The propensity model cannot be estimated (singular information matrix).") from exc
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        w = mu * (1.0 - mu)
        A = solve_triangular(L, ZT, lower=True, check_finite=False)  # L^{-1} Z'
        q = np.einsum("ij,ij->j", A, A)  # z_i' (Z'WZ)^{-1} z_i
        h = w * q  # hat diagonal
        U = ZT @ (y - mu + h * (0.5 - mu))
        step = None
        if n <= newton_max_n:
            step = _firth_newton_step(ZT, A, mu, w, q, U)
        if step is None:  # quasi-Fisher step (X'WX)^{-1} U*, as logistf
            step = solve_triangular(L.T, solve_triangular(L, U, lower=True, check_finite=False), check_finite=False)
        if not np.all(np.isfinite(step)):
            break
        t = 1.0
        for _ in range(max_halvings + 1):
            cand = b + t * step
            try:
                new = state(cand)
            except np.linalg.LinAlgError:
                t *= 0.5
                continue
            if new[3] >= pll - 1e-12 * max(1.0, abs(pll)):
                break
            t *= 0.5
        else:
            break
        b = cand
        eta, mu, L, pll = new
        if np.max(np.abs(t * step)) < tol:
            converged = True
            break
    if not converged or not np.all(np.isfinite(b)):
        raise ValueError(
            f"Firth's penalised propensity model did not converge in {max_iter} iterations; "
            "remove covariates or widen the selection."
        )
    coef = _unstandardise(b, mean, sd) if p1 > 1 else b
    return PropensityFit(coefficients=pd.Series(coef, index=names), logit=eta, iterations=it, method="firth")


# ---------------------------------------------------------------------------------------
# Data frame -> model
# ---------------------------------------------------------------------------------------


def treatment_vector(s: pd.Series, name: str) -> np.ndarray:
    """A 0/1 or boolean treatment column as a boolean array (``ValueError`` otherwise).

    Examples
    --------
    >>> import pandas as pd
    >>> treatment_vector(pd.Series([1, 0, 1.0]), "surgery").tolist()
    [True, False, True]
    """
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=bool)
    vals = pd.to_numeric(s, errors="coerce")
    if vals.isna().any() or not vals.isin([0, 1]).all():
        raise ValueError(f"Treatment column {name!r} must be 0/1 or boolean (found {sorted(pd.unique(s))[:5]}).")
    return vals.to_numpy() == 1


def check_separation(design: Design, treat: np.ndarray, treatment: str) -> None:
    """Raise :class:`SeparationError` on a categorical level (or 0/1 column) present in one arm only.

    Such a level makes the ML fit diverge (quasi-separation); Firth's fit does not need this
    check.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from core.design import build_design
    >>> d = build_design(pd.DataFrame({"regimen": ["A", "A", "B", "A"]}), ["regimen"])
    >>> try:
    ...     check_separation(d, np.array([True, False, True, False]), "surgery")
    ... except SeparationError as exc:
    ...     print(exc.covariate, exc.level, exc.arm, exc.n)
    regimen B treated 1
    """
    X = design.matrix
    n1 = int(treat.sum())
    n0 = treat.size - n1
    owner = {col: cov for cov, cols in design.columns.items() for col in cols}
    for name in X.columns:
        col = X[name].to_numpy()
        if not np.all((col == 0) | (col == 1)):
            continue
        ones_t = int(col[treat].sum())
        ones_c = int(col[~treat].sum())
        for value, in_t, in_c in ((1, ones_t, ones_c), (0, n1 - ones_t, n0 - ones_c)):
            if (in_t == 0) != (in_c == 0):
                arm = "treated" if in_c == 0 else "control"
                cov = owner.get(name, name)
                level = None
                if cov in design.levels and value == 1:
                    level = str(name)[len(cov):]
                raise SeparationError(
                    f"Design column {name!r} = {value} occurs only in {arm} patients ({in_t + in_c} of them, "
                    f"{treatment!r}): the propensity model cannot be estimated (quasi-separation). Remove that "
                    "covariate, merge rare categories, widen the selection, or use Firth's penalised model.",
                    covariate=cov, level=level, arm=arm, n=in_t + in_c,
                )


def fit_design(design: Design, treat: np.ndarray, method: Method, treatment: str = "treatment") -> PropensityFit:
    """Fit ``method`` (``"glm"`` after :func:`check_separation`, or ``"firth"``) to a design built
    on the analysed rows (``treat``: their arms).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from core.design import build_design
    >>> d = build_design(pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5]}), ["x"])
    >>> fit_design(d, np.array([0, 0, 0, 1, 1, 1], bool), "firth").coefficients.round(4).tolist()
    [-2.8223, 1.1289]
    """
    if method == "glm":
        check_separation(design, treat, treatment)
        fit = fit_propensity(design.matrix, treat.astype(float))
    elif method == "firth":
        fit = fit_firth(design.matrix, treat.astype(float))
    else:
        raise ValueError(f"Propensity method must be one of {METHODS} (got {method!r}).")
    return fit


def estimate_propensity(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    method: Method = "glm",
    drop_constant: bool = False,
    min_level_count: int | None = None,
    rows: np.ndarray | None = None,
) -> PropensityModel:
    """Fit a propensity model on the complete rows of ``data``.

    Parameters
    ----------
    data : pd.DataFrame
        One row per patient.
    treatment : str
        0/1 or boolean column (1 = treated); rows where it is missing are not analysed.
    covariates : sequence of str
        Model covariates (:func:`core.design.build_design` rules).
    method : {"glm", "firth"}, default "glm"
        Maximum likelihood (R ``glm``) or Firth's penalised likelihood (R ``brglm2``).
    drop_constant : bool, default False
        Leave out covariates missing or constant in the analysed rows (reported).
    min_level_count : int, optional
        Pool rare levels of categorical covariates (the pooling rule of :mod:`core.design`;
        :data:`core.design.MIN_LEVEL_COUNT` is the suggested value).
    rows : np.ndarray of bool, optional
        Rows eligible for the analysis (default: all with an observed treatment).

    Returns
    -------
    PropensityModel

    Raises
    ------
    ValueError
        Unusable covariates, no treated or no control rows, a covariate missing or constant
        without ``drop_constant``; :class:`SeparationError` (``method="glm"``) on separation.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0, 0], "age": [60.0, 70, 65, 50, 62, 58, 71],
    ...                    "centre": ["A"] * 7})
    >>> m = estimate_propensity(df, "t", ["age", "centre"], method="firth", drop_constant=True)
    >>> m.covariates, [d.describe() for d in m.dropped]
    (('age',), ['centre left out of the propensity model: A for all 7 patients.'])
    """
    if method not in METHODS:
        raise ValueError(f"Propensity method must be one of {METHODS} (got {method!r}).")
    if treatment not in data.columns:
        raise ValueError(f"Treatment column {treatment!r} is not in the data.")
    eligible = data[treatment].notna().to_numpy()
    if rows is not None:
        eligible = eligible & np.asarray(rows, dtype=bool)
    arm = np.zeros(len(data), dtype=bool)
    arm[eligible] = treatment_vector(data[treatment][eligible], treatment)
    design = build_design(
        data, covariates, missing="drop", rows=eligible, arm=arm, drop_constant=drop_constant,
        min_level_count=min_level_count, on_constant="raise",
    )
    treat = arm[design.rows]
    n1 = int(treat.sum())
    n0 = treat.size - n1
    if n1 == 0 or n0 == 0:
        which = "treated" if n1 == 0 else "control"
        raise ValueError(
            f"There are no {which} patients ({treatment!r} = {0 if n1 else 1}) with complete data in the selection "
            f"({n1} treated, {n0} controls); widen the selection."
        )
    with single_threaded_blas():
        fit = fit_design(design, treat, method, treatment)
    return PropensityModel(fit=fit, design=design, treated=treat)
