"""Covariates as the models see them: transformations, readable labels, what a model left out.

* :func:`propensity_frame`: CA19-9 as log(1 + U/mL), RECIST response as objective response (CR/PR
  vs other), booleans as 0/1, categories as text.
* :func:`term_label`: a model or balance term in words (``chemo_regimenGEM`` -> ``Regimen: GEM``).
* :func:`model_adjustments`: the covariates a propensity or outcome model left out and the rare
  categories it pooled (:mod:`core.design`), in one plain line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.design import POOLED_LEVEL, DroppedCovariate, PooledLevels
from core.dictionary import COLUMNS_BY_NAME, C, Recist, label, value_label

#: Name of the log-transformed CA19-9 covariate used in propensity models.
LOG_CA19_9 = "log_ca19_9_baseline"
LOG_CA19_9_RESTAGING = "log_ca19_9_restaging"
#: RECIST response enters models as objective response (CR or PR = 1; SD, PD or not evaluable = 0):
#: no operated patient progressed, so the PD level alone would separate the arms perfectly.
OBJECTIVE_RESPONSE = "objective_response"
PROGRESSIVE = "progressive_or_not_evaluable"


def propensity_frame(data: pd.DataFrame, covariates: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """Covariates ready for the propensity model: CA19-9 on the log scale, booleans as 0/1.

    Parameters
    ----------
    data : pandas.DataFrame
        Population rows.
    covariates : tuple of str
        Dictionary column names (pre-surgery variables).

    Returns
    -------
    (pandas.DataFrame, list of str)
        ``data`` with model columns added, and the model column names in order.
    """
    out = data.copy(deep=False)  # new and converted columns only: the caller's frame is never modified
    names: list[str] = []
    for cov in covariates:
        if cov == C.CA19_9_BASELINE:
            out[LOG_CA19_9] = np.log1p(pd.to_numeric(out[cov], errors="coerce").astype(float))
            names.append(LOG_CA19_9)
        elif cov == C.RECIST:
            rec = out[cov].astype("object")
            out[OBJECTIVE_RESPONSE] = np.where(rec.isna(), np.nan, rec.isin([Recist.CR, Recist.PR]).astype(float))
            names.append(OBJECTIVE_RESPONSE)
        elif cov == C.CA19_9_RESTAGING:
            out[LOG_CA19_9_RESTAGING] = np.log1p(pd.to_numeric(out[cov], errors="coerce").astype(float))
            names.append(LOG_CA19_9_RESTAGING)
        else:
            kind = COLUMNS_BY_NAME[cov].kind if cov in COLUMNS_BY_NAME else "number"
            if kind == "boolean":
                out[cov] = out[cov].astype("Float64").astype(float)
            elif kind in ("integer", "number"):
                out[cov] = pd.to_numeric(out[cov], errors="coerce").astype(float)
            else:
                out[cov] = out[cov].astype("object").where(out[cov].notna(), None)
            names.append(cov)
    return out, names


_MODEL_LABELS = {
    LOG_CA19_9: "CA19-9 baseline (log)",
    LOG_CA19_9_RESTAGING: "CA19-9 restaging (log)",
    OBJECTIVE_RESPONSE: "Objective response (CR/PR)",
    PROGRESSIVE: "Progression at restaging (PD/NE)",
}


def term_label(term: str) -> str:
    """Readable label of a model or balance term (``chemo_regimenGEM`` -> ``Regimen: Gemcitabine alone``).

    Examples
    --------
    >>> term_label("chemo_regimenGEM"), term_label("log_ca19_9_baseline"), term_label("age_at_diagnosis")
    ('Regimen: Gemcitabine alone', 'CA19-9 baseline (log)', 'Age (years)')
    """
    if term in _MODEL_LABELS:
        return _MODEL_LABELS[term]
    if term in COLUMNS_BY_NAME:
        return label(term)
    for name in sorted(COLUMNS_BY_NAME, key=len, reverse=True):
        if term.startswith(name) and len(term) > len(name):
            return f"{label(name)}: {value_label(name, term[len(name):])}"
    return term


def model_adjustments(dropped: tuple[DroppedCovariate, ...], pooled: tuple[PooledLevels, ...]) -> str:
    """What the propensity model left out or pooled in this selection, in one plain line ('' when nothing).

    Examples
    --------
    >>> from core.design import DroppedCovariate, PooledLevels
    >>> model_adjustments((DroppedCovariate("chemo_regimen", "constant", "FOLFIRINOX", 47),),
    ...                   (PooledLevels("resectability", ("locally_advanced",), "borderline", (1,), (2,), 5),))
    'Propensity model for this selection: Regimen left out (FOLFIRINOX for all 47 patients); Resectability: Locally advanced (1 operated, 2 chemotherapy-only) counted with Borderline resectable (fewer than 5 patients in an arm).'
    """
    parts = []
    for d in dropped:
        name = term_label(d.covariate)
        if d.reason == "constant":
            parts.append(f"{name} left out ({d.value} for all {d.n} patients)")
        elif d.reason == "all missing":
            parts.append(f"{name} left out (not recorded for any patient)")
        else:
            parts.append(f"{name} left out (one group left after pooling rare categories)")
    left_out = {d.covariate for d in dropped}
    for p in pooled:
        if p.covariate in left_out:  # pooled, then left out: the pooling no longer matters
            continue
        levels = ", ".join(f"{value_label(p.covariate, lev)} ({t} operated, {c} chemotherapy-only)"
                           for lev, t, c in zip(p.levels, p.n_treated, p.n_control, strict=True))
        into = (f"pooled as '{p.into}'" if str(p.into).startswith(POOLED_LEVEL)
                else f"counted with {value_label(p.covariate, p.into)}")
        parts.append(f"{term_label(p.covariate)}: {levels} {into} (fewer than {p.min_count} patients in an arm)")
    return ("Propensity model for this selection: " + "; ".join(parts) + ".") if parts else ""
