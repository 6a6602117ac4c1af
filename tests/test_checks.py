"""core/checks.py: the reviewer's checks of a view, recomputed by hand from the view's numbers."""

from __future__ import annotations

import dataclasses
import math

import pytest
from scipy import stats

from core import analysis, checks, cohort, ph
from core.population import EVENT, TIME, TREATED
from core.spec import AnalysisSpec


@pytest.fixture(scope="module")
def demo():
    return cohort.demo()


def test_ph_test_is_of_the_headline_comparisons_own_cox_model(demo):
    res = analysis.run(demo, AnalysisSpec())
    got = checks.reviewer_checks(res)
    chosen = res.chosen
    again = ph.cox_zph(chosen.sample, TIME, EVENT, [TREATED], cluster=chosen.cluster, weights=chosen.weights)
    assert got.comparison == chosen.label
    assert got.ph.table.equals(again.table)
    assert got.ph.fit.table.loc[TREATED, "hr"] == pytest.approx(res.hr.hr, rel=1e-12)
    assert got.ph_plot.term == TREATED and len(got.ph_plot.points) == int(chosen.sample[EVENT].sum())


def test_evalue_precision_and_bayes_by_hand(demo):
    res = analysis.run(demo, AnalysisSpec())
    got = checks.reviewer_checks(res)
    hr, lo, up = res.hr.hr, res.hr.lower, res.hr.upper

    def rr(h):  # VanderWeele 2017, common outcome
        return (1 - 0.5 ** math.sqrt(h)) / (1 - 0.5 ** math.sqrt(1 / h))

    def e(r):
        r = 1 / r if r < 1 else r
        return r + math.sqrt(r * (r - 1))

    assert got.evalue.evalue == pytest.approx(e(rr(hr)), rel=1e-12)
    assert got.evalue.evalue_ci == pytest.approx(e(rr(up)), rel=1e-12)  # protective: the upper limit
    c = res.hr.counts
    p = c.n_surgery / c.n
    se = math.sqrt(1 / (c.events * p * (1 - p)))
    assert got.precision.se_log_hr == pytest.approx(se, rel=1e-12)
    assert got.precision.width_ratio == pytest.approx(math.exp(2 * stats.norm.ppf(0.975) * se), rel=1e-12)
    z = stats.norm.ppf(0.975)
    d_mean, d_se = math.log(hr), (math.log(up) - math.log(lo)) / (2 * z)
    p_sd = math.log(0.7) / stats.norm.ppf(0.05)  # 5% prior probability of HR < 0.70, centred on HR 1
    prec = 1 / p_sd**2 + 1 / d_se**2
    post_mean, post_sd = (d_mean / d_se**2) / prec, math.sqrt(1 / prec)
    assert got.bayes.prob_below == pytest.approx(stats.norm.cdf((math.log(0.8) - post_mean) / post_sd), rel=1e-9)


def test_no_hazard_ratio_gives_reasons_not_numbers(demo):
    res = analysis.run(demo, dataclasses.replace(AnalysisSpec(), hepatectomy="major"))
    got = checks.reviewer_checks(res)
    assert got.evalue is None and got.precision is None and got.bayes is None and got.ph is None
    assert got.reason == res.hr.reason and got.ph_reason
    assert checks.checks_tables(got) == {}


def test_tables_leave_out_a_small_event_count():
    fake = checks.ReviewerChecks("x", None, None, "", None, None, None, "")
    assert checks.checks_tables(fake) == {}
    from core.precision import expected_precision

    small = dataclasses.replace(fake, precision=expected_precision(8, 0.5, hr=0.7))
    assert "events" in checks.checks_tables(small)["Expected precision"]["quantity"].tolist()
    assert "events" not in checks.checks_tables(small, k=11)["Expected precision"]["quantity"].tolist()


@pytest.mark.parametrize("model", ["strata", "cluster"])
def test_the_proportional_hazards_test_uses_the_centre_choice_of_the_model_it_tests(model):
    from core import analysis, cohort, ph
    from core.checks import reviewer_checks
    from core.dictionary import C
    from core.population import EVENT, TIME, TREATED
    from core.spec import AnalysisSpec

    result = analysis.run(cohort.demo(), AnalysisSpec(centre_model=model))
    sample = result.chosen.sample
    got = reviewer_checks(result).ph.table
    kw = {"strata": C.CENTRE_ID, "cluster": "subclass"} if model == "strata" else {"cluster": C.CENTRE_ID}
    want = ph.cox_zph(sample, TIME, EVENT, [TREATED], **kw).table
    plain = ph.cox_zph(sample, TIME, EVENT, [TREATED], cluster="subclass").table
    assert got.to_numpy() == pytest.approx(want.to_numpy(), rel=1e-12)
    if model == "strata":  # stratification changes the test (the cluster alone does not enter cox.zph's score test)
        assert got.to_numpy() != pytest.approx(plain.to_numpy(), rel=1e-6)


def test_the_time_dependent_view_tests_its_own_model_not_the_landmark_match():
    import numpy as np

    from core import analysis, cohort
    from core.checks import reviewer_checks
    from core.spec import AnalysisSpec

    res = analysis.run(cohort.demo(), AnalysisSpec(method="time_dependent"))
    checks = reviewer_checks(res)
    assert checks.comparison == res.chosen.label
    assert checks.ph is not None and checks.ph.terms[0] == "treated" and len(checks.ph.terms) > 1
    # the tested fit is the one behind the hazard ratio shown
    assert np.exp(checks.ph.fit.coef[0]) == res.hr.hr
