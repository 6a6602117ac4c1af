"""Plotly figures. Colours are colour-blind safe (Okabe-Ito) and fixed per arm on every page.

Examples
--------
>>> import pandas as pd
>>> from core.dictionary import C, Arm
>>> df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY, Arm.CHEMOTHERAPY], C.CENTRE_ID: ["A", "A"]})
>>> fig = patients_by_centre(df)
>>> [t.name for t in fig.data]
['Surgery', 'Chemotherapy']
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from core.dictionary import Arm, C
from core.spec import ENDPOINT_NAMES

#: Okabe-Ito colours: one per arm, the same on every page and in every export.
ARM_COLOURS: dict[str, str] = {Arm.SURGERY: "#0072B2", Arm.CHEMOTHERAPY: "#E69F00"}
ARM_LABELS: dict[str, str] = {Arm.SURGERY: "Surgery", Arm.CHEMOTHERAPY: "Chemotherapy"}


def arm_label(result, arm: str) -> str:
    """How ``arm`` is named in ``result`` (its estimand's words, e.g. "Operated by 6 months"), else the arm label.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> arm_label(SimpleNamespace(arm_labels={"surgery": "Operated by 6 months"}), "surgery")
    'Operated by 6 months'
    >>> arm_label(SimpleNamespace(), "chemotherapy")
    'Chemotherapy'
    """
    return (getattr(result, "arm_labels", None) or {}).get(arm, ARM_LABELS.get(arm, arm))
NEUTRAL = "#6B7280"
FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 380, large: bool = False) -> go.Figure:
    """Apply the house style (white background, light grid, readable fonts).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        Figure to style in place.
    title : str, optional
        Figure title.
    height : int
        Height in pixels.
    large : bool
        Presentation mode: larger fonts.

    Returns
    -------
    plotly.graph_objects.Figure
        The same figure.
    """
    size = 20 if large else 14
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0, "xanchor": "left"} if title else None,
        height=height,
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 50},
        font={"family": FONT, "size": size, "color": "#1B1F24"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hoverlabel={"font_size": size},
    )
    return fig


def patients_by_centre(data: pd.DataFrame, *, large: bool = False) -> go.Figure:
    """Stacked bar chart of patients per centre and arm.

    Parameters
    ----------
    data : pandas.DataFrame
        Cohort table with treatment group and centre columns.
    large : bool
        Presentation mode.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    counts = (
        data.groupby([C.CENTRE_ID, C.TREATMENT_GROUP], observed=True).size().unstack(fill_value=0)
        .reindex(columns=list(Arm.ALL), fill_value=0)
        .sort_index()
    )
    fig = go.Figure()
    for arm in Arm.ALL:
        fig.add_bar(
            x=counts.index.astype(str), y=counts[arm], name=ARM_LABELS[arm], marker_color=ARM_COLOURS[arm],
            hovertemplate="Centre %{x}<br>%{y} patients<extra>" + ARM_LABELS[arm] + "</extra>",
        )
    fig.update_layout(barmode="stack", xaxis_title="Centre", yaxis_title="Patients")
    return base_layout(fig, height=320, large=large)


def _step_xy(km: pd.DataFrame, column: str) -> tuple[list[float], list[float]]:
    """Step-function coordinates starting at (0, 1)."""
    x = [0.0] + km["time"].astype(float).tolist()
    y = [1.0] + km[column].astype(float).tolist()
    return x, y


def km_figure(
    curves: dict[str, pd.DataFrame],
    risk_table: pd.DataFrame | None = None,
    *,
    medians: dict[str, float] | None = None,
    min_at_risk: int = 1,
    show_ci: bool = True,
    x_title: str = "Months",
    y_title: str = "Overall survival",
    labels: dict[str, str] | None = None,
    colours: dict[str, str] | None = None,
    large: bool = False,
    height: int = 560,
) -> go.Figure:
    """Kaplan-Meier curves with censor marks, CI bands, median lines and a number-at-risk table.

    Parameters
    ----------
    curves : dict of str to pandas.DataFrame
        Per arm (or group) the output of :func:`core.survival.kaplan_meier`
        (``time, n_risk, n_event, n_censor, survival, lower, upper``).
    risk_table : pandas.DataFrame, optional
        Numbers at risk: one row per key of ``curves``, one column per tick time (patients
        with time >= t, R's counting). Its columns become the x-axis ticks, so the table is
        aligned with them.
    medians : dict of str to float, optional
        Median survival per curve (NaN when not reached): drawn as dashed guide lines.
    min_at_risk : int
        A curve stops after the last time with at least this many patients at risk.
    show_ci : bool
        Draw the confidence bands.
    x_title, y_title : str
        Axis titles.
    labels, colours : dict, optional
        Display name and colour per key; default to the arm labels and colours.
    large : bool
        Presentation mode: thicker lines and larger fonts.
    height : int
        Figure height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> km = pd.DataFrame({"time": [1.0, 2.0], "n_risk": [2, 1], "n_event": [1, 0], "n_censor": [0, 1],
    ...                    "survival": [0.5, 0.5], "lower": [0.1, 0.1], "upper": [0.9, 0.9]})
    >>> fig = km_figure({"surgery": km}, show_ci=False)
    >>> fig.data[0].line.shape
    'hv'
    """
    from plotly.subplots import make_subplots

    labels = {**ARM_LABELS, **(labels or {})}
    colours = {**ARM_COLOURS, **(colours or {})}
    palette = ["#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
    has_table = risk_table is not None and len(risk_table.columns) > 0
    rows = 2 if has_table else 1
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.10 if has_table else 0.02,
        row_heights=[0.76, 0.24] if has_table else [1.0],
    )
    width = 4.5 if large else 2.5
    x_max = 0.0
    # Traces and axis settings are collected first and added in one validated step each
    # (plotly re-validates the whole figure on every add_scatter/update_*axes call).
    traces: list[dict] = []
    rows_of: list[int] = []

    def add(row: int, **trace) -> None:
        traces.append({"type": "scatter", **trace})
        rows_of.append(row)

    # one colour per group, fixed by its place among all the groups: a curve not drawn (too few at
    # risk) never shifts the colours of the others, and its risk-table row keeps the same colour
    groups = list(dict.fromkeys([*curves, *(risk_table.index if has_table else [])]))
    colour_of = {key: colours.get(key, palette[i % len(palette)]) for i, key in enumerate(groups)}
    for key, km in curves.items():
        colour = colour_of[key]
        name = labels.get(key, str(key))
        shown = km[km["n_risk"] >= min_at_risk] if len(km) else km
        if shown.empty:
            continue
        x, y = _step_xy(shown, "survival")
        x_max = max(x_max, x[-1])
        if show_ci:
            xl, lo = _step_xy(shown, "lower")
            _, up = _step_xy(shown, "upper")
            add(1, x=xl, y=up, mode="lines", line={"width": 0, "shape": "hv"}, hoverinfo="skip",
                showlegend=False, legendgroup=name)
            add(1, x=xl, y=lo, mode="lines", line={"width": 0, "shape": "hv"}, fill="tonexty",
                fillcolor=_rgba(colour, 0.15), hoverinfo="skip", showlegend=False, legendgroup=name)
        custom = [[1.0, 1.0, int(shown["n_risk"].iloc[0])]] + shown[["lower", "upper", "n_risk"]].to_numpy().tolist()
        add(1, x=x, y=y, mode="lines", name=name, legendgroup=name, line={"color": colour, "width": width, "shape": "hv"},
            customdata=custom,
            hovertemplate=(f"<b>{name}</b><br>%{{x:.1f}} months<br>Survival %{{y:.1%}} "
                           "(95% CI %{customdata[0]:.1%}-%{customdata[1]:.1%})<br>At risk %{customdata[2]}<extra></extra>"))
        censored = shown[shown["n_censor"] > 0]
        if len(censored):
            add(1, x=censored["time"].to_numpy(), y=censored["survival"].to_numpy(), mode="markers",
                name=f"{name} censored", legendgroup=name, showlegend=False,
                marker={"symbol": "line-ns-open", "size": 12 if large else 9, "color": colour, "line": {"width": 2}},
                hovertemplate=f"{name}: censored at %{{x:.1f}} months<extra></extra>")
        med = (medians or {}).get(key)
        if med is not None and med == med:
            add(1, x=[0, med, med], y=[0.5, 0.5, 0], mode="lines", showlegend=False, hoverinfo="skip",
                line={"color": colour, "width": 1.2, "dash": "dash"})
    axes: dict[str, dict] = {"yaxis": {"title": {"text": y_title}, "range": [0, 1.03], "tickformat": ".0%"}}
    if has_table:
        ticks = [float(t) for t in risk_table.columns]
        keys = [k for k in risk_table.index if k in curves] or list(risk_table.index)
        for key in keys:
            colour = colour_of[key]
            add(2, x=ticks, y=[labels.get(key, str(key))] * len(ticks), mode="text",
                text=[str(v) for v in risk_table.loc[key].tolist()], textfont={"color": colour, "size": 18 if large else 13},
                showlegend=False, hoverinfo="skip")
        # categories top-down, with half a row of room above the first (its numbers are never clipped)
        axes["yaxis2"] = {"range": [len(keys) - 0.5, -0.6], "showgrid": False, "zeroline": False,
                          "title": {"text": "At risk"}, "tickfont": {"size": 16 if large else 12}}
        axes["xaxis2"] = {"showgrid": False, "zeroline": False, "showticklabels": True, "tickvals": ticks,
                          "title": {"text": x_title}}
        axes["xaxis"] = {"tickvals": ticks}
        x_max = max(x_max, max(ticks) if ticks else 0)
    else:
        axes["xaxis"] = {"title": {"text": x_title}}
    if traces:
        fig.add_traces(traces, rows=rows_of, cols=[1] * len(traces))
    pad = max(x_max * 0.035, 0.5)
    for name in ("xaxis", "xaxis2") if has_table else ("xaxis",):
        axes[name] = {**axes.get(name, {}), "range": [-pad, x_max + pad]}
    fig.update_layout(axes)
    return base_layout(fig, height=height, large=large)


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def love_plot(balance: pd.DataFrame, *, threshold: float = 0.1, large: bool = False) -> go.Figure:
    """Love plot: absolute standardised mean difference per covariate, before and after matching.

    Parameters
    ----------
    balance : pandas.DataFrame
        Output of :func:`core.matching.balance_table` (``smd_before``, ``smd_after``; the index
        names the covariate or level).
    threshold : float
        Dashed reference line (the usual 0.1).
    large : bool
        Presentation mode.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> b = pd.DataFrame({"smd_before": [0.5, -0.2], "smd_after": [0.05, 0.01]}, index=["age", "ecog"])
    >>> [t.name for t in love_plot(b).data]
    ['Before matching', 'After matching']
    """
    names = [str(i) for i in balance.index]
    before = balance["smd_before"].abs().to_numpy()
    after = balance["smd_after"].abs().to_numpy()
    order = list(range(len(names)))[::-1]
    size = 14 if large else 10
    fig = go.Figure()
    fig.add_scatter(x=before[order], y=[names[i] for i in order], mode="markers", name="Before matching",
                    marker={"symbol": "circle-open", "size": size, "color": NEUTRAL, "line": {"width": 2}},
                    hovertemplate="%{y}: |SMD| %{x:.3f} before<extra></extra>")
    fig.add_scatter(x=after[order], y=[names[i] for i in order], mode="markers", name="After matching",
                    marker={"symbol": "circle", "size": size, "color": ARM_COLOURS[Arm.SURGERY]},
                    hovertemplate="%{y}: |SMD| %{x:.3f} after<extra></extra>")
    fig.add_vline(x=threshold, line_dash="dash", line_color="#B91C1C", annotation_text=f"{threshold:g}",
                  annotation_position="bottom right")
    fig.update_xaxes(title_text="Absolute standardised mean difference", rangemode="tozero")
    return base_layout(fig, height=max(320, 28 * len(names) + 120), large=large)


def overlap_plot(scores: pd.DataFrame, *, large: bool = False) -> go.Figure:
    """Distribution of the propensity score (logit) per arm, before and after matching.

    Parameters
    ----------
    scores : pandas.DataFrame
        Columns ``distance`` (logit), ``treated`` (0/1) and ``matched`` (bool).
    large : bool
        Presentation mode.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> s = pd.DataFrame({"distance": [0.1, -0.3, 0.2], "treated": [1, 0, 0], "matched": [True, True, False]})
    >>> len(overlap_plot(s).data)
    4
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=("All patients", "Matched"),
                        horizontal_spacing=0.06)
    lo, hi = float(scores["distance"].min()), float(scores["distance"].max())
    bins = {"start": lo, "end": hi + 1e-9, "size": max((hi - lo) / 25, 1e-6)}
    for col, subset in ((1, scores), (2, scores[scores["matched"]])):
        for treated, arm in ((1, Arm.SURGERY), (0, Arm.CHEMOTHERAPY)):
            part = subset[subset["treated"] == treated]
            fig.add_histogram(x=part["distance"], name=ARM_LABELS[arm], marker_color=ARM_COLOURS[arm], opacity=0.6,
                              xbins=bins, legendgroup=arm, showlegend=col == 1,
                              hovertemplate=f"{ARM_LABELS[arm]}<br>logit %{{x}}<br>%{{y}} patients<extra></extra>",
                              row=1, col=col)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="Propensity score (logit)")
    fig.update_yaxes(title_text="Patients", row=1, col=1)
    base_layout(fig, height=380, large=large)
    fig.update_layout(legend={"y": 1.12}, margin={"t": 80})
    return fig


def forest_plot(table: pd.DataFrame, *, overall: float | None = None, x_title: str = "Hazard ratio (95% CI)",
                large: bool = False) -> go.Figure:
    """Forest plot of hazard ratios on a log axis.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``label``, ``hr``, ``lower``, ``upper`` and optionally ``n``, ``events`` and
        ``header`` (True: a heading row naming the rows below it, no marker, no "no estimate");
        other rows with a missing HR are listed without a marker.
    overall : float, optional
        Overall HR, drawn as a dashed vertical line.
    x_title : str
        Axis title.
    large : bool
        Presentation mode.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["A", "B"], "hr": [0.7, 1.2], "lower": [0.5, 0.8], "upper": [0.9, 1.8]})
    >>> forest_plot(t, overall=0.8).layout.xaxis.type
    'log'
    """
    labels = table["label"].astype(str).tolist()[::-1]
    t = table.iloc[::-1]
    ok = t["hr"].notna() & (t["hr"] > 0) & t["lower"].notna() & t["upper"].notna()
    hover = [
        f"{lab}: HR {h:.2f} ({lo:.2f}-{up:.2f})" + (f"<br>{int(n)} patients, {int(e)} events" if "n" in t and n == n else "")
        for lab, h, lo, up, n, e in zip(
            labels, t["hr"], t["lower"], t["upper"], t.get("n", pd.Series([float("nan")] * len(t))),
            t.get("events", pd.Series([float("nan")] * len(t))), strict=False,
        )
    ]
    fig = go.Figure()
    fig.add_scatter(
        x=t.loc[ok, "hr"], y=[lab for lab, k in zip(labels, ok, strict=False) if k], mode="markers",
        marker={"symbol": "square", "size": 14 if large else 10, "color": ARM_COLOURS[Arm.SURGERY]},
        error_x={"type": "data", "symmetric": False, "array": (t.loc[ok, "upper"] - t.loc[ok, "hr"]).tolist(),
                 "arrayminus": (t.loc[ok, "hr"] - t.loc[ok, "lower"]).tolist(), "thickness": 2.5 if large else 1.6,
                 "color": ARM_COLOURS[Arm.SURGERY]},
        text=[h for h, k in zip(hover, ok, strict=False) if k], hovertemplate="%{text}<extra></extra>", showlegend=False,
    )
    fig.add_scatter(x=[None] * len(labels), y=labels, mode="markers", showlegend=False, hoverinfo="skip")
    fig.add_vline(x=1.0, line_color="#1B1F24", line_width=1)
    if overall is not None and overall == overall:
        fig.add_vline(x=overall, line_dash="dash", line_color=NEUTRAL,
                      annotation_text=f"overall {overall:.2f}", annotation_position="top")
    header = t["header"].fillna(False).astype(bool).tolist() if "header" in t else [False] * len(t)
    missing = [lab for lab, k, h in zip(labels, ok, header, strict=False) if not k and not h]
    if missing:
        fig.add_scatter(x=[1.0] * len(missing), y=missing, mode="text", text=["no estimate"] * len(missing),
                        textposition="middle right", textfont={"color": NEUTRAL, "size": 12 if not large else 16},
                        showlegend=False, hoverinfo="skip")
    finite = pd.concat([t.loc[ok, "lower"], t.loc[ok, "upper"], pd.Series([1.0])])
    lo, hi = float(finite.min()), float(finite.max())
    ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo / 2 <= v <= hi * 2]
    fig.update_xaxes(type="log", title_text=x_title, tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    fig.update_yaxes(categoryorder="array", categoryarray=labels)
    return base_layout(fig, height=max(300, (34 if large else 28) * len(labels) + 120), large=large)


def flow_figure(flow: pd.DataFrame, *, large: bool = False) -> go.Figure:
    """Flow diagram of patient numbers per arm, one box per step, top to bottom.

    Parameters
    ----------
    flow : pandas.DataFrame
        Columns ``step``, ``surgery``, ``chemotherapy`` (as ``AnalysisResult.flow``).
    large : bool
        Presentation mode.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> f = pd.DataFrame({"step": ["Cohort", "Matched"], "surgery": [45, 30], "chemotherapy": [45, 30]})
    >>> [a.text for a in flow_figure(f).layout.annotations if a.text and a.text.startswith("<b>4")]
    ['<b>45</b>', '<b>45</b>']
    """
    n = len(flow)
    size = 17 if large else 13
    shapes: list[dict] = []
    annotations: list[dict] = []
    for i, row in enumerate(flow.itertuples(index=False)):
        y = n - 1 - i
        shapes.append({"type": "rect", "x0": 0.0, "x1": 0.36, "y0": y - 0.36, "y1": y + 0.36,
                       "line": {"color": "#CBD5E1"}, "fillcolor": "#F8FAFC"})
        annotations.append({"x": 0.18, "y": y, "text": _wrap(str(row.step), 24), "showarrow": False,
                            "font": {"size": size - 1}})
        for x, arm, value in ((0.52, Arm.SURGERY, row.surgery), (0.82, Arm.CHEMOTHERAPY, row.chemotherapy)):
            shapes.append({"type": "rect", "x0": x - 0.11, "x1": x + 0.11, "y0": y - 0.36, "y1": y + 0.36,
                           "line": {"color": ARM_COLOURS[arm], "width": 2}, "fillcolor": _rgba(ARM_COLOURS[arm], 0.08)})
            text = str(int(value)) if isinstance(value, int | float) and value == value else str(value)
            annotations.append({"x": x, "y": y, "text": f"<b>{text.replace('<', '&lt;')}</b>", "showarrow": False,
                                "font": {"size": size + 3, "color": ARM_COLOURS[arm]}})
            if i > 0:
                annotations.append({"x": x, "y": y + 0.37, "ax": x, "ay": y + 0.63, "xref": "x", "yref": "y",
                                    "axref": "x", "ayref": "y", "showarrow": True, "arrowhead": 2,
                                    "arrowcolor": "#94A3B8", "text": ""})
    for x, arm in ((0.52, Arm.SURGERY), (0.82, Arm.CHEMOTHERAPY)):
        annotations.append({"x": x, "y": n - 0.45, "text": f"<b>{ARM_LABELS[arm]}</b>", "showarrow": False,
                            "yanchor": "bottom", "font": {"size": size, "color": ARM_COLOURS[arm]}})
    # One validated construction instead of one per shape/annotation (add_* re-validates each time).
    fig = go.Figure(layout={"shapes": shapes, "annotations": annotations,
                            "xaxis": {"visible": False, "range": [-0.01, 0.95]},
                            "yaxis": {"visible": False, "range": [-0.5, n]}})
    base_layout(fig, height=90 * n + 60, large=large)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False)
    return fig


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(lines)


def matched_km_figure(result, *, risk_table: pd.DataFrame | None = None, **kwargs) -> go.Figure:
    """The matched comparison's KM figure of an :class:`core.analysis.AnalysisResult` (curves per arm,
    medians, at-risk cut-off and time axis of the result's spec).

    Parameters
    ----------
    result : core.analysis.AnalysisResult
        Analysis with curves.
    risk_table : pandas.DataFrame, optional
        Number-at-risk table to show (default ``result.risk_table``; pass a suppressed copy to hide
        small counts).
    **kwargs
        Passed on to :func:`km_figure` (``show_ci``, ``large``, ``height``...).

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> fig = matched_km_figure(analysis.run(cohort.demo(), AnalysisSpec()))
    >>> fig.data[2].name   # the landmark's arms: operated by the landmark or not
    'Operated by 6 months'
    """
    return km_figure(
        {c.arm: c.km for c in result.curves}, result.risk_table if risk_table is None else risk_table,
        medians={c.arm: c.median for c in result.curves}, min_at_risk=result.spec.min_at_risk,
        x_title=result.time_label,
        **{"y_title": ENDPOINT_NAMES[result.spec.endpoint], "labels": getattr(result, "arm_labels", None), **kwargs},
    )


def zph_figure(plot, *, large: bool = False) -> go.Figure:
    """Scaled Schoenfeld residuals of one term against time, as R's ``plot(cox.zph(fit)[term])``.

    Parameters
    ----------
    plot : core.ph.ZphPlotData
        From :func:`core.ph.zph_plot_data`.
    large : bool
        Presentation mode.

    Examples
    --------
    >>> from core import analysis, cohort, checks
    >>> from core.spec import AnalysisSpec
    >>> c = checks.reviewer_checks(analysis.run(cohort.demo(), AnalysisSpec()))
    >>> [t.name for t in zph_figure(c.ph_plot).data][:2]
    ['Scaled Schoenfeld residual', 'Smooth (natural spline)']
    """
    fig = go.Figure()
    pts = plot.points
    fig.add_trace(go.Scatter(x=pts["x"], y=pts["residual"], mode="markers", name="Scaled Schoenfeld residual",
                             marker={"color": NEUTRAL, "size": 7 if large else 5, "opacity": 0.7},
                             customdata=pts[["time"]].to_numpy(),
                             hovertemplate="%{customdata[0]:.1f} months<br>residual %{y:.2f}<extra></extra>"))
    if len(plot.table):
        t = plot.table
        fig.add_trace(go.Scatter(x=t["x"], y=t["fit"], mode="lines", name="Smooth (natural spline)",
                                 line={"color": ARM_COLOURS[Arm.SURGERY], "width": 3 if large else 2}))
        for col in ("lower", "upper"):
            fig.add_trace(go.Scatter(x=t["x"], y=t[col], mode="lines", showlegend=col == "lower",
                                     name="± 2 standard errors", hoverinfo="skip",
                                     line={"color": ARM_COLOURS[Arm.SURGERY], "width": 1, "dash": "dash"}))
    fig.add_hline(y=plot.centre, line={"color": "#1B1F24", "width": 1, "dash": "dot"},
                  annotation_text="constant effect (the model's log HR)", annotation_position="top left")
    xaxis: dict = {"title": {"text": "Time (Kaplan-Meier scale; labels in months)"}}
    if len(plot.ticks):
        xaxis |= {"tickvals": plot.ticks.iloc[:, 0].tolist(), "ticktext": [str(v) for v in plot.ticks.iloc[:, 1]]}
    fig.update_layout(xaxis=xaxis, yaxis={"title": {"text": "Beta(t) for surgery"}})
    return base_layout(fig, height=420 if not large else 520, large=large)


#: Okabe-Ito vermillion: the pre-specified primary analysis on the specification curve.
PRIMARY_COLOUR = "#D55E00"


def speccurve_figure(table: pd.DataFrame, *, dimensions: tuple[str, ...], median: float | None = None,
                     large: bool = False) -> go.Figure:
    """Specification curve: hazard ratios sorted with their 95% CIs, and below, the choices of each one.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`core.speccurve.SpecCurve.table`: one row per specification, sorted, with ``HR``,
        ``lower``, ``upper``, ``estimable``, ``primary``, ``current``, one column per dimension and
        optionally ``grid_index`` (the order in which the choices are listed).
    dimensions : tuple of str
        The choice columns (:data:`core.speccurve.DIMENSIONS`), drawn as the indicator panel;
        a choice written "not used" gets no dot.
    median : float, optional
        Median hazard ratio, drawn as a dashed line.
    large : bool
        Presentation mode.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> t = pd.DataFrame({"HR": [0.5, 0.8, float("nan")], "lower": [0.3, 0.5, float("nan")],
    ...                   "upper": [0.9, 1.3, float("nan")], "estimable": [True, True, False],
    ...                   "primary": [False, True, False], "current": [True, False, False],
    ...                   "Caliper": ["none", "0.2 SD", "none"]})
    >>> fig = speccurve_figure(t, dimensions=("Caliper",), median=0.65)
    >>> [tr.name for tr in fig.data if tr.name]
    ['Specification', 'Primary analysis', 'This view']
    >>> fig.layout.yaxis.type
    'log'
    """
    from plotly.subplots import make_subplots

    n = len(table)
    x = list(range(1, n + 1))
    t = table.assign(x=x)
    ok = t["estimable"].astype(bool) & t["HR"].gt(0) & t["lower"].gt(0) & t["upper"].notna()
    in_order = t.sort_values("grid_index", kind="stable") if "grid_index" in t else t  # choices in the grid's order
    labels: list[str] = []
    for d in dimensions:
        labels += [f"{d}: {v}" for v in dict.fromkeys(in_order[d]) if v != "not used"]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        row_heights=[0.5, 0.5])
    size = 11 if large else 7
    groups = (("Specification", ~t["primary"] & ~t["current"], ARM_COLOURS[Arm.SURGERY], "circle"),
              ("Primary analysis", t["primary"], PRIMARY_COLOUR, "diamond"),
              ("This view", t["current"] & ~t["primary"], "#1B1F24", "circle-open"))
    for name, mask, colour, symbol in groups:
        part = t[mask & ok]
        fig.add_trace(go.Scatter(
            x=part["x"], y=part["HR"], mode="markers", name=name, legendgroup=name,
            marker={"color": colour, "symbol": symbol, "size": size + (4 if name != "Specification" else 0),
                    "line": {"width": 2, "color": colour}},
            error_y={"type": "data", "symmetric": False, "array": (part["upper"] - part["HR"]).tolist(),
                     "arrayminus": (part["HR"] - part["lower"]).tolist(), "color": colour,
                     "thickness": 1.5 if large else 1, "width": 0},
            hovertemplate="HR %{y:.2f}<extra>" + name + "</extra>"), row=1, col=1)
        for d in dimensions:
            rows = t[mask & t[d].ne("not used")]
            fig.add_trace(go.Scatter(
                x=rows["x"], y=[f"{d}: {v}" for v in rows[d]], mode="markers", showlegend=False, legendgroup=name,
                marker={"color": colour, "symbol": "square" if name != "Specification" else "circle",
                        "size": size - 1}, hoverinfo="skip"), row=2, col=1)
    fig.add_hline(y=1.0, line={"color": "#1B1F24", "width": 1}, row=1, col=1)
    if median is not None and median > 0:
        fig.add_hline(y=median, line={"color": NEUTRAL, "width": 1, "dash": "dash"}, row=1, col=1)
        fig.add_annotation(x=0.5, y=math.log10(median), xref="x", yref="y", text=f"median {median:.2f}",
                           showarrow=False, xanchor="left", yanchor="bottom", font={"color": NEUTRAL})
    missing = t.loc[~ok, "x"]
    if len(missing):
        fig.add_vrect(x0=float(missing.min()) - 0.5, x1=float(missing.max()) + 0.5, fillcolor=NEUTRAL, opacity=0.08,
                      line_width=0, row=1, col=1, annotation_text="no estimate", annotation_position="bottom")
    finite = pd.concat([t.loc[ok, "lower"], t.loc[ok, "upper"], pd.Series([1.0])])
    lo, hi = float(finite.min()), float(finite.max())
    ticks = [v for v in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20) if lo / 1.5 <= v <= hi * 1.5]
    fig.update_yaxes(type="log", title_text="Hazard ratio (95% CI)", tickvals=ticks,
                     ticktext=[f"{v:g}" for v in ticks], row=1, col=1)
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], tickmode="array", tickvals=labels,
                     ticktext=labels, row=2, col=1, showgrid=True)
    fig.update_xaxes(title_text="Specifications, sorted by hazard ratio", row=2, col=1, range=[0.3, n + 0.7])
    return base_layout(fig, height=(900 if large else 720) + (28 if large else 20) * max(len(labels) - 14, 0),
                       large=large)


def ccw_figure(km: pd.DataFrame, labels: dict[str, str], *, grace: float, y_title: str = "Overall survival",
               x_title: str = "Months since time zero", large: bool = False, height: int = 480) -> go.Figure:
    """Weighted Kaplan-Meier curves of the two strategies of a clone-censor-weight comparison.

    Parameters
    ----------
    km : pandas.DataFrame
        ``CcwResult.km``: ``strategy``, ``time``, ``survival`` (one row per event time).
    labels : dict of str to str
        Display name per strategy key (``CcwResult.labels``).
    grace : float
        The grace period, marked by a dotted vertical line.
    y_title, x_title : str
        Axis titles.
    large : bool
        Presentation mode.
    height : int
        Height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> km = pd.DataFrame({"strategy": ["resect", "no_resect"], "time": [3.0, 2.0], "survival": [0.9, 0.8]})
    >>> fig = ccw_figure(km, {"resect": "Resect within 9 months", "no_resect": "Do not resect"}, grace=9.0)
    >>> [t.name for t in fig.data]
    ['Resect within 9 months', 'Do not resect']
    """
    colours = {"resect": ARM_COLOURS[Arm.SURGERY], "no_resect": ARM_COLOURS[Arm.CHEMOTHERAPY]}
    fig = go.Figure()
    for key, name in labels.items():
        part = km[km["strategy"] == key]
        x, y = _step_xy(part, "survival")
        fig.add_scatter(x=x, y=y, mode="lines", name=name, line={"color": colours.get(key, NEUTRAL),
                                                                  "width": 4.5 if large else 2.5, "shape": "hv"},
                        hovertemplate=f"<b>{name}</b><br>%{{x:.1f}} months<br>Survival %{{y:.1%}}<extra></extra>")
    fig.add_vline(x=grace, line={"color": NEUTRAL, "dash": "dot", "width": 1.5},
                  annotation_text=f"grace period ends ({grace:g} months)", annotation_position="top right")
    fig.update_layout(yaxis={"title": {"text": y_title}, "range": [0, 1.03], "tickformat": ".0%"},
                      xaxis={"title": {"text": x_title}, "rangemode": "tozero"})
    return base_layout(fig, height=height, large=large)
