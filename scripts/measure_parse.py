"""Measure how long and how much memory reading an upload takes, by size (not a test; run by hand).

    .venv/bin/python scripts/measure_parse.py            # writes the "Reading uploads" section of docs/benchmarks.md
    .venv/bin/python scripts/measure_parse.py --no-write 1000 40000

Each export is a synthetic cohort (``core.synthetic``) written as CSV, read by
``core.isolation.run_isolated`` with its default limits (:func:`core.isolation.limits_for`),
as an upload is. Reported per size: wall-clock seconds, processor seconds of the parser
process, its peak resident-memory and address-space growth, and the limits it ran under.
Wall-clock time depends on how busy the machine is (the load average is reported); processor
time and memory do not, so the limits are set from those.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import isolation, synthetic  # noqa: E402
from scripts.doc_sections import replace_section  # noqa: E402

SIZES = (1_000, 10_000, 40_000, 100_000, 225_000)
MARKER = "\n## Reading uploads"


def _export(n: int) -> bytes:
    n_s = n // 4
    return synthetic.generate(n_surgery=n_s, n_chemotherapy=n - n_s, seed=7).to_csv(index=False).encode()


def measure(sizes: tuple[int, ...]) -> list[dict]:
    isolation.warm_up()
    rows = []
    for n in sizes:
        data = _export(n)
        load = os.getloadavg()[0]
        run = isolation.run_isolated(data, "export.csv")
        row = {"patients": n, "mb": len(data) / isolation.MIB, "wall": run.wall_s, "cpu": run.child_cpu_s,
               "rss": run.child_peak_extra_mb, "vm": run.child_peak_vm_extra_mb, "limits": run.limits,
               "ok": run.cohort is not None, "load": load,
               "error": None if run.error is None else run.error.problems[0].message}
        rows.append(row)
        print(row, flush=True)
    return rows


def section(rows: list[dict]) -> str:
    def f(x, d=1):
        return "—" if x is None else f"{x:.{d}f}"

    lines = [
        "## Reading uploads",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores "
        f"({platform.machine()}), Python {platform.python_version()}, by `scripts/measure_parse.py`: synthetic "
        "exports as CSV, each read once by `core.isolation.run_isolated` with its default limits, as an upload is. "
        "Wall-clock time depends on how busy the machine is (1-minute load average in the last column); processor "
        "time and memory do not, and the limits (`core.isolation.limits_for`) are set from them: processor time "
        f"{isolation.CPU_BASE_S:g} s + {isolation.CPU_PER_MIB_S:g} s per MB, wall-clock {isolation.WALL_FACTOR:g} x "
        f"that, address space {isolation.MEMORY_BASE_MB} MB + {isolation.MEMORY_PER_MIB_MB} MB per MB.",
        "",
        "| patients | file (MB) | loaded | wall-clock (s) | processor (s) | peak memory added (MB) | address space "
        "added (MB) | limits: processor / wall-clock (s), memory (MB) | load average |",
        "|---:|---:|:---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lim = r["limits"]
        lines.append(f"| {r['patients']:,} | {r['mb']:.1f} | {'yes' if r['ok'] else 'no'} | {f(r['wall'])} | "
                     f"{f(r['cpu'])} | {f(r['rss'], 0)} | {f(r['vm'], 0)} | {lim.cpu_s:g} / {lim.wall_s:g}, "
                     f"{lim.memory_mb} | {r['load']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=list(SIZES), help="numbers of patients")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    rows = measure(tuple(args.sizes))
    text = section(rows)
    print(text)
    if not args.no_write:
        replace_section(ROOT / "docs" / "benchmarks.md", text, MARKER)


if __name__ == "__main__":
    main()
