"""House rules that keep the code base in shape."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.test_app import PAGES
from tests.waits import APP_RUN_S

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_streamlit():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def test_architecture_check_detects_a_streamlit_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from streamlit import session_state\n")
    assert "streamlit" in _imports(bad)


# --- test-only tools stay out of the app -----------------------------------------------------------
#: Independent checks used by the tests (and by make bench's "obvious way"): never by the app.
TEST_ONLY = {"lifelines": "lifelines", "sklearn": "scikit-learn"}
#: What the app runs: the entry point, its pages, its session layer, the analysis, the serving scripts.
APP_CODE = [ROOT / "app.py", *(ROOT / "core").rglob("*.py"), *(ROOT / "ui").rglob("*.py"),
            *(ROOT / "views").rglob("*.py"), *(ROOT / "scripts").rglob("*.py")]


def _requirements(name: str) -> set[str]:
    lines = (ROOT / name).read_text().splitlines()
    return {line.split("==")[0].strip().lower() for line in lines if line.strip() and line[0].isalnum()}


def test_the_app_never_imports_the_test_only_tools():
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & set(TEST_ONLY)) for p in APP_CODE}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_test_only_tools_are_test_requirements():
    runtime, test = _requirements("requirements.txt"), _requirements("requirements-test.txt")
    for dist in TEST_ONLY.values():
        assert dist not in runtime, f"{dist} is not imported by the app: it belongs in requirements-test.txt"
        assert dist in test, dist


def test_every_page_runs_with_the_test_only_tools_unimportable():
    """The app as installed from requirements.txt alone: importing lifelines or sklearn raises."""
    code = textwrap.dedent(f"""
        import importlib.abc, sys
        BLOCKED = {sorted(TEST_ONLY)!r}

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(name + " is a test-only tool")

        sys.meta_path.insert(0, Block())
        for name in BLOCKED:
            try:
                __import__(name)
            except ImportError:
                pass
            else:
                raise SystemExit("the import blocker does not work for " + name)
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file("app.py", default_timeout={APP_RUN_S}).run()
        for page in {PAGES!r}:
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
            assert at.title, page
        assert not [m for m in sys.modules if m.split(".")[0] in BLOCKED]
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]
