"""Tests for core.matching.

Expected values come from R: MatchIt 4.7.2 reference matched sets (matchit_*.json, made by
tests/fixtures/matching/make_matchit_reference.R), and R glm / MatchIt 4.5.1 summary()
balance statistics (matchit451_*.json, scaled_glm.json, made by
tests/r/make_matching_fixtures.R). The fast matcher is also checked against a plain
O(n * m) implementation written here from MatchIt's rules.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.dictionary import C
from core.matching import (
    MatchResult,
    _match_arrays,
    balance,
    balance_table,
    design_matrix,
    fit_propensity,
    match_nearest,
)

FIX = Path(__file__).resolve().parent / "fixtures" / "matching"
PROP = Path(__file__).resolve().parent / "fixtures" / "propensity"

# Column names of the fixture files (synthetic reference data, not the study dictionary).
TREAT = "surgery"
LOG_CA = "log_ca19_9"
COVS = ["age", "ecog", "mets", "regimen", LOG_CA]
TIES = ["ecog", "mets", "regimen"]
SCALED_COVS = ["income", "flag", "age", "region"]


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    d = pd.read_csv(FIX / "matching_example.csv")
    d[LOG_CA] = np.log(d["ca19_9"])
    return d


def r_levels(d: pd.DataFrame) -> pd.DataFrame:
    """`mets` with the level order R (4.2, C.UTF-8) gave it: ">3", "1", "2-3"."""
    return d.assign(mets=pd.Categorical(d["mets"], categories=[">3", "1", "2-3"]))


def _load(name: str) -> dict:
    return json.loads((FIX / name).read_text())


def _load_prop(name: str) -> dict:
    return json.loads((PROP / name).read_text())


# ---------------------------------------------------------------------------------------
# Agreement with MatchIt 4.7.2
# ---------------------------------------------------------------------------------------

REFERENCE_CASES = {
    "nocaliper": (COVS, dict(caliper=None)),
    "caliper02": (COVS, dict(caliper=0.2)),
    "caliper01_ratio2": (COVS, dict(caliper=0.1, ratio=2)),
    "caliper02_smallest": (COVS, dict(caliper=0.2, order="smallest")),
    "caliper02_data": (COVS, dict(caliper=0.2, order="data")),
    "caliper02_replace": (COVS, dict(caliper=0.2, replace=True)),
    "caliper02_exact_centre": (COVS, dict(caliper=0.2, exact=["centre"])),
    "ties_caliper02": (TIES, dict(caliper=0.2)),
}


@pytest.mark.parametrize("case", sorted(REFERENCE_CASES))
def test_matches_matchit_472(example, case):
    covs, kw = REFERENCE_CASES[case]
    ref = _load(f"matchit_{case}.json")
    res = match_nearest(example, TREAT, covs, **kw)
    np.testing.assert_allclose(res.distance.to_numpy(), ref["distance"], rtol=0, atol=1e-9)
    m = pd.DataFrame(ref["matched"])
    # match.data() rows, in data order: same patients
    assert (res.matched.index + 1).tolist() == m["row"].tolist()
    np.testing.assert_allclose(res.matched["weights"].to_numpy(), m["weights"].to_numpy(), rtol=1e-12)
    if kw.get("replace"):
        assert "subclass" not in m.columns
        assert res.matched["subclass"].isna().all()
    else:
        # identical pair/set membership and numbering
        assert res.matched["subclass"].astype(int).tolist() == m["subclass"].tolist()
    np.testing.assert_allclose(res.matched["distance"].to_numpy(), np.asarray(ref["distance"])[m["row"] - 1], atol=1e-9)
    # counts
    t = example[TREAT].to_numpy()[m["row"] - 1]
    assert res.n_treated_matched == int((t == 1).sum())
    assert res.n_control_matched == int((t == 0).sum())
    assert res.n_treated == 99 and res.n_control == 501 and res.n_dropped_missing == 0
    assert res.reason is None and not res.empty


def test_caliper_in_logit_units_is_sd_of_all_logits(example):
    ref = np.asarray(_load("matchit_caliper02.json")["distance"])
    res = match_nearest(example, TREAT, COVS, caliper=0.2)
    assert res.caliper_logit == pytest.approx(0.2 * np.std(ref, ddof=1), rel=1e-12)
    pairs = res.pairs()
    assert (pairs["difference"] <= res.caliper_logit).all()


def test_pairs_table_agrees_with_matchit_sets(example):
    ref = pd.DataFrame(_load("matchit_caliper01_ratio2.json")["matched"])
    res = match_nearest(example, TREAT, COVS, caliper=0.1, ratio=2)
    pairs = res.pairs()
    ref["treated"] = example[TREAT].to_numpy()[ref["row"] - 1]
    by_sub = ref.groupby("subclass")
    for sub, g in pairs.groupby("subclass"):
        r = by_sub.get_group(sub)
        assert set(g["treated_id"] + 1) == set(r.loc[r.treated == 1, "row"])
        assert set(g["control_id"] + 1) == set(r.loc[r.treated == 0, "row"])
        assert g["round"].tolist() == list(range(1, len(g) + 1))
    assert set(pairs.columns) >= {"treated_id", "control_id", "treated_distance", "control_distance", "subclass"}


# ---------------------------------------------------------------------------------------
# Propensity model vs R glm
# ---------------------------------------------------------------------------------------


def test_badly_scaled_covariates_reproduce_r_glm():
    s = pd.read_csv(FIX / "scaled_example.csv")
    ref = _load("scaled_glm.json")
    fit = fit_propensity(design_matrix(s, SCALED_COVS), s["treated"].to_numpy())
    expected = pd.Series(ref["coefficients"])
    assert fit.coefficients.index.tolist() == expected.index.tolist()
    np.testing.assert_allclose(fit.coefficients.to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert fit.iterations == ref["iterations"]
    res = match_nearest(s, "treated", SCALED_COVS, caliper=None)
    np.testing.assert_allclose(res.distance.to_numpy(), _load("matchit451_scaled.json")["distance"], atol=1e-10)


def test_coefficients_named_like_r(example):
    ref = _load("matchit451_nocaliper_balance.json")["coefficients"]
    # R (4.2, C.UTF-8 locale) sorted the levels of `mets` as ">3", "1", "2-3"; a Categorical
    # gives that reference level here (Python's sort would choose "1": same logits, other names)
    res = match_nearest(r_levels(example), TREAT, COVS, caliper=None)
    names = [k.replace("log(ca19_9)", LOG_CA) for k in ref]
    assert res.coefficients.index.tolist() == names
    np.testing.assert_allclose(res.coefficients.to_numpy(), list(ref.values()), rtol=1e-9)
    other = match_nearest(example, TREAT, COVS, caliper=None)
    assert other.coefficients.index[3] == "mets2-3"
    np.testing.assert_allclose(other.distance.to_numpy(), res.distance.to_numpy(), atol=1e-12)


def test_categorical_dtype_sets_reference_level():
    df = pd.DataFrame({"x": ["b", "a", "c", "a", "b", "c", "a", "b"], "t": [1, 0, 1, 0, 0, 1, 1, 0]})
    assert design_matrix(df, ["x"]).columns.tolist() == ["xb", "xc"]
    df["x"] = pd.Categorical(df["x"], categories=["c", "b", "a", "unused"])
    X = design_matrix(df, ["x"])
    assert X.columns.tolist() == ["xb", "xa"]
    assert X["xa"].tolist() == [0, 1, 0, 1, 0, 0, 1, 0]


# ---------------------------------------------------------------------------------------
# Balance vs MatchIt summary()
# ---------------------------------------------------------------------------------------


def _weights_from_fixture(data: pd.DataFrame, matched: list[dict]) -> np.ndarray:
    w = np.zeros(len(data))
    m = pd.DataFrame(matched)
    w[m["row"].to_numpy() - 1] = m["weights"].to_numpy()
    return w


def _compare_balance(mine: pd.DataFrame, ref: list[dict]) -> None:
    r = pd.DataFrame(ref)
    r = r[r.term != "distance"].reset_index(drop=True)
    assert mine.index.tolist() == [t.replace("log(ca19_9)", LOG_CA) for t in r.term]
    for col in ["mean_treated", "mean_control", "smd", "var_ratio"]:
        np.testing.assert_allclose(mine[col].to_numpy(), r[col].astype(float).to_numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", ["nocaliper_balance", "scaled"])
def test_balance_matches_matchit_summary(example, case):
    ref = _load(f"matchit451_{case}.json")
    if case == "scaled":
        data, treat, covs = pd.read_csv(FIX / "scaled_example.csv"), "treated", SCALED_COVS
    else:
        data, treat, covs = r_levels(example), TREAT, COVS
    _compare_balance(balance(data, treat, covs), ref["balance_all"])
    w = _weights_from_fixture(data, ref["matched"])
    _compare_balance(balance(data, treat, covs, weights=w), ref["balance_matched"])


def test_balance_table_before_and_after(example):
    example = r_levels(example)
    res = match_nearest(example, TREAT, COVS, caliper=0.2)
    tab = balance_table(example, TREAT, COVS, res)
    before = pd.DataFrame(_load("matchit451_nocaliper_balance.json")["balance_all"]).iloc[1:]
    np.testing.assert_allclose(tab["smd_before"].to_numpy(), before["smd"].to_numpy(), rtol=1e-9)
    w = _weights_from_fixture(example, _load("matchit_caliper02.json")["matched"])
    after = balance(example, TREAT, COVS, weights=w)
    np.testing.assert_allclose(tab["smd_after"].to_numpy(), after["smd"].to_numpy(), rtol=1e-12)
    assert tab["smd_after"].abs().max() < tab["smd_before"].abs().max()


def test_balance_by_hand():
    # treated x = 1, 2, 3 (sd 1), controls x = 0, 2 weighted 3:1 -> mean 0.5
    df = pd.DataFrame({"x": [1.0, 2, 3, 0, 2], "t": [1, 1, 1, 0, 0]})
    out = balance(df, "t", ["x"], weights=np.array([1, 1, 1, 3, 1]))
    assert out.loc["x", "mean_control"] == pytest.approx(0.5)
    assert out.loc["x", "smd"] == pytest.approx((2 - 0.5) / 1.0)
    # weighted variance of controls: w = (.75, .25): sum w (x - .5)^2 / (1 - sum w^2) = .75 / .375 = 2
    assert out.loc["x", "var_ratio"] == pytest.approx(1.0 / 2.0)
    b = pd.DataFrame({"f": [1, 1, 0, 0, 0], "t": [1, 1, 1, 0, 0]})
    out = balance(b, "t", ["f"])
    p = 2 / 3
    assert out.loc["f", "smd"] == pytest.approx(p / math.sqrt(p * (1 - p)))
    assert math.isnan(out.loc["f", "var_ratio"])


# ---------------------------------------------------------------------------------------
# Fast matcher vs a plain O(n * m) implementation of MatchIt's rules
# ---------------------------------------------------------------------------------------


def plain_match(dist, treat, strata, caliper, ratio, replace, order):
    """Greedy matching written plainly from MatchIt's rules (nn_matchC_vec, find_control_vec).

    Units are sorted by distance (ties in data order). A treated unit takes the closest
    eligible control; of two equally close ones, the one MatchIt's alternating scan reaches
    first: the nearest one on each side, and the left one when it lies no more sort
    positions beyond the left end of the unit's span (the unit and its earlier matches) than
    the right one lies beyond the right end.
    """
    n = len(dist)
    pos = {int(i): k for k, i in enumerate(sorted(range(n), key=lambda i: dist[i]))}
    treated = [i for i in range(n) if treat[i]]
    if order == "largest":
        treated.sort(key=lambda i: -dist[i])
    elif order == "smallest":
        treated.sort(key=lambda i: dist[i])
    controls = [i for i in range(n) if not treat[i]]
    cal = math.inf if caliper is None else caliper
    same = (lambda a, b: True) if strata is None else (lambda a, b: strata[a] == strata[b])

    def pick(t, avail, lo_pos, hi_pos):
        cands = [c for c in avail if same(t, c) and abs(dist[t] - dist[c]) <= cal]
        if not cands:
            return None
        best = min(abs(dist[t] - dist[c]) for c in cands)
        tied = [c for c in cands if abs(dist[t] - dist[c]) == best]
        left = [c for c in tied if pos[c] < pos[t]]
        right = [c for c in tied if pos[c] > pos[t]]
        cl = max(left, key=pos.get) if left else None
        cr = min(right, key=pos.get) if right else None
        if cl is None or cr is None:
            return cl if cr is None else cr
        return cl if lo_pos - pos[cl] <= pos[cr] - hi_pos else cr

    out = []
    if replace or len(treated) <= 1:
        for t in sorted(treated):
            if ratio == 1:
                c = pick(t, controls, pos[t], pos[t])
                if c is not None:
                    out.append((t, c, 1))
            else:  # continuous distances only (no ties) in the tests
                cands = [c for c in controls if same(t, c) and abs(dist[t] - dist[c]) <= cal]
                cands.sort(key=lambda c: abs(dist[t] - dist[c]))
                out += [(t, c, r) for r, c in enumerate(cands[:ratio], start=1)]
        return out
    avail = list(controls)
    alive = dict.fromkeys(treated, True)
    span = {t: [pos[t], pos[t]] for t in treated}
    for r in range(1, ratio + 1):
        for t in treated:
            if not alive[t]:
                continue
            c = pick(t, avail, *span[t])
            if c is None:
                alive[t] = False
                continue
            out.append((t, c, r))
            avail.remove(c)
            span[t] = [min(span[t][0], pos[c]), max(span[t][1], pos[c])]
    return out


def _random_case(rng, ties: bool):
    n = int(rng.integers(3, 70))
    treat = rng.random(n) < rng.uniform(0.15, 0.6)
    treat[rng.choice(n, 2, replace=False)] = True  # >= 2 treated: MatchIt takes k at once for one
    if treat.all():
        treat[0] = False  # n >= 3, so at least 2 treated remain
    dist = rng.integers(-8, 9, n) / 4.0 if ties else rng.normal(0, 1, n)
    strata = rng.integers(0, int(rng.integers(1, 4)), n) if rng.random() < 0.4 else None
    caliper = None if rng.random() < 0.4 else float(rng.choice([0.0, 0.25, 0.5, 1.0, 0.3]))
    return dist, treat, strata, caliper


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("order", ["largest", "smallest", "data"])
@pytest.mark.parametrize("ratio", [1, 2, 3])
def test_fast_matcher_equals_plain_implementation(replace, order, ratio):
    rng = np.random.default_rng(1000 * ratio + 10 * len(order) + replace)
    for _ in range(120):
        ties = not (replace and ratio > 1)
        dist, treat, strata, caliper = _random_case(rng, ties)
        tt, cc, rr = _match_arrays(dist, treat, strata, caliper, ratio, replace, order)
        fast = sorted(zip(tt.tolist(), cc.tolist(), rr.tolist(), strict=True))
        plain = sorted(plain_match(dist, treat, strata, caliper, ratio, replace, order))
        assert fast == plain, (dist.tolist(), treat.tolist(), strata, caliper)


def test_fast_matcher_equals_matchit_engine():
    # 480 random problems (ties, exact strata, calipers, k:1, replacement, all orders) solved by
    # MatchIt's own nn_matchC_vec compiled from its source (tests/r/make_matchit_engine_cases.R)
    cases = _load("matchit_engine_cases.json")["cases"]
    assert len(cases) == 480
    kinds = set()
    for c in cases:
        strata = None if c["strata"] is None else np.atleast_1d(c["strata"])
        tt, cc, rr = _match_arrays(
            np.asarray(c["distance"], dtype=float),
            np.asarray(c["treat"], dtype=bool),
            strata,
            c["caliper"],
            c["ratio"],
            c["replace"],
            c["order"],
        )
        mine = sorted(zip(tt.tolist(), cc.tolist(), rr.tolist(), strict=True))
        ref = [np.atleast_1d(c[k]).tolist() for k in ("treated", "control", "round")]
        assert mine == sorted(zip(*ref, strict=True)), c
        kinds.add((c["ratio"], c["replace"], c["order"], strata is not None))
    assert len(kinds) == 36  # every combination of ratio, replace, order and exact


def test_plain_implementation_can_fail():
    # guards the comparison above: a different tie rule gives a different answer
    dist = np.array([0.0, 1.0, 2.0, 1.0])
    treat = np.array([False, True, False, False])
    fast = sorted(zip(*[a.tolist() for a in _match_arrays(dist, treat, None, None, 1, False, "largest")], strict=True))
    # controls 0 and 2 are equally close; 3 has the same score as the treated unit (position after it)
    assert fast == [(1, 3, 1)]
    dist = np.array([0.0, 1.0, 2.0])
    treat = np.array([False, True, False])
    fast = _match_arrays(dist, treat, None, None, 1, False, "largest")
    assert fast[1].tolist() == [0]  # left one on a tie at equal sort distance


def test_single_treated_unit_takes_its_k_nearest_at_once():
    # MatchIt matches a lone treated unit in one scan (reuse.max >= n1): the 2 nearest
    df = pd.DataFrame({"x": [5.0, 4.0, 5.5, 7.0, 2.0, 6.2], "t": [1, 0, 0, 0, 0, 0]})
    res = match_nearest(df, "t", ["x"], caliper=None, ratio=2)
    assert res.pairs()["control_id"].tolist() == [2, 1]  # |0.5| then |1.0| on the x (= logit) scale
    assert res.matched["weights"].tolist() == [1.0, 1.0, 1.0]


def test_replacement_weights_by_hand():
    # treated at 0 and 0.1 both take control at 0.05; treated at 5 takes control at 5
    df = pd.DataFrame({"x": [0.0, 0.1, 5.0, 0.05, 5.0, 9.0, 2.0], "t": [1, 1, 1, 0, 0, 0, 0]})
    X = df[["x"]]
    dist = X["x"].to_numpy()
    tt, cc, _ = _match_arrays(dist, df["t"].to_numpy() == 1, None, None, 1, True, "data")
    assert sorted(zip(tt.tolist(), cc.tolist(), strict=True)) == [(0, 3), (1, 3), (2, 4)]
    # through the public function the logit is monotone in x, so the same pairs result;
    # weights: raw 2 and 1, rescaled to sum to the 2 matched controls -> 4/3 and 2/3
    res = match_nearest(df, "t", ["x"], caliper=None, replace=True)
    assert res.matched.loc[[3, 4], "weights"].tolist() == pytest.approx([4 / 3, 2 / 3])


# ---------------------------------------------------------------------------------------
# Missing values, index labels, settings
# ---------------------------------------------------------------------------------------


def test_missing_rows_dropped_counted_and_index_kept(example):
    d = example.copy()
    d.index = [f"p{i}" for i in range(len(d))]
    d.loc["p3", "age"] = np.nan
    d.loc["p3", "regimen"] = "ONLY_IN_A_DROPPED_ROW"
    d.loc["p10", "regimen"] = None
    res = match_nearest(d, TREAT, COVS, caliper=None)
    assert res.n_dropped_missing == 2
    assert not any("ONLY_IN" in k for k in res.coefficients.index)
    assert np.isnan(res.distance["p3"]) and np.isnan(res.distance["p10"])
    assert res.distance.index.equals(d.index)
    assert set(res.matched.index) <= set(d.index) - {"p3", "p10"}
    assert res.n_treated + res.n_control == len(d) - 2
    pairs = res.pairs()
    assert set(pairs["treated_id"]) | set(pairs["control_id"]) == set(res.matched.index)


def test_boolean_treatment_and_settings_recorded(example):
    d = example.assign(**{TREAT: example[TREAT] == 1})
    res = match_nearest(d, TREAT, COVS, caliper=0.2, ratio=1, order="data")
    ref = pd.DataFrame(_load("matchit_caliper02_data.json")["matched"])
    assert (res.matched.index + 1).tolist() == ref["row"].tolist()
    assert res.settings.order == "data" and res.settings.caliper == 0.2 and res.settings.covariates == tuple(COVS)
    with pytest.raises(AttributeError):
        res.settings.ratio = 2  # frozen


def test_dictionary_column_names_work():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({C.AGE: rng.normal(60, 8, 80), C.SURGERY: (rng.random(80) < 0.3).astype(int)})
    res = match_nearest(df, C.SURGERY, [C.AGE])
    assert isinstance(res, MatchResult)
    assert res.n_treated_matched > 0


# ---------------------------------------------------------------------------------------
# Bad settings and degenerate data
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(ratio=0), "ratio"),
        (dict(ratio=1.5), "ratio"),
        (dict(caliper=-0.1), "caliper"),
        (dict(caliper=0), "caliper"),
        (dict(order="random"), "order"),
        (dict(replace="yes"), "replace"),
        (dict(exact=["nope"]), "not in the data"),
    ],
)
def test_bad_settings(example, kw, msg):
    with pytest.raises(ValueError, match=msg):
        match_nearest(example, TREAT, COVS, **kw)


def test_bad_columns(example):
    with pytest.raises(ValueError, match="not in the data"):
        match_nearest(example, TREAT, ["age", "nope"])
    with pytest.raises(ValueError, match="already has column"):
        match_nearest(example.assign(weights=1.0), TREAT, COVS)
    with pytest.raises(ValueError, match="0/1 or boolean"):
        match_nearest(example.assign(**{TREAT: example[TREAT] * 2}), TREAT, COVS)
    with pytest.raises(ValueError, match="at least one covariate"):
        match_nearest(example, TREAT, [])
    with pytest.raises(ValueError, match="duplicate labels"):
        match_nearest(example.set_index(pd.Index([0] * len(example))), TREAT, COVS)


def test_no_treated_or_no_controls(example):
    with pytest.raises(ValueError, match="no treated"):
        match_nearest(example[example[TREAT] == 0], TREAT, COVS)
    with pytest.raises(ValueError, match="no control"):
        match_nearest(example[example[TREAT] == 1], TREAT, COVS)


def test_constant_and_all_missing_covariates(example):
    with pytest.raises(ValueError, match="single value"):
        match_nearest(example.assign(k=1.0), TREAT, [*COVS, "k"])
    with pytest.raises(ValueError, match="single value"):
        match_nearest(example.assign(k="x"), TREAT, [*COVS, "k"])
    with pytest.raises(ValueError, match="missing for every patient"):
        match_nearest(example.assign(k=np.nan), TREAT, [*COVS, "k"])


def test_infinite_covariate(example):
    d = example.copy()
    d.loc[5, LOG_CA] = -np.inf
    with pytest.raises(ValueError, match="infinite"):
        match_nearest(d, TREAT, COVS)


def test_collinear_covariates(example):
    with pytest.raises(ValueError, match="collinear"):
        match_nearest(example.assign(age2=example["age"] * 2 + 1), TREAT, [*COVS, "age2"])


def test_quasi_separation_by_a_category(example):
    d = example.copy()
    d.loc[d.index[d[TREAT] == 1][:3], "regimen"] = "RARE"
    with pytest.raises(ValueError, match="regimenRARE.*only in treated.*separation"):
        match_nearest(d, TREAT, COVS)


def test_complete_separation_by_a_continuous_covariate(example):
    d = example.assign(sep=example[TREAT] * 10.0 + np.random.default_rng(0).random(len(example)))
    with pytest.raises(ValueError, match="separation"):
        match_nearest(d, TREAT, [*COVS, "sep"])


def test_quasi_separation_by_a_continuous_covariate():
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, 300)
    t = (x > 0.5).astype(int)
    t[np.argmin(np.abs(x - 0.5))] = 0  # one overlap point at the boundary
    df = pd.DataFrame({"x": x, "z": rng.normal(0, 1, 300), "t": t})
    with pytest.raises(ValueError, match="separation"):
        match_nearest(df, "t", ["x", "z"])


def test_nothing_within_caliper_gives_empty_match_with_reason():
    rng = np.random.default_rng(2)
    x = np.r_[rng.normal(0, 1, 30), rng.normal(3, 1, 30)]
    df = pd.DataFrame({"x": x, "t": np.r_[np.zeros(30, int), np.ones(30, int)]})
    res = match_nearest(df, "t", ["x"], caliper=1e-9)
    assert res.empty and res.matched.empty
    assert "caliper" in res.reason and "widen" in res.reason
    assert res.n_treated_unmatched == 30 and res.n_control_unmatched == 30
    assert res.pairs().empty
    assert res.distance.notna().all()


def test_exact_without_common_strata_gives_empty_match_with_reason():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x": rng.normal(0, 1, 40), "t": np.r_[np.zeros(20, int), np.ones(20, int)]})
    df["centre"] = np.where(df["t"] == 1, "A", "B")
    res = match_nearest(df, "t", ["x"], exact=["centre"])
    assert res.empty and "exact" in res.reason


def test_two_valued_score_with_caliper_matches_matchit_472():
    # MatchIt 4.7.2 accepts a caliper on a two-valued score (0.2 SD = 0.129 logit): within each
    # value the distance is 0. (This package refused it before, as MatchIt 4.5.1 did.)
    ref = _load_prop("matchit_ties.json")["two_valued"]
    df = pd.DataFrame({"f": ref["f"], "t": ref["t"]})
    res = match_nearest(df, "t", ["f"], caliper=0.2)
    np.testing.assert_array_equal(res.distance.to_numpy(), ref["distance"])
    assert (res.matched.index + 1).tolist() == ref["matched"]["row"]
    assert res.matched["subclass"].astype(int).tolist() == ref["matched"]["subclass"]
    assert res.n_treated_matched == 7  # 3 of 3 with f = 0, 4 of 6 with f = 1 (4 controls)


def test_heap_select_matches_libstdcxx_partial_sort():
    # which of several equally close candidates MatchIt keeps (k:1 with replacement) is decided
    # by std::partial_sort; fixture from tests/cpp/partial_sort_ties.cpp (g++ / libstdc++)
    from core.matching import _heap_select

    cases = _load("partial_sort_ties.json")["cases"]
    assert len(cases) == 400
    for c in cases:
        assert _heap_select(c["dist"], c["k"]) == c["kept"], c


# ---------------------------------------------------------------------------------------
# distance = "glm" | "firth" | a vector (MatchIt's `distance`), ties, design repairs
# (R: tests/r/make_propensity_fixtures.R, MatchIt 4.7.2, tests/fixtures/propensity/)
# ---------------------------------------------------------------------------------------

DEMO_COVS = ["age_at_diagnosis", "ecog_baseline", "liver_mets_n", "log_ca19_9_baseline", "chemo_regimen",
             "objective_response", "resectability"]
LALONDE_COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


def _read_prop(name: str) -> pd.DataFrame:
    return pd.read_csv(PROP / name, float_precision="round_trip", keep_default_na=False, na_values=[""])


def test_lalonde_tie_takes_the_unit_matchit_takes():
    # treated row 71 (age 27, educ 9) is as far, in exact arithmetic, from control 577 (17, 10) as
    # from 585 (37, 8). R's rounding makes 577 closer by 4.4e-16 and MatchIt takes it. The glm
    # logits are R's to the last bit, so the same rounding decides here; the whole matched set
    # is MatchIt's.
    ref = _load_prop("matchit_ties.json")
    lal = _read_prop("lalonde.csv")
    res = match_nearest(lal, "treat", LALONDE_COVS, caliper=0.2, replace=True)
    np.testing.assert_array_equal(res.distance.to_numpy(), ref["distance"])
    assert ref["row71"]["distance_to_577"][0] < ref["row71"]["distance_to_585"][0]
    pairs = res.pairs()
    assert (pairs.loc[pairs["treated_id"] == 70, "control_id"] + 1).tolist() == [ref["row71"]["control"]] == [577]
    mine = sorted(zip((pairs["treated_id"] + 1).tolist(), (pairs["control_id"] + 1).tolist(), strict=True))
    theirs = sorted((t, c) for t, c in zip(ref["pairs"]["treated"], ref["pairs"]["control"], strict=True) if c)
    assert mine == theirs and len(mine) == 184
    assert (res.matched.index + 1).tolist() == ref["matched"]["row"]
    np.testing.assert_allclose(res.matched["weights"].to_numpy(), ref["matched"]["weights"], rtol=1e-14, atol=0)


def test_exact_tie_is_broken_by_matchits_rule():
    # the same units on a 2^-30 grid, where 577 and 585 are exactly as far from 71: MatchIt takes
    # 585, the one its scan reaches first (1 sort position to the left against 5 to the right)
    ref = _load_prop("matchit_ties.json")["exact_tie"]
    lal = _read_prop("lalonde.csv")
    res = match_nearest(lal, "treat", [], distance=np.asarray(ref["distance"]), caliper=0.2, replace=True)
    pairs = res.pairs()
    assert (pairs.loc[pairs["treated_id"] == 70, "control_id"] + 1).tolist() == [ref["row71_control"]] == [585]


def _firth_case(name: str):
    c = _load_prop("matchit_firth.json")["cases"][name]
    s = c["settings"] or {}  # R writes an empty list as []
    kw = dict(caliper=s.get("caliper"), ratio=s.get("ratio", 1), replace=s.get("replace", False),
              order=s.get("m.order", "largest"), exact=s.get("exact"))
    if c["group"] == "example":
        data = pd.read_csv(FIX / "matching_example.csv")
        data[LOG_CA] = np.log(data["ca19_9"])
        return c, data, TREAT, COVS, kw, {}
    info = _load_prop("demo_firth.json")["subgroups"][c["group"]]
    sub = _read_prop("demo_landmark.csv").iloc[np.asarray(info["rows"]) - 1].reset_index(drop=True)
    data = sub.iloc[np.asarray(info["analysed"]) - 1].reset_index(drop=True)
    return c, data, "treated", DEMO_COVS, kw, dict(drop_constant=True, min_level_count=info["min_count"])


FIRTH_CASES = sorted(json.loads((PROP / "matchit_firth.json").read_text())["cases"])


@pytest.mark.parametrize("case", FIRTH_CASES)
def test_distance_vector_matches_matchit_472(case):
    # MatchIt 4.7.2 given brglm2's Firth logits as a numeric `distance`: used as is, caliper in
    # SDs of the vector (R's sd to the last bit)
    c, data, treat, _, kw, _ = _firth_case(case)
    res = match_nearest(data, treat, [], distance=np.asarray(c["distance"]), **kw)
    assert res.settings.distance == "user" and res.coefficients.empty and res.model_covariates == ()
    if c["caliper"] is not None:
        assert res.caliper_logit == c["caliper"][0]
    assert (res.matched.index + 1).tolist() == c["matched"]["row"]
    np.testing.assert_allclose(res.matched["weights"].to_numpy(), c["matched"]["weights"], rtol=1e-14, atol=0)
    if c["matched"]["subclass"] is None:
        assert res.matched["subclass"].isna().all()
    else:
        assert res.matched["subclass"].astype(int).tolist() == c["matched"]["subclass"]


@pytest.mark.parametrize("case", FIRTH_CASES)
def test_firth_distance_gives_matchits_sets(case):
    # distance="firth": our Firth logits (equal to brglm2's to ~1e-12) give MatchIt's sets
    c, data, treat, covs, kw, repairs = _firth_case(case)
    res = match_nearest(data, treat, covs, distance="firth", **kw, **repairs)
    assert res.settings.distance == "firth"
    np.testing.assert_allclose(res.distance.to_numpy(), c["distance"], rtol=0, atol=1e-9)
    assert (res.matched.index + 1).tolist() == c["matched"]["row"]


def test_folfirinox_subgroup_glm_fails_firth_with_repairs_answers():
    demo = _read_prop("demo_landmark.csv")
    sub = demo[demo["chemo_regimen"] == "FOLFIRINOX"].reset_index(drop=True)
    with pytest.raises(ValueError, match="'chemo_regimen' takes a single value"):
        match_nearest(sub, "treated", DEMO_COVS)
    res = match_nearest(sub, "treated", DEMO_COVS, distance="firth", drop_constant=True, min_level_count=5)
    assert not res.empty and res.n_treated_matched > 0
    assert [d.covariate for d in res.dropped] == ["chemo_regimen"]
    assert "chemo_regimen" not in res.model_covariates and "age_at_diagnosis" in res.model_covariates
    assert res.settings.drop_constant and res.settings.min_level_count == 5
    # the balance table leaves the dropped covariate out and uses the analysed rows
    tab = balance_table(sub, "treated", DEMO_COVS, res)
    assert not any(t.startswith("chemo_regimen") for t in tab.index)
    assert "age_at_diagnosis" in tab.index


def test_separation_error_names_covariate_level_and_arm(example):
    from core.matching import SeparationError

    d = example.copy()
    d.loc[d.index[d[TREAT] == 1][:3], "regimen"] = "RARE"
    with pytest.raises(SeparationError) as exc:
        match_nearest(d, TREAT, COVS)
    assert (exc.value.covariate, exc.value.level, exc.value.arm, exc.value.n) == ("regimen", "RARE", "treated", 3)
    # pooling the rare level (3 treated, 0 controls) into the most common one removes the separation
    res = match_nearest(d, TREAT, COVS, min_level_count=5)
    assert res.pooled[0].levels == ("RARE",) and res.pooled[0].n_treated == (3,)


def test_distance_argument_checked_and_aligned(example):
    logit = match_nearest(example, TREAT, COVS, caliper=None).distance
    shuffled = logit.sample(frac=1.0, random_state=1)
    a = match_nearest(example, TREAT, COVS, caliper=None, distance=shuffled)  # a Series is aligned on the index
    assert a.matched.index.tolist() == match_nearest(example, TREAT, COVS, caliper=None).matched.index.tolist()
    d = logit.to_numpy().copy()
    d[[0, 5]] = np.nan  # rows without a distance are not analysed
    b = match_nearest(example, TREAT, [], caliper=None, distance=d)
    assert b.n_dropped_missing == 2 and np.isnan(b.distance.iloc[0])
    with pytest.raises(ValueError, match="one value per row"):
        match_nearest(example, TREAT, [], distance=d[:-1])
    with pytest.raises(ValueError, match="distance"):
        match_nearest(example, TREAT, COVS, distance="lasso")
    with pytest.raises(ValueError, match="at least one covariate"):
        match_nearest(example, TREAT, [], distance="firth")
    with pytest.raises(ValueError, match="no model is fitted"):
        match_nearest(example, TREAT, [], distance=logit.to_numpy(), drop_constant=True)
    with pytest.raises(ValueError, match="min_level_count"):
        match_nearest(example, TREAT, COVS, min_level_count=0)
    with pytest.raises(ValueError, match="every index label"):
        match_nearest(example, TREAT, [], distance=logit.iloc[1:])


def test_empty_selection_says_so(example):
    with pytest.raises(ValueError, match="no patients"):
        match_nearest(example.iloc[0:0], TREAT, COVS, distance="firth", drop_constant=True)
