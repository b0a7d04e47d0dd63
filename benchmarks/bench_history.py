"""Benchmark the fleet history store: appends, and version_rollout out of core vs in pandas.

It builds (once, cached) a store of 365 daily snapshots of a synthetic fleet of ~10^4
connections (``tunnelframe.simulator.generate_history``, ~3.7·10^6 rows), timing every
``append_snapshot``. Then it runs the rollout query over the whole store two ways, each in a
fresh subprocess so that peak memory is measured fairly (``ru_maxrss`` of the process: it sees
DuckDB's C++ allocations as well as pandas'):

* duckdb: ``tunnelframe.version_rollout(store)``: DuckDB over the Parquet files;
* pandas: ``tunnelframe.load_history(store)`` then a pandas groupby (share of connectors per
  version at each snapshot): the whole store in memory.

It prints the append time per snapshot and a table of seconds, peak MB (the process's peak
resident memory, interpreter and imports included; the import baseline is printed too), and
ratios against pandas. Targets: DuckDB at least 3x faster, with at most a fifth of the peak
memory of pandas.

Run: ``.venv/bin/python benchmarks/bench_history.py [--store DIR] [--rebuild] [--repeat 3]``.
The store is kept in ``$TMPDIR/tunnelframe-bench-history`` (never in git). A script, not a
test: the machine is shared, so run it sparingly.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_TUNNELS = 1320  # ~10^4 connections per snapshot
DAYS = 364  # 365 daily snapshots
SEED = 0
TIMINGS = "_bench.json"  # beside the partitions; readers skip names starting with "_"

_PATH = """
import json, resource, sys, time
import tunnelframe as tf
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
store, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if path == "duckdb":
    rollout = tf.version_rollout(store)
else:
    history = tf.load_history(store)
    counts = (
        history.dropna(subset=["connector_id"])
        .groupby(["fetched_at", "version"], observed=True)["connector_id"]
        .nunique()
    )
    rollout = (counts / counts.groupby(level="fetched_at").transform("sum")).rename("share")
    rollout = counts.rename("n_connectors").to_frame().join(rollout).reset_index()
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kb": peak, "baseline_kb": baseline,
                  "rows": len(rollout), "connectors": int(rollout["n_connectors"].sum())}))
"""


def build_store(store: Path) -> dict[str, float]:
    """Write the 365 snapshots, timing each append; the timings are kept beside the store."""
    import tunnelframe as tf

    if store.exists():
        shutil.rmtree(store)
    seconds: list[float] = []
    rows = 0
    for snapshot in tf.simulator.generate_history(N_TUNNELS, days=DAYS, every="1D", seed=SEED):
        start = time.perf_counter()
        path = tf.append_snapshot(snapshot, store)
        seconds.append(time.perf_counter() - start)
        rows += _rows(path)
        if len(seconds) % 50 == 0:
            print(f"  {len(seconds)} snapshots appended", file=sys.stderr)
    timings = {
        "snapshots": len(seconds),
        "rows": rows,
        "mean_s": statistics.fmean(seconds),
        "median_s": statistics.median(seconds),
        "p95_s": sorted(seconds)[int(0.95 * (len(seconds) - 1))],
        "bytes": sum(p.stat().st_size for p in store.rglob("*.parquet")),
    }
    (store / TIMINGS).write_text(json.dumps(timings))
    return timings


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def run_path(store: Path, path: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PATH, str(store), path],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(tempfile.gettempdir()) / "tunnelframe-bench-history"
    parser.add_argument("--store", type=Path, default=default)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached store")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path (best kept)")
    args = parser.parse_args()
    store: Path = args.store

    if args.rebuild or not (store / TIMINGS).exists():
        print(f"building {store} ({DAYS + 1} snapshots of {N_TUNNELS} tunnels) ...")
        timings = build_store(store)
    else:
        timings = json.loads((store / TIMINGS).read_text())
    print(
        f"store: {timings['snapshots']} snapshots, {timings['rows']:,} rows, "
        f"{timings['bytes'] / 2**20:.0f} MB on disk ({store})"
    )
    print(
        f"append_snapshot per snapshot (~{timings['rows'] / timings['snapshots']:,.0f} rows): "
        f"mean {timings['mean_s'] * 1000:.0f} ms, median {timings['median_s'] * 1000:.0f} ms, "
        f"p95 {timings['p95_s'] * 1000:.0f} ms"
    )

    results: dict[str, dict[str, float]] = {}
    for path in ("pandas", "duckdb"):
        runs = [run_path(store, path) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        best["peak_kb"] = max(r["peak_kb"] for r in runs)
        results[path] = best
    if results["pandas"]["connectors"] != results["duckdb"]["connectors"]:
        raise SystemExit(f"the two paths disagree: {results}")

    pandas = results["pandas"]
    print(
        f"\nversion_rollout over the whole store, best of {args.repeat} "
        f"(cores: {os.cpu_count()}; import baseline "
        f"{pandas['baseline_kb'] / 1024:.0f} MB):\n"
    )
    header = (
        f"{'path':<34}{'seconds':>8}{'peak MB':>9}{'speed':>8}{'memory':>8}  {'target':<14}result"
    )
    print(header)
    print("-" * len(header))
    labels = {
        "pandas": "pandas: load_history + groupby",
        "duckdb": "duckdb: version_rollout(store)",
    }
    for path in ("pandas", "duckdb"):
        r = results[path]
        speed = pandas["seconds"] / r["seconds"]
        memory = r["peak_kb"] / pandas["peak_kb"]
        if path == "pandas":
            target, verdict = "(reference)", ""
        else:
            ok = speed >= 3 and memory <= 0.2
            target, verdict = ">=3x, <=0.20", "pass" if ok else "FAIL"
        print(
            f"{labels[path]:<34}{r['seconds']:>8.2f}{r['peak_kb'] / 1024:>9.0f}"
            f"{speed:>7.1f}x{memory:>8.2f}  {target:<14}{verdict}"
        )


if __name__ == "__main__":
    main()
