"""Tests of core.pathology: counts checked by hand on tiny frames; survival by pathology against R's survfit
(tests/fixtures/operated/reference.json, written by tests/r/make_operated_fixtures.R); the demo at n = 90."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import cohort
from core.dictionary import Arm, C
from core.pathology import (
    MISSING,
    NOT_ASSESSED,
    NOT_RESECTED,
    PCR,
    YPM0,
    YPM1,
    complete_response,
    pathology_table,
    suppress_pathology,
    survival_by_pathology,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "operated"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
S, CH = Arm.SURGERY, Arm.CHEMOTHERAPY


def _tiny() -> pd.DataFrame:
    rows = [  # margin, ypT, ypN, liver metastases viable
        ("R0", "T0", "N0", "no"),            # complete response
        ("R0", "T0", "N0", "not_assessed"),  # cannot tell
        ("R1", "T2", "N1", "yes"),           # residual tumour everywhere
        ("R0", "TX", "N0", "no"),            # cannot tell (T not assessable)
        ("R2", "T3", "NX", None),            # residual tumour (T3) though N and M unknown
        (None, None, None, "yes"),           # residual tumour in the liver
    ]
    df = pd.DataFrame(rows, columns=[C.MARGIN, C.YP_T, C.YP_N, C.LIVER_METS_VIABLE])
    df[C.TREATMENT_GROUP] = S
    chemo = pd.DataFrame({C.TREATMENT_GROUP: [CH, CH]})  # never counted
    return pd.concat([df, chemo], ignore_index=True)


def _counts(table: pd.DataFrame, variable: str) -> dict[str, int]:
    block = table[table["variable"] == variable]
    return dict(zip(block["level"], block["n"], strict=True))


def test_pathology_table_counts_by_hand():
    p = pathology_table(_tiny())
    t = p.table
    assert p.n_operated == 6
    assert _counts(t, C.MARGIN) == {"R0": 3, "R1": 1, "R2": 1, MISSING: 1}
    assert _counts(t, C.YP_T) == {"T0": 2, "Tis": 0, "T1": 0, "T2": 1, "T3": 1, "T4": 0, NOT_ASSESSED: 1, MISSING: 1}
    assert _counts(t, C.YP_N) == {"N0": 3, "N1": 1, "N2": 0, NOT_ASSESSED: 1, MISSING: 1}
    assert _counts(t, C.LIVER_METS_VIABLE) == {"no": 2, "yes": 2, NOT_ASSESSED: 1, MISSING: 1}
    assert _counts(t, PCR) == {"yes": 1, "no": 3, NOT_ASSESSED: 2, MISSING: 0}
    # every variable adds up to the operated patients
    assert (t.groupby("variable")["n"].sum() == 6).all()
    # percentages are of the assessed patients: margin 3/5, ypT0 2/4, ypM0 2/4, complete response 1/4
    pct = t.set_index(["variable", "level"])["percent"]
    assert pct[(C.MARGIN, "R0")] == pytest.approx(60.0)
    assert pct[(C.YP_T, "T0")] == pytest.approx(50.0)
    assert pct[(C.LIVER_METS_VIABLE, "no")] == pytest.approx(50.0)
    assert pct[(PCR, "yes")] == pytest.approx(25.0)
    assert math.isnan(pct[(C.YP_T, MISSING)])


def test_complete_response_three_valued_by_hand():
    assert complete_response(_tiny().iloc[:6]).tolist() == ["yes", NOT_ASSESSED, "no", NOT_ASSESSED, "no", "no"]


def test_display_uses_dictionary_labels_and_percentages():
    shown = pathology_table(_tiny()).display()
    assert shown.columns.tolist() == ["Variable", "Category", "Patients, n (%)"]
    first = shown.iloc[0].tolist()
    assert first == ["Resection margin", "R0 (no tumour within 1 mm of the margin)", "3 (60.0%)"]
    assert "ypM0 (no viable tumour)" in shown["Category"].tolist()
    assert "Complete pathological response" in shown["Variable"].tolist()
    # the variable name is written once, on its first row
    assert shown["Variable"].tolist().count("Resection margin") == 1


def test_suppression_hides_small_counts_and_a_complement_per_variable():
    df = pd.DataFrame({C.TREATMENT_GROUP: [S] * 40, C.MARGIN: ["R0"] * 25 + ["R1"] * 12 + ["R2"] * 3})
    t = pathology_table(df, k=11).table
    margin = t[t["variable"] == C.MARGIN].set_index("level")
    # R2 = 3 is small; the smallest other non-zero count of the margin (R1 = 12) is hidden so that 40 - 25 - 12
    # cannot give it away; the missing count 0 stays
    assert margin["suppressed"].to_dict() == {"R0": "", "R1": "*", "R2": "<11", MISSING: ""}
    assert np.isnan(margin.loc["R2", "n"]) and np.isnan(margin.loc["R2", "percent"])
    shown = pathology_table(df, k=11).display()
    assert shown["Patients, n (%)"].tolist()[:3] == ["25 (62.5%)", "*", "<11"]


def test_suppress_pathology_without_small_counts_changes_nothing():
    t = pathology_table(pd.DataFrame({C.TREATMENT_GROUP: [S] * 30, C.MARGIN: ["R0"] * 15 + ["R1"] * 15})).table
    out = suppress_pathology(t, k=11)
    assert (out["suppressed"] == "").all()
    assert out["n"].tolist() == t["n"].tolist()


# ----------------------------------------------------------------------------- survival by pathology
def _landmark_frame() -> pd.DataFrame:
    rows = [  # arm, OS from chemo start, event, chemo start to surgery, liver metastases viable
        (S, 30.0, 1, 4.0, "no"),       # ypM0, 24 months after the 6-month landmark
        (S, 18.0, 0, 5.0, "no"),       # ypM0, censored at 12
        (S, 20.0, 1, 5.5, "yes"),      # ypM1, 14
        (S, 16.0, 1, 3.0, "not_assessed"),  # resected by 6, ypM unknown: left out
        (S, 40.0, 0, 9.0, "no"),       # operated after the landmark: not resected at 6, 34 censored
        (S, 5.0, 1, 4.0, "yes"),       # died before the landmark
        (CH, 12.0, 1, None, None),     # not resected, 6
        (CH, 6.0, 1, None, None),      # died exactly at the landmark: not alive after it
    ]
    return pd.DataFrame(rows, columns=[C.TREATMENT_GROUP, C.OS_FROM_CHEMO, C.OS_EVENT, C.TIME_TO_SURGERY,
                                       C.LIVER_METS_VIABLE])


def test_survival_by_pathology_groups_and_exclusions_by_hand():
    r = survival_by_pathology(_landmark_frame(), origin="chemo_start", landmark=6.0)
    assert r.excluded == {"died or censored before the landmark": 2,
                          "resected by the landmark, liver metastases not assessed or not recorded": 1,
                          "operated after the landmark (counted as not resected)": 1}
    groups = {g.group: g for g in r.by.groups}
    assert [g.group for g in r.by.groups] == [YPM0, YPM1, NOT_RESECTED]
    assert (groups[YPM0].n, groups[YPM0].events) == (2, 1)
    assert (groups[YPM1].n, groups[YPM1].events) == (1, 1)
    assert (groups[NOT_RESECTED].n, groups[NOT_RESECTED].events) == (2, 1)
    a = r.by.analysed
    assert sorted(a.loc[a["group"] == YPM0, "time"]) == [12.0, 24.0]  # clock restarted at the landmark
    assert sorted(a.loc[a["group"] == NOT_RESECTED, "time"]) == [6.0, 34.0]
    assert groups[YPM1].median == 14.0
    assert math.isnan(r.by.logrank_p)  # described, not compared
    assert "immortal time" in r.design


def _operated_cohort() -> pd.DataFrame:
    d = pd.read_csv(FIXTURES / "cohort.csv")
    for col in (C.ADJUVANT_CHEMO, C.MAJOR_HEPATECTOMY, C.CA19_9_RESPONSE, C.LEWIS_NEGATIVE):
        d[col] = d[col].astype("boolean")
    return d


def test_survival_by_pathology_equals_r_survfit():
    ref = REFERENCE["pathology"]
    r = survival_by_pathology(_operated_cohort(), origin="chemo_start", landmark=float(ref["landmark"]))
    assert r.excluded["died or censored before the landmark"] == ref["died_before"]
    assert r.excluded["resected by the landmark, liver metastases not assessed or not recorded"] == ref["unknown_ypm"]
    assert r.excluded["operated after the landmark (counted as not resected)"] == ref["operated_later"]
    km = ref["km"]
    summary = r.summary().set_index("group")
    for g, n, med, lo, up in zip(km["groups"], km["n"], km["median"], km["lower"], km["upper"], strict=True):
        assert summary.loc[g, "patients"] == n
        assert summary.loc[g, "median_months"] == pytest.approx(med, rel=1e-9)
        assert summary.loc[g, "median_lower_95"] == pytest.approx(lo, rel=1e-9)
        assert summary.loc[g, "median_upper_95"] == pytest.approx(up, rel=1e-9)


def test_demo_gives_answers_at_n_90():
    data = cohort.demo().data
    assert len(data) == 90
    t = pathology_table(data).table
    assert (t.groupby("variable")["n"].sum() == 45).all()
    r = survival_by_pathology(data, landmark=6.0)
    assert {g.group for g in r.by.groups} == {YPM0, YPM1, NOT_RESECTED}
    for g in r.by.groups:  # a median, or a plain reason why it is unreliable
        assert np.isfinite(g.median) or g.reason
    # a landmark before the first operation: only the not-resected group, said in a note
    early = survival_by_pathology(data, landmark=2.0)
    assert [g.group for g in early.by.groups] == [NOT_RESECTED]
    assert any(n.startswith("No patients (omitted)") for n in early.by.notes)


def test_validation():
    with pytest.raises(ValueError, match="liver_mets_viable"):
        survival_by_pathology(pd.DataFrame({C.TREATMENT_GROUP: [S]}))
    with pytest.raises(ValueError, match="landmark"):
        survival_by_pathology(_landmark_frame(), landmark=0.0)
    with pytest.raises(ValueError, match="treatment_group"):
        pathology_table(pd.DataFrame({C.MARGIN: ["R0"]}))
