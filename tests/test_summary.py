"""Tests of core.summary on a hand-made frame."""

from __future__ import annotations

import pandas as pd

from core.dictionary import Arm, C
from core.summary import arm_counts, centre_table


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        C.TREATMENT_GROUP: [Arm.SURGERY, Arm.SURGERY, Arm.SURGERY, Arm.CHEMOTHERAPY, Arm.CHEMOTHERAPY],
        C.CENTRE_ID: ["B", "A", "B", "C", "A"],
        C.OS_EVENT: pd.array([1, 0, None, 1, 1], dtype="Int64"),
    })


def test_arm_counts_by_hand():
    t = arm_counts(frame())
    assert t.index.tolist() == ["Surgery", "Chemotherapy", "Total"]
    assert t.columns.tolist() == ["Patients", "Centres", "Deaths"]
    assert t.loc["Surgery"].tolist() == [3, 2, 1]  # missing event counted as no death
    assert t.loc["Chemotherapy"].tolist() == [2, 2, 2]
    assert t.loc["Total"].tolist() == [5, 3, 3]


def test_arm_counts_with_an_empty_arm():
    t = arm_counts(frame().iloc[:3])
    assert t.loc["Chemotherapy"].tolist() == [0, 0, 0]


def test_centre_table_by_hand():
    t = centre_table(frame())
    assert t.index.name == "Centre"
    assert t.index.tolist() == ["A", "B", "C", "Total"]
    assert t.columns.tolist() == ["Surgery", "Chemotherapy", "Total"]
    assert t.loc["A"].tolist() == [1, 1, 2]
    assert t.loc["B"].tolist() == [2, 0, 2]
    assert t.loc["C"].tolist() == [0, 1, 1]
    assert t.loc["Total"].tolist() == [3, 2, 5]


def test_centre_table_one_arm_only():
    t = centre_table(frame().iloc[:3])
    assert t["Chemotherapy"].tolist() == [0, 0, 0]
