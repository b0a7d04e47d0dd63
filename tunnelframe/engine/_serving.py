"""What each tunnel serves, for the judging rules: their rows and messages, and the impact.

The rows of ``single-origin``, ``route-to-down``, ``orphan-dns`` and ``unrouted-tunnel`` (their
:class:`~tunnelframe.engine._findings.Rule` entries live with every other rule in
:data:`~tunnelframe.engine._findings.RULES`), and :class:`Serving`: the frames of a source's
routing and each tunnel's impact (the hostnames and routes it serves) computed once, which
every tunnel finding carries. Decides nothing about layout and never fetches.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from tunnelframe.frames import hostnames_frame, routes_frame, routing_read, tunnel_dns_frame
from tunnelframe.serving import single_origin, tunnel_impact

if TYPE_CHECKING:
    from tunnelframe.engine._findings import Analysis

__all__: list[str] = []


class Serving:
    """The routing of one source as frames, and each tunnel's impact (computed on first use)."""

    def __init__(self, tunnels: pd.DataFrame, routing: Mapping[str, Any] | None) -> None:
        self.tunnels = tunnels
        self.routing = routing

    @cached_property
    def fleet(self) -> dict[str, Any]:
        """The fleet dict the frames read: the tunnels' identity and the raw routing."""
        records = []
        for row in self.tunnels.to_dict("records"):
            deleted = row.get("deleted_at")
            records.append(
                {
                    "id": str(row.get("tunnel_id")),
                    "name": None if _missing(row.get("tunnel_name")) else row.get("tunnel_name"),
                    "account_tag": None if _missing(row.get("account_id")) else row["account_id"],
                    "config_src": None if _missing(row.get("config_src")) else row["config_src"],
                    "deleted_at": None if _missing(deleted) else str(deleted),
                }
            )
        fleet: dict[str, Any] = {"tunnels": records}
        if self.routing is not None:
            fleet["routing"] = self.routing
        return fleet

    @property
    def read(self) -> tuple[str, ...]:
        """The routing parts read completely (empty: routing not read)."""
        if self.routing is None:
            return ()
        return routing_read({"tunnels": [], "routing": self.routing})

    @cached_property
    def hostnames(self) -> pd.DataFrame:
        return hostnames_frame(self.fleet)

    @cached_property
    def routes(self) -> pd.DataFrame:
        return routes_frame(self.fleet)

    @cached_property
    def dns(self) -> pd.DataFrame:
        return tunnel_dns_frame(self.fleet)

    @cached_property
    def impact(self) -> pd.DataFrame:
        """:func:`tunnelframe.tunnel_impact` of the source, one row per tunnel."""
        return tunnel_impact(self.fleet)

    @cached_property
    def by_tunnel(self) -> dict[str, tuple[int, str]]:
        """tunnel id -> (impact, what it serves in words)."""
        impact = self.impact
        return {
            str(t): (int(n), str(s))
            for t, n, s in zip(impact["tunnel_id"], impact["impact"], impact["serves"], strict=True)
        }

    def of(self, tunnel_id: Any) -> tuple[int, str | None]:
        """(impact, serves) of a tunnel; serves None when the routing was not read."""
        if not self.read or _missing(tunnel_id):
            return 0, None
        return self.by_tunnel.get(str(tunnel_id), (0, None))


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _tunnel(row: dict[str, Any]) -> str:
    name = row.get("tunnel_name")
    shown = "(unnamed)" if _missing(name) else str(name)
    return f'tunnel "{shown}" ({row.get("tunnel_id")})'


# -- single-origin ------------------------------------------------------------------------------


def single_origin_rows(a: Analysis) -> pd.DataFrame:
    return single_origin(a.connections)


def single_origin_message(a: Analysis, r: dict[str, Any]) -> str:
    return f"single-origin: {_tunnel(r)}: {r['reason']}"


# -- route-to-down ------------------------------------------------------------------------------


def route_to_down_rows(a: Analysis, down: pd.DataFrame) -> pd.DataFrame | None:
    """Down (``down``: the rows of the ``down`` rule) or inactive live tunnels that serve a
    hostname or a route; None when the routing was not read."""
    serving = a.serving
    if not serving.read:
        return None
    live = a.live_tunnels
    status = live["tunnel_status"].astype(object)
    inactive = live[(status == "inactive").to_numpy(bool)]
    candidates = [
        (str(r["account_id"]), str(r["tunnel_id"]), r.get("tunnel_name"), "down")
        for r in down.to_dict("records")
    ] + [
        (str(r["account_id"]), str(r["tunnel_id"]), r.get("tunnel_name"), "inactive (never ran)")
        for r in inactive.to_dict("records")
    ]
    impact = {str(r["tunnel_id"]): r for r in serving.impact.to_dict("records")}
    rows = []
    seen = set()
    for account, tid, name, state in candidates:
        found = impact.get(tid)
        if tid in seen or found is None or not found["impact"]:
            continue
        seen.add(tid)
        rows.append(
            {
                "account_id": account,
                "tunnel_id": tid,
                "tunnel_name": name,
                "state": state,
                "n_hostnames": found["n_hostnames"],
                "n_routes": found["n_routes"],
                "hostnames": found["hostnames"],
                "routes": found["routes"],
                "reason": f"is {state}: unreachable: {found['serves']}",
            }
        )
    columns = [
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "state",
        "n_hostnames",
        "n_routes",
        "hostnames",
        "routes",
        "reason",
    ]
    return pd.DataFrame(rows, columns=columns)


def route_to_down_message(a: Analysis, r: dict[str, Any]) -> str:
    return f"route-to-down: {_tunnel(r)} {r['reason']}"


# -- orphan-dns ---------------------------------------------------------------------------------


def orphan_dns_rows(a: Analysis) -> pd.DataFrame | None:
    """CNAMEs to a tunnel that is deleted or not in the account; None when DNS was not read."""
    serving = a.serving
    if "dns" not in serving.read:
        return None
    dns = serving.dns
    bad = dns[dns["tunnel_state"].isin(["deleted", "unknown"]).to_numpy(bool)]
    reason = [
        "its tunnel is deleted" if s == "deleted" else "no tunnel of this account has that id"
        for s in bad["tunnel_state"]
    ]
    return pd.DataFrame(
        {
            "account_id": bad["account_id"].astype(object).to_numpy(),
            "tunnel_id": bad["tunnel_id"].astype(object).to_numpy(),
            "tunnel_name": bad["tunnel_name"].astype(object).to_numpy(),
            "hostname": bad["hostname"].astype(object).to_numpy(),
            "zone_name": bad["zone_name"].astype(object).to_numpy(),
            "tunnel_state": bad["tunnel_state"].astype(object).to_numpy(),
            "reason": reason,
        }
    )


def orphan_dns_message(a: Analysis, r: dict[str, Any]) -> str:
    zone = "" if _missing(r.get("zone_name")) else f" (zone {r['zone_name']})"
    return (
        f"orphan-dns: {r['hostname']}{zone} is a CNAME to {r['tunnel_id']}.cfargotunnel.com: "
        f"{r['reason']}; the hostname answers with an error"
    )


# -- unrouted-tunnel ----------------------------------------------------------------------------


def unrouted_rows(a: Analysis) -> pd.DataFrame | None:
    """Healthy tunnels serving no hostname and no route (every routing part read)."""
    serving = a.serving
    if set(serving.read) != {"configurations", "routes", "dns"}:
        return None
    live = a.live_tunnels
    healthy = live[(live["tunnel_status"].astype(object) == "healthy").to_numpy(bool)]
    impact = serving.impact
    idle = set(impact.loc[impact["impact"] == 0, "tunnel_id"].astype(str))
    rows = healthy[healthy["tunnel_id"].astype(str).isin(idle).to_numpy(bool)]
    serves = [serving.of(t)[1] for t in rows["tunnel_id"].astype(str)]
    return pd.DataFrame(
        {
            "account_id": rows["account_id"].astype(str).to_numpy(),
            "tunnel_id": rows["tunnel_id"].astype(str).to_numpy(),
            "tunnel_name": rows["tunnel_name"].astype(object).to_numpy(),
            "config_src": rows["config_src"].astype(object).to_numpy(),
            "reason": serves,
        }
    )


def unrouted_message(a: Analysis, r: dict[str, Any]) -> str:
    return f"unrouted-tunnel: {_tunnel(r)} is healthy and serves {r['reason']}"
