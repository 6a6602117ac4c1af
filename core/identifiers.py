"""Spot columns that look like direct identifiers (names, dates of birth, addresses, ids).

The study data are pseudonymised: the dictionary has no column for a name, a date of birth,
an address or a hospital record number. An uploaded file may still carry such columns next
to the dictionary ones (they are kept as text). :func:`identifier_warnings` flags them by
their header (English, Italian, German, French and Spanish words) and by their content
(e-mail addresses, phone numbers, Italian tax codes, dates that can only be dates of birth),
so that the user gets a clear warning before anything is shown.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"cognome": ["Rossi"], "note": ["mario.rossi@example.org"]})
>>> for w in identifier_warnings(["cognome", "note"], frame):
...     print(w)
Possible direct identifier: column 'cognome' looks like a name (from its header).
Possible direct identifier: column 'note' contains e-mail addresses (1 of 1 values).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

__all__ = ["PREFIX", "identifier_warnings"]

#: Every warning starts with this text.
PREFIX = "Possible direct identifier"

#: Most values looked at per column for the content checks.
SAMPLE = 500

_NAME_WORDS = frozenset({
    "surname", "surnames", "firstname", "lastname", "forename", "forenames", "givenname", "familyname",
    "fullname", "maidenname", "patientname", "nome", "cognome", "nominativo", "vorname", "nachname",
    "familienname", "nom", "prenom", "prénom", "apellido", "apellidos", "nombre", "initials",
})
_NAME_QUALIFIERS = frozenset({"patient", "pt", "first", "last", "full", "given", "family", "maiden", "middle",
                              "sur", "fore", "christian", "of", "the"})
_DOB = frozenset({"dob", "birth", "birthdate", "birthday", "dateofbirth", "nascita", "datanascita",
                  "geburtsdatum", "geburt", "naissance", "nacimiento", "geb"})
_ADDRESS = frozenset({"address", "addresses", "addr", "indirizzo", "street", "strasse", "straße", "adresse",
                      "rue", "zip", "zipcode", "postcode", "postal", "postalcode", "plz", "domicilio",
                      "domicile", "residenza", "residence", "direccion", "dirección", "wohnort", "anschrift"})
_PHONE = frozenset({"phone", "telephone", "tel", "telefono", "telefon", "mobile", "cellphone", "cellulare",
                    "handy", "fax", "portable"})
_EMAIL = frozenset({"email", "mail", "emailaddress", "courriel", "posta"})
_RECORD_PHRASES = ("medicalrecord", "recordnumber", "recordno", "hospitalnumber", "hospitalno", "hospitalid",
                   "casenumber", "codicefiscale", "socialsecurity", "nhsnumber", "nhsno", "taxcode", "taxid",
                   "taxnumber", "insurancenumber", "versichertennummer", "krankenversichertennummer",
                   "cartellaclinica", "nosologico", "passport", "idcard", "personalnumber", "personnummer",
                   "chinumber", "fiscalcode", "tesserasanitaria", "patientennummer", "aktenzeichen")
_RECORD_WORDS = frozenset({"mrn", "ssn", "nhs", "cf", "nir", "bsn", "pesel", "nosologico", "cartella", "ahv",
                           "svnr", "insee", "chi", "codfisc"})

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE_RE = re.compile(r"(?:\+|00|0)[\d\s\-/().]{6,}")
_CF_RE = re.compile(r"[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z]")
_DATE_RES = (
    re.compile(r"(\d{4})[-/.]\d{1,2}[-/.]\d{1,2}(?:[T ].*)?"),
    re.compile(r"\d{1,2}[./-]\d{1,2}[./-](\d{4})(?: .*)?"),
)
_YEAR_OF_BIRTH_BEFORE = 1990  # adults with cancer: diagnosis dates are later, birth dates earlier


def _tokens(header: str) -> list[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(header))
    return [t for t in re.split(r"[^0-9a-zà-ÿß]+", text.lower()) if t]


def _by_header(header: str) -> str | None:
    tokens = _tokens(header)
    joined = "".join(tokens)
    words = set(tokens)
    if words & _NAME_WORDS or joined in _NAME_WORDS or (
            "name" in words and words - {"name"} <= _NAME_QUALIFIERS) or (
            "names" in words and words - {"names"} <= _NAME_QUALIFIERS):
        return "a name"
    if words & _DOB or joined in _DOB or "dateofbirth" in joined or "birth" in joined or "nascita" in joined:
        return "a date of birth"
    if words & _EMAIL or joined in _EMAIL or "email" in joined:
        return "an e-mail address"
    if words & _PHONE or joined in _PHONE or "phone" in joined:
        return "a phone number"
    if words & _ADDRESS or joined in _ADDRESS or "address" in joined or "indirizzo" in joined:
        return "an address"
    if words & _RECORD_WORDS or any(p in joined for p in _RECORD_PHRASES):
        return "a hospital record number or a national identifier"
    return None


def _birth_years(values: pd.Series) -> pd.Series:
    """Year of each value that is a full date (ISO or day-month-year), else NaN."""
    years = pd.Series(float("nan"), index=values.index)
    for pattern in _DATE_RES:
        year = pd.to_numeric(values.str.extract("^" + pattern.pattern + "$", expand=False), errors="coerce")
        years = years.where(years.notna(), year)
    return years


def _by_content(values: pd.Series) -> str | None:
    n = len(values)
    if n == 0:
        return None
    half = max(1, (n + 1) // 2)
    n_email = int(values.str.fullmatch(_EMAIL_RE.pattern).sum())
    if n_email >= half:
        return f"contains e-mail addresses ({n_email} of {n} values)"
    n_cf = int(values.str.fullmatch(_CF_RE.pattern).sum())
    if n_cf >= half:
        return f"contains Italian tax codes (codice fiscale) ({n_cf} of {n} values)"
    years = _birth_years(values)
    is_date = years.notna()
    if int(is_date.sum()) >= half:
        n_old = int(((years >= 1880) & (years < _YEAR_OF_BIRTH_BEFORE)).sum())
        if n_old >= max(1, int(0.8 * int(is_date.sum()))):
            return f"contains dates that look like dates of birth ({n_old} of {n} values before {_YEAR_OF_BIRTH_BEFORE})"
    digits = values.str.count(r"\d")
    phone = values.str.fullmatch(_PHONE_RE.pattern) & (digits >= 8) & (digits <= 15) & ~is_date
    n_phone = int(phone.sum())
    if n_phone >= half:
        return f"contains phone numbers ({n_phone} of {n} values)"
    return None


def identifier_warnings(columns: Sequence[str], frame: pd.DataFrame) -> list[str]:
    """Warnings for the given columns of a table that look like direct identifiers.

    Parameters
    ----------
    columns : sequence of str
        Columns to look at (typically those not in the data dictionary).
    frame : pandas.DataFrame
        The table holding them (cells as text or ``None``); columns missing from it are
        judged by their header only.

    Returns
    -------
    list of str
        One sentence per suspicious column, each starting with :data:`PREFIX`, in the order
        of ``columns``; empty when nothing looks like an identifier.

    Raises
    ------
    ValueError
        If ``frame`` is not a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"DOB": ["1950-02-01"], "phone": ["+39 051 123456"], "notes": ["ok"]})
    >>> len(identifier_warnings(["DOB", "phone", "notes"], frame))
    2
    >>> identifier_warnings(["x"], pd.DataFrame({"x": ["01/02/1948", "13.05.1960"]}))[0]
    "Possible direct identifier: column 'x' contains dates that look like dates of birth (2 of 2 values before 1990)."
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, not {type(frame).__name__}")
    out: list[str] = []
    for col in columns:
        what = _by_header(str(col))
        if what is not None:
            out.append(f"{PREFIX}: column '{col}' looks like {what} (from its header).")
            continue
        if col not in frame.columns:
            continue
        s = frame[col]
        if isinstance(s, pd.DataFrame):  # duplicated header: look at the first one
            s = s.iloc[:, 0]
        s = s.dropna().astype(str).str.strip()
        s = s[s != ""].head(SAMPLE).reset_index(drop=True)
        found = _by_content(s)
        if found is not None:
            out.append(f"{PREFIX}: column '{col}' {found}.")
    return out
