"""Tests of core.identifiers: columns that look like direct identifiers."""

from __future__ import annotations

import pandas as pd
import pytest

from core.cohort import load
from core.identifiers import PREFIX, identifier_warnings
from tests.cohort_helpers import rows, to_csv


@pytest.mark.parametrize("header", [
    "name", "Patient Name", "patient_name", "first_name", "LastName", "Surname", "nome", "Cognome", "Vorname",
    "Nachname", "nom", "prénom", "date of birth", "DOB", "birth_date", "data_nascita", "Geburtsdatum",
    "address", "Indirizzo", "street", "zip", "postcode", "phone", "Telefono", "mobile", "email", "E-Mail",
    "MRN", "hospital number", "medical_record_number", "Record No", "codice fiscale", "SSN", "NHS number",
    "tax code", "nosologico",
])
def test_identifier_headers_are_flagged(header):
    (w,) = identifier_warnings([header], pd.DataFrame({header: ["x"]}))
    assert w.startswith(f"{PREFIX}: column '{header}' looks like ")


@pytest.mark.parametrize("header", ["centre_city", "drug_name", "hospital_name", "comment", "notes", "ki67",
                                    "study_arm", "nominal_dose", "birads"])
def test_ordinary_headers_are_not_flagged(header):
    frame = pd.DataFrame({header: ["12", "ok", None]})
    assert identifier_warnings([header], frame) == []


@pytest.mark.parametrize("values, fragment", [
    (["anna.bianchi@example.org", "j.doe@nhs.net", None], "contains e-mail addresses (2 of 2 values)"),
    (["+39 051 6363111", "0049 89 123456", "051-6363111"], "contains phone numbers (3 of 3 values)"),
    (["RSSMRA80A01H501U", "BNCLRA75C41F205X"], "contains Italian tax codes"),
    (["1948-03-01", "12.05.1951", "03/04/1962", "1970-01-01"], "contains dates that look like dates of birth (4 of 4"),
])
def test_identifier_contents_are_flagged(values, fragment):
    (w,) = identifier_warnings(["x"], pd.DataFrame({"x": values}))
    assert w.startswith(f"{PREFIX}: column 'x' {fragment}") and w.endswith(".")


@pytest.mark.parametrize("values", [
    ["2019-03-01", "2020-05-12", "2021-01-01"],  # study dates, not births
    ["850", "1200", "95"],  # lab values
    ["C01", "C02"], ["yes", "no"], [],
    ["20190301", "20200512"],  # 8 digits without a leading 0/+: not phone numbers
])
def test_ordinary_contents_are_not_flagged(values):
    assert identifier_warnings(["x"], pd.DataFrame({"x": pd.Series(values, dtype=object)})) == []


def test_columns_not_in_the_frame_are_judged_by_header_only():
    assert len(identifier_warnings(["dob", "other"], pd.DataFrame())) == 1


def test_frame_must_be_a_dataframe():
    with pytest.raises(ValueError, match="DataFrame"):
        identifier_warnings(["x"], {"x": [1]})  # type: ignore[arg-type]


def test_load_fills_cohort_warnings_for_extra_columns_only():
    t = rows()
    t[0] += ["Cognome", "contact", "comment"]
    for i, r in enumerate(t[1:]):
        r += ["Rossi", f"p{i}@example.org", "fine"]
    cohort = load(to_csv(t), filename="x.csv")
    assert cohort.warnings == (
        f"{PREFIX}: column 'Cognome' looks like a name (from its header).",
        f"{PREFIX}: column 'contact' contains e-mail addresses (6 of 6 values).",
    )
    assert load(to_csv(rows()), filename="y.csv").warnings == ()
