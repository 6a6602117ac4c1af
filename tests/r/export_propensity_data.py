"""Export the demo cohort's analysed population for tests/r/make_propensity_fixtures.R.

Run from the repository root (needs data/demo_cohort.parquet):
    PYTHONPATH=. python tests/r/export_propensity_data.py
    cd tests/fixtures/propensity && R_LIBS=/tmp/rlib4.7.2 Rscript ../../r/make_propensity_fixtures.R

Writes tests/fixtures/propensity/demo_landmark.csv: the landmark population of the default
analysis (landmark 6 months from the start of chemotherapy, all 90 demo patients), one row per
patient, with ``treated`` and the default propensity covariates as the propensity model sees
them (``core.analysis.propensity_frame``: CA19-9 on the log scale, RECIST as objective
response), plus the metastasis group, pancreatic procedure and centre used to define
subgroups. Missing values are empty cells. The CSV is committed: the tests do not depend on
the demo cohort staying the same.
"""

from __future__ import annotations

from pathlib import Path

from core import cohort
from core.analysis import propensity_frame
from core.dictionary import C
from core.filters import apply_filters
from core.population import TREATED, landmark_population
from core.spec import AnalysisSpec

OUT = Path("tests") / "fixtures" / "propensity"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    spec = AnalysisSpec()
    data = apply_filters(cohort.demo().data, spec).data
    pop = landmark_population(data, origin=spec.origin, landmark=spec.landmark_months).data
    frame, names = propensity_frame(pop, spec.covariates)
    out = frame[names].copy()
    out.insert(0, "treated", frame[TREATED].astype(int).to_numpy())
    out["mets_group"] = frame[C.METS_GROUP].astype("object")
    out["pancreatic_procedure"] = frame[C.PANCREATIC_PROCEDURE].astype("object")
    out["centre"] = frame[C.CENTRE_ID].astype("object")
    out.to_csv(OUT / "demo_landmark.csv", index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
