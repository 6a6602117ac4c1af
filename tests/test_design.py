"""Tests for core.design: R's model-matrix rules, leaving out constant covariates, the pooling rule.

R references: coefficient names of R's glm/brglm2 fits (tests/fixtures/propensity/fits.json)
and the design decisions of tests/r/make_propensity_fixtures.R, which applies the rule of
core/design.py written again in R, on subgroups of the demo cohort (demo_firth.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.design import (
    MIN_LEVEL_COUNT,
    POOLED_LEVEL,
    DroppedCovariate,
    PooledLevels,
    build_design,
    factor_codes,
)
from core.matching import design_matrix

PROP = Path(__file__).resolve().parent / "fixtures" / "propensity"
DEMO_COVS = ["age_at_diagnosis", "ecog_baseline", "liver_mets_n", "log_ca19_9_baseline", "chemo_regimen",
             "objective_response", "resectability"]


def _load(name: str) -> dict:
    return json.loads((PROP / name).read_text())


def _demo() -> pd.DataFrame:
    return pd.read_csv(PROP / "demo_landmark.csv", keep_default_na=False, na_values=[""])


# ---------------------------------------------------------------------------------------
# R's model.matrix rules
# ---------------------------------------------------------------------------------------


def test_treatment_contrasts_named_as_r_names_them():
    lal = pd.read_csv(PROP / "lalonde.csv")
    d = build_design(lal, ["age", "educ", "race", "married", "nodegree", "re74", "re75"])
    r_names = _load("fits.json")["fits"]["lalonde"]["glm"]["names"]
    assert ["(Intercept)", *d.names] == r_names
    assert d.columns["race"] == ("racehispan", "racewhite")
    assert d.levels["race"] == ("black", "hispan", "white")
    assert d.matrix["racewhite"].sum() == (lal["race"] == "white").sum()


def test_boolean_numeric_and_categorical_columns():
    df = pd.DataFrame({"b": [True, False, True], "x": [1, 2, 3], "f": pd.Categorical(["z", "y", "z"], categories=["z", "y"])})
    d = build_design(df, ["b", "x", "f"])
    assert d.names == ["b", "x", "fy"]
    assert d.matrix["b"].tolist() == [1.0, 0.0, 1.0]
    assert d.matrix["fy"].tolist() == [0.0, 1.0, 0.0]
    assert d.rows.tolist() == [0, 1, 2]


def test_unused_levels_glm_drops_them_cox_keeps_the_declared_reference():
    df = pd.DataFrame({"f": pd.Categorical(["b", "c", "b", "c"], categories=["a", "b", "c"])})
    # glm (R drops unused levels from the model frame): reference = first level present
    assert build_design(df, ["f"]).names == ["fc"]
    # core.survival.cox's rule: the declared first level stays the reference, absent levels get no column
    assert build_design(df, ["f"], drop_unused_levels=False).names == ["fb", "fc"]


def test_missing_values_propagate_raise_or_drop():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "f": ["a", "b", None, "a"]})
    prop = build_design(df, ["x", "f"])
    assert np.isnan(prop.matrix.loc[1, "x"]) and np.isnan(prop.matrix.loc[2, "fb"])
    with pytest.raises(ValueError, match="'x' has 1 missing value"):
        build_design(df, ["x", "f"], missing="raise")
    dropped = build_design(df, ["x", "f"], missing="drop")
    assert dropped.rows.tolist() == [0, 3] and dropped.matrix.index.tolist() == [0, 3]
    # levels are re-derived from the analysed rows: only "a" is left
    assert dropped.names == ["x"] and dropped.columns["f"] == ()


def test_bad_columns_are_refused_with_the_column_name():
    df = pd.DataFrame({"x": [1.0, np.inf], "d": pd.to_datetime(["2020-01-01", "2021-01-01"])})
    with pytest.raises(ValueError, match="'x' has infinite values"):
        build_design(df, ["x"])
    with pytest.raises(ValueError, match="'d' has dtype"):
        build_design(df, ["d"])
    with pytest.raises(ValueError, match="'nope' is not a column"):
        build_design(df, ["nope"])


def test_one_builder_for_matching_and_cox():
    # the old matching design_matrix and the Cox design give the same columns through build_design
    from core.survival import _design

    df = pd.DataFrame({"x": [1.0, 2, 3, 4], "f": ["b", "a", "c", "a"]})
    X, names = _design(df, ["x", "f"])
    assert names == design_matrix(df, ["x", "f"]).columns.tolist() == ["x", "fb", "fc"]
    np.testing.assert_array_equal(X, design_matrix(df, ["x", "f"]).to_numpy())


def test_factor_codes_follow_categorical_order():
    codes, levels = factor_codes(pd.Series(pd.Categorical(["y", "x", None], categories=["y", "x", "w"])))
    assert codes.tolist() == [0, 1, -1] and levels == ["y", "x"]
    codes, levels = factor_codes(pd.Series(pd.Categorical(["y", "x"], categories=["y", "x", "w"])), drop_unused=False)
    assert levels == ["y", "x", "w"]


# ---------------------------------------------------------------------------------------
# Leaving out covariates that cannot be estimated
# ---------------------------------------------------------------------------------------


def test_constant_covariates_are_an_error_unless_dropped():
    df = pd.DataFrame({"x": [1.0, 2, 3, 4], "k": [5.0] * 4, "f": ["a"] * 4, "t": [1, 0, 1, 0]})
    with pytest.raises(ValueError, match="'k' takes a single value.*constant"):
        build_design(df, ["x", "k"], missing="drop", on_constant="raise")
    with pytest.raises(ValueError, match=r"'f' takes a single value in the selection \(a\)"):
        build_design(df, ["x", "f"], missing="drop", on_constant="raise")
    d = build_design(df, ["x", "k", "f"], missing="drop", drop_constant=True, on_constant="raise")
    assert d.covariates == ("x",) and d.names == ["x"]
    assert d.dropped == (DroppedCovariate("k", "constant", 5, 4), DroppedCovariate("f", "constant", "a", 4))


def test_all_missing_covariate_is_dropped_and_its_rows_kept():
    df = pd.DataFrame({"x": [1.0, 2, 3], "gone": [np.nan] * 3})
    with pytest.raises(ValueError, match="missing for every patient"):
        build_design(df, ["x", "gone"], missing="drop")
    d = build_design(df, ["x", "gone"], missing="drop", drop_constant=True)
    assert d.dropped == (DroppedCovariate("gone", "all missing"),)
    assert d.rows.tolist() == [0, 1, 2]
    assert d.dropped[0].describe("CA19-9") == "CA19-9 left out of the propensity model: not recorded for any patient."


def test_rows_missing_only_a_dropped_covariate_come_back():
    # 'k' is 1 wherever it is recorded; row 2 lacks it: without 'k' in the model row 2 is analysed
    df = pd.DataFrame({"x": [1.0, 2, 3, 4], "k": [1.0, 1, np.nan, 1]})
    d = build_design(df, ["x", "k"], missing="drop", drop_constant=True)
    assert d.rows.tolist() == [0, 1, 2, 3]
    assert d.dropped == (DroppedCovariate("k", "constant", 1, 3),)
    assert d.dropped[0].describe() == "k left out of the propensity model: 1 for all 3 patients."


# ---------------------------------------------------------------------------------------
# The pooling rule
# ---------------------------------------------------------------------------------------


def _pooled(levels_t: dict, levels_c: dict, m: int, **kw):
    vals = [lev for lev, k in levels_t.items() for _ in range(k)] + [lev for lev, k in levels_c.items() for _ in range(k)]
    arm = np.r_[np.ones(sum(levels_t.values()), bool), np.zeros(sum(levels_c.values()), bool)]
    df = pd.DataFrame({"g": vals, "x": np.arange(len(vals), dtype=float)})
    return build_design(df, ["x", "g"], missing="drop", arm=arm, min_level_count=m, **kw), df, arm


def test_rare_levels_pooled_into_other_when_the_pool_is_not_rare():
    # B (2 treated, 9 controls) and C (4, 1) are rare (< 5 in an arm); together 6 and 10: "other"
    d, df, _ = _pooled({"A": 20, "B": 2, "C": 4}, {"A": 15, "B": 9, "C": 1}, 5)
    assert d.pooled == (PooledLevels("g", ("B", "C"), POOLED_LEVEL, (2, 4), (9, 1), 5),)
    assert d.levels["g"] == ("A", "other") and d.names == ["x", "gother"]
    assert d.matrix["gother"].sum() == 16
    assert d.pooled[0].describe("Regimen", ("operated", "chemotherapy")) == (
        "Regimen: B (2 operated, 9 chemotherapy), C (4 operated, 1 chemotherapy) pooled as 'other' "
        "(fewer than 5 patients in an arm)."
    )


def test_a_rare_pool_joins_the_most_common_level():
    # B (1, 0) and C (0, 2) pooled would be (1, 2), still rare: they join A (the largest)
    d, df, _ = _pooled({"A": 10, "B": 1, "D": 6}, {"A": 12, "C": 2, "D": 7}, 5)
    assert d.pooled[0].levels == ("B", "C") and d.pooled[0].into == "A"
    assert d.levels["g"] == ("A", "D") and d.names == ["x", "gD"]
    assert d.matrix["gD"].sum() == 13


def test_most_common_level_tie_goes_to_the_first_in_level_order():
    d, _, _ = _pooled({"A": 6, "B": 1, "D": 6}, {"A": 6, "D": 6}, 5)
    assert d.pooled[0].into == "A"


def test_pooling_that_leaves_one_level_drops_the_covariate_or_raises():
    with pytest.raises(ValueError, match="single level left after pooling"):
        _pooled({"A": 10, "B": 1}, {"A": 12, "B": 3}, 5)
    d, _, _ = _pooled({"A": 10, "B": 1}, {"A": 12, "B": 3}, 5, drop_constant=True)
    assert d.covariates == ("x",) and d.names == ["x"]
    assert d.dropped == (DroppedCovariate("g", "one level after pooling", "A", 26),)
    assert d.pooled[0].into == "A"


def test_every_level_rare_gives_one_pooled_level():
    d, _, _ = _pooled({"A": 1, "B": 2}, {"A": 3, "B": 1}, 5, drop_constant=True)
    assert d.pooled[0].levels == ("A", "B") and d.pooled[0].into == POOLED_LEVEL
    assert d.dropped[0].reason == "one level after pooling"


def test_pooled_level_name_does_not_collide_with_a_level_called_other():
    d, _, _ = _pooled({"A": 9, "other": 6, "B": 2, "C": 3}, {"A": 9, "other": 6, "B": 3, "C": 3}, 5)
    assert d.pooled[0].into == "other (pooled)"
    assert d.levels["g"] == ("A", "other", "other (pooled)")


def test_numeric_flags_are_never_pooled_and_the_rule_needs_the_arm():
    df = pd.DataFrame({"flag": [1.0, 0, 0, 0, 0, 0], "x": np.arange(6.0)})
    arm = np.array([1, 1, 1, 0, 0, 0], bool)
    d = build_design(df, ["flag", "x"], missing="drop", arm=arm, min_level_count=5)
    assert d.pooled == () and d.names == ["flag", "x"]
    with pytest.raises(ValueError, match="needs the treatment arm"):
        build_design(df, ["flag"], min_level_count=5)
    with pytest.raises(ValueError, match="min_level_count"):
        build_design(df, ["flag"], arm=arm, min_level_count=0)
    assert MIN_LEVEL_COUNT == 5


def test_design_rules_agree_with_r_on_demo_subgroups():
    # tests/r/make_propensity_fixtures.R applies the rule (written again in R) to subgroups of the
    # demo cohort's landmark population: kept covariates, what was dropped and pooled, rows analysed
    demo = _demo()
    cases = _load("demo_firth.json")["subgroups"]
    assert set(cases) == {"all", "folfirinox", "gem_nabpac", "mets1", "resectable", "borderline", "dp"}
    for name, c in cases.items():
        sub = demo.iloc[np.asarray(c["rows"]) - 1].reset_index(drop=True)
        d = build_design(sub, DEMO_COVS, missing="drop", arm=sub["treated"].to_numpy() == 1, drop_constant=True,
                         min_level_count=c["min_count"], on_constant="raise")
        assert list(d.covariates) == c["kept"], name
        assert (d.rows + 1).tolist() == c["analysed"], name
        assert [(x.covariate, x.reason) for x in d.dropped] == [(x["covariate"], x["reason"]) for x in c["dropped"]], name
        for mine, ref in zip(d.dropped, c["dropped"], strict=True):
            value = ref.get("value")
            assert mine.value == (value[0] if isinstance(value, list) else value), name
        assert [(p.covariate, list(p.levels), p.into, list(p.n_treated), list(p.n_control)) for p in d.pooled] == [
            (p["covariate"], p["levels"], p["into"], p["n_treated"], p["n_control"]) for p in c["pooled"]
        ], name
        r_names = c["firth"]["names"][1:]
        assert d.names == r_names, name
