"""Generate a realistic Cloudflare Tunnel fleet as raw API objects, deterministically.

This module makes demo, test and benchmark data that looks like a real account: it returns the
JSON the Cloudflare API would return (tunnels, and per tunnel the connectors its ``/connections``
endpoint lists), never DataFrames, and it never touches the network or global random state. The
same ``seed`` and ``as_of`` always give the same JSON, byte for byte.

The realism model
-----------------
Every number below is a module constant, so it can be checked and tuned.

Time. ``as_of`` is "now" (default :data:`DEFAULT_AS_OF`, 2026-08-20T12:00:00Z, six days after
cloudflared 2026.8.2, the newest release in the bundled calendar). Every timestamp is at or
before it: tunnels are created up to ~5 years earlier, a connector's ``run_at`` is after both its
tunnel's ``created_at`` and the release of the version it runs, a connection's ``opened_at`` is
after its connector's ``run_at``. Timestamps are ISO 8601 UTC with microseconds and ``Z``.

Tunnels. ~5 % are deleted (``deleted_at`` set, no connectors). Of the rest, ~7 % were never run,
~9 % are down, ~12 % degraded and the remainder healthy. ~45 % are remotely managed
(``remote_config`` true, ``config_src`` "cloudflare"). Names are what people type: service and
environment names, site codes, store numbers, and a few with ``<``, ``&``, quotes, and non-ASCII
text, because reports must escape them. Names are unique within an account.

Status rule (what the generator guarantees, and how to check it from the connectors):

* ``inactive``: never ran: no connectors, no ``conns_active_at``.
* ``down``: it ran (``conns_active_at`` and ``conns_inactive_at`` set) and has no active
  connection now: either no connectors at all, or connectors whose connections are all pending
  reconnect (it went down minutes ago). Deleted tunnels that ran are ``down`` too.
* ``degraded``: at least one active connection, and at least one connector with active
  connections has fewer than 4 of them.
* ``healthy``: every connector with an active connection has exactly 4 active connections.
  A connector that has only pending connections (a restart's leftover) does not count.

An active connection is one whose ``is_pending_reconnect`` is false. Active tunnels carry
``conns_active_at`` (the oldest ``opened_at`` among their connections) and no
``conns_inactive_at``.

Connectors. A tunnel that runs has 1 connector (~30 %: no host redundancy), 2 (~50 %), 3
(~8 %) or 4 to 10 (~12 %). Each connector runs on a host with a stable public origin IP (~6 %
IPv6; in ~15 % of multi-host tunnels the hosts share one NAT address), an architecture
(~72 % linux_amd64, then linux_arm64, windows_amd64, linux_arm, darwin_arm64, darwin_amd64) and a
home region. A healthy connector holds 4 active connections spread over 2 colos near its origin
(a Texas origin lands on DFW and IAH, Germany on FRA and AMS, ...), usually 2+2, sometimes 1+3
or over 3 colos; ~8 % are single-colo (4 connections in one colo). ~6 % carry 1-2 pending
reconnect connections beside their 4 active ones. In ~8 % of running tunnels one host was just
restarted: its old connector lingers with only pending connections beside the replacement,
which has a new random id, a ``run_at`` minutes ago and often a newer version. Colo codes are
real Cloudflare data centres, all present in ``airportsdata`` (IATA).

Versions come from the bundled release calendar (``cloudflared-releases.csv``), only releases
on or before ``as_of``. Each tunnel has an update habit: auto-updating (~30 %, days behind),
maintained (~44 %, about two months behind on average), neglected (~17 %, 5 to 14 months) or
abandoned (~9 %, 1 to 4+ years: out of support, which is more than a year older than the newest
release). ~20 % of a tunnel's hosts drift from the tunnel's version, so tunnels mix versions.
~1 % of hosts run a ``DEV`` build and ~1.5 % a git-describe build (``2026.8.2-1-gd1df7985``).
Remotely managed tunnels never run a version older than 2022.3.0. Features follow the version
(approximately as cloudflared added them: ``ha-origin`` before 2022.3, ``serialized_headers``,
``allow_remote_config``, ``support_datagram_v2``, ``support_quic_eof``, ``management_logs``,
``quick_reconnects`` for a while, ``postquantum`` opt-in, the ``support_datagram_v3*`` rollouts).

Config. Connectors of remotely managed tunnels carry the tunnel's ``config_version``, except in
~20 % of such tunnels with several connectors where some lag one to three versions behind.
Connectors of locally managed tunnels carry ``config_version`` 0 (or, for ~20 % of tunnels, no
such key).

Optional keys. Like real payloads, some keys are left out: ~3 % of connectors have no
``features``; ~7 % have connections with only ``id``, ``colo_name``, ``is_pending_reconnect``,
``opened_at`` and ``origin_ip`` (no ``uuid``, ``client_id``, ``client_version``, as in
cloudflared's own test fixture). Where the API sends ``null`` (``deleted_at``,
``conns_active_at``, ``conns_inactive_at``) the generator leaves the key out, because the
OpenAPI spec types those fields as plain strings and ``null`` would not validate. The deprecated
tunnel ``connections`` array is always empty.
"""

from __future__ import annotations

import csv
import functools
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

from tunnelframe._data import _data_path

__all__ = ["DEFAULT_AS_OF", "generate_fleet"]

DEFAULT_AS_OF = datetime(2026, 8, 20, 12, 0, 0, tzinfo=UTC)
"""The default "now" of a generated fleet: six days after cloudflared 2026.8.2."""

_US_PER_S = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_S
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)

# Tunnel kinds and their shares (deleted first, then among the tunnels that are not deleted).
_P_DELETED = 0.05
_P_DELETED_RAN = 0.7
_KINDS = ("inactive", "down", "degraded", "healthy")
_KIND_CUM = (0.07, 0.16, 0.28, 1.0)
_P_DOWN_WITH_PENDING = 0.3  # down tunnels whose connectors still show pending connections
_P_REMOTE = 0.45
_P_LOCAL_NO_CONFIG_VERSION = 0.2
_P_CONFIG_DRIFT = 0.2

# Connectors per running tunnel: 1, 2, 3, then 4..10.
_N_CONNECTORS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
_N_CONNECTORS_CUM = (0.30, 0.80, 0.88, 0.93, 0.96, 0.975, 0.985, 0.992, 0.996, 1.0)

_P_OTHER_REGION = 0.15
_P_IPV6 = 0.06
_P_SHARED_NAT = 0.15
_P_SINGLE_COLO = 0.08
_P_TWO_PLUS_TWO = 0.72  # of the connectors that are not single-colo, cumulatively below
_P_ONE_PLUS_THREE = 0.10
_P_EXTRA_PENDING = 0.06
_P_RECONNECTED = 0.12
_P_RESTART = 0.08
_P_NO_FEATURES = 0.03
_P_SPARSE_CONNS = 0.07
_P_HOST_DRIFT = 0.2
_P_DEV = 0.01
_P_DESCRIBE = 0.015
_P_POSTQUANTUM = 0.07
_P_DATAGRAM_V3 = 0.3

_ARCHES = (
    "linux_amd64",
    "linux_arm64",
    "windows_amd64",
    "linux_arm",
    "darwin_arm64",
    "darwin_amd64",
)
_ARCH_CUM = (0.72, 0.84, 0.91, 0.95, 0.98, 1.0)

# Update habits: share, version lag in days (sampler below), mean uptime in days.
_HABITS = ("auto", "maintained", "neglected", "abandoned")
_HABIT_CUM = (0.30, 0.74, 0.91, 1.0)
_HABIT_UPTIME_DAYS = (6.0, 25.0, 60.0, 150.0)

# Public address blocks by registry (first IPv4 octets fully public; IPv6 /16 prefixes).
_IPV4_FIRST: dict[str, tuple[int, ...]] = {
    "arin": (
        3,
        18,
        23,
        24,
        34,
        35,
        44,
        50,
        52,
        54,
        63,
        64,
        65,
        66,
        67,
        68,
        69,
        70,
        71,
        72,
        73,
        74,
        75,
        76,
        96,
        97,
        98,
        99,
        104,
        107,
        108,
        162,
        173,
        174,
        184,
        199,
        204,
        205,
        206,
        207,
        208,
        209,
        216,
    ),
    "ripe": (
        2,
        5,
        31,
        37,
        46,
        62,
        77,
        78,
        79,
        80,
        81,
        82,
        83,
        84,
        85,
        86,
        87,
        88,
        89,
        90,
        91,
        92,
        93,
        94,
        95,
        109,
        141,
        145,
        151,
        176,
        178,
        185,
        188,
        193,
        194,
        195,
        212,
        213,
        217,
    ),
    "apnic": (
        1,
        14,
        27,
        36,
        39,
        42,
        43,
        49,
        58,
        59,
        60,
        61,
        101,
        103,
        106,
        110,
        111,
        112,
        113,
        114,
        115,
        116,
        117,
        118,
        119,
        120,
        121,
        122,
        123,
        124,
        125,
        175,
        180,
        182,
        183,
        202,
        210,
        211,
        218,
        219,
        220,
        221,
    ),
    "lacnic": (177, 179, 181, 186, 187, 189, 190, 191, 200, 201),
    "afrinic": (41, 102, 105, 154, 196, 197),
}
_IPV6_PREFIX: dict[str, tuple[str, ...]] = {
    "arin": ("2600", "2601", "2602", "2603", "2604", "2605", "2606", "2607"),
    "ripe": ("2a00", "2a01", "2a02", "2a03", "2a04", "2a05", "2a0a", "2a10"),
    "apnic": ("2400", "2401", "2402", "2403", "2404", "2405", "2406", "2407"),
    "lacnic": ("2800", "2801", "2803"),
    "afrinic": ("2c0f",),
}


@dataclass(frozen=True, slots=True)
class _Region:
    name: str
    weight: float
    registry: str
    colos: tuple[str, ...]  # Cloudflare colos, nearest (most likely) first
    site: str  # the short site code people put in tunnel names


# Origin regions and the colos their connectors land on (all IATA codes in airportsdata).
_REGIONS = (
    _Region("us-texas", 8, "arin", ("DFW", "IAH", "AUS", "SAT"), "dfw"),
    _Region("us-east", 14, "arin", ("IAD", "EWR", "ATL", "BOS", "PHL", "CLT", "MIA"), "nyc"),
    _Region("us-central", 6, "arin", ("ORD", "MSP", "DEN", "MCI", "STL"), "chi"),
    _Region("us-west", 12, "arin", ("LAX", "SJC", "SEA", "PDX", "SFO", "PHX", "LAS"), "sfo"),
    _Region("canada", 3, "arin", ("YYZ", "YUL", "YVR"), "tor"),
    _Region("germany", 9, "ripe", ("FRA", "AMS", "DUS", "MUC", "HAM"), "fra"),
    _Region("uk-ireland", 6, "ripe", ("LHR", "MAN", "AMS", "DUB", "EDI"), "lon"),
    _Region("france", 4, "ripe", ("CDG", "MRS", "FRA"), "par"),
    _Region("nordics", 3, "ripe", ("ARN", "CPH", "OSL", "HEL"), "sto"),
    _Region("central-europe", 4, "ripe", ("WAW", "PRG", "VIE", "ZRH", "MXP"), "vie"),
    _Region("iberia", 2, "ripe", ("MAD", "LIS", "BCN"), "mad"),
    _Region("southeast-asia", 5, "apnic", ("SIN", "KUL", "BKK", "CGK"), "sin"),
    _Region("japan", 4, "apnic", ("NRT", "KIX"), "tyo"),
    _Region("east-asia", 3, "apnic", ("HKG", "ICN", "TPE"), "hkg"),
    _Region("india", 4, "apnic", ("BOM", "MAA", "DEL", "BLR", "HYD"), "bom"),
    _Region("oceania", 4, "apnic", ("SYD", "MEL", "BNE", "PER", "AKL"), "syd"),
    _Region("brazil", 3, "lacnic", ("GRU", "GIG"), "sao"),
    _Region("latin-america", 2, "lacnic", ("MEX", "QRO", "BOG", "SCL", "EZE", "LIM"), "mex"),
    _Region("south-africa", 1, "afrinic", ("JNB", "CPT"), "jnb"),
    _Region("middle-east", 1, "ripe", ("DXB", "TLV", "IST"), "dxb"),
)
_COLO_POSITION_WEIGHTS = (0.42, 0.30, 0.12, 0.07, 0.05, 0.03, 0.01)

_SERVICES = (
    "web",
    "api",
    "app",
    "grafana",
    "prometheus",
    "jellyfin",
    "plex",
    "nas",
    "homeassistant",
    "gitlab",
    "jenkins",
    "k8s-ingress",
    "ssh",
    "rdp",
    "db",
    "postgres",
    "redis",
    "minio",
    "nextcloud",
    "wiki",
    "intranet",
    "crm",
    "erp",
    "billing",
    "auth",
    "sso",
    "kiosk",
    "pos",
    "camera",
    "mqtt",
    "iot-gw",
    "edge",
    "origin",
    "backend",
    "frontend",
    "vault",
    "argocd",
)
_ENVS = ("prod", "production", "staging", "dev", "qa", "test", "uat", "lab")
_PEOPLE = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "oscar",
    "peggy",
    "trent",
    "victor",
    "wendy",
)
_THINGS = ("homelab", "laptop", "macbook", "pi", "nuc", "desktop", "devbox", "raspberrypi")
_SPECIAL_NAMES = (
    "R&D <sandbox>",
    "Tom & Jerry's lab",
    '"blue" cluster',
    "<b>bold</b> tunnel",
    "café-paris",
    "münchen-büro",
    "東京オフィス",
    "São Paulo – loja 3",
    "Zürich & Genève",
    "kiosk 'lobby'",
    "🚀 launchpad",
    "ops > dev",
    "Ärzte-Praxis Köln",
    "Москва-dc1",
    "a<b & c>d",
)
_P_SPECIAL_NAME = 0.03

_UUID_CLEAR = ((1 << 128) - 1) ^ ((0xF << 76) | (0x3 << 62))
_UUID_V4 = (0x4 << 76) | (0x2 << 62)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.cache
def _release_calendar() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """All releases sorted by date, then version, with release instants (midnight UTC, in µs)."""
    with _data_path("cloudflared-releases.csv").open(newline="", encoding="utf-8") as handle:
        rows = [
            (date.fromisoformat(r["released_on"]), r["version"]) for r in csv.DictReader(handle)
        ]
    rows.sort(key=lambda row: (row[0], _version_key(row[1])))
    versions = tuple(version for _, version in rows)
    instants = tuple((day - _EPOCH_DATE).days * _US_PER_DAY for day, _ in rows)
    return versions, instants


def _features(version: tuple[int, ...]) -> tuple[str, ...]:
    """The default features cloudflared of ``version`` reports (approximate timeline)."""
    out: list[str] = []
    if version < (2022, 3):
        out.append("ha-origin")
    if version >= (2022, 3):
        out.append("allow_remote_config")
    if version >= (2021, 3):
        out.append("serialized_headers")
    if version >= (2022, 5):
        out.append("support_datagram_v2")
    if version >= (2023, 2):
        out.append("support_quic_eof")
    if version >= (2023, 4):
        out.append("management_logs")
    if (2021, 3) <= version < (2023, 2):
        out.append("quick_reconnects")
    return tuple(out)


def _datagram_v3(version: tuple[int, ...]) -> str | None:
    """The datagram v3 feature a host in the remote rollout reports at ``version``."""
    if version >= (2025, 9):
        return "support_datagram_v3_2"
    if version >= (2025, 2):
        return "support_datagram_v3_1"
    if version >= (2024, 12):
        return "support_datagram_v3"
    return None


def _to_us(moment: datetime | str | None) -> int:
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
    return (delta.days * 86_400 + delta.seconds) * _US_PER_S + delta.microseconds


@dataclass(slots=True)
class _Host:
    region: _Region
    ip: str
    arch: str
    colos: tuple[str, str, str]


class _Builder:
    """Holds the RNG, the clock and per-fleet caches while one fleet is built."""

    def __init__(self, rng: Random, as_of_us: int, account_id: str) -> None:
        self.rng = rng
        self.now = as_of_us
        self.account_id = account_id
        versions, instants = _release_calendar()
        n_known = bisect_right(instants, as_of_us)
        if n_known == 0:
            raise ValueError(
                f"as_of={self.iso(as_of_us)} is before the first cloudflared release "
                f"({versions[0]}): pass a later as_of"
            )
        self.versions = versions[:n_known]
        self.instants = instants[:n_known]
        self.newest = self.versions[-1]
        self.min_remote = bisect_right(self.instants, _to_us("2022-03-01T00:00:00Z"))
        self.days: dict[int, str] = {}
        self.names: set[str] = set()
        self.features: dict[str, tuple[str, ...]] = {}
        self.region_cum = _cumulative([r.weight for r in _REGIONS])
        self.colo_cum = {
            r.name: _cumulative(list(_COLO_POSITION_WEIGHTS[: len(r.colos)])) for r in _REGIONS
        }

    # -- primitives -------------------------------------------------------------------------
    def iso(self, us: int) -> str:
        day, rest = divmod(us, _US_PER_DAY)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = f"{(_EPOCH_DATE + timedelta(days=day)).isoformat()}T"
            self.days[day] = prefix
        seconds, micro = divmod(rest, _US_PER_S)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{micro:06d}Z"

    def uuid(self) -> str:
        h = f"{(self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_V4:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def pick(self, cum: tuple[float, ...] | list[float]) -> int:
        return bisect_right(cum, self.rng.random() * cum[-1])

    def between(self, start: int, end: int) -> int:
        """A random instant in [start, end] (start when the interval is empty)."""
        if end <= start:
            return start
        return start + int(self.rng.random() * (end - start))

    # -- hosts, versions, names ----------------------------------------------------------------
    def region(self) -> _Region:
        return _REGIONS[min(self.pick(self.region_cum), len(_REGIONS) - 1)]

    def ip(self, region: _Region) -> str:
        rng = self.rng
        if rng.random() < _P_IPV6:
            prefix = rng.choice(_IPV6_PREFIX[region.registry])
            bits = rng.getrandbits(64)
            return (
                f"{prefix}:{bits >> 48:x}:{(bits >> 32) & 0xFFFF:x}:{(bits >> 16) & 0xFFFF:x}"
                f"::{(bits & 0xFFFF) or 1:x}"
            )
        first = rng.choice(_IPV4_FIRST[region.registry])
        bits = rng.getrandbits(24)
        return f"{first}.{bits >> 16}.{(bits >> 8) & 0xFF}.{(bits & 0xFF) % 254 + 1}"

    def host(self, region: _Region, ip: str | None, arch: str | None) -> _Host:
        cum = self.colo_cum[region.name]
        colos = region.colos
        first = min(self.pick(cum), len(colos) - 1)
        second = first
        while second == first:
            second = min(self.pick(cum), len(colos) - 1)
        third = self.rng.randrange(len(colos))
        return _Host(
            region,
            ip or self.ip(region),
            arch or _ARCHES[self.pick(_ARCH_CUM)],
            (colos[first], colos[second], colos[third]),
        )

    def version(self, habit: int, *, remote: bool) -> tuple[str, int]:
        """A version string and the release instant it is not older than (µs)."""
        rng = self.rng
        if habit == 0:
            lag_days = rng.uniform(0.0, 4.0)
        elif habit == 1:
            lag_days = rng.expovariate(1 / 70)
        elif habit == 2:
            lag_days = rng.uniform(150.0, 420.0)
        else:
            lag_days = rng.uniform(370.0, 1600.0)
        index = bisect_right(self.instants, self.now - int(lag_days * _US_PER_DAY)) - 1
        index = max(index, self.min_remote if remote else 0, 0)
        index = min(index, len(self.versions) - 1)
        version, released = self.versions[index], self.instants[index]
        draw = rng.random()
        if draw < _P_DEV:
            return "DEV", released
        if draw < _P_DEV + _P_DESCRIBE:
            return f"{version}-{rng.randint(1, 40)}-g{rng.getrandbits(32):08x}", released
        return version, released

    def feature_list(self, version: str) -> list[str]:
        base = self.features.get(version)
        if base is None:
            plain = self.newest if version == "DEV" else version.split("-", 1)[0]
            key = _version_key(plain)
            base = _features(key)
            self.features[version] = base
        out = list(base)
        rng = self.rng
        plain_key = _version_key(self.newest if version == "DEV" else version.split("-", 1)[0])
        if plain_key >= (2023, 2) and rng.random() < _P_POSTQUANTUM:
            out.append("postquantum")
        extra = _datagram_v3(plain_key)
        if extra is not None and rng.random() < _P_DATAGRAM_V3:
            out.append(extra)
        return out

    def name(self, region: _Region) -> str:
        rng = self.rng
        if rng.random() < _P_SPECIAL_NAME:
            base = rng.choice(_SPECIAL_NAMES)
        else:
            pattern = rng.randrange(6)
            svc = rng.choice(_SERVICES)
            if pattern == 0:
                base = f"{svc}-{rng.choice(_ENVS)}"
            elif pattern == 1:
                base = f"{rng.choice(_ENVS)}-{svc}-{region.site}"
            elif pattern == 2:
                base = f"{svc}-{region.site}-{rng.randint(1, 12):02d}"
            elif pattern == 3:
                base = f"store-{rng.randint(1, 9999):04d}"
            elif pattern == 4:
                base = f"{rng.choice(_PEOPLE)}-{rng.choice(_THINGS)}"
            else:
                base = f"k8s-{rng.choice(_ENVS)}-{region.colos[0].lower()}"
        name, suffix = base, 1
        while name in self.names:
            suffix += 1
            name = f"{base}-{suffix}"
        self.names.add(name)
        return name

    # -- connectors and connections --------------------------------------------------------------
    def run_at(self, habit: int, not_before: int) -> int:
        cap = self.now - not_before
        if cap < 60 * _US_PER_S:
            return self.now - int(self.rng.uniform(30.0, 60.0) * _US_PER_S)
        uptime = int(self.rng.expovariate(1 / _HABIT_UPTIME_DAYS[habit]) * _US_PER_DAY)
        if uptime >= cap:
            uptime = int(cap * self.rng.uniform(0.3, 1.0))
        return self.now - max(uptime, 60 * _US_PER_S)

    def connector(
        self,
        host: _Host,
        version: str,
        run_at: int,
        config_version: int | None,
        plan: list[tuple[int, bool, int]],
    ) -> dict[str, Any]:
        """One Client object; ``plan`` is (colo index, pending, opened_at µs) per connection."""
        rng = self.rng
        connector_id = self.uuid()
        sparse = rng.random() < _P_SPARSE_CONNS
        conns: list[dict[str, Any]] = []
        colos, ip, iso, uuid = host.colos, host.ip, self.iso, self.uuid
        for colo, pending, opened in plan:
            conn_id = uuid()
            if sparse:
                conns.append(
                    {
                        "id": conn_id,
                        "colo_name": colos[colo],
                        "is_pending_reconnect": pending,
                        "opened_at": iso(opened),
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
                        "opened_at": iso(opened),
                        "origin_ip": ip,
                    }
                )
        out: dict[str, Any] = {"id": connector_id}
        if rng.random() >= _P_NO_FEATURES:
            out["features"] = self.feature_list(version)
        out["version"] = version
        out["arch"] = host.arch
        if config_version is not None:
            out["config_version"] = config_version
        out["run_at"] = self.iso(run_at)
        out["conns"] = conns
        return out

    def layout(self) -> list[int]:
        """Colo indices (into the host's three colos) of a connector's 4 HA connections."""
        draw = self.rng.random()
        if draw < _P_SINGLE_COLO:
            return [0, 0, 0, 0]
        draw = (draw - _P_SINGLE_COLO) / (1 - _P_SINGLE_COLO)
        if draw < _P_TWO_PLUS_TWO:
            return [0, 1, 0, 1]
        if draw < _P_TWO_PLUS_TWO + _P_ONE_PLUS_THREE:
            return [0, 1, 1, 1]
        return [0, 1, 2, 1]

    def opened(self, run_at: int) -> int:
        """When a connection of a connector started at ``run_at`` was (re)opened."""
        rng = self.rng
        if rng.random() < _P_RECONNECTED:
            return self.between(run_at, self.now - _US_PER_S)
        return min(run_at + int(rng.uniform(0.2, 4.0) * _US_PER_S), self.now)

    def active_plan(
        self, run_at: int, n_active: int, with_pending: bool
    ) -> list[tuple[int, bool, int]]:
        layout = self.layout()
        plan = [(colo, False, self.opened(run_at)) for colo in layout[:n_active]]
        n_pending = 0
        if n_active < 4 and with_pending:
            n_pending = self.rng.randint(1, 4 - n_active)
        elif n_active == 4 and self.rng.random() < _P_EXTRA_PENDING:
            n_pending = self.rng.randint(1, 2)
            # The connections that replaced the pending ones were opened minutes ago.
            for index in range(n_pending):
                colo = plan[index][0]
                plan[index] = (colo, False, self.now - int(self.rng.uniform(10, 300) * _US_PER_S))
        for index in range(n_pending):
            colo = layout[(index + n_active) % 4] if n_active < 4 else layout[index]
            end = self.now - 5 * 60 * _US_PER_S
            plan.append((colo, True, self.between(run_at, end)))
        return plan

    def pending_plan(self, run_at: int, until: int) -> list[tuple[int, bool, int]]:
        layout = self.layout()
        n = self.rng.randint(1, 4)
        return [(colo, True, self.between(run_at, until)) for colo in layout[:n]]

    # -- tunnels ---------------------------------------------------------------------------------
    def tunnel(self) -> dict[str, Any]:
        rng = self.rng
        now = self.now
        tunnel_id = self.uuid()
        region = self.region()
        name = self.name(region)
        age = min(rng.expovariate(1 / 420), 2000.0) + rng.uniform(1.0, 3.0)
        created = now - int(age * _US_PER_DAY)
        remote = rng.random() < _P_REMOTE
        deleted = rng.random() < _P_DELETED
        kind = "down" if deleted else _KINDS[self.pick(_KIND_CUM)]
        if deleted and rng.random() >= _P_DELETED_RAN:
            kind = "inactive"

        tunnel: dict[str, Any] = {
            "id": tunnel_id,
            "account_tag": self.account_id,
            "created_at": self.iso(created),
        }
        if deleted:
            tunnel["deleted_at"] = self.iso(self.between(created + _US_PER_DAY // 24, now))
        tunnel["name"] = name
        tunnel["connections"] = []
        connectors: list[dict[str, Any]] = []
        if kind == "inactive":
            pass
        elif deleted or (kind == "down" and rng.random() >= _P_DOWN_WITH_PENDING):
            end = _from_iso_us(tunnel["deleted_at"]) if deleted else now
            active_at = self.between(created, end)
            tunnel["conns_active_at"] = self.iso(active_at)
            tunnel["conns_inactive_at"] = self.iso(self.between(active_at, end))
        else:
            connectors = self.connectors(kind, region, created, remote)
            opened = [c["opened_at"] for conn in connectors for c in conn["conns"]]
            tunnel["conns_active_at"] = min(opened)
            if kind == "down":
                latest = max(opened)
                inactive_at = self.between(
                    max(_from_iso_us(latest), now - 10 * 60 * _US_PER_S), now
                )
                tunnel["conns_inactive_at"] = self.iso(inactive_at)
        tunnel["tun_type"] = "cfd_tunnel"
        tunnel["metadata"] = {}
        tunnel["status"] = kind
        tunnel["remote_config"] = remote
        tunnel["config_src"] = "cloudflare" if remote else "local"
        tunnel["connectors"] = connectors
        return tunnel

    def connectors(
        self, kind: str, region: _Region, created: int, remote: bool
    ) -> list[dict[str, Any]]:
        rng = self.rng
        now = self.now
        n_hosts = _N_CONNECTORS[self.pick(_N_CONNECTORS_CUM)]
        habit = self.pick(_HABIT_CUM)
        tunnel_version = self.version(habit, remote=remote)
        arch = _ARCHES[self.pick(_ARCH_CUM)] if rng.random() < 0.8 else None
        shared_ip = self.ip(region) if n_hosts > 1 and rng.random() < _P_SHARED_NAT else None
        if remote:
            config = min(int(rng.expovariate(1 / 6)) + 1, 80)
            drift = n_hosts > 1 and rng.random() < _P_CONFIG_DRIFT
        else:
            config = 0
            drift = False
        no_config_key = not remote and rng.random() < _P_LOCAL_NO_CONFIG_VERSION
        degraded: set[int] = set()
        if kind == "degraded":
            degraded = set(rng.sample(range(n_hosts), rng.randint(1, n_hosts)))
        restart = rng.randrange(n_hosts) if kind != "down" and rng.random() < _P_RESTART else -1
        drifting = rng.randrange(n_hosts) if drift else -1
        down_until = now - int(rng.uniform(0.5, 9.0) * 60 * _US_PER_S)

        out: list[dict[str, Any]] = []
        for index in range(n_hosts):
            host_region = region if rng.random() >= _P_OTHER_REGION else self.region()
            ip = shared_ip if host_region is region else None
            host = self.host(host_region, ip, arch)
            version, released = tunnel_version
            if rng.random() < _P_HOST_DRIFT:
                version, released = self.version(habit, remote=remote)
            config_version: int | None = config
            if remote and (index == drifting or (drift and rng.random() < 0.3)):
                config_version = max(config - rng.randint(1, 3), 0)
            elif not remote and no_config_key:
                config_version = None
            not_before = max(created, released + 2 * 3600 * _US_PER_S)
            run_at = self.run_at(habit, not_before)
            if kind == "down":
                run_at = min(run_at, down_until - 60 * _US_PER_S)
                plan = self.pending_plan(run_at, down_until)
                out.append(self.connector(host, version, run_at, config_version, plan))
                continue
            if index == restart:
                # The old process lingers with pending connections; its replacement just started.
                old_version, old_released = self.version(max(habit, 1), remote=remote)
                old_run_at = self.run_at(habit, max(created, old_released))
                new_run_at = now - int(rng.uniform(20.0, 360.0) * _US_PER_S)
                old_run_at = min(old_run_at, new_run_at - 60 * _US_PER_S)
                old_config = config_version
                if remote and config_version is not None and rng.random() < 0.3:
                    old_config = max(config_version - 1, 0)
                plan = self.pending_plan(old_run_at, new_run_at)
                out.append(self.connector(host, old_version, old_run_at, old_config, plan))
                if _version_key_safe(old_version) > _version_key_safe(version):
                    version = old_version  # never downgrade on restart
                run_at = new_run_at
            n_active = rng.choices((1, 2, 3), (0.2, 0.3, 0.5))[0] if index in degraded else 4
            plan = self.active_plan(run_at, n_active, with_pending=rng.random() < 0.5)
            out.append(self.connector(host, version, run_at, config_version, plan))
        return out


def _version_key_safe(version: str) -> tuple[int, ...]:
    if version == "DEV":
        return (9999,)
    return _version_key(version.split("-", 1)[0])


def _from_iso_us(text: str) -> int:
    return _to_us(datetime.fromisoformat(text))


def _cumulative(weights: list[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        out.append(total)
    return out


def generate_fleet(
    n_tunnels: int,
    *,
    seed: int = 0,
    as_of: datetime | str | None = None,
    account_id: str | None = None,
) -> dict[str, Any]:
    """Generate a realistic fleet of Cloudflare Tunnels and their connectors.

    The result has the shape of a fleet: ``{"tunnels": [tunnel, ...]}`` where each tunnel is the
    raw API object plus ``"connectors"``, the list its ``/connections`` endpoint returns. The
    realism model is described in :mod:`tunnelframe.simulator._generator`.

    Parameters
    ----------
    n_tunnels : int
        How many tunnels to generate (deleted ones included), at least 0.
    seed : int, default 0
        Seed of the private random generator: the same seed, ``as_of`` and ``account_id`` give
        the same JSON. Use different seeds for accounts you want to merge.
    as_of : datetime or str, optional
        "Now" for the fleet; every timestamp is at or before it and only cloudflared releases
        up to it are used. A naive datetime is taken as UTC. Default :data:`DEFAULT_AS_OF`
        (2026-08-20T12:00:00Z).
    account_id : str, optional
        The ``account_tag`` of every tunnel: 32 lowercase hex characters. Default: derived
        from ``seed``.

    Returns
    -------
    dict
        ``{"tunnels": [...]}``, JSON-serialisable; a fresh object on every call.

    Raises
    ------
    ValueError
        If ``n_tunnels`` is negative, ``account_id`` is not 32 hex characters, or ``as_of`` is
        not a timestamp or predates the first cloudflared release.
    TypeError
        If ``n_tunnels`` or ``seed`` is not an integer.

    Examples
    --------
    >>> from tunnelframe.simulator import generate_fleet
    >>> fleet = generate_fleet(3, seed=7)
    >>> len(fleet["tunnels"])
    3
    >>> fleet == generate_fleet(3, seed=7)
    True
    >>> sorted({t["tun_type"] for t in fleet["tunnels"]})
    ['cfd_tunnel']
    """
    if isinstance(n_tunnels, bool) or not isinstance(n_tunnels, int):
        raise TypeError(f"n_tunnels must be an int, not {n_tunnels!r}")
    if n_tunnels < 0:
        raise ValueError(f"n_tunnels must be at least 0, not {n_tunnels}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, not {seed!r}")
    as_of_us = _to_us(as_of)
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
    builder = _Builder(rng, as_of_us, account_id)
    return {"tunnels": [builder.tunnel() for _ in range(n_tunnels)]}
