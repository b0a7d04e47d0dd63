"""The history store's rows: appending a snapshot, loading a slice.

A snapshot is appended as ``<store>/date=YYYY-MM-DD/<fetched_at>-<accounts>.parquet``, every
file with the same Arrow schema (:data:`STORE_SCHEMA`). Appends are atomic (temp file, fsync,
rename); readers see whole snapshots or nothing. Which files hold which days (and compaction)
is :mod:`tunnelframe.history._layout`'s. This module knows no HTTP and does no analysis.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import warnings
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, overload

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from tunnelframe._checks import _utc
from tunnelframe._errors import TunnelframeError
from tunnelframe._io import atomic_write
from tunnelframe._types import StoreLike, TimeLike
from tunnelframe._versionorder import _order_version_columns
from tunnelframe.history import _layout
from tunnelframe.history._schema import (
    _FRAME_DTYPES,
    _TEXT,
    _TIME,
    ROW_COLUMNS,
    STORE_SCHEMA,
    store_root,
)

__all__ = ["append_snapshot", "load_history"]

_CATEGORIES = pd.ArrowDtype(pa.string())  # the categories of connections_frame's text
# Files readers must ignore start with "." (pyarrow, Spark and Dask skip them) and do not end in
# ".parquet" (DuckDB's glob skips them): an interrupted append leaves only such a file.
_TEMP_PREFIX = ".append-"
_TEMP_SUFFIX = ".parquet.tmp"


class SnapshotLike(Protocol):
    """What :func:`append_snapshot` needs of a snapshot (:class:`tunnelframe.Snapshot` has it)."""

    @property
    def fetched_at(self) -> datetime: ...

    @property
    def account_ids(self) -> list[str]: ...

    @property
    def tunnels(self) -> list[dict[str, Any]]: ...

    @property
    def errors(self) -> list[dict[str, Any]]: ...

    def connections(self) -> pd.DataFrame: ...


class HistoryTarget(Protocol):
    """A history kept elsewhere than a directory (:class:`tunnelframe.history.IcebergHistory`)."""

    def append(self, snapshot: SnapshotLike) -> str: ...


@overload
def append_snapshot(snapshot: SnapshotLike, store: StoreLike) -> Path: ...
@overload
def append_snapshot(snapshot: SnapshotLike, store: HistoryTarget) -> str: ...


def append_snapshot(snapshot: SnapshotLike, store: StoreLike | HistoryTarget) -> Path | str:
    """Append one snapshot's connections to a history store, atomically.

    The snapshot's connections frame, with its ``fetched_at`` and ``account_id``, becomes one
    Parquet file in the ``date=YYYY-MM-DD`` partition of its (UTC) fetch date. A tunnel that
    has no connector (and is neither deleted, never run, nor failed to fetch) adds one row with
    only its tunnel columns, so a tunnel that went down stays visible in the history. The file is
    written under a temporary name readers ignore, flushed to disk, then renamed into place: an
    append interrupted at any point leaves the store readable and complete up to the previous
    snapshot (at worst a hidden ``.append-*.parquet.tmp`` file, which readers skip and a later
    append does not mind). Appending the same snapshot again (same ``fetched_at`` and accounts)
    writes nothing and returns the existing file, so a retried cron job is harmless.

    Parameters
    ----------
    snapshot : Snapshot
        A snapshot from ``tunnelframe.fetch_fleet`` or ``tunnelframe.simulator.generate_history``:
        anything with ``fetched_at``, ``account_ids``, ``tunnels``, ``errors`` and
        ``connections()``.
    store : str, path-like or IcebergHistory
        Directory of the store; created when missing. Or an Iceberg table
        (:func:`tunnelframe.history.iceberg_history`): one Iceberg commit, retried while other
        writers commit first.

    Returns
    -------
    pathlib.Path or str
        The Parquet file holding the snapshot; for an Iceberg table, the snapshot's key.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(3, days=2):
    ...     path = tf.append_snapshot(snapshot, store)
    >>> path.parent.name
    'date=2026-08-20'
    """
    if not isinstance(store, str | os.PathLike):
        return store.append(snapshot)
    fetched_at = _utc(snapshot.fetched_at, "snapshot.fetched_at")
    account_ids = sorted(str(a) for a in snapshot.account_ids)
    root = store_root(store)
    _ensure_format(root)
    partition = root / f"date={fetched_at:%Y-%m-%d}"
    accounts_key = _accounts_key(account_ids)
    target = partition / f"{fetched_at:%Y%m%dT%H%M%S.%fZ}-{accounts_key}.parquet"
    if target.exists():
        return target
    table = _to_table(snapshot, fetched_at=fetched_at, account_ids=account_ids)
    partition.mkdir(parents=True, exist_ok=True)
    atomic_write(
        target,
        lambda sink: pq.write_table(table, sink, compression="zstd"),
        temp_name=f"{_TEMP_PREFIX}{uuid.uuid4().hex}{_TEMP_SUFFIX}",
    )
    return target


def load_history(
    store: StoreLike,
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    tunnels: Iterable[str] | None = None,
    latest: bool = False,
    frame: str = "connections",
) -> pd.DataFrame:
    """Read snapshots from a history store into one connections frame with ``fetched_at``.

    Only the date partitions that can hold ``start <= fetched_at < end`` are opened, and the
    tunnel filter is pushed down to the Parquet reader. Load only what fits in memory: the
    aggregate queries (:func:`version_rollout`, :func:`ha_timeline`, ...) take the store path and
    run out of core.

    Parameters
    ----------
    store : str or path-like
        Directory of the store.
    start, end : str, date, datetime or pandas.Timestamp, optional
        Keep snapshots with ``start <= fetched_at < end``; naive times are UTC.
    tunnels : iterable of str, optional
        Keep these tunnels, given by id or by name.
    latest : bool, default False
        Keep only the latest snapshot (in the range) of each account, or set of accounts
        fetched together: the fleet as it is now, without reading the rest of the store.
    frame : {"connections", "unread", "routing", "hostnames", "routes", "tunnel_dns"}
        What to read. ``"connections"``: the connections (and tunnels without connectors).
        ``"unread"``: the tunnels that could not be read, one row per tunnel and snapshot
        (``account_id, tunnel_id, tunnel_name, status, message``). ``"routing"``: one row per
        snapshot that read what the tunnels serve (``account_id``, ``read``: the parts read,
        joined with ","; ``notes``: JSON of the parts skipped); a snapshot without a row did not
        read it, which is not serving nothing. ``"hostnames"``, ``"routes"``,
        ``"tunnel_dns"``: the rows of :func:`tunnelframe.hostnames_frame`,
        :func:`~tunnelframe.routes_frame`, :func:`~tunnelframe.tunnel_dns_frame` of each
        snapshot that read its part.

    Returns
    -------
    pandas.DataFrame
        ``fetched_at`` (tz-aware UTC) then the columns and dtypes of ``connections_frame``
        (or of the ``frame`` asked for), sorted by ``fetched_at``, ``tunnel_id``,
        ``connector_id`` and ``connection_id``; empty with the same columns when nothing
        matches.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(3, days=3):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> history = tf.load_history(store, start="2026-08-19")
    >>> history["fetched_at"].dt.strftime("%Y-%m-%d").unique().tolist()
    ['2026-08-19', '2026-08-20']
    """
    if frame not in _RECORD_OF:
        raise ValueError(f"frame must be one of {', '.join(map(repr, _RECORD_OF))}, got {frame!r}")
    record = _RECORD_OF[frame]
    kind = ds.field("record").is_null() if record is None else ds.field("record") == record
    if latest and record is None and tunnels is None:
        kind = kind | ds.field("record").isin(pa.array(["routing", "hostname", "route", "dns"]))
    bounds = _filter(start=start, end=end, tunnels=tunnels)
    row_filter = kind if bounds is None else bounds & kind

    def read(plan: _layout.Plan) -> pa.Table:
        dataset = _latest(plan, start=start, end=end) if latest else _rows_dataset(plan.row_files())
        try:
            return dataset.to_table(columns=STORE_SCHEMA.names, filter=row_filter)
        except FileNotFoundError:
            raise  # compacted meanwhile: read_consistent reads again
        except (OSError, pa.ArrowException) as exc:
            if "No such file or directory" in str(exc):
                raise FileNotFoundError(str(exc)) from exc
            raise TunnelframeError(
                f"cannot read history store {plan.root}: {str(exc).splitlines()[0]}: remove or "
                "repair the damaged file"
            ) from exc

    table = _layout.read_consistent(store, read, start=start, end=end, tolerant=latest)
    if record is not None:
        return _records_frame(table, frame)
    kinds = table["record"].combine_chunks().cast(pa.string())
    # One order whatever the layout (compaction sorts a day's rows by tunnel, not by time).
    rows = _to_frame(table.filter(kinds.is_null()))
    rows = rows.sort_values(["fetched_at", *_layout.SORT_KEYS], ignore_index=True, kind="stable")
    if latest and tunnels is None:
        # What the tunnels of the latest snapshot serve, as a snapshot keeps it (the report's
        # routing section reads it): None when it was not read.
        rows.attrs["routing"] = _routing_of(table)
    return rows


def _routing_of(table: pa.Table) -> dict[str, Any] | None:
    """The routing records of the latest snapshots (``table``: their rows) back in the form
    ``fetch_routing`` gives (``read``, ``notes``, ``configurations``, ``routes``,
    ``dns_records``): what the routing frames read. None when one of them did not read it."""
    kinds = table["record"].combine_chunks().cast(pa.string())
    headers = table.filter(pc.equal(kinds, "routing"))
    if not headers.num_rows or headers.num_rows < len(set(table["fetched_at"].to_pylist())):
        return None
    read: set[str] | None = None
    notes: list[Any] = []
    for detail in headers["detail"].to_pylist():
        header = json.loads(detail)
        read = set(header.get("read", [])) if read is None else read & set(header["read"])
        notes.extend(header.get("notes", []))
    hostnames, routes, dns = (
        _records_frame(table.filter(pc.equal(kinds, _RECORD_OF[frame])), frame)
        for frame in ("hostnames", "routes", "tunnel_dns")
    )

    def text(value: Any) -> str | None:
        return None if pd.isna(value) else str(value)

    configurations: dict[str, Any] = {}
    for row in hostnames[hostnames["source"] == "configuration"].itertuples():
        rules = configurations.setdefault(str(row.tunnel_id), {"config": {"ingress": []}})
        rules["config"]["ingress"].append(
            {"hostname": row.hostname, "path": text(row.path), "service": text(row.service)}
        )
    return {
        "read": sorted(read or ()),
        "notes": notes,
        "configurations": configurations,
        "routes": [
            {"id": text(r.route_id), "network": text(r.network), "tunnel_id": text(r.tunnel_id),
             "tunnel_name": text(r.tunnel_name), "virtual_network_id": text(r.virtual_network_id),
             "virtual_network_name": text(r.virtual_network_name), "tun_type": text(r.tun_type)}
            for r in routes.itertuples()
        ],
        "dns_records": [
            {"id": text(r.record_id), "zone_id": text(r.zone_id), "zone_name": text(r.zone_name),
             "name": r.hostname, "type": "CNAME", "content": f"{r.tunnel_id}.cfargotunnel.com"}
            for r in dns.itertuples()
        ],
    }  # fmt: skip


#: What ``load_history(frame=...)`` reads: the ``record`` of its rows (None: connections).
_RECORD_OF: dict[str, str | None] = {
    "connections": None,
    "unread": "unread",
    "routing": "routing",
    "hostnames": "hostname",
    "routes": "route",
    "tunnel_dns": "dns",
}


def _records_frame(table: pa.Table, frame: str) -> pd.DataFrame:
    """Stored records of one kind as the frame they came from, with ``fetched_at``."""
    from tunnelframe.frames import HOSTNAMES_SCHEMA, ROUTES_SCHEMA, TUNNEL_DNS_SCHEMA

    text = pd.ArrowDtype(pa.string())
    rows = table.to_pandas()
    out = pd.DataFrame({"fetched_at": rows["fetched_at"].astype(_FRAME_DTYPES["fetched_at"])})
    if frame == "unread":
        schema: dict[str, Any] = {
            "account_id": "category",
            "tunnel_id": text,
            "tunnel_name": text,
            "status": "Int32",
            "message": text,
        }
        rows = rows.rename(columns={"detail": "message"})
    elif frame == "routing":
        header = [json.loads(d) for d in rows["detail"].astype(object)]
        rows = rows.assign(
            read=[",".join(h.get("read", [])) for h in header],
            notes=[json.dumps(h.get("notes", [])) for h in header],
        )
        schema = {"account_id": "category", "read": text, "notes": text}
    else:
        schema = {"hostnames": HOSTNAMES_SCHEMA, "routes": ROUTES_SCHEMA}.get(
            frame, TUNNEL_DNS_SCHEMA
        )
    for column, dtype in schema.items():
        values = rows[column].astype(object).where(rows[column].notna(), None)
        out[column] = values.astype(dtype)
    # Each snapshot's rows in the order of the frame they came from.
    by = ["fetched_at", *_ORDER.get(frame, ())]
    keys = pd.DataFrame({c: out[c] if c == "fetched_at" else out[c].astype(object).fillna("")
                         .astype(str) for c in by})  # fmt: skip
    return out.loc[keys.sort_values(by, kind="stable").index].reset_index(drop=True)


_ORDER = {
    "hostnames": ("tunnel_name", "tunnel_id", "hostname", "path"),
    "routes": ("tunnel_name", "tunnel_id", "network"),
    "tunnel_dns": ("hostname", "tunnel_id"),
    "unread": ("tunnel_id",),
}


def _ensure_format(root: Path) -> None:
    """Check a store's format before writing; give a new store its version file."""
    if (root / _layout.VERSION_FILE).exists():
        _layout.read_version(root)
    elif not root.is_dir() or not any(n.startswith("date=") for n in os.listdir(root)):
        _layout.write_version(root)
    # else: a tunnelframe 0.1 store; appending keeps its layout (migrate to compact it)


def _rows_dataset(files: list[Path]) -> ds.Dataset:
    """The rows of ``files`` as one dataset, columns matched by name; nothing opened yet."""
    return ds.dataset([str(f) for f in files], format="parquet", schema=STORE_SCHEMA)


def _latest(plan: Any, *, start: TimeLike | None, end: TimeLike | None) -> ds.Dataset:
    """The latest snapshot in range of each set of accounts, as a dataset.

    Snapshot file names start with their ``fetched_at`` and end with a key of their accounts
    (see :func:`append_snapshot`), and a compacted file lists its snapshots in its footer, so
    choosing reads no rows.
    """
    lo = None if start is None else _utc(start, "start")
    hi = None if end is None else _utc(end, "end")
    # accounts key -> (time, file, accounts; None for a snapshot file)
    newest: dict[str, tuple[pd.Timestamp, Path, list[str] | None]] = {}

    def consider(stamp: pd.Timestamp, key: str, path: Path, accounts: list[str] | None) -> None:
        if (lo is not None and stamp < lo) or (hi is not None and stamp >= hi):
            return
        if key not in newest or stamp > newest[key][0]:
            newest[key] = (stamp, path, accounts)

    damaged = list(plan.damaged)
    for day in plan.days:
        if day.compacted is not None:
            try:
                entries = _layout.compacted_snapshots(day.compacted)
            except TunnelframeError as exc:
                damaged.append((day.date, str(exc)))
                continue
            for entry in entries:
                held: list[str] = sorted(entry["account_ids"])
                stamp = pd.Timestamp(entry["fetched_at"]).tz_convert("UTC")
                consider(stamp, _accounts_key(held), day.compacted, held)
        for path in day.snapshots:
            stamp_text, _, key = path.name.removesuffix(".parquet").partition("-")
            stamp = pd.Timestamp(datetime.strptime(stamp_text, "%Y%m%dT%H%M%S.%fZ"), tz="UTC")
            consider(stamp, key, path, None)
    # A damaged file of a day before every latest snapshot chosen cannot hold a later one:
    # leave it out with a warning. One of the days chosen from, or later, could: an error.
    oldest = min((f"{stamp:%Y-%m-%d}" for stamp, _, _ in newest.values()), default=None)
    for date, message in sorted(damaged):
        if oldest is None or date >= oldest:
            raise TunnelframeError(message)
    for date, message in sorted(damaged):
        warnings.warn(
            f"{message} (left out: its day, {date}, is older than the latest snapshot)",
            _layout.StoreWarning,
            stacklevel=4,
        )
    tables = []
    for stamp, path, accounts in newest.values():
        dataset = _rows_dataset([path])
        if accounts is None:
            tables.append(dataset.to_table())
        else:
            mine = (
                ds.field("account_id").isin(pa.array(accounts)) | ds.field("account_id").is_null()
            )
            tables.append(
                dataset.to_table(filter=(ds.field("fetched_at") == _scalar(stamp)) & mine)
            )
    if not tables:
        return _rows_dataset([])
    return ds.dataset(pa.concat_tables(tables).unify_dictionaries())


def _accounts_key(account_ids: list[str]) -> str:
    return hashlib.sha1(",".join(account_ids).encode()).hexdigest()[:8]


def _filter(
    *, start: TimeLike | None, end: TimeLike | None, tunnels: Iterable[str] | None
) -> ds.Expression | None:
    """Row bounds on ``fetched_at`` and tunnels (the plan prunes whole days)."""
    parts: list[ds.Expression] = []
    if start is not None:
        lo = _utc(start, "start")
        parts.append(ds.field("fetched_at") >= _scalar(lo))
    if end is not None:
        hi = _utc(end, "end")
        parts.append(ds.field("fetched_at") < _scalar(hi))
    if tunnels is not None:
        if isinstance(tunnels, str):
            tunnels = [tunnels]
        wanted = pa.array([str(t) for t in tunnels], type=pa.string())
        parts.append(ds.field("tunnel_id").isin(wanted) | ds.field("tunnel_name").isin(wanted))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


def _scalar(stamp: pd.Timestamp) -> pa.Scalar:
    return pa.scalar(stamp.to_pydatetime(), type=_TIME)


def _to_table(
    snapshot: SnapshotLike, *, fetched_at: pd.Timestamp, account_ids: list[str]
) -> pa.Table:
    """The snapshot as a table of :data:`STORE_SCHEMA`: connections, connector-less tunnels,
    tunnels that could not be read and, when it was read, what the tunnels serve."""
    parts = [_frame_table(snapshot.connections())]
    for extra in (_bare_tunnels(snapshot), _unread(snapshot), *_routing(snapshot)):
        if len(extra):
            parts.append(_frame_table(extra))
    table = pa.concat_tables(parts).unify_dictionaries().combine_chunks()
    n = table.num_rows
    table = table.set_column(0, "fetched_at", pa.nulls(n, _TIME).fill_null(_scalar(fetched_at)))
    if len(account_ids) == 1:
        # A fleet whose tunnels lack account_tag still belongs to the one account fetched (the
        # rows of the routing frames are kept as those frames have them).
        record = table["record"].combine_chunks().cast(pa.string())
        own = pc.or_kleene(pc.is_null(record), pc.is_in(record, pa.array(["unread", "routing"])))
        account = table["account_id"].combine_chunks()
        filled = pc.if_else(pc.and_(own, pc.is_null(account)), account_ids[0], account)
        table = table.set_column(1, "account_id", filled.cast(_TEXT))
    metadata = {
        "tunnelframe.snapshot": json.dumps(
            {"fetched_at": fetched_at.isoformat(), "account_ids": account_ids}
        )
    }
    return table.replace_schema_metadata(metadata)


def _bare_tunnels(snapshot: SnapshotLike) -> pd.DataFrame:
    """One row of tunnel columns per tunnel that is up for being watched but has no connector."""
    failed = {str(e.get("tunnel_id")) for e in snapshot.errors}
    rows = [
        {
            "account_id": t.get("account_tag"),
            "tunnel_id": t.get("id"),
            "tunnel_name": t.get("name"),
            "tunnel_status": t.get("status"),
            "tun_type": t.get("tun_type"),
        }
        for t in snapshot.tunnels
        if not t.get("connectors")
        and not t.get("deleted_at")
        and t.get("status") != "inactive"
        and str(t.get("id")) not in failed
    ]
    columns = ["account_id", "tunnel_id", "tunnel_name", "tunnel_status", "tun_type"]
    return pd.DataFrame(rows, columns=columns)


def _unread(snapshot: SnapshotLike) -> pd.DataFrame:
    """One ``unread`` record per tunnel whose connectors could not be read (``errors[]``;
    one with connectors all the same, carried from an earlier read, is stored by its rows)."""
    names = {str(t.get("id")): t for t in snapshot.tunnels}
    rows = [
        {
            "record": "unread",
            "account_id": e.get("account_id"),
            "tunnel_id": str(e["tunnel_id"]),
            "tunnel_name": e.get("tunnel_name") or names.get(str(e["tunnel_id"]), {}).get("name"),
            "tun_type": names.get(str(e["tunnel_id"]), {}).get("tun_type"),
            "status": e.get("status"),
            "detail": e.get("message"),
        }
        for e in snapshot.errors
        if e.get("tunnel_id") is not None
        and not names.get(str(e["tunnel_id"]), {}).get("connectors")
    ]
    columns = ["record", "account_id", "tunnel_id", "tunnel_name", "tun_type", "status", "detail"]
    return pd.DataFrame(rows, columns=columns)


def _routing(snapshot: SnapshotLike) -> list[pd.DataFrame]:
    """What the tunnels serve as records: the parts read, then the rows of the routing frames.

    Nothing when routing was not read: a snapshot without a ``routing`` record has not read it,
    which is not the same as serving nothing.
    """
    from tunnelframe.frames import hostnames_frame, routes_frame, tunnel_dns_frame

    routing = getattr(snapshot, "routing", None)
    if routing is None:
        return []
    fleet = {"tunnels": list(snapshot.tunnels), "routing": routing}
    header = {
        "read": [str(part) for part in routing.get("read") or []],
        "notes": list(routing.get("notes") or []),
    }
    parts = [pd.DataFrame({"record": ["routing"], "detail": [json.dumps(header, default=str)]})]
    for record, frame in (
        ("hostname", hostnames_frame(fleet)),
        ("route", routes_frame(fleet)),
        ("dns", tunnel_dns_frame(fleet)),
    ):
        parts.append(frame.assign(record=record))
    return parts


def _frame_table(frame: pd.DataFrame) -> pa.Table:
    """The columns of ``frame`` typed as in :data:`STORE_SCHEMA`; absent ones are null."""
    n = len(frame)
    columns = [
        _column(frame[f.name], f) if f.name in frame.columns else pa.nulls(n, type=f.type)
        for f in STORE_SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=STORE_SCHEMA)


def _column(series: pd.Series, field: pa.Field) -> pa.Array:
    if isinstance(field.type, pa.DictionaryType):
        values = (
            series.astype("string") if not isinstance(series.dtype, pd.CategoricalDtype) else series
        )
        array = pa.array(values, from_pandas=True)
        if not isinstance(array.type, pa.DictionaryType):
            array = array.cast(pa.string()).dictionary_encode()
        return array.cast(field.type)
    if pa.types.is_timestamp(field.type):
        stamps = pd.to_datetime(series, utc=True, errors="coerce")
        return pa.array(stamps, from_pandas=True).cast(field.type, safe=False)
    if pa.types.is_boolean(field.type):
        return pa.array(series.astype("boolean"), from_pandas=True, type=field.type)
    if pa.types.is_integer(field.type):
        numbers = pd.to_numeric(series, errors="coerce").astype("Int64")
        return pa.array(numbers, from_pandas=True).cast(field.type)
    return pa.array(series.astype("string"), from_pandas=True, type=field.type)


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """A table of :data:`STORE_SCHEMA` as a frame with the dtypes of ``connections_frame``."""
    frame = table.select(list(ROW_COLUMNS)).to_pandas()
    for column, dtype in _FRAME_DTYPES.items():
        if isinstance(dtype, str) and dtype == "category":
            # Sorted pyarrow-string categories, as connections_frame makes them.
            values = sorted(frame[column].dropna().unique())
            categories = pd.Index(values, dtype=_CATEGORIES)
            frame[column] = frame[column].astype(pd.CategoricalDtype(categories))
        else:
            frame[column] = frame[column].astype(dtype)
    if not frame["uuid"].notna().any():
        # connections_frame has a uuid column only where some uuid differs from the id.
        frame = frame.drop(columns="uuid")
    return _order_version_columns(pd.DataFrame(frame))
