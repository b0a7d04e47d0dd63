"""What the simulated API answers about what each tunnel serves: hostnames, routes, DNS.

Four read operations beside the tunnel ones, shaped as Cloudflare's OpenAPI spec has them:
``GET /accounts/{a}/cfd_tunnel/{t}/configurations`` (a remotely managed tunnel's ingress
rules), ``GET /accounts/{a}/teamnet/routes`` (private network routes, paginated, deleted ones
left out unless ``is_deleted`` says otherwise), ``GET /zones`` and
``GET /zones/{z}/dns_records`` (with the ``type`` and ``content`` filters, ``content.endswith``
among them). The routing of a fleet is its ``"routing"`` key when the fleet has one (a
hand-written fleet), otherwise it is derived from the tunnels, deterministically, so that it
is consistent with them: locally managed tunnels have no configuration (their hostnames show
only in DNS), deleted tunnels leave dangling CNAMEs and deleted routes, and a few CNAMEs point
at tunnels that were never in the account. Nothing here opens a socket.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tunnelframe.simulator._api import (
    _CODE_BAD_REQUEST,
    _DEFAULT_PER_PAGE,
    _BadRequest,
    _envelope,
    _failure,
    _page_number,
)

__all__: list[str] = []

#: The parts a token may lack, each named by what it reads.
PARTS: Final = ("configurations", "routes", "zones", "dns")
_TUNNEL_DOMAIN: Final = ".cfargotunnel.com"
_SERVICES: Final = (
    "http://localhost:8080",
    "https://localhost:8443",
    "http://127.0.0.1:3000",
    "http://web:80",
    "ssh://localhost:22",
    "tcp://db.internal:5432",
    "rdp://10.0.0.5:3389",
)
_ZONE_WORDS: Final = ("example", "acme", "contoso", "globex", "initech", "umbrella", "hooli")
_TLDS: Final = (".com", ".net", ".io", ".dev")
_VNETS: Final = (
    ("0b8c6a2e-5d4f-4c1e-9a3b-2f1e0d9c8b7a", "default"),
    ("4f6e2d1c-8b9a-4e7d-a6c5-b4a3f2e1d0c9", "staging-vpc"),
    ("9e8d7c6b-5a4f-4d3e-b2c1-a0f9e8d7c6b5", "datacenter-2"),
)
_EPOCH: Final = "2024-01-15T09:30:00Z"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[rng.getrandbits(2)]}{h[17:20]}-{h[20:32]}"


def _hex_id(*parts: str) -> str:
    return hashlib.md5("|".join(parts).encode(), usedforsecurity=False).hexdigest()


def _label(name: object, fallback: str) -> str:
    text = "".join(c if c.isalnum() else "-" for c in str(name or fallback).lower()).strip("-")
    return text[:40] or fallback


def _full_zone(zone: Mapping[str, Any]) -> dict[str, Any]:
    """A zone object with every key the spec requires (what a hand-written one leaves out)."""
    account = zone.get("account") or {}
    return {
        "id": zone["id"],
        "name": zone["name"],
        "status": "active",
        "type": "full",
        "paused": False,
        "development_mode": 0,
        "owner": {"type": "organization", "name": "tunnelframe simulator"},
        "account": {"id": account.get("id"), "name": f"account {str(account.get('id'))[:8]}"},
        "meta": {"cdn_only": False, "dns_only": False, "phishing_detected": False},
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": None,
        "original_registrar": None,
        "original_dnshost": None,
        "created_on": _EPOCH,
        "modified_on": _EPOCH,
        "activated_on": _EPOCH,
        **zone,
    }


def derive_routing(tunnels: Sequence[Mapping[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """The routing of a fleet derived from its tunnels (see the module docstring).

    Returns ``{"configurations": {tunnel_id: config}, "routes": [...], "zones": [...],
    "dns_records": [...]}``: raw objects as the API serves them (a route's ``deleted_at`` set
    when deleted; a DNS record carries its ``zone_id``).

    Examples
    --------
    >>> r = derive_routing([{"id": "t1", "name": "web", "account_tag": "a",
    ...                      "config_src": "cloudflare", "status": "healthy"}], seed=1)
    >>> sorted(r), list(r["configurations"])
    (['configurations', 'dns_records', 'routes', 'zones'], ['t1'])
    """
    ids = ",".join(str(t.get("id")) for t in tunnels)
    rng = random.Random(f"{seed}|{_hex_id(ids)}")
    accounts = list(dict.fromkeys(str(t.get("account_tag") or "") for t in tunnels)) or [""]
    zones: list[dict[str, Any]] = []
    zones_of: dict[str, list[dict[str, Any]]] = {}
    for account in accounts:
        n_live = sum(1 for t in tunnels if str(t.get("account_tag") or "") == account)
        for k in range(1 + n_live // 150):
            word = _ZONE_WORDS[(len(zones) + k) % len(_ZONE_WORDS)]
            name = f"{word}{'' if k < len(_TLDS) else k}{_TLDS[k % len(_TLDS)]}"
            zone = _full_zone(
                {"id": _hex_id(account, name), "name": name, "account": {"id": account}}
            )
            zones.append(zone)
            zones_of.setdefault(account, []).append(zone)
    configurations: dict[str, Any] = {}
    routes: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []

    def cname(zone: Mapping[str, Any], host: str, target: str) -> None:
        records.append(
            {
                "id": _hex_id(zone["id"], host),
                "zone_id": zone["id"],
                "zone_name": zone["name"],
                "name": host,
                "type": "CNAME",
                "content": target,
                "proxied": True,
                "proxiable": True,
                "ttl": 1,
                "created_on": _EPOCH,
                "modified_on": _EPOCH,
            }
        )

    used: set[str] = set()
    for index, tunnel in enumerate(tunnels):
        tid = str(tunnel.get("id"))
        account = str(tunnel.get("account_tag") or "")
        zone_list = zones_of.get(account) or zones[:1]
        label = _label(tunnel.get("name"), f"t{index}")
        deleted = bool(tunnel.get("deleted_at"))
        kind = tunnel.get("tun_type") or "cfd_tunnel"
        hosts: list[str] = []
        if kind == "cfd_tunnel":
            n_hosts = rng.choice((0, 1, 1, 1, 2, 2, 3)) if not deleted else rng.choice((0, 1))
            for k in range(n_hosts):
                zone = zone_list[rng.randrange(len(zone_list))]
                host = f"{label}{'' if k == 0 else f'-{k}'}.{zone['name']}"
                if host in used:
                    continue
                used.add(host)
                hosts.append(host)
        if tunnel.get("config_src") == "cloudflare" and kind == "cfd_tunnel" and not deleted:
            ingress: list[dict[str, Any]] = []
            for host in hosts:
                rule: dict[str, Any] = {"hostname": host, "service": rng.choice(_SERVICES)}
                if rng.random() < 0.15:
                    rule["path"] = "^/api/"
                    ingress.append(rule)
                    rule = {"hostname": host, "service": rng.choice(_SERVICES)}
                ingress.append(rule)
            ingress.append({"service": "http_status:404"})  # the catch-all cloudflared requires
            configurations[tid] = {
                "account_id": account,
                "tunnel_id": tid,
                "version": rng.randint(1, 12),
                "config": {"ingress": ingress, "warp-routing": {"enabled": rng.random() < 0.3}},
                "source": "cloudflare",
                "created_at": tunnel.get("created_at") or _EPOCH,
            }
        for host in hosts:
            draw = rng.random()
            zone = next(z for z in zone_list if host.endswith("." + z["name"]))
            if deleted and draw < 0.5:
                cname(zone, host, f"{tid}{_TUNNEL_DOMAIN}")  # dangling: its tunnel is deleted
            elif not deleted and draw < 0.9:
                cname(zone, host, f"{tid}{_TUNNEL_DOMAIN}")
            # else: published without a CNAME to this tunnel (DNS elsewhere or missing)
        wants_route = kind == "warp_connector" or (not deleted and rng.random() < 0.25)
        if wants_route or (deleted and rng.random() < 0.3):
            for _ in range(1 if kind == "warp_connector" else rng.choice((1, 1, 2))):
                vnet_id, vnet_name = _VNETS[rng.randrange(len(_VNETS))]
                network = f"10.{rng.randrange(256)}.{rng.randrange(256)}.0/24"
                route = {
                    "id": _uuid(rng),
                    "network": network,
                    "tunnel_id": tid,
                    "tunnel_name": tunnel.get("name"),
                    "tun_type": kind,
                    "virtual_network_id": vnet_id,
                    "virtual_network_name": vnet_name,
                    "comment": "",
                    "created_at": tunnel.get("created_at") or _EPOCH,
                }
                if deleted:
                    route["deleted_at"] = tunnel.get("deleted_at")
                routes.append(route)
    for k, zone in enumerate(zones):  # a CNAME left behind for a tunnel never in the account
        cname(zone, f"old-{k}.{zone['name']}", f"{_uuid(rng)}{_TUNNEL_DOMAIN}")
        records.append(
            {
                "id": _hex_id(zone["id"], "apex"),
                "zone_id": zone["id"],
                "zone_name": zone["name"],
                "name": zone["name"],
                "type": "A",
                "content": "192.0.2.10",
                "proxied": True,
                "proxiable": True,
                "ttl": 1,
                "created_on": _EPOCH,
                "modified_on": _EPOCH,
            }
        )
    return {
        "configurations": configurations,
        "routes": routes,
        "zones": zones,
        "dns_records": records,
    }


def _page(
    items: Sequence[Mapping[str, Any]],
    query: Mapping[str, str],
    *,
    default: int,
    low: int = 1,
    high: int,
) -> dict[str, Any]:
    page = _page_number(query, "page", 1, None)
    per_page = _page_number(query, "per_page", default, high)
    if per_page < low:
        raise _BadRequest(f"per_page must be an integer in {low}..{high}, got {per_page}")
    result = [dict(item) for item in items[(page - 1) * per_page : page * per_page]]
    info = {"count": len(result), "page": page, "per_page": per_page, "total_count": len(items)}
    return _envelope(result, info)


def _text_match(value: str, query: Mapping[str, str], field: str) -> bool:
    """The DNS API's text filters: ``field`` (exact), ``field.exact``, ``.contains``,
    ``.startswith``, ``.endswith``; case-insensitive, all must hold."""
    text = value.casefold()
    for op in ("", ".exact", ".contains", ".startswith", ".endswith"):
        wanted = query.get(field + op)
        if wanted is None:
            continue
        wanted = wanted.casefold()
        ok = {
            "": text == wanted,
            ".exact": text == wanted,
            ".contains": wanted in text,
            ".startswith": text.startswith(wanted),
            ".endswith": text.endswith(wanted),
        }[op]
        if not ok:
            return False
    return True


class RoutingApi:
    """The routing reads of one simulated account set, and the parts a token may lack."""

    def __init__(self, routing: Mapping[str, Any], accounts_of: Mapping[str, str]) -> None:
        self.accounts_of = dict(accounts_of)
        self.configurations: dict[str, Any] = dict(routing.get("configurations") or {})
        self.routes: list[dict[str, Any]] = list(routing.get("routes") or [])
        self.zones: list[dict[str, Any]] = [_full_zone(z) for z in routing.get("zones") or []]
        self.records: list[dict[str, Any]] = list(routing.get("dns_records") or [])
        self.denied: set[str] = set()

    def deny(self, *parts: str) -> None:
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise ValueError(f"parts must be among {', '.join(PARTS)}, got {sorted(unknown)}")
        self.denied.update(parts)

    def _refused(self, part: str) -> tuple[int, dict[str, Any]] | None:
        if part in self.denied:
            return 403, _failure(10000, "Authentication error")
        return None

    def answer(
        self,
        segments: Sequence[str],
        query: Mapping[str, str],
        tunnel: Mapping[str, Any] | None,
    ) -> tuple[int, dict[str, Any]] | None:
        """The answer to a routing read, or None when the path is not one.

        ``tunnel`` is the (live) tunnel a ``configurations`` path names, None if there is
        no such tunnel in the account.
        """
        try:
            return self._answer(segments, query, tunnel)
        except _BadRequest as exc:
            return 400, _failure(_CODE_BAD_REQUEST, str(exc))

    def _answer(
        self,
        segments: Sequence[str],
        query: Mapping[str, str],
        tunnel: Mapping[str, Any] | None,
    ) -> tuple[int, dict[str, Any]] | None:
        if segments == ["zones"]:
            refused = self._refused("zones")
            if refused:
                return refused
            account = query.get("account.id")
            zones = [z for z in self.zones if account is None or z["account"]["id"] == account]
            zones = [z for z in zones if "name" not in query or z["name"] == query["name"]]
            return 200, _page(zones, query, default=20, low=5, high=50)
        if len(segments) == 3 and segments[0] == "zones" and segments[2] == "dns_records":
            refused = self._refused("dns")
            if refused:
                return refused
            if not any(z["id"] == segments[1] for z in self.zones):
                return 404, _failure(7003, "Could not route to the zone: unknown zone id")
            kind = query.get("type")
            records = [
                r
                for r in self.records
                if r["zone_id"] == segments[1]
                and (kind is None or r["type"] == kind)
                and _text_match(str(r["content"]), query, "content")
                and _text_match(str(r["name"]), query, "name")
            ]
            return 200, _page(records, query, default=100, high=5_000_000)
        if (
            len(segments) == 4
            and segments[0] == "accounts"
            and segments[2:]
            == [
                "teamnet",
                "routes",
            ]
        ):
            refused = self._refused("routes")
            if refused:
                return refused
            is_deleted = query.get("is_deleted", "false")  # the default since 2025-12-01
            if is_deleted not in ("true", "false"):
                raise _BadRequest(f"is_deleted must be true or false, got {is_deleted!r}")
            routes = [
                r
                for r in self.routes
                if self._account_of(r) in (segments[1], None)
                and bool(r.get("deleted_at")) == (is_deleted == "true")
                and query.get("tunnel_id", r["tunnel_id"]) == r["tunnel_id"]
            ]
            return 200, _page(routes, query, default=_DEFAULT_PER_PAGE, high=1000)
        if (
            len(segments) == 5
            and segments[0] == "accounts"
            and segments[2] == "cfd_tunnel"
            and segments[4] == "configurations"
        ):
            if tunnel is None:
                return None  # the caller answers 404 as for any call about that tunnel
            refused = self._refused("configurations")
            if refused:
                return refused
            config = self.configurations.get(segments[3])
            if config is None:
                # A locally managed tunnel keeps its ingress rules in cloudflared's own
                # config.yml; the API holds none (the simulator says so with an empty one).
                config = {
                    "account_id": segments[1],
                    "tunnel_id": segments[3],
                    "version": 0,
                    "config": {},
                    "source": "local",
                    "created_at": tunnel.get("created_at") or _EPOCH,
                }
            return 200, _envelope(config)
        return None

    def _account_of(self, route: Mapping[str, Any]) -> str | None:
        """The account of a route's tunnel (None: a tunnel the fleet does not hold)."""
        return self.accounts_of.get(str(route.get("tunnel_id")))
