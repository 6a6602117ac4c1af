"""What happens to an uploaded export: read it, then load it as it is or through a column mapping.

Both functions here parse the upload, so the app runs them in the limited child process of
:mod:`core.isolation` (``run_isolated(..., task=...)``):

* :func:`prepare` reads the export with its own headers and profiles it. An export in the
  dictionary's own layout loads at once, exactly as :func:`core.cohort.load` would; one with
  other names or codes comes back with a proposed mapping to confirm; with a saved mapping that
  fits, it loads at once through that mapping.
* :func:`load_mapped` loads an export through a mapping the user confirmed.

Problems keep the row numbers of the original file; their column says which export column the
value came from (``sex (Sesso)``) and their value is the cell as written in the export.

Examples
--------
>>> from pathlib import Path
>>> data = (Path(__file__).parent.parent / "tests" / "corpus" / "valid_minimal.csv").read_bytes()
>>> prepare(data, "ours.csv").cohort.n_patients
6
>>> renamed = data.replace(b"patient_id,centre_id", b"Codice paziente,Centro", 1)
>>> p = prepare(renamed, "theirs.csv")
>>> p.cohort is None, p.mapping.columns["Codice paziente"]
(True, 'patient_id')
>>> load_mapped(renamed, "theirs.csv", mapping=p.mapping).cohort.n_patients
6
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.cohort import Cohort, from_table
from core.export_profile import Profile, profile
from core.mapping import (
    ExportMapping,
    apply,
    check,
    date_question,
    describe,
    fit_problems,
    is_plain,
    merge,
    propose,
)
from core.readers import CohortValidationError, Problem, RawTable, canonical, clip, read_table

__all__ = ["Prepared", "load_mapped", "prepare"]


@dataclass(frozen=True)
class Prepared:
    """An upload after reading: loaded, or waiting for the user to confirm a mapping.

    Attributes
    ----------
    profile : Profile
        The export's columns (names, codes, date forms, preview rows).
    mapping : ExportMapping
        The mapping applied, or the one proposed (a saved mapping completed by a proposal when it does not fit).
    how : dict
        How each export column was matched (see :class:`core.mapping.Proposal`).
    cohort : Cohort or None
        The loaded cohort; ``None`` when there is a mapping to confirm or the file has problems.
    problems : tuple of Problem
        Why the export did not load through the mapping (original row numbers).
    unfit : tuple of str
        Why a saved mapping does not fit this export.
    mapped : bool
        True when the cohort was loaded through a mapping (False: read as it is).
    """

    profile: Profile
    mapping: ExportMapping
    how: dict[str, str] = field(default_factory=dict)
    cohort: Cohort | None = None
    problems: tuple[Problem, ...] = ()
    unfit: tuple[str, ...] = ()
    mapped: bool = False


def _name(filename: str | None) -> str:
    return filename or "upload"


def prepare(data: bytes, filename: str | None = None, *, saved: ExportMapping | None = None) -> Prepared:
    """Read an upload: load it if it needs no mapping (or ``saved`` fits), else propose a mapping.

    Parameters
    ----------
    data : bytes
        The uploaded export.
    filename : str, optional
    saved : ExportMapping, optional
        A mapping saved from an earlier export of the same form.

    Returns
    -------
    Prepared

    Raises
    ------
    CohortValidationError
        When the file cannot be read as a table, or when an export in the dictionary's own
        layout has problems (as :func:`core.cohort.load` reports them).
    """
    raw = read_table(data, filename=filename)
    prof = profile(raw)
    proposal = propose(prof)
    if saved is not None:
        unfit = fit_problems(saved, prof)
        if not unfit:
            return _load(raw, prof, saved, _name(filename))
        return Prepared(prof, merge(saved, proposal.mapping), how=proposal.how, unfit=tuple(unfit))
    if is_plain(prof, proposal):
        cohort = from_table(canonical(raw), _name(filename))
        q = date_question(prof, proposal.mapping)
        if q.needed and q.ambiguous:  # say how dates such as 03/11/2021 were read, and why
            cohort = replace(cohort, notes=(*cohort.notes, f"Dates such as {q.either_example} were read as "
                                            f"day/month/year, as {q.day_first_example} shows."))
        return Prepared(prof, proposal.mapping, how=proposal.how, cohort=cohort)
    return Prepared(prof, proposal.mapping, how=proposal.how)


def load_mapped(data: bytes, filename: str | None = None, *, mapping: ExportMapping) -> Prepared:
    """Load an upload through a mapping the user confirmed.

    Returns
    -------
    Prepared
        With ``cohort`` set, or ``problems`` (every one, original row numbers) when it does not load.

    Raises
    ------
    CohortValidationError
        When the file cannot be read as a table at all.
    """
    raw = read_table(data, filename=filename)
    return _load(raw, profile(raw), mapping, _name(filename))


def _load(raw: RawTable, prof: Profile, mapping: ExportMapping, name: str) -> Prepared:
    blocking = check(mapping, prof)
    if blocking:
        return Prepared(prof, mapping, problems=tuple(Problem(None, None, None, m) for m in blocking))
    applied = apply(raw, mapping)
    try:
        cohort = from_table(applied.raw, name)
    except CohortValidationError as exc:
        loader = list(exc.problems)
        cohort = None
    else:
        loader = []
    problems = _originals(loader, applied.origin, raw, applied.problems)
    if problems:
        return Prepared(prof, mapping, problems=tuple(CohortValidationError(problems).problems))
    assert cohort is not None
    return Prepared(prof, mapping, cohort=replace(cohort, notes=(*cohort.notes, describe(mapping))), mapped=True)


def _originals(loader: list[Problem], origin: dict, raw: RawTable, own: tuple[Problem, ...]) -> list[Problem]:
    """Loader problems in the export's terms (its column, its cell), plus the mapping's own, without repeats."""
    at = {int(r): i for i, r in enumerate(raw.rows)}
    own_cells = {(p.row, p.column.split(" (")[0]) for p in own if p.column}
    out = list(own)
    for p in loader:
        if (p.row, p.column) in own_cells:
            continue
        if p.column in origin:
            source, cells = origin[p.column]
            column = p.column if source == p.column else f"{p.column} ({source})"
            value = clip(cells.iat[at[p.row]]) if p.row is not None and p.row in at else p.value
            out.append(Problem(p.row, column, value, p.message))
        elif p.row is None and p.column is not None and "is missing" in p.message:
            out.append(Problem(p.row, p.column, p.value, p.message + " No column of the export is mapped to it."))
        else:
            out.append(p)
    return out
