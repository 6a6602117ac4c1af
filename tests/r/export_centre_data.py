"""Export the demo cohort's analysed samples for tests/r/make_centre_fixtures.R.

Run from the repository root (needs data/demo_cohort.parquet):
    PYTHONPATH=. python tests/r/export_centre_data.py && Rscript tests/r/make_centre_fixtures.R

Writes tests/fixtures/centre/ (numbers as C99 hex floats, ``float.hex()``, read in R with
``as.numeric()``, so that R sees the same doubles):

* matched.csv: the default analysis's matched sample (landmark 6 months, 1:1 without
  replacement): time, event, treated, subclass (matched pair), weights, patient_id, centre;
* replace.csv: the same with 1:2 matching with replacement (case weights; cluster = patient);
* td.csv: the counting-process data of the default time-dependent Cox model (start, stop,
  event, treated, row = patient, centre and the model's covariate columns ``x_*``);
* loco.csv: for each centre, the landmark population without it (``left_out``) with the
  propensity logit the package fitted on those patients (``distance``), for MatchIt.

The CSV files are committed: the tests compare the package with R on these exact samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core import cohort
from core.analysis import analysis_columns
from core.covariates import OBJECTIVE_RESPONSE, PROGRESSIVE, propensity_frame
from core.design import MIN_LEVEL_COUNT, build_design
from core.dictionary import C, Recist
from core.estimators import Context, landmark
from core.filters import apply_filters
from core.population import EVENT, SURGERY_TIME, TIME, TREATED, counting_process
from core.spec import AnalysisSpec

OUT = Path("tests") / "fixtures" / "centre"


def _hex(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [v.hex() if np.isfinite(v) else "NA" for v in out[c].to_numpy(float)]
    return out


def _ctx(spec: AnalysisSpec) -> Context:
    return Context(apply_filters(cohort.demo().data, spec).select(analysis_columns(spec)), spec)


def _matched(spec: AnalysisSpec) -> pd.DataFrame:
    mc = landmark(_ctx(spec))
    s = mc.sample
    return pd.DataFrame({"time": s[TIME].astype(float), "event": s[EVENT].astype(float),
                         "treated": s[TREATED].astype(int), "subclass": s["subclass"].astype("Int64"),
                         "weights": s["weights"].astype(float), "patient_id": s[C.PATIENT_ID].astype(str),
                         "centre": s[C.CENTRE_ID].astype(str)})


def _time_dependent(spec: AnalysisSpec) -> pd.DataFrame:
    """The model frame of core.estimators._time_dependent_estimate (default covariates)."""
    pf, names = propensity_frame(_ctx(spec).naive.data, spec.covariates)
    if OBJECTIVE_RESPONSE in names:
        rec = pf[C.RECIST].astype("object")
        pf[PROGRESSIVE] = np.where(rec.isna(), np.nan, rec.isin([Recist.PD, Recist.NE]).astype(float))
        names = names + [PROGRESSIVE]
    pf = pf.dropna(subset=names)
    operated = pf[SURGERY_TIME].notna().to_numpy() & (pf[SURGERY_TIME].to_numpy(float) < pf[TIME].to_numpy(float))
    design = build_design(pf, names, missing="raise", arm=operated, drop_constant=True, min_level_count=MIN_LEVEL_COUNT)
    model = pd.concat([pf[[TIME, EVENT, SURGERY_TIME]], design.matrix.add_prefix("x_")], axis=1)
    model["centre"] = pf[C.CENTRE_ID].astype(str)
    cp = counting_process(model)
    cols = ["start", "stop", "event", "treated", "row", "centre"] + ["x_" + c for c in design.names]
    return cp[cols]


def _loco(spec: AnalysisSpec) -> pd.DataFrame:
    data = apply_filters(cohort.demo().data, spec).data
    parts = []
    for c in sorted(data[C.CENTRE_ID].astype(str).unique()):
        sub = spec.replace_(centres=tuple(x for x in sorted(data[C.CENTRE_ID].astype(str).unique()) if x != c))
        mc = landmark(_ctx(sub))
        pop = mc.population.data
        dist = mc.match.distance.reindex(pop.index)
        ok = dist.notna()
        parts.append(pd.DataFrame({"left_out": c, "time": pop.loc[ok, TIME].astype(float),
                                   "event": pop.loc[ok, EVENT].astype(float), "treated": pop.loc[ok, TREATED].astype(int),
                                   "distance": dist[ok].astype(float), "centre": pop.loc[ok, C.CENTRE_ID].astype(str)}))
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _hex(_matched(AnalysisSpec())).to_csv(OUT / "matched.csv", index=False)
    _hex(_matched(AnalysisSpec(ratio=2, replace=True))).to_csv(OUT / "replace.csv", index=False)
    _hex(_time_dependent(AnalysisSpec())).to_csv(OUT / "td.csv", index=False)
    _hex(_loco(AnalysisSpec())).to_csv(OUT / "loco.csv", index=False)


if __name__ == "__main__":
    main()
