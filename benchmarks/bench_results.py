"""Same-run A/B of whole CLI commands under two source trees (not a test).

    python benchmarks/bench_results.py --store PATH --tree before=/path/to/old/src --tree after=src [--repeat 2]

Used for issue 11 (one Result with provenance in every output, the units interface,
``--from-csv`` through the importer): each command runs in a fresh process with
``PYTHONPATH`` set to each tree in turn, interleaved, so both see the same machine load.
Prints the command, the machine, and per command and tree the median wall time and the
median CPU time of the process (user + system, all threads): on a shared machine the CPU
time is the steadier figure, the wall time follows the load.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe  # noqa: E402

RUNNER = "import sys\nfrom crimescope.cli import main as m\nsys.exit(m.main(sys.argv[1:]))\n"
PERIOD = ["gun_violence", "--start", "2016-01-01", "--end", "2017-12-31"]


def commands(store: str) -> list[list[str]]:
    s = ["--store", store]
    return [
        [*s, "compstat", "--as-of", "2017-03-08", "--format", "csv"],
        [*s, "ytd", "-c", "shooting", "--by", "district", "--as-of", "2017-03-08", "--format", "csv"],
        [*s, "concentration", *PERIOD],
        [*s, "hotspots", *PERIOD],
        [*s, "emerging", *PERIOD],
        [*s, "near-repeat", *PERIOD],
        ["hotspots", *PERIOD, "--from-csv"],
    ]


def run(tree: str, args: list[str]) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=tree)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"failed under {tree}: crimescope {' '.join(args)}\n{p.stderr[-2000:]}")
    return wall, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--tree", action="append", required=True, help="name=path of a src folder (twice)")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    trees = dict(t.split("=", 1) for t in args.tree)
    trees = {k: str(Path(v).resolve()) for k, v in trees.items()}
    print("$ python " + " ".join(sys.argv))
    print(f"machine: {describe()}; load average {os.getloadavg()[0]:.1f}")
    names = list(trees)
    print(f"{'command':72s} " + " ".join(f"{n + ' wall/cpu s':>22s}" for n in names)
          + f" {'cpu ' + names[-1] + '/' + names[0]:>12s}")
    for cmd in commands(args.store):
        res = {n: [] for n in names}
        for _ in range(args.repeat):
            for n in names:
                res[n].append(run(trees[n], cmd))
        med = {n: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for n, v in res.items()}
        label = " ".join(a for a in cmd if a not in ("--store", args.store))
        print(f"{label[:72]:72s} " + " ".join(f"{med[n][0]:>12.1f} / {med[n][1]:>6.1f}" for n in names)
              + f" {med[names[-1]][1] / med[names[0]][1]:>12.2f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
