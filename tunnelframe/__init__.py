"""tunnelframe: a fleet of Cloudflare Tunnel connectors as typed pandas DataFrames.

Fetch connector data from the Cloudflare API (or the bundled simulator), flatten it into one row
per connection, analyse version drift and colo distribution, and plot or report the result.
"""

from __future__ import annotations

__version__ = "0.1.0"

from tunnelframe import simulator
from tunnelframe._errors import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitError,
    SchemaError,
    TunnelframeError,
)
from tunnelframe.client import Client
from tunnelframe.colos import (
    UnknownColoWarning,
    colo_distribution,
    colo_info,
    connection_ages,
    format_edges,
    ha_report,
)
from tunnelframe.datasets import load_sample
from tunnelframe.fetch import Snapshot, fetch_connector, fetch_fleet, fetch_tunnel, load_snapshot
from tunnelframe.frames import (
    CONNECTIONS_SCHEMA,
    CONNECTORS_SCHEMA,
    TUNNELS_SCHEMA,
    connections_frame,
    connectors_frame,
    tunnels_frame,
)

__all__ = [
    "CONNECTIONS_SCHEMA",
    "CONNECTORS_SCHEMA",
    "TUNNELS_SCHEMA",
    "ApiError",
    "AuthError",
    "Client",
    "NotFoundError",
    "RateLimitError",
    "SchemaError",
    "Snapshot",
    "TunnelframeError",
    "UnknownColoWarning",
    "__version__",
    "colo_distribution",
    "colo_info",
    "connection_ages",
    "connections_frame",
    "connectors_frame",
    "fetch_connector",
    "fetch_fleet",
    "fetch_tunnel",
    "format_edges",
    "ha_report",
    "load_sample",
    "load_snapshot",
    "simulator",
    "tunnels_frame",
]
