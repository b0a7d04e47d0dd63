"""tunnelframe: a fleet of Cloudflare Tunnel connectors as typed pandas DataFrames.

Fetch connector data from the Cloudflare API (or the bundled simulator), flatten it into one row
per connection, analyse version drift and colo distribution, and plot or report the result.
"""

from __future__ import annotations

from tunnelframe import simulator
from tunnelframe import watch as watch
from tunnelframe._errors import (
    ApiError,
    AsOfWarning,
    AuthError,
    NotFoundError,
    PartialFleetWarning,
    RateLimitError,
    SchemaError,
    TunnelframeDeprecationWarning,
    TunnelframeError,
    TunnelframeWarning,
)
from tunnelframe._fleetfile import FleetFile, load_fleet_file
from tunnelframe._version import __version__
from tunnelframe.client import Client, Policy
from tunnelframe.colos import (
    UnknownColoWarning,
    colo_distribution,
    colo_info,
    connection_ages,
    format_edges,
    ha_report,
    pair_ha_report,
)
from tunnelframe.datasets import load_sample
from tunnelframe.engine import (
    CheckResult,
    check_fleet,
    diff_snapshots,
    findings,
    load_ignores,
)
from tunnelframe.fetch import fetch_connector, fetch_fleet, fetch_tunnel
from tunnelframe.fetch_routing import fetch_routing
from tunnelframe.frames import (
    CONNECTIONS_SCHEMA,
    CONNECTORS_SCHEMA,
    TUNNELS_SCHEMA,
    connections_frame,
    connectors_frame,
    hostnames_frame,
    routes_frame,
    tunnel_dns_frame,
    tunnels_frame,
)
from tunnelframe.history import (
    HA_STATES,
    append_snapshot,
    colo_shifts,
    compact_history,
    connector_churn,
    ha_episodes,
    ha_timeline,
    load_history,
    migrate_history,
    store_info,
    version_rollout,
)
from tunnelframe.plotting import (
    plot_colo_distribution,
    plot_colo_map,
    plot_connection_ages,
    plot_ha_status,
    plot_ha_timeline,
    plot_tunnel_colo_heatmap,
    plot_version_distribution,
    plot_version_drift,
    plot_version_rollout,
)
from tunnelframe.report import export_frames, write_report
from tunnelframe.serving import origin_hosts, single_origin, tunnel_impact
from tunnelframe.snapshot import Snapshot, as_connections, load_snapshot
from tunnelframe.versions import (
    CONFIG_DRIFT_COLUMNS,
    DEPRECATED_PLATFORMS_COLUMNS,
    SECURITY_FIXES_COLUMNS,
    STALE_AFTER_DAYS,
    STATUSES,
    VERSION_DRIFT_COLUMNS,
    StaleReleasesWarning,
    Version,
    VersionSummary,
    config_drift,
    deprecated_platforms,
    load_platform_deprecations,
    load_releases,
    load_security_fixes,
    parse_changes,
    parse_release_notes,
    parse_version,
    refresh_releases,
    security_exposure,
    stale_calendar_note,
    version_drift,
    version_summary,
)

__all__ = [
    "CONFIG_DRIFT_COLUMNS",
    "CONNECTIONS_SCHEMA",
    "CONNECTORS_SCHEMA",
    "DEPRECATED_PLATFORMS_COLUMNS",
    "HA_STATES",
    "SECURITY_FIXES_COLUMNS",
    "STALE_AFTER_DAYS",
    "STATUSES",
    "TUNNELS_SCHEMA",
    "VERSION_DRIFT_COLUMNS",
    "ApiError",
    "AsOfWarning",
    "AuthError",
    "CheckResult",
    "Client",
    "FleetFile",
    "NotFoundError",
    "PartialFleetWarning",
    "Policy",
    "RateLimitError",
    "SchemaError",
    "Snapshot",
    "StaleReleasesWarning",
    "TunnelframeDeprecationWarning",
    "TunnelframeError",
    "TunnelframeWarning",
    "UnknownColoWarning",
    "Version",
    "VersionSummary",
    "__version__",
    "append_snapshot",
    "as_connections",
    "check_fleet",
    "colo_distribution",
    "colo_info",
    "colo_shifts",
    "compact_history",
    "config_drift",
    "connection_ages",
    "connections_frame",
    "connector_churn",
    "connectors_frame",
    "deprecated_platforms",
    "diff_snapshots",
    "export_frames",
    "fetch_connector",
    "fetch_fleet",
    "fetch_routing",
    "fetch_tunnel",
    "findings",
    "format_edges",
    "ha_episodes",
    "ha_report",
    "ha_timeline",
    "hostnames_frame",
    "load_fleet_file",
    "load_history",
    "load_ignores",
    "load_platform_deprecations",
    "load_releases",
    "load_sample",
    "load_security_fixes",
    "load_snapshot",
    "migrate_history",
    "origin_hosts",
    "pair_ha_report",
    "parse_changes",
    "parse_release_notes",
    "parse_version",
    "plot_colo_distribution",
    "plot_colo_map",
    "plot_connection_ages",
    "plot_ha_status",
    "plot_ha_timeline",
    "plot_tunnel_colo_heatmap",
    "plot_version_distribution",
    "plot_version_drift",
    "plot_version_rollout",
    "refresh_releases",
    "routes_frame",
    "security_exposure",
    "simulator",
    "single_origin",
    "stale_calendar_note",
    "store_info",
    "tunnel_dns_frame",
    "tunnel_impact",
    "tunnels_frame",
    "version_drift",
    "version_rollout",
    "version_summary",
    "write_report",
]


def __dir__() -> list[str]:
    # Tab completion shows the public API and the subpackages, not ``annotations`` and such.
    return sorted({*__all__, *_SUBPACKAGES})


_SUBPACKAGES = (
    "client",
    "colos",
    "datasets",
    "engine",
    "fetch",
    "frames",
    "history",
    "plotting",
    "report",
    "simulator",
    "snapshot",
    "versions",
    "watch",
)
