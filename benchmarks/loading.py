"""``python -m benchmarks.loading``: how long reading a file takes; writes a section of docs/benchmarks.md.

The tests check that every file gives the right cohort or a readable problem list and stays
within its memory limit; how long that takes is measured here (a wall-clock budget in a test
fails under load without anything being wrong). Measured:

* every file of the hostile corpus (tests/hostile/, the committed files, and its
  separator x decimal mark x encoding x line-end matrix), each read in the isolated child
  process the app uses (:func:`core.isolation.run_isolated`; time from starting the child to
  reaping it, ``IsolatedRun.wall_s``; the fork server is started beforehand) - goal <= 2 s;
* a 90-patient CSV read end to end in the child, median of 5 - goal < 1 s;
* 100,000 rows loaded, validated and derived in-process (:func:`core.cohort.load`) - goal
  "a few seconds" (<= 15 s on a shared runner).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "hostile"
MARKER = "\n## Reading files"
GOALS = {"hostile": 2.0, "ninety": 1.0, "rows_100k": 15.0}


def _corpus() -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(HOSTILE.iterdir()) if p.is_file() and p.suffix != ".py"}
    files.update({f"matrix/{p.name}": p.read_bytes() for p in sorted((HOSTILE / "matrix").iterdir()) if p.is_file()})
    return files


def measure(runs: int = 5) -> dict:
    """Time the hostile corpus, a 90-patient CSV and 100,000 rows; returns the figures."""
    from core import synthetic
    from core.cohort import load
    from core.isolation import run_isolated, warm_up

    load_start = os.getloadavg()[0]
    warm_up()
    corpus = _corpus()
    first = next(iter(corpus))
    run_isolated(corpus[first], first)  # the fork server's first child
    hostile = {}
    for name, data in corpus.items():
        run = run_isolated(data, Path(name).name)
        hostile[name] = (run.wall_s, run.child_peak_extra_mb, run.cohort is not None)
    ninety = synthetic.generate(n_surgery=40, n_chemotherapy=50, seed=3).to_csv(index=False).encode()
    ninety_s = statistics.median(run_isolated(ninety, "ninety.csv").wall_s for _ in range(runs))
    lines = (ROOT / "tests" / "corpus" / "valid_minimal.csv").read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    rows = [header] + [f"P{k}_{line}" for k in range(100_000 // len(body) + 1) for line in body][:100_000]
    data = ("\n".join(rows) + "\n").encode()
    t0 = time.perf_counter()
    cohort = load(data, filename="big.csv")
    rows_s = time.perf_counter() - t0
    assert len(cohort.data) == 100_000
    return {"hostile": hostile, "ninety_s": ninety_s, "rows_100k_s": rows_s, "runs": runs,
            "load": (load_start, os.getloadavg()[0])}


def _t(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _ok(value: float, goal: float) -> str:
    return " ✅" if value <= goal else " ❌"


def markdown(m: dict, command: str, machine: str) -> str:
    """The section of docs/benchmarks.md for the figures of :func:`measure`."""
    hostile = m["hostile"]
    times = [t for t, _, _ in hostile.values()]
    worst = max(hostile, key=lambda n: hostile[n][0])
    peak = max((mb for _, mb, _ in hostile.values() if mb is not None), default=float("nan"))
    loaded = sum(ok for _, _, ok in hostile.values())
    lines = [
        "## Reading files",
        "",
        f"Measured {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine}; load average "
        f"{m['load'][0]:.1f} at the start, {m['load'][1]:.1f} at the end (1 minute; other jobs share the machine).",
        "",
        f"Command: `{command}` (also part of `make bench`). The tests check what each file gives (the right cohort "
        "or a readable problem list) and its memory; the time is measured here, not asserted in a test.",
        "",
        "| what | files | median | max | goal |",
        "|---|---|---|---|---|",
        f"| hostile corpus, each file in the isolated child (tests/hostile/, {loaded} loaded, "
        f"{len(hostile) - loaded} refused with problems; slowest: {worst}) | {len(hostile)} | "
        f"{_t(statistics.median(times))} | {_t(max(times))}{_ok(max(times), GOALS['hostile'])} | "
        f"<= {GOALS['hostile']:g} s each |",
        f"| 90-patient CSV end to end in the isolated child (median of {m['runs']}) | 1 | {_t(m['ninety_s'])}"
        f"{_ok(m['ninety_s'], GOALS['ninety'])} | — | < {GOALS['ninety']:g} s |",
        f"| 100,000 rows: load, validate, derive (in-process) | 1 | {_t(m['rows_100k_s'])}"
        f"{_ok(m['rows_100k_s'], GOALS['rows_100k'])} | — | <= {GOALS['rows_100k']:g} s |",
        "",
        f"Largest extra memory of a hostile file's child: {peak:.0f} MiB (the tests assert < 100 MiB).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from benchmarks.__main__ import _machine
    from scripts.doc_sections import replace_section

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    section = markdown(measure(args.runs), "python -m benchmarks.loading", _machine())
    replace_section(args.out, section, MARKER)
    print(section)


if __name__ == "__main__":
    main()
