"""Quick timing of core.survival on synthetic matched pairs (not a test; run by hand).

    .venv/bin/python scripts/bench_survival.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import survival as sv  # noqa: E402


def _data(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    treat = np.tile([1, 0], n // 2)
    age = rng.normal(64, 9, n)
    t = rng.exponential(10 / np.exp(np.log(0.7) * treat + 0.02 * (age - 64)))
    c = rng.uniform(2, 40, n)
    return pd.DataFrame(
        {
            "time": np.ceil(np.minimum(t, c) * 2) / 2,  # half-month grid: heavy ties
            "event": (t <= c).astype(int),
            "treat": treat,
            "pair": np.repeat(np.arange(n // 2), 2),
            "age": age,
            "ecog": rng.integers(0, 3, n),
        }
    )


def main() -> None:
    for n, reps in ((90, 20), (100_000, 5), (1_000_000, 2)):
        df = _data(n)
        arms = [(df["time"][df["treat"] == g], df["event"][df["treat"] == g]) for g in (0, 1)]
        jobs = {
            "KM both arms": lambda arms=arms: [sv.kaplan_meier(t, e) for t, e in arms],
            "median both arms": lambda arms=arms: [sv.median_survival(t, e) for t, e in arms],
            "log-rank": lambda df=df: sv.logrank(df["time"], df["event"], df["treat"]),
            "Cox treat + cluster": lambda df=df: sv.cox(df, "time", "event", ["treat"], cluster="pair"),
            "Cox 3 covariates + cluster": lambda df=df: sv.cox(
                df, "time", "event", ["treat", "age", "ecog"], cluster="pair"
            ),
            "RMST difference": lambda df=df: sv.rmst_difference(df["time"], df["event"], df["treat"], 24),
        }
        out = []
        for name, job in jobs.items():
            best = min(_timed(job) for _ in range(reps))
            out.append(f"{name} {best * 1e3:.1f} ms")
        print(f"n={n:>9,}: " + "; ".join(out))


def _timed(job) -> float:
    t0 = time.perf_counter()
    job()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
