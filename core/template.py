"""The data-collection template: an Excel workbook a centre fills in and uploads as it is.

One sheet per section of the study form (:data:`SECTIONS`), every column of the data dictionary
once, a dropdown list for every category (and yes/no) column, range checks for numbers and dates,
a sheet explaining each column (from ``core.dictionary``) and two example patients (one per arm).
Every section sheet keeps one patient per row, in the same rows as the sheet ``Patient``; its
first column shows the patient id of that row (a formula). :func:`combine_sections` joins the
sheets back into one table when the workbook is uploaded (``core.readers`` calls it).

Examples
--------
>>> from core.cohort import load
>>> cohort = load(template_xlsx(), filename="template.xlsx")
>>> cohort.n_surgery, cohort.n_chemotherapy
(1, 1)
"""

from __future__ import annotations

import datetime as _dt
import io

import numpy as np
import pandas as pd

from core.dictionary import (
    COLUMNS_BY_NAME,
    DICTIONARY_VERSION,
    IMPORTED,
    IMPORTED_NAMES,
    Arm,
    C,
    Column,
    LiverProcedure,
    Location,
    Pancreatic,
    Recist,
    Regimen,
    Resectability,
    Setting,
    Sex,
    Timing,
    Vital,
    dictionary_frame,
)

__all__ = ["EXAMPLES", "EXAMPLE_PREFIX", "SECTIONS", "SECTION_TITLES", "combine_sections", "is_template",
           "template_xlsx"]

#: Sheets of the template: title and the dictionary columns on it (each sheet starts with patient_id).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Patient", (C.PATIENT_ID, C.CENTRE_ID, C.TREATMENT_GROUP, C.DIAGNOSIS_DATE, C.AGE, C.SEX, C.ECOG)),
    ("Disease", (C.TUMOUR_LOCATION, C.TUMOUR_SIZE, C.RESECTABILITY, C.CA19_9_BASELINE, C.CA19_9_RESTAGING,
                 C.LEWIS_NEGATIVE, C.CEA_BASELINE, C.LIVER_METS_N, C.LIVER_METS_MAX, C.LIVER_METS_BILOBAR)),
    ("Chemotherapy", (C.CHEMO_START_DATE, C.CHEMO_REGIMEN, C.CHEMO_CYCLES, C.CHEMO_SETTING, C.CHEMO_END_DATE, C.RECIST,
                      C.RESTAGING_DATE, C.MDT_DATE, C.EXPLORATION_DATE)),
    ("Surgery", (C.SURGERY_DATE, C.PANCREATIC_PROCEDURE, C.VASCULAR_RESECTION, C.LIVER_PROCEDURE, C.LIVER_SEGMENTS_N,
                 C.LIVER_TIMING, C.LIVER_ABLATION)),
    ("Pathology", (C.YP_T, C.YP_N, C.MARGIN, C.LIVER_METS_VIABLE)),
    ("After surgery", (C.CLAVIEN_DINDO, C.POPF, C.PHLF, C.REOPERATION, C.READMISSION, C.LENGTH_OF_STAY,
                       C.ADJUVANT_CHEMO)),
    ("Follow-up", (C.PROGRESSION, C.PROGRESSION_DATE, C.RECURRENCE_SITE, C.LAST_IMAGING_DATE, C.VITAL_STATUS,
                   C.DEATH_DATE, C.LAST_FOLLOWUP_DATE)),
)
SECTION_TITLES: tuple[str, ...] = tuple(title for title, _ in SECTIONS)
SECTION_OF: dict[str, str] = {name: title for title, names in SECTIONS for name in names}

#: Rows with dropdowns and checks (the study has about 90 patients).
TEMPLATE_ROWS = 500

#: Patient ids of the example rows start with this.
EXAMPLE_PREFIX = "EXAMPLE-"

_YES, _NO = "yes", "no"

#: The example patients written in rows 2 and 3 (values as a person types them).
EXAMPLES: tuple[dict[str, object], ...] = (
    {
        C.PATIENT_ID: EXAMPLE_PREFIX + "1", C.CENTRE_ID: "MOD", C.TREATMENT_GROUP: Arm.SURGERY,
        C.DIAGNOSIS_DATE: _dt.date(2021, 3, 25), C.AGE: 61, C.SEX: Sex.MALE, C.ECOG: 0,
        C.TUMOUR_LOCATION: Location.HEAD, C.TUMOUR_SIZE: 32, C.RESECTABILITY: Resectability.BORDERLINE,
        C.CA19_9_BASELINE: 412.5, C.CA19_9_RESTAGING: 35.2, C.LEWIS_NEGATIVE: _NO, C.CEA_BASELINE: 6.8, C.LIVER_METS_N: 2,
        C.LIVER_METS_MAX: 14, C.LIVER_METS_BILOBAR: _NO,
        C.CHEMO_START_DATE: _dt.date(2021, 4, 6), C.CHEMO_REGIMEN: Regimen.MFOLFIRINOX, C.CHEMO_CYCLES: 8,
        C.CHEMO_SETTING: Setting.NEOADJUVANT, C.CHEMO_END_DATE: _dt.date(2021, 8, 10), C.RECIST: Recist.PR,
        C.RESTAGING_DATE: _dt.date(2021, 7, 5), C.MDT_DATE: _dt.date(2021, 7, 14), C.EXPLORATION_DATE: _dt.date(2021, 9, 14),
        C.SURGERY_DATE: _dt.date(2021, 9, 14), C.PANCREATIC_PROCEDURE: Pancreatic.PD, C.VASCULAR_RESECTION: "venous",
        C.LIVER_PROCEDURE: LiverProcedure.WEDGE, C.LIVER_SEGMENTS_N: 1, C.LIVER_TIMING: Timing.SIMULTANEOUS,
        C.LIVER_ABLATION: _NO, C.YP_T: "T2", C.YP_N: "N1", C.MARGIN: "R0", C.LIVER_METS_VIABLE: "yes",
        C.CLAVIEN_DINDO: "II", C.POPF: "B", C.PHLF: "none", C.REOPERATION: _NO, C.READMISSION: _YES,
        C.LENGTH_OF_STAY: 16, C.ADJUVANT_CHEMO: _YES,
        C.PROGRESSION: _YES, C.PROGRESSION_DATE: _dt.date(2022, 6, 30), C.RECURRENCE_SITE: "liver",
        C.LAST_IMAGING_DATE: _dt.date(2022, 3, 28), C.VITAL_STATUS: Vital.DEAD, C.DEATH_DATE: _dt.date(2023, 1, 12),
        C.LAST_FOLLOWUP_DATE: _dt.date(2023, 1, 12),
    },
    {
        C.PATIENT_ID: EXAMPLE_PREFIX + "2", C.CENTRE_ID: "MOD", C.TREATMENT_GROUP: Arm.CHEMOTHERAPY,
        C.DIAGNOSIS_DATE: _dt.date(2021, 5, 4), C.AGE: 72, C.SEX: Sex.FEMALE, C.ECOG: 2,
        C.TUMOUR_LOCATION: Location.HEAD, C.TUMOUR_SIZE: 35, C.RESECTABILITY: Resectability.RESECTABLE,
        C.CA19_9_BASELINE: 95, C.CEA_BASELINE: 3.1, C.LIVER_METS_N: 3, C.LIVER_METS_MAX: 18, C.LIVER_METS_BILOBAR: _YES,
        C.CHEMO_START_DATE: _dt.date(2021, 5, 18), C.CHEMO_REGIMEN: Regimen.GEM, C.CHEMO_CYCLES: 4,
        C.CHEMO_SETTING: Setting.PALLIATIVE, C.CHEMO_END_DATE: _dt.date(2021, 7, 27), C.RECIST: Recist.PD,
        C.RESTAGING_DATE: _dt.date(2021, 7, 28), C.MDT_DATE: _dt.date(2021, 8, 4),
        C.PROGRESSION: _YES, C.PROGRESSION_DATE: _dt.date(2021, 8, 2), C.RECURRENCE_SITE: "liver",
        C.LAST_IMAGING_DATE: _dt.date(2021, 7, 1), C.VITAL_STATUS: Vital.DEAD, C.DEATH_DATE: _dt.date(2021, 11, 9),
        C.LAST_FOLLOWUP_DATE: _dt.date(2021, 11, 9),
    },
)

_README = (
    "PDAC liver-metastasis study (NCT06980792): data-collection template",
    f"Data dictionary version {DICTIONARY_VERSION}.",
    "",
    "How to fill it in",
    "1. One row per patient. Every sheet (Patient, Disease, Chemotherapy, Surgery, Pathology, After surgery, "
    "Follow-up) keeps each patient in the same row as on the sheet 'Patient'; the first column of the other sheets "
    "shows that patient's id by itself.",
    "2. Rows 2 and 3 are example patients (ids EXAMPLE-1 and EXAMPLE-2, in grey): overwrite or delete them.",
    "3. Category and yes/no columns have a dropdown list; numbers and dates are checked against their allowed range. "
    "Hover over a cell for what to enter.",
    "4. Dates: enter them as dates (Excel shows them as YYYY-MM-DD).",
    "5. Columns of the sheets Surgery, Pathology and After surgery are for the surgery group only: leave them empty "
    "for the chemotherapy group.",
    "   The restaging, decision and exploration dates (sheet Chemotherapy) are for both groups: a chemotherapy-group "
    "patient with an exploration date was explored with intent to resect but not resected.",
    "6. The sheet 'Columns' explains every column: type, allowed values, unit, when it is required, meaning.",
    "7. Upload the workbook as it is on the Data page of the explorer: the sheets are joined back into one table "
    "and every problem is listed by sheet row.",
    "",
    "Do not enter names, dates of birth, addresses or hospital record numbers: use the study's pseudonymised ids.",
)


def is_template(sheet_names: list[str] | tuple[str, ...]) -> bool:
    """Whether a workbook with these sheet names is the data-collection template.

    Examples
    --------
    >>> is_template(["Read me", *SECTION_TITLES, "Columns"]), is_template(["Sheet1"])
    (True, False)
    """
    return all(title in sheet_names for title in SECTION_TITLES)


# ------------------------------------------------------------------------------------------
# reading


def _is_id_header(cell: str | None) -> bool:
    return cell is not None and cell.strip().lower().replace(" ", "_") == C.PATIENT_ID


def _filled(cell: str | None) -> bool:
    return cell is not None and cell.strip() != ""


def combine_sections(sheets: dict[str, list[tuple[int, list[str | None]]]]) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Join the section sheets of a filled template into one table, row by row.

    Parameters
    ----------
    sheets : dict
        Sheet title -> its non-empty rows as ``(sheet row number, text cells)``; row 1 is the header.

    Returns
    -------
    frame : pandas.DataFrame
        The columns of every section sheet (the patient id once), one row per sheet row used on any sheet.
    rows : numpy.ndarray
        The sheet row number of each frame row (the same on every sheet).
    notes : list of str

    Raises
    ------
    CohortValidationError
        When a sheet has no header, or a sheet shows another patient id than the sheet 'Patient' in the same row.

    Examples
    --------
    >>> frame, rows, _ = combine_sections({"Patient": [(1, ["patient_id", "sex"]), (2, ["P1", "F"])],
    ...                                    "Disease": [(1, ["patient_id", "liver_mets_n"]), (2, [None, "3"])]})
    >>> frame.to_dict("list"), rows.tolist()
    ({'patient_id': ['P1'], 'sex': ['F'], 'liver_mets_n': ['3']}, [2])
    """
    from core.readers import CohortValidationError, Problem  # lazily: core.readers imports this module

    first = SECTION_TITLES[0]
    problems: list[Problem] = []
    names: list[str | None] = []
    parts: list[tuple[str, dict[int, list[str | None]], list[int], int | None]] = []
    for title in SECTION_TITLES:
        rows = sheets.get(title, [])
        if not rows or rows[0][0] != 1:
            if rows:
                problems.append(Problem(None, None, None, f"The sheet '{title}' of the template has no header in row 1."))
            continue
        width = max(len(cells) for _, cells in rows)
        header = list(rows[0][1]) + [None] * (width - len(rows[0][1]))
        body = {r: list(cells) + [None] * (width - len(cells)) for r, cells in rows[1:]}
        id_at = next((i for i, h in enumerate(header) if _is_id_header(h)), None)
        cols = [i for i in range(width) if not (title != first and i == id_at)]
        names += [header[i] for i in cols]
        parts.append((title, body, cols, id_at))
    if problems:
        raise CohortValidationError(problems)
    main = next((p for p in parts if p[0] == first), None)
    main_id = main[3] if main else None
    used = sorted({r for title, body, cols, _ in parts for r, cells in body.items()
                   if any(_filled(cells[i]) for i in cols)})
    for title, body, _, id_at in parts:
        if title == first or id_at is None:
            continue
        for r, cells in body.items():
            shown = cells[id_at]
            if not _filled(shown):
                continue
            own = main[1].get(r, [])[main_id] if main and main_id is not None and r in main[1] else None
            if not _filled(own) or str(own).strip() != str(shown).strip():
                problems.append(Problem(r, C.PATIENT_ID, str(shown),
                                        f"The sheet '{title}' shows patient '{shown}' in this row but the sheet "
                                        f"'{first}' has '{own or ''}': keep every patient in the same row on every "
                                        "sheet."))
    if problems:
        raise CohortValidationError(problems)
    table = [[(body.get(r) or [None] * (max(cols, default=-1) + 1))[i] for _, body, cols, _ in parts for i in cols]
             for r in used]
    frame = pd.DataFrame(table, columns=range(len(names)), dtype=object) if table else \
        pd.DataFrame(columns=range(len(names)), dtype=object)
    frame.columns = [n if n is not None else "" for n in names]
    notes = [f"The workbook is the study's data-collection template: its sheets {', '.join(SECTION_TITLES)} were "
             "joined row by row (row numbers are the same on every sheet)."]
    if main is not None and main_id is not None:
        examples = sorted({str(cells[main_id]).strip() for r, cells in main[1].items()
                           if _filled(cells[main_id]) and str(cells[main_id]).strip().startswith(EXAMPLE_PREFIX)})
        if examples:
            notes.append(f"The workbook still holds the template's example patients ({', '.join(examples)}): delete "
                         "their rows before analysing real data.")
    return frame, np.asarray(used, dtype=np.int64), notes


# ------------------------------------------------------------------------------------------
# writing


def _prompt(c: Column) -> str:
    need = {"required": "Required.", "optional": "Optional."}.get(c.requirement, f"Required for the {c.condition}.")
    arm = " Surgery group only: leave empty for the chemotherapy group." if c.applies_to == "surgery" else ""
    allowed = "yes or no" if c.kind == "boolean" else c.allowed()
    return f"{c.meaning}. Allowed: {allowed}. {need}{arm}"[:255]


def _list_values(c: Column) -> tuple[str, ...]:
    return (_YES, _NO) if c.kind == "boolean" else tuple(c.categories or ())


def template_xlsx() -> bytes:
    """The data-collection template as ``.xlsx`` bytes.

    Returns
    -------
    bytes
        A workbook with the sheets ``Read me``, one per section (:data:`SECTION_TITLES`), ``Columns``
        and a hidden ``Lists`` (the dropdown values).

    Examples
    --------
    >>> import openpyxl
    >>> wb = openpyxl.load_workbook(io.BytesIO(template_xlsx()))
    >>> wb.sheetnames[:3], wb["Patient"]["A1"].value, wb["Lists"].sheet_state
    (['Read me', 'Patient', 'Disease'], 'patient_id', 'hidden')
    """
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    readme = wb.active
    readme.title = "Read me"
    for i, line in enumerate(_README, start=1):
        cell = readme.cell(row=i, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if i == 1 or line == "How to fill it in":
            cell.font = Font(bold=True, size=14 if i == 1 else 12)
        elif len(line) > 110:  # wrapped: give the row the height of its lines
            readme.row_dimensions[i].height = 15 * (len(line) // 110 + 1)
    readme.column_dimensions["A"].width = 120

    lists = wb.create_sheet("Lists")
    list_ref: dict[str, str] = {}
    list_cols = [c for c in IMPORTED if c.kind in ("category", "boolean")]
    for j, c in enumerate(list_cols, start=1):
        letter = get_column_letter(j)
        values = _list_values(c)
        lists.cell(row=1, column=j, value=c.name).font = Font(bold=True)
        for i, v in enumerate(values, start=2):
            lists.cell(row=i, column=j, value=v)
        list_ref[c.name] = f"=Lists!${letter}$2:${letter}${len(values) + 1}"

    last = TEMPLATE_ROWS + 1
    head_fill = {"required": PatternFill("solid", fgColor="FFD9E1F2"), "conditional": PatternFill("solid", fgColor="FFE2EFDA"),
                 "optional": PatternFill("solid", fgColor="FFF2F2F2")}
    example_font = Font(italic=True, color="FF808080")
    for title, names in SECTIONS:
        ws = wb.create_sheet(title, index=len(wb.sheetnames) - 1)  # before 'Lists'
        cols = names if names[0] == C.PATIENT_ID else (C.PATIENT_ID, *names)
        for j, name in enumerate(cols, start=1):
            c = COLUMNS_BY_NAME[name]
            letter = get_column_letter(j)
            head = ws.cell(row=1, column=j, value=name)
            head.font = Font(bold=True)
            head.fill = head_fill[c.requirement]
            head.comment = Comment(_prompt(c), "PDAC-LM template")
            ws.column_dimensions[letter].width = max(14, len(name) + 4)
            rng = f"{letter}2:{letter}{last}"
            if name == C.PATIENT_ID and title != SECTION_TITLES[0]:
                for r in range(2, last + 1):
                    ws.cell(row=r, column=j, value=f'=IF(Patient!$A{r}="","",Patient!$A{r})')
                continue
            dv = None
            if c.kind in ("category", "boolean"):
                dv = DataValidation(type="list", formula1=list_ref[name], allow_blank=True)
            elif c.kind == "date":
                dv = DataValidation(type="date", operator="between", formula1="DATE(1950,1,1)",
                                    formula2="DATE(2099,12,31)", allow_blank=True)
                ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
            elif c.kind in ("integer", "number"):
                kind = "whole" if c.kind == "integer" else "decimal"
                if c.maximum is not None:
                    dv = DataValidation(type=kind, operator="between", formula1=repr(c.minimum), formula2=repr(c.maximum),
                                        allow_blank=True)
                else:
                    dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=repr(c.minimum),
                                        allow_blank=True)
            elif c.kind == "text":
                ws.column_dimensions[letter].number_format = "@"
            if dv is not None:
                dv.error = f"Allowed: {'yes or no' if c.kind == 'boolean' else c.allowed()}."[:225]
                dv.errorTitle = name[:32]
                dv.showErrorMessage = True
            else:
                dv = DataValidation(type="custom", formula1="TRUE", allow_blank=True)  # only for the hover help
            dv.promptTitle = name[:32]
            dv.prompt = _prompt(c)
            dv.showInputMessage = True
            dv.add(rng)
            ws.add_data_validation(dv)
        for i, example in enumerate(EXAMPLES, start=2):
            for j, name in enumerate(cols, start=1):
                if name == C.PATIENT_ID and title != SECTION_TITLES[0]:
                    continue
                value = example.get(name)
                if value is None:
                    continue
                cell = ws.cell(row=i, column=j, value=value)
                cell.font = example_font
                if isinstance(value, _dt.date):
                    cell.number_format = "yyyy-mm-dd"
                elif name == C.PATIENT_ID:
                    cell.number_format = "@"
        ws.freeze_panes = "B2"

    columns = wb.create_sheet("Columns", index=len(wb.sheetnames) - 1)
    frame = dictionary_frame()
    frame = frame[frame["column"].isin(IMPORTED_NAMES)].drop(columns=["derived"])
    frame.insert(1, "sheet", frame["column"].map(SECTION_OF))
    frame["example (surgery)"] = frame["column"].map(lambda n: _example_text(EXAMPLES[0].get(n)))
    frame["example (chemotherapy)"] = frame["column"].map(lambda n: _example_text(EXAMPLES[1].get(n)))
    for j, head in enumerate(frame.columns, start=1):
        columns.cell(row=1, column=j, value=head).font = Font(bold=True)
        columns.column_dimensions[get_column_letter(j)].width = {"meaning": 70, "allowed": 45}.get(head, 18)
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        for j, value in enumerate(row, start=1):
            columns.cell(row=i, column=j, value=value).alignment = Alignment(wrap_text=True, vertical="top")
    columns.freeze_panes = "B2"
    lists.sheet_state = "hidden"
    wb.properties.title = "PDAC-LM data-collection template"
    wb.properties.keywords = f"pdac-lm-template; dictionary {DICTIONARY_VERSION}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _example_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)

