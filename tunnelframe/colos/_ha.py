"""The HA verdict per connector or tunnel: status, reason, redundancy counts.

Never modifies its input frame; reasons are built once per distinct situation, not per row.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from tunnelframe._checks import _check_frame, _distinct_text, _flags
from tunnelframe._deprecate import renamed
from tunnelframe._errors import PartialFleetWarning, TunnelframeDeprecationWarning
from tunnelframe._text import plural
from tunnelframe._types import FleetSource
from tunnelframe.colos._core import (
    _CONNECTOR_KEYS,
    _TUNNEL_KEYS,
    _Connectors,
    _connectors,
    _groups,
    _labelled,
    _take,
)
from tunnelframe.colos._rules import (
    CONNECTOR_HA_RULES,
    HA_STATES,
    TUNNEL_HA_RULES,
    ha_states,
    holds,
)
from tunnelframe.frames import tunnels_frame
from tunnelframe.snapshot import Snapshot, as_connections, load_snapshot

_TEXT = pd.ArrowDtype(pa.string())

__all__ = ["ha_report"]

_CONNECTOR_STATUSES = ("ok", "single_colo", "degraded", "down")
# Best first, as the ordered categories of ``status`` (HA_STATES lists them worst first);
# ``inactive``, a tunnel that never connected, is no HA state: it comes first.
_TUNNEL_STATUSES = ("inactive", *reversed(HA_STATES))
# A flag per rule, set whatever the status: ``down`` is the first rule (nothing outranks
# it), so its status is its flag.
_TUNNEL_FLAGS = tuple(state for state, _ in TUNNEL_HA_RULES[1:])


def _spread(n_sites: int, n_metros: int) -> str:
    return f"{plural(n_sites, 'site')} of {plural(n_metros, 'metro')}"


def _connector_label(expected: int) -> Callable[..., str]:
    def label(
        n_active: int, n_pending: int, n_colos: int, n_metros: int, colo: str, replaced: bool
    ) -> str:
        pending = plural(n_pending, "pending reconnect")
        if n_active == 0:
            if replaced:
                return (
                    f"no active connection, only {pending}: likely replaced by a restart "
                    "(a newer connector of this tunnel is up)"
                )
            return f"no active connection, {pending}" if n_pending else "no connection"
        where = (
            (f"all in {colo}" if n_active > 1 else f"in {colo}")
            if n_colos == 1
            else (f"in {_spread(n_colos, n_metros)}" if n_colos else "colo unknown")
        )
        text = f"{n_active} of {plural(expected, 'expected connection')} active, {where}"
        return f"{text}; {pending}" if n_pending else text

    return label


def _tunnel_label(expected: int) -> Callable[..., str]:
    def label(
        n_connectors: int,
        n_up: int,
        n_active: int,
        n_colos: int,
        n_metros: int,
        colo: str,
        n_short: int,
        n_replaced: int,
        api: str,
        mismatch: int,
        n_anonymous: int,
    ) -> str:
        if n_connectors == 0 and n_active and n_anonymous:
            conns = plural(n_active, "active connection")
            where = f"in {_spread(n_colos, n_metros)}" if n_colos else "colo unknown"
            parts = [
                f"{conns} {where}",
                "connectors unknown (its connections name no connector: no client_id)",
            ]
        elif n_connectors == 0:
            parts = ["no connector"]
        elif n_active == 0:
            parts = [f"no active connection on {plural(n_connectors, 'connector')}"]
        else:
            redundancy = " (no host redundancy)" if n_up == 1 else ""
            conns = plural(n_active, "active connection")
            where = (
                (f"all {conns} in {colo}" if n_active > 1 else f"{conns} in {colo}")
                if n_colos == 1
                else (
                    f"{conns} in {_spread(n_colos, n_metros)}"
                    if n_colos
                    else f"{conns}, colo unknown"
                )
            )
            parts = [f"{plural(n_up, 'connector')} up{redundancy}", where]
        if n_short and n_active:
            parts.append(f"{plural(n_short, 'connector')} short of {expected} active connections")
        if n_replaced:
            parts.append(f"{plural(n_replaced, 'connector')} replaced by a restart")
        if mismatch == 1:
            says = "no connection is active" if n_active == 0 else "connections are active"
            parts.append(f"API status {api!r} disagrees: {says}")
        return "; ".join(parts)

    return label


@renamed(frame="source")
def ha_report(
    source: FleetSource,
    *,
    level: Literal["connector", "tunnel"] | None = None,
    expected_connections: int = 4,
) -> pd.DataFrame:
    """Judge the high availability of every connector, or every tunnel.

    cloudflared opens ``expected_connections`` (4 by default, 1 for quick tunnels) connections
    to two edge regions; they usually land in two or more *sites* of the metro nearest to the
    host (``1xord02, 1xord06, 2xord12``: three Chicago sites), sometimes in two metros. A
    colo here is a site, the ``colo_name`` the API gives; its metro is the IATA code shared by
    the sites of a city (see :func:`colo_info`). A tunnel survives the loss of a host only with
    two or more connectors up, and the loss of a whole metro only with connectors that land in
    two metros (hosts in two places): ``single_metro`` flags tunnels that cannot, as
    information, not as a problem (one host always lands in one metro). An *active* connection
    is one that is not a pending reconnect.

    Connector ``status``, the first that applies:

    - ``down``: no active connection. An idle connector, or one with only pending reconnects.
      When a newer connector of the same tunnel is up (or run times are unknown), the
      connector is flagged ``replaced`` and its reason says "likely replaced by a restart":
      cloudflared restarts under a new connector id and the old one lingers a few minutes.
    - ``degraded``: fewer than ``expected_connections`` active connections.
    - ``single_colo``: every active connection in one site (one active connection too:
      one site is all it reaches). Connections in two sites of one metro are not
      ``single_colo``: that is how cloudflared spreads them.
    - ``ok``: otherwise.

    Tunnel ``status``, the first that applies (the rule table
    :data:`~tunnelframe.colos.TUNNEL_HA_RULES`, which the history queries share):

    - ``inactive``: no connector, and the API says the tunnel never connected (only from a
      source that lists every tunnel); not an HA state.
    - ``down``: no active connection (or no connector).
    - ``single_connector``: exactly one connector up: no host redundancy.
    - ``degraded``: some connector not ``replaced`` is ``down`` or ``degraded``.
    - ``single_colo``: every active connection of the tunnel in one site (one too).
    - ``ok``: otherwise.

    ``reason`` is a sentence naming every problem that applies, not only the status's.
    ``n_connectors`` counts every connector listed, ``replaced`` ones included. Connections
    that name no connector (cloudflared's ``tunnel list -o json`` gives no ``client_id``)
    count at tunnel level (``n_active``, ``n_pending``, sites, metros); only the
    connector-level answers (``n_connectors``, ``single_connector``, ``degraded``) are
    unknown for them, and the reason says so. A tunnel
    without any connector (never run, or down) has no row in a connections frame, so none
    here either from a frame (a :class:`~tunnelframe.PartialFleetWarning` says so); from a
    Snapshot, a snapshot path or a fleet, which list every tunnel, it is a ``down`` row with
    zero counts (``inactive`` when it never connected). Deleted tunnels are no part of a
    fleet: they get no row. WARP
    Connector tunnels (``tun_type`` ``warp_connector``) run active/passive pairs, not four
    connections: they are left out here and judged by :func:`tunnelframe.pair_ha_report`.

    The flags (``single_connector``, ``degraded``, ``single_colo``: one per rule below
    ``down``, its condition; ``single_metro``, ``status_mismatch``) are set whatever the
    ``status``: ``status`` names the most urgent problem only, so count a problem with its
    flag (``report["single_colo"].sum()``), not with ``status.value_counts()``.
    :func:`tunnelframe.plot_ha_status` draws these counts.

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`.
    level : {"connector", "tunnel"}, optional
        One row per connector, or one per tunnel. Pass it: left out, it is ``"connector"``
        with a :class:`~tunnelframe.TunnelframeDeprecationWarning`, and from the next release
        ``"tunnel"``, the default of ``level`` everywhere (:func:`plot_ha_status` draws
        tunnels; the report and ``check`` count them).
    expected_connections : int, default 4
        Active connections a healthy connector holds (cloudflared's ``--ha-connections``).

    Returns
    -------
    pandas.DataFrame
        Rows in order of first appearance in ``frame``. Connector level: ``account_id``,
        ``tunnel_id``, ``tunnel_name``, ``connector_id``, ``run_at``, ``n_active``,
        ``n_pending``, ``n_colos`` (int64: distinct sites of active connections),
        ``n_metros`` (int64: distinct metros of active connections), ``status`` (ordered
        category, from ``ok`` to ``down``), ``reason`` (str), ``replaced`` (bool). Tunnel
        level: ``account_id``, ``tunnel_id``, ``tunnel_name``, ``tunnel_status`` (as the API
        reports it), ``n_connectors``, ``n_active_connectors``, ``n_active``, ``n_pending``,
        ``n_colos`` and ``n_metros`` (int64: distinct sites and metros of active connections),
        ``single_connector`` (bool: exactly one connector up, so no host redundancy),
        ``degraded`` (bool: some connector not ``replaced`` is short of
        ``expected_connections`` active connections, a down one included),
        ``single_colo`` (bool: every active connection in one site, one included),
        ``single_metro`` (bool: active connections in exactly one metro; these flags are set
        whatever the ``status``), ``concentration`` (float64: the busiest site's share of the
        active connections, NaN without any), ``status`` (ordered category), ``reason``
        (str), ``status_mismatch`` (boolean: the API says healthy or degraded but no
        connection is active, or says down or inactive while some are; NA for other API
        statuses).

    Examples
    --------
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> report = tf.ha_report(conns, level="connector")
    >>> set(report["status"].unique()) <= {"ok", "single_colo", "degraded", "down"}
    True
    >>> fleet = tf.simulator.generate_fleet(20, seed=1)
    >>> tunnels = tf.ha_report(fleet, level="tunnel")  # every tunnel: pass the fleet
    >>> len(tunnels) <= len(fleet["tunnels"])
    True
    """
    if level is None:
        warnings.warn(
            "ha_report() without level= gives one row per connector in this release and one "
            "per tunnel from the next (level's default everywhere, what plot_ha_status, the "
            "report and check count): pass level='connector' to keep connector rows, or "
            "level='tunnel'",
            TunnelframeDeprecationWarning,
            stacklevel=3,  # the caller of the @renamed wrapper
        )
        level = "connector"
    if level not in ("connector", "tunnel"):
        raise ValueError(f"ha_report: level={level!r} is not 'connector' or 'tunnel'")
    if (
        isinstance(expected_connections, bool)
        or not isinstance(expected_connections, int | np.integer)
        or expected_connections < 1
    ):
        raise ValueError(
            f"ha_report: expected_connections={expected_connections!r} must be a positive "
            "integer (cloudflared's default is 4)"
        )
    expected = int(expected_connections)
    needed = [*_CONNECTOR_KEYS, "run_at", "colo_name", "is_pending_reconnect"]
    if level == "tunnel":
        needed.append("tunnel_status")
    if isinstance(source, (str, os.PathLike)):
        source = load_snapshot(source)
    frame = _check_frame(as_connections(source), "ha_report", columns=needed)
    if "tun_type" in frame.columns:  # WARP Connector pairs are pair_ha_report's to judge
        frame = frame[(frame["tun_type"] != "warp_connector").fillna(True).to_numpy(dtype=bool)]
    c = _connectors(frame)
    degraded = c.n_active < expected
    status = ha_states(
        pd.DataFrame({"n_active": c.n_active, "n_colos": c.n_colos, "expected": expected}),
        CONNECTOR_HA_RULES,
    )
    if level == "connector":
        out = _take(frame, (*_CONNECTOR_KEYS, "run_at"), c.rows)
        out["n_active"] = c.n_active.astype(np.int64)
        out["n_pending"] = c.n_pending.astype(np.int64)
        out["n_colos"] = c.n_colos.astype(np.int64)
        out["n_metros"] = c.n_metros.astype(np.int64)
        out["status"] = pd.Categorical(status, categories=_CONNECTOR_STATUSES, ordered=True)
        keys = pd.DataFrame(
            {
                "n_active": c.n_active,
                "n_pending": c.n_pending,
                "n_colos": c.n_colos,
                "n_metros": c.n_metros,
                "colo": c.only_colo,
                "replaced": c.replaced,
            }
        )
        out["reason"] = _labelled(keys, _connector_label(expected))
        out["replaced"] = _flags(c.replaced)
        rows = np.flatnonzero(frame["connector_id"].notna().to_numpy())
        groups = _groups(frame.iloc[rows], ("account_id", "tunnel_id", "connector_id"))
        out["origin_ips"] = _origin_ips(frame.iloc[rows], groups.codes, groups.n)
        return pd.DataFrame(out)
    report = _tunnel_report(frame, c, degraded, expected)
    tunnels = _groups(frame, ("account_id", "tunnel_id"))
    report["origin_ips"] = _origin_ips(frame, tunnels.codes, tunnels.n)
    if isinstance(source, Snapshot):
        return _with_idle_tunnels(report, source.tunnels_frame())
    if isinstance(source, Mapping) and "tunnels" in source:
        return _with_idle_tunnels(report, tunnels_frame(source))
    warnings.warn(
        "ha_report(level='tunnel') of a connections frame judges only the tunnels with a "
        "connector: a tunnel that is down with none, or never connected, has no row in it. "
        "Pass the Snapshot (or its path, or the fleet dict) to judge every tunnel.",
        PartialFleetWarning,
        stacklevel=3,
    )
    return report


def _origin_ips(frame: pd.DataFrame, groups: np.ndarray, n: int) -> pd.arrays.ArrowExtensionArray:
    """Each group's distinct origin IPs (its hosts), sorted and joined with ", "."""
    texts = _distinct_text(groups, frame["origin_ip"], n) if "origin_ip" in frame else [""] * n
    return pd.arrays.ArrowExtensionArray(pa.array(texts, type=pa.string()))


def _with_idle_tunnels(out: pd.DataFrame, tunnels: pd.DataFrame) -> pd.DataFrame:
    """``out`` with a row for every tunnel of ``tunnels`` it lacks (no connector): ``down``,
    or ``inactive`` when the API says it never connected; deleted tunnels are no part of a
    fleet and get none."""
    seen = set(zip(out["account_id"].astype(object), out["tunnel_id"].astype(object), strict=True))
    if "deleted_at" in tunnels.columns:
        tunnels = tunnels[tunnels["deleted_at"].isna().to_numpy(dtype=bool)]
    if "tun_type" in tunnels.columns:  # WARP Connector pairs are pair_ha_report's to judge
        tunnels = tunnels[(tunnels["tun_type"] != "warp_connector").fillna(True).to_numpy(bool)]
    keys = zip(
        tunnels["account_id"].astype(object), tunnels["tunnel_id"].astype(object), strict=True
    )
    missing = tunnels[[key not in seen for key in keys]].reset_index(drop=True)
    if not len(missing):
        return out
    n = len(missing)
    api = missing["tunnel_status"].astype(object)
    says_up = api.isin(["healthy", "degraded"]).to_numpy(dtype=bool)
    idle = pd.DataFrame(
        {
            **{k: missing[k] for k in (*_TUNNEL_KEYS, "tunnel_status")},
            **dict.fromkeys(
                ("n_connectors", "n_active_connectors", "n_active", "n_pending", "n_colos",
                 "n_metros"),
                np.zeros(n, dtype=np.int64),
            ),
            **{flag: _flags(np.zeros(n, bool)) for flag in _TUNNEL_FLAGS},
            "single_metro": _flags(np.zeros(n, bool)),
            "concentration": np.full(n, np.nan),
            "status": pd.Series(
                np.where(api.to_numpy(dtype=object) == "inactive", "inactive", "down")
            ).astype(out["status"].dtype),
            "reason": [
                f"no connector (the API says {s})" if isinstance(s, str) else "no connector"
                for s in api
            ],
            "status_mismatch": _flags(says_up),
            "origin_ips": [""] * n,
        }
    )  # fmt: skip
    both = pd.concat([out, idle[out.columns]], ignore_index=True)
    for column in out.columns:
        if column in (*_TUNNEL_KEYS, "tunnel_status"):  # categories: the union, as frames make
            both[column] = both[column].astype(_TEXT).astype("category")
        else:
            both[column] = both[column].astype(out[column].dtype)
    return both


def _tunnel_report(
    frame: pd.DataFrame, c: _Connectors, short: np.ndarray, expected: int
) -> pd.DataFrame:
    n = c.n_tunnels

    def per_tunnel(values: np.ndarray) -> np.ndarray:
        return np.bincount(c.tunnel, weights=values, minlength=n).astype(np.int64)

    up = c.n_active > 0
    n_connectors = np.bincount(c.tunnel, minlength=n).astype(np.int64)
    n_up = per_tunnel(up)
    n_active = c.tunnel_active.astype(np.int64)
    n_short = per_tunnel(short & ~c.replaced)
    n_replaced = per_tunnel(c.replaced)
    pair_tunnel, pair_colo, counts = c.pairs
    n_colos = np.bincount(pair_tunnel, minlength=n).astype(np.int64)
    busiest = np.zeros(n, dtype=np.int64)
    located = np.bincount(pair_tunnel, weights=counts, minlength=n)
    if len(pair_tunnel):
        starts = np.flatnonzero(np.r_[True, pair_tunnel[1:] != pair_tunnel[:-1]])
        busiest[pair_tunnel[starts]] = np.maximum.reduceat(counts, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        concentration = np.where(located > 0, busiest / located, np.nan)
    only_colo = np.full(n, "", dtype=object)
    single = np.flatnonzero(n_colos == 1)
    only_colo[single] = c.colo_labels[pair_colo[np.searchsorted(pair_tunnel, single)]]
    tally = pd.DataFrame(
        {"n_active": n_active, "n_active_connectors": n_up, "n_short": n_short, "n_colos": n_colos}
    )
    status = ha_states(tally, TUNNEL_HA_RULES)
    # The flags are the rules' conditions, set whatever the status.
    rule = dict(TUNNEL_HA_RULES)
    flags = {flag: _flags(holds(tally, rule[flag])) for flag in _TUNNEL_FLAGS}

    out = _take(frame, (*_TUNNEL_KEYS, "tunnel_status"), c.tunnel_rows)
    api = out["tunnel_status"].astype("str").str.lower()
    says_up = api.isin(["healthy", "degraded"]).to_numpy(dtype=bool)
    says_down = api.isin(["down", "inactive"]).to_numpy(dtype=bool)
    mismatch = pd.array(np.where(says_up, n_active == 0, n_active > 0), dtype="boolean")
    mismatch[~(says_up | says_down)] = pd.NA  # the API's status says neither up nor down
    out.update(
        n_connectors=n_connectors,
        n_active_connectors=n_up,
        n_active=n_active,
        n_pending=c.tunnel_pending.astype(np.int64),
        n_colos=n_colos,
        n_metros=c.n_tunnel_metros.astype(np.int64),
        **flags,
        single_metro=_flags(c.n_tunnel_metros == 1),
        concentration=concentration.astype(np.float64),
        status=pd.Categorical(status, categories=_TUNNEL_STATUSES, ordered=True),
    )
    keys = pd.DataFrame(
        {
            "n_connectors": n_connectors,
            "n_up": n_up,
            "n_active": n_active,
            "n_colos": n_colos,
            "n_metros": c.n_tunnel_metros,
            "colo": only_colo,
            "n_short": n_short,
            "n_replaced": n_replaced,
            "api": api.fillna("").to_numpy(dtype=object),
            "mismatch": mismatch.fillna(False).to_numpy(dtype=np.int64),
            "n_anonymous": c.tunnel_anonymous,
        }
    )
    out["reason"] = _labelled(keys, _tunnel_label(expected))
    out["status_mismatch"] = _flags(mismatch)
    return pd.DataFrame(out)
