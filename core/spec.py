"""The analysis spec: cohort filters plus analysis settings, frozen and serialisable.

One :class:`AnalysisSpec` describes one view of the data. It is

* the input of the pure pipeline (:func:`core.analysis.run`),
* the URL state of the dashboard (:meth:`AnalysisSpec.to_query` / :meth:`AnalysisSpec.from_query`),
* the cache key (it is hashable), and
* the provenance written into every export (:meth:`AnalysisSpec.describe`).

Examples
--------
>>> from core.spec import AnalysisSpec
>>> spec = AnalysisSpec(regimens=("FOLFIRINOX",), caliper=0.1)
>>> spec.to_query_string()
'reg=FOLFIRINOX&cal=0.1'
>>> AnalysisSpec.from_query_string(spec.to_query_string()) == spec
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from core.dictionary import (
    DEFAULT_PROPENSITY_COVARIATES,
    PRE_SURGERY_COVARIATES,
    C,
    LiverProcedure,
    MetsGroup,
    Pancreatic,
    Recist,
    Regimen,
    Resectability,
    Setting,
    Timing,
    label,
    value_label,
)
from core.eligibility import CRITERIA, PRESET_NAMES, preset_of

Endpoint = Literal["os", "efs"]
Origin = Literal["chemo_start", "diagnosis"]
Method = Literal["landmark", "time_dependent", "naive"]
Hepatectomy = Literal["any", "minor", "major"]
Order = Literal["largest", "smallest", "data"]
PropensityModel = Literal["firth", "glm"]
CentreModel = Literal["none", "strata", "cluster"]

ENDPOINTS: dict[str, str] = {
    "os": "Overall survival",
    "efs": "Event-free survival (progression, recurrence or death)",
}
#: What each between-arm endpoint counts, in words a surgeon reads on screen.
ENDPOINT_EVENTS: dict[str, str] = {
    "os": "death from any cause",
    "efs": "progression (chemotherapy arm), recurrence after resection (surgery arm) or death, whichever comes first",
}
#: Short names of the endpoints (axis titles, table headers) and the word for one event.
ENDPOINT_NAMES: dict[str, str] = {"os": "Overall survival", "efs": "Event-free survival"}
ENDPOINT_ABBREVIATIONS: dict[str, str] = {"os": "OS", "efs": "EFS"}
EVENT_WORDS: dict[str, str] = {"os": "death", "efs": "event"}
MissingHandling = Literal["complete", "impute"]
#: What a matched comparison does with a missing propensity covariate value.
MISSING: dict[str, str] = {
    "complete": "leave out patients with a missing value (complete cases)",
    "impute": "multiple imputation (20 data sets, chained equations), matched within each, Rubin's rules",
}
PROPENSITY_MODELS: dict[str, str] = {
    "firth": "Firth-penalised logistic regression",
    "glm": "logistic regression (unpenalised, MatchIt's default)",
}
ORIGINS: dict[str, str] = {"chemo_start": "chemotherapy start", "diagnosis": "diagnosis"}
METHODS: dict[str, str] = {
    "landmark": "Landmark analysis",
    "time_dependent": "Cox model with surgery as a time-dependent covariate",
    "naive": "Naive comparison (biased by immortal time)",
}
#: How the centre enters every Cox model of the between-arm comparison (words of the widget and provenance).
CENTRE_MODELS: dict[str, str] = {
    "none": "not used",
    "strata": "stratified by centre",
    "cluster": "standard errors clustered by centre",
}
HEPATECTOMY: dict[str, str] = {"any": "any", "minor": "minor (< 3 segments)", "major": "major (>= 3 segments)"}


@dataclass(frozen=True)
class _Field:
    key: str  # short URL key
    kind: str  # "tuple", "float", "int", "bool", "str", "optfloat", "optint"
    choices: tuple[str, ...] | None = None
    lo: float | None = None  # allowed range of a number (inclusive), shared with the widget
    hi: float | None = None
    what: str = ""  # the setting in words, for messages


def _meta(key: str, kind: str, choices: tuple[str, ...] | None = None, *, lo: float | None = None,
          hi: float | None = None, what: str = "") -> dict[str, Any]:
    return {"url": _Field(key, kind, choices, lo, hi, what)}


def field_range(name: str) -> tuple[float, float]:
    """The allowed range of a numeric setting or filter (the widget offers exactly this range).

    Examples
    --------
    >>> field_range("landmark_months")
    (1.0, 24.0)
    """
    meta: _Field = _FIELDS[name].metadata["url"]
    if meta.lo is None or meta.hi is None:
        raise KeyError(f"{name} has no numeric range")
    return meta.lo, meta.hi


@dataclass(frozen=True)
class AnalysisSpec:
    """Filters and settings of one analysis. Empty tuples mean "no restriction".

    Filters marked *surgery arm* select operated patients and leave the chemotherapy pool
    untouched; all other filters apply to both arms.

    Parameters
    ----------
    eligibility : tuple of str
        *Both arms, at time zero.* Eligibility criteria (keys of :data:`core.eligibility.CRITERIA`;
        a preset of :data:`core.eligibility.PRESETS` or any custom set).
    pancreatic_procedures : tuple of str
        *Surgery arm.* Pancreatic procedures to keep (PD, PPPD, DP, TP).
    hepatectomy : {"any", "minor", "major"}
        *Surgery arm.* Minor (< 3 segments) or major (>= 3 segments) liver resection.
    liver_procedures : tuple of str
        *Surgery arm.* Liver procedures to keep.
    liver_timings : tuple of str
        *Surgery arm.* Simultaneous or staged liver resection.
    mets_groups : tuple of str
        *Both arms.* Metastasis groups (1, 2-3, >3).
    mets_min, mets_max : int or None
        *Both arms.* Range of the number of liver metastases.
    regimens, chemo_settings, recist, resectability_levels, centres : tuple of str
        *Both arms.* Categories to keep.
    age_min, age_max : int or None
        *Both arms.* Age at diagnosis range (years, inclusive).
    ca19_9_max : float or None
        *Both arms.* Upper limit of baseline CA19-9 (U/mL); patients with a missing value are kept.
    year_min, year_max : int or None
        *Both arms.* Year of diagnosis range.
    endpoint : {"os", "rfs"}
        Overall survival (compared between arms) or recurrence-free survival (surgery group only).
    origin : {"chemo_start", "diagnosis"}
        Time origin for the between-arm comparison.
    method : {"landmark", "time_dependent", "naive"}
        How immortal time is handled.
    landmark_months : float
        Landmark time L in months after the origin.
    covariates : tuple of str
        Propensity-model covariates (pre-surgery variables only).
    caliper : float or None
        Caliper in SD of the logit of the propensity score; None (the default, as MatchIt's) for no
        caliper: every operated patient keeps a match, so the estimand stays "patients like those
        operated" in every subgroup (see ``docs/method_check.md`` for bias and coverage with and without).
    ratio : int
        Controls per operated patient.
    replace : bool
        Matching with replacement.
    exact_centre : bool
        Match only within the same centre.
    order : {"largest", "smallest", "data"}
        Order in which operated patients are matched.
    centre_model : {"none", "strata", "cluster"}
        How the centre enters every Cox model of the comparison: not at all; as strata (a baseline
        hazard per centre, R ``strata(centre)``: operated and chemotherapy-only patients of the same
        centre are compared, centres with one arm only add nothing and are left out); or as the
        cluster of the robust variance (R ``cluster = centre``, at least
        :data:`core.estimators.MIN_CENTRES_FOR_CLUSTER` centres).
    min_at_risk : int
        Curves stop where fewer patients than this remain at risk.
    rmst_months : float
        Horizon of the restricted mean survival time (months from the start of the clock), 6 to 60;
        shortened to the shorter follow-up of the two arms when that ends earlier.
    missing : {"complete", "impute"}
        Missing propensity covariate values in the matched comparisons: complete cases, or
        multiple imputation with matching inside each imputation (:mod:`core.imputed`).
    """

    eligibility: tuple[str, ...] = field(default=(), metadata=_meta("elig", "tuple", tuple(CRITERIA)))
    pancreatic_procedures: tuple[str, ...] = field(default=(), metadata=_meta("pp", "tuple", Pancreatic.ALL))
    hepatectomy: Hepatectomy = field(default="any", metadata=_meta("hep", "str", tuple(HEPATECTOMY)))
    liver_procedures: tuple[str, ...] = field(default=(), metadata=_meta("lp", "tuple", LiverProcedure.ALL))
    liver_timings: tuple[str, ...] = field(default=(), metadata=_meta("lt", "tuple", Timing.ALL))
    mets_groups: tuple[str, ...] = field(default=(), metadata=_meta("mg", "tuple", MetsGroup.ALL))
    mets_min: int | None = field(default=None, metadata=_meta("mmin", "optint", lo=1, hi=50, what="fewest liver metastases"))
    mets_max: int | None = field(default=None, metadata=_meta("mmax", "optint", lo=1, hi=50, what="most liver metastases"))
    regimens: tuple[str, ...] = field(default=(), metadata=_meta("reg", "tuple", Regimen.ALL))
    chemo_settings: tuple[str, ...] = field(default=(), metadata=_meta("cs", "tuple", Setting.ALL))
    recist: tuple[str, ...] = field(default=(), metadata=_meta("rec", "tuple", Recist.ALL))
    resectability_levels: tuple[str, ...] = field(default=(), metadata=_meta("res", "tuple", Resectability.ALL))
    centres: tuple[str, ...] = field(default=(), metadata=_meta("ctr", "tuple"))
    age_min: int | None = field(default=None, metadata=_meta("amin", "optint", lo=18, hi=100, what="youngest age"))
    age_max: int | None = field(default=None, metadata=_meta("amax", "optint", lo=18, hi=100, what="oldest age"))
    ca19_9_max: float | None = field(default=None, metadata=_meta("camax", "optfloat", lo=0.0, hi=1e7,
                                                                  what="CA19-9 upper limit (U/mL)"))
    year_min: int | None = field(default=None, metadata=_meta("ymin", "optint", lo=1900, hi=2100, what="first year"))
    year_max: int | None = field(default=None, metadata=_meta("ymax", "optint", lo=1900, hi=2100, what="last year"))
    endpoint: Endpoint = field(default="os", metadata=_meta("ep", "str", tuple(ENDPOINTS)))
    origin: Origin = field(default="chemo_start", metadata=_meta("org", "str", tuple(ORIGINS)))
    method: Method = field(default="landmark", metadata=_meta("meth", "str", tuple(METHODS)))
    landmark_months: float = field(default=6.0, metadata=_meta("lm", "float", lo=1.0, hi=24.0, what="landmark (months)"))
    covariates: tuple[str, ...] = field(default=DEFAULT_PROPENSITY_COVARIATES, metadata=_meta("cov", "tuple", PRE_SURGERY_COVARIATES))
    propensity: PropensityModel = field(default="firth", metadata=_meta("ps", "str", tuple(PROPENSITY_MODELS)))
    caliper: float | None = field(default=None, metadata=_meta("cal", "optfloat", lo=0.05, hi=1.0,
                                                              what="caliper (SD of the logit)"))
    ratio: int = field(default=1, metadata=_meta("ratio", "int", lo=1, hi=5, what="controls per operated patient"))
    replace: bool = field(default=False, metadata=_meta("repl", "bool"))
    exact_centre: bool = field(default=False, metadata=_meta("exc", "bool"))
    order: Order = field(default="largest", metadata=_meta("ord", "str", ("largest", "smallest", "data")))
    centre_model: CentreModel = field(default="none", metadata=_meta("ctrm", "str", tuple(CENTRE_MODELS)))
    min_at_risk: int = field(default=3, metadata=_meta("mar", "int", lo=1, hi=50, what="minimum number at risk"))
    rmst_months: float = field(default=36.0, metadata=_meta("tau", "float", lo=6.0, hi=60.0,
                                                            what="RMST horizon (months)"))
    missing: MissingHandling = field(default="complete", metadata=_meta("miss", "str", tuple(MISSING)))

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("Invalid analysis settings: " + "; ".join(problems))

    # -- validation -------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """List what is wrong with these settings (empty when valid).

        Examples
        --------
        >>> AnalysisSpec().problems()
        []
        """
        out: list[str] = []
        for f in fields(self):
            meta: _Field = f.metadata["url"]
            value = getattr(self, f.name)
            if meta.kind == "tuple":
                if not isinstance(value, tuple):
                    out.append(f"{f.name} must be a tuple")
                elif meta.choices is not None:
                    bad = [v for v in value if v not in meta.choices]
                    if bad:
                        out.append(f"{f.name}: unknown value(s) {', '.join(map(str, bad))}")
            elif meta.kind == "str" and meta.choices is not None and value not in meta.choices:
                out.append(f"{f.name} must be one of {', '.join(meta.choices)}")
            if meta.lo is not None and value is not None and not isinstance(value, bool):
                if not (meta.lo <= value <= meta.hi):
                    out.append(f"{meta.what or f.name} must be between {meta.lo:g} and {meta.hi:g} (got {value:g})")
        if not self.covariates:
            out.append("choose at least one propensity covariate")
        for lo, hi, what in (
            (self.mets_min, self.mets_max, "number of metastases"),
            (self.age_min, self.age_max, "age"),
            (self.year_min, self.year_max, "year of diagnosis"),
        ):
            if lo is not None and hi is not None and lo > hi:
                out.append(f"{what}: minimum above maximum")
        return out

    def replace_(self, **changes: Any) -> AnalysisSpec:
        """Return a copy with some fields changed (validated).

        Examples
        --------
        >>> AnalysisSpec().replace_(ratio=2).ratio
        2
        """
        return dataclasses.replace(self, **changes)

    # -- URL state ----------------------------------------------------------------------------
    def to_query(self, *, full: bool = False) -> dict[str, str]:
        """Query parameters for the fields that differ from the defaults (every field with ``full``).

        ``full=True`` writes every setting explicitly, so that the meaning of a stored spec (a
        pre-specified primary analysis, :mod:`core.primary`) does not change when a default does.

        Examples
        --------
        >>> AnalysisSpec(method="naive").to_query()
        {'meth': 'naive'}
        >>> AnalysisSpec.from_query(AnalysisSpec(ratio=2).to_query(full=True)) == AnalysisSpec(ratio=2)
        True
        """
        default = AnalysisSpec()
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name) and not full:
                continue
            meta: _Field = f.metadata["url"]
            out[meta.key] = _encode(value, meta.kind)
        return out

    def to_query_string(self, *, full: bool = False) -> str:
        """The query string (without ``?``) of :meth:`to_query`."""
        return urlencode(self.to_query(full=full), safe=",>-")

    @classmethod
    def from_query(cls, query: Mapping[str, str | list[str]], *, strict: bool = False) -> AnalysisSpec:
        """Rebuild a spec from query parameters.

        Unknown keys are ignored. Invalid values are ignored (the default is kept) unless
        ``strict`` is true, in which case a ``ValueError`` says which parameter is wrong.
        :meth:`parse_query` also says, in words, what was ignored.

        Examples
        --------
        >>> AnalysisSpec.from_query({"ratio": "2", "reg": "GEM,FOLFIRINOX"}).regimens
        ('GEM', 'FOLFIRINOX')
        >>> AnalysisSpec.from_query({"ratio": "many"}).ratio
        1
        """
        return cls.parse_query(query, strict=strict)[0]

    @classmethod
    def parse_query(cls, query: Mapping[str, str | list[str]], *,
                    strict: bool = False) -> tuple[AnalysisSpec, tuple[str, ...]]:
        """Rebuild a spec from query parameters and say which parameters were ignored, and why.

        Returns
        -------
        (AnalysisSpec, tuple of str)
            The spec, and one plain sentence per ignored parameter (empty when all were used).

        Examples
        --------
        >>> spec, notices = AnalysisSpec.parse_query({"lm": "30", "ratio": "2"})
        >>> spec.landmark_months, spec.ratio
        (6.0, 2)
        >>> notices
        ('Link setting lm=30 ignored: landmark (months) must be between 1 and 24 (got 30); the default 6 is used.',)
        """
        by_key = {f.metadata["url"].key: f for f in fields(cls)}
        default = cls()
        values: dict[str, Any] = {}
        keys: dict[str, str] = {}
        texts: dict[str, str] = {}
        notices: list[str] = []

        def ignore(name: str, key: str, text: str, why: str) -> None:
            if strict:
                raise ValueError(f"URL parameter {key!r}: {why}")
            shown = _encode(getattr(default, name), by_key[key].metadata["url"].kind) or "none"
            notices.append(f"Link setting {key}={text} ignored: {why}; the default {shown} is used.")

        for key, raw in query.items():
            f = by_key.get(key)
            if f is None:
                continue
            text = str(raw[-1] if isinstance(raw, list) else raw)
            if key == "ep" and text == "rfs":
                ignore(f.name, key, text, "recurrence-free survival exists only after surgery, so it is shown on "
                       "the Surgical outcomes page, not compared between arms")
                continue
            try:
                value = _decode(text, f.metadata["url"].kind)
                dataclasses.replace(default, **{f.name: value})
            except (ValueError, TypeError) as exc:
                ignore(f.name, key, text, str(exc).removeprefix("Invalid analysis settings: "))
                continue
            values[f.name], keys[f.name], texts[f.name] = value, key, text
        try:
            return cls(**values), tuple(notices)
        except ValueError as exc:
            if strict:
                raise
            clash = str(exc).removeprefix("Invalid analysis settings: ")
        # Individually valid values that clash (e.g. minimum above maximum): fall back field by field.
        spec = default
        for name, value in values.items():
            try:
                spec = dataclasses.replace(spec, **{name: value})
            except ValueError:
                notices.append(f"Link setting {keys[name]}={texts[name]} ignored: {clash}.")
        return spec, tuple(notices)

    @classmethod
    def from_query_string(cls, text: str, *, strict: bool = False) -> AnalysisSpec:
        """Rebuild a spec from a query string (with or without a leading ``?``)."""
        return cls.from_query(dict(parse_qsl(text.lstrip("?"), keep_blank_values=True)), strict=strict)

    # -- provenance ----------------------------------------------------------------------------
    def filters_in_words(self) -> list[str]:
        """Active filters as short sentences (empty list when nothing is filtered).

        Examples
        --------
        >>> AnalysisSpec(regimens=("GEM",), hepatectomy="major").filters_in_words()
        ['Surgery arm: major (>= 3 segments) hepatectomy', 'Regimen: Gemcitabine alone']
        """
        out: list[str] = []
        if self.eligibility:
            preset = preset_of(self.eligibility)
            out.append("Eligible at time zero (both arms): " + (PRESET_NAMES[preset] if preset else "; ".join(
                CRITERIA[k].words for k in CRITERIA if k in self.eligibility)))

        def words(column: str, values: tuple[str, ...]) -> str:
            return ", ".join(value_label(column, v) for v in values)

        if self.pancreatic_procedures:
            out.append("Surgery arm: pancreatic procedure " + words(C.PANCREATIC_PROCEDURE, self.pancreatic_procedures))
        if self.hepatectomy != "any":
            out.append(f"Surgery arm: {HEPATECTOMY[self.hepatectomy]} hepatectomy")
        if self.liver_procedures:
            out.append("Surgery arm: liver procedure " + words(C.LIVER_PROCEDURE, self.liver_procedures))
        if self.liver_timings:
            out.append("Surgery arm: liver resection " + words(C.LIVER_TIMING, self.liver_timings))
        for name, column, values in (
            ("mets_groups", C.METS_GROUP, self.mets_groups),
            ("regimens", C.CHEMO_REGIMEN, self.regimens),
            ("chemo_settings", C.CHEMO_SETTING, self.chemo_settings),
            ("recist", C.RECIST, self.recist),
            ("resectability_levels", C.RESECTABILITY, self.resectability_levels),
            ("centres", C.CENTRE_ID, self.centres),
        ):
            if values:
                out.append(f"{_FILTER_LABELS[name]}: " + words(column, values))
        for lo, hi, what in (
            (self.mets_min, self.mets_max, "Liver metastases (n)"),
            (self.age_min, self.age_max, label("age_at_diagnosis")),
            (self.year_min, self.year_max, "Year of diagnosis"),
        ):
            if lo is not None or hi is not None:
                if lo is None:
                    out.append(f"{what}: up to {hi}")
                elif hi is None:
                    out.append(f"{what}: {lo} or more")
                else:
                    out.append(f"{what}: {lo} to {hi}")
        if self.ca19_9_max is not None:
            out.append(f"CA19-9 at baseline <= {self.ca19_9_max:g} U/mL (missing kept)")
        return out

    def settings_in_words(self) -> list[str]:
        """Analysis settings as short sentences.

        Examples
        --------
        >>> AnalysisSpec().settings_in_words()[0]
        'Endpoint: Overall survival from chemotherapy start'
        """
        cal = "no caliper" if self.caliper is None else f"caliper {self.caliper:g} SD of the logit"
        method = METHODS[self.method]
        if self.method == "landmark":
            method += f" at {self.landmark_months:g} months"
        return [
            f"Endpoint: {ENDPOINTS[self.endpoint]} from {ORIGINS[self.origin]}",
            f"Immortal time: {method}",
            f"Propensity model: {PROPENSITY_MODELS[self.propensity]} on " + ", ".join(label(c) for c in self.covariates),
            f"Matching: 1:{self.ratio} nearest neighbour {'with' if self.replace else 'without'} replacement, "
            f"{cal}, order {self.order}" + (", exact on centre" if self.exact_centre else ""),
            f"Curves stop below {self.min_at_risk} patients at risk",
            f"Restricted mean survival time up to {self.rmst_months:g} months",
            f"Missing covariate values: {MISSING[self.missing]}",
            f"Centre in the Cox models: {CENTRE_MODELS[self.centre_model]}",
        ]

    def describe(self) -> str:
        """Filters and settings as one text block (used for provenance)."""
        filters = self.filters_in_words() or ["No filters (whole cohort)"]
        return "\n".join(["Filters:"] + [f"- {f}" for f in filters] + ["Settings:"] + [f"- {s}" for s in self.settings_in_words()])


_FIELDS = {f.name: f for f in fields(AnalysisSpec)}

#: The fields that select patients (cohort filters); every other field is an analysis setting.
FILTER_FIELDS: tuple[str, ...] = (
    "eligibility", "pancreatic_procedures", "hepatectomy", "liver_procedures", "liver_timings", "mets_groups",
    "mets_min", "mets_max", "regimens", "chemo_settings", "recist", "resectability_levels", "centres", "age_min",
    "age_max", "ca19_9_max", "year_min", "year_max",
)
#: The analysis settings (every field that is not a filter), in the order of the spec.
SETTING_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AnalysisSpec) if f.name not in FILTER_FIELDS)

#: Spec fields that do not change the numbers of :func:`core.analysis.run`, only how they are drawn,
#: with what they change instead (a test checks both halves).
DISPLAY_ONLY: dict[str, str] = {
    "min_at_risk": "where the Kaplan-Meier curves stop in the figures (the estimates use every patient)",
}

_FILTER_LABELS = {
    "mets_groups": "Metastasis group",
    "regimens": "Regimen",
    "chemo_settings": "Chemotherapy setting",
    "recist": "RECIST response",
    "resectability_levels": "Resectability",
    "centres": "Centre",
}


def _encode_item(item: str) -> str:
    """One element of a comma-separated list, with ``%`` and ``,`` escaped (centre names may contain commas).

    Examples
    --------
    >>> _encode_item("Leeds, St James's")
    "Leeds%2C St James's"
    >>> _decode_item(_encode_item("50% A,B"))
    '50% A,B'
    """
    return item.replace("%", "%25").replace(",", "%2C")


def _decode_item(text: str) -> str:
    return text.replace("%2C", ",").replace("%2c", ",").replace("%25", "%")


def _encode(value: Any, kind: str) -> str:
    if kind == "tuple":
        return ",".join(_encode_item(str(v)) for v in value)
    if kind == "bool":
        return "1" if value else "0"
    if value is None:
        return "none"
    if isinstance(value, float):
        text = f"{value:g}"
        return text if float(text) == value else repr(value)  # short, and exact on the way back
    return str(value)


def _decode(text: str, kind: str) -> Any:
    if kind == "tuple":
        return tuple(_decode_item(v) for v in text.split(",") if v != "")
    if kind == "bool":
        if text not in ("0", "1"):
            raise ValueError("expected 0 or 1")
        return text == "1"
    if kind in ("optfloat", "optint") and text.lower() in ("", "none"):
        return None
    if kind in ("int", "optint"):
        return int(text)
    if kind in ("float", "optfloat"):
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return value
    return text
