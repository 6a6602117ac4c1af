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
            t0 = time.perf_counter()
            res = match_nearest(d, "surgery", cov, **kw)
            t1 = time.perf_counter()
            print(f"  {kw!s:40s} {t1 - t0:6.3f} s  matched treated {res.n_treated_matched}")
