"""``python -m benchmarks``: time the pipeline at 90 to 1,000,000 patients; write docs/benchmarks.md.

Each size runs in a fresh child process so that its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (90, 1_000, 10_000, 100_000, 1_000_000)
#: Share of operated patients in the benchmark cohorts (a registry has far more controls).
SURGERY_SHARE = 0.125
#: The obvious pipeline is quadratic in its matching loop: not run above this size.
OBVIOUS_MAX = 100_000
GOALS = {90: 0.030, 100_000: 0.3, 1_000_000: 3.0}


def _one_size(n: int, runs: int, obvious_runs: int) -> dict:
    from benchmarks import pipelines
    from core import analysis, synthetic
    from core.cohort import Cohort
    from core.dictionary import DICTIONARY_VERSION

    n_s = max(1, round(n * SURGERY_SHARE)) if n > 90 else 45
    n_c = n - n_s
    t0 = time.perf_counter()
    frame = synthetic.generate(n_surgery=n_s, n_chemotherapy=n_c, seed=synthetic.DEMO_SEED)
    data = pipelines.cohort_table(frame)
    setup = time.perf_counter() - t0
    pipelines.fast(data)  # warm-up
    fast_times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = pipelines.fast(data)
        fast_times.append(time.perf_counter() - t)
    full_times = []
    cohort = Cohort(data=data, sha256="benchmark", dictionary_version=DICTIONARY_VERSION, notes=(), source_name="bench")
    for _ in range(max(1, runs // 2)):
        t = time.perf_counter()
        analysis.run(cohort, analysis.AnalysisSpec())
        full_times.append(time.perf_counter() - t)
    result = {
        "n": n, "n_surgery": n_s, "n_chemotherapy": n_c, "setup_s": setup,
        "fast_median_s": statistics.median(fast_times), "fast_runs": runs,
        "full_median_s": statistics.median(full_times), "full_runs": len(full_times),
        "hr_fast": out.hr, "n_matched": out.n_matched,
    }
    if n <= OBVIOUS_MAX and obvious_runs:
        obvious_times = []
        for _ in range(obvious_runs):
            t = time.perf_counter()
            ob = pipelines.obvious(data)
            obvious_times.append(time.perf_counter() - t)
        result.update(obvious_median_s=statistics.median(obvious_times), obvious_runs=obvious_runs, hr_obvious=ob.hr)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.machine()}, Python {platform.python_version()}"


def _markdown(results: list[dict], command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} on {_machine()}.",
        "",
        f"Command: `{command}` (also `make bench`).",
        "",
        "## Analysis pipeline (issue: engine)",
        "",
        "Pipeline: filter -> propensity score (logistic regression) -> 1:1 nearest-neighbour match within 0.2 SD of "
        "the logit -> Kaplan-Meier per arm, log-rank test and Cox model with robust SE clustered on pairs, OS from "
        f"chemotherapy start. Synthetic cohorts with {SURGERY_SHARE:.1%} operated patients (`core.synthetic`). "
        "Median wall time of several runs after a warm-up; generating the cohort is not timed. *core* is the "
        "project's code (`benchmarks/pipelines.py::fast`); *obvious* is the same pipeline with scikit-learn, a "
        "per-patient matching loop and lifelines' `CoxPHFitter(cluster_col=...)` (`::obvious`, not run above "
        f"{OBVIOUS_MAX:,} patients: its loop is quadratic). *Full dashboard run* is `core.analysis.run` with the "
        "default settings: the naive and landmark matched comparisons, the time-dependent Cox model, balance, "
        "curves, risk table and RMST (what one filter change costs).",
        "",
        "| patients | operated | core pipeline | goal | obvious way | speed-up | full dashboard run | peak memory | HR core / obvious |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        goal = GOALS.get(r["n"])
        goal_text = "—" if goal is None else (f"<= {goal * 1000:.0f} ms" if goal < 1 else f"<= {goal:g} s")
        ok = "" if goal is None else (" ✅" if r["fast_median_s"] <= goal else " ❌")
        ob = r.get("obvious_median_s")
        speedup = f"{ob / r['fast_median_s']:.0f}x" if ob else "—"
        lines.append(
            f"| {r['n']:,} | {r['n_surgery']:,} | {_t(r['fast_median_s'])}{ok} | {goal_text} | "
            f"{_t(ob) if ob else 'not run'} | {speedup} | {_t(r['full_median_s'])} | {r['peak_rss_mb']:.0f} MB | "
            f"{r['hr_fast']:.3f} / {r.get('hr_obvious', float('nan')):.3f} |"
        )
    lines += [
        "",
        "Peak memory is the maximum resident set size of the child process that generated the cohort and ran "
        "every pipeline at that size (goal at 1,000,000 patients: under 2 GB).",
        "",
    ]
    return "\n".join(lines)


def _t(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--obvious-runs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_one_size(args.child, args.runs, args.obvious_runs)))
        return
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        runs = args.runs if n < 1_000_000 else max(3, args.runs // 2)
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--child", str(n), "--runs", str(runs),
             "--obvious-runs", str(args.obvious_runs)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{n:>9,} patients: core {_t(results[-1]['fast_median_s'])}, full {_t(results[-1]['full_median_s'])}",
              flush=True)
    command = "python -m benchmarks" + ("" if args.sizes == ",".join(map(str, SIZES)) else f" --sizes {args.sizes}")
    text = _markdown(results, command)
    existing = args.out.read_text() if args.out.exists() else ""
    marker = "\n## Browser"
    tail = existing[existing.index(marker):] if marker in existing else ""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + tail)
    print(text)


if __name__ == "__main__":
    main()
