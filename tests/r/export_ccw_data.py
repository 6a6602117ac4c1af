"""Export the demo cohort's patients for tests/r/make_ccw_fixtures.R (clone-censor-weight).

Run from the repository root:
    PYTHONPATH=. python tests/r/export_ccw_data.py
    Rscript tests/r/make_ccw_fixtures.R

Writes tests/fixtures/ccw/demo.csv: one row per patient of the default analysis (all 90 demo
patients, time zero = chemotherapy start), with ``id``, overall survival ``time`` (months) and
``event``, ``surgery`` (months from chemotherapy start, empty when never operated) and the
numeric design columns of the censoring models as :func:`core.ccw.estimate` builds them
(``x_`` + term name). The CSV is committed: the tests do not depend on the demo cohort staying
the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core import cohort
from core.covariates import propensity_frame
from core.design import MIN_LEVEL_COUNT, build_design
from core.filters import apply_filters
from core.population import EVENT, SURGERY_TIME, TIME, naive_population
from core.spec import AnalysisSpec

OUT = Path("tests") / "fixtures" / "ccw"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    spec = AnalysisSpec()
    data = apply_filters(cohort.demo().data, spec).data
    pop = naive_population(data, origin=spec.origin, endpoint=spec.endpoint).data
    pop = pop[pop[TIME] > 0]
    pf, names = propensity_frame(pop, spec.covariates)
    design = build_design(pf, names, missing="drop", drop_constant=True, min_level_count=MIN_LEVEL_COUNT,
                          arm=pf[SURGERY_TIME].notna().to_numpy())
    pf = pf.iloc[design.rows]
    out = design.matrix.reset_index(drop=True).astype(float).add_prefix("x_")
    out.insert(0, "surgery", pf[SURGERY_TIME].to_numpy(float))
    out.insert(0, "event", pf[EVENT].to_numpy(int))
    out.insert(0, "time", pf[TIME].to_numpy(float))
    out.insert(0, "id", np.arange(1, len(pf) + 1))
    out.to_csv(OUT / "demo.csv", index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
