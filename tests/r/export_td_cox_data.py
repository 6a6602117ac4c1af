"""Export the (start, stop] data of the time-dependent Cox model for tests/r/make_td_cox_fixtures.R.

Run from the repository root (needs data/demo_cohort.parquet):
    python tests/r/export_td_cox_data.py && Rscript tests/r/make_td_cox_fixtures.R

Writes tests/fixtures/td_cox/<case>.csv: one row per episode with ``row`` (the patient), ``start``,
``stop``, ``event``, ``treated`` (0 before surgery, 1 from the day of surgery) and the design columns
``x_...`` of the adjustment covariates, exactly as core.estimators fits them; and
tests/fixtures/td_cox/cases.json with each case's spec (URL query) and model terms in order.

* default: the dashboard's defaults (overall survival from chemotherapy start);
* efs_diagnosis: event-free survival from diagnosis.
"""

from __future__ import annotations

import json
from pathlib import Path

from core import cohort
from core.design import MIN_LEVEL_COUNT, build_design
from core.estimators import Context, _time_dependent_frame, time_dependent_data
from core.filters import apply_filters
from core.spec import AnalysisSpec

OUT = Path("tests") / "fixtures" / "td_cox"
CASES = {"default": AnalysisSpec(), "efs_diagnosis": AnalysisSpec(endpoint="efs", origin="diagnosis")}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {}
    for case, spec in CASES.items():
        ctx = Context(apply_filters(cohort.demo().data, spec).data, spec)
        pf, names, operated = _time_dependent_frame(ctx.naive.data, spec)
        design = build_design(pf, names, missing="raise", arm=operated, drop_constant=True,
                              min_level_count=MIN_LEVEL_COUNT)
        cp, terms = time_dependent_data(pf, design)
        cp[["row", "start", "stop", "event", *terms]].to_csv(OUT / f"{case}.csv", index=False)
        meta[case] = {"query": spec.to_query_string(), "terms": terms}
    (OUT / "cases.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
