"""Benchmark of the coverage checks (not a test): what refusing honestly costs a count.

    python benchmarks/bench_coverage.py --store PATH [--repeat 15]

Point it at the quick-start store (six crime files + the homicide extract). It copies the
store to a temporary folder twice: one copy with the ``coverage`` table (recorded at ingest),
one without (a store written before coverage existed, opened read-only: coverage is derived
from its rows once per process). Prints the command, the machine and medians of: deriving the
coverage from the rows (cold, a fresh connection each time), ``coverage.check`` on a warm
cache, and ``count`` (which calls the check) vs the bare query it wraps.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import command, describe  # noqa: E402


def timeit(fn, repeat: int, warm: bool = True) -> float:
    if warm:
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--repeat", type=int, default=15)
    a = ap.parse_args()

    from crimescope.stats import count
    from crimescope.stats.query import count_expr, incidents_table
    from crimescope.store import Store
    from crimescope.store import coverage

    print(f"command: {command()}")
    print(f"machine: {describe()}")
    tmp = Path(tempfile.mkdtemp(prefix="bench_coverage_"))
    try:
        rec, old = tmp / "recorded.duckdb", tmp / "old.duckdb"
        shutil.copyfile(a.store, rec)
        with Store(rec) as s:  # opening for writing backfills the table when the store predates it
            pass
        shutil.copyfile(rec, old)
        with Store(old) as s:
            s.con.execute("DROP TABLE coverage")

        def cold(path):
            def run():
                with Store(path, read_only=True) as s:
                    coverage.describe(s, "chicago")
            return run

        rows = []
        rows.append(("describe, recorded table (cold connection)", timeit(cold(rec), max(3, a.repeat // 3))))
        rows.append(("describe, derived from rows (cold connection)", timeit(cold(old), max(3, a.repeat // 3))))
        s = Store(rec, read_only=True)
        rows.append(("check(shooting, 2016), warm", timeit(
            lambda: coverage.check(s, "chicago", "shooting", "2016-01-01", "2016-12-31"), a.repeat)))
        t = incidents_table(s.ibis(), source="chicago")
        rows.append(("bare count query (shooting, 2016)", timeit(
            lambda: count_expr(t, "shooting", "2016-01-01", "2016-12-31").to_pandas(), a.repeat)))
        rows.append(("count() with its coverage check (shooting, 2016)", timeit(
            lambda: count(s, "shooting", "2016-01-01", "2016-12-31"), a.repeat)))
        rows.append(("count() of a partly held period (gun_violence, 2011-06..2012-06)", timeit(
            lambda: count(s, "gun_violence", "2011-06-01", "2012-06-30"), a.repeat)))
        s.close()
        w = max(len(r[0]) for r in rows)
        for name, ms in rows:
            print(f"{name:<{w}}  median {ms:8.1f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
