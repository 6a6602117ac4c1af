"""The benchmarked pipeline, written twice: with the project's core and "the obvious way".

Both do: filter -> propensity score -> 1:1 nearest-neighbour caliper match (0.2 SD of the
logit, largest score first, without replacement) -> Kaplan-Meier per arm, log-rank test and a
Cox model with robust SE clustered on pairs, for OS from chemotherapy start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import matching, survival
from core.analysis import POPULATION_COLUMNS, propensity_frame
from core.derive import derive
from core.dictionary import IMPORTED_NAMES, Arm, C
from core.filters import apply_filters
from core.population import naive_population
from core.spec import AnalysisSpec

#: The benchmark's filter (applies to both arms, keeps most patients) and covariates.
SPEC = AnalysisSpec(age_min=30, age_max=90, caliper=0.2)
COVARIATES = SPEC.covariates


@dataclass(frozen=True)
class PipelineOutput:
    hr: float
    se: float
    logrank_chi2: float
    n_matched: int
    median_surgery: float
    median_chemotherapy: float


def cohort_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Imported columns plus the derived ones (no validation: generated data are trusted here)."""
    imported = frame[list(IMPORTED_NAMES)].reset_index(drop=True)
    return pd.concat([imported, derive(imported)], axis=1)


def fast(data: pd.DataFrame) -> PipelineOutput:
    """The pipeline on the project's core (what the dashboard runs)."""
    filtered = apply_filters(data, SPEC).select(list(POPULATION_COLUMNS) + list(COVARIATES))
    pop = naive_population(filtered, origin="chemo_start").data
    pf, names = propensity_frame(pop, COVARIATES)
    m = matching.match_nearest(pf, "treated", names, caliper=SPEC.caliper)
    md = m.matched
    t, e, g = md["time"].to_numpy(float), md["event"].to_numpy(float), md["treated"].to_numpy(int)
    km1 = survival.median_survival(t[g == 1], e[g == 1])
    km0 = survival.median_survival(t[g == 0], e[g == 0])
    survival.kaplan_meier(t[g == 1], e[g == 1])
    survival.kaplan_meier(t[g == 0], e[g == 0])
    lr = survival.logrank(t, e, g)
    cox = survival.cox(md, "time", "event", ["treated"], cluster="subclass").table.loc["treated"]
    return PipelineOutput(float(cox["hr"]), float(cox["se"]), float(lr.chi2), len(md), km1.median, km0.median)


def obvious(data: pd.DataFrame) -> PipelineOutput:
    """The same pipeline written the obvious way: scikit-learn, a per-patient loop, lifelines."""
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test
    from sklearn.linear_model import LogisticRegression

    d = data[(data[C.AGE] >= SPEC.age_min) & (data[C.AGE] <= SPEC.age_max)].copy()
    d["time"] = d[C.OS_FROM_CHEMO].astype(float)
    d["event"] = d[C.OS_EVENT].astype(float)
    d["treated"] = (d[C.TREATMENT_GROUP] == Arm.SURGERY).astype(int)
    d["log_ca"] = np.log1p(d[C.CA19_9_BASELINE].astype(float))
    d["responder"] = d[C.RECIST].isin(["CR", "PR"]).astype(float)
    cols = [C.AGE, C.ECOG, C.LIVER_METS_N, "log_ca", C.CHEMO_REGIMEN, "responder", C.RESECTABILITY]
    d = d.dropna(subset=cols)
    X = pd.get_dummies(d[cols], columns=[C.CHEMO_REGIMEN, C.RESECTABILITY], drop_first=True, dtype=float)
    for c in (C.AGE, C.ECOG, C.LIVER_METS_N):
        X[c] = X[c].astype(float)
    model = LogisticRegression(penalty=None, max_iter=1000).fit(X.to_numpy(), d["treated"].to_numpy())
    logit = model.decision_function(X.to_numpy())
    caliper = 0.2 * logit.std(ddof=1)
    treated = np.flatnonzero(d["treated"].to_numpy() == 1)
    controls = np.flatnonzero(d["treated"].to_numpy() == 0)
    available = np.ones(len(controls), dtype=bool)
    pairs = []
    for i in treated[np.argsort(-logit[treated], kind="stable")]:  # one patient at a time
        dist = np.abs(logit[controls] - logit[i])
        dist[~available] = np.inf
        j = int(np.argmin(dist))
        if dist[j] <= caliper:
            available[j] = False
            pairs.append((i, controls[j]))
    rows, subclass = [], []
    for k, (i, j) in enumerate(pairs, start=1):
        rows += [i, j]
        subclass += [k, k]
    md = d.iloc[rows][["time", "event", "treated"]].copy()
    md["subclass"] = subclass
    g = md["treated"].to_numpy()
    kmf1 = KaplanMeierFitter().fit(md["time"][g == 1], md["event"][g == 1])
    kmf0 = KaplanMeierFitter().fit(md["time"][g == 0], md["event"][g == 0])
    lr = logrank_test(md["time"][g == 1], md["time"][g == 0], md["event"][g == 1], md["event"][g == 0])
    cph = CoxPHFitter().fit(md, "time", "event", cluster_col="subclass")
    return PipelineOutput(float(np.exp(cph.params_["treated"])), float(cph.standard_errors_["treated"]),
                          float(lr.test_statistic), len(md), float(kmf1.median_survival_time_),
                          float(kmf0.median_survival_time_))
