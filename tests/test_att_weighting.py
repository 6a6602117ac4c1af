"""core.estimators.att_weighting (the specification curve's alternative to matching) against R.

Reference: tests/r/make_att_fixtures.R (brglm2 / glm propensity model on the exported design, ATT
weights, coxph(Surv(time, event) ~ treated, weights = w, robust = TRUE)); inputs written by
tests/r/export_att_data.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core import cohort
from core.estimators import Context, att_weighting
from core.spec import AnalysisSpec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "att"
DATA = json.loads((FIXTURES / "data.json").read_text())
REF = json.loads((FIXTURES / "att.json").read_text())


@pytest.mark.parametrize("case", ["default", "core_9_glm"])
def test_att_weighting_equals_r(case):
    spec = AnalysisSpec.from_query_string(DATA[case]["query"], strict=True)
    att = att_weighting(Context(cohort.demo().data, spec))
    ref = REF[case]
    sample = att.sample
    assert sample["patient_id"].tolist() == DATA[case]["id"]  # the same patients as exported
    np.testing.assert_allclose(sample["weights"].to_numpy(), ref["weights"], rtol=1e-8)
    est = att.estimate
    np.testing.assert_allclose([est.hr, est.lower, est.upper, est.p], [ref["hr"], ref["lower"], ref["upper"], ref["p"]],
                               rtol=1e-6)
    assert est.counts.n_surgery == sum(DATA[case]["treated"]) and est.n == len(DATA[case]["id"])


def test_att_weighting_keeps_every_patient_and_says_who_it_compares():
    att = att_weighting(Context(cohort.demo().data, AnalysisSpec(landmark_months=9.0)))
    assert att.key == "att_weighting" and att.label == "Landmark at 9 months, propensity-weighted (ATT)"
    assert att.arm_labels == {"surgery": "Operated by 9 months", "chemotherapy": "Not operated by 9 months"}
    assert "weighted by the odds of their propensity score" in att.estimand
    assert att.estimate.counted_in == "the weighted patients (complete covariates)"


def test_att_weighting_without_operated_patients_gives_the_reason():
    att = att_weighting(Context(cohort.demo().data, AnalysisSpec(landmark_months=3.0)))
    assert not att.estimate.estimated and att.sample is None
    assert att.estimate.reason == "no operated patients (at least 5 patients and 3 deaths in each arm are needed)"
    assert att.estimate.counted_in == "the patients alive at the 3-month landmark"
