"""Benchmark of the counting queries (not a test): warm medians on a store.

    python benchmarks/bench_counting.py --store PATH [--repeat 15]

Point it at a store with the six shared crime files ingested
(``crimescope ingest chicago ../shared/data/chicago/crimes/*.csv.gz``). With
``--scale DEST`` it first builds (once) a ~10M-row copy at DEST: the store's rows
replayed 5 more times with years shifted back by multiples of 28 (same weekdays and
leap years) and fresh ids, the same replay as ``bench_ingest.py --scale`` but done in
SQL, and then benchmarks that copy. Prints the
command, the machine (nproc, RAM) and the median / min of each query, Python API and
the whole CLI command (in-process, output discarded).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import typer  # noqa: F401  (typer evaluates the annotations of _cli_app in this module)
from contextlib import redirect_stdout

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe  # noqa: E402




def timeit(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up (Ibis compile caches, DuckDB buffer pool)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts), min(ts)


def _cli_app(store_path: str):
    """An app like cli/main.py's, with only the counting commands, bound to a store."""
    import typer

    from crimescope.cli import counting
    from crimescope.cli.context import State

    app = typer.Typer()

    @app.callback()
    def _m(ctx: typer.Context) -> None:
        ctx.obj = State(store_path=store_path)

    counting.register(app)
    return app


def build_scale(src: str, dest: str, replays: int = 5) -> None:
    """Copy ``src`` to ``dest`` and append ``replays`` shifted copies of its incidents."""
    import shutil

    from crimescope.store import Store

    if os.path.exists(dest):
        return
    shutil.copy(src, dest)
    with Store(dest) as st:
        for k in range(1, replays + 1):
            st.con.execute(
                f"INSERT INTO incidents SELECT * REPLACE (id || '.r{k}' AS id, "
                f"occurred_local - INTERVAL {28 * k} YEAR AS occurred_local) "
                "FROM incidents WHERE NOT contains(id, '.r')")
        st.con.execute("CHECKPOINT")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--as-of", default="2017-03-08")
    ap.add_argument("--scale", metavar="DEST", help="build (once) and benchmark a ~10M-row replay store at DEST")
    args = ap.parse_args()
    if args.scale:
        build_scale(args.store, args.scale)
        args.store = args.scale

    from crimescope.stats import compstat, count, ytd
    from crimescope.store import Store

    store = Store(args.store, read_only=True)
    (n,) = store.con.execute("SELECT count(*) FROM incidents").fetchone()
    print("$ python " + " ".join(sys.argv))
    print(f"machine: {describe()}; store rows: {n:,}; as-of {args.as_of}")
    import duckdb
    import ibis

    print(f"duckdb {duckdb.__version__}, ibis {ibis.__version__}")
    # baseline: the same YTD-by-district answer as one hand-written DuckDB query, to read
    # the figures as ratios on a shared, noisy machine
    codes = "('041A','041B','0450','0451','0480','0481','0488','0489')"
    a = args.as_of
    raw_sql = (f"SELECT year(occurred_local) y, district, count(*) FROM incidents WHERE source = 'chicago' "
               f"AND iucr IN {codes} AND occurred_local >= DATE '{int(a[:4]) - 5}-01-01' "
               f"AND occurred_local < DATE '{a}' + INTERVAL 1 DAY "
               f"AND month(occurred_local) * 100 + day(occurred_local) <= {int(a[5:7]) * 100 + int(a[8:10])} "
               "GROUP BY ALL")
    cases = {
        "baseline: hand-written SQL, ytd shooting by district": lambda: store.con.execute(raw_sql).df(),
        "ytd homicide --years 5 (API)": lambda: ytd(store, "homicide", args.as_of, 5),
        "ytd shooting --years 5 --by district (API)": lambda: ytd(store, "shooting", args.as_of, 5, by="district"),
        "compstat, 7 categories, citywide + districts (API)": lambda: compstat(store, args.as_of),
        "count violent_index 2012-2017 --by community_area (API)":
            lambda: count(store, "violent_index", "2012-01-01", "2017-12-31", by="community_area"),
    }
    from typer.testing import CliRunner

    app = _cli_app(args.store)
    runner = CliRunner()
    store_cli = ["--format", "csv"]
    cases["CLI ytd -c shooting --by district --format csv"] = lambda: runner.invoke(
        app, ["ytd", "-c", "shooting", "--as-of", args.as_of, "--by", "district", *store_cli])
    cases["CLI compstat --format csv"] = lambda: runner.invoke(app, ["compstat", "--as-of", args.as_of, *store_cli])
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"{'query':58s} {'median ms':>10s} {'min ms':>8s}")
    for name, fn in cases.items():
        with redirect_stdout(io.StringIO()):
            med, mn = timeit(fn, args.repeat)
        print(f"{name:58s} {med:10.1f} {mn:8.1f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
