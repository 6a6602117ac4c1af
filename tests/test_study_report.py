"""Tests of core.study_report: every section present, methods paragraph matching the spec."""

from __future__ import annotations

import html

import pytest

from core import analysis, cohort, report, subgroups
from core.dictionary import Arm, C, Regimen
from core.spec import AnalysisSpec
from core.study_report import TITLE, sections, study_report_html


@pytest.fixture(scope="module")
def demo():
    return cohort.demo()


def _html(c, spec):
    result = analysis.run(c, spec)
    return result, study_report_html(c, spec, result, subgroups.subgroup_table(c, spec),
                                     provenance={"View URL": "http://localhost:8501/?x=1", "Generated (UTC)": "now"})


def test_every_section_heading_is_in_the_html(demo):
    _, page = _html(demo, AnalysisSpec())
    for heading in ("Methods", "Summary", "Overall survival", "Propensity-score matching", "Table 1",
                    "Subgroups (exploratory)", "Surgical outcomes (operated patients)"):
        assert f"<h2>{html.escape(heading)}</h2>" in page, heading
    assert f"<h1>{html.escape(TITLE)}</h1>" in page
    assert html.escape("http://localhost:8501/?x=1") in page
    assert page.count('class="plotly-graph-div') == 4  # flow, KM, love plot, forest plot


@pytest.mark.parametrize("spec", [
    AnalysisSpec(),
    AnalysisSpec(regimens=(Regimen.FOLFIRINOX, Regimen.MFOLFIRINOX), caliper=0.5, ratio=2, landmark_months=4.5),
    AnalysisSpec(method="naive", caliper=None, replace=True),
])
def test_methods_paragraph_matches_the_spec(demo, spec):
    result, page = _html(demo, spec)
    data = demo.data
    if spec.regimens:
        data = data[data[C.CHEMO_REGIMEN].isin(spec.regimens)]
    n_s = int((data[C.TREATMENT_GROUP] == Arm.SURGERY).sum())
    n_c = int((data[C.TREATMENT_GROUP] == Arm.CHEMOTHERAPY).sum())
    expected = report.methods_paragraph(
        spec, n_surgery=n_s, n_chemotherapy=n_c,
        n_matched_pairs=result.match.n_treated_matched if result.match is not None else None,
        tau=result.rmst.tau if result.rmst is not None else None)
    assert f"<p>{html.escape(expected)}</p>" in page
    assert f"included {n_s} patients who underwent resection" in expected
    caliper = "without a caliper" if spec.caliper is None else f"within a caliper of {spec.caliper:g} standard deviations"
    assert caliper in expected and f"matched 1:{spec.ratio}" in expected
    if spec.method == "landmark":
        assert f"landmark analysis at {spec.landmark_months:g} months" in expected
    else:
        assert "naive comparison does not account for immortal time" in expected
    if spec.regimens:
        assert "Regimen: FOLFIRINOX, mFOLFIRINOX" in expected


def test_sections_without_a_match(demo):
    spec = AnalysisSpec(centres=("nowhere",))
    result = analysis.run(demo, spec)
    got = [h for h, _ in sections(demo, spec, result, None)]
    assert got == ["Summary"]
    summary = dict(sections(demo, spec, result, None))["Summary"]
    assert summary[0].startswith("No hazard ratio")
    assert any(isinstance(x, str) and x.startswith("Warnings: ") for x in summary)
