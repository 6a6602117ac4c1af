"""core/eligibility.py: criteria written out by hand on small frames, and their place in the flow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import analysis, cohort
from core.dictionary import Arm, C, Recist, Resectability
from core.eligibility import CRITERIA, PRESETS, criteria_masks, preset_of, removed_per_arm
from core.filters import apply_filters
from core.spec import AnalysisSpec

NAN = np.nan


def _frame() -> pd.DataFrame:
    # five patients chosen so that each criterion splits them differently
    return pd.DataFrame({
        C.TREATMENT_GROUP: [Arm.SURGERY, Arm.SURGERY, Arm.CHEMOTHERAPY, Arm.CHEMOTHERAPY, Arm.CHEMOTHERAPY],
        C.RESECTABILITY: [Resectability.RESECTABLE, Resectability.BORDERLINE, Resectability.LOCALLY_ADVANCED,
                          Resectability.RESECTABLE, None],
        C.LIVER_METS_N: [1, 3, 4, 6, NAN],
        C.ECOG: [0, 1, 2, 1, NAN],
        C.RECIST: [Recist.PR, Recist.SD, Recist.PD, Recist.NE, Recist.CR],
        C.CA19_9_BASELINE: [100.0, 100.0, 100.0, 100.0, NAN],
        C.CA19_9_RESTAGING: [120.0, 121.0, 50.0, 500.0, 10.0],
        C.LEWIS_NEGATIVE: [False, False, False, True, False],
        C.AGE: [18, 75, 76, 60, NAN],
    })


def _mask(key: str) -> list[bool]:
    ((_, m),) = criteria_masks(_frame(), (key,))
    return m.tolist()


@pytest.mark.parametrize("key, expected", [
    ("resectable_primary", [True, True, False, True, False]),
    ("mets_le3", [True, True, False, False, False]),       # missing count: not eligible
    ("mets_le5", [True, True, True, False, False]),
    ("ecog01", [True, True, False, True, False]),
    ("not_progressing", [True, True, False, False, True]),  # PD and not evaluable (incl. death before restaging) out
    ("ca19_9_not_rising", [True, False, True, True, False]),  # +20% is allowed, +21% not; Lewis-negative: not applied
    ("age_18_75", [True, True, False, True, False]),
])
def test_each_criterion_by_hand(key, expected):
    assert _mask(key) == expected


def test_presets_and_their_names():
    assert preset_of(PRESETS["sonar"][::-1]) == "sonar"  # order does not matter
    assert preset_of(("mets_le3", "ecog01")) is None and preset_of(()) is None
    assert set(PRESETS["sonar"]) == {"resectable_primary", "mets_le3", "ecog01", "not_progressing",
                                     "ca19_9_not_rising", "age_18_75"}
    assert all(set(p) <= set(CRITERIA) for p in PRESETS.values())
    with pytest.raises(ValueError, match="unknown"):
        criteria_masks(_frame(), ("nonsense",))


def test_removed_per_arm_counts_each_criterion_alone():
    removed = removed_per_arm(_frame())
    assert removed["mets_le3"] == (0, 3) and removed["not_progressing"] == (0, 2) and removed["age_18_75"] == (0, 2)


def test_each_criterion_is_a_flow_step_removing_patients_from_both_arms():
    demo = cohort.demo().data
    f = apply_filters(demo, AnalysisSpec(eligibility=("mets_le3", "not_progressing")))
    steps = [(s.description, s.n_surgery, s.n_chemotherapy) for s in f.steps]
    operated = demo[C.TREATMENT_GROUP] == Arm.SURGERY
    le3 = pd.to_numeric(demo[C.LIVER_METS_N]) <= 3
    ok = le3 & demo[C.RECIST].isin([Recist.CR, Recist.PR, Recist.SD])
    assert steps[1] == ("Eligible: Up to 3 liver metastases", int((le3 & operated).sum()), int((le3 & ~operated).sum()))
    assert steps[2][1:] == (int((ok & operated).sum()), int((ok & ~operated).sum()))
    assert f.n_chemotherapy < int((~operated).sum())  # controls are removed too


def test_sonar_like_keeps_the_demo_controls_a_trial_would_take():
    r = analysis.run(cohort.demo(), AnalysisSpec(eligibility=PRESETS["sonar"]))
    assert (r.filtered.n_surgery, r.filtered.n_chemotherapy) == (23, 12)  # 12 of 45 controls (issue 11)
    assert r.hr.estimated
    assert "Eligible at time zero (both arms): SONAR-like" in AnalysisSpec(eligibility=PRESETS["sonar"]).filters_in_words()
