"""Export matched samples of the demo cohort for tests/r/make_subgroup_fixtures.R.

Run from the repository root (needs data/demo_cohort.parquet):
    python tests/r/export_subgroup_data.py && Rscript tests/r/make_subgroup_fixtures.R

Writes tests/fixtures/subgroups/<case>.csv with columns time, event, treated, cluster, weight,
subgroup (the level code, rows without a level left out, as core.subgroups.subgroup_table does):

* pairs.csv: default spec (landmark 6 months, 1:1), the patient's own metastasis group (pairs
  split across groups), cluster = matched pair;
* replace.csv: 1:2 matching with replacement, no caliper, the pancreatic procedure of the matched
  operated patient (controls split over procedures), weight = shared matching weight, cluster = patient;
* location.csv, oligo.csv: default spec, own tumour location / up to 3 liver metastases or more;
* ca19.csv: 1:3 matching with replacement (weighted, cluster = patient), own CA19-9 response (Lewis-negative left out);
* duration.csv: naive population, 1:2 with replacement, chemotherapy start to surgery of the
  matched set's operated patient (>= 8 months or less), weighted, cluster = patient;
* ypm.csv: default spec, ypM0 / ypM1 of the matched set's operated patient.

The CSV files are committed: the tests do not depend on the demo cohort staying the same.
"""

from __future__ import annotations

from pathlib import Path

from core import cohort
from core.dictionary import C
from core.estimators import ESTIMATORS, Context
from core.filters import apply_filters
from core.population import EVENT, TIME, TREATED
from core.spec import AnalysisSpec
from core.subgroups import CLUSTER, DIMENSIONS_BY_COLUMN, GROUP, WEIGHT, _analysis_frame, dimension_frame

OUT = Path("tests") / "fixtures" / "subgroups"
COLUMNS = [TIME, EVENT, TREATED, CLUSTER, WEIGHT, GROUP]

CASES: dict[str, tuple[AnalysisSpec, str]] = {
    "pairs": (AnalysisSpec(), C.METS_GROUP),
    "replace": (AnalysisSpec(ratio=2, replace=True, caliper=None), C.PANCREATIC_PROCEDURE),
    "location": (AnalysisSpec(), C.TUMOUR_LOCATION),
    "oligo": (AnalysisSpec(), C.LIVER_METS_N),
    "ca19": (AnalysisSpec(ratio=3, replace=True, caliper=None), C.CA19_9_RESPONSE),
    "duration": (AnalysisSpec(method="naive", ratio=2, replace=True, caliper=None), C.TIME_TO_SURGERY),
    "ypm": (AnalysisSpec(), C.LIVER_METS_VIABLE),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for case, (spec, column) in CASES.items():
        chosen = ESTIMATORS[spec.method](Context(apply_filters(cohort.demo().data, spec).data, spec))
        frame = _analysis_frame(chosen.sample, replace=spec.replace)
        rows, _ = dimension_frame(frame, DIMENSIONS_BY_COLUMN[column], chosen.match.pairs(), replace=spec.replace)
        rows[COLUMNS].to_csv(OUT / f"{case}.csv", index=False)


if __name__ == "__main__":
    main()
