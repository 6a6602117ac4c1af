"""Tests of core.cohort: corpus of bad files, every rule, round trips, robustness, speed."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.cohort as cohort_mod
from core.cohort import DEMO_PATH, Cohort, CohortValidationError, Problem, canonical_csv, demo, load
from core.dictionary import (
    DERIVED,
    DICTIONARY_VERSION,
    IMPORTED_NAMES,
    Arm,
    C,
    ClavienDindo,
    Location,
    Regimen,
)
from tests.cohort_helpers import (
    CORPUS,
    VALID,
    csv_with,
    edit,
    excel_serial,
    rows,
    to_csv,
    to_parquet,
    to_xlsx,
)

EXPECTED = json.loads((CORPUS / "expected.json").read_text())


def problems_of(source: object, **kw: object) -> tuple[Problem, ...]:
    with pytest.raises(CohortValidationError) as info:
        load(source, **kw)
    return info.value.problems


def only(problems: tuple[Problem, ...]) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.column) for p in problems}


# ------------------------------------------------------------------------------------------
# corpus


@pytest.mark.parametrize("name", sorted(EXPECTED["errors"]))
def test_corpus_file_reports_exactly_the_expected_problems(name):
    expected = EXPECTED["errors"][name]
    problems = problems_of(CORPUS / name)
    assert only(problems) == {(r, c) for r, c, _ in expected}
    for row, col, fragment in expected:
        messages = [p.message for p in problems if p.row == row and p.column == col]
        assert any(fragment in m for m in messages), (row, col, fragment, messages)


@pytest.mark.parametrize("name", sorted(EXPECTED["ok"]))
def test_corpus_ok_files_load(name):
    c = load(CORPUS / name)
    assert len(c.data) == 6
    for fragment in EXPECTED["ok"][name]:
        assert any(fragment in n for n in c.notes), c.notes


def test_every_corpus_file_is_in_the_manifest():
    listed = set(EXPECTED["errors"]) | set(EXPECTED["ok"])
    on_disk = {p.name for p in CORPUS.iterdir() if p.name not in ("expected.json", "make_corpus.py")}
    assert on_disk == listed


def test_error_is_a_value_error_with_a_table_and_a_readable_message():
    with pytest.raises(ValueError) as info:
        load(CORPUS / "out_of_range.csv")
    err = info.value
    assert isinstance(err, CohortValidationError)
    frame = err.problems_frame()
    assert list(frame.columns) == ["row", "column", "value", "message"]
    assert frame["row"].tolist() == [2, 6, 7]
    assert frame["value"].tolist() == ["17", "5", "0"]
    assert "3 problems" in str(err) and "row 2, column age_at_diagnosis" in str(err)


def test_problem_values_are_truncated():
    problems = problems_of(csv_with({("S02", "sex"): "Z" * 500}))
    assert len(problems[0].value) == 60 and problems[0].value.endswith("...")


# ------------------------------------------------------------------------------------------
# the valid fixture: types, derived values (expected values computed by hand from the fixture)


@pytest.fixture(scope="module")
def valid() -> Cohort:
    return load(VALID)


def test_valid_types(valid):
    d = valid.data
    assert list(d.columns) == list(IMPORTED_NAMES) + [c.name for c in DERIVED]
    assert d[C.PATIENT_ID].tolist() == ["007", "S02", "S03", "C01", "C02", "C03"]
    assert str(d[C.DIAGNOSIS_DATE].dtype) == "datetime64[ns]"
    assert str(d[C.AGE].dtype) == "Int64" and str(d[C.TUMOUR_SIZE].dtype) == "float64"
    assert str(d[C.LEWIS_NEGATIVE].dtype) == "boolean"
    assert d[C.TUMOUR_SIZE].iloc[0] == 32.5 and np.isnan(d[C.TUMOUR_SIZE].iloc[4])
    assert d[C.PANCREATIC_PROCEDURE].iloc[3] is None
    assert valid.n_surgery == 3 and valid.n_chemotherapy == 3 and valid.n_patients == 6
    assert valid.dictionary_version == DICTIONARY_VERSION
    assert valid.source_name == "valid_minimal.csv"
    assert valid.notes == ()
    assert re.fullmatch(r"[0-9a-f]{64}", valid.sha256)


def _m(days: int) -> float:
    return days / 30.4375


def test_derived_times(valid):
    d = valid.data
    # days counted by hand from the fixture dates, e.g. 2019-01-10 -> 2021-02-01 = 365 + 366 + 22
    assert d[C.OS_FROM_DIAGNOSIS].iloc[0] == pytest.approx(_m(753))
    # 007: chemo 2019-01-24 -> death 2021-02-01 = 739 days; surgery 2019-06-20 -> death = 592
    assert d[C.OS_FROM_CHEMO].iloc[0] == pytest.approx(_m(739))
    assert d[C.OS_FROM_SURGERY].iloc[0] == pytest.approx(_m(592))
    # 007: chemo start -> surgery 147 days, diagnosis -> surgery 161 days
    assert d[C.TIME_TO_SURGERY].iloc[0] == pytest.approx(_m(147))
    assert d[C.TIME_DIAGNOSIS_TO_SURGERY].iloc[0] == pytest.approx(_m(161))
    # S02 alive: OS to last follow-up 2022-07-15 from surgery 2020-09-01 = 682 days
    assert d[C.OS_FROM_SURGERY].iloc[1] == pytest.approx(_m(682))
    # RFS: 007 recurrence 2020-03-15 (269 d, event); S02 censored at imaging 2022-06-01 (638 d);
    # S03 died without recurrence on 2021-12-20 (40 d, event)
    assert d[C.RFS_MONTHS].iloc[:3].tolist() == pytest.approx([_m(269), _m(638), _m(40)])
    assert d[C.RFS_EVENT].iloc[:3].tolist() == [1, 0, 1]
    assert d[C.RFS_MONTHS].iloc[3:].isna().all() and d[C.RFS_EVENT].iloc[3:].isna().all()
    # PFS: C01 2019-06-15 -> 2019-10-01 (108 d, event); C02 -> imaging 2020-05-01 (90 d, censored);
    # C03 2022-02-20 -> 2022-09-01 (193 d, event)
    assert d[C.PFS_MONTHS].iloc[3:].tolist() == pytest.approx([_m(108), _m(90), _m(193)])
    assert d[C.PFS_EVENT].iloc[3:].tolist() == [1, 0, 1]
    assert d[C.PFS_MONTHS].iloc[:3].isna().all()
    assert d[C.OS_FROM_SURGERY].iloc[3:].isna().all()
    assert d[C.OS_EVENT].tolist() == [1, 0, 1, 1, 0, 1]
    assert d[C.SURGERY].tolist() == [1, 1, 1, 0, 0, 0]
    assert d[C.DIAGNOSIS_YEAR].tolist() == [2019, 2020, 2021, 2019, 2020, 2022]


def _bools(s: pd.Series) -> list[object]:
    return [None if pd.isna(v) else bool(v) for v in s]


def test_derived_flags(valid):
    d = valid.data
    assert d[C.METS_GROUP].tolist() == ["1", "2-3", "2-3", ">3", "1", "2-3"]
    assert _bools(d[C.MAJOR_HEPATECTOMY]) == [False, True, True, None, None, None]  # segments 1, 3, 4
    assert _bools(d[C.MAJOR_MORBIDITY]) == [False, True, True, None, None, None]  # II, IIIa, V
    assert _bools(d[C.MAJOR_MORBIDITY_IIIB]) == [False, False, True, None, None, None]
    assert _bools(d[C.CR_POPF]) == [True, True, None, None, None, None]  # B, C, not_applicable after TP
    assert _bools(d[C.MORTALITY_90D]) == [False, False, True, None, None, None]  # S03 died on day 40
    # restaging 30, 600, (Lewis-negative), 300, missing, 20
    assert _bools(d[C.CA19_9_NORMALISED]) == [True, False, None, False, None, True]
    # falls 850->30, 1200->600 (exactly 50 %), Lewis-neg, 500->300 (40 %), missing, 300->20
    assert _bools(d[C.CA19_9_RESPONSE]) == [True, True, None, False, None, True]


def test_mortality_90d_needs_90_days_of_follow_up():
    # S02 alive: last follow-up 89 days after surgery (2020-09-01 + 89 = 2020-11-29) -> unknown;
    # 90 days (2020-11-30) -> False
    short = csv_with({("S02", "last_followup_date"): "2020-11-29", ("S02", "last_imaging_date"): "2020-11-01"})
    full = csv_with({("S02", "last_followup_date"): "2020-11-30", ("S02", "last_imaging_date"): "2020-11-01"})
    assert pd.isna(load(short).data[C.MORTALITY_90D].iloc[1])
    assert load(full).data[C.MORTALITY_90D].iloc[1] == False  # noqa: E712


def test_death_on_day_90_is_postoperative_and_day_91_is_not():
    # S03 surgery 2021-11-10: day 90 = 2022-02-08, day 91 = 2022-02-09
    on90 = csv_with({("S03", "death_date"): "2022-02-08", ("S03", "last_followup_date"): "2022-02-08"})
    assert load(on90).data[C.MORTALITY_90D].iloc[2] == True  # noqa: E712
    on91 = csv_with({("S03", "death_date"): "2022-02-09", ("S03", "last_followup_date"): "2022-02-09"})
    assert only(problems_of(on91)) == {(4, C.CLAVIEN_DINDO)}
    fixed = csv_with({("S03", "death_date"): "2022-02-09", ("S03", "last_followup_date"): "2022-02-09",
                      ("S03", C.CLAVIEN_DINDO): "IVb"})
    assert load(fixed).data[C.MORTALITY_90D].iloc[2] == False  # noqa: E712


# ------------------------------------------------------------------------------------------
# tolerant reading of values


def test_missing_value_tokens():
    tokens = ["NA", "N/A", "n.d.", "nd", "k.A.", "-", ".", " ", "nan", "#N/A"]
    for token in tokens:
        c = load(csv_with({("S02", C.TUMOUR_SIZE): token, ("S02", C.LEWIS_NEGATIVE): token,
                           ("S02", C.PHLF): token, ("S02", C.YP_T): token}))
        assert np.isnan(c.data[C.TUMOUR_SIZE].iloc[1]), token
        assert pd.isna(c.data[C.LEWIS_NEGATIVE].iloc[1]) and c.data[C.PHLF].iloc[1] is None, token


@pytest.mark.parametrize(
    ("true", "false"),
    [("true", "false"), ("TRUE", "FALSE"), ("yes", "no"), ("1", "0"), ("ja", "nein"), ("si", "no"),
     ("vero", "falso"), ("Yes", "No"), ("1.0", "0.0")],
)
def test_boolean_tokens(true, false):
    c = load(csv_with({("S02", C.LIVER_ABLATION): true, ("007", C.LIVER_ABLATION): false}))
    assert _bools(c.data[C.LIVER_ABLATION].iloc[:2]) == [False, True]


def test_unknown_boolean_is_a_problem():
    problems = problems_of(csv_with({("S02", C.LIVER_ABLATION): "maybe"}))
    assert only(problems) == {(3, C.LIVER_ABLATION)} and "true or false" in problems[0].message


@pytest.mark.parametrize(
    ("column", "text", "label"),
    [(C.TUMOUR_LOCATION, "Body tail", Location.BODY_TAIL), (C.TUMOUR_LOCATION, "BODY-TAIL", Location.BODY_TAIL),
     (C.CHEMO_REGIMEN, "FOLFIRINOX ", Regimen.FOLFIRINOX), (C.CHEMO_REGIMEN, "gem-nabpac", Regimen.GEM_NABPAC),
     (C.CHEMO_REGIMEN, "m-folfirinox", Regimen.MFOLFIRINOX), (C.CHEMO_REGIMEN, "Gem Nab Pac", Regimen.GEM_NABPAC),
     (C.TREATMENT_GROUP, " SURGERY", Arm.SURGERY), (C.CLAVIEN_DINDO, "iiia", "IIIa"), (C.SEX, "f", "F")],
)
def test_category_labels_are_matched_tolerantly(column, text, label):
    c = load(csv_with({("S02", column): text}))
    assert c.data[column].iloc[1] == label


def test_category_lookup_never_maps_a_key_to_two_labels():
    for name, mapping in cohort_mod.CATEGORY_MAPS.items():
        for key, label in mapping.items():
            others = [lab for lab in mapping.values() if cohort_mod._norm_key(lab) == cohort_mod._norm_key(key)]
            assert set(others) == {label}, (name, key)


@pytest.mark.parametrize(
    ("text", "iso"),
    [("2020-03-05", "2020-03-05"), ("05.03.2020", "2020-03-05"), ("5.3.2020", "2020-03-05"),
     ("05/03/2020", "2020-03-05"), ("05-03-2020", "2020-03-05"), ("2020/03/05", "2020-03-05"),
     ("2020-03-05 00:00:00", "2020-03-05"), ("2020-03-05T00:00:00", "2020-03-05"), ("43895", "2020-03-05")],
)
def test_date_formats(text, iso):
    c = load(csv_with({("S02", C.DIAGNOSIS_DATE): text}))
    assert c.data[C.DIAGNOSIS_DATE].iloc[1] == pd.Timestamp(iso)


def test_excel_serial_matches_hand_formula():
    assert excel_serial("2020-03-05") == "43895"  # known Excel value


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("2020-02-30", "Not a valid calendar date"), ("31.04.2020", "Not a valid calendar date"),
     ("2020", "Not a date"), ("5/3/20", "two-digit year"), ("March 5th", "Not a date"), ("99999", "Not a date")],
)
def test_bad_dates(text, fragment):
    problems = problems_of(csv_with({("S02", C.DIAGNOSIS_DATE): text}))
    assert only(problems) == {(3, C.DIAGNOSIS_DATE)}
    assert fragment in problems[0].message and problems[0].value == text


def test_slash_dates_are_day_first_unless_the_file_shows_month_first():
    c = load(csv_with({("S02", C.DIAGNOSIS_DATE): "13/03/2020", ("007", C.DIAGNOSIS_DATE): "10/01/2019"}))
    assert c.data[C.DIAGNOSIS_DATE].iloc[:2].tolist() == [pd.Timestamp("2019-01-10"), pd.Timestamp("2020-03-13")]
    problems = problems_of(CORPUS / "ambiguous_dates.csv")
    assert "01/13/2019" in problems[0].message


def test_decimal_comma_in_a_semicolon_file():
    t = rows()
    for r in t[1:]:
        r[:] = [v.replace(".", ",") if re.fullmatch(r"\d+\.\d+", v) else v for v in r]
    c = load(to_csv(t, sep=";"), filename="eu.csv")
    assert c.data[C.TUMOUR_SIZE].iloc[0] == 32.5 and c.data[C.LIVER_METS_MAX].iloc[1] == 20.5
    assert any("decimal comma" in n for n in c.notes) and any("semicolon" in n for n in c.notes)


def test_integer_written_with_decimal_zero():
    assert load(csv_with({("S02", C.AGE): "66.0"})).data[C.AGE].iloc[1] == 66


def test_ids_keep_leading_zeros_and_header_is_tolerant():
    t = rows()
    t[0] = [h.upper().replace("_", " ") if h == C.PATIENT_ID else h for h in t[0]]
    c = load(to_csv(t))
    assert c.data[C.PATIENT_ID].iloc[0] == "007"


def test_unknown_columns_are_kept_with_a_note_and_derived_columns_ignored():
    t = rows()
    t[0] = t[0] + ["comment", C.OS_EVENT]
    for k, r in enumerate(t[1:]):
        r += [f"note {k}", "7"]
    c = load(to_csv(t))
    assert c.data["comment"].tolist() == [f"note {k}" for k in range(6)]
    assert c.data[C.OS_EVENT].tolist() == [1, 0, 1, 1, 0, 1]
    assert any("comment" in n and "kept" in n for n in c.notes)
    assert any(C.OS_EVENT in n and "recomputed" in n for n in c.notes)
    assert c.sha256 == load(VALID).sha256  # extra columns are not part of the hash


def test_trailing_separators_and_blank_lines_are_harmless():
    text = VALID.read_text().splitlines()
    text = [text[0] + ",", text[1] + ",", "", text[2] + ",,"] + [ln + "," for ln in text[3:]]
    c = load(("\r\n".join(text) + "\r\n").encode(), filename="x.csv")
    assert c.sha256 == load(VALID).sha256


def test_row_numbers_count_blank_lines_and_multiline_fields():
    t = rows()
    edit(t, "007", C.CENTRE_ID, "MOD\nline two")
    edit(t, "S03", C.SEX, "Q")
    data = to_csv(t).replace(b"\nS02,", b"\n\nS02,")
    # header 1, 007 rows 2-3 (quoted newline), blank 4, S02 5, S03 6
    assert only(problems_of(data)) == {(6, C.SEX)}


# ------------------------------------------------------------------------------------------
# rules (beyond the corpus)


def test_adjuvant_only_allows_chemotherapy_after_surgery():
    ok = csv_with({("S02", C.CHEMO_SETTING): "adjuvant_only", ("S02", C.CHEMO_START_DATE): "2020-10-01"})
    assert load(ok).data[C.TIME_TO_SURGERY].iloc[1] < 0
    bad = csv_with({("S02", C.CHEMO_START_DATE): "2020-09-01"})  # same day as surgery, not adjuvant_only
    assert only(problems_of(bad)) == {(3, C.SURGERY_DATE)}


def test_recurrence_after_death_and_death_before_surgery():
    problems = problems_of(csv_with({("007", C.PROGRESSION_DATE): "2021-03-01"}))
    assert only(problems) == {(2, C.DEATH_DATE), (2, C.LAST_FOLLOWUP_DATE)}
    assert any("before progression_or_recurrence_date" in p.message for p in problems)


def test_conditional_column_absent_for_surgery_group_is_one_file_problem():
    t = rows()
    j = t[0].index(C.POPF)
    t = [r[:j] + r[j + 1:] for r in t]
    assert only(problems_of(to_csv(t))) == {(None, C.POPF)}
    chemo_only = [t[0]] + [r for r in t[1:] if r[0].startswith("C")]
    assert load(to_csv(chemo_only)).n_surgery == 0


def test_duplicate_ids_next_to_a_missing_id():
    # regression (found by the fuzz test): a missing id must not break the duplicate check
    problems = problems_of(csv_with({("S02", C.PATIENT_ID): "", ("C02", C.PATIENT_ID): "007"}))
    assert only(problems) == {(3, C.PATIENT_ID), (6, C.PATIENT_ID)}
    assert any("already used in row 2" in p.message for p in problems)


def test_clavien_v_for_alive_patient():
    problems = problems_of(csv_with({("S02", C.CLAVIEN_DINDO): ClavienDindo.V}))
    assert only(problems) == {(3, C.CLAVIEN_DINDO)}


def test_every_problem_is_reported_at_once():
    problems = problems_of(csv_with({("007", C.SEX): "X", ("S02", C.AGE): "200", ("C01", C.DEATH_DATE): "",
                                     ("C03", C.DIAGNOSIS_DATE): "soon", ("C02", C.PATIENT_ID): "C01"}))
    assert only(problems) == {(2, C.SEX), (3, C.AGE), (5, C.DEATH_DATE), (7, C.DIAGNOSIS_DATE), (6, C.PATIENT_ID)}


def test_excel_rows_are_sheet_rows():
    t = rows()
    edit(t, "S03", C.AGE, "12")
    assert only(problems_of(to_xlsx(t), filename="x.xlsx")) == {(4, C.AGE)}


# ------------------------------------------------------------------------------------------
# round trips: the same data in every accepted format give identical .data and .sha256


def _latin_rows() -> list[list[str]]:
    t = rows()
    for r in t[1:]:
        if r[1] == "MOD":
            r[1] = "Módena"
    return t


def _variants() -> dict[str, bytes]:
    t = _latin_rows()
    eu = [t[0]] + [[v.replace(".", ",") if re.fullmatch(r"\d+\.\d+", v) else v for v in r] for r in t[1:]]
    dmy = [t[0]] + [[f"{v[8:]}.{v[5:7]}.{v[:4]}" if re.fullmatch(r"\d{4}-\d\d-\d\d", v) else v for v in r] for r in t[1:]]
    dmy_slash = [t[0]] + [[f"{v[8:]}/{v[5:7]}/{v[:4]}" if re.fullmatch(r"\d{4}-\d\d-\d\d", v) else v for v in r]
                          for r in t[1:]]
    serial = [t[0]] + [[excel_serial(v) if re.fullmatch(r"\d{4}-\d\d-\d\d", v) else v for v in r] for r in t[1:]]
    messy = [t[0]] + [[{"true": "Yes", "false": "nein", "body_tail": "Body Tail", "GEM_NABPAC": "gem-nabpac",
                        "FOLFIRINOX": " folfirinox ", "": "NA"}.get(v, v) for v in r] for r in t[1:]]
    return {
        "utf8-comma": to_csv(t),
        "utf8-bom": b"\xef\xbb\xbf" + to_csv(t),
        "latin1": to_csv(t, encoding="latin-1"),
        "cp1252-semicolon-decimal-comma": to_csv(eu, sep=";", encoding="cp1252", newline="\r\n"),
        "tab": to_csv(t, sep="\t"),
        "dd.mm.yyyy": to_csv(dmy, sep=";"),
        "dd/mm/yyyy": to_csv(dmy_slash),
        "excel-serial-dates": to_csv(serial),
        "messy-labels": to_csv(messy),
        "xlsx-typed": to_xlsx(t),
        "xlsx-text": to_xlsx(t, typed=False),
        "parquet-typed": to_parquet(t),
        "parquet-text": to_parquet(t, typed=False),
    }


@pytest.fixture(scope="module")
def reference() -> Cohort:
    return load(to_csv(_latin_rows()), filename="ref.csv")


@pytest.mark.parametrize("variant", sorted(_variants()))
def test_round_trip_gives_identical_data_and_hash(variant, reference):
    data = _variants()[variant]
    c = load(io.BytesIO(data), filename="upload.bin")
    pd.testing.assert_frame_equal(c.data, reference.data)
    assert c.sha256 == reference.sha256
    assert c.data[C.CENTRE_ID].iloc[0] == "Módena"


def test_hash_changes_with_content(reference):
    other = load(to_csv(edit(_latin_rows(), "S02", C.TUMOUR_SIZE, "25.5")))
    assert other.sha256 != reference.sha256


def test_validated_table_can_be_written_and_read_back(tmp_path, reference):
    path = tmp_path / "export.parquet"
    reference.data.to_parquet(path)
    again = load(path)
    assert again.sha256 == reference.sha256
    pd.testing.assert_frame_equal(again.data, reference.data)
    csv_path = tmp_path / "export.csv"
    reference.data.to_csv(csv_path, index=False)
    assert load(csv_path).sha256 == reference.sha256


def test_canonical_serialisation_is_as_documented(valid):
    text = canonical_csv(valid.data).decode().splitlines()
    assert text[0].startswith('"patient_id","centre_id","treatment_group","diagnosis_date","age_at_diagnosis"')
    assert text[1].startswith('"007","MOD","surgery","2019-01-10","58","M","0","head","32.5","borderline","850.0"')
    assert len(text) == 7


def test_source_kinds(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(VALID.read_bytes())
    assert load(str(path)).source_name == "c.csv"
    assert load(path, filename="shown.csv").source_name == "shown.csv"
    with open(path, "rb") as fh:
        assert load(fh).n_patients == 6
    assert load(bytearray(VALID.read_bytes())).source_name == "upload"
    with pytest.raises(TypeError):
        load(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        load(io.StringIO("a,b"))  # type: ignore[arg-type]
    assert "could not be opened" in problems_of(tmp_path / "missing.csv")[0].message


def test_programming_errors_in_validation_are_not_hidden(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(cohort_mod, "_check_rules", broken)
    with pytest.raises(KeyError):
        load(VALID)


# ------------------------------------------------------------------------------------------
# robustness: nothing but CohortValidationError (or success) for any bytes

VALID_BYTES = VALID.read_bytes()
VALID_LINES = VALID.read_text().splitlines()
XLSX_BYTES = to_xlsx(rows())

_tricky = st.sampled_from(["", "NA", '"', '""', ",", ";", "\t", "\n", "\r", "\x00", "é", "€", "1e999", "-0",
                           "nan", "inf", "9" * 40, "2020-02-30", "01/13/2020", "TP", "V", "dead", "surgery",
                           "not_applicable", "=1+1", "\ufeff", " ", "0.5", "3,5"])


@st.composite
def mutated_csv(draw) -> bytes:
    lines = list(VALID_LINES)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cell", "cell", "delete", "duplicate", "insert", "truncate"]))
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if not lines:
            break
        if op == "cell":
            cells = lines[i].split(",")
            j = draw(st.integers(0, len(cells) - 1))
            cells[j] = draw(_tricky | st.text(max_size=8))
            lines[i] = ",".join(cells)
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(st.sampled_from([",", ";", '"', "\t", "\n", "'", "\x00"])) + lines[i][pos:]
        elif op == "truncate":
            text = "\n".join(lines)
            lines = text[: draw(st.integers(0, len(text)))].split("\n")
    text = "\n".join(lines)
    sep = draw(st.sampled_from([",", ";", "\t"]))
    if sep != ",":
        text = text.replace(",", sep)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    return text.encode(encoding, errors="replace")


def _assert_only_validation_errors(data: bytes, filename: str | None) -> None:
    try:
        c = load(data, filename=filename)
    except CohortValidationError as err:
        assert err.problems and all(isinstance(p.message, str) and p.message for p in err.problems)
    else:
        assert isinstance(c, Cohort) and len(c.data) > 0


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_csv(), filename=st.sampled_from([None, "x.csv", "x.xlsx", "x.parquet", "x.txt"]))
def test_mutated_csv_gives_only_validation_errors(data, filename):
    _assert_only_validation_errors(data, filename)


@settings(max_examples=60, deadline=None)
@given(
    prefix=st.sampled_from([b"", b"PK\x03\x04", b"PAR1", b"\xef\xbb\xbf", b"\xff\xfe", b"\x89PNG", b"patient_id,"]),
    body=st.binary(max_size=300),
    filename=st.sampled_from([None, "x.csv", "x.xlsx", "x.parquet"]),
)
def test_random_bytes_give_only_validation_errors(prefix, body, filename):
    _assert_only_validation_errors(prefix + body, filename)


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(0, len(XLSX_BYTES) - 1), flips=st.lists(st.integers(0, len(XLSX_BYTES) - 1), max_size=4))
def test_damaged_xlsx_gives_only_validation_errors(cut, flips):
    data = bytearray(XLSX_BYTES)
    for k in flips:
        data[k] ^= 0xFF
    _assert_only_validation_errors(bytes(data[: max(cut, 4)]) if cut % 2 else bytes(data), "x.xlsx")


# ------------------------------------------------------------------------------------------
# speed and the demo cohort


def test_100k_rows_load():
    """100,000 rows load, validate and derive (the time it takes: `make bench`, benchmarks/loading.py)."""
    header, body = VALID_LINES[0], VALID_LINES[1:]
    lines = [header] + [f"P{k}_{line}" for k in range(100_000 // len(body) + 1) for line in body][:100_000]
    data = ("\n".join(lines) + "\n").encode()
    c = load(data, filename="big.csv")
    assert len(c.data) == 100_000 and c.n_surgery == 50_001
    assert c.data[C.PATIENT_ID].is_unique
    # the derived columns are those of the same rows loaded alone (the first 6 rows are the valid file's)
    small = load(("\n".join([header, *lines[1:len(body) + 1]]) + "\n").encode(), filename="small.csv")
    derived = [col for col in small.data.columns if col != C.PATIENT_ID]
    pd.testing.assert_frame_equal(c.data[derived].iloc[:len(body)].reset_index(drop=True),
                                  small.data[derived].reset_index(drop=True))


@pytest.mark.skipif(not DEMO_PATH.exists(), reason="data/demo_cohort.parquet is written by core.synthetic")
def test_demo_cohort_loads():
    c = demo()
    assert c.source_name == "demo" and c.n_surgery > 0 and c.n_chemotherapy > 0
    assert c.sha256 == load(DEMO_PATH).sha256


def test_demo_reads_the_shipped_parquet_file(tmp_path, monkeypatch):
    path = tmp_path / "demo_cohort.parquet"
    path.write_bytes(to_parquet(rows()))
    monkeypatch.setattr(cohort_mod, "DEMO_PATH", path)
    c = demo()
    assert c.source_name == "demo" and c.sha256 == load(VALID).sha256
    monkeypatch.setattr(cohort_mod, "DEMO_PATH", tmp_path / "absent.parquet")
    with pytest.raises(CohortValidationError):
        demo()


def test_none_is_a_label_where_the_dictionary_allows_it():
    """'none' is a POPF / PHLF / vascular-resection grade, not a missing value, in those columns."""
    from core.dictionary import C

    data = load(CORPUS / "valid_minimal.csv").data
    first = data.iloc[0]
    assert first[C.PHLF] == "none"
    second = data.iloc[1]
    assert second[C.VASCULAR_RESECTION] == "none"


def _canonical_by_csv_module(data: pd.DataFrame) -> bytes:
    """The documented serialisation written with Python's csv module, cell by cell (the hash's reference)."""
    import csv

    from core.dictionary import IMPORTED

    def cell(c, v) -> str:
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            return ""
        if c.kind == "date":
            return pd.Timestamp(v).strftime("%Y-%m-%d")
        if c.kind == "number":
            return repr(float(v))
        if c.kind == "boolean":
            return "true" if bool(v) else "false"
        return str(v)

    out = io.StringIO()
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    # dictionary 1.0 columns always; a later (optional) column only when some patient has a value
    used = [c for c in IMPORTED if c.since == "1.0" or (c.name in data.columns and data[c.name].notna().any())]
    w.writerow([c.name for c in used])
    cols = [(c, data[c.name].tolist() if c.name in data.columns else [None] * len(data)) for c in used]
    for i in range(len(data)):
        w.writerow([cell(c, values[i]) for c, values in cols])
    return out.getvalue().encode("utf-8")


def test_canonical_serialisation_equals_the_csv_module_cell_by_cell(valid):
    from core import synthetic

    awkward = valid.data.copy()
    awkward.loc[awkward.index[0], C.CENTRE_ID] = 'say "hi", twice'
    big = load(synthetic.generate(n_surgery=300, n_chemotherapy=400, seed=11).to_csv(index=False).encode(),
               filename="s.csv")
    for data in (valid.data, awkward, demo().data, big.data, valid.data.iloc[:0]):
        assert canonical_csv(data) == _canonical_by_csv_module(data)


# ------------------------------------------------------------------------------------------
# dictionary 1.1 (issue 11): optional columns, their date rules, the 1.0 hash kept

#: Hash of tests/corpus/valid_minimal.csv (a 1.0 file) computed by the dictionary 1.0 code (main 7f07888).
VALID_HASH_1_0 = "1a15d4ca13ce3ff7aa35df44c1a141a7e9305f02c57f8d61513f455402d046ed"
V11 = (C.CEA_BASELINE, C.CHEMO_END_DATE, C.RESTAGING_DATE, C.MDT_DATE, C.EXPLORATION_DATE)


def with_v11(values: dict[str, dict[str, str]]) -> list[list[str]]:
    """The valid 1.0 fixture with the 1.1 columns appended; ``values``: patient id -> column -> text."""
    t = rows()
    t[0] += list(V11)
    for r in t[1:]:
        r += [values.get(r[0], {}).get(col, "") for col in V11]
    return t


#: Consistent 1.1 values for the fixture's patients (surgery 007 and S02, chemotherapy C03 explored).
GOOD_V11 = {
    "007": {C.RESTAGING_DATE: "2019-04-20", C.MDT_DATE: "2019-05-02", C.EXPLORATION_DATE: "2019-06-20",
            C.CHEMO_END_DATE: "2019-05-30", C.CEA_BASELINE: "7.5"},
    "S02": {C.RESTAGING_DATE: "2020-06-15", C.EXPLORATION_DATE: "2020-08-20", C.CEA_BASELINE: "2.5"},
    "C03": {C.RESTAGING_DATE: "2022-05-20", C.MDT_DATE: "2022-05-27", C.EXPLORATION_DATE: "2022-06-20",
            C.CHEMO_END_DATE: "2022-06-01"},
}


def test_a_1_0_file_loads_unchanged_with_its_1_0_hash():
    c = load(VALID)
    assert c.sha256 == VALID_HASH_1_0 and c.dictionary_version == "1.1.0"
    assert all(c.data[col].isna().all() for col in V11)
    assert c.data[C.EXPLORED_NOT_RESECTED].isna().all()  # not collected: unknown, not "no"
    empty = load(to_csv(with_v11({})))  # the 1.1 columns present but empty: the same content, the same hash
    assert empty.sha256 == VALID_HASH_1_0
    pd.testing.assert_frame_equal(empty.data, c.data)


def test_1_1_values_load_and_enter_the_hash():
    c = load(to_csv(with_v11(GOOD_V11)), filename="v11.csv")
    d = c.data.set_index(C.PATIENT_ID)
    assert d.loc["007", C.MDT_DATE] == pd.Timestamp("2019-05-02")
    assert d.loc["S02", C.CEA_BASELINE] == 2.5 and np.isnan(d.loc["C01", C.CEA_BASELINE])
    assert d[C.EXPLORED_NOT_RESECTED].astype("object").to_dict() == {
        "007": False, "S02": False, "S03": False, "C01": False, "C02": False, "C03": True}
    assert c.sha256 != VALID_HASH_1_0
    header = canonical_csv(c.data).decode().splitlines()[0]
    assert '"cea_baseline"' in header and header.index('"lewis_negative"') < header.index('"cea_baseline"')


@pytest.mark.parametrize("pid, col, value, row, reported, fragment", [
    ("007", C.RESTAGING_DATE, "2019-01-20", 2, C.RESTAGING_DATE, "before chemo_start_date (2019-01-24)"),
    ("007", C.MDT_DATE, "2019-04-19", 2, C.MDT_DATE, "before restaging_date (2019-04-20)"),
    ("C01", C.MDT_DATE, "2019-06-14", 5, C.MDT_DATE, "before chemo_start_date (2019-06-15)"),  # no restaging date
    ("C03", C.EXPLORATION_DATE, "2022-02-20", 7, C.EXPLORATION_DATE, "on or before chemo_start_date (2022-02-20)"),
    ("007", C.EXPLORATION_DATE, "2019-06-21", 2, C.SURGERY_DATE, "before exploration_date (2019-06-21)"),
    ("C03", C.CHEMO_END_DATE, "2022-02-19", 7, C.CHEMO_END_DATE, "before chemo_start_date (2022-02-20)"),
    ("C03", C.MDT_DATE, "2023-01-11", 7, C.LAST_FOLLOWUP_DATE, "before mdt_decision_date (2023-01-11)"),
])
def test_1_1_date_rules_name_the_row(pid, col, value, row, reported, fragment):
    values = {k: dict(v) for k, v in GOOD_V11.items()}
    values.setdefault(pid, {})[col] = value
    problems = problems_of(to_csv(with_v11(values)))
    assert only(problems) == {(row, reported)}
    assert fragment in problems[0].message


def test_1_1_dates_of_adjuvant_only_surgery_may_precede_chemotherapy():
    values = {"S02": {C.EXPLORATION_DATE: "2020-03-01"}}
    t = with_v11(values)
    edit(t, "S02", C.CHEMO_SETTING, "adjuvant_only")
    edit(t, "S02", C.CHEMO_START_DATE, "2020-10-01")
    assert load(to_csv(t)).data[C.EXPLORATION_DATE].iloc[1] == pd.Timestamp("2020-03-01")


def test_negative_cea_is_out_of_range():
    problems = problems_of(to_csv(with_v11({"C01": {C.CEA_BASELINE: "-1"}})))
    assert only(problems) == {(5, C.CEA_BASELINE)} and "at least 0 ng/mL" in problems[0].message


def test_optional_columns_recorded_counts_values_per_arm():
    from core.cohort import optional_columns_recorded

    old = optional_columns_recorded(load(VALID).data)
    assert old["Column"].tolist() == ["CEA baseline (ng/mL)", "End of first-line chemotherapy", "Restaging date",
                                      "Multidisciplinary decision date", "Exploration date"]
    assert set(old["All"]) == {"0/6 (0.0%)"}
    new = optional_columns_recorded(load(to_csv(with_v11(GOOD_V11))).data).set_index("Column")
    # GOOD_V11: restaging for 007, S02 (surgery) and C03 (chemotherapy); exploration for 007, S02 and C03
    assert new.loc["Restaging date"].tolist() == ["2/3 (66.7%)", "1/3 (33.3%)", "3/6 (50.0%)"]
    assert new.loc["CEA baseline (ng/mL)"].tolist() == ["2/3 (66.7%)", "0/3 (0.0%)", "2/6 (33.3%)"]
