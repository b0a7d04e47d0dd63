"""Generate a realistic Cloudflare Tunnel fleet as raw API objects, deterministically.

This module makes demo, test and benchmark data that looks like a real account: it returns the
JSON the Cloudflare API would return (tunnels, and per tunnel the connectors its ``/connections``
endpoint lists), never DataFrames. It never touches the network or global random state: the
same ``seed``, ``as_of`` and ``account_id`` always give the same JSON, byte for byte.

The realism model
-----------------
Every share below is a module constant (``_P_*``), so it can be checked and tuned. On average a
tunnel has about 1.85 connectors and 7.2 connections (125,000 tunnels: ~230,000 connectors,
~900,000 connections).

**Time.** ``as_of`` is "now" (default :data:`DEFAULT_AS_OF`, 2026-08-20T12:00:00Z, six days
after cloudflared 2026.8.2, the newest release in the bundled calendar). Every timestamp is at
or before it: tunnels are created up to ~5.5 years earlier; a connector's ``run_at`` is after
its tunnel's ``created_at`` and after the release of the version it runs; a connection's
``opened_at`` is after its connector's ``run_at``. Timestamps are ISO 8601 UTC with
microseconds and ``Z``. Uptimes follow the update habit (days for auto-updating hosts, months
for abandoned ones).

**Tunnels.** 5 % are deleted (``deleted_at`` set, no connectors; 70 % of them had run). Of
the rest, 7 % were never run (``inactive``), 9 % are ``down``, 12 % ``degraded`` and 72 %
``healthy``. 45 % are remotely managed (``remote_config`` true, ``config_src`` "cloudflare").
Names are what people type (service and environment names, site codes, store numbers,
``alice-homelab``). Because reports must escape and render user-chosen text, every 30th tunnel
(the 15th, the 45th, ...) takes the next name, in turn, from a list with ``<``, ``&``, quotes and
non-ASCII text (``_tables._SPECIAL_NAMES``): a fixed rule rather than a draw, so that even the
200-tunnel sample holds 7 of them. Names are unique within an account (a clash gets ``-2``,
``-3``, ...).

**Status rule** (what the generator guarantees; check it from the connectors):

* ``inactive``: never ran: no connectors, no ``conns_active_at``.
* ``down``: ran (``conns_active_at`` and a later ``conns_inactive_at``) and has no active
  connection: either no connectors (70 %) or connectors whose connections are all pending
  reconnect because it went down minutes ago (30 %). Deleted tunnels that ran are ``down``.
* ``degraded``: at least one active connection, and some connector with active connections has
  fewer than 4 of them (50 % of such connectors also show the lost ones as pending).
* ``healthy``: every connector with an active connection has exactly 4 active connections. A
  connector with only pending connections (a restart's leftover) does not count.

An active connection is one with ``is_pending_reconnect`` false. Running tunnels carry
``conns_active_at`` (the oldest ``opened_at`` of their connections) and no ``conns_inactive_at``.

**Connectors.** A tunnel that runs has 1 connector (30 %: no host redundancy), 2 (50 %), 3
(8 %) or 4 to 10 (12 %). Each runs on a host with a stable public origin IP (6 % IPv6; in 15 %
of multi-host tunnels the hosts share one NAT address; 15-20 % of running tunnels share a host
with 1-3 other tunnels, see "Shared hosts" below), an architecture (72 % linux_amd64, then
linux_arm64, windows_amd64, linux_arm, darwin_arm64, darwin_amd64; 80 % of tunnels use one
architecture throughout) and an origin region (the tunnel's own in 85 % of hosts). A full
connector holds 4 active connections to colo sites near its origin, as cloudflared's two edge
regions place them: the host's nearest metro (a Texas origin mostly lands on DFW, then IAH,
Germany on FRA, then AMS, ...; see ``_tables``) and 2-3 of its sites (``dfw06``, ``dfw13``),
with a second metro's site where the nearest has too few sites (and for 10 % of hosts near a
metro of 3+ sites): 2+2 over two sites in 66 % of connectors, 1+3 in 9 %, spread over 3 sites in
17 %, and all 4 in one site in 8 %. Colo codes are site codes (``ord12``), as the API returns
them today; a fleet ``as_of`` before 2023-07-01 gives the upper-case metro codes (``ORD``) of
the API of that time. 6 % of full connectors also
carry 1-2 pending-reconnect connections (replaced minutes ago); 12 % of connections were
reopened some time after ``run_at``. In 8 % of running tunnels one host was just restarted: its
old connector lingers with 1-4 pending connections beside its replacement, which has a new
random id, a ``run_at`` under 6 minutes ago, the same origin IP and a version at least as new.

**Shared hosts.** Real fleets run several tunnels on one machine (a k8s node, a homelab box,
an office gateway). After the tunnels are built, the running (``healthy``/``degraded``)
``cfd_tunnel`` tunnels are grouped by where their first active connector is (the metro of its
first active connection), its architecture and its address family; walking each group in fleet
order, a tunnel starts a shared host with a chance of 10 % (``_P_SHARED_HOST``), and the next
1-3 tunnels of the group move that connector's host onto its origin IP (every connection of
the joining tunnel from that host's IP, restart leftovers included). Only origin IPs change,
drawn from a random generator of their own, so everything else of a fleet (ids, versions,
colos, times, statuses) is what it would be without shared hosts.

**Versions** come from the bundled release calendar (``cloudflared-releases.csv``), using only
releases on or before ``as_of``. Each tunnel has an update habit: auto-updating (30 %, 0-4 days
behind), maintained (44 %, exponential lag averaging 70 days), neglected (17 %, 5-14 months) or
abandoned (9 %, 1-4.4 years behind, out of support: more than a year older than the newest
release). A host runs the newest release published before ``as_of`` minus its lag. 20 % of hosts
draw their own version, so tunnels mix versions. 1 % of version draws give ``DEV`` and 1.5 % a
git-describe build (``2026.8.2-1-gd1df7985``). Remotely managed tunnels never run a version older
than the first release of 2022.3. Features follow the version, approximately as cloudflared added
them: ``ha-origin`` before 2022.3; ``allow_remote_config`` from 2022.3; ``serialized_headers``
from 2021.3; ``support_datagram_v2`` from 2022.5; ``support_quic_eof`` from 2023.2;
``management_logs`` from 2023.4; ``quick_reconnects`` 2021.3-2023.1; ``postquantum`` opt-in (7 %
of hosts from 2023.2); ``support_datagram_v3``/``_v3_1``/``_v3_2`` for 30 % of hosts in the
rollouts (2024.12, 2025.2, 2025.9 on).

**Config.** Connectors of a remotely managed tunnel carry its ``config_version`` (1 to 80), except
in 20 % of such tunnels with several hosts, where one or more connectors lag 1-3 versions (a
restart's old connector may lag too). Connectors of locally managed tunnels carry
``config_version`` 0, or (20 % of tunnels) no such key.

**Optional keys.** Like real payloads, some keys are left out: 3 % of connectors have no
``features``; 7 % have connections with only ``id``, ``colo_name``, ``is_pending_reconnect``,
``opened_at`` and ``origin_ip`` (no ``uuid``, ``client_id``, ``client_version``, as in
cloudflared's own test fixture). Elsewhere ``uuid`` equals ``id``, ``client_id`` is the
connector's id and ``client_version`` its version. Where the API sends ``null``
(``deleted_at``, ``conns_active_at``, ``conns_inactive_at``) the generator leaves the key out,
because the OpenAPI spec types those fields as plain (not nullable) strings, so ``null`` would
not validate. Tunnel objects carry no ``connections`` array: the API stopped sending it on
2026-10-05 (the generator follows today's API whatever ``as_of``); ``metadata`` is ``{}``.

**WARP Connector tunnels** (``warp_connectors=N``; Cloudflare Mesh, ``tun_type``
``warp_connector``) follow the ``cfd_tunnel`` ones, so the first ``n_tunnels`` tunnels are the
same with or without them. Their objects carry only the keys of the spec's
``tunnel_warp_connector_tunnel`` (no ``remote_config``/``config_src``). WARP Connector runs
active/passive pairs (API-NOTES): a running tunnel has 2 members (70 %), 3 (15 %) or 1 (15 %,
no standby). Every member carries ``ha_status``: exactly one is ``active`` while the tunnel
serves traffic, the others ``passive``, and a stopped host ``offline``. In 15 % of running
tunnels a failover just happened: the old active member is ``offline`` and a former passive one
became ``active`` minutes ago; in 10 % more a passive member is ``offline``. ``down`` tunnels
(8 %) have every member ``offline``; ``inactive`` ones (7 %) never ran. Status: ``healthy`` when
one member is active and every other is passive, ``degraded`` when one is active and some
member is offline or there is no passive one, ``down`` when none is active. What the API shows
of a member's connections is not documented beyond their fields, so the generator assumes one
connection per online member (the WARP client holds one tunnel to the nearest data centre) and
none for an offline one; connections have no ``is_pending_reconnect`` and no ``uuid``. Members
run on Linux (WARP Connector is a Linux host service: ``linux_amd64``, 20 % ``linux_arm64``)
and report the WARP client's version, ``YEAR.MONTH.BUILD.N`` (see ``_WARP_VERSIONS``).
"""

from __future__ import annotations

import csv
import functools
import gc
from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from random import Random
from typing import Any

from tunnelframe._data import _data_path
from tunnelframe.simulator._tables import (
    _ARCH_WEIGHTS,
    _ARCHES,
    _COLO_POSITION_WEIGHTS,
    _ENVS,
    _IPV4_FIRST_OCTETS,
    _IPV6_PREFIXES,
    _PEOPLE,
    _REGIONS,
    _SERVICES,
    _SITES,
    _SPECIAL_NAMES,
    _THINGS,
    _Region,
)

__all__ = ["DEFAULT_AS_OF", "generate_fleet"]

DEFAULT_AS_OF = datetime(2026, 8, 20, 12, 0, 0, tzinfo=UTC)
"""The default "now" of a generated fleet: six days after cloudflared 2026.8.2."""

_S = 1_000_000  # microseconds per second; every instant here is an int of µs since the epoch
_MINUTE = 60 * _S
_HOUR = 3600 * _S
_DAY = 86_400 * _S
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Tunnels.
_P_DELETED = 0.05
_P_DELETED_RAN = 0.7
_KINDS = ("inactive", "down", "degraded", "healthy")
_KIND_CUM = (0.07, 0.16, 0.28, 1.0)
_P_DOWN_WITH_PENDING = 0.3
_P_REMOTE = 0.45
_P_LOCAL_NO_CONFIG_VERSION = 0.2
_P_CONFIG_DRIFT = 0.2
_SPECIAL_NAME_EVERY = 30  # tunnel i takes a special name when i % 30 == 14
_SPECIAL_NAME_OFFSET = 14
_MAX_AGE_DAYS = 2000.0

# Hosts and connectors.
_N_HOSTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
_N_HOSTS_CUM = (0.30, 0.80, 0.88, 0.93, 0.96, 0.975, 0.985, 0.992, 0.996, 1.0)
_P_ONE_ARCH = 0.8
_P_OTHER_REGION = 0.15
_P_SECOND_METRO = 0.1  # a host near a metro of 3+ sites puts its third site in another metro
_P_IPV6 = 0.06
_P_SHARED_NAT = 0.15
#: Chance that a running tunnel's host also runs the next 1-3 running tunnels of the same place
#: (metro), architecture and address family: a k8s node or a homelab box with several tunnels.
_P_SHARED_HOST = 0.1
_SHARED_HOST_SIZES = (2, 4)
_P_RESTART = 0.08
_P_NO_FEATURES = 0.03
_P_SPARSE_CONNS = 0.07
_P_HOST_DRIFT = 0.2
_P_LOST_AS_PENDING = 0.5
_DEGRADED_ACTIVE = (1, 2, 3)  # active connections a degraded connector keeps, with shares
_DEGRADED_ACTIVE_CUM = (0.2, 0.5, 1.0)

# The 4 HA connections: colo indices into the host's (first, second, third) colo.
_LAYOUTS = ((0, 0, 0, 0), (0, 1, 0, 1), (0, 1, 1, 1), (0, 1, 2, 1))
_LAYOUT_CUM = (0.08, 0.74, 0.83, 1.0)
_P_EXTRA_PENDING = 0.06
_P_RECONNECTED = 0.12

# Versions: update habits (auto, maintained, neglected, abandoned), mean uptime in days.
_HABIT_CUM = (0.30, 0.74, 0.91, 1.0)
_HABIT_UPTIME_DAYS = (6.0, 25.0, 60.0, 150.0)
_P_DEV = 0.01
_P_DESCRIBE = 0.015
_P_POSTQUANTUM = 0.07
_P_DATAGRAM_V3 = 0.3
_FIRST_REMOTE_RELEASE = "2022-03-01T00:00:00Z"

# WARP Connector: members per tunnel and the failover / offline shares described above.
_WARP_KINDS = ("inactive", "down", "running")
_WARP_KIND_CUM = (0.07, 0.15, 1.0)
_WARP_MEMBERS = (1, 2, 3)
_WARP_MEMBERS_CUM = (0.15, 0.85, 1.0)
_P_WARP_FAILOVER = 0.15
_P_WARP_PASSIVE_OFFLINE = 0.10
_P_WARP_ARM = 0.2
_P_WARP_MIXED_VERSION = 0.2
# Versions of the Cloudflare WARP client (which WARP Connector runs) named in public sources:
# the WARP release notes in cloudflare/cloudflare-docs (PR #19501: 2025.1.447.1 beta; PR
# #20115: 2025.1.861.0 GA) and ``warp-cli`` output (2025.2.600.0, AKotov-dev/warpgui v2.4).
# No release calendar is bundled, so these are draws of the format, not a timeline.
_WARP_VERSIONS = ("2025.1.447.1", "2025.1.861.0", "2025.2.600.0")

_UUID_CLEAR = ((1 << 128) - 1) ^ ((0xF << 76) | (0x3 << 62))
_UUID_V4 = (0x4 << 76) | (0x2 << 62)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.cache
def _release_calendar() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Every release sorted by date then version, with its release instant (midnight UTC)."""
    with _data_path("cloudflared-releases.csv").open(newline="", encoding="utf-8") as handle:
        rows = [
            (date.fromisoformat(r["released_on"]), r["version"]) for r in csv.DictReader(handle)
        ]
    rows.sort(key=lambda row: (row[0], _version_key(row[1])))
    epoch = _EPOCH.date()
    return (
        tuple(version for _, version in rows),
        tuple((day - epoch).days * _DAY for day, _ in rows),
    )


def _default_features(version: tuple[int, ...]) -> tuple[str, ...]:
    """The features cloudflared ``version`` reports by default (approximate timeline)."""
    timeline = (
        ("ha-origin", (0,), (2022, 3)),
        ("allow_remote_config", (2022, 3), (9999,)),
        ("serialized_headers", (2021, 3), (9999,)),
        ("support_datagram_v2", (2022, 5), (9999,)),
        ("support_quic_eof", (2023, 2), (9999,)),
        ("management_logs", (2023, 4), (9999,)),
        ("quick_reconnects", (2021, 3), (2023, 2)),
    )
    return tuple(name for name, start, end in timeline if start <= version < end)


def _datagram_v3(version: tuple[int, ...]) -> str | None:
    """The datagram v3 feature of a host in the remote rollout at ``version``, if any."""
    if version >= (2025, 9):
        return "support_datagram_v3_2"
    if version >= (2025, 2):
        return "support_datagram_v3_1"
    if version >= (2024, 12):
        return "support_datagram_v3"
    return None


def _to_us(moment: datetime | str | None) -> int:
    """``as_of`` as µs since the epoch; naive datetimes are UTC."""
    if moment is None:
        moment = DEFAULT_AS_OF
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError as exc:
            raise ValueError(
                f"as_of={moment!r} is not an ISO 8601 timestamp: pass e.g. '2026-08-20T12:00:00Z'"
            ) from exc
    if not isinstance(moment, datetime):
        raise TypeError(f"as_of must be a datetime, an ISO 8601 string or None, not {moment!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _S + delta.microseconds


# The API returned upper-case metro codes (``ORD``) up to mid-2023, site codes (``ord12``) since.
_SITE_CODES_SINCE = _to_us(datetime(2023, 7, 1, tzinfo=UTC))


class _Host:
    """A machine running cloudflared: where it is, its public address, its colos."""

    __slots__ = ("arch", "colos", "ip")

    def __init__(self, ip: str, arch: str, colos: tuple[str, str, str]) -> None:
        self.ip = ip
        self.arch = arch
        self.colos = colos


class _Builder:
    """The RNG, the clock and per-fleet caches while one fleet is built."""

    def __init__(self, rng: Random, now: int, account_id: str) -> None:
        self.rng = rng
        self.now = now
        self.account_id = account_id
        self.hours: dict[int, str] = {}
        versions, instants = _release_calendar()
        n_known = bisect_right(instants, now)
        if n_known == 0:
            raise ValueError(
                f"as_of={self.iso(now)} is before the first cloudflared release in the "
                f"calendar ({versions[0]}): pass a later as_of"
            )
        self.versions = versions[:n_known]
        self.instants = instants[:n_known]
        self.newest = self.versions[-1]
        self.first_remote = bisect_right(self.instants, _to_us(_FIRST_REMOTE_RELEASE) - 1)
        self.names: set[str] = set()
        self.suffixes: dict[str, int] = {}
        self.feature_cache: dict[str, tuple[tuple[str, ...], bool, str | None]] = {}
        self.region_cum = list(accumulate(region.weight for region in _REGIONS))
        self.colo_cum = {
            region.name: list(accumulate(_COLO_POSITION_WEIGHTS[: len(region.colos)]))
            for region in _REGIONS
        }
        self.arch_cum = list(accumulate(_ARCH_WEIGHTS))

    # -- primitives ------------------------------------------------------------------------
    def iso(self, us: int) -> str:
        """``us`` as ISO 8601 UTC with microseconds and ``Z``."""
        hour, rest = divmod(us, _HOUR)
        prefix = self.hours.get(hour) or self.hour_prefix(hour)
        # %-formatting: twice as fast as the f-string here, and this runs once per timestamp.
        return "%s%02d:%02d.%06dZ" % (prefix, rest // _MINUTE, rest // _S % 60, rest % _S)  # noqa: UP031

    def hour_prefix(self, hour: int) -> str:
        prefix = (_EPOCH + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:")
        self.hours[hour] = prefix
        return prefix

    def uuid(self) -> str:
        """A random version-4 UUID from the seeded generator."""
        h = f"{(self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_V4:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def pick(self, cum: tuple[float, ...] | list[float]) -> int:
        """An index drawn with the cumulative weights ``cum``."""
        return min(bisect_right(cum, self.rng.random() * cum[-1]), len(cum) - 1)

    def between(self, start: int, end: int) -> int:
        """A random instant in [start, end] (start when the interval is empty)."""
        if end <= start:
            return start
        return start + int(self.rng.random() * (end - start))

    # -- hosts, versions, names -------------------------------------------------------------
    def region(self) -> _Region:
        return _REGIONS[self.pick(self.region_cum)]

    def ip(self, region: _Region) -> str:
        rng = self.rng
        if rng.random() < _P_IPV6:
            prefix = rng.choice(_IPV6_PREFIXES[region.registry])
            bits = rng.getrandbits(64)
            return (
                f"{prefix}:{bits >> 48:x}:{(bits >> 32) & 0xFFFF:x}:{(bits >> 16) & 0xFFFF:x}"
                f"::{(bits & 0xFFFF) or 1:x}"
            )
        first = rng.choice(_IPV4_FIRST_OCTETS[region.registry])
        bits = rng.getrandbits(24)
        return f"{first}.{bits >> 16}.{(bits >> 8) & 0xFF}.{(bits & 0xFF) % 254 + 1}"

    def host(self, region: _Region, ip: str | None, arch: str | None) -> _Host:
        """A host near ``region``: its 3 sites are 2-3 sites of its nearest metro, the rest
        (and sometimes the third) sites of the region's next-nearest metro."""
        rng = self.rng
        cum = self.colo_cum[region.name]
        metros = region.colos
        first = second = self.pick(cum)
        while second == first and len(metros) > 1:
            second = self.pick(cum)
        near = rng.sample(_SITES[metros[first]], min(3, len(_SITES[metros[first]])))
        if len(near) == 3 and rng.random() < _P_SECOND_METRO:
            near.pop()
        sites = near + rng.sample(_SITES[metros[second]], min(3, len(_SITES[metros[second]])))
        sites = (sites * 3)[:3]
        return _Host(
            ip or self.ip(region),
            arch or _ARCHES[self.pick(self.arch_cum)],
            (sites[0], sites[1], sites[2]),
        )

    def version(self, habit: int, *, remote: bool) -> tuple[str, int]:
        """A version string and the instant of the release it builds on."""
        rng = self.rng
        if habit == 0:
            lag_days = rng.uniform(0.0, 4.0)
        elif habit == 1:
            lag_days = rng.expovariate(1 / 70)
        elif habit == 2:
            lag_days = rng.uniform(150.0, 420.0)
        else:
            lag_days = rng.uniform(370.0, 1600.0)
        index = bisect_right(self.instants, self.now - int(lag_days * _DAY)) - 1
        index = min(max(index, self.first_remote if remote else 0), len(self.versions) - 1)
        version, released = self.versions[index], self.instants[index]
        draw = rng.random()
        if draw < _P_DEV:
            return "DEV", released
        if draw < _P_DEV + _P_DESCRIBE:
            return f"{version}-{rng.randint(1, 40)}-g{rng.getrandbits(32):08x}", released
        return version, released

    def features(self, version: str) -> list[str]:
        cached = self.feature_cache.get(version)
        if cached is None:
            key = _version_key(self.newest if version == "DEV" else version.split("-", 1)[0])
            cached = (_default_features(key), key >= (2023, 2), _datagram_v3(key))
            self.feature_cache[version] = cached
        base, postquantum, datagram_v3 = cached
        out = list(base)
        if postquantum and self.rng.random() < _P_POSTQUANTUM:
            out.append("postquantum")
        if datagram_v3 is not None and self.rng.random() < _P_DATAGRAM_V3:
            out.append(datagram_v3)
        return out

    def name(self, region: _Region, index: int) -> str:
        """A unique tunnel name for the ``index``-th tunnel of the fleet."""
        rng = self.rng
        turn, position = divmod(index, _SPECIAL_NAME_EVERY)
        if position == _SPECIAL_NAME_OFFSET:
            base = _SPECIAL_NAMES[turn % len(_SPECIAL_NAMES)]
        else:
            pattern = rng.randrange(6)
            service = rng.choice(_SERVICES)
            if pattern == 0:
                base = f"{service}-{rng.choice(_ENVS)}"
            elif pattern == 1:
                base = f"{rng.choice(_ENVS)}-{service}-{region.site}"
            elif pattern == 2:
                base = f"{service}-{region.site}-{rng.randint(1, 12):02d}"
            elif pattern == 3:
                base = f"store-{rng.randint(1, 9999):04d}"
            elif pattern == 4:
                base = f"{rng.choice(_PEOPLE)}-{rng.choice(_THINGS)}"
            else:
                base = f"k8s-{rng.choice(_ENVS)}-{region.colos[0].lower()}"
        # A clash gets the next free suffix; remembering the last one per base keeps this
        # linear when a big fleet reuses a base thousands of times.
        name, suffix = base, self.suffixes.get(base, 1)
        if suffix > 1:
            name = f"{base}-{suffix}"
        while name in self.names:
            suffix += 1
            name = f"{base}-{suffix}"
        self.suffixes[base] = suffix
        self.names.add(name)
        return name

    # -- connectors and connections ----------------------------------------------------------
    def run_at(self, habit: int, not_before: int) -> int:
        """When a host with this habit last started cloudflared (not before ``not_before``)."""
        rng = self.rng
        cap = self.now - not_before
        if cap < _MINUTE:
            return self.now - int(rng.uniform(30.0, 60.0) * _S)
        uptime = int(rng.expovariate(1 / _HABIT_UPTIME_DAYS[habit]) * _DAY)
        if uptime >= cap:
            uptime = int(cap * rng.uniform(0.3, 1.0))
        return self.now - max(uptime, _MINUTE)

    def connector(
        self,
        host: _Host,
        version: str,
        run_at: int,
        config_version: int | None,
        plan: list[tuple[int, bool, int]],
    ) -> dict[str, Any]:
        """One Client object; ``plan`` holds (colo index, pending, opened_at) per connection."""
        rng = self.rng
        getrandbits = rng.getrandbits
        hours = self.hours
        connector_id = self.uuid()
        colos, ip = host.colos, host.ip
        sparse = rng.random() < _P_SPARSE_CONNS
        conns: list[dict[str, Any]] = []
        for colo, pending, opened in plan:
            # uuid() and iso() inlined: this loop runs once per connection.
            h = f"{(getrandbits(128) & _UUID_CLEAR) | _UUID_V4:032x}"
            conn_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            hour, rest = divmod(opened, _HOUR)
            prefix = hours.get(hour) or self.hour_prefix(hour)
            opened_at = "%s%02d:%02d.%06dZ" % (  # noqa: UP031 (see iso)
                prefix,
                rest // _MINUTE,
                rest // _S % 60,
                rest % _S,
            )
            if sparse:
                conns.append(
                    {
                        "id": conn_id,
                        "colo_name": colos[colo],
                        "is_pending_reconnect": pending,
                        "opened_at": opened_at,
                        "origin_ip": ip,
                    }
                )
            else:
                conns.append(
                    {
                        "id": conn_id,
                        "uuid": conn_id,
                        "client_id": connector_id,
                        "client_version": version,
                        "colo_name": colos[colo],
                        "is_pending_reconnect": pending,
                        "opened_at": opened_at,
                        "origin_ip": ip,
                    }
                )
        out: dict[str, Any] = {"id": connector_id}
        if rng.random() >= _P_NO_FEATURES:
            out["features"] = self.features(version)
        out["version"] = version
        out["arch"] = host.arch
        if config_version is not None:
            out["config_version"] = config_version
        out["run_at"] = self.iso(run_at)
        out["conns"] = conns
        return out

    def active_plan(self, run_at: int, n_active: int) -> list[tuple[int, bool, int]]:
        """Connections of a running connector: ``n_active`` active ones, maybe pending ones."""
        rng = self.rng
        random = rng.random
        now = self.now
        layout = _LAYOUTS[self.pick(_LAYOUT_CUM)]
        plan: list[tuple[int, bool, int]] = []
        for colo in layout[:n_active]:
            if random() < _P_RECONNECTED:
                opened = self.between(run_at, now - _S)
            else:
                opened = min(run_at + int((0.2 + 3.8 * random()) * _S), now)
            plan.append((colo, False, opened))
        pending_colos: tuple[int, ...] = ()
        if n_active < 4:
            if random() < _P_LOST_AS_PENDING:
                pending_colos = layout[n_active : n_active + rng.randint(1, 4 - n_active)]
        elif random() < _P_EXTRA_PENDING and run_at < now - 10 * _MINUTE:
            # Connections that dropped and were replaced a few minutes ago.
            pending_colos = layout[: rng.randint(1, 2)]
            for index, colo in enumerate(pending_colos):
                plan[index] = (colo, False, now - int(rng.uniform(10.0, 300.0) * _S))
        for colo in pending_colos:
            plan.append((colo, True, self.between(run_at, now - 5 * _MINUTE)))
        return plan

    def pending_plan(self, run_at: int, until: int) -> list[tuple[int, bool, int]]:
        """Connections of a connector that stopped at ``until``: 1-4, all pending."""
        layout = _LAYOUTS[self.pick(_LAYOUT_CUM)]
        return [
            (colo, True, self.between(run_at, until)) for colo in layout[: self.rng.randint(1, 4)]
        ]

    # -- tunnels -----------------------------------------------------------------------------
    def tunnel(self, index: int) -> dict[str, Any]:
        """The ``index``-th tunnel of the fleet with its connectors."""
        rng = self.rng
        now = self.now
        tunnel_id = self.uuid()
        region = self.region()
        name = self.name(region, index)
        age_days = min(rng.expovariate(1 / 420), _MAX_AGE_DAYS) + rng.uniform(1.0, 3.0)
        created = now - int(age_days * _DAY)
        remote = rng.random() < _P_REMOTE
        deleted = rng.random() < _P_DELETED
        if deleted:
            kind = "down" if rng.random() < _P_DELETED_RAN else "inactive"
        else:
            kind = _KINDS[self.pick(_KIND_CUM)]

        tunnel: dict[str, Any] = {
            "id": tunnel_id,
            "account_tag": self.account_id,
            "created_at": self.iso(created),
        }
        end = now
        if deleted:
            end = self.between(created + _HOUR, now)
            tunnel["deleted_at"] = self.iso(end)
        tunnel["name"] = name
        connectors: list[dict[str, Any]] = []
        if kind == "inactive":
            pass
        elif deleted or (kind == "down" and rng.random() >= _P_DOWN_WITH_PENDING):
            active_at = self.between(created, end - _MINUTE)
            tunnel["conns_active_at"] = self.iso(active_at)
            tunnel["conns_inactive_at"] = self.iso(self.between(active_at + _S, end))
        else:
            down_at = now - int(rng.uniform(1.0, 9.0) * _MINUTE) if kind == "down" else None
            connectors = self.connectors(kind, region, created, remote, down_at)
            opened = [conn["opened_at"] for c in connectors for conn in c["conns"]]
            tunnel["conns_active_at"] = min(opened)  # same format throughout: text order is time
            if down_at is not None:
                tunnel["conns_inactive_at"] = self.iso(down_at)
        tunnel["tun_type"] = "cfd_tunnel"
        tunnel["metadata"] = {}
        tunnel["status"] = kind
        tunnel["remote_config"] = remote
        tunnel["config_src"] = "cloudflare" if remote else "local"
        tunnel["connectors"] = connectors
        return tunnel

    def warp_tunnel(self) -> dict[str, Any]:
        """One WARP Connector tunnel with its members (see the module docstring)."""
        rng = self.rng
        now = self.now
        tunnel_id = self.uuid()
        region = self.region()
        base = f"mesh-{region.site}-{rng.choice(_ENVS)}"
        name, suffix = base, 1
        while name in self.names:
            suffix += 1
            name = f"{base}-{suffix}"
        self.names.add(name)
        created = now - int((rng.expovariate(1 / 200) + rng.uniform(1.0, 3.0)) * _DAY)
        kind = _WARP_KINDS[self.pick(_WARP_KIND_CUM)]
        tunnel: dict[str, Any] = {
            "id": tunnel_id,
            "account_tag": self.account_id,
            "created_at": self.iso(created),
            "name": name,
        }
        members: list[dict[str, Any]] = []
        if kind == "inactive":
            status = "inactive"
        else:
            n = _WARP_MEMBERS[self.pick(_WARP_MEMBERS_CUM)]
            statuses = ["active"] + ["passive"] * (n - 1)
            failover_at: int | None = None
            if kind == "down":
                statuses = ["offline"] * n
            elif n > 1 and rng.random() < _P_WARP_FAILOVER:
                statuses = ["offline", "active"] + ["passive"] * (n - 2)
                failover_at = now - int(rng.uniform(60.0, 1800.0) * _S)
            elif n > 1 and rng.random() < _P_WARP_PASSIVE_OFFLINE:
                statuses[-1] = "offline"
            version = rng.choice(_WARP_VERSIONS)
            for ha_status in statuses:
                member_version = version
                if rng.random() < _P_WARP_MIXED_VERSION:
                    member_version = rng.choice(_WARP_VERSIONS)
                members.append(self.warp_member(region, ha_status, member_version, created))
            if failover_at is not None:  # the new active member's connection is minutes old
                run_at = _to_us(members[1]["run_at"])
                for conn in members[1]["conns"]:
                    conn["opened_at"] = self.iso(max(failover_at, run_at))
            opened = [conn["opened_at"] for m in members for conn in m["conns"]]
            if opened:
                tunnel["conns_active_at"] = min(opened)
            else:
                active_at = self.between(created, now - _HOUR)
                tunnel["conns_active_at"] = self.iso(active_at)
                tunnel["conns_inactive_at"] = self.iso(self.between(active_at + _S, now))
            if "active" not in statuses:
                status = "down"
            elif "offline" in statuses or "passive" not in statuses:
                status = "degraded"
            else:
                status = "healthy"
        tunnel["tun_type"] = "warp_connector"
        tunnel["metadata"] = {}
        tunnel["status"] = status
        tunnel["connectors"] = members
        return tunnel

    def warp_member(
        self, region: _Region, ha_status: str, version: str, created: int
    ) -> dict[str, Any]:
        """One WARP Connector client: one connection when online, none when offline."""
        rng = self.rng
        arch = "linux_arm64" if rng.random() < _P_WARP_ARM else "linux_amd64"
        host = self.host(region, None, arch)
        connector_id = self.uuid()
        run_at = self.run_at(1, created + _HOUR)
        conns: list[dict[str, Any]] = []
        if ha_status != "offline":
            conns.append(
                {
                    "id": self.uuid(),
                    "client_id": connector_id,
                    "client_version": version,
                    "colo_name": host.colos[0],
                    "opened_at": self.iso(self.between(run_at, run_at + 5 * _S)),
                    "origin_ip": host.ip,
                }
            )
        return {
            "id": connector_id,
            "arch": host.arch,
            "conns": conns,
            "ha_status": ha_status,
            "run_at": self.iso(run_at),
            "version": version,
        }

    def connectors(
        self, kind: str, region: _Region, created: int, remote: bool, down_at: int | None
    ) -> list[dict[str, Any]]:
        """The connectors of a running (or just stopped) tunnel, consistent with ``kind``."""
        rng = self.rng
        now = self.now
        n_hosts = _N_HOSTS[self.pick(_N_HOSTS_CUM)]
        habit = self.pick(_HABIT_CUM)
        tunnel_version = self.version(habit, remote=remote)
        arch = _ARCHES[self.pick(self.arch_cum)] if rng.random() < _P_ONE_ARCH else None
        shared_ip = self.ip(region) if n_hosts > 1 and rng.random() < _P_SHARED_NAT else None
        config = min(int(rng.expovariate(1 / 6)) + 1, 80) if remote else 0
        drift = remote and n_hosts > 1 and rng.random() < _P_CONFIG_DRIFT
        no_config_key = not remote and rng.random() < _P_LOCAL_NO_CONFIG_VERSION
        degraded: set[int] = set()
        if kind == "degraded":
            degraded = set(rng.sample(range(n_hosts), rng.randint(1, n_hosts)))
        restart = rng.randrange(n_hosts) if down_at is None and rng.random() < _P_RESTART else -1
        drifting = rng.randrange(n_hosts) if drift else -1

        out: list[dict[str, Any]] = []
        for index in range(n_hosts):
            host_region = region if rng.random() >= _P_OTHER_REGION else self.region()
            host = self.host(host_region, shared_ip if host_region is region else None, arch)
            version, released = tunnel_version
            if rng.random() < _P_HOST_DRIFT:
                version, released = self.version(habit, remote=remote)
            config_version: int | None = config
            if drift and (index == drifting or rng.random() < 0.3):
                config_version = max(config - rng.randint(1, 3), 0)
            elif no_config_key:
                config_version = None
            run_at = self.run_at(habit, max(created, released + 2 * _HOUR))
            if down_at is not None:
                run_at = min(run_at, down_at - _MINUTE)
                plan = self.pending_plan(run_at, down_at)
                out.append(self.connector(host, version, run_at, config_version, plan))
                continue
            if index == restart:
                # The old process lingers with pending connections; its replacement just started.
                old_version, old_released = self.version(max(habit, 1), remote=remote)
                new_run_at = now - int(rng.uniform(20.0, 360.0) * _S)
                old_run_at = self.run_at(habit, max(created, old_released + 2 * _HOUR))
                old_run_at = min(old_run_at, new_run_at - _MINUTE)
                old_config = config_version
                if remote and config_version and rng.random() < 0.3:
                    old_config = config_version - 1
                plan = self.pending_plan(old_run_at, new_run_at)
                out.append(self.connector(host, old_version, old_run_at, old_config, plan))
                if _sort_key(old_version) > _sort_key(version):
                    version = old_version  # an upgrade, never a downgrade
                run_at = new_run_at
            n_active = 4
            if index in degraded:
                n_active = _DEGRADED_ACTIVE[self.pick(_DEGRADED_ACTIVE_CUM)]
            plan = self.active_plan(run_at, n_active)
            out.append(self.connector(host, version, run_at, config_version, plan))
        return out


def _sort_key(version: str) -> tuple[int, ...]:
    """Numeric order of versions; DEV sorts after every release."""
    if version == "DEV":
        return (9999,)
    return _version_key(version.split("-", 1)[0])


def generate_fleet(
    n_tunnels: int,
    *,
    seed: int = 0,
    as_of: datetime | str | None = None,
    account_id: str | None = None,
    warp_connectors: int = 0,
) -> dict[str, Any]:
    """Generate a realistic fleet of Cloudflare Tunnels and their connectors.

    The result has the shape of a fleet: ``{"tunnels": [tunnel, ...]}``, each tunnel the raw
    API object plus ``"connectors"``, the list its ``/connections`` endpoint returns. The
    realism model (statuses, colos, versions, restarts, ...) is described in the docstring of
    :mod:`tunnelframe.simulator._generator`.

    Parameters
    ----------
    n_tunnels : int
        How many tunnels to generate, deleted ones included; at least 0.
    seed : int, default 0
        Seed of the private random generator. The same seed, ``as_of`` and ``account_id``
        give the same JSON. Use different seeds for accounts you want to merge.
    as_of : datetime or str, optional
        "Now" for the fleet: every timestamp is at or before it and only cloudflared releases
        up to it are used. A naive datetime is taken as UTC. Default :data:`DEFAULT_AS_OF`
        (2026-08-20T12:00:00Z).
    account_id : str, optional
        The ``account_tag`` of every tunnel: 32 lowercase hex characters. Default: derived
        from ``seed``. Changing it changes nothing else.
    warp_connectors : int, default 0
        How many WARP Connector (``warp_connector``) tunnels to add after the ``n_tunnels``
        Cloudflare Tunnels, with active/passive members, failovers and offline members; the
        first ``n_tunnels`` tunnels do not change.

    Returns
    -------
    dict
        ``{"tunnels": [...]}``, JSON-serialisable; a fresh object on every call.

    Raises
    ------
    ValueError
        If ``n_tunnels`` is negative, ``account_id`` is not 32 lowercase hex characters, or
        ``as_of`` is not a timestamp or predates the first cloudflared release.
    TypeError
        If ``n_tunnels`` or ``seed`` is not an int, or ``as_of`` not a datetime or string.

    Notes
    -----
    While it builds the fleet, the function pauses Python's cyclic garbage collector
    (``gc.disable()``) and restores its previous state when it returns or raises. A big fleet
    is millions of fresh, acyclic dicts and lists that would trigger collection after
    collection for nothing (without the pause, 40,000 tunnels take about 30 % longer). The
    pause is process-wide: other threads keep freeing memory by reference counting, but their
    cyclic garbage waits until the fleet is built.

    Examples
    --------
    >>> from tunnelframe.simulator import generate_fleet
    >>> fleet = generate_fleet(3, seed=7)
    >>> len(fleet["tunnels"])
    3
    >>> fleet == generate_fleet(3, seed=7)
    True
    >>> {tunnel["tun_type"] for tunnel in fleet["tunnels"]}
    {'cfd_tunnel'}
    >>> mixed = generate_fleet(3, seed=7, warp_connectors=2)
    >>> [tunnel["tun_type"] for tunnel in mixed["tunnels"]][2:]
    ['cfd_tunnel', 'warp_connector', 'warp_connector']
    """
    if isinstance(n_tunnels, bool) or not isinstance(n_tunnels, int):
        raise TypeError(f"n_tunnels must be an int, not {n_tunnels!r}")
    if n_tunnels < 0:
        raise ValueError(f"n_tunnels must be at least 0, not {n_tunnels}")
    if isinstance(warp_connectors, bool) or not isinstance(warp_connectors, int):
        raise TypeError(f"warp_connectors must be an int, not {warp_connectors!r}")
    if warp_connectors < 0:
        raise ValueError(f"warp_connectors must be at least 0, not {warp_connectors}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, not {seed!r}")
    now = _to_us(as_of)
    rng = Random(seed)
    derived_account = f"{rng.getrandbits(128):032x}"
    if account_id is None:
        account_id = derived_account
    elif not (
        isinstance(account_id, str)
        and len(account_id) == 32
        and all(ch in "0123456789abcdef" for ch in account_id)
    ):
        raise ValueError(
            f"account_id must be 32 lowercase hex characters (a Cloudflare account id), "
            f"not {account_id!r}"
        )
    builder = _Builder(rng, now, account_id)
    # Pause the cyclic collector while acyclic objects pile up (see Notes), then restore it.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        tunnels = [builder.tunnel(index) for index in range(n_tunnels)]
        _share_hosts(tunnels, Random(f"shared-hosts-{seed}"))
        tunnels += [builder.warp_tunnel() for _ in range(warp_connectors)]
    finally:
        if was_enabled:
            gc.enable()
    if now < _SITE_CODES_SINCE:
        _metro_codes(tunnels)
    return {"tunnels": tunnels}


def _share_hosts(tunnels: list[dict[str, Any]], rng: Random) -> None:
    """Put some running tunnels on one host, in place: only origin IPs change (see the module
    docstring's "Shared hosts")."""
    groups: dict[tuple[str, str, bool], list[tuple[dict[str, Any], str]]] = {}
    for tunnel in tunnels:
        if tunnel["status"] not in ("healthy", "degraded"):
            continue
        for connector in tunnel["connectors"]:
            active = [conn for conn in connector["conns"] if not conn["is_pending_reconnect"]]
            if active:
                ip = active[0]["origin_ip"]
                place = (active[0]["colo_name"][:3].lower(), connector["arch"], ":" in ip)
                groups.setdefault(place, []).append((tunnel, ip))
                break
    for members in groups.values():
        index = 0
        while index < len(members) - 1:
            if rng.random() >= _P_SHARED_HOST:
                index += 1
                continue
            size = rng.randint(*_SHARED_HOST_SIZES)
            host_ip = members[index][1]
            for tunnel, ip in members[index + 1 : index + size]:
                for connector in tunnel["connectors"]:
                    for conn in connector["conns"]:
                        if conn["origin_ip"] == ip:
                            conn["origin_ip"] = host_ip
            index += size


def _metro_codes(tunnels: list[dict[str, Any]]) -> None:
    """Give every connection of ``tunnels`` its metro code, in place: ``ord12`` -> ``ORD``, the
    form of the API until mid-2023."""
    for tunnel in tunnels:
        for connector in tunnel.get("connectors") or ():
            for conn in connector.get("conns") or ():
                conn["colo_name"] = conn["colo_name"][:3].upper()
