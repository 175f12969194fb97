"""Ingest speed and memory: crimescope's importer vs DuckDB's bare CSV read, same run.

    python benchmarks/bench_ingest.py [--repeat 3] [--scale] [--baseline-src ../main/src]

Each measurement runs in a fresh subprocess (so peak RSS is its own) writing a
fresh database file. "bare" is `CREATE TABLE t AS SELECT * FROM read_csv([...six files...])`
into a file database; "ingest" is `ingest_files` (parse, check, versioned upsert,
one transaction per file) into a new store; "re-ingest" ingests the same files
again into that store (everything unchanged). "cli" is the whole process as the user
runs it, `crimescope --store DB ingest chicago FILES` (interpreter start-up, imports,
import, snapshot publish), timed from start to exit by this script, against
"bare-process", the bare read run as its own `python -c` process timed the same way.
Runs are interleaved and the medians compared, because the machine is shared and noisy.
``--baseline-src DIR`` also times the same CLI process with ``PYTHONPATH=DIR`` ("cli-baseline",
e.g. another checkout's ``src``), interleaved with the others, for a before/after in one run.

--scale builds a 10-million-row store by replaying the real rows with years
shifted by multiples of 28 (same weekdays and leap years) and fresh ids, and
reports time per replay (linearity) and the store size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import command, describe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared" / "data").resolve()
FILES = sorted((SHARED / "chicago" / "crimes").glob("*.csv.gz"))

CHILD = r"""
import json, resource, sys, time
mode, db, files = sys.argv[1], sys.argv[2], sys.argv[3:]
t = time.perf_counter()
if mode == "bare":
    import duckdb
    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv({files!r})")
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
else:
    from crimescope.store import Store
    from crimescope.sources.chicago import ingest_files
    with Store(db) as s:
        res = ingest_files(s, files)
        n = sum(b.rows_read for b in res)
el = time.perf_counter() - t
print(json.dumps({"seconds": el, "rows": n, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_process(mode: str, db: Path, files: list[Path], src: str | None = None) -> dict:
    """Wall time of a whole process: the CLI ingest, or the bare read in its own interpreter."""
    import os
    import time

    if mode in ("cli", "cli-baseline"):
        cmd = [sys.executable, "-m", "crimescope.cli.main", "--store", str(db), "ingest", "chicago", *map(str, files)]
    else:
        cmd = [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
               "con.execute(f'CREATE TABLE t AS SELECT * FROM read_csv({sys.argv[2:]!r})'); con.close()",
               str(db), *map(str, files)]
    import resource

    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(ROOT / "src"))
    if src is not None:
        env["PYTHONPATH"] = src
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    el = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # (RUSAGE_CHILDREN has no per-child peak memory: not reported for whole processes)
    return {"seconds": el, "cpu_seconds": cpu, "peak_rss_mb": float("nan")}


def run(mode: str, db: Path, files: list[Path]) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(db), *map(str, files)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", action="store_true", help="also build the 10M-row store")
    ap.add_argument("--process-only", action="store_true",
                    help="time only the whole processes (bare-process, cli[, cli-baseline])")
    ap.add_argument("--baseline-src", default=None,
                    help="also time the CLI process with PYTHONPATH set to this folder (before/after)")
    args = ap.parse_args()
    print(f"# {command()}\n# {describe()}")
    with open("/proc/loadavg") as fh:
        print(f"# load average at start: {' '.join(fh.read().split()[:3])}")
    res: dict[str, list[dict]] = {"bare": [], "ingest": [], "re-ingest": [], "bare-process": [], "cli": []}
    modes = ["bare-process", "cli"] if args.process_only else ["bare", "ingest", "bare-process", "cli"]
    if args.process_only:
        res = {"bare-process": [], "cli": []}
    if args.baseline_src:
        res["cli-baseline"] = []
        modes.append("cli-baseline")
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeat):
            for mode in modes:
                db = Path(tmp) / f"{mode}{r}.duckdb"
                if mode in ("bare-process", "cli", "cli-baseline"):
                    res[mode].append(run_process(mode, db, FILES, args.baseline_src if mode == "cli-baseline" else None))
                else:
                    res[mode].append(run(mode, db, FILES))
                if mode == "ingest":
                    res["re-ingest"].append(run("ingest", db, FILES))
                for f in Path(tmp).glob(f"{mode}{r}*"):  # the store and its published snapshot
                    f.unlink()
    med = {k: statistics.median(x["seconds"] for x in v) for k, v in res.items()}
    cpu = {k: statistics.median(x["cpu_seconds"] for x in v) for k, v in res.items() if "cpu_seconds" in v[0]}
    rows = 1_718_685 if args.process_only else res["ingest"][0]["rows"]
    print(f"rows: {rows:,} in {len(FILES)} files")
    for k, v in res.items():
        rss = max(x['peak_rss_mb'] for x in v)
        print(f"{k:12s} median {med[k]:6.2f} s  runs {[round(x['seconds'], 2) for x in v]}  "
              + (f"peak RSS {rss:,.0f} MB  " if rss == rss else "") + f"{rows / med[k]:,.0f} rows/s"
              + (f"  CPU (user+sys) median {cpu[k]:.2f} s runs {[round(x['cpu_seconds'], 2) for x in v]}"
                 if k in cpu else ""))
    if not args.process_only:
        print(f"ingest / bare = {med['ingest'] / med['bare']:.2f}")
        print(f"cli process / bare = {med['cli'] / med['bare']:.2f}")
    print(f"cli process / bare process = {med['cli'] / med['bare-process']:.2f} wall   "
          f"{cpu['cli'] / cpu['bare-process']:.2f} CPU   (target: <= 1.5)")
    if "cli-baseline" in med:
        print(f"cli-baseline process / bare process = {med['cli-baseline'] / med['bare-process']:.2f} wall   "
              f"{cpu['cli-baseline'] / cpu['bare-process']:.2f} CPU;   cli / cli-baseline = "
              f"{med['cli'] / med['cli-baseline']:.2f} wall   {cpu['cli'] / cpu['cli-baseline']:.2f} CPU")
    with open("/proc/loadavg") as fh:
        print(f"# load average at end: {' '.join(fh.read().split()[:3])}")
    if args.scale:
        scale()


def scale() -> None:
    """Build and ingest the 10M-row replay; report time per replay and store size."""
    import duckdb

    data = ROOT / "benchmarks" / "_data" / "replay"
    data.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    replays = []
    for k in range(6):
        files = []
        for f in FILES:
            out = data / f"r{k}_{f.name}"
            if k == 0:
                files.append(f)
                continue
            if not out.exists():
                shift = -28 * k
                con.execute(f"""
                    COPY (SELECT * REPLACE (
                            CAST(CAST("ID" AS BIGINT) + {k} * 100000000 AS VARCHAR) AS "ID",
                            substr("Date", 1, 6) || CAST(CAST(substr("Date", 7, 4) AS INT) + {shift} AS VARCHAR)
                                || substr("Date", 11) AS "Date")
                          FROM read_csv('{f}', all_varchar = true))
                    TO '{out}' (HEADER, COMPRESSION gzip, QUOTE '"')""")
            files.append(out)
        replays.append(files)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "scale.duckdb"
        total = 0
        print("\nscale: replay  rows_in_store  seconds  rows/s  peak_rss_mb")
        for k, files in enumerate(replays):
            r = run("ingest", db, files)
            total += r["rows"]
            print(f"scale: {k:6d}  {total:13,d}  {r['seconds']:7.2f}  {r['rows'] / r['seconds']:8,.0f}  {r['peak_rss_mb']:,.0f}")
        print(f"store size: {db.stat().st_size / 2**20:,.0f} MB for {total:,} rows")


if __name__ == "__main__":
    main()
