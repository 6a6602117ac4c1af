"""Eligibility at time zero, the same for both arms: who could have been operated.

A comparison of resection against chemotherapy alone is fair only among patients who could have
been offered resection. Each criterion below is a rule on data known by the restaging after
first-line chemotherapy; it removes patients from BOTH arms, and the flow diagram shows how many
it removes from each. The presets follow the published trials and consensus (the names say
"-like": the registry does not record every criterion of a trial):

* **SONAR-like** (NCT06690528): resectable or borderline primary, up to 3 liver metastases,
  ECOG 0-1, response or stable disease at restaging, CA19-9 not risen by more than 20%, age 18-75;
* **CSPAC-1-like** (BMJ Open 2019): up to 3 liver metastases, response or stable disease;
* **OligoPanc-like** (consensus): up to 3 metastases in one organ (the liver, in this registry);
* **Not progressing at restaging**: alive and not progressing (complete or partial response or
  stable disease; progression and "not evaluable", which includes death before restaging, removed);
* **ECOG 0-1**.

A patient whose value is missing for a criterion does not meet it (counted in the flow). CA19-9
is not informative in Lewis-negative patients: for them the CA19-9 criterion is not applied.

Examples
--------
>>> PRESETS["oligopanc"]
('mets_le3',)
>>> preset_of(("mets_le3", "not_progressing"))
'cspac1'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.dictionary import Arm, C, Recist, Resectability

__all__ = ["CRITERIA", "PRESETS", "PRESET_NAMES", "Criterion", "criteria_masks", "preset_of", "removed_per_arm"]


def _num(data: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _ca19_9_not_rising(data: pd.DataFrame) -> np.ndarray:
    base, rest = _num(data, C.CA19_9_BASELINE), _num(data, C.CA19_9_RESTAGING)
    lewis = data[C.LEWIS_NEGATIVE].fillna(False).astype(bool).to_numpy() if C.LEWIS_NEGATIVE in data else False
    with np.errstate(invalid="ignore"):
        ok = rest <= 1.2 * base
    return ok | lewis


@dataclass(frozen=True)
class Criterion:
    """One eligibility rule: ``rule(data)`` is True for patients who meet it (missing: False)."""

    key: str
    words: str
    rule: Callable[[pd.DataFrame], np.ndarray]


CRITERIA: dict[str, Criterion] = {c.key: c for c in (
    Criterion("resectable_primary", "Resectable or borderline primary",
              lambda d: d[C.RESECTABILITY].isin([Resectability.RESECTABLE, Resectability.BORDERLINE]).to_numpy()),
    Criterion("mets_le3", "Up to 3 liver metastases", lambda d: _num(d, C.LIVER_METS_N) <= 3),
    Criterion("mets_le5", "Up to 5 liver metastases", lambda d: _num(d, C.LIVER_METS_N) <= 5),
    Criterion("ecog01", "ECOG 0-1", lambda d: _num(d, C.ECOG) <= 1),
    Criterion("not_progressing", "Alive and not progressing at restaging (CR, PR or SD)",
              lambda d: d[C.RECIST].isin([Recist.CR, Recist.PR, Recist.SD]).to_numpy()),
    Criterion("ca19_9_not_rising", "CA19-9 not risen by more than 20% at restaging (Lewis-negative: not applied)",
              _ca19_9_not_rising),
    Criterion("age_18_75", "Age 18-75", lambda d: (_num(d, C.AGE) >= 18) & (_num(d, C.AGE) <= 75)),
)}

#: Named sets of criteria (the sidebar's presets); a custom set is any other combination.
PRESETS: dict[str, tuple[str, ...]] = {
    "sonar": ("resectable_primary", "mets_le3", "ecog01", "not_progressing", "ca19_9_not_rising", "age_18_75"),
    "cspac1": ("mets_le3", "not_progressing"),
    "oligopanc": ("mets_le3",),
    "not_progressing": ("not_progressing",),
    "ecog01": ("ecog01",),
}
PRESET_NAMES: dict[str, str] = {
    "sonar": "SONAR-like", "cspac1": "CSPAC-1-like", "oligopanc": "OligoPanc-like (up to 3 liver metastases)",
    "not_progressing": "Not progressing at restaging", "ecog01": "ECOG 0-1",
}


def preset_of(keys: tuple[str, ...]) -> str | None:
    """The preset whose criteria are exactly ``keys`` (any order), else None (a custom set)."""
    wanted = set(keys)
    return next((name for name, crit in PRESETS.items() if set(crit) == wanted), None) if wanted else None


def criteria_masks(data: pd.DataFrame, keys: tuple[str, ...]) -> list[tuple[str, np.ndarray]]:
    """``(words, mask)`` per criterion in ``keys`` (in the order of :data:`CRITERIA`), True = eligible.

    Examples
    --------
    >>> d = pd.DataFrame({C.LIVER_METS_N: [1, 4, None], C.ECOG: [0, 2, 1]})
    >>> [(w, m.tolist()) for w, m in criteria_masks(d, ("ecog01", "mets_le3"))]
    [('Up to 3 liver metastases', [True, False, False]), ('ECOG 0-1', [True, False, True])]
    """
    unknown = set(keys) - set(CRITERIA)
    if unknown:
        raise ValueError(f"unknown eligibility criteria: {sorted(unknown)}")
    return [(c.words, np.asarray(c.rule(data), dtype=bool)) for k, c in CRITERIA.items() if k in keys]


def removed_per_arm(data: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Per criterion, the patients of each arm (surgery, chemotherapy) it would remove on its own.

    Examples
    --------
    >>> from core import cohort
    >>> removed_per_arm(cohort.demo().data)["ecog01"][0] >= 0
    True
    """
    surgery = (data[C.TREATMENT_GROUP] == Arm.SURGERY).to_numpy(dtype=bool)
    out = {}
    for key, c in CRITERIA.items():
        fails = ~np.asarray(c.rule(data), dtype=bool)
        out[key] = (int((fails & surgery).sum()), int((fails & ~surgery).sum()))
    return out
