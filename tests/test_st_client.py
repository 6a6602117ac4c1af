"""The load test's protocol client against a real server: it sees what a browser sees, uploads like
one, and two such sessions each get their own numbers (websocket-level isolation check)."""

from __future__ import annotations

import asyncio

import pytest

from core import analysis, synthetic
from core import cohort as cohort_mod
from core.dictionary import C
from core.format import fmt_num
from core.spec import AnalysisSpec
from scripts.loadtest import steps_for
from scripts.st_client import ProtocolError, StreamlitClient
from tests.browser import streamlit_server

HR = "Hazard ratio"


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


def _hr(cohort, spec: AnalysisSpec) -> str:
    res = analysis.run(cohort, spec)
    return fmt_num(res.hr.hr, 2) if res.hr is not None else ""


def test_client_reads_the_overview_and_changes_a_filter(server):
    demo = cohort_mod.demo()
    steps = steps_for(demo, "protocol")[:4]

    async def run():
        async with StreamlitClient(server) as s:
            first = await s.open("")
            assert first.status == 0 and not s.exceptions()
            seen = [s.metric(HR)]
            for step in steps:
                await s.set_widget(s.widget("multiselect", step.widget), string_array=list(step.values))
                seen.append(s.metric(HR))
                want = step.spec.filters_in_words()[0] if step.values else "No filters: whole cohort"
                assert want in s.text().replace("\\", ""), (want, s.text()[:400])
            with pytest.raises(ProtocolError):
                s.widget("multiselect", "no such filter")
            return seen

    seen = asyncio.run(run())
    assert seen == [_hr(demo, AnalysisSpec())] + [_hr(demo, step.spec) for step in steps]
    assert len(set(seen)) >= 2, "the views differ, so a stale number would be caught"


def test_two_sessions_one_upload_each_sees_only_its_own_numbers(server, tmp_path):
    # A 6,000-patient export is over 1 MB: the upload also goes through the multipart path that
    # Starlette would otherwise spool to disk.
    data = synthetic.generate(n_surgery=1500, n_chemotherapy=4500, seed=77)
    marker = "C99-MARKER"
    data[C.CENTRE_ID] = data[C.CENTRE_ID].where(data.index % 7 != 0, marker)
    path = tmp_path / "export.csv"
    data.to_csv(path, index=False)
    assert path.stat().st_size > 1024 * 1024
    uploaded, demo = cohort_mod.load(path), cohort_mod.demo()
    up_steps, demo_steps = steps_for(uploaded, "protocol")[:2], steps_for(demo, "protocol")[:2]

    async def run():
        async with StreamlitClient(server) as a, StreamlitClient(server) as b:
            await a.open("data")
            await b.open("")
            await a.upload(a.of_type("file_uploader")[0], path.name, path.read_bytes())
            assert "loaded: 6000 patients" in a.text().replace("\\", "").replace(",", ""), a.text()[-800:]
            a.page_script_hash = ""
            await a.rerun(page_name="overview")
            out_a, out_b = [a.metric(HR)], [b.metric(HR)]
            for sa, sb in zip(up_steps, demo_steps, strict=True):
                await asyncio.gather(a.set_widget(a.widget("multiselect", "Centre"), string_array=list(sa.values)),
                                     b.set_widget(b.widget("multiselect", "Centre"), string_array=list(sb.values)))
                out_a.append(a.metric(HR))
                out_b.append(b.metric(HR))
                assert marker not in b.text() and marker not in str(list(b.widget("multiselect", "Centre").options))
            # options read "C99-MARKER (S n · C n)": the centre and its patients per arm
            assert any(o.startswith(f"{marker} (") for o in a.widget("multiselect", "Centre").options)
            return out_a, out_b

    out_a, out_b = asyncio.run(run())
    assert out_a == [_hr(uploaded, AnalysisSpec())] + [_hr(uploaded, s.spec) for s in up_steps]
    assert out_b == [_hr(demo, AnalysisSpec())] + [_hr(demo, s.spec) for s in demo_steps]
