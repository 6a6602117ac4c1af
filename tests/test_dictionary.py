"""The data dictionary: one definition, rendered in data/, used by name everywhere."""

import ast
from pathlib import Path

from core.dictionary import (
    COLUMNS,
    COLUMNS_BY_NAME,
    IMPORTED_NAMES,
    REQUIRED_NAMES,
    dictionary_frame,
    dictionary_markdown,
)

ROOT = Path(__file__).resolve().parent.parent
DRAFT_COLUMNS = 46  # the draft in shared/domain.md §3 lists 46 imported columns


def test_data_dictionary_document_is_current():
    assert (ROOT / "data" / "DICTIONARY.md").read_text() == dictionary_markdown() + "\n"


def test_every_draft_column_is_defined_once():
    assert len(IMPORTED_NAMES) == DRAFT_COLUMNS
    assert len({c.name for c in COLUMNS}) == len(COLUMNS)
    assert {"patient_id", "treatment_group", "vital_status", "last_followup_date"} <= set(REQUIRED_NAMES)


def test_dictionary_frame_has_what_a_reader_needs():
    df = dictionary_frame()
    assert list(df.columns) == ["column", "type", "allowed", "unit", "required", "arm", "derived", "meaning"]
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
