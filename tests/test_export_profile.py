"""core.export_profile: what the mapping learns from an export (headers, codes, date forms, checkboxes)."""

from __future__ import annotations

from pathlib import Path

from core.export_profile import MAX_CODES, PREVIEW_ROWS, checkbox_parts, name_key, profile
from core.readers import read_table

EXPORTS = Path(__file__).resolve().parent / "exports"


def test_name_key_ignores_case_accents_punctuation_units_and_filler_words():
    assert name_key("Età") == name_key("eta") == "eta"
    assert name_key("CA 19-9") == name_key("ca19.9") == name_key("CA19_9") == "ca199"
    assert name_key("Data della diagnosi") == name_key("data_diagnosi") == "datadiagnosi"
    assert name_key("Date of death") == name_key("date death")
    assert name_key("Degenza (giorni)", drop_brackets=True) == "degenza"
    assert name_key("Degenza (giorni)") == "degenzagiorni"


def test_checkbox_columns_of_raw_and_labels_exports():
    assert checkbox_parts("sede_recidiva___1") == ("sede_recidiva", "1")
    assert checkbox_parts("vasc___neg_1") == ("vasc", "neg_1")
    assert checkbox_parts("Sede della recidiva (choice=Fegato)") == ("Sede della recidiva", "Fegato")
    assert checkbox_parts("sede_recidiva") is None
    assert checkbox_parts("a__b") is None


def test_the_italian_export_profile():
    p = profile(read_table(EXPORTS / "modena_it.csv"))
    assert p.n_rows == 6 and p.fmt == "csv" and len(p.columns) == 45
    assert p.names[:3] == ("Codice paziente", "Centro", "Gruppo")
    sex = p.column("Sesso")
    assert sex.codes == (("Femmina", 3), ("Maschio", 3)) and sex.filled == 6
    restaging = p.column("CA 19-9 ristadiazione")
    assert ("n.d.", 1) in restaging.codes and restaging.filled == 5  # n.d. is a missing-value token
    d = p.column("Data diagnosi").dates
    # 25/03/2021 only reads day first; 10/01/2022, 03/02/2022, 04/05/2021, 11/10/2022, 06/02/2023 read either way
    assert (d.day_first, d.month_first, d.either, d.same) == (1, 0, 5, 0)
    assert d.day_first_example == "25/03/2021"
    assert p.preview_rows == (2, 3, 4, 5, 6) and len(p.preview) == PREVIEW_ROWS
    assert p.preview[0][0] == "MO-001"
    assert p.groups() == {}
    assert any("Latin-1" in n for n in p.notes)


def test_the_redcap_export_profile_groups_checkbox_columns():
    p = profile(read_table(EXPORTS / "redcap_raw.csv"))
    groups = p.groups()
    assert groups["resezione_vascolare"] == (("0", "resezione_vascolare___0"), ("1", "resezione_vascolare___1"),
                                             ("2", "resezione_vascolare___2"))
    assert [opt for opt, _ in groups["sede_recidiva"]] == ["1", "2", "3", "4", "5"]
    assert p.column("data_diagnosi").dates.iso == 6


def test_excel_serial_numbers_and_date_cells_of_the_english_workbook():
    p = profile(read_table(EXPORTS / "london_en.xlsx"))
    assert p.fmt == "xlsx"
    start = p.column("Chemotherapy start")
    assert start.dates.serial == 6 and start.examples[0] == "44292"
    assert p.column("Date of diagnosis").dates.iso == 6  # date cells come back as ISO text
    assert p.column("Date of death").dates.serial == 3


def test_month_first_and_same_day_month_forms():
    p = profile(read_table(b"d\n03/25/2021\n03/03/2021\n2021-03-25\n12.11.2020\n"))
    f = p.column("d").dates
    assert (f.day_first, f.month_first, f.either, f.same, f.iso) == (0, 1, 1, 1, 1)
    assert f.month_first_example == "03/25/2021" and f.either_example == "12.11.2020"


def test_columns_with_many_distinct_values_list_no_codes():
    rows = "\n".join(f"P{i}" for i in range(MAX_CODES + 1))
    p = profile(read_table(f"id\n{rows}\n".encode()))
    assert p.column("id").codes is None and p.column("id").filled == MAX_CODES + 1


def test_preview_table_keeps_the_file_row_numbers():
    p = profile(read_table(b"a,b\n\n1,x\n\n2,y\n"))
    t = p.preview_table()
    assert t.rows.tolist() == [3, 5] and t.frame.to_dict("list") == {"a": ["1", "2"], "b": ["x", "y"]}


def test_the_committed_workbook_holds_the_hand_written_rows():
    import openpyxl

    from tests.exports import make_exports

    ws = openpyxl.load_workbook(EXPORTS / "london_en.xlsx").active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows == [make_exports.HEADER, *make_exports.ROWS]
