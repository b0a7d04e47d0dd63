"""Remote configuration drift: connectors behind their tunnel's newest ``config_version``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tunnelframe._checks import _check_frame
from tunnelframe._deprecate import renamed
from tunnelframe._types import FleetSource
from tunnelframe.snapshot import as_connections
from tunnelframe.versions._calendar import _DATE, _NEG, _days_to_dates
from tunnelframe.versions._drift import (
    _ID_COLUMNS,
    _NA,
    _Connectors,
    _int_array,
    _without_placeholders,
)

__all__ = ["CONFIG_DRIFT_COLUMNS", "config_drift"]

#: Columns and dtypes of :func:`config_drift`, in order.
CONFIG_DRIFT_COLUMNS: dict[str, Any] = {
    "account_id": "category",
    "tunnel_id": "category",
    "tunnel_name": "category",
    "connector_id": "category",
    "version": "category",
    "run_at": _DATE,
    "config_version": "Int64",
    "tunnel_config_version": "Int64",
    "config_versions_behind": "Int64",
}


def _remote_flags(
    frame: pd.DataFrame, conns: _Connectors, tunnels: pd.DataFrame | None
) -> np.ndarray | None:
    """Whether each connector's tunnel is remotely managed; None when nothing says."""
    source = frame
    if tunnels is not None:
        _check_frame(
            tunnels,
            "config_drift",
            columns=("tunnel_id",),
            what="a tunnels frame",
            source="tunnelframe.tunnels_frame",
        )
        if not {"remote_config", "config_src"} & set(tunnels.columns):
            raise ValueError("tunnels lacks remote_config and config_src: pass tunnels_frame(...)")
        lookup = tunnels.drop_duplicates("tunnel_id").set_index(
            tunnels.drop_duplicates("tunnel_id")["tunnel_id"].astype(str)
        )
        ids = pd.Series(conns.take(frame, "tunnel_id")).astype(str)
        source = lookup.reindex(ids.to_numpy()).reset_index(drop=True)
        first = np.arange(len(source))
    else:
        first = conns.first
    flags = None
    if "remote_config" in source.columns:
        flags = source["remote_config"].astype("boolean").fillna(False).to_numpy(bool)[first]
    if "config_src" in source.columns:
        src = (source["config_src"].astype(str) == "cloudflare").to_numpy(bool)[first]
        flags = src if flags is None else flags | src
    return flags


@renamed(frame="source")
def config_drift(source: FleetSource, *, tunnels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Connectors of remotely managed tunnels that run an older configuration than their tunnel.

    A tunnel's configuration version is the newest ``config_version`` any of its connectors
    runs; a connector with a lower one has not applied the newest configuration yet.
    Connectors without a ``config_version`` are left out.

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        Connections as returned by :func:`tunnelframe.connections_frame` (or connectors, as
        returned by :func:`tunnelframe.connectors_frame`). Needs ``connector_id`` and
        ``config_version``.
    tunnels : pandas.DataFrame, optional
        :func:`tunnelframe.tunnels_frame` output, to keep only remotely managed tunnels
        (``remote_config`` true or ``config_src == "cloudflare"``). Without it, a
        ``remote_config``/``config_src`` column of ``frame`` is used when present; otherwise
        every tunnel is checked (connectors of a locally managed tunnel all report the same
        version, so they never show up).

    Returns
    -------
    pandas.DataFrame
        One row per lagging connector, in the order they first appear, with the columns and
        dtypes of :data:`CONFIG_DRIFT_COLUMNS`: the ids, ``version``, ``run_at``,
        ``config_version``, ``tunnel_config_version`` (the tunnel's newest) and
        ``config_versions_behind``.

    Examples
    --------
    >>> conns = pd.DataFrame({"tunnel_id": ["t1", "t1", "t1"], "connector_id": ["a", "b", "c"],
    ...                       "config_version": [7, 5, 7]})
    >>> config_drift(conns)[["connector_id", "config_version", "tunnel_config_version"]]
      connector_id  config_version  tunnel_config_version
    0            b               5                      7
    """
    frame = _check_frame(
        as_connections(source), "config_drift", columns=("connector_id", "config_version")
    )
    frame = _without_placeholders(frame, ("config_version",))
    conns = _Connectors.of(frame)
    raw = pd.to_numeric(frame["config_version"], errors="coerce").astype("Float64")
    valid = raw.notna().to_numpy(bool)[conns.first]
    values = raw.fillna(0).to_numpy(np.int64)[conns.first]
    n_tunnels = int(conns.tunnel.max(initial=-1)) + 1
    newest = np.full(n_tunnels, _NA, dtype=np.int64)
    np.maximum.at(newest, conns.tunnel[valid], values[valid])
    tunnel_newest = newest[conns.tunnel]
    lagging = valid & (values < tunnel_newest)
    remote = _remote_flags(frame, conns, tunnels)
    if remote is not None:
        lagging &= remote
    pick = np.flatnonzero(lagging)
    columns: dict[str, Any] = {c: conns.take(frame, c)[pick] for c in (*_ID_COLUMNS, "version")}
    if "run_at" in frame.columns:
        run_at = pd.to_datetime(frame["run_at"], utc=True, errors="coerce").astype(_DATE)
        columns["run_at"] = run_at.array[conns.first[pick]]
    else:
        columns["run_at"] = _days_to_dates(np.full(len(pick), _NEG))
    columns |= {
        "config_version": _int_array(values[pick]),
        "tunnel_config_version": _int_array(tunnel_newest[pick]),
        "config_versions_behind": _int_array(tunnel_newest[pick] - values[pick]),
    }
    return pd.DataFrame(columns)
