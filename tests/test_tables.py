"""Tests of core.tables on hand-made results (only the attributes the tables read)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from core import analysis, cohort
from core.analysis import ArmCurve, Estimate
from core.dictionary import Arm
from core.spec import AnalysisSpec
from core.tables import (
    estimates_table,
    headline,
    interaction_display,
    methods_table,
    subgroup_display,
    subgroup_forest_frame,
)

NAN = float("nan")


def _at(rows):
    return pd.DataFrame(rows, columns=["time", "n_risk", "survival", "lower", "upper"])


def fake_result(hr: Estimate | None = None, endpoint: str = "os"):
    s = ArmCurve(Arm.SURGERY, 30, 20, pd.DataFrame(), 18.84, 12.0, NAN,
                 _at([(12.0, 20, 0.7234, 0.55, 0.85), (24.0, 8, 0.40, 0.2, 0.6), (36.0, 0, NAN, NAN, NAN)]))
    c = ArmCurve(Arm.CHEMOTHERAPY, 6, 2, pd.DataFrame(), NAN, 5.0, NAN,
                 _at([(12.0, 3, 0.5, 0.1, 0.8)]), reliable=False, reason="only 6 patients (fewer than 10)")
    methods = pd.DataFrame({
        "method": ["Naive", "Landmark", "Time-dependent"], "HR": [0.4, 0.75, NAN], "lower": [0.3, 0.5, NAN],
        "upper": [0.55, NAN, NAN], "p": [0.0001, 0.2, NAN], "patients": [90.0, 60.0, 0.0], "events": [70, 40, 0],
        "patients_surgery": [45, 30, 0], "patients_chemotherapy": [45, 30, 0], "events_surgery": [30, 18, 0],
        "events_chemotherapy": [40, 22, 0], "note": ["biased by immortal time", "", "no estimate"],
    })
    return SimpleNamespace(curves=(s, c), methods=methods, hr=hr, spec=AnalysisSpec(endpoint=endpoint))


def test_estimates_table_by_hand():
    t = estimates_table(fake_result())
    assert t.columns.tolist() == ["Surgery", "Chemotherapy"]
    assert t.index.tolist() == ["Patients", "Deaths", "Median, months (95% CI)", "1-year survival", "2-year survival",
                                "3-year survival", "5-year survival", "Note"]
    assert t["Surgery"].tolist() == ["30", "20", "18.8 (12.0–NR)", "72% (55%–85%)", "40% (20%–60%)", "—", "—", ""]
    assert t["Chemotherapy"].tolist() == ["6", "2", "not reached", "50% (10%–80%)", "—", "—", "—",
                                          "only 6 patients (fewer than 10)"]
    assert estimates_table(fake_result(endpoint="efs")).index[1] == "Events"


def test_methods_table_by_hand():
    t = methods_table(fake_result())
    assert t.columns.tolist() == ["Method", "HR (95% CI)", "p", "Patients (S / C)", "Deaths (S / C)", "Note"]
    assert t["HR (95% CI)"].tolist() == ["0.40 (0.30–0.55)", "0.75 (0.50–NR)", "—"]
    assert t["p"].tolist() == ["<0.001", "0.200", "—"]
    assert t["Patients (S / C)"].tolist() == ["45 / 45", "30 / 30", "0 / 0"]
    assert t["Deaths (S / C)"].tolist() == ["30 / 40", "18 / 22", "0 / 0"]
    assert "Events (S / C)" in methods_table(fake_result(endpoint="efs")).columns


def test_headline():
    est = Estimate("Landmark at 6 months, propensity-matched", 0.7, 0.5, 0.98, 0.04, 60, 40)
    assert headline(fake_result(est)) == ("Hazard ratio 0.70 (95% CI 0.50–0.98), p = 0.040; "
                                          "Landmark at 6 months, propensity-matched.")
    none = Estimate("m", NAN, NAN, NAN, NAN, 0, 0, False, "no operated patients")
    assert headline(fake_result(none)) == "No hazard ratio: no operated patients."
    assert headline(fake_result(None)) == "No hazard ratio: no comparison was possible."


def _sub():
    table = pd.DataFrame({
        "label": ["Overall", "Men"], "n_surgery": [20, 3], "events_surgery": [15, 2], "n_chemotherapy": [20, 4],
        "events_chemotherapy": [18, 4], "hr": [0.7, NAN], "lower": [0.5, NAN], "upper": [0.95, NAN],
        "p": [0.02, NAN], "reason": ["", "only 7 patients"],
    })
    inter = pd.DataFrame({"dimension": ["Sex"], "chi2": [1.2345], "df": [1], "p": [0.27], "note": [""]})
    return SimpleNamespace(table=table, interactions=inter)


def test_subgroup_frames():
    f = subgroup_forest_frame(_sub())
    assert f["label"].tolist() == ["Overall  (S 20/15, C 20/18)", "Men  (S 3/2, C 4/4)"]
    assert f["n"].tolist() == [40, 7] and f["events"].tolist() == [33, 6]
    assert np.isnan(f.loc[1, "hr"])
    d = subgroup_display(_sub())
    assert d["Surgery (patients / deaths)"].tolist() == ["20 / 15", "3 / 2"]
    assert d["HR (95% CI)"].tolist() == ["0.70 (0.50–0.95)", "—"]
    assert d["p (exploratory)"].tolist() == ["0.020", "—"] and d["Note"].tolist() == ["", "only 7 patients"]
    i = interaction_display(_sub())
    assert i.iloc[0].tolist() == ["Sex", "1.23", 1, "0.270", ""]


def test_tables_on_a_real_result_have_consistent_counts():
    r = analysis.run(cohort.demo(), AnalysisSpec())
    t = estimates_table(r)
    m = r.match.matched
    assert t.columns.tolist() == ["Operated by 6 months", "Not operated by 6 months"]  # the landmark's arms
    assert t.loc["Patients", "Operated by 6 months"] == str(int((m["treated"] == 1).sum()))
    assert t.loc["Deaths", "Not operated by 6 months"] == str(int(m.loc[m["treated"] == 0, "event"].sum()))


def _sub_dimensions():
    # Sex: 30 = 27 + 3 (one small row: the smallest other, 27, is hidden too); Stage: 30 = 3 + 4 + 23 (two small rows)
    table = pd.DataFrame({
        "dimension": ["Overall", "Sex", "Sex", "Stage", "Stage", "Stage"],
        "label": ["Overall", "Sex: F", "Sex: M", "Stage: I", "Stage: II", "Stage: III"],
        "n_surgery": [30, 27, 3, 3, 4, 23], "events_surgery": [20, 20, 0, 2, 3, 15],
        "n_chemotherapy": [30, 15, 15, 10, 0, 20], "events_chemotherapy": [25, 12, 13, 9, 0, 16],
        "hr": [0.7] * 6, "lower": [0.5] * 6, "upper": [0.95] * 6, "p": [0.02] * 6, "reason": [""] * 6,
    })
    return SimpleNamespace(table=table, interactions=pd.DataFrame())


def test_subgroup_frames_with_suppression():
    d = subgroup_display(_sub_dimensions(), k=11)
    # events: surgery Sex 20 + 0 (zero is neither hidden nor chosen); Stage 2, 3 small; chemotherapy Stage 9 small,
    # zero kept, so 16 is hidden too
    assert d["Surgery (patients / deaths)"].tolist() == ["30 / 20", "* / 20", "<11 / 0", "<11 / <11", "<11 / <11",
                                                        "23 / 15"]
    assert d["Chemotherapy (patients / deaths)"].tolist() == ["30 / 25", "15 / 12", "15 / 13", "<11 / <11", "0 / 0",
                                                             "* / *"]
    f = subgroup_forest_frame(_sub_dimensions(), k=11)
    # one heading row per subgroup variable, then its levels in words
    assert f["label"].tolist()[:4] == ["Overall  (S 30/20, C 30/25)", "<b>Sex</b>", "F  (S */20, C 15/12)",
                                       "M  (S <11/0, C 15/13)"]
    assert f["header"].tolist() == [False, True, False, False, True, False, False, False]
    assert f.loc[f["header"], "hr"].isna().all() and f.loc[~f["header"], "hr"].notna().all()
    assert "n" not in f.columns and "events" not in f.columns  # no totals in the hover text


def test_forest_frame_keeps_labels_unique_when_two_variables_share_words():
    sub = _sub_dimensions()
    sub.table["label"] = ["Overall", "Sex: Yes", "Sex: No", "Stage: Yes", "Stage: No", "Stage: III"]
    sub.table["n_surgery"] = [30, 10, 20, 10, 20, 0]
    sub.table["n_chemotherapy"] = [30, 15, 15, 15, 15, 0]
    sub.table["events_surgery"] = [20, 10, 10, 10, 10, 0]
    sub.table["events_chemotherapy"] = [25, 12, 13, 12, 13, 0]
    labels = subgroup_forest_frame(sub)["label"].tolist()
    assert len(set(labels)) == len(labels)
    assert labels[2] == "Yes  (S 10/10, C 15/12)" and labels[5].startswith(labels[2])
    assert subgroup_display(_sub_dimensions())["Surgery (patients / deaths)"].tolist()[1] == "27 / 20"
