"""Tests of core.table1: hand computations, scipy run independently, and R values (inline).

R values were computed with R 4.2 (stats): ``fisher.test``, ``chisq.test``, ``wilcox.test``,
``t.test(var.equal = TRUE)``; the calls are quoted next to each number.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.dictionary import Arm, C, Recist, Regimen, Sex
from core.export import COMPLEMENTARY, csv_bytes, xlsx_bytes
from core.table1 import (
    CHI2,
    FISHER,
    MARKS,
    T_TEST,
    TABLE1_VARIABLES,
    WILCOXON,
    fisher_freeman_halton,
    format_p,
    suppress_table_one,
    suppress_table_one_long,
    table_one,
    table_one_before_after,
)

S, CH = Arm.SURGERY, Arm.CHEMOTHERAPY


def _long(t1, var, group, statistic, level=""):
    lg = t1.long
    sel = (lg["variable"] == var) & (lg["group"] == group) & (lg["statistic"] == statistic) & (lg["level"] == level)
    assert sel.sum() == 1, (var, group, statistic, level)
    return float(lg.loc[sel, "value"].iloc[0])


def _row(t1, var, level=""):
    tb = t1.table
    return tb[(tb["variable"] == var) & (tb["level"] == level)].iloc[0]


# ----------------------------------------------------------------------------- continuous
X_S = [1.2, 3.4, 2.2, 5.1, 4.4]
X_C = [2.5, 6.1, 7.3, 5.5, 8.8, 9.0]


def _frame(xs, xc, col):
    return pd.DataFrame({C.TREATMENT_GROUP: [S] * len(xs) + [CH] * len(xc), col: list(xs) + list(xc)})


def test_mean_sd_smd_and_t_test_by_hand():
    df = _frame(X_S, X_C, C.AGE)
    t1 = table_one(df, C.TREATMENT_GROUP, [C.AGE], nonnormal=[])
    # by hand: mean 16.3/5 = 3.26; SD sqrt(sum (x - 3.26)^2 / 4)
    m1 = 16.3 / 5
    v1 = sum((x - m1) ** 2 for x in X_S) / 4
    m0 = 39.2 / 6
    v0 = sum((x - m0) ** 2 for x in X_C) / 5
    assert _long(t1, C.AGE, S, "mean") == pytest.approx(3.26)
    assert _long(t1, C.AGE, S, "sd") == pytest.approx(math.sqrt(v1))
    assert _long(t1, C.AGE, CH, "mean") == pytest.approx(m0)
    smd = abs(m1 - m0) / math.sqrt((v1 + v0) / 2)
    assert _long(t1, C.AGE, "", "smd") == pytest.approx(smd)
    p = stats.ttest_ind(X_S, X_C).pvalue
    assert _long(t1, C.AGE, "", "p") == pytest.approx(p)
    assert p == pytest.approx(0.02952955056, rel=1e-8)  # R t.test(x, y, var.equal = TRUE)
    row = _row(t1, C.AGE)
    assert row["Variable"] == "Age (years), mean (SD)"
    assert row[S] == f"3.3 ({math.sqrt(v1):.1f})"
    assert row["p"] == "0.030" + MARKS[T_TEST]
    assert row["Test"] == T_TEST
    assert row["SMD"] == f"{smd:.3f}"


def test_median_iqr_and_wilcoxon_for_lab_values():
    df = _frame(X_S, X_C, C.CA19_9_BASELINE)
    t1 = table_one(df, C.TREATMENT_GROUP, [C.CA19_9_BASELINE])
    # sorted surgery values 1.2 2.2 3.4 4.4 5.1: median 3.4, Q1 2.2, Q3 4.4 (R quantile type 7)
    assert _long(t1, C.CA19_9_BASELINE, S, "median") == pytest.approx(3.4)
    assert _long(t1, C.CA19_9_BASELINE, S, "q1") == pytest.approx(2.2)
    assert _long(t1, C.CA19_9_BASELINE, S, "q3") == pytest.approx(4.4)
    # chemotherapy 2.5 5.5 6.1 7.3 8.8 9.0: median 6.7, Q1 = 5.5 + 0.25*0.6 = 5.65, Q3 = 7.3 + 0.75*1.5 = 8.425
    assert _long(t1, C.CA19_9_BASELINE, CH, "median") == pytest.approx(6.7)
    assert _long(t1, C.CA19_9_BASELINE, CH, "q1") == pytest.approx(5.65)
    assert _long(t1, C.CA19_9_BASELINE, CH, "q3") == pytest.approx(8.425)
    p = stats.mannwhitneyu(X_S, X_C, alternative="two-sided", method="exact").pvalue
    assert _long(t1, C.CA19_9_BASELINE, "", "p") == pytest.approx(p)
    assert p == pytest.approx(0.030303030303, rel=1e-9)  # R wilcox.test(x, y): exact
    row = _row(t1, C.CA19_9_BASELINE)
    assert row["Variable"].endswith("median [IQR]")
    assert row[S] == "3.4 [2.2, 4.4]"
    assert row["p"].endswith(MARKS[WILCOXON])


def test_wilcoxon_with_ties_uses_normal_approximation_with_continuity():
    xs, xc = [1, 2, 2, 3, 4], [2, 3, 5, 5, 6, 7]
    df = _frame(xs, xc, C.CHEMO_CYCLES)
    t1 = table_one(df, C.TREATMENT_GROUP, [C.CHEMO_CYCLES])
    p = stats.mannwhitneyu(xs, xc, alternative="two-sided", method="asymptotic", use_continuity=True).pvalue
    assert _long(t1, C.CHEMO_CYCLES, "", "p") == pytest.approx(p)


def test_skewness_rule_picks_median_for_skewed_and_mean_for_symmetric():
    skewed = [10, 10, 11, 11, 12, 12, 13, 90]
    sym = [10, 11, 12, 13, 14, 15, 16, 17]
    assert abs(stats.skew(skewed, bias=False)) > 1 > abs(stats.skew(sym, bias=False))
    df = pd.DataFrame({C.TREATMENT_GROUP: [S, CH] * 4, C.TUMOUR_SIZE: skewed, C.LIVER_METS_MAX: sym})
    t1 = table_one(df, C.TREATMENT_GROUP, [C.TUMOUR_SIZE, C.LIVER_METS_MAX])
    assert _row(t1, C.TUMOUR_SIZE)["Variable"].endswith("median [IQR]")
    assert _row(t1, C.LIVER_METS_MAX)["Variable"].endswith("mean (SD)")
    assert t1.nonnormal == (C.TUMOUR_SIZE,)
    # an explicit list replaces the rule
    t2 = table_one(df, C.TREATMENT_GROUP, [C.TUMOUR_SIZE, C.LIVER_METS_MAX], nonnormal=[C.LIVER_METS_MAX])
    assert _row(t2, C.TUMOUR_SIZE)["Variable"].endswith("mean (SD)")
    assert _row(t2, C.LIVER_METS_MAX)["Variable"].endswith("median [IQR]")


# ----------------------------------------------------------------------------- categorical
def test_categorical_counts_percent_missing_smd_and_chi_square():
    # surgery: 20 F, 10 M, 2 missing; chemotherapy: 12 F, 18 M
    sex = [Sex.FEMALE] * 20 + [Sex.MALE] * 10 + [None] * 2 + [Sex.FEMALE] * 12 + [Sex.MALE] * 18
    df = pd.DataFrame({C.TREATMENT_GROUP: [S] * 32 + [CH] * 30, C.SEX: sex})
    t1 = table_one(df, C.TREATMENT_GROUP, [C.SEX])
    head = _row(t1, C.SEX)
    assert head["Variable"] == "Sex, n (%)"
    assert head["Missing"] == "2 / 0"
    assert _row(t1, C.SEX, Sex.FEMALE)[S] == "20 (66.7%)"
    assert _row(t1, C.SEX, Sex.MALE)[CH] == "18 (60.0%)"
    # binary SMD by hand: p1 = 2/3, p0 = 0.4
    p1, p0 = 2 / 3, 0.4
    assert _long(t1, C.SEX, "", "smd") == pytest.approx(abs(p1 - p0) / math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2))
    p = stats.chi2_contingency([[20, 12], [10, 18]], correction=True)[1]
    assert _long(t1, C.SEX, "", "p") == pytest.approx(p)
    assert p == pytest.approx(0.0700755385933, rel=1e-9)  # R chisq.test(matrix(c(20,10,12,18),2))
    assert head["Test"] == CHI2 and head["p"] == "0.070" + MARKS[CHI2]
    assert _long(t1, C.SEX, S, "missing") == 2


def test_multilevel_smd_by_hand():
    # three regimens; tableone's SMD: sqrt(d' S^-1 d) over levels 2..k, S = average of the
    # two multinomial covariance matrices
    reg = ([Regimen.FOLFIRINOX] * 6 + [Regimen.GEM_NABPAC] * 3 + [Regimen.GEM] * 1
           + [Regimen.FOLFIRINOX] * 3 + [Regimen.GEM_NABPAC] * 5 + [Regimen.GEM] * 2)
    df = pd.DataFrame({C.TREATMENT_GROUP: [S] * 10 + [CH] * 10, C.CHEMO_REGIMEN: reg})
    t1 = table_one(df, C.TREATMENT_GROUP, [C.CHEMO_REGIMEN])
    a, b = np.array([0.3, 0.1]), np.array([0.5, 0.2])  # GEM_NABPAC, GEM
    d = a - b
    s = np.array([[(0.3 * 0.7 + 0.5 * 0.5) / 2, (-0.03 - 0.10) / 2],
                  [(-0.03 - 0.10) / 2, (0.1 * 0.9 + 0.2 * 0.8) / 2]])
    expected = math.sqrt(d @ np.linalg.inv(s) @ d)
    assert _long(t1, C.CHEMO_REGIMEN, "", "smd") == pytest.approx(expected)
    # expected counts below 5 -> Fisher-Freeman-Halton
    assert _row(t1, C.CHEMO_REGIMEN)["Test"] == FISHER


def test_fisher_exact_against_scipy_and_r():
    assert fisher_freeman_halton(np.array([[3, 1], [1, 3]])) == pytest.approx(stats.fisher_exact([[3, 1], [1, 3]]).pvalue)
    assert fisher_freeman_halton(np.array([[3, 1], [1, 3]])) == pytest.approx(0.485714285714, rel=1e-9)  # R fisher.test
    # 3 x 2: R fisher.test(matrix(c(5,1,0, 2,4,3), ncol = 2)) = 0.146853146853
    assert fisher_freeman_halton(np.array([[5, 2], [1, 4], [0, 3]])) == pytest.approx(0.146853146853, rel=1e-9)


def test_fisher_is_used_when_an_expected_count_is_below_5():
    sex = [Sex.FEMALE] * 3 + [Sex.MALE] * 1 + [Sex.FEMALE] * 1 + [Sex.MALE] * 3
    df = pd.DataFrame({C.TREATMENT_GROUP: [S] * 4 + [CH] * 4, C.SEX: sex})
    t1 = table_one(df, C.TREATMENT_GROUP, [C.SEX])
    assert _row(t1, C.SEX)["Test"] == FISHER
    assert _long(t1, C.SEX, "", "p") == pytest.approx(stats.fisher_exact([[3, 1], [1, 3]]).pvalue)
    assert any(n.startswith(MARKS[FISHER]) for n in t1.footnotes)
    assert not any(n.startswith(MARKS[CHI2]) for n in t1.footnotes)


def test_boolean_is_one_row_with_yes_count_and_ecog_is_categorical():
    df = pd.DataFrame({
        C.SURGERY: [1, 1, 1, 1, 0, 0, 0, 0],
        C.LIVER_METS_BILOBAR: pd.array([True, False, True, None, False, False, True, False], dtype="boolean"),
        C.ECOG: pd.array([0, 1, 0, 2, 1, 1, 0, 1], dtype="Int64"),
    })
    t1 = table_one(df, C.SURGERY, [C.LIVER_METS_BILOBAR, C.ECOG], labels={1: "Surgery", 0: "Chemotherapy"})
    row = _row(t1, C.LIVER_METS_BILOBAR)
    assert row["Variable"] == "Bilobar metastases, yes, n (%)"
    assert row["Surgery"] == "2 (66.7%)" and row["Chemotherapy"] == "1 (25.0%)"
    assert row["Missing"] == "1 / 0"
    assert (t1.table["variable"] == C.LIVER_METS_BILOBAR).sum() == 1
    assert t1.table.loc[t1.table["variable"] == C.ECOG, "level"].tolist() == ["", "0", "1", "2"]
    assert t1.groups == (1, 0)


# ----------------------------------------------------------------------------- weights, errors, format
def test_weighted_summaries_and_no_p_values():
    df = pd.DataFrame({C.SURGERY: [1, 1, 0, 0, 0], C.AGE: [60.0, 70.0, 50.0, 60.0, 80.0],
                       C.SEX: [Sex.FEMALE, Sex.MALE, Sex.FEMALE, Sex.FEMALE, Sex.MALE],
                       "w": [1.0, 1.0, 0.5, 0.5, 1.0]})
    t1 = table_one(df, C.SURGERY, [C.AGE, C.SEX], weights="w", nonnormal=[])
    assert t1.weighted
    # weighted mean of controls: (25 + 30 + 80) / 2 = 67.5
    assert _long(t1, C.AGE, "0", "mean") == pytest.approx(67.5)
    # reliability-weighted variance: sum w (x - m)^2 * W / (W^2 - sum w^2), W = 2, sum w^2 = 1.5
    ss = 0.5 * 17.5**2 + 0.5 * 7.5**2 + 1.0 * 12.5**2
    assert _long(t1, C.AGE, "0", "sd") == pytest.approx(math.sqrt(ss * 2 / (4 - 1.5)))
    assert _long(t1, C.SEX, "0", "n", Sex.FEMALE) == pytest.approx(1.0)
    assert _long(t1, C.SEX, "0", "percent", Sex.FEMALE) == pytest.approx(50.0)
    assert (t1.table["p"] == "").all()
    assert (t1.long["statistic"] != "p").all()
    assert any("not shown" in n for n in t1.footnotes)


def test_errors():
    df = pd.DataFrame({C.TREATMENT_GROUP: [S, CH, "x"], C.AGE: [1, 2, 3]})
    with pytest.raises(ValueError, match="exactly two arms"):
        table_one(df, C.TREATMENT_GROUP, [C.AGE])
    with pytest.raises(ValueError, match="not in data"):
        table_one(df.iloc[:2], C.TREATMENT_GROUP, [C.SEX])
    with pytest.raises(ValueError, match="weights"):
        table_one(df.iloc[:2], C.TREATMENT_GROUP, [C.AGE], weights=[1.0, -1.0])


def test_format_p():
    assert [format_p(p) for p in (0.0432, 0.0009999, 0.001, 0.5, 1.0)] == ["0.043", "<0.001", "0.001", "0.500", "1.000"]


# ----------------------------------------------------------------------------- demo cohort
@pytest.fixture(scope="module")
def demo():
    from core import cohort

    if not cohort.DEMO_PATH.exists():
        pytest.skip("demo cohort not available")
    return cohort.demo()


def test_demo_table_one_has_every_default_variable(demo):
    t1 = table_one(demo.data, C.TREATMENT_GROUP)
    assert list(dict.fromkeys(t1.table["variable"])) == list(TABLE1_VARIABLES)
    assert t1.table.columns[:3].tolist() == ["Variable", S, CH]
    n_s = (demo.data[C.TREATMENT_GROUP] == S).sum()
    tot = t1.long[(t1.long["variable"] == C.SEX) & (t1.long["group"] == S) & (t1.long["statistic"] == "n")]["value"]
    assert tot.sum() == n_s


def test_demo_before_after(demo):
    from core.analysis import run
    from core.spec import AnalysisSpec

    result = run(demo, AnalysisSpec())
    ba = table_one_before_after(result)
    for s in ("before", "after"):
        for c in ("Surgery", "Chemotherapy", "Missing", "SMD", "p"):
            assert f"{c} ({s})" in ba.columns
    age = ba[ba["variable"] == C.AGE].iloc[0]
    # the before SMD is the one of the analysis population, computed by hand here
    pop = result.population
    x1 = pop.loc[pop["treated"] == 1, C.AGE].astype(float)
    x0 = pop.loc[pop["treated"] == 0, C.AGE].astype(float)
    smd = abs(x1.mean() - x0.mean()) / math.sqrt((x1.var() + x0.var()) / 2)
    assert age["SMD (before)"] == f"{smd:.3f}"
    matched = result.match.matched
    m1 = matched.loc[matched["treated"] == 1, C.AGE].astype(float)
    m0 = matched.loc[matched["treated"] == 0, C.AGE].astype(float)
    smd_after = abs(m1.mean() - m0.mean()) / math.sqrt((m1.var() + m0.var()) / 2)
    assert age["SMD (after)"] == f"{smd_after:.3f}"
    assert any("descriptive" in n for n in ba.attrs["footnotes"])
    assert set(ba.attrs["long"]["sample"]) == {"before", "after"}


def test_before_after_weighted_matching_omits_after_p_values(demo):
    from core.analysis import run
    from core.spec import AnalysisSpec

    result = run(demo, AnalysisSpec(ratio=2, replace=True, caliper=None))
    assert not np.allclose(result.match.matched["weights"], 1.0)
    ba = table_one_before_after(result, [C.AGE, C.SEX])
    assert (ba["p (after)"] == "").all()
    assert (ba["p (before)"] != "").any()
    assert any("weighted" in n.lower() for n in ba.attrs["footnotes"])
    # weighted mean of age among matched controls, by hand
    m = result.match.matched
    c = m[m["treated"] == 0]
    wm = float((c[C.AGE].astype(float) * c["weights"]).sum() / c["weights"].sum())
    lg = ba.attrs["long"]
    got = lg[(lg["sample"] == "after") & (lg["variable"] == C.AGE) & (lg["group"] == "Chemotherapy")
             & (lg["statistic"] == "mean")]["value"].item()
    assert got == pytest.approx(wm)


def test_before_after_without_a_match():
    from types import SimpleNamespace

    pop = pd.DataFrame({"treated": [1, 1, 0, 0], C.AGE: [50, 60, 70, 80]})
    ba = table_one_before_after(SimpleNamespace(population=pop, match=None), [C.AGE])
    assert ba.loc[0, "Surgery (before)"] == "55.0 (7.1)"
    assert ba.loc[0, "Surgery (after)"] == ""
    assert ba.attrs["footnotes"][-1] == "No matched sample."
    with pytest.raises(ValueError, match="AnalysisResult"):
        table_one_before_after(SimpleNamespace(population=None), [C.AGE])


def test_fixed_levels_align_tables():
    df = pd.DataFrame({C.TREATMENT_GROUP: [S, S, CH, CH], C.RECIST: ["PR", "SD", "SD", "PR"]})
    t1 = table_one(df, C.TREATMENT_GROUP, [C.RECIST], levels={C.RECIST: ["CR", "PR", "SD"]})
    assert t1.table["level"].tolist() == ["", "CR", "PR", "SD"]
    assert _row(t1, C.RECIST, "CR")[S] == "0 (0.0%)"


# ----------------------------------------------------------------------------- small-cell suppression
def _small_cells_population() -> pd.DataFrame:
    """40 surgery and 40 chemotherapy patients with known small cells (see the expected tables)."""
    from core.population import TREATED

    surgery = {
        TREATED: [1] * 40,
        C.AGE: [50.0, 70.0] * 18 + [60.0] + [None] * 3,
        C.SEX: [Sex.FEMALE] * 20 + [Sex.MALE] * 16 + [None] * 4,
        C.ECOG: [0] * 25 + [1] * 12 + [2] * 3,
        C.LIVER_METS_BILOBAR: [True] * 35 + [False] * 5,
        C.RECIST: [Recist.PR] * 3 + [Recist.SD] * 25 + [Recist.PD] * 12,
    }
    chemo = {
        TREATED: [0] * 40,
        C.AGE: [60.0, 80.0] * 20,
        C.SEX: [Sex.FEMALE] * 40,
        C.ECOG: [0] * 30 + [1] * 4 + [2] * 6,
        C.LIVER_METS_BILOBAR: [True] * 20 + [False] * 20,
        C.RECIST: [Recist.CR] * 20 + [Recist.PD] * 20,
    }
    return pd.concat([pd.DataFrame(surgery), pd.DataFrame(chemo)], ignore_index=True)


def _small_cells_table():
    from types import SimpleNamespace

    return table_one_before_after(SimpleNamespace(population=_small_cells_population(), match=None),
                                  [C.AGE, C.SEX, C.ECOG, C.LIVER_METS_BILOBAR, C.RECIST])


def test_table_one_suppression_by_hand():
    t = suppress_table_one(_small_cells_table(), k=11)
    got = {(r["variable"], r["level"]): (r["Surgery (before)"], r["Chemotherapy (before)"], r["Missing (before)"])
           for _, r in t.iterrows()}
    star = COMPLEMENTARY
    expected = {
        # age: 3 missing among 40 surgery patients (continuous: only the missing pair is a count)
        (C.AGE, ""): ("60.0 (10.0)", "70.0 (10.1)", "<11 / 0"),
        # sex: missing 4 is small; 36 known would reveal it, so M (16) is hidden and F keeps its count but
        # not its percentage (20/36 would reveal the 36)
        (C.SEX, ""): ("", "", "<11 / 0"),
        (C.SEX, Sex.FEMALE): (f"20 ({star})", "40 (100.0%)", ""),
        (C.SEX, Sex.MALE): (star, "0 (0.0%)", ""),
        # ECOG: surgery has one small cell (3), the smallest other (12) is hidden; chemotherapy has two (4, 6)
        (C.ECOG, ""): ("", "", "0 / 0"),
        (C.ECOG, "0"): ("25 (62.5%)", "30 (75.0%)", ""),
        (C.ECOG, "1"): (star, "<11", ""),
        (C.ECOG, "2"): ("<11", "<11", ""),
        # bilobar, one row: "no" (5) is N - missing - yes, so yes (35) is hidden in the surgery arm
        (C.LIVER_METS_BILOBAR, ""): (star, "20 (50.0%)", "0 / 0"),
        # RECIST: PR 3 is small; the zero (CR) is neither hidden nor chosen, the smallest non-zero (PD 12) is
        (C.RECIST, ""): ("", "", "0 / 0"),
        (C.RECIST, Recist.CR): ("0 (0.0%)", "20 (50.0%)", ""),
        (C.RECIST, Recist.PR): ("<11", "0 (0.0%)", ""),
        (C.RECIST, Recist.SD): ("25 (62.5%)", "0 (0.0%)", ""),
        (C.RECIST, Recist.PD): (star, "20 (50.0%)", ""),
    }
    assert got == expected
    assert "Small-cell suppression (k = 11)" in t.attrs["footnotes"][-1]
    assert (t["Surgery (after)"] == "").all()


def test_table_one_suppression_off_or_nothing_small_changes_nothing():
    t1 = _small_cells_table()
    # k = 3: no count is 1 or 2, so nothing is hidden and nothing needs protecting
    t = suppress_table_one(t1, k=3)
    pd.testing.assert_frame_equal(t, t1)
    lg = t.attrs["long"]
    assert (lg["suppressed"] == "").all()
    pd.testing.assert_series_equal(lg["value"], t1.attrs["long"]["value"])


def _long_value(lg, var, group, statistic, level=""):
    row = lg[(lg["variable"] == var) & (lg["group"] == group) & (lg["statistic"] == statistic) & (lg["level"] == level)]
    assert len(row) == 1
    return row["value"].item(), row["suppressed"].item()


def test_table_one_long_suppression_by_hand():
    t1 = _small_cells_table()
    lg = suppress_table_one_long(t1.attrs["long"], k=11)
    assert list(lg.columns) == ["variable", "label", "level", "group", "statistic", "value", "suppressed", "test",
                                "sample"]
    assert lg["value"].dtype == float
    s, c = "Surgery", "Chemotherapy"
    hidden = (pytest.approx(float("nan"), nan_ok=True),)
    expected = {
        (C.AGE, s, "missing", ""): (hidden[0], "<11"),
        (C.AGE, s, "n_total", ""): (hidden[0], COMPLEMENTARY),
        (C.AGE, s, "mean", ""): (60.0, ""),
        (C.AGE, c, "missing", ""): (0.0, ""),
        (C.AGE, c, "n_total", ""): (40.0, ""),
        (C.SEX, s, "missing", ""): (hidden[0], "<11"),
        (C.SEX, s, "n_total", ""): (hidden[0], COMPLEMENTARY),
        (C.SEX, s, "n", Sex.FEMALE): (20.0, ""),
        (C.SEX, s, "percent", Sex.FEMALE): (hidden[0], COMPLEMENTARY),
        (C.SEX, s, "n", Sex.MALE): (hidden[0], COMPLEMENTARY),
        (C.SEX, s, "percent", Sex.MALE): (hidden[0], COMPLEMENTARY),
        (C.ECOG, s, "n", "2"): (hidden[0], "<11"),
        (C.ECOG, s, "percent", "2"): (hidden[0], "<11"),
        (C.ECOG, s, "n", "1"): (hidden[0], COMPLEMENTARY),
        (C.ECOG, s, "n", "0"): (25.0, ""),
        (C.ECOG, s, "percent", "0"): (62.5, ""),
        (C.ECOG, s, "n_total", ""): (40.0, ""),
        (C.ECOG, c, "n", "1"): (hidden[0], "<11"),
        (C.ECOG, c, "n", "2"): (hidden[0], "<11"),
        (C.ECOG, c, "n", "0"): (30.0, ""),
        (C.LIVER_METS_BILOBAR, s, "n", "no"): (hidden[0], "<11"),
        (C.LIVER_METS_BILOBAR, s, "n", "yes"): (hidden[0], COMPLEMENTARY),
        (C.LIVER_METS_BILOBAR, c, "n", "yes"): (20.0, ""),
        (C.RECIST, s, "n", Recist.CR): (0.0, ""),
        (C.RECIST, s, "n", Recist.PR): (hidden[0], "<11"),
        (C.RECIST, s, "n", Recist.PD): (hidden[0], COMPLEMENTARY),
        (C.RECIST, s, "n", Recist.SD): (25.0, ""),
    }
    for (var, group, statistic, level), (value, flag) in expected.items():
        assert _long_value(lg, var, group, statistic, level) == (value, flag), (var, group, statistic, level)
    # SMD and p are left alone
    assert (lg.loc[lg["statistic"].isin(["smd", "p"]), "suppressed"] == "").all()


def test_suppressed_long_table_exports_empty_cells_with_the_reason():
    lg = suppress_table_one_long(_small_cells_table().attrs["long"], k=11)
    text = csv_bytes(lg).decode("utf-8-sig").splitlines()
    header = text[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in text[1:]]
    ecog2 = [r for r in rows if r["variable"] == C.ECOG and r["level"] == "2" and r["group"] == "Surgery"]
    assert [(r["statistic"], r["value"], r["suppressed"]) for r in ecog2] == [("n", "", "<11"), ("percent", "", "<11")]
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"Table 1 (numbers)": lg}, {"k": "11"})))
    ws = wb["Table 1 (numbers)"]
    head = [c.value for c in ws[1]]
    cells = [dict(zip(head, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]
    pd_star = [r for r in cells if r["variable"] == C.RECIST and r["level"] == Recist.PD and r["group"] == "Surgery"]
    assert [(r["statistic"], r["value"], r["suppressed"]) for r in pd_star] == [
        ("n", None, COMPLEMENTARY), ("percent", None, COMPLEMENTARY)]


def test_table_one_suppression_needs_the_long_table():
    t1 = _small_cells_table()
    bare = t1.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="attrs"):
        suppress_table_one(bare, k=11)
    with pytest.raises(ValueError, match="variable"):
        suppress_table_one(t1.drop(columns=["variable"]), k=11)
    with pytest.raises(ValueError, match="k must be"):
        suppress_table_one(t1, k=1)


def test_demo_table_one_suppression_leaves_no_block_with_one_hidden_cell(demo):
    from core.analysis import run
    from core.spec import AnalysisSpec

    t1 = table_one_before_after(run(demo, AnalysisSpec()))
    lg = suppress_table_one_long(t1.attrs["long"], k=11)
    lg = lg[lg["group"] != ""]
    # two known sums per variable, arm and sample: levels = n_total, and n_total + missing = the arm's size
    categorical = set(lg.loc[lg["statistic"] == "n", "variable"])
    for stats_, variables in ((["n", "n_total"], categorical), (["n_total", "missing"], set(lg["variable"]))):
        cells = lg[lg["statistic"].isin(stats_) & lg["variable"].isin(variables)]
        hidden = cells.groupby(["sample", "group", "variable"])["suppressed"].apply(lambda f: int((f != "").sum()))
        assert (hidden != 1).all(), hidden[hidden == 1]
        assert (hidden >= 2).any()


def test_cea_is_a_lab_value_and_a_1_0_file_without_it_gets_a_footnote(demo):
    assert C.CEA_BASELINE in TABLE1_VARIABLES
    t1 = table_one(demo.data, C.TREATMENT_GROUP)
    row = t1.table[t1.table["variable"] == C.CEA_BASELINE].iloc[0]
    assert row["Variable"] == "CEA baseline (ng/mL), median [IQR]"  # a lab value: median [IQR] whatever its skew
    cea = demo.data.loc[demo.data[C.TREATMENT_GROUP] == S, C.CEA_BASELINE].dropna()
    assert row[S].startswith(f"{cea.median():.1f} [")
    old = demo.data.assign(**{C.CEA_BASELINE: np.nan})  # a dictionary 1.0 file: no CEA for anyone
    t0 = table_one(old, C.TREATMENT_GROUP)
    assert C.CEA_BASELINE not in set(t0.table["variable"])
    assert t0.footnotes[-1] == ("Not recorded for any patient (optional since data dictionary 1.1), not shown: "
                                "CEA baseline (ng/mL).")
    only = table_one(old, C.TREATMENT_GROUP, [C.CEA_BASELINE])  # nothing else asked for: shown, all missing
    assert list(only.table["variable"]) == [C.CEA_BASELINE] and not any("1.1" in f for f in only.footnotes)
