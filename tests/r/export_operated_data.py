"""Export the demo cohort's columns used by the operated-patient analyses, for tests/r/make_operated_fixtures.R.

Run from the repository root:
    PYTHONPATH=. python tests/r/export_operated_data.py && Rscript tests/r/make_operated_fixtures.R

Writes tests/fixtures/operated/cohort.csv: every patient of the demo cohort (both arms) with the
columns of core.pathology.survival_by_pathology, core.outcomes.adjuvant_landmark and
core.outcomes.prognostic_cox. Two operated patients with a CA19-9 value are marked Lewis-negative
(the demo has none among the operated), so that the rule "a Lewis-negative patient's CA19-9 is
missing" is checked against R. The CSV is committed: the tests do not depend on the demo cohort
staying the same.
"""

from __future__ import annotations

from pathlib import Path

from core import cohort
from core.dictionary import Arm, C

OUT = Path("tests") / "fixtures" / "operated"
COLUMNS = [
    C.PATIENT_ID, C.TREATMENT_GROUP, C.OS_FROM_CHEMO, C.TIME_TO_SURGERY, C.OS_FROM_SURGERY, C.OS_EVENT, C.RFS_MONTHS,
    C.RFS_EVENT, C.ADJUVANT_CHEMO, C.AGE, C.ECOG, C.METS_GROUP, C.CHEMO_REGIMEN, C.MAJOR_HEPATECTOMY, C.MARGIN,
    C.CA19_9_BASELINE, C.CA19_9_RESPONSE, C.LEWIS_NEGATIVE, C.TUMOUR_SIZE, C.LIVER_METS_VIABLE, C.YP_N,
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    d = cohort.demo().data[COLUMNS].copy()
    operated_with_ca = d.index[(d[C.TREATMENT_GROUP] == Arm.SURGERY) & d[C.CA19_9_BASELINE].notna()
                               & d[C.CA19_9_RESPONSE].notna()]
    lewis = operated_with_ca[[0, 5]]
    d.loc[lewis, C.LEWIS_NEGATIVE] = True
    d.to_csv(OUT / "cohort.csv", index=False)


if __name__ == "__main__":
    main()
