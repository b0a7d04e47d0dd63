"""What each tunnel serves, as frames: published hostnames, private routes, tunnel CNAMEs.

They read a fleet's ``"routing"`` (what :func:`tunnelframe.fetch_routing` stores in a
snapshot: raw configurations, teamnet routes and DNS records) together with its tunnels. A
part that was not read gives no rows, and ``routing_read`` says which parts were; nothing here
fetches. A value of the wrong kind raises :class:`~tunnelframe.SchemaError` naming its JSON
path (``routing.routes[3].network``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pandas as pd
import pyarrow as pa

from tunnelframe._deprecate import renamed
from tunnelframe._errors import SchemaError
from tunnelframe._types import RoutedSource
from tunnelframe.frames._source import payload_of

__all__ = [
    "HOSTNAMES_SCHEMA",
    "ROUTES_SCHEMA",
    "TUNNEL_DNS_SCHEMA",
    "hostnames_frame",
    "routes_frame",
    "routing_read",
    "tunnel_dns_frame",
]

_TEXT = pd.ArrowDtype(pa.string())
_BOOL = pd.ArrowDtype(pa.bool_())
_TUNNEL_DOMAIN: Final = ".cfargotunnel.com"

#: Columns and dtypes of :func:`hostnames_frame`.
HOSTNAMES_SCHEMA: dict[str, str | pd.ArrowDtype] = {
    "account_id": _TEXT,
    "tunnel_id": _TEXT,
    "tunnel_name": _TEXT,
    "hostname": _TEXT,
    "path": _TEXT,
    "service": _TEXT,
    "source": _TEXT,
    "dns_points_here": _BOOL,
}
#: Columns and dtypes of :func:`routes_frame`.
ROUTES_SCHEMA: dict[str, str | pd.ArrowDtype] = {
    "account_id": _TEXT,
    "tunnel_id": _TEXT,
    "tunnel_name": _TEXT,
    "network": _TEXT,
    "virtual_network_id": _TEXT,
    "virtual_network_name": _TEXT,
    "tun_type": _TEXT,
    "route_id": _TEXT,
}
#: Columns and dtypes of :func:`tunnel_dns_frame`.
TUNNEL_DNS_SCHEMA: dict[str, str | pd.ArrowDtype] = {
    "zone_id": _TEXT,
    "zone_name": _TEXT,
    "hostname": _TEXT,
    "tunnel_id": _TEXT,
    "account_id": _TEXT,
    "tunnel_name": _TEXT,
    "tunnel_state": _TEXT,
    "record_id": _TEXT,
}


def _frame(rows: list[dict[str, Any]], schema: Mapping[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(schema))
    return frame.astype(dict(schema))


def _text(value: object, path: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise SchemaError(path, f"expected a string, got {type(value).__name__}")


def _items(value: object, path: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SchemaError(path, f"expected an array, got {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise SchemaError(f"{path}[{index}]", f"expected an object, got {type(item).__name__}")
    return value


def _routing(fleet: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(fleet, Mapping) or not isinstance(fleet.get("tunnels", []), list):
        raise TypeError(
            f"expected a fleet dict {{'tunnels': [...], 'routing': {{...}}}} or a Snapshot's "
            f"fleet, got {type(fleet).__name__}"
        )
    routing = fleet.get("routing")
    if routing is None:
        return {}
    if not isinstance(routing, Mapping):
        raise SchemaError("routing", f"expected an object, got {type(routing).__name__}")
    return routing


def _tunnels(fleet: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(t.get("id")): t for t in fleet.get("tunnels", []) if isinstance(t, Mapping)}


def routing_read(fleet: Mapping[str, Any]) -> tuple[str, ...]:
    """The routing parts a fleet holds completely (``configurations``, ``routes``, ``dns``).

    Examples
    --------
    >>> routing_read({"tunnels": [], "routing": {"read": ["routes"]}}), routing_read({})
    (('routes',), ())
    """
    read = _routing(fleet).get("read") or []
    return tuple(str(part) for part in read)


def _cname_target(record: Mapping[str, Any]) -> str | None:
    content = record.get("content")
    if record.get("type") != "CNAME" or not isinstance(content, str):
        return None
    content = content.rstrip(".").lower()
    if not content.endswith(_TUNNEL_DOMAIN):
        return None
    return content[: -len(_TUNNEL_DOMAIN)]


def _records(fleet: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any], str]]:
    """(target tunnel id, record, hostname) of every CNAME to a tunnel."""
    out = []
    path = "routing.dns_records"
    for index, record in enumerate(_items(_routing(fleet).get("dns_records"), path)):
        name = _text(record.get("name"), f"{path}[{index}].name")
        _text(record.get("content"), f"{path}[{index}].content")
        target = _cname_target(record)
        if target is not None and name:
            out.append((target, record, name.lower()))
    return out


@renamed(fleet="source")
def hostnames_frame(source: RoutedSource) -> pd.DataFrame:
    """One row per published hostname of the fleet's tunnels.

    A remotely managed tunnel's hostnames are its ingress rules (``source``
    ``"configuration"``; the catch-all rule without a hostname is none); a hostname whose DNS
    CNAME points at a tunnel but that no configuration lists (a locally managed tunnel's) is a
    row with ``source`` ``"dns"``. ``dns_points_here`` says whether a CNAME to
    ``<this tunnel's id>.cfargotunnel.com`` exists for it; NA when DNS was not read.

    Parameters
    ----------
    source : Snapshot, path or dict
        A Snapshot (with ``routing``, from :func:`tunnelframe.fetch_routing`), a saved
        snapshot's path, or a fleet dict ``{"tunnels": [...], "routing": {...}}``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`HOSTNAMES_SCHEMA`, sorted by tunnel name, hostname and path.

    Examples
    --------
    >>> fleet = {"tunnels": [{"id": "t1", "name": "web", "account_tag": "a"}], "routing": {
    ...     "read": ["configurations", "dns"],
    ...     "configurations": {"t1": {"config": {"ingress": [
    ...         {"hostname": "shop.example.com", "service": "http://localhost:80"},
    ...         {"service": "http_status:404"}]}}},
    ...     "dns_records": [{"name": "shop.example.com", "type": "CNAME",
    ...                      "content": "t1.cfargotunnel.com"}]}}
    >>> hostnames_frame(fleet)[["tunnel_name", "hostname", "service", "dns_points_here"]]
      tunnel_name          hostname              service dns_points_here
    0         web  shop.example.com  http://localhost:80            True
    """
    fleet = payload_of(source)[0]
    routing = _routing(fleet)
    tunnels = _tunnels(fleet)
    dns_read = "dns" in routing_read(fleet)
    pointing = {(target, name) for target, _, name in _records(fleet)}
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    configurations = routing.get("configurations") or {}
    if not isinstance(configurations, Mapping):
        raise SchemaError("routing.configurations", "expected an object of tunnel id: result")
    for tid, result in configurations.items():
        path = f"routing.configurations.{tid}"
        if not isinstance(result, Mapping):
            raise SchemaError(path, f"expected an object, got {type(result).__name__}")
        config = result.get("config") or {}
        if not isinstance(config, Mapping):
            raise SchemaError(f"{path}.config", f"expected an object, got {type(config).__name__}")
        tunnel = tunnels.get(str(tid), {})
        for index, rule in enumerate(_items(config.get("ingress"), f"{path}.config.ingress")):
            where = f"{path}.config.ingress[{index}]"
            hostname = _text(rule.get("hostname"), f"{where}.hostname")
            if not hostname:
                continue  # the catch-all rule
            host = hostname.lower()
            seen.add((str(tid), host))
            rows.append(
                {
                    "account_id": tunnel.get("account_tag") or result.get("account_id"),
                    "tunnel_id": str(tid),
                    "tunnel_name": tunnel.get("name"),
                    "hostname": host,
                    "path": _text(rule.get("path"), f"{where}.path") or None,
                    "service": _text(rule.get("service"), f"{where}.service"),
                    "source": "configuration",
                    "dns_points_here": ((str(tid), host) in pointing) if dns_read else None,
                }
            )
    for target, _, name in _records(fleet):
        found = tunnels.get(target)
        if found is None or found.get("deleted_at") or (target, name) in seen:
            continue
        tunnel = found
        seen.add((target, name))
        rows.append(
            {
                "account_id": tunnel.get("account_tag"),
                "tunnel_id": target,
                "tunnel_name": tunnel.get("name"),
                "hostname": name,
                "path": None,
                "service": None,
                "source": "dns",
                "dns_points_here": True,
            }
        )
    frame = _frame(rows, HOSTNAMES_SCHEMA)
    return _sorted(frame, ["tunnel_name", "tunnel_id", "hostname", "path"])


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    keys = pd.DataFrame({k: frame[k].astype(object).fillna("").astype(str) for k in by})
    return frame.loc[keys.sort_values(by, kind="stable").index].reset_index(drop=True)


@renamed(fleet="source")
def routes_frame(source: RoutedSource) -> pd.DataFrame:
    """One row per private network route (deleted routes, if the fleet holds any, left out).

    Examples
    --------
    >>> fleet = {"tunnels": [{"id": "t1", "name": "dc", "account_tag": "a"}], "routing": {
    ...     "routes": [{"id": "r1", "network": "10.20.0.0/16", "tunnel_id": "t1",
    ...                 "virtual_network_name": "default"}]}}
    >>> routes_frame(fleet)[["tunnel_name", "network", "virtual_network_name"]]
      tunnel_name       network virtual_network_name
    0          dc  10.20.0.0/16              default
    """
    fleet = payload_of(source)[0]
    tunnels = _tunnels(fleet)
    rows = []
    path = "routing.routes"
    for index, route in enumerate(_items(_routing(fleet).get("routes"), path)):
        if route.get("deleted_at"):
            continue
        where = f"{path}[{index}]"
        values = {
            key: _text(route.get(key), f"{where}.{key}")
            for key in (
                "tunnel_id",
                "tunnel_name",
                "network",
                "virtual_network_id",
                "virtual_network_name",
                "tun_type",
                "id",
            )
        }
        tunnel = tunnels.get(str(values["tunnel_id"]), {})
        rows.append(
            {
                "account_id": tunnel.get("account_tag"),
                "tunnel_id": values["tunnel_id"],
                "tunnel_name": tunnel.get("name") or values["tunnel_name"],
                "network": values["network"],
                "virtual_network_id": values["virtual_network_id"],
                "virtual_network_name": values["virtual_network_name"],
                "tun_type": values["tun_type"],
                "route_id": values["id"],
            }
        )
    return _sorted(_frame(rows, ROUTES_SCHEMA), ["tunnel_name", "tunnel_id", "network"])


@renamed(fleet="source")
def tunnel_dns_frame(source: RoutedSource) -> pd.DataFrame:
    """One row per DNS CNAME to a tunnel (``<tunnel-id>.cfargotunnel.com``).

    ``tunnel_state`` is ``"live"`` (a tunnel of the fleet), ``"deleted"`` (a deleted tunnel
    of the fleet) or ``"unknown"`` (no tunnel of the fleet: deleted long ago, or another
    account's); ``account_id`` and ``tunnel_name`` are NA for the last.

    Examples
    --------
    >>> fleet = {"tunnels": [{"id": "t1", "name": "web"}], "routing": {"dns_records": [
    ...     {"name": "a.example.com", "type": "CNAME", "content": "t1.cfargotunnel.com"},
    ...     {"name": "b.example.com", "type": "CNAME", "content": "t9.cfargotunnel.com"}]}}
    >>> tunnel_dns_frame(fleet)[["hostname", "tunnel_id", "tunnel_state"]]
            hostname tunnel_id tunnel_state
    0  a.example.com        t1         live
    1  b.example.com        t9      unknown
    """
    fleet = payload_of(source)[0]
    tunnels = _tunnels(fleet)
    rows = []
    for target, record, name in _records(fleet):
        tunnel = tunnels.get(target)
        state = "unknown" if tunnel is None else "deleted" if tunnel.get("deleted_at") else "live"
        rows.append(
            {
                "zone_id": record.get("zone_id"),
                "zone_name": record.get("zone_name"),
                "hostname": name,
                "tunnel_id": target,
                "account_id": None if tunnel is None else tunnel.get("account_tag"),
                "tunnel_name": None if tunnel is None else tunnel.get("name"),
                "tunnel_state": state,
                "record_id": record.get("id"),
            }
        )
    return _sorted(_frame(rows, TUNNEL_DNS_SCHEMA), ["hostname", "tunnel_id"])
