"""Reports: the methods paragraph, a self-contained HTML report and its PDF.

* :func:`methods_paragraph` writes the statistical methods in journal style from the
  :class:`~core.spec.AnalysisSpec` actually used, so the text always matches the settings. It
  describes what :mod:`core.analysis` does (landmark / naive: propensity-matched Cox model with
  cluster-robust variance; time-dependent: Cox model on all patients adjusted for the propensity
  covariates, curves from the matched landmark comparison; weighted curves, no log-rank test
  when matching is k:1 or with replacement; RFS: surgery group only).
* :func:`report_html` builds one HTML file with no external resource: plotly.js is inlined
  once, figures stay interactive, every user-supplied string is HTML-escaped.
* :func:`report_pdf` prints that HTML to an A4 PDF in headless Chromium (Playwright driving
  Debian's ``/usr/bin/chromium``, see :func:`core.export.chromium_path`), after every figure has
  been drawn; each section starts on a new page. Playwright (``playwright==1.65.2``) is then a
  runtime dependency; no browser is downloaded.

Examples
--------
>>> from core.spec import AnalysisSpec
>>> text = methods_paragraph(AnalysisSpec(endpoint="rfs"), n_surgery=45, software={"Python": "3.11"})
>>> "no propensity score matching was performed" in text
True
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from core.dictionary import C, label
from core.spec import AnalysisSpec

# -- methods paragraph ----------------------------------------------------------------------------
#: Covariates in journal wording (lower case inside a sentence).
COVARIATE_PROSE: dict[str, str] = {
    C.AGE: "age",
    C.SEX: "sex",
    C.ECOG: "ECOG performance status",
    C.TUMOUR_LOCATION: "tumour location",
    C.TUMOUR_SIZE: "tumour size",
    C.RESECTABILITY: "resectability status",
    C.CA19_9_BASELINE: "baseline CA19-9 (log-transformed)",
    C.CA19_9_RESTAGING: "CA19-9 at restaging (log-transformed)",
    C.CA19_9_RESPONSE: "CA19-9 response (fall of at least 50%)",
    C.LIVER_METS_N: "number of liver metastases",
    C.METS_GROUP: "metastasis group (1, 2-3, >3)",
    C.LIVER_METS_MAX: "size of the largest liver metastasis",
    C.LIVER_METS_BILOBAR: "bilobar distribution of metastases",
    C.CHEMO_REGIMEN: "chemotherapy regimen",
    C.RECIST: "radiological response (RECIST)",
    C.CENTRE_ID: "centre",
    C.DIAGNOSIS_YEAR: "year of diagnosis",
}
_ORIGIN_PROSE = {"chemo_start": "the start of chemotherapy", "diagnosis": "diagnosis"}
_ORDER_PROSE = {
    "largest": "in descending order of the propensity score",
    "smallest": "in ascending order of the propensity score",
    "data": "in the order in which they appear in the data set",
}
_SOFTWARE = ("lifelines", "scikit-learn", "scipy", "pandas", "numpy")


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
    if software is None:
        from core.provenance import package_versions

        software = package_versions()
    parts = [f"{name} {software[name]}" for name in _SOFTWARE if name in software]
    python = software.get("Python")
    head = f"Analyses used Python {python}" if python else "Analyses used Python"
    return head + (f" with {_join(parts)}." if parts else ".")


def methods_paragraph(
    spec: AnalysisSpec,
    *,
    n_surgery: int | None = None,
    n_chemotherapy: int | None = None,
    n_matched_pairs: int | None = None,
    tau: float | None = None,
    software: Mapping[str, str] | None = None,
    k: int | None = None,
) -> str:
    """Statistical methods in journal style, always matching ``spec``.

    Parameters
    ----------
    spec : AnalysisSpec
        The settings the results were computed with.
    n_surgery, n_chemotherapy : int, optional
        Patients in each group (after filters). ``n_chemotherapy`` is ignored for RFS.
    n_matched_pairs : int, optional
        Matched pairs (1:1) or matched sets (k:1). Not allowed for RFS (no matching).
    tau : float, optional
        Horizon (months) of the restricted mean survival time, when one was reported.
    software : mapping of str to str, optional
        Versions by distribution name plus ``"Python"`` (default: the installed ones).
    k : int, optional
        Small-cell threshold: patient and pair counts from 1 to ``k - 1`` are written ``"<k"``
        (None, the default: counts as they are).

    Returns
    -------
    str
        One paragraph.

    Examples
    --------
    >>> text = methods_paragraph(AnalysisSpec(), software={"Python": "3.11.2", "lifelines": "0.30.3"})
    >>> "within a caliper of 0.2 standard deviations of the logit of the propensity score" in text
    True
    >>> text.endswith("Analyses used Python 3.11.2 with lifelines 0.30.3.")
    True
    >>> "included <11 patients who underwent resection" in methods_paragraph(AnalysisSpec(), n_surgery=7, k=11)
    True
    """
    if not isinstance(spec, AnalysisSpec):
        raise ValueError("spec must be an AnalysisSpec")
    n_s = _count(n_surgery, "n_surgery")
    n_c = _count(n_chemotherapy, "n_chemotherapy")
    n_m = _count(n_matched_pairs, "n_matched_pairs")
    if tau is not None and (isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 0):
        raise ValueError("tau must be a positive number of months or None")
    if spec.endpoint == "rfs" and n_m is not None:
        raise ValueError("recurrence-free survival is analysed without matching: n_matched_pairs must be None")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 2):
        raise ValueError("k must be an integer of at least 2, or None (no suppression)")
    n_s, n_c, n_m = (_small(n, k) for n in (n_s, n_c, n_m))

    out: list[str] = []
    filters = spec.filters_in_words()
    if spec.endpoint == "rfs":
        if n_s is not None:
            out.append(f"The analysis included {n_s} patients who underwent resection.")
        if filters:
            out.append("The cohort was restricted as follows: " + "; ".join(filters) + ".")
        out.append(
            "Recurrence-free survival was analysed in the surgery group only and measured from the date of "
            "resection to recurrence or death, whichever occurred first; patients alive without recurrence were "
            "censored at the date of their last imaging. Because recurrence-free survival is not defined for "
            "patients who did not undergo resection, no comparison with the chemotherapy group was made and no "
            "propensity score matching was performed."
        )
        out.append("Recurrence-free survival was estimated by the Kaplan-Meier method with log-log confidence intervals.")
        if tau is not None:
            out.append(f"The restricted mean recurrence-free survival time up to {tau:g} months was estimated.")
        out.append(f"Curves are truncated where fewer than {spec.min_at_risk} patients remained at risk.")
        out.append(_software_sentence(software))
        return " ".join(out)

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
    out.append(
        f"Overall survival was measured from {origin} to death from any cause; patients alive at the last "
        "follow-up were censored."
    )
    if spec.method == "landmark":
        out.append(
            f"Immortal time bias was addressed by a landmark analysis at {lm} months after {origin}: patients who "
            "had died or were lost to follow-up before the landmark were excluded, patients were classified by "
            "whether they had undergone resection before the landmark (patients operated on later remained in the "
            "chemotherapy group), and survival was measured from the landmark."
        )
    elif spec.method == "time_dependent":
        out.append(
            "Immortal time bias was addressed by a Cox proportional hazards model with resection as a "
            f"time-dependent covariate: each patient contributed follow-up from {origin} to the unoperated state "
            "until resection and to the operated state thereafter. This model was fitted in all eligible patients "
            "and adjusted for the propensity score covariates; Kaplan-Meier curves show the propensity-matched "
            f"landmark comparison at {lm} months."
        )
    else:
        out.append(
            f"Patients were compared according to whether they ever underwent resection, with survival measured "
            f"from {origin}. This naive comparison does not account for immortal time: patients in the surgery group "
            "had to survive until resection, so it is biased by immortal time in favour of surgery and is reported "
            "only to show the size of that bias."
        )

    covs = [_covariate(c) for c in spec.covariates]
    out.append(f"Propensity scores for resection were estimated by logistic regression on {_join(covs)}.")
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
        "Covariate balance was assessed by standardised mean differences, an absolute value below 0.1 "
        "indicating adequate balance."
    )

    weighted = spec.ratio > 1 or spec.replace
    if weighted:
        out.append(
            "Survival in the matched sample was estimated by the Kaplan-Meier method weighted by the matching "
            "weights, with log-log confidence intervals; the log-rank test was not used because it ignores "
            "the weights."
        )
    else:
        out.append(
            "Survival in the matched sample was estimated by the Kaplan-Meier method with log-log confidence "
            "intervals and compared with the log-rank test."
        )
    if spec.method == "time_dependent":
        out.append(
            "The hazard ratio for resection was estimated by the time-dependent Cox model (Efron method for "
            "ties) with robust (sandwich) standard errors."
        )
    else:
        if spec.replace:
            variance = "weighted by the matching weights, with robust standard errors clustered on patients"
        elif spec.ratio > 1:
            variance = "weighted by the matching weights, with robust standard errors clustered on matched sets"
        else:
            variance = "with robust standard errors clustered on matched pairs"
        out.append(
            "Hazard ratios were estimated by Cox proportional hazards regression (Efron method for ties) in the "
            f"matched sample, {variance}."
        )
    if tau is not None:
        out.append(f"Restricted mean survival times up to {tau:g} months were compared between groups.")
    out.append(f"Curves are truncated where fewer than {spec.min_at_risk} patients remained at risk.")
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
