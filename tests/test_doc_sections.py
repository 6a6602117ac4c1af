"""The measurement scripts replace only their own section of docs/benchmarks.md."""

from __future__ import annotations

import doctest

from scripts import doc_sections


def test_examples():
    assert doctest.testmod(doc_sections).failed == 0


def test_other_sections_are_kept(tmp_path):
    p = tmp_path / "benchmarks.md"
    p.write_text("# Benchmarks\n\nintro\n\n## Browser: filter change\nold\n\n## Load test\nload\n", encoding="utf-8")
    doc_sections.replace_section(p, "## Browser: filter change\nnew\n", "\n## Browser: filter change")
    assert p.read_text(encoding="utf-8") == "# Benchmarks\n\nintro\n\n## Browser: filter change\nnew\n\n## Load test\nload\n"
