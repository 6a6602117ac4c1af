"""What 90 patients can show: expected precision of a hazard ratio, and a Bayesian reading.

Both are **aids to interpretation**, not analyses: they say how much information the study
holds, and how an observed estimate reads against a stated sceptical belief.

Expected precision (Schoenfeld 1983). With ``D`` events and a fraction ``p`` of patients in one
arm, the log hazard ratio has approximately

    var(log HR) = 1 / (D p (1 - p))        (4 / D with equal arms),

so the expected ``(1 - alpha)`` interval is ``HR x exp(+/- z se)``: its width depends on the
number of events, not on the number of patients. From the same variance come the power of a
two-sided test for a true HR, ``Phi(|log HR| / se - z)`` (the far tail ignored), and the hazard
ratio detectable with a given power, ``exp(-(z_{1-alpha/2} + z_power) se)``.

Bayesian reading (conjugate normal, e.g. Spiegelhalter, Freedman & Parmar, JRSS A 1994). The
estimate and its Wald interval give a normal likelihood for ``log HR`` (mean ``log hr``, standard
error ``(log upper - log lower) / (2 z)``). With a normal prior ``N(m0, s0^2)`` on ``log HR`` the
posterior is normal with precision ``1/s0^2 + 1/se^2`` and mean the precision-weighted average;
``P(HR < threshold) = Phi((log threshold - mean) / sd)``. The default *sceptical* prior is centred
on no effect (HR 1) with a 5% prior probability of an effect beyond HR 0.70, the effect the
study was designed around (:func:`sceptical_prior`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "AID_NOTE",
    "BayesianReading",
    "ExpectedPrecision",
    "NormalPrior",
    "bayesian_reading",
    "expected_precision",
    "sceptical_prior",
]

AID_NOTE = "Aid to interpretation, not an analysis of the data."


def _number(x: object, name: str) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {x!r}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return v


def _ratio(x: object, name: str) -> float:
    v = _number(x, name)
    if v <= 0:
        raise ValueError(f"{name} must be a positive hazard ratio, got {x!r}")
    return v


def _unit(x: object, name: str) -> float:
    v = _number(x, name)
    if not 0 < v < 1:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {x!r}")
    return v


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if 0.005 <= x <= 0.995 else ("<1%" if x < 0.005 else ">99%")


# ============================================================================ expected precision
@dataclass(frozen=True)
class ExpectedPrecision:
    """Expected precision of a log hazard ratio from the number of events (Schoenfeld).

    ``se_log_hr`` = ``sqrt(1 / (D p (1 - p)))``; ``width_ratio`` = upper / lower limit of the
    expected interval (``exp(2 z se)``, the same for any HR); ``expected_lower`` /
    ``expected_upper`` the interval around ``hr`` (NaN without ``hr``); ``power`` the power of
    the two-sided test at ``1 - conf_level`` for a true ``hr`` (NaN without ``hr``);
    ``detectable_hr`` the HR below 1 detected with probability ``target_power``.
    """

    events: float
    allocation: float
    conf_level: float
    se_log_hr: float
    width_ratio: float
    hr: float
    expected_lower: float
    expected_upper: float
    power: float
    target_power: float
    detectable_hr: float
    note: str = AID_NOTE

    @property
    def table(self) -> pd.DataFrame:
        """One row per quantity (``quantity`` index, ``value`` column)."""
        rows = {
            "events": self.events,
            "allocation": self.allocation,
            "se of log HR": self.se_log_hr,
            "upper / lower limit": self.width_ratio,
            "hazard ratio": self.hr,
            "expected lower limit": self.expected_lower,
            "expected upper limit": self.expected_upper,
            "power": self.power,
            f"HR detectable with {self.target_power:.0%} power": self.detectable_hr,
        }
        return pd.DataFrame({"value": list(rows.values())}, index=pd.Index(list(rows), name="quantity"))


def expected_precision(
    events: float,
    allocation: float = 0.5,
    *,
    hr: float | None = None,
    conf_level: float = 0.95,
    target_power: float = 0.8,
) -> ExpectedPrecision:
    """Expected confidence interval of a hazard ratio at a number of events (Schoenfeld 1983).

    Parameters
    ----------
    events : float
        Number of events (deaths) in the comparison (> 0).
    allocation : float
        Fraction of patients in one arm (``45 / 90 = 0.5``), strictly between 0 and 1.
    hr : float, optional
        A hazard ratio to centre the expected interval on and to compute the power for.
    conf_level : float
        Level of the interval; the test is two-sided at ``1 - conf_level``.
    target_power : float
        Power for ``detectable_hr``.

    Returns
    -------
    ExpectedPrecision
        With ``.table``; labelled as an aid to interpretation (``note``).

    Examples
    --------
    >>> r = expected_precision(100, 0.5, hr=0.7)  # se = sqrt(4 / 100) = 0.2
    >>> round(r.se_log_hr, 6), round(r.expected_lower, 4), round(r.expected_upper, 4)
    (0.2, 0.473, 1.0359)
    >>> round(r.power, 3), round(r.detectable_hr, 4)
    (0.43, 0.571)
    """
    d = _number(events, "events")
    if d <= 0:
        raise ValueError(f"events must be > 0, got {events!r}")
    p = _unit(allocation, "allocation")
    level = _unit(conf_level, "conf_level")
    tp = _unit(target_power, "target_power")
    h = float("nan") if hr is None else _ratio(hr, "hr")
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    se = math.sqrt(1.0 / (d * p * (1 - p)))
    power = float("nan") if hr is None else float(stats.norm.cdf(abs(math.log(h)) / se - z))
    return ExpectedPrecision(
        events=d,
        allocation=p,
        conf_level=level,
        se_log_hr=se,
        width_ratio=math.exp(2 * z * se),
        hr=h,
        expected_lower=h * math.exp(-z * se),
        expected_upper=h * math.exp(z * se),
        power=power,
        target_power=tp,
        detectable_hr=math.exp(-(z + float(stats.norm.ppf(tp))) * se),
    )


# ============================================================================ Bayesian reading
@dataclass(frozen=True)
class NormalPrior:
    """Normal prior on the log hazard ratio: ``N(mean, sd^2)``, with a plain description.

    ``label`` is read in a sentence ("under a {label}, ..."), e.g. ``"sceptical prior (centred
    on HR 1, 5% probability of HR < 0.70)"``.
    """

    mean: float
    sd: float
    label: str

    @property
    def median_hr(self) -> float:
        """The prior's median hazard ratio, ``exp(mean)``."""
        return math.exp(self.mean)


def sceptical_prior(alternative_hr: float = 0.7, prob: float = 0.05) -> NormalPrior:
    """Sceptical prior: centred on no effect, ``prob`` prior probability of ``HR < alternative_hr``.

    Parameters
    ----------
    alternative_hr : float
        The effect considered optimistic (below 1), e.g. the design's alternative HR 0.70.
    prob : float
        Prior probability of an effect at least that large (default 5%).

    Returns
    -------
    NormalPrior
        ``mean = 0``, ``sd = log(alternative_hr) / Phi^-1(prob)``.

    Examples
    --------
    >>> pr = sceptical_prior(0.7, 0.05)
    >>> pr.mean, round(pr.sd, 4)  # -log(0.7) / 1.6449 = 0.2168
    (0.0, 0.2168)
    """
    a = _ratio(alternative_hr, "alternative_hr")
    if a >= 1:
        raise ValueError(f"alternative_hr must be below 1 (a benefit), got {alternative_hr!r}")
    q = _unit(prob, "prob")
    if q >= 0.5:
        raise ValueError(f"prob must be below 0.5 for a sceptical prior, got {prob!r}")
    sd = math.log(a) / float(stats.norm.ppf(q))
    return NormalPrior(0.0, sd, f"sceptical prior (centred on HR 1, {q:.0%} probability of HR < {a:.2f})")


@dataclass(frozen=True)
class BayesianReading:
    """Posterior for the log hazard ratio under a normal prior and the normal likelihood.

    ``data_mean``/``data_se``: the likelihood from the estimate and its interval;
    ``post_mean``/``post_sd``: the posterior of ``log HR``; ``post_hr`` its median HR with
    credible limits ``post_lower``/``post_upper`` at ``conf_level``; ``prob_below`` =
    ``P(HR < threshold)`` under the posterior, ``prob_below_prior`` under the prior alone and
    ``prob_below_flat`` under a flat prior (the likelihood alone); ``prob_benefit`` = posterior
    ``P(HR < 1)``.
    """

    hr: float
    lower: float
    upper: float
    conf_level: float
    prior: NormalPrior
    threshold: float
    data_mean: float
    data_se: float
    post_mean: float
    post_sd: float
    post_hr: float
    post_lower: float
    post_upper: float
    prob_below: float
    prob_below_prior: float
    prob_below_flat: float
    prob_benefit: float
    reading: str
    note: str = AID_NOTE

    @property
    def table(self) -> pd.DataFrame:
        """Rows ``prior``, ``data`` (flat prior), ``posterior``: median HR, limits, P(HR < threshold), P(HR < 1)."""
        z = float(stats.norm.ppf(1 - (1 - self.conf_level) / 2))
        rows = []
        for name, m, s, pb in (
            ("prior", self.prior.mean, self.prior.sd, self.prob_below_prior),
            ("data", self.data_mean, self.data_se, self.prob_below_flat),
            ("posterior", self.post_mean, self.post_sd, self.prob_below),
        ):
            rows.append(
                {
                    "distribution": name,
                    "hr": math.exp(m),
                    "lower": math.exp(m - z * s),
                    "upper": math.exp(m + z * s),
                    "sd_log_hr": s,
                    "p_below_threshold": pb,
                    "p_below_1": float(stats.norm.cdf(-m / s)),
                }
            )
        return pd.DataFrame(rows).set_index("distribution")


def bayesian_reading(
    hr: float,
    lower: float,
    upper: float,
    *,
    threshold: float = 0.8,
    prior: NormalPrior | None = None,
    conf_level: float = 0.95,
    what: str = "the treatment",
) -> BayesianReading:
    """P(HR < threshold) under a normal prior on log HR and the estimate's normal likelihood.

    Parameters
    ----------
    hr, lower, upper : float
        Estimated hazard ratio and its Wald confidence limits (the likelihood's standard error
        is ``(log upper - log lower) / (2 z)``; its mean is ``log hr``).
    threshold : float
        Hazard ratio of interest, e.g. 0.8 (a 20% lower hazard).
    prior : NormalPrior, optional
        Default :func:`sceptical_prior` ``(0.70, 0.05)``.
    conf_level : float
        Level of the given interval and of the credible interval reported.
    what : str
        Words for the treatment in the reading.

    Returns
    -------
    BayesianReading
        With ``.table`` and a one-line ``reading``; labelled as an aid to interpretation.

    Examples
    --------
    >>> r = bayesian_reading(0.7, 0.49, 1.0)
    >>> round(r.prob_below, 3), round(r.prob_below_flat, 3), round(r.post_hr, 3)
    (0.46, 0.768, 0.811)
    """
    h = _ratio(hr, "hr")
    lo = _ratio(lower, "lower")
    up = _ratio(upper, "upper")
    if not lo < h < up:
        raise ValueError(f"need lower < hr < upper, got {lo} < {h} < {up}")
    thr = _ratio(threshold, "threshold")
    level = _unit(conf_level, "conf_level")
    pr = sceptical_prior() if prior is None else prior
    if not isinstance(pr, NormalPrior) or not (math.isfinite(pr.mean) and math.isfinite(pr.sd) and pr.sd > 0):
        raise ValueError("prior must be a NormalPrior with a finite mean and a positive sd")
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    m1, s1 = math.log(h), (math.log(up) - math.log(lo)) / (2 * z)
    prec = 1 / pr.sd**2 + 1 / s1**2
    pm = (pr.mean / pr.sd**2 + m1 / s1**2) / prec
    ps = math.sqrt(1 / prec)
    lt = math.log(thr)
    p_post = float(stats.norm.cdf((lt - pm) / ps))
    p_prior = float(stats.norm.cdf((lt - pr.mean) / pr.sd))
    p_flat = float(stats.norm.cdf((lt - m1) / s1))
    reading = (
        f"Aid to interpretation: under a {pr.label}, the probability that {what} lowers the hazard below "
        f"HR {thr:.2f} is {_pct(p_post)} (prior alone {_pct(p_prior)}; these data alone, flat prior, {_pct(p_flat)})."
    )
    return BayesianReading(
        hr=h,
        lower=lo,
        upper=up,
        conf_level=level,
        prior=pr,
        threshold=thr,
        data_mean=m1,
        data_se=s1,
        post_mean=pm,
        post_sd=ps,
        post_hr=math.exp(pm),
        post_lower=math.exp(pm - z * ps),
        post_upper=math.exp(pm + z * ps),
        prob_below=p_post,
        prob_below_prior=p_prior,
        prob_below_flat=p_flat,
        prob_benefit=float(stats.norm.cdf(-pm / ps)),
        reading=reading,
    )
