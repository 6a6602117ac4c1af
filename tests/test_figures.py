"""Tests of core.figures on hand-made inputs (what must be drawn, read back from the figure)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.dictionary import Arm, C
from core.figures import (
    ARM_COLOURS,
    ARM_LABELS,
    flow_figure,
    forest_plot,
    km_figure,
    love_plot,
    overlap_plot,
    patients_by_centre,
)


def km_frame() -> pd.DataFrame:
    """KM table of times 2, 3, 5+, 7, 8+ (5 patients) worked out by hand."""
    return pd.DataFrame({
        "time": [2.0, 3.0, 5.0, 7.0, 8.0],
        "n_risk": [5, 4, 3, 2, 1],
        "n_event": [1, 1, 0, 1, 0],
        "n_censor": [0, 0, 1, 0, 1],
        "survival": [0.8, 0.6, 0.6, 0.3, 0.3],
        "lower": [0.2, 0.15, 0.15, 0.05, 0.05],
        "upper": [0.97, 0.9, 0.9, 0.7, 0.7],
    })


def _main_line(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_km_step_shape_and_start():
    fig = km_figure({Arm.SURGERY: km_frame()}, show_ci=False)
    line = _main_line(fig, "Surgery")
    assert line.line.shape == "hv"
    assert (line.x[0], line.y[0]) == (0.0, 1.0)
    assert list(line.x) == [0.0, 2.0, 3.0, 5.0, 7.0, 8.0]
    assert list(line.y) == [1.0, 0.8, 0.6, 0.6, 0.3, 0.3]
    assert line.line.color == ARM_COLOURS[Arm.SURGERY]


def test_km_curve_truncated_below_min_at_risk():
    fig = km_figure({Arm.SURGERY: km_frame()}, min_at_risk=3, show_ci=True)
    line = _main_line(fig, "Surgery")
    # rows with fewer than 3 at risk (times 7 and 8) are not drawn
    assert list(line.x) == [0.0, 2.0, 3.0, 5.0]
    bands = [t for t in fig.data if t.fill == "tonexty" or (t.line is not None and t.line.width == 0)]
    assert bands and all(max(t.x) <= 5.0 for t in bands)
    censor = next(t for t in fig.data if t.name == "Surgery censored")
    assert list(censor.x) == [5.0]


def test_km_censor_marks_at_censor_times():
    fig = km_figure({Arm.SURGERY: km_frame()}, show_ci=False)
    censor = next(t for t in fig.data if t.name == "Surgery censored")
    assert list(censor.x) == [5.0, 8.0] and list(censor.y) == [0.6, 0.3]
    assert censor.mode == "markers"


def test_km_ci_bands_follow_the_limits():
    fig = km_figure({Arm.SURGERY: km_frame()})
    lower = next(t for t in fig.data if t.fill == "tonexty")
    assert list(lower.y) == [1.0, 0.2, 0.15, 0.15, 0.05, 0.05]
    assert lower.line.shape == "hv"


def test_km_medians_drawn_and_not_reached_skipped():
    fig = km_figure({Arm.SURGERY: km_frame(), Arm.CHEMOTHERAPY: km_frame()},
                    medians={Arm.SURGERY: 7.0, Arm.CHEMOTHERAPY: float("nan")}, show_ci=False)
    dashed = [t for t in fig.data if t.line is not None and t.line.dash == "dash"]
    assert len(dashed) == 1
    assert list(dashed[0].x) == [0, 7.0, 7.0] and list(dashed[0].y) == [0.5, 0.5, 0]
    assert dashed[0].line.color == ARM_COLOURS[Arm.SURGERY]


def test_km_risk_table_aligned_with_x_ticks():
    risk = pd.DataFrame({0.0: [5, 5], 3.0: [4, 3], 6.0: [2, 1], 9.0: [0, 0]}, index=[Arm.SURGERY, Arm.CHEMOTHERAPY])
    fig = km_figure({Arm.SURGERY: km_frame(), Arm.CHEMOTHERAPY: km_frame()}, risk, show_ci=False)
    text_rows = [t for t in fig.data if t.mode == "text"]
    assert len(text_rows) == 2
    for t, arm in zip(text_rows, (Arm.SURGERY, Arm.CHEMOTHERAPY), strict=True):
        assert list(t.x) == [0.0, 3.0, 6.0, 9.0]
        assert list(t.text) == [str(v) for v in risk.loc[arm]]
        assert set(t.y) == {ARM_LABELS[arm]}
        assert t.xaxis == "x2"
    assert list(fig.layout.xaxis.tickvals) == [0.0, 3.0, 6.0, 9.0]
    assert list(fig.layout.xaxis2.tickvals) == [0.0, 3.0, 6.0, 9.0]
    # the x range covers the last tick
    assert fig.layout.xaxis.range[1] > 9.0 and fig.layout.xaxis.range[0] < 0


def test_km_empty_curve_is_skipped():
    empty = km_frame().iloc[0:0]
    fig = km_figure({Arm.SURGERY: empty, Arm.CHEMOTHERAPY: km_frame()}, show_ci=False)
    assert [t.name for t in fig.data if t.name and "censored" not in t.name] == ["Chemotherapy"]


def test_forest_plot_log_axis_and_rows_without_estimate():
    t = pd.DataFrame({"label": ["All", "Tiny", "Men"], "hr": [0.7, np.nan, 1.5], "lower": [0.5, np.nan, 0.9],
                      "upper": [0.98, np.nan, 2.5], "n": [90, 4, 40], "events": [60, 1, 30]})
    fig = forest_plot(t, overall=0.7)
    assert fig.layout.xaxis.type == "log"
    markers = fig.data[0]
    assert list(markers.x) == [1.5, 0.7]  # bottom-up order
    assert list(markers.y) == ["Men", "All"]
    assert list(markers.error_x.array) == [1.0, 0.28] or np.allclose(markers.error_x.array, [1.0, 0.28])
    assert np.allclose(markers.error_x.arrayminus, [0.6, 0.2])
    no_est = next(tr for tr in fig.data if tr.mode == "text")
    assert list(no_est.y) == ["Tiny"] and list(no_est.text) == ["no estimate"]
    assert list(fig.layout.yaxis.categoryarray) == ["Men", "Tiny", "All"]
    # reference line at 1 and dashed overall line
    xs = sorted(s.x0 for s in fig.layout.shapes)
    assert xs == [0.7, 1.0]
    assert 0.5 in fig.layout.xaxis.tickvals and 2 in fig.layout.xaxis.tickvals
    assert "90 patients, 60 events" in markers.text[1]


def test_forest_plot_heading_rows_have_no_marker_and_no_no_estimate_text():
    t = pd.DataFrame({"label": ["All", "<b>Sex</b>", "Men", "Women"], "hr": [0.7, np.nan, 1.5, np.nan],
                      "lower": [0.5, np.nan, 0.9, np.nan], "upper": [0.98, np.nan, 2.5, np.nan],
                      "header": [False, True, False, False]})
    fig = forest_plot(t)
    assert list(fig.data[0].y) == ["Men", "All"]
    no_est = next(tr for tr in fig.data if tr.mode == "text")
    assert list(no_est.y) == ["Women"]
    assert list(fig.layout.yaxis.categoryarray) == ["Women", "Men", "<b>Sex</b>", "All"]


def test_love_plot_shows_absolute_smd():
    b = pd.DataFrame({"smd_before": [0.5, -0.3], "smd_after": [-0.05, 0.02]}, index=["Age", "ECOG"])
    fig = love_plot(b)
    before, after = fig.data
    assert list(before.y) == ["ECOG", "Age"] and list(before.x) == [0.3, 0.5]
    assert list(after.x) == [0.02, 0.05]
    assert fig.layout.shapes[0].x0 == 0.1


def test_overlap_plot_counts():
    s = pd.DataFrame({"distance": [0.1, -0.3, 0.2, 1.0], "treated": [1, 0, 0, 1], "matched": [True, True, False, False]})
    fig = overlap_plot(s)
    assert len(fig.data) == 4
    all_s, all_c, m_s, m_c = fig.data
    assert sorted(all_s.x) == [0.1, 1.0] and sorted(all_c.x) == [-0.3, 0.2]
    assert list(m_s.x) == [0.1] and list(m_c.x) == [-0.3]
    assert m_s.xaxis == "x2"


def test_flow_figure_numbers():
    flow = pd.DataFrame({"step": ["Cohort", "Regimen", "Alive at the 6-month landmark", "Propensity-matched"],
                         Arm.SURGERY: [45, 40, 33, 21], Arm.CHEMOTHERAPY: [45, 41, 30, 21]})
    fig = flow_figure(flow)
    texts = [a.text for a in fig.layout.annotations]
    for n in (45, 40, 33, 21, 41, 30):
        assert f"<b>{n}</b>" in texts
    numbers = [a for a in fig.layout.annotations if a.text.startswith("<b>") and a.text[3].isdigit()]
    # per step from the top: surgery then chemotherapy
    got = [(round(a.y), a.text) for a in numbers]
    assert got == [(3, "<b>45</b>"), (3, "<b>45</b>"), (2, "<b>40</b>"), (2, "<b>41</b>"), (1, "<b>33</b>"),
                   (1, "<b>30</b>"), (0, "<b>21</b>"), (0, "<b>21</b>")]
    assert "Propensity-matched" in texts
    assert sum(1 for a in fig.layout.annotations if a.showarrow) == 2 * 3


def test_patients_by_centre():
    df = pd.DataFrame({C.TREATMENT_GROUP: [Arm.SURGERY, Arm.SURGERY, Arm.CHEMOTHERAPY], C.CENTRE_ID: ["B", "A", "B"]})
    fig = patients_by_centre(df)
    s, c = fig.data
    assert list(s.x) == ["A", "B"] and list(s.y) == [1, 1] and list(c.y) == [0, 1]
    assert not math.isnan(fig.layout.height)


def test_km_one_colour_per_group_in_curve_and_risk_table():
    """Groups without arm colours: a group whose curve is not drawn, and a risk table in another order,
    never change which colour a group has (Surgical outcomes, "Major hepatectomy" seen in a browser)."""
    short = km_frame().assign(n_risk=[2, 2, 1, 1, 1])  # fewer than 3 at risk from the start: no curve
    curves = {"Minor": km_frame(), "Major": short, "Wedge": km_frame()}
    risk = pd.DataFrame({0.0: [5, 2, 5], 6.0: [2, 1, 2]}, index=["Wedge", "Major", "Minor"])
    fig = km_figure(curves, risk, min_at_risk=3, show_ci=False)
    line_colour = {t.name: t.line.color for t in fig.data if t.mode == "lines" and t.showlegend is not False}
    table_colour = {t.y[0]: t.textfont.color for t in fig.data if t.mode == "text"}
    assert set(line_colour) == {"Minor", "Wedge"}  # Major is not drawn
    assert table_colour["Minor"] == line_colour["Minor"] and table_colour["Wedge"] == line_colour["Wedge"]
    assert len(set(table_colour.values())) == 3  # Major keeps a colour of its own in the table
