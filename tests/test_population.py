"""Tests of core.population on hand-made data (every expected number worked out by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import survival
from core.dictionary import Arm, C
from core.population import EVENT, SURGERY_TIME, TIME, TREATED, counting_process, landmark_population, naive_population

S, K = Arm.SURGERY, Arm.CHEMOTHERAPY


def cohort() -> pd.DataFrame:
    """Times from chemotherapy start; diagnosis is 1 month earlier for everyone."""
    os_chemo = [20.0, 30.0, 4.0, 6.0, 12.0, 10.0, 3.0, 9.0]
    tts = [5.0, 8.0, np.nan, np.nan, np.nan, 6.0, 2.0, 3.0]  # "i" (chemotherapy) carries a stray surgery time
    return pd.DataFrame(
        {
            C.PATIENT_ID: list("abcdefgi"),
            C.TREATMENT_GROUP: [S, S, K, K, K, S, S, K],
            C.OS_FROM_CHEMO: os_chemo,
            C.OS_FROM_DIAGNOSIS: [t + 1 for t in os_chemo],
            C.OS_EVENT: [1, 0, 1, 0, 0, 1, 1, 1],
            C.TIME_TO_SURGERY: tts,
            C.TIME_DIAGNOSIS_TO_SURGERY: [t + 1 for t in tts],
            C.AGE: [50, 60, 70, 80, 55, 65, 75, 85],
        },
        index=[100, 101, 102, 103, 104, 105, 106, 107],
    )


def as_rows(pop, cols=(C.PATIENT_ID, TREATED, TIME, EVENT)):
    return [tuple(r) for r in pop.data[list(cols)].itertuples(index=False)]


def test_landmark_from_chemotherapy_start():
    pop = landmark_population(cohort(), origin="chemo_start", landmark=6.0)
    # c (died at 4), d (censored exactly at 6: not followed beyond L), g (postoperative death at 3) left out;
    # b operated at 8 > 6 counts as not operated; f operated exactly at L counts as operated;
    # i is a chemotherapy patient, a stray surgery time does not make it treated.
    assert as_rows(pop) == [
        ("a", 1.0, 14.0, 1.0), ("b", 0.0, 24.0, 0.0), ("e", 0.0, 6.0, 0.0), ("f", 1.0, 4.0, 1.0),
        ("i", 0.0, 3.0, 1.0),
    ]
    assert pop.data.index.tolist() == [100, 101, 104, 105, 107]
    assert pop.excluded == {"died or censored before the landmark": 3,
                            "operated after the landmark (counted as not operated)": 1}
    assert pop.data[SURGERY_TIME].tolist()[:2] == [5.0, 8.0]
    assert np.isnan(pop.data.loc[107, SURGERY_TIME])
    assert "6 months after chemo start" in pop.description
    assert pop.step == "Alive at the 6-month landmark"
    # original columns are carried along unchanged
    assert pop.data[C.AGE].tolist() == [50, 60, 55, 65, 85]


def test_landmark_from_diagnosis_uses_the_diagnosis_clocks():
    pop = landmark_population(cohort(), origin="diagnosis", landmark=6.0)
    # OS from diagnosis = 21, 31, 5, 7, 13, 11, 4, 10; surgery at 6, 9, -, -, -, 7, 3, -.
    assert as_rows(pop) == [
        ("a", 1.0, 15.0, 1.0), ("b", 0.0, 25.0, 0.0), ("d", 0.0, 1.0, 0.0), ("e", 0.0, 7.0, 0.0),
        ("f", 0.0, 5.0, 1.0), ("i", 0.0, 4.0, 1.0),
    ]
    assert pop.excluded == {"died or censored before the landmark": 2,
                            "operated after the landmark (counted as not operated)": 2}


def test_later_landmark_moves_patients_between_groups():
    pop = landmark_population(cohort(), origin="chemo_start", landmark=9.0)
    # alive beyond 9: a (20), b (30), e (12), f (10); i died at 9 exactly -> out
    assert as_rows(pop) == [("a", 1.0, 11.0, 1.0), ("b", 1.0, 21.0, 0.0), ("e", 0.0, 3.0, 0.0), ("f", 1.0, 1.0, 1.0)]
    assert pop.excluded["operated after the landmark (counted as not operated)"] == 0
    assert pop.excluded["died or censored before the landmark"] == 4


@pytest.mark.parametrize("landmark", [0.0, -1.0, float("nan")])
def test_landmark_must_be_positive(landmark):
    with pytest.raises(ValueError, match="positive"):
        landmark_population(cohort(), origin="chemo_start", landmark=landmark)


@pytest.mark.parametrize("fn", [naive_population, lambda d, origin: landmark_population(d, origin=origin, landmark=6)])
def test_unknown_origin(fn):
    with pytest.raises(ValueError, match="origin must be one of"):
        fn(cohort(), origin="surgery")


def test_naive_population_keeps_everyone_by_final_arm_without_moving_the_clock():
    df = cohort()
    df.loc[103, C.OS_FROM_CHEMO] = np.nan  # d has no survival time
    pop = naive_population(df, origin="chemo_start")
    assert as_rows(pop) == [
        ("a", 1.0, 20.0, 1.0), ("b", 1.0, 30.0, 0.0), ("c", 0.0, 4.0, 1.0), ("e", 0.0, 12.0, 0.0),
        ("f", 1.0, 10.0, 1.0), ("g", 1.0, 3.0, 1.0), ("i", 0.0, 9.0, 1.0),
    ]
    assert pop.excluded == {"no survival time": 1}
    assert "biased" in pop.description
    assert np.isnan(pop.data.loc[107, SURGERY_TIME])
    assert pop.data.loc[100, SURGERY_TIME] == 5.0
    diag = naive_population(cohort(), origin="diagnosis")
    assert diag.data[TIME].tolist() == [21.0, 31.0, 5.0, 7.0, 13.0, 11.0, 4.0, 10.0]


def test_populations_do_not_modify_the_input():
    df = cohort()
    before = df.copy()
    naive_population(df, origin="chemo_start")
    landmark_population(df, origin="chemo_start", landmark=6.0)
    pd.testing.assert_frame_equal(df, before)


# -- counting process ------------------------------------------------------------------------------

def test_counting_process_hand_episodes_with_covariates():
    pop = pd.DataFrame({
        TIME: [10.0, 5.0, 0.0, 7.0, 4.0],
        EVENT: [1.0, 0.0, 1.0, 1.0, 0.0],
        SURGERY_TIME: [4.0, np.nan, np.nan, 7.0, 0.0],
        TREATED: [1.0, 0.0, 0.0, 1.0, 1.0],  # the arm: replaced by the time-dependent flag
        C.PATIENT_ID: ["p", "q", "zero", "r", "s"],
        C.AGE: [61, 62, 63, 64, 65],
    }, index=[7, 8, 9, 10, 11])
    cp = counting_process(pop)
    got = cp[[C.PATIENT_ID, "start", "stop", "event", "treated", C.AGE]].values.tolist()
    assert got == [
        ["p", 0.0, 4.0, 0.0, 0.0, 61],  # unoperated until surgery, no event
        ["p", 4.0, 10.0, 1.0, 1.0, 61],  # operated afterwards, the death
        ["q", 0.0, 5.0, 0.0, 0.0, 62],  # never operated
        # "zero" (time 0) has no episode
        ["r", 0.0, 7.0, 1.0, 0.0, 64],  # operated at the time of death: never exposed
        ["s", 0.0, 4.0, 0.0, 1.0, 65],  # operated at the origin: exposed throughout
    ]
    assert TIME not in cp.columns and SURGERY_TIME not in cp.columns
    assert list(cp.columns[:5]) == ["row", "start", "stop", "event", "treated"]
    # row is the patient's position in the population passed in
    assert cp["row"].tolist() == [0, 0, 1, 3, 4]


def test_counting_process_agrees_with_split_at_surgery():
    rng = np.random.default_rng(4)
    n = 40
    time = rng.uniform(0.5, 30, n)
    surgery = np.where(rng.random(n) < 0.5, rng.uniform(0, 20, n), np.nan)
    event = (rng.random(n) < 0.7).astype(float)
    pop = pd.DataFrame({TIME: time, EVENT: event, SURGERY_TIME: surgery, "x": np.arange(n)})
    cp = counting_process(pop)
    ref = survival.split_at_surgery(time, event, surgery, ids=np.arange(n))
    np.testing.assert_array_equal(cp["row"].to_numpy(), ref["id"].to_numpy())
    for a, b in (("start", "start"), ("stop", "stop"), ("event", "event"), ("treated", C.SURGERY)):
        np.testing.assert_allclose(cp[a].to_numpy(float), ref[b].to_numpy(float))
    np.testing.assert_array_equal(cp["x"].to_numpy(), ref["id"].to_numpy())
    # each patient's episodes tile (0, time] and carry at most one event, on the last episode
    for i, g in cp.groupby("row"):
        assert g["start"].iloc[0] == 0 and g["stop"].iloc[-1] == pytest.approx(time[i])
        assert g["event"].iloc[:-1].sum() == 0 and g["event"].iloc[-1] == event[i]


def test_populations_and_propensity_frame_leave_the_callers_frame_untouched():
    """They work on shallow copies (no copy of the whole cohort): the input must not change."""
    from core import cohort
    from core.analysis import propensity_frame
    from core.spec import AnalysisSpec

    data = cohort.demo().data
    before = data.copy(deep=True)
    naive_population(data, origin="chemo_start")
    pop = landmark_population(data, origin="diagnosis", landmark=6.0).data
    pop_before = pop.copy(deep=True)
    propensity_frame(pop, AnalysisSpec().covariates)
    pd.testing.assert_frame_equal(data, before)
    pd.testing.assert_frame_equal(pop, pop_before)
