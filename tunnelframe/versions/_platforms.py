"""Platforms (``arch`` values) that stop getting cloudflared releases, and who runs them.

The list, with its dates and the statement it comes from, is data beside the release calendar
(``data/cloudflared-platforms.json``). :func:`deprecated_platforms` finds the connectors that
run such a build. Nothing here touches the network.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
import pandas as pd

from tunnelframe._checks import _BOOL, _check_frame, _flags
from tunnelframe._data import _data_path
from tunnelframe._deprecate import renamed
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe.snapshot import as_connections
from tunnelframe.versions._calendar import _DATE
from tunnelframe.versions._drift import _as_of, _Connectors, _without_placeholders

__all__ = ["DEPRECATED_PLATFORMS_COLUMNS", "deprecated_platforms", "load_platform_deprecations"]

#: Columns and dtypes of :func:`deprecated_platforms`, in order.
DEPRECATED_PLATFORMS_COLUMNS: dict[str, Any] = {
    "account_id": "category",
    "tunnel_id": "category",
    "tunnel_name": "category",
    "connector_id": "category",
    "arch": "category",
    "platform": "str",
    "deprecated_from": _DATE,
    "replaced_by": "str",
    "past_cutoff": _BOOL,
}


@functools.cache
def _table() -> tuple[pd.DataFrame, dict[str, Any]]:
    doc = json.loads(_data_path("cloudflared-platforms.json").read_text(encoding="utf-8"))
    frame = pd.DataFrame(
        {
            "arch": pd.array([p["arch"] for p in doc["platforms"]], dtype="str"),
            "platform": pd.array([p["platform"] for p in doc["platforms"]], dtype="str"),
            "deprecated_from": pd.to_datetime(
                [p["deprecated_from"] for p in doc["platforms"]], utc=True
            ).as_unit("us"),
            "replaced_by": pd.array(
                [", ".join(p["replaced_by"]) for p in doc["platforms"]], dtype="str"
            ),
        }
    )
    return frame, doc["source"]


def load_platform_deprecations() -> pd.DataFrame:
    """The ``arch`` values whose cloudflared builds stop getting releases, with their cutoff.

    Returns
    -------
    pandas.DataFrame
        ``arch`` (``GOOS_GOARCH`` as connectors report it), ``platform`` (its name),
        ``deprecated_from`` (UTC midnight: the first day without releases) and
        ``replaced_by`` (the ``arch`` values to move to, comma-separated). ``.attrs["source"]``
        gives the statement, where it was published and how the day was read from it.

    Examples
    --------
    >>> table = load_platform_deprecations()
    >>> table[["arch", "replaced_by"]].values.tolist()
    [['windows_386', 'windows_amd64'], ['darwin_amd64', 'darwin_arm64']]
    >>> f"{table['deprecated_from'].iloc[0]:%Y-%m-%d}", table.attrs["source"]["announced_on"]
    ('2027-01-01', '2026-09-18')
    """
    frame, source = _table()
    out = frame.copy()
    out.attrs = {"source": dict(source)}
    return out


@renamed(frame="source")
def deprecated_platforms(source: FleetSource, *, as_of: TimeLike | None = None) -> pd.DataFrame:
    """The connectors running a cloudflared build for a platform that stops getting releases.

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        Connections as returned by :func:`tunnelframe.connections_frame`. Needs
        ``connector_id`` and ``arch``; a connector's ``arch`` is its first row's.
    as_of : datetime-like, optional
        When to judge (default now): ``past_cutoff`` is True from the platform's
        ``deprecated_from`` day on.

    Returns
    -------
    pandas.DataFrame
        One row per such connector, in the order they first appear, with the columns and
        dtypes of :data:`DEPRECATED_PLATFORMS_COLUMNS` (the platform's name, cutoff and
        replacements from :func:`load_platform_deprecations`).

    Examples
    --------
    >>> conns = pd.DataFrame({"connector_id": ["a", "b"],
    ...                       "arch": ["windows_386", "linux_amd64"]})
    >>> out = deprecated_platforms(conns, as_of="2026-12-01")
    >>> out[["connector_id", "arch", "replaced_by", "past_cutoff"]]
      connector_id         arch    replaced_by past_cutoff
    0            a  windows_386  windows_amd64       False
    """
    frame = _check_frame(
        as_connections(source), "deprecated_platforms", columns=("connector_id", "arch")
    )
    frame = _without_placeholders(frame, ("arch",))
    when = _as_of(as_of)
    table, _ = _table()
    conns = _Connectors.of(frame)
    arch = conns.take(frame, "arch")
    index = pd.Index(table["arch"]).get_indexer(np.asarray(arch.astype(object), dtype=object))
    hit = np.flatnonzero(index >= 0)
    rows = table.iloc[index[hit]].reset_index(drop=True)
    columns: dict[str, Any] = {
        c: conns.take(frame, c)[hit] for c in ("account_id", "tunnel_id", "tunnel_name")
    }
    columns |= {
        "connector_id": conns.take(frame, "connector_id")[hit],
        "arch": arch[hit].remove_unused_categories(),
        "platform": rows["platform"].array,
        "deprecated_from": rows["deprecated_from"].array,
        "replaced_by": rows["replaced_by"].array,
        "past_cutoff": _flags((rows["deprecated_from"] <= when).to_numpy(bool)),
    }
    return pd.DataFrame(columns).astype({"platform": "str", "replaced_by": "str"})
