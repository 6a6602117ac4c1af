"""The data dictionary: one definition, rendered in data/, used by name everywhere."""

import ast
from pathlib import Path

from core.dictionary import (
    COLUMNS,
    COLUMNS_BY_NAME,
    DICTIONARY_VERSION,
    DICTIONARY_VERSIONS,
    IMPORTED,
    IMPORTED_NAMES,
    LABELS,
    REQUIRED_NAMES,
    SYNONYMS,
    C,
    dictionary_frame,
    dictionary_markdown,
)

ROOT = Path(__file__).resolve().parent.parent
DRAFT_COLUMNS = 46  # the draft in shared/domain.md §3 lists 46 imported columns (dictionary 1.0)
#: Dictionary 1.1 (issue 11): restaging, decision, exploration and end-of-chemotherapy dates, CEA.
V11_COLUMNS = {"restaging_date", "mdt_decision_date", "exploration_date", "chemo_end_date", "cea_baseline"}


def test_data_dictionary_document_is_current():
    assert (ROOT / "data" / "DICTIONARY.md").read_text() == dictionary_markdown() + "\n"


def test_every_draft_column_is_defined_once():
    assert len([c for c in IMPORTED if c.since == "1.0"]) == DRAFT_COLUMNS
    assert {c.name for c in IMPORTED if c.since == "1.1"} == V11_COLUMNS
    assert len(IMPORTED_NAMES) == DRAFT_COLUMNS + len(V11_COLUMNS)
    assert len({c.name for c in COLUMNS}) == len(COLUMNS)
    assert {"patient_id", "treatment_group", "vital_status", "last_followup_date"} <= set(REQUIRED_NAMES)


def test_dictionary_frame_has_what_a_reader_needs():
    df = dictionary_frame()
    assert list(df.columns) == ["column", "type", "allowed", "unit", "required", "arm", "derived", "since", "meaning"]
    assert df.loc[df["column"] == "popf_grade", "arm"].item() == "surgery only"
    assert COLUMNS_BY_NAME["age_at_diagnosis"].allowed() == "a whole number from 18 to 100 years"


def _string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
        and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docstrings}


def test_pages_and_ui_never_retype_column_names():
    names = set(COLUMNS_BY_NAME)
    offenders = {}
    for path in [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        hits = _string_literals(path) & names
        if hits:
            offenders[str(path.relative_to(ROOT))] = sorted(hits)
    assert offenders == {}


def test_the_literal_check_finds_a_retyped_name(tmp_path):
    bad = tmp_path / "page.py"
    bad.write_text('import streamlit as st\nst.write(df["age_at_diagnosis"])\n')
    assert "age_at_diagnosis" in _string_literals(bad)


def test_version_1_1_adds_only_optional_columns_for_both_arms():
    assert DICTIONARY_VERSION == "1.1.0" and DICTIONARY_VERSIONS == ("1.0", "1.1")
    new = [c for c in COLUMNS if c.since == "1.1"]
    assert {c.name for c in new} == V11_COLUMNS | {"explored_not_resected"}
    for c in new:
        assert c.requirement == "optional" and c.applies_to == "both", c.name
        assert c.name in SYNONYMS or c.derived, c.name  # other names for real exports
        assert c.name in LABELS, c.name  # a label of its own for tables and figures
    assert COLUMNS_BY_NAME[C.CEA_BASELINE].unit == "ng/mL"
    assert {c.kind for c in new if c.name != C.CEA_BASELINE and not c.derived} == {"date"}


def test_dictionary_document_has_the_migration_note():
    text = dictionary_markdown()
    assert text.startswith("# Data dictionary (version 1.1.0)")
    note = text.split("## Version 1.1 and migration from 1.0", 1)[1].split("\n## ", 1)[0]
    for name in V11_COLUMNS | {"explored_not_resected"}:
        assert f"`{name}`" in note
    assert "A 1.0 file loads unchanged" in note and "hash" in note
    assert "| `cea_baseline` | number | a number of at least 0 ng/mL | ng/mL | optional | both | 1.1 |" in text

