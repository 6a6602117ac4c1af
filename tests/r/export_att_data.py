"""Export the inputs of the ATT-weighting check for tests/r/make_att_fixtures.R.

Run from the repository root:
    PYTHONPATH=. python tests/r/export_att_data.py
    Rscript tests/r/make_att_fixtures.R

Writes tests/fixtures/att/data.json: for each case, the landmark population of the demo cohort as
``core.estimators.att_weighting`` analyses it (complete covariates), one row per patient: the
propensity model's design matrix (``core.design``: dummy columns, CA19-9 on the log scale, RECIST
as objective response; the design builder is checked against R's model.matrix elsewhere), the
arm, the survival time from the landmark and the event. The JSON is committed: the test does not
depend on the demo cohort staying the same.
"""

from __future__ import annotations

import json
from pathlib import Path

from core import cohort
from core.analysis import propensity_frame
from core.design import MIN_LEVEL_COUNT
from core.dictionary import PROPENSITY_COVARIATE_SETS, C
from core.estimators import Context
from core.population import EVENT, TIME, TREATED
from core.propensity import estimate_propensity
from core.spec import AnalysisSpec

OUT = Path("tests") / "fixtures" / "att"
#: The cases: the default view (Firth) and a 9-month landmark with the core covariates and glm.
CASES = {
    "default": AnalysisSpec(),
    "core_9_glm": AnalysisSpec(landmark_months=9.0, covariates=PROPENSITY_COVARIATE_SETS["Core"], propensity="glm"),
}


def case(spec: AnalysisSpec) -> dict:
    pop = Context(cohort.demo().data, spec).landmark.data
    frame, names = propensity_frame(pop, spec.covariates)
    model = estimate_propensity(frame, TREATED, names, method=spec.propensity, drop_constant=True,
                                min_level_count=MIN_LEVEL_COUNT)
    rows = frame.iloc[model.rows]
    return {
        "query": spec.to_query_string(), "method": spec.propensity,
        "x": {c: model.design.matrix[c].astype(float).tolist() for c in model.design.matrix.columns},
        "treated": rows[TREATED].astype(int).tolist(), "time": rows[TIME].astype(float).tolist(),
        "event": rows[EVENT].astype(int).tolist(), "id": rows[C.PATIENT_ID].astype(str).tolist(),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    body = {name: case(spec) for name, spec in CASES.items()}
    (OUT / "data.json").write_text(json.dumps(body, indent=None) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
