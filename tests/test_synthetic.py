"""Tests of the synthetic cohort generator (domain.md §4).

Expected values come from the recipe and the published figures in domain.md (§2, §4), and
from hand computations that do not use the generator's code. Survival quantities are computed
with lifelines directly from the dates (months = days / 30.4375).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter, KaplanMeierFitter

from core import synthetic as syn
from core.dictionary import (
    COLUMNS_BY_NAME,
    IMPORTED_NAMES,
    SURGERY_ONLY_NAMES,
    Arm,
    C,
    ClavienDindo,
    Pancreatic,
    Popf,
    Recist,
    Regimen,
    Resectability,
    Setting,
    Vital,
)

ROOT = Path(__file__).resolve().parent.parent
DPM = 30.4375  # domain.md §3: months = days / 30.4375


# ------------------------------------------------------------------------------------------------
# helpers (independent of the generator)
# ------------------------------------------------------------------------------------------------


def _months(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier).dt.days / DPM).to_numpy(float)


def consistency_violations(df: pd.DataFrame) -> dict[str, int]:
    """Count violations of every consistency rule of domain.md §3 and of the brief."""
    op = (df[C.TREATMENT_GROUP] == Arm.SURGERY).to_numpy()
    dead = (df[C.VITAL_STATUS] == Vital.DEAD).to_numpy()
    prog = df[C.PROGRESSION].to_numpy(bool)
    diag, chemo, surg = df[C.DIAGNOSIS_DATE], df[C.CHEMO_START_DATE], df[C.SURGERY_DATE]
    rec, death, lfu, img = df[C.PROGRESSION_DATE], df[C.DEATH_DATE], df[C.LAST_FOLLOWUP_DATE], df[C.LAST_IMAGING_DATE]
    d90 = ((death - surg).dt.days <= 90).to_numpy() & dead & op
    v = {
        "diagnosis > chemo start": (diag > chemo).sum(),
        "surgery not after chemo start": (op & ~(surg > chemo).to_numpy()).sum(),
        "recurrence before surgery": (op & prog & (rec < surg).to_numpy()).sum(),
        "recurrence after death": (prog & dead & (rec > death).to_numpy()).sum(),
        "recurrence after last follow-up": (prog & (rec > lfu).to_numpy()).sum(),
        "recurrence before chemo start": (prog & (rec < chemo).to_numpy()).sum(),
        "death before surgery": (op & dead & (death < surg).to_numpy()).sum(),
        "death != last follow-up": (dead & (death != lfu).to_numpy()).sum(),
        "last follow-up after cut-off": (lfu > pd.Timestamp("2024-12-31")).sum(),
        "surgery after last follow-up": (op & (surg > lfu).to_numpy()).sum(),
        "death_date presence": (dead != death.notna().to_numpy()).sum(),
        "progression date presence": (prog != rec.notna().to_numpy()).sum(),
        "recurrence site without progression": (~prog & df[C.RECURRENCE_SITE].notna().to_numpy()).sum(),
        "last imaging after last follow-up": (img > lfu).sum(),
        "last imaging before diagnosis": (img < diag).sum(),
        "last imaging not before recurrence": (prog & (img >= rec).to_numpy()).sum(),
        "Clavien-Dindo V != death within 90 days": (op & ((df[C.CLAVIEN_DINDO] == ClavienDindo.V).to_numpy() != d90)).sum(),
        "POPF not_applicable != TP": (op & ((df[C.POPF] == Popf.NOT_APPLICABLE).to_numpy() != (df[C.PANCREATIC_PROCEDURE] == Pancreatic.TP).to_numpy())).sum(),
        "palliative setting in surgery group": (op & (df[C.CHEMO_SETTING] == Setting.PALLIATIVE).to_numpy()).sum(),
        "surgery group setting not neoadjuvant/perioperative": (op & ~df[C.CHEMO_SETTING].isin([Setting.NEOADJUVANT, Setting.PERIOPERATIVE]).to_numpy()).sum(),
        "chemotherapy group setting not palliative": (~op & (df[C.CHEMO_SETTING] != Setting.PALLIATIVE).to_numpy()).sum(),
        "control not resectable/borderline": (~op & ~df[C.RESECTABILITY].isin([Resectability.RESECTABLE, Resectability.BORDERLINE]).to_numpy()).sum(),
        "operated with RECIST PD/NE": (op & df[C.RECIST].isin([Recist.PD, Recist.NE]).to_numpy()).sum(),
        "alive with missing follow-up": (df[C.LAST_FOLLOWUP_DATE].isna()).sum(),
        "adjuvant chemo but neoadjuvant setting": (op & df[C.ADJUVANT_CHEMO].fillna(False).to_numpy(bool) & (df[C.CHEMO_SETTING] == Setting.NEOADJUVANT).to_numpy()).sum(),
        # dictionary 1.1 dates (missing dates are not checked, as by the loader)
        "restaging before chemo start": (df[C.RESTAGING_DATE] < chemo).sum(),
        "decision before restaging": (df[C.MDT_DATE] < df[C.RESTAGING_DATE]).sum(),
        "decision before chemo start": (df[C.MDT_DATE] < chemo).sum(),
        "exploration not after chemo start": (df[C.EXPLORATION_DATE] <= chemo).sum(),
        "exploration after surgery": (op & (df[C.EXPLORATION_DATE] > surg).to_numpy()).sum(),
        "chemo end before chemo start": (df[C.CHEMO_END_DATE] < chemo).sum(),
        **{f"{name} after last follow-up": (df[name] > lfu).sum()
           for name in (C.RESTAGING_DATE, C.MDT_DATE, C.EXPLORATION_DATE, C.CHEMO_END_DATE)},
        "operated without exploration date": (op & df[C.EXPLORATION_DATE].isna().to_numpy()).sum(),
    }
    for name in SURGERY_ONLY_NAMES:
        v[f"{name} filled in chemotherapy group"] = int(df.loc[~op, name].notna().sum())
        v[f"{name} empty in surgery group"] = int(df.loc[op, name].isna().sum())
    for name in IMPORTED_NAMES:
        col = COLUMNS_BY_NAME[name]
        if col.requirement == "required":
            v[f"{name} missing"] = int(df[name].isna().sum())
        x = df[name].dropna()
        if col.kind == "category":
            v[f"{name} label"] = int((~x.isin(col.categories)).sum())
        if col.kind in ("integer", "number"):
            if col.minimum is not None:
                v[f"{name} < min"] = int((x.astype(float) < col.minimum).sum())
            if col.maximum is not None:
                v[f"{name} > max"] = int((x.astype(float) > col.maximum).sum())
    return {k: int(n) for k, n in v.items() if n}


def _design(df: pd.DataFrame) -> pd.DataFrame:
    """Pre-surgery covariates of the outcome model, coded from the imported columns."""
    ca_resp = (df[C.CA19_9_RESTAGING] <= 0.5 * df[C.CA19_9_BASELINE]) & ~df[C.LEWIS_NEGATIVE].astype(bool)
    return pd.DataFrame(
        {
            "age10": (df[C.AGE].astype(float) - 64.0) / 10.0,
            "ecog1": (df[C.ECOG] == 1).astype(float),
            "ecog2": (df[C.ECOG] == 2).astype(float),
            "mets23": df[C.LIVER_METS_N].between(2, 3).astype(float),
            "mets4": (df[C.LIVER_METS_N] > 3).astype(float),
            "gn": (df[C.CHEMO_REGIMEN] == Regimen.GEM_NABPAC).astype(float),
            "gem": (df[C.CHEMO_REGIMEN] == Regimen.GEM).astype(float),
            "pd": (df[C.RECIST] == Recist.PD).astype(float),
            "pr": (df[C.RECIST] == Recist.PR).astype(float),
            "cr": (df[C.RECIST] == Recist.CR).astype(float),
            "ca_resp": ca_resp.fillna(False).astype(float),
            "borderline": (df[C.RESECTABILITY] == Resectability.BORDERLINE).astype(float),
        }
    ).reset_index(drop=True)


def _hr(fitter, name: str = "S") -> float:
    return float(np.exp(fitter.params_[name]))


def _td_long(os_c, ev, s_m, op, X=None) -> pd.DataFrame:
    base = pd.DataFrame({"id": np.arange(len(os_c))}) if X is None else X.assign(id=np.arange(len(os_c)))
    pre = base.assign(start=0.0, stop=np.where(op, s_m, os_c), E=np.where(op, 0, ev), S=0)
    post = base[op].assign(start=s_m[op], stop=os_c[op], E=ev[op], S=1)
    long = pd.concat([pre, post], ignore_index=True)
    return long[long["stop"] > long["start"]]


# ------------------------------------------------------------------------------------------------
# format
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_cohort() -> pd.DataFrame:
    return syn.generate()


def test_columns_and_types(default_cohort):
    df = default_cohort
    assert tuple(df.columns) == IMPORTED_NAMES
    assert len(df) == 90
    assert df[C.TREATMENT_GROUP].value_counts().to_dict() == {Arm.SURGERY: 45, Arm.CHEMOTHERAPY: 45}
    for name in IMPORTED_NAMES:
        kind = COLUMNS_BY_NAME[name].kind
        dtype = df[name].dtype
        if kind == "date":
            assert pd.api.types.is_datetime64_dtype(dtype), name
            x = df[name].dropna()
            assert (x == x.dt.normalize()).all(), name
        elif kind == "boolean":
            assert dtype == "boolean", name
        elif kind == "integer":
            assert dtype == "Int64", name
        elif kind == "number":
            assert dtype == np.float64, name
        else:
            assert pd.api.types.is_object_dtype(dtype), name
            assert all(isinstance(v, str) for v in df[name].dropna()), name
    assert df[C.PATIENT_ID].is_unique
    assert all(re.fullmatch(r"SYN-\d{4}", p) for p in df[C.PATIENT_ID])
    assert list(df[C.PATIENT_ID][:3]) == ["SYN-0001", "SYN-0002", "SYN-0003"]
    assert set(df[C.CENTRE_ID]) <= {f"C{i:02d}" for i in range(1, 9)}
    assert df[C.CENTRE_ID].nunique() >= 6  # 90 patients over 8 centres


def test_truth_is_separate_and_matches_the_cohort():
    res = syn.generate_with_truth(30, 20, seed=5)
    assert not set(res.truth.columns) & set(IMPORTED_NAMES[1:])
    assert list(res.truth["patient_id"]) == list(res.cohort[C.PATIENT_ID])
    op = (res.cohort[C.TREATMENT_GROUP] == Arm.SURGERY).to_numpy()
    assert (res.truth["surgery"].to_numpy() == op).all()
    sm = _months(res.cohort[C.SURGERY_DATE], res.cohort[C.CHEMO_START_DATE])
    assert np.allclose(sm[op], res.truth["surgery_months"].to_numpy()[op], atol=1 / DPM)
    assert res.truth["surgery_months"][~op].isna().all()
    dead = (res.cohort[C.VITAL_STATUS] == Vital.DEAD).to_numpy()
    os_c = _months(res.cohort[C.LAST_FOLLOWUP_DATE], res.cohort[C.CHEMO_START_DATE])
    t_act = res.truth["os_months_actual"].to_numpy()
    assert np.allclose(os_c[dead], np.maximum(t_act[dead], 1 / DPM), atol=0.6 / DPM)  # deaths observed to the day
    assert (os_c[~dead] <= t_act[~dead] + 0.6 / DPM).all()  # censored before the true death
    assert res.true_hr == syn.TRUE_HR == 0.70


def test_deterministic_and_seed_dependent():
    a = syn.generate(20, 20, seed=11)
    pd.testing.assert_frame_equal(a, syn.generate(20, 20, seed=11))
    assert not a.equals(syn.generate(20, 20, seed=12))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_surgery": -1},
        {"n_surgery": 0, "n_chemotherapy": 0},
        {"n_surgery": True},
        {"n_chemotherapy": 2.5},
        {"seed": -3},
        {"seed": "1"},
        {"n_centres": 0},
        {"calibration": {"weibull_shape": 1.3}},
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        syn.generate_with_truth(**kwargs)


def test_one_arm_only():
    df = syn.generate(0, 7, seed=2)
    assert (df[C.TREATMENT_GROUP] == Arm.CHEMOTHERAPY).all()
    assert df[list(SURGERY_ONLY_NAMES)].isna().all().all()


# ------------------------------------------------------------------------------------------------
# consistency rules
# ------------------------------------------------------------------------------------------------


def test_consistency_default(default_cohort):
    assert consistency_violations(default_cohort) == {}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 99, 123456])
def test_consistency_several_seeds(seed):
    assert consistency_violations(syn.generate(45, 45, seed=seed, n_centres=5)) == {}


def test_consistency_large():
    df = syn.generate(5000, 5000, seed=8)
    assert consistency_violations(df) == {}
    # plausible missingness: some CA19-9 missing, required fields never
    assert 0.02 < df[C.CA19_9_BASELINE].isna().mean() < 0.12
    assert 0.05 < df[C.CA19_9_RESTAGING].isna().mean() < 0.30


def test_consistency_checker_can_fail(default_cohort):
    bad = default_cohort.copy()
    i = int(np.flatnonzero(bad[C.TREATMENT_GROUP] == Arm.CHEMOTHERAPY)[0])
    bad.loc[i, C.PANCREATIC_PROCEDURE] = Pancreatic.PD
    j = int(np.flatnonzero(bad[C.VITAL_STATUS] == Vital.DEAD)[0])
    bad.loc[j, C.DEATH_DATE] = bad.loc[j, C.LAST_FOLLOWUP_DATE] + pd.Timedelta(days=1)
    v = consistency_violations(bad)
    assert f"{C.PANCREATIC_PROCEDURE} filled in chemotherapy group" in v
    assert "death != last follow-up" in v


# ------------------------------------------------------------------------------------------------
# the truth
# ------------------------------------------------------------------------------------------------


def test_piecewise_hazard_inversion_by_hand():
    """H(T1) - H(s) = (H(T0) - H(s)) / 0.70 with H = (t / scale) ** shape, from the truth table."""
    cal = syn.CALIBRATION
    res = syn.generate_with_truth(400, 100, seed=21)
    t = res.truth[res.truth["surgery"] & ~res.truth["postoperative_death"]]
    h = lambda x: (x / cal.weibull_scale_months) ** cal.weibull_shape  # noqa: E731
    s, t0, t1 = t["surgery_months"], t["os_months_no_surgery"], t["os_months_actual"]
    assert (t0 > s).all() and (t1 > t0).all()
    assert np.allclose(h(t1) - h(s), (h(t0) - h(s)) / 0.70, rtol=1e-9)
    ctl = res.truth[~res.truth["surgery"]]
    assert (ctl["os_months_actual"] == ctl["os_months_no_surgery"]).all()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Column pd have very low variance")
def test_true_hr_recovered_by_time_dependent_cox():
    """Uncensored source data, true covariates, no postoperative deaths / occult progression:
    a Cox model with surgery as a time-dependent covariate must return 0.70."""
    cal = replace(syn.CALIBRATION, occult_progression_days=0, postop_death_prob=0.0)
    src = syn.simulate_source(60_000, seed=4, calibration=cal)
    X = pd.DataFrame(
        {
            "age10": (src["age"] - 64) / 10,
            "ecog1": (src["ecog"] == 1) * 1.0,
            "ecog2": (src["ecog"] == 2) * 1.0,
            "m23": (src["mets_group"] == 1) * 1.0,
            "m4": (src["mets_group"] == 2) * 1.0,
            "gn": (src["regimen"] == Regimen.GEM_NABPAC) * 1.0,
            "gem": (src["regimen"] == Regimen.GEM) * 1.0,
            "pd": (src["recist"] == Recist.PD) * 1.0,
            "pr": (src["recist"] == Recist.PR) * 1.0,
            "cr": (src["recist"] == Recist.CR) * 1.0,
            "ca": src["ca_resp"] * 1.0,
            "bl": (~src["resectable"]) * 1.0,
        }
    )
    op = src["operated"].to_numpy()
    grid = lambda x: np.ceil(x.to_numpy() * 10) / 10  # noqa: E731 - 0.1-month grid keeps lifelines fast (Efron ties)
    long = _td_long(grid(src["os_months_actual"]), np.ones(len(src), int), grid(src["surgery_months"]), op, X)
    ctv = CoxTimeVaryingFitter().fit(long, id_col="id", start_col="start", stop_col="stop", event_col="E")
    assert _hr(ctv) == pytest.approx(0.70, abs=0.035)
    # the recipe's covariate HRs come back too (ECOG 2: 1.8; >3 metastases: 2.0; PD: 2.2)
    assert _hr(ctv, "ecog2") == pytest.approx(1.8, rel=0.08)
    assert _hr(ctv, "m4") == pytest.approx(2.0, rel=0.08)
    assert _hr(ctv, "pd") == pytest.approx(2.2, rel=0.08)


def test_true_rmst_difference():
    res = syn.generate_with_truth(300, 300, seed=9)
    d36 = syn.true_rmst_difference(res.truth, tau=36.0)
    d12 = syn.true_rmst_difference(res.truth, tau=12.0)
    assert 0 < d12 < d36 < 36
    # hand computation on the truth table
    t = res.truth[res.truth["surgery"]]
    s = t["surgery_months"]
    hand = (np.minimum(t["os_months_actual"] - s, 36) - np.minimum(t["os_months_no_surgery"] - s, 36)).mean()
    assert d36 == pytest.approx(hand)
    assert syn.true_rmst_difference(res.truth, tau=24.0, landmark=6.0) > 0
    with pytest.raises(ValueError):
        syn.true_rmst_difference(res.truth, tau=0)
    with pytest.raises(ValueError):
        syn.true_rmst_difference(res.truth, tau=12, landmark=-1)


# ------------------------------------------------------------------------------------------------
# calibration (domain.md §4 "Checks a correct generator passes")
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    return syn.simulate_source(300_000, seed=17)


def test_source_population(source):
    assert source["operated"].mean() == pytest.approx(0.12, abs=0.012)
    recist = source["recist"].value_counts(normalize=True)
    for label, share in ((Recist.PD, 0.26), (Recist.SD, 0.29), (Recist.PR, 0.37), (Recist.CR, 0.08)):
        assert recist[label] == pytest.approx(share, abs=0.015), label
    reg = source["regimen"].value_counts(normalize=True)
    for label, share in ((Regimen.FOLFIRINOX, 0.59), (Regimen.GEM_NABPAC, 0.33), (Regimen.GEM, 0.08)):
        assert reg[label] == pytest.approx(share, abs=0.015), label
    # FOLFIRINOX for the younger: mean age lower than with gemcitabine alone
    assert source.loc[source["regimen"] == Regimen.FOLFIRINOX, "age"].mean() < source.loc[source["regimen"] == Regimen.GEM, "age"].mean() - 3
    assert source["male"].mean() == pytest.approx(0.55, abs=0.01)
    assert source["lewis"].mean() == pytest.approx(0.08, abs=0.005)
    op = source[source["operated"]]
    # selection: operated responders, FOLFIRINOX, fewer metastases
    assert op["recist"].isin([Recist.PR, Recist.CR]).mean() > 0.7
    assert (op["regimen"] == Regimen.FOLFIRINOX).mean() > 0.65
    assert (op["mets_group"] == 2).mean() < 0.2
    # a centre effect on selection: shares operated differ between centres far beyond binomial noise
    by_centre = source.groupby("centre")["operated"].agg(["mean", "size"])
    assert len(by_centre) == 8 and by_centre["size"].min() > 5000
    assert by_centre["mean"].max() - by_centre["mean"].min() > 0.04  # binomial SD of a share here < 0.005


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return syn.generate(n_surgery=15_000, n_chemotherapy=15_000, seed=31)


@pytest.fixture(scope="module")
def big_times(big):
    op = (big[C.TREATMENT_GROUP] == Arm.SURGERY).to_numpy()
    return {
        "op": op,
        "ev": (big[C.VITAL_STATUS] == Vital.DEAD).to_numpy().astype(int),
        "os_c": _months(big[C.LAST_FOLLOWUP_DATE], big[C.CHEMO_START_DATE]),
        "os_s": _months(big[C.LAST_FOLLOWUP_DATE], big[C.SURGERY_DATE]),
        "s_m": _months(big[C.SURGERY_DATE], big[C.CHEMO_START_DATE]),
    }


def test_chemotherapy_group_median_os(big_times):
    t = big_times
    km = KaplanMeierFitter().fit(t["os_c"][~t["op"]], t["ev"][~t["op"]])
    assert km.median_survival_time_ == pytest.approx(10.0, abs=1.0)


def test_operated_os_from_surgery(big_times):
    t = big_times
    km = KaplanMeierFitter().fit(t["os_s"][t["op"]], t["ev"][t["op"]])
    assert km.median_survival_time_ == pytest.approx(24.0, abs=2.5)
    s1, s3, s5 = km.survival_function_at_times([12.0, 36.0, 60.0]).to_numpy()
    assert s1 == pytest.approx(0.72, abs=0.04)
    assert s3 == pytest.approx(0.34, abs=0.04)
    assert s5 == pytest.approx(0.14, abs=0.04)


def test_naive_hr_is_biased(big_times):
    """Surgery as a fixed baseline covariate, clock from chemotherapy start (immortal time)."""
    t = big_times
    d = pd.DataFrame({"T": t["os_c"], "E": t["ev"], "S": t["op"].astype(int)})
    hr = _hr(CoxPHFitter().fit(d, "T", "E"))
    assert 0.29 <= hr <= 0.42  # published crude 0.35-0.45; the recipe lands at ~0.34 (see module docs)


@pytest.mark.slow
def test_immortal_time_methods_near_truth(big, big_times):
    """Time-dependent Cox and a 6-month landmark, adjusted for pre-surgery covariates."""
    t = big_times
    X = _design(big)
    ne = (big[C.RECIST] == Recist.NE).to_numpy()  # not restaged: died before restaging (future-defined)
    keep = ~ne
    grid = lambda x: np.ceil(x * 10) / 10  # noqa: E731 - 0.1-month grid keeps lifelines fast (Efron ties)
    long = _td_long(grid(t["os_c"][keep]), t["ev"][keep], grid(t["s_m"][keep]), t["op"][keep], X[keep].reset_index(drop=True))
    ctv = CoxTimeVaryingFitter().fit(long, id_col="id", start_col="start", stop_col="stop", event_col="E")
    assert 0.62 <= _hr(ctv) <= 0.80
    unadj = CoxTimeVaryingFitter().fit(long[["id", "start", "stop", "E", "S"]], id_col="id", start_col="start", stop_col="stop", event_col="E")
    assert _hr(unadj) < _hr(ctv) - 0.1  # selection of good-prognosis patients biases unadjusted estimates
    L = 6.0
    at = t["os_c"] > L
    lm = X[at].assign(T=t["os_c"][at] - L, E=t["ev"][at], S=(t["op"] & (np.nan_to_num(t["s_m"], nan=np.inf) < L))[at].astype(int))
    assert 0.62 <= _hr(CoxPHFitter().fit(lm, "T", "E")) <= 0.86


def test_short_term_outcomes(big):
    op = big[big[C.TREATMENT_GROUP] == Arm.SURGERY]
    assert op[C.CLAVIEN_DINDO].isin(ClavienDindo.MAJOR).mean() == pytest.approx(0.25, abs=0.03)
    popf = op.loc[op[C.PANCREATIC_PROCEDURE] != Pancreatic.TP, C.POPF].value_counts(normalize=True)
    assert popf["B"] == pytest.approx(0.15, abs=0.02)
    assert popf["C"] == pytest.approx(0.04, abs=0.01)
    assert (op[C.MARGIN] == "R0").mean() == pytest.approx(0.60, abs=0.02)
    assert op[C.ADJUVANT_CHEMO].mean() == pytest.approx(0.70, abs=0.04)
    d90 = ((op[C.DEATH_DATE] - op[C.SURGERY_DATE]).dt.days <= 90).mean()
    assert 0.02 <= d90 <= 0.05  # ~3% postoperative mortality
    # more deaths after a head resection combined with a major hepatectomy
    major = op[C.LIVER_SEGMENTS_N] >= 3
    head = op[C.PANCREATIC_PROCEDURE].isin([Pancreatic.PD, Pancreatic.PPPD, Pancreatic.TP])
    dead90 = op[C.CLAVIEN_DINDO] == ClavienDindo.V
    assert dead90[head & major].mean() > 1.5 * dead90[~(head & major)].mean()
    # head tumours: PD/PPPD/TP; body/tail: DP
    assert (op.loc[op[C.TUMOUR_LOCATION] == "body_tail", C.PANCREATIC_PROCEDURE] == Pancreatic.DP).all()
    assert (op.loc[op[C.TUMOUR_LOCATION] == "head", C.PANCREATIC_PROCEDURE] == Pancreatic.TP).mean() == pytest.approx(0.10, abs=0.02)
    assert (op[C.LIVER_PROCEDURE] == "wedge").mean() == pytest.approx(0.70, abs=0.02)


@pytest.mark.slow
def test_scales_to_a_million():
    """A million patients generate consistently (how long it takes: `make bench`, docs/benchmarks.md)."""
    df = syn.generate(n_surgery=500_000, n_chemotherapy=500_000, seed=1)
    assert df.shape == (1_000_000, len(IMPORTED_NAMES))
    assert df[C.PATIENT_ID].is_unique
    assert (df[C.TREATMENT_GROUP] == Arm.SURGERY).sum() == 500_000


# ------------------------------------------------------------------------------------------------
# the shipped demo cohort
# ------------------------------------------------------------------------------------------------


def test_demo_files_equal_generator_output():
    df = syn.demo_cohort()
    parquet = (ROOT / "data" / syn.DEMO_PARQUET).read_bytes()
    csv = (ROOT / "data" / syn.DEMO_CSV).read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(parquet)), df)
    assert syn.to_parquet_bytes(df) == parquet
    assert syn.to_csv_bytes(df) == csv
    readme = (ROOT / "data" / "README.md").read_text()
    assert readme == syn.demo_readme({syn.DEMO_PARQUET: hashlib.sha256(parquet).hexdigest(), syn.DEMO_CSV: hashlib.sha256(csv).hexdigest()})
    assert hashlib.sha256(parquet).hexdigest() in readme
    assert hashlib.sha256(csv).hexdigest() in readme
    assert f"seed {syn.DEMO_SEED}" in readme and syn.GENERATOR_VERSION in readme
    assert "synthetic" in readme.lower()


def test_demo_csv_format():
    text = (ROOT / "data" / syn.DEMO_CSV).read_bytes().decode("utf-8")
    assert not text.startswith("\ufeff")
    lines = text.splitlines()
    assert lines[0] == ",".join(IMPORTED_NAMES)
    assert len(lines) == 91
    assert "nan" not in text.lower() and "NaT" not in text and "None" not in text
    assert "True" not in text and "False" not in text and ",true," in text and ",false," in text
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    df = syn.demo_cohort()
    assert (back[C.DIAGNOSIS_DATE] == df[C.DIAGNOSIS_DATE].dt.strftime("%Y-%m-%d")).all()
    assert ((back[C.DEATH_DATE] == "") == df[C.DEATH_DATE].isna()).all()
    assert (back[C.AGE].astype(int) == df[C.AGE]).all()
    ca = pd.to_numeric(back[C.CA19_9_BASELINE].replace("", np.nan))
    np.testing.assert_array_equal(ca.to_numpy(), df[C.CA19_9_BASELINE].to_numpy())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", back[C.CHEMO_START_DATE][0])


def test_demo_cohort_plausible():
    df = syn.demo_cohort()
    assert consistency_violations(df) == {}
    assert df[C.CENTRE_ID].nunique() == 8
    dead = (df[C.VITAL_STATUS] == Vital.DEAD).to_numpy()
    assert 40 <= dead.sum() <= 89
    op = (df[C.TREATMENT_GROUP] == Arm.SURGERY).to_numpy()
    os_c = _months(df[C.LAST_FOLLOWUP_DATE], df[C.CHEMO_START_DATE])
    med_ctl = KaplanMeierFitter().fit(os_c[~op], dead[~op]).median_survival_time_
    med_op = KaplanMeierFitter().fit(os_c[op], dead[op]).median_survival_time_
    assert 5 <= med_ctl <= 16 and med_op > med_ctl


def test_write_demo(tmp_path):
    digests = syn.write_demo(tmp_path / "out")
    for name, digest in digests.items():
        assert hashlib.sha256((tmp_path / "out" / name).read_bytes()).hexdigest() == digest
    assert (tmp_path / "out" / syn.DEMO_CSV).read_bytes() == (ROOT / "data" / syn.DEMO_CSV).read_bytes()


# ------------------------------------------------------------------------------------------
# dictionary 1.1 columns: a separate random stream

#: SHA-256 of ``to_csv_bytes(generate(...))`` by generator 1.0.0 (main 7f07888), before the 1.1 columns existed.
GENERATOR_1_0_DIGESTS = {
    (30, 30, 7): "335f7008ae1a71a6fb6d1dac42c40adbbbc9d6788ad891e80180874e4f10a7c0",
    (200, 150, 20240101): "884f26293e9a6f15143ebfcae442e6fb05f11c240fbb6495ea374fcad1c6418e",
    (45, 45, 3): "0d8302a73adee3d52ced63263373b7c0b1fb2dd15c83e95a04623ad45df1868f",
}
V11 = [c for c in IMPORTED_NAMES if COLUMNS_BY_NAME[c].since == "1.1"]


@pytest.mark.parametrize("args", sorted(GENERATOR_1_0_DIGESTS))
def test_the_1_0_columns_of_every_seed_are_those_of_generator_1_0(args):
    df = syn.generate(args[0], args[1], seed=args[2])
    digest = hashlib.sha256(syn.to_csv_bytes(df.drop(columns=V11))).hexdigest()
    assert digest == GENERATOR_1_0_DIGESTS[args]


def test_the_1_1_columns_come_from_their_own_stream(monkeypatch):
    before = syn.generate(60, 60, seed=5)
    monkeypatch.setattr(syn, "V11_STREAM", 12)
    after = syn.generate(60, 60, seed=5)
    pd.testing.assert_frame_equal(before.drop(columns=V11), after.drop(columns=V11))
    assert not before[C.CEA_BASELINE].equals(after[C.CEA_BASELINE])


def test_the_1_1_columns_are_plausible():
    df = syn.generate(3000, 3000, seed=21)
    assert consistency_violations(df) == {}
    op = (df[C.TREATMENT_GROUP] == Arm.SURGERY).to_numpy()
    ne = (df[C.RECIST] == Recist.NE).to_numpy()
    assert df.loc[ne, C.RESTAGING_DATE].isna().all()  # died before restaging: no restaging scan
    assert (df.loc[op, C.EXPLORATION_DATE] == df.loc[op, C.SURGERY_DATE]).all()
    explored_ctl = (~op & df[C.EXPLORATION_DATE].notna().to_numpy()).sum() / (~op).sum()
    assert 0.03 < explored_ctl < 0.15
    cea = df[C.CEA_BASELINE]
    assert 0.15 < cea.isna().mean() < 0.25
    assert 3.0 < cea.median() < 7.0  # about half of metastatic PDAC above the upper normal limit (5 ng/mL)
    assert cea[df[C.LEWIS_NEGATIVE].to_numpy(bool)].notna().any()  # Lewis-negative patients keep a CEA
    months = (df[C.RESTAGING_DATE] - df[C.CHEMO_START_DATE]).dt.days / 30.4375
    assert 1.5 < months.median() < 5.0
