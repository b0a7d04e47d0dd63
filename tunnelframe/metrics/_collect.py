"""The values of the exported series, from a fleet view, and their exposition.

:func:`metric_samples` computes one row per sample of :data:`~tunnelframe.metrics.SERIES` from
the public analysis (``version_drift``, ``ha_report``, ``findings``) of a snapshot or a
connections frame; the exposition (OpenMetrics text, a ``/metrics`` endpoint, a history file
for ``promtool tsdb create-blocks-from openmetrics``) is prometheus_client's, never written by
hand. Nothing here fetches: it renders what a view already holds.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.registry import Collector

from tunnelframe._errors import PartialFleetWarning
from tunnelframe._io import atomic_write
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe.colos import ha_report
from tunnelframe.engine import RULES, findings
from tunnelframe.frames import tunnels_frame
from tunnelframe.history import load_history
from tunnelframe.metrics._series import SERIES, Series
from tunnelframe.snapshot import Snapshot, as_connections, load_snapshot
from tunnelframe.versions import load_releases, version_drift

__all__ = [
    "SAMPLE_COLUMNS",
    "MetricsServer",
    "history_openmetrics",
    "history_samples",
    "metric_samples",
    "openmetrics_text",
    "serve_metrics",
    "write_openmetrics",
]

#: Columns of :func:`metric_samples`.
SAMPLE_COLUMNS: Final = ("series", "labels", "value")

#: cloudflare_tunnel_health_status values, as the lablabs exporter maps the API's status.
_HEALTH: Final = {"down": 0, "healthy": 1, "degraded": 2, "inactive": 3}
_UNKNOWN_HEALTH: Final = 255
_HA_FLAGS: Final = (
    "single_connector",
    "degraded",
    "single_colo",
    "single_metro",
    "status_mismatch",
)
_DAY: Final = 86400


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _view(
    source: FleetSource, as_of: TimeLike | None
) -> tuple[Any, pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """(findings source, connections, tunnels not deleted, view time) of a source."""
    if isinstance(source, (str, os.PathLike)):
        source = load_snapshot(source)
    if isinstance(source, Snapshot):
        observed = getattr(source, "observed_at", None) or source.fetched_at
        tunnels = tunnels_frame(source.fleet)
    elif isinstance(source, dict) and "tunnels" in source:
        observed = None
        tunnels = tunnels_frame(source)
    elif isinstance(source, pd.DataFrame):
        observed = None
        if "fetched_at" in source.columns:
            times = source["fetched_at"].dropna().unique()
            if len(times) > 1:
                raise ValueError(
                    f"the frame holds {len(times)} snapshots (fetched_at values): pass one, or "
                    "use history_samples for a history store"
                )
            observed = times[0] if len(times) else None
            source = source.drop(columns="fetched_at")
        tunnels = None
    else:
        raise TypeError(
            f"metric_samples takes a Snapshot, a snapshot path, a fleet dict or a connections "
            f"frame, got {type(source).__name__}"
        )
    conns = as_connections(source)
    assert isinstance(conns, pd.DataFrame)
    if tunnels is None:
        keys = ["account_id", "tunnel_id", "tunnel_name", "tunnel_status", "tun_type"]
        tunnels = conns[keys].astype(object).drop_duplicates(["account_id", "tunnel_id"])
    else:
        tunnels = tunnels[tunnels["deleted_at"].isna()]
    when = as_of if as_of is not None else observed
    if when is None:
        raise ValueError(
            "metric_samples needs as_of for a fleet without a fetch time (a fleet dict, or a "
            "connections frame without fetched_at)"
        )
    stamp = pd.Timestamp(when)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return source, conns, tunnels, stamp


def metric_samples(
    source: FleetSource,
    *,
    as_of: TimeLike | None = None,
    origin_ip: bool = False,
    max_releases_behind: int | None = None,
) -> pd.DataFrame:
    """Every sample of the exported series for one view of a fleet.

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame
        A snapshot (or its file), a fleet dict, or a connections frame (one snapshot of a
        history: its ``fetched_at`` is the view time).
    as_of : datetime-like, optional
        'Now' for drift, support and the calendar's age; default the snapshot's fetch time
        (``observed_at`` when the snapshot has one).
    origin_ip : bool, default False
        Fill the ``origin_ip`` label of ``cloudflare_tunnel_connector_info`` (empty otherwise:
        an origin IP is not exported unless asked for).
    max_releases_behind : int, optional
        Evaluate the ``releases-behind`` rule with this limit for ``tunnelframe_findings``.

    Returns
    -------
    pandas.DataFrame
        ``series`` (a name of :data:`~tunnelframe.metrics.SERIES`), ``labels`` (a tuple of
        label values in the series' label order) and ``value`` (float), in table order.

    Raises
    ------
    TypeError
        ``source`` is none of the above.
    ValueError
        No view time (a fleet dict or frame without ``fetched_at``, and no ``as_of``), or a
        frame of several snapshots.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> from tunnelframe.metrics import metric_samples
    >>> samples = metric_samples(tf.load_sample(), as_of="2026-08-20T12:00Z")
    >>> int(samples[samples["series"] == "cloudflare_tunnel_info"]["value"].sum())
    207
    """
    source, conns, tunnels, stamp = _view(source, as_of)
    rows: list[tuple[str, tuple[str, ...], float]] = []

    def add(series: str, labels: Iterable[Any], value: Any) -> None:
        if value is None or pd.isna(value):
            return
        rows.append((series, tuple(_text(v) for v in labels), float(value)))

    for t in tunnels.to_dict("records"):
        key = (t["account_id"], t["tunnel_id"])
        add("cloudflare_tunnel_info", (*key, t["tunnel_name"], t["tun_type"]), 1)
        status = _text(t["tunnel_status"])
        if status:
            add("cloudflare_tunnel_health_status", key, _HEALTH.get(status, _UNKNOWN_HEALTH))

    ids = ["account_id", "tunnel_id", "tunnel_name", "connector_id"]
    live = conns[conns["connector_id"].notna()]
    connectors = (
        live.astype({c: object for c in (*ids, "version", "arch", "origin_ip")})
        .groupby(ids, sort=True, dropna=False)
        .agg(
            version=("version", "first"),
            arch=("arch", "first"),
            origin_ip=("origin_ip", "first"),
            n_listed=("connection_id", "count"),
        )
        .reset_index()
    )
    for c in connectors.to_dict("records"):
        cid = (c["account_id"], c["tunnel_id"], c["connector_id"])
        ip = c["origin_ip"] if origin_ip else ""
        add("cloudflare_tunnel_connector_info", (*cid, c["version"], c["arch"], ip), 1)
        add("cloudflare_tunnel_connector_active_connections", cid, c["n_listed"])
        add("tunnelframe_connector_info", (*(c[k] for k in ids), c["version"], c["arch"]), 1)

    # The analysis of the source itself (a snapshot's HA report knows its tunnels with no
    # connector), so every number is the one tf.version_drift / tf.ha_report give.
    for d in version_drift(source, as_of=stamp).astype(object).to_dict("records"):
        key = tuple(d[k] for k in ids)
        days, supported = d["days_behind"], d["supported"]
        add("tunnelframe_connector_releases_behind", key, d["releases_behind"])
        add("tunnelframe_connector_behind_seconds", key, None if pd.isna(days) else days * _DAY)
        add("tunnelframe_connector_supported", key, None if pd.isna(supported) else supported)

    for h in ha_report(source, level="connector").astype(object).to_dict("records"):
        key = tuple(h[k] for k in ids)
        add("tunnelframe_connector_active_connections", key, h["n_active"])
        add("tunnelframe_connector_pending_connections", key, h["n_pending"])
        add("tunnelframe_connector_sites", key, h["n_colos"])
        add("tunnelframe_connector_metros", key, h["n_metros"])
    with warnings.catch_warnings():
        # A history's frame is all there is of its snapshot (the store keeps a bare row per
        # tunnel without connector); a Snapshot or fleet dict is judged whole and never warns.
        warnings.simplefilter("ignore", PartialFleetWarning)
        tunnel_ha = ha_report(source, level="tunnel")
    states = [str(s) for s in tunnel_ha["status"].cat.categories]
    for h in tunnel_ha.astype(object).to_dict("records"):
        tkey = (h["account_id"], h["tunnel_id"], h["tunnel_name"])
        for state in states:
            add("tunnelframe_tunnel_ha_state", (*tkey, state), int(h["status"] == state))
        for flag in _HA_FLAGS:
            value = h[flag]
            add("tunnelframe_tunnel_ha_flag", (*tkey, flag), None if pd.isna(value) else value)
        add("tunnelframe_tunnel_active_connectors", tkey, h["n_active_connectors"])
        add("tunnelframe_tunnel_sites", tkey, h["n_colos"])
        add("tunnelframe_tunnel_metros", tkey, h["n_metros"])

    found = findings(source, as_of=stamp, max_releases_behind=max_releases_behind)
    counts = found.groupby("rule", observed=False).size()
    for rule in RULES:
        if rule.id == "releases-behind" and max_releases_behind is None:
            continue
        if rule.id == "fetch-errors" and not isinstance(source, Snapshot):
            continue  # only a snapshot records fetch errors
        add("tunnelframe_findings", (rule.id, rule.severity), counts.get(rule.id, 0))

    newest = max(
        load_releases()["released_on"].max(), load_releases(cached=True)["released_on"].max()
    )
    add("tunnelframe_release_calendar_age_seconds", (), (stamp - newest).days * _DAY)
    add("tunnelframe_observed_timestamp_seconds", (), stamp.timestamp())

    frame = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
    order = {s.name: i for i, s in enumerate(SERIES)}
    return frame.sort_values("series", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True
    )


def _families(samples: pd.DataFrame, *, timestamps: pd.Series | None = None) -> Iterator[Metric]:
    """One gauge family per series of the table (empty ones too: a scrape lists them all)."""
    grouped = dict(tuple(samples.groupby("series", sort=False)))
    for series in SERIES:
        family = _family(series)
        part = grouped.get(series.name)
        if part is not None:
            stamps = timestamps.loc[part.index] if timestamps is not None else None
            for i, (labels, value) in enumerate(zip(part["labels"], part["value"], strict=True)):
                ts = None if stamps is None else float(stamps.iloc[i])
                family.add_metric(list(labels), value, timestamp=ts)
        yield family


def _family(series: Series) -> GaugeMetricFamily:
    # prometheus_client appends the unit to the name; the table's names already end with it.
    name = series.name.removesuffix(f"_{series.unit}") if series.unit else series.name
    return GaugeMetricFamily(name, series.help, labels=list(series.labels), unit=series.unit)


class _Fixed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def _exposition(families: Iterable[Metric]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(list(families)))
    text: bytes = generate_latest(registry)  # type: ignore[no-untyped-call]
    return text


def openmetrics_text(
    source: FleetSource,
    *,
    as_of: TimeLike | None = None,
    origin_ip: bool = False,
    max_releases_behind: int | None = None,
) -> bytes:
    """The exported series of one view as OpenMetrics text (prometheus_client's exposition).

    Parameters are those of :func:`metric_samples`.

    Returns
    -------
    bytes
        The exposition, ending with ``# EOF``.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> from tunnelframe.metrics import openmetrics_text
    >>> text = openmetrics_text(tf.load_sample(), as_of="2026-08-20T12:00Z").decode()
    >>> text.splitlines()[-1]
    '# EOF'
    """
    samples = metric_samples(
        source, as_of=as_of, origin_ip=origin_ip, max_releases_behind=max_releases_behind
    )
    return _exposition(_families(samples))


def write_openmetrics(
    source: FleetSource,
    path: str | os.PathLike[str],
    *,
    as_of: TimeLike | None = None,
    origin_ip: bool = False,
    max_releases_behind: int | None = None,
) -> Path:
    """Write the exported series of one view to a file, atomically (for node_exporter's
    textfile collector, which must never read a half-written file).

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame
        As in :func:`metric_samples`.
    path : str or path-like
        The file to write; for the textfile collector, a ``.prom`` file in its directory.
    as_of, origin_ip, max_releases_behind
        As in :func:`metric_samples`.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib, tunnelframe as tf
    >>> from tunnelframe.metrics import write_openmetrics
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "tunnelframe.prom"
    >>> write_openmetrics(tf.load_sample(), out, as_of="2026-08-20T12:00Z").name
    'tunnelframe.prom'
    """
    text = openmetrics_text(
        source, as_of=as_of, origin_ip=origin_ip, max_releases_behind=max_releases_behind
    )
    return atomic_write(Path(path), text)


def history_samples(
    store: str | os.PathLike[str], *, start: Any = None, end: Any = None
) -> pd.DataFrame:
    """The exported series of every snapshot in a history store, each at its fetch time.

    Parameters
    ----------
    store : str or path-like
        A history store directory (:func:`tunnelframe.append_snapshot`).
    start, end : datetime-like, optional
        Keep snapshots with ``start <= fetched_at < end``, as in
        :func:`tunnelframe.load_history`.

    Returns
    -------
    pandas.DataFrame
        :data:`SAMPLE_COLUMNS` plus ``timestamp`` (Unix seconds of the snapshot's
        ``fetched_at``), each snapshot measured as of its own fetch time.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> from tunnelframe.metrics import history_samples
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(3, days=2):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> history_samples(store)["timestamp"].nunique()
    3
    """
    history = load_history(store, start=start, end=end)
    parts = []
    for fetched_at, rows in history.groupby("fetched_at", sort=True):
        when = pd.Timestamp(str(fetched_at))
        samples = metric_samples(rows, as_of=when)
        parts.append(samples.assign(timestamp=when.timestamp()))
    if not parts:
        return pd.DataFrame(columns=[*SAMPLE_COLUMNS, "timestamp"])
    return pd.concat(parts, ignore_index=True)


def history_openmetrics(
    store: str | os.PathLike[str], *, start: Any = None, end: Any = None
) -> bytes:
    """A history store's series with timestamps, as OpenMetrics text for backfilling.

    ``promtool tsdb create-blocks-from openmetrics FILE DIR`` turns it into TSDB blocks, so a
    Prometheus starts with the past. Each series' samples are contiguous and in time order,
    as the backfill requires.

    Parameters
    ----------
    store : str or path-like
        A history store directory.
    start, end : datetime-like, optional
        As in :func:`history_samples`.

    Returns
    -------
    bytes
        The exposition, ending with ``# EOF``.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> from tunnelframe.metrics import history_openmetrics
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(3, days=2):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> lines = history_openmetrics(store).decode().splitlines()
    >>> sum(line.startswith("tunnelframe_observed_timestamp_seconds ") for line in lines)
    3
    """
    samples = history_samples(store, start=start, end=end)
    order = {s.name: i for i, s in enumerate(SERIES)}
    samples = samples.assign(_rank=samples["series"].map(order)).sort_values(
        ["_rank", "labels", "timestamp"], kind="stable"
    )
    samples = samples.drop(columns="_rank").reset_index(drop=True)
    return _exposition(_families(samples, timestamps=samples["timestamp"]))


class _Live(Collector):
    """The families of the latest view; a scrape reads them while ``update`` swaps them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: list[Metric] = []

    def set(self, families: list[Metric]) -> None:
        with self._lock:
            self._families = families

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            return list(self._families)


class MetricsServer:
    """A ``/metrics`` endpoint serving the exported series of the latest view.

    Made by :func:`serve_metrics`. :meth:`update` renders a new view (a snapshot, e.g. each
    cycle of ``tunnelframe watch``); scrapes between updates see the previous one whole.

    Attributes
    ----------
    host : str
        The address it listens on.
    port : int
        The port it listens on (the one chosen when 0 was asked for).
    updated_at : datetime or None
        The view time of the latest update.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> from tunnelframe.metrics import serve_metrics
    >>> with serve_metrics() as server:
    ...     server.update(next(iter(tf.simulator.generate_history(2, days=1))))
    ...     server.updated_at.isoformat()
    '2026-08-19T12:00:00+00:00'
    """

    def __init__(self, host: str, port: int, *, origin_ip: bool = False) -> None:
        from prometheus_client import start_http_server

        self._collector = _Live()
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self._collector)
        self._origin_ip = origin_ip
        self._server, self._thread = start_http_server(port, addr=host, registry=self._registry)
        self.host = host
        self.port: int = int(self._server.server_address[1])
        self.updated_at: datetime | None = None

    @property
    def url(self) -> str:
        """The ``/metrics`` URL."""
        return f"http://{self.host}:{self.port}/metrics"

    def update(
        self,
        source: FleetSource,
        *,
        as_of: TimeLike | None = None,
        max_releases_behind: int | None = None,
    ) -> None:
        """Serve the series of this view from now on (see :func:`metric_samples`)."""
        samples = metric_samples(
            source, as_of=as_of, origin_ip=self._origin_ip, max_releases_behind=max_releases_behind
        )
        self._collector.set(list(_families(samples)))
        stamp = samples.loc[samples["series"] == "tunnelframe_observed_timestamp_seconds", "value"]
        self.updated_at = datetime.fromtimestamp(float(stamp.iloc[0]), UTC)

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_metrics(
    source: Any = None, *, port: int = 0, host: str = "127.0.0.1", origin_ip: bool = False
) -> MetricsServer:
    """Serve the exported series on ``http://host:port/metrics`` (prometheus_client's server).

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame, optional
        A first view to serve (see :func:`metric_samples`); without one, the endpoint lists
        the series with no samples until :meth:`MetricsServer.update`.
    port : int, default 0
        The port (0: any free one; read it back from ``.port``).
    host : str, default "127.0.0.1"
        The address to listen on; loopback unless you mean to expose it.
    origin_ip : bool, default False
        As in :func:`metric_samples`.

    Returns
    -------
    MetricsServer
        Running in a daemon thread; close it (or use it as a context manager) to stop.

    Examples
    --------
    >>> import urllib.request, tunnelframe as tf
    >>> from tunnelframe.metrics import serve_metrics
    >>> snap = next(iter(tf.simulator.generate_history(2, days=1)))
    >>> with serve_metrics(snap) as server:
    ...     body = urllib.request.urlopen(server.url).read().decode()
    >>> "cloudflare_tunnel_info{" in body
    True
    """
    server = MetricsServer(host, port, origin_ip=origin_ip)
    if source is not None:
        try:
            server.update(source)
        except BaseException:
            server.close()
            raise
    return server
