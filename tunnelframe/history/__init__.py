"""Fleet history: snapshots kept over time in a Parquet store, and what changed between them.

A single snapshot says where the fleet is; the history says how it moves: which connectors
upgraded and when (:func:`version_rollout`), which hosts restart every day
(:func:`connector_churn`), which tunnel lost its second colo last night (:func:`colo_shifts`),
how long each tunnel ran without redundancy (:func:`ha_timeline`, :func:`ha_episodes`).

The store is a directory of Parquet files partitioned by UTC date, hive style::

    store/date=2026-08-01/20260801T000000.000000Z-1a2b3c4d.parquet
    store/date=2026-08-02/...

one file per snapshot (:func:`append_snapshot`, atomic; appending the same snapshot again is
a no-op), every file with the same schema (:data:`STORE_SCHEMA`): the connections frame plus
``fetched_at``, and one bare row per tunnel that has no connector, so a tunnel that went down
stays in the history. A store can outgrow memory (a year of 5-minute snapshots
of a 5000-connector fleet is about 2·10^9 rows), so the aggregate queries take the store path
and run in DuckDB over the files, out of core; :func:`load_history` reads a slice (dates,
tunnels) into pandas, opening only the partitions it needs. Given a history frame instead of a
path, the same queries run in DuckDB over the frame.

Beyond one machine, the store is a plain hive-partitioned Parquet dataset and reads unchanged
with other engines (files whose name starts with ``.`` are unfinished appends; all of these
skip them):

- pyarrow: ``pyarrow.dataset.dataset(store, format="parquet", partitioning="hive")``, then
  ``.to_table(filter=pyarrow.dataset.field("date") >= "2026-08-01")``;
- DuckDB: ``SELECT ... FROM read_parquet('store/date=*/*.parquet', hive_partitioning=true)``;
- Spark: ``spark.read.parquet("store")`` (discovers the ``date`` partition column);
- Dask: ``dask.dataframe.read_parquet("store", filters=[("date", ">=", "2026-08-01")])``.

The ``date`` column these add is the partition key (the UTC date of ``fetched_at``).

From the command line, ``tunnelframe snapshot --account ID --store DIR`` (for cron) appends a
fetch, and ``tunnelframe history DIR -o report.html`` summarises a store and writes a report
with a History section (``write_report(..., history=store)``).

This package must not fetch anything (snapshots come from :mod:`tunnelframe.fetch` or the
simulator) and must never load a whole store into pandas behind the caller's back.
"""

from __future__ import annotations

from tunnelframe.history._layout import (
    FORMAT_VERSION,
    StoreInfo,
    StoreWarning,
    compact_history,
    migrate_history,
    store_info,
)
from tunnelframe.history._plots import plot_ha_timeline, plot_version_rollout
from tunnelframe.history._queries import (
    HA_STATES,
    colo_shifts,
    connector_churn,
    ha_episodes,
    ha_timeline,
    version_rollout,
)
from tunnelframe.history._store import STORE_SCHEMA, append_snapshot, load_history

__all__ = [
    "FORMAT_VERSION",
    "HA_STATES",
    "STORE_SCHEMA",
    "StoreInfo",
    "StoreWarning",
    "append_snapshot",
    "colo_shifts",
    "compact_history",
    "connector_churn",
    "ha_episodes",
    "ha_timeline",
    "load_history",
    "migrate_history",
    "plot_ha_timeline",
    "plot_version_rollout",
    "store_info",
    "version_rollout",
]
