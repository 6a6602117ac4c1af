"""core.template: the data-collection workbook (sheets, dropdowns, explanations) and its round trip."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from core.cohort import load
from core.dictionary import IMPORTED, IMPORTED_NAMES, C
from core.readers import CohortValidationError
from core.template import EXAMPLES, SECTION_TITLES, SECTIONS, combine_sections, template_xlsx


@pytest.fixture(scope="module")
def workbook_bytes() -> bytes:
    return template_xlsx()


@pytest.fixture
def wb(workbook_bytes):
    return openpyxl.load_workbook(io.BytesIO(workbook_bytes))


def test_every_dictionary_column_is_on_exactly_one_section_sheet():
    names = [n for _, cols in SECTIONS for n in cols]
    assert sorted(names) == sorted(IMPORTED_NAMES) and len(names) == len(set(names))
    assert SECTION_TITLES == ("Patient", "Disease", "Chemotherapy", "Surgery", "Pathology", "After surgery",
                              "Follow-up")


def test_the_workbook_has_a_sheet_per_section_and_explains_every_column(wb):
    assert wb.sheetnames == ["Read me", *SECTION_TITLES, "Columns", "Lists"]
    assert wb["Lists"].sheet_state == "hidden"
    for title, cols in SECTIONS:
        header = [c.value for c in wb[title][1]]
        assert header == ([*cols] if title == "Patient" else [C.PATIENT_ID, *cols]), title
    explained = list(wb["Columns"].iter_rows(values_only=True))
    head = explained[0]
    assert head[:3] == ("column", "sheet", "type") and "meaning" in head and "allowed" in head
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in explained[1:]}
    assert list(rows) == list(IMPORTED_NAMES)
    assert rows[C.SEX]["allowed"] == "one of: F, M" and rows[C.SEX]["sheet"] == "Patient"
    assert rows[C.POPF]["arm"] == "surgery only"
    assert rows[C.DEATH_DATE]["example (surgery)"] == "2023-01-12"
    assert "Read me" in wb.sheetnames and "pseudonymised" in " ".join(str(c.value) for c in wb["Read me"]["A"])


def test_every_category_and_yes_no_column_has_a_dropdown_list(wb):
    lists = wb["Lists"]
    listed = {lists.cell(row=1, column=j).value: [lists.cell(row=i, column=j).value for i in range(2, 20)
                                                  if lists.cell(row=i, column=j).value is not None]
              for j in range(1, lists.max_column + 1)}
    for title, _cols in SECTIONS:
        ws = wb[title]
        by_range = {}
        for dv in ws.data_validations.dataValidation:
            for rng in str(dv.sqref).split():
                by_range[rng.split(":")[0].rstrip("0123456789")] = dv
        header = [c.value for c in ws[1]]
        for j, name in enumerate(header, start=1):
            col = next((c for c in IMPORTED if c.name == name), None)
            letter = openpyxl.utils.get_column_letter(j)
            if name == C.PATIENT_ID and title != "Patient":
                assert str(ws[f"{letter}2"].value).startswith("=IF(Patient!$A2")
                continue
            dv = by_range[letter]
            assert dv.prompt and dv.showInputMessage, name  # hover help on every column
            if col.kind == "category":
                assert dv.type == "list" and dv.formula1.startswith("=Lists!"), name
                assert listed[name] == list(col.categories), name
            elif col.kind == "boolean":
                assert dv.type == "list" and listed[name] == ["yes", "no"], name
            elif col.kind == "date":
                assert dv.type == "date", name
            elif col.kind in ("integer", "number"):
                assert dv.type == ("whole" if col.kind == "integer" else "decimal"), name
                assert float(dv.formula1) == col.minimum, name


def test_the_template_as_downloaded_loads_its_two_example_patients(workbook_bytes):
    cohort = load(workbook_bytes, filename="template.xlsx")
    d = cohort.data
    assert d[C.PATIENT_ID].tolist() == ["EXAMPLE-1", "EXAMPLE-2"]
    assert d[C.TREATMENT_GROUP].tolist() == ["surgery", "chemotherapy"]
    assert d[C.DIAGNOSIS_DATE].tolist() == [pd.Timestamp("2021-03-25"), pd.Timestamp("2021-05-04")]
    assert d[C.CA19_9_BASELINE].tolist() == [412.5, 95.0]
    assert d[C.PANCREATIC_PROCEDURE].tolist() == ["PD", None]
    assert bool(d[C.LIVER_ABLATION].iat[0]) is False and pd.isna(d[C.LIVER_ABLATION].iat[1])
    assert bool(d[C.READMISSION].iat[0]) is True
    assert any("example patients (EXAMPLE-1, EXAMPLE-2)" in n for n in cohort.notes)
    assert any("data-collection template" in n for n in cohort.notes)


def _fill(workbook_bytes: bytes, patients: list[dict[str, object]]) -> bytes:
    """Type patients into the template as a data manager would: one row each, on every sheet."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes))
    for title, _ in SECTIONS:
        ws = wb[title]
        header = [c.value for c in ws[1]]
        for r in (2, 3):  # delete the examples
            for j, name in enumerate(header, start=1):
                if not (name == C.PATIENT_ID and title != "Patient"):
                    ws.cell(row=r, column=j).value = None
        for i, patient in enumerate(patients, start=2):
            for j, name in enumerate(header, start=1):
                if name == C.PATIENT_ID and title != "Patient":
                    continue
                ws.cell(row=i, column=j).value = patient.get(name)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_template_filled_with_the_example_rows_round_trips(workbook_bytes):
    typed = [dict(e, **{C.PATIENT_ID: f"MOD-{i}"}) for i, e in enumerate(EXAMPLES, start=1)]
    cohort = load(_fill(workbook_bytes, typed), filename="filled.xlsx")
    d = cohort.data
    assert d[C.PATIENT_ID].tolist() == ["MOD-1", "MOD-2"] and cohort.n_surgery == 1
    for name in IMPORTED_NAMES:
        for i, example in enumerate(EXAMPLES):
            want, got = example.get(name), d[name].iat[i]
            if want is None:
                assert pd.isna(got), (name, i)
            elif name == C.PATIENT_ID:
                continue
            elif isinstance(want, dt.date):
                assert got == pd.Timestamp(want), (name, i)
            elif want in ("yes", "no"):
                assert bool(got) == (want == "yes"), (name, i)
            else:
                assert got == want, (name, i)
    assert not any("example patients" in n for n in cohort.notes)


def test_a_filled_template_with_three_hand_typed_patients():
    patients = [
        {C.PATIENT_ID: "007", C.CENTRE_ID: "VR", C.TREATMENT_GROUP: "chemotherapy",
         C.DIAGNOSIS_DATE: dt.datetime(2022, 4, 1), C.AGE: 70, C.SEX: "F", C.ECOG: 1, C.TUMOUR_LOCATION: "head",
         C.RESECTABILITY: "resectable", C.LIVER_METS_N: 2, C.CHEMO_START_DATE: dt.datetime(2022, 4, 20),
         C.CHEMO_REGIMEN: "GEM", C.CHEMO_SETTING: "palliative", C.RECIST: "SD", C.PROGRESSION: "no",
         C.LAST_IMAGING_DATE: dt.datetime(2022, 10, 1), C.VITAL_STATUS: "alive",
         C.LAST_FOLLOWUP_DATE: dt.datetime(2022, 12, 1)},
        {C.PATIENT_ID: "008", C.CENTRE_ID: "VR", C.TREATMENT_GROUP: "surgery",
         C.DIAGNOSIS_DATE: dt.datetime(2021, 1, 4), C.AGE: 58, C.SEX: "M", C.ECOG: 0,
         C.TUMOUR_LOCATION: "body_tail", C.RESECTABILITY: "borderline", C.LIVER_METS_N: 1,
         C.CHEMO_START_DATE: dt.datetime(2021, 1, 18), C.CHEMO_REGIMEN: "FOLFIRINOX", C.CHEMO_SETTING: "neoadjuvant",
         C.RECIST: "PR", C.SURGERY_DATE: dt.datetime(2021, 6, 1), C.PANCREATIC_PROCEDURE: "DP",
         C.LIVER_PROCEDURE: "wedge", C.LIVER_SEGMENTS_N: 1, C.LIVER_TIMING: "simultaneous",
         C.CLAVIEN_DINDO: "I", C.POPF: "none", C.PROGRESSION: "no", C.LAST_IMAGING_DATE: dt.datetime(2022, 6, 1),
         C.VITAL_STATUS: "alive", C.LAST_FOLLOWUP_DATE: dt.datetime(2022, 7, 1)},
        {C.PATIENT_ID: "009", C.CENTRE_ID: "VR", C.TREATMENT_GROUP: "chemotherapy",
         C.DIAGNOSIS_DATE: dt.datetime(2020, 9, 9), C.AGE: 66, C.SEX: "M", C.ECOG: 2, C.TUMOUR_LOCATION: "head",
         C.RESECTABILITY: "borderline", C.LIVER_METS_N: 5, C.CHEMO_START_DATE: dt.datetime(2020, 9, 20),
         C.CHEMO_REGIMEN: "GEM_NABPAC", C.CHEMO_SETTING: "palliative", C.RECIST: "PD", C.PROGRESSION: "yes",
         C.PROGRESSION_DATE: dt.datetime(2020, 12, 1), C.LAST_IMAGING_DATE: dt.datetime(2020, 11, 1),
         C.VITAL_STATUS: "dead", C.DEATH_DATE: dt.datetime(2021, 3, 3), C.LAST_FOLLOWUP_DATE: dt.datetime(2021, 3, 3)},
    ]
    cohort = load(_fill(template_xlsx(), patients), filename="verona.xlsx")
    assert cohort.data[C.PATIENT_ID].tolist() == ["007", "008", "009"]  # ids stay text
    assert (cohort.n_surgery, cohort.n_chemotherapy) == (1, 2)
    assert cohort.data[C.SURGERY_DATE].tolist()[1] == pd.Timestamp("2021-06-01")
    assert cohort.data[C.POPF].tolist() == [None, "none", None]


def test_a_problem_on_another_sheet_is_reported_at_the_patients_row(workbook_bytes):
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes))
    wb["Surgery"]["C3"] = "PD"  # pancreatic procedure for the chemotherapy example (row 3)
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(CohortValidationError) as err:
        load(out.getvalue(), filename="t.xlsx")
    assert [(p.row, p.column) for p in err.value.problems] == [(3, C.PANCREATIC_PROCEDURE)]


def test_sheets_out_of_step_are_refused():
    sheets = {"Patient": [(1, ["patient_id", "sex"]), (2, ["P1", "F"]), (3, ["P2", "M"])],
              "Disease": [(1, ["patient_id", "liver_mets_n"]), (2, ["P2", "3"]), (3, [None, "1"])]}
    with pytest.raises(CohortValidationError) as err:
        combine_sections(sheets)
    p = err.value.problems[0]
    assert (p.row, p.value) == (2, "P2") and "keep every patient in the same row" in p.message


def test_rows_used_only_on_a_later_sheet_are_kept():
    frame, rows, _ = combine_sections({"Patient": [(1, ["patient_id", "sex"]), (2, ["P1", "F"])],
                                       "Follow-up": [(1, ["patient_id", "vital_status"]), (4, [None, "dead"])]})
    assert rows.tolist() == [2, 4]
    assert frame.to_dict("list") == {"patient_id": ["P1", None], "sex": ["F", None], "vital_status": [None, "dead"]}


def test_the_template_needs_no_mapping_on_upload(workbook_bytes):
    from core.upload import prepare

    prep = prepare(workbook_bytes, "template.xlsx")
    assert prep.cohort is not None and not prep.mapped and prep.cohort.n_patients == 2


def test_the_dictionary_1_1_columns_are_on_the_chemotherapy_sheet_with_examples(workbook_bytes):
    chemo = dict(SECTIONS)["Chemotherapy"]
    for name in (C.CHEMO_END_DATE, C.RESTAGING_DATE, C.MDT_DATE, C.EXPLORATION_DATE):
        assert name in chemo
    assert C.CEA_BASELINE in dict(SECTIONS)["Disease"]
    d = load(workbook_bytes, filename="template.xlsx").data
    assert d[C.CEA_BASELINE].tolist() == [6.8, 3.1]
    assert d[C.RESTAGING_DATE].tolist() == [pd.Timestamp("2021-07-05"), pd.Timestamp("2021-07-28")]
    assert d[C.EXPLORATION_DATE].iat[0] == d[C.SURGERY_DATE].iat[0] and pd.isna(d[C.EXPLORATION_DATE].iat[1])
    assert d[C.EXPLORED_NOT_RESECTED].astype("object").tolist() == [False, False]


def test_the_template_made_into_a_1_0_file_still_loads(workbook_bytes):
    from core.dictionary import IMPORTED

    d = load(workbook_bytes, filename="template.xlsx").data
    v10 = [c.name for c in IMPORTED if c.since == "1.0"]
    old = load(d[v10].to_csv(index=False).encode(), filename="old.csv")
    assert old.n_patients == 2 and old.data[C.CEA_BASELINE].isna().all()
