"""Keep a fleet current: refresh incrementally every cycle, store the view, report changes.

:class:`Watcher` is what ``tunnelframe watch`` runs: each cycle it refreshes the fleet with
:func:`tunnelframe.fetch_fleet` (``previous=`` the last view), appends the view to a history
store (a directory, or an Iceberg table), keeps that view in a state directory (the store's
own ``_latest/``, which store readers skip, unless given another; an Iceberg table needs one)
so a restart resumes where it left off, diffs it against the previous view, and hands the
cycle's result (:class:`Cycle`: the snapshot and the diff rows) to every ``on_cycle`` callback:
the hook for printing, metrics and alerts. Its settings are one :class:`WatchPolicy`. It never
uses more than its budget share of a token (the token's client allows only that many requests
in any window), waits and tries again after a failed cycle without losing its place, and
``Watcher.stop()`` (SIGTERM, Ctrl+C in the CLI) lets the cycle in progress finish.
Fetching, storing and diffing live in their own modules; this one only runs the loop.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tunnelframe._deprecate import renamed
from tunnelframe._errors import ApiError, AuthError
from tunnelframe._fleetfile import FleetFile, load_fleet_file
from tunnelframe.client import Client
from tunnelframe.engine import diff_snapshots
from tunnelframe.fetch import fetch_fleet
from tunnelframe.history import ICEBERG_SCHEME, IcebergHistory, append_snapshot, iceberg_history
from tunnelframe.snapshot import Snapshot, load_snapshot

__all__ = ["Cycle", "WatchPolicy", "Watcher", "latest_snapshot", "record_snapshot"]

_log = logging.getLogger("tunnelframe.watch")

#: Where a store (or a state directory) keeps its latest view per set of accounts (names
#: starting with "_" are not snapshot rows: every store reader skips them).
LATEST_DIR = "_latest"

#: Where ``watch`` and ``snapshot`` write: a store directory, an Iceberg catalog URI
#: (``iceberg+...``) or an Iceberg table.
Target = str | os.PathLike[str] | IcebergHistory


def _resolve(store: Target) -> Path | IcebergHistory:
    """A store directory, or the Iceberg table a catalog URI names."""
    if isinstance(store, IcebergHistory):
        return store
    if isinstance(store, str) and store.startswith(ICEBERG_SCHEME):
        return iceberg_history(store)
    return Path(store)


def _state_dir(store: Path | IcebergHistory, state: str | os.PathLike[str] | None) -> Path:
    """Where the latest view is kept: ``state``, else the store directory itself."""
    if state is not None:
        return Path(state)
    if isinstance(store, IcebergHistory):
        raise ValueError(
            f"{store!r}: an Iceberg table keeps no local files; give a state directory "
            "(state=, the CLI's --state DIR) where the latest view is kept between restarts"
        )
    return store


def _accounts_key(account_ids: Iterable[str]) -> str:
    joined = ",".join(sorted({str(a) for a in account_ids}))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def _latest_path(store: str | os.PathLike[str], account_ids: Iterable[str]) -> Path:
    return Path(store) / LATEST_DIR / f"{_accounts_key(account_ids)}.json.gz"


def latest_snapshot(store: str | os.PathLike[str], account_ids: Iterable[str]) -> Snapshot | None:
    """The latest view of ``account_ids`` kept in a history store, or None when it has none.

    ``store`` is the store directory, or the state directory given to :func:`record_snapshot`
    (or :class:`Watcher`) with an Iceberg table.

    Examples
    --------
    >>> import tempfile
    >>> latest_snapshot(tempfile.mkdtemp(), ["acc1"]) is None
    True
    """
    path = _latest_path(store, account_ids)
    try:
        return load_snapshot(path)
    except FileNotFoundError:
        return None


def record_snapshot(
    snapshot: Snapshot, store: Target, *, state: str | os.PathLike[str] | None = None
) -> Path | str:
    """Append ``snapshot`` to a history store and keep it as the store's latest view.

    The next incremental refresh (``tunnelframe snapshot --incremental``, ``watch``, a
    restart) starts from that view. The view is kept after the append: a process killed
    between the two resumes from the view before, and the next refresh catches up.

    Parameters
    ----------
    snapshot : Snapshot
        The view.
    store : str, path-like or IcebergHistory
        A store directory, an Iceberg catalog URI (``iceberg+sqlite:///...``) or table.
    state : str or path-like, optional
        Where the view is kept (in ``_latest/``); default the store directory. Required with
        an Iceberg table, which keeps no local files.

    Returns
    -------
    pathlib.Path or str
        The appended Parquet file; for an Iceberg table, the snapshot's key.

    Raises
    ------
    ValueError
        An Iceberg table and no ``state``.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> snap = tf.Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
    ...                    tunnels=[{"id": "t1", "account_tag": "a", "connectors": []}])
    >>> _ = record_snapshot(snap, store)
    >>> latest_snapshot(store, ["a"]) == snap
    True
    """
    target = _resolve(store)
    where = _state_dir(target, state)
    path = append_snapshot(snapshot, target)
    latest = _latest_path(where, snapshot.account_ids)
    latest.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save(latest)
    return path


@dataclass(frozen=True)
class WatchPolicy:
    """How ``watch`` paces itself.

    Parameters
    ----------
    interval_s : float
        Seconds from the start of one cycle to the start of the next (default 5 minutes,
        Cloudflare's rate window).
    budget_share : float, optional
        The share of each token's rate budget the watcher may use, 0 < share <= 1. Default:
        half, or with a fleet file each token's share from the file (given, it caps them).
        The token's client allows no more in any window.
    max_requests : int, optional
        Also at most this many requests per cycle and token.
    retry_s, retry_max_s : float
        After a failed cycle (the API refusing, 5xx past the client's retries, the network),
        wait ``retry_s``, doubling up to ``retry_max_s``, then try again.

    Examples
    --------
    >>> WatchPolicy(interval_s=60, budget_share=0.25).budget_share
    0.25
    """

    interval_s: float = 300.0
    budget_share: float | None = None
    max_requests: int | None = None
    retry_s: float = 30.0
    retry_max_s: float = 600.0

    def __post_init__(self) -> None:
        for name in ("interval_s", "retry_s", "retry_max_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}")
        share = self.budget_share
        if share is not None and not (isinstance(share, int | float) and 0 < share <= 1):
            raise ValueError(f"budget_share must be 0 < share <= 1, got {self.budget_share!r}")
        if self.max_requests is not None and self.max_requests < 1:
            raise ValueError(f"max_requests must be >= 1, got {self.max_requests!r}")


@dataclass(frozen=True)
class Cycle:
    """What one watch cycle produced: the hook's argument.

    Attributes
    ----------
    number : int
        1 for the first cycle of this run.
    snapshot : Snapshot
        The fleet's view after this cycle (carried-forward tunnels included).
    changes : pandas.DataFrame
        :func:`tunnelframe.diff_snapshots` of the previous view and this one (empty on the
        very first view of a store).
    path : Path or str
        The Parquet file the view was appended as; for an Iceberg table, the snapshot's key.
    started_at : datetime
        When the cycle started (UTC).
    duration_s : float
        How long it took, in seconds.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> with tf.simulator.serve(tf.simulator.generate_fleet(3, seed=2)) as api:
    ...     with tf.Client(api.token, base_url=api.url) as client:
    ...         cycle = Watcher(tempfile.mkdtemp(), client=client,
    ...                         account_id=api.account_id).cycle()
    >>> cycle.number, cycle.change_records()
    (1, [])
    """

    number: int
    snapshot: Snapshot
    changes: pd.DataFrame
    path: Path | str
    started_at: datetime
    duration_s: float

    def change_records(self) -> list[dict[str, str | None]]:
        """The diff rows as JSON-ready dicts (text values, None for NA): one per change."""
        return [
            {str(key): (None if pd.isna(value) else str(value)) for key, value in row.items()}
            for row in self.changes.to_dict("records")
        ]


class Watcher:
    """Refresh a fleet every cycle into a history store and report each cycle's changes.

    Parameters
    ----------
    store : str, path-like or IcebergHistory
        The history store: a directory, an Iceberg catalog URI (``iceberg+sqlite:///...``,
        ``iceberg+postgresql://...``) or table. The watcher resumes from the latest view of the
        same accounts kept in ``state``.
    client : Client, optional
        One token (default: from the ``CLOUDFLARE_*`` environment). Its rate budget must be
        the full one (``requests_per_window``): the watcher makes its own client, allowed
        only the ``policy.budget_share`` of it. Not with ``fleet_file``.
    account_id : str or list of str, optional
        The accounts of ``client`` (default: the client's account).
    fleet_file : path or FleetFile, optional
        Many accounts, one token each (see :func:`tunnelframe.load_fleet_file`).
    policy : WatchPolicy, optional
        Pace, budget share and retries.
    on_cycle : callable or list of callables, optional
        Called with each :class:`Cycle` after its view is stored (printing, metrics,
        alerts). An exception in a callback stops the watcher.
    tun_types, skip_inactive, max_workers, progress
        As in :func:`tunnelframe.fetch_fleet`.
    state : str or path-like, optional
        The directory where the latest view is kept between restarts (default: the store
        directory's ``_latest/``). Required with an Iceberg table, which keeps no local files.

    Raises
    ------
    ValueError
        An Iceberg table and no ``state``; ``fleet_file`` with ``client`` or ``account_id``.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> fleet = tf.simulator.generate_fleet(5, seed=1)
    >>> with tf.simulator.serve(fleet) as api, tf.Client(api.token, base_url=api.url) as c:
    ...     watcher = Watcher(tempfile.mkdtemp(), client=c, account_id=api.account_id,
    ...                       policy=WatchPolicy(interval_s=1))
    ...     cycles = watcher.run(max_cycles=2)
    >>> [len(cycle.changes) for cycle in cycles]
    [0, 0]
    """

    @renamed(kinds="tun_types")
    def __init__(
        self,
        store: Target,
        *,
        client: Client | None = None,
        account_id: str | list[str] | None = None,
        fleet_file: str | os.PathLike[str] | FleetFile | None = None,
        policy: WatchPolicy | None = None,
        on_cycle: Callable[[Cycle], Any] | Iterable[Callable[[Cycle], Any]] | None = None,
        tun_types: str | Iterable[str] | None = None,
        skip_inactive: bool = True,
        max_workers: int = 8,
        progress: bool = False,
        state: str | os.PathLike[str] | None = None,
    ) -> None:
        self.store = _resolve(store)
        self.state = _state_dir(self.store, state)
        self.policy = policy or WatchPolicy()
        if fleet_file is not None and (client is not None or account_id is not None):
            raise ValueError(
                "fleet_file names the accounts and tokens: give no client or account_id"
            )
        self._fleet: FleetFile | None = None
        self._client: Client | None = None
        if fleet_file is not None:
            fleet = fleet_file if isinstance(fleet_file, FleetFile) else load_fleet_file(fleet_file)
            fleet.tokens()  # a missing variable is an error now, not at the first cycle
            share = self.policy.budget_share
            self._fleet = fleet if share is None else _with_share(fleet, share)
            self.account_ids = [a.account_id for a in fleet.accounts]
        else:
            given = client if client is not None else Client(pool_size=max_workers)
            self._own_client = client is None
            accounts = (
                [given.resolve_account(None)]
                if account_id is None
                else [account_id]
                if isinstance(account_id, str)
                else list(account_id)
            )
            self.account_ids = accounts
            # Its own limiter allows only the share in any window: no two cycles together
            # can pass it, retries included.
            share = 0.5 if self.policy.budget_share is None else self.policy.budget_share
            self._client = given.with_budget(max(1, math.floor(share * given.requests_per_window)))
            if self._own_client:
                given.close()
        self._callbacks: list[Callable[[Cycle], Any]] = (
            [] if on_cycle is None else [on_cycle] if callable(on_cycle) else list(on_cycle)
        )
        self._options: dict[str, Any] = {
            "tun_types": tun_types,
            "skip_inactive": skip_inactive,
            "max_workers": max_workers,
            "progress": progress,
        }
        self._stop = threading.Event()
        self._previous: Snapshot | None = None
        self._loaded = False
        self.n_cycles = 0

    # -- control ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the cycle in progress (if any), then make ``run()`` return."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stop.is_set()

    def add_callback(self, callback: Callable[[Cycle], Any]) -> None:
        """Call ``callback`` with every later cycle's :class:`Cycle`."""
        self._callbacks.append(callback)

    # -- one cycle ---------------------------------------------------------------------------

    def previous(self) -> Snapshot | None:
        """The view the next cycle starts from: the last cycle's, else the store's latest."""
        if not self._loaded:
            self._previous = latest_snapshot(self.state, self.account_ids)
            self._loaded = True
        return self._previous

    def cycle(self) -> Cycle:
        """Run one cycle now: refresh, store, diff, call back; returns its :class:`Cycle`."""
        started = time.monotonic()
        started_at = datetime.now(UTC)
        previous = self.previous()
        start_from = previous or Snapshot(
            fetched_at=started_at, account_ids=self.account_ids, tunnels=[]
        )
        if self._fleet is not None:
            snapshot = fetch_fleet(
                fleet_file=self._fleet,
                previous=start_from,
                max_requests=self.policy.max_requests,
                **self._options,
            )
        else:
            assert self._client is not None
            snapshot = fetch_fleet(
                client=self._client,
                account_id=self.account_ids,
                previous=start_from,
                max_requests=self.policy.max_requests,
                budget_share=1.0,  # the client allows only the policy's share
                **self._options,
            )
        path = record_snapshot(snapshot, self.store, state=self.state)
        changes = (
            diff_snapshots(previous, snapshot) if previous is not None else _no_changes(snapshot)
        )
        self._previous = snapshot
        self.n_cycles += 1
        result = Cycle(
            number=self.n_cycles,
            snapshot=snapshot,
            changes=changes,
            path=path,
            started_at=started_at,
            duration_s=time.monotonic() - started,
        )
        for callback in self._callbacks:
            callback(result)
        return result

    # -- the loop ----------------------------------------------------------------------------

    def run(self, *, max_cycles: int | None = None) -> list[Cycle]:
        """Run cycles every ``policy.interval_s`` until ``stop()`` (or ``max_cycles``).

        A cycle that fails (:class:`ApiError`, a network or disk error) is logged and tried
        again after a backoff; the view it would have replaced stays the starting point. An
        :class:`AuthError` (a token refused) is raised: waiting will not fix it.
        Returns the cycles run (their snapshots, so only keep ``max_cycles`` small).
        """
        done: list[Cycle] = []
        wait = self.policy.retry_s
        try:
            while not self._stop.is_set() and (max_cycles is None or len(done) < max_cycles):
                started = time.monotonic()
                try:
                    cycle = self.cycle()
                except AuthError:
                    raise  # a token refused will not heal by waiting: stop and say so
                except (ApiError, OSError) as exc:
                    _log.warning("watch: the cycle failed (%s); trying again in %.0f s", exc, wait)
                    self._stop.wait(wait)
                    wait = min(self.policy.retry_max_s, wait * 2)
                    continue
                wait = self.policy.retry_s
                done.append(cycle)
                if max_cycles is None or len(done) < max_cycles:
                    self._stop.wait(max(0.0, self.policy.interval_s - (time.monotonic() - started)))
        finally:
            self.close()
        return done if max_cycles is not None else []

    def close(self) -> None:
        """Close the watcher's own client (a client given to it stays open)."""
        if self._client is not None:
            self._client.close()


def _with_share(fleet: FleetFile, share: float) -> FleetFile:
    """``fleet`` with no token allowed more than ``share`` of its budget."""
    return replace(
        fleet,
        accounts=tuple(replace(a, budget_share=min(a.budget_share, share)) for a in fleet.accounts),
    )


def _no_changes(snapshot: Snapshot) -> pd.DataFrame:
    # diff's columns and dtypes, no rows (a snapshot against itself still lists its unread tunnels)
    return diff_snapshots(snapshot, snapshot).iloc[0:0]
