"""A fleet that lives: it changes over simulated time, and records every change with its time.

:class:`LivingFleet` starts as :func:`generate_fleet` fleets (one per account) and moves them
event by event on a simulated clock, with the rates :mod:`._history` uses for
:func:`generate_history` (times ``churn``): connectors restart (a new connector id), upgrade in
waves after each new release, lose connections (degraded) or collapse into one colo and later
reconnect; hosts are added and removed; tunnels go down and come back, are created and
deleted. The list fields move as the API's do (API-NOTES, cloudflared's ``cfapi`` fixture):
``status`` is ``down`` with no active connection, ``degraded`` when a connector has 1 to 3,
else ``healthy``; ``conns_active_at`` is when the tunnel got its first connection back (null
while down) and ``conns_inactive_at`` when it lost its last one (null while up). A restart of
one connector is seamless (its new process connects as the old one leaves), so, as API-NOTES
assumes, it moves no list field: only ``/connections`` shows it.

:class:`SimClock` runs ``speed`` times faster than real time (or only when advanced by hand);
``LivingFleet.serve()`` serves the fleet with one token per account and each token's rate
window on the same clock, so the budget floor holds as it would in real time. Nothing here
talks to the real API.
"""

from __future__ import annotations

import contextlib
import copy
import heapq
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

from tunnelframe.simulator._generator import DEFAULT_AS_OF, generate_fleet
from tunnelframe.simulator._history import (
    _DEGRADED_PER_DAY,
    _EPISODE_MEAN_DAYS,
    _HOST_ADDED_PER_DAY,
    _HOST_REMOVED_PER_DAY,
    _OUTAGE_MEAN_DAYS,
    _OUTAGE_PER_DAY,
    _SINGLE_COLO_PER_DAY,
    _UPTIME_DAYS,
)
from tunnelframe.simulator._server import SimulatedApi, serve

__all__ = ["Change", "LivingFleet", "SimClock"]

_DAY_S = 86_400.0
#: Tunnels created and deleted per account and day (a busy MSP account).
_CREATED_PER_DAY = 2.0
_DELETED_PER_DAY = 1.0
#: The share of connectors that upgrade in each wave (they auto-update).
_AUTO_SHARE = 0.3


class SimClock:
    """Simulated time: ``start`` plus ``speed`` times the real time elapsed, plus any
    ``advance()``. ``speed=0`` stops it: time moves only when advanced.

    Examples
    --------
    >>> clock = SimClock(speed=0)
    >>> clock.advance(300)
    >>> clock.elapsed()
    300.0
    """

    def __init__(self, start: datetime | None = None, *, speed: float = 0.0) -> None:
        if not (math.isfinite(speed) and speed >= 0):
            raise ValueError(f"speed must be a finite number >= 0, got {speed!r}")
        self.start = (start or DEFAULT_AS_OF).astimezone(UTC)
        self.speed = float(speed)
        self._real0 = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        """Simulated seconds since ``start`` (monotonic: the rate window's clock)."""
        with self._lock:
            return self._offset + self.speed * (time.monotonic() - self._real0)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += seconds

    def now(self) -> datetime:
        """The simulated moment (UTC)."""
        return self.start + timedelta(seconds=self.elapsed())


@dataclass(frozen=True, slots=True)
class Change:
    """One change of the living fleet.

    ``at`` is simulated seconds since the clock's start; ``list_visible`` says whether the
    tunnel list (``status``, ``conns_active_at``, ``conns_inactive_at``, or the tunnel's
    appearing or vanishing) shows it, or only ``/connections`` does.

    Examples
    --------
    >>> Change(60.0, "acc1", "t1", "restart", False).list_visible
    False
    """

    at: float
    account_id: str
    tunnel_id: str
    kind: str
    list_visible: bool


@dataclass(slots=True)
class _Tunnel:
    obj: dict[str, Any]  # the list entry (no "connectors")
    connectors: list[dict[str, Any]]
    account: str
    away: list[dict[str, Any]]  # connectors of a tunnel that is down, until it comes back
    deleted: bool = False


class LivingFleet:
    """Fleets of ``n_accounts`` accounts that change over simulated time.

    Parameters
    ----------
    n_accounts, tunnels_per_account : int
        Size of the fleet: one :func:`generate_fleet` per account.
    seed : int
        Same seed, same fleet, same changes at the same simulated times.
    churn : float
        Multiplies every rate of change (1: :func:`generate_history`'s).
    wave_every_s : float
        A new cloudflared release every this many simulated seconds; the auto-updating
        connectors (a third) upgrade within the hour or so after it.
    clock : SimClock, optional
        Default: a stopped clock at :data:`DEFAULT_AS_OF` (advance it by hand).

    Examples
    --------
    >>> fleet = LivingFleet(1, 50, seed=1, churn=20)
    >>> fleet.clock.advance(6 * 3600)
    >>> changes = fleet.advance()
    >>> len(changes) > 0, {c.list_visible for c in changes} <= {True, False}
    (True, True)
    """

    def __init__(
        self,
        n_accounts: int = 1,
        tunnels_per_account: int = 1000,
        *,
        seed: int = 0,
        churn: float = 1.0,
        wave_every_s: float = 4 * 3600.0,
        clock: SimClock | None = None,
    ) -> None:
        if n_accounts < 1 or tunnels_per_account < 1:
            raise ValueError("n_accounts and tunnels_per_account must be >= 1")
        self.clock = clock or SimClock()
        self.rng = Random(seed)
        self.churn = churn
        self.wave_every_s = wave_every_s
        self.changes: list[Change] = []
        self._lock = threading.Lock()
        self._now = 0.0
        self._queue: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self._tunnels: dict[str, _Tunnel] = {}
        self.accounts: list[str] = []
        self._wave = 0
        for index in range(n_accounts):
            account = f"{self.rng.getrandbits(128):032x}"
            self.accounts.append(account)
            fleet = generate_fleet(
                tunnels_per_account, seed=seed * 100_003 + index, as_of=self.clock.start,
                account_id=account,
            )  # fmt: skip
            for raw in fleet["tunnels"]:
                if raw.get("deleted_at"):
                    continue
                self._adopt(raw, account)
            self._at(self._rate(_CREATED_PER_DAY), "create", account)
            self._at(self._rate(_DELETED_PER_DAY), "delete", account)
        self._at(wave_every_s, "wave", None)

    # -- the queue of events ------------------------------------------------------------------
    def _rate(self, per_day: float) -> float:
        """Seconds from now to the next event of a Poisson process of ``per_day``."""
        rate = per_day * self.churn / _DAY_S
        return math.inf if rate <= 0 else self.rng.expovariate(rate)

    def _at(self, delay: float, kind: str, subject: Any) -> None:
        if math.isfinite(delay):
            self._seq += 1
            heapq.heappush(self._queue, (self._now + delay, self._seq, kind, subject))

    def _adopt(self, raw: dict[str, Any], account: str) -> None:
        obj = {k: v for k, v in raw.items() if k != "connectors"}
        tunnel = _Tunnel(obj, list(raw.get("connectors") or []), account, away=[])
        key = str(obj["id"])
        self._tunnels[key] = tunnel
        if obj.get("status") == "inactive":
            return  # never run: stays so
        self._at(self._rate(_OUTAGE_PER_DAY), "outage", key)
        self._at(self._rate(_HOST_ADDED_PER_DAY), "add-host", key)
        self._at(self._rate(_HOST_REMOVED_PER_DAY), "remove-host", key)
        for connector in tunnel.connectors:
            self._schedule_connector(key, str(connector.get("id")))

    def _schedule_connector(self, key: str, connector_id: str) -> None:
        self._at(self._rate(1 / _UPTIME_DAYS[0]), "restart", (key, connector_id))
        self._at(self._rate(_DEGRADED_PER_DAY), "degrade", (key, connector_id))
        self._at(self._rate(_SINGLE_COLO_PER_DAY), "single-colo", (key, connector_id))

    # -- moving time ---------------------------------------------------------------------------
    def advance(self, until: float | None = None) -> list[Change]:
        """Apply every event up to ``until`` simulated seconds (default: the clock's now).

        Returns the changes made, each with its time (also appended to ``changes``).
        """
        end = self.clock.elapsed() if until is None else until
        made: list[Change] = []
        with self._lock:
            while self._queue and self._queue[0][0] <= end:
                at, _, kind, subject = heapq.heappop(self._queue)
                self._now = at
                change = self._apply(kind, subject)
                if change is not None:
                    made.append(change)
            self._now = max(self._now, end)
            self.changes.extend(made)
        return made

    def _iso(self) -> str:
        return (self.clock.start + timedelta(seconds=self._now)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _apply(self, kind: str, subject: Any) -> Change | None:
        if kind == "wave":
            self._wave += 1
            for key, tunnel in self._tunnels.items():
                for connector in tunnel.connectors:
                    if self.rng.random() < _AUTO_SHARE:
                        self._at(self.rng.expovariate(1 / 1200.0), "upgrade",
                                 (key, str(connector.get("id"))))  # fmt: skip
            self._at(self.wave_every_s, "wave", None)
            return None
        if kind == "create":
            self._at(self._rate(_CREATED_PER_DAY), "create", subject)
            return self._create(subject)
        if kind == "delete":
            self._at(self._rate(_DELETED_PER_DAY), "delete", subject)
            live = [k for k, t in self._tunnels.items() if t.account == subject and not t.deleted]
            if not live:
                return None
            key = live[self.rng.randrange(len(live))]
            self._tunnels[key].deleted = True
            return Change(self._now, subject, key, "deleted", True)
        if isinstance(subject, tuple):
            key, connector_id = subject
        else:
            key, connector_id = subject, None
        found = self._tunnels.get(key)
        if found is None or found.deleted:
            return None
        tunnel = found
        if kind == "outage":
            if tunnel.away or not tunnel.connectors:
                self._at(self._rate(_OUTAGE_PER_DAY), "outage", key)
                return None
            tunnel.away, tunnel.connectors = tunnel.connectors, []
            self._at(self.rng.expovariate(1 / (_OUTAGE_MEAN_DAYS * _DAY_S)), "back", key)
            return self._settle(tunnel, key, "down")
        if kind == "back":
            tunnel.connectors = [self._restarted(c, None) for c in tunnel.away]
            tunnel.away = []
            for connector in tunnel.connectors:
                self._schedule_connector(key, str(connector["id"]))
            self._at(self._rate(_OUTAGE_PER_DAY), "outage", key)
            return self._settle(tunnel, key, "up")
        if kind == "add-host":
            self._at(self._rate(_HOST_ADDED_PER_DAY), "add-host", key)
            if not tunnel.connectors:
                return None
            added = self._restarted(tunnel.connectors[0], None)
            tunnel.connectors = [*tunnel.connectors, added]
            self._schedule_connector(key, str(added["id"]))
            return self._settle(tunnel, key, "host-added")
        if kind == "remove-host":
            self._at(self._rate(_HOST_REMOVED_PER_DAY), "remove-host", key)
            if len(tunnel.connectors) < 2:
                return None
            gone = self.rng.randrange(len(tunnel.connectors))
            tunnel.connectors = [c for i, c in enumerate(tunnel.connectors) if i != gone]
            return self._settle(tunnel, key, "host-removed")
        index = next(
            (i for i, c in enumerate(tunnel.connectors) if str(c.get("id")) == connector_id), None
        )
        if index is None:
            return None  # that process is gone (restarted, removed, down): its events lapse
        connector = tunnel.connectors[index]
        if kind in ("restart", "upgrade"):
            version = self._next_version(connector) if kind == "upgrade" else None
            new = self._restarted(connector, version)
            tunnel.connectors = [*tunnel.connectors[:index], new, *tunnel.connectors[index + 1 :]]
            self._schedule_connector(key, str(new["id"]))
            return self._settle(tunnel, key, kind)
        if kind in ("degrade", "single-colo"):
            conns = connector.get("conns") or []
            if len(conns) < 2:
                self._at(self._rate(_DEGRADED_PER_DAY), kind, subject)
                return None
            if kind == "degrade":
                kept = conns[: self.rng.randint(1, 3)]
            else:
                kept = [{**c, "colo_name": conns[0].get("colo_name")} for c in conns]
            tunnel.connectors[index] = {**connector, "conns": kept, "_whole": conns}
            self._at(self.rng.expovariate(1 / (_EPISODE_MEAN_DAYS * _DAY_S)), "reconnect",
                     subject)  # fmt: skip
            return self._settle(tunnel, key, kind)
        if kind == "reconnect":
            whole = connector.get("_whole")
            if whole is None:
                return None
            stamp = self._iso()
            conns = [
                {**c, "id": (cid := self._uuid()), "uuid": cid, "opened_at": stamp} for c in whole
            ]
            rest = {k: v for k, v in connector.items() if k != "_whole"}
            tunnel.connectors[index] = {**rest, "conns": conns}
            self._at(self._rate(_DEGRADED_PER_DAY), "degrade", subject)
            self._at(self._rate(_SINGLE_COLO_PER_DAY), "single-colo", subject)
            return self._settle(tunnel, key, "reconnected")
        return None

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"

    def _next_version(self, connector: dict[str, Any]) -> str:
        return f"2026.{9 + (self._wave - 1) // 10}.{(self._wave - 1) % 10}"

    def _restarted(self, connector: dict[str, Any], version: str | None) -> dict[str, Any]:
        """A new process on the same host: a new connector id, 4 fresh connections."""
        new_id = self._uuid()
        stamp = self._iso()
        version = version or str(connector.get("version") or "DEV")
        whole = connector.get("_whole") or connector.get("conns") or []
        conns = []
        for conn in (whole * 4)[:4] if whole else []:
            cid = self._uuid()
            conns.append(
                {**conn, "id": cid, "uuid": cid, "client_id": new_id, "client_version": version,
                 "is_pending_reconnect": False, "opened_at": stamp}
            )  # fmt: skip
        rest = {k: v for k, v in connector.items() if k != "_whole"}
        return {**rest, "id": new_id, "version": version, "run_at": stamp, "conns": conns}

    def _create(self, account: str) -> Change | None:
        templates = [
            t for t in self._tunnels.values()
            if t.account == account and not t.deleted and t.connectors
        ]  # fmt: skip
        if not templates:
            return None
        template = templates[self.rng.randrange(len(templates))]
        key = self._uuid()
        stamp = self._iso()
        obj = {
            **copy.deepcopy(template.obj),
            "id": key,
            "name": f"{template.obj.get('name')}-{key[:6]}",
            "created_at": stamp,
        }
        raw = {**obj, "connectors": [self._restarted(c, None) for c in template.connectors]}
        self._adopt(raw, account)
        tunnel = self._tunnels[key]
        self._settle(tunnel, key, "created")
        return Change(self._now, account, key, "created", True)

    def _settle(self, tunnel: _Tunnel, key: str, kind: str) -> Change:
        """Recompute the list fields from the connections; the change, with whether they moved."""
        obj = tunnel.obj
        before = (obj.get("status"), obj.get("conns_active_at"), obj.get("conns_inactive_at"))
        active = [
            sum(not c.get("is_pending_reconnect") for c in k.get("conns") or [])
            for k in tunnel.connectors
        ]
        stamp = self._iso()
        if not any(active):
            if obj.get("status") not in ("down", "inactive"):
                obj["conns_active_at"] = None
                obj["conns_inactive_at"] = stamp
            obj["status"] = "down"
        else:
            if obj.get("status") in ("down", "inactive") or not obj.get("conns_active_at"):
                obj["conns_active_at"] = stamp
                obj["conns_inactive_at"] = None
            obj["status"] = "degraded" if any(0 < n < 4 for n in active) else "healthy"
        after = (obj.get("status"), obj.get("conns_active_at"), obj.get("conns_inactive_at"))
        return Change(self._now, tunnel.account, key, kind, before != after)

    # -- what the API serves ---------------------------------------------------------------------
    def fleet(self) -> dict[str, Any]:
        """The fleet now, as :func:`serve` takes it (deleted tunnels left out, as the API's
        lists leave them out by default)."""
        with self._lock:
            return {
                "tunnels": [
                    {**t.obj, "connectors": [_public(c) for c in t.connectors]}
                    for t in self._tunnels.values()
                    if not t.deleted
                ]
            }

    def tunnels(self) -> dict[str, _Tunnel]:
        """Every tunnel's state by id (read-only; deleted ones flagged)."""
        return self._tunnels

    def connectors(self, tunnel_id: str) -> list[dict[str, Any]]:
        """What ``/connections`` of a tunnel answers now."""
        tunnel = self._tunnels[tunnel_id]
        return [_public(c) for c in tunnel.connectors]

    @contextlib.contextmanager
    def serve(self, *, refresh_s: float = 0.5, **options: Any) -> Iterator[SimulatedApi]:
        """Serve the living fleet on loopback: one token per account (``api.tokens``), each
        with its own rate window on the simulated clock; the fleet moves every ``refresh_s``
        real seconds while the block runs."""
        self.advance()
        with serve(self.fleet(), clock=self.clock.elapsed, **options) as api:
            tokens = {account: f"sim-{account[:8]}-{self._uuid()}" for account in self.accounts}
            for account, token in tokens.items():
                api.add_token(token, [account])
            api.tokens = tokens  # type: ignore[attr-defined]
            stop = threading.Event()

            def live() -> None:
                while not stop.wait(refresh_s):
                    if self.advance():
                        api.set_fleet(self.fleet())

            mover = threading.Thread(target=live, daemon=True, name="tunnelframe-living")
            mover.start()
            try:
                yield api
            finally:
                stop.set()
                mover.join()


def _public(connector: dict[str, Any]) -> dict[str, Any]:
    if "_whole" not in connector:
        return connector
    return {k: v for k, v in connector.items() if k != "_whole"}
