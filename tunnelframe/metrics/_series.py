"""The one table of the series tunnelframe exports to Prometheus.

Every exported series is one :class:`Series` row of :data:`SERIES`: its name, type, unit,
labels and help. The exposition (:mod:`tunnelframe.metrics._collect`), the docs page's table
(:func:`series_table`) and the dashboard test all read this table; nothing else names a series.
The four ``cloudflare_tunnel_*`` series carry the names, labels and meanings of the lablabs
cloudflare-exporter's tunnel series, so dashboards built on that exporter keep working.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from tunnelframe._data import _data_path

__all__ = ["LABLABS", "SERIES", "Series", "grafana_dashboard", "series_table"]

#: Where the lablabs exporter's tunnel series are defined (its ``prometheus.go``).
LABLABS: Final = "lablabs/cloudflare-exporter"

_TUNNEL: Final = ("account", "tunnel_id", "tunnel_name")
_CONNECTOR: Final = (*_TUNNEL, "connector_id")


@dataclass(frozen=True)
class Series:
    """One exported series: what a Prometheus user sees of it.

    Attributes
    ----------
    name : str
        The series name as exposed (it ends with the unit when there is one).
    help : str
        The ``# HELP`` text.
    labels : tuple of str
        Its label names, in order.
    unit : str
        The OpenMetrics unit (``""`` for a count or a 0/1 flag).
    type : str
        The metric type; every tunnelframe series is a ``gauge`` (a state as of the view).
    level : str
        What one sample describes: ``tunnel``, ``connector`` or ``fleet``.
    compat : bool
        True for the series named, labelled and meant as in the lablabs exporter.

    Examples
    --------
    >>> from tunnelframe.metrics import SERIES
    >>> SERIES[0].name, SERIES[0].labels
    ('cloudflare_tunnel_info', ('account', 'tunnel_id', 'tunnel_name', 'tunnel_type'))
    """

    name: str
    help: str
    labels: tuple[str, ...]
    level: str
    unit: str = ""
    type: str = "gauge"
    compat: bool = False


#: Every series tunnelframe exports, in exposition order.
SERIES: Final[tuple[Series, ...]] = (
    Series(
        "cloudflare_tunnel_info",
        "Reports Cloudflare Tunnel details (1 per tunnel that is not deleted)",
        ("account", "tunnel_id", "tunnel_name", "tunnel_type"),
        "tunnel",
        compat=True,
    ),
    Series(
        "cloudflare_tunnel_health_status",
        "Reports the health of a Cloudflare Tunnel, 0 for unhealthy, 1 for healthy, "
        "2 for degraded, 3 for inactive (the status the API reports)",
        ("account", "tunnel_id"),
        "tunnel",
        compat=True,
    ),
    Series(
        "cloudflare_tunnel_connector_info",
        "Reports Cloudflare Tunnel connector details (origin_ip is empty unless asked for)",
        ("account", "tunnel_id", "client_id", "version", "arch", "origin_ip"),
        "connector",
        compat=True,
    ),
    Series(
        "cloudflare_tunnel_connector_active_connections",
        "Reports number of active connections for a Cloudflare Tunnel connector (every "
        "connection the API lists, pending reconnects included, as the lablabs exporter counts)",
        ("account", "tunnel_id", "client_id"),
        "connector",
        compat=True,
    ),
    Series(
        "tunnelframe_connector_info",
        "A connector's cloudflared version and architecture (always 1)",
        (*_CONNECTOR, "version", "arch"),
        "connector",
    ),
    Series(
        "tunnelframe_connector_releases_behind",
        "cloudflared releases between the connector's version and the newest one",
        _CONNECTOR,
        "connector",
    ),
    Series(
        "tunnelframe_connector_behind_seconds",
        "Time between the connector's release and the newest release (whole days, in seconds "
        "as Prometheus' base unit)",
        _CONNECTOR,
        "connector",
        unit="seconds",
    ),
    Series(
        "tunnelframe_connector_supported",
        "1 when the connector's cloudflared is inside Cloudflare's one-year support window",
        _CONNECTOR,
        "connector",
    ),
    Series(
        "tunnelframe_connector_active_connections",
        "The connector's active connections to the edge (pending reconnects not counted)",
        _CONNECTOR,
        "connector",
    ),
    Series(
        "tunnelframe_connector_pending_connections",
        "The connector's connections pending a reconnect",
        _CONNECTOR,
        "connector",
    ),
    Series(
        "tunnelframe_connector_sites",
        "Distinct Cloudflare sites (colos) of the connector's active connections",
        _CONNECTOR,
        "connector",
    ),
    Series(
        "tunnelframe_connector_metros",
        "Distinct metros of the connector's active connections",
        _CONNECTOR,
        "connector",
    ),
    Series(
        "tunnelframe_tunnel_ha_state",
        "1 for the tunnel's HA state (ok, single_colo, degraded, single_connector, down), "
        "0 for the others",
        (*_TUNNEL, "state"),
        "tunnel",
    ),
    Series(
        "tunnelframe_tunnel_ha_flag",
        "The tunnel's HA flags: single_connector, degraded, single_colo, single_metro, "
        "status_mismatch (the API's status disagrees with its connectors), 1 when set "
        "whatever the state (count a problem with its flag)",
        (*_TUNNEL, "flag"),
        "tunnel",
    ),
    Series(
        "tunnelframe_tunnel_active_connectors",
        "Connectors of the tunnel with at least one active connection",
        _TUNNEL,
        "tunnel",
    ),
    Series(
        "tunnelframe_tunnel_sites",
        "Distinct Cloudflare sites (colos) of the tunnel's active connections",
        _TUNNEL,
        "tunnel",
    ),
    Series(
        "tunnelframe_tunnel_metros",
        "Distinct metros of the tunnel's active connections",
        _TUNNEL,
        "tunnel",
    ),
    Series(
        "tunnelframe_findings",
        "Findings (tunnelframe check's violations) per rule and severity; 0 for a rule "
        "evaluated and clean",
        ("rule", "severity"),
        "fleet",
    ),
    Series(
        "tunnelframe_release_calendar_age_seconds",
        "Time between the newest cloudflared release the calendar knows and the view (whole "
        "days, in seconds)",
        (),
        "fleet",
        unit="seconds",
    ),
    Series(
        "tunnelframe_observed_timestamp_seconds",
        "When the fleet was observed (the snapshot's fetch time), Unix seconds",
        (),
        "fleet",
        unit="seconds",
    ),
)


def series_table() -> pd.DataFrame:
    """The exported series as a frame: the table the docs page shows.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``type``, ``unit``, ``labels`` (comma-separated), ``level``, ``compat``
        (named as in the lablabs exporter) and ``help``, one row per series.

    Examples
    --------
    >>> from tunnelframe.metrics import series_table
    >>> series_table().loc[0, ["name", "type"]].tolist()
    ['cloudflare_tunnel_info', 'gauge']
    """
    return pd.DataFrame(
        {
            "name": [s.name for s in SERIES],
            "type": [s.type for s in SERIES],
            "unit": [s.unit for s in SERIES],
            "labels": [", ".join(s.labels) for s in SERIES],
            "level": [s.level for s in SERIES],
            "compat": [s.compat for s in SERIES],
            "help": [s.help for s in SERIES],
        }
    )


def grafana_dashboard() -> dict[str, Any]:
    """The Grafana dashboard built on these series (fleet overview, versions over time, HA by
    tunnel, sites and metros), as the JSON model Grafana imports.

    The Prometheus data source is a template variable (``$datasource``), so the model loads in
    any Grafana without edits; the file ships as ``tunnelframe/data/grafana-dashboard.json``.

    Returns
    -------
    dict
        A fresh copy of the dashboard model.

    Examples
    --------
    >>> from tunnelframe.metrics import grafana_dashboard
    >>> grafana_dashboard()["templating"]["list"][0]["type"]
    'datasource'
    """
    model: dict[str, Any] = json.loads(_data_path("grafana-dashboard.json").read_text("utf-8"))
    return model
