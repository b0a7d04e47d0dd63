"""Where a fleet's connections land, and whether each connector and tunnel is highly available.

Analysis on a connections frame (:func:`tunnelframe.connections_frame`): active connections per
Cloudflare colo (:func:`colo_distribution`), cloudflared's edge string per connector
(:func:`format_edges`), an HA verdict per connector or tunnel (:func:`ha_report`; for WARP
Connector's active/passive pairs :func:`pair_ha_report`), connection
ages and connector uptimes (:func:`connection_ages`), and what a colo code means
(:func:`colo_info`). Everything is vectorised over the frame's categorical codes; nothing here
fetches, touches the network or modifies its input frame.

Colo codes are resolved offline from ``airportsdata`` (IATA codes with coordinates and time
zones) plus ``data/colos-extra.csv``, a small table of Cloudflare codes that are not (or no
longer) airport codes. The region is derived from the airport's time-zone area (``America/…``,
``Europe/…``), refined by country where an area spans regions; see :func:`colo_info`.
"""

from __future__ import annotations

from tunnelframe.colos._ages import connection_ages
from tunnelframe.colos._distribution import colo_distribution, format_edges
from tunnelframe.colos._ha import ha_report
from tunnelframe.colos._info import UnknownColoWarning, colo_info
from tunnelframe.colos._pairs import PAIR_STATUSES, pair_ha_report

__all__ = [
    "PAIR_STATUSES",
    "UnknownColoWarning",
    "colo_distribution",
    "colo_info",
    "connection_ages",
    "format_edges",
    "ha_report",
    "pair_ha_report",
]
