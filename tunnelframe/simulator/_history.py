"""Generate a synthetic fleet history: one fleet evolving over simulated days, as snapshots.

The first snapshot is :func:`generate_fleet` at ``start``; every later one is the same fleet a
step later, moved by a small model of what operators see (rates are module constants):

* Upgrades follow the bundled release calendar. A host that ran a recent release at ``start``
  auto-updates a few days after each release; one a few months behind upgrades to the newest
  release at maintenance windows every one to three months; older hosts never upgrade.
  An upgrade is a restart (cloudflared draws a new connector id when it starts).
* Restarts: ~5 % of hosts restart every day at a fixed hour (a cron job); the others restart
  at random, as often as their update habit suggests.
* A host sometimes has all its connections land in one colo for a while (single colo), or
  keeps only one to three of its four connections (degraded); a tunnel sometimes goes down
  entirely for a few hours, then its hosts come back with new connector ids.
* Hosts are added to and removed from running tunnels now and then.

Hosts keep their colo sites (``ord12``) restart after restart; snapshots dated before mid-2023
show the upper-case metro codes (``ORD``) the API returned then, later ones the site codes.

Like :func:`generate_fleet` it is deterministic (same arguments, same snapshots), uses a
private RNG, and never touches the network. It reuses the fleet generator's building blocks
(hosts, versions, features, connection layouts) rather than inventing its own.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Any

import pandas as pd

from tunnelframe.simulator._generator import (
    _DAY,
    _EPOCH,
    _HOUR,
    _LAYOUT_CUM,
    _LAYOUTS,
    _S,
    _SITE_CODES_SINCE,
    DEFAULT_AS_OF,
    _Builder,
    _Host,
    _release_calendar,
    _sort_key,
    _to_us,
    generate_fleet,
)
from tunnelframe.simulator._tables import _REGIONS, _SITES, _Region
from tunnelframe.snapshot import Snapshot

__all__ = ["generate_history"]

_AUTO, _MAINTAINED, _FROZEN = 0, 1, 2
_AUTO_MAX_LAG_DAYS = 15.0  # hosts at most this far behind at start auto-update
_MAINTAINED_MAX_LAG_DAYS = 240.0  # ... at most this far behind upgrade at maintenance windows
_AUTO_DELAY_DAYS = (0.2, 4.0)  # an auto-updating host upgrades this long after a release
_MAINTENANCE_EVERY_DAYS = (30.0, 95.0)
_P_DAILY_RESTART = 0.05  # hosts restarted by a daily cron job
_UPTIME_DAYS = (20.0, 25.0, 60.0)  # mean days between other restarts, by update policy

_SINGLE_COLO_PER_DAY = 1 / 120  # rate at which a host's connections collapse into one colo
_DEGRADED_PER_DAY = 1 / 90  # rate at which a host drops to 1-3 connections
_EPISODE_MEAN_DAYS = 0.75
_OUTAGE_PER_DAY = 1 / 200  # rate at which a whole tunnel goes down
_OUTAGE_MEAN_DAYS = 0.25
_HOST_ADDED_PER_DAY = 1 / 150  # per running tunnel
_HOST_REMOVED_PER_DAY = 1 / 100  # per running tunnel with two hosts or more
_MAX_HOSTS = 10


@dataclass(slots=True)
class _HostState:
    host: _Host
    connector: dict[str, Any]
    version: str
    config_version: int | None
    policy: int
    delay_us: int  # auto: delay after each release; maintained: next window (instant)
    daily_at: int | None  # offset in the day (µs) of a daily restart, or None
    uptime_days: float
    layout: tuple[int, ...]  # colo index of each connection after a (re)start
    episode_until: int = 0  # end of a single-colo or degraded episode (0: none)


@dataclass(slots=True)
class _TunnelState:
    raw: dict[str, Any]  # the tunnel object without its changing keys
    region: _Region
    hosts: list[_HostState]
    down_until: int = 0  # end of an outage (0: none)
    down_since: int = 0
    frozen: bool = False  # deleted or never run: shown as generated, never changes
    connectors: list[dict[str, Any]] = field(default_factory=list)


def generate_history(
    n_tunnels: int,
    *,
    days: float = 30,
    every: str | timedelta = "1D",
    seed: int = 0,
    start: datetime | str | None = None,
    account_id: str | None = None,
) -> Iterator[Snapshot]:
    """Generate snapshots of one synthetic fleet over simulated days.

    Connectors upgrade as cloudflared releases come out (the bundled release calendar), restart
    (some every day), lose a colo or connections for a while, and hosts come and go (the
    rates are documented with the generator's source). Feed the snapshots to
    :func:`tunnelframe.append_snapshot` to build a history store offline.

    Parameters
    ----------
    n_tunnels : int
        Tunnels in the fleet (as :func:`generate_fleet`).
    days : float, default 30
        Length of the history: snapshots run from ``start`` to ``start + days``, both included.
    every : str or timedelta, default "1D"
        Time between snapshots (anything ``pandas.Timedelta`` accepts: ``"5min"``, ``"1h"``).
    seed : int, default 0
        Seed of the private random generators; same arguments, same snapshots.
    start : datetime or str, optional
        Time of the first snapshot (naive: UTC). Default: ``days`` before
        :data:`DEFAULT_AS_OF`, so the last snapshot is at 2026-08-20T12:00:00Z.
    account_id : str, optional
        The account of every tunnel (32 hex characters); default derived from ``seed``.

    Yields
    ------
    Snapshot
        One per step, ``fetched_at`` increasing by ``every``. Consecutive snapshots share the
        connector objects that did not change: treat them as read-only.

    Raises
    ------
    ValueError
        If ``days`` is negative or ``every`` is not a positive duration (and as
        :func:`generate_fleet`).

    Examples
    --------
    >>> from tunnelframe.simulator import generate_history
    >>> snapshots = list(generate_history(5, days=2))
    >>> [s.fetched_at.isoformat() for s in snapshots]
    ['2026-08-18T12:00:00+00:00', '2026-08-19T12:00:00+00:00', '2026-08-20T12:00:00+00:00']
    """
    try:
        step_us = int(pd.Timedelta(every).total_seconds() * _S)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"every={every!r} is not a duration: pass e.g. '1D' or '5min'") from exc
    if step_us <= 0:
        raise ValueError(f"every={every!r} must be a positive duration")
    if isinstance(days, bool) or not isinstance(days, int | float) or not days >= 0:
        raise ValueError(f"days={days!r} must be a number of days, at least 0")
    span_us = int(days * _DAY)
    start_us = _to_us(DEFAULT_AS_OF) - span_us if start is None else _to_us(start)
    fleet = generate_fleet(n_tunnels, seed=seed, as_of=_moment(start_us), account_id=account_id)
    return _History(fleet, seed=seed, start_us=start_us).run(span_us // step_us + 1, step_us)


def _moment(us: int) -> datetime:
    """The UTC datetime of ``us`` µs since the epoch (the inverse of ``_to_us``)."""
    return _EPOCH + timedelta(microseconds=us)


class _History:
    """The evolving state of one fleet; :meth:`run` yields a snapshot per step."""

    def __init__(self, fleet: dict[str, Any], *, seed: int, start_us: int) -> None:
        self.rng = Random(seed * 1_000_003 + 7)
        tunnels = fleet["tunnels"]
        self.account_id = tunnels[0]["account_tag"] if tunnels else "0" * 32
        self.builder = _Builder(self.rng, start_us, self.account_id)
        self.versions, self.instants = _release_calendar()
        self.now = start_us
        self.first = fleet
        self.tunnels = [self._adopt(t) for t in tunnels]

    # -- snapshots --------------------------------------------------------------------------
    def run(self, n_snapshots: int, step_us: int) -> Iterator[Snapshot]:
        yield self._snapshot(self.first["tunnels"])
        for _ in range(n_snapshots - 1):
            self._advance(self.now + step_us)
            yield self._snapshot([self._tunnel_object(t) for t in self.tunnels])

    def _snapshot(self, tunnels: list[dict[str, Any]]) -> Snapshot:
        # Hosts keep their sites; the API of a date before mid-2023 shows their metro codes, and
        # a later one the site codes even of connectors left from then (a frozen tunnel's).
        legacy = self.now < _SITE_CODES_SINCE
        tunnels = [
            {**t, "connectors": [
                {**k, "conns": [
                    {**c, "colo_name": _colo_form(str(c["colo_name"]), legacy=legacy)}
                    for c in k.get("conns") or []
                ]}
                for k in t.get("connectors") or []
            ]}
            for t in tunnels
        ]  # fmt: skip
        return Snapshot(
            fetched_at=_moment(self.now), account_ids=[self.account_id], tunnels=tunnels
        )

    # -- the generated fleet as state ---------------------------------------------------------
    def _adopt(self, tunnel: dict[str, Any]) -> _TunnelState:
        raw = {k: v for k, v in tunnel.items() if k != "connectors"}
        connectors = tunnel.get("connectors") or []
        state = _TunnelState(raw=raw, region=_REGIONS[0], hosts=[])
        if tunnel.get("deleted_at") or tunnel.get("status") == "inactive":
            state.frozen = True
            state.connectors = connectors
            return state
        # One host per connector with active connections (or any, when the tunnel is down);
        # a restart's lingering connector (only pending connections) is dropped.
        for connector in connectors:
            conns = connector.get("conns") or []
            active = [c for c in conns if not c.get("is_pending_reconnect")]
            if not conns or (not active and tunnel.get("status") != "down"):
                continue
            colos = _as_sites(list(dict.fromkeys(str(c["colo_name"]) for c in conns)))
            region = _region_of(colos[0])
            if not state.hosts:
                state.region = region
            padded = (colos + [site for metro in region.colos for site in _SITES[metro]] * 3)[:3]
            arch = connector.get("arch") or "linux_amd64"
            host = _Host(str(conns[0]["origin_ip"]), arch, (padded[0], padded[1], padded[2]))
            state.hosts.append(self._host_state(host, connector))
        if not state.hosts:
            # Down with no connector left: nothing to evolve (it stays down).
            state.frozen = True
            state.connectors = connectors
            return state
        if tunnel.get("status") == "down":
            state.down_since = self.now
            state.down_until = self.now + self._duration(_OUTAGE_MEAN_DAYS * 8)
        return state

    def _host_state(self, host: _Host, connector: dict[str, Any]) -> _HostState:
        rng = self.rng
        version = connector.get("version") or "DEV"
        lag_days = self._lag_days(version)
        if lag_days is None or lag_days > _MAINTAINED_MAX_LAG_DAYS:
            policy, delay = _FROZEN, 0
        elif lag_days <= _AUTO_MAX_LAG_DAYS:
            policy, delay = _AUTO, int(rng.uniform(*_AUTO_DELAY_DAYS) * _DAY)
        else:
            policy = _MAINTAINED
            delay = self.now + int(rng.uniform(0, _MAINTENANCE_EVERY_DAYS[1]) * _DAY)
        daily = rng.randrange(_DAY) if rng.random() < _P_DAILY_RESTART else None
        return _HostState(
            host=host,
            connector=connector,
            version=version,
            config_version=connector.get("config_version"),
            policy=policy,
            delay_us=delay,
            daily_at=daily,
            uptime_days=_UPTIME_DAYS[policy],
            layout=_layout_of(host, connector),
        )

    def _lag_days(self, version: str) -> float | None:
        """Days between the release of ``version`` and now; None for a build of no release."""
        if version == "DEV" or "-" in version:
            return None
        try:
            index = self.versions.index(version)
        except ValueError:
            return None
        return (self.now - self.instants[index]) / _DAY

    # -- one step -------------------------------------------------------------------------
    def _advance(self, until: int) -> None:
        since, self.now = self.now, until
        self.builder.now = until
        step_days = (until - since) / _DAY
        for tunnel in self.tunnels:
            if tunnel.frozen:
                continue
            if tunnel.down_until:
                if tunnel.down_until > until:
                    continue
                back = tunnel.down_until
                tunnel.down_until = 0
                for host in tunnel.hosts:
                    self._restart(host, self._target(host, back), back)
                continue
            if self._happens(_OUTAGE_PER_DAY, step_days):
                tunnel.down_since = self._between(since, until)
                tunnel.down_until = until + self._duration(_OUTAGE_MEAN_DAYS)
                continue
            self._churn_hosts(tunnel, step_days)
            for host in tunnel.hosts:
                self._advance_host(host, since, until, step_days)

    def _advance_host(self, host: _HostState, since: int, until: int, step_days: float) -> None:
        target = self._target(host, until)
        if _sort_key(target) > _sort_key(host.version):
            self._restart(host, target, self._between(since, until))
            return
        if host.daily_at is not None:
            boundary = (until - host.daily_at) // _DAY * _DAY + host.daily_at
            if boundary > since:
                self._restart(host, host.version, boundary)
                return
        elif self._happens(1 / host.uptime_days, step_days):
            self._restart(host, host.version, self._between(since, until))
            return
        if host.episode_until:
            if host.episode_until <= until:
                self._reconnect(host, list(host.layout), host.episode_until)
                host.episode_until = 0
            return
        if self._happens(_SINGLE_COLO_PER_DAY, step_days):
            host.episode_until = until + self._duration(_EPISODE_MEAN_DAYS)
            self._reconnect(host, [0, 0, 0, 0], self._between(since, until))
        elif self._happens(_DEGRADED_PER_DAY, step_days):
            host.episode_until = until + self._duration(_EPISODE_MEAN_DAYS)
            layout = list(host.layout[: self.rng.randint(1, 3)])
            self._reconnect(host, layout, self._between(since, until))

    def _churn_hosts(self, tunnel: _TunnelState, step_days: float) -> None:
        rng = self.rng
        if len(tunnel.hosts) > 1 and self._happens(_HOST_REMOVED_PER_DAY, step_days):
            tunnel.hosts.pop(rng.randrange(len(tunnel.hosts)))
        if len(tunnel.hosts) < _MAX_HOSTS and self._happens(_HOST_ADDED_PER_DAY, step_days):
            sibling = rng.choice(tunnel.hosts)
            host = self.builder.host(tunnel.region, None, sibling.host.arch)
            added = _HostState(
                host=host,
                connector={},
                version=sibling.version,
                config_version=sibling.config_version,
                policy=sibling.policy,
                delay_us=sibling.delay_us,
                daily_at=None,
                uptime_days=sibling.uptime_days,
                layout=tuple(self._layout()),
            )
            self._restart(added, sibling.version, self.now - rng.randrange(_HOUR))
            tunnel.hosts.append(added)

    # -- building blocks ------------------------------------------------------------------
    def _target(self, host: _HostState, at: int) -> str:
        """The version ``host`` runs at ``at`` under its update policy.

        A maintained host's window that has come is used up: its next one is scheduled.
        """
        if host.policy == _AUTO:
            return self._newest_release(at - host.delay_us) or host.version
        if host.policy == _MAINTAINED and host.delay_us <= at:
            window = host.delay_us
            host.delay_us += int(self.rng.uniform(*_MAINTENANCE_EVERY_DAYS) * _DAY)
            return self._newest_release(window) or host.version
        return host.version

    def _newest_release(self, at: int) -> str | None:
        """The newest release out at ``at`` (the calendar orders releases by date)."""
        index = bisect_right(self.instants, at) - 1
        return self.versions[index] if index >= 0 else None

    def _restart(self, host: _HostState, version: str, run_at: int) -> None:
        """A new cloudflared process on ``host``: a new connector id with 4 fresh connections."""
        if _sort_key(version) < _sort_key(host.version):
            version = host.version  # never downgrade
        host.version = version
        host.episode_until = 0
        rng, now = self.rng, self.now
        plan = [
            (colo, False, min(run_at + int(rng.uniform(0.2, 4.0) * _S), now))
            for colo in host.layout
        ]
        host.connector = self.builder.connector(
            host.host, version, run_at, host.config_version, plan
        )

    def _reconnect(self, host: _HostState, colos: list[int], at: int) -> None:
        """The same connector with its connections reopened at ``at`` in ``colos``."""
        template = (host.connector.get("conns") or [{}])[0]
        conns = []
        for colo in colos:
            conn = dict(template)
            conn_id = self.builder.uuid()
            conn["id"] = conn_id
            if "uuid" in conn:
                conn["uuid"] = conn_id
            conn["colo_name"] = host.host.colos[colo]
            conn["is_pending_reconnect"] = False
            conn["opened_at"] = self.builder.iso(at)
            conn["origin_ip"] = host.host.ip
            conns.append(conn)
        host.connector = {**host.connector, "conns": conns}

    def _tunnel_object(self, tunnel: _TunnelState) -> dict[str, Any]:
        if tunnel.frozen:
            return {**tunnel.raw, "connectors": tunnel.connectors}
        out = dict(tunnel.raw)
        connectors = [] if tunnel.down_until else [h.connector for h in tunnel.hosts]
        opened = [c["opened_at"] for k in connectors for c in k["conns"]]
        active = [sum(not c.get("is_pending_reconnect") for c in k["conns"]) for k in connectors]
        out.pop("conns_inactive_at", None)
        if not any(active):
            out["status"] = "down"
            out["conns_inactive_at"] = self.builder.iso(tunnel.down_since or self.now)
        elif any(0 < n < 4 for n in active):
            out["status"] = "degraded"
        else:
            out["status"] = "healthy"
        if opened:
            out["conns_active_at"] = min(opened)
        out["connectors"] = connectors
        return out

    def _layout(self) -> list[int]:
        """Colo indices of a connector's 4 connections, drawn as the fleet generator does."""
        return list(_LAYOUTS[self.builder.pick(_LAYOUT_CUM)])

    def _happens(self, per_day: float, step_days: float) -> bool:
        return self.rng.random() < -math.expm1(-per_day * step_days)

    def _duration(self, mean_days: float) -> int:
        return int(self.rng.expovariate(1 / mean_days) * _DAY)

    def _between(self, start: int, end: int) -> int:
        return self.builder.between(start, end)


def _region_of(colo: str) -> _Region:
    for region in _REGIONS:
        if colo[:3].upper() in region.colos:
            return region
    return _REGIONS[0]


def _colo_form(colo: str, *, legacy: bool) -> str:
    if legacy:
        return colo[:3].upper()
    sites = _SITES.get(colo)
    return sites[0] if sites else colo


def _as_sites(colos: list[str]) -> list[str]:
    """Site codes for a host's colos: a metro code of an early fleet (``ORD``) becomes one of
    the metro's sites, a different one for each repeat of the metro."""
    out: list[str] = []
    for colo in colos:
        sites = _SITES.get(colo)
        if sites is None:
            out.append(colo)
            continue
        free = [site for site in sites if site not in out] or list(sites)
        out.append(free[0])
    return out


def _layout_of(host: _Host, connector: dict[str, Any]) -> tuple[int, ...]:
    """The colo indices of a generated connector's 4 connections: a host keeps connecting to
    the same nearby colos, restart after restart."""
    where = [host.colos.index(c["colo_name"]) for c in connector["conns"]
             if c["colo_name"] in host.colos]  # fmt: skip
    return tuple((where * 4)[:4]) if where else (0, 1, 0, 1)
