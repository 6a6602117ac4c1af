"""Hostile and broken cohort files (issue: file parsing must not take the server down).

Deterministic. The small files are written to this folder and committed; the compressed
bomb (~0.5 MB unpacking to ~500 MB) is only built at test time (:func:`zip_bomb_xlsx`).
Everything is built from the hand-written tests/corpus/valid_minimal.csv with the csv module,
openpyxl and pyarrow only (never core.cohort), so the files do not depend on the code under test.

Run: python -m tests.hostile.make_hostile   (from the repository root)
"""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
from pathlib import Path

from core.dictionary import COLUMNS_BY_NAME, C
from tests.cohort_helpers import edit, excel_serial, rows, to_csv, to_parquet, to_xlsx

HERE = Path(__file__).resolve().parent
MATRIX = HERE / "matrix"

SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
DECIMALS = {"point": ".", "comma": ","}
ENCODINGS = {"utf8": "utf-8", "utf8bom": "utf-8-sig", "cp1252": "cp1252", "utf16": "utf-16"}
NEWLINES = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}

#: An extra column with non-ASCII text, so that the encoding matters.
CITY = "centre_city"
CITIES = ("Forlì", "Münster", "Besançon", "Forlì", "Münster", "Besançon")


def base() -> list[list[str]]:
    """valid_minimal.csv plus a non-ASCII extra column."""
    t = rows()
    t[0].append(CITY)
    for r, city in zip(t[1:], CITIES, strict=True):
        r.append(city)
    return t


def with_decimal(table: list[list[str]], mark: str) -> list[list[str]]:
    """Write the numbers of number columns with the given decimal mark."""
    out = [list(r) for r in table]
    idx = [j for j, h in enumerate(out[0]) if h in COLUMNS_BY_NAME and COLUMNS_BY_NAME[h].kind == "number"]
    for r in out[1:]:
        for j in idx:
            r[j] = r[j].replace(".", mark)
    return out


def matrix_name(sep: str, dec: str, enc: str, nl: str) -> str:
    return f"sep-{sep}_dec-{dec}_{enc}_{nl}.csv"


def matrix_bytes(sep: str, dec: str, enc: str, nl: str) -> bytes:
    table = with_decimal(base(), DECIMALS[dec])
    return to_csv(table, sep=SEPARATORS[sep], encoding=ENCODINGS[enc], newline=NEWLINES[nl])


def matrix() -> dict[str, bytes]:
    return {matrix_name(s, d, e, n): matrix_bytes(s, d, e, n)
            for s in SEPARATORS for d in DECIMALS for e in ENCODINGS for n in NEWLINES}


def _text(table: list[list[str]]) -> bytes:
    return to_csv(table)


def ragged() -> bytes:
    t = base()
    t[2] = t[2] + ["extra", "more"]  # row 3 of the file: two values too many
    t[4] = t[4][:-3]  # row 5: three values short
    return _text(t)


def duplicated_columns() -> bytes:
    t = base()
    j = t[0].index(C.SEX)
    for r in t:
        r.append(r[j])
    return _text(t)


def quoted_newlines() -> bytes:
    t = base()
    t[0].append("comment")
    for i, r in enumerate(t[1:]):
        r.append(f"first line {i}\nsecond line, with a comma; and \"quotes\"")
    return _text(t)


def missing_tokens() -> bytes:
    t = base()
    edit(t, "S02", C.CA19_9_RESTAGING, "k.A.")
    edit(t, "C01", C.TUMOUR_SIZE, "n.d.")
    edit(t, "S03", C.LIVER_METS_MAX, "n.d.")
    return _text(t)


def below_limit() -> bytes:
    t = base()
    edit(t, "C03", C.CA19_9_RESTAGING, "<5")  # row 7
    return _text(t)


def excel_serial_dates() -> bytes:
    t = base()
    for col in (C.DIAGNOSIS_DATE, C.CHEMO_START_DATE):
        j = t[0].index(col)
        for r in t[1:]:
            r[j] = excel_serial(r[j])
    return _text(t)


def _date_as(iso: str, fmt: str) -> str:
    if not iso:
        return iso
    y, m, d = iso.split("-")
    return {"dmy_dot": f"{d}.{m}.{y}", "dmy_slash": f"{d}/{m}/{y}", "iso": iso}[fmt]


def text_dates() -> bytes:
    """Dates in three text formats mixed in one file (ISO, 31.12.2020, 31/12/2020)."""
    t = base()
    dates = [j for j, h in enumerate(t[0]) if h in COLUMNS_BY_NAME and COLUMNS_BY_NAME[h].kind == "date"]
    fmts = ("iso", "dmy_dot", "dmy_slash")
    for i, r in enumerate(t[1:]):
        for k, j in enumerate(dates):
            r[j] = _date_as(r[j], fmts[(i + k) % 3])
    return _text(t)


def ambiguous_dates() -> bytes:
    """One date can only be month/day (01/13/2019), so 03/05/2020 cannot be read."""
    t = base()
    edit(t, "007", C.DIAGNOSIS_DATE, "01/13/2019")
    edit(t, "S02", C.DIAGNOSIS_DATE, "03/05/2020")  # row 3: ambiguous
    return _text(t)


def ids_as_text_xlsx() -> bytes:
    """An Excel file with typed cells; the id 007 is a text cell."""
    return xlsx(base())


def serial_numbers_xlsx() -> bytes:
    """Dates stored as plain numbers (Excel serials without a date format)."""
    import openpyxl

    t = base()
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(t)))
    ws = wb.active
    for col in (C.DIAGNOSIS_DATE, C.SURGERY_DATE):
        j = t[0].index(col) + 1
        for i, r in enumerate(t[1:], start=2):
            v = r[j - 1]
            cell = ws.cell(row=i, column=j)
            cell.value = int(excel_serial(v)) if v else None
            cell.number_format = "General"
    buf = io.BytesIO()
    wb.save(buf)
    return _rewrite_member(buf.getvalue())


def far_cell_xlsx(keep_dimension: bool = True) -> bytes:
    """The valid table plus one stray cell at XFD1048576 (the last cell of a sheet)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(base())))
    wb.active["XFD1048576"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    if keep_dimension:
        return _rewrite_member(buf.getvalue())
    return _rewrite_member(buf.getvalue(), "xl/worksheets/sheet1.xml",
                           lambda xml: xml.replace(b'<dimension ref="A1:XFD1048576" />', b""))


_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _rewrite_member(data: bytes, member: str | None = None, change: object = None) -> bytes:
    """Rewrite a zip with fixed timestamps (deterministic output), optionally changing one member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == member:
                body = change(body)  # type: ignore[operator]
            if info.filename == "docProps/core.xml":
                body = _STAMP.sub(rb"\g<1>2020-01-01T00:00:00Z\g<2>", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0)), body,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def xlsx(table: list[list[str]]) -> bytes:
    """tests.cohort_helpers.to_xlsx with fixed timestamps."""
    return _rewrite_member(to_xlsx(table))


def encrypted_xlsx() -> bytes:
    """A minimal OLE2 compound file with the stream names of an Excel encrypted workbook.

    Excel saves a password-protected .xlsx as an OLE2 container holding ``EncryptionInfo``
    and ``EncryptedPackage`` streams. This is a hand-made container with that header and
    directory (sector size 512); its content is random bytes.
    """
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHH", header, 24, 0x3E, 3, 0xFFFE, 9)  # minor, major version, byte order, sector shift
    struct.pack_into("<H", header, 32, 6)  # mini sector shift
    struct.pack_into("<IIIIIII", header, 44, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE)
    header[76:80] = struct.pack("<I", 0)  # first FAT sector
    header[80:512] = b"\xff" * 432
    fat = bytearray(b"\xff" * 512)
    struct.pack_into("<III", fat, 0, 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFE)

    def entry(name: str, kind: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        e = bytearray(128)
        e[0:len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)
        struct.pack_into("<III", e, 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        struct.pack_into("<II", e, 116, start, size)
        return bytes(e)

    directory = entry("Root Entry", 5, 0xFFFFFFFE, 0) + entry("EncryptionInfo", 2, 2, 0) + \
        entry("EncryptedPackage", 2, 2, 512) + bytes(128)
    rnd = random.Random(7)
    payload = bytes(rnd.randrange(256) for _ in range(512))
    return bytes(header) + bytes(fat) + directory + payload


def csv_named_xlsx() -> bytes:
    return _text(base())


def valid_parquet() -> bytes:
    return to_parquet(base())


def truncated_parquet() -> bytes:
    data = valid_parquet()
    return data[: len(data) // 2]


def random_parquet() -> bytes:
    """Random bytes between the Parquet magic at both ends."""
    rnd = random.Random(11)
    return b"PAR1" + bytes(rnd.randrange(256) for _ in range(4000)) + b"PAR1"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def huge_footer_parquet(claimed_rows: int = 10**9) -> bytes:
    """A valid Parquet file whose footer (FileMetaData.num_rows) claims ``claimed_rows`` rows.

    In the Thrift compact encoding, field 3 (``num_rows``, i64) follows the schema list as
    byte 0x16 then the zigzag varint of the count, and field 4 (``row_groups``, list) starts
    with 0x19 (here followed by 0x1c: one row group); that byte pattern is replaced and the footer length fixed.
    """
    data = valid_parquet()
    n = len(rows()) - 1
    footer_len = struct.unpack("<I", data[-8:-4])[0]
    start = len(data) - 8 - footer_len
    footer = data[start:-8]
    old = b"\x16" + _varint(2 * n) + b"\x19\x1c"  # then: a list of one row-group struct
    assert footer.count(old) == 1, "num_rows field not found exactly once"
    footer = footer.replace(old, b"\x16" + _varint(2 * claimed_rows) + b"\x19\x1c")
    return data[:start] + footer + struct.pack("<I", len(footer)) + b"PAR1"


def zip_bomb_xlsx(unpacked_mb: int = 500) -> bytes:
    """A workbook whose sheet XML is padded with ``unpacked_mb`` MB of spaces (deflates ~1000:1)."""
    data = to_xlsx(base())
    out = io.BytesIO()
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                                    compresslevel=9) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, body)
                continue
            head, tail = body.split(b"<sheetData>", 1)
            member = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(member, "w", force_zip64=True) as fh:
                fh.write(head)
                for _ in range(unpacked_mb):
                    fh.write(chunk)
                fh.write(b"<sheetData>" + tail)
    return out.getvalue()


#: File name -> builder of the committed hostile files.
FILES = {
    "ragged.csv": ragged,
    "duplicated_columns.csv": duplicated_columns,
    "quoted_newlines.csv": quoted_newlines,
    "missing_tokens.csv": missing_tokens,
    "below_limit.csv": below_limit,
    "excel_serial_dates.csv": excel_serial_dates,
    "text_dates.csv": text_dates,
    "ambiguous_dates.csv": ambiguous_dates,
    "ids_as_text.xlsx": ids_as_text_xlsx,
    "serial_numbers.xlsx": serial_numbers_xlsx,
    "far_cell.xlsx": far_cell_xlsx,
    "far_cell_no_dimension.xlsx": lambda: far_cell_xlsx(keep_dimension=False),
    "encrypted.xlsx": encrypted_xlsx,
    "csv_renamed.xlsx": csv_named_xlsx,
    "valid.parquet": valid_parquet,
    "truncated.parquet": truncated_parquet,
    "random_magic.parquet": random_parquet,
    "huge_footer.parquet": huge_footer_parquet,
}


def main() -> None:
    MATRIX.mkdir(exist_ok=True)
    for name, data in matrix().items():
        (MATRIX / name).write_bytes(data)
    for name, build in FILES.items():
        (HERE / name).write_bytes(build())


if __name__ == "__main__":
    main()
