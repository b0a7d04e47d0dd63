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

Then the Iceberg rows (``tunnelframe[iceberg]``; ``--no-iceberg`` skips them): the same 30
days in an Iceberg table through a SQL catalog (:mod:`tunnelframe.history._iceberg`), the layout
of the 30-day local store: 29 closed days (appended a day per commit from the compacted files,
then closed by ``compact_iceberg``, the maintenance cron runs once a day: it ends the same as
288 appends and one maintenance, bounded in time) and the last day by the cron path, 288
timed appends, one per snapshot. Bytes per row, append median and p95, every query's seconds and
peak MB; then 2 and 4 processes appending at once through PostgreSQL (a cluster of its own on
loopback; SQLite where PostgreSQL is absent): appends per second, lost and doubled snapshots.

``--cron`` (the issue-27 table) instead writes the same snapshots to a local store and to an
Iceberg table (SQL catalog on SQLite) the way cron does, the last ``--cron-days`` days one
timed append per snapshot with maintenance once a day, the days before as that maintenance
leaves them, and prints both side by side: bytes per row, append median and p95, daily
maintenance, every history query's and the report History section's seconds and peak MB (a
fresh process per query: ``ru_maxrss``), then 1, 2 and 4 writers through PostgreSQL.
``--days`` and ``--tunnels`` shrink it on a busy machine.

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
    raw_days = {d - 1 for d in (*OLD_DAYS, *NEW_DAYS)} | set(range(max(OLD_DAYS, default=0)))
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
    global DAYS, OLD_DAYS, NEW_DAYS, N_TUNNELS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--days",
        type=int,
        default=DAYS,
        help="days of history (default 30; fewer on a busy machine: every layout at that size)",
    )
    parser.add_argument(
        "--tunnels", type=int, default=N_TUNNELS, help="fleet size (default 250; fewer to try)"
    )
    early, _ = parser.parse_known_args()
    N_TUNNELS = early.tunnels
    if early.days != DAYS:
        DAYS, OLD_DAYS, NEW_DAYS = early.days, (), (early.days,)
    key = f"{N_TUNNELS}t-{EVERY}-{DAYS}d-{START[:10]}-s{SEED}"
    default = Path(tempfile.gettempdir()) / f"tunnelframe-bench-history-{key}"
    parser.add_argument("--cache", type=Path, default=default)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached stores")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each query (best kept)")
    parser.add_argument("--no-delta", action="store_true", help="skip the Delta Lake runs")
    parser.add_argument("--no-iceberg", action="store_true", help="skip the Iceberg rows")
    parser.add_argument(
        "--no-writers", action="store_true", help="skip the concurrent Iceberg writers"
    )
    parser.add_argument(
        "--only-iceberg", action="store_true", help="print the Iceberg rows only (after a build)"
    )
    parser.add_argument(
        "--cron",
        action="store_true",
        help="the cron path: every snapshot appended to a local store and an Iceberg table, "
        "maintenance once a day; then both side by side (the issue-27 table)",
    )
    parser.add_argument(
        "--cron-days", type=int, default=2, help="--cron: days written by the cron path, timed"
    )
    args = parser.parse_args()
    cache: Path = args.cache
    if args.cron:
        root = cache.with_name(cache.name + "-cron")
        if args.rebuild or not (root / CRON_NOTES).exists():
            print(f"building {root} ...", file=sys.stderr)
            cron_build(root, cron_days=min(args.cron_days, DAYS))
        cron_report(root, args.repeat, writers=not args.no_writers)
        return

    if args.rebuild or not (cache / NOTES).exists():
        print(f"building {cache} ...", file=sys.stderr)
        build(cache)
    if args.only_iceberg:
        iceberg_report(cache, args.repeat, rebuild=args.rebuild, writers=not args.no_writers)
        return
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
    if not args.no_iceberg:
        iceberg_report(cache, args.repeat, rebuild=args.rebuild, writers=not args.no_writers)


# -- Iceberg ------------------------------------------------------------------------------------

ICEBERG_NOTES = "_iceberg.json"
PG_BIN = Path("/usr/lib/postgresql/15/bin")

_ICEBERG_QUERY = """
import json, resource, sys, time, warnings
warnings.simplefilter("error")
import tunnelframe as tf
from tunnelframe.history import iceberg_history
store = iceberg_history(sys.argv[1])
store.rows_table()  # connected (imports and the catalog's first answer are not the query's)
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = {query}
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_kb": peak, "baseline_kb": baseline,
                  "rows": len(result)}}))
"""

# One writer process of the concurrent run: appends its share of the open day's snapshot files.
_WRITER = """
import json, sys, time
import pyarrow.parquet as pq
from tunnelframe.history import iceberg_history
uri, files = sys.argv[1], sys.argv[2:]
target = iceberg_history(uri)
table = target.rows_table(create=True)
print("ready", flush=True)
sys.stdin.readline()  # all start together, imports done
began = time.perf_counter()
for path in files:
    rows = pq.read_table(path)
    target.append_rows(table, rows, key=path, late=False)
print(json.dumps({"seconds": time.perf_counter() - began, "n": len(files)}))
"""


def _open_day_files(cache: Path) -> list[Path]:
    return sorted((cache / "raw" / f"date={_days()[-1]}").glob("*.parquet"))


def build_iceberg(cache: Path) -> dict[str, Any]:
    """The 30-day Iceberg table: 29 closed days, then the open day by the cron path (timed)."""
    import pyarrow.parquet as pq

    from tunnelframe.history import compact_iceberg, iceberg_history

    root = cache / "iceberg"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    uri = f"iceberg+sqlite:///{root}/catalog.db"
    target = iceberg_history(uri)
    table = target.rows_table(create=True)
    days = _days()
    for day in days[:-1]:
        (path,) = (cache / "compacted" / f"date={day}").glob("compacted-*.parquet")
        rows = pq.read_table(path)
        target.append_rows(table, rows, key=f"bulk-{day}", late=False)
        table.refresh()
        began = time.perf_counter()
        compact_iceberg(target, now=f"{pd_next(day)}T01:30Z")
        print(f"  iceberg {day}: closed in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    appends = []
    for path in _open_day_files(cache):
        rows = pq.read_table(path)
        table = target.rows_table()  # as a cron job does: load the table, append, exit
        began = time.perf_counter()
        target.append_rows(table, rows, key=path.name, late=False)
        appends.append(time.perf_counter() - began)
    notes = {"uri": uri, "append_s": appends, "n_snapshots": len(table.metadata.snapshots)}
    (root / ICEBERG_NOTES).write_text(json.dumps(notes))
    return notes


def pd_next(day: str) -> str:
    import pandas as pd

    return f"{pd.Timestamp(day) + pd.Timedelta(days=1):%Y-%m-%d}"


def _iceberg_bytes(root: Path, target: Any) -> tuple[int, int, int]:
    """(bytes of the rows' closed-day data files, of all live data files, of the folder)."""
    from tunnelframe.history._facts import FACT_KINDS

    files = target.rows_table().inspect.files().to_pandas()
    days = _days()
    closed = files[~files["file_path"].str.contains(f"fetched_at_day={days[-1]}")]
    live = int(files["file_size_in_bytes"].sum())
    for kind in FACT_KINDS:
        facts = target.facts_table(kind).inspect.files().to_pandas()
        live += int(facts["file_size_in_bytes"].sum()) if len(facts) else 0
    folder = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return int(closed["file_size_in_bytes"].sum()), live, folder


def run_iceberg_query(uri: str, query: str) -> dict[str, float]:
    return _run_fresh(_ICEBERG_QUERY, uri, query)


def _run_fresh(script: str, store: str, query: str) -> dict[str, float]:
    """``query`` over ``store`` by ``script`` in a fresh process: what it printed last, as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", script.format(query=query), store],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"{query} over {store} failed:\n{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _postgres(home: Path) -> tuple[str, Any] | None:
    """Start a PostgreSQL cluster of its own on loopback; (catalog URI, stop) or None."""
    import socket

    if not (PG_BIN / "initdb").exists():
        return None
    home.chmod(0o755)
    as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(home, "nobody")
    (home / "pw").write_text("bench\n")
    (home / "pw").chmod(0o644)
    subprocess.run(
        [
            *as_user,
            str(PG_BIN / "initdb"),
            "-D",
            str(home / "data"),
            "-U",
            "tf",
            "--auth=scram-sha-256",
            f"--pwfile={home / 'pw'}",
        ],
        check=True,
        capture_output=True,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [
            *as_user,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(home / "data"),
            "-o",
            options,
            "-l",
            str(home / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    os.environ["TUNNELFRAME_CATALOG_PASSWORD"] = "bench"

    def stop() -> None:
        subprocess.run(
            [*as_user, str(PG_BIN / "pg_ctl"), "-D", str(home / "data"), "-m", "fast", "stop"],
            capture_output=True,
        )

    return f"iceberg+postgresql://tf@127.0.0.1:{port}/postgres", stop


def concurrent_writers(cache: Path, n_writers: int, per_writer: int) -> dict[str, Any]:
    """``n_writers`` processes appending ``per_writer`` snapshots each to a fresh table."""
    return concurrent_writers_files(_open_day_files(cache), n_writers, per_writer)


def concurrent_writers_files(
    snapshot_files: list[Path], n_writers: int, per_writer: int
) -> dict[str, Any]:
    """``n_writers`` processes appending ``per_writer`` of ``snapshot_files`` each."""
    from tunnelframe.history import iceberg_history

    home = Path(tempfile.mkdtemp(prefix="tunnelframe-bench-iceberg-"))
    home.chmod(0o755)  # the cluster's unprivileged user reaches its folder inside
    (home / "pg").mkdir()
    started = _postgres(home / "pg")
    try:
        if started is None:
            uri, catalog = f"iceberg+sqlite:///{home}/catalog.db", "SQLite"
        else:
            uri, catalog = f"{started[0]}?warehouse={home}/warehouse", "PostgreSQL"
        iceberg_history(uri).rows_table(create=True)
        files = snapshot_files[: n_writers * per_writer]
        script = home / "writer.py"
        script.write_text(_WRITER)
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), uri, *map(str, files[w::n_writers])],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for w in range(n_writers)
        ]
        for proc in procs:  # started and imported: time the appends only
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        began = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            proc.communicate()
            if proc.returncode:
                raise SystemExit(f"a writer failed ({proc.returncode})")
        wall = time.perf_counter() - began
        rows = iceberg_history(uri).load().to_pandas()
        import pyarrow.parquet as pq

        expected = {f: pq.read_metadata(f).num_rows for f in files}
        stamps = {
            pq.read_table(f, columns=["fetched_at"])["fetched_at"][0].as_py(): n
            for f, n in expected.items()
        }
        got = rows.groupby("fetched_at").size()
        lost = sum(1 for t in stamps if t not in got.index)
        doubled = sum(1 for t, n in stamps.items() if t in got.index and got[t] > n)
        return {
            "catalog": catalog,
            "appends": len(files),
            "wall": wall,
            "lost": lost,
            "doubled": doubled,
        }
    finally:
        if started is not None:
            started[1]()
        shutil.rmtree(home, ignore_errors=True)


def iceberg_report(cache: Path, repeat: int, *, rebuild: bool, writers: bool = True) -> None:
    try:
        import pyiceberg  # noqa: F401
    except ImportError:
        print("\nIceberg: pyiceberg is not installed (pip install 'tunnelframe[iceberg]')")
        return
    from tunnelframe.history import iceberg_history

    notes_path = cache / "iceberg" / ICEBERG_NOTES
    if rebuild or not notes_path.exists():
        print("building the Iceberg table ...", file=sys.stderr)
        build_iceberg(cache)
    notes = json.loads(notes_path.read_text())
    uri = notes["uri"]
    target = iceberg_history(uri)
    rows = _rows(json.loads((cache / NOTES).read_text()), _days())
    closed_rows = rows - sum(pq_rows(p) for p in _open_day_files(cache))
    closed_bytes, live, folder = _iceberg_bytes(cache / "iceberg", target)
    local_data, local_total = compacted_bytes_per_row(cache)
    appends = notes["append_s"]
    print(f"\nIceberg (pyiceberg {pyiceberg_version()}, SQL catalog on SQLite, local warehouse)")
    print(
        f"bytes per row: closed days' rows files {closed_bytes / closed_rows:.3f} B/row (local "
        f"{local_data:.3f}); all live data files with facts {live / rows:.3f} B/row; the "
        f"folder with metadata {folder / rows:.3f} B/row (local with facts {local_total:.3f})"
    )
    print(
        f"{DAYS} days, {rows:,} rows; append (cron path, {len(appends)} appends of the open "
        f"day, table of "
        f"{notes['n_snapshots']} Iceberg snapshots): median "
        f"{statistics.median(appends) * 1000:.0f} ms, p95 "
        f"{sorted(appends)[int(0.95 * (len(appends) - 1))] * 1000:.0f} ms, max "
        f"{max(appends) * 1000:.0f} ms (target < 200 ms median)"
    )
    local = stores(cache)[f"0.2: compacted, last day open, {DAYS} days"][0]
    header = f"{f'query, {DAYS} days':<22}{'local':>17}{'iceberg':>17}{'ratio':>8}"
    print("seconds / peak MB per query (each in a fresh process)")
    print(header)
    print("-" * len(header))
    for name, query in QUERIES.items():
        ours = min(
            (run_iceberg_query(uri, query) for _ in range(repeat)), key=lambda r: r["seconds"]
        )
        theirs = min((run_query(local, query) for _ in range(repeat)), key=lambda r: r["seconds"])
        print(
            f"{name:<22}{theirs['seconds']:>8.2f}s {theirs['peak_kb'] / 1024:>5.0f}MB"
            f"{ours['seconds']:>8.2f}s {ours['peak_kb'] / 1024:>5.0f}MB"
            f"{ours['seconds'] / theirs['seconds']:>7.1f}x",
            flush=True,
        )
    if not writers:
        return
    print("concurrent writers (fresh table, snapshots of the open day)")
    for n in (1, 2, 4):
        r = concurrent_writers(cache, n, 12)
        print(
            f"  {n} writer(s), {r['catalog']}: {r['appends']} appends in {r['wall']:.1f} s = "
            f"{r['appends'] / r['wall']:.1f} appends/s; lost {r['lost']}, doubled {r['doubled']}",
            flush=True,
        )


# -- the cron path, both targets side by side ---------------------------------------------------

CRON_NOTES = "_cron.json"
CRON_QUERIES = {
    **{k: QUERIES[k] for k in ("version_rollout", "connector_churn", "colo_shifts")},
    **{k: QUERIES[k] for k in ("ha_timeline", "ha_episodes")},
    "report history section": "history_section(history_summary(store)).blocks",
}

# Peak memory is the process's own high-water mark (VmHWM), not ru_maxrss: Linux carries
# ru_maxrss over exec from the forking process, here the benchmark holding gigabytes.
_CRON_QUERY = """
import json, re, sys, time, warnings
warnings.simplefilter("error")
def hwm_kb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
import tunnelframe as tf
from tunnelframe.history import history_summary, iceberg_history
from tunnelframe.report._history import history_section
store = sys.argv[1]
if store.startswith("iceberg+"):
    store = iceberg_history(store)
    store.rows_table()  # connected: imports and the catalog's first answer are not the query's
baseline = hwm_kb()
start = time.perf_counter()
result = {query}
seconds = time.perf_counter() - start
peak = hwm_kb()
print(json.dumps({{"seconds": seconds, "peak_kb": peak, "baseline_kb": baseline,
                  "rows": len(result)}}))
"""


def cron_build(root: Path, *, cron_days: int) -> dict[str, Any]:
    """Write the same snapshots to a local store and an Iceberg table as cron leaves them.

    The last ``cron_days`` days go through the cron path, timed: every snapshot appended to
    both targets (``tf.append_snapshot``), and once a day, at the first snapshot at or after
    01:30 UTC, each target's maintenance (``compact_history``; ``compact_iceberg``, which
    closes the ended days and expires the Iceberg snapshots older than a day). The days before
    are written as that maintenance leaves them, which is quicker than 288 appends a day:
    each local day one sorted file and its facts (``_layout.write_day``, the code
    ``compact_history`` runs), each Iceberg day one append of the same sorted rows, closed by
    ``compact_iceberg``. Simulated days pass in seconds here, so each write and maintenance
    runs with the process's clock at its simulated time (``time-machine``, ticking): Iceberg
    stamps its snapshots, and appends and maintenance expire them, as they would in real time
    (a table keeps one to two hours of Iceberg snapshots, not the day's 288). Files' mtimes are
    real, so maintenance deletes unused files as old as the real time of the first write at or
    after the simulated time it asks for.
    One process, one catalog connection; each snapshot is generated once for both targets.
    """
    import bisect

    import pandas as pd
    import pyarrow as pa
    import time_machine

    import tunnelframe as tf
    from tunnelframe.history import _iceberg, _layout, _store, compact_iceberg, iceberg_history

    simulated: list[pd.Timestamp] = []  # each write's simulated time, in order
    real: list[pd.Timestamp] = []  # and the real time it began
    delete_unused = _iceberg._delete_unused

    def at(when: pd.Timestamp) -> Any:
        if not simulated or when > simulated[-1]:
            simulated.append(when)
            real.append(pd.Timestamp.now(tz="UTC"))  # outside travel: the real clock
        return time_machine.travel(when.to_pydatetime(), tick=True)

    def delete_unused_in_real_time(table: Any, before: pd.Timestamp) -> None:
        i = bisect.bisect_left(simulated, before)
        delete_unused(table, real[i] if i < len(real) else real[-1])

    _iceberg._delete_unused = delete_unused_in_real_time

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    local = root / "local"
    _layout.write_version(local)
    uri = f"iceberg+sqlite:///{root}/iceberg/catalog.db"
    target = iceberg_history(uri)
    table = target.rows_table(create=True)
    days = _days()
    first_cron = days[DAYS - cron_days]
    notes: dict[str, Any] = {
        "uri": uri,
        "cron_days": cron_days,
        "local_s": [],
        "iceberg_s": [],
        "local_maint_s": [],
        "iceberg_maint_s": [],
    }
    by_day: list[pa.Table] = []
    entries: list[dict[str, Any]] = []
    maintained = days[0]
    began_run = time.perf_counter()
    snapshots = tf.simulator.generate_history(
        N_TUNNELS, days=DAYS - 1 / PER_DAY, every=EVERY, seed=SEED, start=START
    )

    def maintain(now: pd.Timestamp) -> tuple[float, float]:
        t0 = time.perf_counter()
        tf.compact_history(local, now=now)
        t1 = time.perf_counter()
        compact_iceberg(target, now=now)
        return t1 - t0, time.perf_counter() - t1

    for n, snapshot in enumerate(snapshots, 1):
        fetched_at = _store._utc(snapshot.fetched_at, "fetched_at")
        day = f"{fetched_at:%Y-%m-%d}"
        if day < first_cron:
            accounts = sorted(snapshot.account_ids)
            by_day.append(_store._to_table(snapshot, fetched_at=fetched_at, account_ids=accounts))
            name = f"{fetched_at:%Y%m%dT%H%M%S.%fZ}-{_store._accounts_key(accounts)}.parquet"
            entries.append(
                {"file": name, "fetched_at": fetched_at.isoformat(), "account_ids": accounts}
            )
            if n % PER_DAY:
                continue
            rows = _layout.sort_rows(pa.concat_tables(by_day).unify_dictionaries())
            by_day, entries, written = [], [], entries
            _layout.write_day(local, day, rows, written, after=None)
            table.refresh()  # maintenance committed since
            with at(pd.Timestamp(f"{pd_next(day)}T00:00Z")):
                target.append_rows(table, rows, key=f"bulk-{day}", late=False)
            with at(pd.Timestamp(f"{pd_next(day)}T01:30Z")):
                maintain(pd.Timestamp(f"{pd_next(day)}T01:30Z"))
            maintained = pd_next(day)
            print(
                f"  {day}: {n} snapshots, {time.perf_counter() - began_run:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            continue
        if fetched_at.hour * 60 + fetched_at.minute >= 90 and maintained != day:
            maintained = day
            with at(fetched_at):
                local_s, iceberg_s = maintain(fetched_at)
            notes["local_maint_s"].append(local_s)
            notes["iceberg_maint_s"].append(iceberg_s)
        with at(fetched_at + pd.Timedelta(seconds=20)):  # cron appends what it just fetched
            t0 = time.perf_counter()
            tf.append_snapshot(snapshot, local)
            t1 = time.perf_counter()
            tf.append_snapshot(snapshot, target)
            t2 = time.perf_counter()
        notes["local_s"].append(t1 - t0)
        notes["iceberg_s"].append(t2 - t1)
        if n % PER_DAY == 0:
            print(
                f"  {day}: {n} snapshots, {time.perf_counter() - began_run:.0f} s; this day's "
                f"appends local {statistics.median(notes['local_s'][-PER_DAY:]) * 1000:.0f} ms, "
                f"iceberg {statistics.median(notes['iceberg_s'][-PER_DAY:]) * 1000:.0f} ms",
                file=sys.stderr,
                flush=True,
            )
    notes["snapshots"] = n
    (root / CRON_NOTES).write_text(json.dumps(notes))
    return notes


def closed_days_bytes(local: Path, target: Any) -> dict[str, float]:
    """Bytes per row of the closed days (all but the last): rows files, then with the facts."""
    from tunnelframe.history._facts import FACT_KINDS

    last = _days()[-1]
    closed = [d for d in sorted(local.glob("date=*")) if d.name != f"date={last}"]
    rows = sum(pq_rows(p) for d in closed for p in d.glob("*.parquet"))
    local_rows = sum(p.stat().st_size for d in closed for p in d.glob("*.parquet"))
    facts = [local / "_facts" / d.name for d in closed]
    local_facts = sum(p.stat().st_size for d in facts for p in d.rglob("*") if p.is_file())
    files = target.rows_table().inspect.files().to_pandas()
    mine = files[~files["file_path"].str.contains(f"fetched_at_day={last}")]
    ice_rows = int(mine["file_size_in_bytes"].sum())
    ice_facts = 0
    for kind in FACT_KINDS:
        table = target.facts_table(kind).inspect.files().to_pandas()
        if len(table):
            ice_facts += int(table["file_size_in_bytes"].sum())
    return {
        "local_rows": local_rows / rows,
        "local_all": (local_rows + local_facts) / rows,
        "iceberg_rows": ice_rows / rows,
        "iceberg_all": (ice_rows + ice_facts) / rows,
    }


def _run_cron_query(store: str, query: str) -> dict[str, float]:
    return _run_fresh(_CRON_QUERY, store, query)


def _ms(values: list[float], q: float) -> str:
    return f"{sorted(values)[int(q * (len(values) - 1))] * 1000:.0f}"


def cron_report(root: Path, repeat: int, *, writers: bool) -> None:
    """Print the side-by-side table of the cron-path local store and Iceberg table."""
    from tunnelframe.history import iceberg_history

    notes = json.loads((root / CRON_NOTES).read_text())
    uri, local = notes["uri"], root / "local"
    rows = sum(pq_rows(p) for p in local.glob("date=*/*.parquet"))
    target = iceberg_history(uri)
    _, local_bytes = _bytes(local)
    _, live, folder = _iceberg_bytes(root / "iceberg", target)
    print(
        f"\nThe cron path, both targets: {N_TUNNELS} tunnels every {EVERY}, "
        f"{notes['snapshots']:,} snapshots over {DAYS} days, {rows:,} rows; the last "
        f"{notes['cron_days']} days by the cron path (append every snapshot, timed; maintenance "
        "once a day), the days before as that maintenance leaves them (pyiceberg "
        f"{pyiceberg_version()}, SQL catalog on SQLite, local warehouse; cores: "
        f"{os.cpu_count()}, shared)"
    )
    header = f"{'':<34}{'local store':>22}{'Iceberg (SQLite)':>22}{'ratio':>8}"
    print(header)
    print("-" * len(header))

    def line(label: str, a: str, b: str, ratio: float | None) -> None:
        r = f"{ratio:>7.2f}x" if ratio is not None else ""
        print(f"{label:<34}{a:>22}{b:>22}{r:>8}", flush=True)

    line(
        "bytes per row (all files)",
        f"{local_bytes / rows:.3f}",
        f"{folder / rows:.3f}",
        folder / local_bytes,
    )
    line("bytes per row (live data+facts)", "", f"{live / rows:.3f}", None)
    closed = closed_days_bytes(local, target)
    line(
        "closed days: rows files, B/row",
        f"{closed['local_rows']:.3f}",
        f"{closed['iceberg_rows']:.3f}",
        closed["iceberg_rows"] / closed["local_rows"],
    )
    line(
        "closed days: with facts, B/row",
        f"{closed['local_all']:.3f}",
        f"{closed['iceberg_all']:.3f}",
        closed["iceberg_all"] / closed["local_all"],
    )
    ls, is_ = notes["local_s"], notes["iceberg_s"]
    line(
        "append ms, median / p95",
        f"{_ms(ls, 0.5)} / {_ms(ls, 0.95)}",
        f"{_ms(is_, 0.5)} / {_ms(is_, 0.95)}",
        statistics.median(is_) / statistics.median(ls),
    )
    last = slice(-PER_DAY, None)
    line(
        "  last day's appends, median / p95",
        f"{_ms(ls[last], 0.5)} / {_ms(ls[last], 0.95)}",
        f"{_ms(is_[last], 0.5)} / {_ms(is_[last], 0.95)}",
        None,
    )
    lm, im = notes["local_maint_s"], notes["iceberg_maint_s"]
    if lm:
        line(
            "daily maintenance s, median / max",
            f"{statistics.median(lm):.1f} / {max(lm):.1f}",
            f"{statistics.median(im):.1f} / {max(im):.1f}",
            statistics.median(im) / statistics.median(lm),
        )
    print("query: seconds / peak MB (VmHWM of a fresh process per query, interpreter and")
    print("imports included; the baseline after imports in brackets)")
    for name, query in CRON_QUERIES.items():
        runs_local = [_run_cron_query(str(local), query) for _ in range(repeat)]
        runs_ice = [_run_cron_query(uri, query) for _ in range(repeat)]
        a = min(runs_local, key=lambda r: r["seconds"])
        b = min(runs_ice, key=lambda r: r["seconds"])
        line(
            name,
            f"{a['seconds']:.2f}s {a['peak_kb'] / 1024:.0f}MB ({a['baseline_kb'] / 1024:.0f})",
            f"{b['seconds']:.2f}s {b['peak_kb'] / 1024:.0f}MB ({b['baseline_kb'] / 1024:.0f})",
            b["seconds"] / a["seconds"],
        )
    if not writers:
        return
    print("concurrent writers through PostgreSQL (fresh table, the last day's snapshots)")
    files = sorted((local / f"date={_days()[-1]}").glob("*.parquet"))
    for n in (1, 2, 4):
        r = concurrent_writers_files(files, n, 12)
        print(
            f"  {n} writer(s), {r['catalog']}: {r['appends']} appends in {r['wall']:.1f} s = "
            f"{r['appends'] / r['wall']:.2f} appends/s; lost {r['lost']}, doubled {r['doubled']}",
            flush=True,
        )


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(path).num_rows)


def pyiceberg_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("pyiceberg")


if __name__ == "__main__":
    main()
