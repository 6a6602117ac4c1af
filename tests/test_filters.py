"""Tests of core.filters on a small hand-made frame (expected rows worked out by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.dictionary import (
    Arm,
    C,
    LiverProcedure,
    MetsGroup,
    Pancreatic,
    Recist,
    Regimen,
    Resectability,
    Setting,
    Timing,
)
from core.filters import FilterResult, apply_filters
from core.spec import AnalysisSpec

S, K = Arm.SURGERY, Arm.CHEMOTHERAPY


def frame() -> pd.DataFrame:
    """Rows s0-s3 operated, c0-c3 chemotherapy only; index labels deliberately not 0..n-1."""
    return pd.DataFrame(
        {
            C.PATIENT_ID: ["s0", "s1", "s2", "s3", "c0", "c1", "c2", "c3"],
            C.TREATMENT_GROUP: [S, S, S, S, K, K, K, K],
            C.PANCREATIC_PROCEDURE: [Pancreatic.PD, Pancreatic.DP, Pancreatic.PPPD, Pancreatic.TP, None, None, None, None],
            C.LIVER_SEGMENTS_N: [1, 3, 2, 4, None, None, None, None],
            C.LIVER_PROCEDURE: [LiverProcedure.WEDGE, LiverProcedure.HEMIHEPATECTOMY, LiverProcedure.SEGMENTECTOMY,
                                LiverProcedure.EXTENDED, None, None, None, None],
            C.LIVER_TIMING: [Timing.SIMULTANEOUS, Timing.STAGED, Timing.SIMULTANEOUS, Timing.STAGED,
                             None, None, None, None],
            C.METS_GROUP: pd.Categorical([MetsGroup.ONE, MetsGroup.TWO_THREE, MetsGroup.MORE, MetsGroup.ONE,
                                          MetsGroup.ONE, MetsGroup.TWO_THREE, MetsGroup.MORE, MetsGroup.TWO_THREE],
                                         categories=list(MetsGroup.ALL)),
            C.LIVER_METS_N: [1, 3, 5, 1, 1, 2, 8, 3],
            C.CHEMO_REGIMEN: [Regimen.FOLFIRINOX, Regimen.GEM, Regimen.FOLFIRINOX, Regimen.GEM_NABPAC,
                              Regimen.GEM, Regimen.FOLFIRINOX, Regimen.GEM_NABPAC, Regimen.FOLFIRINOX],
            C.CHEMO_SETTING: [Setting.NEOADJUVANT, Setting.PERIOPERATIVE, Setting.NEOADJUVANT, Setting.NEOADJUVANT,
                              Setting.PALLIATIVE, Setting.PALLIATIVE, Setting.PALLIATIVE, Setting.NEOADJUVANT],
            C.RECIST: [Recist.PR, Recist.SD, Recist.CR, Recist.PR, Recist.PD, Recist.SD, Recist.PR, Recist.NE],
            C.RESECTABILITY: [Resectability.RESECTABLE, Resectability.BORDERLINE, Resectability.RESECTABLE,
                              Resectability.BORDERLINE, Resectability.BORDERLINE, Resectability.RESECTABLE,
                              Resectability.LOCALLY_ADVANCED, Resectability.RESECTABLE],
            C.CENTRE_ID: ["A", "B", "A", "C", "A", "B", "C", "A"],
            C.AGE: [45, 60, 70, 80, 50, 65, 71, 59],
            C.CA19_9_BASELINE: [10.0, 500.0, np.nan, 100.0, 1000.0, 100.0, np.nan, 37.0],
            C.DIAGNOSIS_YEAR: [2015, 2018, 2020, 2022, 2016, 2019, 2021, 2023],
        },
        index=[10, 11, 12, 13, 20, 21, 22, 23],
    )


def ids(result: FilterResult) -> list[str]:
    return result.data[C.PATIENT_ID].tolist()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # surgery-arm filters: chemotherapy rows c0-c3 always kept
        (AnalysisSpec(pancreatic_procedures=(Pancreatic.PD, Pancreatic.PPPD)), ["s0", "s2", "c0", "c1", "c2", "c3"]),
        (AnalysisSpec(hepatectomy="major"), ["s1", "s3", "c0", "c1", "c2", "c3"]),
        (AnalysisSpec(hepatectomy="minor"), ["s0", "s2", "c0", "c1", "c2", "c3"]),
        (AnalysisSpec(liver_procedures=(LiverProcedure.WEDGE,)), ["s0", "c0", "c1", "c2", "c3"]),
        (AnalysisSpec(liver_timings=(Timing.STAGED,)), ["s1", "s3", "c0", "c1", "c2", "c3"]),
        # both-arm filters
        (AnalysisSpec(mets_groups=(MetsGroup.ONE,)), ["s0", "s3", "c0"]),
        (AnalysisSpec(mets_groups=(MetsGroup.TWO_THREE, MetsGroup.MORE)), ["s1", "s2", "c1", "c2", "c3"]),
        (AnalysisSpec(mets_min=2, mets_max=5), ["s1", "s2", "c1", "c3"]),
        (AnalysisSpec(mets_min=5), ["s2", "c2"]),
        (AnalysisSpec(mets_max=1), ["s0", "s3", "c0"]),
        (AnalysisSpec(regimens=(Regimen.GEM,)), ["s1", "c0"]),
        (AnalysisSpec(chemo_settings=(Setting.PALLIATIVE,)), ["c0", "c1", "c2"]),
        (AnalysisSpec(recist=(Recist.PR, Recist.CR)), ["s0", "s2", "s3", "c2"]),
        (AnalysisSpec(resectability_levels=(Resectability.LOCALLY_ADVANCED,)), ["c2"]),
        (AnalysisSpec(centres=("A",)), ["s0", "s2", "c0", "c3"]),
        (AnalysisSpec(age_min=60, age_max=71), ["s1", "s2", "c1", "c2"]),
        (AnalysisSpec(age_max=59), ["s0", "c0", "c3"]),
        # missing CA19-9 kept; 100 <= 100 kept
        (AnalysisSpec(ca19_9_max=100.0), ["s0", "s2", "s3", "c1", "c2", "c3"]),
        (AnalysisSpec(ca19_9_max=36.9), ["s0", "s2", "c2"]),
        (AnalysisSpec(year_min=2018, year_max=2021), ["s1", "s2", "c1", "c2"]),
        (AnalysisSpec(year_min=2022), ["s3", "c3"]),
    ],
)
def test_each_filter_keeps_the_rows_worked_out_by_hand(spec, expected):
    assert ids(apply_filters(frame(), spec)) == expected


def test_index_labels_are_kept():
    r = apply_filters(frame(), AnalysisSpec(regimens=(Regimen.GEM,)))
    assert r.data.index.tolist() == [11, 20]


def test_surgery_arm_filters_never_touch_the_chemotherapy_rows():
    spec = AnalysisSpec(pancreatic_procedures=(Pancreatic.TP,), hepatectomy="minor", liver_procedures=(LiverProcedure.WEDGE,),
                        liver_timings=(Timing.SIMULTANEOUS,))
    r = apply_filters(frame(), spec)
    # TP (s3) is major, so no operated patient is left; all four controls remain
    assert ids(r) == ["c0", "c1", "c2", "c3"]
    assert (r.n_surgery, r.n_chemotherapy) == (0, 4)


def test_filters_combine_with_and():
    spec = AnalysisSpec(pancreatic_procedures=(Pancreatic.PD, Pancreatic.DP), regimens=(Regimen.FOLFIRINOX,),
                        centres=("A", "B"))
    # PD/DP: s0, s1 + all controls; FOLFIRINOX: s0, c1, c3; centre A/B: s0, c1, c3
    assert ids(apply_filters(frame(), spec)) == ["s0", "c1", "c3"]


def test_steps_count_each_arm_after_each_active_filter():
    spec = AnalysisSpec(pancreatic_procedures=(Pancreatic.PD, Pancreatic.DP, Pancreatic.PPPD), mets_max=3,
                        ca19_9_max=200.0)
    r = apply_filters(frame(), spec)
    got = [(s.description, s.n_surgery, s.n_chemotherapy) for s in r.steps]
    assert got == [
        ("Cohort", 4, 4),
        ("Pancreatic procedure (surgery arm)", 3, 4),  # s3 (TP) out
        ("Number of metastases", 2, 3),  # s2 (5), c2 (8) out
        ("CA19-9 at baseline", 1, 2),  # s1 (500), c0 (1000) out
    ]
    assert (r.n_surgery, r.n_chemotherapy) == (1, 2)
    assert ids(r) == ["s0", "c1", "c3"]


def test_no_filter_gives_one_step_and_the_whole_table():
    df = frame()
    r = apply_filters(df, AnalysisSpec())
    assert len(r.steps) == 1 and (r.steps[0].n_surgery, r.steps[0].n_chemotherapy) == (4, 4)
    assert r.data.equals(df)


def test_every_active_filter_adds_one_step():
    spec = AnalysisSpec(
        pancreatic_procedures=tuple(Pancreatic.ALL), hepatectomy="major", liver_procedures=tuple(LiverProcedure.ALL),
        liver_timings=tuple(Timing.ALL), mets_groups=tuple(MetsGroup.ALL), mets_min=1, regimens=tuple(Regimen.ALL),
        chemo_settings=tuple(Setting.ALL), recist=tuple(Recist.ALL), resectability_levels=tuple(Resectability.ALL),
        centres=("A", "B", "C"), age_min=18, ca19_9_max=1e6, year_min=2000,
    )
    r = apply_filters(frame(), spec)
    assert len(r.steps) == 15
    # only the major-hepatectomy step removes anyone (s0, s2)
    assert [s.n_surgery for s in r.steps] == [4, 4, 2] + [2] * 12
    assert all(s.n_chemotherapy == 4 for s in r.steps)


def test_select_returns_only_present_columns_of_the_filtered_rows():
    df = frame()
    r = apply_filters(df, AnalysisSpec(centres=("B",)))
    sel = r.select([C.PATIENT_ID, C.AGE, "not_a_column", C.AGE])
    assert list(sel.columns) == [C.PATIENT_ID, C.AGE]
    assert sel[C.PATIENT_ID].tolist() == ["s1", "c1"]
    assert sel.index.tolist() == [11, 21]
    assert list(r.data.columns) == list(df.columns)
    pd.testing.assert_frame_equal(r.data[[C.PATIENT_ID, C.AGE]], sel)


def test_data_is_computed_once():
    r = apply_filters(frame(), AnalysisSpec(centres=("A",)))
    assert r.data is r.data


def test_empty_result():
    r = apply_filters(frame(), AnalysisSpec(centres=("nowhere",)))
    assert r.data.empty and list(r.data.columns) == list(frame().columns)
    assert (r.n_surgery, r.n_chemotherapy) == (0, 0)
    assert r.select([C.PATIENT_ID]).empty


def test_text_numbers_and_missing_segments():
    df = frame()
    df[C.LIVER_SEGMENTS_N] = ["1", "3", None, "x", None, None, None, None]
    # missing or unreadable segment count is neither major nor... it is not major, so it counts as minor
    assert ids(apply_filters(df, AnalysisSpec(hepatectomy="major"))) == ["s1", "c0", "c1", "c2", "c3"]


# -- option counts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [AnalysisSpec(), AnalysisSpec(regimens=(Regimen.FOLFIRINOX,), mets_groups=("1",)),
                                  AnalysisSpec(hepatectomy="minor", resectability_levels=(Resectability.RESECTABLE,))])
def test_option_counts_are_what_choosing_the_option_leaves(spec):
    from core import cohort
    from core.filters import CATEGORY_FILTERS, option_counts

    data = cohort.demo().data
    counts = option_counts(data, spec)
    assert set(counts) == set(CATEGORY_FILTERS) | {"hepatectomy"}
    for name, per_option in counts.items():
        surgery_only = name == "hepatectomy" or CATEGORY_FILTERS[name][2]
        for option, c in per_option.items():
            value = option if name == "hepatectomy" else (option,)
            chosen = apply_filters(data, spec.replace_(**{name: value}))
            assert c.n_surgery == chosen.n_surgery, (name, option)
            if not surgery_only:
                assert c.n_chemotherapy == chosen.n_chemotherapy, (name, option)
    # options absent from the data are listed with zero counts (regimens the demo has not)
    assert counts["regimens"][Regimen.NALIRIFOX].n_surgery == counts["regimens"][Regimen.NALIRIFOX].n_chemotherapy == 0
