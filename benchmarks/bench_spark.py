"""DuckDB vs Spark (local mode) on the same counting queries over a ~10-million-row store.

    python benchmarks/bench_spark.py [--repeat 3] [--master local[2]] [--replays 6]

Data: the six shared Chicago files (2012-2017, ~1.6 M rows) are ingested once into
benchmarks/_data/spark/store.duckdb, then replayed inside the store ``replays - 1``
more times with occurrence years shifted by -28 k (same weekdays and leap years,
as in bench_ingest.py --scale) and fresh ids (id + k * 10^8): about 9.8 M rows for
6 replays. The store is exported with `export_parquet` (timed) and both are reused
by later runs. Every query is the library call (count, ytd, compstat, cell_counts)
on the store (DuckDB) and on a SparkSource over the export (Spark); each runs once
to warm up, then ``--repeat`` times per engine, interleaved; medians are printed and
the two engines' tables are checked to be identical.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import command, describe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared" / "data").resolve()
FILES = sorted((SHARED / "chicago" / "crimes").glob("*.csv.gz"))
DATA = ROOT / "benchmarks" / "_data" / "spark"


def build_store(path: Path, replays: int) -> int:
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import INCIDENT_COLUMN_NAMES, Store

    with Store(path) as s:
        con = s.con
        con.execute("SET enable_progress_bar = false")
        if con.execute("SELECT count(*) FROM incidents").fetchone()[0] == 0:
            t = time.perf_counter()
            ingest_files(s, FILES)
            print(f"setup: ingested {len(FILES)} shared files in {time.perf_counter() - t:.1f} s")
        have = con.execute("SELECT count(DISTINCT CAST(id AS BIGINT) // 100000000) FROM incidents").fetchone()[0]
        cols = ", ".join(INCIDENT_COLUMN_NAMES)
        for k in range(have, replays):
            t = time.perf_counter()
            con.execute(
                f"INSERT INTO incidents ({cols}) SELECT * REPLACE ("
                f"CAST(CAST(id AS BIGINT) + {k} * 100000000 AS VARCHAR) AS id, "
                f"occurred_local - INTERVAL {28 * k} YEAR AS occurred_local, "
                f"occurred_utc - INTERVAL {28 * k} YEAR AS occurred_utc) "
                f"FROM incidents WHERE CAST(id AS BIGINT) < 100000000")
            print(f"setup: replay {k} in {time.perf_counter() - t:.1f} s")
        con.execute("CHECKPOINT")
        return con.execute("SELECT count(*) FROM incidents").fetchone()[0]


def queries() -> dict:
    from crimescope.engines import cell_counts
    from crimescope.stats import compstat, count, ytd

    return {
        "count violent_index by year (all rows)":
            lambda src: count(src, "violent_index", "1870-01-01", "2017-12-31", ["year"]),
        "count shooting by district, week (2016-2017)":
            lambda src: count(src, "shooting", "2016-01-01", "2017-12-31", ["district", "week"]),
        "ytd homicide as of 2017-07-04, 5 years":
            lambda src: ytd(src, "homicide", "2017-07-04", 5),
        "compstat as of 2017-07-04 (7 categories x districts)":
            lambda src: compstat(src, "2017-07-04"),
        "cell counts shooting, 500 ft x week (all rows)":
            lambda src: cell_counts(src, "shooting", "1870-01-01", "2017-12-31", cell_size=500),
    }


def timed(f, src):
    t = time.perf_counter()
    r = f(src)
    return time.perf_counter() - t, r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--replays", type=int, default=6)
    ap.add_argument("--driver-memory", default="2g")
    args = ap.parse_args()
    import pandas as pd
    import pyspark

    from crimescope.engines import SparkSource, export_parquet, spark_session
    from crimescope.store import Store

    print(f"# {command()}\n# {describe()}, pyspark {pyspark.__version__}, master {args.master}")
    DATA.mkdir(parents=True, exist_ok=True)
    db, pq = DATA / "store.duckdb", DATA / "pq"
    rows = build_store(db, args.replays)
    print(f"store: {rows:,} rows, {db.stat().st_size / 2**20:,.0f} MB")
    with Store(db, read_only=True) as store:
        store.con.execute("SET enable_progress_bar = false")
        t = time.perf_counter()
        res = export_parquet(store, pq, overwrite=True)
        size = sum(p.stat().st_size for p in pq.rglob("*.parquet"))
        print(f"export-parquet: {time.perf_counter() - t:.1f} s, {len(res.partitions)} partitions, "
              f"{size / 2**20:,.0f} MB")
        t = time.perf_counter()
        session = spark_session(args.master, driver_memory=args.driver_memory)
        src = SparkSource(pq, session=session)
        src.ibis()
        print(f"spark session start: {time.perf_counter() - t:.1f} s")
        print(f"\n{'query':55s} {'duckdb s':>9s} {'spark s':>9s} {'spark/duckdb':>12s}  first spark run")
        for name, f in queries().items():
            _, a = timed(f, store)
            first, b = timed(f, src)
            pd.testing.assert_frame_equal(a.table, b.table)  # the benchmark is void if they differ
            d, s = [], []
            for _ in range(args.repeat):
                d.append(timed(f, store)[0])
                s.append(timed(f, src)[0])
            md, ms = statistics.median(d), statistics.median(s)
            print(f"{name:55s} {md:9.2f} {ms:9.2f} {ms / md:12.1f}  {first:.1f} s")
        src.close()
        session.stop()


if __name__ == "__main__":
    main()
