"""A history kept in an Iceberg table, through pyiceberg: several writers, any engine reads it.

The local store (:mod:`tunnelframe.history._store`) has one writer host. An Iceberg table has
as many as its catalog serialises: each append is one Iceberg commit, checked against the
table's current metadata by the catalog (a row lock in a SQL catalog on PostgreSQL, a file
lock on SQLite, the server of a REST catalog) and retried on conflict, so writers in several
regions share one table, and Spark, Trino, Snowflake or DuckDB read it as it is.

An :class:`IcebergHistory` is a namespace of seven tables:

- ``<table>``: the rows, the columns of :data:`STORE_SCHEMA` (text as plain strings),
  partitioned by ``day(fetched_at)`` and sorted by tunnel, connector, connection and time;
- ``<table>_<kind>`` for each of :data:`~tunnelframe.history._facts.FACT_KINDS`: the facts of
  the days maintenance closed, each with a ``day`` column (partition).

A day's facts are committed in order, ``snaps`` last: the ``snaps`` facts of a day are the
mark that the day is closed. Readers take the closed days from ``snaps`` first, then read the
other facts of those days only, and derive the facts of every other day from its rows. A
maintenance killed between two commits leaves facts no reader uses (the next run replaces
them); an append to a closed day (a late collector) first removes the day's mark, so the day is
derived from its rows until maintenance closes it again. Nothing here fetches anything.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs

import pandas as pd
import pyarrow as pa

from tunnelframe._checks import _utc
from tunnelframe._errors import TunnelframeError
from tunnelframe._types import TimeLike
from tunnelframe._version import __version__
from tunnelframe.history._facts import FACT_KINDS, derive_facts
from tunnelframe.history._schema import STORE_SCHEMA
from tunnelframe.history._store import SnapshotLike, _accounts_key, _to_table

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table, Transaction

__all__ = [
    "ICEBERG_SCHEME",
    "PASSWORD_ENV",
    "PASSWORD_FILE_ENV",
    "IcebergHistory",
    "compact_iceberg",
    "export_iceberg",
    "iceberg_history",
    "load_latest",
]

#: Targets starting with this are Iceberg catalogs (``iceberg+sqlite:///...``,
#: ``iceberg+postgresql://user@host/db``); anything else is a local store directory.
ICEBERG_SCHEME = "iceberg+"
#: The environment variable holding the catalog database's password.
PASSWORD_ENV = "TUNNELFRAME_CATALOG_PASSWORD"
#: The environment variable naming a file whose first line is the catalog's password.
PASSWORD_FILE_ENV = "TUNNELFRAME_CATALOG_PASSWORD_FILE"
# The table property saying which store format the rows follow (the local store's
# FORMAT_VERSION), and which tunnelframe created the table.
_FORMAT_PROPERTY = "tunnelframe.format-version"
_CREATED_PROPERTY = "tunnelframe.created-by"
# A snapshot's key in the summary of the Iceberg snapshot that appended it: a retried append
# finds it and writes nothing.
_SNAPSHOT_PROPERTY = "tunnelframe.snapshot"
# The last day maintenance began to close: an append to a day up to it checks the day's mark.
_CLOSING_PROPERTY = "tunnelframe.closing-through"
# How a commit that lost a race is retried (pyiceberg re-applies it to the new metadata): often,
# quickly at first, for at most a minute; then the writer gives up with an error.
_TABLE_PROPERTIES = {
    "write.parquet.compression-codec": "zstd",
    "commit.retry.num-retries": "40",
    "commit.retry.min-wait-ms": "20",
    "commit.retry.max-wait-ms": "2000",
    "commit.retry.total-timeout-ms": "60000",
    # One metadata file per commit, and a cron appends every 5 minutes: keep the last few.
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "20",
}
_SORT = ("tunnel_id", "connector_id", "connection_id", "fetched_at")
#: How long after its end a day is closed by maintenance: a late collector has this long.
CLOSE_AFTER = timedelta(hours=1)
#: How long a table's older Iceberg snapshots stay (time travel, slow readers), at least. Every
#: snapshot kept costs every append (pyiceberg copies the table's metadata, every snapshot, a
#: few times a commit), so an append expires them once they are twice as old, and maintenance
#: once a day: a table keeps one to two hours of snapshots, not a day's 288.
KEEP_SNAPSHOTS = timedelta(hours=1)
# The latest time before which Iceberg snapshots were expired: a snapshot fetched before it may
# have lost the Iceberg snapshot that appended it, so a retried append looks for its rows.
_EXPIRED_PROPERTY = "tunnelframe.expired-before"
# The expiry (its _EXPIRED_PROPERTY) after which maintenance last deleted the unused files.
_CLEANED_PROPERTY = "tunnelframe.cleaned-after"
# How far the clocks of the host that fetched a snapshot and the one that appended it may differ.
_CLOCK_SLACK = timedelta(minutes=10)


def _plain(schema: pa.Schema) -> pa.Schema:
    """``schema`` with dictionary-encoded text as plain strings (Iceberg has no dictionaries)."""
    return pa.schema(
        [
            pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
            for f in schema
        ]
    )


_ROWS_SCHEMA = _plain(STORE_SCHEMA)
_T = TypeVar("_T")


@dataclass(repr=False, eq=False)
class IcebergHistory:
    """A fleet history in an Iceberg namespace, a target for appends and queries alike.

    Pass it wherever a history store path goes: :func:`tunnelframe.append_snapshot` writes to
    it, the history queries (:func:`tunnelframe.version_rollout`, ...) and
    :func:`tunnelframe.history.history_summary` read from it. Make one with
    :func:`iceberg_history` from a catalog URI, or from any pyiceberg catalog (a REST catalog
    such as Cloudflare R2 Data Catalog, Glue, Hive).

    Attributes
    ----------
    catalog : pyiceberg.catalog.Catalog
        Where the tables are registered.
    namespace : str
        The Iceberg namespace of the tables (created when missing).
    name : str
        The rows table's name; the facts tables are ``<name>_<kind>``.
    location : str
        What errors and logs call the target: the catalog URI without any credential.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> from tunnelframe.history import iceberg_history
    >>> target = iceberg_history(f"iceberg+sqlite:///{tempfile.mkdtemp()}/catalog.db")
    >>> for snapshot in tf.simulator.generate_history(3, days=1, every="12h"):
    ...     _ = tf.append_snapshot(snapshot, target)
    >>> tf.connector_churn(target)["fetched_at"].nunique()
    3
    """

    catalog: Catalog
    namespace: str = "tunnelframe"
    name: str = "history"
    location: str = ""
    _cache: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"IcebergHistory({self.location or self.catalog.name!r}, {self.identifier!r})"

    @property
    def identifier(self) -> str:
        """The rows table, ``namespace.name``."""
        return f"{self.namespace}.{self.name}"

    def facts_identifier(self, kind: str) -> str:
        """The table of the facts of ``kind``."""
        return f"{self.identifier}_{kind}"

    # -- tables ----------------------------------------------------------------------------

    def rows_table(self, *, create: bool = False) -> Table:
        """The rows table, checked to be one of ours (created with ``create``)."""
        from pyiceberg.exceptions import NoSuchTableError

        try:
            table = self._call(self.catalog.load_table, self.identifier)
        except NoSuchTableError:
            if not create:
                raise FileNotFoundError(
                    f"Iceberg table {self.identifier} does not exist in {self.location}: create "
                    "it with tunnelframe.append_snapshot or `tunnelframe history DIR "
                    "--export-iceberg CATALOG`"
                ) from None
            table = self._create()
        self._check(table)
        return table

    def facts_table(self, kind: str) -> Table:
        """The table of the facts of ``kind``; one added since the table was made is created."""
        from pyiceberg.exceptions import NoSuchTableError

        try:
            return self._call(self.catalog.load_table, self.facts_identifier(kind))
        except NoSuchTableError:
            self._create()
            return self._call(self.catalog.load_table, self.facts_identifier(kind))

    def _create(self) -> Table:
        from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError
        from pyiceberg.transforms import DayTransform, IdentityTransform

        try:
            self._call(self.catalog.create_namespace_if_not_exists, self.namespace)
        except Exception:
            # Two writers creating it at once: the later insert breaks the catalog's key (a
            # database IntegrityError, not NamespaceAlreadyExistsError). Fine if it exists now.
            if not self._call(self.catalog.namespace_exists, self.namespace):
                raise
        properties = {
            **_TABLE_PROPERTIES,
            _FORMAT_PROPERTY: str(_format_version()),
            _CREATED_PROPERTY: f"tunnelframe {__version__}",
        }
        # Facts first: a rows table is only ever seen with its facts tables beside it.
        tables = [(self.facts_identifier(k), s) for k, s in _facts_schemas().items()]
        for identifier, schema in [*tables, (self.identifier, _ROWS_SCHEMA)]:
            try:
                tx = self._call(
                    self.catalog.create_table_transaction,
                    identifier,
                    schema=schema,
                    properties=properties,
                )
                with tx.update_spec() as spec:
                    if identifier == self.identifier:
                        spec.add_field("fetched_at", DayTransform(), "fetched_at_day")
                    else:
                        spec.add_identity("day")
                if identifier == self.identifier:
                    with tx.update_sort_order() as order:
                        for name in _SORT:
                            order.asc(name, IdentityTransform())
                self._call(tx.commit_transaction)
            except (TableAlreadyExistsError, CommitFailedException):
                pass  # another writer created it first
        return self._call(self.catalog.load_table, self.identifier)

    def _check(self, table: Table) -> None:
        """Refuse a table tunnelframe did not write or wrote in a newer format."""
        props = table.metadata.properties
        if _FORMAT_PROPERTY not in props:
            raise TunnelframeError(
                f"Iceberg table {self.identifier} in {self.location} was not written by "
                "tunnelframe (no tunnelframe.format-version property): choose another table"
            )
        found = int(props[_FORMAT_PROPERTY])
        if found > _format_version():
            raise TunnelframeError(
                f"Iceberg table {self.identifier} in {self.location} has format {found}, written "
                f"by {props.get(_CREATED_PROPERTY, 'a newer tunnelframe')}; this tunnelframe "
                f"{__version__} reads format {_format_version()} and older: upgrade tunnelframe"
            )

    def _call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        return _reach(self.location, fn, *args, **kwargs)

    # -- writing ---------------------------------------------------------------------------

    def append(self, snapshot: SnapshotLike) -> str:
        """Append one snapshot (see :func:`tunnelframe.append_snapshot`); return its key."""
        fetched_at = _utc(snapshot.fetched_at, "snapshot.fetched_at")
        account_ids = sorted(str(a) for a in snapshot.account_ids)
        key = f"{fetched_at.isoformat()}/{_accounts_key(account_ids)}"
        table = self.rows_table(create=True)
        # Only a day maintenance has started to close needs the facts: usually none.
        late = fetched_at.date() <= _closing(table)
        if self._holds(table, key, fetched_at, account_ids, late=late):
            return key
        rows = _to_table(snapshot, fetched_at=fetched_at, account_ids=account_ids)
        return self.append_rows(table, rows, key=key, late=late)

    def append_rows(self, table: Table, rows: pa.Table, *, key: str, late: bool) -> str:
        """Commit one snapshot's rows (of :data:`STORE_SCHEMA`) as one Iceberg append."""
        from pyiceberg.exceptions import CommitFailedException

        fetched_at = pd.Timestamp(rows["fetched_at"][0].as_py())
        rows = self._rows_for(table, rows)
        if late:
            self._reopen(fetched_at.date())  # maintenance may have closed the day
        try:
            self._call(_append, table, rows, {_SNAPSHOT_PROPERTY: key})
        except CommitFailedException as exc:
            raise TunnelframeError(
                f"could not append to Iceberg table {self.identifier} in {self.location}: other "
                f"writers kept committing first for a minute ({_scrub(str(exc))}); nothing was "
                "appended, run again"
            ) from None
        now = pd.Timestamp.now(tz="UTC")
        # Another writer committing meanwhile fails it: a later append expires them.
        with contextlib.suppress(CommitFailedException):
            self._call(
                _expire_due, table, due=now - 2 * KEEP_SNAPSHOTS, before=now - KEEP_SNAPSHOTS
            )
        return key

    def _rows_for(self, table: Table, rows: pa.Table) -> pa.Table:
        """``rows`` (of :data:`STORE_SCHEMA`) as the table's schema wants them, sorted."""
        rows = _plain_table(rows).sort_by([(n, "ascending") for n in _SORT])
        schema = table.schema().as_arrow()
        missing = [n for n in rows.column_names if n not in schema.names]
        if missing:
            # A newer tunnelframe added columns: an Iceberg schema evolution, no rewrite; the
            # table then says its format, so an older tunnelframe refuses it.
            with table.update_schema() as update:
                update.union_by_name(rows.select(missing).schema)
            _set_format(table)
            schema = table.schema().as_arrow()
        columns = [
            rows[f.name].cast(f.type)
            if f.name in rows.column_names
            else pa.nulls(len(rows), f.type)
            for f in schema
        ]
        return pa.Table.from_arrays(columns, schema=schema)

    def _holds(
        self,
        table: Table,
        key: str,
        fetched_at: pd.Timestamp,
        account_ids: list[str],
        *,
        late: bool,
    ) -> bool:
        """Whether the table already has this snapshot (a retried cron job)."""
        for snap in table.metadata.snapshots:
            if snap.summary is not None and snap.summary.get(_SNAPSHOT_PROPERTY) == key:
                return True
        expired = table.metadata.properties.get(_EXPIRED_PROPERTY)
        if expired is None or fetched_at >= pd.Timestamp(expired) + _CLOCK_SLACK:
            return False  # every Iceberg snapshot since it was fetched is kept: not appended
        # Appended before the last expiry, perhaps: a closed day's facts list its snapshots,
        # and any day's rows hold them.
        ex = _expr()

        found = ex.And(
            ex.EqualTo("fetched_at", fetched_at.isoformat()), ex.In("account_id", set(account_ids))
        )
        if late:
            snaps = self.facts_table("snaps")
            in_day = ex.And(ex.EqualTo("day", fetched_at.date()), found)
            if snaps.scan(row_filter=in_day, selected_fields=("account_id",)).to_arrow().num_rows:
                return True
        rows = table.scan(row_filter=found, selected_fields=("account_id",)).to_arrow()
        return bool(rows.num_rows > 0)

    def _reopen(self, day: date) -> None:
        ex = _expr()

        snaps = self.facts_table("snaps")
        if (
            snaps.scan(row_filter=ex.EqualTo("day", day), selected_fields=("day",))
            .to_arrow()
            .num_rows
        ):
            self._call(snaps.delete, ex.EqualTo("day", day))

    # -- reading ---------------------------------------------------------------------------

    def sources(self, columns: Sequence[str] | None = None) -> tuple[pa.Table, dict[str, pa.Table]]:
        """What the queries read: rows of the days not closed (those of their ``columns`` the
        table has; default all), stored facts of the closed ones.

        The closed days are read first (from ``snaps``, the last facts maintenance commits), so
        every facts table read afterwards holds their facts. Cached per Iceberg snapshot of the
        tables: a second query over an unchanged table reads nothing again.
        """
        ex = _expr()

        rows_table = self.rows_table()  # first: says when there is no table
        snaps = self.facts_table("snaps")  # before the other facts (their metadata)
        others = {k: self.facts_table(k) for k in FACT_KINDS if k != "snaps"}
        state = (
            None if columns is None else tuple(columns),
            *(t.metadata.current_snapshot_id for t in (snaps, rows_table, *others.values())),
        )
        if self._cache.get("state") == state:
            cached: tuple[pa.Table, dict[str, pa.Table]] = self._cache["rows"], self._cache["facts"]
            return cached
        stored = {"snaps": snaps.scan().to_arrow()}
        # The closed days as runs of consecutive days: usually one, so the filters stay short
        # (pyiceberg evaluates a filter on every file it plans: a predicate per day cost
        # seconds at 30 days).
        closed = _runs(set(stored["snaps"]["day"].to_pylist()))
        in_facts: Any = ex.AlwaysFalse()
        not_rows: Any = ex.AlwaysTrue()
        for first, last in closed:
            in_facts = ex.Or(
                in_facts,
                ex.And(ex.GreaterThanOrEqual("day", first), ex.LessThanOrEqual("day", last)),
            )
            start = pd.Timestamp(first, tz="UTC")
            end = pd.Timestamp(last, tz="UTC") + pd.Timedelta(days=1)
            not_rows = ex.And(
                not_rows,
                ex.Or(
                    ex.LessThan("fetched_at", start.isoformat()),
                    ex.GreaterThanOrEqual("fetched_at", end.isoformat()),
                ),
            )
        for kind, table in others.items():
            stored[kind] = table.scan(row_filter=in_facts).to_arrow()
        facts = {kind: t.drop_columns(["day"]) for kind, t in stored.items()}
        names = rows_table.schema().as_arrow().names
        selected = tuple(names if columns is None else (c for c in columns if c in names))
        rows = rows_table.scan(row_filter=not_rows, selected_fields=selected).to_arrow()
        self._cache.update(state=state, rows=rows, facts=facts)
        return rows, facts

    def load(self) -> pa.Table:
        """Every row, as :data:`STORE_SCHEMA` types (for tests and small tables)."""
        table = self.rows_table().scan().to_arrow()
        return _store_table(table)


def _expr() -> Any:
    """pyiceberg's row filters (typed loosely: their pydantic signatures confuse mypy)."""
    import pyiceberg.expressions

    return pyiceberg.expressions


def _day_range(day: date) -> Any:
    ex = _expr()

    start = pd.Timestamp(day, tz="UTC")
    return ex.And(
        ex.GreaterThanOrEqual("fetched_at", start.isoformat()),
        ex.LessThan("fetched_at", (start + pd.Timedelta(days=1)).isoformat()),
    )


def _runs(days: set[date]) -> list[tuple[date, date]]:
    """``days`` as runs of consecutive days, ``(first, last)``, in order."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _format_version() -> int:
    from tunnelframe.history._layout import FORMAT_VERSION

    return FORMAT_VERSION


def _plain_table(table: pa.Table) -> pa.Table:
    return table.cast(_plain(table.schema))


def _store_table(table: pa.Table) -> pa.Table:
    """Rows read from Iceberg typed as :data:`STORE_SCHEMA` (text as dictionaries again)."""
    columns = [
        table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
        for f in STORE_SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=STORE_SCHEMA)


def _facts_schemas() -> dict[str, pa.Schema]:
    """The Arrow schema of each facts table: ``day`` then the facts' columns."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("rows", STORE_SCHEMA.empty_table())
        derive_facts(con, "rows")
        out = {}
        for kind in FACT_KINDS:
            schema = con.sql(f"SELECT * FROM d_{kind}").to_arrow_table().schema
            out[kind] = pa.schema([pa.field("day", pa.date32()), *schema])
        return out
    finally:
        con.close()


def _derive(rows: pa.Table, day: date) -> dict[str, pa.Table]:
    """The facts of one day's rows, each with its ``day`` column."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("rows", rows)
        derive_facts(con, "rows")
        out = {}
        for kind in FACT_KINDS:
            facts = con.sql(f"SELECT * FROM d_{kind}").to_arrow_table()
            out[kind] = facts.add_column(0, "day", pa.array([day] * len(facts), pa.date32()))
        return out
    finally:
        con.close()


def _append(table: Table, rows: pa.Table, properties: dict[str, str]) -> None:
    """``table.append``, in a transaction that copies the metadata once per change."""
    with _transaction(table) as tx:
        tx.append(rows, snapshot_properties=properties)


def _transaction(table: Table) -> Transaction:
    """A pyiceberg transaction on ``table`` that copies the table's metadata once per change.

    pyiceberg 0.12's ``Transaction.table_metadata`` deep-copies the whole metadata, every
    snapshot kept, on each read, about 18 times a commit: an append took 0.3 s with 100 Iceberg
    snapshots kept and grew through the day. The copy is cached while the table's metadata and
    the staged updates (an immutable tuple, replaced on every change) stay the same objects, as
    apache/iceberg-python#3302 and #3784 propose upstream; drop this once a release has it.
    """
    return _cached_transaction_class()(table)


@functools.cache
def _cached_transaction_class() -> type[Transaction]:
    from pyiceberg.table import Transaction
    from pyiceberg.table.metadata import TableMetadata

    class CachedTransaction(Transaction):
        _cached: tuple[object, object, TableMetadata] | None = None

        @property
        def table_metadata(self) -> TableMetadata:
            cached = self._cached
            if (
                cached is None
                or cached[0] is not self._table.metadata
                or cached[1] is not self._updates
            ):
                cached = (self._table.metadata, self._updates, super().table_metadata)
                self._cached = cached
            return cached[2]

    return CachedTransaction


# -- maintenance ---------------------------------------------------------------------------


def compact_iceberg(
    target: IcebergHistory,
    *,
    now: TimeLike | None = None,
    keep: timedelta = KEEP_SNAPSHOTS,
) -> list[str]:
    """Close the days that have ended: one sorted file and the facts per day; expire snapshots.

    A day is closed once it ended ``CLOSE_AFTER`` (one hour) ago. Its rows are rewritten as one file
    sorted by tunnel, connector, connection and time (an Iceberg overwrite of exactly the files
    read, so an append meanwhile is kept), its facts committed, ``snaps`` last. Then each table's
    Iceberg snapshots older than ``keep`` are expired (a retried append of a snapshot whose
    Iceberg snapshot is gone is found by its rows), and the files no snapshot uses any more (and
    as old) are deleted. Safe while
    others append and read; when two runs overlap, the loser of a day's race leaves it to the
    winner.

    Parameters
    ----------
    target : IcebergHistory
        The table.
    now : datetime, pandas.Timestamp or str, optional
        The current time; default the clock.
    keep : datetime.timedelta, default 1 hour
        How long older Iceberg snapshots stay readable at least (time travel).

    Returns
    -------
    list of str
        The days closed (``YYYY-MM-DD``).

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> from tunnelframe.history import iceberg_history, compact_iceberg
    >>> target = iceberg_history(f"iceberg+sqlite:///{tempfile.mkdtemp()}/catalog.db")
    >>> for snapshot in tf.simulator.generate_history(3, days=1, every="12h"):
    ...     _ = tf.append_snapshot(snapshot, target)
    >>> compact_iceberg(target, now="2026-08-20T13:00Z")
    ['2026-08-19']
    """
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    clock = _utc(pd.Timestamp.now(tz="UTC") if now is None else now, "now")
    last_closed = (clock - CLOSE_AFTER).date() - timedelta(days=1)
    table = target.rows_table()
    done = []
    row_days = _row_days(table)
    to_close = sorted(d for d in row_days - _closed_days(target) if d <= last_closed)
    if to_close:
        _announce_closing(table, to_close[-1])
    for day in to_close:
        for _attempt in range(5):
            try:
                _close_day(target, day)
            except (ValidationException, CommitFailedException):
                continue  # another writer changed the day meanwhile: read it again
            done.append(day.isoformat())
            break
    _expire(target, clock - keep)
    return done


def _set_format(table: Table) -> None:
    """Record the store format the rows now follow (retried: properties are not, by pyiceberg)."""
    from pyiceberg.exceptions import CommitFailedException

    for _attempt in range(20):
        if int(table.metadata.properties.get(_FORMAT_PROPERTY, 0)) >= _format_version():
            return
        try:
            with table.transaction() as tx:
                tx.set_properties({_FORMAT_PROPERTY: str(_format_version())})
            return
        except CommitFailedException:
            table.refresh()
    raise TunnelframeError(f"could not update Iceberg table {table.name()}: too many writers")


def _closing(table: Table) -> date:
    """The last day maintenance has begun to close (appends to it reopen it)."""
    return date.fromisoformat(table.metadata.properties.get(_CLOSING_PROPERTY, "0001-01-01"))


def _announce_closing(table: Table, day: date) -> None:
    """Tell appenders, before any day up to ``day`` is marked closed, to check for marks."""
    from pyiceberg.exceptions import CommitFailedException

    for _attempt in range(20):
        if _closing(table) >= day:
            return
        try:
            with table.transaction() as tx:
                tx.set_properties({_CLOSING_PROPERTY: day.isoformat()})
            return
        except CommitFailedException:
            table.refresh()  # an append came first; properties are not retried by pyiceberg
    raise TunnelframeError(f"could not update Iceberg table {table.name()}: too many writers")


def _row_days(table: Table) -> set[date]:
    if table.metadata.current_snapshot_id is None:
        return set()
    partitions = table.inspect.partitions()
    if not partitions.num_rows:
        return set()
    days = partitions["partition"].combine_chunks().field("fetched_at_day").to_pylist()
    return {date(1970, 1, 1) + timedelta(days=d) if isinstance(d, int) else d for d in days}


def _closed_days(target: IcebergHistory) -> set[date]:
    snaps = target.facts_table("snaps").scan(selected_fields=("day",)).to_arrow()
    return set(snaps["day"].to_pylist())


def _close_day(target: IcebergHistory, day: date) -> None:
    """Rewrite one day's rows sorted, then commit its facts, ``snaps`` last (the mark)."""
    import uuid

    ex = _expr()
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    table = target.rows_table()
    scan = table.scan(row_filter=_day_range(day))
    read = [task.file for task in scan.plan_files()]
    rows = scan.to_arrow()
    from tunnelframe.history._layout import sort_rows

    ordered = _store_table(rows)
    ordered = sort_rows(ordered)
    plain = target._rows_for(table, ordered)
    if len(read) > 1:
        # Iceberg's own rewrite: the files read are replaced by one sorted file, in one commit
        # that fails (ValidationException) if another maintenance replaced them first.
        properties = {"tunnelframe.compacted": str(day)}
        with (
            table.transaction() as tx,
            tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite,
        ):
            for data_file in _dataframe_to_data_files(
                tx.table_metadata, plain, table.io, write_uuid=uuid.uuid4()
            ):
                overwrite.append_data_file(data_file)
            for data_file in read:
                overwrite.delete_data_file(data_file)
    facts = _derive(_store_table(rows), day)
    for kind in (*[k for k in FACT_KINDS if k != "snaps"], "snaps"):
        facts_table = target.facts_table(kind)
        schema = facts_table.schema().as_arrow()
        data = pa.Table.from_arrays(
            [facts[kind][f.name].cast(f.type) for f in schema], schema=schema
        )
        _commit_facts(facts_table, data, ex.EqualTo("day", day))


def _commit_facts(table: Table, data: pa.Table, where: Any) -> None:
    """Replace the facts ``where`` by ``data`` in one commit (the last one marks the day)."""
    with warnings.catch_warnings():
        # pyiceberg warns when there was nothing to replace: the usual case.
        warnings.filterwarnings("ignore", "Delete operation did not match any records")
        if data.num_rows:
            table.overwrite(data, overwrite_filter=where)
        else:  # no facts (no tunnel left unread): no empty commit, which pyiceberg cannot list
            table.delete(where)


def _expire(target: IcebergHistory, before: pd.Timestamp) -> None:
    """Expire Iceberg snapshots older than ``before`` and delete the files none uses any more.

    pyiceberg's ``expire_snapshots`` removes snapshots from the metadata only; the files they
    alone used are deleted here when older than ``before`` (an unfinished writer's files are
    younger), as Spark's ``remove_orphan_files`` does.

    Files become unused only when the snapshots that used them expire, so the files are looked
    for (every manifest read: seconds at 30 days) only after an expiry since the last look,
    which :data:`_CLEANED_PROPERTY` records; not at every ``snapshot`` run.
    """
    tables = [target.rows_table(), *(target.facts_table(k) for k in FACT_KINDS)]
    for table in tables:
        _expire_snapshots(table, before)
        expired = table.metadata.properties.get(_EXPIRED_PROPERTY)
        if expired is not None and table.metadata.properties.get(_CLEANED_PROPERTY) != expired:
            _delete_unused(table, before)
            _set_cleaned(table, expired)


def _set_cleaned(table: Table, expired: str) -> None:
    """Record that the files unused after the expiry at ``expired`` are deleted."""
    from pyiceberg.exceptions import CommitFailedException

    # Another writer committing first: the next maintenance looks again, nothing is lost.
    with contextlib.suppress(CommitFailedException), _transaction(table) as tx:
        tx.set_properties({_CLEANED_PROPERTY: expired})


def _expire_snapshots(table: Table, before: pd.Timestamp) -> None:
    """Expire the Iceberg snapshots of ``table`` older than ``before`` (no branch's head), and
    record ``before`` as :data:`_EXPIRED_PROPERTY`, in one commit."""
    from pyiceberg.table.update.snapshot import ExpireSnapshots

    heads = {ref.snapshot_id for ref in table.metadata.refs.values()}
    old = [
        s.snapshot_id
        for s in table.metadata.snapshots
        if s.timestamp_ms < _ms(before) and s.snapshot_id not in heads
    ]
    if not old:
        return
    expired = table.metadata.properties.get(_EXPIRED_PROPERTY)
    cut = before if expired is None else max(before, pd.Timestamp(expired))
    with _transaction(table) as tx:
        tx.set_properties({_EXPIRED_PROPERTY: cut.isoformat()})
        ExpireSnapshots(tx).by_ids(old).commit()


def _expire_due(table: Table, *, due: pd.Timestamp, before: pd.Timestamp) -> None:
    """Expire the Iceberg snapshots older than ``before`` once one is older than ``due``."""
    if min(s.timestamp_ms for s in table.metadata.snapshots) < _ms(due):
        _expire_snapshots(table, before)


def _ms(time: pd.Timestamp) -> int:
    """Milliseconds since the epoch, as Iceberg snapshots keep their time."""
    return int(time.timestamp() * 1000)


def _delete_unused(table: Table, before: pd.Timestamp) -> None:
    from pyarrow import fs

    used: set[str] = set()
    files = table.inspect.all_files()
    used.update(files["file_path"].to_pylist())
    manifests = table.inspect.all_manifests()
    used.update(manifests["path"].to_pylist())
    for snap in table.metadata.snapshots:
        used.add(snap.manifest_list)
    used.add(table.metadata_location)
    used.update(entry.metadata_file for entry in table.metadata.metadata_log)
    filesystem, root = fs.FileSystem.from_uri(table.metadata.location)
    prefix = table.metadata.location.rstrip("/")[: -len(root.rstrip("/"))] if root else ""
    try:
        infos = filesystem.get_file_info(fs.FileSelector(root, recursive=True))
    except FileNotFoundError:
        return
    limit = before.to_pydatetime()
    for info in infos:
        if info.type != fs.FileType.File or info.mtime is None:
            continue
        uri = prefix + info.path
        if uri in used or info.path in used or f"file://{info.path}" in used:
            continue
        if info.mtime.astimezone(limit.tzinfo) < limit:
            filesystem.delete_file(info.path)


# -- making targets ------------------------------------------------------------------------


def iceberg_history(
    target: str, *, table: str = "tunnelframe.history", warehouse: str | None = None
) -> IcebergHistory:
    """An Iceberg history target from a catalog URI, credentials from the environment.

    Parameters
    ----------
    target : str
        ``iceberg+sqlite:///PATH/catalog.db`` (one host; the warehouse defaults to
        ``PATH/warehouse``) or ``iceberg+postgresql://USER@HOST:PORT/DB`` (many writers; needs
        a warehouse every writer reaches). Query parameters ``warehouse=`` (a path or URI:
        ``file://``, ``s3://`` ... through pyarrow's filesystems) and ``table=NAMESPACE.NAME``
        override the keywords. A password in the URI is refused: put it in
        ``TUNNELFRAME_CATALOG_PASSWORD`` or in a file named by
        ``TUNNELFRAME_CATALOG_PASSWORD_FILE``.
    table : str, default "tunnelframe.history"
        The rows table, ``namespace.name``.
    warehouse : str, optional
        Where new tables' files go.

    Returns
    -------
    IcebergHistory

    Raises
    ------
    ValueError
        The URI is not one of the forms above, or holds a password.
    TunnelframeError
        The catalog cannot be reached (the message holds no credential).

    Examples
    --------
    >>> import tempfile
    >>> target = iceberg_history(f"iceberg+sqlite:///{tempfile.mkdtemp()}/catalog.db")
    >>> target.identifier
    'tunnelframe.history'
    """
    try:
        from pyiceberg.catalog.sql import SqlCatalog
    except ImportError:
        raise TunnelframeError(
            "an Iceberg history needs pyiceberg: pip install 'tunnelframe[iceberg]'"
        ) from None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not target.startswith(ICEBERG_SCHEME):
        raise ValueError(
            f"{target!r} is not an Iceberg catalog URI (iceberg+sqlite:///... or "
            "iceberg+postgresql://...)"
        )
    base, _, query_text = target[len(ICEBERG_SCHEME) :].partition("?")
    try:
        url = make_url(base)
    except ArgumentError:
        raise ValueError(f"{_scrub(target)}: not a database URL") from None
    if url.password is not None:
        raise ValueError(
            "the Iceberg catalog URI holds a password: remove it and set "
            f"{PASSWORD_ENV} or {PASSWORD_FILE_ENV} instead (a command line is visible to "
            "every user of the host)"
        )
    query = parse_qs(query_text)
    warehouse = query.pop("warehouse", [warehouse])[-1]
    table = query.pop("table", [table])[-1]
    namespace, _, name = table.rpartition(".")
    if not namespace or not name:
        raise ValueError(f"table={table!r}: give it as NAMESPACE.NAME")
    url = url.update_query_dict({k: v[-1] for k, v in query.items()})
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database:
            raise ValueError("iceberg+sqlite needs a file: iceberg+sqlite:///PATH/catalog.db")
        db = os.path.abspath(os.path.expanduser(url.database))
        os.makedirs(os.path.dirname(db), exist_ok=True)
        url = url.set(database=db)
        warehouse = warehouse or os.path.join(os.path.dirname(db), "warehouse")
    elif backend == "postgresql":
        url = url.set(drivername="postgresql+psycopg2")
        if "connect_timeout" not in url.query:
            url = url.update_query_dict({"connect_timeout": "10"})
        password = _password()
        if password is not None:
            url = url.set(password=password)
        if warehouse is None:
            raise ValueError(
                f"{_scrub(target)}: give the warehouse every writer reaches "
                "(?warehouse=/shared/path or s3://bucket/path)"
            )
    else:
        raise ValueError(
            f"{backend}: the Iceberg catalogs supported by URI are sqlite and "
            "postgresql; pass any pyiceberg catalog to IcebergHistory"
        )
    if "://" not in warehouse:
        warehouse = "file://" + os.path.abspath(os.path.expanduser(warehouse))
    location = f"{ICEBERG_SCHEME}{url.render_as_string(hide_password=True)}"
    location = location.replace("postgresql+psycopg2", "postgresql")
    catalog = _reach(
        location,
        SqlCatalog,
        "tunnelframe",
        uri=url.render_as_string(hide_password=False),
        warehouse=warehouse,
    )
    return IcebergHistory(catalog, namespace=namespace, name=name, location=location)


def _reach(location: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Call the catalog, turning a connection failure into an error without credentials."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if not _is_connection_error(exc):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TunnelframeError(
            f"cannot reach the Iceberg catalog {location}: {_scrub(first)}"
        ) from None


def _password() -> str | None:
    if PASSWORD_ENV in os.environ:
        return os.environ[PASSWORD_ENV]
    path = os.environ.get(PASSWORD_FILE_ENV)
    if path:
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as handle:
                return handle.readline().rstrip("\r\n")
        except OSError as exc:
            raise TunnelframeError(
                f"{PASSWORD_FILE_ENV}={path}: cannot read the password file ({exc.strerror})"
            ) from None
    return None


def _scrub(text: str) -> str:
    """``text`` without the catalog password, wherever it came from."""
    if PASSWORD_ENV not in os.environ and PASSWORD_FILE_ENV not in os.environ:
        return text
    password = _password()
    if password:
        text = text.replace(password, "***")
    return text


def _is_connection_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    # A database that does not answer, refuses the login, or drops the connection; a REST
    # catalog's transport errors (requests). Not a constraint or programming error.
    return isinstance(exc, OperationalError | InterfaceError | ConnectionError | TimeoutError) or (
        type(exc).__module__.startswith("requests")
    )


def export_iceberg(store: Any, target: IcebergHistory) -> int:
    """Copy a local history store into an Iceberg table, day by day; return the days copied.

    Each day of the store becomes one sorted commit (a day the table already has is skipped,
    so an interrupted export resumes). The store's format version becomes the table's
    ``tunnelframe.format-version`` property; a later column change evolves the table's schema.

    Parameters
    ----------
    store : str or path-like
        A local history store of the current format.
    target : IcebergHistory
        The table (created when missing).

    Returns
    -------
    int
        The number of days copied.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> from tunnelframe.history import iceberg_history, export_iceberg
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(3, days=2, every="12h"):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> export_iceberg(store, iceberg_history(f"iceberg+sqlite:///{store}-catalog.db"))
    3
    """
    import pyarrow.parquet as pq

    ex = _expr()

    from tunnelframe.history import _layout
    from tunnelframe.history._schema import existing_store
    from tunnelframe.history._store import _rows_dataset

    root = existing_store(store)
    _layout.older(root)
    table = target.rows_table(create=True)
    have = _row_days(table)
    plan = _layout.plan(root)
    clean = [date.fromisoformat(d.date) for d in plan.days if d.clean]
    if clean:
        _announce_closing(table, max(clean))
    copied = 0
    for day in plan.days:
        when = date.fromisoformat(day.date)
        if when in have:
            continue
        rows = _layout.sort_rows(_rows_dataset(day.row_files))
        target._call(
            table.append,
            target._rows_for(table, rows),
            snapshot_properties={"tunnelframe.exported": f"{root}:{day.date}"},
        )
        if day.clean:  # a compacted day's facts travel too, snaps last: the day is closed
            for kind in (*[k for k in FACT_KINDS if k != "snaps"], "snaps"):
                (path,) = day.stored_facts(root, kind)
                facts = pq.read_table(path)
                facts = facts.add_column(0, "day", pa.array([when] * len(facts), pa.date32()))
                facts_table = target.facts_table(kind)
                schema = facts_table.schema().as_arrow()
                data = pa.Table.from_arrays(
                    [facts[f.name].cast(f.type) for f in schema], schema=schema
                )
                _commit_facts(facts_table, data, ex.EqualTo("day", when))
        copied += 1
    return copied


def load_latest(target: IcebergHistory) -> pd.DataFrame:
    """The latest snapshot of each account, as :func:`tunnelframe.load_history` gives it.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> target = iceberg_history(f"iceberg+sqlite:///{tempfile.mkdtemp()}/catalog.db")
    >>> for snapshot in tf.simulator.generate_history(3, days=1, every="12h"):
    ...     _ = tf.append_snapshot(snapshot, target)
    >>> load_latest(target)["fetched_at"].unique().tolist()
    [Timestamp('2026-08-20 12:00:00+0000', tz='UTC')]
    """
    ex = _expr()

    from tunnelframe.history._layout import SORT_KEYS
    from tunnelframe.history._store import _routing_of, _to_frame

    table = target.rows_table()
    days = _row_days(table)
    if not days:
        return _to_frame(STORE_SCHEMA.empty_table())
    keys = (
        table.scan(row_filter=_day_range(max(days)), selected_fields=("fetched_at", "account_id"))
        .to_arrow()
        .to_pandas()
    )
    newest = keys.groupby("account_id", dropna=False)["fetched_at"].max()
    wanted: Any = None
    for stamp in sorted(set(newest)):
        term = ex.EqualTo("fetched_at", pd.Timestamp(stamp).isoformat())
        wanted = term if wanted is None else ex.Or(wanted, term)
    rows = _store_table(table.scan(row_filter=wanted).to_arrow()).to_pandas()
    latest = rows["fetched_at"] == rows["account_id"].astype(object).map(newest).fillna(
        rows["fetched_at"]
    )
    records = _store_table(pa.Table.from_pandas(rows[latest], preserve_index=False))
    connections = latest & rows["record"].isna()  # not the other records (STORE_SCHEMA)
    frame = _to_frame(_store_table(pa.Table.from_pandas(rows[connections], preserve_index=False)))
    frame = frame.sort_values(["fetched_at", *SORT_KEYS], ignore_index=True, kind="stable")
    frame.attrs["routing"] = _routing_of(records)  # what they serve, as the local store's view
    return frame
