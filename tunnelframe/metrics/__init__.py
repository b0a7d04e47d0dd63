"""Prometheus and OpenMetrics: the fleet as series where operators already look.

:data:`SERIES` is the one table of what is exported (name, type, unit, labels, help); the
``cloudflare_tunnel_*`` series keep the names, labels and meanings of the lablabs
cloudflare-exporter's tunnel series so existing dashboards keep working, the
``tunnelframe_*`` series add what only tunnelframe knows (drift, support window, sites and
metros, HA per tunnel, findings per rule). :func:`write_openmetrics` writes one view for
node_exporter's textfile collector, :func:`serve_metrics` serves it on ``/metrics``,
:func:`history_openmetrics` gives a history store's snapshots with their timestamps for
``promtool tsdb create-blocks-from openmetrics``; :func:`grafana_dashboard` is the Grafana
dashboard built on the series. The exposition is prometheus_client's.
"""

from __future__ import annotations

from tunnelframe.metrics._collect import (
    SAMPLE_COLUMNS,
    MetricsServer,
    history_openmetrics,
    history_samples,
    metric_samples,
    openmetrics_text,
    serve_metrics,
    write_openmetrics,
)
from tunnelframe.metrics._series import LABLABS, SERIES, Series, grafana_dashboard, series_table

__all__ = [
    "LABLABS",
    "SAMPLE_COLUMNS",
    "SERIES",
    "MetricsServer",
    "Series",
    "grafana_dashboard",
    "history_openmetrics",
    "history_samples",
    "metric_samples",
    "openmetrics_text",
    "series_table",
    "serve_metrics",
    "write_openmetrics",
]
