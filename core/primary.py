"""The pre-specified primary analysis, and how the current view differs from it (forking paths).

A study that looks at many views of 90 patients will find one that "works". The guard is to
fix one analysis before looking: the **primary analysis**, an :class:`~core.spec.AnalysisSpec`
written down with its rationale. Every other view is an **exploration**, and says in words how
it differs from the primary analysis (:func:`compare`, :func:`status_line`).

A primary analysis is stored as a small JSON file (:func:`to_json`, :func:`parse`)::

    {"format": "pdac-lm-primary-analysis", "version": 1,
     "spec": "<every setting as a query string>", "rationale": "...", "declared": "2026-01-31",
     "cohort_sha256": "<optional: the only cohort it applies to>"}

The spec is written with every field explicit (``AnalysisSpec.to_query(full=True)``), so its
meaning does not change when a default of the software does. The demo cohort ships its primary
analysis in ``data/primary_analysis.json`` (:func:`demo_primary`); for an uploaded cohort the
user uploads such a file or declares the current view once per session.

Examples
--------
>>> from core.spec import AnalysisSpec
>>> primary = AnalysisSpec()
>>> compare(primary, primary)
[]
>>> [d.in_words() for d in compare(AnalysisSpec(landmark_months=9.0, caliper=0.2), primary)]
['landmark (9 months here, 6 months in the primary)', 'caliper (0.2 SD of the logit here, none in the primary)']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from core.dictionary import C, label, value_label
from core.eligibility import CRITERIA, PRESET_NAMES, preset_of
from core.spec import (
    CENTRE_MODELS,
    DISPLAY_ONLY,
    ENDPOINT_NAMES,
    HEPATECTOMY,
    METHODS,
    MISSING,
    ORIGINS,
    PROPENSITY_MODELS,
    AnalysisSpec,
)

FORMAT = "pdac-lm-primary-analysis"
VERSION = 1
#: The demo cohort's primary analysis, shipped beside the data.
DEMO_FILE = Path(__file__).resolve().parent.parent / "data" / "primary_analysis.json"
#: A spec file larger than this is refused (a real one is well under 2 KiB).
MAX_BYTES = 64 * 1024

#: Each spec field in words, as a difference names it.
FIELD_WORDS: dict[str, str] = {
    "eligibility": "eligibility criteria",
    "pancreatic_procedures": "pancreatic procedure",
    "hepatectomy": "liver resection extent",
    "liver_procedures": "liver procedure",
    "liver_timings": "simultaneous / staged",
    "mets_groups": "metastasis group",
    "mets_min": "fewest liver metastases",
    "mets_max": "most liver metastases",
    "regimens": "regimen",
    "chemo_settings": "chemotherapy setting",
    "recist": "RECIST response",
    "resectability_levels": "resectability",
    "centres": "centre",
    "age_min": "youngest age",
    "age_max": "oldest age",
    "ca19_9_max": "CA19-9 upper limit",
    "year_min": "first year of diagnosis",
    "year_max": "last year of diagnosis",
    "endpoint": "endpoint",
    "origin": "time origin",
    "method": "immortal-time method",
    "landmark_months": "landmark",
    "covariates": "propensity covariates",
    "propensity": "propensity model",
    "caliper": "caliper",
    "ratio": "controls per operated patient",
    "replace": "matching with replacement",
    "exact_centre": "exact matching on centre",
    "order": "matching order",
    "min_at_risk": "minimum number at risk",
    "rmst_months": "RMST horizon",
    "missing": "missing covariate values",
    "centre_model": "centre in the hazard ratio",
}

_CATEGORY_COLUMNS = {
    "pancreatic_procedures": C.PANCREATIC_PROCEDURE, "liver_procedures": C.LIVER_PROCEDURE,
    "liver_timings": C.LIVER_TIMING, "mets_groups": C.METS_GROUP, "regimens": C.CHEMO_REGIMEN,
    "chemo_settings": C.CHEMO_SETTING, "recist": C.RECIST, "resectability_levels": C.RESECTABILITY,
    "centres": C.CENTRE_ID,
}
_ORDER_WORDS = {"largest": "largest score first", "smallest": "smallest score first", "data": "data order"}
_CHOICE_WORDS = {"hepatectomy": HEPATECTOMY, "endpoint": ENDPOINT_NAMES, "origin": ORIGINS, "method": METHODS,
                 "propensity": PROPENSITY_MODELS, "order": _ORDER_WORDS, "missing": MISSING,
                 "centre_model": CENTRE_MODELS}
_MONTHS = ("landmark_months", "rmst_months")


def value_in_words(name: str, value: object) -> str:
    """One spec field's value in words (category labels from the data dictionary).

    Examples
    --------
    >>> value_in_words("regimens", ("GEM",)), value_in_words("regimens", ())
    ('Gemcitabine alone', 'all')
    >>> value_in_words("caliper", None), value_in_words("landmark_months", 6.0)
    ('none', '6 months')
    """
    if name == "eligibility":
        if not value:
            return "none"
        preset = preset_of(value)
        return PRESET_NAMES[preset] if preset else "; ".join(CRITERIA[k].words for k in CRITERIA if k in value)
    if name in _CATEGORY_COLUMNS:
        return ", ".join(value_label(_CATEGORY_COLUMNS[name], v) for v in value) if value else "all"
    if name == "covariates":
        return ", ".join(label(c) for c in value)
    if name in _CHOICE_WORDS:
        return _CHOICE_WORDS[name].get(value, str(value))
    if name == "caliper":
        return "none" if value is None else f"{value:g} SD of the logit"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "no limit"
    if name in _MONTHS:
        return f"{value:g} months"
    if name == "ca19_9_max":
        return f"{value:g} U/mL"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Difference:
    """One setting or filter in which a view differs from the primary analysis.

    Examples
    --------
    >>> Difference("ratio", "controls per operated patient", "1", "2").in_words()
    'controls per operated patient (2 here, 1 in the primary)'
    """

    field: str
    setting: str
    primary: str
    current: str

    def in_words(self) -> str:
        return f"{self.setting} ({self.current} here, {self.primary} in the primary)"


def _tuple_difference(name: str, here: tuple, primary: tuple) -> tuple[str, str]:
    """Words for a changed list: what was added or removed when both are non-empty, else both lists."""
    if name == "covariates" or (here and primary and name != "eligibility"):
        added = [v for v in here if v not in primary]
        removed = [v for v in primary if v not in here]
        if added or removed:
            parts = ([f"with {value_in_words(name, tuple(added))}"] if added else []) + (
                [f"without {value_in_words(name, tuple(removed))}"] if removed else [])
            return " and ".join(parts), value_in_words(name, primary)
        return "the same in another order", value_in_words(name, primary)
    return value_in_words(name, here), value_in_words(name, primary)


def compare(spec: AnalysisSpec, primary: AnalysisSpec | PrimaryAnalysis) -> list[Difference]:
    """How ``spec`` differs from the primary analysis, one :class:`Difference` per field.

    Fields that change only how results are drawn (:data:`core.spec.DISPLAY_ONLY`) are not
    differences: they change no number.

    Parameters
    ----------
    spec : AnalysisSpec
        The current view.
    primary : AnalysisSpec or PrimaryAnalysis
        The pre-specified primary analysis.

    Returns
    -------
    list of Difference
        Empty when the view is the primary analysis; in the order of the spec's fields.

    Examples
    --------
    >>> d = compare(AnalysisSpec(regimens=("FOLFIRINOX",), min_at_risk=5), AnalysisSpec())
    >>> [x.in_words() for x in d]
    ['regimen (FOLFIRINOX here, all in the primary)']
    """
    if isinstance(primary, PrimaryAnalysis):
        primary = primary.spec
    if not isinstance(spec, AnalysisSpec) or not isinstance(primary, AnalysisSpec):
        raise ValueError("compare() needs two AnalysisSpec objects")
    out: list[Difference] = []
    for f in dataclasses.fields(AnalysisSpec):
        here, there = getattr(spec, f.name), getattr(primary, f.name)
        if here == there or f.name in DISPLAY_ONLY:
            continue
        if f.name == "covariates" and set(here) == set(there):
            continue  # the same model: the order of the covariates changes no estimate
        if isinstance(here, tuple):
            now, before = _tuple_difference(f.name, here, there)
        else:
            now, before = value_in_words(f.name, here), value_in_words(f.name, there)
        out.append(Difference(f.name, FIELD_WORDS.get(f.name, f.name.replace("_", " ")), before, now))
    return out


@dataclass(frozen=True)
class PrimaryAnalysis:
    """A pre-specified primary analysis: the spec, why it was chosen, where it comes from.

    Attributes
    ----------
    spec : AnalysisSpec
        The primary analysis (filters and settings).
    rationale : str
        Why these choices, in the words of whoever declared it.
    source : str
        Where it comes from, in words ("shipped with the demo cohort", "declared in this session").
    declared : str
        When it was declared (ISO date), if known.
    cohort_sha256 : str or None
        The only cohort it applies to (None: not bound to a file).
    """

    spec: AnalysisSpec
    rationale: str = ""
    source: str = ""
    declared: str = ""
    cohort_sha256: str | None = None


#: At most this many differences are named in the one-line status; the rest are counted.
MAX_NAMED = 3


def status_line(spec: AnalysisSpec, primary: PrimaryAnalysis | None) -> str:
    """The one compact line every page shows: primary analysis, or exploration and how it differs.

    Examples
    --------
    >>> p = PrimaryAnalysis(AnalysisSpec(), source="shipped with the demo cohort")
    >>> status_line(AnalysisSpec(), p)
    'Primary analysis (pre-specified, shipped with the demo cohort).'
    >>> status_line(AnalysisSpec(ratio=2), p)
    'Exploration: differs from the primary analysis in controls per operated patient (2 here, 1 in the primary).'
    >>> status_line(AnalysisSpec(), None).startswith("Exploration: no primary analysis")
    True
    """
    if primary is None:
        return ("Exploration: no primary analysis has been pre-specified for this cohort, so every view is "
                "exploratory.")
    diffs = compare(spec, primary)
    if not diffs:
        return "Primary analysis (pre-specified" + (f", {primary.source}" if primary.source else "") + ")."
    named = [d.in_words() for d in diffs[:MAX_NAMED]]
    rest = len(diffs) - len(named)
    if rest:
        named.append(f"{rest} more setting{'s' if rest > 1 else ''}")
    words = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f"Exploration: differs from the primary analysis in {words}."


def provenance_entry(spec: AnalysisSpec, primary: PrimaryAnalysis | None) -> str:
    """What an export's provenance says about the primary analysis: the status line, then the primary spec.

    Examples
    --------
    >>> print(provenance_entry(AnalysisSpec(), PrimaryAnalysis(AnalysisSpec(), source="shipped with the data")))
    Primary analysis (pre-specified, shipped with the data).
    Primary analysis settings: (defaults)
    """
    lines = [status_line(spec, primary)]
    if primary is not None:
        lines.append("Primary analysis settings: " + (primary.spec.to_query_string() or "(defaults)"))
        if primary.declared:
            lines.append(f"Declared: {primary.declared}")
    return "\n".join(lines)


def to_json(primary: PrimaryAnalysis) -> str:
    """The spec file of a primary analysis (every setting written explicitly).

    Examples
    --------
    >>> p = PrimaryAnalysis(AnalysisSpec(ratio=2), rationale="why", declared="2026-01-31")
    >>> parse(to_json(p), source="test").spec == p.spec
    True
    """
    body = {"format": FORMAT, "version": VERSION, "spec": primary.spec.to_query_string(full=True),
            "rationale": primary.rationale, "declared": primary.declared}
    if primary.cohort_sha256:
        body["cohort_sha256"] = primary.cohort_sha256
    return json.dumps(body, indent=2) + "\n"


def declare(spec: AnalysisSpec, *, cohort_sha256: str | None, rationale: str = "",
            now: dt.datetime | None = None) -> PrimaryAnalysis:
    """The current view declared as the primary analysis (today, for one cohort).

    Examples
    --------
    >>> import datetime as dt
    >>> p = declare(AnalysisSpec(), cohort_sha256=None, now=dt.datetime(2026, 1, 31, tzinfo=dt.UTC))
    >>> p.declared, p.source
    ('2026-01-31', 'declared in this session from the view then on screen')
    """
    now = now or dt.datetime.now(dt.UTC)
    return PrimaryAnalysis(spec, rationale=rationale.strip(), source="declared in this session from the view then on screen",
                           declared=now.date().isoformat(), cohort_sha256=cohort_sha256)


def parse(text: str | bytes, *, source: str, cohort_sha256: str | None = None) -> PrimaryAnalysis:
    """Read a primary-analysis spec file; refuse anything unclear with a plain message.

    Parameters
    ----------
    text : str or bytes
        The file's content (JSON, see the module docstring).
    source : str
        Where it comes from, in words (kept in :attr:`PrimaryAnalysis.source`).
    cohort_sha256 : str, optional
        The active cohort; a file bound to another cohort is refused.

    Raises
    ------
    ValueError
        Not JSON, not a primary-analysis file, an unknown or invalid setting, or another cohort.

    Examples
    --------
    >>> parse('{"format": "pdac-lm-primary-analysis", "spec": "lm=9"}', source="x").spec.landmark_months
    9.0
    >>> parse('{"format": "pdac-lm-primary-analysis", "spec": "lm=99"}', source="x")
    Traceback (most recent call last):
    ...
    ValueError: The primary-analysis file has an invalid setting: URL parameter 'lm': landmark (months) must be between 1 and 24 (got 99).
    """
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise ValueError(f"The primary-analysis file is larger than {MAX_BYTES // 1024} KiB: it is not a spec file.")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("The primary-analysis file is not UTF-8 text.") from None
    if len(text) > MAX_BYTES:
        raise ValueError(f"The primary-analysis file is larger than {MAX_BYTES // 1024} KiB: it is not a spec file.")
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("The primary-analysis file is not valid JSON.") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValueError(f"This is not a primary-analysis file (it needs \"format\": \"{FORMAT}\").")
    query = body.get("spec")
    if not isinstance(query, str):
        raise ValueError("The primary-analysis file has no \"spec\" (the settings as a query string).")
    pairs = parse_qsl(query.split("?", 1)[-1], keep_blank_values=True)
    known = {f.metadata["url"].key for f in dataclasses.fields(AnalysisSpec)}
    unknown = sorted({k for k, _ in pairs if k not in known})
    if unknown:
        raise ValueError("The primary-analysis file has unknown setting(s): " + ", ".join(unknown) + ".")
    try:
        spec = AnalysisSpec.from_query(dict(pairs), strict=True)
    except ValueError as exc:
        raise ValueError(f"The primary-analysis file has an invalid setting: {exc}.") from None
    bound = body.get("cohort_sha256")
    if bound is not None and not isinstance(bound, str):
        raise ValueError("The primary-analysis file's cohort_sha256 must be text.")
    if bound and cohort_sha256 and bound.lower() != cohort_sha256.lower():
        raise ValueError("The primary-analysis file was declared for another cohort (its SHA-256 differs from the "
                         "active cohort's): it does not apply to these data.")
    rationale, declared = body.get("rationale", ""), body.get("declared", "")
    return PrimaryAnalysis(spec, rationale=rationale if isinstance(rationale, str) else "", source=source,
                           declared=declared if isinstance(declared, str) else "", cohort_sha256=bound or None)


@functools.cache
def demo_primary() -> PrimaryAnalysis:
    """The primary analysis shipped with the demo cohort (``data/primary_analysis.json``).

    Examples
    --------
    >>> demo_primary().spec.method
    'landmark'
    """
    return parse(DEMO_FILE.read_bytes(), source="shipped with the demo cohort in data/primary_analysis.json")
