"""Cohort filters of an :class:`~core.spec.AnalysisSpec`.

Filters on the operation (pancreatic procedure, hepatectomy, liver procedure and timing)
select *operated* patients and leave the chemotherapy pool untouched, so that a comparison for
"PD + major hepatectomy" still has controls. All other filters apply to both arms.

Examples
--------
>>> import pandas as pd
>>> from core.dictionary import C, Arm
>>> from core.spec import AnalysisSpec
>>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY, Arm.SURGERY, Arm.CHEMOTHERAPY],
...                    C.PANCREATIC_PROCEDURE: ["PD", "DP", None]})
>>> apply_filters(df, AnalysisSpec(pancreatic_procedures=("PD",))).data.index.tolist()
[0, 2]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from core.dictionary import (
    Arm,
    C,
    LiverProcedure,
    MetsGroup,
    Pancreatic,
    Recist,
    Regimen,
    Resectability,
    Setting,
    Timing,
)
from core.eligibility import criteria_masks
from core.spec import AnalysisSpec


@dataclass(frozen=True)
class FilterStep:
    """Patients per arm remaining after one filter."""

    description: str
    n_surgery: int
    n_chemotherapy: int


@dataclass(frozen=True)
class FilterResult:
    """Filtered cohort and the count after each active filter (for the flow diagram).

    The filtered rows are taken from ``source`` only when :attr:`data` is first read, so that a
    caller who needs a few columns (:meth:`select`) never copies the whole table.
    """

    source: pd.DataFrame
    mask: np.ndarray
    steps: tuple[FilterStep, ...]

    @cached_property
    def data(self) -> pd.DataFrame:
        """The filtered rows, all columns (same index labels as the cohort)."""
        return self.source if self.mask.all() else self.source.loc[self.mask]

    def select(self, columns: list[str]) -> pd.DataFrame:
        """The filtered rows, only ``columns`` (those present in the table)."""
        cols = [c for c in dict.fromkeys(columns) if c in self.source.columns]
        return self.source.loc[self.mask, cols]

    @property
    def n_surgery(self) -> int:
        return self.steps[-1].n_surgery

    @property
    def n_chemotherapy(self) -> int:
        return self.steps[-1].n_chemotherapy


def _isin(data: pd.DataFrame, column: str, values: tuple[str, ...]) -> np.ndarray:
    return data[column].astype("object").isin(values).to_numpy(dtype=bool)


def _between(data: pd.DataFrame, column: str, lo: float | None, hi: float | None) -> np.ndarray:
    values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    keep = np.ones(len(data), dtype=bool)
    if lo is not None:
        keep &= values >= lo
    if hi is not None:
        keep &= values <= hi
    return keep


def _segments_major(data: pd.DataFrame) -> np.ndarray:
    return pd.to_numeric(data[C.LIVER_SEGMENTS_N], errors="coerce").to_numpy(dtype=float, na_value=np.nan) >= 3


def apply_filters(data: pd.DataFrame, spec: AnalysisSpec) -> FilterResult:
    """Apply the cohort filters of ``spec`` to a validated cohort table.

    Parameters
    ----------
    data : pandas.DataFrame
        ``Cohort.data`` (imported and derived columns).
    spec : AnalysisSpec
        Filters to apply (analysis settings are ignored here).

    Returns
    -------
    FilterResult
        The filtered rows (same index labels) and the count after each active filter.
    """
    surgery = (data[C.TREATMENT_GROUP] == Arm.SURGERY).to_numpy(dtype=bool)
    keep = np.ones(len(data), dtype=bool)
    steps = [FilterStep("Cohort", int(surgery.sum()), int((~surgery).sum()))]

    def step(description: str, mask: np.ndarray, *, surgery_only: bool = False) -> None:
        nonlocal keep
        if surgery_only:
            mask = mask | ~surgery
        keep &= mask
        steps.append(FilterStep(description, int((keep & surgery).sum()), int((keep & ~surgery).sum())))

    for words, mask in criteria_masks(data, spec.eligibility):  # both arms, at time zero
        step(f"Eligible: {words}", mask)
    if spec.pancreatic_procedures:
        step("Pancreatic procedure (surgery arm)", _isin(data, C.PANCREATIC_PROCEDURE, spec.pancreatic_procedures), surgery_only=True)
    if spec.hepatectomy != "any":
        major = _segments_major(data)
        step(f"{spec.hepatectomy.capitalize()} hepatectomy (surgery arm)", major if spec.hepatectomy == "major" else ~major, surgery_only=True)
    if spec.liver_procedures:
        step("Liver procedure (surgery arm)", _isin(data, C.LIVER_PROCEDURE, spec.liver_procedures), surgery_only=True)
    if spec.liver_timings:
        step("Liver resection timing (surgery arm)", _isin(data, C.LIVER_TIMING, spec.liver_timings), surgery_only=True)
    if spec.mets_groups:
        step("Metastasis group", _isin(data, C.METS_GROUP, spec.mets_groups))
    if spec.mets_min is not None or spec.mets_max is not None:
        step("Number of metastases", _between(data, C.LIVER_METS_N, spec.mets_min, spec.mets_max))
    if spec.regimens:
        step("Regimen", _isin(data, C.CHEMO_REGIMEN, spec.regimens))
    if spec.chemo_settings:
        step("Chemotherapy setting", _isin(data, C.CHEMO_SETTING, spec.chemo_settings))
    if spec.recist:
        step("RECIST response", _isin(data, C.RECIST, spec.recist))
    if spec.resectability_levels:
        step("Resectability", _isin(data, C.RESECTABILITY, spec.resectability_levels))
    if spec.centres:
        step("Centre", _isin(data, C.CENTRE_ID, spec.centres))
    if spec.age_min is not None or spec.age_max is not None:
        step("Age", _between(data, C.AGE, spec.age_min, spec.age_max))
    if spec.ca19_9_max is not None:
        ca = pd.to_numeric(data[C.CA19_9_BASELINE], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        step("CA19-9 at baseline", ~(ca > spec.ca19_9_max))
    if spec.year_min is not None or spec.year_max is not None:
        step("Year of diagnosis", _between(data, C.DIAGNOSIS_YEAR, spec.year_min, spec.year_max))
    return FilterResult(source=data, mask=keep, steps=tuple(steps))


#: Category filters of the spec: field -> (column, options, applies to the surgery arm only).
CATEGORY_FILTERS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "pancreatic_procedures": (C.PANCREATIC_PROCEDURE, Pancreatic.ALL, True),
    "liver_procedures": (C.LIVER_PROCEDURE, LiverProcedure.ALL, True),
    "liver_timings": (C.LIVER_TIMING, Timing.ALL, True),
    "mets_groups": (C.METS_GROUP, MetsGroup.ALL, False),
    "regimens": (C.CHEMO_REGIMEN, Regimen.ALL, False),
    "chemo_settings": (C.CHEMO_SETTING, Setting.ALL, False),
    "recist": (C.RECIST, Recist.ALL, False),
    "resectability_levels": (C.RESECTABILITY, Resectability.ALL, False),
    "centres": (C.CENTRE_ID, (), False),
}


@dataclass(frozen=True)
class OptionCount:
    """Patients per arm who have one option of a filter, with every *other* filter applied."""

    n_surgery: int
    n_chemotherapy: int
    surgery_only: bool = False

    def short(self) -> str:
        """``"S 31 · C 22"`` (operated and chemotherapy-only patients); ``"S 12"`` for a surgery-arm filter."""
        return f"S {self.n_surgery}" if self.surgery_only else f"S {self.n_surgery} · C {self.n_chemotherapy}"


def option_counts(data: pd.DataFrame, spec: AnalysisSpec) -> dict[str, dict[str, OptionCount]]:
    """For each category filter, the patients per arm of each option in the current population.

    "Current population": the cohort with every filter of ``spec`` applied except the one whose
    options are counted (the usual facet count: choosing the option gives exactly that many).
    Options absent from the data are included with zero counts, so a page can mark or drop them.

    Parameters
    ----------
    data : pandas.DataFrame
        ``Cohort.data``.
    spec : AnalysisSpec
        The current filters.

    Returns
    -------
    dict
        ``{field: {option: OptionCount}}`` for the fields of :data:`CATEGORY_FILTERS`, plus
        ``"hepatectomy"`` (minor / major).

    Examples
    --------
    >>> from core import cohort
    >>> counts = option_counts(cohort.demo().data, AnalysisSpec(resectability_levels=("resectable",)))
    >>> counts["regimens"]["FOLFIRINOX"].short()
    'S 19 · C 14'
    >>> counts["resectability_levels"]["borderline"].short()   # not narrowed by its own filter
    'S 16 · C 19'
    """
    surgery = (data[C.TREATMENT_GROUP] == Arm.SURGERY).to_numpy(dtype=bool)
    out: dict[str, dict[str, OptionCount]] = {}
    fields_ = {**{name: (col, opts, so) for name, (col, opts, so) in CATEGORY_FILTERS.items()},
               "hepatectomy": (None, ("minor", "major"), True)}
    for name, (column, options, surgery_only) in fields_.items():
        others = spec.replace_(**{name: "any" if name == "hepatectomy" else ()})
        keep = apply_filters(data, others).mask
        if column is None:
            major = _segments_major(data)
            values = np.where(np.isnan(pd.to_numeric(data[C.LIVER_SEGMENTS_N], errors="coerce").to_numpy(float)),
                              None, np.where(major, "major", "minor"))
        else:
            values = data[column].astype("object").to_numpy()
        if not options:  # centres: the values present in the data
            options = tuple(sorted({str(v) for v in values if v is not None and v == v}))
        counts = {}
        for opt in options:
            has = (values == opt) & keep
            counts[opt] = OptionCount(int((has & surgery).sum()), int((has & ~surgery).sum()), surgery_only)
        out[name] = counts
    return out
