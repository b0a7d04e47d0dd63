"""The simulator's routing reads (configurations, teamnet routes, zones, DNS records): consistent
with its fleet and valid against Cloudflare's OpenAPI spec (``data/openapi-routing.json``)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from conftest import spec_validator

from tunnelframe.simulator import generate_fleet, serve
from tunnelframe.simulator._routing import derive_routing

ROUTING_SPEC = Path(__file__).resolve().parent / "data" / "openapi-routing.json"


@functools.cache
def routing_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(ROUTING_SPEC.read_text(encoding="utf-8"))
    return spec


def _success(op: str) -> jsonschema.Draft7Validator:
    ops = routing_spec()["operations"]
    return spec_validator(ops[op]["responses"]["200"]["content"]["application/json"]["schema"])


def _check(validator: jsonschema.Draft7Validator, body: Any) -> None:
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{errors[0].message} at {list(errors[0].absolute_path)}"


def _get(http: requests.Session, url: str, **params: Any) -> requests.Response:
    return http.get(url, params=params, timeout=10)


def test_every_routing_response_validates_against_the_spec() -> None:
    fleet = generate_fleet(120, seed=3)
    config_of = spec_validator(routing_spec()["components_resolved"]["tunnel_config"])
    with serve(fleet, budget=(10_000, 300)) as api, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {api.token}"
        zones = _get(http, f"{api.url}/zones", **{"account.id": api.account_id}).json()
        _check(_success("list_zones"), zones)
        assert zones["result"]
        n_records = 0
        for zone in zones["result"]:
            body = _get(http, f"{api.url}/zones/{zone['id']}/dns_records", per_page=50).json()
            _check(_success("list_dns_records"), body)
            n_records += len(body["result"])
        assert n_records > 0
        for page in (1, 2):
            body = _get(
                http, f"{api.url}/accounts/{api.account_id}/teamnet/routes", page=page, per_page=10
            ).json()
            _check(_success("list_teamnet_routes"), body)
            assert body["result"]
        n_configs = 0
        for tunnel in fleet["tunnels"]:
            if tunnel.get("deleted_at"):
                continue
            response = _get(
                http,
                f"{api.url}/accounts/{api.account_id}/cfd_tunnel/{tunnel['id']}/configurations",
            )
            body = response.json()
            _check(_success("get_cfd_tunnel_configuration"), body)
            config = body["result"]["config"]
            if config:  # the catch-all rule has no hostname (a delta from the 2024 spec)
                *rules, catch_all = config["ingress"]
                assert catch_all == {"service": "http_status:404"}
                config = {**config, "ingress": rules}
            _check(config_of, config)
            assert body["result"]["tunnel_id"] == tunnel["id"]
            n_configs += tunnel.get("config_src") == "cloudflare"
        assert n_configs > 10


def test_the_spec_check_catches_a_bad_route() -> None:
    body = {"success": True, "errors": [], "messages": [], "result": [{"network": 10}]}
    with pytest.raises(AssertionError, match="is not of type 'string'"):
        _check(_success("list_teamnet_routes"), body)


def test_derived_routing_is_consistent_with_the_fleet() -> None:
    fleet = generate_fleet(300, seed=5)
    routing = derive_routing(fleet["tunnels"])
    by_id = {t["id"]: t for t in fleet["tunnels"]}
    # configurations: remotely managed, live tunnels only, each ending in a catch-all rule
    assert routing["configurations"]
    for tid, config in routing["configurations"].items():
        assert by_id[tid]["config_src"] == "cloudflare" and not by_id[tid].get("deleted_at")
        assert "hostname" not in config["config"]["ingress"][-1]
    # DNS: CNAMEs to live tunnels, dangling ones to deleted tunnels and to unknown ids
    targets = [
        r["content"].removesuffix(".cfargotunnel.com")
        for r in routing["dns_records"]
        if r["type"] == "CNAME"
    ]
    assert any(t in by_id and not by_id[t].get("deleted_at") for t in targets)
    assert any(t in by_id and by_id[t].get("deleted_at") for t in targets)
    assert any(t not in by_id for t in targets)
    # locally managed tunnels have hostnames only in DNS
    assert any(t in by_id and by_id[t]["config_src"] == "local" for t in targets)
    # routes: deleted ones belong to deleted tunnels
    assert routing["routes"]
    for route in routing["routes"]:
        assert bool(route.get("deleted_at")) == bool(by_id[route["tunnel_id"]].get("deleted_at"))
    assert derive_routing(fleet["tunnels"]) == routing  # deterministic


def test_filters_pages_and_deleted_routes() -> None:
    fleet: dict[str, Any] = {
        "tunnels": [
            {"id": "t1", "account_tag": "acc1", "name": "web", "config_src": "cloudflare"},
            {
                "id": "t2",
                "account_tag": "acc1",
                "name": "old",
                "deleted_at": "2026-01-01T00:00:00Z",
            },
        ],
        "routing": {
            "configurations": {
                "t1": {"tunnel_id": "t1", "config": {"ingress": [{"service": "http_status:404"}]}}
            },
            "routes": [
                {"id": f"r{i}", "network": f"10.0.{i}.0/24", "tunnel_id": "t1"} for i in range(5)
            ]
            + [
                {
                    "id": "r9",
                    "network": "10.9.0.0/16",
                    "tunnel_id": "t2",
                    "deleted_at": "2026-01-01T00:00:00Z",
                }
            ],
            "zones": [{"id": "z1", "name": "example.com", "account": {"id": "acc1"}}],
            "dns_records": [
                {
                    "id": "d1",
                    "zone_id": "z1",
                    "name": "a.example.com",
                    "type": "CNAME",
                    "content": "t1.cfargotunnel.com",
                },
                {
                    "id": "d2",
                    "zone_id": "z1",
                    "name": "example.com",
                    "type": "A",
                    "content": "192.0.2.1",
                },
            ],
        },
    }
    with serve(fleet) as api, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {api.token}"
        routes = f"{api.url}/accounts/acc1/teamnet/routes"
        live = _get(http, routes, per_page=2, page=3).json()
        assert [r["id"] for r in live["result"]] == ["r4"]
        assert live["result_info"]["total_count"] == 5
        assert [r["id"] for r in _get(http, routes, is_deleted="true").json()["result"]] == ["r9"]
        assert _get(http, routes, per_page=1001).status_code == 400
        records = f"{api.url}/zones/z1/dns_records"
        found = _get(http, records, **{"content.endswith": ".CFARGOTUNNEL.com"}).json()["result"]
        assert [r["id"] for r in found] == ["d1"]
        assert len(_get(http, records).json()["result"]) == 2
        assert _get(http, f"{api.url}/zones/nope/dns_records").status_code == 404
        config = f"{api.url}/accounts/acc1/cfd_tunnel"
        assert _get(http, f"{config}/t1/configurations").json()["result"]["tunnel_id"] == "t1"
        assert _get(http, f"{config}/t2/configurations").status_code == 404  # deleted
        assert _get(http, f"{config}/t3/configurations").status_code == 404  # unknown
        api.deny("routes", "zones")
        for url in (routes, f"{api.url}/zones"):
            refused = _get(http, url)
            assert refused.status_code == 403
            assert refused.json()["errors"][0]["code"] == 10000
        assert _get(http, records).status_code == 200  # DNS Read still granted
        with pytest.raises(ValueError, match="parts must be among"):
            api.deny("everything")
