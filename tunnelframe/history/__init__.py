"""Fleet history: snapshots kept over time in a Parquet store, and what changed between them.

A single snapshot says where the fleet is; the history says how it moves: which connectors
upgraded and when (:func:`version_rollout`), which hosts restart every day
(:func:`connector_churn`), which tunnel lost its second colo last night (:func:`colo_shifts`),
how long each tunnel ran without redundancy (:func:`ha_timeline`, :func:`ha_episodes`).

The store is a directory of Parquet files partitioned by UTC date, hive style, with a version
file (:data:`FORMAT_VERSION`, see :mod:`tunnelframe.history._layout`)::

    store/_tunnelframe.json
    store/date=2026-08-20/20260820T120000.000000Z-1a2b3c4d.parquet   a snapshot (today)
    store/date=2026-08-19/compacted-000001.parquet                   a day that has ended
    store/_facts/date=2026-08-19/000001-tunnels.parquet              what the queries read

:func:`append_snapshot` writes one file per snapshot (atomic; appending the same snapshot again
is a no-op), every file with the same schema (:data:`STORE_SCHEMA`): the connections frame plus
``fetched_at``, and one bare row per tunnel that has no connector, so a tunnel that went down
stays in the history; the tunnels that could not be read and what the tunnels serve (routing)
are rows too, told apart by their ``record`` (``load_history(store, frame=...)`` reads them). A
tunnel that could not be read is not torn down: the queries continue its runs across the gap.
:func:`compact_history` turns each day that has ended into one sorted file (about a third of
a byte per row) and its *facts* (per-snapshot rollups and runs of
unchanged connectors, hosts and tunnels, :mod:`tunnelframe.history._facts`), atomically and
safely while others read and append. The aggregate queries take the store path and read the
facts with DuckDB (deriving those of the days not compacted yet), so their cost follows the
number of changes, not of rows; :func:`load_history` reads a slice (dates, tunnels) into
pandas, opening only the days it needs. Given a history frame instead of a path, the same
queries run in DuckDB over the frame. :func:`store_info` says how big a store is;
:func:`migrate_history` brings an older store (0.1: no version file; 0.2: format 2) to the current
format.

Beyond one machine, the rows are the Parquet files of the ``date=`` partitions (names
starting with ``_`` or ``.`` are not rows):

- pyarrow: ``pyarrow.dataset.dataset(store, format="parquet", partitioning="hive")``;
- DuckDB: ``SELECT ... FROM read_parquet('store/date=*/*.parquet', hive_partitioning=true)``;
- Spark: ``spark.read.parquet("store")`` (discovers the ``date`` partition column);
- Dask: ``dask.dataframe.read_parquet("store/date=*/*.parquet")``.

:func:`history_summary` runs every query once into a :class:`HistorySummary`, which both
``tunnelframe history`` and the report's History section show. The plots of a history live in
:mod:`tunnelframe.plotting` (:func:`~tunnelframe.plot_version_rollout`,
:func:`~tunnelframe.plot_ha_timeline`), its report section in :mod:`tunnelframe.report`.

From the command line, ``tunnelframe snapshot --account ID --store DIR`` (for cron) appends a
fetch and compacts the days that have ended, ``tunnelframe history DIR --compact`` or
``--migrate`` maintain a store by hand, and ``tunnelframe history DIR -o report.html``
summarises a store and writes a report with a History section
(``write_report(..., history=store)``).

This package must not fetch anything (snapshots come from :mod:`tunnelframe.fetch` or the
simulator) and must never load a whole store into pandas behind the caller's back.
"""

from __future__ import annotations

from tunnelframe.history._iceberg import (
    ICEBERG_SCHEME,
    IcebergHistory,
    compact_iceberg,
    export_iceberg,
    iceberg_history,
    load_latest,
)
from tunnelframe.history._layout import (
    FORMAT_VERSION,
    StoreInfo,
    StoreWarning,
    compact_history,
    migrate_history,
    store_info,
)
from tunnelframe.history._queries import (
    HA_STATES,
    colo_shifts,
    connector_churn,
    ha_episodes,
    ha_timeline,
    version_rollout,
)
from tunnelframe.history._schema import STORE_SCHEMA
from tunnelframe.history._store import append_snapshot, load_history
from tunnelframe.history._summary import HistorySummary, history_summary, lost_second_colo

__all__ = [
    "FORMAT_VERSION",
    "HA_STATES",
    "ICEBERG_SCHEME",
    "STORE_SCHEMA",
    "HistorySummary",
    "IcebergHistory",
    "StoreInfo",
    "StoreWarning",
    "append_snapshot",
    "colo_shifts",
    "compact_history",
    "compact_iceberg",
    "connector_churn",
    "export_iceberg",
    "ha_episodes",
    "ha_timeline",
    "history_summary",
    "iceberg_history",
    "load_history",
    "load_latest",
    "lost_second_colo",
    "migrate_history",
    "store_info",
    "version_rollout",
]
