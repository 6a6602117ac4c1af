"""Tests of core.imputed: imputation of missing propensity covariates, matching within each, Rubin's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import NelsonAalenFitter

from core import cohort, matching, survival
from core.dictionary import C
from core.imputed import imputed_matches, missing_by_arm, nelson_aalen_at
from core.population import EVENT, TIME, TREATED, landmark_population
from core.spec import AnalysisSpec


def test_nelson_aalen_at_each_time_equals_lifelines():
    rng = np.random.default_rng(3)
    t = rng.integers(1, 30, 200).astype(float)
    e = (rng.uniform(size=200) < 0.6).astype(int)
    naf = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(t, e)
    expected = naf.cumulative_hazard_at_times(t).to_numpy()
    np.testing.assert_allclose(nelson_aalen_at(t, e), expected, rtol=1e-12)


@pytest.fixture(scope="module")
def population():
    pop = landmark_population(cohort.demo().data, origin="chemo_start", landmark=6.0)
    data = pop.data.copy()
    rng = np.random.default_rng(5)
    hide = rng.uniform(size=len(data)) < 0.25  # a quarter of the CA19-9 values and some ECOG values missing
    data.loc[hide, C.CA19_9_BASELINE] = np.nan
    data[C.ECOG] = data[C.ECOG].astype("Float64")
    data.loc[rng.uniform(size=len(data)) < 0.1, C.ECOG] = np.nan
    return type(pop)(data, pop.description, pop.excluded, pop.step, pop.counted_in)


def _match(frame, names):
    return matching.match_nearest(frame, TREATED, names, distance="firth", drop_constant=True, min_level_count=5)


def _fit(sample):
    return survival.cox(sample, TIME, EVENT, [TREATED], cluster="subclass")


def test_missing_values_are_counted_per_variable_and_arm(population):
    table = missing_by_arm(population, AnalysisSpec().covariates).set_index("variable")
    data = population.data
    op = data[TREATED] == 1
    ca = table.loc["CA19-9 baseline (U/mL)"]
    assert ca["operated"] == data.loc[op, C.CA19_9_BASELINE].isna().sum() > 0
    assert ca["chemotherapy only"] == data.loc[~op, C.CA19_9_BASELINE].isna().sum() > 0
    assert len(table) == 2  # CA19-9 and ECOG; complete covariates are not listed


def test_every_completed_data_set_keeps_every_patient_and_its_observed_values(population):
    res = imputed_matches(population, AnalysisSpec().covariates, match=_match, fit=_fit, m=5)
    assert res.m == 5 and len(res.matches) == 5
    observed = population.data[C.ECOG].notna()
    for mr in res.matches:
        assert mr.n_dropped_missing == 0  # nobody left out for a missing value
        rows = mr.matched.loc[mr.matched.index.isin(population.data.index[observed])]
        np.testing.assert_array_equal(rows[C.ECOG].to_numpy(float),
                                      population.data.loc[rows.index, C.ECOG].to_numpy(float))
        assert mr.matched[C.ECOG].notna().all()


def test_the_pooled_estimate_follows_rubins_rules_on_the_per_imputation_fits(population):
    res = imputed_matches(population, AnalysisSpec().covariates, match=_match, fit=_fit, m=6)
    b = np.array([f.coef[0] for f in res.fits])
    u = np.array([f.var[0, 0] for f in res.fits])
    total = u.mean() + (1 + 1 / 6) * b.var(ddof=1)
    row = res.pooled.table.loc[TREATED]
    assert row["estimate"] == pytest.approx(b.mean(), rel=1e-12)
    assert row["t"] == pytest.approx(total, rel=1e-12)
    assert b.std() > 0  # the imputations differ


def test_same_seed_same_answer_and_nothing_missing_gives_none(population):
    a = imputed_matches(population, AnalysisSpec().covariates, match=_match, fit=_fit, m=3)
    b = imputed_matches(population, AnalysisSpec().covariates, match=_match, fit=_fit, m=3)
    pd.testing.assert_frame_equal(a.pooled.table, b.pooled.table)
    complete = population.data.dropna(subset=[C.CA19_9_BASELINE, C.ECOG])
    pop = type(population)(complete, "", {})
    assert imputed_matches(pop, AnalysisSpec().covariates, match=_match, fit=_fit, m=3) is None


def test_the_spec_choice_keeps_the_incomplete_patients_and_the_methods_say_how(population):
    from core import analysis, report

    demo = cohort.demo()
    spec = AnalysisSpec(missing="impute")
    complete, imputed = analysis.run(demo, AnalysisSpec()), analysis.run(demo, spec)
    assert imputed.chosen.estimate.estimated
    assert imputed.chosen.estimate.counts.n > complete.chosen.estimate.counts.n  # nobody left out
    assert any(n.startswith("Multiple imputation: 2 missing covariate value(s) imputed 20 times")
               for n in imputed.chosen.notes)
    text = report.methods_paragraph(spec, result=imputed)
    assert "imputed 20 times by chained equations" in text and "complete-case" not in text
    assert "complete-case analysis" in report.methods_paragraph(AnalysisSpec(), result=complete)


def test_complete_cases_say_who_was_left_out_per_covariate_and_arm():
    from core import analysis

    res = analysis.run(cohort.demo(), AnalysisSpec())
    pop = res.population
    op = pop["treated"] == 1
    n_op, n_chemo = int(pop.loc[op, C.CA19_9_BASELINE].isna().sum()), int(pop.loc[~op, C.CA19_9_BASELINE].isna().sum())
    assert n_op + n_chemo > 0
    expected = f"CA19-9 baseline (U/mL): {n_op} operated, {n_chemo} chemotherapy only"
    assert any(n.startswith("Complete cases:") and expected in n for n in res.chosen.notes)
