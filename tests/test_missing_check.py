"""Tests of core.missing_check: the missing-at-random mechanism and the three handlings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import missing_check, synthetic
from core.dictionary import Arm, C


def test_values_go_missing_more_often_where_the_mechanism_says_and_nothing_else_changes():
    frame = synthetic.generate(n_surgery=400, n_chemotherapy=400, seed=9)
    holed = missing_check.make_missing(frame, seed=9)
    pd.testing.assert_frame_equal(holed.drop(columns=C.CA19_9_BASELINE), frame.drop(columns=C.CA19_9_BASELINE))
    kept = holed[C.CA19_9_BASELINE].notna()
    assert (holed.loc[kept, C.CA19_9_BASELINE] == frame.loc[kept, C.CA19_9_BASELINE]).all()
    newly = holed[C.CA19_9_BASELINE].isna() & frame[C.CA19_9_BASELINE].notna()
    chemo = pd.to_datetime(frame[C.CHEMO_START_DATE])
    early = ((pd.to_datetime(frame[C.DEATH_DATE]) - chemo).dt.days / 30.4375 < 12).fillna(False)
    surgery = frame[C.TREATMENT_GROUP] == Arm.SURGERY
    assert newly[early].mean() > newly[~early].mean() + 0.1  # depends on the observed outcome
    assert newly[~surgery].mean() > newly[surgery].mean()
    assert 0.15 < newly.mean() < 0.6


def test_the_three_handlings_run_on_the_same_cohort_and_imputation_keeps_more_patients():
    runs = missing_check.simulate(1, n_per_arm=45, seed=4)
    assert runs["method"].tolist() == list(missing_check.HANDLINGS)
    by = runs.set_index("method")
    assert np.isfinite(by["hr"]).all()
    assert by.loc["multiple imputation", "patients"] > by.loc["complete cases", "patients"]
    assert by.loc["full data (reference)", "hr"] != by.loc["multiple imputation", "hr"]
