"""The HA verdict of WARP Connector tunnels: an active/passive pair, not four connections.

WARP Connector (Cloudflare Mesh) runs one ``active`` member per tunnel and keeps the others
``passive``, ready to take over; a stopped member is ``offline`` (each member's ``ha_status``,
see API-NOTES). So a WARP Connector tunnel is highly available when exactly one member is
active and at least one is passive: cloudflared's rule of four connections in two colos does
not apply to it. Never modifies its input frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tunnelframe._checks import _check_frame
from tunnelframe._deprecate import renamed
from tunnelframe._types import FleetSource
from tunnelframe.colos._core import _TUNNEL_KEYS
from tunnelframe.snapshot import as_connections

__all__ = ["PAIR_STATUSES", "pair_ha_report"]

#: The statuses of :func:`pair_ha_report`, best first.
PAIR_STATUSES = ("ok", "no_standby", "multiple_active", "down")
_STATUS_DTYPE = pd.CategoricalDtype(list(PAIR_STATUSES), ordered=True)


def _reason(n_active: int, n_passive: int, n_offline: int, n_unknown: int) -> str:
    parts = [f"{n_active} active", f"{n_passive} passive"]
    if n_offline:
        parts.append(f"{n_offline} offline")
    if n_unknown:
        parts.append(f"{n_unknown} without ha_status")
    counts = ", ".join(parts)
    if n_active == 0:
        return f"no active member ({counts}): the tunnel serves no traffic"
    if n_active > 1:
        return f"{n_active} members claim active ({counts}): a pair runs one active member"
    if n_passive == 0:
        lost = ": a failover or a stopped standby" if n_offline else ""
        return f"no passive member to take over ({counts}{lost})"
    return counts if not n_offline else f"{counts}: the offline member is not a standby"


@renamed(frame="source")
def pair_ha_report(source: FleetSource) -> pd.DataFrame:
    """Judge the high availability of every WARP Connector tunnel as an active/passive pair.

    Only rows whose ``tun_type`` is ``warp_connector`` are judged (a cloudflared tunnel is
    :func:`ha_report`'s). A member is one connector, counted by its ``ha_status``.
    ``status``, the first that applies:

    - ``down``: no member is ``active``.
    - ``multiple_active``: more than one member is ``active``.
    - ``no_standby``: one active member and no ``passive`` one (a single member, or its partner
      ``offline``, as after a failover): losing the host loses the tunnel.
    - ``ok``: one active member and at least one passive one (an extra ``offline`` member is
      named in ``reason`` but does not change the status).

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        The fleet: a Snapshot, a saved snapshot's path, a fleet dict or a connections frame
        (:func:`tunnelframe.connections_frame`).

    Returns
    -------
    pandas.DataFrame
        One row per WARP Connector tunnel in order of first appearance: ``account_id``,
        ``tunnel_id``, ``tunnel_name``, ``tunnel_status`` (as the API reports it),
        ``n_members``, ``n_active``, ``n_passive``, ``n_offline`` (int64 counts of members by
        ``ha_status``; a member without one counts only in ``n_members``), ``status`` (ordered
        category of :data:`PAIR_STATUSES`) and ``reason`` (str). Empty when the frame holds no
        WARP Connector.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> member = {"id": "m1", "ha_status": "active", "conns": [{"id": "x", "colo_name": "FRA"}]}
    >>> fleet = {"tunnels": [{"id": "t1", "name": "mesh", "tun_type": "warp_connector",
    ...     "connectors": [member, {"id": "m2", "ha_status": "offline", "conns": []}]}]}
    >>> report = pair_ha_report(tf.connections_frame(fleet))
    >>> report[["tunnel_name", "n_active", "n_offline", "status"]]
      tunnel_name  n_active  n_offline      status
    0        mesh         1          1  no_standby
    """
    needed = [*_TUNNEL_KEYS, "tunnel_status", "connector_id", "tun_type", "ha_status"]
    frame = _check_frame(as_connections(source), "pair_ha_report", columns=needed)
    warp = frame[(frame["tun_type"] == "warp_connector").fillna(False).to_numpy(dtype=bool)]
    members = warp.drop_duplicates([*_TUNNEL_KEYS, "connector_id"])
    ha = members["ha_status"].astype(object)
    counted = pd.DataFrame(
        {
            "n_members": 1,
            "n_active": (ha == "active").astype(np.int64),
            "n_passive": (ha == "passive").astype(np.int64),
            "n_offline": (ha == "offline").astype(np.int64),
        },
        index=members.index,
    )
    keys = [members[k] for k in (*_TUNNEL_KEYS, "tunnel_status")]
    grouped = counted.groupby(keys, observed=True, dropna=False, sort=False).sum()
    out = grouped.reset_index().astype(
        {name: np.int64 for name in ("n_members", "n_active", "n_passive", "n_offline")}
    )
    for key in (*_TUNNEL_KEYS, "tunnel_status"):
        out[key] = out[key].astype(frame[key].dtype)
    n_active, n_passive = out["n_active"].to_numpy(), out["n_passive"].to_numpy()
    status = np.select(
        [n_active == 0, n_active > 1, n_passive == 0],
        ["down", "multiple_active", "no_standby"],
        "ok",
    )
    out["status"] = pd.Categorical(status, dtype=_STATUS_DTYPE)
    unknown = out["n_members"] - out["n_active"] - out["n_passive"] - out["n_offline"]
    reasons = [
        _reason(*values)
        for values in zip(n_active, n_passive, out["n_offline"].to_numpy(), unknown, strict=True)
    ]
    out["reason"] = pd.Series(reasons, index=out.index, dtype=object)
    return out
