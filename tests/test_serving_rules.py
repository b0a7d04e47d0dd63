"""The rules about what tunnels serve (route-to-down, orphan-dns, unrouted-tunnel,
single-origin), the impact every tunnel finding carries, and fix-first ranking by impact; on a
hand-worked fleet, then end to end over the simulator."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_serving import A, _connector, routing_fleet

import tunnelframe as tf
from tunnelframe.cli import main
from tunnelframe.simulator import generate_fleet, serve

AS_OF = "2026-08-20T12:00:00Z"


def worked_fleet() -> dict[str, Any]:
    """routing_fleet() with: shop down (serves 2 hostnames and a route), "a-test" down serving
    nothing, legacy healthy on one connector (serves legacy.example.com via DNS), idle healthy
    on two hosts serving nothing, old deleted (its CNAME dangles), ghost CNAME to no tunnel."""
    fleet = routing_fleet()
    shop, _legacy, idle, _old = fleet["tunnels"]
    shop.update(status="down", connectors=[], conns_inactive_at="2026-08-20T11:00:00Z")
    idle["connectors"] = [_connector("c3", "198.51.100.3"), _connector("c3b", "198.51.100.4")]
    fleet["tunnels"].append(
        {
            "id": "t6",
            "account_tag": A,
            "name": "a-test",
            "status": "down",
            "config_src": "cloudflare",
            "conns_inactive_at": "2026-08-20T11:50:00Z",
            "connectors": [],
        }
    )
    fleet["routing"]["configurations"]["t6"] = {"config": {"ingress": [{"service": "x"}]}}
    return fleet


def _by_rule(found: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in found.to_dict("records"):
        out.setdefault(str(row["rule"]), []).append(row)
    return out


def test_each_rule_on_a_hand_worked_fleet() -> None:
    rules = _by_rule(tf.findings(worked_fleet(), as_of=AS_OF))
    (route,) = rules["route-to-down"]
    assert route["tunnel_name"] == "shop" and route["severity"] == "high"
    assert route["message"] == (
        'route-to-down: tunnel "shop" (t1) is down: unreachable: '
        "2 hostnames: admin.example.com, shop.example.com; 1 route: 10.20.0.0/16"
    )
    assert {r["tunnel_name"] for r in rules["down"]} == {"shop", "a-test"}
    orphans = sorted(r["message"] for r in rules["orphan-dns"])
    assert len(orphans) == 2 and all(r["severity"] == "warn" for r in rules["orphan-dns"])
    assert orphans[0].startswith("orphan-dns: ghost.example.com (zone example.com) is a CNAME")
    assert "no tunnel of this account has that id" in orphans[0]
    assert orphans[1].startswith("orphan-dns: old.example.com") and "is deleted" in orphans[1]
    (unrouted,) = rules["unrouted-tunnel"]
    assert unrouted["tunnel_name"] == "idle" and unrouted["severity"] == "info"
    assert unrouted["message"].endswith("is healthy and serves nothing: no hostname, no route")
    (origin,) = rules["single-origin"]  # legacy's one connector; idle runs on two hosts
    assert origin["tunnel_name"] == "legacy" and origin["severity"] == "info"


def test_every_tunnel_finding_carries_its_impact() -> None:
    found = tf.findings(worked_fleet(), as_of=AS_OF)
    legacy = found[found["tunnel_name"] == "legacy"]
    assert set(legacy["rule"]) == {"single-connector", "single-origin", "single-colo"}
    assert (legacy["impact"] == 1).all()
    assert legacy["message"].str.endswith("; it serves 1 hostname: legacy.example.com").all()
    down = found[(found["rule"] == "down")].set_index("tunnel_name")
    assert down.loc["shop", "impact"] == 3 and down.loc["a-test", "impact"] == 0
    assert "it serves 2 hostnames" in down.loc["shop", "message"]
    assert "it serves" not in down.loc["a-test", "message"]
    # without the routing, nothing is claimed: impact and serves are NA, messages unchanged
    bare = tf.findings({"tunnels": worked_fleet()["tunnels"]}, as_of=AS_OF)
    assert bare["impact"].isna().all() and bare["serves"].isna().all()
    assert not bare["message"].str.contains("it serves").any()
    assert not set(bare["rule"]) & {"route-to-down", "orphan-dns", "unrouted-tunnel"}


def _fix_rows(html: str) -> list[list[str]]:
    block = html[html.index('<section id="fix">') :]
    block = block[: block.index("</section>")]
    rows = re.findall(r"<tr>(.*?)</tr>", block, flags=re.S)[1:]
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]


def test_fix_first_ranks_a_down_shop_above_a_down_test_tunnel(tmp_path: Path) -> None:
    html = tf.write_report(worked_fleet(), tmp_path / "r.html", as_of=AS_OF).read_text()
    rows = _fix_rows(html)
    names = [r[0] for r in rows]
    # both down; "a-test" went down more recently (and leads without the routing, below), but
    # shop serves 3 things and a-test none
    assert names[:2] == ["shop", "a-test"]
    assert rows[0][2].endswith(
        "; it serves 2 hostnames: admin.example.com, shop.example.com; 1 route: 10.20.0.0/16"
    )
    bare = tf.write_report(
        {"tunnels": worked_fleet()["tunnels"]}, tmp_path / "b.html", as_of=AS_OF
    ).read_text()
    assert [r[0] for r in _fix_rows(bare)][:2] == ["a-test", "shop"]


def test_fetch_routing_then_check_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = generate_fleet(80, seed=9)
    out = tmp_path / "s.json.gz"
    with serve(fleet) as api:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", api.account_id)
        api.deny("routes")
        assert main(["fetch", "--routing", "-o", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    # one clear note for the part the token may not read, and the rest read
    (note,) = [line for line in captured.err.splitlines() if ": note: " in line]
    assert "routes not read" in note and "Cloudflare One Networks Read" in note
    assert api.token not in captured.out + captured.err
    routing = tf.load_snapshot(out).routing
    assert routing is not None and routing["read"] == ["configurations", "dns"]
    assert main(["check", str(out), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    rules = {v["rule"] for v in doc["violations"]}
    assert {"orphan-dns", "single-origin", "route-to-down"} <= rules
    assert "unrouted-tunnel" not in rules  # the routes are unknown: not claimed to be none
    routed = [v for v in doc["violations"] if v["impact"]]
    assert routed
    assert all("it serves" in v["message"] or v["rule"] == "route-to-down" for v in routed)


def test_report_routing_section_tunnel_detail_and_export(tmp_path: Path) -> None:
    html = tf.write_report(worked_fleet(), tmp_path / "r.html", as_of=AS_OF).read_text()
    section = html[html.index('<section id="routing">') :]
    section = section[: section.index("</section>")]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", section)]
    for text in ("legacy.example.com", "(DNS only)", "shop.example.com ^/api/", "10.20.0.0/16"):
        assert text in cells, text
    assert "4 hostnames and 1 route, by tunnel" in section
    # each tunnel's detail says what it serves
    detail = html[html.index('<section id="tunnels">') :]
    assert "Serves" in detail and "nothing: no hostname, no route" in detail
    bare = tf.write_report({"tunnels": worked_fleet()["tunnels"]}, tmp_path / "b.md", as_of=AS_OF)
    assert "was not read: fetch with tunnelframe fetch --routing" in bare.read_text()
    paths = tf.export_frames(worked_fleet(), tmp_path / "out", format="csv")
    assert {"hostnames", "routes", "tunnel_dns"} <= set(paths)
    hostnames = pd.read_csv(paths["hostnames"])
    assert sorted(hostnames["hostname"].unique()) == [
        "admin.example.com",
        "legacy.example.com",
        "shop.example.com",
    ]
    bare_paths = tf.export_frames({"tunnels": worked_fleet()["tunnels"]}, tmp_path / "o2")
    assert set(bare_paths) == {"connections", "connectors", "tunnels"}
