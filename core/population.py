"""Analysis populations: who is compared, from when, and how immortal time is handled.

Three ways to compare surgery with chemotherapy alone (domain.md §5.1):

* **naive**: everyone from the time origin, classified by the arm they ended up in. Operated
  patients had to survive until their operation, so this comparison is biased in favour of
  surgery (immortal time).
* **landmark**: the clock starts at L months after the origin; only patients alive and still
  followed at L are kept, classified by whether they had been operated by L (patients operated
  later count as not operated at the landmark, as in an intention-to-treat analysis at L).
* **time-dependent**: every patient contributes unoperated time from the origin until surgery
  and operated time afterwards (counting-process data).

Examples
--------
>>> import pandas as pd
>>> from core.dictionary import C, Arm
>>> df = pd.DataFrame({C.PATIENT_ID: ["a", "b", "c"], C.TREATMENT_GROUP: [Arm.SURGERY, Arm.SURGERY, Arm.CHEMOTHERAPY],
...                    C.OS_FROM_CHEMO: [20.0, 30.0, 4.0], C.OS_EVENT: [1, 0, 1], C.TIME_TO_SURGERY: [5.0, 8.0, None]})
>>> pop = landmark_population(df, origin="chemo_start", landmark=6.0)
>>> pop.data[["treated", "time"]].values.tolist()
[[1.0, 14.0], [0.0, 24.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import survival
from core.dictionary import Arm, C

#: Columns added to an analysis population.
TIME = "time"
EVENT = "event"
TREATED = "treated"
SURGERY_TIME = "surgery_time"

_OS_TIME = {"chemo_start": C.OS_FROM_CHEMO, "diagnosis": C.OS_FROM_DIAGNOSIS}
#: Time and event columns of each between-arm endpoint, by time origin.
ENDPOINT_TIME = {
    "os": _OS_TIME,
    "efs": {"chemo_start": C.EFS_FROM_CHEMO, "diagnosis": C.EFS_FROM_DIAGNOSIS},
}
ENDPOINT_EVENT = {"os": C.OS_EVENT, "efs": C.EFS_EVENT}
_SURGERY_TIME = {"chemo_start": C.TIME_TO_SURGERY, "diagnosis": C.TIME_DIAGNOSIS_TO_SURGERY}


@dataclass(frozen=True)
class Population:
    """Patients of one comparison with ``time``, ``event`` and ``treated`` columns added.

    Attributes
    ----------
    data : pandas.DataFrame
        Rows of the cohort (same index labels) plus ``time`` (months from the start of the
        clock), ``event`` (0/1), ``treated`` (0/1) and ``surgery_time`` (months from the origin).
    description : str
        How the population was built, in words.
    excluded : dict of str to int
        Patients left out, by reason.
    """

    data: pd.DataFrame
    description: str
    excluded: dict[str, int]
    step: str = ""
    counted_in: str = ""  # the population in a few words, for "In <counted_in>: 3 operated ..."


def _base(data: pd.DataFrame, origin: str, endpoint: str = "os") -> pd.DataFrame:
    if origin not in _OS_TIME:
        raise ValueError(f"origin must be one of {', '.join(_OS_TIME)}, not {origin!r}")
    if endpoint not in ENDPOINT_TIME:
        raise ValueError(f"endpoint must be one of {', '.join(ENDPOINT_TIME)}, not {endpoint!r}")
    out = data.copy(deep=False)  # only new columns are added: the caller's frame is never modified
    out[TIME] = pd.to_numeric(out[ENDPOINT_TIME[endpoint][origin]], errors="coerce").astype(float)
    out[EVENT] = pd.to_numeric(out[ENDPOINT_EVENT[endpoint]], errors="coerce").astype(float)
    out[SURGERY_TIME] = pd.to_numeric(out[_SURGERY_TIME[origin]], errors="coerce").astype(float)
    out.loc[out[C.TREATMENT_GROUP] != Arm.SURGERY, SURGERY_TIME] = np.nan
    return out


def naive_population(data: pd.DataFrame, *, origin: str, endpoint: str = "os") -> Population:
    """Everyone from the origin, classified by the arm they ended up in (biased).

    Parameters
    ----------
    data : pandas.DataFrame
        Filtered cohort (``Cohort.data`` rows).
    origin : {"chemo_start", "diagnosis"}
        Time origin.
    endpoint : {"os", "efs"}
        Overall or event-free survival.
    """
    out = _base(data, origin, endpoint)
    out[TREATED] = (out[C.TREATMENT_GROUP] == Arm.SURGERY).astype(float)
    keep = out[TIME].notna() & out[EVENT].notna()
    return Population(
        data=out if keep.all() else out.loc[keep],
        description=f"All patients from {origin.replace('_', ' ')}, by arm (ignores immortal time: biased)",
        excluded={"no survival time": int((~keep).sum())},
        step="With a survival time (naive)",
        counted_in="the filtered patients",
    )


def landmark_population(data: pd.DataFrame, *, origin: str, landmark: float, endpoint: str = "os") -> Population:
    """Patients alive (event-free, for EFS) and followed at ``landmark`` months, classified by surgery before it.

    The clock restarts at the landmark: ``time`` is months after L.

    Parameters
    ----------
    data : pandas.DataFrame
        Filtered cohort.
    origin : {"chemo_start", "diagnosis"}
        Time origin.
    landmark : float
        L in months after the origin.
    endpoint : {"os", "efs"}
        Overall or event-free survival.
    """
    if not landmark > 0:
        raise ValueError("the landmark must be a positive number of months")
    out = _base(data, origin, endpoint)
    alive = out[TIME] > landmark
    operated_by_l = out[SURGERY_TIME] <= landmark
    out[TREATED] = operated_by_l.astype(float)
    out[TIME] = out[TIME] - landmark
    keep = alive & out[EVENT].notna()
    later = keep & (out[C.TREATMENT_GROUP] == Arm.SURGERY) & ~operated_by_l
    alive_words = "alive" if endpoint == "os" else "alive without progression or recurrence"
    return Population(
        data=out if keep.all() else out.loc[keep],
        description=(
            f"Patients {alive_words} and followed {landmark:g} months after {origin.replace('_', ' ')}, by surgery "
            f"before then; clock restarted at the landmark"
        ),
        excluded={
            ("died or censored before the landmark" if endpoint == "os"
             else "had an event or were censored before the landmark"): int((~alive).sum()),
            "operated after the landmark (counted as not operated)": int(later.sum()),
        },
        step=f"{alive_words.capitalize()} at the {landmark:g}-month landmark",
        counted_in=f"the patients {alive_words} at the {landmark:g}-month landmark",
    )


def counting_process(population: pd.DataFrame) -> pd.DataFrame:
    """Split each patient at surgery into (start, stop] episodes with a time-dependent ``treated``.

    A thin wrapper over :func:`core.survival.split_at_surgery` (checked against R's ``tmerge``)
    that carries the patient's other columns along. Patients with ``time <= 0`` have no
    episode and are left out.

    Parameters
    ----------
    population : pandas.DataFrame
        Rows with ``time``, ``event`` and ``surgery_time`` (NaN when never operated), time from the origin.

    Returns
    -------
    pandas.DataFrame
        Columns ``start``, ``stop``, ``event``, ``treated`` and ``row`` (position of the patient
        in ``population``), plus the other columns of ``population`` repeated per episode.

    Examples
    --------
    >>> df = pd.DataFrame({"time": [10.0, 5.0], "event": [1.0, 0.0], "surgery_time": [4.0, np.nan]})
    >>> counting_process(df)[["start", "stop", "event", "treated"]].values.tolist()
    [[0.0, 4.0, 0.0, 0.0], [4.0, 10.0, 1.0, 1.0], [0.0, 5.0, 0.0, 0.0]]
    """
    positive = population[TIME].to_numpy(float) > 0
    pop = population.loc[positive]
    episodes = survival.split_at_surgery(
        pop[TIME].to_numpy(float), pop[EVENT].to_numpy(float), pop[SURGERY_TIME].to_numpy(float),
        ids=np.flatnonzero(positive),
    )
    rows = episodes["id"].to_numpy(int)  # positions in ``population`` (rows with time <= 0 skipped)
    others = population.drop(columns=[TIME, EVENT, SURGERY_TIME]).iloc[rows].reset_index(drop=True)
    out = pd.DataFrame({
        "row": rows,
        "start": episodes["start"].to_numpy(float),
        "stop": episodes["stop"].to_numpy(float),
        "event": episodes["event"].to_numpy(float),
        "treated": episodes[C.SURGERY].to_numpy(float),
    })
    dup = [c for c in others.columns if c in out.columns]
    return pd.concat([out, others.drop(columns=dup)], axis=1)
