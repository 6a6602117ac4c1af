"""Outcomes within the surgery group: survival by subgroup, prognostic Cox model, short-term outcomes.

Everything here uses the **surgery group only**: recurrence-free survival does not exist without
surgery (domain.md §5.2), so it is never mixed with the progression-free survival of the
chemotherapy group; overall survival is counted from the day of surgery.

Small numbers are said out loud (domain.md §5.5): a subgroup with fewer than
:data:`core.guards.MIN_PATIENTS` patients or :data:`core.guards.MIN_EVENTS` events is flagged unreliable with the reason,
log-rank p-values across subgroups are labelled exploratory, and a Cox model with fewer than
:data:`EVENTS_PER_PARAMETER` events per parameter carries a warning.

Examples
--------
>>> import pandas as pd
>>> from core.dictionary import C, Arm, MetsGroup
>>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 4 + [Arm.CHEMOTHERAPY],
...                    C.RFS_MONTHS: [3.0, 6.0, 9.0, 12.0, None], C.RFS_EVENT: [1, 1, 0, 1, None],
...                    C.METS_GROUP: [MetsGroup.ONE, MetsGroup.ONE, MetsGroup.MORE, MetsGroup.MORE, MetsGroup.ONE]})
>>> res = survival_by(df, "rfs", C.METS_GROUP)
>>> [(g.group, g.n, g.events) for g in res.groups]
[('1', 2, 2), ('>3', 2, 1)]
>>> res.groups[0].reliable, res.groups[0].reason
(False, 'only 2 patients (fewer than 10) and only 2 events (fewer than 5)')
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from core import survival
from core.dictionary import COLUMNS_BY_NAME, Arm, C, ClavienDindo, Pancreatic, Regimen, label
from core.guards import unreliable_reason

__all__ = [
    "ENDPOINTS",
    "GROUPINGS",
    "DEFAULT_PROGNOSTIC_COVARIATES",
    "GroupCurve",
    "GroupedSurvival",
    "PrognosticCox",
    "survival_by",
    "prognostic_cox",
    "short_term_outcomes",
]

Endpoint = Literal["rfs", "os_from_surgery"]

#: Endpoint -> (time column, event column, display name).
ENDPOINTS: dict[str, tuple[str, str, str]] = {
    "rfs": (C.RFS_MONTHS, C.RFS_EVENT, "Recurrence-free survival from surgery"),
    "os_from_surgery": (C.OS_FROM_SURGERY, C.OS_EVENT, "Overall survival from surgery"),
}
#: Columns offered for grouping the survival curves.
GROUPINGS: tuple[str, ...] = (C.METS_GROUP, C.CHEMO_REGIMEN, C.PANCREATIC_PROCEDURE, C.MAJOR_HEPATECTOMY)
#: Times (months) at which survival is reported (1, 2 and 3 years).
REPORT_TIMES: tuple[float, ...] = (12.0, 24.0, 36.0)
EVENTS_PER_PARAMETER = 10
#: An indicator term (category level, yes/no) with fewer patients than this is flagged.
MIN_LEVEL_PATIENTS = 5

#: Default covariates of the prognostic Cox model.
MARGIN_NOT_R0 = "margin_not_r0"
DEFAULT_PROGNOSTIC_COVARIATES: tuple[str, ...] = (
    C.AGE, C.ECOG, C.METS_GROUP, C.CHEMO_REGIMEN, C.MAJOR_HEPATECTOMY, C.MARGIN, C.CA19_9_RESPONSE,
)

_BOOL_LEVELS = {C.MAJOR_HEPATECTOMY: ("Major hepatectomy", "Minor hepatectomy")}


# ================================================================================== helpers
def _surgery_only(data: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    if C.TREATMENT_GROUP in data.columns:
        return data[data[C.TREATMENT_GROUP] == Arm.SURGERY]
    if C.SURGERY in data.columns:
        return data[pd.to_numeric(data[C.SURGERY], errors="coerce") == 1]
    raise ValueError(f"data needs a {C.TREATMENT_GROUP!r} (or {C.SURGERY!r}) column to select the surgery group")


def _endpoint(endpoint: str) -> tuple[str, str, str]:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}, not {endpoint!r}")
    return ENDPOINTS[endpoint]


def _level_text(v: object) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _group_values(s: pd.Series, column: str) -> tuple[pd.Series, list[str]]:
    """Group labels as text (None when missing) and all possible levels in display order."""
    col = COLUMNS_BY_NAME.get(column)
    if column in _BOOL_LEVELS or (col is not None and col.kind == "boolean") or pd.api.types.is_bool_dtype(s):
        yes, no = _BOOL_LEVELS.get(column, ("yes", "no"))
        vals = s.astype(object).map(lambda v: None if v is None or pd.isna(v) else (yes if bool(v) else no))
        return vals, [no, yes]
    vals = s.astype(object).map(lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else _level_text(v))
    present = list(pd.unique(vals.dropna()))
    if col is not None and col.categories:
        order = list(col.categories)
        return vals, order + sorted(v for v in present if v not in order)
    try:
        return vals, sorted(present, key=float)
    except (TypeError, ValueError):
        return vals, sorted(present)


# ================================================================================== survival by group
@dataclass(frozen=True, eq=False)
class GroupCurve:
    """Kaplan-Meier estimate of one subgroup.

    Attributes
    ----------
    group : str
        Group label.
    n, events : int
    km : pandas.DataFrame
        Full curve (:func:`core.survival.kaplan_meier`, log-log limits).
    curve : pandas.DataFrame
        The curve up to the last time with at least ``min_at_risk`` patients at risk (for plots).
    median, median_lower, median_upper : float
        Median survival (months) and its 95% limits; NaN when not reached.
    at_times : pandas.DataFrame
        Survival at 12, 24 and 36 months (:func:`core.survival.survival_at`).
    reliable : bool
    reason : str
        Why the estimate is unreliable (empty when reliable).
    """

    group: str
    n: int
    events: int
    km: pd.DataFrame
    curve: pd.DataFrame
    median: float
    median_lower: float
    median_upper: float
    at_times: pd.DataFrame
    reliable: bool
    reason: str


@dataclass(frozen=True, eq=False)
class GroupedSurvival:
    """Survival by subgroup within the surgery group (see :func:`survival_by`).

    Attributes
    ----------
    endpoint, group_column : str
    endpoint_label : str
    groups : tuple of GroupCurve
        Groups with at least one patient, in dictionary order.
    logrank_p : float
        Exploratory log-rank p-value across groups (NaN when not computed).
    logrank_note : str
        "Exploratory ..." or why no p-value is given.
    notes : tuple of str
        Omitted empty groups, patients left out for missing values, unreliable groups.
    summary : pandas.DataFrame
        One row per group: ``group, n, events, median, median_lower, median_upper`` and
        ``survival_12/24/36`` with ``lower_``/``upper_`` limits, ``reliable``, ``note``.
    n_missing : int
        Operated patients left out because the time, event or group is missing.
    """

    endpoint: str
    endpoint_label: str
    group_column: str
    groups: tuple[GroupCurve, ...]
    logrank_p: float
    logrank_note: str
    notes: tuple[str, ...]
    summary: pd.DataFrame
    n_missing: int
    analysed: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def curves(self) -> dict[str, pd.DataFrame]:
        """Full Kaplan-Meier table per group (input of ``core.figures.km_figure``)."""
        return {cv.group: cv.km for cv in self.groups}

    @property
    def medians(self) -> dict[str, float]:
        """Median survival per group (NaN when not reached)."""
        return {cv.group: cv.median for cv in self.groups}

    def risk_table(self, times: Sequence[float]) -> pd.DataFrame:
        """Patients at risk (time >= t) per group at ``times`` (R's counting).

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 4, C.RFS_MONTHS: [6.0, 18, 30, 40],
        ...                    C.RFS_EVENT: [1, 0, 1, 0], C.METS_GROUP: ["1"] * 4})
        >>> survival_by(df, "rfs", C.METS_GROUP).risk_table([0, 12, 24]).to_numpy().tolist()
        [[4, 3, 2]]
        """
        if not self.groups:
            return pd.DataFrame()
        a = self.analysed
        groups = pd.Categorical(a["group"], categories=[cv.group for cv in self.groups])
        return survival.number_at_risk(a["time"], a["event"], groups, times)

    def display(self) -> pd.DataFrame:
        """Formatted summary for display: median (95% CI) and 1/2/3-year survival in %.

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 4, C.RFS_MONTHS: [6.0, 18, 30, 40],
        ...                    C.RFS_EVENT: [1, 0, 1, 0], C.METS_GROUP: ["1"] * 4})
        >>> survival_by(df, "rfs", C.METS_GROUP).display().iloc[0, 3:5].tolist()
        ['30.0 (6.0 to NR)', '75% (13% to 96%)']
        """
        rows = []
        for _, r in self.summary.iterrows():
            row = {"Group": r["group"], "Patients": int(r["n"]), "Events": int(r["events"]),
                   "Median, months (95% CI)": f"{_m(r['median'])} ({_m(r['median_lower'])} to {_m(r['median_upper'])})"}
            for k in REPORT_TIMES:
                k = int(k)
                row[f"{k // 12}-year"] = f"{_pct(r[f'survival_{k}'])} ({_pct(r[f'lower_{k}'])} to {_pct(r[f'upper_{k}'])})"
            row["Note"] = "unreliable: " + r["note"] if r["note"] else ""
            rows.append(row)
        return pd.DataFrame(rows)


def _m(x: float) -> str:
    return "NR" if not np.isfinite(x) else f"{x:.1f}"


def _pct(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.0f}%"


def survival_by(data: pd.DataFrame, endpoint: Endpoint, group_column: str, *, min_at_risk: int = 3) -> GroupedSurvival:
    """Kaplan-Meier curves, medians and 1/2/3-year survival by subgroup of the surgery group.

    Parameters
    ----------
    data : pandas.DataFrame
        Cohort table (``Cohort.data`` or a filtered part of it); only the surgery group is used.
    endpoint : {"rfs", "os_from_surgery"}
        Recurrence-free survival or overall survival, both from surgery.
    group_column : str
        Grouping column, e.g. one of :data:`GROUPINGS` (metastasis group, regimen, pancreatic
        procedure, major hepatectomy).
    min_at_risk : int
        Plotted curves (``GroupCurve.curve``) stop when fewer patients remain at risk.

    Returns
    -------
    GroupedSurvival

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Arm
    >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 3, C.OS_FROM_SURGERY: [5.0, 10.0, 20.0],
    ...                    C.OS_EVENT: [1, 1, 0], C.MAJOR_HEPATECTOMY: [False, False, False]})
    >>> r = survival_by(df, "os_from_surgery", C.MAJOR_HEPATECTOMY)
    >>> [g.group for g in r.groups], r.logrank_note
    (['Minor hepatectomy'], 'No log-rank test: only one group has patients.')
    """
    t_col, e_col, ep_label = _endpoint(endpoint)
    if not isinstance(min_at_risk, (int, np.integer)) or min_at_risk < 1:
        raise ValueError(f"min_at_risk must be a positive integer, got {min_at_risk!r}")
    surg = _surgery_only(data)
    for c in (t_col, e_col, group_column):
        if c not in surg.columns:
            raise ValueError(f"column {c!r} is not in data")
    groups_txt, levels = _group_values(surg[group_column], group_column)
    t = pd.to_numeric(surg[t_col], errors="coerce").astype(float)
    e = pd.to_numeric(surg[e_col], errors="coerce").astype(float)
    ok = t.notna() & e.notna() & groups_txt.notna()
    n_missing = int((~ok).sum())
    notes: list[str] = []
    if n_missing:
        notes.append(f"{n_missing} operated patient(s) left out: missing {label(group_column).lower()}, "
                     "follow-up time or event.")
    t, e, g = t[ok].to_numpy(), e[ok].to_numpy(), groups_txt[ok].to_numpy()
    curves: list[GroupCurve] = []
    empty = []
    for lev in levels:
        sel = g == lev
        if not sel.any():
            empty.append(lev)
            continue
        ts, es = t[sel], e[sel]
        km = survival.kaplan_meier(ts, es)
        med = survival.median_survival(ts, es)
        at = survival.survival_at(ts, es, list(REPORT_TIMES))
        risky = km[survival.N_RISK] >= min_at_risk
        curve = km[risky.to_numpy()].reset_index(drop=True)
        n, events = int(sel.sum()), int(es.sum())
        reason = unreliable_reason(n, events)
        curves.append(GroupCurve(lev, n, events, km, curve, float(med.median), float(med.lower), float(med.upper),
                                 at, not reason, reason))
    if empty:
        notes.append("No patients (omitted): " + ", ".join(empty) + ".")
    for cv in curves:
        if not cv.reliable:
            notes.append(f"{cv.group}: {cv.reason}; its estimates are unreliable.")
    p = float("nan")
    if len(curves) < 2:
        lr_note = "No log-rank test: only one group has patients." if curves else "No log-rank test: no patients."
    else:
        used = [cv.group for cv in curves]
        try:
            p = survival.logrank(t, e, pd.Categorical(g, categories=used)).p
            lr_note = (f"Exploratory log-rank test across {len(curves)} groups (not adjusted for other factors or "
                       "multiple comparisons).")
        except ValueError as exc:
            lr_note = f"No log-rank test: {exc}."
    rows = []
    for cv in curves:
        row = {"group": cv.group, "n": cv.n, "events": cv.events, "median": cv.median,
               "median_lower": cv.median_lower, "median_upper": cv.median_upper}
        for _, r in cv.at_times.iterrows():
            k = int(r[survival.TIME])
            row[f"survival_{k}"] = r[survival.SURVIVAL]
            row[f"lower_{k}"] = r[survival.LOWER]
            row[f"upper_{k}"] = r[survival.UPPER]
        row["reliable"] = cv.reliable
        row["note"] = cv.reason
        rows.append(row)
    summary = pd.DataFrame(rows)
    analysed = pd.DataFrame({"time": t, "event": e, "group": g})
    return GroupedSurvival(endpoint, ep_label, group_column, tuple(curves), p, lr_note, tuple(notes), summary,
                           n_missing, analysed)


# ================================================================================== prognostic Cox
@dataclass(frozen=True, eq=False)
class PrognosticCox:
    """A multivariable Cox model of prognostic factors within the surgery group.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per term (index = term name): ``label`` (e.g. "Metastases 2-3 vs 1"),
        ``coef, hr, se, lower, upper, p`` and ``n``/``events`` (patients and events in the level
        of an indicator term; NaN for continuous terms), ready for ``core.figures.forest_plot``.
        Empty when the model could not be fitted.
    cox : core.survival.CoxResult or None
        The fit itself.
    endpoint : str
    covariates : tuple of str
        Covariates used (after dropping those with a single value).
    n, n_events : int
        Complete cases and their events.
    n_dropped : int
        Operated patients dropped for a missing value (complete-case analysis).
    dropped_by : dict of str to int
        Missing values per variable among the operated patients.
    warnings : tuple of str
        Events-per-parameter rule, dropped covariates, ...
    reason : str or None
        Why the model could not be fitted (None when it was).
    """

    table: pd.DataFrame
    cox: survival.CoxResult | None
    endpoint: str
    covariates: tuple[str, ...]
    n: int
    n_events: int
    n_dropped: int
    dropped_by: dict[str, int]
    warnings: tuple[str, ...] = field(default=())
    reason: str | None = None

    @property
    def fitted(self) -> bool:
        """True when the model was fitted."""
        return self.reason is None

    def display(self) -> pd.DataFrame:
        """Formatted table for display: term label, HR (95% CI) and p.

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 6, C.OS_FROM_SURGERY: [1.0, 2, 3, 4, 5, 6],
        ...                    C.OS_EVENT: [1, 1, 1, 1, 1, 0], C.MAJOR_HEPATECTOMY: [True, False, True, False, False, True]})
        >>> prognostic_cox(df, "os_from_surgery", [C.MAJOR_HEPATECTOMY]).display().columns.tolist()
        ['Factor', 'HR (95% CI)', 'p']
        """
        from core.table1 import format_p

        return pd.DataFrame({
            "Factor": self.table["label"].tolist(),
            "HR (95% CI)": [f"{h:.2f} ({lo:.2f} to {up:.2f})" for h, lo, up in
                            zip(self.table["hr"], self.table["lower"], self.table["upper"], strict=True)],
            "p": [format_p(p) for p in self.table["p"]],
        })


_COX_COLUMNS = ["label", "coef", "hr", "se", "lower", "upper", "p", "n", "events"]


def _model_column(surg: pd.DataFrame, cov: str) -> tuple[str, pd.Series, str, list[str] | None]:
    """(model column name, values, display prefix, categorical levels with reference first or None)."""
    s = surg[cov]
    if cov == C.AGE:
        return "age_per_10_years", pd.to_numeric(s, errors="coerce").astype(float) / 10.0, "Age (per 10 years)", None
    if cov == C.MARGIN:
        v = s.astype(object)
        out = pd.Series(np.where(v.isna(), np.nan, (v != "R0").astype(float)), index=s.index)
        return MARGIN_NOT_R0, out, "Margin R1/R2 vs R0", None
    if cov == C.ECOG:
        x = pd.to_numeric(s, errors="coerce").astype(float)
        txt = pd.Series(np.where(x.isna(), None, np.where(x >= 2, ">=2", x.fillna(0).astype(int).astype(str))),
                        index=s.index, dtype=object)
        return cov, txt, "ECOG", ["0", "1", ">=2"]
    col = COLUMNS_BY_NAME.get(cov)
    if cov == C.MAJOR_HEPATECTOMY:
        return cov, s.astype("Float64").astype(float), "Major vs minor hepatectomy", None
    if cov == C.CA19_9_RESPONSE:
        return cov, s.astype("Float64").astype(float), "CA19-9 response (fall >= 50%) vs none", None
    if (col is not None and col.kind == "boolean") or pd.api.types.is_bool_dtype(s):
        return cov, s.astype("Float64").astype(float), f"{label(cov)} yes vs no", None
    if cov == C.METS_GROUP:
        return cov, s.astype(object), "Metastases", list(col.categories) if col and col.categories else None
    if cov == C.CHEMO_REGIMEN:
        v = s.astype(object)
        present = v.dropna().value_counts()
        ref = Regimen.FOLFIRINOX if Regimen.FOLFIRINOX in present.index else (present.index[0] if len(present) else None)
        order = [ref] + [r for r in Regimen.ALL if r != ref] if ref is not None else list(Regimen.ALL)
        return cov, v, "Regimen", order
    if (col is not None and col.kind in ("category", "text")) or not pd.api.types.is_numeric_dtype(s):
        cats = list(col.categories) if col is not None and col.categories else sorted(map(str, s.dropna().unique()))
        return cov, s.astype(object), label(cov), cats
    return cov, pd.to_numeric(s, errors="coerce").astype(float), label(cov), None


def prognostic_cox(
    data: pd.DataFrame,
    endpoint: Endpoint = "os_from_surgery",
    covariates: Sequence[str] = DEFAULT_PROGNOSTIC_COVARIATES,
) -> PrognosticCox:
    """Multivariable Cox model (Efron ties) of prognostic factors within the surgery group.

    Complete-case analysis. Age enters per 10 years; ECOG as 0 / 1 / >=2 (reference 0);
    metastasis group with reference "1"; regimen with reference FOLFIRINOX (else the most
    frequent); resection margin as R1/R2 vs R0; booleans as yes vs no. Covariates with a single
    value among the complete cases are dropped with a warning. Fewer than 10 events per model
    parameter gives a warning; a model that cannot be fitted (no events, separation, collinearity)
    gives ``reason`` and an empty table.

    Parameters
    ----------
    data : pandas.DataFrame
        Cohort table; only the surgery group is used.
    endpoint : {"rfs", "os_from_surgery"}
    covariates : sequence of str
        Dictionary columns (default :data:`DEFAULT_PROGNOSTIC_COVARIATES`).

    Returns
    -------
    PrognosticCox

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Arm
    >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 6, C.OS_FROM_SURGERY: [1.0, 2, 3, 4, 5, 6],
    ...                    C.OS_EVENT: [1, 1, 1, 1, 1, 0], C.MAJOR_HEPATECTOMY: [True, False, True, False, False, True]})
    >>> r = prognostic_cox(df, "os_from_surgery", [C.MAJOR_HEPATECTOMY])
    >>> r.table["label"].tolist(), r.n, r.n_events
    (['Major vs minor hepatectomy'], 6, 5)
    """
    t_col, e_col, _ = _endpoint(endpoint)
    covariates = list(covariates)
    if not covariates:
        raise ValueError("give at least one covariate")
    surg = _surgery_only(data)
    for c in [t_col, e_col, *covariates]:
        if c not in surg.columns:
            raise ValueError(f"column {c!r} is not in data")
    frame = pd.DataFrame({"time": pd.to_numeric(surg[t_col], errors="coerce").astype(float),
                          "event": pd.to_numeric(surg[e_col], errors="coerce").astype(float)}, index=surg.index)
    specs = []
    for cov in covariates:
        name, values, prefix, levels = _model_column(surg, cov)
        frame[name] = values
        specs.append((cov, name, prefix, levels))
    dropped_by = {c: int(frame[n].isna().sum()) for c, n, _, _ in specs}
    dropped_by = {"follow-up": int(frame[["time", "event"]].isna().any(axis=1).sum()), **dropped_by}
    cc = frame.dropna()
    n_dropped = len(frame) - len(cc)
    warnings: list[str] = []
    if n_dropped:
        warnings.append(f"{n_dropped} of {len(frame)} operated patients dropped for missing values (complete cases).")
    used: list[tuple[str, str, str, list[str] | None]] = []
    model = cc[["time", "event"]].copy()
    for cov, name, prefix, levels in specs:
        v = cc[name]
        if v.nunique() < 2:
            warnings.append(f"{label(cov)} dropped from the model: a single value among the complete cases.")
            continue
        if levels is not None:
            present = [lv for lv in levels if (v == lv).any()]
            present += sorted(x for x in v.unique() if x not in present)
            model[name] = pd.Categorical(v, categories=present)
            used.append((cov, name, prefix, present))
        else:
            model[name] = v.astype(float)
            used.append((cov, name, prefix, None))
    n, n_events = len(model), int(model["event"].sum()) if len(model) else 0
    empty = pd.DataFrame(columns=_COX_COLUMNS)

    def fail(reason: str) -> PrognosticCox:
        return PrognosticCox(empty, None, endpoint, tuple(c for c, *_ in used), n, n_events, n_dropped, dropped_by,
                             tuple(warnings), reason)

    if not used:
        return fail("No covariate varies among the complete cases.")
    if n == 0:
        return fail("No operated patient has complete data for these covariates.")
    if n_events == 0:
        return fail("No events among the complete cases: the model cannot be fitted.")
    labels: dict[str, str] = {}
    indicators: dict[str, pd.Series] = {}
    n_params = 0
    for _, name, prefix, levels in used:
        if levels is None:
            labels[name] = prefix
            n_params += 1
            if set(model[name].unique()) <= {0.0, 1.0}:
                indicators[name] = model[name] == 1.0
        else:
            for lv in levels[1:]:
                labels[f"{name}{lv}"] = f"{prefix} {lv} vs {levels[0]}"
                indicators[f"{name}{lv}"] = model[name] == lv
                n_params += 1
    if n_events < EVENTS_PER_PARAMETER * n_params:
        warnings.append(f"Only {n_events} events for {n_params} model parameters (rule of thumb: at least "
                        f"{EVENTS_PER_PARAMETER} per parameter): estimates are unstable and may be overfitted.")
    try:
        fit = survival.cox(model, "time", "event", [name for _, name, _, _ in used])
    except ValueError as exc:
        return fail(f"The model could not be fitted: {exc}.")
    table = fit.table[["coef", "hr", "se", "lower", "upper", "p"]].copy()
    table.insert(0, "label", [labels.get(t, t) for t in table.index])
    # patients and events in the level (indicator terms); NaN for continuous terms
    ns, evs = [], []
    for term in table.index:
        ind = indicators.get(term)
        if ind is None:
            ns.append(np.nan)
            evs.append(np.nan)
            continue
        k, d = int(ind.sum()), int(model.loc[ind, "event"].sum())
        ns.append(k)
        evs.append(d)
        if k < MIN_LEVEL_PATIENTS or d == 0:
            warnings.append(f"{labels.get(term, term)}: only {k} patient(s) and {d} event(s); "
                            "its hazard ratio is unreliable.")
    table["n"] = ns
    table["events"] = evs
    return PrognosticCox(table, fit, endpoint, tuple(c for c, *_ in used), n, n_events, n_dropped, dropped_by,
                         tuple(warnings), None)


# ================================================================================== short-term outcomes
OVERALL = "Overall"
_LONG_COLUMNS = ["group", "outcome", "n", "N", "percent", "median", "q1", "q3"]


def _fmt_prop(k: float, n: float) -> str:
    if n == 0:
        return "0/0 (–)"
    return f"{int(k)}/{int(n)} ({100 * k / n:.1f}%)"


def short_term_outcomes(
    data: pd.DataFrame,
    by: str | None = C.PANCREATIC_PROCEDURE,
    *,
    major_threshold: Literal["IIIa", "IIIb"] = "IIIa",
    long: bool = False,
    k: int | None = None,
) -> pd.DataFrame:
    """Short-term (90-day) outcomes of the surgery group, by a grouping column and overall.

    Rows: Clavien-Dindo grade distribution, major morbidity (>= IIIa, or >= IIIb), clinically
    relevant POPF (grade B/C; denominator excludes total pancreatectomy, where POPF is not
    applicable), PHLF (any grade A-C, and grade B-C), 90-day mortality (denominator: patients with
    90 days of potential follow-up, as the derived column), reoperation, readmission (counts
    ``n/N (%)`` with ``N`` the patients with a known value) and length of stay (median [IQR]).

    Parameters
    ----------
    data : pandas.DataFrame
        Cohort table; only the surgery group is used.
    by : str or None
        Grouping column (default the pancreatic procedure); None for the overall column only.
    major_threshold : {"IIIa", "IIIb"}
        Clavien-Dindo grade from which a complication counts as major.
    long : bool
        Return the numeric long format (``group, outcome, n, N, percent, median, q1, q3``)
        instead of the display table.
    k : int, optional
        Small-cell threshold: counts suppressed by :func:`suppress_short_term` (display
        ``"<k/N"`` or ``"*/N"``; long format with NaN and a ``suppressed`` column).

    Returns
    -------
    pandas.DataFrame
        Display table: one row per outcome (index), one column per group then ``Overall``.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Arm
    >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 2, C.PANCREATIC_PROCEDURE: ["PD", "TP"],
    ...                    C.CR_POPF: pd.array([True, pd.NA], dtype="boolean")})
    >>> short_term_outcomes(df).loc["Clinically relevant POPF (B/C)"].tolist()
    ['1/1 (100.0%)', '0/0 (–)', '1/1 (100.0%)']
    """
    if major_threshold not in ("IIIa", "IIIb"):
        raise ValueError(f"major_threshold must be 'IIIa' or 'IIIb', not {major_threshold!r}")
    surg = _surgery_only(data)
    if by is not None and by not in surg.columns:
        raise ValueError(f"column {by!r} is not in data")
    groups: list[tuple[str, pd.DataFrame]] = []
    if by is not None:
        vals, levels = _group_values(surg[by], by)
        if by == C.PANCREATIC_PROCEDURE:
            levels = list(Pancreatic.ALL) + [lv for lv in levels if lv not in Pancreatic.ALL]
        for lev in levels:
            part = surg[(vals == lev).to_numpy()]
            if len(part):
                groups.append((lev, part))
    groups.append((OVERALL, surg))

    def flag(part: pd.DataFrame, col: str) -> pd.Series:
        if col not in part.columns:
            return pd.Series([pd.NA] * len(part), dtype="boolean")
        return part[col].astype("boolean")

    major_col = C.MAJOR_MORBIDITY if major_threshold == "IIIa" else C.MAJOR_MORBIDITY_IIIB
    major_grades = ClavienDindo.MAJOR if major_threshold == "IIIa" else ClavienDindo.MAJOR_IIIB
    rows: list[dict[str, object]] = []
    for gname, part in groups:
        def prop(outcome: str, s: pd.Series, _g: str = gname) -> None:
            known = s.dropna()
            k, n = float(known.astype(bool).sum()), float(len(known))
            rows.append({"group": _g, "outcome": outcome, "n": k, "N": n,
                         "percent": 100 * k / n if n else float("nan"),
                         "median": float("nan"), "q1": float("nan"), "q3": float("nan")})

        cd = part[C.CLAVIEN_DINDO].astype(object) if C.CLAVIEN_DINDO in part.columns else pd.Series([None] * len(part))
        cd_known = cd.notna()
        for grade in ClavienDindo.ALL:
            prop(f"Clavien-Dindo {grade}", (cd == grade).where(cd_known))
        if major_col in part.columns:
            prop(f"Major morbidity (Clavien-Dindo >= {major_threshold})", flag(part, major_col))
        else:
            prop(f"Major morbidity (Clavien-Dindo >= {major_threshold})", cd.isin(major_grades).where(cd_known))
        prop("Clinically relevant POPF (B/C)", flag(part, C.CR_POPF))
        phlf = part[C.PHLF].astype(object) if C.PHLF in part.columns else pd.Series([None] * len(part))
        ph_known = phlf.notna()
        prop("PHLF, any grade (A-C)", phlf.isin(("A", "B", "C")).where(ph_known))
        prop("PHLF grade B-C", phlf.isin(("B", "C")).where(ph_known))
        prop("90-day mortality", flag(part, C.MORTALITY_90D))
        prop("Reoperation (90 days)", flag(part, C.REOPERATION))
        prop("Readmission (90 days)", flag(part, C.READMISSION))
        los = (pd.to_numeric(part[C.LENGTH_OF_STAY], errors="coerce").dropna().astype(float).to_numpy()
               if C.LENGTH_OF_STAY in part.columns else np.array([]))
        q = np.percentile(los, [50, 25, 75]) if len(los) else [math.nan] * 3
        rows.append({"group": gname, "outcome": "Length of stay (days)", "n": float("nan"), "N": float(len(los)),
                     "percent": float("nan"), "median": float(q[0]), "q1": float(q[1]), "q3": float(q[2])})
    long_df = pd.DataFrame(rows, columns=_LONG_COLUMNS)
    if k is not None:
        long_df = suppress_short_term(long_df, k=k)
    if long:
        return long_df

    def cell(r: pd.Series) -> str:
        if r["outcome"] == "Length of stay (days)":
            if r["N"] == 0:
                return "–"
            return f"{r['median']:g} [{r['q1']:g}, {r['q3']:g}] (n={int(r['N'])})"
        if r.get("suppressed"):
            return f"{r['suppressed']}/{int(r['N'])}"
        return _fmt_prop(r["n"], r["N"])

    long_df["cell"] = long_df.apply(cell, axis=1)
    order = list(dict.fromkeys(long_df["outcome"]))
    table = long_df.pivot(index="outcome", columns="group", values="cell").reindex(order)
    table = table[[g for g, _ in groups]]
    table.columns.name = None
    table.index.name = None
    return table


_MAJOR = re.compile(r">= (\w+)\)$")


def suppress_short_term(long: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """Small-cell suppression of the short-term outcomes (long format), with complementary cells.

    Counts ``n`` from 1 to ``k - 1`` are hidden (``"<k"``), and complementary counts (``"*"``)
    until no known sum has exactly one hidden count (:func:`core.export.linked_suppression`).
    A count whose complement ``N - n`` (the patients without the event: not shown, but ``N``
    is) is from 1 to ``k - 1`` is hidden as complementary from the start. The known sums (used
    only where they hold in the data): per group, the Clavien-Dindo grades add up to their ``N``; major
    morbidity is the sum of the grades from its threshold; per outcome, the groups add up to
    ``Overall``. Hidden ``n`` and their ``percent`` become NaN, and the new column
    ``suppressed`` says why. ``N`` and length of stay are left as they are.

    Examples
    --------
    >>> lg = pd.DataFrame({"group": ["A", "B", "Overall"], "outcome": "Reoperation (90 days)",
    ...                    "n": [3.0, 20.0, 23.0], "N": [40.0, 40.0, 80.0], "percent": [7.5, 50.0, 28.75]})
    >>> suppress_short_term(lg, k=11)["suppressed"].tolist()
    ['<11', '*', '']
    """
    from core import export

    for col in ("group", "outcome", "n", "N", "percent"):
        if col not in long.columns:
            raise ValueError(f"the short-term outcomes table has no {col!r} column")
    lg = long.reset_index(drop=True)
    counts = lg[lg["n"].notna() & lg["N"].notna()]
    values = {i: float(v) for i, v in counts["n"].items()}
    rest = counts["N"] - counts["n"]  # the patients without the event: not shown, but N - n
    hide = list(counts.index[(rest > 0) & (rest < k)])
    lines: list[list[object]] = []
    groups = list(dict.fromkeys(lg["group"]))
    for g in groups:
        block = counts[counts["group"] == g]
        cd = block[block["outcome"].str.startswith("Clavien-Dindo ")]
        if len(cd) and cd["N"].nunique() == 1 and cd["n"].sum() == cd["N"].iloc[0]:
            lines.append(list(cd.index))
        major = block[block["outcome"].str.startswith("Major morbidity")]
        if len(major) == 1 and len(cd):
            m = _MAJOR.search(major["outcome"].iloc[0])
            grades = [f"Clavien-Dindo {gr}" for gr in ClavienDindo.ALL]
            if m and f"Clavien-Dindo {m.group(1)}" in grades:
                above = cd[cd["outcome"].isin(grades[grades.index(f"Clavien-Dindo {m.group(1)}"):])]
                if above["n"].sum() == major["n"].iloc[0]:
                    lines.append([*above.index, major.index[0]])
    if OVERALL in groups and len(groups) > 1:
        for _, block in counts.groupby("outcome", sort=False):
            parts, total = block[block["group"] != OVERALL], block[block["group"] == OVERALL]
            if len(total) == 1 and parts["n"].sum() == total["n"].iloc[0] and parts["N"].sum() == total["N"].iloc[0]:
                lines.append([*parts.index, total.index[0]])
    marks = export.linked_suppression(values, lines, k=k, hide=hide)
    out = lg.copy()
    flag = pd.Series("", index=out.index, dtype=object)
    for key, mark in marks.items():
        out.at[key, "n"] = float("nan")
        out.at[key, "percent"] = float("nan")
        flag[key] = mark
    out.insert(out.columns.get_loc("percent") + 1, "suppressed", flag)
    return out
