"""Tests for core.subgroups.

Expected values come from R's ``survival`` 3.5.3 (tests/r/make_subgroup_fixtures.R on the matched
samples in tests/fixtures/subgroups/*.csv), from hand computations on small frames, and from
independent counts of the matched sample of :func:`core.analysis.run`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import cohort, guards
from core import subgroups as sg
from core.analysis import run
from core.dictionary import (
    C,
    Ca19Response,
    ChemoDuration,
    Location,
    MetsGroup,
    Oligo,
    Pancreatic,
    Resectability,
    Viable,
)
from core.population import EVENT, TIME, TREATED
from core.spec import AnalysisSpec

FIX = Path(__file__).resolve().parent / "fixtures" / "subgroups"
REF = json.loads((FIX / "reference.json").read_text())
RTOL = 1e-6
Z975 = 1.959963984540054

SPECS = [
    AnalysisSpec(),
    AnalysisSpec(method="naive"),
    AnalysisSpec(ratio=2),
    AnalysisSpec(ratio=2, replace=True, caliper=None),
    AnalysisSpec(method="time_dependent"),
]


#: Fixture cases (tests/r/export_subgroup_data.py): matched with replacement and weighted, or 1:1 pairs.
WEIGHTED = ("replace", "ca19", "duration")
CASES = ("pairs", "location", "oligo", "ypm", *WEIGHTED)


def _fixture_frame(case: str) -> pd.DataFrame:
    df = pd.read_csv(FIX / f"{case}.csv", dtype={sg.CLUSTER: str, sg.GROUP: str})
    # One row per patient in the 1:1 cases; with replacement the cluster is the patient.
    df[C.PATIENT_ID] = df[sg.CLUSTER] if case in WEIGHTED else [f"p{i}" for i in range(len(df))]
    return df


@pytest.fixture(scope="module")
def demo():
    return cohort.demo()


# ============================================================================ against R
@pytest.mark.parametrize("case", CASES)
def test_interaction_wald_matches_r(case):
    ref = REF[case]
    df = _fixture_frame(case)
    res = sg.interaction_wald(df, group=sg.GROUP, cluster=sg.CLUSTER, weights=sg.WEIGHT if case in WEIGHTED else None,
                              levels=ref["levels"])
    assert res.levels == tuple(ref["levels"])
    # The whole model, term by term in R's order (treated, group main effects, interactions).
    np.testing.assert_allclose(res.fit.coef, ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(res.fit.var, np.array(ref["var"]), rtol=RTOL, atol=1e-12)
    assert len(res.fit.terms) == len(ref["terms"])
    assert res.df == ref["df"]
    np.testing.assert_allclose(res.coef, ref["interaction_coef"], rtol=RTOL)
    np.testing.assert_allclose(res.var, np.array(ref["interaction_var"]), rtol=RTOL)
    assert res.chi2 == pytest.approx(ref["chi2"], rel=RTOL)
    assert res.p == pytest.approx(ref["p"], rel=RTOL)


def test_interaction_wald_does_not_depend_on_the_reference_level():
    ref = REF["pairs"]
    df = _fixture_frame("pairs")
    res = sg.interaction_wald(df, group=sg.GROUP, cluster=sg.CLUSTER, levels=list(reversed(ref["levels"])))
    assert res.chi2 == pytest.approx(ref["chi2"], rel=RTOL)


def test_fixture_levels_are_the_dimension_levels_in_order():
    # the R script names the levels by hand: they must be those of core.subgroups.DIMENSIONS
    columns = {"pairs": C.METS_GROUP, "replace": C.PANCREATIC_PROCEDURE, "location": C.TUMOUR_LOCATION,
               "oligo": C.LIVER_METS_N, "ca19": C.CA19_9_RESPONSE, "duration": C.TIME_TO_SURGERY,
               "ypm": C.LIVER_METS_VIABLE}
    for case, column in columns.items():
        assert tuple(REF[case]["levels"]) == sg.DIMENSIONS_BY_COLUMN[column].levels


@pytest.mark.parametrize("case", CASES)
def test_subgroup_estimates_match_r(case, monkeypatch):
    # Lower the reliability thresholds so every level is estimated and compared with R.
    monkeypatch.setattr(guards, "MIN_PATIENTS_PER_ARM", 1)
    monkeypatch.setattr(guards, "MIN_EVENTS_PER_ARM", 1)
    df = _fixture_frame(case)
    for level, r in REF[case]["subgroups"].items():
        row = sg._estimate_row(df.loc[df[sg.GROUP] == level], weighted=case in WEIGHTED)
        assert row["reliable"], row["reason"]
        assert math.log(row["hr"]) == pytest.approx(r["coef"], rel=RTOL)
        assert math.log(row["upper"] / row["lower"]) / (2 * Z975) == pytest.approx(r["robust_se"], rel=RTOL)
        assert row["p"] == pytest.approx(r["p"], rel=RTOL)


# ============================================================================ reliability rule
def _toy(n_s: int, n_c: int, events_s: int, events_c: int) -> pd.DataFrame:
    """Independent pairs-free toy frame: times 1..n, the first ``events`` of each arm are deaths."""
    rows = []
    for arm, n, e in ((1, n_s, events_s), (0, n_c, events_c)):
        for i in range(n):
            rows.append({TIME: 1.0 + i + 0.5 * arm, EVENT: float(i < e), TREATED: float(arm),
                         C.PATIENT_ID: f"{arm}-{i}", sg.CLUSTER: f"{arm}-{i}", sg.WEIGHT: 1.0})
    return pd.DataFrame(rows)


def test_five_per_arm_with_three_events_each_is_enough():
    row = sg._estimate_row(_toy(5, 5, 3, 3), weighted=False)
    assert row["reliable"] and row["reason"] == ""
    assert np.isfinite(row["hr"]) and np.isfinite(row["p"])


@pytest.mark.parametrize(
    ("n_s", "n_c", "e_s", "e_c", "fragment"),
    [
        (3, 3, 2, 2, "only 3 operated patients and 2 deaths among them"),
        (12, 12, 2, 6, "only 2 deaths among the 12 operated patients"),
        (4, 10, 4, 5, "only 4 operated patients"),
        (10, 10, 6, 2, "only 2 deaths among the 10 chemotherapy-only patients"),
        (10, 10, 0, 6, "only 0 deaths among the 10 operated patients"),
        (0, 4, 0, 4, "no operated patients"),
    ],
)
def test_small_subgroup_has_no_estimate_and_says_why(n_s, n_c, e_s, e_c, fragment):
    row = sg._estimate_row(_toy(n_s, n_c, e_s, e_c), weighted=False)
    assert not row["reliable"]
    assert fragment in row["reason"]
    assert all(math.isnan(row[k]) for k in ("hr", "lower", "upper", "p"))
    assert (row["n_surgery"], row["n_chemotherapy"], row["events_surgery"], row["events_chemotherapy"]) == (
        n_s, n_c, e_s, e_c)


# ============================================================================ procedure: operated patient defines the set
def _hand_matched() -> tuple[pd.DataFrame, pd.DataFrame]:
    # a (PD) and c (DP) operated; b is a control operated after the landmark (own procedure DP),
    # d a chemotherapy patient.
    matched = pd.DataFrame({
        C.PATIENT_ID: ["a", "b", "c", "d"],
        TREATED: [1.0, 0.0, 1.0, 0.0],
        C.PANCREATIC_PROCEDURE: [Pancreatic.PD, Pancreatic.DP, Pancreatic.DP, None],
        "subclass": pd.array([1, 1, 2, 2], dtype="Int64"),
        sg.WEIGHT: [1.0, 1.0, 1.0, 1.0],
    }, index=["a", "b", "c", "d"])
    return matched, pd.DataFrame({"treated_id": ["a", "c"], "control_id": ["b", "d"]})


def test_controls_follow_their_operated_patient():
    matched, pairs = _hand_matched()
    out = sg._by_treated_unit(matched, pairs, C.PANCREATIC_PROCEDURE, replace=False)
    assert out.set_index(C.PATIENT_ID)[sg.GROUP].to_dict() == {
        "a": Pancreatic.PD, "b": Pancreatic.PD, "c": Pancreatic.DP, "d": Pancreatic.DP}


def test_with_replacement_a_shared_control_is_split_by_its_matches():
    matched, _ = _hand_matched()
    # 1:2 with replacement: a -> b; c -> b, d. b's matches count 1 (from a) and 1/2 (from c).
    pairs = pd.DataFrame({"treated_id": ["a", "c", "c"], "control_id": ["b", "b", "d"]})
    matched[sg.WEIGHT] = [1.0, 1.5, 1.0, 0.5]
    out = sg._by_treated_unit(matched, pairs, C.PANCREATIC_PROCEDURE, replace=True)
    got = {(r[C.PATIENT_ID], r[sg.GROUP]): r[sg.WEIGHT] for _, r in out.iterrows()}
    assert got == pytest.approx({("a", Pancreatic.PD): 1.0, ("c", Pancreatic.DP): 1.0, ("b", Pancreatic.PD): 1.0,
                                 ("b", Pancreatic.DP): 0.5, ("d", Pancreatic.DP): 0.5})


# ============================================================================ on the demo cohort
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.to_query_string() or "default")
def test_overall_row_is_the_main_matched_hazard_ratio(demo, spec):
    res = sg.subgroup_table(demo, spec)
    main = run(demo, spec)
    expected = main.hr if spec.method != "time_dependent" else main.methods.iloc[1]
    hr = expected.hr if spec.method != "time_dependent" else expected["HR"]
    overall = res.table.iloc[0]
    assert overall["dimension"] == "Overall"
    assert overall["hr"] == pytest.approx(hr, rel=1e-10)
    assert res.overall.hr == pytest.approx(hr, rel=1e-10)
    assert sg.EXPLORATORY in res.notes


@pytest.mark.parametrize("spec", SPECS[:4], ids=lambda s: s.to_query_string() or "default")
def test_counts_are_those_of_the_matched_sample(demo, spec):
    res = sg.subgroup_table(demo, spec)
    matched = run(demo, spec).match.matched
    for col, dim in ((C.METS_GROUP, "Metastasis group"), (C.RESECTABILITY, "Resectability")):
        rows = res.table[res.table["dimension"] == dim].set_index("subgroup")
        expected = pd.crosstab(matched[col].astype("object"), matched[TREATED])
        for level in expected.index:
            assert rows.loc[level, "n_surgery"] == expected.loc[level, 1.0]
            assert rows.loc[level, "n_chemotherapy"] == expected.loc[level, 0.0]
    # Procedure: the controls of each operated patient, counted from the list of pairs.
    m = run(demo, spec).match
    pairs = m.pairs()
    proc = matched[C.PANCREATIC_PROCEDURE].astype("object")
    pairs["proc"] = proc.reindex(pairs["treated_id"]).to_numpy()
    rows = res.table[res.table["dimension"] == "Pancreatic procedure"].set_index("subgroup")
    for level, part in pairs.groupby("proc"):
        assert rows.loc[level, "n_surgery"] == part["treated_id"].nunique()
        assert rows.loc[level, "n_chemotherapy"] == part["control_id"].nunique()


def test_replacement_split_keeps_each_controls_weight(demo):
    spec = AnalysisSpec(ratio=2, replace=True, caliper=None)
    m = run(demo, spec).match
    frame = sg._analysis_frame(m.matched, replace=True)
    expanded = sg._by_treated_unit(frame, m.pairs(), C.PANCREATIC_PROCEDURE, replace=True)
    per_patient = expanded.groupby(C.PATIENT_ID)[sg.WEIGHT].sum()
    np.testing.assert_allclose(per_patient.loc[frame[C.PATIENT_ID]].to_numpy(), frame[sg.WEIGHT].to_numpy())
    assert len(expanded) > len(frame)  # some controls were shared by operated patients of two procedures


def test_no_match_gives_an_empty_table_and_the_reason(demo):
    # Only operated patients of one centre against its few controls, with a tight caliper: no pair.
    res = sg.subgroup_table(demo, AnalysisSpec(centres=("C07",), caliper=0.05))
    assert res.table.empty and res.interactions.empty
    assert res.overall is not None and math.isnan(res.overall.hr) and not res.overall.reliable
    assert any(n.startswith("No matched comparison") for n in res.notes)


def test_unreliable_rows_and_interaction_tests_say_so(demo):
    res = sg.subgroup_table(demo, AnalysisSpec())
    t = res.table
    small = t[(t["n_surgery"] < guards.MIN_PATIENTS_PER_ARM) | (t["n_chemotherapy"] < guards.MIN_PATIENTS_PER_ARM)
              | (t["events_surgery"] < guards.MIN_EVENTS_PER_ARM)
              | (t["events_chemotherapy"] < guards.MIN_EVENTS_PER_ARM)]
    assert len(small) > 0
    assert not small["reliable"].any()
    assert small["hr"].isna().all() and small["p"].isna().all()
    assert small["reason"].str.len().gt(0).all()
    big = t[t["reliable"]]
    assert big["hr"].notna().all()
    inter = res.interactions.set_index("dimension")
    for dim, row in inter.iterrows():
        assert "exploratory" in row["note"]
        n_reliable = int(t[(t["dimension"] == dim) & t["reliable"]].shape[0])
        assert math.isnan(row["p"]) == (n_reliable < 2)


def test_interaction_test_uses_only_estimated_subgroups(demo):
    spec = AnalysisSpec(method="naive")
    res = sg.subgroup_table(demo, spec, dimensions=[C.RESECTABILITY])
    row = res.interactions.iloc[0]
    assert row["levels"] == f"{Resectability.RESECTABLE}, {Resectability.BORDERLINE}"
    assert row["df"] == 1 and 0 < row["p"] < 1


def test_dimensions_argument_selects_and_orders(demo):
    res = sg.subgroup_table(demo, AnalysisSpec(), dimensions=[C.METS_GROUP])
    assert res.table["subgroup"].tolist()[1:] == [lv for lv in MetsGroup.ALL
                                                   if lv in set(res.table["subgroup"])]
    assert set(res.table["dimension"]) == {"Overall", "Metastasis group"}


def test_event_free_survival_subgroups_count_events_not_deaths(demo):
    efs = sg.subgroup_table(demo, AnalysisSpec(endpoint="efs"))
    os_ = sg.subgroup_table(demo, AnalysisSpec())
    # every EFS event count is at least the death count of the same subgroup (deaths are EFS events too)
    merged = efs.table.merge(os_.table, on=["dimension", "subgroup"], suffixes=("_efs", "_os"))
    assert len(merged) > 3
    assert (merged["events_surgery_efs"] + merged["events_chemotherapy_efs"]
            > merged["events_surgery_os"] + merged["events_chemotherapy_os"]).any()
    assert efs.overall is not None and efs.overall.hr != os_.overall.hr


def test_invalid_arguments(demo):
    with pytest.raises(ValueError, match="unknown subgroup variable"):
        sg.subgroup_table(demo, AnalysisSpec(), dimensions=[C.AGE])
    with pytest.raises(ValueError, match="AnalysisSpec"):
        sg.subgroup_table(demo, {"ratio": 1})
    df = _fixture_frame("pairs")
    with pytest.raises(ValueError, match="two subgroup levels"):
        sg.interaction_wald(df.assign(**{sg.GROUP: "x"}), group=sg.GROUP, cluster=sg.CLUSTER)
    with pytest.raises(ValueError, match="not in the frame"):
        sg.interaction_wald(df, group="nope", cluster=sg.CLUSTER)
    with pytest.raises(ValueError, match="outside"):
        sg.interaction_wald(df, group=sg.GROUP, cluster=sg.CLUSTER, levels=[MetsGroup.ONE, MetsGroup.MORE])


# ============================================================================ the subgroups the papers use
def test_oligometastatic_is_up_to_three_liver_metastases():
    levels = sg.oligometastatic(pd.DataFrame({C.LIVER_METS_N: [1, 2, 3, 4, 12, np.nan]})).tolist()
    assert levels == [Oligo.OLIGO] * 3 + [Oligo.MORE] * 2 + [None]


def test_long_chemotherapy_starts_at_eight_months():
    levels = sg.chemotherapy_duration(pd.DataFrame({C.TIME_TO_SURGERY: [2.0, 7.999, 8.0, 14.5, np.nan]})).tolist()
    assert levels == [ChemoDuration.SHORT, ChemoDuration.SHORT, ChemoDuration.LONG, ChemoDuration.LONG, None]


def test_lewis_negative_patients_are_never_a_ca19_9_response_level():
    df = pd.DataFrame({C.CA19_9_RESPONSE: pd.array([True, False, True, False, pd.NA], dtype="boolean"),
                       C.LEWIS_NEGATIVE: pd.array([False, pd.NA, True, True, False], dtype="boolean")})
    assert sg.ca19_9_response(df).tolist() == [Ca19Response.YES, Ca19Response.NO, None, None, None]


def test_ypm_not_assessed_is_left_out():
    df = pd.DataFrame({C.LIVER_METS_VIABLE: [Viable.NO, Viable.YES, Viable.NOT_ASSESSED, None]})
    assert sg.ypm(df).tolist() == [Viable.NO, Viable.YES, None, None]


def test_ypm_and_chemotherapy_duration_follow_the_operated_patient():
    # a: ypM0 after 9 months of chemotherapy, b its control (own values ignored); c: not assessed, d its control.
    frame = pd.DataFrame({
        C.PATIENT_ID: ["a", "b", "c", "d"], TREATED: [1.0, 0.0, 1.0, 0.0],
        C.LIVER_METS_VIABLE: [Viable.NO, Viable.YES, Viable.NOT_ASSESSED, None],
        C.TIME_TO_SURGERY: [9.0, 3.0, 5.0, None],
        "subclass": pd.array([1, 1, 2, 2], dtype="Int64"), sg.WEIGHT: 1.0,
    }, index=["a", "b", "c", "d"])
    pairs = pd.DataFrame({"treated_id": ["a", "c"], "control_id": ["b", "d"]})
    rows, n_out = sg.dimension_frame(frame, sg.DIMENSIONS_BY_COLUMN[C.LIVER_METS_VIABLE], pairs, replace=False)
    assert rows.set_index(C.PATIENT_ID)[sg.GROUP].to_dict() == {"a": Viable.NO, "b": Viable.NO}
    assert n_out == 2
    rows, n_out = sg.dimension_frame(frame, sg.DIMENSIONS_BY_COLUMN[C.TIME_TO_SURGERY], pairs, replace=False)
    assert rows.set_index(C.PATIENT_ID)[sg.GROUP].to_dict() == {
        "a": ChemoDuration.LONG, "b": ChemoDuration.LONG, "c": ChemoDuration.SHORT, "d": ChemoDuration.SHORT}
    assert n_out == 0


NEW_DIMENSIONS = ("Tumour location", "Liver metastases", "CA19-9 response", "Chemotherapy before surgery",
                  "Resected metastases (ypM)")


def test_the_papers_subgroups_are_in_the_forest_plot_with_an_interaction_row(demo):
    res = sg.subgroup_table(demo, AnalysisSpec())
    dims = set(res.table["dimension"])
    assert set(NEW_DIMENSIONS) | {"Regimen"} <= dims
    assert set(NEW_DIMENSIONS) <= set(res.interactions["dimension"])
    labels = res.table.set_index("subgroup")["label"]
    assert labels[Location.HEAD] == "Tumour location: Head"
    assert labels[Viable.NO] == "Resected metastases (ypM): ypM0 (no viable tumour)"
    assert labels[Oligo.OLIGO] == "Liver metastases: Up to 3 (oligometastatic)"
    assert any(n == f"Resected metastases (ypM): {sg.AFTER_SURGERY}." for n in res.notes)


def test_own_value_counts_of_the_new_subgroups(demo):
    spec = AnalysisSpec()
    res = sg.subgroup_table(demo, spec)
    ids = run(demo, spec).match.matched[[C.PATIENT_ID, TREATED]]
    matched = ids.merge(demo.data.drop(columns=[TREATED], errors="ignore"), on=C.PATIENT_ID, how="left")
    n = matched[C.LIVER_METS_N].to_numpy(float)
    lewis = matched[C.LEWIS_NEGATIVE].astype("object").eq(True).to_numpy()
    resp = matched[C.CA19_9_RESPONSE].astype("object")
    expected = {
        ("Liver metastases", Oligo.OLIGO): n <= 3,
        ("Liver metastases", Oligo.MORE): n > 3,
        ("Tumour location", Location.BODY_TAIL): (matched[C.TUMOUR_LOCATION] == Location.BODY_TAIL).to_numpy(),
        ("CA19-9 response", Ca19Response.YES): resp.eq(True).to_numpy() & ~lewis,
        ("CA19-9 response", Ca19Response.NO): resp.eq(False).to_numpy() & ~lewis,
    }
    rows = res.table.set_index(["dimension", "subgroup"])
    treated = matched[TREATED].to_numpy(float) == 1
    for key, member in expected.items():
        assert rows.loc[key, "n_surgery"] == int((member & treated).sum()), key
        assert rows.loc[key, "n_chemotherapy"] == int((member & ~treated).sum()), key


def test_ypm_counts_follow_the_pairs(demo):
    spec = AnalysisSpec()
    res = sg.subgroup_table(demo, spec)
    m = run(demo, spec).match
    pairs = m.pairs()
    viable = demo.data.set_index(C.PATIENT_ID)[C.LIVER_METS_VIABLE].astype("object")
    pairs["ypm"] = viable.reindex(m.matched.loc[pairs["treated_id"], C.PATIENT_ID]).to_numpy()
    rows = res.table[res.table["dimension"] == "Resected metastases (ypM)"].set_index("subgroup")
    for level in (Viable.NO, Viable.YES):
        part = pairs[pairs["ypm"] == level]
        assert rows.loc[level, "n_surgery"] == part["treated_id"].nunique()
        assert rows.loc[level, "n_chemotherapy"] == part["control_id"].nunique()


def test_a_landmark_before_eight_months_says_why_there_is_no_long_chemotherapy_subgroup(demo):
    res = sg.subgroup_table(demo, AnalysisSpec(), dimensions=[C.TIME_TO_SURGERY])
    assert res.table["subgroup"].tolist() == ["All matched patients", ChemoDuration.SHORT]
    note = next(n for n in res.notes if n.startswith("Chemotherapy before surgery: no matched patient"))
    assert "'8 months or more'" in note and "landmark at 6 months" in note
    naive = sg.subgroup_table(demo, AnalysisSpec(method="naive"), dimensions=[C.TIME_TO_SURGERY])
    assert ChemoDuration.LONG in set(naive.table["subgroup"])
    assert not any("landmark at" in n for n in naive.notes)


def test_every_new_subgroup_with_enough_patients_has_an_estimate_at_n_90(demo):
    res = sg.subgroup_table(demo, AnalysisSpec())
    t = res.table[res.table["dimension"].isin(NEW_DIMENSIONS)]
    enough = ((t["n_surgery"] >= guards.MIN_PATIENTS_PER_ARM) & (t["n_chemotherapy"] >= guards.MIN_PATIENTS_PER_ARM)
              & (t["events_surgery"] >= guards.MIN_EVENTS_PER_ARM)
              & (t["events_chemotherapy"] >= guards.MIN_EVENTS_PER_ARM))
    assert enough.sum() >= 7
    assert t.loc[enough, "hr"].notna().all() and t.loc[enough, "reliable"].all()
    assert (t.loc[~enough, "reason"].str.len() > 0).all()


def test_suppression_links_nested_metastasis_levels():
    # Metastasis group 1 / 2-3 / >3 = 30 / 4 / 20: "2-3" hidden, then ">3" as the complement of its
    # variable. Without the link, "More than 3" (= ">3") shown in the other variable would give "2-3" away.
    t = pd.DataFrame({
        "dimension": ["Overall", "Metastasis group", "Metastasis group", "Metastasis group", "Liver metastases",
                      "Liver metastases"],
        "subgroup": ["All", MetsGroup.ONE, MetsGroup.TWO_THREE, MetsGroup.MORE, Oligo.OLIGO, Oligo.MORE],
        "n_surgery": [54, 30, 4, 20, 34, 20], "n_chemotherapy": [54, 30, 12, 12, 42, 12],
        "events_surgery": [40, 20, 15, 5, 35, 5], "events_chemotherapy": [40, 20, 12, 8, 32, 8]})
    out = sg.suppress_subgroup_counts(t, k=11).set_index("subgroup")
    assert out.loc[MetsGroup.TWO_THREE, "n_surgery"] == "<11"
    assert out.loc[Oligo.MORE, "n_surgery"] != 20  # ">3" is hidden as a complement: its twin must be too
    # Linked sets with a known sum (each variable with its total, and the nested levels): none holds
    # exactly one hidden cell, so no hidden count is a subtraction away.
    linked = [[MetsGroup.ONE, MetsGroup.TWO_THREE, MetsGroup.MORE], [Oligo.OLIGO, Oligo.MORE],
              [MetsGroup.ONE, MetsGroup.TWO_THREE, Oligo.OLIGO], [MetsGroup.MORE, Oligo.MORE]]
    for col in sg.COUNT_COLUMNS:
        hidden = {lv for lv in out.index if isinstance(out.loc[lv, col], str)}
        assert hidden or col == "n_chemotherapy", col
        for cells in linked:
            assert len(hidden & set(cells)) != 1, (col, cells, hidden)


def test_a_cohort_without_ypm_or_ca19_9_values_says_so_and_keeps_the_rest(demo):
    from types import SimpleNamespace

    data = demo.data.copy()
    data[C.LIVER_METS_VIABLE] = None
    data[C.CA19_9_RESPONSE] = pd.array([pd.NA] * len(data), dtype="boolean")
    res = sg.subgroup_table(SimpleNamespace(data=data), AnalysisSpec())
    assert not {"Resected metastases (ypM)", "CA19-9 response"} & set(res.table["dimension"])
    inter = res.interactions.set_index("dimension")
    assert "fewer than two subgroups" in inter.loc["Resected metastases (ypM)", "note"]
    everyone = int(res.table.loc[0, "n_surgery"] + res.table.loc[0, "n_chemotherapy"])  # no control is shared (1:1)
    assert any(n.startswith(f"Resected metastases (ypM): {everyone} matched patient(s) not assessed or not recorded")
               for n in res.notes)
    assert res.table.loc[res.table["dimension"] == "Tumour location", "hr"].notna().all()


def test_the_centre_choice_is_named_as_not_applied_to_subgroups():
    from core import cohort
    from core.spec import AnalysisSpec

    plain = sg.subgroup_table(cohort.demo(), AnalysisSpec())
    strata = sg.subgroup_table(cohort.demo(), AnalysisSpec(centre_model="strata"))
    assert not any("centre choice" in n for n in plain.notes)
    assert any(n.startswith("The centre choice of the main view (stratified by centre) is not applied here")
               for n in strata.notes)
    # subgroup rows keep the pair-clustered, unstratified model; the overall estimate follows the main view
    assert strata.table["hr"].tolist() == pytest.approx(plain.table["hr"].tolist(), nan_ok=True)
    assert strata.overall.hr != pytest.approx(plain.overall.hr)
