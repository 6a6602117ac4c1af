"""E-values for a hazard ratio: how strong would unmeasured confounding have to be?

VanderWeele TJ, Ding P. Sensitivity analysis in observational research: introducing the
E-value. Ann Intern Med 2017;167:268-274.

The E-value is the minimum strength of association, on the risk-ratio scale, that an unmeasured
confounder would need to have with both the treatment and the outcome, above the measured
covariates, to fully explain away the observed association. For a risk ratio ``RR >= 1``

    E = RR + sqrt(RR (RR - 1)),

and a risk ratio below 1 is inverted first (``RR -> 1 / RR``). The paper's Table 2 turns a hazard
ratio into an approximate risk ratio:

* rare outcome (under about 15% at the end of follow-up): ``RR ~ HR``;
* common outcome: ``RR ~ (1 - 0.5 ** sqrt(HR)) / (1 - 0.5 ** sqrt(1 / HR))``.

Death after pancreatic cancer with liver metastases is anything but rare, so ``rare=False`` is
the default here. The E-value of the confidence interval is computed for the limit closest to 1
and is 1 when the interval includes 1 (no confounding at all is needed to move it to the null).
Both transformations are monotone and symmetric (``f(1 / HR) = 1 / f(HR)``), so inverting before
or after the conversion gives the same result.

Checked in ``tests/test_evalue.py`` against the paper's worked examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["EValueResult", "evalue", "evalue_hr", "hr_to_rr"]


def _positive(x: object, name: str) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {x!r}")
    v = float(x)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite ratio, got {x!r}")
    return v


def evalue(rr: float) -> float:
    """E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))`` after inverting a ratio below 1.

    Parameters
    ----------
    rr : float
        Risk ratio (> 0).

    Returns
    -------
    float
        The E-value (>= 1; exactly 1 for ``rr == 1``).

    Examples
    --------
    >>> round(evalue(3.9), 2)  # VanderWeele & Ding 2017, breastfeeding example: 7.2
    7.26
    >>> evalue(0.5) == evalue(2.0)
    True
    """
    r = _positive(rr, "rr")
    if r < 1:
        r = 1.0 / r
    return r + math.sqrt(r * (r - 1.0))


def hr_to_rr(hr: float, *, rare: bool = False) -> float:
    """Approximate risk ratio for a hazard ratio (VanderWeele & Ding 2017, Table 2).

    Parameters
    ----------
    hr : float
        Hazard ratio (> 0).
    rare : bool
        True when the outcome is rare (under about 15% by the end of follow-up): then
        ``RR ~ HR``. Otherwise the square-root transformation
        ``(1 - 0.5 ** sqrt(HR)) / (1 - 0.5 ** sqrt(1 / HR))``.

    Returns
    -------
    float
        Approximate risk ratio (on the same side of 1 as ``hr``).

    Examples
    --------
    >>> round(hr_to_rr(0.5), 4)  # (1 - 0.5 ** sqrt(0.5)) / (1 - 0.5 ** sqrt(2)) = 0.6201368379
    0.6201
    >>> hr_to_rr(0.5, rare=True)
    0.5
    """
    h = _positive(hr, "hr")
    if rare:
        return h
    return (1.0 - 0.5 ** math.sqrt(h)) / (1.0 - 0.5 ** math.sqrt(1.0 / h))


@dataclass(frozen=True)
class EValueResult:
    """E-values of a hazard ratio and of its confidence limit closest to 1.

    ``rr``, ``rr_lower`` and ``rr_upper`` are the hazard ratio and its limits on the risk-ratio
    scale (equal to them when ``rare``). ``limit`` names the confidence limit used for
    ``evalue_ci`` (``"upper"`` for a protective HR, ``"lower"`` for a harmful one) or is
    ``None`` when the interval includes 1 (then ``evalue_ci`` is 1) or no interval was given
    (then ``evalue_ci`` is NaN). ``reading`` is a one-line plain-English reading.
    """

    hr: float
    lower: float
    upper: float
    rare: bool
    rr: float
    rr_lower: float
    rr_upper: float
    evalue: float
    evalue_ci: float
    limit: str | None
    conf_level: float
    reading: str

    @property
    def table(self) -> pd.DataFrame:
        """Two rows (``point estimate``, ``confidence limit``): ``hr, rr, evalue``."""
        if self.limit == "upper":
            lim_hr, lim_rr = self.upper, self.rr_upper
        elif self.limit == "lower":
            lim_hr, lim_rr = self.lower, self.rr_lower
        else:
            lim_hr = lim_rr = float("nan")
        return pd.DataFrame(
            {"hr": [self.hr, lim_hr], "rr": [self.rr, lim_rr], "evalue": [self.evalue, self.evalue_ci]},
            index=pd.Index(["point estimate", "confidence limit"], name="quantity"),
        )


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def _reading(hr: float, lo: float, up: float, e: float, e_ci: float, limit: str | None, level: float, what: str) -> str:
    pct = f"{level * 100:g}%"
    if hr == 1.0:
        return "The hazard ratio is 1.00: there is no association for unmeasured confounding to explain away (E-value 1)."
    ci = "" if math.isnan(lo) else f" ({pct} CI {_fmt(lo)} to {_fmt(up)})"
    head = (
        f"To explain away the observed hazard ratio of {_fmt(hr)}{ci}, an unmeasured confounder would have to be "
        f"associated with both {what} by a risk ratio of at least {_fmt(e)} each, beyond the measured covariates"
    )
    if math.isnan(lo):
        return head + "."
    if limit is None:
        return head + "; the confidence interval already includes 1, so no confounding is needed to make it include 1."
    return head + f"; a confounder of {_fmt(e_ci)} each could move the confidence interval to include 1."


def evalue_hr(
    hr: float,
    lower: float | None = None,
    upper: float | None = None,
    *,
    rare: bool = False,
    conf_level: float = 0.95,
    what: str = "the treatment and death",
) -> EValueResult:
    """E-value for a hazard ratio and its confidence limit closest to 1 (VanderWeele & Ding 2017).

    Parameters
    ----------
    hr : float
        Hazard ratio (> 0).
    lower, upper : float, optional
        Its confidence limits (both or neither), ``lower <= hr <= upper``.
    rare : bool
        Outcome rare (under about 15% by the end of follow-up): ``RR ~ HR``. Default False: the
        common-outcome square-root transformation (death in this study is common).
    conf_level : float
        Level of the interval, used in the reading only.
    what : str
        Words for "treatment and outcome" in the reading.

    Returns
    -------
    EValueResult
        ``evalue`` for the estimate, ``evalue_ci`` for the limit closest to 1 (1 when the
        interval includes 1), the risk-ratio conversions, ``.table`` and ``reading``.

    Raises
    ------
    ValueError
        A non-positive or non-finite ratio, one limit without the other, or limits that do not
        bracket the estimate.

    Examples
    --------
    >>> r = evalue_hr(0.70, 0.45, 1.09)
    >>> round(r.evalue, 3), r.evalue_ci, r.limit
    (1.879, 1.0, None)
    >>> r = evalue_hr(0.56, 0.46, 0.69, rare=True)
    >>> round(r.evalue, 2), round(r.evalue_ci, 2), r.limit
    (2.97, 2.26, 'upper')
    """
    h = _positive(hr, "hr")
    if (lower is None) != (upper is None):
        raise ValueError("give both confidence limits (lower and upper) or neither")
    if not (isinstance(conf_level, (int, float)) and 0 < float(conf_level) < 1):
        raise ValueError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")
    if lower is None:
        lo = up = float("nan")
    else:
        lo = _positive(lower, "lower")
        up = _positive(upper, "upper")
        if not lo <= h <= up:
            raise ValueError(f"the confidence limits must bracket the hazard ratio: got {lo} <= {h} <= {up} false")
    rr = hr_to_rr(h, rare=rare)
    rr_lo = float("nan") if math.isnan(lo) else hr_to_rr(lo, rare=rare)
    rr_up = float("nan") if math.isnan(up) else hr_to_rr(up, rare=rare)
    e = evalue(rr)
    limit: str | None = None
    if math.isnan(lo):
        e_ci = float("nan")
    elif h < 1 and up < 1:
        limit, e_ci = "upper", evalue(rr_up)
    elif h > 1 and lo > 1:
        limit, e_ci = "lower", evalue(rr_lo)
    else:
        e_ci = 1.0
    return EValueResult(
        hr=h,
        lower=lo,
        upper=up,
        rare=bool(rare),
        rr=rr,
        rr_lower=rr_lo,
        rr_upper=rr_up,
        evalue=e,
        evalue_ci=e_ci,
        limit=limit,
        conf_level=float(conf_level),
        reading=_reading(h, lo, up, e, e_ci, limit, float(conf_level), what),
    )
