"""Reference tables behind the fleet generator: origin regions, colos, address blocks, names.

Plain data only (no I/O; the site numbers of a metro are drawn once from a generator seeded
by its code), kept apart so the generator's logic stays readable. Metros are real Cloudflare
data centres (upper-case IATA codes in Cloudflare's list); the metros of one region lie within
~2,500 km of each other. Each metro has sites, the colo codes today's API returns (``ord12``):
a region's busiest metro 3 or 4, the next 2, the others 1. Address blocks are public: every
IPv4 first octet listed is globally routable whatever follows it, and the IPv6 prefixes are
regional-registry allocations (never the 2001:db8::/32 documentation range).
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

__all__: list[str] = []


@dataclass(frozen=True, slots=True)
class _Region:
    name: str
    weight: float  # share of origins in this region
    registry: str  # the regional internet registry its addresses come from
    colos: tuple[str, ...]  # the Cloudflare metros its connectors land on, likeliest first
    site: str  # the short site code people put in tunnel names


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _region(name: str, weight: float, registry: str, colos: str, site: str) -> _Region:
    return _Region(name, weight, registry, _words(colos), site)


_REGIONS = (
    _region("us-texas", 8, "arin", "DFW IAH AUS SAT", "dfw"),
    _region("us-east", 14, "arin", "IAD EWR ATL BOS PHL CLT MIA", "nyc"),
    _region("us-central", 6, "arin", "ORD MSP DEN MCI STL", "chi"),
    _region("us-west", 12, "arin", "LAX SJC SEA PDX SFO PHX LAS", "sfo"),
    _region("canada-east", 2, "arin", "YYZ YUL YOW", "tor"),
    _region("canada-west", 1, "arin", "YVR YYC SEA", "van"),
    _region("germany", 9, "ripe", "FRA AMS DUS MUC HAM", "fra"),
    _region("uk-ireland", 6, "ripe", "LHR MAN AMS DUB EDI", "lon"),
    _region("france", 4, "ripe", "CDG MRS FRA", "par"),
    _region("nordics", 3, "ripe", "ARN CPH OSL HEL", "sto"),
    _region("central-europe", 4, "ripe", "WAW PRG VIE ZRH MXP", "vie"),
    _region("iberia", 2, "ripe", "MAD LIS BCN", "mad"),
    _region("southeast-asia", 5, "apnic", "SIN KUL BKK CGK", "sin"),
    _region("japan", 4, "apnic", "NRT KIX", "tyo"),
    _region("east-asia", 3, "apnic", "HKG TPE ICN", "hkg"),
    _region("india", 4, "apnic", "BOM MAA DEL BLR HYD", "bom"),
    _region("australia", 3, "apnic", "SYD MEL BNE", "syd"),
    _region("new-zealand", 1, "apnic", "AKL CHC", "akl"),
    _region("brazil", 3, "lacnic", "GRU GIG", "sao"),
    _region("mexico", 1, "lacnic", "QRO MEX", "mex"),
    _region("southern-cone", 1, "lacnic", "EZE SCL", "bue"),
    _region("andes", 0.5, "lacnic", "BOG LIM", "bog"),
    _region("south-africa", 1, "afrinic", "JNB CPT", "jnb"),
    _region("gulf", 0.5, "ripe", "DXB DOH BAH MCT", "dxb"),
    _region("turkey-levant", 0.5, "ripe", "IST TLV", "ist"),
)

# Chance that a host's nearest metro is the 1st, 2nd, ... metro of its region.
_COLO_POSITION_WEIGHTS = (0.42, 0.30, 0.12, 0.07, 0.05, 0.03, 0.01)

# Site numbers seen in public `cloudflared tunnel info` outputs and logs (API-NOTES.md).
_SEEN_SITES = {
    "ORD": (2, 6, 12),
    "IAD": (9, 10, 12, 19),
    "LAX": (7, 10, 15),
    "MAD": (1, 6),
    "KUL": (1,),
    "SYD": (1, 4),
    "BOS": (1,),
    "PHL": (1,),
}

_BUSIEST = ("DFW", "FRA", "LHR", "AMS", "SIN", "NRT")


def _site_table() -> dict[str, tuple[str, ...]]:
    rank: dict[str, int] = {}
    for region in _REGIONS:
        for position, metro in enumerate(region.colos):
            rank[metro] = min(rank.get(metro, position), position)
    table = {}
    for metro, position in rank.items():
        numbers = _SEEN_SITES.get(metro)
        if numbers is None:
            n = (4 if metro in _BUSIEST else 3) if position == 0 else 2 if position == 1 else 1
            numbers = tuple(sorted(Random(f"sites {metro}").sample(range(1, 20), n)))
        table[metro] = tuple(f"{metro.lower()}{number:02d}" for number in numbers)
    return table


# The sites of every metro the generator uses: {"ORD": ("ord02", "ord06", "ord12"), ...}.
_SITES = _site_table()


def _octets(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split())


_IPV4_FIRST_OCTETS = {
    "arin": _octets(
        "3 18 23 24 34 35 44 50 52 54 63 64 65 66 67 68 69 70 71 72 73 74 75 76 96 97 98 99 "
        "104 107 108 162 173 174 184 199 204 205 206 207 208 209 216"
    ),
    "ripe": _octets(
        "2 5 31 37 46 62 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 109 141 145 "
        "151 176 178 185 188 193 194 195 212 213 217"
    ),
    "apnic": _octets(
        "1 14 27 36 39 42 43 49 58 59 60 61 101 103 106 110 111 112 113 114 115 116 117 118 "
        "119 120 121 122 123 124 125 175 180 182 183 202 210 211 218 219 220 221"
    ),
    "lacnic": _octets("177 179 181 186 187 189 190 191 200 201"),
    "afrinic": _octets("41 102 105 154 196 197"),
}

_IPV6_PREFIXES = {
    "arin": _words("2600 2601 2602 2603 2604 2605 2606 2607"),
    "ripe": _words("2a00 2a01 2a02 2a03 2a04 2a05 2a0a 2a10"),
    "apnic": _words("2400 2401 2402 2403 2404 2405 2406 2407"),
    "lacnic": _words("2800 2801 2803"),
    "afrinic": ("2c0f",),
}

_ARCHES = (
    "linux_amd64",
    "linux_arm64",
    "windows_amd64",
    "linux_arm",
    "darwin_arm64",
    "darwin_amd64",
)
_ARCH_WEIGHTS = (0.72, 0.12, 0.07, 0.04, 0.03, 0.02)

_SERVICES = _words(
    """web api app grafana prometheus jellyfin plex nas homeassistant gitlab jenkins k8s-ingress
    ssh rdp db postgres redis minio nextcloud wiki intranet crm erp billing auth sso kiosk pos
    camera mqtt iot-gw edge origin backend frontend vault argocd"""
)
_ENVS = _words("prod production staging dev qa test uat lab")
_PEOPLE = _words(
    "alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy trent victor wendy"
)
_THINGS = _words("homelab laptop macbook pi nuc desktop devbox raspberrypi")

# Names a report must escape (HTML specials, quotes) or render (non-ASCII).
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
