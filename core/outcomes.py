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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from core import ph as ph_mod
from core import survival
from core.dictionary import CEA_ULN, COLUMNS_BY_NAME, Arm, C, ClavienDindo, Pancreatic, Regimen, Viable, YpN, label
from core.guards import ArmCounts, comparison_reason, unreliable_reason

__all__ = [
    "ENDPOINTS",
    "GROUPINGS",
    "DEFAULT_PROGNOSTIC_COVARIATES",
    "PROGNOSTIC_CHOICES",
    "CUTOFF_DEFAULTS",
    "cutoffs_text",
    "cutoffs_from_text",
    "GroupCurve",
    "GroupedSurvival",
    "PrognosticCox",
    "survival_by",
    "grouped_survival",
    "AdjuvantLandmark",
    "adjuvant_landmark",
    "adjuvant_estimand",
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

#: Covariates the user may put into the prognostic model (known at or after surgery: this model describes
#: prognosis within the operated, it is not a comparison of treatments).
PROGNOSTIC_CHOICES: tuple[str, ...] = (
    C.AGE, C.SEX, C.ECOG, C.TUMOUR_LOCATION, C.TUMOUR_SIZE, C.RESECTABILITY, C.CA19_9_BASELINE, C.CA19_9_RESTAGING,
    C.CA19_9_RESPONSE, C.CEA_BASELINE, C.METS_GROUP, C.LIVER_METS_MAX, C.LIVER_METS_BILOBAR, C.CHEMO_REGIMEN, C.RECIST,
    C.MAJOR_HEPATECTOMY, C.MARGIN, C.YP_N, C.LIVER_METS_VIABLE,
)
#: Continuous covariates that may be split at a cut-off (value >= cut-off vs below), with the offered default
#: (None: continuous unless the user gives one). CA19-9 below 100 U/mL and CEA below 5 ng/mL (the upper normal
#: limit): the Japanese multicentre series (2025).
CUTOFF_DEFAULTS: dict[str, float | None] = {
    C.AGE: None, C.TUMOUR_SIZE: 30.0, C.CA19_9_BASELINE: 100.0, C.CA19_9_RESTAGING: 100.0, C.CEA_BASELINE: CEA_ULN,
    C.LIVER_METS_MAX: None,
}
#: CA19-9 columns: a Lewis-negative patient's value never enters a model (set to missing, see prognostic_cox).
CA19_9_COLUMNS: tuple[str, ...] = (C.CA19_9_BASELINE, C.CA19_9_RESTAGING, C.CA19_9_RESPONSE, C.CA19_9_NORMALISED)
_UNITS = {C.AGE: "years", C.TUMOUR_SIZE: "mm", C.CA19_9_BASELINE: "U/mL", C.CA19_9_RESTAGING: "U/mL",
          C.CEA_BASELINE: "ng/mL", C.LIVER_METS_MAX: "mm"}

#: CEA below this (ng/mL) counts as this value on the log scale (laboratories rarely report lower).
CEA_FLOOR = 0.5

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
    return grouped_survival(t[ok].to_numpy(), e[ok].to_numpy(), groups_txt[ok].to_numpy(), levels,
                            endpoint=endpoint, endpoint_label=ep_label, group_column=group_column,
                            min_at_risk=min_at_risk, notes=notes, n_missing=n_missing)


def grouped_survival(
    time: np.ndarray,
    event: np.ndarray,
    group: np.ndarray,
    levels: Sequence[str],
    *,
    endpoint: str,
    endpoint_label: str,
    group_column: str,
    min_at_risk: int = 3,
    notes: Sequence[str] = (),
    n_missing: int = 0,
    logrank: bool = True,
) -> GroupedSurvival:
    """Kaplan-Meier curves, medians and 1/2/3-year survival of already selected patients, by group.

    The shared engine of :func:`survival_by`, :func:`adjuvant_landmark` and
    :func:`core.pathology.survival_by_pathology`: no row is dropped here (the caller has
    selected the patients and said why in ``notes``).

    Parameters
    ----------
    time, event : numpy.ndarray
        Months from the start of the clock and 0/1 events (no missing values).
    group : numpy.ndarray
        Group label (text) per patient.
    levels : sequence of str
        Every possible group in display order (groups without patients are named in a note).
    endpoint, endpoint_label, group_column : str
        What the curves are (kept in the result).
    min_at_risk : int
        Plotted curves stop when fewer patients remain at risk.
    notes : sequence of str
        Notes of the caller (who was left out); the unreliable groups are added.
    n_missing : int
        Patients the caller left out.
    logrank : bool
        Give an exploratory log-rank p-value across groups (False: descriptive only).

    Returns
    -------
    GroupedSurvival

    Examples
    --------
    >>> import numpy as np
    >>> r = grouped_survival(np.array([2.0, 4, 6, 8]), np.array([1, 1, 0, 1]), np.array(["a", "a", "b", "b"]),
    ...                      ["a", "b"], endpoint="os", endpoint_label="OS", group_column="g", logrank=False)
    >>> [(g.group, g.n, g.events, g.median) for g in r.groups], r.logrank_note
    ([('a', 2, 2, 3.0), ('b', 2, 1, 8.0)], 'No test: the groups are described, not compared.')
    """
    t, e, g = np.asarray(time, dtype=float), np.asarray(event, dtype=float), np.asarray(group, dtype=object)
    notes = list(notes)
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
    if not logrank:
        lr_note = "No test: the groups are described, not compared."
    elif len(curves) < 2:
        lr_note = "No log-rank test: only one group has patients." if curves else "No log-rank test: no patients."
    else:
        used = [cv.group for cv in curves]
        sel = np.isin(g, used)
        try:
            p = survival.logrank(t[sel], e[sel], pd.Categorical(g[sel], categories=used)).p
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
    return GroupedSurvival(endpoint, endpoint_label, group_column, tuple(curves), p, lr_note, tuple(notes), summary,
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
    missing : pandas.DataFrame
        The complete-case drops per variable, one row each (follow-up first): ``variable``
        (label), ``missing`` (operated patients without a value), ``lewis_negative_missing`` (of those,
        Lewis-negative patients, whose CA19-9 is set aside) and ``only_this_missing``
        (patients dropped for this variable alone).
    cutoffs : dict of str to float
        Continuous covariates entered as "at or above the cut-off vs below".
    ph : core.ph.ZphResult or None
        Proportional-hazards test of the fitted model (R ``cox.zph``); None when not computable.
    ph_reason : str
        Why there is no proportional-hazards test ('' when there is one).
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
    missing: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    cutoffs: dict[str, float] = field(default_factory=dict)
    ph: ph_mod.ZphResult | None = field(default=None, repr=False)
    ph_reason: str = ""

    def ph_reading(self) -> str:
        """The proportional-hazards test of this model in one sentence ('' without a model)."""
        if not self.fitted:
            return ""
        if self.ph is None:
            return f"No proportional-hazards test: {self.ph_reason}."
        labels = {t: label(t) for t in self.ph.terms}  # a categorical covariate is one term of the test
        labels.update(zip(self.table.index.astype(str), self.table["label"].astype(str), strict=True))
        return ph_mod.reading(self.ph, labels=labels)

    @property
    def fitted(self) -> bool:
        """True when the model was fitted."""
        return self.reason is None

    def forest_table(self, k: int | None = None) -> pd.DataFrame:
        """:attr:`table` for ``core.figures.forest_plot``; with a small-cell threshold ``k``, the patients and
        events of a level with fewer than ``k`` of either are left out of the hover text (set to NaN).

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 6, C.OS_FROM_SURGERY: [1.0, 2, 3, 4, 5, 6],
        ...                    C.OS_EVENT: [1, 1, 1, 1, 1, 0], C.MAJOR_HEPATECTOMY: [True, False, True, False, False, True]})
        >>> r = prognostic_cox(df, "os_from_surgery", [C.MAJOR_HEPATECTOMY])
        >>> r.forest_table()[["n", "events"]].values.tolist(), r.forest_table(k=11)[["n", "events"]].isna().all(axis=None)
        ([[3, 2]], np.True_)
        """
        out = self.table.copy()
        if k is not None and len(out):
            small = (out["n"] < k) | (out["events"] < k)
            out.loc[small, ["n", "events"]] = np.nan
        return out

    def missing_display(self) -> pd.DataFrame:
        """The drops per variable with column headings in words (counts stay integers, for suppression).

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 3, C.OS_FROM_SURGERY: [1.0, 2, 3],
        ...                    C.OS_EVENT: [1, 1, 0], C.MARGIN: ["R0", None, "R1"]})
        >>> prognostic_cox(df, "os_from_surgery", [C.MARGIN]).missing_display().iloc[1].to_dict()
        {'Variable': 'Resection margin', 'Missing': 1, 'Of which Lewis-negative (CA19-9)': 0, 'Left out for this variable alone': 1}
        """
        return self.missing.rename(columns=MISSING_COLUMNS)

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


#: Columns of PrognosticCox.missing and their headings on screen.
MISSING_COLUMNS = {"variable": "Variable", "missing": "Missing", "lewis_negative_missing": "Of which Lewis-negative (CA19-9)",
                   "only_this_missing": "Left out for this variable alone"}
_COX_COLUMNS = ["label", "coef", "hr", "se", "lower", "upper", "p", "n", "events"]


def _lewis_negative(surg: pd.DataFrame) -> pd.Series:
    if C.LEWIS_NEGATIVE not in surg.columns:
        return pd.Series(False, index=surg.index)
    return surg[C.LEWIS_NEGATIVE].astype("boolean").fillna(False).astype(bool)


def _model_column(surg: pd.DataFrame, cov: str, cutoff: float | None = None) -> tuple[str, pd.Series, str, list[str] | None]:
    """(model column name, values, display prefix, categorical levels with reference first or None)."""
    s = surg[cov]
    if cov in CA19_9_COLUMNS:  # a Lewis-negative patient's CA19-9 says nothing about the tumour: missing
        s = s.astype(object).where(~_lewis_negative(surg), None)
        if cov in (C.CA19_9_RESPONSE, C.CA19_9_NORMALISED):
            s = s.astype("boolean")
    if cutoff is not None:
        x = pd.to_numeric(s, errors="coerce").astype(float)
        unit = f" {_UNITS[cov]}" if cov in _UNITS else ""
        name = f"{cov}_at_least_{cutoff:g}".replace(".", "_")
        return (name, pd.Series(np.where(x.isna(), np.nan, (x >= cutoff).astype(float)), index=s.index),
                f"{label(cov).split(' (')[0]} >= {cutoff:g}{unit} vs below", None)
    if cov in (C.CA19_9_BASELINE, C.CA19_9_RESTAGING, C.CEA_BASELINE):
        x = pd.to_numeric(s, errors="coerce").astype(float)
        floor = CEA_FLOOR if cov == C.CEA_BASELINE else 1.0
        return (f"{cov}_log2", np.log2(x.clip(lower=floor)), f"{label(cov).split(' (')[0]} (per doubling)", None)
    if cov == C.YP_N:
        v = s.astype(object).where(s.astype(object) != YpN.NOT_ASSESSED, None)
        return cov, v, "ypN", [n for n in YpN.ALL if n != YpN.NOT_ASSESSED]
    if cov == C.LIVER_METS_VIABLE:
        v = s.astype(object)
        out = pd.Series(np.where(v == Viable.YES, 1.0, np.where(v == Viable.NO, 0.0, np.nan)), index=s.index)
        return cov, out, "Viable tumour in the liver metastases (ypM1 vs ypM0)", None
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
    cutoffs: Mapping[str, float] | None = None,
) -> PrognosticCox:
    """Multivariable Cox model (Efron ties) of prognostic factors within the surgery group.

    Complete-case analysis. Age enters per 10 years; ECOG as 0 / 1 / >=2 (reference 0);
    metastasis group with reference "1"; regimen with reference FOLFIRINOX (else the most
    frequent); resection margin as R1/R2 vs R0; ypN with reference N0 (NX is missing); viable
    tumour in the liver metastases as ypM1 vs ypM0 ("not assessed" is missing); CA19-9 values
    per doubling (values below 1 U/mL count as 1); booleans as yes vs no. A continuous covariate
    with a cut-off in ``cutoffs`` enters as "at or above the cut-off vs below". The CA19-9 of a
    Lewis-negative patient (who does not make CA19-9) is treated as missing, never as a real
    value, so such a patient leaves a model that includes CA19-9 (counted in ``missing``). Covariates with a single
    value among the complete cases are dropped with a warning. Fewer than 10 events per model
    parameter gives a warning; a model that cannot be fitted (no events, separation, collinearity)
    gives ``reason`` and an empty table.

    Parameters
    ----------
    data : pandas.DataFrame
        Cohort table; only the surgery group is used.
    endpoint : {"rfs", "os_from_surgery"}
    covariates : sequence of str
        Dictionary columns (default :data:`DEFAULT_PROGNOSTIC_COVARIATES`; offered on the page:
        :data:`PROGNOSTIC_CHOICES`).
    cutoffs : mapping of str to float, optional
        Cut-off per continuous covariate (keys of :data:`CUTOFF_DEFAULTS`); others stay continuous.

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
    covariates = list(dict.fromkeys(covariates))
    if not covariates:
        raise ValueError("give at least one covariate")
    cuts = _check_cutoffs(cutoffs, covariates)
    surg = _surgery_only(data)
    for c in [t_col, e_col, *covariates]:
        if c not in surg.columns:
            raise ValueError(f"column {c!r} is not in data")
    frame = pd.DataFrame({"time": pd.to_numeric(surg[t_col], errors="coerce").astype(float),
                          "event": pd.to_numeric(surg[e_col], errors="coerce").astype(float)}, index=surg.index)
    specs = []
    for cov in covariates:
        name, values, prefix, levels = _model_column(surg, cov, cuts.get(cov))
        frame[name] = values
        specs.append((cov, name, prefix, levels))
    dropped_by = {c: int(frame[n].isna().sum()) for c, n, _, _ in specs}
    dropped_by = {"follow-up": int(frame[["time", "event"]].isna().any(axis=1).sum()), **dropped_by}
    missing = _missing_table(surg, frame, specs)
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
                             tuple(warnings), reason, missing, cuts)

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
    zph, zph_reason = _ph_test(model, [name for _, name, _, _ in used])
    return PrognosticCox(table, fit, endpoint, tuple(c for c, *_ in used), n, n_events, n_dropped, dropped_by,
                         tuple(warnings), None, missing, cuts, zph, zph_reason)


def _ph_test(frame: pd.DataFrame, covariates: list[str]) -> tuple[ph_mod.ZphResult | None, str]:
    """R ``cox.zph`` of the Cox model of ``frame`` (columns ``time``, ``event``), or why it cannot be computed."""
    try:
        return ph_mod.cox_zph(frame, "time", "event", covariates), ""
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        return None, f"it cannot be computed here ({exc})"


def cutoffs_text(cutoffs: Mapping[str, float | None]) -> str:
    """Cut-offs as one line for a shared link: ``column:value`` pairs, ``-`` for continuous.

    Examples
    --------
    >>> cutoffs_text({"ca19_9_baseline": 100.0, "age_at_diagnosis": None})
    'ca19_9_baseline:100;age_at_diagnosis:-'
    """
    return ";".join(f"{c}:{'-' if v is None else f'{v:g}'}" for c, v in cutoffs.items())


def cutoffs_from_text(text: str | None) -> dict[str, float | None]:
    """Read :func:`cutoffs_text`; unknown columns and unreadable or non-positive values are skipped.

    Examples
    --------
    >>> cutoffs_from_text("ca19_9_baseline:100;age_at_diagnosis:-;sex:3;tumour_size_mm:abc")
    {'ca19_9_baseline': 100.0, 'age_at_diagnosis': None}
    """
    out: dict[str, float | None] = {}
    for part in (text or "").split(";"):
        col, _, value = part.partition(":")
        if col not in CUTOFF_DEFAULTS:
            continue
        if value == "-":
            out[col] = None
            continue
        try:
            x = float(value)
        except ValueError:
            continue
        if math.isfinite(x) and x > 0:
            out[col] = x
    return out


def _check_cutoffs(cutoffs: Mapping[str, float] | None, covariates: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for cov, cut in (cutoffs or {}).items():
        if cov not in CUTOFF_DEFAULTS:
            raise ValueError(f"{label(cov)} cannot be split at a cut-off (only {', '.join(map(label, CUTOFF_DEFAULTS))})")
        if cut is None:
            continue
        if isinstance(cut, bool) or not isinstance(cut, (int, float, np.integer, np.floating)) or not math.isfinite(cut) \
                or cut <= 0:
            raise ValueError(f"the cut-off of {label(cov)} must be a positive number, not {cut!r}")
        if cov in covariates:
            out[cov] = float(cut)
    return out


def _missing_table(surg: pd.DataFrame, frame: pd.DataFrame, specs: list) -> pd.DataFrame:
    """Complete-case drops per variable (see PrognosticCox.missing)."""
    cols = {"follow-up": ["time", "event"], **{cov: [name] for cov, name, _, _ in specs}}
    na = pd.DataFrame({k: frame[v].isna().any(axis=1) for k, v in cols.items()})
    alone = na.sum(axis=1) == 1
    lewis = _lewis_negative(surg)
    rows = []
    for key in cols:
        rows.append({"variable": "Follow-up (time or event)" if key == "follow-up" else label(key),
                     "missing": int(na[key].sum()),
                     "lewis_negative_missing": int((na[key] & lewis).sum()) if key in CA19_9_COLUMNS else 0,
                     "only_this_missing": int((na[key] & alone).sum())})
    return pd.DataFrame(rows, columns=list(MISSING_COLUMNS))


# ================================================================================== adjuvant chemotherapy
#: Post-operative landmarks (months after surgery) offered for the adjuvant comparison; default 3.
ADJUVANT_LANDMARKS: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
DEFAULT_ADJUVANT_LANDMARK = 3
ADJUVANT_YES = "Adjuvant chemotherapy"
ADJUVANT_NO = "No adjuvant chemotherapy"
#: How the two groups are named in the small-numbers rule's messages (core.guards).
ADJUVANT_ARMS = ("adjuvant-treated", "no-adjuvant")
_ADJ_EVENT_WORDS = {"os_from_surgery": ("death", "deaths"), "rfs": ("event", "recurrences or deaths")}


@dataclass(frozen=True, eq=False)
class AdjuvantLandmark:
    """Adjuvant chemotherapy yes vs no among operated patients alive and recurrence-free at a post-operative landmark.

    Attributes
    ----------
    landmark : float
        L, months after surgery: the clock starts there.
    endpoint : str
        ``"os_from_surgery"`` (death) or ``"rfs"`` (recurrence or death), counted from the landmark.
    by : GroupedSurvival
        Kaplan-Meier curves, medians and numbers at risk per group (:data:`ADJUVANT_YES`,
        :data:`ADJUVANT_NO`), time in months since the landmark.
    counts : core.guards.ArmCounts
        Patients and events with (first) and without adjuvant chemotherapy.
    hr, lower, upper, p : float
        Cox hazard ratio of adjuvant vs none (Efron ties, as R's ``coxph``), its 95% CI and the
        Wald p-value; NaN when not given.
    reason : str
        Why no hazard ratio is given ('' when it is).
    n_operated : int
        Operated patients before the landmark rule.
    excluded : dict of str to int
        Patients left out, by reason (each patient counted once, in this order).
    estimand : str
        What the hazard ratio compares, in plain words.
    ph : core.ph.ZphResult or None
        Proportional-hazards test of the Cox model (R ``cox.zph``); None without a hazard ratio.
    """

    landmark: float
    endpoint: str
    by: GroupedSurvival
    counts: ArmCounts
    hr: float
    lower: float
    upper: float
    p: float
    reason: str
    n_operated: int
    excluded: dict[str, int]
    estimand: str
    ph: ph_mod.ZphResult | None = field(default=None, repr=False)
    ph_reason: str = ""

    def ph_reading(self) -> str:
        """The proportional-hazards test of the adjuvant Cox model in one sentence ('' without a hazard ratio)."""
        if not self.estimated:
            return ""
        if self.ph is None:
            return f"No proportional-hazards test: {self.ph_reason}."
        return ph_mod.reading(self.ph, labels={"adjuvant": "adjuvant chemotherapy"})

    @property
    def estimated(self) -> bool:
        """True when a hazard ratio is given."""
        return not self.reason

    def exclusions(self) -> pd.DataFrame:
        """The landmark's patient flow: operated, each reason for leaving out, analysed.

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 3, C.OS_FROM_SURGERY: [2.0, 20, 30],
        ...                    C.OS_EVENT: [1, 1, 0], C.RFS_MONTHS: [2.0, 10, 30], C.RFS_EVENT: [1, 1, 0],
        ...                    C.ADJUVANT_CHEMO: [True, True, False]})
        >>> adjuvant_landmark(df, 3).exclusions()["patients"].tolist()
        [3, 0, 1, 0, 0, 0, 0, 2]
        """
        rows = [("Operated patients", self.n_operated)]
        rows += [(f"Left out: {why}", n) for why, n in self.excluded.items()]
        rows.append((f"Analysed from {_months(self.landmark)} after surgery", self.counts.n))
        return pd.DataFrame(rows, columns=["step", "patients"])

    def table(self) -> pd.DataFrame:
        """The comparison as one numeric row (for downloads): patients and events per group, HR, CI, p.

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 2, C.OS_FROM_SURGERY: [20.0, 30],
        ...                    C.OS_EVENT: [1, 0], C.RFS_MONTHS: [10.0, 30], C.RFS_EVENT: [1, 0],
        ...                    C.ADJUVANT_CHEMO: [True, False]})
        >>> row = adjuvant_landmark(df, 3).table().iloc[0]
        >>> int(row["patients_adjuvant"]), int(row["events_adjuvant"]), row["note"][:28]
        (1, 1, 'only 1 adjuvant-treated pati')
        """
        c = self.counts
        return pd.DataFrame([{
            "landmark_months_after_surgery": self.landmark, "endpoint": ENDPOINTS[self.endpoint][2],
            "patients_adjuvant": c.n_surgery, "events_adjuvant": c.events_surgery,
            "patients_no_adjuvant": c.n_chemotherapy, "events_no_adjuvant": c.events_chemotherapy,
            "hr": self.hr, "hr_lower_95": self.lower, "hr_upper_95": self.upper, "p": self.p,
            "note": self.reason,
        }])

    def in_words(self) -> str:
        """The result in one sentence (the HR with its CI, or why there is none).

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 2, C.OS_FROM_SURGERY: [20.0, 30],
        ...                    C.OS_EVENT: [1, 0], C.RFS_MONTHS: [10.0, 30], C.RFS_EVENT: [1, 0],
        ...                    C.ADJUVANT_CHEMO: [True, False]})
        >>> adjuvant_landmark(df, 3).in_words()[:40]
        'No hazard ratio: only 1 adjuvant-treated'
        """
        if not self.estimated:
            return f"No hazard ratio: {self.reason}."
        c, word = self.counts, self.counts.event_word
        return (f"Hazard ratio, adjuvant chemotherapy vs none: {self.hr:.2f} (95% CI {self.lower:.2f} to "
                f"{self.upper:.2f}; p = {self.p:.3f}); {c.n_surgery} patients with adjuvant chemotherapy "
                f"({c.events_surgery} {word}s) and {c.n_chemotherapy} patients without "
                f"({c.events_chemotherapy} {word}s).")


def _months(x: float) -> str:
    return f"{x:g} month" + ("" if x == 1 else "s")


def adjuvant_estimand(landmark: float, endpoint: str) -> str:
    """The adjuvant comparison in words a surgeon reads on screen.

    Examples
    --------
    >>> adjuvant_estimand(3, "os_from_surgery")[:60]
    'Among operated patients alive and free of recurrence 3 month'
    """
    _, plural = _ADJ_EVENT_WORDS[endpoint]
    return (f"Among operated patients alive and free of recurrence {_months(landmark)} after surgery: the rate of "
            f"{plural} from then on in those who received adjuvant chemotherapy compared with those who did not "
            f"(hazard ratio below 1: fewer {plural} with adjuvant chemotherapy). Starting the clock at {_months(landmark)}"
            " keeps patients who died or recurred early, and so could not receive adjuvant chemotherapy, out "
            "of the no-adjuvant group. Not adjusted for other factors: fitter patients receive adjuvant "
            "chemotherapy more often, so this is an association, not the effect of the treatment. The data hold "
            "no start date of adjuvant chemotherapy: each patient is counted by what was eventually given.")


def adjuvant_landmark(
    data: pd.DataFrame,
    landmark: float = DEFAULT_ADJUVANT_LANDMARK,
    endpoint: Endpoint = "os_from_surgery",
    *,
    min_at_risk: int = 3,
) -> AdjuvantLandmark:
    """Survival from a post-operative landmark by adjuvant chemotherapy (yes vs no), within the operated.

    Operated patients alive and recurrence-free ``landmark`` months after surgery are kept
    (overall survival and recurrence-free survival both longer than L; a last scan before L
    leaves the recurrence status at L unknown) and the clock restarts at L. Each patient is left
    out for the first reason that applies: follow-up missing; died within L months; recurrence
    within L months; followed for L months or less; last scan at L months or earlier; adjuvant
    chemotherapy not recorded. A Cox hazard ratio (Efron ties, adjuvant vs none) is given only
    when each group has at least :data:`core.guards.MIN_PATIENTS_PER_ARM` patients and
    :data:`core.guards.MIN_EVENTS_PER_ARM` events (:func:`core.guards.comparison_reason`).

    Parameters
    ----------
    data : pandas.DataFrame
        Cohort table; only the surgery group is used.
    landmark : float
        L, months after surgery (greater than 0, at most 24).
    endpoint : {"os_from_surgery", "rfs"}
        Overall survival or recurrence-free survival, from the landmark.
    min_at_risk : int
        Plotted curves stop when fewer patients remain at risk.

    Returns
    -------
    AdjuvantLandmark

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Arm
    >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 4, C.OS_FROM_SURGERY: [2.0, 20, 30, 9],
    ...                    C.OS_EVENT: [1, 1, 0, 1], C.RFS_MONTHS: [2.0, 10, 30, 2.5], C.RFS_EVENT: [1, 1, 0, 1],
    ...                    C.ADJUVANT_CHEMO: [True, True, False, False]})
    >>> r = adjuvant_landmark(df, 3)
    >>> r.excluded["died within 3 months of surgery"], r.excluded["recurrence within 3 months of surgery"]
    (1, 1)
    >>> [(g.group, g.n, float(g.median)) for g in r.by.groups]
    [('Adjuvant chemotherapy', 1, 17.0), ('No adjuvant chemotherapy', 1, nan)]
    """
    if endpoint not in ("os_from_surgery", "rfs"):
        raise ValueError(f"endpoint must be 'os_from_surgery' or 'rfs', not {endpoint!r}")
    if isinstance(landmark, bool) or not isinstance(landmark, (int, float, np.integer, np.floating)) \
            or not 0 < float(landmark) <= 24:
        raise ValueError(f"the landmark must be a number of months above 0 and at most 24, not {landmark!r}")
    if not isinstance(min_at_risk, (int, np.integer)) or min_at_risk < 1:
        raise ValueError(f"min_at_risk must be a positive integer, got {min_at_risk!r}")
    L = float(landmark)
    surg = _surgery_only(data)
    for c in (C.OS_FROM_SURGERY, C.OS_EVENT, C.RFS_MONTHS, C.RFS_EVENT, C.ADJUVANT_CHEMO):
        if c not in surg.columns:
            raise ValueError(f"column {c!r} is not in data")
    num = {c: pd.to_numeric(surg[c], errors="coerce").astype(float).to_numpy()
           for c in (C.OS_FROM_SURGERY, C.OS_EVENT, C.RFS_MONTHS, C.RFS_EVENT)}
    t_os, e_os, t_rfs, e_rfs = num[C.OS_FROM_SURGERY], num[C.OS_EVENT], num[C.RFS_MONTHS], num[C.RFS_EVENT]
    adj = surg[C.ADJUVANT_CHEMO].astype("boolean")
    adj_known = adj.notna().to_numpy()
    adj_yes = adj.fillna(False).astype(bool).to_numpy()
    left = np.ones(len(surg), dtype=bool)
    excluded: dict[str, int] = {}
    with np.errstate(invalid="ignore"):
        rules = (
            ("follow-up time or event not recorded", np.isnan(t_os) | np.isnan(e_os) | np.isnan(t_rfs) | np.isnan(e_rfs)),
            (f"died within {_months(L)} of surgery", (e_os == 1) & (t_os <= L)),
            (f"recurrence within {_months(L)} of surgery", (e_rfs == 1) & (t_rfs <= L)),
            (f"followed for {_months(L)} or less", t_os <= L),
            (f"last scan {_months(L)} or less after surgery (recurrence status at the landmark unknown)", t_rfs <= L),
            ("adjuvant chemotherapy not recorded", ~adj_known),
        )
    for why, hit in rules:
        hit = left & hit
        excluded[why] = int(hit.sum())
        left &= ~hit
    t_col, e_col = (t_os, e_os) if endpoint == "os_from_surgery" else (t_rfs, e_rfs)
    t, e, yes = t_col[left] - L, e_col[left], adj_yes[left]
    group = np.where(yes, ADJUVANT_YES, ADJUVANT_NO).astype(object)
    word, _ = _ADJ_EVENT_WORDS[endpoint]
    notes = [f"{n} operated patient(s) left out: {why}." for why, n in excluded.items() if n]
    by = grouped_survival(t, e, group, [ADJUVANT_YES, ADJUVANT_NO], endpoint=endpoint,
                          endpoint_label=f"{ENDPOINTS[endpoint][2].split(' from ')[0]} from {_months(L)} after surgery",
                          group_column=C.ADJUVANT_CHEMO, min_at_risk=min_at_risk, notes=notes,
                          n_missing=int((~left).sum()), logrank=False)
    counts = ArmCounts(int(yes.sum()), int((~yes).sum()), int(e[yes].sum()), int(e[~yes].sum()), word,
                       arm_names=ADJUVANT_ARMS)
    reason = comparison_reason(counts)
    hr = lower = upper = p = float("nan")
    zph, zph_reason = None, ""
    if not reason:
        frame = pd.DataFrame({"time": t, "event": e, "adjuvant": yes.astype(float)})
        try:
            row = survival.cox(frame, "time", "event", ["adjuvant"]).table.loc["adjuvant"]
            hr, lower, upper, p = (float(row[k]) for k in ("hr", "lower", "upper", "p"))
            zph, zph_reason = _ph_test(frame, ["adjuvant"])
        except ValueError as exc:
            reason = ("the " + word + "s of one group all come before those of the other, so the data cannot say "
                      "how large the difference is" if "monotone" in str(exc) else
                      "the Cox model cannot be fitted on these patients")
    return AdjuvantLandmark(L, endpoint, by, counts, hr, lower, upper, p, reason, len(surg), excluded,
                            adjuvant_estimand(L, endpoint), zph, zph_reason)


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
