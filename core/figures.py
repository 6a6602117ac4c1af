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

import pandas as pd
import plotly.graph_objects as go

from core.dictionary import Arm, C

#: Okabe-Ito colours: one per arm, the same on every page and in every export.
ARM_COLOURS: dict[str, str] = {Arm.SURGERY: "#0072B2", Arm.CHEMOTHERAPY: "#E69F00"}
ARM_LABELS: dict[str, str] = {Arm.SURGERY: "Surgery", Arm.CHEMOTHERAPY: "Chemotherapy"}
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
