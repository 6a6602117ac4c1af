"""Quick timing of core.matching.match_nearest (not a test): python scripts/time_matching.py"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core.matching import match_nearest  # noqa: E402


def cohort(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(64, 9, n).round()
    ecog = rng.integers(0, 3, n)
    mets = rng.choice(["1", "2-3", ">3"], n)
    regimen = rng.choice(["FOLFIRINOX", "GEM", "GEM_NABPAC", "OTHER"], n)
    lca = rng.normal(6, 1.5, n)
    centre = rng.choice(list("ABCDEFGH"), n)
    lp = (
        -2.6 - 0.03 * (age - 64) - 0.4 * ecog + 0.5 * (mets == "1") - 0.3 * lca + 2.45 + 0.3 * (regimen == "FOLFIRINOX")
    )
    surgery = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return pd.DataFrame(dict(surgery=surgery, age=age, ecog=ecog, mets=mets, regimen=regimen, lca=lca, centre=centre))


if __name__ == "__main__":
    cov = ["age", "ecog", "mets", "regimen", "lca"]
    for n in (100_000, 1_000_000):
        d = cohort(n)
        print(f"n={n}, treated share {d.surgery.mean():.3f}")
        for kw in (
            {},
            {"caliper": None},
            {"ratio": 2},
            {"replace": True},
            {"exact": ["centre"]},
            {"replace": True, "ratio": 2},
        ):
            wall, cpu = [], []
            for _ in range(3):
                t0, c0 = time.perf_counter(), time.process_time()
                res = match_nearest(d, "surgery", cov, **kw)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            print(
                f"  {kw!s:40s} best wall {min(wall):6.3f} s, best CPU {min(cpu):6.3f} s, "
                f"matched treated {res.n_treated_matched}"
            )
