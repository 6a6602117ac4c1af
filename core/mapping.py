"""Column and value mapping of a study export onto the data dictionary.

A centre's export has its own headers (Italian or English), codes (``Maschio``, ``Whipple``,
REDCap's ``1``/``2``), date forms (``03/11/2021``, Excel serial numbers) and REDCap checkbox
columns (``sede_recidiva___1`` ...). An :class:`ExportMapping` says, once per export layout:

* which dictionary column each export column holds (or that it is not used);
* which category each REDCap checkbox field fills, which label each box stands for, and which
  label several checked boxes make;
* which dictionary label each code stands for;
* whether dates such as ``03/11/2021`` are day/month/year or month/day/year.

:func:`propose` makes a first mapping from a :class:`~core.export_profile.Profile` (headers
matched by name and by the synonyms in ``core.dictionary``, codes by the value synonyms, the
date order from dates that can only be read one way), the user confirms or changes it, and
:func:`apply` rewrites the table with dictionary names, labels and ISO dates for the loader. The
mapping is saved as a small JSON file (:func:`to_json`, :func:`from_json`) and checked against
the next export (:func:`fit_problems`) before it applies at once. It holds column names and
codes, never patient data.

Examples
--------
>>> from core.readers import read_table
>>> from core.export_profile import profile
>>> raw = read_table(b"Sesso;Intervento\\nMaschio;Whipple\\nFemmina;\\n")
>>> proposal = propose(profile(raw))
>>> proposal.mapping.columns
{'Sesso': 'sex', 'Intervento': 'pancreatic_procedure'}
>>> proposal.mapping.values["pancreatic_procedure"]
{'Whipple': 'PD'}
>>> apply(raw, proposal.mapping).raw.frame.to_dict("list")
{'sex': ['M', 'F'], 'pancreatic_procedure': ['PD', None]}
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.cohort import EXCEL_SERIAL_RANGE, FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS, read_label
from core.dictionary import (
    BOOLEAN_SYNONYMS,
    COLUMNS_BY_NAME,
    DICTIONARY_VERSION,
    IMPORTED,
    IMPORTED_NAMES,
    LABELS,
    SYNONYMS,
    VALUE_SYNONYMS,
)
from core.export_profile import DAY_MONTH, Profile, checkbox_parts, name_key
from core.readers import Problem, RawTable, clip, dictionary_name

__all__ = ["CheckboxRule", "CodeRow", "DateQuestion", "ExportMapping", "MappingFileError", "Proposal", "apply",
           "check", "codes_to_review", "date_question", "fit_problems", "from_json", "merge", "propose", "to_json"]

#: ``kind`` written in every mapping file.
FILE_KIND = "pdac-lm-export-mapping"
FILE_VERSION = 1
#: Largest mapping file accepted.
MAX_FILE_BYTES = 256 * 1024
#: The two readings of ``03/11/2021``.
DAY_FIRST, MONTH_FIRST = "dmy", "mdy"
DATE_ORDERS = (DAY_FIRST, MONTH_FIRST)
#: Stand-in labels of yes/no columns.
TRUE_TEXT, FALSE_TEXT = "true", "false"
#: Smallest similarity (0-1) for a header proposed as a "similar name".
SIMILAR = 0.88

_CHECKED = frozenset({"1", "checked", "true", "yes", "y", "x", "si", "sì"})
_UNCHECKED = frozenset({"0", "unchecked", "false", "no", "n", ""})


# ------------------------------------------------------------------------------------------
# the mapping


@dataclass(frozen=True)
class CheckboxRule:
    """How one REDCap checkbox field fills one category column.

    Attributes
    ----------
    target : str or None
        The dictionary category column; ``None``: the field is not used (its columns are kept as text).
    options : dict
        Option (the part after ``___`` or in ``(choice=...)``) -> label; ``None`` ignores the box. A
        checked box whose option is not in it is reported (the mapping does not say what it means).
    several : str or None
        The label when boxes of different labels are checked; ``None`` makes that a problem.
        No box checked leaves the cell empty.
    """

    target: str | None
    options: dict[str, str | None] = field(default_factory=dict)
    several: str | None = None


@dataclass(frozen=True)
class ExportMapping:
    """How an export maps onto the data dictionary.

    Attributes
    ----------
    columns : dict
        Every export column that is not a checkbox -> its dictionary column, ``None`` when not used.
    checkboxes : dict
        REDCap checkbox field -> :class:`CheckboxRule`.
    values : dict
        Dictionary column -> {code as written in the export -> label}; an empty label makes the
        cell empty, ``true``/``false`` stand for yes/no. Codes match ignoring case and spaces.
    date_order : {"dmy", "mdy"} or None
        How dates such as ``03/11/2021`` read; ``None`` when the export has none.
    """

    columns: dict[str, str | None]
    checkboxes: dict[str, CheckboxRule] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_order: str | None = None

    def targets(self) -> dict[str, str]:
        """Dictionary column -> the export column (or ``field (checkboxes)``) that fills it."""
        out = {t: src for src, t in self.columns.items() if t}
        out.update({r.target: f"{base} (checkboxes)" for base, r in self.checkboxes.items() if r.target})
        return out


class MappingFileError(ValueError):
    """A mapping file that cannot be used; ``messages`` says why, one sentence each."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = tuple(messages)
        super().__init__(" ".join(messages))


# ------------------------------------------------------------------------------------------
# matching headers and codes


def _index() -> dict[str, tuple[str, str]]:
    """Header key -> (dictionary column, how it matched); keys naming two columns are left out."""
    found: dict[str, set[tuple[str, str]]] = {}
    for c in IMPORTED:
        names = [(c.name, "dictionary name")] + [(s, "other name") for s in SYNONYMS.get(c.name, ())]
        if c.name in LABELS:
            names.append((LABELS[c.name], "dictionary label"))
        for text, how in names:
            for key in {name_key(text), name_key(text, drop_brackets=True)}:
                if key:
                    found.setdefault(key, set()).add((c.name, how))
    out: dict[str, tuple[str, str]] = {}
    for key, hits in found.items():
        if len({col for col, _ in hits}) == 1:
            out[key] = min(hits, key=lambda h: h[1] != "dictionary name")
    return out


HEADER_INDEX = _index()


def _value_index() -> dict[str, dict[str, str]]:
    """Per column: code key -> label (labels themselves and their synonyms)."""
    out: dict[str, dict[str, str]] = {}
    for c in IMPORTED:
        if c.kind == "category" and c.categories:
            keys: dict[str, set[str]] = {}
            for lab in c.categories:
                for text in (lab, *VALUE_SYNONYMS.get(c.name, {}).get(lab, ())):
                    keys.setdefault(name_key(text), set()).add(lab)
            out[c.name] = {k: next(iter(v)) for k, v in keys.items() if len(v) == 1 and k}
        elif c.kind == "boolean":
            out[c.name] = {name_key(t): (TRUE_TEXT if flag else FALSE_TEXT)
                           for flag, texts in BOOLEAN_SYNONYMS.items() for t in texts}
    return out


VALUE_INDEX = _value_index()


def match_header(header: str) -> tuple[str, str] | None:
    """``(dictionary column, how)`` for a header matched by name, label or synonym, else ``None``.

    Examples
    --------
    >>> match_header("Data di diagnosi"), match_header("Gender"), match_header("xyz")
    (('diagnosis_date', "other name 'data diagnosi'"), ('sex', "other name 'gender'"), None)
    """
    for key in (name_key(header), name_key(header, drop_brackets=True)):
        if key in HEADER_INDEX:
            col, how = HEADER_INDEX[key]
            if how == "other name":
                syn = next(s for s in SYNONYMS[col] if key in (name_key(s), name_key(s, drop_brackets=True)))
                how = f"other name '{syn}'"
            return col, how
    return None


def _similar(header: str, free: set[str]) -> tuple[str, float] | None:
    key = name_key(header, drop_brackets=True)
    if len(key) < 5:
        return None
    best: tuple[str, float] | None = None
    for cand, (col, _) in HEADER_INDEX.items():
        if col in free and len(cand) >= 5:
            ratio = difflib.SequenceMatcher(None, key, cand).ratio()
            if ratio >= SIMILAR and (best is None or ratio > best[1]):
                best = (col, ratio)
    return best


def code_status(target: str, code: str) -> tuple[str, str | None]:
    """How the loader and the synonyms read one code of a category or yes/no column.

    Returns
    -------
    (status, label)
        ``("known", label)`` read by the loader as it is; ``("missing", None)`` a missing-value
        token; ``("synonym", label)`` a known other spelling; ``("unknown", None)``.

    Examples
    --------
    >>> code_status("sex", "F"), code_status("sex", "Maschio"), code_status("sex", "n.d."), code_status("sex", "9")
    (('known', 'F'), ('synonym', 'M'), ('missing', None), ('unknown', None))
    """
    col = COLUMNS_BY_NAME[target]
    text = str(code).strip()
    low = text.lower()
    if col.kind == "boolean":
        if low in TRUE_TOKENS:
            return "known", TRUE_TEXT
        if low in FALSE_TOKENS:
            return "known", FALSE_TEXT
    else:
        label = read_label(target, text)
        if label is not None:
            return "known", label
    syn = VALUE_INDEX.get(target, {}).get(name_key(text)) or VALUE_INDEX.get(target, {}).get(
        name_key(text, drop_brackets=True))
    if syn is not None:
        return "synonym", syn
    labels = {lab.lower() for lab in (col.categories or ())}
    if not text or (low in MISSING_TOKENS and low not in labels):
        return "missing", None
    return "unknown", None


def code_key(code: str) -> str:
    """How codes are compared when a mapping is applied: case and runs of spaces do not matter.

    Examples
    --------
    >>> code_key("  Pancreasectomia   Distale ")
    'pancreasectomia distale'
    """
    return " ".join(str(code).casefold().split())


# ------------------------------------------------------------------------------------------
# proposal


@dataclass(frozen=True)
class DateQuestion:
    """Whether the export's dates need the day/month order, and what the file itself says.

    Attributes
    ----------
    needed : bool
        Some mapped date is written like ``03/11/2021`` (day and month as numbers).
    detected : {"dmy", "mdy"} or None
        The order shown by dates that can only be read one way (``25/03/2021``), ``None`` when
        there are none or they contradict each other.
    conflict : bool
        Both ``25/03/2021`` and ``03/25/2021`` forms occur.
    ambiguous : int
        Cells such as ``03/11/2021`` that either order reads (differently).
    day_first_example, month_first_example, either_example : str
        One cell of each form (``""`` when none), with its column: ``'25/03/2021' (Data diagnosi)``.
    """

    needed: bool
    detected: str | None
    conflict: bool
    ambiguous: int
    day_first_example: str = ""
    month_first_example: str = ""
    either_example: str = ""


def date_question(prof: Profile, mapping: ExportMapping) -> DateQuestion:
    """What the mapped date columns of an export say about the day/month order.

    Examples
    --------
    >>> from core.readers import read_table
    >>> from core.export_profile import profile
    >>> p = profile(read_table(b"Data decesso\\n03/11/2021\\n"))
    >>> q = date_question(p, ExportMapping({"Data decesso": "death_date"}))
    >>> q.needed, q.detected, q.either_example
    (True, None, "'03/11/2021' (Data decesso)")
    """
    day = month = either = 0
    ex = {"d": "", "m": "", "e": ""}
    for src, target in mapping.columns.items():
        if not target or COLUMNS_BY_NAME[target].kind != "date" or src not in prof.names:
            continue
        f = prof.column(src).dates
        day, month, either = day + f.day_first, month + f.month_first, either + f.either + f.same
        for k, v in (("d", f.day_first_example), ("m", f.month_first_example), ("e", f.either_example)):
            if v and not ex[k]:
                ex[k] = f"'{v}' ({src})"
    detected = DAY_FIRST if day and not month else MONTH_FIRST if month and not day else None
    return DateQuestion(needed=bool(day or month or either), detected=detected, conflict=bool(day and month),
                        ambiguous=either, day_first_example=ex["d"], month_first_example=ex["m"],
                        either_example=ex["e"])


@dataclass(frozen=True)
class Proposal:
    """A first mapping for an export, with how each proposal was found.

    Attributes
    ----------
    mapping : ExportMapping
    how : dict
        Export column (or checkbox field) -> how it was matched: ``"dictionary name"``,
        ``"other name 'sesso'"``, ``"dictionary label"``, ``"similar name (91%)"``, ``"also
        matches sex, already taken by 'Sesso'"`` or ``""`` (no match).
    """

    mapping: ExportMapping
    how: dict[str, str]


def _several_default(target: str) -> str | None:
    cats = COLUMNS_BY_NAME[target].categories or ()
    return next((lab for lab in cats if lab in ("multiple", "both")), None)


def propose(prof: Profile) -> Proposal:
    """Propose a mapping: headers by name and synonyms, codes by synonyms, the date order if the file shows it.

    A dictionary column is proposed for one export column only (the best match, then the first
    in the file). Codes the loader reads as they are need no entry; unknown codes get none (the
    user chooses). The date order is proposed only when unambiguous dates show it.

    Examples
    --------
    >>> from core.readers import read_table
    >>> from core.export_profile import profile
    >>> p = propose(profile(read_table(b"record_id,sede_recidiva___1,sede_recidiva___2\\nA,1,0\\n")))
    >>> p.mapping.columns, p.mapping.checkboxes["sede_recidiva"].target
    ({'record_id': 'patient_id'}, 'recurrence_site')
    """
    groups = prof.groups()
    items: list[tuple[str, bool]] = [(c.name, False) for c in prof.columns if not c.checkbox]
    items += [(base, True) for base in groups]
    how: dict[str, str] = {}
    found: list[tuple[int, int, str, str, str]] = []
    for pos, (name, is_group) in enumerate(items):
        m = match_header(name)
        if m and is_group and COLUMNS_BY_NAME[m[0]].kind != "category":
            m = None
        if m:
            rank = 0 if m[1] == "dictionary name" else 1
            found.append((rank, pos, name, m[0], m[1]))
    taken: dict[str, str] = {}
    for _, _, name, target, text in sorted(found):
        if target in taken:
            how[name] = f"also matches {target}, already taken by '{taken[target]}'"
        else:
            taken[target] = name
            how[name] = text
    free = {c.name for c in IMPORTED} - set(taken)
    for name, is_group in items:
        if name in how:
            continue
        sim = _similar(name, free)
        if sim and not (is_group and COLUMNS_BY_NAME[sim[0]].kind != "category"):
            taken[sim[0]] = name
            free.discard(sim[0])
            how[name] = f"similar name ({sim[1]:.0%})"
        else:
            how[name] = ""
    by_source = {src: t for t, src in taken.items()}
    columns = {c.name: by_source.get(c.name) for c in prof.columns if not c.checkbox}
    checkboxes: dict[str, CheckboxRule] = {}
    for base, members in groups.items():
        target = by_source.get(base)
        options = {opt: label for opt, _ in members if target for label in [_option_label(target, opt)] if label}
        checkboxes[base] = CheckboxRule(target, options, _several_default(target) if target else None)
    values: dict[str, dict[str, str]] = {}
    for src, target in columns.items():
        if target and COLUMNS_BY_NAME[target].kind in ("category", "boolean"):
            codes = prof.column(src).codes or ()
            found_codes = {code: lab for code, _ in codes for status, lab in [code_status(target, code)]
                           if status == "synonym" and lab is not None}
            if found_codes:
                values[target] = found_codes
    mapping = ExportMapping(columns=columns, checkboxes=checkboxes, values=values)
    question = date_question(prof, mapping)
    mapping = ExportMapping(columns, checkboxes, values, question.detected if question.needed else None)
    return Proposal(mapping=mapping, how=how)


def _option_label(target: str, option: str) -> str | None:
    status, label = code_status(target, option)
    return label if status in ("known", "synonym") else None


@dataclass(frozen=True)
class CodeRow:
    """One code of a mapped category or yes/no column that is not read as it is.

    Attributes
    ----------
    target : str
        Dictionary column.
    source : str
        Export column.
    code : str
        The code as written.
    count : int
        Cells with it.
    label : str or None
        The label chosen (or proposed): a dictionary label, ``true``/``false`` for yes/no
        columns, ``""`` for an empty cell; ``None``: not decided (the loader reports it).
    status : {"synonym", "unknown", "chosen"}
        An other spelling of a label, a code not known, or a code the loader reads but the mapping recodes.
    """

    target: str
    source: str
    code: str
    count: int
    label: str | None
    status: str


def codes_to_review(prof: Profile, mapping: ExportMapping) -> tuple[CodeRow, ...]:
    """Codes of the mapped category and yes/no columns that the loader would not read as they are.

    Examples
    --------
    >>> from core.readers import read_table
    >>> from core.export_profile import profile
    >>> p = profile(read_table(b"Sesso\\nMaschio\\nX\\nF\\n"))
    >>> [(r.code, r.label, r.status) for r in codes_to_review(p, propose(p).mapping)]
    [('Maschio', 'M', 'synonym'), ('X', None, 'unknown')]
    """
    rows: list[CodeRow] = []
    for src, target in mapping.columns.items():
        if not target or COLUMNS_BY_NAME[target].kind not in ("category", "boolean") or src not in prof.names:
            continue
        chosen = {code_key(k): v for k, v in mapping.values.get(target, {}).items()}
        for code, count in prof.column(src).codes or ():
            status, label = code_status(target, code)
            if status in ("known", "missing") and code_key(code) not in chosen:
                continue
            rows.append(CodeRow(target, src, code, count, chosen.get(code_key(code), label if status == "synonym" else None),
                                status if status in ("synonym", "unknown") else "chosen"))
    return tuple(rows)


# ------------------------------------------------------------------------------------------
# checks


def _label_ok(target: str, label: str) -> bool:
    col = COLUMNS_BY_NAME[target]
    if label == "":
        return True
    if col.kind == "boolean":
        return label in (TRUE_TEXT, FALSE_TEXT)
    return label in (col.categories or ())


def check(mapping: ExportMapping, prof: Profile | None = None) -> list[str]:
    """What makes a mapping unusable as it stands (one sentence each; empty when it can be applied).

    Two export columns for one dictionary column, labels that are not the column's, a checkbox
    field on a column that is not a category, and (with the export's profile) a missing day/month
    order for dates such as ``03/11/2021``.

    Examples
    --------
    >>> check(ExportMapping({"Sesso": "sex", "Genere": "sex"}))
    ["The export columns 'Sesso' and 'Genere' are both mapped to sex: choose one."]
    """
    out: list[str] = []
    users: dict[str, list[str]] = {}
    for src, target in mapping.columns.items():
        if target is None:
            continue
        if target not in IMPORTED_NAMES:
            out.append(f"'{target}' (for the export column '{src}') is not a column of the data dictionary.")
            continue
        users.setdefault(target, []).append(f"'{src}'")
    for base, rule in mapping.checkboxes.items():
        if rule.target is None:
            continue
        col = COLUMNS_BY_NAME.get(rule.target)
        if col is None or col.derived or col.kind != "category":
            out.append(f"The checkbox field '{base}' can only fill a category column, not '{rule.target}'.")
            continue
        users.setdefault(rule.target, []).append(f"the checkbox field '{base}'")
        bad = sorted({lab for lab in [*rule.options.values(), rule.several] if lab and lab not in (col.categories or ())})
        if bad:
            out.append(f"The checkbox field '{base}' uses labels that {rule.target} does not have: {', '.join(bad)}. "
                       f"Allowed: {', '.join(col.categories or ())}.")
    for target, who in users.items():
        if len(who) > 1:
            out.append(f"The export columns {' and '.join(who)} are both mapped to {target}: choose one."
                       if len(who) == 2 else f"{', '.join(who)} are all mapped to {target}: choose one.")
    for target, table in mapping.values.items():
        col = COLUMNS_BY_NAME.get(target)
        if col is None or col.derived or col.kind not in ("category", "boolean"):
            out.append(f"Codes are given for '{target}', which is not a category or yes/no column of the dictionary.")
            continue
        bad = sorted({lab for lab in table.values() if not _label_ok(target, lab)})
        if bad:
            allowed = "true, false" if col.kind == "boolean" else ", ".join(col.categories or ())
            out.append(f"Codes of {target} are mapped to labels it does not have: {', '.join(bad)}. Allowed: {allowed}.")
    if mapping.date_order not in (None, *DATE_ORDERS):
        out.append(f"The date order must be '{DAY_FIRST}' or '{MONTH_FIRST}', not '{mapping.date_order}'.")
    if prof is not None and mapping.date_order is None:
        q = date_question(prof, mapping)
        if q.needed:
            example = q.either_example or q.day_first_example or q.month_first_example
            out.append(f"Say whether dates such as {example} are day/month/year or month/day/year.")
    return out


def fit_problems(saved: ExportMapping, prof: Profile) -> list[str]:
    """Why a saved mapping does not fit an export (empty: it fits and can be applied at once).

    Examples
    --------
    >>> from core.readers import read_table
    >>> from core.export_profile import profile
    >>> p = profile(read_table(b"Sesso,Note\\nMaschio,x\\n"))
    >>> fit_problems(ExportMapping({"Sesso": "sex", "Eta": "age_at_diagnosis"}, values={"sex": {"Maschio": "M"}}), p)
    ["The mapping names columns that this export does not have: 'Eta'.", "This export has columns the mapping does not cover: 'Note'."]
    """
    out: list[str] = []
    plain = [c.name for c in prof.columns if not c.checkbox]
    missing = [c for c in saved.columns if c not in plain]
    new = [c for c in plain if c not in saved.columns]
    if missing:
        out.append("The mapping names columns that this export does not have: " + ", ".join(f"'{c}'" for c in missing) + ".")
    if new:
        out.append("This export has columns the mapping does not cover: " + ", ".join(f"'{c}'" for c in new) + ".")
    groups = prof.groups()
    for base in sorted(set(groups) | set(saved.checkboxes)):
        if base not in saved.checkboxes:
            out.append(f"This export has a checkbox field the mapping does not cover: '{base}'.")
        elif base not in groups:
            out.append(f"The mapping names a checkbox field that this export does not have: '{base}'.")
        else:
            extra = [opt for opt, _ in groups[base] if opt not in saved.checkboxes[base].options]
            if extra:
                out.append(f"The checkbox field '{base}' has boxes the mapping does not cover: {', '.join(extra)}.")
    covered = {t: {code_key(k) for k in table} for t, table in saved.values.items()}
    new_codes = [f"{r.target} '{r.code}'" for r in codes_to_review(prof, saved)
                 if code_key(r.code) not in covered.get(r.target, set())]
    if new_codes:
        shown = ", ".join(new_codes[:8]) + (f" and {len(new_codes) - 8} more" if len(new_codes) > 8 else "")
        out.append(f"This export has codes the mapping does not cover: {shown}.")
    q = date_question(prof, saved)
    if q.needed and saved.date_order is not None:
        against = q.month_first_example if saved.date_order == DAY_FIRST else q.day_first_example
        if against:
            reading = "day/month/year" if saved.date_order == DAY_FIRST else "month/day/year"
            out.append(f"The mapping reads dates as {reading}, but this export has {against}, which cannot be read so.")
    out += [m for m in check(saved, prof) if m not in out]
    return out


def merge(saved: ExportMapping, proposal: ExportMapping) -> ExportMapping:
    """A saved mapping completed by a proposal for what it does not cover (the saved choices win).

    Examples
    --------
    >>> merge(ExportMapping({"Sesso": "sex"}), ExportMapping({"Sesso": None, "Genere": "sex", "Eta": "age_at_diagnosis"})).columns
    {'Sesso': 'sex', 'Genere': None, 'Eta': 'age_at_diagnosis'}
    """
    used = {t for t in saved.columns.values() if t} | {r.target for r in saved.checkboxes.values() if r.target}
    columns = {src: saved.columns[src] if src in saved.columns else (None if t in used else t)
               for src, t in proposal.columns.items()}
    checkboxes = {}
    for base, rule in proposal.checkboxes.items():
        old = saved.checkboxes.get(base)
        if old is None:
            checkboxes[base] = CheckboxRule(None) if rule.target in used else rule
        else:
            checkboxes[base] = CheckboxRule(old.target, {**rule.options, **old.options}, old.several)
    values = {t: {**proposal.values.get(t, {}), **saved.values.get(t, {})} for t in {*proposal.values, *saved.values}}
    order = saved.date_order if saved.date_order is not None else proposal.date_order
    return ExportMapping(columns, checkboxes, values, order)


# ------------------------------------------------------------------------------------------
# applying


@dataclass(frozen=True)
class Applied:
    """An export rewritten for the loader.

    Attributes
    ----------
    raw : RawTable
        Dictionary names, labels and ISO dates for the mapped columns; the other columns under
        their own names (with `` (not used)`` when that is a dictionary name); the original row numbers.
    problems : tuple of Problem
        Cells the mapping itself cannot read (a checkbox that is neither checked nor unchecked,
        several boxes checked without a label for that).
    origin : dict
        Dictionary column -> (export column or field, the original cells, one per row).
    """

    raw: RawTable
    problems: tuple[Problem, ...]
    origin: dict[str, tuple[str, pd.Series]]


def _recode(s: pd.Series, table: dict[str, str]) -> pd.Series:
    if not table:
        return s
    lookup = {code_key(k): v for k, v in table.items()}
    k, uniq = pd.factorize(s.astype(object), use_na_sentinel=True)
    mapped = [lookup.get(code_key(u), u) if u is not None else None for u in uniq]
    mapped = [None if v == "" else v for v in mapped]
    return pd.Series(np.asarray([*mapped, None], dtype=object)[np.where(k < 0, len(uniq), k)], index=s.index)


_ORIGIN = pd.Timestamp("1899-12-30")


def iso_date(text: str, order: str | None) -> str | None:
    """The ISO form of a ``dd/mm/yyyy`` (``order="dmy"``) or ``mm/dd/yyyy`` date, or of an Excel serial.

    ``None`` when the text is neither (it then goes to the loader as it is). The calendar is
    not checked here: ``31/02/2021`` becomes ``2021-02-31`` and the loader reports it.

    Examples
    --------
    >>> iso_date("03/11/2021", "dmy"), iso_date("03/11/2021", "mdy"), iso_date("44503", None), iso_date("x", "dmy")
    ('2021-11-03', '2021-03-11', '2021-11-03', None)
    """
    t = str(text).strip()
    m = DAY_MONTH.match(t)
    if m and order in DATE_ORDERS:
        a, b, year = int(m[1]), int(m[3]), m[4]
        day, month = (a, b) if order == DAY_FIRST else (b, a)
        return f"{year}-{month:02d}-{day:02d}"
    if t.isdigit() and len(t) == 5 or (t.replace(".", "", 1).isdigit() and len(t.split(".")[0]) == 5):
        serial = float(t)
        if EXCEL_SERIAL_RANGE[0] <= serial <= EXCEL_SERIAL_RANGE[1]:
            return (_ORIGIN + pd.Timedelta(days=int(serial))).strftime("%Y-%m-%d")
    return None


def _dates(s: pd.Series, order: str | None) -> pd.Series:
    k, uniq = pd.factorize(s.astype(object), use_na_sentinel=True)
    mapped = [u if u is None else (iso_date(u, order) or u) for u in uniq]
    return pd.Series(np.asarray([*mapped, None], dtype=object)[np.where(k < 0, len(uniq), k)], index=s.index)


def _checkboxes(frame: pd.DataFrame, rows: np.ndarray, base: str, members: list[tuple[str, str]],
                rule: CheckboxRule) -> tuple[pd.Series, list[Problem], pd.Series]:
    n = len(frame)
    checked_cols: list[list[str]] = [[] for _ in range(n)]
    labels: list[set[str]] = [set() for _ in range(n)]
    problems: list[Problem] = []
    for option, col in members:
        cells = frame[col].astype(object)
        for i, v in enumerate(cells):
            t = "" if v is None else str(v).strip().lower()
            if t in _CHECKED:
                checked_cols[i].append(col)
                if option not in rule.options:
                    problems.append(Problem(int(rows[i]), f"{rule.target} ({col})", clip(v),
                                            f"This box is checked, but the mapping does not say which {rule.target} "
                                            f"box {option} stands for."))
                elif rule.options[option]:
                    labels[i].add(rule.options[option])
            elif t not in _UNCHECKED and t not in MISSING_TOKENS:
                problems.append(Problem(int(rows[i]), f"{rule.target} ({col})", clip(v),
                                        "Not a checkbox value: expected 1 or 0 (Checked or Unchecked)."))
    out: list[str | None] = []
    for i in range(n):
        if len(labels[i]) == 0:
            out.append(None)
        elif len(labels[i]) == 1:
            out.append(next(iter(labels[i])))
        elif rule.several:
            out.append(rule.several)
        else:
            out.append(None)
            problems.append(Problem(int(rows[i]), f"{rule.target} ({base} checkboxes)", clip(", ".join(checked_cols[i])),
                                    f"Several boxes are checked ({', '.join(sorted(labels[i]))}) and the mapping does "
                                    f"not say which {rule.target} that is."))
    shown = pd.Series([", ".join(c) if c else "no box checked" for c in checked_cols], index=frame.index, dtype=object)
    return pd.Series(out, index=frame.index, dtype=object), problems, shown


def apply(raw: RawTable, mapping: ExportMapping) -> Applied:
    """Rewrite an export (read with its own headers) for the loader.

    Parameters
    ----------
    raw : RawTable
        From :func:`core.readers.read_table` (or :meth:`Profile.preview_table`).
    mapping : ExportMapping

    Returns
    -------
    Applied

    Examples
    --------
    >>> from core.readers import read_table
    >>> raw = read_table(b"Data decesso;vascular___1;vascular___2\\n03/11/2021;1;1\\n;0;0\\n")
    >>> m = ExportMapping({"Data decesso": "death_date"}, {"vascular": CheckboxRule("vascular_resection",
    ...                   {"1": "venous", "2": "arterial"}, "both")}, date_order="dmy")
    >>> apply(raw, m).raw.frame.to_dict("list")
    {'death_date': ['2021-11-03', ''], 'vascular_resection': ['both', None]}
    """
    frame, rows = raw.frame, raw.rows
    out: dict[str, pd.Series] = {}
    origin: dict[str, tuple[str, pd.Series]] = {}
    problems: list[Problem] = []
    consumed: set[str] = set()
    for src, target in mapping.columns.items():
        if not target or src not in frame.columns or target not in IMPORTED_NAMES:
            continue
        kind = COLUMNS_BY_NAME[target].kind
        s = frame[src].astype(object)
        if kind in ("category", "boolean"):
            s = _recode(s, mapping.values.get(target, {}))
        elif kind == "date":
            s = _dates(s, mapping.date_order)
        out[target] = s
        origin[target] = (src, frame[src])
        consumed.add(src)
    members: dict[str, list[tuple[str, str]]] = {}
    for col in frame.columns:
        parts = checkbox_parts(str(col))
        if parts:
            members.setdefault(parts[0], []).append((parts[1], str(col)))
    for base, rule in mapping.checkboxes.items():
        if not rule.target or base not in members or rule.target in out:
            continue
        values, probs, shown = _checkboxes(frame, rows, base, members[base], rule)
        out[rule.target] = values
        origin[rule.target] = (f"{base} checkboxes", shown)
        problems += probs
        consumed.update(col for _, col in members[base])
    for col in frame.columns:
        if col in consumed:
            continue
        name = str(col)
        while name in COLUMNS_BY_NAME or name in out:
            name += " (not used)"
        out[name] = frame[col]
    table = pd.DataFrame(out, index=frame.index) if out else pd.DataFrame(index=frame.index)
    return Applied(RawTable(frame=table, rows=rows, fmt=raw.fmt, notes=raw.notes), tuple(problems), origin)


def is_plain(prof: Profile, proposal: Proposal) -> bool:
    """Whether an export loads as it is, without asking anything (our own layout and codes).

    True when every export column is a dictionary column by name (as the loader reads headers)
    or matches nothing, no code needs a decision and dates such as ``03/11/2021`` either do not
    occur or the file itself shows they are day/month/year (the loader's reading).

    Examples
    --------
    >>> from core.readers import read_table
    >>> from core.export_profile import profile
    >>> p = profile(read_table(b"patient_id,sex,notes\\nA,F,x\\n"))
    >>> is_plain(p, propose(p))
    True
    """
    m = proposal.mapping
    for src, target in m.columns.items():
        if target is not None and dictionary_name(src) != target:
            return False
        if target is None and proposal.how.get(src):
            return False
    if any(rule.target for rule in m.checkboxes.values()):
        return False
    if codes_to_review(prof, m):
        return False
    q = date_question(prof, m)
    return not q.needed or (q.detected == DAY_FIRST)


# ------------------------------------------------------------------------------------------
# the mapping file


def to_json(mapping: ExportMapping) -> bytes:
    """The mapping as a small JSON file (column names and codes, no patient data).

    Examples
    --------
    >>> m = ExportMapping({"Sesso": "sex", "Note": None}, values={"sex": {"Maschio": "M"}}, date_order="dmy")
    >>> from_json(to_json(m)) == m
    True
    """
    doc = {
        "kind": FILE_KIND,
        "version": FILE_VERSION,
        "dictionary_version": DICTIONARY_VERSION,
        "about": "How the columns and codes of a study export map onto the PDAC-LM data dictionary. Upload it "
                 "together with the next export of the same form and it applies at once. It holds column names "
                 "and codes, no patient data. columns: export column -> dictionary column (null: not used); "
                 "checkboxes: REDCap checkbox field -> the category it fills; values: dictionary column -> "
                 "{export code: dictionary label}; date_order: dmy (03/11/2021 = 3 November) or mdy.",
        "columns": dict(mapping.columns),
        "checkboxes": {base: {"column": r.target, "options": dict(r.options), "several": r.several}
                       for base, r in mapping.checkboxes.items()},
        "values": {t: dict(v) for t, v in mapping.values.items()},
        "date_order": mapping.date_order,
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _str_map(obj: object, what: str, errors: list[str], *, nullable: bool) -> dict[str, str | None]:
    if not isinstance(obj, dict):
        errors.append(f"'{what}' must be an object of names.")
        return {}
    out: dict[str, str | None] = {}
    for k, v in obj.items():
        if not isinstance(v, str) and not (nullable and v is None):
            errors.append(f"In '{what}', '{k}' must be {'a name or null' if nullable else 'a text'}, not {v!r}.")
            continue
        out[str(k)] = v
    return out


def from_json(data: bytes) -> ExportMapping:
    """Read a mapping file written by :func:`to_json`.

    Raises
    ------
    MappingFileError
        With every reason it cannot be used (not JSON, not a mapping file, another dictionary
        version, names that are not dictionary columns, labels a column does not have...).

    Examples
    --------
    >>> from_json(b"[1, 2]")
    Traceback (most recent call last):
    ...
    core.mapping.MappingFileError: This is not a mapping file of the PDAC-LM explorer (it does not hold 'kind': 'pdac-lm-export-mapping').
    """
    if len(data) > MAX_FILE_BYTES:
        raise MappingFileError([f"The mapping file is {len(data) / 1024:,.0f} KB; a mapping file is at most "
                                f"{MAX_FILE_BYTES // 1024} KB. Is it the right file?"])
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise MappingFileError(["The mapping file is not UTF-8 text; upload the .json file saved by the explorer."]) from None
    except json.JSONDecodeError as exc:
        raise MappingFileError([f"The mapping file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."]) \
            from None
    if not isinstance(doc, dict) or doc.get("kind") != FILE_KIND:
        raise MappingFileError([f"This is not a mapping file of the PDAC-LM explorer (it does not hold 'kind': '{FILE_KIND}')."])
    errors: list[str] = []
    if doc.get("version") != FILE_VERSION:
        errors.append(f"The mapping file has format version {doc.get('version')!r}; this explorer reads version {FILE_VERSION}.")
    made_for = str(doc.get("dictionary_version", ""))
    if made_for.split(".")[0] != DICTIONARY_VERSION.split(".")[0]:
        errors.append(f"The mapping was made for data dictionary version {made_for or '?'}; this explorer uses "
                      f"{DICTIONARY_VERSION}. Map the export again.")
    columns = _str_map(doc.get("columns", {}), "columns", errors, nullable=True)
    checkboxes: dict[str, CheckboxRule] = {}
    raw_boxes = doc.get("checkboxes", {})
    if not isinstance(raw_boxes, dict):
        errors.append("'checkboxes' must be an object.")
        raw_boxes = {}
    for base, rule in raw_boxes.items():
        if not isinstance(rule, dict):
            errors.append(f"The checkbox field '{base}' must be an object with 'column', 'options' and 'several'.")
            continue
        target, several = rule.get("column"), rule.get("several")
        if not (target is None or isinstance(target, str)) or not (several is None or isinstance(several, str)):
            errors.append(f"The checkbox field '{base}': 'column' and 'several' must be names or null.")
            continue
        checkboxes[str(base)] = CheckboxRule(target, _str_map(rule.get("options", {}), f"checkboxes/{base}/options",
                                                              errors, nullable=True), several)
    values: dict[str, dict[str, str]] = {}
    raw_values = doc.get("values", {})
    if not isinstance(raw_values, dict):
        errors.append("'values' must be an object.")
        raw_values = {}
    for target, table in raw_values.items():
        values[str(target)] = {k: v for k, v in _str_map(table, f"values/{target}", errors, nullable=False).items()
                               if v is not None}
    order = doc.get("date_order")
    mapping = ExportMapping(columns, checkboxes, values, order if isinstance(order, str) or order is None else str(order))
    errors += check(mapping)
    if errors:
        raise MappingFileError(errors)
    return mapping


def describe(mapping: ExportMapping) -> str:
    """One sentence on what a mapping does (for the notes of a cohort loaded with it).

    Examples
    --------
    >>> describe(ExportMapping({"Sesso": "sex", "Note": None}, values={"sex": {"Maschio": "M"}}, date_order="dmy"))
    'Read with a column mapping: 1 export column matched to the dictionary (1 not used), 1 code recoded, dates such as 03/11/2021 read as day/month/year.'
    """
    used = sum(1 for t in mapping.columns.values() if t)
    unused = sum(1 for t in mapping.columns.values() if not t)
    boxes = sum(1 for r in mapping.checkboxes.values() if r.target)
    codes = sum(len(v) for v in mapping.values.values())
    parts = [f"{used} export column{'s' if used != 1 else ''} matched to the dictionary ({unused} not used)"]
    if boxes:
        parts.append(f"{boxes} checkbox field{'s' if boxes != 1 else ''} combined")
    parts.append(f"{codes} code{'s' if codes != 1 else ''} recoded")
    if mapping.date_order:
        parts.append("dates such as 03/11/2021 read as " + ("day/month/year" if mapping.date_order == DAY_FIRST
                                                             else "month/day/year"))
    return "Read with a column mapping: " + ", ".join(parts) + "."

