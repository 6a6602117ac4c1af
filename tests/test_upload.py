"""core.upload: three centres' exports load through a mapping to the same patients as expected.csv.

tests/exports/ holds the exports as the centres wrote them (by hand) and expected.csv, the same six
patients in the dictionary's layout (by hand). The user's decisions for the codes the proposal cannot
know are typed below.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from core import isolation, upload
from core.cohort import load
from core.dictionary import IMPORTED_NAMES, C
from core.mapping import CheckboxRule, ExportMapping, to_json
from core.readers import CohortValidationError

EXPORTS = Path(__file__).resolve().parent / "exports"
CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = load(EXPORTS / "expected.csv").data


def _with(mapping: ExportMapping, *, columns: dict | None = None, values: dict | None = None,
          checkboxes: dict | None = None, date_order: str | None = "keep") -> ExportMapping:
    """The proposal with the user's changes."""
    vals = {k: dict(v) for k, v in mapping.values.items()}
    for target, table in (values or {}).items():
        vals.setdefault(target, {}).update(table)
    return ExportMapping({**mapping.columns, **(columns or {})}, {**mapping.checkboxes, **(checkboxes or {})}, vals,
                         mapping.date_order if date_order == "keep" else date_order)


def _same_patients(cohort, ids: list[str], centre: str, columns: list[str]) -> None:
    data = cohort.data
    assert data[C.PATIENT_ID].tolist() == ids
    assert set(data[C.CENTRE_ID]) == {centre}
    for col in columns:
        got, want = data[col].reset_index(drop=True), EXPECTED[col].reset_index(drop=True)
        assert got.astype(object).where(got.notna(), None).tolist() == \
            want.astype(object).where(want.notna(), None).tolist(), col


def test_italian_export_loads_through_its_mapping():
    data = (EXPORTS / "modena_it.csv").read_bytes()
    prep = upload.prepare(data, "modena_it.csv")
    assert prep.cohort is None and not prep.problems  # other names and codes: the user confirms first
    chosen = _with(prep.mapping, values={C.CHEMO_REGIMEN: {"GnP": "GEM_NABPAC"}})
    done = upload.load_mapped(data, "modena_it.csv", mapping=chosen)
    assert done.problems == () and done.mapped
    cohort = done.cohort
    absent = {C.PATIENT_ID, C.CENTRE_ID, C.LEWIS_NEGATIVE, C.LIVER_METS_VIABLE}  # not in this centre's form
    _same_patients(cohort, [f"MO-00{i}" for i in range(1, 7)], "Modena", [c for c in IMPORTED_NAMES if c not in absent])
    assert cohort.data.loc[2, C.DEATH_DATE] == pd.Timestamp("2022-08-20")  # 20/08/2022, day first
    assert cohort.data.loc[0, C.CA19_9_BASELINE] == 412.5  # decimal comma
    assert cohort.data["Note"].tolist()[0] == "recidiva epatica singola"  # kept as text
    assert cohort.notes[-1].startswith("Read with a column mapping: 44 export columns")


def test_english_workbook_loads_through_its_mapping():
    data = (EXPORTS / "london_en.xlsx").read_bytes()
    prep = upload.prepare(data, "london_en.xlsx")
    chosen = _with(prep.mapping, values={C.TREATMENT_GROUP: {"Palliative chemo": "chemotherapy"}})
    done = upload.load_mapped(data, "london_en.xlsx", mapping=chosen)
    assert done.problems == ()
    _same_patients(done.cohort, [f"LON-0{i}" for i in range(1, 7)], "London",
                   [c for c in IMPORTED_NAMES if c not in (C.PATIENT_ID, C.CENTRE_ID)])
    assert done.cohort.data.loc[0, C.CHEMO_START_DATE] == pd.Timestamp("2021-04-06")  # Excel serial 44292


REDCAP_CODES = {
    C.TREATMENT_GROUP: {"1": "surgery", "2": "chemotherapy"}, C.SEX: {"1": "M", "2": "F"},
    C.TUMOUR_LOCATION: {"1": "head", "2": "body_tail"}, C.RESECTABILITY: {"1": "resectable", "2": "borderline"},
    C.CHEMO_REGIMEN: {"1": "FOLFIRINOX", "2": "mFOLFIRINOX", "3": "GEM_NABPAC", "4": "GEM", "5": "NALIRIFOX",
                      "6": "GEMCAP"},
    C.CHEMO_SETTING: {"1": "neoadjuvant", "2": "perioperative", "4": "palliative"},
    C.RECIST: {"2": "PR", "3": "SD", "4": "PD"}, C.PANCREATIC_PROCEDURE: {"1": "PD", "3": "DP", "4": "TP"},
    C.LIVER_PROCEDURE: {"1": "wedge", "2": "segmentectomy", "5": "hemihepatectomy"},
    C.LIVER_TIMING: {"1": "simultaneous", "2": "staged"}, C.MARGIN: {"0": "R0", "1": "R1"},
    C.LIVER_METS_VIABLE: {"1": "yes", "0": "no", "9": "not_assessed"},
    C.CLAVIEN_DINDO: {"3": "IIIa", "7": "V"}, C.POPF: {"1": "BL", "2": "B", "4": "not_applicable"},
    C.PHLF: {"1": "A", "3": "C"}, C.VITAL_STATUS: {"0": "alive", "1": "dead"},
}
REDCAP_COLUMNS = {"dimensione": C.TUMOUR_SIZE, "diam_max_met": C.LIVER_METS_MAX, "setting_ct": C.CHEMO_SETTING,
                  "tipo_res_epatica": C.LIVER_PROCEDURE, "vitalita_met": C.LIVER_METS_VIABLE}
REDCAP_BOXES = {
    "resezione_vascolare": CheckboxRule(C.VASCULAR_RESECTION, {"0": "none", "1": "venous", "2": "arterial"}, "both"),
    "sede_recidiva": CheckboxRule(C.RECURRENCE_SITE, {"1": "local", "2": "liver", "3": "lung", "4": "peritoneum",
                                                      "5": "nodes"}, "multiple"),
}


def _redcap_mapping(prep) -> ExportMapping:
    return _with(prep.mapping, columns=REDCAP_COLUMNS, values=REDCAP_CODES, checkboxes=REDCAP_BOXES)


def test_redcap_export_with_coded_choices_and_checkboxes_loads_through_its_mapping():
    data = (EXPORTS / "redcap_raw.csv").read_bytes()
    prep = upload.prepare(data, "redcap_raw.csv")
    done = upload.load_mapped(data, "redcap_raw.csv", mapping=_redcap_mapping(prep))
    assert done.problems == ()
    _same_patients(done.cohort, ["101", "102", "103", "104", "105", "106"], "mo_policlinico",
                   [c for c in IMPORTED_NAMES if c not in (C.PATIENT_ID, C.CENTRE_ID)])
    assert done.cohort.data[C.VASCULAR_RESECTION].tolist()[:4] == ["venous", "none", "both", None]
    assert done.cohort.data[C.RECURRENCE_SITE].tolist()[3:5] == ["liver", "multiple"]
    assert {"baseline_complete", "chirurgia_complete", "follow_up_complete"} <= set(done.cohort.data.columns)


def test_the_same_patients_give_the_same_cohort_hash_whatever_the_export():
    """Mapped content is validated exactly like our own layout: same values, same canonical hash."""
    data = (EXPORTS / "redcap_raw.csv").read_bytes()
    done = upload.load_mapped(data, "r.csv", mapping=_redcap_mapping(upload.prepare(data, "r.csv")))
    ours = EXPECTED.copy()
    ours[C.PATIENT_ID] = ["101", "102", "103", "104", "105", "106"]
    ours[C.CENTRE_ID] = "mo_policlinico"
    text = ours[list(IMPORTED_NAMES)].to_csv(index=False, date_format="%Y-%m-%d")
    assert load(text.encode(), filename="ours.csv").sha256 == done.cohort.sha256


def test_problems_name_the_original_row_column_and_cell():
    data = (EXPORTS / "modena_it.csv").read_bytes().decode("cp1252")
    data = data.replace("MO-004;Modena;Chemioterapia;04/05/2021;72;Femmina;2;Testa;35;Resecabile;95;n.d.;3;18;Sì;"
                        "18/05/2021;Gemcitabina",
                        "MO-004;Modena;Chemioterapia;04/05/2021;72;Femmina;2;Testa;35;Resecabile;95;n.d.;3;18;Sì;"
                        "31/02/2021;Gemcitabina")
    data = data.replace("MO-006;Modena;Chemioterapia", "MO-006;Modena;Chirurgia e chemio")
    raw = data.encode("cp1252")
    prep = upload.prepare(raw, "modena_it.csv")
    done = upload.load_mapped(raw, "m.csv", mapping=_with(prep.mapping, values={C.CHEMO_REGIMEN: {"GnP": "GEM_NABPAC"}}))
    assert done.cohort is None
    got = {(p.row, p.column, p.value) for p in done.problems}
    assert (5, "chemo_start_date (Data inizio chemioterapia)", "31/02/2021") in got  # row 5 of the file, as written
    assert (7, "treatment_group (Gruppo)", "Chirurgia e chemio") in got
    assert all(p.row in (None, 5, 7) for p in done.problems)


def test_a_missing_required_column_says_no_export_column_fills_it():
    data = (EXPORTS / "modena_it.csv").read_bytes()
    prep = upload.prepare(data, "m.csv")
    chosen = _with(prep.mapping, columns={"Data ultimo follow-up": None}, values={C.CHEMO_REGIMEN: {"GnP": "OTHER"}})
    done = upload.load_mapped(data, "m.csv", mapping=chosen)
    assert [p.message for p in done.problems if p.row is None] == [
        "Required column 'last_followup_date' is missing. Allowed: a date (YYYY-MM-DD). "
        "No column of the export is mapped to it."]


def test_a_blocking_mapping_is_refused_before_reading_the_cells():
    data = b"Sesso,Genere\nF,F\n"
    done = upload.load_mapped(data, "x.csv", mapping=ExportMapping({"Sesso": "sex", "Genere": "sex"}))
    assert [p.message for p in done.problems] == ["The export columns 'Sesso' and 'Genere' are both mapped to sex: "
                                                  "choose one."]


def test_our_own_layout_loads_at_once_exactly_like_load():
    for path in (CORPUS / "valid_minimal.csv", EXPORTS / "expected.csv"):
        prep = upload.prepare(path.read_bytes(), path.name)
        direct = load(path)
        assert prep.cohort is not None and not prep.mapped
        assert prep.cohort.sha256 == direct.sha256 and prep.cohort.notes == direct.notes
        assert prep.cohort.data.equals(direct.data)
    with pytest.raises(CohortValidationError) as err:  # our layout with problems: reported as before
        upload.prepare((CORPUS / "missing_required_column.csv").read_bytes(), "x.csv")
    with pytest.raises(CohortValidationError) as there:
        load(CORPUS / "missing_required_column.csv")
    assert err.value.problems == there.value.problems


def test_our_own_layout_with_dates_that_show_day_first_says_how_they_were_read():
    data = (CORPUS / "valid_minimal.csv").read_bytes()
    data = data.replace(b"2019-01-10", b"10/01/2019", 1).replace(b"2019-01-24", b"24/01/2019", 1)
    prep = upload.prepare(data, "x.csv")
    assert prep.cohort is not None and not prep.mapped
    assert prep.cohort.data[C.DIAGNOSIS_DATE].iat[0] == pd.Timestamp("2019-01-10")
    assert prep.cohort.notes[-1] == ("Dates such as '10/01/2019' (diagnosis_date) were read as day/month/year, "
                                     "as '24/01/2019' (chemo_start_date) shows.")


def test_a_saved_mapping_that_fits_applies_at_once():
    data = (EXPORTS / "redcap_raw.csv").read_bytes()
    saved = _redcap_mapping(upload.prepare(data, "r.csv"))
    prep = upload.prepare(data, "r.csv", saved=saved)
    assert prep.cohort is not None and prep.mapped and prep.unfit == ()
    assert prep.cohort.n_surgery == 3


def test_a_saved_mapping_that_does_not_fit_opens_the_step_with_its_choices():
    data = (EXPORTS / "redcap_raw.csv").read_bytes()
    saved = _redcap_mapping(upload.prepare(data, "r.csv"))
    other = data.replace(b"\n106,mo_policlinico,2,2023-02-06,59,2,0,1,25,2,60,20,1,1,12,0,2023-02-20,6,",
                         b"\n106,mo_policlinico,2,2023-02-06,59,2,0,1,25,2,60,20,1,1,12,0,2023-02-20,7,")
    prep = upload.prepare(other, "r2.csv", saved=saved)
    assert prep.cohort is None
    assert prep.unfit == ("This export has codes the mapping does not cover: chemo_regimen '7'.",)
    assert prep.mapping.columns["dimensione"] == C.TUMOUR_SIZE  # the saved choices, filled in
    assert prep.mapping.values[C.SEX] == {"1": "M", "2": "F"}


def test_a_saved_mapping_that_fits_but_finds_problems_reports_them_with_the_mapping():
    data = (EXPORTS / "redcap_raw.csv").read_bytes()
    saved = _redcap_mapping(upload.prepare(data, "r.csv"))
    bad = data.replace(b"\n102,mo_policlinico,1,2022-01-10,55,", b"\n102,mo_policlinico,1,2022-01-10,15,")
    prep = upload.prepare(bad, "r.csv", saved=saved)
    assert prep.cohort is None and prep.mapping == saved
    assert [(p.row, p.column, p.value) for p in prep.problems] == [(3, "age_at_diagnosis (eta)", "15")]


def test_both_tasks_run_in_the_limited_child_process():
    data = (EXPORTS / "modena_it.csv").read_bytes()
    run = isolation.run_isolated(data, "modena_it.csv", task=upload.prepare)
    assert run.error is None and run.exitcode == 0 and isinstance(run.cohort, upload.Prepared)
    chosen = _with(run.cohort.mapping, values={C.CHEMO_REGIMEN: {"GnP": "GEM_NABPAC"}})
    done = isolation.run_isolated(data, "modena_it.csv", task=functools.partial(upload.load_mapped, mapping=chosen))
    assert done.error is None and done.cohort.cohort.n_patients == 6
    saved = isolation.run_isolated(data, "m.csv", task=functools.partial(upload.prepare, saved=chosen))
    assert saved.cohort.cohort is not None
    hostile = isolation.run_isolated(b"PAR1" + bytes(100) + b"PAR1", "x.parquet", task=upload.prepare)
    assert hostile.cohort is None and "Parquet" in hostile.error.problems[0].message
    slow = isolation.run_isolated(data * 2000, "big.csv", task=upload.prepare, timeout_s=0.05)
    assert slow.cohort is None and "took longer than the 0.05 seconds allowed" in slow.error.problems[0].message


def test_the_mapping_file_of_a_real_export_is_small():
    data = (EXPORTS / "redcap_raw.csv").read_bytes()
    assert len(to_json(_redcap_mapping(upload.prepare(data, "r.csv")))) < 8_000
