"""A synthetic cohort with a known truth (domain.md §4).

The generator simulates a source population of resectable/borderline PDAC with synchronous
liver metastases starting chemotherapy, selects patients into surgery the way surgeons do
(response, CA19-9 fall, tumour burden, fitness, regimen, resectability, centre), draws overall
survival from a Weibull proportional-hazards model in which surgery multiplies the hazard by
:data:`TRUE_HR` *from the day of surgery on*, and then samples the study cohort (operated
patients and non-operated controls) from that source. One uniform per patient is inverted
through the piecewise cumulative hazard, so every operated patient's counterfactual survival
without surgery is known; that truth is returned separately and never mixed into the cohort.

Two deliberate features make the data behave like real series:

* *Occult progression*: a patient chosen for surgery who would die within
  ``Calibration.occult_progression_days`` (45) of the planned operation is found to have
  progressed at pre-operative work-up or exploration and is not resected. This keeps 90-day
  mortality near the published ~3-4%, and (like in real data) it is a selection on the future
  that no analysis can remove: immortal-time-aware estimates land slightly below the truth.
* Postoperative deaths (~1.5%, three times the odds after a head resection with a major
  hepatectomy) on top of the disease deaths within 90 days.

The columns of dictionary 1.1 (restaging, multidisciplinary decision, exploration and end of
chemotherapy dates; CEA) come from a *separate* random stream (:data:`V11_STREAM`) drawn after
everything else, so every 1.0 column of every seed is exactly what generator 1.0 gave
(:func:`_v11_columns` says how each one is made).

What the calibrated generator gives at large n (30,000 patients, ``tests/test_synthetic.py``):
median OS of the non-operated from chemotherapy start ~10 months; operated median OS from surgery
~24 months, 1/3/5-year OS ~73/33/14%; naive Cox HR (surgery as a baseline covariate) ~0.34; Cox
with surgery as a time-dependent covariate, adjusted for the pre-surgery covariates, ~0.68;
6-month landmark, adjusted, ~0.79 (surgeries after the landmark count as "not operated"). With
occult progression and postoperative deaths switched off, the time-dependent Cox returns 0.70.

Everything is vectorised numpy: a million patients take a few seconds.

Examples
--------
>>> from core.synthetic import generate
>>> df = generate(n_surgery=5, n_chemotherapy=5, seed=1)
>>> df.shape
(10, 51)
>>> df["patient_id"].iloc[0]
'SYN-0001'
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from core.dictionary import (
    COLUMNS_BY_NAME,
    DAYS_PER_MONTH,
    IMPORTED_NAMES,
    Arm,
    C,
    ClavienDindo,
    LiverProcedure,
    Location,
    Margin,
    Pancreatic,
    Phlf,
    Popf,
    Recist,
    RecurrenceSite,
    Regimen,
    Resectability,
    Setting,
    Sex,
    Timing,
    Vascular,
    Viable,
    Vital,
    YpN,
    YpT,
)

#: Version of the generator; bump it whenever the output for a given seed changes.
GENERATOR_VERSION = "1.1.0"

#: Second entropy word of the random stream of the dictionary 1.1 columns: ``SeedSequence([seed, V11_STREAM])``.
V11_STREAM = 11
#: CEA at baseline: log-normal median (ng/mL) and log-sd; higher with more metastases and a worse prognosis.
CEA_LOG_MEDIAN = math.log(4.0)
CEA_LOG_SD = 1.0
#: Share of missing values of each 1.1 column (CEA, end of chemotherapy, decision date).
V11_MISSING = {"cea": 0.20, "chemo_end": 0.10, "mdt": 0.10}
#: Days from the restaging scan to the multidisciplinary decision (uniform, inclusive).
MDT_DAYS = (3, 21)
#: Share of the occult progressions (chosen, not resected, alive at the planned operation) found at exploration.
P_EXPLORED_OCCULT = 0.6
#: Share of the other controls alive and not progressing at restaging who are explored and found unresectable,
#: and the days from the decision (or restaging) to that exploration (uniform, inclusive).
P_EXPLORED_OTHER = 0.10
EXPLORATION_DAYS = (14, 42)

#: The true effect: surgery multiplies the hazard of death by this factor from the day of surgery on.
TRUE_HR = 0.70

#: Administrative end of follow-up.
ADMIN_CUTOFF = "2024-12-31"

#: Seed and sizes of the shipped demo cohort (``data/demo_cohort.*``).
DEMO_SEED = 20240101
DEMO_N_SURGERY = 45
DEMO_N_CHEMOTHERAPY = 45
DEMO_N_CENTRES = 8

#: Minimum size of the simulated source population (domain.md §4: ~20,000 for 90 patients).
MIN_SOURCE_SIZE = 20_000


# =============================================================================================
# Calibration constants (all free parameters of the recipe live here)
# =============================================================================================


@dataclass(frozen=True)
class Calibration:
    """Free parameters of the recipe in domain.md §4.

    Values fixed by the recipe are copied from it; the others (marked *calibrated*) were tuned by
    simulation (n = 2 million source patients) so that the checks of domain.md §4 hold: source
    share operated ~12%; RECIST PD/SD/PR/CR ~26/29/37/8%; regimen shares ~59/33/8%; median OS of
    the non-operated from chemotherapy start ~10 months; operated median OS from surgery ~24
    months with 1/3/5-year OS ~72/34/14%; naive surgery HR ~0.35-0.45 (the recipe reaches ~0.34);
    90-day mortality ~3-4%; Clavien-Dindo >= IIIa ~25%; POPF B ~15%, C ~4%; R0 ~60%.

    Examples
    --------
    >>> CALIBRATION.weibull_shape
    1.3
    >>> CALIBRATION.true_hr == TRUE_HR
    True
    """

    # -- 1. source population ------------------------------------------------------------------
    age_mean: float = 64.0
    age_sd: float = 9.0
    age_min: float = 35.0
    age_max: float = 85.0
    p_male: float = 0.55
    ecog_probs: tuple[float, float, float] = (0.45, 0.45, 0.10)
    p_head: float = 0.60
    p_resectable: float = 0.50
    mets_group_probs: tuple[float, float, float] = (0.35, 0.35, 0.30)
    #: log-normal CA19-9 (secretors): log median by metastasis group, log SD.
    ca19_9_log_median: tuple[float, float, float] = (math.log(250.0), math.log(500.0), math.log(1100.0))
    ca19_9_log_sd: float = 1.4
    p_lewis_negative: float = 0.08
    #: Regimen: multinomial logit vs FOLFIRINOX (GEM_NABPAC, GEM); age per 10 y, ECOG per point. *calibrated*
    regimen_intercepts: tuple[float, float] = (-0.92, -3.139)
    regimen_age_coef: tuple[float, float] = (0.45, 1.10)
    regimen_ecog_coef: tuple[float, float] = (0.55, 1.20)
    # -- 2. restaging ----------------------------------------------------------------------------
    restaging_median_months: float = 4.0
    restaging_sdlog: float = 0.25
    restaging_range_months: tuple[float, float] = (2.0, 10.0)
    #: Ordinal latent response: higher = worse. Coefficients and cut-points *calibrated* to 26/29/37/8.
    recist_ffx_coef: float = -0.45
    recist_mets_coef: tuple[float, float] = (0.30, 0.70)
    #: Cut-points on the latent scale: below c0 CR, below c1 PR, below c2 SD, else PD.
    recist_cutpoints: tuple[float, float, float] = (-2.443, -0.162, 1.126)
    #: P(CA19-9 fall >= 50%) by RECIST (PD, SD, PR, CR).
    ca19_9_response_probs: tuple[float, float, float, float] = (0.15, 0.40, 0.70, 0.85)
    # -- 3. selection into surgery ---------------------------------------------------------------
    surgery_delay_median_months: float = 1.2
    surgery_delay_sdlog: float = 0.35
    surgery_delay_max_months: float = 4.0
    selection_intercept: float = -2.304  # *calibrated* to ~12% of the source operated
    selection_pr: float = 0.5
    selection_cr: float = 0.9
    selection_ca19_9_response: float = 0.5
    selection_mets: tuple[float, float] = (-0.3, -0.8)
    selection_ecog: tuple[float, float] = (-0.3, -0.8)
    selection_age_per_10y: float = -0.3
    selection_ffx: float = 0.5
    selection_resectable: float = 0.5
    selection_centre_sd: float = 0.5
    #: Patients who would die within this many days of the planned operation are found to have
    #: progressed at pre-operative work-up or exploration and are not resected.
    occult_progression_days: int = 45
    # -- 4. overall survival ------------------------------------------------------------------------
    weibull_shape: float = 1.3
    weibull_scale_months: float = 21.92  # *calibrated*: median OS of the non-operated ~10 months
    hr_age_per_10y: float = 1.10
    hr_ecog: tuple[float, float] = (1.3, 1.8)
    hr_mets: tuple[float, float] = (1.3, 2.0)
    hr_regimen: tuple[float, float] = (1.2, 1.35)  # GEM_NABPAC, GEM vs FOLFIRINOX
    hr_recist: tuple[float, float, float, float] = (2.2, 1.0, 0.75, 0.55)  # PD, SD, PR, CR
    hr_ca19_9_response: float = 0.6
    hr_borderline: float = 1.15
    true_hr: float = TRUE_HR
    #: Postoperative (90-day) death: baseline probability, odds multiplier after a
    #: pancreatic head resection (PD/PPPD/TP) combined with a major hepatectomy.
    postop_death_prob: float = 0.015
    postop_death_or_head_major: float = 3.0
    # -- 5. progression, follow-up ------------------------------------------------------------------
    #: Beta parameters of RFS / remaining OS after surgery (mean 0.5) and PFS / OS without surgery (0.6).
    rfs_fraction_beta: tuple[float, float] = (4.0, 4.0)
    pfs_fraction_beta: tuple[float, float] = (6.0, 4.0)
    loss_to_followup_per_year: float = 0.05
    diagnosis_period: tuple[str, str] = ("2016-01-01", "2022-12-31")
    admin_cutoff: str = ADMIN_CUTOFF
    # -- missing data (optional fields) -------------------------------------------------------------
    missing_ca19_9_baseline: float = 0.06
    missing_ca19_9_restaging: float = 0.10
    missing_tumour_size: float = 0.05
    missing_mets_max: float = 0.03
    missing_bilobar: float = 0.03
    missing_cycles: float = 0.04
    # -- 6. surgery details ---------------------------------------------------------------------------
    p_tp_head: float = 0.10
    p_pppd_head: float = 0.45
    #: wedge, segmentectomy, bisegmentectomy, sectionectomy, hemihepatectomy, extended.
    liver_procedure_probs: tuple[float, ...] = (0.70, 0.15, 0.05, 0.03, 0.05, 0.02)
    #: Clavien-Dindo 0, I, II, IIIa, IIIb, IVa, IVb among survivors of 90 days (V = postoperative death).
    clavien_dindo_probs: tuple[float, ...] = (0.30, 0.18, 0.29, 0.12, 0.065, 0.035, 0.01)
    p_adjuvant: float = 0.72
    p_simultaneous: float = 0.85


#: The calibrated constants used by default.
CALIBRATION = Calibration()


# =============================================================================================
# Results
# =============================================================================================


@dataclass(frozen=True, eq=False)
class SyntheticCohort:
    """A generated cohort together with its (separate) truth.

    Attributes
    ----------
    cohort : pandas.DataFrame
        The study table in the dictionary's imported format (what an analyst sees).
    truth : pandas.DataFrame
        One row per patient: ``patient_id``, ``surgery`` (bool), ``surgery_months`` (chemotherapy
        start to surgery, NaN without surgery), ``os_months_actual`` (uncensored OS from
        chemotherapy start), ``os_months_no_surgery`` (counterfactual OS without surgery, from the
        same uniform), ``postoperative_death`` (bool).
    seed : int
        Seed used.
    n_source : int
        Size of the simulated source population.
    source_share_operated : float
        Share of the source population that was operated.
    true_hr : float
        The true hazard ratio of surgery from the day of surgery on.
    """

    cohort: pd.DataFrame
    truth: pd.DataFrame
    seed: int
    n_source: int
    source_share_operated: float
    true_hr: float = TRUE_HR


# =============================================================================================
# Helpers
# =============================================================================================

_PD, _SD, _PR, _CR = 0, 1, 2, 3
_RECIST_LABELS = np.array([Recist.PD, Recist.SD, Recist.PR, Recist.CR, Recist.NE], dtype=object)
_FFX, _GN, _GEM = 0, 1, 2
_REGIMEN_LABELS = np.array([Regimen.FOLFIRINOX, Regimen.GEM_NABPAC, Regimen.GEM], dtype=object)
_CYCLES_PER_MONTH = np.array([30.4375 / 14.0, 1.0, 1.0])


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _choice(rng: np.random.Generator, n: int, probs: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Vectorised categorical draw: index into ``probs`` for each of ``n`` patients."""
    p = np.asarray(probs, dtype=float)
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Categorical draw with one probability row per patient (rows need not be normalised)."""
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(probs.shape[0])[:, None]
    return (u > cdf).sum(axis=1).astype(np.int64)


def _truncated_normal(rng: np.random.Generator, n: int, mean: float, sd: float, lo: float, hi: float) -> np.ndarray:
    a, b = ndtr((lo - mean) / sd), ndtr((hi - mean) / sd)
    return mean + sd * ndtri(a + (b - a) * rng.random(n))


def _months_to_days(m: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(m, dtype=float) * DAYS_PER_MONTH).astype(np.int64)


def _grid_next(x: np.ndarray) -> np.ndarray:
    """First scheduled scan (months from the anchor) at or after ``x`` > 0: every 3 months for 2 years, then 6."""
    early = np.ceil(np.maximum(x, 1e-9) / 3.0) * 3.0
    late = 24.0 + np.ceil((x - 24.0) / 6.0) * 6.0
    return np.where(x <= 24.0, early, late)


def _grid_last(x: np.ndarray) -> np.ndarray:
    """Last scheduled scan (months from the anchor) at or before ``x`` >= 0 (0 = the anchor scan)."""
    early = np.floor(x / 3.0) * 3.0
    late = 24.0 + np.floor((x - 24.0) / 6.0) * 6.0
    return np.where(x < 24.0, early, late)


def _grid_prev(g: np.ndarray) -> np.ndarray:
    """Scheduled scan before the scheduled scan ``g`` (months)."""
    return np.where(g <= 24.0, g - 3.0, g - 6.0)


def _last_scan_day_at_or_before(limit_day: np.ndarray) -> np.ndarray:
    """Day (from the anchor) of the last scheduled scan on or before ``limit_day`` (>= 0)."""
    g = _grid_last(limit_day / DAYS_PER_MONTH)
    d = _months_to_days(g)
    over = d > limit_day
    g = np.where(over, _grid_prev(g), g)
    return np.maximum(_months_to_days(np.maximum(g, 0.0)), 0)


def _labels(codes: np.ndarray, labels: tuple[str, ...] | np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    out = np.asarray(labels, dtype=object)[codes]
    if missing is not None:
        out = out.copy()
        out[missing] = None
    return out


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


# =============================================================================================
# Stage 1: the source population (only what selection and survival need)
# =============================================================================================


def _linear_predictor(cal: Calibration, age, ecog, mets_group, regimen, recist, ca_resp, resectable) -> np.ndarray:
    lp = math.log(cal.hr_age_per_10y) * (age - cal.age_mean) / 10.0
    lp = lp + np.log(np.array([1.0, *cal.hr_ecog]))[ecog]
    lp = lp + np.log(np.array([1.0, *cal.hr_mets]))[mets_group]
    lp = lp + np.log(np.array([1.0, *cal.hr_regimen]))[regimen]
    lp = lp + np.log(np.array(cal.hr_recist))[recist]
    lp = lp + math.log(cal.hr_ca19_9_response) * ca_resp
    lp = lp + math.log(cal.hr_borderline) * (~resectable)
    return lp


def _simulate_source(rng: np.random.Generator, n: int, n_centres: int, cal: Calibration) -> dict[str, np.ndarray]:
    s: dict[str, np.ndarray] = {}
    s["age"] = _truncated_normal(rng, n, cal.age_mean, cal.age_sd, cal.age_min, cal.age_max)
    s["male"] = rng.random(n) < cal.p_male
    s["ecog"] = _choice(rng, n, cal.ecog_probs)
    s["head"] = rng.random(n) < cal.p_head
    s["resectable"] = rng.random(n) < cal.p_resectable
    s["mets_group"] = _choice(rng, n, cal.mets_group_probs)
    s["lewis"] = rng.random(n) < cal.p_lewis_negative
    # regimen: younger, fitter patients get FOLFIRINOX
    agez = (s["age"] - cal.age_mean) / 10.0
    util = np.zeros((n, 3))
    for j in (1, 2):
        util[:, j] = cal.regimen_intercepts[j - 1] + cal.regimen_age_coef[j - 1] * agez + cal.regimen_ecog_coef[j - 1] * s["ecog"]
    s["regimen"] = _choice_rows(rng, np.exp(util))
    # latent response (ordinal logit): better with FOLFIRINOX and fewer metastases
    z = (
        cal.recist_ffx_coef * (s["regimen"] == _FFX)
        + np.array([0.0, *cal.recist_mets_coef])[s["mets_group"]]
        + rng.logistic(size=n)
    )
    s["recist"] = np.select([z < cal.recist_cutpoints[0], z < cal.recist_cutpoints[1], z < cal.recist_cutpoints[2]], [_CR, _PR, _SD], _PD)
    s["ca_resp"] = rng.random(n) < np.array(cal.ca19_9_response_probs)[s["recist"]]
    # restaging and planned surgery
    lo, hi = cal.restaging_range_months
    s["restaging"] = np.clip(cal.restaging_median_months * np.exp(cal.restaging_sdlog * rng.standard_normal(n)), lo, hi)
    delay = np.minimum(cal.surgery_delay_median_months * np.exp(cal.surgery_delay_sdlog * rng.standard_normal(n)), cal.surgery_delay_max_months)
    s["centre_weights"] = rng.dirichlet(np.full(n_centres, 4.0))
    # centre effects on selection: spread evenly over N(0, sd), shuffled, centred on the average patient
    centre_effect = cal.selection_centre_sd * ndtri((rng.permutation(n_centres) + 0.5) / n_centres)
    centre_effect = centre_effect - float(s["centre_weights"] @ centre_effect)
    s["centre"] = _choice(rng, n, s["centre_weights"])
    # survival without surgery (counterfactual for the operated): one uniform per patient
    s["lp"] = _linear_predictor(cal, s["age"], s["ecog"], s["mets_group"], s["regimen"], s["recist"], s["ca_resp"], s["resectable"])
    e = rng.standard_exponential(n) * np.exp(-s["lp"])  # = H0(T0) = (T0 / scale) ** shape
    k, lam = cal.weibull_shape, cal.weibull_scale_months
    s["t0"] = lam * e ** (1.0 / k)
    # selection into surgery among patients alive and not progressing at restaging
    observed_resp = s["ca_resp"] & ~s["lewis"]
    logit = (
        cal.selection_intercept
        + cal.selection_pr * (s["recist"] == _PR)
        + cal.selection_cr * (s["recist"] == _CR)
        + cal.selection_ca19_9_response * observed_resp
        + np.array([0.0, *cal.selection_mets])[s["mets_group"]]
        + np.array([0.0, *cal.selection_ecog])[s["ecog"]]
        + cal.selection_age_per_10y * agez
        + cal.selection_ffx * (s["regimen"] == _FFX)
        + cal.selection_resectable * s["resectable"]
        + centre_effect[s["centre"]]
    )
    eligible = (s["t0"] > s["restaging"]) & (s["recist"] != _PD)
    chosen = eligible & (rng.random(n) < _expit(logit))
    surgery_time = s["restaging"] + delay
    operated = chosen & (s["t0"] > surgery_time + cal.occult_progression_days / DAYS_PER_MONTH)
    s["operated"] = operated
    s["chosen"] = chosen  # selected for surgery at the multidisciplinary decision (operated or not)
    s["planned_surgery_months"] = surgery_time
    s["surgery_months"] = np.where(operated, surgery_time, np.nan)
    # surgery from the day of surgery on: piecewise cumulative hazard, same uniform
    h_s = np.where(operated, (np.where(operated, surgery_time, 0.0) / lam) ** k, 0.0)
    t1 = lam * (h_s + (e - h_s) / cal.true_hr) ** (1.0 / k)
    t_actual = np.where(operated, t1, s["t0"])
    # procedures (needed for the postoperative risk); drawn for every patient, used for the operated
    head_proc = _choice(rng, n, (1.0 - cal.p_tp_head - cal.p_pppd_head, cal.p_pppd_head, cal.p_tp_head))
    s["pancreatic"] = np.where(s["head"], np.array([0, 1, 3])[head_proc], 2)  # codes into Pancreatic.ALL (DP = 2)
    s["liver_proc"] = _choice(rng, n, cal.liver_procedure_probs)
    major = s["liver_proc"] >= 4
    odds = cal.postop_death_prob / (1 - cal.postop_death_prob) * np.where(s["head"] & major, cal.postop_death_or_head_major, 1.0)
    postop = operated & (rng.random(n) < odds / (1 + odds))
    postop_day = 1 + np.floor(89.0 * rng.beta(1.2, 2.5, n))  # 1..89 days after surgery
    postop_time = surgery_time + postop_day / DAYS_PER_MONTH
    s["postop_death"] = postop & (postop_time < t_actual)
    s["postop_day"] = postop_day
    t_actual = np.where(s["postop_death"], postop_time, t_actual)
    s["t_actual"] = t_actual
    return s


def simulate_source(n_source: int = MIN_SOURCE_SIZE, *, seed: int = DEMO_SEED, n_centres: int = DEMO_N_CENTRES,
                    calibration: Calibration = CALIBRATION) -> pd.DataFrame:
    """Simulate the source population only (latent variables; for calibration and teaching).

    Parameters
    ----------
    n_source : int
        Number of patients starting chemotherapy.
    seed : int
        Seed of the numpy Generator.
    n_centres : int
        Number of centres.
    calibration : Calibration
        Free parameters.

    Returns
    -------
    pandas.DataFrame
        One row per source patient with ``age``, ``male``, ``ecog`` (0-2), ``head``,
        ``resectable``, ``mets_group`` (0: 1, 1: 2-3, 2: >3), ``lewis``, ``regimen`` (label),
        ``recist`` (label, latent response), ``ca_resp`` (latent CA19-9 fall >= 50%),
        ``centre`` (0-based), ``operated``, ``surgery_months``, ``os_months_no_surgery``,
        ``os_months_actual`` (both uncensored, from chemotherapy start) and ``postoperative_death``.

    Examples
    --------
    >>> src = simulate_source(2000, seed=3)
    >>> len(src), bool((src.loc[~src["operated"], "os_months_actual"] == src.loc[~src["operated"], "os_months_no_surgery"]).all())
    (2000, True)
    """
    n_source = _check_int("n_source", n_source, 1)
    n_centres = _check_int("n_centres", n_centres, 1)
    seed = _check_int("seed", seed, 0)
    s = _simulate_source(np.random.default_rng(seed), n_source, n_centres, calibration)
    return pd.DataFrame(
        {
            "age": s["age"], "male": s["male"], "ecog": s["ecog"], "head": s["head"], "resectable": s["resectable"],
            "mets_group": s["mets_group"], "lewis": s["lewis"], "regimen": _REGIMEN_LABELS[s["regimen"]],
            "recist": _RECIST_LABELS[s["recist"]], "ca_resp": s["ca_resp"], "centre": s["centre"],
            "operated": s["operated"], "surgery_months": s["surgery_months"],
            "os_months_no_surgery": s["t0"], "os_months_actual": s["t_actual"], "postoperative_death": s["postop_death"],
        }
    )


# =============================================================================================
# Stage 2: the study cohort (details, dates, follow-up) for the sampled patients
# =============================================================================================


def _source_size(n_surgery: int, n_chemotherapy: int) -> int:
    need = max(n_surgery / 0.12, n_chemotherapy / 0.88)
    return max(MIN_SOURCE_SIZE, int(math.ceil(1.3 * need)))


def _build(n_surgery: int, n_chemotherapy: int, seed: int, n_centres: int, cal: Calibration) -> SyntheticCohort:
    n_source = _source_size(n_surgery, n_chemotherapy)
    while True:
        rng = np.random.default_rng(seed)
        src = _simulate_source(rng, n_source, n_centres, cal)
        op_idx = np.flatnonzero(src["operated"])
        ctl_idx = np.flatnonzero(~src["operated"])
        if len(op_idx) >= n_surgery and len(ctl_idx) >= n_chemotherapy:
            break
        n_source *= 2  # pragma: no cover - only with extreme calibrations
    share = float(src["operated"].mean())
    idx = np.concatenate([rng.choice(op_idx, n_surgery, replace=False), rng.choice(ctl_idx, n_chemotherapy, replace=False)])
    idx = idx[rng.permutation(len(idx))]
    n = len(idx)
    g = {k: v[idx] for k, v in src.items() if isinstance(v, np.ndarray) and v.shape == (n_source,)}
    del src
    op = g["operated"]

    # -- baseline details ----------------------------------------------------------------------
    age = np.clip(np.floor(g["age"]), 18, 100).astype(np.int64)
    mg = g["mets_group"]
    mets_n = np.select([mg == 0, mg == 1], [1, 2 + (rng.random(n) < 0.4)], 4 + np.minimum(rng.geometric(0.25, n) - 1, 46))
    mets_max = np.clip(np.rint(np.exp(np.log(14.0) + 0.15 * mg + 0.45 * rng.standard_normal(n))), 3, 120).astype(float)
    bilobar = np.where(mg == 0, False, rng.random(n) < np.where(mg == 1, 0.35, 0.75))
    tumour_size = np.clip(np.rint(np.exp(np.log(30.0) + 0.35 * rng.standard_normal(n))), 8, 120).astype(float)
    lewis = g["lewis"]
    ca_sec = np.exp(np.array(cal.ca19_9_log_median)[mg] + cal.ca19_9_log_sd * rng.standard_normal(n))
    ca_lewis = np.exp(np.log(3.0) + 0.6 * rng.standard_normal(n))
    ca_base = np.round(np.where(lewis, np.clip(ca_lewis, 0.5, 30.0), np.clip(ca_sec, 5.0, 200_000.0)), 1)
    ratio = np.where(g["ca_resp"], np.exp(-rng.uniform(math.log(1 / 0.48), 4.0, n)), np.exp(rng.uniform(math.log(0.52), 0.8, n)))
    ca_rest = np.where(lewis, np.round(np.clip(ca_lewis * np.exp(0.3 * rng.standard_normal(n)), 0.5, 30.0), 1), np.round(ca_base * ratio, 1))

    # -- dates -------------------------------------------------------------------------------------
    d0, d1 = (np.datetime64(x, "D") for x in cal.diagnosis_period)
    diag = d0 + rng.integers(0, int((d1 - d0).astype(int)) + 1, n).astype("timedelta64[D]")
    chemo = diag + rng.integers(5, 43, n).astype("timedelta64[D]")
    admin_day = (np.datetime64(cal.admin_cutoff, "D") - chemo).astype(np.int64)
    s_m = g["surgery_months"]
    s_day = np.where(op, _months_to_days(np.nan_to_num(s_m)), -1)
    death_true = np.where(g["postop_death"], s_day + g["postop_day"].astype(np.int64), np.maximum(_months_to_days(g["t_actual"]), 1))
    rate = -math.log(1 - cal.loss_to_followup_per_year) / 12.0
    ltfu_exp = rng.exponential(1.0 / rate, n)
    ltfu_day = np.where(op, s_day + 91 + _months_to_days(ltfu_exp), _months_to_days(ltfu_exp))
    censor_day = np.minimum(admin_day, ltfu_day)
    dead = death_true <= censor_day
    lfu_day = np.where(dead, death_true, censor_day)

    # -- progression / recurrence --------------------------------------------------------------------
    t = g["t_actual"]
    f_pfs = rng.beta(*cal.pfs_fraction_beta, n)
    f_rfs = rng.beta(*cal.rfs_fraction_beta, n)
    r = g["restaging"]
    prog_ctl = np.where(g["recist"] == _PD, np.minimum(r * rng.uniform(0.4, 1.0, n), f_pfs * t), f_pfs * t)
    late = (g["recist"] != _PD) & (t > r)
    prog_ctl = np.where(late, np.maximum(prog_ctl, r + (t - r) * rng.uniform(0.1, 0.5, n)), prog_ctl)
    s_safe = np.nan_to_num(s_m)
    rec_op = f_rfs * (t - s_safe)  # months after surgery
    anchor_day = np.where(op, s_day, 0)
    prog_from_anchor = np.where(op, rec_op, prog_ctl)
    detect_day = anchor_day + _months_to_days(_grid_next(prog_from_anchor))
    detect_day = np.minimum(detect_day, death_true)
    has_prog = (detect_day <= lfu_day) & ~g["postop_death"]
    prog_day = np.where(has_prog, detect_day, -1)
    img_limit = np.where(has_prog, prog_day - 1, lfu_day) - anchor_day
    last_img_day = anchor_day + _last_scan_day_at_or_before(np.maximum(img_limit, 0))
    last_img_day = np.where(img_limit < 0, anchor_day - 7, last_img_day)  # pre-operative scan
    last_img_day = np.minimum(last_img_day, lfu_day)
    site = _choice(rng, n, (0.10, 0.40, 0.10, 0.15, 0.05, 0.20))

    # -- RECIST as recorded: not evaluable if dead before restaging ----------------------------------
    recist_obs = np.where(~op & (t <= r), 4, g["recist"])
    # -- chemotherapy ------------------------------------------------------------------------------------
    duration = np.where(op, np.maximum(s_safe - 1.0, 1.0), np.minimum(np.minimum(prog_ctl, t), 9.0))
    cycles = np.clip(np.rint(duration * _CYCLES_PER_MONTH[g["regimen"]] * rng.uniform(0.7, 1.0, n)), 1, 40).astype(np.int64)

    # -- surgery details (operated only) -------------------------------------------------------------------
    liver_proc = g["liver_proc"]
    segments = np.select(
        [liver_proc == 0, liver_proc == 1, liver_proc <= 3, liver_proc == 4],
        [0, 1, 2, 3 + (rng.random(n) < 0.6)],
        5 + (rng.random(n) < 0.5),
    )
    major = segments >= 3
    cd = _choice(rng, n, cal.clavien_dindo_probs)
    death_90d = op & (death_true - s_day <= 90)
    cd = np.where(death_90d, 7, np.minimum(cd, 6))  # V exactly when death within 90 days of surgery
    cd_major = cd >= 3
    pop = np.where(cd_major, 0, 1)
    popf_probs = np.array([[0.48, 0.15, 0.25, 0.12], [0.723, 0.15, 0.115, 0.012]])  # none, BL, B, C
    popf = _choice_rows(rng, popf_probs[pop])
    popf = np.where(g["pancreatic"] == 3, 4, popf)  # not_applicable after TP
    phlf_probs = np.where(major[:, None], np.array([0.80, 0.12, 0.06, 0.02]), np.array([0.93, 0.05, 0.015, 0.005]))
    phlf = _choice_rows(rng, phlf_probs)
    reop = ((cd >= 4) & (cd < 7) & (rng.random(n) < 0.6)) | (g["postop_death"] & (rng.random(n) < 0.3))
    readm = ~death_90d & (rng.random(n) < np.where(cd_major, 0.30, 0.15))
    los = np.rint(np.exp(np.log(10.0) + 0.3 * rng.standard_normal(n)) * np.array([1, 1.1, 1.4, 1.9, 2.3, 2.8, 3.2, 1.5])[cd])
    los = np.clip(np.where(g["postop_death"], np.minimum(los, g["postop_day"]), los), 3, 365).astype(np.int64)
    adjuvant = ~death_90d & (rng.random(n) < np.where(cd >= 4, 0.5, cal.p_adjuvant + 0.03))
    margin = _choice(rng, n, (0.60, 0.35, 0.05))
    good = g["recist"] == _CR
    ypt = _choice_rows(rng, np.where(good[:, None], np.array([0.25, 0.03, 0.30, 0.25, 0.12, 0.02, 0.03]), np.array([0.03, 0.01, 0.17, 0.37, 0.33, 0.05, 0.04])))
    ypn = _choice(rng, n, (0.40, 0.38, 0.19, 0.03))
    viable = _choice_rows(rng, np.where(good[:, None], np.array([0.55, 0.35, 0.10]), np.array([0.80, 0.10, 0.10])))
    vascular = _choice_rows(rng, np.where(g["resectable"][:, None], np.array([0.85, 0.12, 0.02, 0.01]), np.array([0.65, 0.28, 0.04, 0.03])))
    timing = np.where(rng.random(n) < cal.p_simultaneous, 0, 1)
    ablation = rng.random(n) < 0.10
    # -- missingness of optional fields -------------------------------------------------------------------
    miss_base = rng.random(n) < cal.missing_ca19_9_baseline
    miss_rest = (rng.random(n) < cal.missing_ca19_9_restaging) | (recist_obs == 4)
    miss_size = rng.random(n) < cal.missing_tumour_size
    miss_mmax = rng.random(n) < cal.missing_mets_max
    miss_bil = rng.random(n) < cal.missing_bilobar
    miss_cyc = rng.random(n) < cal.missing_cycles

    # -- assemble the frame (dictionary order and types) ----------------------------------------------------
    width = max(4, len(str(n)))
    cw = max(2, len(str(n_centres)))
    no = ~op

    def day_col(base: np.ndarray, days: np.ndarray, present: np.ndarray) -> pd.Series:
        out = (base + days.astype("timedelta64[D]")).astype("datetime64[ns]")
        out = np.where(present, out, np.datetime64("NaT", "ns"))
        return pd.Series(out.astype("datetime64[ns]"))

    def boolean(x: np.ndarray, missing: np.ndarray | None = None) -> pd.arrays.BooleanArray:
        mask = np.zeros(n, dtype=bool) if missing is None else missing
        return pd.arrays.BooleanArray(np.asarray(x, dtype=bool), mask.copy())

    def integer(x: np.ndarray, missing: np.ndarray | None = None) -> pd.arrays.IntegerArray:
        mask = np.zeros(n, dtype=bool) if missing is None else missing
        return pd.arrays.IntegerArray(np.asarray(x, dtype=np.int64), mask.copy())

    def number(x: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.where(missing, np.nan, x) if missing is not None else x

    cols = {
        C.PATIENT_ID: np.array([f"SYN-{i:0{width}d}" for i in range(1, n + 1)], dtype=object),
        C.CENTRE_ID: np.array([f"C{i:0{cw}d}" for i in range(1, n_centres + 1)], dtype=object)[g["centre"]],
        C.TREATMENT_GROUP: np.where(op, Arm.SURGERY, Arm.CHEMOTHERAPY).astype(object),
        C.DIAGNOSIS_DATE: day_col(diag, np.zeros(n, np.int64), np.ones(n, bool)),
        C.AGE: integer(age),
        C.SEX: np.where(g["male"], Sex.MALE, Sex.FEMALE).astype(object),
        C.ECOG: integer(g["ecog"]),
        C.TUMOUR_LOCATION: np.where(g["head"], Location.HEAD, Location.BODY_TAIL).astype(object),
        C.TUMOUR_SIZE: number(tumour_size, miss_size),
        C.RESECTABILITY: np.where(g["resectable"], Resectability.RESECTABLE, Resectability.BORDERLINE).astype(object),
        C.CA19_9_BASELINE: number(ca_base, miss_base),
        C.CA19_9_RESTAGING: number(ca_rest, miss_rest),
        C.LEWIS_NEGATIVE: boolean(lewis),
        C.LIVER_METS_N: integer(mets_n),
        C.LIVER_METS_MAX: number(mets_max, miss_mmax),
        C.LIVER_METS_BILOBAR: boolean(bilobar, miss_bil),
        C.CHEMO_START_DATE: day_col(chemo, np.zeros(n, np.int64), np.ones(n, bool)),
        C.CHEMO_REGIMEN: _REGIMEN_LABELS[g["regimen"]],
        C.CHEMO_CYCLES: integer(cycles, miss_cyc),
        C.CHEMO_SETTING: np.where(op, np.where(adjuvant, Setting.PERIOPERATIVE, Setting.NEOADJUVANT), Setting.PALLIATIVE).astype(object),
        C.RECIST: _RECIST_LABELS[recist_obs],
        C.SURGERY_DATE: day_col(chemo, np.maximum(s_day, 0), op),
        C.PANCREATIC_PROCEDURE: _labels(g["pancreatic"], Pancreatic.ALL, no),
        C.VASCULAR_RESECTION: _labels(vascular, Vascular.ALL, no),
        C.LIVER_PROCEDURE: _labels(liver_proc, LiverProcedure.ALL, no),
        C.LIVER_SEGMENTS_N: integer(segments, no),
        C.LIVER_TIMING: _labels(timing, Timing.ALL, no),
        C.LIVER_ABLATION: boolean(ablation, no),
        C.YP_T: _labels(ypt, YpT.ALL, no),
        C.YP_N: _labels(ypn, YpN.ALL, no),
        C.MARGIN: _labels(margin, Margin.ALL, no),
        C.LIVER_METS_VIABLE: _labels(viable, Viable.ALL, no),
        C.CLAVIEN_DINDO: _labels(cd, ClavienDindo.ALL, no),
        C.POPF: _labels(popf, Popf.ALL, no),
        C.PHLF: _labels(phlf, Phlf.ALL, no),
        C.REOPERATION: boolean(reop, no),
        C.READMISSION: boolean(readm, no),
        C.LENGTH_OF_STAY: integer(los, no),
        C.ADJUVANT_CHEMO: boolean(adjuvant, no),
        C.PROGRESSION: boolean(has_prog),
        C.PROGRESSION_DATE: day_col(chemo, np.maximum(prog_day, 0), has_prog),
        C.RECURRENCE_SITE: _labels(site, RecurrenceSite.ALL, ~has_prog),
        C.LAST_IMAGING_DATE: day_col(chemo, last_img_day, np.ones(n, bool)),
        C.VITAL_STATUS: np.where(dead, Vital.DEAD, Vital.ALIVE).astype(object),
        C.DEATH_DATE: day_col(chemo, death_true, dead),
        C.LAST_FOLLOWUP_DATE: day_col(chemo, lfu_day, np.ones(n, bool)),
    }
    cols.update(_v11_columns(
        np.random.default_rng(np.random.SeedSequence([seed, V11_STREAM])), g, chemo=chemo, op=op, s_day=s_day,
        lfu_day=lfu_day, recist_obs=recist_obs, duration=duration, day_col=day_col, number=number))
    cohort = pd.DataFrame({name: cols[name] for name in IMPORTED_NAMES})
    truth = pd.DataFrame(
        {
            "patient_id": cols[C.PATIENT_ID],
            "surgery": op,
            "surgery_months": s_m,
            "os_months_actual": g["t_actual"],
            "os_months_no_surgery": g["t0"],
            "postoperative_death": g["postop_death"],
        }
    )
    return SyntheticCohort(cohort=cohort, truth=truth, seed=seed, n_source=n_source, source_share_operated=share, true_hr=cal.true_hr)


def _v11_columns(rng: np.random.Generator, g: dict[str, np.ndarray], *, chemo: np.ndarray, op: np.ndarray,
                 s_day: np.ndarray, lfu_day: np.ndarray, recist_obs: np.ndarray, duration: np.ndarray,
                 day_col: object, number: object) -> dict[str, object]:
    """The dictionary 1.1 columns, from their own random stream (the 1.0 columns never see it).

    * Restaging date: chemotherapy start + the simulated restaging time, when the patient was alive
      and followed at restaging (not for those recorded as not evaluable because they died first).
    * Decision date: restaging + 3 to 21 days, no later than the operation or the last follow-up;
      10% missing.
    * Exploration date: the day of the operation for the operated (exploration and resection in one
      session). In the chemotherapy group: 60% of the occult progressions (chosen for surgery, not
      resected, alive and followed at the planned operation) are found at exploration that day,
      "explored, not resected"; the others at the pre-operative work-up. Of the other controls
      alive and not progressing at restaging, 10% are explored 14 to 42 days after the decision
      and found unresectable (their survival is the one drawn without surgery).
    * End of first-line chemotherapy: start + the simulated treatment duration (the operated stop
      before surgery), no later than the operation or the last follow-up; 10% missing.
    * CEA at baseline: log-normal (median 4 ng/mL, log-sd 1.0), x1.4 per metastasis group step and
      higher with a worse prognostic linear predictor; it has no effect of its own on survival or on
      selection. 20% missing. Lewis-negative patients have a CEA like everyone else.
    """
    n = len(chemo)
    restaging_day = _months_to_days(g["restaging"])
    has_restaging = (recist_obs != 4) & (restaging_day <= lfu_day)
    mdt_day = restaging_day + rng.integers(MDT_DAYS[0], MDT_DAYS[1] + 1, n)
    mdt_day = np.minimum(mdt_day, np.where(op, s_day, lfu_day))
    mdt_day = np.minimum(mdt_day, lfu_day)
    has_mdt = has_restaging & (rng.random(n) >= V11_MISSING["mdt"])
    planned_day = _months_to_days(g["planned_surgery_months"])
    occult = ~op & g["chosen"] & (planned_day <= lfu_day) & (planned_day > restaging_day)
    explored_ctl = occult & (rng.random(n) < P_EXPLORED_OCCULT)
    other_day = np.where(has_mdt, mdt_day, restaging_day) + rng.integers(EXPLORATION_DAYS[0], EXPLORATION_DAYS[1] + 1, n)
    other = (~op & ~occult & has_restaging & (recist_obs != _PD) & (other_day <= lfu_day)
             & (rng.random(n) < P_EXPLORED_OTHER))
    explored_ctl = explored_ctl | other
    exploration_day = np.where(op, s_day, np.where(occult, planned_day, other_day))
    end_day = np.maximum(_months_to_days(duration), 0)
    end_day = np.minimum(end_day, np.where(op, s_day, lfu_day))
    end_day = np.minimum(end_day, lfu_day)
    has_end = rng.random(n) >= V11_MISSING["chemo_end"]
    lp = g["lp"] - float(np.mean(g["lp"]))
    cea = np.exp(CEA_LOG_MEDIAN + math.log(1.4) * g["mets_group"] + 0.5 * lp + CEA_LOG_SD * rng.standard_normal(n))
    cea = np.round(np.clip(cea, 0.2, 5000.0), 1)
    miss_cea = rng.random(n) < V11_MISSING["cea"]
    return {
        C.CEA_BASELINE: number(cea, miss_cea),  # type: ignore[operator]
        C.CHEMO_END_DATE: day_col(chemo, end_day, has_end),  # type: ignore[operator]
        C.RESTAGING_DATE: day_col(chemo, restaging_day, has_restaging),  # type: ignore[operator]
        C.MDT_DATE: day_col(chemo, mdt_day, has_mdt),  # type: ignore[operator]
        C.EXPLORATION_DATE: day_col(chemo, np.maximum(exploration_day, 0), op | explored_ctl),  # type: ignore[operator]
    }


def generate_with_truth(n_surgery: int = DEMO_N_SURGERY, n_chemotherapy: int = DEMO_N_CHEMOTHERAPY, seed: int = DEMO_SEED, *,
                        n_centres: int = DEMO_N_CENTRES, calibration: Calibration = CALIBRATION) -> SyntheticCohort:
    """Generate a cohort and its truth table.

    Parameters
    ----------
    n_surgery, n_chemotherapy : int
        Number of operated patients and of non-operated (chemotherapy-only) controls.
    seed : int
        Seed of the numpy Generator; the output is a deterministic function of all arguments.
    n_centres : int
        Number of contributing centres (ids ``C01``, ``C02``, ...).
    calibration : Calibration
        Free parameters (default: the calibrated :data:`CALIBRATION`).

    Returns
    -------
    SyntheticCohort
        ``cohort`` in the imported format and the separate ``truth``.

    Examples
    --------
    >>> res = generate_with_truth(n_surgery=3, n_chemotherapy=2, seed=7)
    >>> list(res.truth.columns)[:3]
    ['patient_id', 'surgery', 'surgery_months']
    >>> int(res.truth["surgery"].sum()), res.true_hr
    (3, 0.7)
    """
    n_surgery = _check_int("n_surgery", n_surgery, 0)
    n_chemotherapy = _check_int("n_chemotherapy", n_chemotherapy, 0)
    if n_surgery + n_chemotherapy < 1:
        raise ValueError("n_surgery + n_chemotherapy must be at least 1")
    seed = _check_int("seed", seed, 0)
    n_centres = _check_int("n_centres", n_centres, 1)
    if not isinstance(calibration, Calibration):
        raise ValueError("calibration must be a Calibration instance")
    return _build(n_surgery, n_chemotherapy, seed, n_centres, calibration)


def generate(n_surgery: int = DEMO_N_SURGERY, n_chemotherapy: int = DEMO_N_CHEMOTHERAPY, seed: int = DEMO_SEED, *,
             n_centres: int = DEMO_N_CENTRES, calibration: Calibration = CALIBRATION) -> pd.DataFrame:
    """Generate a synthetic cohort in the dictionary's imported format (truth left out).

    Parameters
    ----------
    n_surgery, n_chemotherapy : int
        Number of operated patients and of non-operated controls.
    seed : int
        Seed of the numpy Generator.
    n_centres : int
        Number of centres.
    calibration : Calibration
        Free parameters.

    Returns
    -------
    pandas.DataFrame
        Columns ``core.dictionary.IMPORTED_NAMES`` in order.

    Examples
    --------
    >>> df = generate(n_surgery=4, n_chemotherapy=6, seed=2)
    >>> df["treatment_group"].value_counts().to_dict()
    {'chemotherapy': 6, 'surgery': 4}
    """
    return generate_with_truth(n_surgery, n_chemotherapy, seed, n_centres=n_centres, calibration=calibration).cohort


def true_rmst_difference(truth: pd.DataFrame, *, tau: float, landmark: float | None = None) -> float:
    """True restricted-mean-survival difference (months) due to surgery, from the counterfactuals.

    Without ``landmark``: among the operated, time from surgery, mean of ``min(T - s, tau)`` with
    surgery minus the same without surgery (the effect on the treated). With ``landmark`` ``L``
    (months from chemotherapy start): among patients alive at ``L`` and operated before ``L``,
    mean of ``min(max(T - L, 0), tau)`` with surgery minus without.

    Parameters
    ----------
    truth : pandas.DataFrame
        ``SyntheticCohort.truth``.
    tau : float
        Restriction time in months (> 0).
    landmark : float, optional
        Landmark time in months from chemotherapy start.

    Returns
    -------
    float
        RMST(with surgery) - RMST(without surgery), in months.

    Examples
    --------
    >>> t = pd.DataFrame({"surgery": [True], "surgery_months": [6.0],
    ...                   "os_months_actual": [30.0], "os_months_no_surgery": [20.0]})
    >>> true_rmst_difference(t, tau=12.0), true_rmst_difference(t, tau=24.0)
    (0.0, 10.0)
    """
    if not (isinstance(tau, int | float) and tau > 0):
        raise ValueError(f"tau must be a positive number of months, got {tau!r}")
    op = truth["surgery"].to_numpy(bool)
    s = truth["surgery_months"].to_numpy(float)
    t1 = truth["os_months_actual"].to_numpy(float)
    t0 = truth["os_months_no_surgery"].to_numpy(float)
    if landmark is None:
        sel, origin = op, s
    else:
        if not (isinstance(landmark, int | float) and landmark >= 0):
            raise ValueError(f"landmark must be a non-negative number of months, got {landmark!r}")
        sel = op & (s < landmark) & (t1 > landmark)
        origin = np.full(len(s), float(landmark))
    if not sel.any():
        raise ValueError("no patients in the requested population")
    with_s = np.minimum(np.maximum(t1[sel] - origin[sel], 0.0), tau)
    without = np.minimum(np.maximum(t0[sel] - origin[sel], 0.0), tau)
    return float(with_s.mean() - without.mean())


# =============================================================================================
# Demo files
# =============================================================================================

DEMO_PARQUET = "demo_cohort.parquet"
DEMO_CSV = "demo_cohort.csv"


def demo_cohort() -> pd.DataFrame:
    """The shipped demo cohort (90 patients, 45/45, 8 centres, seed :data:`DEMO_SEED`).

    Examples
    --------
    >>> demo_cohort().shape
    (90, 51)
    """
    return generate(DEMO_N_SURGERY, DEMO_N_CHEMOTHERAPY, DEMO_SEED, n_centres=DEMO_N_CENTRES)


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Serialise a cohort as the study's CSV: comma-separated, ISO dates, empty cells, true/false, UTF-8.

    Examples
    --------
    >>> to_csv_bytes(generate(1, 0, seed=1)).decode().splitlines()[0].split(",")[:2]
    ['patient_id', 'centre_id']
    """
    out = pd.DataFrame(index=df.index)
    for name in df.columns:
        col = df[name]
        kind = COLUMNS_BY_NAME[name].kind if name in COLUMNS_BY_NAME else "text"
        if kind == "date":
            out[name] = col.dt.strftime("%Y-%m-%d")
        elif kind == "boolean":
            out[name] = col.map({True: "true", False: "false"}).astype(object)
        elif kind == "integer":
            out[name] = col.astype("Int64").astype(object)
        elif kind == "number":
            out[name] = col.map(lambda v: "" if pd.isna(v) else repr(float(v)))
        else:
            out[name] = col
    buf = io.StringIO()
    out.to_csv(buf, index=False, na_rep="", lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """Serialise a cohort as Parquet deterministically (fixed writer options, no timestamps).

    Examples
    --------
    >>> b = to_parquet_bytes(generate(2, 2, seed=1))
    >>> b[:4]
    b'PAR1'
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", compression_level=9, use_dictionary=True, write_statistics=False,
                   version="2.6", data_page_version="1.0", store_schema=True)
    return buf.getvalue()


def demo_readme(digests: dict[str, str]) -> str:
    """Text of ``data/README.md``: what the demo cohort is, how it was made, its SHA-256 digests.

    Parameters
    ----------
    digests : dict
        File name -> SHA-256 hex digest (as returned by :func:`write_demo`).

    Returns
    -------
    str
        Markdown text.

    Examples
    --------
    >>> demo_readme({"demo_cohort.csv": "ab"}).splitlines()[0]
    '# Demo cohort (synthetic)'
    """
    lines = [
        "# Demo cohort (synthetic)",
        "",
        "`demo_cohort.parquet` and `demo_cohort.csv` hold the same **synthetic** cohort: no real patient is in",
        "them. They were made by the simulation in `core/synthetic.py`, which follows the recipe of the study's",
        "domain notes (source population of resectable/borderline PDAC with synchronous liver metastases,",
        "selection into surgery, Weibull survival with a true surgery hazard ratio of "
        f"{TRUE_HR:.2f} from the day of surgery on).",
        "",
        f"- {DEMO_N_SURGERY + DEMO_N_CHEMOTHERAPY} patients: {DEMO_N_SURGERY} surgery group, {DEMO_N_CHEMOTHERAPY} chemotherapy group, "
        f"{DEMO_N_CENTRES} centres",
        f"- generator version {GENERATOR_VERSION}, seed {DEMO_SEED}",
        "- the columns of dictionary 1.0 are exactly those of generator 1.0.0; the columns new in dictionary 1.1",
        "  (restaging, decision, exploration and end-of-chemotherapy dates, CEA) come from a separate random stream",
        "- command: `python -m core.synthetic --write-demo data/` (also rewrites this file)",
        "- columns and labels: the imported columns of `DICTIONARY.md`, in that order",
        "- CSV: comma-separated, UTF-8 without BOM, ISO dates (YYYY-MM-DD), empty cells for missing values,",
        "  booleans as `true`/`false`",
        "",
        "SHA-256:",
        "",
    ]
    lines += [f"    {digest}  {name}" for name, digest in sorted(digests.items())]
    lines += ["", "`tests/test_synthetic.py` regenerates the cohort and checks that these files are its exact output.", ""]
    return "\n".join(lines)


def write_demo(directory: str | Path) -> dict[str, str]:
    """Write ``demo_cohort.parquet``, ``demo_cohort.csv`` and ``README.md`` into ``directory``.

    Parameters
    ----------
    directory : str or Path
        Target folder (created if missing).

    Returns
    -------
    dict
        Data file name -> SHA-256 hex digest of the bytes written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     sorted(write_demo(d))
    ['demo_cohort.csv', 'demo_cohort.parquet']
    """
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    df = demo_cohort()
    digests = {}
    for name, data in ((DEMO_PARQUET, to_parquet_bytes(df)), (DEMO_CSV, to_csv_bytes(df))):
        (path / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    (path / "README.md").write_text(demo_readme(digests), encoding="utf-8")
    return digests


def _main(argv: list[str] | None = None) -> int:  # pragma: no cover - command line
    parser = argparse.ArgumentParser(prog="python -m core.synthetic", description="Synthetic PDAC liver-metastasis cohort")
    parser.add_argument("--write-demo", metavar="DIR", help="write the demo cohort (Parquet + CSV) into DIR")
    args = parser.parse_args(argv)
    if args.write_demo:
        for name, digest in write_demo(args.write_demo).items():
            print(f"{digest}  {name}")
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())

