"""Missing propensity covariates: multiple imputation, matching inside each imputation, Rubin's rules.

With ``AnalysisSpec(missing="impute")`` a matched comparison does not leave out the patients
with a missing covariate value. Instead (White, Royston & Wood, Stat Med 2011; Leyrat et al.,
Stat Methods Med Res 2019, "MI within"):

1. the missing covariate values of the compared patients are imputed :data:`IMPUTATIONS` times
   by chained equations (:func:`core.imputation.impute_chained`: predictive mean matching,
   logistic and multinomial models), with the arm, the event indicator and the Nelson-Aalen
   cumulative hazard at the patient's time as predictors (White & Royston, Stat Med 2009);
2. in each completed data set the propensity score is fitted and the patients are matched as the
   spec says, and the Cox model of the matched sample gives a log hazard ratio and its (robust)
   variance;
3. the ``m`` estimates are pooled by Rubin's rules (:func:`core.pooling.pool_cox`, equal to
   ``mice::pool``).

The curves, the balance table and the matched pairs shown are those of the first completed data
set; the hazard ratio, its confidence interval and p pool all of them. The seed is fixed
(:data:`SEED`), so the same view always gives the same numbers.

Examples
--------
>>> from core import cohort
>>> from core.population import landmark_population
>>> from core.spec import AnalysisSpec
>>> pop = landmark_population(cohort.demo().data, origin="chemo_start", landmark=6.0)
>>> missing_by_arm(pop, AnalysisSpec().covariates).to_dict("records")
[{'variable': 'CA19-9 baseline (U/mL)', 'operated': 1, 'chemotherapy only': 1}]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import matching, pooling, survival
from core.covariates import propensity_frame
from core.dictionary import label
from core.imputation import impute_chained
from core.population import EVENT, TIME, TREATED, Population

#: Number of completed data sets.
IMPUTATIONS = 20
#: Seed of the imputations (fixed: one view, one answer).
SEED = 20261202
#: Rounds of the chained equations per imputation (mice's ``maxit``).
ITERATIONS = 10
#: Column holding the Nelson-Aalen cumulative hazard at each patient's time (an imputation predictor).
CUMHAZ = "nelson_aalen"


@dataclass(frozen=True)
class ImputedMatches:
    """The matches and Cox fits of every completed data set (the first one is shown).

    Attributes
    ----------
    matches : tuple of MatchResult
    fits : tuple of core.survival.CoxResult
    pooled : core.pooling.PooledResult
        Rubin's rules on the log hazard ratio of surgery (term ``treated``).
    missing : pandas.DataFrame
        Missing values per covariate and arm among the compared patients (:func:`missing_by_arm`).
    """

    matches: tuple[matching.MatchResult, ...]
    fits: tuple[survival.CoxResult, ...]
    pooled: pooling.PooledResult
    missing: pd.DataFrame

    @property
    def m(self) -> int:
        """Number of completed data sets."""
        return len(self.fits)

    def note(self) -> str:
        """One line for the page: what was imputed and how the answer was pooled."""
        row = self.pooled.table.loc[TREATED]
        n_cells = int(self.missing[["operated", "chemotherapy only"]].to_numpy().sum())
        return (f"Multiple imputation: {n_cells} missing covariate value(s) imputed {self.m} times by chained "
                f"equations; matched within each completed data set; hazard ratio pooled by Rubin's rules "
                f"(fraction of missing information {float(row['fmi']):.0%}). Curves and balance show the first "
                "completed data set.")


def nelson_aalen_at(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Nelson-Aalen cumulative hazard evaluated at each patient's own time (ties: all events at t count).

    Examples
    --------
    >>> nelson_aalen_at(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1, 1, 0, 1])).round(4).tolist()
    [0.25, 0.5833, 0.5833, 1.5833]
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    order = np.argsort(t, kind="stable")
    ts, es = t[order], e[order]
    uniq, first = np.unique(ts, return_index=True)
    deaths = np.add.reduceat(es, first)
    at_risk = len(ts) - first
    H = np.cumsum(deaths / at_risk)
    return H[np.searchsorted(uniq, t)]


def missing_by_arm(population: Population, covariates: tuple[str, ...]) -> pd.DataFrame:
    """Missing values of each propensity covariate among the compared patients, per arm (covariates with any).

    Examples
    --------
    >>> import pandas as pd
    >>> from core.population import Population
    >>> from core.dictionary import C
    >>> d = pd.DataFrame({"treated": [1, 0, 0], C.AGE: [60, None, None], "time": 1.0, "event": 1})
    >>> missing_by_arm(Population(d, "", {}), (C.AGE,)).to_dict("records")
    [{'variable': 'Age (years)', 'operated': 0, 'chemotherapy only': 2}]
    """
    data = population.data
    treated = data[TREATED].to_numpy(float) == 1
    rows = []
    for cov in covariates:
        if cov not in data.columns:
            continue
        miss = data[cov].isna().to_numpy()
        if miss.any():
            rows.append({"variable": label(cov), "operated": int((miss & treated).sum()),
                         "chemotherapy only": int((miss & ~treated).sum())})
    return pd.DataFrame(rows, columns=["variable", "operated", "chemotherapy only"])


def imputed_matches(population: Population, covariates: tuple[str, ...], *,
                    match: Callable[[pd.DataFrame, list[str]], matching.MatchResult],
                    fit: Callable[[pd.DataFrame], survival.CoxResult],
                    m: int = IMPUTATIONS, seed: int = SEED) -> ImputedMatches | None:
    """Impute, match and fit in each of ``m`` completed data sets, and pool (None: nothing is missing).

    Parameters
    ----------
    population : Population
        The compared patients (``time``, ``event``, ``treated``).
    covariates : tuple of str
        The spec's propensity covariates (dictionary names).
    match : callable
        ``match(frame, model_columns)``: the spec's match of one completed data set.
    fit : callable
        ``fit(matched_sample)``: the spec's Cox model of one matched sample (term ``treated``).
    m, seed : int
        Number of imputations and their seed.

    Raises
    ------
    ValueError
        When a completed data set cannot be matched or its model cannot be fitted (the message
        says in how many of the ``m``).
    """
    frame, names = propensity_frame(population.data, covariates)
    if not frame[names].isna().any().any():
        return None
    frame = frame.copy()
    frame[CUMHAZ] = nelson_aalen_at(frame[TIME].to_numpy(float), frame[EVENT].to_numpy(float))
    predictors = [TREATED, EVENT, CUMHAZ]
    completed = impute_chained(frame[names + predictors], names, predictors=predictors, m=m, seed=seed,
                               iterations=ITERATIONS).imputations
    matches, fits, failed = [], [], []
    for i, done in enumerate(completed, start=1):
        one = frame.copy()
        for c in names:
            one[c] = done[c].to_numpy()
        try:
            mr = match(one, names)
            fits.append(fit(mr.matched))
            matches.append(mr)
        except ValueError:
            failed.append(i)
    if failed:
        raise ValueError(f"in {len(failed)} of {m} imputed data sets the match or the Cox model could not be fitted")
    pooled = pooling.pool_cox(fits)
    return ImputedMatches(tuple(matches), tuple(fits), pooled, missing_by_arm(population, covariates))
