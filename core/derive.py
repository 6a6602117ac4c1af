"""Columns computed from the validated imported data (``core.dictionary.DERIVED``).

All computations are vectorised. Times are in months (days / ``DAYS_PER_MONTH``).

Examples
--------
>>> import pandas as pd
>>> from core.dictionary import C
>>> mets_group(pd.Series([1, 2, 3, 4, None], dtype="Int64")).tolist()
['1', '2-3', '2-3', '>3', None]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.dictionary import (
    CA19_9_ULN,
    DAYS_PER_MONTH,
    DERIVED,
    Arm,
    C,
    ClavienDindo,
    MetsGroup,
    Popf,
    Vital,
)

#: Days after surgery within which a death counts as postoperative (90-day) mortality.
POSTOP_DAYS = 90

#: CA19-9 response: relative fall from baseline to restaging of at least this fraction.
CA19_9_RESPONSE_FALL = 0.5

#: Liver segments from which a hepatectomy is major.
MAJOR_SEGMENTS = 3


def months(start: pd.Series, end: pd.Series) -> pd.Series:
    """Months between two date columns (days / 30.4375), NaN where either is missing.

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2020-01-01", None]))
    >>> e = pd.Series(pd.to_datetime(["2020-03-01", "2020-02-01"]))
    >>> round(float(months(s, e).iloc[0]), 4), bool(np.isnan(months(s, e).iloc[1]))
    (1.9713, True)
    """
    return ((end - start).dt.days / DAYS_PER_MONTH).astype(float)


def mets_group(n: pd.Series) -> pd.Series:
    """Group the number of liver metastases into 1, 2-3, >3 (``MetsGroup`` labels)."""
    v = pd.to_numeric(n, errors="coerce").astype(float).to_numpy()
    out = np.where(v <= 1, MetsGroup.ONE, np.where(v <= 3, MetsGroup.TWO_THREE, MetsGroup.MORE)).astype(object)
    out[np.isnan(v)] = None
    return pd.Series(out, index=n.index, dtype=object)


def _bool(values: np.ndarray, known: np.ndarray, index: pd.Index) -> pd.Series:
    arr = pd.array(np.asarray(values, dtype=bool), dtype="boolean")
    arr[~np.asarray(known, dtype=bool)] = pd.NA
    return pd.Series(arr, index=index)


def _int(values: np.ndarray, known: np.ndarray, index: pd.Index) -> pd.Series:
    arr = pd.array(np.asarray(values, dtype=np.int64), dtype="Int64")
    arr[~np.asarray(known, dtype=bool)] = pd.NA
    return pd.Series(arr, index=index)


def derive(data: pd.DataFrame) -> pd.DataFrame:
    """Compute the derived columns of a validated, typed cohort table.

    Parameters
    ----------
    data : pandas.DataFrame
        Imported columns, typed as produced by :func:`core.cohort.load` (dates
        ``datetime64``, categories canonical strings, booleans nullable ``boolean``).

    Returns
    -------
    pandas.DataFrame
        One column per entry of ``core.dictionary.DERIVED``, same index as ``data``.

    Notes
    -----
    * OS ends at the death date when dead, otherwise at the last follow-up.
    * RFS (surgery group): surgery to recurrence (event), else to death (event), else
      censored at the last imaging date. PFS (chemotherapy group) likewise from chemotherapy
      start. RFS is missing for the chemotherapy group and PFS for the surgery group.
    * 90-day mortality: true when death is at most 90 days after surgery; false when the
      patient is known alive (or dead later) at 90 days; missing when alive and followed for
      less than 90 days.
    * CA19-9 normalised (< 37 U/mL at restaging) and response (fall >= 50 %) are missing
      for Lewis-negative patients and when a needed value is missing (or baseline is 0).
    * Explored, not resected (dictionary 1.1): a chemotherapy-group patient with an exploration
      date (laparotomy or laparoscopy with intent to resect) was explored but not resected: true.
      A chemotherapy-group patient without one, and every surgery-group patient (resected), is
      false. Missing for everyone when no patient has an exploration date (a 1.0 file, or the
      date not collected). A target-trial "resect" strategy counts these patients as following it.

    Examples
    --------
    >>> from core.dictionary import Arm
    >>> d = pd.DataFrame({C.TREATMENT_GROUP: [Arm.CHEMOTHERAPY], C.VITAL_STATUS: ["dead"],
    ...     C.DIAGNOSIS_DATE: pd.to_datetime(["2020-01-01"]), C.CHEMO_START_DATE: pd.to_datetime(["2020-01-11"]),
    ...     C.DEATH_DATE: pd.to_datetime(["2020-07-01"]), C.LAST_FOLLOWUP_DATE: pd.to_datetime(["2020-07-01"]),
    ...     C.LIVER_METS_N: pd.array([2], dtype="Int64")})
    >>> out = derive(d)
    >>> round(float(out[C.OS_FROM_DIAGNOSIS].iloc[0]), 3), int(out[C.OS_EVENT].iloc[0]), out[C.METS_GROUP].iloc[0]
    (5.979, 1, '2-3')
    """
    idx = data.index
    n = len(data)

    def col(name: str) -> pd.Series:
        if name in data.columns:
            return data[name]
        return pd.Series([pd.NA] * n, index=idx, dtype=object)

    def date(name: str) -> pd.Series:
        return pd.to_datetime(col(name), errors="coerce")

    def num(name: str) -> np.ndarray:
        return pd.to_numeric(col(name), errors="coerce").astype(float).to_numpy()

    def flag(name: str) -> np.ndarray:
        s = col(name)
        return s.astype("boolean").fillna(False).to_numpy(dtype=bool) if s.notna().any() else np.zeros(n, bool)

    group = col(C.TREATMENT_GROUP).astype(object)
    surgery = (group == Arm.SURGERY).to_numpy(dtype=bool)
    chemo = (group == Arm.CHEMOTHERAPY).to_numpy(dtype=bool)
    known_group = surgery | chemo
    dead = (col(C.VITAL_STATUS).astype(object) == Vital.DEAD).to_numpy(dtype=bool)
    known_vital = col(C.VITAL_STATUS).notna().to_numpy()

    diag = date(C.DIAGNOSIS_DATE)
    chemo_start = date(C.CHEMO_START_DATE)
    surg = date(C.SURGERY_DATE)
    death = date(C.DEATH_DATE)
    lfu = date(C.LAST_FOLLOWUP_DATE)
    prog_date = date(C.PROGRESSION_DATE)
    imaging = date(C.LAST_IMAGING_DATE)
    end = death.where(dead, lfu)
    progressed = flag(C.PROGRESSION)

    out: dict[str, pd.Series] = {}
    out[C.SURGERY] = _int(surgery, known_group, idx)
    out[C.OS_EVENT] = _int(dead, known_vital, idx)
    out[C.OS_FROM_DIAGNOSIS] = months(diag, end)
    out[C.OS_FROM_CHEMO] = months(chemo_start, end)
    out[C.OS_FROM_SURGERY] = months(surg, end).where(surgery)
    out[C.TIME_TO_SURGERY] = months(chemo_start, surg).where(surgery)
    out[C.TIME_DIAGNOSIS_TO_SURGERY] = months(diag, surg).where(surgery)

    # RFS / PFS: first event among progression/recurrence and death, else censored at last imaging.
    event_date = prog_date.where(progressed, death.where(dead))
    event = progressed | dead
    stop = event_date.where(event, imaging)
    rfs = months(surg, stop)
    out[C.RFS_MONTHS] = rfs.where(surgery)
    out[C.RFS_EVENT] = _int(event, surgery & rfs.notna().to_numpy(), idx)
    pfs = months(chemo_start, stop)
    out[C.PFS_MONTHS] = pfs.where(chemo)
    out[C.PFS_EVENT] = _int(event, chemo & pfs.notna().to_numpy(), idx)
    # EFS: the same first event from the same time zero in both arms (the between-arm alternative to RFS).
    out[C.EFS_FROM_DIAGNOSIS] = months(diag, stop)
    out[C.EFS_FROM_CHEMO] = months(chemo_start, stop)
    out[C.EFS_EVENT] = _int(event, known_vital & stop.notna().to_numpy(), idx)

    out[C.METS_GROUP] = mets_group(col(C.LIVER_METS_N))

    seg = num(C.LIVER_SEGMENTS_N)
    out[C.MAJOR_HEPATECTOMY] = _bool(seg >= MAJOR_SEGMENTS, surgery & ~np.isnan(seg), idx)
    cd = col(C.CLAVIEN_DINDO).astype(object)
    cd_known = surgery & cd.notna().to_numpy()
    out[C.MAJOR_MORBIDITY] = _bool(cd.isin(ClavienDindo.MAJOR).to_numpy(), cd_known, idx)
    out[C.MAJOR_MORBIDITY_IIIB] = _bool(cd.isin(ClavienDindo.MAJOR_IIIB).to_numpy(), cd_known, idx)
    popf = col(C.POPF).astype(object)
    popf_known = surgery & popf.notna().to_numpy() & (popf != Popf.NOT_APPLICABLE).to_numpy()
    out[C.CR_POPF] = _bool(popf.isin(Popf.CLINICALLY_RELEVANT).to_numpy(), popf_known, idx)

    days_to_death = (death - surg).dt.days.to_numpy(dtype=float, na_value=np.nan)
    days_followed = (lfu - surg).dt.days.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        died_90 = dead & (days_to_death <= POSTOP_DAYS)
        survived_90 = (dead & (days_to_death > POSTOP_DAYS)) | (~dead & (days_followed >= POSTOP_DAYS))
    out[C.MORTALITY_90D] = _bool(died_90, surgery & known_vital & (died_90 | survived_90), idx)

    lewis_neg = flag(C.LEWIS_NEGATIVE)
    base = num(C.CA19_9_BASELINE)
    rest = num(C.CA19_9_RESTAGING)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[C.CA19_9_NORMALISED] = _bool(rest < CA19_9_ULN, ~lewis_neg & ~np.isnan(rest), idx)
        # "fall >= 50 %" written without a division so that exactly half counts (no rounding).
        responded = rest <= (1.0 - CA19_9_RESPONSE_FALL) * base
        out[C.CA19_9_RESPONSE] = _bool(responded, ~lewis_neg & ~np.isnan(rest) & (base > 0), idx)
    explored = date(C.EXPLORATION_DATE).notna().to_numpy()
    out[C.EXPLORED_NOT_RESECTED] = _bool(chemo & explored, (surgery | chemo) & explored.any(), idx)
    year = diag.dt.year
    out[C.DIAGNOSIS_YEAR] = _int(year.fillna(0).to_numpy(dtype=np.int64), year.notna().to_numpy(), idx)

    frame = pd.DataFrame(out, index=idx)
    return frame[[c.name for c in DERIVED]]
