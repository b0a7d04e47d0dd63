"""Raw Cloudflare Tunnel payloads to typed pandas DataFrames.

``connections_frame`` (one row per connection), ``connectors_frame`` (one row per connector) and
``tunnels_frame`` (one row per tunnel) flatten what the API returns (or what a fleet snapshot
holds) into frames that follow ``CONNECTIONS_SCHEMA``, ``CONNECTORS_SCHEMA`` and
``TUNNELS_SCHEMA``. This package knows no HTTP: it never fetches anything, and it never modifies
the payload it is given. A million connections take about 1.5 s and 110 MB (see
``benchmarks/bench_frames.py``).

Accepted input (``data``)
-------------------------
Each function recognises what it is given from its keys (README: "Every payload" table):

* one connector ("Client") object: the ``result`` of GET ``…/connectors/{id}``;
* a list of connector objects: the ``result`` of GET ``…/connections``;
* an API envelope ``{"success": true, "result": …}`` around any of these; ``"result": null``
  (the spec allows it for collections) is nothing: an empty frame. An envelope with
  ``"success": false`` raises :class:`tunnelframe.ApiError` with the envelope's codes and messages;
* a fleet ``{"tunnels": [tunnel + {"connectors": [...]}, ...]}``; the account is the tunnel's
  ``account_tag``;
* tunnel objects, one or a list: the ``result`` of GET ``…/cfd_tunnel`` or ``…/cfd_tunnel/{id}``,
  and cloudflared's ``tunnel list -o json`` (``id``, ``name``, ``created_at``, ``deleted_at``,
  ``connections``). A tunnel's connectors are its ``connectors`` when that key is there and not
  null (even ``[]``); otherwise its deprecated ``connections`` array (gone from the API since
  2026-10-05) gives one row per connection, the connector being its ``client_id`` (NA when
  absent, as cloudflared writes them) with NA connector fields. So ``connectors`` wins when a
  tunnel has both: they are the same connections, and only ``connectors`` has the connector
  fields. When no tunnel has either (today's API), the connections and connectors frames raise
  SchemaError: fetch each tunnel's ``…/connections``;
* cloudflared's ``tunnel info -o json``: one tunnel (``id``, ``name``, ``createdAt``) whose
  connectors are its ``conns``.

``tunnels_frame`` refuses connector payloads; ``connections_frame`` and ``connectors_frame``
refuse connection objects and lists mixing tunnels and connectors; all three refuse an empty
object. The :class:`tunnelframe.SchemaError` says what it saw and what to pass instead.

Coercions (everything else that the OpenAPI schema does not allow raises
:class:`tunnelframe.SchemaError` naming the JSON path, e.g. ``result[3].conns[1].colo_name``)
--------------------------------------------------------------------------------------------
* a missing key and an explicit ``null`` are the same: NA. Unknown keys are ignored.
* text fields must be JSON strings; a number, boolean, array or object there is an error.
* ``config_version`` must be an integer in the int32 range (cloudflared keeps it as an int32);
  an integral float such as ``3.0`` becomes ``3``; ``3.5``, booleans and strings are errors.
* ``is_pending_reconnect`` and ``remote_config`` must be JSON booleans.
* ``features`` must be an array of strings; it becomes one string, the features joined with
  ``","`` in payload order (``""`` for an empty array, NA when absent).
* timestamps must be strings. They are parsed as ISO 8601 / RFC 3339 (a timestamp without an
  offset is taken as UTC; digits past the microsecond are dropped). An unparseable string and a
  placeholder become NaT, never an error and never a bogus date: placeholders are instants at or
  before the Unix epoch (Go's zero time ``0001-01-01T00:00:00Z``, ``1970-01-01T00:00:00Z``) and
  instants in or after the year 9999 ("never" sentinels).

Layout: ``_schema`` declares the columns and dtypes, ``_payload`` reads and validates payloads
(a fast pyarrow pass, a slow Python pass that names the bad value), ``_columns`` turns the result
into pandas columns; the public functions below put them together.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from tunnelframe._deprecate import renamed
from tunnelframe._errors import PartialFleetWarning
from tunnelframe._types import FleetSource
from tunnelframe.frames._columns import (
    _connector_columns,
    _context,
    _distinct_strings,
    _edge_strings,
    _empty_like,
    _frame,
    _kind_columns,
    _take_codes,
    _take_masked,
    _take_strings,
    _take_times,
    _text,
)
from tunnelframe.frames._payload import _Payload
from tunnelframe.frames._rebuild import (
    ACTIVE_SQL,
    PENDING_SQL,
    active_flags,
    connection_flags,
    connectors_from_connections,
    edge_strings,
    tunnels_from_connections,
)
from tunnelframe.frames._routing import (
    HOSTNAMES_SCHEMA,
    ROUTES_SCHEMA,
    TUNNEL_DNS_SCHEMA,
    hostnames_frame,
    routes_frame,
    routing_read,
    tunnel_dns_frame,
)
from tunnelframe.frames._schema import (
    _CONTEXT_SCHEMA,
    CONNECTIONS_SCHEMA,
    CONNECTORS_SCHEMA,
    TUNNELS_SCHEMA,
)
from tunnelframe.frames._source import payload_of

__all__ = [
    "ACTIVE_SQL",
    "CONNECTIONS_SCHEMA",
    "CONNECTORS_SCHEMA",
    "HOSTNAMES_SCHEMA",
    "PENDING_SQL",
    "ROUTES_SCHEMA",
    "TUNNELS_SCHEMA",
    "TUNNEL_DNS_SCHEMA",
    "connection_flags",
    "connections_frame",
    "connectors_frame",
    "connectors_from_connections",
    "edge_strings",
    "hostnames_frame",
    "routes_frame",
    "routing_read",
    "tunnel_dns_frame",
    "tunnels_frame",
    "tunnels_from_connections",
]


def _check_connections(frame: pd.DataFrame, func: str) -> pd.DataFrame:
    missing = [c for c in ("connector_id", "colo_name", "is_pending_reconnect") if c not in frame]
    if missing:
        raise TypeError(
            f"{func}: a DataFrame given must be a connections frame (tf.connections_frame); "
            f"this one lacks {', '.join(missing)}"
        )
    return frame


@renamed(data="source")
def connections_frame(source: FleetSource, *, include_idle: bool = True) -> pd.DataFrame:
    """Flatten connector payloads to one row per connection.

    Parameters
    ----------
    source : Snapshot, path, dict, list or pandas.DataFrame
        A Snapshot, a saved snapshot's path, or a payload as ``json.loads`` returns it: one
        connector object, a list of them, an API envelope, a fleet ``{"tunnels": [...]}``,
        tunnel objects, or cloudflared's ``tunnel list``/``tunnel info`` JSON (see the module
        docstring). A connections frame is returned as a copy (without its idle connectors'
        rows when ``include_idle`` is False).
    include_idle : bool, default True
        Keep a connector that has no connections as one row whose connection columns are NA,
        so no connector is lost. False drops those rows.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`CONNECTIONS_SCHEMA` in that order (plus ``uuid`` when some
        connection's ``uuid`` differs from its ``id``); rows in payload order: connectors in
        order, each connector's connections in order. Tunnel columns are NA unless ``source``
        holds tunnels. Tunnels without connectors give no rows (see :func:`tunnels_frame`).

    Raises
    ------
    SchemaError
        A value has a shape or type the API does not document, or ``source`` is not one of the
        accepted payloads; ``.path`` names where.
    ApiError
        ``source`` is an envelope with ``"success": false``.
    TypeError
        ``source`` is none of the above.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> connector = {"id": "c1", "version": "2025.10.1", "conns": [
    ...     {"id": "a", "colo_name": "DFW", "opened_at": "2026-01-02T03:04:05.123456Z"},
    ...     {"id": "b", "colo_name": "LAX", "is_pending_reconnect": True}]}
    >>> frame = tf.connections_frame(connector)
    >>> frame[["connector_id", "connection_id", "colo_name", "is_pending_reconnect"]]
      connector_id connection_id colo_name is_pending_reconnect
    0           c1             a       DFW                 <NA>
    1           c1             b       LAX                 True
    >>> frame["opened_at"].iloc[0]
    Timestamp('2026-01-02 03:04:05.123456+0000', tz='UTC')
    """
    if isinstance(source, pd.DataFrame):
        frame = _check_connections(source, "connections_frame").copy()
        if not include_idle:
            idle = frame["connection_id"].isna() & frame["colo_name"].isna()
            frame = frame[~idle.to_numpy(bool)].reset_index(drop=True)
        return frame
    p = _Payload(payload_of(source)[0])
    counts = p.counts
    idle = counts == 0
    per_connector = np.maximum(counts, 1) if include_idle else counts
    connector_rows = np.repeat(np.arange(p.n_connectors, dtype=np.int64), per_connector)
    conn_rows: np.ndarray | None = None
    if include_idle and idle.any():
        row_starts = np.cumsum(per_connector) - per_connector
        conn_rows = np.arange(len(connector_rows), dtype=np.int64)
        conn_rows += (p._starts - row_starts)[connector_rows]
        conn_rows[idle[connector_rows]] = -1
    identity = bool((per_connector == 1).all())
    columns = _context(p, connector_rows)
    columns.update(_connector_columns(p, None if identity else connector_rows))
    c = p.conn
    columns["connection_id"] = _take_strings(c["connection_id"], conn_rows)
    columns["client_id"] = _take_codes(c["client_id"], conn_rows)
    columns["client_version"] = _take_codes(c["client_version"], conn_rows)
    columns["colo_name"] = _take_codes(c["colo_name"], conn_rows)
    columns["is_pending_reconnect"] = _take_masked(c["is_pending_reconnect"], conn_rows, "bool")
    columns["opened_at"] = _take_times(c["opened_at"], conn_rows)
    columns["origin_ip"] = _take_codes(c["origin_ip"], conn_rows)
    columns.update(_kind_columns(p, connector_rows))
    if c["uuid"] is not None:
        columns["uuid"] = _take_strings(c["uuid"], conn_rows)
    if not len(connector_rows):
        return _frame(_empty_like(CONNECTIONS_SCHEMA))
    return _frame(columns)


@renamed(data="source")
def connectors_frame(source: FleetSource) -> pd.DataFrame:
    """Summarise connector payloads to one row per connector.

    Parameters
    ----------
    source : Snapshot, path, dict, list or pandas.DataFrame
        As :func:`connections_frame`; from a connections frame the connectors are rebuilt
        from its rows.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`CONNECTORS_SCHEMA` in that order, one row per connector in
        payload order: the connector columns of :func:`connections_frame` plus
        ``n_connections``, ``n_pending`` (``is_pending_reconnect`` true) and ``n_active``
        (the others), both as :func:`connection_flags` defines them (an entry with neither
        ``id`` nor ``colo_name`` is no connection, so neither), ``edges`` (active connections
        per colo as ``cloudflared tunnel list`` prints them: ``"2xDFW, 2xLAX"``, colos sorted,
        connections without a colo left out, ``""`` when none) and ``origin_ips`` (the
        distinct origin IPs, sorted as text, joined with ``", "``).

    Raises
    ------
    SchemaError, ApiError, TypeError
        As :func:`connections_frame`.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> connector = {"id": "c1", "conns": [
    ...     {"id": "a", "colo_name": "DFW", "origin_ip": "192.0.2.1"},
    ...     {"id": "b", "colo_name": "ATL", "origin_ip": "192.0.2.1"},
    ...     {"id": "c", "colo_name": "DFW", "is_pending_reconnect": False},
    ...     {"id": "d", "colo_name": "LAX", "is_pending_reconnect": True}]}
    >>> row = tf.connectors_frame(connector).iloc[0]
    >>> row["n_connections"], row["n_active"], row["n_pending"], row["edges"], row["origin_ips"]
    (np.int64(4), np.int64(3), np.int64(1), '1xATL, 2xDFW', '192.0.2.1')
    """
    if isinstance(source, pd.DataFrame):
        return connectors_from_connections(_check_connections(source, "connectors_frame"))
    p = _Payload(payload_of(source)[0])
    k = p.n_connectors
    if not k:
        return _frame(_empty_like(CONNECTORS_SCHEMA))
    conn_groups = np.repeat(np.arange(k, dtype=np.int64), p.counts)
    pending_values, pending_mask = p.conn["is_pending_reconnect"]
    colo_codes, colos = p.conn["colo_name"]
    has_id = np.asarray(p.conn["connection_id"].is_valid().to_numpy(zero_copy_only=False))
    active, pending = active_flags(has_id, colo_codes >= 0, pending_values & ~pending_mask)
    n_pending = np.bincount(conn_groups, weights=pending, minlength=k).astype(np.int64)
    n_active = np.bincount(conn_groups, weights=active, minlength=k).astype(np.int64)
    ip_codes, ips = p.conn["origin_ip"]
    columns = _context(p, np.arange(k, dtype=np.int64))
    columns.update(_connector_columns(p, None))
    columns["n_connections"] = p.counts.copy()
    columns["n_active"] = n_active
    columns["n_pending"] = n_pending
    edges = _edge_strings(conn_groups, colo_codes, colos.to_pylist(), active, k)
    columns["edges"] = _text(edges)
    columns["origin_ips"] = _text(_distinct_strings(conn_groups, ip_codes, ips.to_pylist(), k))
    columns.update(_kind_columns(p, np.arange(k, dtype=np.int64)))
    return _frame(columns)


@renamed(data="source")
def tunnels_frame(source: FleetSource) -> pd.DataFrame:
    """One row per tunnel, with its connector and connection counts.

    Parameters
    ----------
    source : Snapshot, path, dict, list or pandas.DataFrame
        A Snapshot, a saved snapshot's path, or tunnel objects: a fleet ``{"tunnels": [...]}``,
        the ``result`` of GET ``…/cfd_tunnel`` or ``…/cfd_tunnel/{id}`` (bare or in their
        envelope), cloudflared's ``tunnel list -o json`` or ``tunnel info -o json`` (see the
        module docstring). Connector payloads are a SchemaError. From a connections frame the
        tunnels with connectors are rebuilt, with a :class:`~tunnelframe.PartialFleetWarning`
        (it lists no tunnel without connectors).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`TUNNELS_SCHEMA` in that order, one row per tunnel in payload
        order: ``account_id`` from ``account_tag``, ``tunnel_id``, ``tunnel_name``,
        ``tunnel_status`` from ``id``, ``name``, ``status``, the other tunnel fields under their
        own names (``created_at`` from ``createdAt`` for ``tunnel info``), ``n_connectors``
        and ``n_connections``: counted from the tunnel's connectors (in a fleet, none when
        absent) or its deprecated ``connections`` array (``n_connectors``: its distinct
        ``client_id``, NA when some connection has none); NA when the tunnel object carries
        neither, as today's API tunnel objects do. ``observed_at`` (when the tunnel's
        connectors were read) defaults to a snapshot's ``fetched_at``.

    Raises
    ------
    SchemaError, ApiError, TypeError
        As :func:`connections_frame`.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = {"tunnels": [
    ...     {"id": "t1", "name": "blog", "status": "healthy", "remote_config": True,
    ...      "connectors": [{"id": "c1", "conns": [{"id": "a"}, {"id": "b"}]}, {"id": "c2"}]},
    ...     {"id": "t2", "name": "old", "status": "inactive"}]}
    >>> tf.tunnels_frame(fleet)[["tunnel_name", "remote_config", "n_connectors", "n_connections"]]
      tunnel_name remote_config  n_connectors  n_connections
    0        blog          True             2              2
    1         old          <NA>             0              0

    ``cloudflared tunnel list -o json`` (its connections carry no ``client_id``):

    >>> listed = [{"id": "t1", "name": "web", "deleted_at": "0001-01-01T00:00:00Z",
    ...     "connections": [{"id": "a", "colo_name": "DFW"}, {"id": "b", "colo_name": "LAX"}]}]
    >>> tf.tunnels_frame(listed)[["tunnel_name", "deleted_at", "n_connectors", "n_connections"]]
      tunnel_name deleted_at  n_connectors  n_connections
    0         web        NaT          <NA>              2
    """
    if isinstance(source, pd.DataFrame):
        warnings.warn(
            "tunnels_frame of a connections frame lists only the tunnels with a connector; "
            "pass the Snapshot (or its path, or the fleet dict) to list every tunnel",
            PartialFleetWarning,
            stacklevel=3,
        )
        return tunnels_from_connections(_check_connections(source, "tunnels_frame"))
    payload, fetched_at = payload_of(source)
    p = _Payload(payload, tunnels=True)
    n = len(p.tunnels)
    if not n:
        return _frame(_empty_like(TUNNELS_SCHEMA))
    t = p.tunnel
    columns: dict[str, Any] = {name: _take_codes(t[name], None) for name in _CONTEXT_SCHEMA}
    columns["tun_type"] = _take_codes(t["tun_type"], None)
    for name in ("created_at", "deleted_at", "conns_active_at", "conns_inactive_at"):
        columns[name] = _take_times(t[name], None)
    columns["remote_config"] = _take_masked(t["remote_config"], None, "bool")
    columns["config_src"] = _take_codes(t["config_src"], None)
    metadata = np.empty(n, dtype=object)
    metadata[:] = t["metadata"]
    columns["metadata"] = metadata
    # NA where the payload does not say: a tunnel object without connectors, or connectors
    # read from the deprecated ``connections`` array without their ``client_id``.
    n_connectors = np.bincount(p.tunnel_of, minlength=n).astype(np.int64)
    n_connections = np.bincount(p.tunnel_of, weights=p.counts, minlength=n).astype(np.int64)
    known = p.tunnel_known
    columns["n_connectors"] = pd.arrays.IntegerArray(n_connectors, ~(known & p.tunnel_countable))
    columns["n_connections"] = pd.arrays.IntegerArray(n_connections, ~known)
    columns["observed_at"] = _take_times(t["observed_at"], None)
    frame = _frame(columns)
    if fetched_at is not None and frame["observed_at"].isna().any():
        frame["observed_at"] = frame["observed_at"].fillna(
            pd.Timestamp(fetched_at).tz_convert("UTC")
        )
    return frame
