"""Bundled example data, loaded without any network access.

``load_sample`` returns the sample fleet that ships with the package (``data/`` in the
repository, ``tunnelframe/data/`` in the wheel). The sample is made by
:func:`tunnelframe.simulator.generate_fleet` with a fixed seed and ``as_of``; a test checks it
still equals the generator's output. After changing the generator, regenerate it with::

    .venv/bin/python -m tunnelframe.simulator.regenerate_sample

This module only reads local files; it never fetches anything.
"""

from __future__ import annotations

import functools
import gzip
import json
from datetime import UTC, datetime
from typing import Any, Literal, overload

import pandas as pd

from tunnelframe._data import _data_path
from tunnelframe.frames import connections_frame, connectors_frame, tunnels_frame

__all__ = [
    "SAMPLE_AS_OF",
    "SAMPLE_FILE",
    "SAMPLE_N_TUNNELS",
    "SAMPLE_N_WARP_CONNECTORS",
    "SAMPLE_SEED",
    "load_sample",
]

SAMPLE_FILE = "sample-fleet.json.gz"
SAMPLE_N_TUNNELS = 200
#: WARP Connector tunnels after the 200 cloudflared ones (so those 200 are unchanged).
SAMPLE_N_WARP_CONNECTORS = 12
SAMPLE_SEED = 2026

#: The moment the bundled sample fleet shows (it was generated "as of" then). Measure its ages
#: and version drift here, not at today's date, or every connector looks months older than it
#: is: ``tf.version_drift(frame, as_of=tf.datasets.SAMPLE_AS_OF)``; ``tunnelframe demo`` does.
SAMPLE_AS_OF = datetime(2026, 8, 20, 12, 0, 0, tzinfo=UTC)


@functools.cache
def _sample_text() -> str:
    path = _data_path(SAMPLE_FILE)
    return gzip.decompress(path.read_bytes()).decode("utf-8")


_FRAMES = {
    "connections": connections_frame,
    "connectors": connectors_frame,
    "tunnels": tunnels_frame,
}


def __dir__() -> list[str]:
    # Tab completion shows the public names, not this module's imports.
    return sorted(__all__)


@overload
def load_sample(frame: None = None) -> dict[str, Any]: ...
@overload
def load_sample(frame: Literal["connections", "connectors", "tunnels"]) -> pd.DataFrame: ...
def load_sample(frame: str | None = None) -> dict[str, Any] | pd.DataFrame:
    """Load the bundled sample fleet: about 200 realistic tunnels and their connectors.

    The sample is what :func:`tunnelframe.simulator.generate_fleet` makes for 200 tunnels and
    12 WARP Connector tunnels (``warp_connectors=12``) with seed 2026 as of
    :data:`SAMPLE_AS_OF` (2026-08-20T12:00:00Z): healthy, degraded, down, inactive and deleted
    tunnels, restarts, pending reconnects, version drift and remotely managed tunnels, then
    WARP Connector active/passive pairs with a failover and offline members. No network is
    used.

    Parameters
    ----------
    frame : {"connections", "connectors", "tunnels"}, optional
        Hand back that frame of the sample directly (as seaborn's ``load_dataset`` does)
        instead of the raw fleet.

    Returns
    -------
    dict or pandas.DataFrame
        A fleet, ``{"tunnels": [tunnel, ...]}``, each tunnel a raw API object with its
        ``"connectors"``; a fresh object on every call, so changing it is safe. With
        ``frame``, that frame of the fleet (``tf.connections_frame(tf.load_sample())``).

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = tf.load_sample()
    >>> len(fleet["tunnels"])
    212
    >>> fleet["tunnels"][0]["tun_type"], fleet["tunnels"][-1]["tun_type"]
    ('cfd_tunnel', 'warp_connector')
    >>> tf.load_sample(frame="tunnels").shape[0]
    212
    """
    if frame is not None and frame not in _FRAMES:
        raise ValueError(
            f"load_sample: frame={frame!r} is not one of 'connections', 'connectors', 'tunnels'"
        )
    fleet: dict[str, Any] = json.loads(_sample_text())
    return fleet if frame is None else _FRAMES[frame](fleet)
