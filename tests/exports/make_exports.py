"""Write london_en.xlsx: the English-language export of a (fictional) London centre, by hand.

The same six patients as expected.csv, typed as a centre's data manager would: English headers
with units, its own codes ("Whipple", "Resected", "Palliative chemo"), dates as Excel date cells
in most columns but as bare Excel serial numbers in two (a column formatted as General), numbers
as numbers. Only literal values below; nothing from the code under test.

Run ``python -m tests.exports.make_exports`` to rewrite the file (it is committed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent

D = dt.datetime

HEADER = [
    "Patient ID", "Hospital", "Arm", "Date of diagnosis", "Age", "Gender", "ECOG", "Location", "Tumour size (mm)",
    "Resectability", "CA19-9 (U/mL)", "CA19-9 restaging (U/mL)", "Lewis negative", "Number of liver metastases",
    "Largest metastasis (mm)", "Bilobar", "Chemotherapy start", "Regimen", "Cycles", "Setting", "Best response",
    "Date of surgery", "Operation", "Vascular resection", "Liver resection", "Segments", "Timing", "Ablation",
    "ypT", "ypN", "R status", "Viable tumour in metastases", "Clavien-Dindo", "POPF", "PHLF", "Reoperation",
    "Readmission", "Length of stay (days)", "Adjuvant chemotherapy", "Recurrence", "Recurrence date",
    "Recurrence site", "Last CT", "Status", "Date of death", "Last follow-up",
]

# Chemotherapy start and Date of death are Excel serial numbers (44292 = 2021-04-06).
ROWS = [
    ["LON-01", "London", "Resected", D(2021, 3, 25), 61, "Male", 0, "Head", 32, "Borderline resectable", 412.5, 35.2,
     "No", 2, 14, "No", 44292, "mFOLFIRINOX", 8, "Neoadjuvant", "Partial response", D(2021, 9, 14), "Whipple",
     "Portal vein", "Wedge resection", 1, "Synchronous", "No", "T2", "N1", "R0", "Yes", 2, "Grade B", "No", "No",
     "Yes", 16, "Yes", "Yes", D(2022, 6, 30), "Liver", D(2022, 3, 28), "Deceased", 44938, D(2023, 1, 12)],
    ["LON-02", "London", "Resected", D(2022, 1, 10), 55, "Female", 1, "Body/tail", 41, "Resectable", 1250, 88,
     "No", 1, 22, "No", 44585, "FOLFIRINOX", 6, "Perioperative", "Stable disease", D(2022, 6, 7),
     "Distal pancreatectomy", "None", "Segmentectomy", 1, "Synchronous", "Yes", "T3", "N0", "R1", "No", "3a",
     "Biochemical leak", "Grade A", "No", "No", 9, "Yes", "No", None, None, D(2023, 5, 2), "Alive", None,
     D(2023, 6, 20)],
    ["LON-03", "London", "Resected", D(2022, 2, 3), 68, "Male", 1, "Head", 28, "Borderline resectable", 300, 40,
     "No", 4, 9, "Yes", 44607, "Gemcitabine + nab-paclitaxel", 6, "Neoadjuvant", "Partial response", D(2022, 7, 5),
     "Total pancreatectomy", "Venous and arterial", "Right hepatectomy", 4, "Staged", "No", "T1", "N2", "R0",
     "Not assessed", 5, "Not applicable", "Grade C", "Yes", "No", 30, "No", "No", None, None, D(2022, 7, 20),
     "Deceased", 44793, D(2022, 8, 20)],
    ["LON-04", "London", "Palliative chemo", D(2021, 5, 4), 72, "Female", 2, "Head", 35, "Resectable", 95, None,
     None, 3, 18, "Yes", 44334, "Gemcitabine", 4, "Palliative", "Progressive disease", None, None, None, None, None,
     None, None, None, None, None, None, None, None, None, None, None, None, None, "Yes", D(2021, 8, 2), "Liver",
     D(2021, 7, 1), "Deceased", 44509, D(2021, 11, 9)],
    ["LON-05", "London", "Palliative chemo", D(2022, 10, 11), 64, "Male", 1, "Body/tail", 50, "Borderline resectable",
     2100, 640, "No", 8, 31, "Yes", 44867, "NALIRIFOX", 10, "Palliative", "Stable disease", None, None, None, None,
     None, None, None, None, None, None, None, None, None, None, None, None, None, None, "Yes", D(2023, 4, 12),
     "Multiple sites", D(2023, 1, 12), "Alive", None, D(2023, 6, 1)],
    ["LON-06", "London", "Palliative chemo", D(2023, 2, 6), 59, "Female", 0, "Head", 25, "Borderline resectable", 60,
     20, "Yes", 1, 12, "No", 44977, "Gem-Cap", 6, "Palliative", "Partial response", None, None, None, None, None,
     None, None, None, None, None, None, None, None, None, None, None, None, None, "No", None, None, D(2023, 9, 5),
     "Alive", None, D(2023, 10, 3)],
]


def write_london(path: Path = HERE / "london_en.xlsx") -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export"
    ws.append(HEADER)
    for row in ROWS:
        assert len(row) == len(HEADER), row[0]
        ws.append(row)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy"  # shown the British way; stored as a date
    wb.save(path)
    return path


if __name__ == "__main__":
    print(write_london())
