"""Benchmark the history store at the real cadence: today's layout beside the compacted one.

A 250-tunnel fleet (~1,900 connections) snapshotted every 5 minutes for 30 days
(``tunnelframe.simulator.generate_history``, 8,640 snapshots, ~1.6·10^7 rows). It builds, once
(cached in ``$TMPDIR/tunnelframe-bench-history-<parameters>``):

* the layout of tunnelframe 0.1, a file per snapshot, for the first 7 and 14 days, written by
  ``append_snapshot`` (every append is timed: the append target);
* the compacted layout: every closed day one sorted zstd file plus its facts, written straight
  from the generated snapshots (the code ``compact_history`` runs), and the last day still open
  as cron leaves it (a file per snapshot, with a checkpoint of its facts up to the one before
  the latest), for the first 7, 14 and 30 days.

Then it runs every history query over each store in a fresh subprocess (``ru_maxrss``: peak
memory with DuckDB's allocations, interpreter and imports included) and prints, in one table,
files, rows, bytes on disk, bytes per row and seconds / peak MB per query. Targets: at most
0.5 B/row compacted, every query at most 1 s and 500 MB at 30 days, append under 100 ms.
Last, it measures Delta Lake (``deltalake``, if installed) on one day of the same snapshots:
append time and bytes per row after ``optimize.compact`` and ``optimize.z_order``.

Run: ``.venv/bin/python benchmarks/bench_history.py [--rebuild] [--repeat 1]``. About 6
minutes the first time on 2 cores, 2 after. A script, not a test: the machine is shared.
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
from collections import defaultdict
from pathlib import Path
from typing import Any

N_TUNNELS = 250
EVERY = "5min"
DAYS = 30
START = "2026-07-21T00:00:00Z"
SEED = 0
OLD_DAYS = (7,)  # today's layout: a minute a query at 14 days on a shared 2-core machine
NEW_DAYS = (7, 14, 30)
PER_DAY = 288
NOTES = "_bench.json"  # beside the stores; readers skip names starting with "_"

QUERIES = {
    "version_rollout": "tf.version_rollout(store)",
    "connector_churn": "tf.connector_churn(store)",
    "churn per host": "tf.connector_churn(store, per='host')",
    "churn events": "tf.connector_churn(store, per='event')",
    "colo_shifts": "tf.colo_shifts(store)",
    "ha_timeline": "tf.ha_timeline(store)",
    "ha_episodes": "tf.ha_episodes(store)",
}

_QUERY = """
import json, resource, sys, time, warnings
warnings.simplefilter("error")
import tunnelframe as tf
store = sys.argv[1]
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = {query}
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_kb": peak, "baseline_kb": baseline,
                  "rows": len(result)}}))
"""


def _days() -> list[str]:
    import pandas as pd

    first = pd.Timestamp(START)
    return [f"{first + pd.Timedelta(days=i):%Y-%m-%d}" for i in range(DAYS)]


def build(cache: Path) -> dict[str, Any]:
    """Write the day directories once; every store is then hard links to them."""
    import pyarrow as pa

    import tunnelframe as tf
    from tunnelframe.history import _layout, _store

    if cache.exists():
        shutil.rmtree(cache)
    raw_root, compacted_root = cache / "raw", cache / "compacted"
    raw_days = {d - 1 for d in (*OLD_DAYS, *NEW_DAYS)} | set(range(max(OLD_DAYS)))
    days = _days()
    append_s: list[float] = []
    rows_per_day: dict[str, int] = {}
    by_day: dict[str, list[Any]] = defaultdict(list)
    entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    _layout.write_version(compacted_root)
    snapshots = tf.simulator.generate_history(
        N_TUNNELS, days=DAYS - 1 / PER_DAY, every=EVERY, seed=SEED, start=START
    )
    for n, snapshot in enumerate(snapshots, 1):
        fetched_at = _store._utc(snapshot.fetched_at, "fetched_at")
        day = f"{fetched_at:%Y-%m-%d}"
        if days.index(day) in raw_days:
            began = time.perf_counter()
            tf.append_snapshot(snapshot, raw_root)
            append_s.append(time.perf_counter() - began)
        accounts = sorted(snapshot.account_ids)
        by_day[day].append(_store._to_table(snapshot, fetched_at=fetched_at, account_ids=accounts))
        name = f"{fetched_at:%Y%m%dT%H%M%S.%fZ}-{_store._accounts_key(accounts)}.parquet"
        entries[day].append(
            {"file": name, "fetched_at": fetched_at.isoformat(), "account_ids": accounts}
        )
        if n % PER_DAY == 0:
            table = pa.concat_tables(by_day.pop(day)).unify_dictionaries()
            rows_per_day[day] = table.num_rows
            rows = _layout.sort_rows(table)
            _layout.write_day(compacted_root, day, rows, entries.pop(day), after=None)
            print(f"  {day}: {n} snapshots", file=sys.stderr)
    notes = {
        "append_s": append_s,
        "rows_per_day": rows_per_day,
        "snapshots": n,
    }
    (cache / NOTES).write_text(json.dumps(notes))
    return notes


def _link_tree(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        if path.is_file():
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, dest)


def _link_tree_file(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.link(source, dest)


def stores(cache: Path) -> dict[str, tuple[Path, int, int]]:
    """``name -> (store, days, rows)``; the stores are hard links into the cache."""
    import tunnelframe as tf

    notes = json.loads((cache / NOTES).read_text())
    days = _days()
    out = {}
    for n in OLD_DAYS:
        store = cache / f"old-{n}"
        if not store.exists():
            for day in days[:n]:
                _link_tree(cache / "raw" / f"date={day}", store / f"date={day}")
        out[f"0.1: a file per snapshot, {n} days"] = (store, n, _rows(notes, days[:n]))
    for n in NEW_DAYS:
        store = cache / f"new-{n}"
        if not store.exists():
            store.mkdir()
            os.link(cache / "compacted" / "_tunnelframe.json", store / "_tunnelframe.json")
            for day in days[: n - 1]:
                _link_tree(cache / "compacted" / f"date={day}", store / f"date={day}")
                _link_tree(
                    cache / "compacted" / "_facts" / f"date={day}", store / "_facts" / f"date={day}"
                )
            # The last day as cron leaves it: a checkpoint of its facts (compact_history after
            # each append) up to the latest snapshot, which is read from its rows.
            *earlier, last = sorted((cache / "raw" / f"date={days[n - 1]}").glob("*.parquet"))
            for path in earlier:
                _link_tree_file(path, store / f"date={days[n - 1]}" / path.name)
            tf.compact_history(store, now=f"{days[n - 1]}T23:59Z")
            _link_tree_file(last, store / f"date={days[n - 1]}" / last.name)
        out[f"0.2: compacted, last day open, {n} days"] = (store, n, _rows(notes, days[:n]))
    return out


def _rows(notes: dict[str, Any], days: list[str]) -> int:
    return sum(notes["rows_per_day"][d] for d in days)


def _bytes(store: Path) -> tuple[int, int]:
    files = [p for p in store.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def compacted_bytes_per_row(cache: Path) -> tuple[float, float]:
    """Bytes per row of the 30 compacted days: rows files alone, and with their facts."""
    notes = json.loads((cache / NOTES).read_text())
    rows = sum(notes["rows_per_day"].values())
    root = cache / "compacted"
    data = sum(p.stat().st_size for p in root.glob("date=*/compacted-*.parquet"))
    _, total = _bytes(root)
    return data / rows, total / rows


def run_query(store: Path, query: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _QUERY.format(query=query), str(store)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"{query} over {store} failed:\n{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def delta(cache: Path) -> dict[str, float] | None:
    """Delta Lake on one day of the same snapshots: append time, bytes per row compacted."""
    try:
        import deltalake
    except ImportError:
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    day_dir = cache / "raw" / f"date={_days()[0]}"
    table_dir = cache / "delta"
    if table_dir.exists():
        shutil.rmtree(table_dir)
    seconds, rows = [], 0
    for path in sorted(day_dir.glob("*.parquet")):
        snapshot = pq.read_table(path)
        # Delta has no dictionary type: text is stored as strings (Parquet still encodes them).
        plain = pa.schema(
            [
                pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
                for f in snapshot.schema
            ]
        )
        snapshot = snapshot.cast(plain).replace_schema_metadata(None)
        rows += snapshot.num_rows
        began = time.perf_counter()
        deltalake.write_deltalake(str(table_dir), snapshot, mode="append")
        seconds.append(time.perf_counter() - began)
    appended = _bytes(table_dir)[1]
    dt = deltalake.DeltaTable(str(table_dir))
    dt.optimize.compact()
    dt.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    compact = sum(p.stat().st_size for p in table_dir.glob("*.parquet"))
    dt.optimize.z_order(["tunnel_id", "connector_id", "connection_id", "fetched_at"])
    dt.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    zorder = sum(p.stat().st_size for p in table_dir.glob("*.parquet"))
    return {
        "append_median_ms": statistics.median(seconds) * 1000,
        "append_p95_ms": sorted(seconds)[int(0.95 * (len(seconds) - 1))] * 1000,
        "appended_bpr": appended / rows,
        "compact_bpr": compact / rows,
        "zorder_bpr": zorder / rows,
        "rows": rows,
        "version": deltalake.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    key = f"{N_TUNNELS}t-{EVERY}-{DAYS}d-{START[:10]}-s{SEED}"
    default = Path(tempfile.gettempdir()) / f"tunnelframe-bench-history-{key}"
    parser.add_argument("--cache", type=Path, default=default)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached stores")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each query (best kept)")
    parser.add_argument("--no-delta", action="store_true", help="skip the Delta Lake runs")
    args = parser.parse_args()
    cache: Path = args.cache

    if args.rebuild or not (cache / NOTES).exists():
        print(f"building {cache} ...", file=sys.stderr)
        build(cache)
    notes = json.loads((cache / NOTES).read_text())
    appends = notes["append_s"]
    print(
        f"{N_TUNNELS} tunnels every {EVERY}, {notes['snapshots']:,} snapshots over {DAYS} days "
        f"(cores: {os.cpu_count()}; cache {cache})"
    )
    print(
        f"append_snapshot ({len(appends):,} appends of ~"
        f"{statistics.fmean(notes['rows_per_day'].values()) / PER_DAY:,.0f} rows): median "
        f"{statistics.median(appends) * 1000:.0f} ms, p95 "
        f"{sorted(appends)[int(0.95 * (len(appends) - 1))] * 1000:.0f} ms, max "
        f"{max(appends) * 1000:.0f} ms (target < 100 ms)"
    )
    data_bpr, total_bpr = compacted_bytes_per_row(cache)
    print(
        f"compacted, all {DAYS} days: {data_bpr:.3f} B/row (rows files), {total_bpr:.3f} B/row "
        "with the facts (target <= 0.5)\n"
    )

    names = list(QUERIES)
    header = f"{'layout':<40}{'files':>7}{'rows':>8}{'MB':>7}{'B/row':>7}" + "".join(
        f"{n:>17}" for n in names
    )
    print("seconds / peak MB per query (each in a fresh process)")
    print(header)
    print("-" * len(header))
    worst: dict[int, tuple[float, float]] = {}
    for label, (store, n_days, rows) in stores(cache).items():
        n_files, size = _bytes(store)
        cells = []
        for name in names:
            runs = [run_query(store, QUERIES[name]) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            peak = max(r["peak_kb"] for r in runs) / 1024
            cells.append(f"{best['seconds']:>8.2f}s {peak:>5.0f}MB")
            if label.startswith("0.2"):
                s, m = worst.get(n_days, (0.0, 0.0))
                worst[n_days] = (max(s, best["seconds"]), max(m, peak))
        print(
            f"{label:<40}{n_files:>7,}{rows / 1e6:>7.2f}M{size / 2**20:>7.1f}"
            f"{size / rows:>7.2f}" + "".join(f"{c:>17}" for c in cells),
            flush=True,
        )
    s, m = worst[DAYS]
    verdict = "pass" if s <= 1 and m <= 500 else "FAIL"
    print(
        f"\nslowest query at {DAYS} days: {s:.2f} s, {m:.0f} MB peak "
        f"(target <= 1 s, 500 MB): {verdict}"
    )

    if not args.no_delta:
        d = delta(cache)
        if d is None:
            print("\nDelta Lake: deltalake is not installed (pip install deltalake)")
        else:
            print(
                f"\nDelta Lake (deltalake {d['version']}), one day ({d['rows']:,} rows, 288 "
                f"appends): append median {d['append_median_ms']:.0f} ms, p95 "
                f"{d['append_p95_ms']:.0f} ms; {d['appended_bpr']:.2f} B/row as appended, "
                f"{d['compact_bpr']:.2f} after optimize.compact, {d['zorder_bpr']:.2f} after "
                f"optimize.z_order (compacted plain Parquet: {data_bpr:.2f})"
            )


if __name__ == "__main__":
    main()
