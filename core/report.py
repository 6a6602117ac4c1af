"""Reports: the methods paragraph, a self-contained HTML report and its PDF.

* :func:`methods_paragraph` writes the statistical methods in journal style from the
  :class:`~core.spec.AnalysisSpec` actually used and, when given, the
  :class:`~core.analysis.AnalysisResult` it produced (:func:`methods_facts`), so the text
  always matches the settings and states what the analysis reached. It describes what
  :mod:`core.analysis` does (landmark / naive: propensity-matched Cox model with
  cluster-robust variance; time-dependent: Cox model on all patients adjusted for the propensity
  covariates and progression at restaging, curves from the matched landmark comparison; weighted
  curves, no log-rank test when matching is k:1 or with replacement),
  the coding of the covariates, the complete-case drops per arm, the balance reached after
  matching and the software: this package (``pdac-lm-explorer``) and its version.
* :func:`report_html` builds one HTML file with no external resource: plotly.js is inlined
  once, figures stay interactive, every user-supplied string is HTML-escaped.
* :func:`report_pdf` prints that HTML to an A4 PDF in headless Chromium (Playwright driving
  Debian's ``/usr/bin/chromium``, see :func:`core.export.chromium_path`), after every figure has
  been drawn; each section starts on a new page. Playwright (``playwright==1.65.2``) is then a
  runtime dependency; no browser is downloaded.

Examples
--------
>>> from core.spec import AnalysisSpec
>>> text = methods_paragraph(AnalysisSpec(endpoint="efs"), n_surgery=45, software={"Python": "3.11"})
>>> "Event-free survival was measured from the start of chemotherapy to progression" in text
True
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.design import MIN_LEVEL_COUNT
from core.dictionary import C, label
from core.estimators import MIN_CENTRES_FOR_CLUSTER
from core.guards import MIN_EVENTS_PER_ARM, MIN_PATIENTS_PER_ARM
from core.spec import ENDPOINT_EVENTS, ENDPOINT_NAMES, EVENT_WORDS, AnalysisSpec

# -- methods paragraph ----------------------------------------------------------------------------
#: Covariates in journal wording (lower case inside a sentence), with the coding the models use
#: (core.analysis.propensity_frame: np.log1p for CA19-9, objective response for RECIST).
COVARIATE_PROSE: dict[str, str] = {
    C.AGE: "age",
    C.SEX: "sex",
    C.ECOG: "ECOG performance status",
    C.TUMOUR_LOCATION: "tumour location",
    C.TUMOUR_SIZE: "tumour size",
    C.RESECTABILITY: "resectability status",
    C.CA19_9_BASELINE: "baseline CA19-9 (entered as log(1 + CA19-9), CA19-9 in U/mL)",
    C.CA19_9_RESTAGING: "CA19-9 at restaging (entered as log(1 + CA19-9), CA19-9 in U/mL)",
    C.CA19_9_RESPONSE: "CA19-9 response (fall of at least 50%)",
    C.LIVER_METS_N: "number of liver metastases",
    C.METS_GROUP: "metastasis group (1, 2-3, >3)",
    C.LIVER_METS_MAX: "size of the largest liver metastasis",
    C.LIVER_METS_BILOBAR: "bilobar distribution of metastases",
    C.CHEMO_REGIMEN: "chemotherapy regimen",
    C.RECIST: ("objective radiological response at restaging (complete or partial response by RECIST = 1; stable "
               "disease, progressive disease or not evaluable = 0)"),
    C.CENTRE_ID: "centre",
    C.DIAGNOSIS_YEAR: "year of diagnosis",
}
_ORIGIN_PROSE = {"chemo_start": "the start of chemotherapy", "diagnosis": "diagnosis"}
_ORDER_PROSE = {
    "largest": "in descending order of the propensity score",
    "smallest": "in ascending order of the propensity score",
    "data": "in the order in which they appear in the data set",
}
#: Runtime libraries the analysis code runs on, named after this package in the software sentence.
_SOFTWARE = ("numpy", "scipy", "pandas")
#: What the statistics reproduce (checked in tests/ against fixtures written by the R scripts in tests/r/).
REFERENCE_IMPLEMENTATIONS = ("R's survival package (3.5; survfit, survdiff, coxph), glm and brglm2 (propensity "
                             "models) and MatchIt 4.7.2 (matchit(method = \"nearest\") on the logits)")
#: The propensity model in a methods sentence, and the R call that fits the same model.
_PROPENSITY_PROSE = {
    "firth": ("Firth-penalised logistic regression",
              "R: glm(..., family = binomial, method = \"brglmFit\", type = \"AS_mean\") of brglm2; its estimates stay "
              "finite under separation"),
    "glm": ("unpenalised logistic regression", "R: glm(..., family = binomial), MatchIt's default"),
}
#: |SMD| at or above which a term counts as imbalanced in the text.
SMD_THRESHOLD = 0.1


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + f", and {items[-1]}"


def _covariate(name: str) -> str:
    if name in COVARIATE_PROSE:
        return COVARIATE_PROSE[name]
    text = label(name)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _count(value: int | None, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer or None")
    return value


def _small(n: int | None, k: int | None) -> int | str | None:
    """A count as it may be written: ``"<k"`` from 1 to k-1 when ``k`` is given."""
    return f"<{k}" if k is not None and n is not None and 1 <= n < k else n


def _software_sentence(software: Mapping[str, str] | None) -> str:
    from core.provenance import APP_NAME, package_versions

    if software is None:
        software = package_versions()
    libs = [f"{name} {software[name]}" for name in _SOFTWARE if name in software]
    python = software.get("Python")
    runtime = f"Python {python}" if python else "Python"
    if libs:
        runtime += f" with {_join(libs)}"
    app = f"{APP_NAME} {software[APP_NAME]}" if software.get(APP_NAME) else APP_NAME
    return (f"Analyses were run with {app}, the dashboard's own analysis code ({runtime}), whose Kaplan-Meier, "
            f"log-rank, Cox and matching routines reproduce {REFERENCE_IMPLEMENTATIONS}.")


# -- facts read from an AnalysisResult --------------------------------------------------------------
@dataclass(frozen=True)
class MethodsFacts:
    """What the methods paragraph reports about one :class:`~core.analysis.AnalysisResult`.

    Everything is read from the result (not from the settings alone), so the text states what
    was done and what it gave. New facts of the analysis get a field here and a sentence in
    :func:`methods_paragraph`.

    Attributes
    ----------
    n_surgery, n_chemotherapy : int
        Patients after the filters.
    n_matched : int or None
        Matched pairs (1:1) or matched sets (k:1).
    dropped_matched : tuple of (int, int) or None
        Patients of the matched comparison's population left out for a missing covariate (or
        exact-matching) value: (surgery, chemotherapy).
    reference_levels : tuple of (str, str)
        (covariate, reference level) of each categorical propensity covariate, read from the
        fitted model's coefficient names.
    balance_terms : int
        Terms of the balance table.
    max_smd : tuple of (str, float) or None
        The term with the largest absolute standardised mean difference after matching.
    imbalanced : tuple of (str, float)
        Terms with ``|SMD| >= SMD_THRESHOLD`` after matching, largest first.
    td_patients, td_events : int or None
        Patients and deaths of the time-dependent Cox model (method ``time_dependent`` only).
    dropped_td : tuple of (int, int) or None
        Patients left out of the time-dependent model for a missing covariate: (surgery, chemotherapy).
    tau : float or None
        Horizon of the restricted mean survival time (None when not computed).
    logrank : bool
        Whether the log-rank test was computed.
    adjustments : str
        What the propensity model left out (constant covariates) or pooled (rare levels) in this
        selection, in one plain line (:func:`core.analysis.model_adjustments`; '' when nothing).
    pooled : bool
        Whether rare levels were pooled (then the pooling rule is stated).
    """

    n_surgery: int
    n_chemotherapy: int
    n_matched: int | None = None
    dropped_matched: tuple[int, int] | None = None
    reference_levels: tuple[tuple[str, str], ...] = ()
    balance_terms: int = 0
    max_smd: tuple[str, float] | None = None
    imbalanced: tuple[tuple[str, float], ...] = ()
    td_patients: int | None = None
    td_events: int | None = None
    dropped_td: tuple[int, int] | None = None
    tau: float | None = None
    logrank: bool = False
    adjustments: str = ""
    pooled: bool = False


def _per_arm(treated: pd.Series, mask: pd.Series) -> tuple[int, int]:
    return int((mask & (treated == 1)).sum()), int((mask & (treated == 0)).sum())


def _reference_levels(result, covariates: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(covariate, reference level) of the categorical covariates of the fitted propensity model: the
    model's level (after pooling) without a coefficient; left out when that is not a single level."""
    m = result.match
    if m is None or not len(getattr(m, "coefficients", ())):
        return ()
    used = result.population.loc[m.distance.reindex(result.population.index).notna()]
    model_covariates = getattr(m, "model_covariates", ()) or tuple(covariates)
    pooled = {pl.covariate: pl for pl in getattr(m, "pooled", ())}
    out = []
    for cov in covariates:
        if cov not in used.columns or cov not in model_covariates:
            continue
        s = used[cov]
        if not (isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(s)
                or pd.api.types.is_string_dtype(s)):
            continue
        levels = [str(v) for v in pd.unique(s.dropna().astype(str))]
        if cov in pooled:
            gone = {str(v) for v in pooled[cov].levels}
            levels = [lev for lev in levels if lev not in gone] + [str(pooled[cov].into)]
        with_coef = {name[len(cov):] for name in m.coefficients.index if name.startswith(cov) and name != cov}
        ref = list(dict.fromkeys(lev for lev in levels if lev not in with_coef))
        if len(ref) == 1:
            out.append((cov, ref[0]))
    return tuple(out)


def _td_drops(result) -> tuple[int, int] | None:
    """Patients of the time-dependent model's population with a missing covariate, per arm.

    The population and its coding are rebuilt with core.analysis's own functions; None when the
    count does not add up to the model's number of patients (then only that number is stated).
    """
    from core.analysis import analysis_columns, propensity_frame
    from core.population import TREATED, naive_population

    spec = result.spec
    pop = naive_population(result.filtered.select(analysis_columns(spec)), origin=spec.origin).data
    pf, names = propensity_frame(pop, spec.covariates)
    missing = pf[names].isna().any(axis=1)
    drops = _per_arm(pf[TREATED], missing)
    if result.hr is None or len(pf) - sum(drops) != result.hr.n:
        return None
    return drops


def methods_facts(result) -> MethodsFacts:
    """The facts of ``result`` (a :class:`core.analysis.AnalysisResult`) that the methods paragraph states.

    Examples
    --------
    >>> from core import analysis, cohort
    >>> f = methods_facts(analysis.run(cohort.demo(), AnalysisSpec()))
    >>> f.dropped_matched, f.n_surgery, 0 <= len(f.imbalanced) <= f.balance_terms
    ((1, 1), 45, True)
    """
    from core.population import TREATED

    spec = result.spec
    m = result.match
    dropped = None
    if m is not None and len(result.population):
        pop = result.population
        dropped = (int((pop[TREATED] == 1).sum()) - int(m.n_treated), int((pop[TREATED] == 0).sum()) - int(m.n_control))
    max_smd, imbalanced, terms = None, (), 0
    if result.balance is not None and len(result.balance) and "smd_after" in result.balance:
        smd = pd.to_numeric(result.balance["smd_after"], errors="coerce").dropna()
        terms = len(smd)
        if terms:
            order = smd.abs().sort_values(ascending=False, kind="stable").index
            max_smd = (str(order[0]), float(smd.loc[order[0]]))
            imbalanced = tuple((str(t), float(smd.loc[t])) for t in order if abs(smd.loc[t]) >= SMD_THRESHOLD)
    td_n = td_e = td_drops = None
    if spec.method == "time_dependent" and result.hr is not None:
        td_n, td_e = int(result.hr.n), int(result.hr.events)
        td_drops = _td_drops(result)
    adjustments, pooled = "", False
    if m is not None and (getattr(m, "dropped", ()) or getattr(m, "pooled", ())):
        from core.analysis import model_adjustments

        adjustments = model_adjustments(m.dropped, m.pooled)
        pooled = bool(m.pooled)
    return MethodsFacts(
        n_surgery=int(result.filtered.n_surgery), n_chemotherapy=int(result.filtered.n_chemotherapy),
        n_matched=int(m.n_treated_matched) if m is not None else None, dropped_matched=dropped,
        reference_levels=_reference_levels(result, spec.covariates), balance_terms=terms, max_smd=max_smd,
        imbalanced=imbalanced, td_patients=td_n, td_events=td_e, dropped_td=td_drops,
        tau=float(result.rmst.tau) if result.rmst is not None else None,
        logrank=bool(result.logrank_p == result.logrank_p), adjustments=adjustments, pooled=pooled,
    )


def _arms(counts: tuple[int, int], k: int | None) -> str:
    s, c = (_small(n, k) for n in counts)
    return f"{s} in the surgery group and {c} in the chemotherapy group"


def _balance_sentence(facts: MethodsFacts) -> str | None:
    if facts.max_smd is None:
        return None
    term, value = facts.max_smd
    head = f"After matching, the largest absolute standardised mean difference was {abs(value):.3f} ({term})"
    if not facts.imbalanced:
        return head + f"; all {facts.balance_terms} terms were below {SMD_THRESHOLD:g}."
    listed = _join([f"{t} ({v:+.3f})" for t, v in facts.imbalanced])
    n = len(facts.imbalanced)
    return (head + f"; {n} of {facts.balance_terms} terms {'was' if n == 1 else 'were'} at or above "
            f"{SMD_THRESHOLD:g}: {listed}. Balance was therefore not adequate for "
            f"{'this term' if n == 1 else 'these terms'}.")


def methods_paragraph(
    spec: AnalysisSpec,
    *,
    result: Any = None,
    n_surgery: int | None = None,
    n_chemotherapy: int | None = None,
    n_matched_pairs: int | None = None,
    tau: float | None = None,
    software: Mapping[str, str] | None = None,
    k: int | None = None,
) -> str:
    """Statistical methods in journal style, always matching ``spec`` and, when given, ``result``.

    Written so that a statistician can redo the numbers in R: the coding of every covariate
    (log(1 + CA19-9), objective response for RECIST, reference levels), the extra covariates of
    the time-dependent model, the patients dropped for missing values per arm, the balance the
    match actually reached (not the target), the confidence-interval type, and the software
    (this package and its version, and what its routines reproduce).

    Parameters
    ----------
    spec : AnalysisSpec
        The settings the results were computed with.
    result : core.analysis.AnalysisResult, optional
        The result of ``core.analysis.run(cohort, spec)``: counts, complete-case drops, reference
        levels, reached balance, the time-dependent model's patients and the RMST horizon are
        read from it (:func:`methods_facts`); explicit counts below then must be None.
    n_surgery, n_chemotherapy : int, optional
        Patients in each group (after filters).
    n_matched_pairs : int, optional
        Matched pairs (1:1) or matched sets (k:1).
    tau : float, optional
        Horizon (months) of the restricted mean survival time, when one was reported.
    software : mapping of str to str, optional
        Versions by distribution name plus ``"Python"`` and this package's name (default: the
        installed ones, :func:`core.provenance.package_versions`).
    k : int, optional
        Small-cell threshold: patient and pair counts from 1 to ``k - 1`` are written ``"<k"``
        (None, the default: counts as they are).

    Returns
    -------
    str
        One paragraph.

    Examples
    --------
    >>> sw = {"pdac-lm-explorer": "0.1.0", "Python": "3.11.2", "numpy": "2.4.6"}
    >>> text = methods_paragraph(AnalysisSpec(caliper=0.2), software=sw)
    >>> "within a caliper of 0.2 standard deviations of the logit of the propensity score" in text
    True
    >>> text.split(". ")[-1].startswith("Analyses were run with pdac-lm-explorer 0.1.0")
    True
    >>> "included <11 patients who underwent resection" in methods_paragraph(AnalysisSpec(), n_surgery=7, k=11)
    True
    """
    if not isinstance(spec, AnalysisSpec):
        raise ValueError("spec must be an AnalysisSpec")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 2):
        raise ValueError("k must be an integer of at least 2, or None (no suppression)")
    facts: MethodsFacts | None = None
    if result is not None:
        if getattr(result, "spec", None) != spec:
            raise ValueError("result was computed with other settings than spec")
        if any(v is not None for v in (n_surgery, n_chemotherapy, n_matched_pairs, tau)):
            raise ValueError("with result, the counts and tau are read from it: leave them None")
        facts = methods_facts(result)
        n_surgery, n_chemotherapy, tau = facts.n_surgery, facts.n_chemotherapy, facts.tau
        n_matched_pairs = facts.n_matched
    n_s = _count(n_surgery, "n_surgery")
    n_c = _count(n_chemotherapy, "n_chemotherapy")
    n_m = _count(n_matched_pairs, "n_matched_pairs")
    if tau is not None and (isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 0):
        raise ValueError("tau must be a positive number of months or None")
    n_s, n_c, n_m = (_small(n, k) for n in (n_s, n_c, n_m))

    out: list[str] = []
    filters = spec.filters_in_words()
    origin = _ORIGIN_PROSE[spec.origin]
    lm = f"{spec.landmark_months:g}"
    if n_s is not None and n_c is not None:
        out.append(
            f"The analysis included {n_s} patients who underwent resection after chemotherapy (surgery group) and "
            f"{n_c} patients who received chemotherapy alone (chemotherapy group)."
        )
    elif n_s is not None:
        out.append(f"The analysis included {n_s} patients who underwent resection after chemotherapy (surgery group).")
    elif n_c is not None:
        out.append(f"The analysis included {n_c} patients who received chemotherapy alone (chemotherapy group).")
    if filters:
        out.append("The cohort was restricted as follows: " + "; ".join(filters) + ".")
    if spec.endpoint == "os":
        out.append(
            f"Overall survival was measured from {origin} to death from any cause in months (days / 30.4375); "
            "patients alive at the last follow-up were censored."
        )
    else:
        out.append(
            f"{ENDPOINT_NAMES[spec.endpoint]} was measured from {origin} to {ENDPOINT_EVENTS[spec.endpoint]}, in "
            "months (days / 30.4375); patients without an event were censored at their last imaging."
        )
    recist = C.RECIST in spec.covariates
    if spec.method == "landmark":
        out.append(
            f"Immortal time bias was addressed by a landmark analysis at {lm} months after {origin}: patients who "
            "had died or were lost to follow-up before the landmark were excluded, patients were classified by "
            "whether they had undergone resection before the landmark (patients operated on later remained in the "
            "chemotherapy group), and survival was measured from the landmark."
        )
    elif spec.method == "time_dependent":
        extra = ("; progression at restaging (progressive disease or not evaluable = 1, otherwise 0) was added as a "
                 "covariate of this model only: it cannot enter the propensity model because no patient with "
                 "progression was operated") if recist else ""
        out.append(
            "Immortal time bias was addressed by a Cox proportional hazards model with resection as a "
            f"time-dependent covariate: each patient contributed follow-up from {origin} to the unoperated state "
            "until resection and to the operated state thereafter (counting-process data, as R's tmerge). This "
            "model was fitted in all eligible patients with complete covariate data and adjusted for the "
            f"propensity score covariates, coded as in the propensity model below{extra}. Kaplan-Meier curves show "
            f"the propensity-matched landmark comparison at {lm} months."
        )
    else:
        out.append(
            f"Patients were compared according to whether they ever underwent resection, with survival measured "
            f"from {origin}. This naive comparison does not account for immortal time: patients in the surgery group "
            "had to survive until resection, so it is biased by immortal time in favour of surgery and is reported "
            "only to show the size of that bias."
        )

    covs = [_covariate(c) for c in spec.covariates]
    model, r_call = _PROPENSITY_PROSE[spec.propensity]
    out.append(f"Propensity scores for resection were estimated by {model} on {_join(covs)} ({r_call}).")
    if facts is not None and facts.adjustments:
        out.append(facts.adjustments)
        if facts.pooled:
            out.append(f"(Pooling rule: a category with fewer than {MIN_LEVEL_COUNT} patients in either arm is "
                       "pooled into 'other', or, if still rare, counted with the most common category.)")
    if facts is not None and facts.reference_levels:
        refs = "; ".join(f"{_covariate(c)}: {lev}" for c, lev in facts.reference_levels)
        out.append(f"Categorical covariates entered as indicator variables against a reference level ({refs}).")
    if spec.missing == "impute":
        from core.imputed import IMPUTATIONS

        out.append(f"Missing covariate values were imputed {IMPUTATIONS} times by chained equations (predictive "
                   "mean matching, logistic and multinomial models; the arm, the event indicator and the "
                   "Nelson-Aalen cumulative hazard as predictors); the propensity score was fitted and patients "
                   "matched within each completed data set, and the hazard ratios were pooled by Rubin's rules.")
    elif facts is not None and facts.dropped_matched is not None:
        what = "any of these covariates" + (" or of the centre" if spec.exact_centre else "")
        if sum(facts.dropped_matched):
            out.append(f"Patients with a missing value of {what} were excluded from the matched comparison "
                       f"(complete-case analysis): {_arms(facts.dropped_matched, k)}.")
        else:
            out.append(f"No patient of the matched comparison had a missing value of {what}.")
    who = (
        "Among patients included at the landmark, patients who had undergone resection"
        if spec.method in ("landmark", "time_dependent")
        else "Patients who underwent resection"
    )
    caliper = (
        f"within a caliper of {spec.caliper:g} standard deviations of the logit of the propensity score"
        if spec.caliper is not None
        else "without a caliper"
    )
    match = (
        f"{who} were matched 1:{spec.ratio} to patients who received chemotherapy alone by nearest-neighbour "
        f"matching on the logit of the propensity score {'with' if spec.replace else 'without'} replacement, "
        f"{caliper}"
    )
    if spec.exact_centre:
        match += ", with exact matching on centre"
    match += f", {_ORDER_PROSE[spec.order]}"
    if spec.ratio > 1:
        match += "; each operated patient received a first control before any received a second"
    if spec.replace:
        match += "; a control could be matched to more than one operated patient"
    out.append(match + ".")
    if n_m is not None:
        out.append(f"This yielded {n_m} matched {'pairs' if spec.ratio == 1 else 'sets'}.")
    out.append(
        "Covariate balance was assessed by standardised mean differences (the difference in means divided by the "
        "standard deviation of the surgery group before matching, sqrt(p(1 - p)) for binary terms, as MatchIt's "
        f"summary() for the treated), an absolute value below {SMD_THRESHOLD:g} indicating adequate balance."
    )
    if facts is not None:
        sentence = _balance_sentence(facts)
        if sentence:
            out.append(sentence)

    weighted = spec.ratio > 1 or spec.replace
    if weighted:
        out.append(
            "Survival in the matched sample was estimated by the Kaplan-Meier method weighted by the matching "
            "weights, with log-log confidence intervals (R: survfit(conf.type = \"log-log\")); the log-rank test "
            "was not used because it ignores the weights."
        )
    else:
        out.append(
            "Survival in the matched sample was estimated by the Kaplan-Meier method with log-log confidence "
            "intervals (R: survfit(conf.type = \"log-log\")) and compared with the log-rank test."
        )
    by_centre = spec.centre_model == "cluster"
    strata = (", stratified by centre (a separate baseline hazard for each centre, R: strata(centre); centres in "
              "which no comparison between the arms was possible were left out)") if spec.centre_model == "strata" else ""
    if spec.method == "time_dependent":
        sentence = ("The hazard ratio for resection was estimated by the time-dependent Cox model (Efron method for "
                    f"ties){strata} with robust (sandwich) standard errors clustered on "
                    f"{'centres (R: cluster = centre)' if by_centre else 'patients'}")
        if facts is not None and facts.td_patients is not None:
            sentence += (f", in {_small(facts.td_patients, k)} patients ({_small(facts.td_events, k)} "
                         f"{EVENT_WORDS[spec.endpoint]}s) with complete covariate data")
            if facts.dropped_td is not None:
                sentence += (f"; {_arms(facts.dropped_td, k)} were excluded for a missing covariate value"
                             if sum(facts.dropped_td) else "; no patient had a missing covariate value")
        out.append(sentence + ".")
    else:
        unit = ("patients" if spec.replace else "matched sets" if spec.ratio > 1 else "matched pairs")
        if by_centre:
            unit = "centres (R: cluster = centre) instead of " + unit
        variance = f"with robust standard errors clustered on {unit}"
        if spec.replace or spec.ratio > 1:
            variance = "weighted by the matching weights, " + variance
        out.append(
            "Hazard ratios were estimated by Cox proportional hazards regression (Efron method for ties) in the "
            f"matched sample{strata}, {variance}."
        )
    if by_centre:
        out.append(f"Standard errors clustered by centre were computed only with at least {MIN_CENTRES_FOR_CLUSTER} "
                   "centres in the analysed sample; with few centres the sandwich variance tends to be too small.")
    out.append("The influence of single centres was assessed by repeating the comparison with each centre left out in "
               "turn (propensity model, matching and Cox model refitted), and balance was described within each "
               "centre (standardised mean differences on the scale of the whole surgery group).")
    out.append(f"A hazard ratio was reported only when each arm had at least {MIN_PATIENTS_PER_ARM} patients and "
               f"{MIN_EVENTS_PER_ARM} {EVENT_WORDS[spec.endpoint]}s; otherwise the counts per arm are given instead.")
    if tau is not None:
        horizon = f"{tau:g}" if float(tau).is_integer() else f"{tau:.1f}"
        out.append(f"Restricted mean survival times up to {horizon} months were compared between groups, the "
                   "standard error of the difference being the square root of the sum of the two variances.")
    out.append(f"Curves are truncated where fewer than {spec.min_at_risk} patients remained at risk.")
    out.append("The proportional-hazards assumption of the Cox model of the matched comparison was tested with scaled "
               "Schoenfeld residuals against Kaplan-Meier-transformed time (R: cox.zph). Sensitivity to unmeasured "
               "confounding is given as the E-value of the hazard ratio and of its confidence limit closest to 1 "
               "(VanderWeele and Ding, hazard ratio converted for a common outcome); as aids to interpretation, the "
               "expected precision at the observed number of events (Schoenfeld) and the posterior probability of a "
               "hazard ratio below 0.80 under a sceptical normal prior on log HR (centred on 1, 5% probability "
               "below 0.70) are reported.")
    out.append(_software_sentence(software))
    return " ".join(out)


# -- HTML report -------------------------------------------------------------------------------------
_CSS = """
:root { color-scheme: light; }
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; font-size: 11pt; color: #111827;
       max-width: 180mm; margin: 0 auto; padding: 12px; line-height: 1.45; }
h1 { font-size: 20pt; margin: 0 0 4px 0; }
h2 { font-size: 15pt; border-bottom: 1px solid #d1d5db; padding-bottom: 3px; margin-top: 28px; }
.generated { color: #4b5563; margin: 0 0 16px 0; }
.figure { break-inside: avoid; page-break-inside: avoid; margin: 10px 0 18px 0; }
table { border-collapse: collapse; font-size: 9.5pt; margin: 8px 0 16px 0; break-inside: auto; }
th, td { border: 1px solid #d1d5db; padding: 3px 7px; text-align: left; vertical-align: top; }
thead th { background: #f3f4f6; }
tr { break-inside: avoid; page-break-inside: avoid; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit; margin: 0; }
.provenance td:first-child { font-weight: 600; white-space: nowrap; }
@page { size: A4; margin: 16mm 15mm 16mm 15mm; }
@media print {
  body { max-width: none; padding: 0; }
  section.report-section, section.provenance-section { break-before: page; page-break-before: always; }
}
"""


def _paragraphs(text: str) -> str:
    blocks = [b for b in str(text).replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "".join(f"<p>{html.escape(b.strip()).replace(chr(10), '<br>')}</p>" for b in blocks)


def _table_html(df: pd.DataFrame) -> str:
    keep_index = not isinstance(df.index, pd.RangeIndex)
    return df.to_html(escape=True, index=keep_index, na_rep="", border=0, classes="data")


def report_html(
    title: str,
    sections: Sequence[tuple[str, Sequence[Any]]],
    provenance: Mapping[str, str],
    methods: str,
) -> str:
    """One self-contained HTML report (plotly.js inlined once, interactive figures, escaped text).

    Parameters
    ----------
    title : str
        Report title.
    sections : sequence of (str, sequence)
        ``(heading, items)`` pairs; an item is a plotly ``Figure``, a ``DataFrame`` or a ``str``
        (paragraphs separated by blank lines).
    provenance : mapping of str to str
        Shown as a table at the end (see :func:`core.provenance.provenance`).
    methods : str
        Methods paragraph (see :func:`methods_paragraph`).

    Returns
    -------
    str
        The HTML document. It loads nothing from the network.

    Examples
    --------
    >>> page = report_html("<Report>", [("Notes", ["a < b"])], {"Data source": "x.csv"}, "Methods.")
    >>> "&lt;Report&gt;" in page and "a &lt; b" in page and "<Report>" not in page
    True
    """
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not isinstance(methods, str):
        raise ValueError("methods must be a string")
    if not isinstance(provenance, Mapping):
        raise ValueError("provenance must be a mapping of str to str")
    body: list[str] = [
        f"<header><h1>{html.escape(title)}</h1>",
    ]
    generated = provenance.get("Generated (UTC)")
    if generated:
        body.append(f'<p class="generated">Generated {html.escape(str(generated))}</p>')
    body.append("</header>")
    body.append(f'<section class="methods-section"><h2>Methods</h2>{_paragraphs(methods)}</section>')
    n_fig = 0
    for s, entry in enumerate(sections):
        if not (isinstance(entry, tuple | list) and len(entry) == 2):
            raise ValueError(f"section {s + 1} must be a (heading, items) pair")
        heading, items = entry
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
            raise ValueError(f"items of section {heading!r} must be a list")
        parts = [f'<section class="report-section"><h2>{html.escape(str(heading))}</h2>']
        for item in items:
            if isinstance(item, go.Figure):
                n_fig += 1
                div = item.to_html(
                    full_html=False, include_plotlyjs=False, div_id=f"figure-{n_fig}",
                    default_width="100%", default_height="420px",
                    config={"displaylogo": False, "responsive": True},
                )
                parts.append(f'<div class="figure">{div}</div>')
            elif isinstance(item, pd.DataFrame):
                parts.append(_table_html(item))
            elif isinstance(item, str):
                parts.append(_paragraphs(item))
            else:
                raise ValueError(f"unsupported report item of type {type(item).__name__}")
        parts.append("</section>")
        body.append("".join(parts))
    rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td><pre>{html.escape('' if v is None else str(v))}</pre></td></tr>"
        for k, v in provenance.items()
    )
    body.append(
        '<section class="provenance-section"><h2>Provenance</h2>'
        f'<table class="provenance"><tbody>{rows}</tbody></table></section>'
    )
    plotly_js = get_plotlyjs() if n_fig else ""
    script = f'<script type="text/javascript">{plotly_js}</script>' if n_fig else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>{script}</head>\n"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


# -- PDF ---------------------------------------------------------------------------------------------
#: Chromium flags: no sandbox (root in containers), no GPU, no background network traffic.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
#: A4 width minus the 15 mm side margins, in CSS pixels (96 per inch): figures are drawn at this width.
_PRINT_WIDTH_PX = round((210 - 30) / 25.4 * 96)


def report_pdf(html_text: str, *, timeout_s: float = 30.0) -> bytes:
    """Print a :func:`report_html` page to an A4 PDF in headless Chromium.

    The page is laid out for print, every plotly figure is awaited (its SVG drawn) before
    printing, and each section starts on a new page. External requests are blocked.

    Parameters
    ----------
    html_text : str
        The HTML document.
    timeout_s : float
        Seconds to wait for the figures.

    Returns
    -------
    bytes
        The PDF.
    """
    from playwright.sync_api import sync_playwright

    from core.export import chromium_path

    if not isinstance(html_text, str) or not html_text.strip():
        raise ValueError("html_text must be a non-empty HTML string")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport={"width": _PRINT_WIDTH_PX, "height": 1000})
            page = context.new_page()
            page.route("**/*", lambda route: route.abort() if route.request.url.startswith(("http:", "https:"))
                       else route.continue_())
            page.emulate_media(media="print")
            page.set_content(html_text, wait_until="load", timeout=timeout_s * 1000)
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
                ".every(d => d._fullLayout && d.querySelector('.main-svg'))",
                timeout=timeout_s * 1000,
            )
            page.wait_for_timeout(200)
            return page.pdf(
                format="A4",
                margin={"top": "16mm", "bottom": "16mm", "left": "15mm", "right": "15mm"},
                print_background=True,
                prefer_css_page_size=True,
            )
        finally:
            browser.close()
