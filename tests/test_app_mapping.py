"""AppTest: the Data page's mapping step for exports with other column names and codes."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import isolation
from core.dictionary import C

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = ROOT / "tests" / "exports"
ITALIAN = (EXPORTS / "modena_it.csv").read_bytes()


def _plain(text: str) -> str:
    return text.replace("\\", "")


def _data_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("views/data.py").run()
    return at


def _upload(at: AppTest, name: str, content: bytes, *, key: str = "upload", mime: str = "text/csv") -> AppTest:
    at.file_uploader(key=key).set_value((name, content, mime)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _selectbox(at: AppTest, text: str):
    hits = [s for s in at.selectbox if text in _plain(s.label)]
    assert len(hits) == 1, [s.label for s in at.selectbox]
    return hits[0]


def _button(at: AppTest, suffix: str):
    return next(b for b in at.button if (b.key or "").endswith(suffix))


def _markdown(at: AppTest) -> str:
    return " ".join(_plain(m.value) for m in at.markdown)


def _sidebar_says(at: AppTest, text: str) -> bool:
    return any(text in c.value for c in at.sidebar.caption) or any(text in m.value for m in at.sidebar.markdown)


def _used_mapping(at: AppTest) -> dict:
    return json.loads(at.session_state["mapping_step_state"]["used"][1])


def test_an_italian_export_waits_for_its_mapping_then_loads():
    at = _upload(_data_page(), "modena_it.csv", ITALIAN)
    assert any("uses other column names or codes" in _plain(i.value) for i in at.info)
    assert "Map the export to the data dictionary" in _markdown(at)
    assert _sidebar_says(at, "45 surgery, 45 chemotherapy")  # nothing loaded yet: the demo stays
    assert _selectbox(at, "Sesso").value == C.SEX and _selectbox(at, "Note").value == ""
    gnp = _selectbox(at, "'GnP' (1 row)")
    assert gnp.value == "?"
    assert _selectbox(at, "'Whipple' (1 row)").value == "PD"
    assert [r.value for r in at.radio if "03/11/2021" in r.label] == ["dmy"]  # detected from 25/03/2021
    gnp.set_value("GEM_NABPAC").run()
    _button(at, "_load").click().run()
    assert not at.exception
    assert any("modena_it.csv loaded: 6 patients (3 surgery, 3 chemotherapy)" in _plain(s.value) for s in at.success)
    assert any("Read with a column mapping" in _plain(i.value) for i in at.info)
    assert "Map the export to the data dictionary" not in _markdown(at)
    assert not _sidebar_says(at, "45 surgery, 45 chemotherapy")
    saved = _used_mapping(at)
    assert saved["columns"]["Sesso"] == "sex" and saved["values"]["chemo_regimen"]["GnP"] == "GEM_NABPAC"
    assert saved["date_order"] == "dmy"
    assert any(d.label == "Download the mapping used (JSON)" for d in at.get("download_button"))


def test_the_export_with_its_mapping_file_loads_at_once():
    at = _upload(_data_page(), "modena_it.csv", ITALIAN)
    _selectbox(at, "'GnP' (1 row)").set_value("GEM_NABPAC").run()
    _button(at, "_load").click().run()
    mapping_file = at.session_state["mapping_step_state"]["used"][1]

    fresh = _data_page()
    _upload(fresh, "modena-mapping.json", mapping_file, key="upload_mapping", mime="application/json")
    _upload(fresh, "modena_it_2024.csv", ITALIAN)
    assert any("modena_it_2024.csv loaded: 6 patients" in _plain(s.value) for s in fresh.success)
    assert "Map the export to the data dictionary" not in _markdown(fresh)
    assert not fresh.warning


def test_a_mapping_file_uploaded_after_the_export_applies_at_once():
    at = _upload(_data_page(), "modena_it.csv", ITALIAN)
    assert any(d.label == "Download this mapping (JSON)" for d in at.get("download_button"))
    from core.mapping import ExportMapping, to_json
    from core.upload import prepare

    prep = prepare(ITALIAN, "x.csv")
    values = {k: dict(v) for k, v in prep.mapping.values.items()}
    values.setdefault(C.CHEMO_REGIMEN, {})["GnP"] = "GEM_NABPAC"
    data = to_json(ExportMapping(prep.mapping.columns, {}, values, "dmy"))
    _upload(at, "m.json", data, key="upload_mapping", mime="application/json")
    assert any("modena_it.csv loaded: 6 patients" in _plain(s.value) for s in at.success)
    assert "Map the export to the data dictionary" not in _markdown(at)


def test_an_undecided_code_is_reported_with_the_original_row_and_the_step_stays():
    at = _upload(_data_page(), "modena_it.csv", ITALIAN)
    _button(at, "_load").click().run()
    assert any("modena_it.csv was not loaded: 1 problem found" in _plain(e.value) for e in at.error)
    problems = at.dataframe[0].value
    assert problems[["row", "column", "value"]].values.tolist() == [["4", "chemo_regimen (Schema chemioterapia)",
                                                                      "GnP"]]
    assert "Map the export to the data dictionary" in _markdown(at)  # fix the mapping and load again
    _selectbox(at, "'GnP' (1 row)").set_value("GEM_NABPAC").run()
    _button(at, "_load").click().run()
    assert any("loaded: 6 patients" in _plain(s.value) for s in at.success)


AMBIGUOUS = (
    b"Patient,Centre,Group,Diagnosis date,Age,Sex,ECOG,Location,Resectability,Liver mets,Chemo start,Regimen,"
    b"Setting,Response,Recurrence,Last imaging,Status,Last follow-up\n"
    b"A1,BOS,chemotherapy,03/04/2021,60,F,1,head,resectable,2,04/05/2021,GEM,palliative,SD,no,09/10/2021,alive,"
    b"10/11/2021\n"
    b"A2,BOS,chemotherapy,01/02/2022,70,M,0,head,borderline,1,02/03/2022,GEM,palliative,PR,no,06/07/2022,alive,"
    b"08/09/2022\n"
)


def test_ambiguous_day_month_must_be_answered_before_loading():
    at = _upload(_data_page(), "boston.csv", AMBIGUOUS)
    radio = next(r for r in at.radio if "03/11/2021" in r.label)
    assert radio.value is None  # not guessed
    assert _button(at, "_load").disabled
    assert any("Say whether dates such as '03/04/2021' (Diagnosis date)" in _plain(e.value) for e in at.error)
    radio.set_value("mdy").run()
    assert not _button(at, "_load").disabled
    _button(at, "_load").click().run()
    assert any("boston.csv loaded: 2 patients" in _plain(s.value) for s in at.success)
    assert _used_mapping(at)["date_order"] == "mdy"


def test_a_mapping_file_that_does_not_fit_says_why_and_fills_in_what_applies():
    at = _upload(_data_page(), "m.json", json.dumps({
        "kind": "pdac-lm-export-mapping", "version": 1, "dictionary_version": "1.0.0",
        "columns": {"Sesso": "sex", "Colonna sparita": "age_at_diagnosis"},
        "values": {"chemo_regimen": {"GnP": "GEM_NABPAC"}}}).encode(), key="upload_mapping", mime="application/json")
    _upload(at, "modena_it.csv", ITALIAN)
    warnings = " ".join(_plain(w.value) for w in at.warning)
    assert "does not fit this export" in warnings and "'Colonna sparita'" in warnings
    assert _selectbox(at, "'GnP' (1 row)").value == "GEM_NABPAC"  # the saved choice, filled in
    assert "Map the export to the data dictionary" in _markdown(at)


def test_a_broken_mapping_file_is_named_and_the_export_is_still_mapped():
    at = _upload(_data_page(), "m.json", b"{oops", key="upload_mapping", mime="application/json")
    _upload(at, "modena_it.csv", ITALIAN)
    assert any("The mapping file m.json cannot be used: The mapping file is not valid JSON" in _plain(w.value)
               for w in at.warning)
    assert "Map the export to the data dictionary" in _markdown(at)


def test_cancel_drops_the_waiting_export():
    at = _upload(_data_page(), "modena_it.csv", ITALIAN)
    _button(at, "_cancel").click().run()
    assert "Map the export to the data dictionary" not in _markdown(at)
    assert not any("uses other column names" in _plain(i.value) for i in at.info)
    assert at.session_state["mapping_step_state"].get("step") is None
    assert _sidebar_says(at, "45 surgery, 45 chemotherapy")


def test_redcap_checkbox_fields_are_mapped_box_by_box():
    at = _upload(_data_page(), "redcap_raw.csv", (EXPORTS / "redcap_raw.csv").read_bytes())
    assert _selectbox(at, "resezione_vascolare (3 boxes").value == C.VASCULAR_RESECTION
    box = _selectbox(at, "Box 1 (resezione_vascolare___1)")
    assert box.value == "?"
    box.set_value("venous").run()
    assert _selectbox(at, "Box 1 (resezione_vascolare___1)").value == "venous"
    assert [s.value for s in at.selectbox if _plain(s.label) == "Several boxes checked"] == ["both", "multiple"]


def test_our_own_layout_still_loads_at_once():
    lines = (ROOT / "data" / "demo_cohort.csv").read_bytes().splitlines(keepends=True)
    at = _upload(_data_page(), "small.csv", b"".join(lines[:61]))
    assert any("small.csv loaded: 60 patients" in _plain(s.value) for s in at.success)
    assert "Map the export to the data dictionary" not in _markdown(at)
    assert not any(d.label == "Download the mapping used (JSON)" for d in at.get("download_button"))


def test_the_template_is_offered_on_the_data_page():
    at = _data_page()
    assert any(d.label == "Data-collection template (.xlsx)" for d in at.get("download_button"))


def test_the_mapping_step_parses_only_in_the_limited_child(monkeypatch):
    tasks = []
    real = isolation.run_isolated

    def spy(data, filename, **kw):
        tasks.append(getattr(kw.get("task"), "func", kw.get("task")).__name__)
        return real(data, filename, **kw)

    monkeypatch.setattr(isolation, "run_isolated", spy)
    at = _upload(_data_page(), "modena_it.csv", ITALIAN)
    _selectbox(at, "'GnP' (1 row)").set_value("GEM_NABPAC").run()
    _button(at, "_load").click().run()
    assert tasks == ["prepare", "load_mapped"]


def test_dropping_the_upload_drops_the_waiting_export(monkeypatch):
    """Idle timeout and 'use the demo' clear the export waiting for its mapping too (patient data)."""
    from ui import state

    fake = types.SimpleNamespace(session_state={state.MAPPING: {"step": object(), "used": ("m.json", b"{}")},
                                                "upload_report": object()})
    monkeypatch.setattr(state, "st", fake)
    state.mark_pending("x.csv")
    assert state.last_report().pending
    state.use_demo()
    assert state.MAPPING not in fake.session_state and state.last_report() is None


@pytest.mark.parametrize("name", ["london_en.xlsx", "redcap_raw.csv"])
def test_other_exports_open_the_step_without_errors(name):
    at = _upload(_data_page(), name, (EXPORTS / name).read_bytes())
    assert "Map the export to the data dictionary" in _markdown(at)
    assert not at.exception
