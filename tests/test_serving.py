"""serving: origin hosts, single-origin tunnels and impact, on hand-worked fleets; and the
routing frames (frames/_routing.py) they read."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tunnelframe._errors import SchemaError
from tunnelframe.frames import hostnames_frame, routes_frame, tunnel_dns_frame
from tunnelframe.serving import origin_hosts, single_origin, tunnel_impact

A = "acc1"


def _connector(cid: str, ip: str, *, arch: str = "linux_amd64", pending: int = 0) -> dict[str, Any]:
    conns = [
        {
            "id": f"{cid}-{i}",
            "client_id": cid,
            "colo_name": "ord02",
            "origin_ip": ip,
            "is_pending_reconnect": i < pending,
        }
        for i in range(4)
    ]
    return {"id": cid, "arch": arch, "conns": conns}


def _tunnel(tid: str, name: str, connectors: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "account_tag": A,
        "name": name,
        "status": "healthy",
        **extra,
        "connectors": connectors,
    }


def hosts_fleet() -> dict[str, Any]:
    """Host 198.51.100.1 (amd64) carries web, api and batch; web and api also run elsewhere.

    - web: c1 on .1, c2 on .2        -> two origins, not single-origin
    - api: c3 and c4 both on .1      -> two connectors, one origin: warn
    - batch: c5 on .1                -> one connector: info
    - arm: c6 on .1 but linux_arm64  -> another host behind the same IP (its own row)
    - gone: c7 on .3, all pending    -> no active connection: on no host, no finding
    """
    return {
        "tunnels": [
            _tunnel(
                "t1", "web", [_connector("c1", "198.51.100.1"), _connector("c2", "198.51.100.2")]
            ),
            _tunnel(
                "t2", "api", [_connector("c3", "198.51.100.1"), _connector("c4", "198.51.100.1")]
            ),
            _tunnel("t3", "batch", [_connector("c5", "198.51.100.1")]),
            _tunnel("t4", "arm", [_connector("c6", "198.51.100.1", arch="linux_arm64")]),
            _tunnel("t5", "gone", [_connector("c7", "198.51.100.3", pending=4)]),
        ]
    }


def test_origin_hosts_groups_tunnels_by_origin_and_flags_shared_ones() -> None:
    hosts = origin_hosts(hosts_fleet())
    rows = {(r["origin_ip"], r["arch"]): r for r in hosts.to_dict("records")}
    assert set(rows) == {
        ("198.51.100.1", "linux_amd64"),
        ("198.51.100.1", "linux_arm64"),
        ("198.51.100.2", "linux_amd64"),
    }
    big = rows["198.51.100.1", "linux_amd64"]
    assert (big["n_tunnels"], big["n_connectors"], big["n_active"]) == (3, 4, 16)
    assert big["tunnels"] == "api, batch, web" and big["shared"]
    assert not rows["198.51.100.2", "linux_amd64"]["shared"]
    assert hosts.iloc[0]["origin_ip"] == "198.51.100.1" and hosts.iloc[0]["n_tunnels"] == 3
    assert list(origin_hosts(hosts_fleet(), shared_at=4)["shared"]) == [False] * 3
    with pytest.raises(ValueError, match="shared_at"):
        origin_hosts(hosts_fleet(), shared_at=0)
    empty = origin_hosts(
        {"tunnels": [_tunnel("t9", "x", [_connector("c9", "1.2.3.4", pending=4)])]}
    )
    assert empty.empty and list(empty.columns) == list(hosts.columns)


def test_single_origin_warns_on_replicas_behind_one_ip_and_informs_on_single_connectors() -> None:
    found = single_origin(hosts_fleet())
    assert found[["tunnel_name", "severity", "n_active_connectors"]].to_dict("records") == [
        {"tunnel_name": "api", "severity": "warn", "n_active_connectors": 2},
        {"tunnel_name": "arm", "severity": "info", "n_active_connectors": 1},
        {"tunnel_name": "batch", "severity": "info", "n_active_connectors": 1},
    ]
    assert "fail together" in found.iloc[0]["reason"] and "198.51.100.1" in found.iloc[0]["reason"]


def routing_fleet(read: tuple[str, ...] = ("configurations", "routes", "dns")) -> dict[str, Any]:
    """shop (remote) publishes shop.example.com (+ /api) and routes 10.20.0.0/16; legacy (local)
    is known only by DNS; idle (remote) serves nothing; old (deleted) keeps a CNAME; a CNAME
    points at a tunnel never in the account."""
    tunnels = [
        _tunnel("t1", "shop", [_connector("c1", "198.51.100.1")], config_src="cloudflare"),
        _tunnel("t2", "legacy", [_connector("c2", "198.51.100.2")], config_src="local"),
        _tunnel("t3", "idle", [_connector("c3", "198.51.100.3")], config_src="cloudflare"),
        {
            "id": "t4",
            "account_tag": A,
            "name": "old",
            "deleted_at": "2026-01-01T00:00:00Z",
            "config_src": "cloudflare",
            "connectors": [],
        },
    ]
    cname = lambda name, target: {  # noqa: E731
        "id": name,
        "zone_id": "z1",
        "zone_name": "example.com",
        "name": name,
        "type": "CNAME",
        "content": f"{target}.cfargotunnel.com",
    }
    routing = {
        "read": list(read),
        "configurations": {
            "t1": {
                "config": {
                    "ingress": [
                        {
                            "hostname": "shop.example.com",
                            "path": "^/api/",
                            "service": "http://api:80",
                        },
                        {"hostname": "shop.example.com", "service": "http://web:80"},
                        {"hostname": "admin.example.com", "service": "http://admin:80"},
                        {"service": "http_status:404"},
                    ]
                }
            },
            "t3": {"config": {"ingress": [{"service": "http_status:404"}]}},
        },
        "routes": [
            {
                "id": "r1",
                "network": "10.20.0.0/16",
                "tunnel_id": "t1",
                "virtual_network_name": "default",
            },
            {
                "id": "r2",
                "network": "10.99.0.0/16",
                "tunnel_id": "t4",
                "deleted_at": "2026-01-01T00:00:00Z",
            },
        ],
        "dns_records": [
            cname("shop.example.com", "t1"),
            cname("legacy.example.com", "t2"),
            cname("old.example.com", "t4"),
            cname("ghost.example.com", "f00dbabe-0000-4000-8000-000000000000"),
            {"id": "a", "name": "example.com", "type": "A", "content": "192.0.2.1"},
        ],
    }
    return {"tunnels": tunnels, "routing": routing}


def test_hostnames_frame_reads_ingress_rules_and_dns_only_hostnames() -> None:
    frame = hostnames_frame(routing_fleet())
    got = frame[["tunnel_name", "hostname", "path", "source", "dns_points_here"]].astype(object)
    assert got.where(got.notna(), None).to_numpy().tolist() == [
        ["legacy", "legacy.example.com", None, "dns", True],
        ["shop", "admin.example.com", None, "configuration", False],
        ["shop", "shop.example.com", None, "configuration", True],
        ["shop", "shop.example.com", "^/api/", "configuration", True],
    ]
    unknown = hostnames_frame(routing_fleet(read=("configurations",)))
    assert unknown.loc[unknown["source"] == "configuration", "dns_points_here"].isna().all()
    empty = hostnames_frame({"tunnels": []})
    assert empty.empty and list(empty.dtypes) == list(frame.dtypes)


def test_routes_and_dns_frames() -> None:
    routes = routes_frame(routing_fleet())
    assert routes[["tunnel_name", "network"]].to_numpy().tolist() == [["shop", "10.20.0.0/16"]]
    dns = tunnel_dns_frame(routing_fleet())
    assert dict(zip(dns["hostname"], dns["tunnel_state"], strict=True)) == {
        "ghost.example.com": "unknown",
        "legacy.example.com": "live",
        "old.example.com": "deleted",
        "shop.example.com": "live",
    }


def test_a_bad_routing_value_names_its_json_path() -> None:
    fleet = routing_fleet()
    fleet["routing"]["routes"][0]["network"] = 10
    with pytest.raises(SchemaError, match=r"routing\.routes\[0\]\.network"):
        routes_frame(fleet)
    fleet = routing_fleet()
    fleet["routing"]["configurations"]["t1"]["config"]["ingress"][1]["hostname"] = ["x"]
    with pytest.raises(SchemaError, match=r"configurations\.t1\.config\.ingress\[1\]\.hostname"):
        hostnames_frame(fleet)


def test_tunnel_impact_says_what_each_tunnel_serves_or_why_it_is_unknown() -> None:
    impact = tunnel_impact(routing_fleet()).set_index("tunnel_name")
    assert impact.loc["shop", "impact"] == 3  # 2 hostnames (one with two paths) + 1 route
    assert impact.loc["shop", "serves"] == (
        "2 hostnames: admin.example.com, shop.example.com; 1 route: 10.20.0.0/16"
    )
    assert impact.loc["legacy", "serves"] == "1 hostname: legacy.example.com"
    assert impact.loc["idle", "serves"] == "nothing: no hostname, no route"
    assert impact.loc["idle", "impact"] == 0
    not_read = tunnel_impact({"tunnels": routing_fleet()["tunnels"]}).set_index("tunnel_name")
    assert not_read["serves"].str.startswith("unknown: routing not read").all()
    without_dns = routing_fleet(read=("configurations", "routes"))
    del without_dns["routing"]["dns_records"]
    no_dns = tunnel_impact(without_dns)
    assert "DNS not read" in no_dns.set_index("tunnel_name").loc["legacy", "serves"]
    assert isinstance(impact["impact"].dtype, type(pd.Series([1]).dtype))
