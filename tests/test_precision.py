"""Tests for core.precision (Schoenfeld's expected precision; conjugate-normal reading).

Expected values are derived by hand from the formulas, with the intermediate numbers written
out; a simulation checks that Schoenfeld's variance is the variance our Cox fit shows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.precision import AID_NOTE, NormalPrior, bayesian_reading, expected_precision, sceptical_prior
from core.survival import cox

Z975 = 1.959963984540054  # qnorm(0.975)


def test_schoenfeld_100_events_equal_arms():
    # var = 1 / (100 * 0.5 * 0.5) = 0.04, se = 0.2
    r = expected_precision(100, 0.5, hr=0.7)
    assert r.se_log_hr == pytest.approx(0.2, rel=1e-15)
    # upper/lower = exp(2 * 1.959964 * 0.2) = exp(0.7839856) = 2.190184
    assert r.width_ratio == pytest.approx(2.190184, abs=1e-6)
    # 0.7 * exp(-0.3919928) = 0.7 * 0.6757090 = 0.4729963 ; 0.7 * exp(0.3919928) = 0.7 * 1.4799270 = 1.0359489
    assert r.expected_lower == pytest.approx(0.4729963, abs=1e-7)
    assert r.expected_upper == pytest.approx(1.0359489, abs=1e-7)
    # power = Phi(0.3566749 / 0.2 - 1.959964) = Phi(-0.1765893) = 0.429916
    assert r.power == pytest.approx(0.429916, abs=1e-6)
    # detectable HR = exp(-(1.959964 + 0.841621) * 0.2) = exp(-0.5603170) = 0.5710280
    assert r.detectable_hr == pytest.approx(0.5710280, abs=1e-7)
    assert r.note == AID_NOTE and "not an analysis" in AID_NOTE


def test_unequal_allocation_and_the_study_size():
    # 90 patients, 30 operated of 90 (p = 1/3), 60 events: var = 1 / (60 * 1/3 * 2/3) = 0.075
    r = expected_precision(60, 1 / 3)
    assert r.se_log_hr == pytest.approx(math.sqrt(0.075), rel=1e-14)
    assert math.isnan(r.power) and math.isnan(r.expected_lower)
    # domain note: 45 + 45 give about a third of power for HR 0.70; with about 70 deaths:
    # se = sqrt(4 / 70) = 0.239046, Phi(0.356675 / 0.239046 - 1.959964) = Phi(-0.467886) = 0.3199
    assert expected_precision(70, 0.5, hr=0.7).power == pytest.approx(0.3199, abs=1e-4)


def test_schoenfeld_variance_matches_cox_fits_in_simulation():
    """Deterministic simulation: the Cox model's variance of log HR is close to 1 / (D p (1 - p))."""
    rng = np.random.default_rng(11)
    ratios = []
    for _ in range(20):
        n = 400
        x = (rng.random(n) < 0.3).astype(int)
        t = rng.exponential(1 / (0.1 * np.exp(np.log(0.8) * x)))
        c = rng.uniform(1, 25, n)
        d = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "x": x})
        fit = cox(d, "t", "e", ["x"])
        p = x.mean()
        ratios.append(fit.table.loc["x", "naive_se"] ** 2 / (1 / (fit.n_events * p * (1 - p))))
    assert 0.9 < np.mean(ratios) < 1.1


def test_conjugate_normal_by_hand():
    # HR 0.7 (0.49 to 1.00): se = log(1/0.49) / (2 * 1.959964) = 0.7133499 / 3.9199280 = 0.1819804
    # prior: sd = -log(0.7) / 1.6448536 = 0.2168430, mean 0
    # precisions: 1/0.2168430^2 = 21.26715, 1/0.1819804^2 = 30.19611; total 51.46326
    # posterior mean = (-0.3566749 * 30.19611) / 51.46326 = -0.2092793; sd = 1/sqrt(51.46326) = 0.1393963
    # P(HR < 0.8) = Phi((-0.2231436 + 0.2092793) / 0.1393963) = Phi(-0.0994592) = 0.460387
    r = bayesian_reading(0.7, 0.49, 1.0, threshold=0.8)
    assert r.data_se == pytest.approx(0.1819804, abs=1e-7)
    assert r.prior.sd == pytest.approx(0.2168430, abs=1e-7)
    assert r.post_mean == pytest.approx(-0.2092793, abs=1e-7)
    assert r.post_sd == pytest.approx(0.1393963, abs=1e-7)
    assert r.prob_below == pytest.approx(0.460387, abs=1e-6)
    # prior alone: Phi(-0.2231436 / 0.2168430) = Phi(-1.029056) = 0.151727
    assert r.prob_below_prior == pytest.approx(0.151727, abs=1e-6)
    # data alone: Phi((-0.2231436 + 0.3566749) / 0.1819804) = Phi(0.7337682) = 0.768455
    assert r.prob_below_flat == pytest.approx(0.768455, abs=1e-6)
    assert r.post_hr == pytest.approx(math.exp(-0.2092793), abs=1e-7)
    assert r.reading.startswith("Aid to interpretation") and "46%" in r.reading and "\n" not in r.reading
    tab = r.table
    assert list(tab.index) == ["prior", "data", "posterior"]
    assert tab.loc["data", "lower"] == pytest.approx(0.49, rel=1e-12)
    assert tab.loc["data", "p_below_1"] == pytest.approx(0.975, rel=1e-9)  # the upper limit is exactly 1


def test_equal_information_prior_halves_the_distance():
    # prior sd equal to the data se: the posterior mean is halfway, its sd is se / sqrt(2)
    se = math.log(2.0) / (2 * Z975)
    r = bayesian_reading(1 / math.sqrt(2), 0.5, 1.0, prior=NormalPrior(0.0, se, "test prior"))
    assert r.data_mean == pytest.approx(math.log(1 / math.sqrt(2)))
    assert r.post_mean == pytest.approx(r.data_mean / 2, rel=1e-12)
    assert r.post_sd == pytest.approx(se / math.sqrt(2), rel=1e-12)


def test_sceptical_prior_has_the_stated_tail_probability():
    from scipy import stats

    pr = sceptical_prior(0.6, 0.1)
    assert pr.mean == 0 and pr.median_hr == 1.0
    assert stats.norm.cdf(math.log(0.6), pr.mean, pr.sd) == pytest.approx(0.1, rel=1e-12)
    assert "10%" in pr.label and "0.60" in pr.label


def test_bad_input_gives_clear_messages():
    with pytest.raises(ValueError, match="events must be > 0"):
        expected_precision(0)
    with pytest.raises(ValueError, match="allocation"):
        expected_precision(50, 1.0)
    with pytest.raises(ValueError, match="positive hazard ratio"):
        expected_precision(50, hr=-1)
    with pytest.raises(ValueError, match="must be a number"):
        expected_precision("50")
    with pytest.raises(ValueError, match="lower < hr < upper"):
        bayesian_reading(0.7, 0.8, 1.0)
    with pytest.raises(ValueError, match="below 1"):
        sceptical_prior(1.2)
    with pytest.raises(ValueError, match="below 0.5"):
        sceptical_prior(0.7, 0.6)
    with pytest.raises(ValueError, match="NormalPrior"):
        bayesian_reading(0.7, 0.5, 0.9, prior=NormalPrior(0.0, 0.0, "bad"))
