"""Where a fleet's connections land, and whether each connector and tunnel is highly available.

Analysis on a connections frame (:func:`tunnelframe.connections_frame`): active connections per
Cloudflare colo site, metro, country or region (:func:`colo_distribution`), cloudflared's edge
string per connector (:func:`format_edges`), an HA verdict per connector or tunnel
(:func:`ha_report`; for WARP Connector's active/passive pairs :func:`pair_ha_report`),
connection ages and connector uptimes (:func:`connection_ages`), and what a colo code means
(:func:`colo_info`). Everything is vectorised over the frame's categorical codes; nothing here
fetches, touches the network or modifies its input frame.

The colo model: ``colo_name`` names a *site* (``ord12``; before mid-2023 ``ORD``, one site
too), kept verbatim; its *metro* is the upper-case IATA code (``ORD``), derived where needed,
ignoring case. Metros are resolved offline from Cloudflare's list of data centres bundled as
``data/colos.csv`` (its header cites the source), then ``airportsdata``. The region is derived
from the metro's time-zone area (``America/…``, ``Europe/…``), refined by country where an
area spans regions; see :func:`colo_info`.
"""

from __future__ import annotations

from tunnelframe.colos._ages import connection_ages
from tunnelframe.colos._distribution import colo_distribution, format_edges
from tunnelframe.colos._ha import ha_report
from tunnelframe.colos._info import UnknownColoWarning, colo_info, colo_metro
from tunnelframe.colos._pairs import PAIR_STATUSES, pair_ha_report
from tunnelframe.colos._rules import (
    CONNECTOR_HA_RULES,
    EXPECTED_CONNECTIONS,
    HA_STATES,
    PAIR_HA_RULES,
    TUNNEL_HA_RULES,
    ha_states,
    ha_states_sql,
)

__all__ = [
    "CONNECTOR_HA_RULES",
    "EXPECTED_CONNECTIONS",
    "HA_STATES",
    "PAIR_HA_RULES",
    "PAIR_STATUSES",
    "TUNNEL_HA_RULES",
    "UnknownColoWarning",
    "colo_distribution",
    "colo_info",
    "colo_metro",
    "connection_ages",
    "format_edges",
    "ha_report",
    "ha_states",
    "ha_states_sql",
    "pair_ha_report",
]
