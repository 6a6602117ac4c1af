"""Descriptive summaries of a cohort (counts per arm and centre).

Examples
--------
>>> import pandas as pd
>>> from core.dictionary import C, Arm
>>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY, Arm.CHEMOTHERAPY, Arm.CHEMOTHERAPY],
...                    C.CENTRE_ID: ["A", "A", "B"], C.OS_EVENT: [1, 0, 1]})
>>> int(arm_counts(df).loc["Chemotherapy", "Patients"])
2
"""

from __future__ import annotations

import pandas as pd

from core.dictionary import Arm, C

_ARM_NAMES = {Arm.SURGERY: "Surgery", Arm.CHEMOTHERAPY: "Chemotherapy"}


def arm_counts(data: pd.DataFrame) -> pd.DataFrame:
    """Patients, centres and deaths per arm, with a total row.

    Parameters
    ----------
    data : pandas.DataFrame
        Cohort table with treatment group, centre and OS event columns.

    Returns
    -------
    pandas.DataFrame
        Index: arm names and "Total"; columns ``Patients``, ``Centres``, ``Deaths``.
    """
    rows = {}
    for arm in Arm.ALL:
        part = data[data[C.TREATMENT_GROUP] == arm]
        rows[_ARM_NAMES[arm]] = _counts(part)
    rows["Total"] = _counts(data)
    return pd.DataFrame.from_dict(rows, orient="index")


def _counts(part: pd.DataFrame) -> dict[str, int]:
    return {
        "Patients": len(part),
        "Centres": int(part[C.CENTRE_ID].nunique()),
        "Deaths": int(pd.to_numeric(part[C.OS_EVENT], errors="coerce").fillna(0).sum()),
    }


def centre_table(data: pd.DataFrame) -> pd.DataFrame:
    """Patients per centre and arm, with totals.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Arm
    >>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY, Arm.CHEMOTHERAPY], C.CENTRE_ID: ["A", "B"]})
    >>> int(centre_table(df).loc["Total", "Total"])
    2
    """
    table = (
        data.groupby([C.CENTRE_ID, C.TREATMENT_GROUP], observed=True).size().unstack(fill_value=0)
        .reindex(columns=list(Arm.ALL), fill_value=0)
        .rename(columns=_ARM_NAMES)
        .sort_index()
    )
    table.index = table.index.astype(str)
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum(axis=0)
    table.index.name = "Centre"
    return table
