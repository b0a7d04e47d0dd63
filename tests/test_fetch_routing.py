"""fetch_routing over loopback: what it reads, what it costs, and a token without a permission."""

from __future__ import annotations

import http.server
import math
import re
import urllib.parse
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import hostile, make_client, reply

from tunnelframe import Policy
from tunnelframe.client import Client
from tunnelframe.fetch import fetch_fleet
from tunnelframe.fetch_routing import fetch_routing
from tunnelframe.simulator import generate_fleet, serve
from tunnelframe.snapshot import Snapshot, load_snapshot

TOKEN = "hostile-token-0123456789abcdef"


def _kind(path: str) -> str:
    if re.search(r"/cfd_tunnel/[^/]+/configurations", path):
        return "configurations"
    if "/teamnet/routes" in path:
        return "routes"
    if re.search(r"/zones/[^/?]+/dns_records", path):
        return "dns"
    if re.search(r"/zones(\?|$)", path):
        return "zones"
    return "tunnels"


def test_reads_every_part_within_the_stated_request_bound() -> None:
    fleet = generate_fleet(400, seed=11)
    with serve(fleet, budget=(10_000, 300)) as api, make_client(api) as client:
        snap = fetch_fleet(client=client, account_id=api.account_id, progress=False)
        before = len(api.request_log)
        routed = fetch_routing(snap, client=client)
        log = api.request_log[before:]
        expected = api.routing
    counts = Counter(_kind(path) for _, path, _ in log)
    remote = [
        t["id"]
        for t in fleet["tunnels"]
        if t["config_src"] == "cloudflare" and not t.get("deleted_at")
    ]
    # one configuration read per live, remotely managed tunnel, and no other tunnel's
    config_paths = [path for _, path, _ in log if _kind(path) == "configurations"]
    assert sorted(p.split("/")[-2] for p in config_paths) == sorted(remote)
    assert counts["routes"] == max(1, math.ceil(len(expected.routes) / 1000)) == 1
    assert counts["zones"] == 1
    assert counts["dns"] == len(expected.zones) >= 2  # one filtered listing per zone
    assert counts["tunnels"] == 0
    assert routed.routing is not None
    assert routed.n_requests == snap.n_requests + len(log) == snap.n_requests + sum(counts.values())
    assert routed.routing["n_requests"] == len(log)
    assert routed.routing["read"] == ["configurations", "routes", "dns"]
    assert routed.routing["notes"] == []
    assert set(routed.routing["configurations"]) == set(remote)
    live_routes = [r for r in expected.routes if not r.get("deleted_at")]
    assert len(routed.routing["routes"]) == len(live_routes)  # deleted routes left out
    tunnel_cnames = [
        r for r in expected.records if r["type"] == "CNAME" and "cfargotunnel" in r["content"]
    ]
    assert len(routed.routing["dns_records"]) == len(tunnel_cnames)
    assert all(r["type"] == "CNAME" for r in routed.routing["dns_records"])


@pytest.mark.parametrize(
    ("denied", "permission", "still_read"),
    [
        ("dns", "DNS Read", ["configurations", "routes"]),
        ("zones", "Zone Read", ["configurations", "routes"]),
        ("routes", "Cloudflare One Networks Read", ["configurations", "dns"]),
        ("configurations", "Cloudflare Tunnel Read", ["routes", "dns"]),
    ],
)
def test_a_missing_permission_skips_that_part_with_one_note(
    denied: str, permission: str, still_read: list[str]
) -> None:
    fleet = generate_fleet(120, seed=4)
    with serve(fleet, budget=(10_000, 300)) as api, make_client(api) as client:
        snap = fetch_fleet(client=client, account_id=api.account_id, progress=False)
        api.deny(denied)
        before = len(api.request_log)
        routed = fetch_routing(snap, client=client, max_workers=4)
        log = api.request_log[before:]
    routing = routed.routing
    assert routing is not None
    assert routing["read"] == still_read
    (note,) = routing["notes"]
    assert note["part"] == denied and note["status"] == 403 and note["codes"] == [10000]
    assert permission in note["message"] and "not read" in note["message"]
    assert api.token not in str(routing)
    refused = [path for _, path, status in log if status == 403]
    if denied == "configurations":  # the first refusal stops the rest (the workers in flight)
        assert 1 <= len(refused) <= 4  # at most one per worker
        assert "configurations" not in routing
    else:
        assert len(refused) == 1
    for part in still_read:
        key = "dns_records" if part == "dns" else part
        assert routing[key], part


def test_a_tunnel_deleted_before_its_configuration_is_read_is_a_note() -> None:
    fleet = generate_fleet(60, seed=7)
    remote = [
        t["id"]
        for t in fleet["tunnels"]
        if t["config_src"] == "cloudflare" and not t.get("deleted_at")
    ]
    with serve(fleet) as api, make_client(api) as client:
        snap = fetch_fleet(client=client, account_id=api.account_id, progress=False)
        api.delete_tunnel(remote[0])
        routed = fetch_routing(snap, client=client, parts="configurations")
    routing = routed.routing
    assert routing is not None
    assert routing["read"] == ["configurations"]
    assert set(routing["configurations"]) == set(remote[1:])
    (note,) = routing["notes"]
    assert note["tunnel_id"] == remote[0] and note["status"] == 404
    assert "routes" not in routing and "dns_records" not in routing


def test_routing_survives_save_and_load(tmp_path: Path) -> None:
    fleet = generate_fleet(30, seed=2)
    with serve(fleet) as api, make_client(api) as client:
        snap = fetch_routing(
            fetch_fleet(client=client, account_id=api.account_id, progress=False), client=client
        )
    loaded = load_snapshot(snap.save(tmp_path / "fleet.json.gz"))
    assert loaded == snap
    assert loaded.routing == snap.routing
    assert loaded.fleet["routing"] == snap.routing


def test_bad_parts_are_a_caller_mistake() -> None:
    fleet = generate_fleet(3, seed=1)
    with serve(fleet) as api, make_client(api) as client:
        snap = fetch_fleet(client=client, account_id=api.account_id, progress=False)
        with pytest.raises(ValueError, match="parts must be among"):
            fetch_routing(snap, client=client, parts=["hostnames"])


def test_a_looping_routes_listing_is_a_note_and_dns_is_still_read() -> None:
    # The routing reads share the tunnel list's pager: endless fresh pages of routes stop at
    # Policy.max_pages and become the routes part's note; zones and DNS are read as usual.
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(handler.path)
        page = int(dict(urllib.parse.parse_qsl(split.query))["page"])
        if split.path.endswith("/teamnet/routes"):
            routes = [{"id": f"p{page}-{i}", "network": "10.0.0.0/8"} for i in range(10)]
            body = {"result": routes, "result_info": {"page": page, "per_page": 10}}
        elif split.path.endswith("/zones"):
            body = {
                "result": [{"id": "z1", "name": "example.com"}],
                "result_info": {"total_count": 1},
            }
        else:
            record = {"id": "d1", "type": "CNAME", "name": "shop.example.com"}
            body = {"result": [{**record, "content": "t1.cfargotunnel.com"}]}
        reply(handler, 200, {"success": True, "errors": [], "messages": [], **body})

    snap = Snapshot(fetched_at=datetime.now(UTC), account_ids=["a"], tunnels=[])
    with (
        hostile(answer) as url,
        Client(TOKEN, base_url=url, policy=Policy(max_pages=5)) as client,
    ):
        routing = fetch_routing(snap, client=client, parts=("routes", "dns")).routing
    assert routing is not None and routing["read"] == ["dns"]
    (note,) = routing["notes"]
    assert note["part"] == "routes" and "stopped at Policy.max_pages (5)" in note["message"]
    assert [r["name"] for r in routing["dns_records"]] == ["shop.example.com"]
    assert routing["n_requests"] == 5 + 1 + 1
