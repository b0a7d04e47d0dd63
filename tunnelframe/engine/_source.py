"""What a report or an export is made from: a snapshot, a snapshot file, a fleet or a frame.

:func:`resolve` turns any accepted ``source`` into one :class:`FleetData`: the connections,
connectors and tunnels frames, the fetch errors when known, the fetch time and the ``as_of``
moment the analysis is done at. A connections frame alone carries no tunnel list and no fetch
errors: the tunnels are rebuilt from its rows (tunnels without connectors are then missing)
and ``errors`` is None, which the sections say rather than guess. Nothing here fetches.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tunnelframe._checks import _utc
from tunnelframe._errors import PartialFleetWarning
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe.colos import ha_report
from tunnelframe.frames import (
    CONNECTIONS_SCHEMA,
    connections_frame,
    connectors_frame,
    connectors_from_connections,
    tunnels_frame,
    tunnels_from_connections,
)
from tunnelframe.snapshot import Snapshot, load_snapshot

__all__ = ["ERROR_COLUMNS", "KINDS", "FleetData", "resolve", "tunnel_ha"]

#: Columns of the fetch-errors frame, as ``Snapshot.errors_frame()`` gives them.
ERROR_COLUMNS = ("account_id", "tunnel_id", "tunnel_name", "status", "codes", "message")


@dataclass(frozen=True)
class FleetData:
    """Everything a judgement (and a report) needs, already flattened.

    Examples
    --------
    >>> from tunnelframe.engine import resolve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...     "status": "healthy", "connectors": [{"id": "c1", "version": "2024.1.0", "conns": [
    ...         {"id": f"x{i}", "colo_name": "DFW"} for i in range(4)]}]}]}
    >>> data = resolve(fleet, as_of="2026-08-20")
    >>> len(data.connections), data.origin, data.tunnels_complete
    (4, 'fleet', True)
    """

    connections: pd.DataFrame
    connectors: pd.DataFrame
    tunnels: pd.DataFrame
    #: fetch errors; None when the source cannot say (a connections frame)
    errors: pd.DataFrame | None
    fetched_at: pd.Timestamp | None
    account_ids: tuple[str, ...]
    as_of: pd.Timestamp
    #: what the data came from, for the report header ("snapshot …", "connections frame")
    origin: str
    #: False when the tunnel list was rebuilt from connections (idle tunnels missing)
    tunnels_complete: bool = True
    redacted: bool = False
    #: what the tunnels serve (``Snapshot.routing``, a fleet's ``"routing"``); None: not read
    routing: Mapping[str, Any] | None = None


#: The tunnel types a report or check can be limited to (``tun_type=``).
KINDS = ("cfd_tunnel", "warp_connector")


def resolve(
    source: FleetSource, *, as_of: TimeLike | None = None, tun_type: str | None = None
) -> FleetData:
    """Return the :class:`FleetData` of ``source`` (see :func:`tunnelframe.write_report`),
    limited to the tunnels of one ``tun_type`` when given.

    Examples
    --------
    >>> fleet = {"tunnels": [{"id": "t1", "name": "web", "tun_type": "warp_connector"}]}
    >>> len(resolve(fleet).tunnels), len(resolve(fleet, tun_type="cfd_tunnel").tunnels)
    (1, 0)
    """
    if tun_type is not None and tun_type not in KINDS:
        raise ValueError(f"tun_type must be one of {', '.join(KINDS)} or None, got {tun_type!r}")
    data = _resolve(source, as_of=as_of)
    return data if tun_type is None else _only(data, tun_type)


def _of_kind(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The rows of ``frame`` whose ``tun_type`` is ``kind``; a missing ``tun_type`` (a payload
    or snapshot from before WARP Connector support) is cloudflared's."""
    tun_type = frame["tun_type"].astype("object").fillna("cfd_tunnel")
    return frame[(tun_type == kind).to_numpy(dtype=bool)].reset_index(drop=True)


def _only(data: FleetData, kind: str) -> FleetData:
    tunnels = _of_kind(data.tunnels, kind)
    errors = data.errors
    if errors is not None:
        keep = set(tunnels["tunnel_id"].astype(str))
        errors = errors[errors["tunnel_id"].astype(str).isin(keep)].reset_index(drop=True)
    return replace(
        data,
        connections=_of_kind(data.connections, kind),
        connectors=_of_kind(data.connectors, kind),
        tunnels=tunnels,
        errors=errors,
        origin=f"{data.origin}, {kind} only",
    )


def _resolve(source: FleetSource, *, as_of: TimeLike | None) -> FleetData:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return _from_snapshot(load_snapshot(path), as_of=as_of, origin=f"snapshot {path.name}")
    if isinstance(source, pd.DataFrame):
        return _from_connections(source, as_of=as_of)
    if isinstance(source, dict) and "tunnels" in source:
        return _from_fleet(source, as_of=as_of)
    if isinstance(source, Snapshot):
        return _from_snapshot(source, as_of=as_of, origin="snapshot")
    if isinstance(source, Mapping | list):  # another payload: connectors, an envelope, ...
        return _from_connections(connections_frame(source), as_of=as_of)
    raise TypeError(
        "source must be a Snapshot, a snapshot path, a fleet dict, an API payload or a "
        f"connections frame, not {type(source).__name__}"
    )


def _from_snapshot(snapshot: Snapshot, *, as_of: TimeLike | None, origin: str) -> FleetData:
    fetched_at = _utc(snapshot.fetched_at, "fetched_at")
    return FleetData(
        connections=snapshot.connections(),
        connectors=snapshot.connectors(),
        tunnels=snapshot.tunnels_frame(),
        errors=snapshot.errors_frame(),
        fetched_at=fetched_at,
        account_ids=tuple(str(a) for a in snapshot.account_ids),
        as_of=_utc((snapshot.as_of or fetched_at) if as_of is None else as_of, "as_of"),
        origin=origin,
        routing=snapshot.routing,
    )


def _from_fleet(fleet: dict[str, Any], *, as_of: TimeLike | None) -> FleetData:
    tunnels = tunnels_frame(fleet)
    return FleetData(
        connections=connections_frame(fleet),
        connectors=connectors_frame(fleet),
        tunnels=tunnels,
        errors=None,
        fetched_at=None,
        account_ids=_accounts(tunnels),
        as_of=_now() if as_of is None else _utc(as_of, "as_of"),
        origin="fleet",
        routing=fleet.get("routing"),
    )


def _from_connections(frame: pd.DataFrame, *, as_of: TimeLike | None) -> FleetData:
    missing = [c for c in CONNECTIONS_SCHEMA if c not in frame.columns]
    if missing:
        raise ValueError(
            "a frame source must be a connections frame (tunnelframe.connections_frame); "
            f"it lacks the columns {', '.join(missing)}"
        )
    return FleetData(
        connections=frame,
        connectors=connectors_from_connections(frame),
        tunnels=tunnels_from_connections(frame),
        errors=None,
        fetched_at=None,
        account_ids=_accounts(frame),
        as_of=_now() if as_of is None else _utc(as_of, "as_of"),
        origin="connections frame",
        tunnels_complete=False,
        # what its tunnels serve, when the frame carries it (load_history(latest=True))
        routing=frame.attrs.get("routing"),
    )


def _now() -> pd.Timestamp:
    return pd.Timestamp(datetime.now(UTC))


def _accounts(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(sorted(str(a) for a in frame["account_id"].dropna().unique()))


def tunnel_ha(connections: pd.DataFrame, *, expected_connections: int = 4) -> pd.DataFrame:
    """``ha_report(connections, level="tunnel")`` of the tunnels with connectors.

    The engine knows whether its tunnel list is complete (``FleetData.tunnels_complete``,
    the down rule reads the tunnels frame itself) and says so in the report, so the
    :class:`~tunnelframe.PartialFleetWarning` meant for a caller who passed a frame is
    silenced here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialFleetWarning)
        report: pd.DataFrame = ha_report(
            connections, level="tunnel", expected_connections=expected_connections
        )
    return report
