"""Tests for core.evalue (VanderWeele & Ding, Ann Intern Med 2017;167:268-274).

The R package EValue is not packaged by Debian (``apt-cache search r-cran-evalue`` finds
nothing), so the expected values are the paper's worked examples, as printed in the paper, and
hand computations from the paper's formulas (Table 2), written out step by step below.
"""

from __future__ import annotations

import math

import pytest

from core.evalue import evalue, evalue_hr, hr_to_rr


def test_paper_example_breastfeeding_risk_ratio():
    # Paper: breastfeeding and infant death from respiratory infection (Victora et al.):
    # RR 3.9 (95% CI 1.8 to 8.7) -> E-value 7.2 for the estimate and 3.0 for the lower limit.
    r = evalue_hr(3.9, 1.8, 8.7, rare=True)  # a rare outcome: the ratio is used as it is
    assert math.floor(r.evalue * 10) / 10 == 7.2  # the paper prints 7.2 for 7.263 (truncated)
    assert round(r.evalue_ci, 1) == 3.0 and r.limit == "lower"
    # by hand: 3.9 + sqrt(3.9 * 2.9) = 3.9 + sqrt(11.31) = 7.2630; 1.8 + sqrt(1.8 * 0.8) = 1.8 + 1.2 = 3.0
    assert r.evalue == pytest.approx(3.9 + math.sqrt(11.31), rel=1e-14)
    assert r.evalue_ci == pytest.approx(3.0, rel=1e-14)


def test_paper_example_protective_risk_ratio():
    # Paper (the EValue package's evalues.RR example "leukemia example in VanderWeele and Ding (2017)"):
    # RR 0.80 (0.71 to 0.91) -> E-values 1.81 and 1.43, computed after inverting: 1/0.80 = 1.25.
    r = evalue_hr(0.80, 0.71, 0.91, rare=True)
    assert round(r.evalue, 2) == 1.81 and round(r.evalue_ci, 2) == 1.43 and r.limit == "upper"
    # by hand: 1.25 + sqrt(1.25 * 0.25) = 1.25 + 0.5590170 = 1.8090170
    assert r.evalue == pytest.approx(1.25 + math.sqrt(0.3125), rel=1e-14)
    # 1/0.91 = 100/91; (100/91)(9/91) = 900/8281, sqrt = 30/91; E = 130/91 = 10/7 = 1.4285714
    assert r.evalue_ci == pytest.approx(10 / 7, rel=1e-14)


def test_common_outcome_hazard_ratio_square_root_transformation():
    # Table 2 of the paper: for a common outcome RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)).
    # EValue's evalues.HR example: HR 0.56 (0.46 to 0.69), rare = FALSE. By hand:
    # sqrt(0.56) = 0.7483315, 0.5^0.7483315 = 0.5952916, 1 - ... = 0.4047084
    # sqrt(1/0.56) = 1.3363062, 0.5^1.3363062 = 0.3960333, 1 - ... = 0.6039667
    # RR = 0.4047084 / 0.6039667 = 0.6700840; 1/RR = 1.4923483;
    # E = 1.4923483 + sqrt(1.4923483 * 0.4923483) = 1.4923483 + 0.8571830 = 2.3495313
    r = evalue_hr(0.56, 0.46, 0.69, rare=False)
    assert r.rr == pytest.approx(0.6700840, abs=5e-8)
    assert r.evalue == pytest.approx(2.3495313, abs=5e-7)
    # upper limit 0.69: sqrt = 0.8306624, 0.5^. = 0.5622710 -> 0.4377290; sqrt(1/0.69) = 1.2038585,
    # 0.5^. = 0.4341127 -> 0.5658873; RR = 0.7735267 (1/RR 1.2927801); E = 1.2927801 + sqrt(1.2927801 *
    # 0.2927801) = 1.2927801 + 0.6152238 = 1.9080039
    assert r.evalue_ci == pytest.approx(1.9080039, abs=5e-8)
    rr_up = (1 - 0.5 ** math.sqrt(0.69)) / (1 - 0.5 ** math.sqrt(1 / 0.69))
    assert r.rr_upper == pytest.approx(rr_up, rel=1e-15)
    assert r.evalue_ci == pytest.approx(1 / rr_up + math.sqrt(1 / rr_up * (1 / rr_up - 1)), rel=1e-14)
    assert r.limit == "upper"


def test_rare_outcome_rule_uses_hr_as_rr():
    r = evalue_hr(0.56, 0.46, 0.69, rare=True)
    assert (r.rr, r.rr_lower, r.rr_upper) == (0.56, 0.46, 0.69)
    assert r.evalue == pytest.approx(evalue(1 / 0.56))


def test_interval_including_one_gives_evalue_one():
    for hr, lo, up in ((0.70, 0.45, 1.09), (1.3, 0.9, 1.8), (0.8, 0.6, 1.0)):
        r = evalue_hr(hr, lo, up)
        assert r.evalue_ci == 1.0 and r.limit is None
        assert "already includes 1" in r.reading


def test_harmful_hr_uses_lower_limit_and_inversion_is_symmetric():
    a = evalue_hr(2.0, 1.5, 2.7)
    b = evalue_hr(0.5, 1 / 2.7, 1 / 1.5)
    assert a.limit == "lower" and b.limit == "upper"
    assert a.evalue == pytest.approx(b.evalue, rel=1e-14)
    assert a.evalue_ci == pytest.approx(b.evalue_ci, rel=1e-14)
    assert hr_to_rr(2.0) == pytest.approx(1 / hr_to_rr(0.5), rel=1e-15)


def test_no_effect_and_no_interval():
    assert evalue(1.0) == 1.0
    r = evalue_hr(1.0)
    assert r.evalue == 1.0 and math.isnan(r.evalue_ci) and "no association" in r.reading
    r = evalue_hr(0.7)
    assert math.isnan(r.evalue_ci) and r.table.loc["confidence limit"].isna().all()


def test_reading_is_one_line_with_the_numbers():
    r = evalue_hr(0.56, 0.46, 0.69)
    assert "\n" not in r.reading
    assert "0.56" in r.reading and "2.35" in r.reading and "1.91" in r.reading and "95% CI 0.46 to 0.69" in r.reading
    assert list(r.table.columns) == ["hr", "rr", "evalue"]
    assert r.table.loc["confidence limit", "hr"] == 0.69


def test_bad_input_gives_clear_messages():
    with pytest.raises(ValueError, match="positive finite"):
        evalue_hr(0.0)
    with pytest.raises(ValueError, match="positive finite"):
        evalue_hr(float("nan"))
    with pytest.raises(ValueError, match="must be a number"):
        evalue_hr("0.7")
    with pytest.raises(ValueError, match="both confidence limits"):
        evalue_hr(0.7, 0.5)
    with pytest.raises(ValueError, match="bracket"):
        evalue_hr(0.7, 0.8, 0.9)
    with pytest.raises(ValueError, match="conf_level"):
        evalue_hr(0.7, 0.5, 0.9, conf_level=95)
    with pytest.raises(ValueError, match="must be a number"):
        evalue(True)
