"""Centre analyses of the multicentre study: balance per centre and the leave-one-centre-out hazard ratio.

Both are pure functions of ``(cohort, spec)`` (cache-friendly, as :func:`core.analysis.run`) and
read the comparison the spec chooses (``spec.method``), with its centre choice
(``spec.centre_model``):

* :func:`centre_balance`: per centre, the patients of each arm before matching (the analysed
  population, e.g. alive at the landmark) and after matching, and the standardised mean
  difference of each propensity covariate within the centre, before and after matching. The
  SMD is :func:`core.matching.balance` with the rows of the other centres given weight 0: the
  difference in (weighted) means within the centre divided by the standard deviation of the
  surgery group of the whole analysed population before matching (MatchIt's ATT
  standardisation, as the Matching page's balance table), so the centres are on one scale.
* :func:`leave_one_centre_out`: the chosen comparison re-run from the filters on with each
  centre left out in turn (the spec's ``centres`` filter): propensity model, match and Cox
  model are all refitted. A run without an estimate says why, in the words of the small-numbers
  rule (:func:`core.guards.comparison_reason`).

Examples
--------
>>> from core import cohort
>>> from core.spec import AnalysisSpec
>>> loco = leave_one_centre_out(cohort.demo(), AnalysisSpec())
>>> len(loco.table), loco.full.estimated
(8, True)
>>> loco.reading.startswith("Leaving out one centre at a time")
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import matching
from core.analysis import analysis_columns
from core.covariates import propensity_frame, term_label
from core.dictionary import Arm, C
from core.estimators import ESTIMATORS, AdjustedComparison, Context, Estimate
from core.export_notes import COMPLEMENTARY
from core.filters import apply_filters
from core.format import fmt_ci, fmt_p
from core.population import TREATED
from core.spec import AnalysisSpec

#: Columns of :attr:`CentreBalance.counts`.
COUNT_COLUMNS = ("surgery_before", "chemotherapy_before", "surgery_after", "chemotherapy_after")


@dataclass(frozen=True)
class CentreBalance:
    """Patients per arm and covariate balance within each centre.

    Attributes
    ----------
    counts : pandas.DataFrame
        One row per centre: ``centre`` and :data:`COUNT_COLUMNS` (patients; a control matched
        twice is counted once).
    smd : pandas.DataFrame
        Long: ``centre``, ``term`` (in words), ``smd_before``, ``smd_after`` (NaN where the centre
        has no patient of one arm).
    sample : str
        Which patients were counted, in words.
    reason : str
        Why there is no table ('' when there is one).
    """

    counts: pd.DataFrame
    smd: pd.DataFrame
    sample: str = ""
    reason: str = ""

    def smd_wide(self, when: str = "after") -> pd.DataFrame:
        """SMD per centre (rows) and term (columns), ``when`` = "before" or "after" matching.

        Examples
        --------
        >>> from core import cohort
        >>> b = centre_balance(cohort.demo(), AnalysisSpec())
        >>> list(b.smd_wide().index) == list(b.counts["centre"])
        True
        """
        if self.smd.empty:
            return pd.DataFrame()
        wide = self.smd.pivot(index="centre", columns="term", values=f"smd_{when}")
        return wide.reindex(index=self.counts["centre"], columns=list(dict.fromkeys(self.smd["term"])))


@dataclass(frozen=True)
class LeaveOneCentreOut:
    """The chosen comparison with each centre left out in turn.

    Attributes
    ----------
    full : Estimate
        The comparison with every centre of the selection (the headline hazard ratio).
    table : pandas.DataFrame
        One row per centre left out: ``centre``, ``left_out_surgery``, ``left_out_chemotherapy``
        (patients of that centre in the filtered cohort), ``hr``, ``lower``, ``upper``, ``p``,
        ``n_surgery``, ``n_chemotherapy``, ``events_surgery``, ``events_chemotherapy`` (of the
        comparison without the centre) and ``note`` (why there is no estimate).
    method : str
        The comparison re-run.
    reading : str
        One plain line: the range of the hazard ratios beside the full one.
    """

    full: Estimate
    table: pd.DataFrame
    method: str
    reading: str

    def forest_frame(self) -> pd.DataFrame:
        """Rows for :func:`core.figures.forest_plot` (the full-cohort HR is its ``overall`` line).

        Examples
        --------
        >>> from core import cohort
        >>> leave_one_centre_out(cohort.demo(), AnalysisSpec()).forest_frame()["label"].iloc[0]
        'Without C01'
        """
        t = self.table
        return pd.DataFrame({"label": [f"Without {c}" for c in t["centre"]], "hr": t["hr"], "lower": t["lower"],
                             "upper": t["upper"]})


def _comparison(data: pd.DataFrame, spec: AnalysisSpec) -> tuple[AdjustedComparison, AdjustedComparison]:
    """The chosen comparison of ``spec`` on filtered rows, and the one whose sample is matched (curves)."""
    ctx = Context(data, spec)
    chosen = ESTIMATORS[spec.method](ctx)
    drawn = ESTIMATORS[chosen.curves_from](ctx) if chosen.curves_from else chosen
    return chosen, drawn


def _centres(data: pd.DataFrame) -> list[str]:
    return sorted(str(c) for c in data[C.CENTRE_ID].dropna().unique())


def centre_balance(cohort, spec: AnalysisSpec) -> CentreBalance:
    """Patients per arm before/after matching and the SMD of the propensity covariates, per centre.

    Parameters
    ----------
    cohort : core.cohort.Cohort
        Validated cohort.
    spec : AnalysisSpec
        Filters and settings; the matched comparison of ``spec.method`` is described (for the
        time-dependent model: the landmark match that draws its curves).

    Returns
    -------
    CentreBalance

    Examples
    --------
    >>> from core import cohort
    >>> b = centre_balance(cohort.demo(), AnalysisSpec())
    >>> b.counts.loc[b.counts["centre"] == "C02", ["surgery_before", "chemotherapy_before"]].values.tolist()
    [[11, 11]]
    >>> int(b.counts["surgery_after"].sum()) == int(b.counts["chemotherapy_after"].sum())  # 1:1 pairs
    True
    """
    filtered = apply_filters(cohort.data, spec)
    _, drawn = _comparison(filtered.select(analysis_columns(spec)), spec)
    pop = drawn.population.data if drawn.population is not None else None
    m = drawn.match
    empty = pd.DataFrame(columns=["centre", *COUNT_COLUMNS])
    if pop is None or m is None:
        return CentreBalance(empty, pd.DataFrame(columns=["centre", "term", "smd_before", "smd_after"]),
                             reason="no propensity-matched comparison for these filters and settings")
    centre = pop[C.CENTRE_ID].astype("object").astype(str)
    treated = pop[TREATED].to_numpy(float) == 1
    matched_ids = set(m.matched.index)
    after = pop.index.isin(list(matched_ids))
    names = _centres(pop)
    counts = pd.DataFrame({
        "centre": names,
        "surgery_before": [int(((centre == c).to_numpy() & treated).sum()) for c in names],
        "chemotherapy_before": [int(((centre == c).to_numpy() & ~treated).sum()) for c in names],
        "surgery_after": [int(((centre == c).to_numpy() & treated & after).sum()) for c in names],
        "chemotherapy_after": [int(((centre == c).to_numpy() & ~treated & after).sum()) for c in names],
    })
    # SMD within each centre on the analysed rows of the match, standardised by the whole population's
    # surgery-group SD: matching.balance with the other centres' rows weighted 0.
    pf, model_names = propensity_frame(pop, spec.covariates)
    left_out = {d.covariate for d in m.dropped}
    terms = [n for n in model_names if n not in left_out]
    ok = m.distance.reindex(pf.index).notna().to_numpy()
    sub = pf.loc[ok]
    w_match = pd.Series(0.0, index=sub.index)
    w_match.loc[m.matched.index.intersection(sub.index)] = m.matched["weights"].reindex(
        m.matched.index.intersection(sub.index)).to_numpy()
    sub_centre = sub[C.CENTRE_ID].astype("object").astype(str).to_numpy()
    rows = []
    for c in names:
        here = (sub_centre == c).astype(float)
        if not here.any() or not terms:
            continue
        before = matching.balance(sub, TREATED, terms, weights=here)
        after_b = matching.balance(sub, TREATED, terms, weights=here * w_match.to_numpy())
        for term in before.index:
            rows.append((c, term_label(str(term)), float(before.loc[term, "smd"]), float(after_b.loc[term, "smd"])))
    smd = pd.DataFrame(rows, columns=["centre", "term", "smd_before", "smd_after"])
    sample = (f"{drawn.population.description.rstrip('.')}. Before: these patients; after: the matched sample "
              f"({drawn.label}).")
    return CentreBalance(counts, smd, sample)


def leave_one_centre_out(cohort, spec: AnalysisSpec) -> LeaveOneCentreOut:
    """The comparison of ``spec`` re-run with each centre of the selection left out in turn.

    Parameters
    ----------
    cohort : core.cohort.Cohort
        Validated cohort.
    spec : AnalysisSpec
        Filters and settings (``spec.method`` is the comparison re-run; ``spec.centres``, when
        set, is the selection the centres are left out of).

    Returns
    -------
    LeaveOneCentreOut

    Examples
    --------
    >>> from core import cohort
    >>> loco = leave_one_centre_out(cohort.demo(), AnalysisSpec())
    >>> [str(v) for v in loco.table.loc[0, ["centre", "left_out_surgery", "left_out_chemotherapy"]]]
    ['C01', '3', '2']
    """
    filtered = apply_filters(cohort.data, spec)
    data = filtered.select(analysis_columns(spec))
    full_cmp, _ = _comparison(data, spec)
    full = full_cmp.estimate
    names = _centres(data)
    treated = data[C.TREATMENT_GROUP].astype("object") == Arm.SURGERY
    rows = []
    for c in names:
        rest = tuple(n for n in names if n != c)
        here = data[C.CENTRE_ID].astype("object").astype(str) == c
        row = {"centre": c, "left_out_surgery": int((here & treated).sum()),
               "left_out_chemotherapy": int((here & ~treated).sum())}
        if not rest:
            est = None
            note = "the only centre of the selection: nothing is left without it"
        else:
            sub = spec.replace_(centres=rest)
            est = _comparison(apply_filters(cohort.data, sub).select(analysis_columns(sub)), sub)[0].estimate
            note = "" if est.estimated else est.reason
        counts = est.counts if est is not None else None
        row.update({"hr": est.hr if est else np.nan, "lower": est.lower if est else np.nan,
                    "upper": est.upper if est else np.nan, "p": est.p if est else np.nan,
                    "n_surgery": counts.n_surgery if counts else 0, "n_chemotherapy": counts.n_chemotherapy if counts else 0,
                    "events_surgery": counts.events_surgery if counts else 0,
                    "events_chemotherapy": counts.events_chemotherapy if counts else 0, "note": note})
        rows.append(row)
    table = pd.DataFrame(rows, columns=["centre", "left_out_surgery", "left_out_chemotherapy", "hr", "lower", "upper",
                                        "p", "n_surgery", "n_chemotherapy", "events_surgery", "events_chemotherapy",
                                        "note"])
    return LeaveOneCentreOut(full, table, full.method, _reading(full, table))


#: Columns of :attr:`LeaveOneCentreOut.table` that, beside the full comparison's counts, give the
#: matched patients and events of the centre left out away by subtraction.
COMPARED_COUNTS = ("n_surgery", "n_chemotherapy", "events_surgery", "events_chemotherapy")


def loco_table(loco: LeaveOneCentreOut, *, k: int | None = None) -> pd.DataFrame:
    """The numeric leave-one-centre-out table for export; with a small-cell threshold ``k`` the
    counts of each comparison are left out (:data:`COMPARED_COUNTS`: the full comparison's counts
    minus them would give a centre's small counts away).

    Examples
    --------
    >>> from core import cohort
    >>> loco = leave_one_centre_out(cohort.demo(), AnalysisSpec())
    >>> "n_surgery" in loco_table(loco).columns, "n_surgery" in loco_table(loco, k=11).columns
    (True, False)
    """
    return loco.table if k is None else loco.table.drop(columns=list(COMPARED_COUNTS))


def loco_display(loco: LeaveOneCentreOut, *, k: int | None = None) -> pd.DataFrame:
    """The leave-one-centre-out table as shown: counts as integer columns, HR (95% CI), p, note.

    The first row is the comparison with every centre (the pinned hazard ratio). With a
    small-cell threshold ``k`` the counts of each comparison are hidden (``*``, the complementary
    mark :data:`core.export_notes.COMPLEMENTARY`; see :func:`loco_table`); the patients of the
    centre left out stay, for the caller's suppression.

    Examples
    --------
    >>> from core import cohort
    >>> t = loco_display(leave_one_centre_out(cohort.demo(), AnalysisSpec()))
    >>> list(t.columns)[:3], t["Centre left out"].iloc[0]
    (['Centre left out', 'Operated left out', 'Chemotherapy-only left out'], 'none (every centre)')
    """
    t = loco.table
    f = loco.full
    c = f.counts
    first = {"Centre left out": "none (every centre)", "Operated left out": 0, "Chemotherapy-only left out": 0,
             "Operated compared": c.n_surgery if c else 0, "Chemotherapy-only compared": c.n_chemotherapy if c else 0,
             "Events, operated": c.events_surgery if c else 0, "Events, chemotherapy-only": c.events_chemotherapy if c else 0,
             "HR (95% CI)": fmt_ci(f.hr, f.lower, f.upper) if f.estimated else "", "p": fmt_p(f.p) if f.estimated else "",
             "Note": "" if f.estimated else f.reason}
    rows = [first] + [{
        "Centre left out": r["centre"], "Operated left out": r["left_out_surgery"],
        "Chemotherapy-only left out": r["left_out_chemotherapy"], "Operated compared": r["n_surgery"],
        "Chemotherapy-only compared": r["n_chemotherapy"], "Events, operated": r["events_surgery"],
        "Events, chemotherapy-only": r["events_chemotherapy"],
        "HR (95% CI)": fmt_ci(r["hr"], r["lower"], r["upper"]) if np.isfinite(r["hr"]) else "",
        "p": fmt_p(r["p"]) if np.isfinite(r["hr"]) else "", "Note": r["note"]} for _, r in t.iterrows()]
    out = pd.DataFrame(rows)
    counts = [c for c in out.columns if "left out" in c and c != "Centre left out" or "compared" in c or "Events" in c]
    out = out.astype({c: "int64" for c in counts})
    if k is not None:
        for c in ("Operated compared", "Chemotherapy-only compared", "Events, operated", "Events, chemotherapy-only"):
            out[c] = COMPLEMENTARY
    return out


def counts_display(balance: CentreBalance) -> pd.DataFrame:
    """Patients per arm and centre, before and after matching, with readable headers (integer columns).

    Examples
    --------
    >>> from core import cohort
    >>> list(counts_display(centre_balance(cohort.demo(), AnalysisSpec())).columns)[:2]
    ['Centre', 'Operated, before matching']
    """
    words = {"centre": "Centre", "surgery_before": "Operated, before matching",
             "chemotherapy_before": "Chemotherapy-only, before matching", "surgery_after": "Operated, matched",
             "chemotherapy_after": "Chemotherapy-only, matched"}
    return balance.counts.rename(columns=words)


def _reading(full: Estimate, table: pd.DataFrame) -> str:
    """The leave-one-centre-out result in one plain line."""
    hr = table["hr"].dropna()
    if len(table) < 2:
        return "Leaving out one centre needs at least two centres in the selection."
    head = f"Leaving out one centre at a time ({len(table)} centres)"
    if hr.empty:
        return head + ", no comparison keeps enough patients and events for a hazard ratio."
    lo, hi = table.loc[hr.idxmin()], table.loc[hr.idxmax()]
    text = (f"{head}, the hazard ratio ranged from {lo['hr']:.2f} (without {lo['centre']}) to {hi['hr']:.2f} "
            f"(without {hi['centre']})")
    text += f"; with every centre it is {full.hr:.2f}." if full.estimated else "; with every centre there is none."
    missing = len(table) - len(hr)
    if missing:
        text += f" {missing} run{'s' if missing != 1 else ''} without a hazard ratio (see the table)."
    if full.estimated and ((hr < 1).all() or (hr > 1).all()) and ((hr < 1).all() == (full.hr < 1)):
        text += " No single centre changes the direction of the result."
    elif full.estimated:
        text += " Leaving out a single centre can change the direction of the result."
    return text


__all__ = ["CentreBalance", "LeaveOneCentreOut", "centre_balance", "leave_one_centre_out", "loco_display", "loco_table",
           "counts_display", "COUNT_COLUMNS"]
