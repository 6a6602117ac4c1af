"""Tests of core.export_notes: column definitions and the meaning of the suppression marks (by hand)."""

from __future__ import annotations

import pytest

from core.export_notes import COLUMN_NOTES, column_note, legend, suppression_marks, table_notes


@pytest.mark.parametrize(("cells", "expected"), [
    (["<11", "7", 3, None, 2.5], ([11], False)),
    (["*", "12"], ([], True)),
    (["only <5 surgery patients (fewer than 10)", "<5/45", "12 / <5"], ([5], False)),
    (["<11", "<20", "*"], ([11, 20], True)),
    (["<0.001", "p <0.05", "a * b", "**", "<1"], ([], False)),  # p-values, text, k < 2: no marks
])
def test_suppression_marks_are_found_in_cells(cells, expected):
    assert suppression_marks(cells) == expected


def test_legend_explains_each_mark_with_its_k():
    assert legend([11], False) == ["<11: a count from 1 to 10, hidden by small-cell suppression (k = 11)."]
    lines = legend([5, 11], True)
    assert lines[0].startswith("<5: a count from 1 to 4") and lines[1].startswith("<11: a count from 1 to 10")
    assert lines[2].startswith("*: a count hidden only so that a hidden count cannot be recovered by subtraction")
    assert legend([], False) == []


def test_std_err_is_defined_as_the_se_of_minus_log_survival_and_compared_with_r():
    note = column_note("se_neg_log_survival")
    assert note.startswith("standard error of -log S(t)")
    assert "NOT of S(t)" in note and "survfit()$std.err" in note
    assert "se_neg_log_survival x survival" in note  # what R's robust std.err holds


def test_time_columns_say_months_and_their_origin():
    assert "since the landmark" in column_note("months_since_landmark")
    assert "days / 30.4375" in column_note("months_since_landmark")
    assert column_note("months_since_chemotherapy_start").endswith("since the start of chemotherapy.")
    assert column_note("months_since_diagnosis").endswith("since diagnosis.")
    assert column_note("survival_at_36_months").startswith("Kaplan-Meier survival 36 months after the start")
    assert column_note("median_months").startswith("median survival time of the endpoint in months")


def test_table_notes_list_known_columns_then_marks():
    notes = table_notes(["arm", "unknown", 3, "p"], ["surgery", "<11", "*"])
    assert [n.split(":")[0] for n in notes] == ["arm", "p", "<11", "*"]
    assert table_notes(["x"], ["a"]) == []


def test_every_note_is_a_sentence():
    for name, text in COLUMN_NOTES.items():
        assert text.endswith("."), name
