"""The store's layout on disk: its format version, which files hold which days, compaction.

Format 3 (tunnelframe 0.3; 2 was the same without the records of unread tunnels and routing in
the rows, nor the ``unread`` facts)::

    store/_tunnelframe.json                          format version and columns
    store/date=2026-08-20/20260820T120000.000000Z-1a2b3c4d.parquet   a snapshot (open day)
    store/date=2026-08-19/compacted-000001.parquet   the day's rows, sorted, zstd
    store/_facts/date=2026-08-19/000001-tunnels.parquet   what the queries read (``_facts``)

A snapshot is appended as one file (format 1, tunnelframe 0.1, is exactly this without the
version file and without compaction, so it reads as is). Compaction turns a closed day's
snapshot files into one ``compacted-<generation>.parquet`` and its facts. It writes the facts
first, then publishes the day with one atomic rename of the compacted file (whose footer lists
the snapshot files it holds), then deletes those snapshot files. A reader uses the day's newest
compacted file plus the snapshot files it does not list, and checks after reading that no
compaction published in between (else it reads again): it never sees a snapshot twice or misses
one, and a compaction killed at any point leaves the store readable and complete (the next one
finishes the cleanup). Compactions take a lock; a second one at the same time does nothing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import uuid
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tunnelframe._checks import _utc
from tunnelframe._errors import TunnelframeError, TunnelframeWarning
from tunnelframe._io import atomic_write
from tunnelframe._types import StoreLike, TimeLike
from tunnelframe.history._facts import FACT_KINDS, derive_facts, merge_runs_sql
from tunnelframe.history._schema import STORE_SCHEMA, existing_store

__all__ = [
    "FORMAT_VERSION",
    "StoreInfo",
    "StoreWarning",
    "compact_history",
    "migrate_history",
    "store_info",
]

#: The store format this tunnelframe writes: 1 was tunnelframe 0.1 (a file per snapshot, no
#: version file), 2 adds compacted days with their facts and the version file, 3 the records of
#: tunnels that could not be read and of routing (STORE_SCHEMA's ``record``) and their facts.
FORMAT_VERSION = 3
VERSION_FILE = "_tunnelframe.json"
FACTS_DIR = "_facts"
_LOCK = ".compact.lock"
# The format that added a facts kind (the others came with format 2).
_SINCE = {"unread": 3}
_COMPACTED = re.compile(r"^compacted-(\d{6})\.parquet$")
_SNAPSHOT = re.compile(r"^(\d{8}T\d{6}\.\d{6}Z)-([0-9a-f]{8})\.parquet$")
_DAY = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_META_KEY = b"tunnelframe.compacted"
#: How compaction sorts a day's rows (then by time): what repeats is adjacent, so it compresses.
SORT_KEYS = ("tunnel_id", "connector_id", "connection_id")
_SORT = ", ".join((*SORT_KEYS, "fetched_at"))


class StoreWarning(TunnelframeWarning):
    """A file in a history store that tunnelframe did not write, ignored.

    Examples
    --------
    >>> import tempfile, warnings, pathlib, tunnelframe as tf
    >>> store = pathlib.Path(tempfile.mkdtemp())
    >>> (store / "notes.txt").write_text("mine")
    4
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = tf.store_info(store)
    >>> caught[0].category.__name__
    'StoreWarning'
    """


def _columns() -> dict[str, str]:
    return {f.name: str(f.type) for f in STORE_SCHEMA}


# --- the format version ---------------------------------------------------------------------


def read_version(root: Path) -> int:
    """The store's format version: 1 when it has no version file (tunnelframe 0.1)."""
    path = root / VERSION_FILE
    try:
        meta = json.loads(path.read_text())
        version = int(meta["format_version"])
        columns = dict(meta["columns"])
    except FileNotFoundError:
        return 1
    except (ValueError, KeyError, TypeError, OverflowError) as exc:  # 1e400: inf, no int
        raise TunnelframeError(f"{path}: not a tunnelframe version file ({exc})") from exc
    if version > FORMAT_VERSION:
        raise TunnelframeError(
            f"{path}: history store format {version} is newer than this tunnelframe's "
            f"({FORMAT_VERSION}): upgrade tunnelframe"
        )
    current = _columns()
    if any(current.get(name) != kind for name, kind in columns.items()):
        # Columns added since read as null, by name; removed or retyped ones need a migration.
        raise TunnelframeError(
            f"{path}: the store's columns differ from this tunnelframe's: migrate it with "
            f"`tunnelframe history {root} --migrate`"
        )
    return version


def write_version(root: Path) -> None:
    """Record :data:`FORMAT_VERSION` and the columns, atomically."""
    root.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format_version": FORMAT_VERSION, "columns": _columns()}, indent=1)
    atomic_write(root / VERSION_FILE, (text + "\n").encode())


def older(root: Path) -> None:
    """Refuse to maintain a store of an older format: it must be migrated first."""
    version = read_version(root)
    if version < FORMAT_VERSION:
        raise TunnelframeError(
            f"history store {root} has format {version}, older than this tunnelframe's "
            f"({FORMAT_VERSION}): migrate it once with `tunnelframe history {root} --migrate`"
        )


# --- what a reader reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """The files of one date partition a reader uses."""

    date: str
    generation: int | None  # of the compacted file, None when the day is not compacted
    compacted: Path | None
    snapshots: tuple[Path, ...]  # snapshot files the compacted file does not hold
    # The open day's facts so far (a checkpoint) and the snapshot files it covers.
    checkpoint: int | None = None
    covered: frozenset[str] = frozenset()

    @property
    def clean(self) -> bool:
        """Compacted, nothing since: its facts are on disk."""
        return self.compacted is not None and not self.snapshots

    @property
    def row_files(self) -> list[Path]:
        return ([self.compacted] if self.compacted else []) + list(self.snapshots)

    def stored_facts(self, root: Path, kind: str) -> list[Path]:
        if self.clean:
            return [_facts_path(root, self.date, self.generation, kind)]
        if self.checkpoint is not None:
            return [_facts_path(root, self.date, self.checkpoint, kind, open_day=True)]
        return []

    @property
    def rows_to_derive(self) -> list[Path]:
        """Row files whose facts are not on disk."""
        if self.clean:
            return []
        return [p for p in self.row_files if p.name not in self.covered]


@dataclass(frozen=True)
class Plan:
    root: Path
    days: tuple[Day, ...] = field(default=())
    #: (date, message) of days left out for a damaged file (only when planned tolerant)
    damaged: tuple[tuple[str, str], ...] = field(default=())
    version: int = FORMAT_VERSION

    def facts(self, kind: str) -> list[Path]:
        """The facts files of ``kind`` on disk: of compacted days and open days' checkpoints
        (none of a kind added since the store's format: it recorded nothing of the kind)."""
        if self.version < _SINCE.get(kind, 0):
            return []
        return [p for d in self.days for p in d.stored_facts(self.root, kind)]

    def dirty_rows(self) -> list[Path]:
        """Row files whose facts must be derived when queried."""
        return [p for d in self.days for p in d.rows_to_derive]

    def row_files(self) -> list[Path]:
        return [p for d in self.days for p in d.row_files]

    def unchanged(self) -> bool:
        """No compaction published a day of the plan since it was made."""
        return all(
            _generation(self.root / f"date={d.date}") == d.generation
            and (d.checkpoint is None or _checkpoint(self.root, d.date)[0] == d.checkpoint)
            for d in self.days
        )


def _facts_path(
    root: Path, day: str, generation: int | None, kind: str, *, open_day: bool = False
) -> Path:
    prefix = "open-" if open_day else ""
    return root / FACTS_DIR / f"date={day}" / f"{prefix}{generation:06d}-{kind}.parquet"


_OPEN = re.compile(r"^open-(\d{6})-snaps\.parquet$")


def _checkpoint(root: Path, day: str) -> tuple[int | None, frozenset[str]]:
    """The newest checkpoint of an open day and the snapshot files it covers.

    Its ``snaps`` file is written last (the other kinds exist when it does) and lists them.
    """
    gens = [
        int(m.group(1)) for n in _listdir(root / FACTS_DIR / f"date={day}") if (m := _OPEN.match(n))
    ]
    if not gens:
        return None, frozenset()
    path = _facts_path(root, day, max(gens), "snaps", open_day=True)
    try:
        metadata = pq.read_schema(path).metadata or {}
    except FileNotFoundError:
        return None, frozenset()
    except (OSError, pa.ArrowException) as exc:
        raise TunnelframeError(f"damaged history file {path}: {str(exc).splitlines()[0]}") from exc
    return max(gens), frozenset(json.loads(metadata[_META_KEY])["files"])


def _generation(directory: Path) -> int | None:
    names = _listdir(directory)
    gens = [int(m.group(1)) for n in names if (m := _COMPACTED.match(n))]
    return max(gens, default=None)


def _listdir(directory: Path) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except FileNotFoundError:
        return []


def _day_range(start: Any, end: Any) -> tuple[str | None, str | None]:
    lo = None if start is None else f"{_utc(start, 'start'):%Y-%m-%d}"
    hi = None if end is None else f"{_utc(end, 'end'):%Y-%m-%d}"
    return lo, hi


def plan(store: StoreLike, *, start: Any = None, end: Any = None, tolerant: bool = False) -> Plan:
    """The files to read for ``start <= fetched_at < end`` (whole days), checked.

    Raises a one-line :class:`TunnelframeError` naming a damaged file (``tolerant``: leaves its
    day out and records it in ``Plan.damaged`` for the caller to judge); warns about and skips
    files tunnelframe did not write.
    """
    root = existing_store(store)
    version = read_version(root)
    lo, hi = _day_range(start, end)
    days = []
    damaged: list[tuple[str, str]] = []
    for name in _listdir(root):
        if name.startswith((".", "_")):
            continue  # the version file, facts, unfinished writes, a benchmark's notes
        match = _DAY.match(name)
        if not match or not (root / name).is_dir():
            _foreign(root / name)
            continue
        day = match.group(1)
        if (lo is not None and day < lo) or (hi is not None and day > hi):
            continue
        try:
            days.append(_plan_day(root / name, day))
        except TunnelframeError as exc:
            if not tolerant:
                raise
            damaged.append((day, str(exc)))
    return Plan(root, tuple(d for d in days if d.row_files), tuple(damaged), version)


def _plan_day(directory: Path, day: str) -> Day:
    names = _listdir(directory)
    generation = _generation(directory)
    compacted = None if generation is None else directory / f"compacted-{generation:06d}.parquet"
    held: set[str] = set()
    snapshot_names = [n for n in names if _SNAPSHOT.match(n)]
    if compacted is not None and snapshot_names:
        held = {s["file"] for s in compacted_snapshots(compacted)}
    snapshots = []
    for name in names:
        if name.startswith((".", "_")) or _COMPACTED.match(name):
            continue
        path = directory / name
        if not _SNAPSHOT.match(name):
            _foreign(path)
        elif name not in held and _is_ours(path):
            snapshots.append(path)
    if compacted is None and snapshots:
        checkpoint, covered = _checkpoint(directory.parent, day)
        present = {p.name for p in snapshots}
        rest = present - covered
        # Usable when all it covers is here, and what it does not cover came after it.
        if (
            checkpoint is not None
            and covered <= present
            and (not rest or min(rest)[:23] > max(covered)[:23])
        ):
            return Day(day, None, None, tuple(snapshots), checkpoint, covered)
    return Day(day, generation, compacted, tuple(snapshots))


def compacted_snapshots(path: Path) -> list[dict[str, Any]]:
    """The snapshots a compacted file holds: ``file``, ``fetched_at``, ``account_ids``."""
    metadata = _footer(path).metadata or {}
    try:
        held = json.loads(zlib.decompress(base64.b64decode(metadata[_META_KEY])))
        return [
            {
                "file": name,
                "fetched_at": datetime.strptime(name[:23], "%Y%m%dT%H%M%S.%fZ").isoformat()
                + "+00:00",
                "account_ids": held["accounts"][name[24:32]],
            }
            for name in held["files"]
        ]
    except (KeyError, ValueError, zlib.error) as exc:
        raise TunnelframeError(f"{path}: a compacted file without its list of snapshots") from exc


def _held_metadata(snapshots: list[dict[str, Any]]) -> bytes:
    """What a compacted file's footer says it holds: the snapshot file names (whose names say
    when and which accounts) and the accounts of each key, compactly."""
    accounts = {s["file"][24:32]: sorted(s["account_ids"]) for s in snapshots}
    held = json.dumps({"files": [s["file"] for s in snapshots], "accounts": accounts})
    return base64.b64encode(zlib.compress(held.encode(), 9))  # 288 names: 13 KB -> 2 KB


def _footer(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except FileNotFoundError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise TunnelframeError(
            f"damaged history file {path}: {str(exc).splitlines()[0]}: remove it or restore "
            "it from a backup (the other days stay readable with start/end)"
        ) from exc


def _is_ours(path: Path) -> bool:
    try:
        schema = _footer(path)
    except FileNotFoundError:
        return False  # compacted away meanwhile: the plan's check makes the reader read again
    # Columns are matched by name; a file written before a column was added lacks it (null).
    if not all(
        f.name in STORE_SCHEMA.names and STORE_SCHEMA.field(f.name).type == f.type for f in schema
    ):
        _foreign(path, "a Parquet file of another schema")
        return False
    return True


def _foreign(path: Path, what: str = "not written by tunnelframe") -> None:
    warnings.warn(f"ignoring {path} in the history store: {what}", StoreWarning, stacklevel=4)


def read_consistent(
    store: StoreLike, read: Any, *, start: Any = None, end: Any = None, tolerant: bool = False
) -> Any:
    """``read(plan)``, read again while a compaction publishes meanwhile (a few times at most)."""
    for _ in range(10):
        current = plan(store, start=start, end=end, tolerant=tolerant)
        try:
            result = read(current)
        except FileNotFoundError as exc:
            if current.unchanged():  # no compaction explains it: the store lost a file
                raise TunnelframeError(
                    f"history store {current.root}: a file it lists is missing and no "
                    f"compaction replaced it ({str(exc).splitlines()[0] if str(exc) else exc!r}):"
                    " was it removed by hand?"
                ) from exc
            continue
        if current.unchanged():
            return result
    raise TunnelframeError(f"history store {store} kept changing while being read: try again")


# --- compaction -------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[bool]:
    """Hold the store's compaction lock if free: yields whether this process holds it."""
    import fcntl

    with (root / _LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def compact_history(store: StoreLike, *, now: TimeLike | None = None) -> list[str]:
    """Compact every closed day of a history store: its snapshot files become one sorted file.

    A day is closed once ``now`` (UTC) is on a later date. Each closed day with snapshot files
    gets one ``compacted-<generation>.parquet`` sorted by tunnel, connector, connection and time
    (zstd: about a third of a byte per row) and its facts (what the queries read), published
    atomically; then its snapshot files are deleted. Safe while others read and append, and
    when two compactions overlap (the second does nothing). Queries give the same results
    before and after.

    Parameters
    ----------
    store : str or path-like
        A history store of the current format (migrate an older store with
        :func:`migrate_history`).
    now : datetime, pandas.Timestamp or str, optional
        The current time; default the clock.

    Returns
    -------
    list of str
        The dates compacted (``YYYY-MM-DD``); empty when another compaction holds the store.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(3, days=2, every="12h"):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> tf.compact_history(store, now="2026-08-20T13:00Z")
    ['2026-08-18', '2026-08-19']
    """
    root = existing_store(store)
    older(root)
    today = f"{_utc(pd.Timestamp.now(tz='UTC') if now is None else now, 'now'):%Y-%m-%d}"
    with _locked(root) as held:
        if not held:
            return []
        done = []
        for name in _listdir(root):
            match = _DAY.match(name)
            if not match:
                continue
            if match.group(1) >= today:
                _checkpoint_day(root, match.group(1))
            elif _compact_day(root, match.group(1)):
                done.append(match.group(1))
        return done


def _compact_day(root: Path, day: str) -> bool:
    """Compact one day if it has snapshot files; clean up after a killed compaction."""
    directory = root / f"date={day}"
    current = _plan_day(directory, day)
    if current.snapshots:
        held = [] if current.compacted is None else compacted_snapshots(current.compacted)
        snapshots = held + [_snapshot_entry(p) for p in current.snapshots]
        write_day(root, day, _rows(current.row_files), snapshots, after=current.generation)
    _clean(root, day)
    return bool(current.snapshots)


def _checkpoint_day(root: Path, day: str) -> None:
    """Keep the facts of a day still open up to date: those of its snapshot files so far.

    The new snapshot files' facts join the previous checkpoint's, runs that continue across
    merged, so queries read the open day's facts instead of deriving them from its rows.
    """
    import duckdb
    import pyarrow.dataset as ds

    current = _plan_day(root / f"date={day}", day)
    if current.compacted is not None:
        return
    new = current.rows_to_derive
    if not new:
        return
    generation = (current.checkpoint or 0) + 1
    covered = sorted(current.covered | {p.name for p in new})
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register(
            "rows", ds.dataset([str(p) for p in new], format="parquet", schema=STORE_SCHEMA)
        )
        derive_facts(con, "rows")
        for kind in FACT_KINDS:
            if current.checkpoint is not None:
                old = _facts_path(root, day, current.checkpoint, kind, open_day=True)
                con.register(f"old_{kind}", ds.dataset(str(old), format="parquet"))
                con.execute(
                    f"CREATE TEMP TABLE all_{kind} AS SELECT * FROM d_{kind} "
                    f"UNION ALL BY NAME SELECT * FROM old_{kind}"
                )
            else:
                con.execute(f"CREATE TEMP TABLE all_{kind} AS SELECT * FROM d_{kind}")
        for kind in (*[k for k in FACT_KINDS if k != "snaps"], "snaps"):  # snaps last: the commit
            facts = con.sql(merge_runs_sql(kind, f"all_{kind}", "all_snaps")).to_arrow_table()
            options = _FACTS_OPTIONS
            if kind == "snaps":  # says what it covers
                held = json.dumps({"files": covered}).encode()
                facts = facts.replace_schema_metadata({_META_KEY: held})
                options = {**options, "store_schema": True}
            path = _facts_path(root, day, generation, kind, open_day=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            _publish(facts, path, **options)
    finally:
        con.close()
    facts_dir = root / FACTS_DIR / f"date={day}"
    for name in _listdir(facts_dir):
        if name.startswith("open-") and not name.startswith(f"open-{generation:06d}-"):
            (facts_dir / name).unlink(missing_ok=True)


def write_day(
    root: Path, day: str, table: pa.Table, snapshots: list[dict[str, Any]], *, after: int | None
) -> None:
    """Publish ``table`` (the day's rows, sorted) as the day's next generation, facts first."""
    generation = (after or 0) + 1
    _write_facts(root, day, generation, table)
    target = root / f"date={day}" / f"compacted-{generation:06d}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    table = table.replace_schema_metadata({_META_KEY: _held_metadata(snapshots)})
    _publish(table, target, **_ROWS_OPTIONS)


def _snapshot_entry(path: Path) -> dict[str, Any]:
    meta = json.loads((pq.read_schema(path).metadata or {})[b"tunnelframe.snapshot"])
    return {"file": path.name, **meta}


def _rows(files: list[Path]) -> pa.Table:
    """The rows of ``files``, sorted for compression, with :data:`STORE_SCHEMA`."""
    import pyarrow.dataset as ds

    return sort_rows(ds.dataset([str(f) for f in files], format="parquet", schema=STORE_SCHEMA))


def sort_rows(dataset: Any) -> pa.Table:
    """Rows (a table or dataset of :data:`STORE_SCHEMA`) sorted as compaction stores them."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("rows", dataset)
        table = con.sql(f"SELECT * FROM rows ORDER BY {_SORT}").to_arrow_table()
    finally:
        con.close()
    return pa.Table.from_arrays(
        [table[f.name].cast(f.type) for f in STORE_SCHEMA], schema=STORE_SCHEMA
    )


def _write_facts(root: Path, day: str, generation: int, table: pa.Table) -> None:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("rows", table)
        derive_facts(con, "rows")
        for kind in FACT_KINDS:
            facts = con.sql(f"SELECT * FROM d_{kind}").to_arrow_table()
            path = _facts_path(root, day, generation, kind)
            path.parent.mkdir(parents=True, exist_ok=True)
            _publish(facts, path, **_FACTS_OPTIONS)
    finally:
        con.close()


# How a compacted day's rows are written: sorted (see SORT_KEYS), every column a dictionary
# except the time, which delta-encodes; statistics only where readers filter.
_ROWS_OPTIONS: dict[str, Any] = {
    "use_dictionary": [n for n in STORE_SCHEMA.names if n != "fetched_at"],
    "column_encoding": {"fetched_at": "DELTA_BINARY_PACKED"},
    "write_statistics": ["fetched_at", "tunnel_id", "tunnel_name"],
}
# Facts are read whole, by DuckDB: no statistics, no Arrow schema (Parquet's types suffice).
_FACTS_OPTIONS: dict[str, Any] = {"write_statistics": False, "store_schema": False}


#: For tests of interrupted maintenance: ``N:FOLDER`` makes the Nth file published wait, having
#: created ``FOLDER/paused``, until ``FOLDER/go`` exists (a Ctrl+C meanwhile interrupts it).
PAUSE_ENV = "TUNNELFRAME_TEST_PAUSE_AT_PUBLISH"
_published = [0]


def _pause() -> None:
    setting = os.environ.get(PAUSE_ENV)
    if not setting:
        return
    import time

    at, _, folder = setting.partition(":")
    _published[0] += 1
    if _published[0] != int(at):
        return
    (Path(folder) / "paused").touch()
    while not (Path(folder) / "go").exists():
        time.sleep(0.01)


def _publish(table: pa.Table, path: Path, **options: Any) -> None:
    """Write ``path`` under a hidden name, flush, then rename it into place."""
    _pause()
    table = table.combine_chunks()  # DuckDB's small batches would make small pages
    atomic_write(
        path,
        lambda sink: pq.write_table(table, sink, **{"compression": "zstd", **options}),
        temp_name=f".compact-{uuid.uuid4().hex}.tmp",
    )


def _clean(root: Path, day: str) -> None:
    """Delete what the day's newest compacted file makes obsolete (under the lock)."""
    directory = root / f"date={day}"
    generation = _generation(directory)
    if generation is None:
        return
    compacted = directory / f"compacted-{generation:06d}.parquet"
    held = {s["file"] for s in compacted_snapshots(compacted)}
    for name in _listdir(directory):
        match = _COMPACTED.match(name)
        if (
            name in held
            or (match and int(match.group(1)) < generation)
            or (name.startswith(".compact-"))
        ):
            (directory / name).unlink(missing_ok=True)
    facts = root / FACTS_DIR / f"date={day}"
    for name in _listdir(facts):
        if not name.startswith(f"{generation:06d}-"):  # older generations, the open day's
            (facts / name).unlink(missing_ok=True)


def migrate_history(store: StoreLike, *, now: TimeLike | None = None) -> int:
    """Bring a history store to the current format, then compact its closed days.

    A tunnelframe 0.1 store (a file per snapshot, no version file) gets its version file; a
    format 2 store gets the facts of unread tunnels (none: it did not record them); files
    written with other columns are rewritten with the current ones, matched by name (a column
    this tunnelframe does not know is an error, never dropped silently).

    Parameters
    ----------
    store : str or path-like
        The store.
    now : datetime, pandas.Timestamp or str, optional
        The current time, for which days are closed; default the clock.

    Returns
    -------
    int
        The format version before migrating.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(3, days=1, every="12h"):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> tf.migrate_history(store, now="2026-08-21")
    3
    """
    root = existing_store(store)
    path = root / VERSION_FILE
    try:
        before = read_version(root)
    except TunnelframeError:
        if not path.exists():
            raise
        before = _stored_version(path)
    if before > FORMAT_VERSION:  # rewriting it down would lose what a newer version stored
        raise TunnelframeError(
            f"{path}: history store format {before} is newer than this tunnelframe's "
            f"({FORMAT_VERSION}): it cannot be migrated down; upgrade tunnelframe"
        )
    if not path.exists() and not _holds_snapshots(root):
        raise TunnelframeError(
            f"{root} is not a history store: it has no version file and no snapshot "
            "(date=YYYY-MM-DD/*.parquet); give the store's folder, or create one with "
            "`tunnelframe snapshot --store DIR`"
        )
    with _locked(root) as held:
        if not held:
            raise TunnelframeError(f"history store {root} is being compacted: try again later")
        for name in _listdir(root):
            if _DAY.match(name):
                for file in _listdir(root / name):
                    if _SNAPSHOT.match(file) or _COMPACTED.match(file):
                        _migrate_file(root / name / file)
                _migrate_facts(root, name.removeprefix("date="))
        write_version(root)
    compact_history(root, now=now)
    return before


def _migrate_facts(root: Path, day: str) -> None:
    """Give a compacted day the facts kinds added since (empty: an older store recorded none
    of them); drop an open day's checkpoint (the next compaction derives it again)."""
    import duckdb

    generation = _generation(root / f"date={day}")
    facts = root / FACTS_DIR / f"date={day}"
    for name in _listdir(facts):
        if name.startswith("open-"):
            (facts / name).unlink(missing_ok=True)
    if generation is None:
        return
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("rows", STORE_SCHEMA.empty_table())
        derive_facts(con, "rows")
        for kind in FACT_KINDS:
            path = _facts_path(root, day, generation, kind)
            if not path.exists():
                empty = con.sql(f"SELECT * FROM d_{kind}").to_arrow_table()
                _publish(empty, path, **_FACTS_OPTIONS)
    finally:
        con.close()


def _stored_version(path: Path) -> int:
    """The ``format_version`` a version file states, whatever else is wrong with it."""
    try:
        value = json.loads(path.read_text()).get("format_version", 1)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"format_version {value!r} is not a number")
        return int(value)
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:
        raise TunnelframeError(f"{path}: not a tunnelframe version file ({exc})") from exc


def _holds_snapshots(root: Path) -> bool:
    """Whether ``root`` has a date partition with a snapshot or compacted file of its own."""
    return any(
        _SNAPSHOT.match(file) or _COMPACTED.match(file)
        for name in _listdir(root)
        if _DAY.match(name)
        for file in _listdir(root / name)
    )


def _migrate_file(path: Path) -> None:
    schema = _footer(path)
    if schema.remove_metadata().equals(STORE_SCHEMA):
        return
    unknown = sorted(set(schema.names) - set(STORE_SCHEMA.names))
    if unknown:
        raise TunnelframeError(
            f"{path}: column(s) {', '.join(unknown)} unknown to this tunnelframe: not migrated"
        )
    table = pq.read_table(path)
    columns = [
        table[f.name].cast(f.type) if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in STORE_SCHEMA
    ]  # fmt: skip
    _publish(
        pa.Table.from_arrays(columns, schema=STORE_SCHEMA).replace_schema_metadata(schema.metadata),
        path,
    )


# --- a summary ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreInfo:
    """What :func:`store_info` reports: the store's format and size.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(3, days=1, every="12h"):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> tf.store_info(store).n_days
    2
    """

    path: Path
    format_version: int
    n_days: int
    n_compacted_days: int
    n_snapshots: int
    n_files: int
    bytes: int


def store_info(store: StoreLike) -> StoreInfo:
    """The format version, days, snapshots, files and bytes on disk of a history store.

    Parameters
    ----------
    store : str or path-like
        The store.

    Returns
    -------
    StoreInfo

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(3, days=1, every="12h"):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> info = tf.store_info(store)
    >>> info.format_version, info.n_days, info.n_snapshots
    (3, 2, 3)
    """

    def read(current: Plan) -> StoreInfo:
        n_snapshots = sum(
            len(d.snapshots) + (len(compacted_snapshots(d.compacted)) if d.compacted else 0)
            for d in current.days
        )
        files = [p for p in current.root.rglob("*") if p.is_file()]
        return StoreInfo(
            path=current.root,
            format_version=read_version(current.root),
            n_days=len(current.days),
            n_compacted_days=sum(d.compacted is not None for d in current.days),
            n_snapshots=n_snapshots,
            n_files=len(files),
            bytes=sum(p.stat().st_size for p in files),
        )

    info: StoreInfo = read_consistent(store, read)
    return info
