"""Benchmarks of crimescope.spatial (not tests): prints the command, the machine and medians.

    python benchmarks/bench_spatial.py            # all
    python benchmarks/bench_spatial.py knox       # Knox 50,000 events x 999 permutations only
    python benchmarks/bench_spatial.py cli        # the four CLI commands on 2016-2017 gun violence
    python benchmarks/bench_spatial.py lib        # grid, Gi*, KDE, emerging in-process

Data: the shared Chicago extracts (City of Chicago Data Portal), read at run time.
Knox events: 50,000 records sampled (seed 0) from the 2016-2017 robberies, assaults
and batteries with coordinates — real clustering, far more close pairs than gun
violence alone. Bands: 5 x 400 ft, 5 x 14 days (pairs closer than 2,000 ft enumerated).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe  # noqa: E402




def knox_events(n: int = 50_000):
    import duckdb
    import numpy as np

    from crimescope.settings import shared_data_dir

    base = shared_data_dir()
    files = [str(base / "chicago" / "crimes" / f"{y}.csv.gz") for y in (2016, 2017)]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    df = con.execute(f"""
        SELECT DISTINCT "ID" AS id, strptime("Date", '%m/%d/%Y %I:%M:%S %p') AS occurred_local,
               TRY_CAST("X Coordinate" AS DOUBLE) AS x, TRY_CAST("Y Coordinate" AS DOUBLE) AS y
        FROM read_csv({files!r}, header=true, all_varchar=true)
        WHERE "Primary Type" IN ('ROBBERY', 'ASSAULT', 'BATTERY')
          AND TRY_CAST("X Coordinate" AS DOUBLE) > 0""").df()
    rng = np.random.default_rng(0)
    return df.iloc[np.sort(rng.choice(len(df), size=min(n, len(df)), replace=False))].reset_index(drop=True)


def bench_knox(repeats: int = 3) -> None:
    from crimescope.spatial.knox import close_pairs, knox_test

    ev = knox_events()
    knox_test(ev.iloc[:2000], permutations=9)  # warm the numba cache
    t0 = time.perf_counter()
    i, _, _ = close_pairs(ev["x"].to_numpy(), ev["y"].to_numpy(), 2000.0)
    t_pairs = time.perf_counter() - t0
    times, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        r = knox_test(ev, distance_band=400, n_distance_bands=5, day_band=14, n_day_bands=5,
                      permutations=999, seed=0)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    print(f"knox_test(50,000 events, 5x400 ft, 5x14 days, 999 permutations): events={r.n_events:,} "
          f"close pairs={i.size:,}; pair enumeration {t_pairs:.2f} s; "
          f"wall median {statistics.median(times):.1f} s over {repeats} runs (min {min(times):.1f}, "
          f"max {max(times):.1f}); CPU time (all threads) median {statistics.median(cpus):.1f} s; "
          f"load average at end {os.getloadavg()[0]:.1f}")


def _median_time(fn, repeats=5):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def bench_lib() -> None:
    import numpy as np

    from crimescope.spatial import Grid, emerging_hot_spots, hotspots, kernel_density
    from crimescope.spatial.grid import _chicago_boundary
    from crimescope.spatial.sample import read_chicago_csv

    t0 = time.perf_counter()
    g = Grid.chicago(500.0)
    print(f"Grid.chicago(500) first call (read + project + clip): {time.perf_counter() - t0:.2f} s, "
          f"{g.n_cells:,} cells")
    print(f"Grid.chicago(500) boundary cached: median {_median_time(lambda: Grid.chicago(500.0)):.2f} s")
    print(f"Grid.chicago(100): median {_median_time(lambda: Grid.chicago(100.0), 3):.2f} s")
    rng = np.random.default_rng(0)
    x, y = rng.uniform(1.09e6, 1.21e6, 1_000_000), rng.uniform(1.81e6, 1.95e6, 1_000_000)
    print(f"Grid.locate 1,000,000 points: median {_median_time(lambda: g.locate(x, y)) * 1000:.0f} ms")
    ev = read_chicago_csv(start="2016-01-01", end="2017-12-31")
    print(f"gun violence 2016-2017: {len(ev):,} records")
    print(f"hotspots (Gi*, 1500 ft band, FDR): median {_median_time(lambda: hotspots(ev, g)):.2f} s")
    print(f"kde (quartic, ArcGIS bandwidth, FFT): median {_median_time(lambda: kernel_density(ev, g)):.2f} s")
    print(f"emerging (month cube, all cells): median "
          f"{_median_time(lambda: emerging_hot_spots(ev, g, freq='month')):.2f} s")
    print(f"emerging (week cube, all cells): median "
          f"{_median_time(lambda: emerging_hot_spots(ev, g, freq='week'), 3):.2f} s")
    _chicago_boundary.cache_clear()


CLI = [
    ["concentration", "gun_violence", "--start", "2016-01-01", "--end", "2017-12-31", "--from-csv"],
    ["hotspots", "gun_violence", "--start", "2016-01-01", "--end", "2017-12-31", "--from-csv"],
    ["emerging", "gun_violence", "--start", "2016-01-01", "--end", "2017-12-31", "--from-csv"],
    ["near-repeat", "gun_violence", "--start", "2016-01-01", "--end", "2017-12-31", "--from-csv"],
]
RUNNER = ("import sys\nfrom crimescope.cli import main as m\n"
          "if 'crimescope.cli.spatial' not in m.COMMAND_MODULES:\n"
          "    import crimescope.cli.spatial as s; s.register(m.app)\n"
          "sys.exit(m.main(sys.argv[1:]))\n")


def bench_cli(repeats: int = 3) -> None:
    import resource

    for args in CLI:
        times, cpus = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            p = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            times.append(time.perf_counter() - t0)
            cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
            if p.returncode != 0:
                print(p.stdout, p.stderr)
                raise SystemExit(f"command failed: crimescope {' '.join(args)}")
        print(f"crimescope {' '.join(args)}: wall median {statistics.median(times):.1f} s "
              f"(new process, CSV read included; min {min(times):.1f}, max {max(times):.1f}, {repeats} runs); "
              f"CPU median {statistics.median(cpus):.1f} s; load average {os.getloadavg()[0]:.1f}")


def main(argv: list[str]) -> None:
    what = argv[1] if len(argv) > 1 else "all"
    print(f"$ python {' '.join(argv)}")
    print(f"machine: {describe()}")
    if what in ("all", "lib"):
        bench_lib()
    if what in ("all", "knox"):
        bench_knox()
    if what in ("all", "cli"):
        bench_cli()


if __name__ == "__main__":
    main(sys.argv)
