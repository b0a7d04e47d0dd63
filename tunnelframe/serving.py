"""Where tunnels run and what they serve: origin hosts, single-origin tunnels, impact.

:func:`origin_hosts` groups the connectors by the origin (public IP and architecture) they
reach Cloudflare from, so a host carrying many tunnels shows as the shared point of failure
it is; :func:`single_origin` finds tunnels whose every active connection comes from one
origin IP (their replicas fail together). Both need nothing beyond the connections frame.
:func:`tunnel_impact` says what each tunnel serves (published hostnames and private routes,
read by :func:`tunnelframe.fetch_routing`): what breaks when it is down. Analysis only:
nothing here fetches or draws.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd
import pyarrow as pa

from tunnelframe._deprecate import renamed
from tunnelframe._types import FleetSource, RoutedSource
from tunnelframe.frames import hostnames_frame, routes_frame, routing_read
from tunnelframe.snapshot import Snapshot, as_connections, load_snapshot

__all__ = [
    "IMPACT_COLUMNS",
    "ORIGIN_HOSTS_COLUMNS",
    "SINGLE_ORIGIN_COLUMNS",
    "origin_hosts",
    "single_origin",
    "tunnel_impact",
]

_TEXT = pd.ArrowDtype(pa.string())
_SHOWN: Final = 3  # hostnames or routes named in an impact text before "+N more"

#: Columns of :func:`origin_hosts`.
ORIGIN_HOSTS_COLUMNS = (
    "origin_ip",
    "arch",
    "n_tunnels",
    "n_connectors",
    "n_active",
    "tunnels",
    "shared",
)
#: Columns of :func:`single_origin`.
SINGLE_ORIGIN_COLUMNS = (
    "account_id",
    "tunnel_id",
    "tunnel_name",
    "origin_ip",
    "n_active_connectors",
    "n_active",
    "severity",
    "reason",
)
#: Columns of :func:`tunnel_impact`.
IMPACT_COLUMNS = (
    "account_id",
    "tunnel_id",
    "tunnel_name",
    "n_hostnames",
    "n_routes",
    "impact",
    "hostnames",
    "routes",
    "serves",
)


def _active(source: FleetSource) -> pd.DataFrame:
    frame = as_connections(source)
    if not isinstance(frame, pd.DataFrame) or "origin_ip" not in frame.columns:
        raise TypeError(
            "expected a connections frame (tf.connections_frame), a Snapshot, a snapshot path "
            f"or a fleet dict, got {type(frame).__name__}"
        )
    pending = frame["is_pending_reconnect"].astype("boolean").fillna(False).to_numpy(bool)
    return frame.loc[~pending & frame["origin_ip"].notna().to_numpy(bool)]


def _cloudflared(frame: pd.DataFrame) -> pd.DataFrame:
    """cloudflared's connections: WARP Connector runs active/passive pairs (see pair-ha)."""
    kind = frame["tun_type"].astype(object).fillna("cfd_tunnel")
    return frame.loc[(kind == "cfd_tunnel").to_numpy(bool)]


def _str(column: pd.Series) -> Any:
    """Text of a column, "" for NA (so that a missing account id still groups)."""
    return column.astype(object).where(column.notna(), "").astype(str).to_numpy()


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted({str(v) for v in values if v is not None and not pd.isna(v)}))


@renamed(frame="source")
def origin_hosts(source: FleetSource, *, shared_at: int = 2) -> pd.DataFrame:
    """One row per origin (origin IP and architecture) with the tunnels it carries.

    The origin IP is the public address a connector reaches Cloudflare from: one machine, or
    several behind one NAT (one site). Either way its tunnels share its fate. Only active
    connections count (a connection pending reconnect is from a process that is gone).

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        The fleet: a Snapshot, a saved snapshot's path, a fleet dict or a connections frame.
    shared_at : int
        A host carrying at least this many tunnels is ``shared`` (a shared point of failure).

    Returns
    -------
    pandas.DataFrame
        :data:`ORIGIN_HOSTS_COLUMNS`: ``n_tunnels``, ``n_connectors`` and ``n_active``
        (active connections) per origin, ``tunnels`` (their names, sorted, joined) and
        ``shared``; the hosts carrying most tunnels first.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> conn = lambda cid, ip: {"id": cid + "x", "origin_ip": ip, "colo_name": "ord02"}
    >>> fleet = {"tunnels": [
    ...     {"id": "t1", "name": "web", "connectors": [
    ...         {"id": "c1", "arch": "linux_amd64", "conns": [conn("c1", "198.51.100.7")]}]},
    ...     {"id": "t2", "name": "api", "connectors": [
    ...         {"id": "c2", "arch": "linux_amd64", "conns": [conn("c2", "198.51.100.7")]}]}]}
    >>> origin_hosts(fleet)[["origin_ip", "n_tunnels", "tunnels", "shared"]]
          origin_ip  n_tunnels   tunnels  shared
    0  198.51.100.7          2  api, web    True
    """
    if isinstance(shared_at, bool) or not isinstance(shared_at, int) or shared_at < 1:
        raise ValueError(f"shared_at must be a whole number of 1 or more, not {shared_at!r}")
    active = _active(source)
    if active.empty:
        empty = pd.DataFrame(columns=list(ORIGIN_HOSTS_COLUMNS))
        return empty.astype(
            {
                "origin_ip": _TEXT,
                "arch": _TEXT,
                "n_tunnels": "int64",
                "n_connectors": "int64",
                "n_active": "int64",
                "tunnels": _TEXT,
                "shared": bool,
            }
        )
    data = pd.DataFrame(
        {
            "origin_ip": _str(active["origin_ip"]),
            "arch": _str(active["arch"]),
            "tunnel": pd.Series(_str(active["account_id"])) + "/" + _str(active["tunnel_id"]),
            "connector": _str(active["connector_id"]),
            "name": active["tunnel_name"]
            .astype(object)
            .fillna(active["tunnel_id"].astype(object))
            .astype(str)
            .to_numpy(),
        }
    )
    grouped = data.groupby(["origin_ip", "arch"], sort=True)
    out = grouped.agg(
        n_tunnels=("tunnel", "nunique"),
        n_connectors=("connector", "nunique"),
        n_active=("tunnel", "size"),
        tunnels=("name", _joined),
    ).reset_index()
    out["shared"] = out["n_tunnels"] >= shared_at
    out = out.sort_values(
        ["n_tunnels", "n_connectors", "origin_ip"], ascending=[False, False, True]
    )
    out = out.astype({"origin_ip": _TEXT, "arch": _TEXT, "tunnels": _TEXT})
    out["arch"] = out["arch"].replace("", pd.NA)
    return out[list(ORIGIN_HOSTS_COLUMNS)].reset_index(drop=True)


@renamed(frame="source")
def single_origin(source: FleetSource) -> pd.DataFrame:
    """Tunnels whose every active connection comes from one origin IP.

    Their replicas sit behind one NAT or on one site (or are one machine) and fail together,
    as in cloudflared#1354 (WARP Connector tunnels, active/passive pairs, are left to
    ``pair_ha_report``). ``severity`` is ``"warn"`` for a tunnel with several active
    connectors (replicas that look redundant and are not) and ``"info"`` for a single-connector
    tunnel (already flagged by ``single-connector``).

    Returns
    -------
    pandas.DataFrame
        :data:`SINGLE_ORIGIN_COLUMNS`, sorted by tunnel name and id.

    Examples
    --------
    >>> conn = lambda cid, i: {"id": f"{cid}{i}", "origin_ip": "203.0.113.9", "colo_name": "ord02"}
    >>> fleet = {"tunnels": [{"id": "t1", "name": "web", "connectors": [
    ...     {"id": "c1", "conns": [conn("c1", i) for i in range(4)]},
    ...     {"id": "c2", "conns": [conn("c2", i) for i in range(4)]}]}]}
    >>> single_origin(fleet)[["tunnel_name", "origin_ip", "n_active_connectors", "severity"]]
      tunnel_name    origin_ip  n_active_connectors severity
    0         web  203.0.113.9                    2     warn
    """
    active = _cloudflared(_active(source))
    rows: list[dict[str, Any]] = []
    keys = ["account_id", "tunnel_id"]
    if not active.empty:
        data = pd.DataFrame(
            {
                "account_id": _str(active["account_id"]),
                "tunnel_id": _str(active["tunnel_id"]),
                "tunnel_name": active["tunnel_name"].astype(object).to_numpy(),
                "origin_ip": _str(active["origin_ip"]),
                "connector_id": _str(active["connector_id"]),
            }
        )
        # one aggregation for every tunnel (a pandas group per tunnel took seconds at 3,000)
        grouped = data.groupby(keys, sort=False)
        per_tunnel = grouped.agg(
            n_ips=("origin_ip", "nunique"),
            n_connectors=("connector_id", "nunique"),
            n_active=("origin_ip", "size"),
        ).join(data.drop_duplicates(keys).set_index(keys)[["tunnel_name", "origin_ip"]])
        one_ip = per_tunnel[per_tunnel["n_ips"] == 1]
        for (account, tunnel), name, ip, n_connectors, n_active in zip(
            one_ip.index,
            one_ip["tunnel_name"],
            one_ip["origin_ip"],
            one_ip["n_connectors"],
            one_ip["n_active"],
            strict=True,
        ):
            several = n_connectors > 1
            rows.append(
                {
                    "account_id": account or None,
                    "tunnel_id": tunnel,
                    "tunnel_name": name,
                    "origin_ip": ip,
                    "n_active_connectors": int(n_connectors),
                    "n_active": int(n_active),
                    "severity": "warn" if several else "info",
                    "reason": (
                        f"all {n_connectors} active connectors reach Cloudflare from "
                        f"{ip}: one host, NAT or site; they fail together"
                        if several
                        else f"its one active connector reaches Cloudflare from {ip}"
                    ),
                }
            )
    out = pd.DataFrame(rows, columns=list(SINGLE_ORIGIN_COLUMNS)).astype(
        {"n_active_connectors": "int64", "n_active": "int64"}
    )
    name = out["tunnel_name"].astype(object).fillna("").astype(str).str.casefold()
    order = pd.DataFrame({"n": name, "t": out["tunnel_id"]}).sort_values(["n", "t"]).index
    return out.loc[order].reset_index(drop=True)


def _fleet(source: object) -> Mapping[str, Any]:
    if isinstance(source, str | os.PathLike):
        source = load_snapshot(source)
    if isinstance(source, Snapshot):
        return source.fleet
    if isinstance(source, Mapping) and "tunnels" in source:
        return source
    raise TypeError(
        f"expected a Snapshot or a fleet dict {{'tunnels': [...], 'routing': {{...}}}}, got "
        f"{type(source).__name__}"
    )


def _listed(items: list[str], noun: str) -> str:
    if not items:
        return ""
    shown = ", ".join(items[:_SHOWN])
    more = f" (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
    plural = noun if len(items) == 1 else noun + "s"
    return f"{len(items)} {plural}: {shown}{more}"


def tunnel_impact(source: RoutedSource) -> pd.DataFrame:
    """What each tunnel serves: its published hostnames and private routes.

    ``impact`` counts them (the fix-first list ranks tunnel problems by it after severity);
    ``serves`` says it in words, or why it is unknown: routing not read, or a locally managed
    tunnel whose hostnames live in cloudflared's own config file (only those with a DNS CNAME
    to the tunnel are known).

    Parameters
    ----------
    source : Snapshot, path or dict
        A Snapshot (with ``routing``, from :func:`tunnelframe.fetch_routing`), a saved
        snapshot's path, or a fleet dict ``{"tunnels": [...], "routing": {...}}``.

    Returns
    -------
    pandas.DataFrame
        :data:`IMPACT_COLUMNS`, one row per tunnel of the fleet, in fleet order.

    Examples
    --------
    >>> fleet = {"tunnels": [{"id": "t1", "name": "shop", "config_src": "cloudflare"}],
    ...     "routing": {"read": ["configurations", "routes", "dns"],
    ...                 "configurations": {"t1": {"config": {"ingress": [
    ...                     {"hostname": "shop.example.com", "service": "http://web:80"}]}}},
    ...                 "routes": [{"network": "10.20.0.0/16", "tunnel_id": "t1"}]}}
    >>> row = tunnel_impact(fleet).iloc[0]
    >>> row["tunnel_name"], int(row["impact"]), row["serves"]
    ('shop', 2, '1 hostname: shop.example.com; 1 route: 10.20.0.0/16')
    """
    fleet = _fleet(source)
    read = routing_read(fleet)
    hosts = hostnames_frame(fleet)
    routes = routes_frame(fleet)
    host_of: dict[str, list[str]] = {}
    for tid, host in zip(hosts["tunnel_id"], hosts["hostname"], strict=True):
        seen = host_of.setdefault(str(tid), [])  # a hostname with several paths counts once
        if str(host) not in seen:
            seen.append(str(host))
    route_of: dict[str, list[str]] = {}
    for tid, network, vnet in zip(
        routes["tunnel_id"], routes["network"], routes["virtual_network_name"], strict=True
    ):
        shown = str(network)
        if vnet is not None and not pd.isna(vnet) and vnet != "default":
            shown += f" ({vnet})"
        route_of.setdefault(str(tid), []).append(shown)
    rows = []
    for tunnel in fleet.get("tunnels", []):
        tid = str(tunnel.get("id"))
        h, r = host_of.get(tid, []), route_of.get(tid, [])
        parts = [p for p in (_listed(h, "hostname"), _listed(r, "route")) if p]
        if parts:
            serves = "; ".join(parts)
        elif not read:
            serves = "unknown: routing not read (tunnelframe fetch --routing)"
        elif tunnel.get("config_src") == "local" and "dns" in read:
            serves = "no route; locally managed: hostnames in its config.yml, none in DNS"
        elif tunnel.get("config_src") == "local":
            serves = "unknown: locally managed (hostnames in its config.yml) and DNS not read"
        else:
            serves = "nothing: no hostname, no route"
        rows.append(
            {
                "account_id": tunnel.get("account_tag"),
                "tunnel_id": tid,
                "tunnel_name": tunnel.get("name"),
                "n_hostnames": len(h),
                "n_routes": len(r),
                "impact": len(h) + len(r),
                "hostnames": ", ".join(h),
                "routes": ", ".join(r),
                "serves": serves,
            }
        )
    out = pd.DataFrame(rows, columns=list(IMPACT_COLUMNS))
    return out.astype(
        {
            "account_id": _TEXT,
            "tunnel_id": _TEXT,
            "tunnel_name": _TEXT,
            "n_hostnames": "int64",
            "n_routes": "int64",
            "impact": "int64",
            "hostnames": _TEXT,
            "routes": _TEXT,
            "serves": _TEXT,
        }
    )
