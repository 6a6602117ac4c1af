"""Tests of core.format (expected strings written by hand)."""

from __future__ import annotations

import pytest

from core.format import DASH, fmt_ci, fmt_interval, fmt_median, fmt_months, fmt_num, fmt_p, fmt_p_eq, fmt_pct

NAN = float("nan")


@pytest.mark.parametrize(("p", "text"), [(0.0, "<0.001"), (0.000999, "<0.001"), (0.001, "0.001"), (0.0312, "0.031"),
                                         (0.0494, "0.049"), (0.05, "0.050"), (1.0, "1.000"), (None, DASH), (NAN, DASH)])
def test_fmt_p(p, text):
    assert fmt_p(p) == text


@pytest.mark.parametrize(("p", "text"), [(0.0001, "< 0.001"), (0.04, "= 0.040"), (0.5, "= 0.500"), (NAN, "= —")])
def test_fmt_p_eq(p, text):
    assert fmt_p_eq(p) == text


def test_fmt_num():
    assert fmt_num(12.345) == "12.3" and fmt_num(12.346, 2) == "12.35"
    assert fmt_num(3, 0) == "3" and fmt_num(None) == DASH and fmt_num(NAN) == DASH
    assert fmt_num(-0.04, 1) == "-0.0"


def test_fmt_ci():
    assert fmt_ci(0.7, 0.52, 0.94) == "0.70 (0.52–0.94)"
    assert fmt_ci(0.7, NAN, 0.94) == "0.70 (NR–0.94)"
    assert fmt_ci(0.7, 0.5, None) == "0.70 (0.50–NR)"
    assert fmt_ci(12.34, 8.0, 20.0, 1) == "12.3 (8.0–20.0)"
    assert fmt_ci(NAN, 0.5, 0.9) == DASH
    assert fmt_ci(NAN, 0.5, 0.9, 1) == "not reached"


def test_fmt_months():
    assert fmt_months(18.8, 7.9, NAN) == "18.8 months (7.9–NR)"
    assert fmt_months(10.0, 8.26, 14.04) == "10.0 months (8.3–14.0)"
    assert fmt_months(NAN, 1.0, 2.0) == "not reached" and fmt_months(None, None, None) == "not reached"


def test_fmt_pct():
    assert fmt_pct(0.6222) == "62%" and fmt_pct(0.6222, 1) == "62.2%" and fmt_pct(1.0) == "100%"
    assert fmt_pct(0.0) == "0%" and fmt_pct(NAN) == DASH and fmt_pct(None) == DASH


def test_fmt_interval():
    assert fmt_interval(0.5, NAN, 1) == "0.5–NR"
    assert fmt_interval(None, 2.0) == "NR–2.00"
    assert fmt_interval(0.123, 0.456) == "0.12–0.46"


def test_fmt_median():
    assert fmt_median(18.84) == "18.8 mo" and fmt_median(NAN) == "not reached" and fmt_median(None) == "not reached"
