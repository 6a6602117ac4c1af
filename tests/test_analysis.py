"""Tests of core.analysis: structure, independent recomputation of the matched HR, guards, exports."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from core import analysis, cohort, guards, matching, synthetic
from core.analysis import (
    LOG_CA19_9,
    LOG_CA19_9_RESTAGING,
    OBJECTIVE_RESPONSE,
    AnalysisResult,
    analysis_columns,
    km_table,
    matched_cohort,
    matching_card,
    pair_table,
    propensity_frame,
    propensity_scores,
    risk_times,
    run,
    term_label,
)
from core.dictionary import (
    DEFAULT_PROPENSITY_COVARIATES,
    PRE_SURGERY_COVARIATES,
    Arm,
    C,
    LiverProcedure,
    Pancreatic,
    Recist,
    Regimen,
    Resectability,
    Setting,
    Timing,
)
from core.spec import AnalysisSpec
from core.table1 import TABLE1_VARIABLES


@pytest.fixture(scope="module")
def demo():
    return cohort.demo()


@pytest.fixture(scope="module")
def demo_result(demo):
    return run(demo, AnalysisSpec())


def _load_generated(n_surgery: int, n_chemotherapy: int, seed: int) -> cohort.Cohort:
    frame = synthetic.generate(n_surgery=n_surgery, n_chemotherapy=n_chemotherapy, seed=seed)
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return cohort.load(buf.getvalue(), filename="generated.parquet")


@pytest.fixture(scope="module")
def large():
    return _load_generated(500, 500, 21)


# -- independent landmark population and match ---------------------------------------------------

def _hand_landmark(data: pd.DataFrame, landmark: float) -> pd.DataFrame:
    """Landmark population from the cohort columns, written out independently of core.population."""
    os_t = data[C.OS_FROM_CHEMO].astype(float)
    tts = data[C.TIME_TO_SURGERY].astype(float)
    operated = data[C.TREATMENT_GROUP] == Arm.SURGERY
    keep = os_t > landmark
    out = pd.DataFrame(index=data.index[keep])
    out["T"] = (os_t - landmark)[keep]
    out["E"] = data.loc[keep, C.OS_EVENT].astype(float)
    out["Z"] = (operated & (tts <= landmark))[keep].astype(float)
    out["age"] = data.loc[keep, C.AGE].astype(float)
    out["ecog"] = data.loc[keep, C.ECOG].astype(float)
    out["mets"] = data.loc[keep, C.LIVER_METS_N].astype(float)
    out["logca"] = np.log(1.0 + data.loc[keep, C.CA19_9_BASELINE].astype(float))
    out["regimen"] = data.loc[keep, C.CHEMO_REGIMEN].astype(object)
    rec = data.loc[keep, C.RECIST].astype(object)
    out["objresp"] = np.where(rec.isna(), np.nan, rec.isin([Recist.CR, Recist.PR]).astype(float))
    out["resect"] = data.loc[keep, C.RESECTABILITY].astype(object)
    out["pid"] = data.loc[keep, C.PATIENT_ID]
    return out


_HAND_COVS = ["age", "ecog", "mets", "logca", "regimen", "objresp", "resect"]
#: The dashboard's default match: Firth's model, constant covariates left out, rare levels pooled, no caliper.
_DEFAULT_MATCH = {"caliper": None, "distance": "firth", "drop_constant": True, "min_level_count": 5}


def _lifelines_hr(matched: pd.DataFrame, *, weights: bool = False, cluster: str = "subclass"):
    df = matched[["T", "E", "Z"]].copy()
    df["cl"] = matched[cluster].astype(str).to_numpy() if cluster in matched else matched["pid"].to_numpy()
    kw = {}
    if weights:
        df["w"] = matched["weights"].astype(float)
        kw["weights_col"] = "w"
    cph = CoxPHFitter()
    # lifelines' default convergence stops ~1e-4 short of the maximum; R's coxph converges further
    cph.fit(df, duration_col="T", event_col="E", cluster_col="cl",
            fit_options={"precision": 1e-12, "r_precision": 1e-12, "max_steps": 100}, **kw)
    return float(cph.params_["Z"]), float(cph.standard_errors_["Z"])


@pytest.mark.parametrize("landmark", [6.0, 9.0])
def test_matched_hr_equals_an_independent_recomputation(demo, landmark):
    spec = AnalysisSpec(landmark_months=landmark)
    result = run(demo, spec)
    pop = _hand_landmark(demo.data, landmark)
    m = matching.match_nearest(pop, "Z", _HAND_COVS, **_DEFAULT_MATCH)
    # the same patients are matched
    assert sorted(m.matched.index) == sorted(result.match.matched.index)
    beta, se = _lifelines_hr(m.matched)
    assert math.log(result.hr.hr) == pytest.approx(beta, abs=1e-5)
    # 95% Wald interval from the robust SE (R's coxph(cluster=) and lifelines agree within ~2%)
    se_core = (math.log(result.hr.upper) - math.log(result.hr.lower)) / (2 * 1.959964)
    assert se_core == pytest.approx(se, rel=0.02)
    assert result.hr.n == len(m.matched)
    assert result.hr.events == int(m.matched["E"].sum())


def test_matched_hr_on_a_generated_cohort_equals_an_independent_recomputation():
    c = _load_generated(80, 80, 5)
    result = run(c, AnalysisSpec())
    pop = _hand_landmark(c.data, 6.0)
    m = matching.match_nearest(pop, "Z", _HAND_COVS, **_DEFAULT_MATCH)
    beta, se = _lifelines_hr(m.matched)
    assert math.log(result.hr.hr) == pytest.approx(beta, abs=1e-5)
    se_core = (math.log(result.hr.upper) - math.log(result.hr.lower)) / (2 * 1.959964)
    assert se_core == pytest.approx(se, rel=0.02)


@pytest.mark.filterwarnings("ignore:It appears your weights are not integers")
def test_weighted_matched_hr_with_replacement_equals_lifelines(demo):
    result = run(demo, AnalysisSpec(ratio=2, replace=True))
    pop = _hand_landmark(demo.data, 6.0)
    m = matching.match_nearest(pop, "Z", _HAND_COVS, **_DEFAULT_MATCH, ratio=2, replace=True)
    beta, se = _lifelines_hr(m.matched, weights=True, cluster="pid")
    assert math.log(result.hr.hr) == pytest.approx(beta, abs=1e-5)
    se_core = (math.log(result.hr.upper) - math.log(result.hr.lower)) / (2 * 1.959964)
    assert se_core == pytest.approx(se, rel=0.02)


# -- structure -------------------------------------------------------------------------------------

def test_result_structure_on_the_demo_cohort(demo, demo_result):
    r = demo_result
    assert isinstance(r, AnalysisResult)
    assert r.cohort_sha256 == demo.sha256 and r.spec == AnalysisSpec()
    n_s = int((demo.data[C.TREATMENT_GROUP] == Arm.SURGERY).sum())
    n_c = len(demo.data) - n_s
    assert r.flow.columns.tolist() == ["step", Arm.SURGERY, Arm.CHEMOTHERAPY]
    assert r.flow.iloc[0].tolist() == ["Cohort", n_s, n_c]
    assert r.flow["step"].tolist()[-1] == "Propensity-matched"
    assert r.flow.iloc[-1, 1:].tolist() == [r.match.n_treated_matched, r.match.n_control_matched]
    # the population row counts the landmark population
    pop_row = r.flow.iloc[-2]
    assert pop_row[Arm.SURGERY] == int((r.population["treated"] == 1).sum())
    assert pop_row[Arm.CHEMOTHERAPY] == int((r.population["treated"] == 0).sum())
    assert [c.arm for c in r.curves] == [Arm.SURGERY, Arm.CHEMOTHERAPY]
    for c in r.curves:
        part = r.match.matched[r.match.matched["treated"] == (1 if c.arm == Arm.SURGERY else 0)]
        assert c.n == len(part) and c.events == int(part["event"].sum())
        assert c.at_times["time"].tolist() == list(analysis.REPORT_TIMES)
    assert r.methods["method"].tolist()[0].startswith("Naive")
    assert r.methods.columns.tolist() == ["method", "HR", "lower", "upper", "p", "patients", "events",
                                          "patients_surgery", "patients_chemotherapy", "events_surgery",
                                          "events_chemotherapy", "note"]
    for _, row in r.methods.iterrows():
        assert row["patients"] == row["patients_surgery"] + row["patients_chemotherapy"]
        assert row["events"] == row["events_surgery"] + row["events_chemotherapy"]
    assert r.warnings == ()  # the default view has a hazard ratio: nothing to warn about
    assert r.methods.loc[0, "note"] == "biased by immortal time"
    assert r.hr.method == "Landmark at 6 months, propensity-matched" and not r.hr.biased
    assert r.hr.lower < r.hr.hr < r.hr.upper
    assert 0 <= r.logrank_p <= 1 and r.rmst is not None
    assert r.time_label == "Months since the landmark"
    assert r.balance is not None and len(r.balance) > 0
    assert r.risk_table.index.tolist() == [Arm.SURGERY, Arm.CHEMOTHERAPY]


def test_risk_table_counts_patients_with_time_at_least_t(demo_result):
    matched = demo_result.match.matched
    times = risk_times(float(matched["time"].max()))
    assert demo_result.risk_table.columns.tolist() == times
    for treated, arm in ((1, Arm.SURGERY), (0, Arm.CHEMOTHERAPY)):
        t = matched.loc[matched["treated"] == treated, "time"].to_numpy()
        assert demo_result.risk_table.loc[arm].tolist() == [int(sum(x >= s for x in t)) for s in times]


def test_method_choice_switches_the_headline_estimate(demo, demo_result):
    naive = run(demo, AnalysisSpec(method="naive"))
    td = run(demo, AnalysisSpec(method="time_dependent"))
    assert naive.hr.biased and naive.hr.hr == demo_result.methods.loc[0, "HR"]
    assert td.hr.method.startswith("Time-dependent") and td.hr.hr == demo_result.methods.loc[2, "HR"]
    assert any("immortal time" in w for w in naive.notes)
    assert any("time-dependent Cox" in w for w in td.notes)
    assert naive.time_label == "Months since chemotherapy start"


def test_naive_hr_is_below_the_landmark_hr_on_a_large_cohort(large):
    r = run(large, AnalysisSpec())
    naive, lm, td = r.methods["HR"].tolist()
    # immortal time favours surgery: the naive estimate is further below 1
    assert naive < lm and naive < td
    assert naive < 0.6 < lm


# -- guards ----------------------------------------------------------------------------------------

def test_tiny_subgroup_gets_no_hr_and_one_line_with_the_counts_per_arm(demo):
    r = run(demo, AnalysisSpec(centres=("C01",)))
    assert r.hr is not None and r.hr.reliable is False and not r.hr.estimated
    assert math.isnan(r.hr.p)
    assert len(r.warnings) == 1 and r.warnings[0].startswith("No hazard ratio: ")
    c = r.hr.counts
    assert f"{c.n_surgery} operated" in r.warnings[0] and f"{c.n_chemotherapy} chemotherapy-only" in r.warnings[0]


@pytest.mark.parametrize("method", ["landmark", "naive", "time_dependent"])
def test_two_operated_patients_never_give_a_hazard_ratio(demo, method):
    # the first release showed "HR 5.04 (1.24-20.55), p = 0.024" from 2 operated patients (major hepatectomy)
    r = run(demo, AnalysisSpec(hepatectomy="major", method=method))
    assert r.hr.counts.n_surgery < guards.MIN_PATIENTS_PER_ARM
    assert not r.hr.estimated and math.isnan(r.hr.p) and not r.hr.reliable
    assert r.hr.reason and r.warnings and "operated" in r.warnings[0]


def test_too_few_operated_at_the_landmark_says_so_rather_than_blaming_the_model(demo):
    # at a 4-month landmark only 4 patients had been operated
    r = run(demo, AnalysisSpec(landmark_months=4.0, propensity="glm"))
    assert math.isnan(r.hr.hr) and not r.hr.reliable
    assert r.hr.reason.startswith("only 4 operated patients")
    assert "propensity" not in r.warnings[0] and "design" not in r.warnings[0]


def test_no_operated_patient_left_gives_no_hr_and_a_plain_reason(demo):
    r = run(demo, AnalysisSpec(recist=(Recist.PD,)))
    assert r.filtered.n_surgery == 0
    assert math.isnan(r.hr.hr) and not r.hr.reliable
    assert r.hr.reason and "Traceback" not in r.hr.reason
    assert r.curves == () and r.balance is None and math.isnan(r.logrank_p)
    assert r.warnings == ("No hazard ratio: in the patients alive at the 6-month landmark, 0 operated (0 deaths) and "
                          f"{r.hr.counts.n_chemotherapy} chemotherapy-only patients "
                          f"({r.hr.counts.events_chemotherapy} deaths); each arm needs at least 5 patients and 3 "
                          "deaths.",)
    assert 0 < r.hr.counts.n_chemotherapy <= r.filtered.n_chemotherapy


def test_empty_filter_result(demo):
    r = run(demo, AnalysisSpec(centres=("nowhere",)))
    assert r.filtered.data.empty and math.isnan(r.hr.hr)
    assert km_table(r).empty and matched_cohort(r).empty and pair_table(r).empty


@pytest.mark.parametrize("changes", [{"ratio": 2, "replace": True}, {"replace": True}])
def test_weighted_matching_gives_weighted_curves_and_a_warning(demo, changes):
    r = run(demo, AnalysisSpec(**changes))
    assert math.isnan(r.logrank_p) and r.rmst is None
    assert any("log-rank" in w.lower() and "RMST" in w for w in r.notes)
    # the control curve is a weighted KM: its first step equals the weighted share of deaths at that time
    ctrl = r.match.matched[r.match.matched["treated"] == 0]
    km = next(c.km for c in r.curves if c.arm == Arm.CHEMOTHERAPY)
    t0 = float(km["time"].iloc[0])
    w = ctrl["weights"].to_numpy(float)
    at_risk = w[ctrl["time"].to_numpy() >= t0].sum()
    died = w[(ctrl["time"].to_numpy() == t0) & (ctrl["event"].to_numpy() == 1)].sum()
    assert float(km["survival"].iloc[0]) == pytest.approx(1 - died / at_risk)
    if changes.get("ratio") == 2:
        assert not np.allclose(w, 1.0)


# -- helpers -----------------------------------------------------------------------------------------

def test_analysis_columns():
    cols = analysis_columns(AnalysisSpec(covariates=(C.AGE, C.TUMOUR_SIZE)))
    assert len(cols) == len(set(cols))
    for needed in (C.PATIENT_ID, C.CENTRE_ID, C.TREATMENT_GROUP, C.OS_FROM_CHEMO, C.OS_FROM_DIAGNOSIS, C.OS_EVENT,
                   C.TIME_TO_SURGERY, C.TIME_DIAGNOSIS_TO_SURGERY, C.TUMOUR_SIZE, *PRE_SURGERY_COVARIATES,
                   *TABLE1_VARIABLES):
        assert needed in cols
    assert C.CLAVIEN_DINDO not in cols and C.MARGIN not in cols


def test_propensity_frame_transforms():
    df = pd.DataFrame({
        C.CA19_9_BASELINE: [0.0, np.e - 1, np.nan],
        C.CA19_9_RESTAGING: [9.0, 0.0, 99.0],
        C.RECIST: [Recist.CR, Recist.PD, None],
        C.LIVER_METS_BILOBAR: pd.array([True, False, None], dtype="boolean"),
        C.AGE: pd.array([50, None, 70], dtype="Int64"),
        C.CHEMO_REGIMEN: pd.Categorical([Regimen.GEM, None, Regimen.FOLFIRINOX]),
    })
    out, names = propensity_frame(df, (C.AGE, C.CA19_9_BASELINE, C.RECIST, C.LIVER_METS_BILOBAR, C.CA19_9_RESTAGING,
                                       C.CHEMO_REGIMEN))
    assert names == [C.AGE, LOG_CA19_9, OBJECTIVE_RESPONSE, C.LIVER_METS_BILOBAR, LOG_CA19_9_RESTAGING,
                     C.CHEMO_REGIMEN]
    np.testing.assert_allclose(out[LOG_CA19_9].to_numpy(), [0.0, 1.0, np.nan])
    np.testing.assert_allclose(out[LOG_CA19_9_RESTAGING].to_numpy(), [np.log(10), 0.0, np.log(100)])
    np.testing.assert_array_equal(out[OBJECTIVE_RESPONSE].to_numpy(), [1.0, 0.0, np.nan])
    np.testing.assert_array_equal(out[C.LIVER_METS_BILOBAR].to_numpy(), [1.0, 0.0, np.nan])
    assert out[C.LIVER_METS_BILOBAR].dtype == float and out[C.AGE].dtype == float
    assert out[C.CHEMO_REGIMEN].tolist() == [Regimen.GEM, None, Regimen.FOLFIRINOX]
    # the input is not modified
    assert df[C.AGE].dtype == "Int64" and LOG_CA19_9 not in df


def test_objective_response_codes_sd_pd_ne_as_zero():
    df = pd.DataFrame({C.RECIST: list(Recist.ALL)})
    out, _ = propensity_frame(df, (C.RECIST,))
    assert dict(zip(df[C.RECIST], out[OBJECTIVE_RESPONSE], strict=True)) == {
        Recist.CR: 1.0, Recist.PR: 1.0, Recist.SD: 0.0, Recist.PD: 0.0, Recist.NE: 0.0}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("chemo_regimenGEM", "Regimen: Gemcitabine alone"),  # dictionary value labels, not codes
        ("log_ca19_9_baseline", "CA19-9 baseline (log)"),
        ("log_ca19_9_restaging", "CA19-9 restaging (log)"),
        ("objective_response", "Objective response (CR/PR)"),
        ("progressive_or_not_evaluable", "Progression at restaging (PD/NE)"),
        ("age_at_diagnosis", "Age (years)"),
        ("something_else", "something_else"),
    ],
)
def test_term_label(term, expected):
    assert term_label(term) == expected


def test_term_label_prefers_the_longest_column_name():
    # "liver_mets_n" is a prefix of "liver_mets_max_mm"; a level of the longer one must use its label
    from core.dictionary import label

    assert term_label(C.LIVER_METS_MAX + "X") == f"{label(C.LIVER_METS_MAX)}: X"


@pytest.mark.parametrize(
    ("max_time", "expected"),
    [
        (0.0, [0.0]), (-3.0, [0.0]), (2.9, [0.0]), (3.0, [0.0, 3.0]), (14.0, [0.0, 3.0, 6.0, 9.0, 12.0]),
        (24.0, [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0]), (24.5, [0.0, 6.0, 12.0, 18.0, 24.0]),
        (40.0, [0.0, 6.0, 12.0, 18.0, 24.0, 30.0, 36.0]),
    ],
)
def test_risk_times(max_time, expected):
    assert risk_times(max_time) == expected


def test_km_table(demo_result):
    t = km_table(demo_result)
    assert t.columns[0] == "arm"
    assert {"time", "n_risk", "n_event", "n_censor", "survival", "lower", "upper"} <= set(t.columns)
    for c in demo_result.curves:
        part = t[t["arm"] == c.arm]
        assert len(part) == len(c.km)
        # first row: everyone at risk
        assert int(part["n_risk"].iloc[0]) == c.n
        assert int(part["n_event"].sum()) == c.events


def test_matched_cohort(demo, demo_result):
    mc = matched_cohort(demo_result)
    m = demo_result.match.matched
    assert set(demo.data.columns) <= set(mc.columns)
    assert {"subclass", "weights", "distance", "time", "event", "treated"} <= set(mc.columns)
    assert sorted(mc[C.PATIENT_ID]) == sorted(demo.data.loc[m.index, C.PATIENT_ID])
    assert len(mc) == len(m)
    # full cohort values for columns the analysis did not select
    row = mc.iloc[0]
    src = demo.data[demo.data[C.PATIENT_ID] == row[C.PATIENT_ID]].iloc[0]
    assert row[C.CLAVIEN_DINDO] == src[C.CLAVIEN_DINDO] or (pd.isna(row[C.CLAVIEN_DINDO]) and pd.isna(src[C.CLAVIEN_DINDO]))
    # each pair: one patient operated by the landmark and one not (who may be operated later)
    assert (mc.groupby("subclass")["treated"].agg(sorted).map(tuple) == (0.0, 1.0)).all()
    assert (mc.loc[mc["treated"] == 1, C.TREATMENT_GROUP] == Arm.SURGERY).all()


def test_pair_table(demo, demo_result):
    pt = pair_table(demo_result)
    assert len(pt) == demo_result.match.n_treated_matched
    ids = demo.data.set_index(C.PATIENT_ID)
    assert (ids.loc[pt["surgery_patient"], C.TREATMENT_GROUP] == Arm.SURGERY).all()
    assert set(pt["chemotherapy_patient"]).isdisjoint(pt["surgery_patient"])
    np.testing.assert_allclose(pt["difference"], (pt["surgery_logit"] - pt["chemotherapy_logit"]).abs())
    assert demo_result.match.caliper_logit is None  # no caliper by default
    capped = run(demo, AnalysisSpec(caliper=0.2))
    pt2 = pair_table(capped)
    assert (pt2["difference"] <= capped.match.caliper_logit + 1e-12).all()
    assert pt["round"].eq(1).all() and pt["pair"].tolist() == sorted(pt["pair"])


def test_propensity_scores(demo_result):
    ps = propensity_scores(demo_result)
    assert ps.columns.tolist() == [C.PATIENT_ID, "distance", "treated", "matched"]
    assert len(ps) == demo_result.match.n_treated + demo_result.match.n_control
    assert int(ps["matched"].sum()) == len(demo_result.match.matched)
    assert ps["distance"].notna().all()
    matched_ids = set(demo_result.population.loc[demo_result.match.matched.index, C.PATIENT_ID])
    assert set(ps.loc[ps["matched"], C.PATIENT_ID]) == matched_ids


def test_matching_card_caliper_in_logit_units(demo):
    demo_result = run(demo, AnalysisSpec(caliper=0.2))
    card = matching_card(demo_result)
    d = demo_result.match.distance.dropna().to_numpy()
    sd = float(np.sqrt(((d - d.mean()) ** 2).sum() / (len(d) - 1)))
    assert card["Caliper"] == f"0.2 SD of the logit = {0.2 * sd:.4f} logit units"
    assert card["Method"] == "nearest neighbour 1:1, without replacement"
    assert card["Order"] == "descending score"
    assert card["Exact matching"] == "none"
    m = demo_result.match
    assert card["Surgery: matched / unmatched"] == f"{m.n_treated_matched} / {m.n_treated - m.n_treated_matched}"
    assert card["Chemotherapy: matched / unmatched"] == f"{m.n_control_matched} / {m.n_control - m.n_control_matched}"
    assert card["Propensity model"].startswith("Firth-penalised logistic regression on Age (years)")
    assert len(DEFAULT_PROPENSITY_COVARIATES) == card["Propensity model"].count(",") + 1
    assert card["Left out or pooled"].startswith("Regimen: Gemcitabine alone (")
    assert "brglmFit" in card["Distance"]


def test_matching_card_without_caliper(demo):
    card = matching_card(run(demo, AnalysisSpec(caliper=None, exact_centre=True, order="data")))
    assert card["Caliper"] == "none" and card["Exact matching"] == "centre" and card["Order"] == "data order"


def _hand_naive(data: pd.DataFrame) -> pd.DataFrame:
    """Naive population from the cohort columns: everyone from chemotherapy start, by final arm."""
    out = _hand_landmark(data.assign(**{C.OS_FROM_CHEMO: data[C.OS_FROM_CHEMO].astype(float) + 1.0}), 1.0)
    out["Z"] = (data.loc[out.index, C.TREATMENT_GROUP] == Arm.SURGERY).astype(float)
    out["S"] = data.loc[out.index, C.TIME_TO_SURGERY].astype(float)
    return out


def test_naive_matched_hr_equals_an_independent_recomputation(demo):
    result = run(demo, AnalysisSpec(method="naive"))
    pop = _hand_naive(demo.data)
    assert len(pop) == len(demo.data)
    m = matching.match_nearest(pop, "Z", _HAND_COVS, **_DEFAULT_MATCH)
    beta, _ = _lifelines_hr(m.matched)
    assert math.log(result.hr.hr) == pytest.approx(beta, abs=1e-5)
    assert result.hr.biased


def test_time_dependent_hr_equals_lifelines_time_varying_cox(demo):
    from lifelines import CoxTimeVaryingFitter

    result = run(demo, AnalysisSpec(method="time_dependent"))
    pop = _hand_naive(demo.data)
    rec = demo.data.loc[pop.index, C.RECIST].astype(object)
    pop["prog"] = np.where(rec.isna(), np.nan, rec.isin([Recist.PD, Recist.NE]).astype(float))
    # the pooling rule: gemcitabine alone has fewer than 5 patients in an arm (operated or not during follow-up),
    # so does the pooled 'other' level; it is counted with the most common regimen, FOLFIRINOX
    operated = pop["Z"] == 1
    gem = pop["regimen"] == Regimen.GEM
    assert min((gem & operated).sum(), (gem & ~operated).sum()) < 5
    assert pop["regimen"].value_counts().idxmax() == Regimen.FOLFIRINOX
    pop["regimen"] = pop["regimen"].replace({Regimen.GEM: Regimen.FOLFIRINOX})
    dummies = pd.get_dummies(pop[["regimen", "resect"]], drop_first=True, dtype=float)
    X = pd.concat([pop[["age", "ecog", "mets", "logca", "objresp", "prog"]], dummies], axis=1)
    keep = X.notna().all(axis=1) & (pop["T"] > 0)
    rows = []
    for i in np.flatnonzero(keep.to_numpy()):
        t, e, s = pop["T"].iloc[i], pop["E"].iloc[i], pop["S"].iloc[i]
        cov = X.iloc[i].to_dict()
        if pop["Z"].iloc[i] == 1 and 0 < s < t:
            rows.append({"id": i, "start": 0.0, "stop": s, "ev": 0.0, "surg": 0.0, **cov})
            rows.append({"id": i, "start": s, "stop": t, "ev": e, "surg": 1.0, **cov})
        else:
            exposed = float(pop["Z"].iloc[i] == 1 and s <= 0)
            rows.append({"id": i, "start": 0.0, "stop": t, "ev": e, "surg": exposed, **cov})
    long = pd.DataFrame(rows)
    ctv = CoxTimeVaryingFitter()
    ctv.fit(long, id_col="id", event_col="ev", start_col="start", stop_col="stop",
            fit_options={"precision": 1e-12, "r_precision": 1e-12, "max_steps": 100})
    assert math.log(result.hr.hr) == pytest.approx(float(ctv.params_["surg"]), abs=1e-5)
    assert result.hr.n == int(keep.sum())


# -- every spec field changes what it says it changes ------------------------------------------------

#: One non-default value per spec field that matters on the demo cohort.
_CHANGES = {
    "pancreatic_procedures": (Pancreatic.PPPD,), "hepatectomy": "minor", "liver_procedures": (LiverProcedure.WEDGE,),
    "liver_timings": (Timing.STAGED,), "mets_groups": ("2-3",), "mets_min": 2, "mets_max": 3,
    "regimens": (Regimen.FOLFIRINOX,), "chemo_settings": (Setting.PERIOPERATIVE,), "recist": (Recist.PR,),
    "resectability_levels": (Resectability.RESECTABLE,), "centres": ("C02", "C04"), "age_min": 60, "age_max": 70,
    "ca19_9_max": 500.0, "year_min": 2019, "year_max": 2021, "endpoint": "efs", "origin": "diagnosis",
    "method": "naive", "landmark_months": 9.0, "covariates": (C.AGE, C.ECOG, C.CHEMO_REGIMEN),
    "propensity": "glm", "caliper": 0.2, "ratio": 2, "replace": True, "exact_centre": True, "order": "smallest",
    "centre_model": "strata", "min_at_risk": 10, "rmst_months": 24.0, "eligibility": ("not_progressing",),
    "missing": "impute",
}


def _fingerprint(r) -> tuple:
    curves = tuple(c.km[["time", "survival"]].round(12).to_records(index=False).tobytes() for c in r.curves)
    return (repr(r.hr), r.methods.round(12).to_json(), r.flow.to_json(), curves, r.population_description,
            None if r.balance is None else r.balance.round(12).to_json(), r.notes, r.time_label, repr(r.rmst))


def test_every_spec_field_changes_the_result_or_is_documented_as_display_only(demo, demo_result):
    import dataclasses

    from core import figures
    from core.spec import DISPLAY_ONLY

    assert set(_CHANGES) == {f.name for f in dataclasses.fields(AnalysisSpec)}
    base = _fingerprint(demo_result)
    base_fig = figures.matched_km_figure(demo_result).to_json()
    for name, value in _CHANGES.items():
        r = run(demo, AnalysisSpec().replace_(**{name: value}))
        if name in DISPLAY_ONLY:
            assert _fingerprint(r) == base, name
            assert figures.matched_km_figure(r).to_json() != base_fig, name
        else:
            assert _fingerprint(r) != base, f"{name}={value!r} changes nothing"


def test_event_free_survival_is_a_different_endpoint_from_the_same_time_zero(demo):
    os_, efs = run(demo, AnalysisSpec()), run(demo, AnalysisSpec(endpoint="efs"))
    d = demo.data
    # EFS ends at the first of progression/recurrence and death, so it is never longer than OS
    assert (d[C.EFS_FROM_CHEMO] <= d[C.OS_FROM_CHEMO] + 1e-9).all()
    assert (d[C.EFS_FROM_CHEMO] < d[C.OS_FROM_CHEMO] - 1e-9).sum() > 20
    # every death is an EFS event; progressions and recurrences add events
    assert (d[C.EFS_EVENT] >= d[C.OS_EVENT]).all() and d[C.EFS_EVENT].sum() > d[C.OS_EVENT].sum()
    # the EFS landmark population is patients alive AND event-free at L: no more than the OS one
    assert len(efs.population) < len(os_.population)
    assert efs.hr.estimated and efs.hr.hr != os_.hr.hr
    assert efs.curves[0].km["survival"].iloc[-1] <= 1
    assert "alive without progression or recurrence" in efs.population_description


# -- a propensity model that works at n = 90 ---------------------------------------------------------

def test_a_covariate_the_user_filtered_on_is_left_out_and_said_so_in_one_line(demo):
    r = run(demo, AnalysisSpec(regimens=(Regimen.FOLFIRINOX,)))
    assert r.match is not None and [d.covariate for d in r.match.dropped] == [C.CHEMO_REGIMEN]
    n = r.match.n_treated + r.match.n_control  # complete cases of the landmark population
    lines = [x for x in r.notes if x.startswith("Propensity model for this selection")]
    assert lines == [f"Propensity model for this selection: Regimen left out (FOLFIRINOX for all {n} patients)."]


def test_rare_levels_are_pooled_by_the_stated_rule_and_said_so(demo):
    from core.design import MIN_LEVEL_COUNT

    r = run(demo, AnalysisSpec())
    # gemcitabine alone: fewer than 5 patients in an arm of the landmark population
    pop = r.population
    gem = pop[pop[C.CHEMO_REGIMEN] == Regimen.GEM]
    assert min((gem["treated"] == 1).sum(), (gem["treated"] == 0).sum()) < MIN_LEVEL_COUNT
    pooled = {p.covariate: p for p in r.match.pooled}
    assert Regimen.GEM in pooled[C.CHEMO_REGIMEN].levels
    assert any("Regimen: Gemcitabine alone (" in x and f"(fewer than {MIN_LEVEL_COUNT} patients in an arm)" in x
               for x in r.notes)


def test_no_message_names_a_design_column_or_a_raw_variable(demo):
    from core import methodcheck

    for _title, _option, changes in methodcheck.single_filter_choices(demo.data):
        r = run(demo, AnalysisSpec().replace_(**changes))
        assert len(r.warnings) <= 1
        for text in (*r.warnings, *r.notes, r.hr.reason):
            for raw in ("chemo_regimen", "ecog_baseline", "liver_mets_n", "log_ca19_9", "objective_response",
                        "Design column", "design column", "separation", "'treated'"):
                assert raw not in text, (changes, text)


def test_firth_and_glm_give_different_scores_and_glm_can_separate(demo):
    firth = run(demo, AnalysisSpec(regimens=(Regimen.FOLFIRINOX,), propensity="firth"))
    glm = run(demo, AnalysisSpec(regimens=(Regimen.FOLFIRINOX,), propensity="glm"))
    assert firth.hr.estimated
    assert not firth.match.distance.equals(glm.match.distance if glm.match is not None else firth.match.distance * 0)
