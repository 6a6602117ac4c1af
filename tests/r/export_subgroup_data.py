"""Export two matched samples of the demo cohort for tests/r/make_subgroup_fixtures.R.

Run from the repository root (needs data/demo_cohort.parquet):
    python tests/r/export_subgroup_data.py && Rscript tests/r/make_subgroup_fixtures.R

Writes tests/fixtures/subgroups/{pairs,replace}.csv with columns time, event, treated, cluster,
weight, group:

* pairs.csv: default spec (landmark 6 months, 1:1, caliper 0.2), group = the patient's own
  metastasis group (pairs split across groups), cluster = matched pair;
* replace.csv: 1:2 matching with replacement, no caliper, group = the pancreatic procedure of
  the matched operated patient (controls split over procedures), weight = shared matching
  weight, cluster = patient.

The CSV files are committed: the tests do not depend on the demo cohort staying the same.
"""

from __future__ import annotations

from pathlib import Path

from core import cohort
from core.analysis import _matched_comparison
from core.dictionary import C
from core.filters import apply_filters
from core.population import EVENT, TIME, TREATED, landmark_population
from core.spec import AnalysisSpec
from core.subgroups import CLUSTER, GROUP, WEIGHT, _analysis_frame, _by_treated_unit

OUT = Path("tests") / "fixtures" / "subgroups"
COLUMNS = [TIME, EVENT, TREATED, CLUSTER, WEIGHT, GROUP]


def _matched(spec: AnalysisSpec):
    data = apply_filters(cohort.demo().data, spec).data
    pop = landmark_population(data, origin=spec.origin, landmark=spec.landmark_months)
    m, matched, _ = _matched_comparison(pop, spec, "export")
    return m, _analysis_frame(matched, replace=spec.replace)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _, frame = _matched(AnalysisSpec())
    frame[GROUP] = frame[C.METS_GROUP].astype("object")
    frame[COLUMNS].to_csv(OUT / "pairs.csv", index=False)

    spec = AnalysisSpec(ratio=2, replace=True, caliper=None)
    m, frame = _matched(spec)
    expanded = _by_treated_unit(frame, m.pairs(), C.PANCREATIC_PROCEDURE, replace=True)
    expanded[COLUMNS].to_csv(OUT / "replace.csv", index=False)


if __name__ == "__main__":
    main()
