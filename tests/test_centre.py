"""Tests for core.centre: balance per centre and the leave-one-centre-out hazard ratio.

The leave-one-centre-out hazard ratios are compared with R (tests/fixtures/centre/reference.json,
tests/r/make_centre_fixtures.R): for each centre left out, MatchIt's nearest-neighbour match
given the package's propensity logits of the remaining patients (tests/fixtures/centre/loco.csv),
then ``coxph(Surv(time, event) ~ treated, cluster = subclass)`` on ``match.data()``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core import centre, cohort, matching
from core.analysis import run
from core.dictionary import C
from core.population import TREATED
from core.spec import AnalysisSpec

HERE = Path(__file__).resolve().parent / "fixtures" / "centre"
REF = json.loads((HERE / "reference.json").read_text())


@pytest.fixture(scope="module")
def demo():
    return cohort.demo()


@pytest.fixture(scope="module")
def loco(demo):
    return centre.leave_one_centre_out(demo, AnalysisSpec())


def test_leave_one_centre_out_equals_matchit_and_coxph_without_each_centre(loco):
    t = loco.table.set_index("centre")
    assert list(t.index) == [r["left_out"] for r in REF["loco"]]
    for r in REF["loco"]:
        row = t.loc[r["left_out"]]
        assert row["hr"] == pytest.approx(r["hr"][0], rel=1e-6), r["left_out"]
        se = (np.log(row["upper"]) - np.log(row["lower"])) / (2 * 1.959963984540054)
        assert se == pytest.approx(r["se"][0], rel=1e-6), r["left_out"]
        assert row["n_surgery"] + row["n_chemotherapy"] == r["n"]
        assert row["events_surgery"] + row["events_chemotherapy"] == r["nevent"]


def test_leave_one_centre_out_counts_the_patients_of_the_centre_left_out(demo, loco):
    d = demo.data
    for _, row in loco.table.iterrows():
        here = d[d[C.CENTRE_ID] == row["centre"]]
        assert row["left_out_surgery"] == int((here[C.TREATMENT_GROUP] == "surgery").sum())
        assert row["left_out_chemotherapy"] == int((here[C.TREATMENT_GROUP] == "chemotherapy").sum())


def test_the_full_hazard_ratio_is_the_headline_and_the_reading_names_the_range(demo, loco):
    assert loco.full.hr == run(demo, AnalysisSpec()).hr.hr
    lo, hi = loco.table["hr"].min(), loco.table["hr"].max()
    assert f"from {lo:.2f}" in loco.reading and f"to {hi:.2f}" in loco.reading
    assert f"with every centre it is {loco.full.hr:.2f}" in loco.reading
    assert len(loco.forest_frame()) == len(loco.table)


def test_leave_one_centre_out_follows_the_method_and_the_centre_choice(demo, loco):
    td = centre.leave_one_centre_out(demo, AnalysisSpec(method="time_dependent"))
    assert td.method.startswith("Time-dependent") and td.full.hr == run(demo, AnalysisSpec(method="time_dependent")).hr.hr
    st = centre.leave_one_centre_out(demo, AnalysisSpec(centre_model="strata"))
    assert not np.allclose(st.table["hr"], loco.table["hr"])
    # one run, re-done by hand: the spec's centres filter without that centre
    rest = tuple(c for c in loco.table["centre"] if c != "C04")
    by_hand = run(demo, AnalysisSpec(centre_model="strata", centres=rest)).hr
    assert st.table.set_index("centre").loc["C04", "hr"] == by_hand.hr


def test_a_selection_of_one_centre_or_of_small_centres_gives_plain_reasons(demo):
    one = centre.leave_one_centre_out(demo, AnalysisSpec(centres=("C02",)))
    assert len(one.table) == 1 and "only centre" in one.table.loc[0, "note"]
    assert "at least two centres" in one.reading
    small = centre.leave_one_centre_out(demo, AnalysisSpec(centres=("C01", "C07")))
    assert small.table["hr"].isna().all()
    assert all("at least 5 patients" in n for n in small.table["note"])
    assert "no comparison keeps enough patients" in small.reading


def test_counts_per_centre_add_up_to_the_population_and_the_match(demo):
    spec = AnalysisSpec()
    r = run(demo, spec)
    b = centre.centre_balance(demo, spec)
    assert b.counts["surgery_before"].sum() == int((r.population[TREATED] == 1).sum())
    assert b.counts["chemotherapy_before"].sum() == int((r.population[TREATED] == 0).sum())
    assert b.counts["surgery_after"].sum() == r.match.n_treated_matched
    assert b.counts["chemotherapy_after"].sum() == r.match.n_control_matched
    c02 = r.population[r.population[C.CENTRE_ID] == "C02"]
    assert b.counts.set_index("centre").loc["C02", "surgery_before"] == int((c02[TREATED] == 1).sum())


def test_smd_within_a_centre_is_the_difference_in_means_over_the_whole_surgery_sd(demo):
    spec = AnalysisSpec()
    r = run(demo, spec)
    b = centre.centre_balance(demo, spec)
    pop = r.population.loc[r.match.distance.dropna().index]
    age_t = pop.loc[pop[TREATED] == 1, C.AGE].astype(float)
    here = pop[pop[C.CENTRE_ID] == "C04"]
    diff = (here.loc[here[TREATED] == 1, C.AGE].astype(float).mean()
            - here.loc[here[TREATED] == 0, C.AGE].astype(float).mean())
    row = b.smd[(b.smd["centre"] == "C04") & (b.smd["term"] == "Age (years)")]
    assert row["smd_before"].iloc[0] == pytest.approx(diff / age_t.std(ddof=1), rel=1e-12)
    # after matching: C04's matched patients only (1:1 without replacement: weights 1)
    m = here[here.index.isin(r.match.matched.index)]
    diff_after = (m.loc[m[TREATED] == 1, C.AGE].astype(float).mean() - m.loc[m[TREATED] == 0, C.AGE].astype(float).mean())
    assert row["smd_after"].iloc[0] == pytest.approx(diff_after / age_t.std(ddof=1), rel=1e-12)
    # the whole-population balance table uses the same denominator
    whole = matching.balance(pop.assign(**{C.AGE: pop[C.AGE].astype(float)}), TREATED, [C.AGE])
    assert whole.loc[C.AGE, "smd"] == pytest.approx(
        (age_t.mean() - pop.loc[pop[TREATED] == 0, C.AGE].astype(float).mean()) / age_t.std(ddof=1), rel=1e-12)


def test_a_centre_with_one_arm_has_no_smd_and_the_wide_table_lines_up(demo):
    b = centre.centre_balance(demo, AnalysisSpec(regimens=("GEM_NABPAC",)))
    wide = b.smd_wide("before")
    assert list(wide.index) == list(b.counts["centre"])
    one_arm = b.counts[(b.counts["surgery_before"] == 0) | (b.counts["chemotherapy_before"] == 0)]["centre"]
    assert "C03" in set(one_arm)  # no operated patient of C03 in this selection
    for c in one_arm:
        assert wide.loc[c].isna().all()
    assert wide.drop(index=list(one_arm)).notna().any(axis=1).all()


def test_no_match_gives_a_reason_not_a_crash(demo):
    b = centre.centre_balance(demo, AnalysisSpec(centres=("C08",), hepatectomy="major"))  # nobody operated
    assert b.counts.empty and b.smd.empty and b.smd_wide().empty
    assert b.reason == "no propensity-matched comparison for these filters and settings"
