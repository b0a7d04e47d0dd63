"""The tunnel-list filters of the Cloudflare API, declared once for client, fetch and simulator.

``GET /accounts/{account_id}/cfd_tunnel`` (and ``/tunnels``) take nine filters. Their names
and types are :class:`TunnelFilters` (what :meth:`tunnelframe.Client.list_tunnels` and, but
``is_deleted``, :func:`tunnelframe.fetch_fleet` accept as keywords); :data:`TUNNEL_FILTERS`
says how each is sent and how the API applies it to a tunnel, which the simulator serves.
A new filter is one field and one entry here. This module knows no HTTP and no pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypedDict

from tunnelframe._protocol import query_value

__all__ = [
    "TUNNEL_FILTERS",
    "TUNNEL_STATUSES",
    "FleetFilters",
    "ListFilter",
    "TunnelFilters",
    "matches",
    "parse_query",
    "query_params",
]

#: The tunnel statuses the API knows, as its documentation lists them.
TUNNEL_STATUSES = ("inactive", "degraded", "healthy", "down")


class FleetFilters(TypedDict, total=False):
    """The list filters :func:`tunnelframe.fetch_fleet` passes on (it says ``include_deleted``).

    ``name``, ``uuid``: exact name, exact tunnel id; ``include_prefix``, ``exclude_prefix``: name
    prefix to keep, to drop; ``existed_at``, ``was_active_at``, ``was_inactive_at``: tunnels
    that existed / were active / were inactive at that time (aware datetime or RFC 3339
    string); ``status``: one of :data:`TUNNEL_STATUSES`. None means "not filtered".
    """

    name: str | None
    existed_at: datetime | str | None
    uuid: str | None
    was_active_at: datetime | str | None
    was_inactive_at: datetime | str | None
    include_prefix: str | None
    exclude_prefix: str | None
    status: str | None


class TunnelFilters(FleetFilters, total=False):
    """Every list filter: those of :class:`FleetFilters` and ``is_deleted`` (``True`` only
    deleted tunnels, ``False`` none; None, the API's default, both)."""

    is_deleted: bool | None


FilterKind = Literal["text", "bool", "time", "status"]


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _name(tunnel: Mapping[str, Any]) -> str:
    return str(tunnel.get("name", ""))


def active_at(tunnel: Mapping[str, Any], when: datetime) -> bool:
    """Was the tunnel connected at ``when``, judged from its last state changes."""
    active = _parse_time(tunnel.get("conns_active_at"))
    inactive = _parse_time(tunnel.get("conns_inactive_at"))
    if active is None or active > when:
        return False
    return inactive is None or inactive > when or inactive < active


def existed_at(tunnel: Mapping[str, Any], when: datetime) -> bool:
    """Did the tunnel exist at ``when`` (created by then, not deleted yet)."""
    created = _parse_time(tunnel.get("created_at"))
    deleted = _parse_time(tunnel.get("deleted_at"))
    return (created is None or created <= when) and (deleted is None or deleted > when)


@dataclass(frozen=True)
class ListFilter:
    """One list filter: its query parameter, the kind of its value, and how it selects."""

    name: str
    kind: FilterKind
    #: ``matches(tunnel, value)``: does the API keep ``tunnel`` under this filter's value
    matches: Callable[[Mapping[str, Any], Any], bool]


#: The nine list filters, in the order they are sent.
TUNNEL_FILTERS: tuple[ListFilter, ...] = (
    ListFilter("name", "text", lambda t, v: _name(t) == v),
    ListFilter("is_deleted", "bool", lambda t, v: bool(t.get("deleted_at")) == v),
    ListFilter("existed_at", "time", existed_at),
    ListFilter("uuid", "text", lambda t, v: t.get("id") == v),
    ListFilter("was_active_at", "time", active_at),
    ListFilter("was_inactive_at", "time", lambda t, w: existed_at(t, w) and not active_at(t, w)),
    ListFilter("include_prefix", "text", lambda t, v: _name(t).startswith(v)),
    ListFilter("exclude_prefix", "text", lambda t, v: not _name(t).startswith(v)),
    ListFilter("status", "status", lambda t, v: t.get("status") == v),
)


def query_params(filters: Mapping[str, object], *, caller: str) -> dict[str, str]:
    """The query parameters of the filters given (None values are left out).

    Raises
    ------
    TypeError
        A name that is no list filter (worded as Python words an unexpected keyword).
    ValueError
        A status the API does not know, or a naive datetime.

    Examples
    --------
    >>> query_params({"status": "down", "name": None}, caller="list_tunnels")
    {'status': 'down'}
    """
    known = {f.name for f in TUNNEL_FILTERS}
    for key in filters:
        if key not in known:
            raise TypeError(f"{caller}() got an unexpected keyword argument {key!r}")
    params: dict[str, str] = {}
    for one in TUNNEL_FILTERS:
        value = filters.get(one.name)
        if value is None:
            continue
        if one.kind == "status" and value not in TUNNEL_STATUSES:
            raise ValueError(
                f"{one.name} must be one of {', '.join(TUNNEL_STATUSES)}, got {value!r}"
            )
        params[one.name] = query_value(one.name, value)
    return params


def parse_query(query: Mapping[str, str]) -> dict[str, Any]:
    """The filters of a list request, parsed as the API reads them (the simulator's side).

    Raises
    ------
    ValueError
        A value the API would answer 400 to: a boolean not ``true``/``false``, an unknown
        status, a time that is no RFC 3339 date-time.
    """
    parsed: dict[str, Any] = {}
    for one in TUNNEL_FILTERS:
        raw = query.get(one.name)
        if raw is None:
            continue
        if one.kind == "bool":
            if raw not in ("true", "false"):
                raise ValueError(f"{one.name} must be true or false, got {raw!r}")
            parsed[one.name] = raw == "true"
        elif one.kind == "status":
            if raw not in TUNNEL_STATUSES:
                raise ValueError(f"{one.name} must be one of {', '.join(sorted(TUNNEL_STATUSES))}")
            parsed[one.name] = raw
        elif one.kind == "time":
            when = _parse_time(raw.replace("Z", "+00:00"))
            if when is None:
                raise ValueError(f"{one.name} must be an RFC 3339 date-time, got {raw!r}")
            parsed[one.name] = when
        else:
            parsed[one.name] = raw
    return parsed


def matches(tunnel: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    """Does ``tunnel`` pass every parsed filter (:func:`parse_query`)."""
    return all(
        one.matches(tunnel, filters[one.name]) for one in TUNNEL_FILTERS if one.name in filters
    )
