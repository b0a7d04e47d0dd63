"""Connections-frame helpers every layer above shares: the one definition of an active
connection, the one edge string (``2xDFW``), and the connectors and tunnels frames rebuilt from
a connections frame alone (for a report of a frame, where no payload is at hand).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from tunnelframe._versionorder import _order_version_columns
from tunnelframe.frames._columns import _edge_strings
from tunnelframe.frames._schema import _TEXT, CONNECTORS_SCHEMA, TUNNELS_SCHEMA

__all__ = [
    "ACTIVE_SQL",
    "PENDING_SQL",
    "active_flags",
    "connection_flags",
    "connectors_from_connections",
    "edge_strings",
    "tunnels_from_connections",
]


_IS_CONNECTION_SQL = "(connection_id IS NOT NULL OR colo_name IS NOT NULL)"
_PENDING_FLAG_SQL = "coalesce(CAST(is_pending_reconnect AS BOOLEAN), false)"
#: :func:`connection_flags`' definition of an active connection, for SQL over a connections
#: table (the history queries).
ACTIVE_SQL = f"{_IS_CONNECTION_SQL} AND NOT {_PENDING_FLAG_SQL}"
#: :func:`connection_flags`' definition of a pending reconnect, for SQL.
PENDING_SQL = f"{_IS_CONNECTION_SQL} AND {_PENDING_FLAG_SQL}"


def connection_flags(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which rows are active connections and which pending reconnects (numpy bool arrays).

    The one definition of an *active* connection: a row that is a connection (it has a
    ``connection_id`` or a ``colo_name``) and is not ``is_pending_reconnect``. An idle
    connector's row (no connection) is neither.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = {"tunnels": [{"id": "t1", "connectors": [{"id": "c1", "conns": [
    ...     {"id": "a", "colo_name": "DFW"},
    ...     {"id": "b", "colo_name": "LAX", "is_pending_reconnect": True}]}, {"id": "c2"}]}]}
    >>> active, pending = connection_flags(tf.connections_frame(fleet))
    >>> active.tolist(), pending.tolist()
    ([True, False, False], [False, True, False])
    """
    has_id = (
        frame["connection_id"].notna().to_numpy()
        if "connection_id" in frame.columns
        else np.zeros(len(frame), dtype=bool)
    )
    return active_flags(
        has_id,
        frame["colo_name"].notna().to_numpy(),
        frame["is_pending_reconnect"].fillna(False).astype(bool).to_numpy(),
    )


def active_flags(
    has_id: np.ndarray, has_colo: np.ndarray, pending_flag: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The definition :func:`connection_flags` (and :data:`ACTIVE_SQL`) apply, on arrays: an
    entry is a connection when it has an id or a colo; it is pending when it is a connection
    flagged ``is_pending_reconnect``, active when it is a connection that is not pending.

    Examples
    --------
    >>> import numpy as np
    >>> active, pending = active_flags(
    ...     np.array([True, False, False]), np.array([False, False, True]),
    ...     np.array([False, True, True]))
    >>> active.tolist(), pending.tolist()
    ([True, False, False], [False, False, True])
    """
    is_conn = np.asarray(has_id, dtype=bool) | np.asarray(has_colo, dtype=bool)
    pending = np.asarray(pending_flag, dtype=bool) & is_conn
    return is_conn & ~pending, pending


def edge_strings(frame: pd.DataFrame, *, by: str | list[str] = "connector_id") -> pd.Series:
    """Active connections per colo as cloudflared prints them, one string per group.

    ``frame`` has at least the columns ``colo_name`` and ``is_pending_reconnect`` (a
    connections frame); groups are the distinct values of ``by`` (NA is a group too), sorted.
    Pending reconnects and connections without a colo are not counted; a group without active
    connections gets ``""``. The one builder of the edge string in the package.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = {"tunnels": [{"id": "t1", "connectors": [{"id": "c1", "conns": [
    ...     {"id": "a", "colo_name": "DFW"}, {"id": "b", "colo_name": "ATL"},
    ...     {"id": "c", "colo_name": "DFW"}]}]}]}
    >>> edge_strings(tf.connections_frame(fleet)).tolist()
    ['1xATL, 2xDFW']
    """
    keys = [by] if isinstance(by, str) else list(by)
    grouped = frame.groupby(keys, observed=True, dropna=False, sort=True)
    index = grouped.size().index
    if not len(frame):
        return pd.Series([], index=index, dtype=_TEXT, name="edges")
    groups = grouped.ngroup().to_numpy(dtype=np.int64)
    colo = pd.Categorical(frame["colo_name"])
    active, _ = connection_flags(frame)
    codes = np.asarray(colo.codes, dtype=np.int64)
    colos = [str(c) for c in colo.categories]
    strings = _edge_strings(groups, codes, colos, active, len(index))
    return pd.Series(strings, index=index, dtype=_TEXT, name="edges")


def connectors_from_connections(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per connector of a connections frame, with the columns of ``connectors_frame``.

    The way to get connectors from a frame alone (a report built from a connections frame);
    columns a connections frame does not carry are NA.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = {"tunnels": [{"id": "t1", "connectors": [{"id": "c1", "conns": [
    ...     {"id": "a", "colo_name": "DFW"}, {"id": "b", "colo_name": "DFW"}]}]}]}
    >>> row = connectors_from_connections(tf.connections_frame(fleet)).iloc[0]
    >>> row["n_active"], row["edges"]
    (np.int64(2), '2xDFW')
    """
    keys = ["account_id", "tunnel_id", "connector_id"]
    active, pending = connection_flags(frame)
    conn = frame.assign(_active=active.astype("int64"), _pending=pending.astype("int64"))
    conn["_n"] = conn["_active"] + conn["_pending"]
    grouped = conn.groupby(keys, observed=True, dropna=False, sort=False)
    first = frame.loc[grouped.head(1).index].set_index(keys)
    counts = grouped[["_n", "_active", "_pending"]].sum()
    out = first.join(counts)
    out["n_connections"] = out.pop("_n")
    out["n_active"] = out.pop("_active")
    out["n_pending"] = out.pop("_pending")
    out = out.join(edge_strings(frame, by=keys), how="left") if len(frame) else out
    ips = (
        frame.dropna(subset=["origin_ip"])
        .groupby(keys, observed=True, dropna=False)["origin_ip"]
        .agg(lambda s: ", ".join(sorted({str(v) for v in s})))
    )
    out["origin_ips"] = ips
    out = out.reset_index()
    result = pd.DataFrame(index=out.index)
    for col, dtype in CONNECTORS_SCHEMA.items():
        values = out[col] if col in out.columns else pd.Series(pd.NA, index=out.index)
        values = values.astype(cast(Any, dtype))
        if col in ("edges", "origin_ips"):  # "" as connectors_frame: none, not unknown
            values = values.fillna("")
        result[col] = values
    return _order_version_columns(result)


def tunnels_from_connections(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per tunnel seen in a connections frame, with the columns of ``tunnels_frame``.

    Only the columns a connections frame carries are filled; the others are NA.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = {"tunnels": [{"id": "t1", "name": "web", "connectors": [{"id": "c1"}]}]}
    >>> tunnels_from_connections(tf.connections_frame(fleet))[["tunnel_name", "n_connectors"]]
      tunnel_name  n_connectors
    0         web             1
    """
    keys = ["account_id", "tunnel_id"]
    grouped = frame.groupby(keys, observed=True, dropna=False, sort=False)
    context = [c for c in ("tunnel_name", "tunnel_status", "tun_type") if c in frame.columns]
    out = grouped[context].first()
    # A connection without its connector (cloudflared's 'tunnel list -o json' leaves out
    # client_id) makes the number of connectors unknown, as in tunnels_frame.
    unknown = frame["connector_id"].isna() & frame["connection_id"].notna()
    unknown_any = unknown.groupby([frame[k] for k in keys], observed=True, dropna=False).any()
    out["n_connectors"] = grouped["connector_id"].nunique().astype("Int64").mask(unknown_any)
    out["n_connections"] = grouped["connection_id"].count()
    out = out.reset_index()
    result = pd.DataFrame(index=out.index)
    for col, dtype in TUNNELS_SCHEMA.items():
        values = out[col] if col in out.columns else pd.Series(None, index=out.index)
        result[col] = values.astype(cast(Any, dtype)) if dtype != "object" else values
    return _order_version_columns(result)
