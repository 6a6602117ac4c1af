"""Measurement scripts write their results as one section of a Markdown document (docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path


def replace_section(path: Path, section: str, marker: str) -> None:
    """Put ``section`` in place of the section of ``path`` that starts with ``marker`` (a line
    ``"\\n## ..."``) and runs to the next ``## `` heading; append it when there is none.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "b.md"
    >>> _ = p.write_text("# B\\n\\n## A\\nold\\n\\n## C\\nc\\n")
    >>> replace_section(p, "## A\\nnew\\n", "\\n## A")
    >>> p.read_text()
    '# B\\n\\n## A\\nnew\\n\\n## C\\nc\\n'
    >>> replace_section(p, "## D\\nd\\n", "\\n## D")
    >>> p.read_text().endswith("## C\\nc\\n\\n## D\\nd\\n")
    True
    """
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if marker in text:
        start = text.index(marker)
        end = text.find("\n## ", start + len(marker))
        text = text[:start] + "\n" + section + (text[end:] if end != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")
