"""core.speccurve: every specification is what core.analysis.run gives for it; the grid, the pins, the reasons."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import analysis, cohort, estimators, figures, speccurve
from core.dictionary import MetsGroup, Regimen
from core.estimators import Estimate
from core.spec import AnalysisSpec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "att"


@pytest.fixture(scope="module")
def demo():
    return cohort.demo()


@pytest.fixture(scope="module")
def default_curve(demo):
    return speccurve.run(demo, AnalysisSpec())


def _choices(table: pd.DataFrame) -> list[tuple]:
    return sorted(map(tuple, table[list(speccurve.DIMENSIONS)].to_numpy().tolist()))


def test_the_grid_has_every_combination_once(default_curve):
    t = default_curve.table
    assert default_curve.n_grid == len(t) == 4 * 3 * (2 * 2 + 1) + 3
    landmark = t[t["Immortal time"] == "Landmark"]
    assert len(landmark) == 60 and len(set(_choices(landmark))) == 60
    assert sorted(set(landmark["Landmark"])) == ["12 months", "3 months", "6 months", "9 months"]
    matched = landmark[landmark["Adjustment"] != "ATT weighting"]
    assert len(matched) == 48
    assert sorted(set(matched["Caliper"])) == ["0.2 SD", "none"]
    assert sorted(set(matched["Adjustment"])) == ["1:1 matching", "1:2 matching with replacement"]
    weighted = landmark[landmark["Adjustment"] == "ATT weighting"]
    assert len(weighted) == 12 and set(weighted["Caliper"]) == {"not used"} and set(weighted["settings"]) == {""}
    td = t[t["Immortal time"] == "Time-dependent Cox"]
    assert sorted(td["Covariates"]) == ["Core (4)", "Default (7)", "Extended (10)"]
    assert set(td["Landmark"]) == set(td["Caliper"]) == {"not used"} and set(td["Adjustment"]) == {"Cox regression"}
    assert "Naive (biased)" not in set(t["Immortal time"])


def _independent(demo, row) -> Estimate:
    """The row's estimate computed without core.speccurve: its view (core.analysis.run), or for a weighted row
    core.estimators.att_weighting on the landmark view of the same settings."""
    if row.settings:
        return analysis.run(demo, AnalysisSpec.from_query_string(row.settings, strict=True)).hr
    sp = speccurve.grid(AnalysisSpec())[row.grid_index]
    assert sp.weighting and (f"{sp.spec.landmark_months:g} months", sp.spec.method) == (row.Landmark, "landmark")
    return estimators.att_weighting(estimators.Context(demo.data, sp.spec)).estimate


def test_every_row_is_the_hazard_ratio_of_its_own_view(demo, default_curve):
    """Each matched or time-dependent row's settings, opened as a view, give exactly the row's numbers."""
    for row in default_curve.table.itertuples():
        est = _independent(demo, row)
        if row.estimable:
            assert (row.HR, row.lower, row.upper, row.p) == (est.hr, est.lower, est.upper, est.p)
            assert (row.patients_surgery, row.patients_chemotherapy) == (est.counts.n_surgery, est.counts.n_chemotherapy)
        else:
            assert not est.estimated and row.reason == f"in {est.counted_in}: {est.reason}"


def test_the_weighted_row_equals_r(default_curve):
    """The ATT-weighted landmark row of the default view: R (brglm2 + coxph(weights, robust = TRUE))."""
    ref = json.loads((FIXTURES / "att.json").read_text())["default"]
    t = default_curve.table
    row = t[(t["Adjustment"] == "ATT weighting") & (t["Landmark"] == "6 months") & (t["Covariates"] == "Default (7)")]
    assert len(row) == 1
    for ours, theirs in ((row["HR"], ref["hr"]), (row["lower"], ref["lower"]), (row["upper"], ref["upper"]),
                         (row["p"], ref["p"])):
        assert ours.item() == pytest.approx(theirs, rel=1e-6)


def test_summary_counts_the_estimable_grid_specifications(demo, default_curve):
    hrs = [e.hr for e in (_independent(demo, row) for row in default_curve.table.itertuples()) if e.estimated]
    assert default_curve.n_estimable == len(hrs)
    assert default_curve.n_below_one == sum(h < 1 for h in hrs)
    assert default_curve.median_hr == float(np.median(hrs))
    ranks = default_curve.table["rank"].to_numpy()
    assert list(ranks[: len(hrs)]) == list(range(1, len(hrs) + 1)) and not ranks[len(hrs):].any()
    assert list(default_curve.table["HR"][: len(hrs)]) == sorted(hrs)


def test_the_current_view_in_the_grid_gives_exactly_the_pages_hazard_ratio(demo, default_curve):
    row = default_curve.table[default_curve.table["current"]]
    assert len(row) == 1 and bool(row["in_grid"].iloc[0])
    assert row["HR"].iloc[0] == analysis.run(demo, AnalysisSpec()).hr.hr


def test_the_time_dependent_view_is_its_grid_row(demo):
    spec = AnalysisSpec(method="time_dependent", caliper=0.3, ratio=3)  # matching settings: not used
    curve = speccurve.run(demo, spec)
    row = curve.table[curve.table["current"]].iloc[0]
    assert (row["Immortal time"], row["Covariates"], bool(row["in_grid"])) == ("Time-dependent Cox", "Default (7)", True)
    assert len(curve.table) == 63
    assert row["HR"] == analysis.run(demo, spec).hr.hr


def test_a_view_outside_the_grid_is_an_extra_row_not_counted(demo, default_curve):
    spec = AnalysisSpec(landmark_months=7.5, ratio=3)
    curve = speccurve.run(demo, spec)
    assert len(curve.table) == 64 and curve.n_grid == 63
    row = curve.table[curve.table["current"]].iloc[0]
    assert not row["in_grid"] and row["HR"] == analysis.run(demo, spec).hr.hr
    assert (row["Landmark"], row["Adjustment"]) == ("7.5 months", "1:3 matching")
    assert any("outside the grid" in n for n in curve.notes)
    assert curve.n_estimable == default_curve.n_estimable  # the same grid: the extra row is not counted


def test_the_primary_is_pinned_on_the_patients_of_the_view(demo):
    view = AnalysisSpec(regimens=(Regimen.FOLFIRINOX,))
    curve = speccurve.run(demo, view, primary=AnalysisSpec(caliper=0.2))
    pinned = curve.table[curve.table["primary"]]
    assert len(pinned) == 1
    assert (pinned["Caliper"].iloc[0], pinned["Landmark"].iloc[0]) == ("0.2 SD", "6 months")
    assert pinned["HR"].iloc[0] == analysis.run(demo, view.replace_(caliper=0.2)).hr.hr
    assert any("selects other patients" in n for n in curve.notes)
    outside = speccurve.run(demo, AnalysisSpec(), primary=AnalysisSpec(landmark_months=8.0))
    assert len(outside.table) == 64 and not outside.table.loc[outside.table["primary"], "in_grid"].iloc[0]


def test_unestimable_specifications_carry_their_reason(default_curve):
    t = default_curve.table
    missing = t[~t["estimable"]]
    assert len(missing) >= 12  # nobody in the demo is operated by 3 months
    assert missing["HR"].isna().all() and (missing["rank"] == 0).all()
    three = missing[missing["Landmark"] == "3 months"]
    assert len(three) == 15
    assert set(three["reason"]) == {"in the patients alive at the 3-month landmark: no operated patients (at least 5 "
                                    "patients and 3 deaths in each arm are needed)"}
    assert (t.loc[t["estimable"], "reason"] == "").all()


@pytest.mark.parametrize("spec", [
    AnalysisSpec(regimens=(Regimen.GEM,)),
    AnalysisSpec(centres=("nowhere",)),
    AnalysisSpec(mets_groups=(MetsGroup.MORE,), caliper=0.2),
])
def test_small_selections_give_an_answer_or_a_reason_for_every_specification(demo, spec):
    curve = speccurve.run(demo, spec)
    t = curve.table
    assert len(t) == 63
    assert ((t["estimable"] & t["HR"].gt(0)) | (~t["estimable"] & t["reason"].str.len().gt(10))).all()
    assert curve.summary().endswith(".") and "\n" not in curve.summary()


def test_a_specification_that_fails_gives_a_reason_and_the_others_still_run(demo, default_curve, monkeypatch):
    def broken(ctx):
        raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setitem(speccurve.ESTIMATORS, "time_dependent", broken)
    curve = speccurve.run(demo, AnalysisSpec())
    td = curve.table[curve.table["Immortal time"] == "Time-dependent Cox"]
    assert set(td["reason"]) == {"the model cannot be fitted on these patients"} and not td["estimable"].any()
    was = default_curve.table
    assert was.loc[was["Immortal time"] == "Time-dependent Cox", "estimable"].all()
    assert curve.table["estimable"].sum() == was["estimable"].sum() - 3


def test_no_patients_says_so(demo):
    curve = speccurve.run(demo, AnalysisSpec(centres=("nowhere",)))
    assert curve.n_estimable == 0 and math.isnan(curve.median_hr) and math.isnan(curve.share_below_one)
    assert curve.summary() == ("None of the 63 specifications gives a hazard ratio (too few patients or events in an "
                               "arm).")


def test_progress_is_reported_after_each_specification(demo):
    seen: list[tuple[int, int]] = []
    speccurve.run(demo, AnalysisSpec(landmark_months=7.5), progress=lambda d, t: seen.append((d, t)))
    assert seen == [(i, 64) for i in range(1, 65)]


def test_same_estimate_ignores_only_settings_the_estimator_does_not_use():
    td = AnalysisSpec(method="time_dependent")
    assert speccurve.same_estimate(td, td.replace_(landmark_months=9.0, caliper=0.2, ratio=2, replace=True))
    assert not speccurve.same_estimate(td, td.replace_(covariates=("age_at_diagnosis",)))
    assert speccurve.same_estimate(AnalysisSpec(), AnalysisSpec(rmst_months=24.0, min_at_risk=9))
    assert not speccurve.same_estimate(AnalysisSpec(), AnalysisSpec(order="smallest"))
    assert not speccurve.same_estimate(AnalysisSpec(), AnalysisSpec(regimens=(Regimen.GEM,)))


def test_export_hides_small_counts_and_never_one_arm_alone(demo):
    curve = speccurve.run(demo, AnalysisSpec(regimens=(Regimen.GEM, Regimen.GEM_NABPAC)))
    plain = speccurve.export_table(curve)
    assert ((plain["patients_surgery"].between(1, 10)) | (plain["events_surgery"].between(1, 10))).any()  # not vacuous
    hidden = speccurve.export_table(curve, k=11)
    for total, arms in speccurve.COUNT_COLUMNS.items():
        for row in hidden[[total, *arms]].itertuples(index=False):
            cells = [str(v) for v in row]
            assert not any(re.fullmatch(r"[1-9]|10", c) for c in cells), cells
            if cells[0] != "<11" and cells[0] != "*":  # a shown total: zero or both arms hidden
                assert sum(c in ("<11", "*") for c in cells[1:]) != 1, cells
    assert not hidden["note"].str.contains(r"only [1-9] |only 10 ").any()


def test_display_table_marks_the_pins_and_missing_estimates(demo):
    curve = speccurve.run(demo, AnalysisSpec(), primary=AnalysisSpec(caliper=0.2))
    shown = speccurve.display_table(curve)
    assert len(shown) == 63
    assert list(shown["Pinned"]).count("this view") == 1 and list(shown["Pinned"]).count("primary") == 1
    assert (shown.loc[~curve.table["estimable"], "HR (95% CI)"] == "no estimate").all()
    assert (shown.loc[~curve.table["estimable"], "#"] == "—").all()


def test_figure_pins_the_primary_and_draws_every_choice(demo):
    curve = speccurve.run(demo, AnalysisSpec(), primary=AnalysisSpec(caliper=0.2))
    fig = figures.speccurve_figure(curve.table, dimensions=speccurve.DIMENSIONS, median=curve.median_hr)
    (primary_trace,) = [tr for tr in fig.data if tr.name == "Primary analysis"]
    expected = curve.table.loc[curve.table["primary"], "HR"].iloc[0]
    assert list(primary_trace.y) == [expected]
    labels = list(fig.layout.yaxis2.categoryarray)
    assert "Landmark: 3 months" in labels and "Caliper: 0.2 SD" in labels and "Landmark: not used" not in labels
    assert labels[::-1][:2] == ["Immortal time: Landmark", "Immortal time: Time-dependent Cox"]
    assert "Adjustment: ATT weighting" in labels and "Adjustment: Cox regression" in labels


def test_methods_sentence_names_the_grid(default_curve):
    text = speccurve.methods_sentence(default_curve)
    assert "63 combinations" in text and "ATT" in text and "3, 6, 9, 12 months" in text and "not a test" in text


def test_every_exported_column_is_defined(default_curve):
    from core.export_notes import column_note

    table = speccurve.export_table(default_curve)
    assert [c for c in table.columns if column_note(str(c)) is None] == []
    assert table["hr"].dtype.kind == "f" and table["patients"].dtype.kind == "i"
