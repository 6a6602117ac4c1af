"""Regenerate the bad files of this corpus from valid_minimal.csv (run once; outputs are committed).

Each file carries a few deliberate edits; the problems each must report are listed BY HAND in
expected.json (not computed by this script or by core.cohort).
Run: python tests/corpus/make_corpus.py
"""

import csv
import io
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROWS = list(csv.reader(io.StringIO((HERE / "valid_minimal.csv").read_text())))
HEADER = ROWS[0]


def edited(edits: dict, drop: tuple = (), sep: str = ",") -> str:
    rows = [list(r) for r in ROWS]
    for (pid, col), value in edits.items():
        r = next(r for r in rows[1:] if r[0] == pid)
        r[HEADER.index(col)] = value
    keep = [i for i, h in enumerate(HEADER) if h not in drop]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    for r in rows:
        w.writerow([r[i] for i in keep])
    return buf.getvalue()


def write(name: str, text: str) -> None:
    (HERE / name).write_text(text, encoding="utf-8")


write("missing_required_column.csv", edited({}, drop=("sex",)))
write("missing_values.csv", edited({("S02", "sex"): "n.d.", ("C01", "centre_id"): ""}))
write("unknown_category.csv", edited({("S02", "sex"): "X", ("C01", "chemo_regimen"): "FOLFOX"}))
write("out_of_range.csv", edited({("007", "age_at_diagnosis"): "17", ("C02", "ecog_baseline"): "5",
                                  ("C03", "liver_mets_n"): "0"}))
write("non_numeric.csv", edited({("S02", "tumour_size_mm"): "abc", ("C01", "ca19_9_baseline"): "12 U/ml",
                                 ("C02", "age_at_diagnosis"): "64.5"}))
write("bad_dates.csv", edited({("007", "diagnosis_date"): "2020-13-45", ("S02", "last_imaging_date"): "yesterday",
                               ("C02", "last_followup_date"): "12.03.20"}))
write("ambiguous_dates.csv", edited({("007", "diagnosis_date"): "01/13/2019", ("S02", "diagnosis_date"): "03/05/2020"}))
write("date_order.csv", edited({("C02", "chemo_start_date"): "2020-01-01", ("S02", "surgery_date"): "2020-03-10",
                                ("007", "progression_or_recurrence_date"): "2019-05-01",
                                ("C03", "last_followup_date"): "2022-12-01", ("C02", "last_imaging_date"): "2020-07-01",
                                ("S03", "chemo_setting"): "adjuvant_only", ("S03", "chemo_start_date"): "2021-12-01"}))
write("arm_rules.csv", edited({("C01", "pancreatic_procedure"): "PD", ("C02", "length_of_stay_days"): "10",
                               ("007", "chemo_setting"): "palliative"}))
write("conditional_missing.csv", edited({("S02", "surgery_date"): "", ("S02", "liver_segments_n"): "NA",
                                         ("C01", "death_date"): "", ("C02", "death_date"): "2020-05-15",
                                         ("C03", "progression_or_recurrence_date"): "",
                                         ("S02", "progression_or_recurrence_date"): "2021-01-10"}))
write("clavien_v.csv", edited({("S03", "clavien_dindo_90d"): "IIIb", ("007", "clavien_dindo_90d"): "V"}))
write("popf_tp.csv", edited({("S03", "popf_grade"): "B", ("S02", "popf_grade"): "not_applicable"}))
write("duplicate_ids.csv", edited({("C02", "patient_id"): "S02", ("C03", "patient_id"): "007"}))
write("mixed_decimal.csv", edited({("007", "tumour_size_mm"): "32,5"}))
ragged = edited({}).splitlines()
ragged[3] = ragged[3] + ",extra"
write("ragged.csv", "\n".join(ragged) + "\n")
write("header_only.csv", ",".join(HEADER) + "\n")
write("one_column.csv", "patient_id\n007\nS02\n")
(HERE / "empty.csv").write_bytes(b"")
# deterministic binary garbage (a linear congruential sequence, includes NUL bytes)
x, junk = 12345, bytearray()
for _ in range(600):
    x = (1103515245 * x + 12345) % 2**31
    junk.append(x >> 23)
(HERE / "garbage.bin").write_bytes(bytes(junk))
# a tiny PNG header + chunk (not a table)
(HERE / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
# a CSV saved under an Excel name: must still load (as CSV, with a note)
(HERE / "csv_named.xlsx").write_text(edited({}), encoding="utf-8")
# a real xlsx cut in half, and a zip that is not a workbook
import openpyxl  # noqa: E402

wb = openpyxl.Workbook()
ws = wb.active
for r in ROWS:
    ws.append(r)
buf = io.BytesIO()
wb.save(buf)
(HERE / "truncated.xlsx").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w") as z:
    z.writestr("hello.txt", "not a workbook")
(HERE / "not_a_workbook.xlsx").write_bytes(zbuf.getvalue())
(HERE / "truncated.parquet").write_bytes(b"PAR1" + bytes(range(200)))
