"""Tests of core.derive on small hand-made typed tables (expected values worked out by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.derive import derive, mets_group
from core.dictionary import DAYS_PER_MONTH, DERIVED, Arm, C, MetsGroup, Popf, Vital


def table(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {
        C.TREATMENT_GROUP: [Arm.SURGERY] * n,
        C.VITAL_STATUS: [Vital.ALIVE] * n,
        C.DIAGNOSIS_DATE: ["2020-01-01"] * n,
        C.CHEMO_START_DATE: ["2020-01-15"] * n,
        C.SURGERY_DATE: ["2020-07-01"] * n,
        C.LAST_IMAGING_DATE: ["2021-01-01"] * n,
        C.LAST_FOLLOWUP_DATE: ["2021-07-01"] * n,
        C.DEATH_DATE: [None] * n,
        C.PROGRESSION: [False] * n,
        C.PROGRESSION_DATE: [None] * n,
        C.LIVER_METS_N: [1] * n,
    }
    base.update(cols)
    d = pd.DataFrame(base)
    for c in (C.DIAGNOSIS_DATE, C.CHEMO_START_DATE, C.SURGERY_DATE, C.LAST_IMAGING_DATE, C.LAST_FOLLOWUP_DATE,
              C.DEATH_DATE, C.PROGRESSION_DATE):
        d[c] = pd.to_datetime(d[c])
    d[C.PROGRESSION] = d[C.PROGRESSION].astype("boolean")
    d[C.LIVER_METS_N] = d[C.LIVER_METS_N].astype("Int64")
    return d


def vals(s: pd.Series) -> list:
    return [None if pd.isna(v) else (bool(v) if isinstance(v, (bool, np.bool_)) else v) for v in s]


def test_mets_group_boundaries():
    s = pd.Series([1, 2, 3, 4, 50, None], dtype="Int64")
    assert mets_group(s).tolist() == [MetsGroup.ONE, MetsGroup.TWO_THREE, MetsGroup.TWO_THREE, MetsGroup.MORE,
                                      MetsGroup.MORE, None]


def test_output_columns_and_types():
    out = derive(table(**{C.LIVER_METS_N: [2]}))
    assert list(out.columns) == [c.name for c in DERIVED]
    assert str(out[C.SURGERY].dtype) == "Int64" and str(out[C.MAJOR_HEPATECTOMY].dtype) == "boolean"


def test_rfs_event_types():
    d = table(**{
        C.PROGRESSION: [True, False, False],
        C.PROGRESSION_DATE: ["2020-10-01", None, None],
        C.VITAL_STATUS: [Vital.DEAD, Vital.DEAD, Vital.ALIVE],
        C.DEATH_DATE: ["2021-03-01", "2021-03-01", None],
        C.LAST_FOLLOWUP_DATE: ["2021-03-01", "2021-03-01", "2021-07-01"],
    })
    out = derive(d)
    # 2020-07-01 -> 2020-10-01 = 92 days; -> death 2021-03-01 = 243 days; -> imaging 2021-01-01 = 184 days
    assert out[C.RFS_MONTHS].tolist() == pytest.approx([92 / DAYS_PER_MONTH, 243 / DAYS_PER_MONTH, 184 / DAYS_PER_MONTH])
    assert out[C.RFS_EVENT].tolist() == [1, 1, 0]
    # OS from surgery to death (243 d) or last follow-up 2021-07-01 (365 d)
    assert out[C.OS_FROM_SURGERY].tolist() == pytest.approx([243 / DAYS_PER_MONTH] * 2 + [365 / DAYS_PER_MONTH])


def test_pfs_only_for_chemotherapy_group():
    d = table(**{C.TREATMENT_GROUP: [Arm.CHEMOTHERAPY, Arm.SURGERY], C.SURGERY_DATE: [None, "2020-07-01"]})
    out = derive(d)
    # chemo start 2020-01-15 -> last imaging 2021-01-01 = 352 days
    assert out[C.PFS_MONTHS].iloc[0] == pytest.approx(352 / DAYS_PER_MONTH)
    assert np.isnan(out[C.PFS_MONTHS].iloc[1]) and np.isnan(out[C.RFS_MONTHS].iloc[0])
    assert vals(out[C.PFS_EVENT]) == [0, None] and vals(out[C.RFS_EVENT]) == [None, 0]
    assert np.isnan(out[C.TIME_TO_SURGERY].iloc[0])


def test_popf_and_morbidity():
    d = table(**{
        C.POPF: ["none", "BL", "B", "C", Popf.NOT_APPLICABLE, None],
        C.CLAVIEN_DINDO: ["0", "II", "IIIa", "IIIb", "V", None],
        C.LIVER_SEGMENTS_N: pd.array([0, 2, 3, 8, None, 1], dtype="Int64"),
    })
    out = derive(d)
    assert vals(out[C.CR_POPF]) == [False, False, True, True, None, None]
    assert vals(out[C.MAJOR_MORBIDITY]) == [False, False, True, True, True, None]
    assert vals(out[C.MAJOR_MORBIDITY_IIIB]) == [False, False, False, True, True, None]
    assert vals(out[C.MAJOR_HEPATECTOMY]) == [False, False, True, True, None, False]


def test_ca19_9_flags():
    d = table(**{
        C.CA19_9_BASELINE: [100.0, 100.0, 100.0, 0.0, np.nan, 100.0, 100.0],
        C.CA19_9_RESTAGING: [50.0, 50.1, 36.9, 0.0, 10.0, np.nan, 10.0],
        C.LEWIS_NEGATIVE: pd.array([False, None, False, False, False, False, True], dtype="boolean"),
    })
    out = derive(d)
    assert vals(out[C.CA19_9_RESPONSE]) == [True, False, True, None, None, None, None]
    # below 37: 50, 50.1 no; 36.9 yes; 0 yes; 10 yes; missing; Lewis-negative
    assert vals(out[C.CA19_9_NORMALISED]) == [False, False, True, True, True, None, None]


def test_mortality_90d():
    d = table(**{
        C.VITAL_STATUS: [Vital.DEAD, Vital.DEAD, Vital.ALIVE, Vital.ALIVE],
        C.DEATH_DATE: ["2020-09-29", "2020-09-30", None, None],  # surgery 2020-07-01: day 90 and day 91
        C.LAST_FOLLOWUP_DATE: ["2020-09-29", "2020-09-30", "2020-09-28", "2020-09-29"],
    })
    assert vals(derive(d)[C.MORTALITY_90D]) == [True, False, None, False]


def test_explored_not_resected():
    groups = [Arm.SURGERY, Arm.CHEMOTHERAPY, Arm.CHEMOTHERAPY, Arm.SURGERY]
    explored = pd.to_datetime(["2020-07-01", "2020-06-20", None, None])
    out = derive(table(**{C.TREATMENT_GROUP: groups, C.EXPLORATION_DATE: explored}))
    # chemotherapy group with an exploration date: explored, not resected; without one, or operated: no
    assert vals(out[C.EXPLORED_NOT_RESECTED]) == [False, True, False, False]
    none_recorded = derive(table(**{C.TREATMENT_GROUP: groups, C.EXPLORATION_DATE: pd.to_datetime([None] * 4)}))
    assert vals(none_recorded[C.EXPLORED_NOT_RESECTED]) == [None] * 4  # not collected: unknown, not "no"
    assert vals(derive(table(**{C.TREATMENT_GROUP: groups}))[C.EXPLORED_NOT_RESECTED]) == [None] * 4  # a 1.0 table
