"""Table 1: patient characteristics by arm, before and after matching.

Rules (shown to the user in the footnotes of every table):

* **Categorical variables** (dictionary kind ``category``/``boolean``, ECOG, or listed in
  ``categorical``): n (%) per level, percentages of the non-missing values of the arm, with a
  header row holding the variable, its SMD, p-value and missing counts. Boolean variables are
  shown as one row (the number with the feature, "yes").
* **Continuous variables**: mean (SD) or median [Q1, Q3], chosen per variable: median [IQR] for
  laboratory values and counts (CA19-9, number of metastases, chemotherapy cycles) and for any
  variable whose sample skewness (adjusted Fisher-Pearson, both arms pooled) has ``|g1| > 1``;
  mean (SD) otherwise. An explicit ``nonnormal`` list replaces the rule.
* **SMD**: absolute standardised mean difference with the pooled SD
  ``sqrt((s1^2 + s0^2) / 2)`` (as R ``tableone``); for categorical variables the multi-level
  SMD of Yang & Dalton (2012) used by ``tableone`` (for two levels
  ``|p1 - p0| / sqrt((p1 (1 - p1) + p0 (1 - p0)) / 2)``).
* **Tests** (unweighted only): Student t-test (equal variances, as ``tableone``) for mean (SD)
  rows; Wilcoxon rank-sum (Mann-Whitney U; exact when both arms < 50 and no ties, otherwise the
  normal approximation with continuity correction, as R ``wilcox.test``) for median [IQR] rows;
  chi-square (Yates-corrected for 2 x 2 tables, as R ``chisq.test``) for categorical variables,
  or Fisher's exact test (Freeman-Halton for more than two levels) when an expected count is
  below 5.
* **Weights** not all 1 (matching with replacement, or k:1 with unequal set sizes): weighted counts, proportions,
  means, SDs (reliability weights: ``sum w (x - m)^2 * W / (W^2 - sum w^2)``) and quantiles
  (inverse of the weighted empirical distribution); p-values are omitted (unweighted tests would
  ignore the weights and the matched sets). After 1:1 matching p-values are shown but labelled
  descriptive: they ignore the pairing, and balance is judged by the SMD (< 0.1).

Examples
--------
>>> import pandas as pd
>>> from core.dictionary import C
>>> df = pd.DataFrame({C.SURGERY: [1, 1, 1, 0, 0, 0], C.AGE: [60, 62, 64, 70, 72, 74]})
>>> t1 = table_one(df, C.SURGERY, [C.AGE])
>>> t1.table.loc[0, ["Variable", "1", "0", "SMD"]].tolist()
['Age (years), mean (SD)', '62.0 (2.0)', '72.0 (2.0)', '5.000']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from core import export
from core.dictionary import COLUMNS_BY_NAME, DICTIONARY_VERSIONS, Arm, C, label
from core.export import COMPLEMENTARY

__all__ = [
    "TABLE1_VARIABLES",
    "ALWAYS_NONNORMAL",
    "SKEW_THRESHOLD",
    "TableOne",
    "table_one",
    "table_one_before_after",
    "format_p",
    "suppress_table_one",
    "suppress_table_one_long",
]

#: Default Table 1 variables (known before surgery).
TABLE1_VARIABLES: tuple[str, ...] = (
    C.AGE, C.SEX, C.ECOG, C.TUMOUR_LOCATION, C.TUMOUR_SIZE, C.RESECTABILITY, C.CA19_9_BASELINE,
    C.CA19_9_RESTAGING, C.CEA_BASELINE, C.LIVER_METS_N, C.METS_GROUP, C.LIVER_METS_MAX, C.LIVER_METS_BILOBAR,
    C.CHEMO_REGIMEN, C.CHEMO_CYCLES, C.RECIST, C.CA19_9_RESPONSE,
)
#: Laboratory values and counts always summarised as median [IQR].
ALWAYS_NONNORMAL: tuple[str, ...] = (C.CA19_9_BASELINE, C.CA19_9_RESTAGING, C.CEA_BASELINE, C.LIVER_METS_N,
                                     C.CHEMO_CYCLES)
#: Integer-coded variables shown as categories.
INTEGER_CATEGORICAL: tuple[str, ...] = (C.ECOG,)
#: |skewness| above which a continuous variable is summarised as median [IQR].
SKEW_THRESHOLD = 1.0
#: Expected count below which Fisher's exact test replaces the chi-square test.
MIN_EXPECTED = 5.0
#: Above this many enumerated tables the Freeman-Halton p-value is estimated by Monte Carlo.
_MAX_TABLES = 3_000_000

T_TEST = "t-test"
WILCOXON = "Wilcoxon rank-sum"
CHI2 = "chi-square"
FISHER = "Fisher exact"
MARKS = {T_TEST: "ᵃ", WILCOXON: "ᵇ", CHI2: "ᶜ", FISHER: "ᵈ"}
TEST_NOTES = {
    T_TEST: "Student t-test (equal variances)",
    WILCOXON: "Wilcoxon rank-sum (Mann-Whitney U) test; exact when both arms have < 50 values and no ties, "
              "otherwise normal approximation with continuity correction (as R wilcox.test)",
    CHI2: "chi-square test (Yates continuity correction for 2 x 2 tables, as R chisq.test)",
    FISHER: "Fisher's exact test (Freeman-Halton extension for more than two levels), used when an expected "
            "count is below 5",
}
YES = "yes"
DASH = "–"

# long-format column names (statistics, not data-dictionary columns)
LONG_COLUMNS = ("variable", "label", "level", "group", "statistic", "value", "test")


@dataclass(frozen=True, eq=False)
class TableOne:
    """A Table 1.

    Attributes
    ----------
    table : pandas.DataFrame
        Display table (strings): ``Variable`` (label with the summary shown, levels indented),
        one column per arm, ``Missing`` ("a / b" per arm), ``SMD``, ``p`` (with the superscript
        mark of its test) and ``Test``; plus hidden keys ``variable`` and ``level``.
    long : pandas.DataFrame
        Numeric long format for export: ``variable, label, level, group, statistic, value, test``
        (statistics ``n, percent, n_total, missing, mean, sd, median, q1, q3, smd, p``).
    footnotes : tuple of str
        Summary rule, SMD definition, tests (with their marks) and weighting notes.
    groups : tuple
        The two arm values, in column order.
    weighted : bool
        True when non-unit weights were used.
    """

    table: pd.DataFrame
    long: pd.DataFrame
    footnotes: tuple[str, ...]
    groups: tuple[object, object]
    weighted: bool = False
    nonnormal: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------------------------- formatting
def format_p(p: float) -> str:
    """Format a p-value: ``<0.001`` or three decimals; empty when missing.

    Examples
    --------
    >>> format_p(0.04321), format_p(0.0004), format_p(float("nan"))
    ('0.043', '<0.001', '')
    """
    if p is None or not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _fmt_n(n: float) -> str:
    return str(int(round(n))) if abs(n - round(n)) < 1e-9 else f"{n:.1f}"


def _fmt_count(n: float, pct: float) -> str:
    return f"{_fmt_n(n)} ({pct:.1f}%)" if np.isfinite(pct) else f"{_fmt_n(n)} ({DASH})"


def _fmt_num(x: float) -> str:
    return f"{x:.1f}" if np.isfinite(x) else DASH


# ------------------------------------------------------------------------------------- statistics
def _wmean_var(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    W = w.sum()
    if len(x) == 0 or W <= 0:
        return float("nan"), float("nan")
    m = float(np.sum(w * x) / W)
    denom = W * W - np.sum(w * w)
    var = float(np.sum(w * (x - m) ** 2) * W / denom) if denom > 0 else float("nan")
    return m, var


def _wquantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float], weighted: bool) -> list[float]:
    if len(x) == 0:
        return [float("nan")] * len(qs)
    if not weighted:
        return [float(v) for v in np.percentile(x, [100 * q for q in qs])]
    order = np.argsort(x, kind="stable")
    xs, cw = x[order], np.cumsum(w[order])
    share = cw / cw[-1]
    out = []
    for q in qs:
        i = int(np.searchsorted(share, q - 1e-12))
        if abs(share[i] - q) < 1e-12 and i + 1 < len(xs):
            out.append(float((xs[i] + xs[i + 1]) / 2))
        else:
            out.append(float(xs[min(i, len(xs) - 1)]))
    return out


def _smd_continuous(m1: float, v1: float, m0: float, v0: float) -> float:
    sd = math.sqrt((v1 + v0) / 2) if np.isfinite(v1) and np.isfinite(v0) else float("nan")
    if not np.isfinite(sd):
        return float("nan")
    if sd == 0:
        return 0.0 if m1 == m0 else float("inf")
    return abs(m1 - m0) / sd


def _smd_categorical(p1: np.ndarray, p0: np.ndarray) -> float:
    """Yang & Dalton multi-level SMD (tableone), on the proportions of all levels."""
    if len(p1) < 2 or not (np.isfinite(p1).all() and np.isfinite(p0).all()):
        return float("nan")
    a, b = p1[1:], p0[1:]
    diff = a - b
    s = (np.diag(a) - np.outer(a, a) + np.diag(b) - np.outer(b, b)) / 2
    if np.allclose(diff, 0):
        return 0.0
    val = float(diff @ np.linalg.pinv(s) @ diff)
    return math.sqrt(max(val, 0.0))


def _wilcoxon(x1: np.ndarray, x0: np.ndarray) -> float:
    if len(x1) == 0 or len(x0) == 0:
        return float("nan")
    both = np.concatenate([x1, x0])
    ties = len(np.unique(both)) < len(both)
    exact = len(x1) < 50 and len(x0) < 50 and not ties
    res = stats.mannwhitneyu(x1, x0, alternative="two-sided", method="exact" if exact else "asymptotic",
                             use_continuity=True)
    return float(res.pvalue)


def fisher_freeman_halton(table: np.ndarray) -> float:
    """Exact p-value of a k x 2 contingency table (Fisher; Freeman-Halton for k > 2).

    Sums the probabilities (fixed margins) of all tables no more probable than the observed one,
    with R's relative tolerance ``1 + 1e-7``. Falls back to a seeded Monte Carlo estimate
    (scipy, 99,999 tables) when there are too many tables to enumerate.

    Examples
    --------
    >>> round(fisher_freeman_halton(np.array([[3, 1], [1, 3]])), 4)  # R fisher.test: 0.4857
    0.4857
    """
    t = np.asarray(table, dtype=np.int64)
    t = t[t.sum(axis=1) > 0]
    if t.shape[0] < 2 or (t.sum(axis=0) == 0).any():
        return 1.0
    rows = t.sum(axis=1)
    n1 = int(t[:, 0].sum())
    N = int(rows.sum())

    def logc(n: np.ndarray | int, k: np.ndarray | int) -> np.ndarray:
        from scipy.special import gammaln
        return gammaln(np.asarray(n) + 1) - gammaln(np.asarray(k) + 1) - gammaln(np.asarray(n) - np.asarray(k) + 1)

    lp_obs = float(np.sum(logc(rows, t[:, 0])) - logc(N, n1))
    remaining = np.concatenate([np.cumsum(rows[::-1])[::-1][1:], [0]])
    s = np.zeros(1, dtype=np.int64)
    lp = np.zeros(1)
    for i in range(len(rows) - 1):
        x = np.arange(rows[i] + 1)
        s_new = (s[:, None] + x[None, :]).ravel()
        lp_new = (lp[:, None] + logc(rows[i], x)[None, :]).ravel()
        ok = (s_new <= n1) & (n1 - s_new <= remaining[i])
        s, lp = s_new[ok], lp_new[ok]
        if len(s) > _MAX_TABLES:
            res = stats.fisher_exact(t, method=stats.MonteCarloMethod(n_resamples=99_999, rng=np.random.default_rng(0)))
            return float(res.pvalue)
    last = n1 - s
    lp = lp + logc(rows[-1], last) - logc(N, n1)
    keep = lp <= lp_obs + np.log1p(1e-7)
    return float(min(1.0, np.exp(lp[keep]).sum()))


# ------------------------------------------------------------------------------------- variables
def _kind(name: str, s: pd.Series, categorical: set[str]) -> str:
    """'boolean', 'categorical' or 'continuous'."""
    col = COLUMNS_BY_NAME.get(name)
    if col is not None and col.kind == "boolean":
        return "boolean"
    if name in categorical or name in INTEGER_CATEGORICAL or (col is not None and col.kind in ("category", "text")):
        return "categorical"
    if col is None:
        if pd.api.types.is_bool_dtype(s):
            return "boolean"
        if not pd.api.types.is_numeric_dtype(s):
            return "categorical"
    return "continuous"


def _as_level(v: object) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return YES if v else "no"
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return str(int(f)) if f.is_integer() else str(f)
    return str(v)


def _boolean_values(s: pd.Series) -> pd.Series:
    out = s.astype(object).map(lambda v: None if v is None or pd.isna(v) else (YES if bool(v) else "no"))
    return out


def _levels(name: str, values: pd.Series) -> list[str]:
    present = [v for v in pd.unique(values.dropna())]
    col = COLUMNS_BY_NAME.get(name)
    if col is not None and col.categories:
        order = [c for c in col.categories if c in present]
        return order + sorted(v for v in present if v not in order)
    try:
        return sorted(present, key=lambda v: (0, float(v)) if _is_number(v) else (1, v))
    except TypeError:
        return sorted(map(str, present))


def _is_number(v: str) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _skewness(x: np.ndarray) -> float:
    if len(x) < 3 or np.ptp(x) == 0:
        return 0.0
    return float(stats.skew(x, bias=False))


def _group_order(values: pd.Series) -> tuple[object, object]:
    present = list(pd.unique(values.dropna()))
    if len(present) != 2:
        raise ValueError(f"Table 1 needs exactly two arms in the treatment column; found {len(present)}: {present}")
    if set(present) <= set(Arm.ALL):
        return (Arm.SURGERY, Arm.CHEMOTHERAPY)
    try:
        num = sorted(present, key=float, reverse=True)  # 1 (treated) before 0
        return (num[0], num[1])
    except (TypeError, ValueError):
        srt = sorted(present, key=str)
        return (srt[0], srt[1])


def _group_label(g: object, labels: Mapping[object, str] | None) -> str:
    if labels and g in labels:
        return labels[g]
    return _as_level(g) or str(g)


# ------------------------------------------------------------------------------------- main
def table_one(
    data: pd.DataFrame,
    treatment: str,
    variables: Sequence[str] = TABLE1_VARIABLES,
    *,
    weights: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    nonnormal: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    labels: Mapping[object, str] | None = None,
    tests: bool = True,
    levels: Mapping[str, Sequence[str]] | None = None,
) -> TableOne:
    """Table 1 by arm: n (%) or mean (SD) / median [IQR], missing counts, SMD and p-values.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    treatment : str
        Column with exactly two arms (``Arm`` labels: surgery first; 0/1: 1 first).
    variables : sequence of str
        Columns to describe (default :data:`TABLE1_VARIABLES`); display names from ``label()``.
    weights : str or array-like, optional
        Column name or values of case weights (> 0). Non-unit weights give weighted summaries
        and no p-values.
    nonnormal : sequence of str, optional
        Continuous variables to summarise as median [IQR] (the others as mean (SD)). Default: the
        rule of the module docstring (labs/counts, or ``|skewness| > 1``).
    categorical : sequence of str, optional
        Extra variables to treat as categorical (dictionary categories, booleans and ECOG always
        are).
    labels : mapping, optional
        Display names of the arm values (default: the values as text).
    tests : bool
        Compute p-values (ignored, i.e. False, when weighted).
    levels : mapping of str to sequence of str, optional
        Fixed levels (display order) of categorical variables, e.g. to align two tables; levels
        not listed are neither shown nor counted. Default: dictionary order of the levels present.

    Returns
    -------
    TableOne

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Arm
    >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 3 + [Arm.CHEMOTHERAPY] * 3,
    ...                    C.SEX: ["F", "M", "M", "F", "F", None]})
    >>> t = table_one(df, C.TREATMENT_GROUP, [C.SEX])
    >>> t.table[["Variable", "surgery", "chemotherapy", "Missing"]].values.tolist()
    [['Sex, n (%)', '', '', '0 / 1'], ['   F', '1 (33.3%)', '2 (100.0%)', ''], ['   M', '2 (66.7%)', '0 (0.0%)', '']]
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    if treatment not in data.columns:
        raise ValueError(f"treatment column {treatment!r} is not in data")
    variables = list(variables)
    missing_cols = [v for v in variables if v not in data.columns]
    if missing_cols:
        raise ValueError(f"variables not in data: {missing_cols}")
    if not variables:
        raise ValueError("no variables given")
    # columns added after dictionary 1.0 are optional: one recorded for no patient is left out, with a footnote
    unrecorded = [v for v in variables if v in COLUMNS_BY_NAME and COLUMNS_BY_NAME[v].since != DICTIONARY_VERSIONS[0]
                  and not bool(data[v].notna().any())]
    if len(unrecorded) < len(variables):
        variables = [v for v in variables if v not in unrecorded]
    else:  # nothing else to show: keep them (all missing) rather than an empty table
        unrecorded = []
    n_no_arm = int(data[treatment].isna().sum())
    data = data[data[treatment].notna()]
    n = len(data)
    if weights is None:
        w_all = np.ones(n)
    elif isinstance(weights, str):
        if weights not in data.columns:
            raise ValueError(f"weights column {weights!r} is not in data")
        w_all = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
    else:
        w_all = np.asarray(weights, dtype=float)
        if len(w_all) != len(data):
            raise ValueError(f"weights has length {len(w_all)} but data has {len(data)} rows with an arm")
    if not np.isfinite(w_all).all() or (w_all <= 0).any():
        raise ValueError("weights must be finite and > 0")
    weighted = bool(not np.allclose(w_all, 1.0))
    do_tests = tests and not weighted
    groups = _group_order(data[treatment])
    gnames = [_group_label(g, labels) for g in groups]
    in_g = [(data[treatment] == g).to_numpy() for g in groups]
    cat_set = set(categorical or ())
    explicit_nonnormal = nonnormal is not None
    nonnormal_set = set(nonnormal or ())

    display: list[dict[str, object]] = []
    long: list[dict[str, object]] = []
    used_tests: set[str] = set()
    chosen_nonnormal: list[str] = []

    def add_long(var: str, level: str, group: str, statistic: str, value: float, test: str = "") -> None:
        long.append({"variable": var, "label": label(var), "level": level, "group": group,
                     "statistic": statistic, "value": float(value), "test": test})

    for var in variables:
        s = data[var]
        kind = _kind(var, s, cat_set)
        lab = label(var)
        if kind in ("categorical", "boolean"):
            vals = _boolean_values(s) if kind == "boolean" else s.astype(object).map(_as_level)
            var_levels = list(levels[var]) if levels and var in levels else _levels(var, vals)
            if kind == "boolean":
                var_levels = ["no", YES]
            counts = np.zeros((len(var_levels), 2))
            miss = [0.0, 0.0]
            for j in range(2):
                v = vals[in_g[j]]
                w = w_all[in_g[j]]
                miss[j] = float(w[v.isna().to_numpy()].sum())
                for i, lev in enumerate(var_levels):
                    counts[i, j] = float(w[(v == lev).to_numpy()].sum())
            tot = counts.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                props = counts / tot
            smd = _smd_categorical(props[:, 0], props[:, 1]) if (tot > 0).all() else float("nan")
            p, test = float("nan"), ""
            if do_tests:
                obs = counts[counts.sum(axis=1) > 0]
                if obs.shape[0] >= 2 and (obs.sum(axis=0) > 0).all():
                    expected = obs.sum(axis=1, keepdims=True) * obs.sum(axis=0, keepdims=True) / obs.sum()
                    if (expected < MIN_EXPECTED).any():
                        test, p = FISHER, fisher_freeman_halton(np.rint(obs).astype(np.int64))
                    else:
                        test = CHI2
                        p = float(stats.chi2_contingency(obs, correction=obs.shape == (2, 2))[1])
                    used_tests.add(test)
            for j in range(2):
                add_long(var, "", gnames[j], "missing", miss[j])
                add_long(var, "", gnames[j], "n_total", tot[j])
            add_long(var, "", "", "smd", smd)
            if test:
                add_long(var, "", "", "p", p, test)
            mark = MARKS.get(test, "")
            p_text = format_p(p) + mark if test else ""
            header = {"variable": var, "level": "", "Variable": f"{lab}, n (%)", gnames[0]: "", gnames[1]: "",
                      "Missing": f"{_fmt_n(miss[0])} / {_fmt_n(miss[1])}", "SMD": _fmt_smd(smd), "p": p_text,
                      "Test": test}
            level_rows = []
            for i, lev in enumerate(var_levels):
                for j in range(2):
                    add_long(var, lev, gnames[j], "n", counts[i, j])
                    add_long(var, lev, gnames[j], "percent", 100 * props[i, j])
                if kind == "boolean" and lev != YES:
                    continue
                level_rows.append({"variable": var, "level": lev, "Variable": f"   {lev}",
                                   gnames[0]: _fmt_count(counts[i, 0], 100 * props[i, 0]),
                                   gnames[1]: _fmt_count(counts[i, 1], 100 * props[i, 1]),
                                   "Missing": "", "SMD": "", "p": "", "Test": ""})
            if kind == "boolean":
                row = level_rows[0]
                header.update({"Variable": f"{lab}, yes, n (%)", gnames[0]: row[gnames[0]], gnames[1]: row[gnames[1]]})
                display.append(header)
            else:
                display.append(header)
                display.extend(level_rows)
            continue

        # continuous
        x_all = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        known = ~np.isnan(x_all)
        if explicit_nonnormal:
            nn = var in nonnormal_set
        else:
            nn = var in ALWAYS_NONNORMAL or abs(_skewness(x_all[known])) > SKEW_THRESHOLD
        if nn:
            chosen_nonnormal.append(var)
        xs, ws, summaries = [], [], []
        miss = [0.0, 0.0]
        for j in range(2):
            sel = in_g[j] & known
            x, w = x_all[sel], w_all[sel]
            miss[j] = float(w_all[in_g[j] & ~known].sum())
            xs.append(x)
            ws.append(w)
            m, v = _wmean_var(x, w)
            med, q1, q3 = _wquantiles(x, w, (0.5, 0.25, 0.75), weighted)
            summaries.append((m, v, med, q1, q3, float(w.sum())))
            add_long(var, "", gnames[j], "n_total", float(w.sum()))
            add_long(var, "", gnames[j], "missing", miss[j])
            add_long(var, "", gnames[j], "mean", m)
            add_long(var, "", gnames[j], "sd", math.sqrt(v) if np.isfinite(v) else float("nan"))
            add_long(var, "", gnames[j], "median", med)
            add_long(var, "", gnames[j], "q1", q1)
            add_long(var, "", gnames[j], "q3", q3)
        smd = _smd_continuous(summaries[0][0], summaries[0][1], summaries[1][0], summaries[1][1])
        add_long(var, "", "", "smd", smd)
        p, test = float("nan"), ""
        if do_tests and len(xs[0]) >= 2 and len(xs[1]) >= 2:
            if nn:
                test, p = WILCOXON, _wilcoxon(xs[0], xs[1])
            else:
                test = T_TEST
                p = float(stats.ttest_ind(xs[0], xs[1]).pvalue) if np.ptp(np.concatenate(xs)) > 0 else float("nan")
            used_tests.add(test)
            add_long(var, "", "", "p", p, test)
        cells = []
        for m, v, med, q1, q3, _ in summaries:
            if nn:
                cells.append(f"{_fmt_num(med)} [{_fmt_num(q1)}, {_fmt_num(q3)}]")
            else:
                cells.append(f"{_fmt_num(m)} ({_fmt_num(math.sqrt(v) if np.isfinite(v) else float('nan'))})")
        display.append({"variable": var, "level": "",
                        "Variable": f"{lab}, {'median [IQR]' if nn else 'mean (SD)'}",
                        gnames[0]: cells[0], gnames[1]: cells[1],
                        "Missing": f"{_fmt_n(miss[0])} / {_fmt_n(miss[1])}", "SMD": _fmt_smd(smd),
                        "p": (format_p(p) + MARKS[test]) if test else "", "Test": test})

    cols = ["Variable", gnames[0], gnames[1], "Missing", "SMD", "p", "Test", "variable", "level"]
    table = pd.DataFrame(display, columns=cols)
    footnotes = _footnotes(gnames, weighted, tests, used_tests, explicit_nonnormal)
    if n_no_arm:
        footnotes.append(f"{n_no_arm} patient(s) without an arm left out.")
    if unrecorded:
        footnotes.append("Not recorded for any patient (optional since data dictionary 1.1), not shown: "
                         + ", ".join(label(v) for v in unrecorded) + ".")
    return TableOne(table=table, long=pd.DataFrame(long, columns=list(LONG_COLUMNS)), footnotes=tuple(footnotes),
                    groups=groups, weighted=weighted, nonnormal=tuple(chosen_nonnormal))


def _fmt_smd(smd: float) -> str:
    return f"{smd:.3f}" if np.isfinite(smd) else ""


def _footnotes(gnames: list[str], weighted: bool, tests: bool, used: set[str], explicit: bool) -> list[str]:
    notes = [
        "Categorical variables: n (%) of the patients with a known value; Missing: patients with no value "
        f"({gnames[0]} / {gnames[1]}).",
        ("Continuous variables: median [IQR] for the variables chosen by the user, mean (SD) otherwise."
         if explicit else
         "Continuous variables: median [Q1, Q3] for CA19-9, counts (metastases, cycles) and any variable with "
         f"|skewness| > {SKEW_THRESHOLD:g}; mean (SD) otherwise."),
        "SMD: absolute standardised mean difference with the pooled SD sqrt((s1² + s0²)/2) (as R tableone); "
        "multi-level SMD (Yang & Dalton) for categorical variables; |SMD| < 0.1 is the usual balance threshold.",
    ]
    for t in (T_TEST, WILCOXON, CHI2, FISHER):
        if t in used:
            notes.append(f"{MARKS[t]} {TEST_NOTES[t]}.")
    if weighted:
        notes.append("Weighted summaries (matching weights): counts are sums of weights; SD with reliability "
                     "weights; quantiles from the weighted distribution. p-values are not shown: unweighted tests "
                     "would ignore the weights and the matched sets.")
    elif not tests:
        notes.append("p-values not shown.")
    return notes


def table_one_before_after(result: object, variables: Sequence[str] = TABLE1_VARIABLES) -> pd.DataFrame:
    """Table 1 by arm before and after matching, side by side.

    Parameters
    ----------
    result : core.analysis.AnalysisResult
        Its ``population`` (column ``treated``) is the "before" sample; ``match.matched`` (with
        its ``weights``) the "after" sample.
    variables : sequence of str
        Columns to describe (default :data:`TABLE1_VARIABLES`); those absent from the
        population are skipped.

    Returns
    -------
    pandas.DataFrame
        Columns ``Variable``, then ``Surgery``/``Chemotherapy``/``Missing``/``SMD``/``p``
        suffixed `` (before)`` and `` (after)``, then ``variable`` and ``level`` (keys).
        ``attrs["footnotes"]`` holds the footnotes (tuple of str) and ``attrs["long"]`` the
        numeric long format with a ``sample`` column (``before``/``after``). The summary type
        (mean/median) is chosen on the "before" sample and kept after matching; after matching
        p-values are descriptive (1:1) or omitted (weighted).
    """
    from core.population import TREATED  # local: population imports survival

    pop = getattr(result, "population", None)
    if not isinstance(pop, pd.DataFrame) or TREATED not in pop.columns:
        raise ValueError("result must be an AnalysisResult with a population having a 'treated' column")
    variables = [v for v in variables if v in pop.columns]
    labels = {1: "Surgery", 0: "Chemotherapy"}
    before = table_one(pop, TREATED, variables, labels=labels)
    cat_levels: dict[str, list[str]] = {}
    for var in variables:
        lv = before.table.loc[(before.table["variable"] == var) & (before.table["level"] != ""), "level"].tolist()
        if lv:
            cat_levels[var] = lv
    nn = list(before.nonnormal)
    m = getattr(result, "match", None)
    matched = None if m is None else m.matched
    footnotes = list(before.footnotes)
    keys = ["variable", "level"]
    b = before.table.drop(columns=["Test"])
    out = b.rename(columns={c: f"{c} (before)" for c in b.columns if c not in keys + ["Variable"]})
    long_b = before.long.assign(sample="before")
    if matched is not None and len(matched) and matched[TREATED].nunique() == 2:
        w = matched["weights"] if "weights" in matched.columns else None
        after = table_one(matched, TREATED, variables, weights=w, nonnormal=nn, labels=labels,
                          levels=cat_levels)
        a = after.table.drop(columns=["Test", "Variable"])
        a = a.rename(columns={c: f"{c} (after)" for c in a.columns if c not in keys})
        out = out.merge(a, on=keys, how="left", sort=False)
        long_a = after.long.assign(sample="after")
        if after.weighted:
            footnotes.append("After matching: weighted summaries; p-values are not shown (they would ignore the "
                             "weights and the matched sets).")
        else:
            footnotes.append("After matching: p-values are descriptive only (the tests ignore the matched pairs); "
                             "judge balance by the SMD.")
        for note in after.footnotes:
            if note not in footnotes and note[:1] in MARKS.values():
                footnotes.append(note)
    else:
        reason = getattr(m, "reason", None) if m is not None else None
        for c in ("Surgery", "Chemotherapy", "Missing", "SMD", "p"):
            out[f"{c} (after)"] = ""
        long_a = pd.DataFrame(columns=[*LONG_COLUMNS, "sample"])
        footnotes.append("No matched sample" + (f": {reason}" if reason else "") + ".")
    cols = ["Variable"] + [f"{c} ({s})" for s in ("before", "after") for c in
                           ("Surgery", "Chemotherapy", "Missing", "SMD", "p")] + keys
    out = out[cols].fillna("")
    out.attrs["footnotes"] = tuple(footnotes)
    out.attrs["long"] = pd.concat([long_b, long_a], ignore_index=True) if len(long_a) else long_b.reset_index(drop=True)
    return out


# ------------------------------------------------------------------------------------- suppression
#: Column of the suppressed long format telling why a value is empty: "" (shown), "<k" (a count
#: from 1 to k-1, or the percentage of one), "*" (complementary: hidden so that no hidden count
#: can be recovered by subtraction, or a percentage that would reveal a hidden count).
SUPPRESSED = "suppressed"
_COUNT_STATS = ("n", "n_total", "missing")


def _suppression_footnote(k: int) -> str:
    return (f"Small-cell suppression (k = {k}): counts from 1 to {k - 1} show as <{k}, without their percentage. "
            f"{COMPLEMENTARY} marks a count hidden only so that a hidden count cannot be recovered by subtraction "
            "(within one variable and arm, the levels and the missing count add up to the arm's size); "
            f"'n ({COMPLEMENTARY})' a percentage hidden because it would reveal the number of patients with a "
            "known value, and so a hidden missing count. Zeros are shown. Yes/no variables: the hidden 'no' "
            "count is protected as well.")


def _long_marks(long: pd.DataFrame, k: int) -> dict[object, str]:
    """Suppression marks of the rows of a Table 1 long format (index -> mark)."""
    for col in ("variable", "level", "group", "statistic", "value"):
        if col not in long.columns:
            raise ValueError(f"the long Table 1 has no {col!r} column")
    if not long.index.is_unique:
        raise ValueError("the long Table 1 needs a unique index")
    keys = ["sample", "group", "variable"] if "sample" in long.columns else ["group", "variable"]
    marks: dict[object, str] = {}
    rows = long[(long["group"] != "") & long["statistic"].isin((*_COUNT_STATS, "percent"))]
    for _, block in rows.groupby(keys, sort=False):
        st = block["statistic"]
        n_idx = block.index[st == "n"].tolist()
        tot_idx = block.index[st == "n_total"].tolist()
        miss_idx = block.index[st == "missing"].tolist()
        lines: list[list[object]] = []
        if n_idx and tot_idx:
            lines.append(n_idx + tot_idx)  # the levels add up to the number with a known value
        elif n_idx:
            lines.append(n_idx)
        if tot_idx or miss_idx:
            lines.append(tot_idx + miss_idx)  # known + missing = the arm's size
        values = {i: block.at[i, "value"] for i in n_idx + tot_idx + miss_idx}
        block_marks = export.linked_suppression(values, lines, k=k)
        marks.update(block_marks)
        level_mark = {block.at[i, "level"]: block_marks.get(i) for i in n_idx}
        total_hidden = any(i in block_marks for i in tot_idx)
        for i in block.index[st == "percent"]:
            m = level_mark.get(block.at[i, "level"])
            if m is None and total_hidden:
                m = COMPLEMENTARY
            if m is not None:
                marks[i] = m
    return marks


def suppress_table_one_long(long: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """Small-cell suppression of the numeric (long) Table 1, with complementary cells.

    Per variable, arm and sample (``variable``/``group``/``sample``) the counts are linked by
    two known sums: the levels' ``n`` add up to ``n_total`` (the number with a known value) and
    ``n_total + missing`` is the arm's size. :func:`core.export.linked_suppression` hides every
    count from 1 to ``k - 1`` and then complementary counts until no sum has exactly one hidden
    cell. A ``percent`` is hidden with its count, and all percentages of a block are hidden when
    ``n_total`` is (they would reveal it). Hidden values become NaN and the new column
    :data:`SUPPRESSED` says why (``"<k"`` or ``"*"``; ``""`` when shown). Other statistics
    (mean, SD, quantiles, SMD, p) are left as they are.

    Parameters
    ----------
    long : pandas.DataFrame
        ``TableOne.long`` or ``table_one_before_after(...).attrs["long"]``.
    k : int
        Threshold (counts below ``k`` and above 0 are hidden).

    Returns
    -------
    pandas.DataFrame
        A copy with ``value`` (float, NaN where hidden) followed by ``suppressed``.

    Examples
    --------
    >>> lg = pd.DataFrame({"variable": "x", "label": "X", "level": ["", "", "a", "a", "b", "b"],
    ...                    "group": "S", "statistic": ["missing", "n_total", "n", "percent", "n", "percent"],
    ...                    "value": [0.0, 53.0, 3.0, 5.66, 50.0, 94.34], "test": ""})
    >>> out = suppress_table_one_long(lg, k=11)
    >>> out["suppressed"].tolist()
    ['', '', '<11', '<11', '*', '*']
    >>> out["value"].tolist()[:3]
    [0.0, 53.0, nan]
    """
    if not isinstance(long, pd.DataFrame):
        raise ValueError("long must be a pandas DataFrame")
    marks = _long_marks(long, k)
    out = long.copy()
    out["value"] = out["value"].astype(float)
    flag = pd.Series("", index=out.index, dtype=object)
    for i, m in marks.items():
        out.at[i, "value"] = float("nan")
        flag[i] = m
    out.insert(out.columns.get_loc("value") + 1, SUPPRESSED, flag)
    return out


def _without_percent(text: str) -> str:
    head = text.split(" (", 1)[0]
    return f"{head} ({COMPLEMENTARY})"


def suppress_table_one(table: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """Small-cell suppression of the formatted Table 1, consistent with its numeric export.

    The marks come from :func:`suppress_table_one_long` on ``table.attrs["long"]`` (so the
    screen, the formatted and the numeric exports hide the same cells): a level's ``n (x%)`` becomes
    ``"<k"`` (1 to k-1) or ``"*"`` (complementary), or ``"n (*)"`` when only its percentage is
    hidden (it would reveal a hidden missing count); a side of a ``Missing`` pair ``"a / b"``
    becomes ``"<k"`` or ``"*"``. Yes/no variables shown as one row are protected through their
    ``no`` count as well (it is N - missing - yes). A footnote explaining the marks is added to
    ``attrs["footnotes"]`` and ``attrs["long"]`` is replaced by the suppressed long format.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`table_one_before_after` (needs its ``variable``/``level`` columns and
        ``attrs["long"]``).
    k : int
        Threshold (counts below ``k`` and above 0 are hidden).

    Returns
    -------
    pandas.DataFrame
        A copy with the same columns.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from core.population import TREATED
    >>> pop = pd.DataFrame({TREATED: [1] * 40 + [0] * 40, C.SEX: ["F"] * 3 + ["M"] * 37 + ["F"] * 20 + ["M"] * 20})
    >>> t = suppress_table_one(table_one_before_after(SimpleNamespace(population=pop, match=None), [C.SEX]), k=11)
    >>> t[["Variable", "Surgery (before)", "Chemotherapy (before)"]].values.tolist()
    [['Sex, n (%)', '', ''], ['   F', '<11', '20 (50.0%)'], ['   M', '*', '20 (50.0%)']]
    """
    if not isinstance(table, pd.DataFrame) or not {"variable", "level"} <= set(table.columns):
        raise ValueError("table must be a Table 1 with 'variable' and 'level' columns")
    long = table.attrs.get("long")
    if not isinstance(long, pd.DataFrame):
        raise ValueError("table.attrs['long'] (the numeric Table 1) is needed to suppress Table 1")
    long = long.reset_index(drop=True)
    slong = suppress_table_one_long(long, k=k)
    has_sample = "sample" in long.columns
    lookup: dict[tuple[object, ...], str] = {}
    for i, m in slong[SUPPRESSED].items():
        if m:
            r = long.loc[i]
            lookup[(r["sample"] if has_sample else "", r["group"], r["variable"], r["statistic"], r["level"])] = m
    samples = list(pd.unique(long["sample"])) if has_sample else [""]
    out = table.copy()
    for sample in samples:
        sel = long["sample"] == sample if has_sample else pd.Series(True, index=long.index)
        groups = [g for g in pd.unique(long.loc[sel, "group"]) if g != ""]
        suffix = f" ({sample})" if sample else ""
        categorical = set(long.loc[sel & (long["statistic"] == "n"), "variable"])
        with_levels = set(table.loc[table["level"] != "", "variable"])
        for row in out.index:
            var, lev = table.at[row, "variable"], table.at[row, "level"]
            level = lev if lev else (YES if var in categorical and var not in with_levels else None)
            for g in groups:
                col = f"{g}{suffix}"
                text = table.at[row, col] if col in table.columns else ""
                if level is None or not isinstance(text, str) or not text:
                    continue
                m = lookup.get((sample, g, var, "n", level))
                if m is not None:
                    out.at[row, col] = m
                elif (sample, g, var, "n_total", "") in lookup:
                    out.at[row, col] = _without_percent(text)
            mcol = f"Missing{suffix}"
            pair = table.at[row, mcol] if mcol in table.columns and not lev else ""
            parts = pair.split(" / ") if isinstance(pair, str) and pair else []
            if len(parts) == len(groups):
                parts = [lookup.get((sample, g, var, "missing", ""), p) for g, p in zip(groups, parts, strict=True)]
                out.at[row, mcol] = " / ".join(parts)
    out.attrs = dict(table.attrs)
    out.attrs["long"] = slong
    out.attrs["footnotes"] = (*tuple(table.attrs.get("footnotes", ())), _suppression_footnote(k))
    return out
