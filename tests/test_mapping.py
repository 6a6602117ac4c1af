"""core.mapping: proposals for real exports, codes, dates, REDCap checkboxes, checks and the mapping file.

The exports in tests/exports/ were written by hand as the centres would (see make_exports.py for
the workbook); every expected mapping below is typed here, not produced by the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import mapping as m
from core.dictionary import IMPORTED, SYNONYMS, VALUE_SYNONYMS, C
from core.export_profile import profile
from core.mapping import CheckboxRule, ExportMapping, MappingFileError
from core.readers import read_table

EXPORTS = Path(__file__).resolve().parent / "exports"
CORPUS = Path(__file__).resolve().parent / "corpus"


def _prof(data: bytes | Path):
    return profile(read_table(data, filename="x.csv") if isinstance(data, bytes) else read_table(data))


# --- the dictionary's synonyms ------------------------------------------------------------------

def test_every_column_synonym_proposes_its_own_column():
    for column, names in SYNONYMS.items():
        for name in names:
            hit = m.match_header(name)
            assert hit is not None and hit[0] == column, (column, name, hit)
    for c in IMPORTED:
        assert m.match_header(c.name) == (c.name, "dictionary name")


def test_every_code_synonym_proposes_its_own_label():
    for column, table in VALUE_SYNONYMS.items():
        for lab, synonyms in table.items():
            for text in synonyms:
                status, got = m.code_status(column, text)
                assert status in ("known", "synonym") and got == lab, (column, text, status, got)


def test_codes_the_loader_reads_need_no_mapping():
    assert m.code_status(C.TREATMENT_GROUP, " Chemotherapy ") == ("known", "chemotherapy")
    assert m.code_status(C.LIVER_ABLATION, "Sì") == ("known", "true")
    assert m.code_status(C.LIVER_ABLATION, "Checked") == ("synonym", "true")
    assert m.code_status(C.POPF, "none") == ("known", "none")
    assert m.code_status(C.CLAVIEN_DINDO, "none") == ("synonym", "0")  # a missing token elsewhere, grade 0 here
    assert m.code_status(C.SEX, "NA") == ("missing", None)
    assert m.code_status(C.PANCREATIC_PROCEDURE, "Whipple") == ("synonym", "PD")
    assert m.code_status(C.RECIST, "PD") == ("known", "PD")
    assert m.code_status(C.CHEMO_REGIMEN, "GnP") == ("unknown", None)


# --- proposals for three real exports -----------------------------------------------------------

ITALIAN_COLUMNS = {
    "Codice paziente": "patient_id", "Centro": "centre_id", "Gruppo": "treatment_group",
    "Data diagnosi": "diagnosis_date", "Età": "age_at_diagnosis", "Sesso": "sex", "ECOG PS": "ecog_baseline",
    "Sede tumore": "tumour_location", "Dimensione tumore (mm)": "tumour_size_mm", "Resecabilità": "resectability",
    "CA 19-9 basale (U/ml)": "ca19_9_baseline", "CA 19-9 ristadiazione": "ca19_9_restaging",
    "N. metastasi epatiche": "liver_mets_n", "Diametro massimo metastasi (mm)": "liver_mets_max_mm",
    "Metastasi bilobari": "liver_mets_bilobar", "Data inizio chemioterapia": "chemo_start_date",
    "Schema chemioterapia": "chemo_regimen", "Cicli": "chemo_cycles", "Setting": "chemo_setting",
    "Risposta RECIST": "recist_response", "Data intervento": "surgery_date",
    "Tipo di intervento": "pancreatic_procedure", "Resezione vascolare": "vascular_resection",
    "Resezione epatica": "liver_procedure", "Segmenti resecati": "liver_segments_n",
    "Timing resezione epatica": "liver_resection_timing", "Ablazione": "liver_ablation", "ypT": "yp_t",
    "ypN": "yp_n", "Margine": "resection_margin", "Clavien-Dindo": "clavien_dindo_90d",
    "Fistola pancreatica": "popf_grade", "Insufficienza epatica": "phlf_grade", "Reintervento": "reoperation_90d",
    "Riammissione": "readmission_90d", "Degenza (giorni)": "length_of_stay_days",
    "Chemioterapia adiuvante": "adjuvant_chemo", "Recidiva/progressione": "progression_or_recurrence",
    "Data recidiva/progressione": "progression_or_recurrence_date", "Sede recidiva": "recurrence_site",
    "Data ultima TC": "last_imaging_date", "Stato in vita": "vital_status", "Data decesso": "death_date",
    "Data ultimo follow-up": "last_followup_date", "Note": None,
}

ITALIAN_CODES = {
    "treatment_group": {"Chirurgia": "surgery", "Chemioterapia": "chemotherapy"},
    "sex": {"Maschio": "M", "Femmina": "F"},
    "tumour_location": {"Testa": "head", "Corpo-coda": "body_tail"},
    "resectability": {"Resecabile": "resectable"},
    "chemo_regimen": {"Gemcitabina": "GEM", "Gemcitabina + capecitabina": "GEMCAP"},
    "chemo_setting": {"Neoadiuvante": "neoadjuvant", "Perioperatoria": "perioperative", "Palliativa": "palliative"},
    "pancreatic_procedure": {"Whipple": "PD", "Splenopancreasectomia distale": "DP", "Pancreasectomia totale": "TP"},
    "vascular_resection": {"Venosa": "venous", "Nessuna": "none", "Venosa e arteriosa": "both"},
    "liver_procedure": {"Resezione atipica": "wedge", "Segmentectomia": "segmentectomy",
                        "Epatectomia destra": "hemihepatectomy"},
    "liver_resection_timing": {"Sincrona": "simultaneous", "In due tempi": "staged"},
    "yp_t": {"ypT1": "T1", "ypT2": "T2", "ypT3": "T3"},
    "yp_n": {"ypN0": "N0", "ypN1": "N1", "ypN2": "N2"},
    "popf_grade": {"Leak biochimico": "BL", "Non applicabile": "not_applicable"},
    "phlf_grade": {"No": "none"},
    "recurrence_site": {"Epatica": "liver", "Fegato": "liver", "Multipla": "multiple"},
    "vital_status": {"Deceduto": "dead", "Deceduta": "dead", "Viva": "alive", "Vivo": "alive"},
}


def test_italian_export_proposal():
    p = _prof(EXPORTS / "modena_it.csv")
    proposal = m.propose(p)
    assert proposal.mapping.columns == ITALIAN_COLUMNS
    assert proposal.mapping.values == ITALIAN_CODES
    assert proposal.mapping.date_order == m.DAY_FIRST  # 25/03/2021 can only be day first
    assert proposal.how["Sesso"] == "other name 'sesso'" and proposal.how["ypT"] == "dictionary name"
    assert proposal.how["Note"] == ""
    undecided = [(r.target, r.code) for r in m.codes_to_review(p, proposal.mapping) if r.label is None]
    assert undecided == [("chemo_regimen", "GnP")]
    assert not m.is_plain(p, proposal)


def test_english_workbook_proposal():
    p = _prof(EXPORTS / "london_en.xlsx")
    proposal = m.propose(p)
    cols = proposal.mapping.columns
    assert None not in cols.values() and len(set(cols.values())) == 46  # every dictionary column, once
    assert (cols["Patient ID"], cols["Hospital"], cols["Arm"], cols["Gender"], cols["Operation"], cols["R status"],
            cols["Last CT"], cols["Status"]) == ("patient_id", "centre_id", "treatment_group", "sex",
                                                 "pancreatic_procedure", "resection_margin", "last_imaging_date",
                                                 "vital_status")
    v = proposal.mapping.values
    assert v["treatment_group"] == {"Resected": "surgery"}  # 'Palliative chemo' is left to the user
    assert v["clavien_dindo_90d"] == {"2": "II", "3a": "IIIa", "5": "V"}
    assert v["pancreatic_procedure"] == {"Whipple": "PD", "Distal pancreatectomy": "DP", "Total pancreatectomy": "TP"}
    assert proposal.mapping.date_order is None  # date cells and Excel serial numbers: nothing to ask
    undecided = [(r.target, r.code) for r in m.codes_to_review(p, proposal.mapping) if r.label is None]
    assert undecided == [("treatment_group", "Palliative chemo")]


def test_redcap_export_proposal():
    p = _prof(EXPORTS / "redcap_raw.csv")
    proposal = m.propose(p)
    cols = proposal.mapping.columns
    assert cols["record_id"] == "patient_id" and cols["redcap_data_access_group"] == "centre_id"
    assert [c for c, t in cols.items() if t is None] == [
        "dimensione", "diam_max_met", "setting_ct", "baseline_complete", "tipo_res_epatica", "vitalita_met",
        "chirurgia_complete", "follow_up_complete"]
    assert not any("___" in c for c in cols)  # checkbox columns are handled as fields
    boxes = proposal.mapping.checkboxes
    assert boxes["resezione_vascolare"] == CheckboxRule("vascular_resection", {}, "both")
    assert boxes["sede_recidiva"] == CheckboxRule("recurrence_site", {}, "multiple")
    # raw codes 1/2 say nothing by themselves: only known spellings are proposed
    assert proposal.mapping.values == {"clavien_dindo_90d": {"2": "II"}, "phlf_grade": {"0": "none"}}


def test_labels_export_checkboxes_get_their_labels_proposed():
    p = _prof(b"Record ID,Sede della recidiva (choice=Fegato),Sede della recidiva (choice=Polmone),"
              b"Sede della recidiva (choice=Altro)\nA,Checked,Unchecked,Unchecked\n")
    rule = m.propose(p).mapping.checkboxes["Sede della recidiva"]
    assert rule == CheckboxRule("recurrence_site", {"Fegato": "liver", "Polmone": "lung"}, "multiple")


def test_one_dictionary_column_is_proposed_for_one_export_column_only():
    p = _prof(b"sex,Sesso,Gender\nF,Femmina,female\n")
    proposal = m.propose(p)
    assert proposal.mapping.columns == {"sex": "sex", "Sesso": None, "Gender": None}
    assert proposal.how["Sesso"] == "also matches sex, already taken by 'sex'"
    assert not m.is_plain(p, proposal)


def test_similar_names_are_proposed_and_said_so():
    proposal = m.propose(_prof(b"Data diagnosis,Tumor sizes\n2020-01-01,3\n"))
    assert proposal.mapping.columns == {"Data diagnosis": "diagnosis_date", "Tumor sizes": "tumour_size_mm"}
    assert proposal.how["Data diagnosis"].startswith("similar name (")
    assert m.propose(_prof(b"Notes,Site notes\nx,y\n")).mapping.columns == {"Notes": None, "Site notes": None}


def test_our_own_layout_is_plain():
    for path in (CORPUS / "valid_minimal.csv", EXPORTS / "expected.csv"):
        p = _prof(path)
        assert m.is_plain(p, m.propose(p)), path
    p = _prof(b"Patient ID,sex,my_notes\nA,F,x\n")
    assert m.is_plain(p, m.propose(p))
    p = _prof(b"patient_id,sex\nA,Maschio\n")  # our names, an other code
    assert not m.is_plain(p, m.propose(p))


# --- dates --------------------------------------------------------------------------------------

def test_ambiguous_day_month_is_asked_not_guessed():
    p = _prof(b"Data diagnosi,Data decesso\n03/11/2021,04/12/2022\n05/06/2020,\n")
    proposal = m.propose(p)
    q = m.date_question(p, proposal.mapping)
    assert q.needed and q.detected is None and q.ambiguous == 3 and not q.conflict
    assert proposal.mapping.date_order is None
    assert m.check(proposal.mapping, p) == [
        "Say whether dates such as '03/11/2021' (Data diagnosi) are day/month/year or month/day/year."]
    assert not m.is_plain(p, proposal)
    p2 = _prof(b"diagnosis_date\n03/11/2021\n")  # our own column name: still asked
    assert not m.is_plain(p2, m.propose(p2))


def test_dates_that_read_one_way_set_the_order_and_contradictions_are_flagged():
    p = _prof(b"diagnosis date,death date\n03/25/2021,04/12/2022\n")
    assert m.date_question(p, m.propose(p).mapping).detected == m.MONTH_FIRST
    p = _prof(b"diagnosis date,death date\n03/25/2021,25/03/2022\n")
    q = m.date_question(p, m.propose(p).mapping)
    assert q.conflict and q.detected is None
    assert q.day_first_example == "'25/03/2022' (death date)" and q.month_first_example == "'03/25/2021' (diagnosis date)"


def test_iso_date():
    assert m.iso_date("03/11/2021", "dmy") == "2021-11-03"
    assert m.iso_date("03/11/2021", "mdy") == "2021-03-11"
    assert m.iso_date("3.11.2021", "dmy") == "2021-11-03"
    assert m.iso_date("03-11-2021 00:00", "dmy") == "2021-11-03"
    assert m.iso_date("31/02/2021", "dmy") == "2021-02-31"  # the loader reports the impossible date
    assert m.iso_date("44292", None) == "2021-04-06"
    assert m.iso_date("44292.5", None) == "2021-04-06"
    assert m.iso_date("12345", None) is None  # 1933: not a study date
    assert m.iso_date("03/11/2021", None) is None
    assert m.iso_date("03/11/21", "dmy") is None  # two-digit years go to the loader, which refuses them


# --- applying -----------------------------------------------------------------------------------

def test_apply_renames_recodes_and_rewrites_dates():
    raw = read_table(b"Sesso;Data;Sesso del paziente;sex\nMaschio;03/11/2021;x;y\n femmina ;n.d.;x;y\nND;;x;y\n")
    mp = ExportMapping({"Sesso": "sex", "Data": "death_date", "Sesso del paziente": None, "sex": None},
                       values={"sex": {"MASCHIO": "M", "Femmina": "F", "nd": ""}}, date_order="mdy")
    out = m.apply(raw, mp)
    assert out.raw.frame.to_dict("list") == {
        "sex": ["M", "F", None], "death_date": ["2021-03-11", "n.d.", ""], "Sesso del paziente": ["x", "x", "x"],
        "sex (not used)": ["y", "y", "y"]}
    assert out.raw.rows.tolist() == [2, 3, 4] and out.problems == ()
    assert out.origin["sex"][0] == "Sesso" and out.origin["sex"][1].tolist() == ["Maschio", " femmina ", "ND"]


def test_apply_combines_checkboxes():
    raw = read_table(b"id,v___0,v___1,v___2\nA,0,1,0\nB,0,1,1\nC,0,0,0\nD,1,0,0\nE,0,2,0\n")
    rule = CheckboxRule(C.VASCULAR_RESECTION, {"0": "none", "1": "venous", "2": "arterial"}, "both")
    out = m.apply(raw, ExportMapping({"id": "patient_id"}, {"v": rule}))
    assert out.raw.frame[C.VASCULAR_RESECTION].tolist() == ["venous", "both", None, "none", None]
    assert [(p.row, p.column, p.value) for p in out.problems] == [(6, "vascular_resection (v___1)", "2")]
    assert out.origin[C.VASCULAR_RESECTION][1].tolist()[1] == "v___1, v___2"
    assert "v___0" not in out.raw.frame.columns


def test_several_boxes_without_a_label_and_undecided_boxes_are_problems():
    raw = read_table(b"s___1,s___2,s___3\n1,1,0\n0,0,1\n1,0,0\n")
    out = m.apply(raw, ExportMapping({}, {"s": CheckboxRule(C.RECURRENCE_SITE, {"1": "liver", "2": "lung"})}))
    assert out.raw.frame[C.RECURRENCE_SITE].tolist() == [None, None, "liver"]
    messages = {(p.row, p.message.split(" ")[0]) for p in out.problems}
    assert messages == {(2, "Several"), (3, "This")}
    ignored = m.apply(raw, ExportMapping({}, {"s": CheckboxRule(C.RECURRENCE_SITE, {"1": "liver", "2": "lung",
                                                                                     "3": None}, "multiple")}))
    assert ignored.raw.frame[C.RECURRENCE_SITE].tolist() == ["multiple", None, "liver"] and ignored.problems == ()


def test_a_field_not_used_keeps_its_columns_as_text():
    raw = read_table(b"id,s___1,s___2\nA,1,0\n")
    out = m.apply(raw, ExportMapping({"id": "patient_id"}, {"s": CheckboxRule(None)}))
    assert list(out.raw.frame.columns) == ["patient_id", "s___1", "s___2"]


# --- checks -------------------------------------------------------------------------------------

def test_check_lists_what_blocks_a_mapping():
    mp = ExportMapping({"Sesso": "sex", "Genere": "sex", "Eta": "age", "Gruppo": "treatment_group"},
                       {"v": CheckboxRule(C.AGE, {}), "w": CheckboxRule(C.RECURRENCE_SITE, {"1": "spleen"})},
                       values={"treatment_group": {"1": "operated"}, "liver_ablation": {"x": "maybe"}},
                       date_order="ymd")
    got = m.check(mp)
    assert got == [
        "'age' (for the export column 'Eta') is not a column of the data dictionary.",
        "The checkbox field 'v' can only fill a category column, not 'age_at_diagnosis'.",
        "The checkbox field 'w' uses labels that recurrence_site does not have: spleen. "
        "Allowed: local, liver, lung, peritoneum, nodes, multiple.",
        "The export columns 'Sesso' and 'Genere' are both mapped to sex: choose one.",
        "Codes of treatment_group are mapped to labels it does not have: operated. Allowed: surgery, chemotherapy.",
        "Codes of liver_ablation are mapped to labels it does not have: maybe. Allowed: true, false.",
        "The date order must be 'dmy' or 'mdy', not 'ymd'.",
    ]
    assert m.check(ExportMapping({"Sesso": "sex"}, {"s": CheckboxRule(C.SEX, {})})) == [
        "The export columns 'Sesso' and the checkbox field 's' are both mapped to sex: choose one."]


def test_fit_of_a_saved_mapping():
    p = _prof(EXPORTS / "modena_it.csv")
    saved = m.merge(ExportMapping({}, values={"chemo_regimen": {"GnP": "GEM_NABPAC"}}), m.propose(p).mapping)
    assert m.fit_problems(saved, p) == []
    # the next export: a renamed column, a new column, a new code, and a date that only reads month first
    text = (EXPORTS / "modena_it.csv").read_bytes().decode("cp1252")
    text = text.replace("Sede tumore", "Localizzazione").replace(";Note", ";Note;Altro").replace("GnP", "FOLFOX")
    text = text.replace("25/03/2021", "03/25/2021")
    lines = text.split("\r\n")
    nxt = "\r\n".join([lines[0]] + [ln + ";" for ln in lines[1:] if ln] + [""])
    problems = m.fit_problems(saved, _prof(nxt.encode("cp1252")))
    assert problems == [
        "The mapping names columns that this export does not have: 'Sede tumore'.",
        "This export has columns the mapping does not cover: 'Localizzazione', 'Altro'.",
        "This export has codes the mapping does not cover: chemo_regimen 'FOLFOX'.",
        "The mapping reads dates as day/month/year, but this export has '03/25/2021' (Data diagnosi), "
        "which cannot be read so.",
    ]


def test_a_new_code_is_not_covered_even_when_a_synonym_would_read_it():
    """The user confirms every code: 'Maschio' in the next export is not applied unasked."""
    saved = ExportMapping({"Sesso": "sex"}, values={"sex": {"Femmina": "F"}})
    assert m.fit_problems(saved, _prof(b"Sesso\nFemmina\nF\n")) == []
    assert m.fit_problems(saved, _prof(b"Sesso\nFemmina\nMaschio\n")) == [
        "This export has codes the mapping does not cover: sex 'Maschio'."]


def test_fit_flags_new_checkbox_boxes_and_fields():
    saved = ExportMapping({"id": "patient_id"}, {"s": CheckboxRule(C.RECURRENCE_SITE, {"1": "liver"})})
    p = _prof(b"id,s___1,s___2,t___1\nA,1,0,0\n")
    assert m.fit_problems(saved, p) == [
        "The checkbox field 's' has boxes the mapping does not cover: 2.",
        "This export has a checkbox field the mapping does not cover: 't'.",
    ]


def test_merge_keeps_the_saved_choices_and_proposes_the_rest():
    saved = ExportMapping({"Sesso": "sex"}, {"s": CheckboxRule(C.RECURRENCE_SITE, {"1": "liver"}, None)},
                          values={"sex": {"1": "M"}}, date_order="mdy")
    prop = ExportMapping({"Sesso": None, "Genere": "sex", "Eta": "age_at_diagnosis"},
                         {"s": CheckboxRule(C.RECURRENCE_SITE, {"2": "lung"}, "multiple"),
                          "t": CheckboxRule(C.VASCULAR_RESECTION)},
                         values={"sex": {"2": "F"}}, date_order="dmy")
    got = m.merge(saved, prop)
    assert got.columns == {"Sesso": "sex", "Genere": None, "Eta": "age_at_diagnosis"}
    assert got.checkboxes["s"] == CheckboxRule(C.RECURRENCE_SITE, {"2": "lung", "1": "liver"}, None)
    assert got.checkboxes["t"] == CheckboxRule(C.VASCULAR_RESECTION)
    assert got.values == {"sex": {"2": "F", "1": "M"}} and got.date_order == "mdy"


# --- the mapping file ---------------------------------------------------------------------------

def test_mapping_file_round_trip_holds_no_patient_data():
    p = _prof(EXPORTS / "redcap_raw.csv")
    mp = m.propose(p).mapping
    mp = ExportMapping(mp.columns, {**mp.checkboxes, "sede_recidiva": CheckboxRule(C.RECURRENCE_SITE, {"1": "local",
                       "2": "liver", "3": None}, "multiple")}, {**mp.values, "sex": {"1": "M", "2": "F"}}, "dmy")
    data = m.to_json(mp)
    assert m.from_json(data) == mp
    doc = json.loads(data)
    assert doc["kind"] == m.FILE_KIND and doc["version"] == 1 and doc["columns"]["record_id"] == "patient_id"
    text = data.decode()
    for value in ("101", "2021-03-25", "412.5", "mo_policlinico", "2023-01-12"):  # cells of the export
        assert value not in text


@pytest.mark.parametrize(("data", "message"), [
    (b"{not json", "The mapping file is not valid JSON (line 1, column 2"),
    (b"\xff\xfe{", "The mapping file is not UTF-8 text"),
    (b'{"kind": "something else"}', "This is not a mapping file of the PDAC-LM explorer"),
    (b'{"kind": "pdac-lm-export-mapping", "version": 2, "dictionary_version": "1.0.0"}',
     "The mapping file has format version 2; this explorer reads version 1."),
    (b'{"kind": "pdac-lm-export-mapping", "version": 1, "dictionary_version": "2.0.0"}',
     "The mapping was made for data dictionary version 2.0.0; this explorer uses 1.1.0."),
    (b'{"kind": "pdac-lm-export-mapping", "version": 1, "dictionary_version": "1.0.0", "columns": {"A": "sexx"}}',
     "'sexx' (for the export column 'A') is not a column of the data dictionary."),
    (b'{"kind": "pdac-lm-export-mapping", "version": 1, "dictionary_version": "1.0.0", "columns": {"A": 3}}',
     "In 'columns', 'A' must be a name or null, not 3."),
    (b'{"kind": "pdac-lm-export-mapping", "version": 1, "dictionary_version": "1.0.0", "values": {"sex": {"1": "X"}}}',
     "Codes of sex are mapped to labels it does not have: X. Allowed: F, M."),
    (b" " * (m.MAX_FILE_BYTES + 1), "a mapping file is at most 256 KB"),
])
def test_a_mapping_file_that_cannot_be_used_says_why(data, message):
    with pytest.raises(MappingFileError) as err:
        m.from_json(data)
    assert message in " ".join(err.value.messages)


def test_describe():
    assert m.describe(ExportMapping({"a": "sex"}, {"s": CheckboxRule(C.RECURRENCE_SITE)}, {})) == (
        "Read with a column mapping: 1 export column matched to the dictionary (0 not used), 1 checkbox field "
        "combined, 0 codes recoded.")
    assert m.describe(ExportMapping({"a": "sex", "b": None}, values={"sex": {"1": "M"}}, date_order="mdy")) == (
        "Read with a column mapping: 1 export column matched to the dictionary (1 not used), 1 code recoded, "
        "dates such as 03/11/2021 read as month/day/year.")
    assert "2 checkbox fields combined" in m.describe(ExportMapping(
        {}, {"s": CheckboxRule(C.RECURRENCE_SITE), "t": CheckboxRule(C.VASCULAR_RESECTION)}))


def test_italian_and_english_names_of_the_new_columns_are_recognised():
    for header, col in (("Data ristadiazione", C.RESTAGING_DATE), ("Restaging date", C.RESTAGING_DATE),
                        ("Data GOM", C.MDT_DATE), ("Tumour board date", C.MDT_DATE),
                        ("Data laparotomia esplorativa", C.EXPLORATION_DATE), ("Exploration date", C.EXPLORATION_DATE),
                        ("Data fine chemioterapia", C.CHEMO_END_DATE), ("End of chemotherapy", C.CHEMO_END_DATE),
                        ("CEA (ng/mL)", C.CEA_BASELINE), ("CEA basale", C.CEA_BASELINE)):
        assert m.match_header(header) is not None and m.match_header(header)[0] == col, header


def test_an_italian_export_with_the_1_1_columns_is_proposed_in_full(tmp_path):
    path = tmp_path / "export_1_1.csv"
    path.write_text("Codice paziente;Data ristadiazione;Data GOM;Data laparotomia esplorativa;Data fine chemio;CEA basale\n"
                    "P1;20/04/2021;02/05/2021;;30/05/2021;7,5\n", encoding="utf-8")
    proposal = m.propose(_prof(path))
    assert proposal.mapping.columns == {
        "Codice paziente": C.PATIENT_ID, "Data ristadiazione": C.RESTAGING_DATE, "Data GOM": C.MDT_DATE,
        "Data laparotomia esplorativa": C.EXPLORATION_DATE, "Data fine chemio": C.CHEMO_END_DATE,
        "CEA basale": C.CEA_BASELINE}
