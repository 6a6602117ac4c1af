"""core.primary: the pre-specified primary analysis, its spec file, and how a view differs from it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from core import primary
from core.primary import PrimaryAnalysis, compare, parse, status_line, to_json
from core.provenance import PRIMARY_KEY, provenance
from core.spec import AnalysisSpec

SHA = "a" * 64


def test_the_primary_itself_has_no_difference():
    assert compare(AnalysisSpec(), AnalysisSpec()) == []
    assert compare(AnalysisSpec(ratio=2), PrimaryAnalysis(AnalysisSpec(ratio=2))) == []


def test_differences_are_named_in_words_with_both_values():
    got = compare(AnalysisSpec(landmark_months=9.0, regimens=("FOLFIRINOX",), caliper=0.2, replace=True),
                  AnalysisSpec())
    assert [(d.field, d.setting, d.primary, d.current) for d in got] == [
        ("regimens", "regimen", "all", "FOLFIRINOX"),
        ("landmark_months", "landmark", "6 months", "9 months"),
        ("caliper", "caliper", "none", "0.2 SD of the logit"),
        ("replace", "matching with replacement", "no", "yes"),
    ]


def test_category_values_are_dictionary_labels_not_codes():
    (d,) = compare(AnalysisSpec(regimens=("GEM_NABPAC",)), AnalysisSpec(regimens=("GEM",)))
    assert d.in_words() == ("regimen (with Gemcitabine + nab-paclitaxel and without Gemcitabine alone here, "
                            "Gemcitabine alone in the primary)")


def test_covariates_are_compared_as_a_set_and_changes_say_what_was_added_or_removed():
    default = AnalysisSpec().covariates
    assert compare(AnalysisSpec(covariates=default[::-1]), AnalysisSpec()) == []
    (d,) = compare(AnalysisSpec(covariates=(*default[:-1], "sex")), AnalysisSpec())
    assert d.current == "with Sex and without Resectability"


def test_display_only_settings_are_not_differences():
    assert compare(AnalysisSpec(min_at_risk=10), AnalysisSpec()) == []
    assert [d.field for d in compare(AnalysisSpec(rmst_months=24.0), AnalysisSpec())] == ["rmst_months"]


def test_every_spec_field_has_words():
    assert {f.name for f in dataclasses.fields(AnalysisSpec)} == set(primary.FIELD_WORDS)


def test_status_line_primary_exploration_and_none():
    p = PrimaryAnalysis(AnalysisSpec(), source="shipped with the data")
    assert status_line(AnalysisSpec(), p) == "Primary analysis (pre-specified, shipped with the data)."
    assert status_line(AnalysisSpec(method="time_dependent"), p) == (
        "Exploration: differs from the primary analysis in immortal-time method (Cox model with surgery as a "
        "time-dependent covariate here, Landmark analysis in the primary).")
    assert status_line(AnalysisSpec(), None) == (
        "Exploration: no primary analysis has been pre-specified for this cohort, so every view is exploratory.")


def test_status_line_stays_one_line_with_many_differences():
    view = AnalysisSpec(regimens=("GEM",), age_min=50, landmark_months=9.0, caliper=0.2, ratio=2)
    line = status_line(view, PrimaryAnalysis(AnalysisSpec()))
    assert line.endswith("and 2 more settings.")
    assert "\n" not in line and line.count(" here, ") == 3


def test_spec_file_round_trip_writes_every_setting():
    p = PrimaryAnalysis(AnalysisSpec(ratio=2, landmark_months=9.0), rationale="fixed in the protocol",
                        declared="2026-01-31", cohort_sha256=SHA)
    text = to_json(p)
    body = json.loads(text)
    assert body["format"] == "pdac-lm-primary-analysis" and body["version"] == 1
    keys = {k.split("=")[0] for k in body["spec"].split("&")}
    assert {f.metadata["url"].key for f in dataclasses.fields(AnalysisSpec)} == keys  # defaults written too
    back = parse(text, source="file x", cohort_sha256=SHA)
    assert (back.spec, back.rationale, back.declared, back.cohort_sha256, back.source) == (
        p.spec, "fixed in the protocol", "2026-01-31", SHA, "file x")


def test_a_share_link_query_is_accepted():
    text = json.dumps({"format": "pdac-lm-primary-analysis", "spec": "http://host/survival?lm=9&cal=0.2"})
    assert parse(text, source="x").spec == AnalysisSpec(landmark_months=9.0, caliper=0.2)


@pytest.mark.parametrize(("content", "message"), [
    (b"not json", "not valid JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b"x" * (primary.MAX_BYTES + 1), "larger than 64 KiB"),
    (json.dumps({"spec": "lm=6"}).encode(), "not a primary-analysis file"),
    (json.dumps({"format": "pdac-lm-primary-analysis"}).encode(), "has no \"spec\""),
    (json.dumps({"format": "pdac-lm-primary-analysis", "spec": "lm=6&landmark=9"}).encode(), "unknown setting(s): landmark"),
    (json.dumps({"format": "pdac-lm-primary-analysis", "spec": "ratio=many"}).encode(), "invalid setting"),
    (json.dumps({"format": "pdac-lm-primary-analysis", "spec": "", "cohort_sha256": "b" * 64}).encode(),
     "declared for another cohort"),
])
def test_unclear_spec_files_are_refused_in_words(content, message):
    with pytest.raises(ValueError) as info:
        parse(content, source="x", cohort_sha256=SHA)
    assert message in str(info.value)


def test_the_demo_ships_its_primary_analysis():
    p = primary.demo_primary()
    assert p.spec == AnalysisSpec(method="landmark", landmark_months=6.0, caliper=None, ratio=1, replace=False)
    assert "landmark at 6 months" in p.rationale and p.cohort_sha256 is None
    assert "data/primary_analysis.json" in p.source


def test_declare_dates_the_view():
    p = primary.declare(AnalysisSpec(ratio=2), cohort_sha256=SHA, rationale="  why  ",
                        now=dt.datetime(2026, 3, 4, 23, 0, tzinfo=dt.UTC))
    assert (p.spec.ratio, p.declared, p.rationale, p.cohort_sha256) == (2, "2026-03-04", "why", SHA)


def test_exports_provenance_says_primary_or_exploration():
    p = PrimaryAnalysis(AnalysisSpec(), source="shipped with the data")
    view = AnalysisSpec(caliper=0.2)
    prov = provenance(view, cohort_sha256=SHA, dictionary_version="1.0.0", url="http://localhost:8501/",
                      source_name="demo", primary=primary.provenance_entry(view, p))
    lines = prov[PRIMARY_KEY].splitlines()
    assert lines[0] == ("Exploration: differs from the primary analysis in caliper (0.2 SD of the logit here, none in "
                        "the primary).")
    assert lines[1] == "Primary analysis settings: (defaults)"
    assert PRIMARY_KEY not in provenance(view, cohort_sha256=SHA, dictionary_version="1.0.0",
                                         url="http://localhost:8501/", source_name="demo")
