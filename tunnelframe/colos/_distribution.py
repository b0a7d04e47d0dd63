"""Connections per colo site (fleet-wide or per account, tunnel, connector; rolled up by metro,
country or region) and cloudflared's edge strings. Never modifies its input frame.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from tunnelframe._checks import _check_frame, _codes
from tunnelframe._deprecate import renamed
from tunnelframe._types import FleetSource
from tunnelframe.colos._core import (
    _CONNECTOR_KEYS,
    _TUNNEL_KEYS,
    _groups,
    _pair_counts,
    _sorted_category,
    _split,
    _take,
)
from tunnelframe.colos._info import _colo_info
from tunnelframe.frames import connection_flags, edge_strings
from tunnelframe.snapshot import as_connections

__all__ = ["colo_distribution", "format_edges"]

_BY_KEYS: dict[str | None, tuple[str, ...]] = {
    None: (),
    "site": (),
    "account": ("account_id",),
    "tunnel": _TUNNEL_KEYS,
    "connector": _CONNECTOR_KEYS,
    "metro": (),
    "country": (),
    "region": (),
}
_ROLLUPS = ("metro", "country", "region")


@renamed(frame="source")
def colo_distribution(
    source: FleetSource,
    *,
    by: Literal["site", "account", "tunnel", "connector", "metro", "country", "region"]
    | None = None,
    active_only: bool = True,
) -> pd.DataFrame:
    """Count connections per Cloudflare colo site, or roll them up by metro, country, region.

    A colo code (``colo_name``) names a *site* (``ord12``); its *metro* is the upper-case IATA
    code (``ORD``), shared by all the sites of a city (see :func:`colo_info`).

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`.
    by : {None, "site", "account", "tunnel", "connector", "metro", "country", "region"}
        ``None`` or ``"site"`` count per site over the whole frame. ``"account"``,
        ``"tunnel"`` and ``"connector"`` count per site within each of those, in order of
        first appearance in ``frame``. ``"metro"``, ``"country"`` and ``"region"`` roll sites
        up into their metro, country or region (country and region: see :func:`colo_info`;
        sites of unknown metros form an NA group and warn).
    active_only : bool, default True
        Count only active connections; ``False`` counts pending reconnects too. Idle connectors
        (no connection) never count.

    Returns
    -------
    pandas.DataFrame
        For ``by`` None/site/account/tunnel/connector: the key columns (``account_id``,
        ``tunnel_id``, ``tunnel_name``, ``connector_id`` as relevant), ``colo_name``
        (category, the site), ``connections`` (int64) and ``share`` (float64: the site's
        fraction of the group's counted connections, so shares sum to 1 per group); sites by
        descending ``connections``, then name. For ``by`` metro/country/region: ``metro``,
        ``country`` or ``region`` (category), ``connections``, ``share`` (of the whole frame),
        ``n_sites`` (int64: sites with a counted connection) and, for country and region,
        ``n_metros`` (int64); by descending ``connections``, then name.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> dist = tf.colo_distribution(conns)
    >>> list(dist.columns)
    ['colo_name', 'connections', 'share']
    >>> round(float(dist["share"].sum()), 6)
    1.0
    >>> metros = tf.colo_distribution(conns, by="metro")
    >>> list(metros.columns)
    ['metro', 'connections', 'share', 'n_sites']
    >>> int(metros["connections"].sum()) == int(dist["connections"].sum())
    True
    """
    if by not in _BY_KEYS:
        raise ValueError(
            f"colo_distribution: by={by!r} is not one of None, 'site', 'account', 'tunnel', "
            "'connector', 'metro', 'country', 'region'"
        )
    keys = _BY_KEYS[by]
    frame = _check_frame(
        as_connections(source),
        "colo_distribution",
        columns=(*keys, "colo_name", "is_pending_reconnect"),
    )
    active, pending = connection_flags(frame)
    counted = active | pending if not active_only else active
    counted = counted & frame["colo_name"].notna().to_numpy()
    rows = frame[[*keys, "colo_name"]].iloc[np.flatnonzero(counted)]
    if by in _ROLLUPS:
        return _rollup(rows, by)
    groups = _groups(rows, keys)
    colo_codes, colo_labels = _codes(rows["colo_name"])
    pair_group, pair_colo, counts = _pair_counts(groups.codes, colo_codes, len(colo_labels))
    totals = np.bincount(pair_group, weights=counts, minlength=groups.n)
    # Within each group: most connections first, then colo name.
    names = colo_labels.astype(str).to_numpy()[pair_colo] if len(pair_colo) else np.array([])
    order = np.lexsort((names, -counts, pair_group))
    pair_group, pair_colo, counts = pair_group[order], pair_colo[order], counts[order]
    out = _take(rows, keys, groups.first[pair_group])
    colo_column = pd.Series(pd.Categorical.from_codes(pair_colo, categories=colo_labels))
    out["colo_name"] = _sorted_category(colo_column)
    out["connections"] = counts.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = counts / totals[pair_group]
    return pd.DataFrame(out)


def _rollup(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    sites = rows["colo_name"].astype("category").cat.remove_unused_categories()
    names = sites.cat.categories.astype(str)
    per_site = np.bincount(sites.cat.codes.to_numpy(), minlength=len(names))
    metros = [_split(name)[0] for name in names]
    if by == "metro":
        key: pd.Series = pd.Series(pd.Categorical(metros, categories=sorted(set(metros))))
    else:
        info = _colo_info(names, stacklevel=6)
        key = pd.Series(info[by].reindex(names).to_numpy()).astype(info[by].dtype)
    table = pd.DataFrame({by: key, "connections": per_site, "n_sites": 1, "metro": metros})[
        per_site > 0
    ]
    grouped = table.groupby(by, observed=True, dropna=False, sort=False)
    out = grouped.agg(
        connections=("connections", "sum"),
        n_sites=("n_sites", "sum"),
        n_metros=("metro", "nunique"),
    ).reset_index()
    if by == "metro":
        out = out.drop(columns="n_metros")
    out = out.sort_values(["connections", by], ascending=[False, True], ignore_index=True)
    total = int(out["connections"].sum())
    keys = out[by].astype(key.dtype)
    result = {
        by: keys.cat.remove_unused_categories() if by != "region" else keys,
        "connections": out["connections"].astype(np.int64),
        "share": (out["connections"] / total if total else out["connections"] * 0.0).astype(
            np.float64
        ),
        "n_sites": out["n_sites"].astype(np.int64),
    }
    if by != "metro":
        result["n_metros"] = out["n_metros"].astype(np.int64)
    return pd.DataFrame(result)


@renamed(frame="source")
def format_edges(source: FleetSource) -> pd.DataFrame:
    """Give every connector the edge string cloudflared prints: ``1xord02, 1xord06, 2xord12``.

    As in ``cloudflared tunnel list`` and ``tunnel info``: active connections per colo site as
    ``<count>x<site>``, sites verbatim and sorted by name, joined by ``", "``; pending
    reconnects are left out, so a connector without an active connection gets ``""``.

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`.

    Returns
    -------
    pandas.DataFrame
        One row per connector, in order of first appearance: ``account_id``, ``tunnel_id``,
        ``tunnel_name``, ``connector_id`` and ``edges`` (str).

    Examples
    --------
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> edges = tf.format_edges(conns)
    >>> list(edges.columns)
    ['account_id', 'tunnel_id', 'tunnel_name', 'connector_id', 'edges']
    """
    frame = _check_frame(
        as_connections(source),
        "format_edges",
        columns=(*_CONNECTOR_KEYS, "colo_name", "is_pending_reconnect"),
    )
    rows = np.flatnonzero(frame["connector_id"].notna().to_numpy())
    sub = frame[[*_CONNECTOR_KEYS, "colo_name", "is_pending_reconnect"]].iloc[rows]
    sub = sub.reset_index(drop=True)
    groups = _groups(sub, ("account_id", "tunnel_id", "connector_id"))
    # edge_strings groups by columns; one integer per connector keeps first-appearance order.
    keyed = pd.DataFrame(
        {
            "connector": groups.codes,
            "colo_name": sub["colo_name"],
            "is_pending_reconnect": sub["is_pending_reconnect"],
        }
    )
    out = _take(sub, _CONNECTOR_KEYS, groups.first)
    out["edges"] = edge_strings(keyed, by="connector").reset_index(drop=True)
    return pd.DataFrame(out)
