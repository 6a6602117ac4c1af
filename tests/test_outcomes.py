"""Tests of core.outcomes: hand-computed small data, lifelines as an independent check, R (survival::coxph and
survfit, tests/fixtures/operated/reference.json from tests/r/make_operated_fixtures.R), demo smoke tests."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.dictionary import Arm, C, MetsGroup, Pancreatic, Regimen
from core.export import COMPLEMENTARY
from core.outcomes import (
    ADJUVANT_NO,
    ADJUVANT_YES,
    DEFAULT_PROGNOSTIC_COVARIATES,
    ENDPOINTS,
    GROUPINGS,
    adjuvant_landmark,
    cutoffs_from_text,
    cutoffs_text,
    prognostic_cox,
    short_term_outcomes,
    suppress_short_term,
    survival_by,
)

S, CH = Arm.SURGERY, Arm.CHEMOTHERAPY


# ----------------------------------------------------------------------------- survival_by
def _surv_frame() -> pd.DataFrame:
    rows = [
        # surgery, metastasis group 1: times 6 (event), 18 (censored), 30 (event), 40 (censored)
        (S, 6.0, 1, MetsGroup.ONE), (S, 18.0, 0, MetsGroup.ONE), (S, 30.0, 1, MetsGroup.ONE), (S, 40.0, 0, MetsGroup.ONE),
        # surgery, 2-3: all events at 2, 4, 8, 10
        (S, 2.0, 1, MetsGroup.TWO_THREE), (S, 4.0, 1, MetsGroup.TWO_THREE), (S, 8.0, 1, MetsGroup.TWO_THREE),
        (S, 10.0, 1, MetsGroup.TWO_THREE),
        # surgery with a missing group
        (S, 5.0, 1, None),
        # chemotherapy rows: no RFS (their PFS must never be used)
        (CH, None, None, MetsGroup.ONE), (CH, None, None, MetsGroup.MORE),
    ]
    df = pd.DataFrame(rows, columns=[C.TREATMENT_GROUP, C.RFS_MONTHS, C.RFS_EVENT, C.METS_GROUP])
    df[C.PFS_MONTHS] = [np.nan] * 9 + [1.0, 2.0]
    df[C.PFS_EVENT] = [np.nan] * 9 + [1, 1]
    return df


def test_survival_by_hand_km_medians_and_years():
    res = survival_by(_surv_frame(), "rfs", C.METS_GROUP)
    assert [g.group for g in res.groups] == [MetsGroup.ONE, MetsGroup.TWO_THREE]
    one, two = res.groups
    assert (one.n, one.events, two.n, two.events) == (4, 2, 4, 4)
    # KM by hand: group 1 S = 3/4 after 6, then 3/4 * 1/2 = 0.375 after 30 -> median 30
    assert one.median == 30.0
    assert one.at_times["survival"].tolist() == pytest.approx([0.75, 0.75, 0.375])
    # group 2-3: S = 0.5 exactly from 4 to 8 -> median is the midpoint 6 (R's rule)
    assert two.median == 6.0
    assert two.at_times["survival"].tolist() == pytest.approx([0.0, 0.0, 0.0])
    summary = res.summary.set_index("group")
    assert summary.loc[MetsGroup.ONE, "survival_36"] == pytest.approx(0.375)
    assert summary.loc[MetsGroup.TWO_THREE, "n"] == 4
    assert res.n_missing == 1
    assert any("1 operated patient(s) left out" in n for n in res.notes)
    assert any(n.startswith("No patients (omitted): >3") for n in res.notes)


def test_survival_by_flags_small_groups_and_logrank_is_exploratory():
    from lifelines.statistics import logrank_test

    res = survival_by(_surv_frame(), "rfs", C.METS_GROUP)
    assert not res.groups[0].reliable
    assert res.groups[0].reason == "only 4 patients (fewer than 10) and only 2 events (fewer than 5)"
    assert res.groups[1].reason == "only 4 patients (fewer than 10) and only 4 events (fewer than 5)"
    lr = logrank_test([6, 18, 30, 40], [2, 4, 8, 10], [1, 0, 1, 0], [1, 1, 1, 1])
    assert res.logrank_p == pytest.approx(lr.p_value, rel=1e-9)
    assert res.logrank_note.startswith("Exploratory")


def test_survival_by_curve_stops_below_min_at_risk():
    res = survival_by(_surv_frame(), "rfs", C.METS_GROUP, min_at_risk=3)
    # group 1 at risk: 4 at 6, 3 at 18, 2 at 30, 1 at 40
    assert res.groups[0].curve["time"].tolist() == [6.0, 18.0]
    assert res.groups[0].km["time"].tolist() == [6.0, 18.0, 30.0, 40.0]


def test_survival_by_single_group_has_no_p_value():
    df = _surv_frame()
    df = df[df[C.METS_GROUP] == MetsGroup.ONE]
    res = survival_by(df, "rfs", C.METS_GROUP)
    assert len(res.groups) == 1
    assert np.isnan(res.logrank_p)
    assert res.logrank_note == "No log-rank test: only one group has patients."


def test_survival_by_os_from_surgery_and_boolean_groups():
    df = pd.DataFrame({C.TREATMENT_GROUP: [S] * 4 + [CH],
                       C.OS_FROM_SURGERY: [1.0, 2.0, 3.0, 4.0, np.nan], C.OS_EVENT: [1, 1, 1, 0, 1],
                       C.MAJOR_HEPATECTOMY: pd.array([True, False, True, False, pd.NA], dtype="boolean")})
    res = survival_by(df, "os_from_surgery", C.MAJOR_HEPATECTOMY)
    assert [(g.group, g.n, g.events) for g in res.groups] == [("Minor hepatectomy", 2, 1), ("Major hepatectomy", 2, 2)]
    assert res.n_missing == 0  # the chemotherapy row is not an operated patient


def test_survival_by_validation():
    with pytest.raises(ValueError, match="endpoint"):
        survival_by(_surv_frame(), "pfs", C.METS_GROUP)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not in data"):
        survival_by(_surv_frame(), "rfs", C.CHEMO_REGIMEN)


# ----------------------------------------------------------------------------- prognostic_cox
def _cox_frame(n: int = 40, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(45, 80, n)
    major = rng.random(n) < 0.4
    mets = rng.choice([MetsGroup.ONE, MetsGroup.TWO_THREE, MetsGroup.MORE], n)
    time = np.round(rng.exponential(20, n) * np.where(major, 0.6, 1.0), 2) + 0.1
    event = (rng.random(n) < 0.8).astype(int)
    return pd.DataFrame({C.TREATMENT_GROUP: S, C.AGE: pd.array(age, dtype="Int64"),
                         C.MAJOR_HEPATECTOMY: pd.array(major, dtype="boolean"), C.METS_GROUP: mets,
                         C.OS_FROM_SURGERY: time, C.OS_EVENT: event})


def test_prognostic_cox_agrees_with_lifelines_and_labels_terms():
    from lifelines import CoxPHFitter

    df = _cox_frame()
    res = prognostic_cox(df, "os_from_surgery", [C.AGE, C.MAJOR_HEPATECTOMY, C.METS_GROUP])
    assert res.fitted and res.reason is None
    assert res.table["label"].tolist() == ["Age (per 10 years)", "Major vs minor hepatectomy",
                                           "Metastases 2-3 vs 1", "Metastases >3 vs 1"]
    x = pd.DataFrame({"t": df[C.OS_FROM_SURGERY], "e": df[C.OS_EVENT],
                      "age10": df[C.AGE].astype(float) / 10, "major": df[C.MAJOR_HEPATECTOMY].astype(float),
                      "m23": (df[C.METS_GROUP] == MetsGroup.TWO_THREE).astype(float),
                      "m3": (df[C.METS_GROUP] == MetsGroup.MORE).astype(float)})
    ll = CoxPHFitter().fit(x, "t", "e")
    assert res.table["hr"].to_numpy() == pytest.approx(ll.hazard_ratios_.to_numpy(), rel=1e-5)
    assert res.table["se"].to_numpy() == pytest.approx(ll.standard_errors_.to_numpy(), rel=1e-4)
    assert res.n == 40 and res.n_events == int(df[C.OS_EVENT].sum()) and res.n_dropped == 0


def test_prognostic_cox_complete_case_and_events_per_parameter_warning():
    df = _cox_frame()
    df[C.MARGIN] = ["R0", "R1", "R2", None] * 10
    res = prognostic_cox(df, "os_from_surgery", [C.AGE, C.MARGIN, C.METS_GROUP])
    assert res.n_dropped == 10 and res.n == 30
    assert res.dropped_by[C.MARGIN] == 10
    assert res.table.loc["margin_not_r0", "label"] == "Margin R1/R2 vs R0"
    events = int(df.loc[df[C.MARGIN].notna(), C.OS_EVENT].sum())
    assert res.n_events == events
    assert events < 40  # 4 parameters need 40 events
    assert any(f"Only {events} events for 4 model parameters" in w for w in res.warnings)
    assert any("rule of thumb" in w for w in res.warnings)
    assert any("10 of 40 operated patients dropped" in w for w in res.warnings)


def test_prognostic_cox_separation_gives_a_reason():
    df = _cox_frame()
    df[C.OS_EVENT] = np.where(df[C.MAJOR_HEPATECTOMY].astype(bool), 0, 1)
    res = prognostic_cox(df, "os_from_surgery", [C.MAJOR_HEPATECTOMY])
    assert not res.fitted
    assert "could not be fitted" in res.reason and "monotone" in res.reason
    assert res.table.empty


def test_prognostic_cox_drops_constant_covariates_and_uses_surgery_only():
    df = _cox_frame()
    df[C.CHEMO_REGIMEN] = Regimen.FOLFIRINOX
    chemo = df.iloc[:5].copy()
    chemo[C.TREATMENT_GROUP] = CH
    res = prognostic_cox(pd.concat([df, chemo], ignore_index=True), "os_from_surgery", [C.AGE, C.CHEMO_REGIMEN])
    assert res.covariates == (C.AGE,)
    assert any("single value" in w for w in res.warnings)
    assert res.n == 40


def test_prognostic_cox_no_events():
    df = _cox_frame()
    df[C.OS_EVENT] = 0
    res = prognostic_cox(df, "os_from_surgery", [C.AGE])
    assert res.reason == "No events among the complete cases: the model cannot be fitted."


# ----------------------------------------------------------------------------- short-term outcomes
def _short_frame() -> pd.DataFrame:
    b = lambda *v: pd.array(list(v), dtype="boolean")  # noqa: E731
    return pd.DataFrame({
        C.TREATMENT_GROUP: [S] * 6 + [CH],
        C.PANCREATIC_PROCEDURE: [Pancreatic.PD, Pancreatic.PD, Pancreatic.DP, Pancreatic.DP, Pancreatic.TP,
                                 Pancreatic.PPPD, None],
        C.CLAVIEN_DINDO: ["0", "IIIa", "IIIb", "II", "V", "I", None],
        C.MAJOR_MORBIDITY: b(False, True, True, False, True, False, None),
        C.MAJOR_MORBIDITY_IIIB: b(False, False, True, False, True, False, None),
        C.CR_POPF: b(False, True, True, False, None, False, None),
        C.PHLF: ["none", "A", "B", None, "C", "none", None],
        C.MORTALITY_90D: b(False, False, None, False, True, False, None),
        C.REOPERATION: b(False, True, False, False, True, None, None),
        C.READMISSION: b(False, False, False, False, False, True, None),
        C.LENGTH_OF_STAY: pd.array([10, 20, 14, 16, 3, 8, None], dtype="Int64"),
    })


def test_short_term_outcomes_by_hand():
    t = short_term_outcomes(_short_frame())
    assert t.columns.tolist() == [Pancreatic.PD, Pancreatic.PPPD, Pancreatic.DP, Pancreatic.TP, "Overall"]
    assert t.loc["Major morbidity (Clavien-Dindo >= IIIa)"].tolist() == [
        "1/2 (50.0%)", "0/1 (0.0%)", "1/2 (50.0%)", "1/1 (100.0%)", "3/6 (50.0%)"]
    # POPF: total pancreatectomy excluded from the denominator
    assert t.loc["Clinically relevant POPF (B/C)", Pancreatic.TP] == "0/0 (–)"
    assert t.loc["Clinically relevant POPF (B/C)", "Overall"] == "2/5 (40.0%)"
    # 90-day mortality: one patient without 90 days of potential follow-up is left out
    assert t.loc["90-day mortality", "Overall"] == "1/5 (20.0%)"
    assert t.loc["PHLF, any grade (A-C)", "Overall"] == "3/5 (60.0%)"
    assert t.loc["PHLF grade B-C", "Overall"] == "2/5 (40.0%)"
    assert t.loc["Reoperation (90 days)", "Overall"] == "2/5 (40.0%)"
    assert t.loc["Readmission (90 days)", "Overall"] == "1/6 (16.7%)"
    assert t.loc["Clavien-Dindo V", "Overall"] == "1/6 (16.7%)"
    # LOS 3 8 10 14 16 20: median 12, Q1 8.5, Q3 15.5 (type 7)
    assert t.loc["Length of stay (days)", "Overall"] == "12 [8.5, 15.5] (n=6)"


def test_short_term_outcomes_iiib_option_and_long_format():
    t = short_term_outcomes(_short_frame(), by=None, major_threshold="IIIb")
    assert t.columns.tolist() == ["Overall"]
    assert t.loc["Major morbidity (Clavien-Dindo >= IIIb)", "Overall"] == "2/6 (33.3%)"
    lg = short_term_outcomes(_short_frame(), long=True)
    row = lg[(lg["group"] == "Overall") & (lg["outcome"] == "Clinically relevant POPF (B/C)")].iloc[0]
    assert (row["n"], row["N"], row["percent"]) == (2.0, 5.0, 40.0)
    los = lg[(lg["group"] == Pancreatic.PD) & (lg["outcome"] == "Length of stay (days)")].iloc[0]
    assert (los["median"], los["q1"], los["q3"]) == (15.0, 12.5, 17.5)
    with pytest.raises(ValueError, match="major_threshold"):
        short_term_outcomes(_short_frame(), major_threshold="IV")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- demo cohort
@pytest.fixture(scope="module")
def demo_data():
    from core import cohort

    if not cohort.DEMO_PATH.exists():
        pytest.skip("demo cohort not available")
    return cohort.demo().data


def test_demo_survival_by_every_grouping(demo_data):
    n_surgery = int((demo_data[C.TREATMENT_GROUP] == S).sum())
    for endpoint in ENDPOINTS:
        for g in GROUPINGS:
            res = survival_by(demo_data, endpoint, g)
            assert sum(cv.n for cv in res.groups) + res.n_missing == n_surgery
            assert all(cv.reliable == (cv.n >= 10 and cv.events >= 5) for cv in res.groups)


def test_demo_prognostic_cox_and_short_term(demo_data):
    res = prognostic_cox(demo_data)
    assert res.covariates  # something was fitted or a reason was given
    assert res.fitted or res.reason
    if res.fitted:
        assert (res.table["lower"] <= res.table["hr"]).all() and (res.table["hr"] <= res.table["upper"]).all()
    assert set(res.dropped_by) >= set(DEFAULT_PROGNOSTIC_COVARIATES)
    t = short_term_outcomes(demo_data)
    n_surgery = int((demo_data[C.TREATMENT_GROUP] == S).sum())
    assert t.loc["Clavien-Dindo 0", "Overall"].split(" ")[0].endswith(f"/{n_surgery}")


def test_display_tables():
    disp = survival_by(_surv_frame(), "rfs", C.METS_GROUP).display().set_index("Group")
    # group 1 at 12 months: S = 0.75, log-log limits by hand with Greenwood se sqrt(1/(4*3)):
    # exp(-exp(log(-log 0.75) -/+ 1.96 se / log 0.75)) = 0.128, 0.961
    assert disp.loc[MetsGroup.ONE, "1-year"] == "75% (13% to 96%)"
    assert disp.loc[MetsGroup.ONE, "Median, months (95% CI)"].startswith("30.0 (")
    assert disp.loc[MetsGroup.ONE, "Note"].startswith("unreliable: only 4 patients")
    res = prognostic_cox(_cox_frame(), "os_from_surgery", [C.AGE, C.MAJOR_HEPATECTOMY])
    d = res.display()
    hr, lo, up = res.table.iloc[0][["hr", "lower", "upper"]]
    assert d.iloc[0].tolist()[:2] == ["Age (per 10 years)", f"{hr:.2f} ({lo:.2f} to {up:.2f})"]


def test_cox_table_counts_per_level_and_sparse_level_warning():
    df = _cox_frame()
    res = prognostic_cox(df, "os_from_surgery", [C.AGE, C.METS_GROUP, C.MAJOR_HEPATECTOMY])
    row = res.table.loc["mets_group>3"]
    sel = df[C.METS_GROUP] == MetsGroup.MORE
    assert (row["n"], row["events"]) == (sel.sum(), df.loc[sel, C.OS_EVENT].sum())
    assert np.isnan(res.table.loc["age_per_10_years", "n"])
    major = df[C.MAJOR_HEPATECTOMY].astype(bool)
    assert res.table.loc[C.MAJOR_HEPATECTOMY, "n"] == major.sum()
    # a level with 3 patients is flagged
    df2 = df.copy()
    df2[C.METS_GROUP] = [MetsGroup.MORE] * 3 + [MetsGroup.ONE] * 37
    res2 = prognostic_cox(df2, "os_from_surgery", [C.METS_GROUP])
    assert any(w.startswith("Metastases >3 vs 1: only 3 patient(s)") for w in res2.warnings)


def test_risk_table_counts_time_at_least_t():
    res = survival_by(_surv_frame(), "rfs", C.METS_GROUP)
    rt = res.risk_table([0, 6, 12, 30])
    # group 1: times 6 18 30 40 -> 4, 4, 3, 2; group 2-3: 2 4 8 10 -> 4, 2, 0, 0
    assert rt.to_numpy().tolist() == [[4, 4, 3, 2], [4, 2, 0, 0]]
    assert rt.index.tolist() == [MetsGroup.ONE, MetsGroup.TWO_THREE]
    assert set(res.curves) == {MetsGroup.ONE, MetsGroup.TWO_THREE} and res.medians[MetsGroup.ONE] == 30.0


# ----------------------------------------------------------------------------- short-term suppression
def _st_long(rows):
    return pd.DataFrame(rows, columns=["group", "outcome", "n", "N", "percent"])


def test_short_term_suppression_grades_and_major_morbidity_by_hand():
    from core.dictionary import ClavienDindo as CD

    grade_ii, grade_iiia = CD.ALL[2], CD.MAJOR[0]
    major = f"Major morbidity (Clavien-Dindo >= {grade_iiia})"
    lg = _st_long([
        ("A", f"Clavien-Dindo {CD.NONE}", 25, 40, 62.5), ("A", f"Clavien-Dindo {grade_ii}", 12, 40, 30.0),
        ("A", f"Clavien-Dindo {grade_iiia}", 3, 40, 7.5), ("A", major, 3, 40, 7.5),
    ])
    out = suppress_short_term(lg, k=11)
    # IIIa (3) is small; grades add up to 40, so the smallest other non-zero grade (II, 12) is hidden too;
    # major morbidity = IIIa here: small itself
    assert out["suppressed"].tolist() == ["", COMPLEMENTARY, "<11", "<11"]
    assert out["n"].isna().tolist() == [False, True, True, True]
    assert out["percent"].isna().tolist() == [False, True, True, True]
    assert out.loc[0, "n"] == 25 and out.loc[0, "percent"] == 62.5


def test_short_term_suppression_complement_of_a_binary_outcome_and_across_groups():
    lg = _st_long([
        # 35 of 40 died: the 5 survivors are 40 - 35, so 35 is hidden
        ("Overall", "90-day mortality", 35, 40, 87.5),
        # groups add up to Overall: A (4) small, so the smaller of B (20) and Overall (24) is hidden
        ("A", "Reoperation (90 days)", 4, 40, 10.0), ("B", "Reoperation (90 days)", 20, 40, 50.0),
        ("Overall", "Reoperation (90 days)", 24, 80, 30.0),
        ("A", "Readmission (90 days)", 0, 40, 0.0),
    ])
    out = suppress_short_term(lg, k=11)
    assert out["suppressed"].tolist() == [COMPLEMENTARY, "<11", COMPLEMENTARY, "", ""]
    # nothing small: nothing changes but the new column
    same = suppress_short_term(lg, k=4)
    assert (same["suppressed"] == "").all()
    pd.testing.assert_frame_equal(same.drop(columns="suppressed"), lg.astype({"n": float, "percent": float}),
                                  check_dtype=False)


# ----------------------------------------------------------------------------- adjuvant chemotherapy, landmark
OPERATED = Path(__file__).resolve().parent / "fixtures" / "operated"
REFERENCE = json.loads((OPERATED / "reference.json").read_text())
R_TOL = 1e-6


def _fixture_cohort() -> pd.DataFrame:
    d = pd.read_csv(OPERATED / "cohort.csv")
    for col in (C.ADJUVANT_CHEMO, C.MAJOR_HEPATECTOMY, C.CA19_9_RESPONSE, C.LEWIS_NEGATIVE):
        d[col] = d[col].astype("boolean")
    return d


def _adjuvant_frame() -> pd.DataFrame:
    rows = [  # OS from surgery, OS event, RFS, RFS event, adjuvant
        (2.0, 1, 2.0, 1, True),     # died within 3 months
        (20.0, 1, 2.5, 1, False),   # recurrence within 3 months
        (2.9, 0, 2.9, 0, True),     # followed less than 3 months
        (24.0, 0, 3.0, 0, True),    # last scan at 3 months: recurrence status at the landmark unknown
        (10.0, 1, 6.0, 1, None),    # adjuvant not recorded
        (None, None, 6.0, 1, True),  # no survival time
        (15.0, 1, 9.0, 1, True),    # kept: OS 12 from the landmark, RFS 6
        (33.0, 0, 33.0, 0, False),  # kept: censored 30
    ]
    df = pd.DataFrame(rows, columns=[C.OS_FROM_SURGERY, C.OS_EVENT, C.RFS_MONTHS, C.RFS_EVENT, C.ADJUVANT_CHEMO])
    df[C.ADJUVANT_CHEMO] = df[C.ADJUVANT_CHEMO].astype("boolean")
    df[C.TREATMENT_GROUP] = S
    return pd.concat([df, pd.DataFrame({C.TREATMENT_GROUP: [CH]})], ignore_index=True)


def test_adjuvant_landmark_exclusions_and_clock_by_hand():
    r = adjuvant_landmark(_adjuvant_frame(), 3)
    assert r.n_operated == 8
    assert list(r.excluded.values()) == [1, 1, 1, 1, 1, 1]
    assert list(r.excluded) == ["follow-up time or event not recorded", "died within 3 months of surgery",
                                "recurrence within 3 months of surgery", "followed for 3 months or less",
                                "last scan 3 months or less after surgery (recurrence status at the landmark unknown)",
                                "adjuvant chemotherapy not recorded"]
    assert r.exclusions()["patients"].tolist() == [8, 1, 1, 1, 1, 1, 1, 2]
    a = r.by.analysed.sort_values("time")
    assert a["time"].tolist() == [12.0, 30.0] and a["group"].tolist() == [ADJUVANT_YES, ADJUVANT_NO]
    rfs = adjuvant_landmark(_adjuvant_frame(), 3, "rfs").by.analysed.sort_values("time")
    assert rfs["time"].tolist() == [6.0, 30.0]
    # one patient per group: no hazard ratio, the counts and a plain reason instead
    assert not r.estimated and np.isnan(r.hr)
    assert r.reason.startswith("only 1 adjuvant-treated patient and 1 death among them and only 1 no-adjuvant")
    assert r.in_words().startswith("No hazard ratio: only 1")
    assert "alive and free of recurrence 3 months after surgery" in r.estimand
    assert "1 month after" in adjuvant_landmark(_adjuvant_frame(), 1).estimand


@pytest.mark.parametrize("case", REFERENCE["adjuvant"], ids=lambda c: f"L{c['landmark']}-{c['endpoint']}")
def test_adjuvant_landmark_equals_r_coxph(case):
    r = adjuvant_landmark(_fixture_cohort(), case["landmark"], case["endpoint"])
    assert list(r.excluded.values()) == list(case["excluded"].values())
    assert r.counts.n == case["kept"]
    assert r.estimated, r.reason
    cox = case["cox"]
    assert math.log(r.hr) == pytest.approx(cox["coef"], rel=R_TOL)
    assert r.lower == pytest.approx(cox["lower"], rel=R_TOL)
    assert r.upper == pytest.approx(cox["upper"], rel=R_TOL)
    assert r.p == pytest.approx(cox["p"], rel=R_TOL)
    assert r.counts.events == cox["nevent"]
    km = case["km"]
    meds = {g.group: g.median for g in r.by.groups}
    for g, med in zip(km["groups"], km["median"], strict=True):
        assert meds[g] == pytest.approx(med, rel=1e-9)


def test_adjuvant_landmark_validation():
    with pytest.raises(ValueError, match="landmark"):
        adjuvant_landmark(_adjuvant_frame(), 0)
    with pytest.raises(ValueError, match="endpoint"):
        adjuvant_landmark(_adjuvant_frame(), 3, "pfs")
    with pytest.raises(ValueError, match="adjuvant_chemo"):
        adjuvant_landmark(_adjuvant_frame().drop(columns=[C.ADJUVANT_CHEMO]), 3)


def test_demo_adjuvant_landmark_gives_a_hazard_ratio_at_every_offered_landmark(demo_data):
    for landmark in (1, 2, 3, 4, 5, 6):
        for endpoint in ("os_from_surgery", "rfs"):
            r = adjuvant_landmark(demo_data, landmark, endpoint)
            assert r.estimated and 0 < r.lower < r.hr < r.upper, (landmark, endpoint, r.reason)
            assert r.counts.n + sum(r.excluded.values()) == 45


# ----------------------------------------------------------------------------- prognostic model choices vs R
_R_MODELS = {
    "default": (list(DEFAULT_PROGNOSTIC_COVARIATES), {}),
    "cutoffs": ([C.AGE, C.CA19_9_BASELINE, C.TUMOUR_SIZE, C.LIVER_METS_VIABLE, C.YP_N],
                {C.CA19_9_BASELINE: 100.0, C.TUMOUR_SIZE: 30.0}),
    "continuous_ca": ([C.CA19_9_BASELINE, C.MARGIN], {}),
}


@pytest.mark.parametrize("name", list(_R_MODELS))
def test_prognostic_cox_with_choices_equals_r_coxph(name):
    ref = REFERENCE["prognostic"][name]
    covs, cuts = _R_MODELS[name]
    r = prognostic_cox(_fixture_cohort(), "os_from_surgery", covs, cuts)
    assert r.fitted, r.reason
    assert list(r.table.index) == ref["terms"]  # every term of the model, in R's order and naming
    np.testing.assert_allclose(r.table["coef"], ref["coef"], rtol=R_TOL)
    np.testing.assert_allclose(r.table["se"], ref["se"], rtol=R_TOL)
    np.testing.assert_allclose(r.table["p"], ref["p"], rtol=R_TOL)
    np.testing.assert_allclose(r.table["lower"], ref["lower"], rtol=R_TOL)
    np.testing.assert_allclose(r.table["upper"], ref["upper"], rtol=R_TOL)
    assert (r.n, r.n_events, r.n_dropped) == (ref["n"], ref["nevent"], ref["dropped"])
    # the drops per variable: R counts the missing values of each model column
    assert r.missing["missing"].tolist()[1:] == list(ref["missing"].values())


def test_lewis_negative_ca19_9_is_missing_never_a_value():
    d = _fixture_cohort()
    d = d[d[C.TREATMENT_GROUP] == S]
    lewis = d[C.LEWIS_NEGATIVE].fillna(False).astype(bool)
    assert d.loc[lewis, C.CA19_9_BASELINE].notna().all() and lewis.sum() == 2  # they have a value in the file
    with_lewis = prognostic_cox(d, "os_from_surgery", [C.CA19_9_BASELINE, C.MARGIN])
    without = prognostic_cox(d[~lewis], "os_from_surgery", [C.CA19_9_BASELINE, C.MARGIN])
    np.testing.assert_allclose(with_lewis.table["coef"], without.table["coef"], rtol=1e-12)
    row = with_lewis.missing.set_index("variable").loc["CA19-9 baseline (U/mL)"]
    assert (row["missing"], row["lewis_negative_missing"]) == (3, 2)  # 1 not recorded + 2 Lewis-negative
    # the model without CA19-9 keeps them
    assert prognostic_cox(d, "os_from_surgery", [C.MARGIN]).n == with_lewis.n + 3


def test_missing_table_counts_by_hand():
    df = pd.DataFrame({C.TREATMENT_GROUP: [S] * 8, C.OS_FROM_SURGERY: [1.0, 2, 3, 4, 5, 6, 7, 8],
                       C.OS_EVENT: [1, 1, 1, 0, 1, 1, 0, 1],
                       C.TUMOUR_SIZE: [20.0, None, 40, 35, None, 10, 50, 25],
                       C.MARGIN: ["R0", None, "R1", "R0", "R1", None, "R0", "R1"]})
    r = prognostic_cox(df, "os_from_surgery", [C.TUMOUR_SIZE, C.MARGIN], {C.TUMOUR_SIZE: 30.0})
    m = r.missing.set_index("variable")
    assert m["missing"].to_dict() == {"Follow-up (time or event)": 0, "Tumour size (mm)": 2, "Resection margin": 2}
    # row 2 misses both; row 5 only the size; row 6 only the margin
    assert m["only_this_missing"].to_dict() == {"Follow-up (time or event)": 0, "Tumour size (mm)": 1,
                                                "Resection margin": 1}
    assert r.n_dropped == 3 and r.n == 5
    assert r.table["label"].tolist() == ["Tumour size >= 30 mm vs below", "Margin R1/R2 vs R0"]
    assert r.cutoffs == {C.TUMOUR_SIZE: 30.0}


def test_cutoff_validation_and_url_text():
    df = _surv_frame()
    with pytest.raises(ValueError, match="cannot be split"):
        prognostic_cox(df, "rfs", [C.METS_GROUP], {C.METS_GROUP: 2.0})
    with pytest.raises(ValueError, match="positive number"):
        prognostic_cox(df, "rfs", [C.METS_GROUP], {C.TUMOUR_SIZE: -1.0})
    cuts = {C.CA19_9_BASELINE: 100.0, C.AGE: None, C.TUMOUR_SIZE: 32.5}
    assert cutoffs_from_text(cutoffs_text(cuts)) == cuts
    assert cutoffs_from_text("nonsense;ca19_9_baseline:0;tumour_size_mm:inf") == {}
    assert cutoffs_from_text(None) == {}


def test_forest_table_hides_small_level_counts_only_with_k():
    df = pd.DataFrame({C.TREATMENT_GROUP: [S] * 30, C.OS_FROM_SURGERY: np.arange(1.0, 31.0),
                       C.OS_EVENT: [1, 0] * 15, C.AGE: np.random.default_rng(3).permutation(np.linspace(40, 80, 30)),
                       C.MARGIN: ["R1" if i in (0, 10, 20, 25) else "R0" for i in range(30)]})
    r = prognostic_cox(df, "os_from_surgery", [C.AGE, C.MARGIN])
    full = r.forest_table()
    assert full.loc["margin_not_r0", ["n", "events"]].tolist() == [4, 3]  # rows 0, 10, 20 have events, 25 not
    hidden = r.forest_table(k=5)
    assert hidden.loc["margin_not_r0", ["n", "events"]].isna().all()
    assert hidden["hr"].tolist() == full["hr"].tolist()
    assert r.forest_table(k=3).loc["margin_not_r0", ["n", "events"]].tolist() == [4, 3]
    assert np.isnan(hidden.loc["age_per_10_years", "n"])  # a continuous term has no count


def test_the_prognostic_and_adjuvant_models_carry_their_own_proportional_hazards_test():
    import numpy as np

    from core import cohort, outcomes
    from core.dictionary import Arm, C

    data = cohort.demo().data
    operated = data[data[C.TREATMENT_GROUP] == Arm.SURGERY]
    cox = outcomes.prognostic_cox(operated, "rfs")
    assert cox.fitted and cox.ph is not None
    np.testing.assert_allclose(np.exp(cox.ph.fit.coef), cox.table["hr"].to_numpy())  # the model shown is the one tested
    text = cox.ph_reading()
    assert text.startswith("Proportional hazards (scaled Schoenfeld residuals, as R cox.zph)")
    for term, p in cox.ph.table.drop(index="GLOBAL")["p"].items():
        assert (p < 0.05) == (f"(p = {p:.3f})" in text or (p < 0.001 and "(p < 0.001)" in text)), term
    adj = outcomes.adjuvant_landmark(operated, 3, "os_from_surgery")
    assert adj.estimated and adj.ph is not None
    assert np.exp(adj.ph.fit.coef[0]) == pytest.approx(adj.hr)
    assert adj.ph_reading().startswith("Proportional hazards")


def test_cea_enters_the_prognostic_model_at_the_upper_normal_limit_or_per_doubling():
    from lifelines import CoxPHFitter

    from core.outcomes import CUTOFF_DEFAULTS, PROGNOSTIC_CHOICES

    assert C.CEA_BASELINE in PROGNOSTIC_CHOICES and CUTOFF_DEFAULTS[C.CEA_BASELINE] == 5.0
    df = _cox_frame(n=60, seed=4)
    cea = np.round(np.exp(np.random.default_rng(9).normal(np.log(4.0), 1.0, 60)), 1)
    cea[[0, 1]] = [np.nan, 0.2]  # one missing (complete case), one below the log floor of 0.5 ng/mL
    lewis = pd.array([False] * 59 + [True], dtype="boolean")  # CEA is not CA19-9: a Lewis-negative patient keeps it
    df = df.assign(**{C.CEA_BASELINE: cea, C.LEWIS_NEGATIVE: lewis})
    cut = prognostic_cox(df, "os_from_surgery", [C.AGE, C.CEA_BASELINE], {C.CEA_BASELINE: 5.0})
    log = prognostic_cox(df, "os_from_surgery", [C.AGE, C.CEA_BASELINE])
    assert cut.fitted and log.fitted and cut.n == log.n == 59
    assert cut.table["label"].tolist()[1] == "CEA baseline >= 5 ng/mL vs below"
    assert log.table["label"].tolist()[1] == "CEA baseline (per doubling)"
    keep = ~np.isnan(cea)
    base = pd.DataFrame({"t": df[C.OS_FROM_SURGERY], "e": df[C.OS_EVENT], "age10": df[C.AGE].astype(float) / 10})[keep]
    for res, x in ((cut, (cea[keep] >= 5.0).astype(float)), (log, np.log2(np.maximum(cea[keep], 0.5)))):
        ll = CoxPHFitter().fit(base.assign(cea=x), "t", "e")
        assert res.table["hr"].to_numpy() == pytest.approx(ll.hazard_ratios_.to_numpy(), rel=1e-5)
