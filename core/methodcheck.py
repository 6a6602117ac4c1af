"""Method check: each immortal-time method's estimate against the synthetic cohort's known truth.

The synthetic generator (:mod:`core.synthetic`) multiplies the hazard by
:data:`core.synthetic.TRUE_HR` from the day of surgery on. This module

* puts the estimates of one analysis of the demo cohort beside that truth
  (:func:`compare_with_truth`), and
* repeats the whole pipeline over many generated cohorts to measure each method's bias and the
  coverage of its 95% confidence interval (:func:`simulate`, :func:`summarise`).
  ``python -m core.methodcheck`` writes ``docs/method_check.md``.

The truth is a *conditional* hazard ratio (given the covariates of the generator). A matched
Cox model estimates a marginal hazard ratio in the matched population; hazard ratios are not
collapsible, so even an unbiased design lands somewhat closer to 1 than 0.70.

Examples
--------
>>> from core import analysis, cohort
>>> from core.spec import AnalysisSpec
>>> table = compare_with_truth(analysis.run(cohort.demo(), AnalysisSpec()))
>>> table["True HR"].unique().tolist()
[0.7]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core import analysis, ccw, synthetic
from core import cohort as cohort_mod
from core.spec import AnalysisSpec


def compare_with_truth(result: analysis.AnalysisResult, *, true_hr: float = synthetic.TRUE_HR) -> pd.DataFrame:
    """Each method's hazard ratio beside the true one, with whether its CI covers the truth.

    Parameters
    ----------
    result : core.analysis.AnalysisResult
        An analysis of a synthetic cohort.
    true_hr : float
        The generator's true hazard ratio.

    Returns
    -------
    pandas.DataFrame
        Columns ``Method``, ``True HR``, ``Estimated HR``, ``lower``, ``upper``,
        ``CI covers truth``, ``Ratio estimate / truth``.
    """
    m = result.methods
    covers = (m["lower"] <= true_hr) & (true_hr <= m["upper"])
    return pd.DataFrame({
        "Method": m["method"],
        "True HR": true_hr,
        "Estimated HR": m["HR"],
        "lower": m["lower"],
        "upper": m["upper"],
        "CI covers truth": np.where(m["HR"].isna(), "no estimate", np.where(covers, "yes", "no")),
        "Ratio estimate / truth": m["HR"] / true_hr,
    })


def is_demo(sha256: str) -> bool:
    """True when ``sha256`` is the shipped synthetic demo cohort's (whose truth is known)."""
    return sha256 == cohort_mod.demo().sha256


def _cohort_from_frame(frame: pd.DataFrame) -> cohort_mod.Cohort:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return cohort_mod.load(buf.getvalue(), filename="synthetic.parquet")


def simulate(
    n_cohorts: int = 200,
    *,
    n_surgery: int = 500,
    n_chemotherapy: int = 500,
    seed: int = 1,
    spec: AnalysisSpec | None = None,
) -> pd.DataFrame:
    """Run the pipeline on ``n_cohorts`` generated cohorts; one row per cohort and method.

    Parameters
    ----------
    n_cohorts : int
        Number of cohorts (seeds ``seed``, ``seed + 1``, ...).
    n_surgery, n_chemotherapy : int
        Patients per arm in each cohort.
    seed : int
        First seed.
    spec : AnalysisSpec, optional
        Settings (default: the dashboard's defaults).

    Returns
    -------
    pandas.DataFrame
        Columns ``cohort``, ``method``, ``hr``, ``lower``, ``upper``, ``p``, ``patients``, ``events``,
        ``patients_surgery``, ``patients_chemotherapy``, ``events_surgery``, ``events_chemotherapy``.

    Examples
    --------
    >>> df = simulate(1, n_surgery=60, n_chemotherapy=60, seed=3)
    >>> sorted(df["method"].str.split().str[0].unique())
    ['Landmark', 'Naive,', 'Time-dependent']
    """
    spec = spec or AnalysisSpec()
    rows = []
    for i in range(n_cohorts):
        frame = synthetic.generate(n_surgery=n_surgery, n_chemotherapy=n_chemotherapy, seed=seed + i)
        result = analysis.run(_cohort_from_frame(frame), spec)
        for r in result.methods.itertuples(index=False):
            rows.append({"cohort": seed + i, "method": r.method, "hr": r.HR, "lower": r.lower, "upper": r.upper,
                         "p": r.p, "patients": r.patients, "events": r.events,
                         "patients_surgery": r.patients_surgery, "patients_chemotherapy": r.patients_chemotherapy,
                         "events_surgery": r.events_surgery, "events_chemotherapy": r.events_chemotherapy})
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame, *, true_hr: float = synthetic.TRUE_HR) -> pd.DataFrame:
    """Bias and coverage per method.

    Parameters
    ----------
    runs : pandas.DataFrame
        Output of :func:`simulate`.
    true_hr : float
        The truth.

    Returns
    -------
    pandas.DataFrame
        Per method: cohorts with an estimate (and their share, ``estimable``), geometric-mean HR,
        median HR, bias of log HR, empirical SD of log HR, coverage of the 95% CI, power (share of
        all cohorts whose 95% CI lies below 1), mean patients and events.

    Examples
    --------
    >>> runs = pd.DataFrame({"cohort": [1, 2], "method": ["m", "m"], "hr": [0.7, 0.7],
    ...                      "lower": [0.5, 0.8], "upper": [0.9, 0.9], "patients": [10, 10], "events": [5, 5]})
    >>> summarise(runs).loc["m", "coverage"]
    np.float64(0.5)
    """
    out = {}
    for method, g in runs.groupby("method", sort=False):
        ok = g["hr"].notna() & (g["hr"] > 0)
        log = np.log(g.loc[ok, "hr"])
        covered = (g.loc[ok, "lower"] <= true_hr) & (true_hr <= g.loc[ok, "upper"])
        out[method] = {
            "cohorts": int(ok.sum()),
            "failed": int((~ok).sum()),
            "geometric_mean_hr": float(np.exp(log.mean())) if ok.any() else np.nan,
            "median_hr": float(g.loc[ok, "hr"].median()) if ok.any() else np.nan,
            "bias_log_hr": float(log.mean() - np.log(true_hr)) if ok.any() else np.nan,
            "sd_log_hr": float(log.std(ddof=1)) if ok.sum() > 1 else np.nan,
            "coverage": float(covered.mean()) if ok.any() else np.nan,
            "estimable": float(ok.mean()),
            "power": float((ok & (g["upper"] < 1)).sum() / len(g)),
            "mean_patients": float(g["patients"].mean()),
            "mean_events": float(g["events"].mean()),
        }
    return pd.DataFrame.from_dict(out, orient="index")


#: The null scenario of the clone-censor-weight check: surgery changes nothing (no effect on survival, no
#: postoperative deaths), so every survival and RMST difference is exactly 0 and the hazard ratio 1.
NULL_CALIBRATION = dataclasses.replace(synthetic.CALIBRATION, true_hr=1.0, postop_death_prob=0.0)


def simulate_ccw(
    n_cohorts: int = 50,
    *,
    n_surgery: int = 45,
    n_chemotherapy: int = 45,
    seed: int = 1,
    spec: AnalysisSpec | None = None,
    calibration: synthetic.Calibration = NULL_CALIBRATION,
    grace: float = ccw.DEFAULT_GRACE,
    n_boot: int = ccw.N_BOOT,
) -> pd.DataFrame:
    """Run the clone-censor-weight comparison on generated cohorts; one row per cohort and measure.

    Parameters
    ----------
    n_cohorts, n_surgery, n_chemotherapy, seed, spec
        As :func:`simulate`.
    calibration : core.synthetic.Calibration
        The generator's parameters (default :data:`NULL_CALIBRATION`, where the truth of every
        difference is 0 and of the hazard ratio 1).
    grace : float
        G in months.
    n_boot : int
        Bootstrap replicates per cohort.

    Returns
    -------
    pandas.DataFrame
        Columns ``cohort``, ``measure`` (e.g. ``"Survival 12"``, ``"RMST 36"``, ``"HR"``),
        ``estimate``, ``lower``, ``upper``.

    Examples
    --------
    >>> df = simulate_ccw(1, n_surgery=40, n_chemotherapy=40, seed=3, n_boot=5)
    >>> df["measure"].tolist()[-1]
    'HR'
    """
    spec = spec or AnalysisSpec()
    rows = []
    for i in range(n_cohorts):
        frame = synthetic.generate(n_surgery=n_surgery, n_chemotherapy=n_chemotherapy, seed=seed + i,
                                   calibration=calibration)
        res = ccw.run(_cohort_from_frame(frame), spec, grace=grace, n_boot=n_boot, seed=seed + i)
        for r in res.table.itertuples(index=False):
            name = "Survival" if r.measure == "Survival" else "RMST"
            rows.append({"cohort": seed + i, "measure": f"{name} {r.months:g}", "estimate": r.difference,
                         "lower": r.lower, "upper": r.upper})
        rows.append({"cohort": seed + i, "measure": "HR", "estimate": res.hr, "lower": res.hr_lower,
                     "upper": res.hr_upper})
    return pd.DataFrame(rows)


def summarise_ccw(runs: pd.DataFrame, *, truth: dict[str, float] | None = None) -> pd.DataFrame:
    """Estimability, bias, SD, coverage and rejection rate per measure of :func:`simulate_ccw`.

    Parameters
    ----------
    runs : pandas.DataFrame
        Output of :func:`simulate_ccw`.
    truth : dict of str to float, optional
        True value per measure (default: the null, 0 for differences and 1 for the hazard ratio).

    Returns
    -------
    pandas.DataFrame
        Per measure: ``cohorts`` with an estimate, ``with_ci``, ``mean`` estimate, ``bias``, ``sd``,
        ``coverage`` of the 95% interval (among cohorts with one) and ``rejects`` (share of all
        cohorts whose interval excludes the null: the type I error under the null).

    Examples
    --------
    >>> runs = pd.DataFrame({"cohort": [1, 2], "measure": ["HR", "HR"], "estimate": [0.8, 1.1],
    ...                      "lower": [0.6, 0.9], "upper": [0.95, 1.3]})
    >>> summarise_ccw(runs).loc["HR", ["coverage", "rejects"]].tolist()
    [0.5, 0.5]
    """
    out = {}
    for measure, g in runs.groupby("measure", sort=False):
        null = 1.0 if measure == "HR" else 0.0
        true = (truth or {}).get(measure, null)
        ok = g["estimate"].notna()
        ci = ok & g["lower"].notna()
        est = g.loc[ok, "estimate"]
        covered = (g.loc[ci, "lower"] <= true) & (true <= g.loc[ci, "upper"])
        out[measure] = {
            "cohorts": int(ok.sum()), "with_ci": int(ci.sum()), "mean": float(est.mean()) if ok.any() else np.nan,
            "bias": float(est.mean() - true) if ok.any() else np.nan,
            "sd": float(est.std(ddof=1)) if ok.sum() > 1 else np.nan,
            "coverage": float(covered.mean()) if ci.any() else np.nan,
            "rejects": float(((g["lower"] > null) | (g["upper"] < null)).sum() / len(g)),
        }
    return pd.DataFrame.from_dict(out, orient="index")


#: The single filter choices a surgeon clicks first (the study's subgroups), as spec changes.
def single_filter_choices(data: pd.DataFrame) -> list[tuple[str, str, dict]]:
    """Every single choice of the subgroup filters present in ``data``: (filter, option, spec changes).

    Examples
    --------
    >>> from core import cohort
    >>> choices = single_filter_choices(cohort.demo().data)
    >>> choices[0]
    ('Pancreatic procedure', 'DP', {'pancreatic_procedures': ('DP',)})
    """
    from core.dictionary import C

    out: list[tuple[str, str, dict]] = []
    for field, column, title in (
        ("pancreatic_procedures", C.PANCREATIC_PROCEDURE, "Pancreatic procedure"),
        ("liver_procedures", C.LIVER_PROCEDURE, "Liver procedure"),
        ("mets_groups", C.METS_GROUP, "Metastasis group"),
        ("regimens", C.CHEMO_REGIMEN, "Regimen"),
        ("resectability_levels", C.RESECTABILITY, "Resectability"),
        ("centres", C.CENTRE_ID, "Centre"),
    ):
        for value in sorted(data[column].dropna().astype(str).unique()):
            out.append((title, value, {field: (value,)}))
    out += [("Hepatectomy", "minor", {"hepatectomy": "minor"}), ("Hepatectomy", "major", {"hepatectomy": "major"})]
    return out


def subgroup_answers(cohort, spec: AnalysisSpec | None = None) -> pd.DataFrame:
    """Does each single subgroup filter give a matched hazard ratio? One row per choice.

    Parameters
    ----------
    cohort : core.cohort.Cohort
        The cohort (the demo, for the documented goal).
    spec : AnalysisSpec, optional
        Settings the filters are added to (default: the dashboard's defaults).

    Returns
    -------
    pandas.DataFrame
        ``filter``, ``option``, patients per arm in the analysed population (``n_surgery``,
        ``n_chemotherapy``), ``eligible`` (at least 5 per arm there), the headline ``hr`` with
        ``lower``/``upper`` (NaN without one), ``estimated`` and ``reason``.
    """
    spec = spec or AnalysisSpec()
    rows = []
    for title, option, changes in single_filter_choices(cohort.data):
        result = analysis.run(cohort, spec.replace_(**changes))
        pop = result.population
        n_s, n_c = int((pop["treated"] == 1).sum()), int((pop["treated"] == 0).sum())
        hr = result.hr
        rows.append({"filter": title, "option": option, "n_surgery": n_s, "n_chemotherapy": n_c,
                     "eligible": n_s >= 5 and n_c >= 5, "hr": hr.hr, "lower": hr.lower, "upper": hr.upper,
                     "estimated": hr.estimated, "reason": hr.reason})
    return pd.DataFrame(rows)


def _summary_table(summary: pd.DataFrame) -> list[str]:
    lines = [
        "| method | estimate in | geometric mean HR | bias of log HR | SD of log HR | 95% CI coverage of 0.70 | "
        "power (CI below 1) | mean patients | mean events |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for method, r in summary.iterrows():
        lines.append(
            f"| {method} | {int(r.cohorts)} of {int(r.cohorts + r.failed)} ({100 * r.estimable:.1f}%) | "
            f"{r.geometric_mean_hr:.3f} | {r.bias_log_hr:+.3f} | {r.sd_log_hr:.3f} | {100 * r.coverage:.0f}% | "
            f"{100 * r.power:.0f}% | {r.mean_patients:.0f} | {r.mean_events:.0f} |"
        )
    return lines


def _caliper_words(caliper: float | None) -> str:
    return "no caliper" if caliper is None else f"caliper {caliper:g} SD"


def _defaults_table(sections: list[tuple[int, int, str, pd.DataFrame]],
                    answered: dict[tuple[str, float | None], pd.DataFrame]) -> list[str]:
    """The landmark estimator under each propensity model and caliper: the measurements behind the defaults."""
    sizes = sorted({n_s for n_s, *_ in sections})
    lines = ["## Choice of the defaults: propensity model and caliper", "",
             "Landmark analysis (the headline) under each setting: bias, spread and power over the simulated "
             "cohorts, and how many of the demo's eligible single subgroup filters get a hazard ratio.", "",
             "| setting | demo single filters answered | "
             + " | ".join(f"{n} + {n}: bias / SD of log HR, coverage, power" for n in sizes) + " |",
             "|---|---|" + "---|" * len(sizes)]
    for (model, caliper), ans in answered.items():
        eligible = ans[ans["eligible"]]
        cells = []
        for n_s, _, name, summary in sections:
            if name != f"{model}, {_caliper_words(caliper)}":
                continue
            labels = [str(x) for x in (summary["method"] if "method" in summary.columns else summary.index)]
            r = next(summary.iloc[[i]] for i, lab in enumerate(labels) if lab.startswith("Landmark")).iloc[0]
            cells.append((n_s, f"{r.bias_log_hr:+.3f} / {r.sd_log_hr:.3f}, {100 * r.coverage:.0f}%, {100 * r.power:.0f}%"))
        by_size = dict(cells)
        lines.append(f"| {model}, {_caliper_words(caliper)} | {int(eligible['estimated'].sum())} of {len(eligible)} | "
                     + " | ".join(by_size.get(n, "—") for n in sizes) + " |")
    lines.append("")
    return lines


def _markdown(sections: list[tuple[int, int, str, pd.DataFrame]], answers: pd.DataFrame | None, *, n_cohorts: int,
              seconds: float, command: str,
              answered: dict[tuple[str, float | None], pd.DataFrame] | None = None) -> str:
    lines = [
        "# Method check: bias, coverage and power against the synthetic truth",
        "",
        f"Generated {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} on {platform.machine()}, "
        f"Python {platform.python_version()}, {seconds:.0f} s.",
        "",
        f"Command: `{command}`",
        "",
        f"Each table: {n_cohorts} synthetic cohorts (`core.synthetic.generate`, seeds 1-{n_cohorts}), each analysed "
        "with the dashboard's default settings (`AnalysisSpec()`: OS from chemotherapy start, propensity covariates "
        "age, ECOG, metastasis count, log(1 + CA19-9), regimen, objective response, resectability, covariates "
        "constant in the population left out and rare categories pooled; 1:1 nearest-neighbour matching on the "
        "logit without replacement, no caliper; Cox model with robust SE clustered on pairs), changing only "
        "the propensity model and the caliper where the table says so. "
        f"True hazard ratio of surgery from the day of surgery on: **{synthetic.TRUE_HR}**. "
        "A cohort has an estimate when each arm of the comparison has at least 5 patients and 3 deaths and the "
        "models can be fitted (`core.guards`). Power: the share of all cohorts whose 95% CI lies below 1.",
        "",
    ]
    for n_s, n_c, model, summary in sections:
        lines += [f"## {n_s} + {n_c} patients, propensity model: {model}", ""] + _summary_table(summary) + [""]
    if answered:
        lines += _defaults_table(sections, answered)
    if answers is not None:
        eligible = answers[answers["eligible"]]
        lines += [
            "## Single subgroup filters on the demo cohort (90 patients)",
            "",
            "Every single choice of the pancreatic procedure, liver procedure, metastasis group, regimen, "
            "resectability, centre and minor/major hepatectomy filters, with the default settings "
            "(`core.methodcheck.subgroup_answers`). Eligible: at least 5 operated and 5 chemotherapy-only "
            "patients in the analysed population (alive at the 6-month landmark).",
            "",
            f"**{int(eligible['estimated'].sum())} of {len(eligible)}** eligible choices give a matched hazard "
            f"ratio ({int(answers['estimated'].sum())} of all {len(answers)} choices).",
            "",
            "| filter | option | operated | chemotherapy only | HR (95% CI) or why not |",
            "|---|---|---|---|---|",
        ]
        for r in answers.itertuples(index=False):
            what = (f"{r.hr:.2f} ({r.lower:.2f}-{r.upper:.2f})" if r.estimated else str(r.reason))
            lines.append(f"| {r.filter} | {r.option} | {r.n_surgery} | {r.n_chemotherapy} | {what} |")
        lines.append("")
    lines += [
        "## Reading the tables",
        "",
        "The naive comparison counts the months before surgery as surgery time and comes out far below the truth "
        "(matching removes part of the confounding, so it lands above the crude unmatched figure of about 0.34). "
        "The time-dependent Cox model is adjusted for the propensity covariates plus progression at restaging (PD "
        "or not evaluable) as its own level. The landmark and time-dependent analyses remove immortal time; what "
        "is left is residual confounding by variables the propensity model does not hold (the generator's "
        "selection also uses CA19-9 response, fitness beyond ECOG and the centre), patients operated after the "
        "landmark counted as not operated, and the non-collapsibility of the hazard ratio (a matched, marginal HR "
        "is not the generator's conditional HR). Coverage well below 95% means the interval should not be read "
        "as capturing the truth for that design. At 45 + 45 the intervals are wide and power is low: a single "
        "study of this size mostly cannot show a true HR of 0.70, whatever the method.",
        "",
    ]
    return "\n".join(lines)


#: Where the clone-censor-weight section sits in ``docs/method_check.md`` (written by ``--ccw`` alone): Markdown
#: comments (link reference definitions), invisible on the Method check page.
CCW_START, CCW_END = "[//]: # (ccw section: written by python -m core.methodcheck --ccw)", "[//]: # (end of ccw section)"


def ccw_scenarios() -> list[tuple[str, AnalysisSpec, synthetic.Calibration]]:
    """The null scenarios of the clone-censor-weight check: (words, spec, calibration).

    Examples
    --------
    >>> [s[1].covariates[-1] for s in ccw_scenarios()]
    ['resectability', 'centre_id']
    """
    from core.dictionary import C

    full = AnalysisSpec(covariates=(*AnalysisSpec().covariates, C.CA19_9_RESPONSE, C.CENTRE_ID))
    return [
        ("default covariates; the generator's surgeons also select on CA19-9 response, the centre and (occult "
         "progression) on the patient's future", AnalysisSpec(), NULL_CALIBRATION),
        ("every selection factor measured: default covariates plus CA19-9 response and centre, no occult "
         "progression", full, dataclasses.replace(NULL_CALIBRATION, occult_progression_days=0)),
    ]


def ccw_markdown(tables: list[tuple[int, str, pd.DataFrame, int, int]], *, seconds: float, command: str) -> str:
    """The clone-censor-weight section of ``docs/method_check.md``.

    Examples
    --------
    >>> t = pd.DataFrame({"cohorts": [2], "with_ci": [2], "mean": [0.01], "bias": [0.01], "sd": [0.1],
    ...                   "coverage": [1.0], "rejects": [0.0]}, index=["Survival 12"])
    >>> ccw_markdown([(45, "null", t, 2, 5)], seconds=1, command="x").count("| Survival 12 |")
    1
    """
    lines = [
        CCW_START,
        "",
        "## Clone-censor-weight (target trial: resect within 9 months vs do not resect)",
        "",
        f"Generated {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, {seconds:.0f} s. Command: `{command}`",
        "",
        "Synthetic cohorts (seeds 1, 2, ...; how many in each table's title) generated under the **null**: surgery "
        "changes nothing (`core.methodcheck.NULL_CALIBRATION`: true HR 1, no postoperative deaths), so the true "
        "survival and RMST differences are exactly 0 and the true hazard ratio 1 under any strategy (the "
        "generator's HR 0.70 applies from the day of surgery on and gives no truth for 'resect within G' in "
        "patients the generator never operates). `core.ccw.run` with its defaults: grace period 9 months, Cox "
        "censoring models, bootstrap replicates per cohort as each title says (percentile intervals for the differences; "
        "robust interval for the hazard ratio). Coverage: share of cohorts with an interval whose interval holds "
        "the truth. Rejects: share of all cohorts whose interval excludes the null (type I error; 5% expected). "
        "HR: mean and bias on the hazard-ratio scale.",
        "",
    ]
    for size, words, t, n_cohorts, n_boot in tables:
        lines += [f"### {size} + {size} patients, {n_cohorts} cohorts, {n_boot} replicates: {words}", "",
                  "| measure | estimate in | mean | bias | SD | 95% CI coverage | rejects the null |",
                  "|---|---|---|---|---|---|---|"]
        for m, r in t.iterrows():
            scale = 100.0 if str(m).startswith("Survival") else 1.0
            unit = " pts" if scale == 100.0 else ""
            mean = f"{r['mean']:.3g}" if m == "HR" else f"{scale * r['mean']:+.3g}{unit}"
            lines.append(f"| {m} | {int(r['cohorts'])} ({int(r['with_ci'])} with CI) | {mean} | "
                         f"{scale * r['bias']:+.3g}{unit} | {scale * r['sd']:.3g}{unit} | {r['coverage']:.0%} | "
                         f"{r['rejects']:.0%} |")
        lines.append("")
    lines += [
        "Survival differences in percentage points, RMST in months. The first scenario adds to the method's own "
        "error the confounding by selection factors the censoring models do not hold (the same residual "
        "confounding as the other designs), and the selection on the future that no design removes (occult "
        "progression). The second scenario measures the method itself: bias left there comes from the Cox "
        "censoring models, which only approximate the generator's selection (a logistic choice at restaging among "
        "patients alive and not progressing), and from restaging response entered as if known at time zero.",
        "",
        CCW_END,
    ]
    return "\n".join(lines)


def keep_marked_section(new: str, old: str, *, start: str = CCW_START, end: str = CCW_END) -> str:
    r"""``new`` with the section of ``old`` between ``start`` and ``end`` appended (the main report does not redo it).

    The clone-censor-weight section by default; :mod:`core.missing_check` keeps its own the same way.

    Examples
    --------
    >>> old = f"# T\n\nold\n\n{CCW_START}\nccw\n{CCW_END}\n"
    >>> keep_marked_section("# T\n\nnew\n", old) == f"# T\n\nnew\n\n{CCW_START}\nccw\n{CCW_END}\n"
    True
    """
    if start not in old or end not in old or start in new:
        return new
    block = old[old.index(start):old.index(end) + len(end)]
    return new.rstrip("\n") + "\n\n" + block + "\n"


def _write_ccw(out: Path, cohorts: list[int], sizes: list[int], boots: list[int]) -> str:  # pragma: no cover - long
    start = time.perf_counter()
    tables = []
    for words, spec, cal in ccw_scenarios():
        for size, n_cohorts, n_boot in zip(sizes, cohorts, boots, strict=True):
            runs = simulate_ccw(n_cohorts, n_surgery=size, n_chemotherapy=size, spec=spec, calibration=cal,
                                n_boot=n_boot)
            tables.append((size, words, summarise_ccw(runs), n_cohorts, n_boot))
            print(f"ccw {size}+{size} ({words[:30]}): done after {time.perf_counter() - start:.0f} s", flush=True)
    joined = {k: ",".join(map(str, v)) for k, v in (("c", cohorts), ("s", sizes), ("b", boots))}
    section = ccw_markdown(tables, seconds=time.perf_counter() - start,
                           command=f"python -m core.methodcheck --ccw --cohorts {joined['c']} --sizes {joined['s']} "
                                   f"--boot {joined['b']}")
    text = out.read_text() if out.exists() else ""
    if CCW_START in text and CCW_END in text:
        text = text[:text.index(CCW_START)] + section + text[text.index(CCW_END) + len(CCW_END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(text)
    return section


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a long-running report
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", default="200", help="cohorts (with --ccw: one number per size, comma-separated)")
    parser.add_argument("--sizes", default="45,500", help="patients per arm, comma-separated")
    parser.add_argument("--models", default="firth,glm", help="propensity models, comma-separated")
    parser.add_argument("--calipers", default="none", help="calipers (SD of the logit), comma-separated; none = no caliper")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "method_check.md")
    parser.add_argument("--ccw", action="store_true", help="only the clone-censor-weight section (null scenarios)")
    parser.add_argument("--boot", default=str(ccw.N_BOOT), help="bootstrap replicates per cohort, one per size (--ccw)")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    if args.ccw:
        def per_size(text: str) -> list[int]:
            values = [int(x) for x in text.split(",")]
            return values * len(sizes) if len(values) == 1 else values

        print(_write_ccw(args.out, per_size(args.cohorts), sizes, per_size(args.boot)))
        return
    args.cohorts = int(args.cohorts)
    start = time.perf_counter()
    sections = []
    calipers = [None if c.strip() == "none" else float(c) for c in args.calipers.split(",")]
    settings = [(model, caliper) for model in args.models.split(",") for caliper in calipers]
    for size in (int(x) for x in args.sizes.split(",")):
        for model, caliper in settings:
            spec = AnalysisSpec(propensity=model, caliper=caliper)
            runs = simulate(args.cohorts, n_surgery=size, n_chemotherapy=size, spec=spec)
            sections.append((size, size, f"{model}, {_caliper_words(caliper)}", summarise(runs)))
            print(f"{size}+{size} {model} {caliper}: done after {time.perf_counter() - start:.0f} s", flush=True)
    demo = cohort_mod.demo()
    answered = {(m, c): subgroup_answers(demo, AnalysisSpec(propensity=m, caliper=c)) for m, c in settings}
    answers = answered[settings[0]]
    command = (f"python -m core.methodcheck --cohorts {args.cohorts} --sizes {args.sizes} --models {args.models} "
               f"--calipers {args.calipers}")
    text = _markdown(sections, answers, n_cohorts=args.cohorts, seconds=time.perf_counter() - start, command=command,
                     answered=answered)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    old = args.out.read_text() if args.out.exists() else ""
    from core.missing_check import SECTION_END, SECTION_START

    text = keep_marked_section(keep_marked_section(text, old), old, start=SECTION_START, end=SECTION_END)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":  # pragma: no cover
    main()
