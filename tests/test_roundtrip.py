"""A downloaded cohort (CSV, Excel or Parquet, as the Data page writes them) uploads again and gives
identical analysis results."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from core import analysis, cohort, export
from core.dictionary import IMPORTED_NAMES
from core.spec import AnalysisSpec

SPECS = [AnalysisSpec(), AnalysisSpec(method="naive", ratio=2), AnalysisSpec(regimens=("FOLFIRINOX",), replace=True)]


def _downloads(table: pd.DataFrame) -> dict[str, bytes]:
    prov = {"View URL": "http://localhost:8501/"}
    with zipfile.ZipFile(io.BytesIO(export.zip_bytes({"cohort.csv": export.csv_bytes(table)}, prov))) as z:
        csv = z.read("cohort.csv")
    return {
        "cohort.csv": csv,
        "cohort.xlsx": export.xlsx_bytes({"Cohort": table}, prov),
        "cohort.parquet": export.parquet_bytes(table),
    }


def _same(a: analysis.AnalysisResult, b: analysis.AnalysisResult) -> None:
    pd.testing.assert_frame_equal(a.methods, b.methods)
    pd.testing.assert_frame_equal(a.flow, b.flow)
    for x, y in zip(a.curves, b.curves, strict=True):
        pd.testing.assert_frame_equal(x.km, y.km)


@pytest.mark.parametrize("with_derived", [False, True], ids=["imported columns", "with derived columns"])
def test_downloaded_cohort_uploads_again_with_identical_results(with_derived):
    demo = cohort.demo()
    table = demo.data if with_derived else demo.data[list(IMPORTED_NAMES)]
    originals = [analysis.run(demo, spec) for spec in SPECS]
    for name, payload in _downloads(table).items():
        again = cohort.load(payload, filename=name)
        assert again.sha256 == demo.sha256, name
        for spec, original in zip(SPECS, originals, strict=True):
            _same(original, analysis.run(again, spec))
