"""The report's "What tunnels serve" section: origin hosts shared by tunnels, and each tunnel's
published hostnames and private routes.

Built from :class:`~tunnelframe.report._serving.Serving` (computed once per analysis) and
:func:`tunnelframe.origin_hosts`; like every section builder it hands the renderers plain
cells (HTML tables past a few rows get a filter box).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tunnelframe._text import plural
from tunnelframe.engine import Analysis, Show
from tunnelframe.report._doc import Block, Group, Section, Text
from tunnelframe.report._sections import _known_tunnels, table
from tunnelframe.serving import origin_hosts

__all__ = ["routing"]

_HOSTS = (
    Show("Origin IP", "origin_ip", "mono"),
    Show("Arch", "arch", "mono"),
    Show("Tunnels", "n_tunnels", "num"),
    Show("Connectors", "n_connectors", "num"),
    Show("Active conns", "n_active", "num"),
    Show("Tunnel names", "tunnels", "wide"),
)
_SERVED = (
    Show("Tunnel", "tunnel_name"),
    Show("Status", "tunnel_status", "status"),
    Show("Kind", "kind"),
    Show("Hostname or network", "what", "mono"),
    Show("Service or virtual network", "detail", "wide"),
    Show("DNS points here", "dns"),
)


def _served_rows(a: Analysis) -> pd.DataFrame:
    serving = a.serving
    status = dict(
        zip(
            a.data.tunnels["tunnel_id"].astype(str),
            a.data.tunnels["tunnel_status"].astype(object),
            strict=True,
        )
    )
    rows: list[dict[str, Any]] = []
    for h in serving.hostnames.to_dict("records"):
        path = h.get("path")
        dns = h.get("dns_points_here")
        rows.append(
            {
                "tunnel_id": h["tunnel_id"],
                "tunnel_name": h["tunnel_name"],
                "tunnel_status": status.get(str(h["tunnel_id"])),
                "kind": "hostname",
                "what": str(h["hostname"]) + ("" if path is None or pd.isna(path) else f" {path}"),
                "detail": h.get("service") if h.get("source") == "configuration" else "(DNS only)",
                "dns": "unknown" if dns is None or pd.isna(dns) else ("yes" if dns else "no"),
            }
        )
    for r in serving.routes.to_dict("records"):
        rows.append(
            {
                "tunnel_id": r["tunnel_id"],
                "tunnel_name": r["tunnel_name"],
                "tunnel_status": status.get(str(r["tunnel_id"])),
                "kind": "route",
                "what": r["network"],
                "detail": r.get("virtual_network_name") or r.get("virtual_network_id"),
                "dns": "",
            }
        )
    frame = pd.DataFrame(rows, columns=["tunnel_id", *(s.column for s in _SERVED)])
    order = frame["tunnel_name"].astype(object).fillna("").astype(str).str.casefold()
    return frame.assign(_o=order).sort_values(["_o", "kind", "what"], kind="stable")


def routing(a: Analysis) -> Section:
    """Origins shared by several tunnels, and what each tunnel serves (when it was read)."""
    known = _known_tunnels(a)
    hosts = origin_hosts(a.connections)
    shared = hosts[hosts["shared"]]
    blocks: list[Block] = [
        Text(
            "An origin is the public IP (and architecture) connectors reach Cloudflare from: "
            "one machine, or several behind one NAT or on one site. Tunnels sharing an origin "
            "fail together with it."
        )
    ]
    if shared.empty:
        blocks.append(
            Text(f"No origin carries more than one tunnel ({plural(len(hosts), 'origin')}).")
        )
    else:
        blocks.append(
            Group(
                f"{plural(len(shared), 'origin')} carrying several tunnels: shared points of "
                "failure",
                [table(shared, _HOSTS)],
                anchor="shared-hosts",
                open=len(shared) <= 10,
            )
        )
    serving = a.serving
    if not serving.read:
        blocks.append(
            Text(
                "What each tunnel serves (published hostnames, private routes, DNS) was not read: "
                "fetch with tunnelframe fetch --routing (tf.fetch_routing).",
                note=True,
            )
        )
        note = f"{plural(len(shared), 'shared origin')}"
        return Section("routing", "What tunnels serve", blocks, toc_note=note)
    served = _served_rows(a)
    missing = sorted({"configurations", "routes", "dns"} - set(serving.read))
    notes = [str(n.get("message")) for n in (serving.routing or {}).get("notes", [])]
    blocks.append(
        Group(
            f"{plural(int((served['kind'] == 'hostname').sum()), 'hostname')} and "
            f"{plural(int((served['kind'] == 'route').sum()), 'route')}, by tunnel",
            [table(served, _SERVED, known_tunnels=known, empty="No tunnel serves anything.")],
            anchor="served",
            open=True,  # the section's point; long tables are capped and filterable
        )
    )
    if missing:
        blocks.append(Text(f"Not read: {', '.join(missing)}.", note=True))
    blocks.extend(Text(n, note=True) for n in notes)
    note = f"{plural(len(served), 'row')}, {plural(len(shared), 'shared origin')}"
    return Section("routing", "What tunnels serve", blocks, toc_note=note)
