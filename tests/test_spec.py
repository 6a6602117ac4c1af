"""Tests of core.spec: validation, URL round trip, hashing, provenance in words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.dictionary import (
    DEFAULT_PROPENSITY_COVARIATES,
    PRE_SURGERY_COVARIATES,
    C,
    LiverProcedure,
    MetsGroup,
    Pancreatic,
    Recist,
    Regimen,
    Resectability,
    Setting,
    Timing,
)
from core.spec import AnalysisSpec

# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"pancreatic_procedures": ("XX",)}, "pancreatic_procedures: unknown value(s) XX"),
        ({"liver_procedures": ("lobectomy",)}, "liver_procedures: unknown value(s) lobectomy"),
        ({"liver_timings": ("later",)}, "liver_timings"),
        ({"mets_groups": ("4",)}, "mets_groups"),
        ({"regimens": ("ASPIRIN",)}, "regimens"),
        ({"chemo_settings": ("curative",)}, "chemo_settings"),
        ({"recist": ("XR",)}, "recist"),
        ({"resectability_levels": ("metastatic",)}, "resectability_levels"),
        ({"covariates": (C.CLAVIEN_DINDO,)}, "covariates: unknown value(s) clavien_dindo_90d"),
        ({"regimens": [Regimen.GEM]}, "regimens must be a tuple"),
        ({"hepatectomy": "huge"}, "hepatectomy must be one of any, minor, major"),
        ({"endpoint": "pfs"}, "endpoint must be one of"),
        ({"endpoint": "rfs"}, "endpoint must be one of os, efs"),
        ({"propensity": "probit"}, "propensity must be one of firth, glm"),
        ({"origin": "surgery"}, "origin must be one of"),
        ({"method": "magic"}, "method must be one of"),
        ({"order": "random"}, "order must be one of"),
        ({"covariates": ()}, "choose at least one propensity covariate"),
        ({"caliper": 0.0}, "caliper (SD of the logit) must be between 0.05 and 1 (got 0)"),
        ({"caliper": -0.1}, "caliper (SD of the logit) must be between 0.05 and 1"),
        ({"caliper": 3.0}, "caliper (SD of the logit) must be between 0.05 and 1 (got 3)"),
        ({"ratio": 0}, "controls per operated patient must be between 1 and 5"),
        ({"ratio": 6}, "controls per operated patient must be between 1 and 5"),
        ({"landmark_months": 0.5}, "landmark (months) must be between 1 and 24"),
        ({"landmark_months": 30.0}, "landmark (months) must be between 1 and 24 (got 30)"),
        ({"min_at_risk": 0}, "minimum number at risk must be between 1 and 50"),
        ({"min_at_risk": 51}, "minimum number at risk must be between 1 and 50"),
        ({"ca19_9_max": -1.0}, "CA19-9 upper limit (U/mL) must be between 0 and"),
        ({"age_min": 5}, "youngest age must be between 18 and 100"),
        ({"mets_max": 0}, "most liver metastases must be between 1 and 50"),
        ({"mets_min": 5, "mets_max": 2}, "number of metastases: minimum above maximum"),
        ({"age_min": 70, "age_max": 60}, "age: minimum above maximum"),
        ({"year_min": 2022, "year_max": 2020}, "year of diagnosis: minimum above maximum"),
    ],
)
def test_every_kind_of_bad_setting_is_rejected(changes, fragment):
    with pytest.raises(ValueError, match="Invalid analysis settings") as info:
        AnalysisSpec(**changes)
    assert fragment in str(info.value)
    with pytest.raises(ValueError):
        AnalysisSpec().replace_(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"caliper": 1.0}, {"caliper": 0.05}, {"caliper": None}, {"ratio": 5}, {"landmark_months": 24.0},
        {"landmark_months": 1.0}, {"min_at_risk": 50}, {"mets_min": 3, "mets_max": 3}, {"centres": ("any centre name",)},
        {"ca19_9_max": 0.0}, {"endpoint": "efs"}, {"propensity": "glm"},
    ],
)
def test_boundary_values_are_accepted(changes):
    assert AnalysisSpec(**changes).problems() == []


def test_several_problems_are_all_reported():
    with pytest.raises(ValueError) as info:
        AnalysisSpec(ratio=9, caliper=9.0)
    assert "controls per operated patient" in str(info.value) and "caliper" in str(info.value)


# -- URL round trip -----------------------------------------------------------------------------

def _subset(values):
    return st.lists(st.sampled_from(values), unique=True, max_size=len(values)).map(tuple)


_opt_pair = st.tuples(st.none() | st.integers(18, 100), st.none() | st.integers(18, 100)).map(
    lambda p: p if None in p or p[0] <= p[1] else (p[1], p[0]))
_mets_pair = st.tuples(st.none() | st.integers(1, 50), st.none() | st.integers(1, 50)).map(
    lambda p: p if None in p or p[0] <= p[1] else (p[1], p[0]))
_centre = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF),
                  min_size=1, max_size=8)
# Floats that survive the "%g" encoding (6 significant digits).
_landmark = st.integers(10, 240).map(lambda i: i / 10)
_caliper = st.none() | st.integers(5, 100).map(lambda i: i / 100)
_ca = st.none() | st.integers(0, 100000).map(float)


@st.composite
def specs(draw):
    mets = draw(_mets_pair)
    ages = draw(_opt_pair)
    years = draw(st.tuples(st.none() | st.integers(1990, 2030), st.none() | st.integers(1990, 2030)).map(
        lambda p: p if None in p or p[0] <= p[1] else (p[1], p[0])))
    endpoint = draw(st.sampled_from(["os", "efs"]))
    covariates = draw(_subset(PRE_SURGERY_COVARIATES).filter(bool))
    return AnalysisSpec(
        pancreatic_procedures=draw(_subset(Pancreatic.ALL)),
        hepatectomy=draw(st.sampled_from(["any", "minor", "major"])),
        liver_procedures=draw(_subset(LiverProcedure.ALL)),
        liver_timings=draw(_subset(Timing.ALL)),
        mets_groups=draw(_subset(MetsGroup.ALL)),
        mets_min=mets[0], mets_max=mets[1],
        regimens=draw(_subset(Regimen.ALL)),
        chemo_settings=draw(_subset(Setting.ALL)),
        recist=draw(_subset(Recist.ALL)),
        resectability_levels=draw(_subset(Resectability.ALL)),
        centres=tuple(dict.fromkeys(draw(st.lists(_centre, max_size=4)))),
        age_min=ages[0], age_max=ages[1],
        ca19_9_max=draw(_ca),
        year_min=years[0], year_max=years[1],
        endpoint=endpoint,
        origin=draw(st.sampled_from(["chemo_start", "diagnosis"])),
        method=draw(st.sampled_from(["landmark", "time_dependent", "naive"])),
        landmark_months=draw(_landmark),
        covariates=covariates,
        propensity=draw(st.sampled_from(["firth", "glm"])),
        caliper=draw(_caliper),
        ratio=draw(st.integers(1, 5)),
        replace=draw(st.booleans()),
        exact_centre=draw(st.booleans()),
        order=draw(st.sampled_from(["largest", "smallest", "data"])),
        min_at_risk=draw(st.integers(1, 50)),
    )


@settings(max_examples=150, deadline=None)
@given(specs())
def test_random_valid_specs_survive_the_query_string_exactly(spec):
    text = spec.to_query_string()
    back = AnalysisSpec.from_query_string(text, strict=True)
    assert back == spec
    assert AnalysisSpec.from_query_string("?" + text) == spec


# One non-default value per field, and the query parameter it must produce.
_EVERY_FIELD = {
    "pancreatic_procedures": ((Pancreatic.PD, Pancreatic.TP), "pp", "PD,TP"),
    "hepatectomy": ("major", "hep", "major"),
    "liver_procedures": ((LiverProcedure.WEDGE,), "lp", "wedge"),
    "liver_timings": ((Timing.STAGED,), "lt", "staged"),
    "mets_groups": ((MetsGroup.MORE,), "mg", ">3"),
    "mets_min": (2, "mmin", "2"),
    "mets_max": (4, "mmax", "4"),
    "regimens": ((Regimen.GEM, Regimen.FOLFIRINOX), "reg", "GEM,FOLFIRINOX"),
    "chemo_settings": ((Setting.NEOADJUVANT,), "cs", "neoadjuvant"),
    "recist": ((Recist.PR, Recist.CR), "rec", "PR,CR"),
    "resectability_levels": ((Resectability.BORDERLINE,), "res", "borderline"),
    "centres": (("Modena", "Verona"), "ctr", "Modena,Verona"),
    "age_min": (40, "amin", "40"),
    "age_max": (75, "amax", "75"),
    "ca19_9_max": (500.0, "camax", "500"),
    "year_min": (2015, "ymin", "2015"),
    "year_max": (2023, "ymax", "2023"),
    "endpoint": ("efs", "ep", "efs"),
    "origin": ("diagnosis", "org", "diagnosis"),
    "method": ("naive", "meth", "naive"),
    "landmark_months": (4.5, "lm", "4.5"),
    "covariates": ((C.AGE, C.ECOG), "cov", "age_at_diagnosis,ecog_baseline"),
    "propensity": ("glm", "ps", "glm"),
    "caliper": (0.25, "cal", "0.25"),
    "ratio": (3, "ratio", "3"),
    "replace": (True, "repl", "1"),
    "exact_centre": (True, "exc", "1"),
    "order": ("data", "ord", "data"),
    "centre_model": ("strata", "ctrm", "strata"),
    "min_at_risk": (7, "mar", "7"),
    "rmst_months": (60.0, "tau", "60"),
    "eligibility": (("mets_le3", "ecog01"), "elig", "mets_le3,ecog01"),
    "missing": ("impute", "miss", "impute"),
}


def test_every_field_is_covered_by_the_table():
    import dataclasses

    assert set(_EVERY_FIELD) == {f.name for f in dataclasses.fields(AnalysisSpec)}


@pytest.mark.parametrize("name", sorted(_EVERY_FIELD))
def test_each_field_round_trips_with_its_own_key(name):
    value, key, text = _EVERY_FIELD[name]
    spec = AnalysisSpec(**{name: value})
    assert spec.to_query() == {key: text}
    assert AnalysisSpec.from_query({key: text}, strict=True) == spec
    assert AnalysisSpec.from_query_string(spec.to_query_string()) == spec


@settings(max_examples=100, deadline=None)
@given(
    landmark=st.floats(min_value=1.0, max_value=24.0, allow_nan=False),
    caliper=st.floats(min_value=0.05, max_value=1.0, allow_nan=False),
    ca=st.floats(min_value=0.0, max_value=1e7, allow_nan=False),
)
def test_any_float_survives_the_query_string_exactly(landmark, caliper, ca):
    spec = AnalysisSpec(landmark_months=landmark, caliper=caliper, ca19_9_max=ca)
    assert AnalysisSpec.from_query_string(spec.to_query_string(), strict=True) == spec


def test_short_floats_stay_short_in_the_url():
    assert AnalysisSpec(caliper=0.1, landmark_months=4.5, ca19_9_max=500.0).to_query() == {
        "lm": "4.5", "camax": "500", "cal": "0.1"}
    assert AnalysisSpec(landmark_months=4.1234567891).to_query() == {"lm": "4.1234567891"}


def test_default_spec_has_an_empty_query():
    assert AnalysisSpec().to_query() == {} and AnalysisSpec().to_query_string() == ""
    assert AnalysisSpec.from_query_string("") == AnalysisSpec()


def test_query_string_is_url_encoded_but_keeps_commas():
    text = AnalysisSpec(centres=("A&B", "x y")).to_query_string()
    assert text == "ctr=A%26B%2Cx+y" or text == "ctr=A%26B,x+y"
    assert AnalysisSpec.from_query_string(text).centres == ("A&B", "x y")


def test_list_values_take_the_last_one():
    assert AnalysisSpec.from_query({"ratio": ["2", "3"]}).ratio == 3


# -- from_query: lenient and strict -------------------------------------------------------------

def test_unknown_keys_are_ignored():
    assert AnalysisSpec.from_query({"foo": "bar", "utm_source": "x"}) == AnalysisSpec()
    assert AnalysisSpec.from_query({"foo": "bar"}, strict=True) == AnalysisSpec()


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("ratio", "many"), ("ratio", "9"), ("ratio", "2.5"), ("cal", "wide"), ("cal", "nan"), ("cal", "inf"),
        ("cal", "-1"), ("lm", "0"), ("lm", ""), ("repl", "yes"), ("exc", "2"), ("meth", "magic"), ("ep", "pfs"),
        ("reg", "GEM,ASPIRIN"), ("pp", "Whipple"), ("cov", "clavien_dindo_90d"), ("amin", "sixty"),
        ("hep", "huge"), ("org", "surgery"), ("ord", "random"), ("mar", "0"), ("camax", "lots"),
        ("lm", "30"), ("cal", "3"), ("camax", "-1"), ("ep", "rfs"), ("ps", "probit"), ("mmin", "0"),
    ],
)
def test_invalid_values_keep_the_default_or_name_the_parameter(key, text):
    lenient = AnalysisSpec.from_query({key: text, "ratio" if key != "ratio" else "mar": "2"})
    default = AnalysisSpec()
    field_name = next(n for n, (_, k, _) in _EVERY_FIELD.items() if k == key)
    assert getattr(lenient, field_name) == getattr(default, field_name)
    # the other, valid parameter is still applied
    assert (lenient.ratio if key != "ratio" else lenient.min_at_risk) == 2
    with pytest.raises(ValueError, match=f"URL parameter '{key}'"):
        AnalysisSpec.from_query({key: text}, strict=True)


def test_clashing_values_fall_back_field_by_field():
    spec = AnalysisSpec.from_query({"amin": "70", "amax": "60"})
    assert spec.problems() == []
    assert (spec.age_min, spec.age_max) in ((70, None), (None, 60))
    with pytest.raises(ValueError, match="age: minimum above maximum"):
        AnalysisSpec.from_query({"amin": "70", "amax": "60"}, strict=True)


def test_none_clears_an_optional_number():
    assert AnalysisSpec.from_query({"cal": "none"}).caliper is None
    assert AnalysisSpec.from_query({"cal": "None"}).caliper is None
    assert AnalysisSpec.from_query({"amin": ""}).age_min is None


# -- hashing ------------------------------------------------------------------------------------

def test_equal_specs_hash_equal_and_work_as_cache_keys():
    a = AnalysisSpec(regimens=(Regimen.GEM,), caliper=0.1, ratio=2)
    b = AnalysisSpec.from_query_string("reg=GEM&cal=0.1&ratio=2")
    assert a == b and hash(a) == hash(b)
    cache = {a: "result"}
    assert cache[b] == "result"
    assert AnalysisSpec(ratio=3) not in cache
    assert len({AnalysisSpec(), AnalysisSpec(), a, b}) == 2


def test_spec_is_frozen():
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        AnalysisSpec().ratio = 2  # type: ignore[misc]


def test_tuple_order_matters_for_equality():
    assert AnalysisSpec(regimens=(Regimen.GEM, Regimen.FOLFIRINOX)) != AnalysisSpec(regimens=(Regimen.FOLFIRINOX, Regimen.GEM))


# -- provenance in words ------------------------------------------------------------------------

def test_filters_in_words_mentions_every_active_filter():
    spec = AnalysisSpec(
        pancreatic_procedures=(Pancreatic.PD,), hepatectomy="minor", liver_procedures=(LiverProcedure.WEDGE,),
        liver_timings=(Timing.STAGED,), mets_groups=(MetsGroup.ONE,), mets_min=1, mets_max=3,
        regimens=(Regimen.GEM_NABPAC,), chemo_settings=(Setting.PERIOPERATIVE,), recist=(Recist.SD,),
        resectability_levels=(Resectability.BORDERLINE,), centres=("Modena",), age_min=50, age_max=80,
        ca19_9_max=250.0, year_min=2016, year_max=None,
    )
    words = spec.filters_in_words()
    text = "\n".join(words)
    assert len(words) == 14
    for needle in [
        "Surgery arm: pancreatic procedure Pancreaticoduodenectomy (Whipple)",
        "Surgery arm: minor (< 3 segments) hepatectomy", "Surgery arm: liver procedure Wedge resection",
        "Surgery arm: liver resection Staged", "Metastasis group: 1 metastasis",
        "Liver metastases (n): 1 to 3", "Regimen: Gemcitabine + nab-paclitaxel", "Chemotherapy setting: Perioperative",
        "RECIST response: Stable disease", "Resectability: Borderline resectable", "Centre: Modena", "Age (years): 50 to 80",
        "CA19-9 at baseline <= 250 U/mL (missing kept)", "Year of diagnosis: 2016 or more",
    ]:
        assert needle in text, needle


def test_open_ranges_read_naturally():
    assert AnalysisSpec(age_max=60).filters_in_words() == ["Age (years): up to 60"]
    assert AnalysisSpec(age_min=60).filters_in_words() == ["Age (years): 60 or more"]


def test_no_filters_in_words_for_the_default_and_describe_says_so():
    assert AnalysisSpec().filters_in_words() == []
    assert "No filters (whole cohort)" in AnalysisSpec().describe()


def test_settings_in_words_mention_every_setting():
    spec = AnalysisSpec(origin="diagnosis", method="landmark", landmark_months=9.0, covariates=(C.AGE, C.ECOG),
                        caliper=0.25, ratio=2, replace=True, exact_centre=True, order="smallest", min_at_risk=5)
    s = spec.settings_in_words()
    assert s[0] == "Endpoint: Overall survival from diagnosis"
    assert s[1] == "Immortal time: Landmark analysis at 9 months"
    assert s[2].startswith("Propensity model: Firth-penalised logistic regression on Age (years), ")
    assert s[3] == ("Matching: 1:2 nearest neighbour with replacement, caliper 0.25 SD of the logit, order smallest, "
                    "exact on centre")
    assert s[4] == "Curves stop below 5 patients at risk"
    assert s[-1] == "Centre in the Cox models: not used"
    assert AnalysisSpec(centre_model="cluster").settings_in_words()[-1] == (
        "Centre in the Cox models: standard errors clustered by centre")
    s2 = AnalysisSpec(caliper=None, method="naive", endpoint="efs", propensity="glm").settings_in_words()
    assert s2[0] == "Endpoint: Event-free survival (progression, recurrence or death) from chemotherapy start"
    assert s2[2].startswith("Propensity model: logistic regression (unpenalised")
    assert "Naive comparison (biased by immortal time)" in s2[1] and "months" not in s2[1]
    assert "no caliper" in s2[3] and "without replacement" in s2[3]
    assert "time-dependent covariate" in AnalysisSpec(method="time_dependent").settings_in_words()[1]


def test_describe_contains_every_filter_and_setting_line():
    spec = AnalysisSpec(regimens=(Regimen.GEM,), centres=("X",), ratio=2)
    text = spec.describe()
    lines = text.splitlines()
    assert lines[0] == "Filters:" and "Settings:" in lines
    for item in spec.filters_in_words() + spec.settings_in_words():
        assert f"- {item}" in lines


def test_default_covariates_are_pre_surgery():
    assert set(DEFAULT_PROPENSITY_COVARIATES) <= set(PRE_SURGERY_COVARIATES)


@pytest.mark.parametrize("centres", [("Leeds, St James's", "B"), ("50% A", "x,y,z"), ("%2C",), ("a%25b,",)])
def test_centre_names_with_commas_and_percent_signs_round_trip(centres):
    spec = AnalysisSpec(centres=centres)
    assert AnalysisSpec.from_query_string(spec.to_query_string(), strict=True).centres == centres
    assert AnalysisSpec.from_query(spec.to_query(), strict=True).centres == centres


# -- notices for link settings that cannot be used ------------------------------------------------

@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"lm": "30"}, "Link setting lm=30 ignored: landmark (months) must be between 1 and 24 (got 30); the default 6 "
                       "is used."),
        ({"cal": "3"}, "Link setting cal=3 ignored: caliper (SD of the logit) must be between 0.05 and 1 (got 3); "
                       "the default none is used."),
        ({"camax": "-1"}, "Link setting camax=-1 ignored: CA19-9 upper limit (U/mL) must be between 0 and 1e+07 "
                          "(got -1); the default none is used."),
        ({"ep": "rfs"}, "Link setting ep=rfs ignored: recurrence-free survival exists only after surgery"),
        ({"ratio": "many"}, "Link setting ratio=many ignored: invalid literal"),
        ({"amin": "70", "amax": "60"}, "ignored: age: minimum above maximum."),
    ],
)
def test_parse_query_says_in_one_line_what_a_link_could_not_set(query, fragment):
    spec, notices = AnalysisSpec.parse_query(query)
    assert spec.problems() == []
    assert len(notices) == 1 and fragment in notices[0]
    assert "\n" not in notices[0]


def test_parse_query_of_a_valid_link_has_no_notice():
    spec = AnalysisSpec(regimens=(Regimen.GEM,), landmark_months=10.0, endpoint="efs")
    assert AnalysisSpec.parse_query(dict(p.split("=") for p in spec.to_query_string().split("&"))) == (spec, ())


def test_field_range_is_what_validation_accepts():
    from core.spec import field_range

    for name in ("landmark_months", "caliper", "ratio", "min_at_risk", "age_min", "mets_max", "ca19_9_max"):
        lo, hi = field_range(name)
        assert AnalysisSpec(**{name: type(getattr(AnalysisSpec(), name) or lo)(hi)}).problems() == []
        with pytest.raises(ValueError):
            AnalysisSpec(**{name: hi + 1})
        with pytest.raises(ValueError):
            AnalysisSpec(**{name: lo - 0.01 if isinstance(lo, float) else lo - 1})
