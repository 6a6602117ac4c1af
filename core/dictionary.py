"""The study's data dictionary: the one place where column names and categories are defined.

Every other module (and every page) refers to columns through :class:`C` and to category
labels through the small namespaces below (:class:`Arm`, :class:`Regimen`, ...), never through
string literals of its own.

Examples
--------
>>> from core.dictionary import C, Arm, COLUMNS_BY_NAME
>>> C.TREATMENT_GROUP
'treatment_group'
>>> COLUMNS_BY_NAME[C.TREATMENT_GROUP].categories == (Arm.SURGERY, Arm.CHEMOTHERAPY)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

DICTIONARY_VERSION = "1.1.0"

#: Dictionary versions in order; a column's ``since`` is one of them.
DICTIONARY_VERSIONS: tuple[str, ...] = ("1.0", "1.1")

#: Days per month used for every time in months (domain.md §3).
DAYS_PER_MONTH = 30.4375

#: Upper limit of normal for CA19-9 in U/mL.
CA19_9_ULN = 37.0

#: Upper limit of normal for CEA in ng/mL (the usual laboratory limit; used as the prognostic cut-off).
CEA_ULN = 5.0

Kind = Literal["text", "category", "integer", "number", "date", "boolean"]
Requirement = Literal["required", "conditional", "optional"]
Applies = Literal["both", "surgery"]


class C:
    """Column names (imported data and derived columns)."""

    # -- imported -------------------------------------------------------------------------
    PATIENT_ID = "patient_id"
    CENTRE_ID = "centre_id"
    TREATMENT_GROUP = "treatment_group"
    DIAGNOSIS_DATE = "diagnosis_date"
    AGE = "age_at_diagnosis"
    SEX = "sex"
    ECOG = "ecog_baseline"
    TUMOUR_LOCATION = "tumour_location"
    TUMOUR_SIZE = "tumour_size_mm"
    RESECTABILITY = "resectability"
    CA19_9_BASELINE = "ca19_9_baseline"
    CA19_9_RESTAGING = "ca19_9_restaging"
    LEWIS_NEGATIVE = "lewis_negative"
    CEA_BASELINE = "cea_baseline"
    LIVER_METS_N = "liver_mets_n"
    LIVER_METS_MAX = "liver_mets_max_mm"
    LIVER_METS_BILOBAR = "liver_mets_bilobar"
    CHEMO_START_DATE = "chemo_start_date"
    CHEMO_REGIMEN = "chemo_regimen"
    CHEMO_CYCLES = "chemo_cycles"
    CHEMO_SETTING = "chemo_setting"
    CHEMO_END_DATE = "chemo_end_date"
    RECIST = "recist_response"
    RESTAGING_DATE = "restaging_date"
    MDT_DATE = "mdt_decision_date"
    EXPLORATION_DATE = "exploration_date"
    SURGERY_DATE = "surgery_date"
    PANCREATIC_PROCEDURE = "pancreatic_procedure"
    VASCULAR_RESECTION = "vascular_resection"
    LIVER_PROCEDURE = "liver_procedure"
    LIVER_SEGMENTS_N = "liver_segments_n"
    LIVER_TIMING = "liver_resection_timing"
    LIVER_ABLATION = "liver_ablation"
    YP_T = "yp_t"
    YP_N = "yp_n"
    MARGIN = "resection_margin"
    LIVER_METS_VIABLE = "liver_mets_viable"
    CLAVIEN_DINDO = "clavien_dindo_90d"
    POPF = "popf_grade"
    PHLF = "phlf_grade"
    REOPERATION = "reoperation_90d"
    READMISSION = "readmission_90d"
    LENGTH_OF_STAY = "length_of_stay_days"
    ADJUVANT_CHEMO = "adjuvant_chemo"
    PROGRESSION = "progression_or_recurrence"
    PROGRESSION_DATE = "progression_or_recurrence_date"
    RECURRENCE_SITE = "recurrence_site"
    LAST_IMAGING_DATE = "last_imaging_date"
    VITAL_STATUS = "vital_status"
    DEATH_DATE = "death_date"
    LAST_FOLLOWUP_DATE = "last_followup_date"

    # -- derived by the software ----------------------------------------------------------
    SURGERY = "surgery"
    OS_EVENT = "os_event"
    OS_FROM_DIAGNOSIS = "os_months_from_diagnosis"
    OS_FROM_CHEMO = "os_months_from_chemo_start"
    OS_FROM_SURGERY = "os_months_from_surgery"
    TIME_TO_SURGERY = "months_chemo_start_to_surgery"
    TIME_DIAGNOSIS_TO_SURGERY = "months_diagnosis_to_surgery"
    RFS_MONTHS = "rfs_months"
    RFS_EVENT = "rfs_event"
    PFS_MONTHS = "pfs_months"
    PFS_EVENT = "pfs_event"
    EFS_FROM_DIAGNOSIS = "efs_months_from_diagnosis"
    EFS_FROM_CHEMO = "efs_months_from_chemo_start"
    EFS_EVENT = "efs_event"
    METS_GROUP = "mets_group"
    MAJOR_HEPATECTOMY = "major_hepatectomy"
    MAJOR_MORBIDITY = "major_morbidity"
    MAJOR_MORBIDITY_IIIB = "major_morbidity_iiib"
    CR_POPF = "cr_popf"
    MORTALITY_90D = "mortality_90d"
    CA19_9_NORMALISED = "ca19_9_normalised"
    CA19_9_RESPONSE = "ca19_9_response"
    DIAGNOSIS_YEAR = "diagnosis_year"
    EXPLORED_NOT_RESECTED = "explored_not_resected"


class Arm:
    """Labels of :attr:`C.TREATMENT_GROUP`."""

    SURGERY = "surgery"
    CHEMOTHERAPY = "chemotherapy"
    ALL = (SURGERY, CHEMOTHERAPY)


class Sex:
    FEMALE = "F"
    MALE = "M"
    ALL = (FEMALE, MALE)


class Location:
    HEAD = "head"
    BODY_TAIL = "body_tail"
    ALL = (HEAD, BODY_TAIL)


class Resectability:
    RESECTABLE = "resectable"
    BORDERLINE = "borderline"
    LOCALLY_ADVANCED = "locally_advanced"
    ALL = (RESECTABLE, BORDERLINE, LOCALLY_ADVANCED)


class Regimen:
    FOLFIRINOX = "FOLFIRINOX"
    MFOLFIRINOX = "mFOLFIRINOX"
    GEM_NABPAC = "GEM_NABPAC"
    GEM = "GEM"
    NALIRIFOX = "NALIRIFOX"
    GEMCAP = "GEMCAP"
    OTHER = "OTHER"
    ALL = (FOLFIRINOX, MFOLFIRINOX, GEM_NABPAC, GEM, NALIRIFOX, GEMCAP, OTHER)


class Setting:
    NEOADJUVANT = "neoadjuvant"
    PERIOPERATIVE = "perioperative"
    ADJUVANT_ONLY = "adjuvant_only"
    PALLIATIVE = "palliative"
    ALL = (NEOADJUVANT, PERIOPERATIVE, ADJUVANT_ONLY, PALLIATIVE)


class Recist:
    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"
    ALL = (CR, PR, SD, PD, NE)


class Pancreatic:
    PD = "PD"
    PPPD = "PPPD"
    DP = "DP"
    TP = "TP"
    ALL = (PD, PPPD, DP, TP)


class Vascular:
    ALL = ("none", "venous", "arterial", "both")


class LiverProcedure:
    WEDGE = "wedge"
    SEGMENTECTOMY = "segmentectomy"
    BISEGMENTECTOMY = "bisegmentectomy"
    SECTIONECTOMY = "sectionectomy"
    HEMIHEPATECTOMY = "hemihepatectomy"
    EXTENDED = "extended_hepatectomy"
    ALL = (WEDGE, SEGMENTECTOMY, BISEGMENTECTOMY, SECTIONECTOMY, HEMIHEPATECTOMY, EXTENDED)


class Timing:
    SIMULTANEOUS = "simultaneous"
    STAGED = "staged"
    ALL = (SIMULTANEOUS, STAGED)


class YpT:
    T0 = "T0"
    NOT_ASSESSED = "TX"
    ALL = ("T0", "Tis", "T1", "T2", "T3", "T4", "TX")


class YpN:
    N0 = "N0"
    NOT_ASSESSED = "NX"
    ALL = ("N0", "N1", "N2", "NX")


class Margin:
    R0 = "R0"
    ALL = ("R0", "R1", "R2")


class Viable:
    """Labels of :attr:`C.LIVER_METS_VIABLE`: ``no`` = no viable tumour in the resected metastases (ypM0)."""

    YES = "yes"
    NO = "no"
    NOT_ASSESSED = "not_assessed"
    ALL = (YES, NO, NOT_ASSESSED)


class ClavienDindo:
    NONE = "0"
    V = "V"
    ALL = ("0", "I", "II", "IIIa", "IIIb", "IVa", "IVb", "V")
    #: Grades counted as major morbidity (>= IIIa) and the stricter option (>= IIIb).
    MAJOR = ("IIIa", "IIIb", "IVa", "IVb", "V")
    MAJOR_IIIB = ("IIIb", "IVa", "IVb", "V")


class Popf:
    NONE = "none"
    NOT_APPLICABLE = "not_applicable"
    ALL = ("none", "BL", "B", "C", "not_applicable")
    CLINICALLY_RELEVANT = ("B", "C")


class Phlf:
    ALL = ("none", "A", "B", "C")


class RecurrenceSite:
    ALL = ("local", "liver", "lung", "peritoneum", "nodes", "multiple")


class Vital:
    ALIVE = "alive"
    DEAD = "dead"
    ALL = (ALIVE, DEAD)


class MetsGroup:
    ONE = "1"
    TWO_THREE = "2-3"
    MORE = ">3"
    ALL = (ONE, TWO_THREE, MORE)


class Oligo:
    """Subgroups of :attr:`C.LIVER_METS_N`: oligometastatic disease (OligoPanc consensus: up to 3 liver metastases)."""

    #: Largest number of liver metastases counted as oligometastatic.
    MAX_METS = 3
    OLIGO = "oligometastatic"
    MORE = "more_than_oligo"
    ALL = (OLIGO, MORE)


class ChemoDuration:
    """Subgroups of :attr:`C.TIME_TO_SURGERY`: chemotherapy start to surgery, at least 8 months or less (Ushida 2022)."""

    #: Months from chemotherapy start to surgery from which chemotherapy counts as long.
    LONG_MONTHS = 8.0
    SHORT = "short"
    LONG = "long"
    ALL = (SHORT, LONG)


class Ca19Response:
    """Subgroups of :attr:`C.CA19_9_RESPONSE`; Lewis-negative patients are not evaluable (no level)."""

    YES = "responded"
    NO = "not_responded"
    ALL = (YES, NO)


@dataclass(frozen=True)
class Column:
    """Definition of one column of the study table.

    Attributes
    ----------
    name : str
        Column name as it appears in files.
    kind : {"text", "category", "integer", "number", "date", "boolean"}
        Value type.
    requirement : {"required", "conditional", "optional"}
        Whether the column (and its values) must be present. ``conditional`` columns are
        required when they apply (see ``condition``).
    applies_to : {"both", "surgery"}
        ``surgery`` means surgery group only: the field must be empty for the chemotherapy
        group.
    meaning : str
        Plain-language description.
    unit : str
        Unit, empty when none.
    categories : tuple of str or None
        Allowed labels for ``category`` columns.
    minimum, maximum : float or None
        Allowed range for numeric columns (inclusive).
    condition : str
        When a ``conditional`` column is required.
    derived : bool
        True for columns computed by the software (never imported).
    since : str
        Dictionary version that introduced the column (one of :data:`DICTIONARY_VERSIONS`).
        Every column after 1.0 is optional, so a 1.0 file loads unchanged.
    """

    name: str
    kind: Kind
    requirement: Requirement
    applies_to: Applies
    meaning: str
    unit: str = ""
    categories: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    condition: str = ""
    derived: bool = False
    since: str = "1.0"

    def allowed(self) -> str:
        """Describe the allowed values in one plain sentence fragment.

        Examples
        --------
        >>> COLUMNS_BY_NAME["sex"].allowed()
        'one of: F, M'
        """
        if self.kind == "category" and self.categories:
            return "one of: " + ", ".join(self.categories)
        if self.kind == "boolean":
            return "true or false"
        if self.kind == "date":
            return "a date (YYYY-MM-DD)"
        if self.kind in ("integer", "number"):
            what = "a whole number" if self.kind == "integer" else "a number"
            unit = f" {self.unit}" if self.unit else ""
            if self.minimum is not None and self.maximum is not None:
                return f"{what} from {_fmt(self.minimum)} to {_fmt(self.maximum)}{unit}"
            if self.minimum is not None:
                return f"{what} of at least {_fmt(self.minimum)}{unit}"
            return what
        return "text"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _col(name: str, kind: Kind, req: Requirement, meaning: str, **kw: object) -> Column:
    applies = kw.pop("applies_to", "both")
    return Column(name=name, kind=kind, requirement=req, applies_to=applies, meaning=meaning, **kw)  # type: ignore[arg-type]


_S = {"applies_to": "surgery"}

#: The imported columns, in file order.
IMPORTED: tuple[Column, ...] = (
    _col(C.PATIENT_ID, "text", "required", "Pseudonymised patient id, unique in the file"),
    _col(C.CENTRE_ID, "text", "required", "Contributing centre"),
    _col(C.TREATMENT_GROUP, "category", "required", "Study arm", categories=Arm.ALL),
    _col(C.DIAGNOSIS_DATE, "date", "required", "Histological or cytological diagnosis"),
    _col(C.AGE, "integer", "required", "Age at diagnosis", unit="years", minimum=18, maximum=100),
    _col(C.SEX, "category", "required", "Sex", categories=Sex.ALL),
    _col(C.ECOG, "integer", "required", "ECOG performance status at diagnosis", minimum=0, maximum=4),
    _col(C.TUMOUR_LOCATION, "category", "required", "Primary tumour site", categories=Location.ALL),
    _col(C.TUMOUR_SIZE, "number", "optional", "Primary tumour size on baseline CT", unit="mm", minimum=1, maximum=200),
    _col(C.RESECTABILITY, "category", "required", "NCCN resectability at diagnosis", categories=Resectability.ALL),
    _col(C.CA19_9_BASELINE, "number", "optional", "CA19-9 before treatment (upper normal limit 37)", unit="U/mL", minimum=0),
    _col(C.CA19_9_RESTAGING, "number", "optional", "CA19-9, last value before surgery or at first restaging", unit="U/mL", minimum=0),
    _col(C.LEWIS_NEGATIVE, "boolean", "optional", "Lewis-negative (non-secretor): excluded from CA19-9 analyses"),
    _col(C.CEA_BASELINE, "number", "optional", "CEA before treatment (upper normal limit 5); also for Lewis-negative patients", unit="ng/mL", minimum=0, since="1.1"),
    _col(C.LIVER_METS_N, "integer", "required", "Number of liver metastases at diagnosis", minimum=1, maximum=50),
    _col(C.LIVER_METS_MAX, "number", "optional", "Size of the largest liver metastasis", unit="mm", minimum=1, maximum=200),
    _col(C.LIVER_METS_BILOBAR, "boolean", "optional", "Metastases in both liver lobes"),
    _col(C.CHEMO_START_DATE, "date", "required", "Start of first-line chemotherapy (on or after diagnosis)"),
    _col(C.CHEMO_REGIMEN, "category", "required", "First-line chemotherapy regimen", categories=Regimen.ALL),
    _col(C.CHEMO_CYCLES, "integer", "optional", "Number of first-line cycles", minimum=0, maximum=40),
    _col(C.CHEMO_SETTING, "category", "required", "Chemotherapy setting (palliative only for the chemotherapy group)", categories=Setting.ALL),
    _col(C.CHEMO_END_DATE, "date", "optional", "End of first-line chemotherapy (last dose; on or after its start)", since="1.1"),
    _col(C.RECIST, "category", "required", "Best response at restaging (RECIST 1.1)", categories=Recist.ALL),
    _col(C.RESTAGING_DATE, "date", "optional", "First response assessment (restaging scan) after chemotherapy start", since="1.1"),
    _col(C.MDT_DATE, "date", "optional", "Multidisciplinary team decision on resection after restaging (on or after it)", since="1.1"),
    _col(C.EXPLORATION_DATE, "date", "optional", "Laparotomy or laparoscopy with intent to resect; chemotherapy group: explored, not resected", since="1.1"),
    _col(C.SURGERY_DATE, "date", "conditional", "Date of the index operation", condition="surgery group", **_S),
    _col(C.PANCREATIC_PROCEDURE, "category", "conditional", "Pancreatic resection", categories=Pancreatic.ALL, condition="surgery group", **_S),
    _col(C.VASCULAR_RESECTION, "category", "optional", "Vascular resection", categories=Vascular.ALL, **_S),
    _col(C.LIVER_PROCEDURE, "category", "conditional", "Liver resection (Brisbane 2000 terms)", categories=LiverProcedure.ALL, condition="surgery group", **_S),
    _col(C.LIVER_SEGMENTS_N, "integer", "conditional", "Couinaud segments removed (major hepatectomy = 3 or more)", minimum=0, maximum=8, condition="surgery group", **_S),
    _col(C.LIVER_TIMING, "category", "conditional", "Liver resection simultaneous with or staged from the pancreatectomy", categories=Timing.ALL, condition="surgery group", **_S),
    _col(C.LIVER_ABLATION, "boolean", "optional", "Additional ablation", **_S),
    _col(C.YP_T, "category", "optional", "Pathological T after neoadjuvant therapy (AJCC 8th)", categories=YpT.ALL, **_S),
    _col(C.YP_N, "category", "optional", "Pathological N after neoadjuvant therapy (AJCC 8th)", categories=YpN.ALL, **_S),
    _col(C.MARGIN, "category", "optional", "Resection margin (R1 = tumour within 1 mm)", categories=Margin.ALL, **_S),
    _col(C.LIVER_METS_VIABLE, "category", "optional", "Viable tumour in the resected metastases", categories=Viable.ALL, **_S),
    _col(C.CLAVIEN_DINDO, "category", "conditional", "Worst complication within 90 days (Clavien-Dindo)", categories=ClavienDindo.ALL, condition="surgery group", **_S),
    _col(C.POPF, "category", "conditional", "Postoperative pancreatic fistula (ISGPS 2016); not_applicable after TP", categories=Popf.ALL, condition="surgery group", **_S),
    _col(C.PHLF, "category", "optional", "Post-hepatectomy liver failure (ISGLS)", categories=Phlf.ALL, **_S),
    _col(C.REOPERATION, "boolean", "optional", "Reoperation within 90 days", **_S),
    _col(C.READMISSION, "boolean", "optional", "Readmission within 90 days", **_S),
    _col(C.LENGTH_OF_STAY, "integer", "optional", "Length of hospital stay", unit="days", minimum=1, maximum=365, **_S),
    _col(C.ADJUVANT_CHEMO, "boolean", "optional", "Adjuvant chemotherapy after surgery", **_S),
    _col(C.PROGRESSION, "boolean", "required", "Recurrence after surgery, or RECIST progression without surgery"),
    _col(C.PROGRESSION_DATE, "date", "conditional", "Date of recurrence or progression", condition="progression_or_recurrence is true"),
    _col(C.RECURRENCE_SITE, "category", "optional", "Site of first recurrence or progression", categories=RecurrenceSite.ALL),
    _col(C.LAST_IMAGING_DATE, "date", "required", "Last scan without recurrence or progression (censoring date for RFS/PFS)"),
    _col(C.VITAL_STATUS, "category", "required", "Vital status at last follow-up", categories=Vital.ALL),
    _col(C.DEATH_DATE, "date", "conditional", "Date of death", condition="vital_status is dead"),
    _col(C.LAST_FOLLOWUP_DATE, "date", "required", "Last contact, or the death date"),
)

_D = {"derived": True}

#: Columns computed by :func:`core.cohort.derive`, never imported.
DERIVED: tuple[Column, ...] = (
    _col(C.SURGERY, "integer", "required", "1 for the surgery group, 0 for the chemotherapy group", minimum=0, maximum=1, **_D),
    _col(C.OS_EVENT, "integer", "required", "1 if dead, 0 if censored at last follow-up", minimum=0, maximum=1, **_D),
    _col(C.OS_FROM_DIAGNOSIS, "number", "required", "Overall survival from diagnosis", unit="months", **_D),
    _col(C.OS_FROM_CHEMO, "number", "required", "Overall survival from chemotherapy start", unit="months", **_D),
    _col(C.OS_FROM_SURGERY, "number", "conditional", "Overall survival from surgery", unit="months", condition="surgery group", applies_to="surgery", **_D),
    _col(C.TIME_TO_SURGERY, "number", "conditional", "Chemotherapy start to surgery", unit="months", condition="surgery group", applies_to="surgery", **_D),
    _col(C.TIME_DIAGNOSIS_TO_SURGERY, "number", "conditional", "Diagnosis to surgery", unit="months", condition="surgery group", applies_to="surgery", **_D),
    _col(C.RFS_MONTHS, "number", "conditional", "Recurrence-free survival from surgery (censored at last imaging)", unit="months", condition="surgery group", applies_to="surgery", **_D),
    _col(C.RFS_EVENT, "integer", "conditional", "1 if recurrence or death, else 0", condition="surgery group", applies_to="surgery", **_D),
    _col(C.PFS_MONTHS, "number", "conditional", "Progression-free survival from chemotherapy start (chemotherapy group)", unit="months", condition="chemotherapy group", **_D),
    _col(C.PFS_EVENT, "integer", "conditional", "1 if progression or death, else 0 (chemotherapy group)", condition="chemotherapy group", **_D),
    _col(C.EFS_FROM_DIAGNOSIS, "number", "required", "Event-free survival from diagnosis: progression, recurrence or death, censored at last imaging (both arms)", unit="months", **_D),
    _col(C.EFS_FROM_CHEMO, "number", "required", "Event-free survival from chemotherapy start: progression, recurrence or death, censored at last imaging (both arms)", unit="months", **_D),
    _col(C.EFS_EVENT, "integer", "required", "1 if progression, recurrence or death, else 0", minimum=0, maximum=1, **_D),
    _col(C.METS_GROUP, "category", "required", "Number of liver metastases grouped", categories=MetsGroup.ALL, **_D),
    _col(C.MAJOR_HEPATECTOMY, "boolean", "conditional", "Three or more Couinaud segments removed", condition="surgery group", applies_to="surgery", **_D),
    _col(C.MAJOR_MORBIDITY, "boolean", "conditional", "Clavien-Dindo IIIa or worse", condition="surgery group", applies_to="surgery", **_D),
    _col(C.MAJOR_MORBIDITY_IIIB, "boolean", "conditional", "Clavien-Dindo IIIb or worse", condition="surgery group", applies_to="surgery", **_D),
    _col(C.CR_POPF, "boolean", "conditional", "Clinically relevant POPF (grade B or C)", condition="surgery group, not after TP", applies_to="surgery", **_D),
    _col(C.MORTALITY_90D, "boolean", "conditional", "Death within 90 days of surgery (only with 90 days of potential follow-up)", condition="surgery group", applies_to="surgery", **_D),
    _col(C.CA19_9_NORMALISED, "boolean", "optional", "CA19-9 at restaging below 37 U/mL (not for Lewis-negative)", **_D),
    _col(C.CA19_9_RESPONSE, "boolean", "optional", "CA19-9 fell by 50% or more from baseline to restaging (not for Lewis-negative)", **_D),
    _col(C.DIAGNOSIS_YEAR, "integer", "required", "Calendar year of diagnosis", **_D),
    _col(C.EXPLORED_NOT_RESECTED, "boolean", "optional", "Explored with intent to resect but not resected: chemotherapy group with an exploration date (empty when no patient has one)", since="1.1", **_D),
)

COLUMNS: tuple[Column, ...] = IMPORTED + DERIVED
COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
IMPORTED_NAMES: tuple[str, ...] = tuple(c.name for c in IMPORTED)
REQUIRED_NAMES: tuple[str, ...] = tuple(c.name for c in IMPORTED if c.requirement == "required")
SURGERY_ONLY_NAMES: tuple[str, ...] = tuple(c.name for c in IMPORTED if c.applies_to == "surgery")
DATE_NAMES: tuple[str, ...] = tuple(c.name for c in IMPORTED if c.kind == "date")

#: Variables known before surgery: the only ones allowed in a propensity model (domain.md §5.3).
PRE_SURGERY_COVARIATES: tuple[str, ...] = (
    C.AGE, C.SEX, C.ECOG, C.TUMOUR_LOCATION, C.TUMOUR_SIZE, C.RESECTABILITY, C.CA19_9_BASELINE,
    C.CA19_9_RESTAGING, C.CA19_9_RESPONSE, C.LIVER_METS_N, C.METS_GROUP, C.LIVER_METS_MAX,
    C.LIVER_METS_BILOBAR, C.CHEMO_REGIMEN, C.RECIST, C.CENTRE_ID, C.DIAGNOSIS_YEAR,
)

#: Default propensity covariates (issue 3): age, ECOG, metastasis count, CA19-9 at baseline,
#: regimen, RECIST response, resectability.
DEFAULT_PROPENSITY_COVARIATES: tuple[str, ...] = (
    C.AGE, C.ECOG, C.LIVER_METS_N, C.CA19_9_BASELINE, C.CHEMO_REGIMEN, C.RECIST, C.RESECTABILITY,
)

#: Named propensity covariate sets the specification curve tries (core.speccurve), nested and pre-surgery only:
#: the strongest predictors of being operated; the default set; the default set plus three more.
PROPENSITY_COVARIATE_SETS: dict[str, tuple[str, ...]] = {
    "Core": (C.AGE, C.ECOG, C.LIVER_METS_N, C.RECIST),
    "Default": DEFAULT_PROPENSITY_COVARIATES,
    "Extended": (*DEFAULT_PROPENSITY_COVARIATES, C.CA19_9_RESPONSE, C.TUMOUR_LOCATION, C.SEX),
}

#: Human-readable labels for columns shown in tables and figures.
LABELS: dict[str, str] = {
    C.PATIENT_ID: "Patient",
    C.CENTRE_ID: "Centre",
    C.TREATMENT_GROUP: "Arm",
    C.AGE: "Age (years)",
    C.SEX: "Sex",
    C.ECOG: "ECOG",
    C.TUMOUR_LOCATION: "Tumour location",
    C.TUMOUR_SIZE: "Tumour size (mm)",
    C.RESECTABILITY: "Resectability",
    C.CA19_9_BASELINE: "CA19-9 baseline (U/mL)",
    C.CA19_9_RESTAGING: "CA19-9 restaging (U/mL)",
    C.LIVER_METS_N: "Liver metastases (n)",
    C.LIVER_METS_MAX: "Largest metastasis (mm)",
    C.LIVER_METS_BILOBAR: "Bilobar metastases",
    C.CHEMO_REGIMEN: "Regimen",
    C.CHEMO_CYCLES: "Chemotherapy cycles",
    C.CHEMO_SETTING: "Chemotherapy setting",
    C.RECIST: "RECIST response",
    C.PANCREATIC_PROCEDURE: "Pancreatic procedure",
    C.LIVER_PROCEDURE: "Liver procedure",
    C.LIVER_TIMING: "Liver resection timing",
    C.METS_GROUP: "Metastasis group",
    C.MAJOR_HEPATECTOMY: "Major hepatectomy",
    C.CA19_9_RESPONSE: "CA19-9 response (fall >= 50%)",
    C.CA19_9_NORMALISED: "CA19-9 normalised",
    C.DIAGNOSIS_YEAR: "Year of diagnosis",
    C.CLAVIEN_DINDO: "Clavien-Dindo (90 days)",
    C.POPF: "POPF grade",
    C.PHLF: "PHLF grade",
    C.MARGIN: "Resection margin",
    C.YP_T: "ypT",
    C.YP_N: "ypN",
    C.LIVER_METS_VIABLE: "Viable tumour in the resected liver metastases",
    C.ADJUVANT_CHEMO: "Adjuvant chemotherapy",
    C.LEWIS_NEGATIVE: "Lewis-negative",
    C.CEA_BASELINE: "CEA baseline (ng/mL)",
    C.CHEMO_END_DATE: "End of first-line chemotherapy",
    C.RESTAGING_DATE: "Restaging date",
    C.MDT_DATE: "Multidisciplinary decision date",
    C.EXPLORATION_DATE: "Exploration date",
    C.EXPLORED_NOT_RESECTED: "Explored, not resected",
}


#: Category values in words (short forms keep their meaning on hover: see :func:`value_help`).
#: "PD" is both pancreaticoduodenectomy and progressive disease: the column decides which.
VALUE_LABELS: dict[str, dict[str, str]] = {
    C.PANCREATIC_PROCEDURE: {
        Pancreatic.PD: "Pancreaticoduodenectomy (Whipple)", Pancreatic.PPPD: "Pylorus-preserving pancreaticoduodenectomy",
        Pancreatic.DP: "Distal pancreatectomy", Pancreatic.TP: "Total pancreatectomy",
    },
    C.RECIST: {
        Recist.CR: "Complete response", Recist.PR: "Partial response", Recist.SD: "Stable disease",
        Recist.PD: "Progressive disease", Recist.NE: "Not evaluable",
    },
    C.CHEMO_REGIMEN: {
        Regimen.FOLFIRINOX: "FOLFIRINOX", Regimen.MFOLFIRINOX: "Modified FOLFIRINOX",
        Regimen.GEM_NABPAC: "Gemcitabine + nab-paclitaxel", Regimen.GEM: "Gemcitabine alone",
        Regimen.NALIRIFOX: "NALIRIFOX", Regimen.GEMCAP: "Gemcitabine + capecitabine", Regimen.OTHER: "Other regimen",
    },
    C.RESECTABILITY: {
        Resectability.RESECTABLE: "Resectable", Resectability.BORDERLINE: "Borderline resectable",
        Resectability.LOCALLY_ADVANCED: "Locally advanced",
    },
    C.LIVER_PROCEDURE: {
        LiverProcedure.WEDGE: "Wedge resection", LiverProcedure.SEGMENTECTOMY: "Segmentectomy",
        LiverProcedure.BISEGMENTECTOMY: "Bisegmentectomy", LiverProcedure.SECTIONECTOMY: "Sectionectomy",
        LiverProcedure.HEMIHEPATECTOMY: "Hemihepatectomy", LiverProcedure.EXTENDED: "Extended hepatectomy",
    },
    C.LIVER_TIMING: {Timing.SIMULTANEOUS: "Simultaneous", Timing.STAGED: "Staged"},
    C.METS_GROUP: {MetsGroup.ONE: "1 metastasis", MetsGroup.TWO_THREE: "2-3 metastases",
                   MetsGroup.MORE: "More than 3 metastases"},
    C.CHEMO_SETTING: {
        Setting.NEOADJUVANT: "Neoadjuvant", Setting.PERIOPERATIVE: "Perioperative",
        Setting.ADJUVANT_ONLY: "Adjuvant only", Setting.PALLIATIVE: "Palliative",
    },
    C.TUMOUR_LOCATION: {Location.HEAD: "Head", Location.BODY_TAIL: "Body/tail"},
    # subgroup levels of numeric and yes/no columns (core.subgroups)
    C.LIVER_METS_N: {Oligo.OLIGO: f"Up to {Oligo.MAX_METS} (oligometastatic)",
                     Oligo.MORE: f"More than {Oligo.MAX_METS}"},
    C.TIME_TO_SURGERY: {ChemoDuration.SHORT: f"Under {ChemoDuration.LONG_MONTHS:g} months",
                        ChemoDuration.LONG: f"{ChemoDuration.LONG_MONTHS:g} months or more"},
    C.CA19_9_RESPONSE: {Ca19Response.YES: "Fell by 50% or more", Ca19Response.NO: "Fell by less than 50%"},
    C.SEX: {Sex.FEMALE: "Female", Sex.MALE: "Male"},
    C.TREATMENT_GROUP: {Arm.SURGERY: "Surgery", Arm.CHEMOTHERAPY: "Chemotherapy alone"},
    C.MARGIN: {"R0": "R0 (no tumour within 1 mm of the margin)", "R1": "R1 (tumour within 1 mm of the margin)",
               "R2": "R2 (macroscopic residual tumour)"},
    C.YP_T: {"T0": "ypT0 (no residual tumour)", "Tis": "ypTis", "T1": "ypT1", "T2": "ypT2", "T3": "ypT3",
             "T4": "ypT4", "TX": "ypTX (not assessable)"},
    C.YP_N: {"N0": "ypN0", "N1": "ypN1", "N2": "ypN2", "NX": "ypNX (not assessable)"},
    C.LIVER_METS_VIABLE: {Viable.NO: "ypM0 (no viable tumour)", Viable.YES: "ypM1 (viable tumour)",
                          Viable.NOT_ASSESSED: "Not assessed"},
}


def value_label(column: str, value: object) -> str:
    """A category value in words (the value itself when it has no label).

    Examples
    --------
    >>> value_label("pancreatic_procedure", "PD"), value_label("recist_response", "PD")
    ('Pancreaticoduodenectomy (Whipple)', 'Progressive disease')
    >>> value_label("centre_id", "C03")
    'C03'
    """
    return VALUE_LABELS.get(column, {}).get(str(value), str(value))


def value_help(column: str) -> str:
    """The short codes of a column with their meaning, for a hover text ('' when it has none).

    Examples
    --------
    >>> value_help("recist_response").split("; ")[0]
    'CR = Complete response'
    """
    return "; ".join(f"{code} = {words}" for code, words in VALUE_LABELS.get(column, {}).items() if code != words)


#: Other names of the imported columns met in study exports, English and Italian (the upload mapping
#: proposes a column when an export header matches one of them; case, accents, spaces, punctuation,
#: units in brackets and the words "of", "the", "di", "del", ... do not matter).
SYNONYMS: dict[str, tuple[str, ...]] = {
    C.PATIENT_ID: ("patient id", "patient", "patient number", "study id", "subject id", "record id", "record_id", "id",
                   "pt id", "codice paziente", "id paziente", "paziente", "codice", "codice studio", "numero paziente"),
    C.CENTRE_ID: ("centre", "center", "center id", "centre code", "site", "site id", "hospital", "institution",
                  "redcap_data_access_group", "data access group", "centro", "codice centro", "ospedale", "istituto"),
    C.TREATMENT_GROUP: ("group", "arm", "study arm", "study group", "treatment", "cohort", "gruppo", "braccio",
                        "gruppo di studio", "gruppo di trattamento", "trattamento"),
    C.DIAGNOSIS_DATE: ("diagnosis date", "date of diagnosis", "dx date", "date diagnosis", "data diagnosi",
                       "data di diagnosi", "data della diagnosi", "dt diagnosi"),
    C.AGE: ("age", "age at diagnosis", "age years", "eta", "età", "eta alla diagnosi", "età alla diagnosi", "eta anni"),
    C.SEX: ("gender", "sex", "sesso", "genere"),
    C.ECOG: ("ecog", "ecog ps", "ecog performance status", "performance status", "ps", "ps ecog", "ecog basale"),
    C.TUMOUR_LOCATION: ("tumour location", "tumor location", "location", "tumour site", "tumor site", "primary site",
                        "sede", "sede tumore", "sede del tumore", "sede tumore primitivo", "localizzazione",
                        "localizzazione tumore"),
    C.TUMOUR_SIZE: ("tumour size", "tumor size", "primary tumour size", "primary tumor size", "size of primary",
                    "dimensione tumore", "dimensioni tumore", "diametro tumore", "dimensione del tumore primitivo"),
    C.RESECTABILITY: ("resectability", "resectability status", "nccn resectability", "nccn", "resecabilita",
                      "resecabilità", "stato di resecabilita"),
    C.CA19_9_BASELINE: ("ca19-9", "ca 19-9", "ca19.9", "ca199", "ca19-9 baseline", "baseline ca19-9", "ca19-9 at diagnosis",
                        "ca19-9 basale", "ca 19-9 basale", "ca19-9 alla diagnosi", "ca19-9 pre"),
    C.CA19_9_RESTAGING: ("ca19-9 restaging", "restaging ca19-9", "ca19-9 after chemotherapy", "ca19-9 post",
                         "ca19-9 ristadiazione", "ca 19-9 ristadiazione", "ca19-9 post chemioterapia",
                         "ca19-9 preoperatorio"),
    C.LEWIS_NEGATIVE: ("lewis negative", "lewis", "lewis status", "non secretor", "lewis negativo"),
    C.CEA_BASELINE: ("cea", "cea baseline", "baseline cea", "cea at diagnosis", "cea pre", "carcinoembryonic antigen",
                     "cea basale", "cea alla diagnosi", "antigene carcinoembrionario"),
    C.LIVER_METS_N: ("number of liver metastases", "liver metastases", "liver mets", "n liver mets", "no of liver mets",
                     "number of metastases", "n metastasi", "numero metastasi", "numero metastasi epatiche",
                     "metastasi epatiche", "n metastasi epatiche", "nr metastasi"),
    C.LIVER_METS_MAX: ("largest liver metastasis", "largest metastasis", "max liver met size", "size of largest metastasis",
                       "diametro massimo metastasi", "dimensione massima metastasi", "metastasi maggiore",
                       "diametro metastasi maggiore"),
    C.LIVER_METS_BILOBAR: ("bilobar", "bilobar metastases", "bilobar mets", "bilobare", "bilobari", "metastasi bilobari"),
    C.CHEMO_START_DATE: ("chemotherapy start", "chemotherapy start date", "start of chemotherapy", "chemo start",
                         "date chemotherapy start", "data inizio chemioterapia", "inizio chemioterapia", "inizio chemio",
                         "data inizio ct", "data inizio chemio"),
    C.CHEMO_REGIMEN: ("regimen", "chemotherapy regimen", "chemo regimen", "first line regimen", "schema",
                      "schema chemioterapia", "regime", "regime chemioterapico", "schema chemioterapico",
                      "chemioterapia"),
    C.CHEMO_CYCLES: ("cycles", "number of cycles", "chemotherapy cycles", "n cycles", "cicli", "numero cicli", "n cicli",
                     "cicli chemioterapia"),
    C.CHEMO_SETTING: ("setting", "chemotherapy setting", "chemo setting", "intent", "setting chemioterapia",
                      "intento", "intento chemioterapia"),
    C.CHEMO_END_DATE: ("chemotherapy end", "chemotherapy end date", "end of chemotherapy", "chemo end", "chemo end date",
                       "date chemotherapy end", "last chemotherapy", "date of last chemotherapy", "fine chemioterapia",
                       "data fine chemioterapia", "data fine chemio", "data fine ct", "fine chemio"),
    C.RESTAGING_DATE: ("restaging date", "date of restaging", "restaging", "first restaging", "response assessment date",
                       "date of response assessment", "data ristadiazione", "ristadiazione", "data rivalutazione",
                       "data prima rivalutazione", "data valutazione risposta"),
    C.MDT_DATE: ("mdt date", "mdt decision date", "mdt", "tumour board date", "tumor board date", "tumour board",
                 "tumor board", "multidisciplinary decision date", "multidisciplinary meeting date",
                 "data gom", "data discussione multidisciplinare", "data mdt", "data riunione multidisciplinare",
                 "data tumor board"),
    C.EXPLORATION_DATE: ("exploration date", "date of exploration", "exploration", "surgical exploration",
                         "exploratory laparotomy date", "laparotomy date", "data esplorazione", "esplorazione chirurgica",
                         "data laparotomia", "data laparotomia esplorativa", "data laparoscopia esplorativa"),
    C.RECIST: ("recist", "recist response", "response", "best response", "radiological response", "risposta",
               "risposta recist", "miglior risposta", "risposta radiologica"),
    C.SURGERY_DATE: ("surgery date", "date of surgery", "operation date", "date of operation", "data intervento",
                     "data chirurgia", "data operazione", "data dell intervento"),
    C.PANCREATIC_PROCEDURE: ("pancreatic procedure", "pancreatic resection", "type of pancreatectomy", "pancreatectomy",
                             "procedure", "operation", "intervento", "tipo di intervento", "intervento pancreatico",
                             "tipo intervento", "tipo resezione pancreatica", "resezione pancreatica"),
    C.VASCULAR_RESECTION: ("vascular resection", "vascular", "resezione vascolare", "resezioni vascolari"),
    C.LIVER_PROCEDURE: ("liver procedure", "liver resection", "type of liver resection", "hepatectomy", "hepatic resection",
                        "resezione epatica", "tipo resezione epatica", "tipo di resezione epatica", "intervento epatico"),
    C.LIVER_SEGMENTS_N: ("liver segments", "segments", "number of segments", "segments resected", "segmenti",
                         "n segmenti", "numero segmenti", "segmenti resecati", "numero segmenti resecati"),
    C.LIVER_TIMING: ("liver resection timing", "timing", "liver timing", "timing of liver resection", "tempistica",
                     "timing resezione epatica", "tempistica resezione epatica"),
    C.LIVER_ABLATION: ("liver ablation", "ablation", "rfa", "mwa", "ablazione", "termoablazione", "ablazione epatica"),
    C.YP_T: ("ypt", "yp t", "pathological t", "t patologico", "pt"),
    C.YP_N: ("ypn", "yp n", "pathological n", "n patologico", "pn"),
    C.MARGIN: ("resection margin", "margin", "margin status", "r status", "margine", "margine di resezione",
               "margini", "radicalita"),
    C.LIVER_METS_VIABLE: ("viable tumour in metastases", "viable tumor in metastases", "viable metastases",
                          "liver mets viable", "metastasi vitali", "tumore vitale nelle metastasi", "vitalita metastasi"),
    C.CLAVIEN_DINDO: ("clavien-dindo", "clavien dindo", "clavien", "clavien-dindo 90 days", "complications",
                      "clavien-dindo grade", "complicanze", "complicanze clavien-dindo", "grado clavien-dindo"),
    C.POPF: ("popf", "pancreatic fistula", "postoperative pancreatic fistula", "popf grade", "fistola pancreatica",
             "fistola", "grado fistola"),
    C.PHLF: ("phlf", "liver failure", "post-hepatectomy liver failure", "phlf grade", "insufficienza epatica",
             "insufficienza epatica post-epatectomia"),
    C.REOPERATION: ("reoperation", "re-operation", "reoperation 90 days", "reintervento", "re-intervento",
                    "reintervento 90 giorni"),
    C.READMISSION: ("readmission", "readmission 90 days", "riammissione", "riammissione 90 giorni", "riospedalizzazione"),
    C.LENGTH_OF_STAY: ("length of stay", "los", "hospital stay", "length of hospital stay", "degenza", "giorni di degenza",
                       "durata degenza", "degenza postoperatoria"),
    C.ADJUVANT_CHEMO: ("adjuvant chemotherapy", "adjuvant", "adjuvant chemo", "chemioterapia adiuvante", "adiuvante"),
    C.PROGRESSION: ("progression or recurrence", "progression", "recurrence", "relapse", "recidiva", "progressione",
                    "recidiva o progressione", "recidiva progressione"),
    C.PROGRESSION_DATE: ("progression date", "recurrence date", "date of progression", "date of recurrence",
                         "date of progression or recurrence", "relapse date", "data recidiva", "data progressione",
                         "data recidiva o progressione", "data di recidiva", "data recidiva progressione"),
    C.RECURRENCE_SITE: ("recurrence site", "site of recurrence", "site of progression", "relapse site", "sede recidiva",
                        "sede della recidiva", "sede di recidiva", "sede progressione"),
    C.LAST_IMAGING_DATE: ("last imaging", "last imaging date", "date of last imaging", "last ct", "last scan",
                          "data ultimo imaging", "ultimo imaging", "data ultima tc", "ultima tc", "data ultima imaging"),
    C.VITAL_STATUS: ("vital status", "status", "alive or dead", "stato", "stato in vita", "stato vitale", "vivo morto",
                     "stato al follow up", "status at last follow up"),
    C.DEATH_DATE: ("death date", "date of death", "dod", "data decesso", "data del decesso", "data di morte",
                   "data exitus", "data morte"),
    C.LAST_FOLLOWUP_DATE: ("last follow-up", "last follow up", "last followup", "date of last follow-up",
                           "last follow-up date", "last contact", "data ultimo follow-up", "ultimo follow-up",
                           "data ultimo fu", "data ultimo contatto", "data ultimo controllo"),
}

#: Other spellings of category labels met in study exports (English and Italian), per column:
#: label -> synonyms. The upload mapping proposes the label for a code that matches one of them.
VALUE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    C.TREATMENT_GROUP: {
        Arm.SURGERY: ("surgical", "operated", "resected", "resection", "surgery group", "chirurgia", "chirurgico",
                      "operato", "operata", "resecato", "resecata", "resezione", "gruppo chirurgico"),
        Arm.CHEMOTHERAPY: ("chemo", "chemo only", "chemotherapy only", "chemotherapy alone", "not operated",
                           "not resected", "non-operated", "control", "chemioterapia", "chemio", "solo chemioterapia",
                           "non operato", "non operata", "controllo", "ct"),
    },
    C.SEX: {
        Sex.FEMALE: ("female", "woman", "femmina", "donna", "femminile"),
        Sex.MALE: ("male", "man", "maschio", "uomo", "maschile"),
    },
    C.TUMOUR_LOCATION: {
        Location.HEAD: ("pancreatic head", "head/uncinate", "uncinate process", "uncinate", "testa", "testa del pancreas",
                        "cefalico", "cefalica", "testa pancreatica", "processo uncinato"),
        Location.BODY_TAIL: ("body", "tail", "body/tail", "body and tail", "body-tail", "corpo", "coda", "corpo-coda",
                             "corpo coda", "corpo/coda", "corpo e coda"),
    },
    C.RESECTABILITY: {
        Resectability.RESECTABLE: ("r", "resecabile", "upfront resectable"),
        Resectability.BORDERLINE: ("br", "brpc", "borderline resectable", "borderline resecabile"),
        Resectability.LOCALLY_ADVANCED: ("la", "lapc", "locally advanced", "localmente avanzato", "non resecabile"),
    },
    C.CHEMO_REGIMEN: {
        Regimen.FOLFIRINOX: ("ffx", "folfirinox full dose"),
        Regimen.MFOLFIRINOX: ("mffx", "modified folfirinox", "folfirinox modificato", "m-folfirinox"),
        Regimen.GEM_NABPAC: ("gemcitabine + nab-paclitaxel", "gemcitabine nab-paclitaxel", "gemcitabine/nab-paclitaxel",
                             "nab-paclitaxel + gemcitabine", "gem-nab", "gem/nab", "gemnab", "gem nab-paclitaxel",
                             "gemcitabina + nab-paclitaxel", "gemcitabina nab-paclitaxel", "gemcitabina/nab-paclitaxel"),
        Regimen.GEM: ("gemcitabine", "gemcitabine alone", "gemcitabine monotherapy", "gemcitabina",
                      "gemcitabina monoterapia"),
        Regimen.NALIRIFOX: ("nal-irifox",),
        Regimen.GEMCAP: ("gemcitabine + capecitabine", "gemcitabine capecitabine", "gem-cap", "gem/cap",
                         "gemcitabina + capecitabina", "gemcitabina capecitabina"),
        Regimen.OTHER: ("altro", "other regimen", "altra"),
    },
    C.CHEMO_SETTING: {
        Setting.NEOADJUVANT: ("neo-adjuvant", "preoperative", "neoadiuvante", "preoperatoria"),
        Setting.PERIOPERATIVE: ("peri-operative", "perioperatoria", "perioperatorio"),
        Setting.ADJUVANT_ONLY: ("adjuvant", "adjuvant only", "postoperative only", "adiuvante", "solo adiuvante"),
        Setting.PALLIATIVE: ("palliation", "palliativa", "palliativo", "first-line palliative"),
    },
    C.RECIST: {
        Recist.CR: ("complete response", "risposta completa"),
        Recist.PR: ("partial response", "risposta parziale"),
        Recist.SD: ("stable disease", "stable", "malattia stabile", "stabile", "stazionaria"),
        Recist.PD: ("progressive disease", "progression", "progressione", "malattia in progressione"),
        Recist.NE: ("not evaluable", "non valutabile", "nv"),
    },
    C.PANCREATIC_PROCEDURE: {
        Pancreatic.PD: ("whipple", "classic whipple", "pancreaticoduodenectomy", "pancreatoduodenectomy",
                        "duodenocefalopancreasectomia", "dcp", "duodenopancreasectomia cefalica"),
        Pancreatic.PPPD: ("pylorus-preserving pancreaticoduodenectomy", "pylorus preserving whipple", "pylorus-preserving",
                          "traverso", "traverso-longmire", "dcp con conservazione del piloro", "dcp-pp"),
        Pancreatic.DP: ("distal pancreatectomy", "left pancreatectomy", "distal splenopancreatectomy",
                        "pancreasectomia distale", "splenopancreasectomia distale", "splenopancreasectomia",
                        "pancreasectomia sinistra"),
        Pancreatic.TP: ("total pancreatectomy", "pancreasectomia totale", "duodenopancreasectomia totale"),
    },
    C.VASCULAR_RESECTION: {
        "none": ("no", "nessuna", "nessuno", "assente"),
        "venous": ("vein", "venous resection", "portal vein", "pv/smv", "venosa", "vena porta"),
        "arterial": ("artery", "arterial resection", "arteriosa"),
        "both": ("venous and arterial", "arterial and venous", "venosa e arteriosa", "artero-venosa", "entrambe"),
    },
    C.LIVER_PROCEDURE: {
        LiverProcedure.WEDGE: ("wedge resection", "atypical resection", "non-anatomical resection", "metastasectomy",
                               "resezione atipica", "resezione non anatomica", "metastasectomia"),
        LiverProcedure.SEGMENTECTOMY: ("segmentectomia", "anatomical segmentectomy"),
        LiverProcedure.BISEGMENTECTOMY: ("bisegmentectomia",),
        LiverProcedure.SECTIONECTOMY: ("sectorectomy", "sectionectomia", "settoriectomia", "sezionectomia"),
        LiverProcedure.HEMIHEPATECTOMY: ("right hepatectomy", "left hepatectomy", "emiepatectomia", "epatectomia destra",
                                         "epatectomia sinistra"),
        LiverProcedure.EXTENDED: ("extended hepatectomy", "trisectionectomy", "trisegmentectomy",
                                  "epatectomia allargata", "trisettoriectomia", "trisegmentectomia"),
    },
    C.LIVER_TIMING: {
        Timing.SIMULTANEOUS: ("synchronous", "combined", "one-stage", "simultanea", "sincrona", "contestuale"),
        Timing.STAGED: ("two-stage", "sequential", "differita", "in due tempi", "sequenziale"),
    },
    C.YP_T: {t: ("yp" + t, "p" + t) for t in YpT.ALL},
    C.YP_N: {n: ("yp" + n, "p" + n) for n in YpN.ALL},
    C.MARGIN: {"R0": ("negative margin", "margine negativo"), "R1": ("positive margin", "margine positivo"),
               "R2": ("macroscopic residual", "residuo macroscopico")},
    C.LIVER_METS_VIABLE: {
        "yes": ("viable", "si", "sì", "vitale", "present", "presente"),
        "no": ("not viable", "non vitale", "complete pathological response", "absent", "assente"),
        "not_assessed": ("not assessed", "non valutato", "non valutata"),
    },
    C.CLAVIEN_DINDO: {
        **{grade: (arabic, "grade " + grade, "grado " + grade, "grade " + arabic, "grado " + arabic)
           for grade, arabic in zip(ClavienDindo.ALL, ("0", "1", "2", "3a", "3b", "4a", "4b", "5"), strict=True)},
        ClavienDindo.NONE: ("none", "no complications", "nessuna", "nessuna complicanza", "grade 0", "grado 0"),
    },
    C.POPF: {
        "none": ("no", "no fistula", "assente", "nessuna", "0"),
        "BL": ("biochemical leak", "leak biochimico", "grade a", "grado a", "a"),
        "B": ("grade b", "grado b"),
        "C": ("grade c", "grado c"),
        "not_applicable": ("not applicable", "non applicabile"),
    },
    C.PHLF: {
        "none": ("no", "assente", "nessuna", "0"),
        "A": ("grade a", "grado a"),
        "B": ("grade b", "grado b"),
        "C": ("grade c", "grado c"),
    },
    C.RECURRENCE_SITE: {
        "local": ("locoregional", "pancreatic bed", "locale", "loco-regionale", "loggia pancreatica"),
        "liver": ("hepatic", "fegato", "epatica", "epatico"),
        "lung": ("pulmonary", "polmone", "polmonare"),
        "peritoneum": ("peritoneal", "carcinomatosis", "peritoneo", "peritoneale", "carcinosi peritoneale"),
        "nodes": ("lymph nodes", "nodal", "linfonodi", "linfonodale"),
        "multiple": ("multiple sites", "multiorgan", "multipla", "multiple sedi", "multiorgano"),
    },
    C.VITAL_STATUS: {
        Vital.ALIVE: ("living", "vivo", "viva", "in vita", "vivente"),
        Vital.DEAD: ("deceased", "died", "death", "morto", "morta", "deceduto", "deceduta", "exitus"),
    },
}

#: Other spellings of yes/no met in exports (REDCap labels export, Italian forms), beyond those the
#: loader reads itself (``core.cohort.TRUE_TOKENS``/``FALSE_TOKENS``).
BOOLEAN_SYNONYMS: dict[bool, tuple[str, ...]] = {
    True: ("checked", "present", "positive", "done", "presente", "positivo", "positiva", "eseguito", "eseguita"),
    False: ("unchecked", "absent", "negative", "not done", "assente", "negativo", "negativa", "non eseguito",
            "non eseguita"),
}


def label(name: str) -> str:
    """Return the display label of a column (its name when it has none).

    Examples
    --------
    >>> label("age_at_diagnosis")
    'Age (years)'
    """
    return LABELS.get(name, name.replace("_", " ").capitalize())


def dictionary_frame() -> pd.DataFrame:
    """The dictionary as a table, one row per column (for display and CSV download).

    Examples
    --------
    >>> df = dictionary_frame()
    >>> df.loc[df["column"] == "sex", "allowed"].item()
    'one of: F, M'
    """
    rows = []
    for c in COLUMNS:
        rows.append(
            {
                "column": c.name,
                "type": c.kind,
                "allowed": c.allowed(),
                "unit": c.unit,
                "required": c.requirement + (f" ({c.condition})" if c.condition else ""),
                "arm": "surgery only" if c.applies_to == "surgery" else "both",
                "derived": "derived by the software" if c.derived else "imported",
                "since": c.since,
                "meaning": c.meaning,
            }
        )
    return pd.DataFrame(rows)


#: Title of the migration section (``data/DICTIONARY.md`` and the Dictionary page).
MIGRATION_TITLE = "Version 1.1 and migration from 1.0"


def migration_note() -> str:
    """What dictionary 1.1 adds and why a 1.0 file needs no change, as Markdown (without its title).

    Examples
    --------
    >>> "A 1.0 file loads unchanged" in migration_note()
    True
    """
    return "\n".join(_migration_lines()[2:]).strip()


def _migration_lines() -> list[str]:
    """The section :data:`MIGRATION_TITLE` of ``data/DICTIONARY.md``."""
    new = [c for c in IMPORTED if c.since == "1.1"]
    return [
        f"## {MIGRATION_TITLE}",
        "",
        "Version 1.1 adds " + str(len(new)) + " optional columns, for both arms, so that a design can be aligned to the "
        "moment the surgical decision is made:",
        "",
        *[f"- `{c.name}`: {c.meaning}" + (f" ({c.unit})" if c.unit else "") + "." for c in new],
        "",
        "and the derived column `" + C.EXPLORED_NOT_RESECTED + "`: a chemotherapy-group patient with an exploration date "
        "was explored with intent to resect but not resected (a surgery-group patient was resected; empty for "
        "everyone when no patient has an exploration date). A target-trial strategy \"resect\" counts these patients "
        "as following it: the intention was to resect.",
        "",
        "Rules on the new dates (each problem is reported with its row): diagnosis <= chemotherapy start <= restaging "
        "<= multidisciplinary decision; exploration after chemotherapy start (except adjuvant-only surgery) and, in "
        "the surgery group, on or before the operation; end of chemotherapy on or after its start; every new date on "
        "or before the last follow-up. A missing date is never checked.",
        "",
        "Migration: nothing to do. A 1.0 file loads unchanged: the new columns are optional and may be absent or "
        "empty. Its hash (provenance, shared links) is the one it had under 1.0: the hash serialises the 1.0 "
        "columns and, of the 1.1 columns, only those with at least one value. To use the new columns, add them "
        "(any order; the names above or those below) and fill what is known.",
        "",
        "CEA is not a CA19-9 analysis: Lewis-negative patients keep their CEA. Their CA19-9 is missing in the "
        "prognostic model of the operated; the propensity model of the between-arm comparison still reads it as "
        "recorded (changing that moves the demo's naive-method estimate, so it is left for a separate decision).",
        "",
    ]


def dictionary_markdown() -> str:
    """Render the dictionary as a Markdown document (``data/DICTIONARY.md`` is this text).

    Examples
    --------
    >>> dictionary_markdown().startswith("# Data dictionary")
    True
    """
    df = dictionary_frame()
    lines = [
        f"# Data dictionary (version {DICTIONARY_VERSION})",
        "",
        "One row per patient. Dates ISO-8601 (YYYY-MM-DD; Excel dates and DD/MM/YYYY are also read).",
        "Columns marked *surgery only* must be empty for the chemotherapy group. Derived columns are",
        f"computed by the software and never imported; months = days / {DAYS_PER_MONTH}.",
        "",
        "Generated from `core/dictionary.py` by `python -m core.dictionary`; a test checks it is current.",
        "",
    ]
    for section, derived in (("Imported columns", "imported"), ("Derived columns", "derived by the software")):
        lines += [f"## {section}", "", "| column | type | allowed | unit | required | arm | since | meaning |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in df[df["derived"] == derived].itertuples():
            lines.append(f"| `{r.column}` | {r.type} | {r.allowed} | {r.unit} | {r.required} | {r.arm} | {r.since} | {r.meaning} |")
        lines.append("")
    lines += _migration_lines()
    lines += [
        "## Other names recognised on upload",
        "",
        "An export with other column names or codes is mapped on upload (Data page): a header or code that matches",
        "one of these (case, accents, spaces, punctuation and units in brackets do not matter) is proposed, and the",
        "user confirms or changes every proposal. Yes/no columns also read "
        + ", ".join(BOOLEAN_SYNONYMS[True]) + " (yes) and " + ", ".join(BOOLEAN_SYNONYMS[False]) + " (no).",
        "",
        "| column | other column names | other codes |",
        "|---|---|---|",
    ]
    for c in IMPORTED:
        codes = "; ".join(f"{lab}: {', '.join(syn)}" for lab, syn in VALUE_SYNONYMS.get(c.name, {}).items() if syn)
        lines.append(f"| `{c.name}` | {', '.join(SYNONYMS.get(c.name, ()))} | {codes} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - regenerates data/DICTIONARY.md
    from pathlib import Path

    Path(__file__).resolve().parent.parent.joinpath("data", "DICTIONARY.md").write_text(dictionary_markdown() + "\n")
