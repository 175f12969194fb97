"""False alarms of the CompStat flags with the years shuffled, and the cost of the tests.

    python benchmarks/bench_significance.py --store crimescope.duckdb [--shuffles 10]

For each as-of date June 30, 2013-2017 the days of the year to date are swapped with the
same month/day a year earlier with probability 1/2 (the placebo of
tests/stats/test_false_alarms.py, there with 4 shuffles a year); prints the flagged share
of cells and the share of tables with any flag (under this global null, the false
discovery rate), then the unshuffled tables' flags. Then times ``compstat`` (warm median
of 7) with and without the tests, as a ratio within one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "stats"))
from _machine import command, describe  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--shuffles", type=int, default=10)
    args = ap.parse_args(argv)
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
    from test_false_alarms import _cells, year_to_june  # the test's placebo, one definition

    from crimescope.categories import load_taxonomy
    from crimescope.stats import compstat, significance as sg
    from crimescope.stats.periods import DEFAULT_COMPSTAT_CATEGORIES
    from crimescope.store import Store

    print("command:", command())
    print("machine:", describe())
    tax = load_taxonomy()
    cats = [tax[c] for c in DEFAULT_COMPSTAT_CATEGORIES]
    rng = np.random.default_rng(20120101)
    with Store(args.store, read_only=True) as store:
        rows = []
        for year in range(2013, 2018):
            a, daily, days = year_to_june(store, cats, year)
            real = sg.compstat_tests(_cells(daily, cats, a, []), range(2000, 2018))[1]
            for _ in range(args.shuffles):
                swap = [x for x in days if rng.random() < 0.5]
                s = sg.compstat_tests(_cells(daily, cats, a, swap), range(2000, 2018))[1]
                rows.append({"as_of": a, "tested": s["tested"], "flagged": s["flagged"]})
            print(f"{a}: unshuffled {real['flagged']} of {real['tested']} cells flagged")
        df = pd.DataFrame(rows)
        print(f"shuffled tables: {len(df)}; cells tested per table {df['tested'].min()}-{df['tested'].max()}")
        print(f"flagged share of cells: mean {(df['flagged'] / df['tested']).mean():.4f}, "
              f"max {(df['flagged'] / df['tested']).max():.4f} (stated level {sg.FDR_LEVEL})")
        print(f"tables with any flag: {(df['flagged'] > 0).mean():.3f} ({int((df['flagged'] > 0).sum())} of {len(df)})")

        def med(fn):
            fn()
            ts = []
            for _ in range(7):
                t0 = time.perf_counter()
                fn()
                ts.append((time.perf_counter() - t0) * 1000)
            return statistics.median(ts)

        with_tests = med(lambda: compstat(store, "2017-03-08"))
        orig = sg.compstat_tests
        sg.compstat_tests = lambda df, cov: (df, {"tested": 0, "flagged": 0, "level": 0.05, "cells": len(df)})
        try:
            without = med(lambda: compstat(store, "2017-03-08"))
        finally:
            sg.compstat_tests = orig
        print(f"compstat 2017-03-08 (444 cells), warm median: {with_tests:.0f} ms with the tests, "
              f"{without:.0f} ms without (ratio {with_tests / without:.2f})")


if __name__ == "__main__":
    main()
