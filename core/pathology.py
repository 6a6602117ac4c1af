"""Pathology of the operated patients, and survival by pathology (Hank et al., Ann Surg 2023).

Two items of the Surgical outcomes page:

* :func:`pathology_table`: resection margin (R0/R1/R2), ypT, ypN, viable tumour in the resected
  liver metastases (ypM0 = none, ypM1 = viable tumour; column ``liver_mets_viable``) and complete
  pathological response (:data:`PCR_DEFINITION`), as n (%) with the patients not assessed and
  the missing values counted per variable. Percentages are of the patients with an assessed value.
* :func:`survival_by_pathology`: overall survival of resected ypM0, resected ypM1 and not
  resected patients **from a common landmark** (:data:`DESIGN`). Pathology is known only after
  an operation that a patient had to survive to; counting from diagnosis or chemotherapy start
  would credit the resected groups with that survival (immortal time). So the clock starts at
  L months after the time origin for everyone alive then, as in the main comparison (the
  landmark and origin of the sidebar), and the groups are described, not tested.

Examples
--------
>>> import pandas as pd
>>> from core.dictionary import C, Arm
>>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 3, C.MARGIN: ["R0", "R1", None],
...                    C.YP_T: ["T0", "T2", "T0"], C.YP_N: ["N0", "N1", "N0"],
...                    C.LIVER_METS_VIABLE: ["no", "yes", "not_assessed"]})
>>> t = pathology_table(df).table
>>> t.loc[t["variable"] == C.MARGIN, ["level", "n"]].values.tolist()
[['R0', 1], ['R1', 1], ['R2', 0], ['missing', 1]]
>>> t.loc[t["variable"] == PCR, ["level", "n"]].values.tolist()
[['yes', 1], ['no', 1], ['not_assessed', 1], ['missing', 0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.dictionary import Arm, C, Margin, Viable, YpN, YpT, label, value_label
from core.outcomes import GroupedSurvival, grouped_survival
from core.population import TIME, TREATED, landmark_population

__all__ = [
    "PCR",
    "PCR_DEFINITION",
    "DESIGN",
    "YPM0",
    "YPM1",
    "NOT_RESECTED",
    "PathologyTable",
    "PathologySurvival",
    "complete_response",
    "pathology_table",
    "suppress_pathology",
    "survival_by_pathology",
]

#: Name of the derived complete-pathological-response row in :func:`pathology_table`.
PCR = "complete_pathological_response"
#: The definition of complete pathological response used here (stated on screen and in the report).
PCR_DEFINITION = ("Complete pathological response: no residual tumour in the pancreas (ypT0), in the lymph nodes "
                  "(ypN0) and in the resected liver metastases (ypM0, no viable tumour). Any residual tumour in "
                  "one of the three makes it 'no'; when none shows residual tumour but one was not assessed or "
                  "not recorded, it is 'not assessed'.")
MISSING = "missing"
NOT_ASSESSED = "not_assessed"
YES, NO = "yes", "no"
#: Groups of the survival-by-pathology figure.
YPM0 = "Resected, ypM0 (no viable tumour in the liver metastases)"
YPM1 = "Resected, ypM1 (viable tumour in the liver metastases)"
NOT_RESECTED = "Not resected by the landmark"
#: The time-zero design of :func:`survival_by_pathology`, in words (shown on screen).
DESIGN = ("Time zero is the landmark of the main comparison (L months after the time origin in the sidebar), for "
          "every group: only patients alive and followed at L are counted, by their status at L (resected by L, "
          "with the pathology of the resected liver metastases, or not resected by then; patients operated later "
          "count as not resected, as in the main landmark analysis). Counting from diagnosis or chemotherapy start "
          "instead would credit the resected groups with the months they had to survive to reach the operation "
          "(immortal time). The groups are described, not compared: patients chosen for surgery differ from the "
          "others in many ways, and ypM is known only after the operation.")

#: (column, levels shown as categories); any other recorded value (TX, NX, not_assessed) is "not assessed".
_VARIABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (C.MARGIN, Margin.ALL),
    (C.YP_T, tuple(t for t in YpT.ALL if t != YpT.NOT_ASSESSED)),
    (C.YP_N, tuple(n for n in YpN.ALL if n != YpN.NOT_ASSESSED)),
    (C.LIVER_METS_VIABLE, (Viable.NO, Viable.YES)),
)
_LONG = ["variable", "level", "n", "percent"]


def _operated(data: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    if C.TREATMENT_GROUP not in data.columns:
        raise ValueError(f"data needs a {C.TREATMENT_GROUP!r} column to select the operated patients")
    return data[data[C.TREATMENT_GROUP] == Arm.SURGERY]


def _text(data: pd.DataFrame, column: str) -> pd.Series:
    if column not in data.columns:
        return pd.Series([None] * len(data), index=data.index, dtype=object)
    s = data[column].astype(object)
    return s.where(s.notna(), None)


def complete_response(data: pd.DataFrame) -> pd.Series:
    """Complete pathological response per patient (:data:`PCR_DEFINITION`): "yes", "no" or "not_assessed".

    "no" as soon as one of ypT, ypN and the liver metastases shows residual tumour; "yes" when
    all three show none (ypT0, ypN0, no viable tumour); otherwise "not_assessed" (TX, NX, not
    assessed or missing, and no residual tumour elsewhere).

    Parameters
    ----------
    data : pandas.DataFrame
        Rows of operated patients with ``yp_t``, ``yp_n`` and ``liver_mets_viable``.

    Returns
    -------
    pandas.Series
        One label per row (same index).

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C
    >>> df = pd.DataFrame({C.YP_T: ["T0", "T0", "TX", "T1"], C.YP_N: ["N0", "N0", "N0", None],
    ...                    C.LIVER_METS_VIABLE: ["no", "not_assessed", "no", None]})
    >>> complete_response(df).tolist()
    ['yes', 'not_assessed', 'not_assessed', 'no']
    """
    t, n, m = _text(data, C.YP_T), _text(data, C.YP_N), _text(data, C.LIVER_METS_VIABLE)
    clear = (t == YpT.T0) & (n == YpN.N0) & (m == Viable.NO)
    known_t = t.notna() & (t != YpT.NOT_ASSESSED)
    known_n = n.notna() & (n != YpN.NOT_ASSESSED)
    known_m = m.isin([Viable.YES, Viable.NO])
    residual = (known_t & (t != YpT.T0)) | (known_n & (n != YpN.N0)) | (known_m & (m == Viable.YES))
    out = np.where(residual, NO, np.where(clear, YES, NOT_ASSESSED))
    return pd.Series(out, index=data.index, dtype=object)


@dataclass(frozen=True, eq=False)
class PathologyTable:
    """The pathology of the operated patients (see :func:`pathology_table`).

    Attributes
    ----------
    table : pandas.DataFrame
        Long format, one row per variable and level: ``variable`` (dictionary column, or
        :data:`PCR`), ``level`` (a category code, ``"not_assessed"`` or ``"missing"``), ``n``
        (patients) and ``percent`` (of the patients with an assessed value; NaN for the
        not-assessed and missing rows). With small-cell suppression, hidden counts are NaN and
        the column ``suppressed`` gives the mark.
    n_operated : int
        Operated patients described.
    definition : str
        The definition of complete pathological response used.
    """

    table: pd.DataFrame
    n_operated: int
    definition: str = PCR_DEFINITION

    def display(self) -> pd.DataFrame:
        """Formatted: variable and category in words, ``n (%)``; hidden counts as their mark.

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 2, C.MARGIN: ["R0", "R1"]})
        >>> pathology_table(df).display().iloc[0].tolist()
        ['Resection margin', 'R0 (no tumour within 1 mm of the margin)', '1 (50.0%)']
        """
        rows = []
        previous = None
        for r in self.table.itertuples(index=False):
            variable = _variable_label(r.variable)
            mark = getattr(r, "suppressed", "") or ""
            if mark:
                cell = mark
            elif np.isfinite(r.percent):
                cell = f"{int(r.n)} ({r.percent:.1f}%)"
            else:
                cell = f"{int(r.n)}"
            rows.append({"Variable": variable if variable != previous else "",
                         "Category": _level_label(r.variable, r.level), "Patients, n (%)": cell})
            previous = variable
        return pd.DataFrame(rows, columns=["Variable", "Category", "Patients, n (%)"])


def _variable_label(variable: str) -> str:
    return "Complete pathological response" if variable == PCR else label(variable)


def _level_label(variable: str, level: str) -> str:
    if level == MISSING:
        return "Missing (not recorded)"
    if level == NOT_ASSESSED:
        return "Not assessed (one part not assessed or not recorded)" if variable == PCR else "Not assessed"
    if variable == PCR:
        return {YES: "Yes", NO: "No"}[level]
    if level in (YpT.NOT_ASSESSED, YpN.NOT_ASSESSED):
        return "Not assessed"
    return value_label(variable, level)


def pathology_table(data: pd.DataFrame, *, k: int | None = None) -> PathologyTable:
    """Margin, ypT, ypN, viable tumour in the liver metastases and complete response of the operated: n (%).

    Each variable lists its categories (percent of the patients with an assessed value), then
    the patients not assessed (TX, NX, ``not_assessed``) and the missing values, so that every
    variable adds up to the operated patients. Complete pathological response follows
    :data:`PCR_DEFINITION` (:func:`complete_response`).

    Parameters
    ----------
    data : pandas.DataFrame
        Cohort table (or a filtered part of it); only the surgery group is used.
    k : int, optional
        Small-cell threshold: counts from 1 to k-1 hidden, with complementary cells
        (:func:`suppress_pathology`).

    Returns
    -------
    PathologyTable

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Arm
    >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 4 + [Arm.CHEMOTHERAPY],
    ...                    C.LIVER_METS_VIABLE: ["no", "yes", "yes", None, None]})
    >>> t = pathology_table(df).table
    >>> t.loc[t["variable"] == C.LIVER_METS_VIABLE, ["level", "n", "percent"]].round(1).values.tolist()
    [['no', 1, 33.3], ['yes', 2, 66.7], ['not_assessed', 0, nan], ['missing', 1, nan]]
    """
    op = _operated(data)
    rows: list[dict[str, object]] = []

    def add(variable: str, values: pd.Series, levels: Sequence[str]) -> None:
        assessed = int(values.isin(list(levels)).sum())
        for lev in levels:
            n = int((values == lev).sum())
            rows.append({"variable": variable, "level": lev, "n": n,
                         "percent": 100.0 * n / assessed if assessed else float("nan")})
        other = values.notna() & ~values.isin(list(levels))
        if variable != C.MARGIN or other.any():  # a margin is always assessed (R0/R1/R2) once recorded
            rows.append({"variable": variable, "level": NOT_ASSESSED, "n": int(other.sum()), "percent": float("nan")})
        rows.append({"variable": variable, "level": MISSING, "n": int(values.isna().sum()), "percent": float("nan")})

    for column, levels in _VARIABLES:
        add(column, _text(op, column), levels)
    add(PCR, complete_response(op), (YES, NO))
    table = pd.DataFrame(rows, columns=_LONG)
    table["n"] = table["n"].astype(int)
    if k is not None:
        table = suppress_pathology(table, k=k)
    return PathologyTable(table, len(op))


def suppress_pathology(table: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """Small-cell suppression of :attr:`PathologyTable.table`, with complementary cells.

    The known sums: per variable, its categories, not-assessed and missing rows add up to the
    operated patients (shown on the page). Counts from 1 to k-1 are hidden (``"<k"``), then a
    complementary count (``"*"``) wherever a variable would have exactly one hidden count
    (:func:`core.export.linked_suppression`). Hidden counts and their percentages become NaN
    and the column ``suppressed`` gives the mark.

    Examples
    --------
    >>> t = pd.DataFrame({"variable": ["m"] * 3, "level": ["R0", "R1", "missing"], "n": [30, 4, 0],
    ...                   "percent": [88.2, 11.8, float("nan")]})
    >>> suppress_pathology(t, k=11)["suppressed"].tolist()
    ['*', '<11', '']
    """
    from core import export

    out = table.reset_index(drop=True).copy()
    values = {i: float(v) for i, v in out["n"].items()}
    lines = [list(block.index) for _, block in out.groupby("variable", sort=False)]
    marks = export.linked_suppression(values, lines, k=k)
    out["n"] = out["n"].astype(float)
    flag = pd.Series("", index=out.index, dtype=object)
    for key, mark in marks.items():
        out.at[key, "n"] = float("nan")
        out.at[key, "percent"] = float("nan")
        flag[key] = mark
    out["suppressed"] = flag
    return out


# ================================================================================== survival by pathology
@dataclass(frozen=True, eq=False)
class PathologySurvival:
    """Overall survival from a common landmark: resected ypM0, resected ypM1, not resected.

    Attributes
    ----------
    by : GroupedSurvival
        Kaplan-Meier curves, medians and numbers at risk per group (:data:`YPM0`, :data:`YPM1`,
        :data:`NOT_RESECTED`), time in months since the landmark. No test across groups.
    landmark : float
        L, months after ``origin``.
    origin : str
        ``"chemo_start"`` or ``"diagnosis"``.
    excluded : dict of str to int
        Patients left out (or moved), by reason.
    design : str
        The time-zero design in words (:data:`DESIGN`).
    """

    by: GroupedSurvival
    landmark: float
    origin: str
    excluded: dict[str, int]
    design: str = DESIGN
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> pd.DataFrame:
        """Per group: patients, deaths, median OS from the landmark with its 95% CI (numeric, for downloads).

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C, Arm
        >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY, Arm.CHEMOTHERAPY], C.OS_FROM_CHEMO: [30.0, 12],
        ...                    C.OS_EVENT: [1, 1], C.TIME_TO_SURGERY: [4.0, None], C.LIVER_METS_VIABLE: ["no", None]})
        >>> survival_by_pathology(df, landmark=6).summary()[["group", "patients", "median_months"]].values.tolist()
        [['Resected, ypM0 (no viable tumour in the liver metastases)', 1, 24.0], ['Not resected by the landmark', 1, 6.0]]
        """
        s = self.by.summary
        if s.empty:
            return pd.DataFrame(columns=["group", "patients", "deaths", "median_months", "median_lower_95",
                                         "median_upper_95", "note"])
        return pd.DataFrame({"group": s["group"], "patients": s["n"].astype(int), "deaths": s["events"].astype(int),
                             "median_months": s["median"], "median_lower_95": s["median_lower"],
                             "median_upper_95": s["median_upper"], "note": s["note"]})


def survival_by_pathology(data: pd.DataFrame, *, origin: str = "chemo_start", landmark: float = 6.0,
                          min_at_risk: int = 3) -> PathologySurvival:
    """Overall survival of resected ypM0, resected ypM1 and not resected patients from a common landmark.

    Patients alive and followed ``landmark`` months after ``origin`` are kept
    (:func:`core.population.landmark_population`); the clock restarts at the landmark. Those
    operated by then are grouped by the viable tumour in their resected liver metastases (ypM0:
    ``liver_mets_viable`` "no"; ypM1: "yes"; "not assessed" or missing: left out and counted); all
    others are "not resected by the landmark", including the patients operated later. See
    :data:`DESIGN`.

    Parameters
    ----------
    data : pandas.DataFrame
        Filtered cohort (both arms).
    origin : {"chemo_start", "diagnosis"}
        Time origin of the landmark.
    landmark : float
        L in months after the origin (the main comparison's landmark).
    min_at_risk : int
        Plotted curves stop when fewer patients remain at risk.

    Returns
    -------
    PathologySurvival

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Arm
    >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY] * 3 + [Arm.CHEMOTHERAPY] * 2,
    ...                    C.OS_FROM_CHEMO: [30.0, 20, 9, 12, 4], C.OS_EVENT: [1, 1, 0, 1, 1],
    ...                    C.TIME_TO_SURGERY: [4.0, 5, 8, None, None],
    ...                    C.LIVER_METS_VIABLE: ["no", "yes", "no", None, None]})
    >>> r = survival_by_pathology(df, landmark=6)
    >>> [(g.group[:16], g.n) for g in r.by.groups]
    [('Resected, ypM0 (', 1), ('Resected, ypM1 (', 1), ('Not resected by ', 2)]
    >>> r.excluded["died or censored before the landmark"]
    1
    """
    if C.LIVER_METS_VIABLE not in data.columns:
        raise ValueError(f"column {C.LIVER_METS_VIABLE!r} is not in data")
    if not isinstance(min_at_risk, (int, np.integer)) or min_at_risk < 1:
        raise ValueError(f"min_at_risk must be a positive integer, got {min_at_risk!r}")
    pop = landmark_population(data, origin=origin, landmark=float(landmark))
    d = pop.data
    resected = (d[TREATED] == 1).to_numpy()
    viable = _text(d, C.LIVER_METS_VIABLE).to_numpy()
    group = np.where(~resected, NOT_RESECTED,
                     np.where(viable == Viable.NO, YPM0, np.where(viable == Viable.YES, YPM1, ""))).astype(object)
    unknown = group == ""
    excluded = {
        "died or censored before the landmark": pop.excluded.get("died or censored before the landmark", 0),
        "resected by the landmark, liver metastases not assessed or not recorded": int(unknown.sum()),
        "operated after the landmark (counted as not resected)": pop.excluded.get(
            "operated after the landmark (counted as not operated)", 0),
    }
    keep = ~unknown
    t = d[TIME].to_numpy(float)[keep]
    e = d["event"].to_numpy(float)[keep]
    notes = []
    if excluded["died or censored before the landmark"]:
        notes.append(f"{excluded['died or censored before the landmark']} patient(s) left out: died or censored "
                     f"before the {landmark:g}-month landmark.")
    if unknown.any():
        notes.append(f"{int(unknown.sum())} resected patient(s) left out: liver metastases not assessed or not "
                     "recorded.")
    if excluded["operated after the landmark (counted as not resected)"]:
        notes.append(f"{excluded['operated after the landmark (counted as not resected)']} patient(s) operated after "
                     "the landmark are counted as not resected.")
    by = grouped_survival(t, e, group[keep], [YPM0, YPM1, NOT_RESECTED], endpoint="os",
                          endpoint_label=f"Overall survival from the {landmark:g}-month landmark",
                          group_column=C.LIVER_METS_VIABLE, min_at_risk=min_at_risk, notes=notes,
                          n_missing=int(unknown.sum()), logrank=False)
    return PathologySurvival(by, float(landmark), origin, excluded, DESIGN, tuple(notes))

