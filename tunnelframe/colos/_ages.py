"""Connection ages and connector uptimes at a given time.

Never modifies its input frame and never reads the clock except when ``as_of`` is omitted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
import pandas as pd

from tunnelframe import _checks
from tunnelframe._checks import _check_frame, _flags, _warn_if_before_data
from tunnelframe._deprecate import renamed
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe.colos._core import _CONNECTOR_KEYS, _groups, _take
from tunnelframe.frames import connection_flags
from tunnelframe.snapshot import Snapshot, as_connections

__all__ = ["connection_ages"]


def _as_of(as_of: object) -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC") if as_of is None else _checks._utc(as_of, "as_of")


@renamed(frame="source")
def connection_ages(
    source: FleetSource,
    *,
    as_of: TimeLike | None = None,
    recent: dt.timedelta | pd.Timedelta | str = "1D",
    level: Literal["connection", "connector"] = "connection",
) -> pd.DataFrame:
    """How old every active connection is, and how long each connector has been running.

    A connector's uptime counts from its ``run_at``; cloudflared starts under a new connector id
    every time, so a short uptime means a restart (or a new deployment).

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`.
    as_of : datetime, Timestamp or str, optional
        The "now" ages are measured at; default the current time, or, for a Snapshot, the
        moment each tunnel's connectors were read (its ``observed_at`` in ``snap.tunnels_frame()``:
        the fetch time for a full read, earlier for a tunnel an incremental refresh carried
        forward). Naive times are taken as UTC.
    recent : timedelta, Timedelta or str, default "1D"
        A connector that started less than this before ``as_of`` is ``restarted_recently``.
    level : {"connection", "connector"}, default "connection"
        One row per active connection, or one per connector (idle ones included).

    Returns
    -------
    pandas.DataFrame
        Connection level, in frame order: ``account_id``, ``tunnel_id``, ``tunnel_name``,
        ``connector_id``, ``connection_id``, ``colo_name``, ``opened_at``, ``age_hours``
        (float64, since ``opened_at``), ``run_at``, ``uptime_hours`` (float64, since the
        connector's ``run_at``), ``restarted_recently`` (boolean, NA when ``run_at`` is
        unknown). Connector level, in order of first appearance: the key columns, ``run_at``,
        ``uptime_hours``, ``restarted_recently``, ``n_active`` (int64) and ``last_opened_at``
        (its newest active connection's ``opened_at``: a long uptime with a recent
        ``last_opened_at`` is a reconnect, not a restart). Times measured after ``as_of`` give
        negative ages.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = tf.simulator.generate_fleet(20, seed=1)
    >>> conns = tf.connections_frame(fleet)
    >>> ages = tf.connection_ages(conns, as_of=tf.simulator.DEFAULT_AS_OF)
    >>> bool((ages["age_hours"] >= 0).all())
    True
    >>> per_connector = tf.connection_ages(conns, as_of="2026-08-20T12:00Z", level="connector")
    >>> per_connector["restarted_recently"].dtype
    bool[pyarrow]
    """
    if level not in ("connection", "connector"):
        raise ValueError(f"connection_ages: level={level!r} is not 'connection' or 'connector'")
    observed = _observed(source) if as_of is None and isinstance(source, Snapshot) else None
    now = _as_of(as_of)
    try:
        window = pd.Timedelta(recent)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"connection_ages: recent={recent!r} is not a duration; pass e.g. '1D', '6h' or a "
            "timedelta"
        ) from exc
    if pd.isna(window) or window <= pd.Timedelta(0):
        raise ValueError(f"connection_ages: recent={recent!r} must be a positive duration")
    needed = [*_CONNECTOR_KEYS, "run_at", "colo_name", "is_pending_reconnect", "opened_at"]
    if level == "connection":
        needed.append("connection_id")
    snapshot = source
    frame = _check_frame(as_connections(source), "connection_ages", columns=needed)
    # Per row, when its tunnel was read (a Snapshot without as_of); else one "now" for all.
    at: np.ndarray | None = None
    if observed is not None and isinstance(snapshot, Snapshot):
        at = observed(frame)
        now = pd.Timestamp(np.nanmax(at) if len(at) else now).tz_localize("UTC")
    _warn_if_before_data(frame, now, "connection_ages", stacklevel=4)
    rows_at: np.ndarray | None = None  # the rows of ``at`` the output keeps

    def hours_since(stamps: pd.Series) -> pd.Series:
        base: Any = now
        if rows_at is not None:
            base = pd.Series(pd.to_datetime(rows_at, utc=True), index=stamps.index)
        elapsed: pd.Series = base - stamps
        hours: pd.Series = elapsed.dt.total_seconds() / 3600.0
        return hours.astype(np.float64)

    def recently(uptime: pd.Series) -> pd.Series:
        recent = (uptime < window / pd.Timedelta(hours=1)).to_numpy(dtype=bool)
        return pd.Series(_flags(recent, uptime.isna()), index=uptime.index)

    active, _ = connection_flags(frame)
    if level == "connection":
        keys = (*_CONNECTOR_KEYS, "connection_id", "colo_name")
        chosen = np.flatnonzero(active)
        rows_at = None if at is None else at[chosen]
        rows = frame[[*keys, "opened_at", "run_at"]].iloc[chosen]
        rows = rows.reset_index(drop=True)
        out: dict[str, Any] = {column: rows[column] for column in keys}
        out["opened_at"] = _utc(rows["opened_at"])
        out["age_hours"] = hours_since(out["opened_at"])
        out["run_at"] = _utc(rows["run_at"])
        out["uptime_hours"] = hours_since(out["run_at"])
        out["restarted_recently"] = recently(out["uptime_hours"])
        return pd.DataFrame(out)

    keep = np.flatnonzero(frame["connector_id"].notna().to_numpy())
    sub = frame[[*_CONNECTOR_KEYS, "run_at", "opened_at"]].iloc[keep].reset_index(drop=True)
    groups = _groups(sub, ("account_id", "tunnel_id", "connector_id"))
    rows_at = None if at is None else at[keep][groups.first]
    out = _take(sub, _CONNECTOR_KEYS, groups.first)
    out["run_at"] = _utc(sub["run_at"].take(groups.first)).reset_index(drop=True)
    out["uptime_hours"] = hours_since(out["run_at"])
    out["restarted_recently"] = recently(out["uptime_hours"])
    is_active = active[keep]
    out["n_active"] = np.bincount(groups.codes[is_active], minlength=groups.n).astype(np.int64)
    opened = _utc(sub["opened_at"]).where(is_active)
    last = opened.groupby(groups.codes).max().reindex(range(groups.n))
    out["last_opened_at"] = last.reset_index(drop=True)
    return pd.DataFrame(out)


def _observed(snapshot: Snapshot) -> Any:
    """A function giving, per row of the snapshot's connections frame, its tunnel's
    ``observed_at`` (numpy datetime64, UTC)."""
    tunnels = snapshot.tunnels_frame()
    when = {
        (str(a), str(t)): o
        for a, t, o in zip(
            tunnels["account_id"].astype(object),
            tunnels["tunnel_id"].astype(object),
            tunnels["observed_at"].dt.tz_localize(None).to_numpy(),
            strict=True,
        )
    }
    fallback = np.datetime64(pd.Timestamp(snapshot.fetched_at).tz_convert(None), "us")

    def per_row(frame: pd.DataFrame) -> np.ndarray:
        keys = zip(
            frame["account_id"].astype(object), frame["tunnel_id"].astype(object), strict=True
        )
        return np.array(
            [when.get((str(a), str(t)), fallback) for a, t in keys], dtype="datetime64[us]"
        )

    return per_row


def _utc(times: pd.Series) -> pd.Series:
    # Connections frames hold UTC already; a hand-made frame may hold naive times (read as UTC).
    return pd.to_datetime(times, utc=True)
