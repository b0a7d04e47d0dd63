"""Tests of tunnelframe.simulator.generate_fleet and the bundled sample (tunnelframe.datasets).

Realism thresholds are worked out by hand from the shares documented in the generator's module
docstring, with wide margins, on a fleet of 1000 tunnels; comments give the expected value.
"""

from __future__ import annotations

import csv
import gc
import gzip
import ipaddress
import json
import math
import re
import subprocess
import sys
import uuid
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import airportsdata
import jsonschema
import pytest
from conftest import openapi_spec, spec_validator

import tunnelframe
from tunnelframe.simulator import DEFAULT_AS_OF, _generator, generate_fleet

REPO = Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
NEWEST_RELEASE = date(2026, 8, 14)  # 2026.8.2, the newest release on or before AS_OF
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
RELEASE = re.compile(r"^\d{4}\.\d{1,2}\.\d+$")
PIP_WHEEL = (sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q")
DESCRIBE = re.compile(r"^(\d{4}\.\d{1,2}\.\d+)-\d+-g[0-9a-f]{8}$")


def ts(text: str) -> datetime:
    assert TIMESTAMP.match(text), text
    return datetime.fromisoformat(text)


def releases() -> dict[str, date]:
    with (REPO / "data" / "cloudflared-releases.csv").open(newline="") as handle:
        return {r["version"]: date.fromisoformat(r["released_on"]) for r in csv.DictReader(handle)}


def base_version(version: str) -> str | None:
    """The release a version builds on, None for DEV."""
    if version == "DEV":
        return None
    match = DESCRIBE.match(version)
    return match.group(1) if match else version


def n_active(connector: dict[str, Any]) -> int:
    return sum(not conn["is_pending_reconnect"] for conn in connector["conns"])


def expected_status(tunnel: dict[str, Any]) -> str:
    """The status rule documented in the generator, computed from the connectors."""
    if "conns_active_at" not in tunnel:
        return "inactive"
    actives = [n_active(connector) for connector in tunnel["connectors"]]
    if sum(actives) == 0:
        return "down"
    if any(0 < count < 4 for count in actives):
        return "degraded"
    return "healthy"


@pytest.fixture(scope="module")
def fleet() -> dict[str, Any]:
    return generate_fleet(1000, seed=11)


@pytest.fixture(scope="module")
def tunnels(fleet: dict[str, Any]) -> list[dict[str, Any]]:
    return list(fleet["tunnels"])


@pytest.fixture(scope="module")
def connectors(tunnels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [connector for tunnel in tunnels for connector in tunnel["connectors"]]


@pytest.fixture(scope="module")
def conns(connectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [conn for connector in connectors for conn in connector["conns"]]


# -- determinism and arguments -----------------------------------------------------------------


def test_same_seed_gives_identical_json() -> None:
    first = json.dumps(generate_fleet(50, seed=3, as_of="2026-01-02T03:04:05Z"))
    second = json.dumps(generate_fleet(50, seed=3, as_of="2026-01-02T03:04:05Z"))
    assert first == second


def test_different_seeds_differ() -> None:
    one, two = generate_fleet(20, seed=1), generate_fleet(20, seed=2)
    assert {t["id"] for t in one["tunnels"]}.isdisjoint({t["id"] for t in two["tunnels"]})
    assert one["tunnels"][0]["account_tag"] != two["tunnels"][0]["account_tag"]


def test_as_of_accepts_datetime_string_and_naive_utc() -> None:
    text = generate_fleet(10, seed=5, as_of="2026-08-20T12:00:00Z")
    aware = generate_fleet(10, seed=5, as_of=AS_OF)
    naive = generate_fleet(10, seed=5, as_of=datetime(2026, 8, 20, 12, 0))
    default = generate_fleet(10, seed=5)
    assert text == aware == naive == default
    assert DEFAULT_AS_OF == AS_OF


def test_account_id_override_changes_only_the_account() -> None:
    account = "0123456789abcdef0123456789abcdef"
    plain = generate_fleet(30, seed=9)
    other = generate_fleet(30, seed=9, account_id=account)
    assert {t["account_tag"] for t in other["tunnels"]} == {account}
    for tunnel in other["tunnels"]:
        tunnel["account_tag"] = plain["tunnels"][0]["account_tag"]
    assert other == plain


def test_default_account_id_is_32_hex_and_shared() -> None:
    tags = {t["account_tag"] for t in generate_fleet(30, seed=4)["tunnels"]}
    assert len(tags) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", tags.pop())


def test_zero_tunnels() -> None:
    assert generate_fleet(0) == {"tunnels": []}


def test_the_garbage_collector_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gc.isenabled()
    generate_fleet(3)
    assert gc.isenabled()
    gc.disable()
    try:
        generate_fleet(3)
        assert not gc.isenabled()  # a collector paused by the caller stays paused
    finally:
        gc.enable()

    def fail(self: object, index: int) -> None:
        assert not gc.isenabled()  # paused while the fleet is built
        raise RuntimeError("boom")

    monkeypatch.setattr(_generator._Builder, "tunnel", fail)
    with pytest.raises(RuntimeError, match="boom"):
        generate_fleet(3)
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_tunnels": -1}, ValueError, "at least 0"),
        ({"n_tunnels": 2.5}, TypeError, "n_tunnels must be an int"),
        ({"n_tunnels": True}, TypeError, "n_tunnels must be an int"),
        ({"n_tunnels": 1, "seed": "x"}, TypeError, "seed must be an int"),
        ({"n_tunnels": 1, "account_id": "ABC"}, ValueError, "32 lowercase hex"),
        ({"n_tunnels": 1, "as_of": "yesterday"}, ValueError, "not an ISO 8601 timestamp"),
        ({"n_tunnels": 1, "as_of": 20260820}, TypeError, "as_of must be a datetime"),
        ({"n_tunnels": 1, "as_of": "2017-01-01"}, ValueError, "before the first cloudflared"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        generate_fleet(**kwargs)


def test_earlier_as_of_uses_only_releases_known_then() -> None:
    as_of = datetime(2024, 1, 1, tzinfo=UTC)
    known = releases()
    fleet = generate_fleet(300, seed=1, as_of=as_of)
    versions = {c["version"] for t in fleet["tunnels"] for c in t["connectors"]}
    bases = {base_version(v) for v in versions} - {None}
    assert bases
    assert all(known[v] <= as_of.date() for v in bases if v is not None)
    for tunnel in fleet["tunnels"]:
        assert ts(tunnel["created_at"]) <= as_of
        for connector in tunnel["connectors"]:
            assert all(ts(conn["opened_at"]) <= as_of for conn in connector["conns"])


# -- the OpenAPI contract ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> dict[str, jsonschema.Draft7Validator]:
    components = openapi_spec()["components_resolved"]
    return {
        name: spec_validator(components[name])
        for name in ("tunnel_cfd_tunnel", "tunnel_tunnel_client", "tunnel_schemas-connection")
    }


def test_every_object_validates_against_the_spec(
    schemas: dict[str, jsonschema.Draft7Validator],
    tunnels: list[dict[str, Any]],
    connectors: list[dict[str, Any]],
    conns: list[dict[str, Any]],
) -> None:
    for tunnel in tunnels:
        schemas["tunnel_cfd_tunnel"].validate(
            {k: v for k, v in tunnel.items() if k != "connectors"}
        )
    for connector in connectors:
        schemas["tunnel_tunnel_client"].validate(connector)
    for conn in conns:
        schemas["tunnel_schemas-connection"].validate(conn)


def test_spec_rejects_null_timestamps_so_none_are_emitted(
    schemas: dict[str, jsonschema.Draft7Validator], tunnels: list[dict[str, Any]]
) -> None:
    # The spec types deleted_at and conns_*_at as plain strings (no nullable), so the generator
    # leaves the keys out where the real API sends null.
    assert not schemas["tunnel_cfd_tunnel"].is_valid({"deleted_at": None})
    assert "null" not in json.dumps(tunnels)


# -- shape and identifiers ---------------------------------------------------------------------


def test_tunnel_fields(tunnels: list[dict[str, Any]]) -> None:
    for tunnel in tunnels:
        assert tunnel["tun_type"] == "cfd_tunnel"
        assert "connections" not in tunnel  # gone from the API since 2026-10-05
        assert tunnel["metadata"] == {}
        assert tunnel["config_src"] == ("cloudflare" if tunnel["remote_config"] else "local")
        assert isinstance(tunnel["connectors"], list)


def test_ids_are_unique_uuid4(
    tunnels: list[dict[str, Any]], connectors: list[dict[str, Any]], conns: list[dict[str, Any]]
) -> None:
    ids = [t["id"] for t in tunnels] + [c["id"] for c in connectors] + [c["id"] for c in conns]
    assert len(ids) == len(set(ids))
    assert all(uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value for value in ids)


def test_connection_keys_agree_with_their_connector(connectors: list[dict[str, Any]]) -> None:
    sparse = 0
    for connector in connectors:
        for conn in connector["conns"]:
            if "uuid" not in conn:
                sparse += 1
                assert not {"client_id", "client_version"} & conn.keys()
                continue
            assert conn["uuid"] == conn["id"]
            assert conn["client_id"] == connector["id"]
            assert conn["client_version"] == connector["version"]
    assert sparse >= 50  # 7 % of ~1900 connectors, ~4 connections each: ~500


def test_optional_connector_keys_are_sometimes_absent(connectors: list[dict[str, Any]]) -> None:
    assert sum("features" not in c for c in connectors) >= 10  # 3 % of ~1900: ~57


def test_names_are_unique_and_some_need_escaping(tunnels: list[dict[str, Any]]) -> None:
    names = [t["name"] for t in tunnels]
    assert len(set(names)) == len(names)
    # Every 30th tunnel from the 15th (index 14, 44, ..., 974: 33 of 1000) takes the next of
    # the 15 special names in turn, so the list is used twice (a clash gets "-2"), then 3 more.
    assert names[14] == "R&D <sandbox>"
    assert names[44] == "Tom & Jerry's lab"
    assert names[14 + 30 * 15] == "R&D <sandbox>-2"
    assert names[974] == '"blue" cluster-3'
    # 8 of the 15 hold an HTML special, 8 are non-ASCII; the last 3 used hold specials only.
    assert sum(any(ch in name for ch in "<>&\"'") for name in names) == 2 * 8 + 3
    assert sum(not name.isascii() for name in names) == 2 * 8


# -- time ----------------------------------------------------------------------------------------


def test_timestamps_are_ordered_and_before_as_of(tunnels: list[dict[str, Any]]) -> None:
    for tunnel in tunnels:
        created = ts(tunnel["created_at"])
        end = ts(tunnel["deleted_at"]) if "deleted_at" in tunnel else AS_OF
        assert created <= end <= AS_OF
        if "conns_active_at" in tunnel:
            assert created <= ts(tunnel["conns_active_at"]) <= end
        if "conns_inactive_at" in tunnel:
            assert ts(tunnel["conns_active_at"]) <= ts(tunnel["conns_inactive_at"]) <= end
        for connector in tunnel["connectors"]:
            run_at = ts(connector["run_at"])
            assert created <= run_at <= AS_OF
            for conn in connector["conns"]:
                assert run_at <= ts(conn["opened_at"]) <= AS_OF
                assert ts(tunnel["conns_active_at"]) <= ts(conn["opened_at"])


# -- status --------------------------------------------------------------------------------------


def test_status_follows_the_documented_rule(tunnels: list[dict[str, Any]]) -> None:
    for tunnel in tunnels:
        assert tunnel["status"] == expected_status(tunnel), tunnel["id"]
        if tunnel["status"] in ("healthy", "degraded"):
            assert "conns_inactive_at" not in tunnel
        if tunnel["status"] == "down":
            assert "conns_inactive_at" in tunnel
        if tunnel["status"] == "inactive":
            assert tunnel["connectors"] == []
            assert "conns_inactive_at" not in tunnel


def test_status_mix(tunnels: list[dict[str, Any]]) -> None:
    live = Counter(t["status"] for t in tunnels if "deleted_at" not in t)
    # Expected among ~950 live tunnels: inactive ~66, down ~86, degraded ~114, healthy ~684.
    assert all(live[status] >= 30 for status in ("inactive", "down", "degraded"))
    assert 0.6 <= live["healthy"] / sum(live.values()) <= 0.85


def test_deleted_tunnels_have_no_connectors(tunnels: list[dict[str, Any]]) -> None:
    deleted = [t for t in tunnels if "deleted_at" in t]
    assert 20 <= len(deleted) <= 90  # 5 % of 1000
    assert all(t["connectors"] == [] and t["status"] in ("down", "inactive") for t in deleted)


def test_down_tunnels_with_connectors_show_only_pending(tunnels: list[dict[str, Any]]) -> None:
    just_down = [t for t in tunnels if t["status"] == "down" and t["connectors"]]
    assert len(just_down) >= 10  # 30 % of ~86
    for tunnel in just_down:
        for connector in tunnel["connectors"]:
            assert connector["conns"]
            assert all(conn["is_pending_reconnect"] for conn in connector["conns"])


# -- connectors and colos ------------------------------------------------------------------------


def test_connectors_per_tunnel(tunnels: list[dict[str, Any]]) -> None:
    running = [t for t in tunnels if t["status"] in ("healthy", "degraded")]
    hosts = Counter(len({c["conns"][0]["origin_ip"] for c in t["connectors"]}) for t in running)
    counts = Counter(len(t["connectors"]) for t in running)
    assert 0.2 <= counts[1] / len(running) <= 0.4  # 30 %, a little less after restarts
    assert counts.most_common(1)[0][0] == 2  # 50 %
    assert sum(n for k, n in counts.items() if k >= 3) >= 0.1 * len(running)  # ~20 %
    assert max(counts) <= 11  # 10 hosts plus one restart leftover
    assert hosts[1] >= counts[1]  # shared NAT and restarts only lower the distinct-IP count


def test_healthy_connectors_hold_four_connections_in_two_colos(
    tunnels: list[dict[str, Any]],
) -> None:
    full = [c for t in tunnels if t["status"] == "healthy" for c in t["connectors"] if n_active(c)]
    assert all(n_active(c) == 4 for c in full)
    colos = [
        len({x["colo_name"] for x in c["conns"] if not x["is_pending_reconnect"]}) for c in full
    ]
    multi = sum(n >= 2 for n in colos) / len(colos)
    assert 0.85 <= multi <= 0.97  # 92 %
    assert sum(n == 1 for n in colos) >= 20  # 8 % of ~1300: single-colo connectors


def test_some_connectors_carry_pending_beside_active(connectors: list[dict[str, Any]]) -> None:
    mixed = [c for c in connectors if 0 < n_active(c) < len(c["conns"])]
    assert len(mixed) >= 40  # 6 % of ~1600 full connectors plus half the degraded ones: ~150


def test_restarts_leave_a_pending_only_connector_beside_its_replacement(
    tunnels: list[dict[str, Any]],
) -> None:
    restarts = 0
    for tunnel in tunnels:
        if tunnel["status"] not in ("healthy", "degraded"):
            continue
        for old in tunnel["connectors"]:
            if n_active(old):
                continue
            assert all(conn["is_pending_reconnect"] for conn in old["conns"])
            ip = old["conns"][0]["origin_ip"]
            replacements = [
                new
                for new in tunnel["connectors"]
                if n_active(new)
                and new["conns"][0]["origin_ip"] == ip
                and ts(new["run_at"]) > ts(old["run_at"])
                and AS_OF - ts(new["run_at"]) < timedelta(minutes=10)
            ]
            assert replacements, tunnel["id"]
            restarts += 1
    assert restarts >= 25  # 8 % of ~800 running tunnels: ~64


def test_colos_are_sites_of_real_metros_close_together(
    connectors: list[dict[str, Any]],
) -> None:
    airports = airportsdata.load("IATA")
    with tunnelframe._data._data_path("colos.csv").open(encoding="utf-8") as fh:
        cloudflare = {row["code"] for row in csv.DictReader(x for x in fh if x[:1] != "#")}

    def km(a: str, b: str) -> float:
        lat1, lon1 = math.radians(airports[a]["lat"]), math.radians(airports[a]["lon"])
        lat2, lon2 = math.radians(airports[b]["lat"]), math.radians(airports[b]["lon"])
        cos = math.sin(lat1) * math.sin(lat2) + math.cos(lat1) * math.cos(lat2) * math.cos(
            lon1 - lon2
        )
        return 6371 * math.acos(min(1.0, cos))

    seen = Counter()
    metros_per_connector = Counter()
    for connector in connectors:
        sites = sorted({conn["colo_name"] for conn in connector["conns"]})
        assert all(re.fullmatch("[a-z]{3}[0-9]{2}", site) for site in sites), sites
        metros = sorted({site[:3].upper() for site in sites})
        seen.update(sites)
        metros_per_connector[len(metros)] += 1
        assert all(metro in cloudflare and metro in airports for metro in metros)
        assert all(km(a, b) <= 2500 for a in metros for b in metros)
    assert len(seen) >= 80
    assert len({site[:3] for site in seen}) >= 40
    # Busy metros have several sites (Chicago: ord02, ord06, ord12).
    assert {"ord02", "ord06", "ord12"} <= set(seen)
    # Most connectors stay in one metro, some reach a second.
    one, two = metros_per_connector[1], metros_per_connector[2]
    assert one > two > 0.1 * (one + two)
    assert set(metros_per_connector) <= {1, 2}


def test_full_connectors_spread_over_sites_of_their_nearest_metro(
    tunnels: list[dict[str, Any]],
) -> None:
    full = [c for t in tunnels if t["status"] == "healthy" for c in t["connectors"] if n_active(c)]
    site_sets = [{x["colo_name"] for x in c["conns"]} for c in full]
    one_metro = [sites for sites in site_sets if len({site[:3] for site in sites}) == 1]
    spread = Counter(len(sites) for sites in one_metro)
    assert spread[2] > spread[3] > 0  # 2-3 sites of one metro, mostly 2
    assert spread[1] > 0  # and a few connectors all in one site


def test_a_fleet_before_mid_2023_has_upper_case_metro_codes() -> None:
    old = generate_fleet(30, seed=2, as_of="2023-03-01T00:00:00Z")
    codes = {
        conn["colo_name"]
        for tunnel in old["tunnels"]
        for connector in tunnel["connectors"]
        for conn in connector["conns"]
    }
    assert codes and all(re.fullmatch("[A-Z]{3}", code) for code in codes)
    new = generate_fleet(30, seed=2, as_of="2023-07-01T00:00:00Z")
    codes = {
        conn["colo_name"]
        for tunnel in new["tunnels"]
        for connector in tunnel["connectors"]
        for conn in connector["conns"]
    }
    assert codes and all(re.fullmatch("[a-z]{3}[0-9]{2}", code) for code in codes)


def test_origin_ips_are_public_and_stable_per_connector(connectors: list[dict[str, Any]]) -> None:
    ips = []
    for connector in connectors:
        per_connector = {conn["origin_ip"] for conn in connector["conns"]}
        assert len(per_connector) == 1
        ips.extend(per_connector)
    parsed = [ipaddress.ip_address(ip) for ip in ips]
    assert all(ip.is_global for ip in parsed)
    assert 10 <= sum(ip.version == 6 for ip in parsed) <= 0.15 * len(parsed)  # 6 %


def test_some_running_tunnels_share_a_host(tunnels: list[dict[str, Any]]) -> None:
    hosts = tunnelframe.origin_hosts({"tunnels": tunnels})
    shared = hosts[hosts["shared"]]
    running = [t for t in tunnels if t["status"] in ("healthy", "degraded")]
    by_name = {t["name"]: t for t in tunnels}
    on_shared = {name for names in shared["tunnels"] for name in names.split(", ")}
    assert 0.08 <= len(on_shared) / len(running) <= 0.3  # 10 % start a host, 1-3 join: ~17 %
    assert shared["n_tunnels"].max() <= 4
    for names in shared["tunnels"]:
        group = [by_name[name] for name in names.split(", ")]
        assert all(t["status"] in ("healthy", "degraded") for t in group)


def test_shared_hosts_change_only_origin_ips(monkeypatch: pytest.MonkeyPatch) -> None:
    shared = generate_fleet(300, seed=5, warp_connectors=5)
    monkeypatch.setattr(_generator, "_P_SHARED_HOST", 0.0)
    apart = generate_fleet(300, seed=5, warp_connectors=5)
    changed: list[str] = []

    def walk(a: object, b: object, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            assert list(a) == list(b), path
            for key in a:
                walk(a[key], b[key], f"{path}.{key}")
        elif isinstance(a, list) and isinstance(b, list):
            assert len(a) == len(b), path
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{index}]")
        elif a != b:
            changed.append(path.rsplit(".", 1)[-1])

    walk(shared, apart, "")
    assert changed and set(changed) == {"origin_ip"}
    assert not tunnelframe.origin_hosts(apart)["shared"].any()


def test_architectures(connectors: list[dict[str, Any]]) -> None:
    arches = Counter(c["arch"] for c in connectors)
    assert 0.6 <= arches["linux_amd64"] / len(connectors) <= 0.85  # 72 %
    assert {"linux_arm64", "linux_arm", "windows_amd64", "darwin_arm64"} <= arches.keys()


# -- versions, features, config ------------------------------------------------------------------


def test_versions_come_from_the_calendar_before_run_at(connectors: list[dict[str, Any]]) -> None:
    known = releases()
    for connector in connectors:
        version = connector["version"]
        assert version == "DEV" or RELEASE.match(version) or DESCRIBE.match(version), version
        base = base_version(version)
        if base is not None:
            assert known[base] <= ts(connector["run_at"]).date()


def test_dev_and_git_describe_builds_are_rare(connectors: list[dict[str, Any]]) -> None:
    dev = sum(c["version"] == "DEV" for c in connectors)
    describe = sum(bool(DESCRIBE.match(c["version"])) for c in connectors)
    assert dev >= 1 and describe >= 1  # ~1 % and ~1.5 % of version draws
    assert dev + describe <= 0.06 * len(connectors)


def test_version_lag(connectors: list[dict[str, Any]]) -> None:
    known = releases()
    released = [known[b] for c in connectors if (b := base_version(c["version"])) is not None]
    recent = sum(AS_OF.date() - day <= timedelta(days=180) for day in released) / len(released)
    unsupported = sum(NEWEST_RELEASE - day > timedelta(days=365) for day in released)
    assert recent >= 0.55  # auto-updating 30 % + most of the maintained 44 %: ~70 %
    assert 0.04 <= unsupported / len(released) <= 0.25  # abandoned 9 % + some neglected: ~12 %
    assert min(released) < NEWEST_RELEASE - timedelta(days=2 * 365)  # a long tail


def test_tunnels_mix_versions(tunnels: list[dict[str, Any]]) -> None:
    multi = [t for t in tunnels if len(t["connectors"]) >= 2]
    mixed = [t for t in multi if len({c["version"] for c in t["connectors"]}) >= 2]
    assert len(mixed) >= 0.1 * len(multi)  # 1 - 0.8^2 = 36 % of 2-host tunnels draw again


def test_features_follow_the_version(connectors: list[dict[str, Any]]) -> None:
    for connector in connectors:
        features = connector.get("features")
        base = base_version(connector["version"])
        if features is None or base is None:
            continue
        year_month = tuple(int(part) for part in base.split(".")[:2])
        assert ("management_logs" in features) == (year_month >= (2023, 4))
        assert ("ha-origin" in features) == (year_month < (2022, 3))
        assert len(features) == len(set(features))
    with_pq = sum("postquantum" in c.get("features", []) for c in connectors)
    assert with_pq >= 20  # 7 % of hosts from 2023.2: ~110


def test_config_versions(tunnels: list[dict[str, Any]]) -> None:
    remote = [t for t in tunnels if t["remote_config"]]
    assert 0.35 <= len(remote) / len(tunnels) <= 0.55  # 45 %
    disagree = [t for t in remote if len({c["config_version"] for c in t["connectors"]}) >= 2]
    assert len(disagree) >= 10  # 20 % of ~220 multi-host remote tunnels, plus restarts
    local = [c for t in tunnels if not t["remote_config"] for c in t["connectors"]]
    assert {c.get("config_version") for c in local} == {0, None}
    assert all(c["config_version"] >= 0 for t in remote for c in t["connectors"])


# -- the bundled sample --------------------------------------------------------------------------


def test_sample_equals_the_generator_output() -> None:
    expected = generate_fleet(200, seed=2026, as_of="2026-08-20T12:00:00Z", warp_connectors=12)
    assert tunnelframe.load_sample() == expected


def test_sample_names_exercise_escaping() -> None:
    # Tunnels 14, 44, ..., 194 of the 200 take the first 7 special names, in order.
    names = [tunnel["name"] for tunnel in tunnelframe.load_sample()["tunnels"]]
    assert names[14::30] == [
        "R&D <sandbox>",
        "Tom & Jerry's lab",
        '"blue" cluster',
        "<b>bold</b> tunnel",
        "café-paris",
        "münchen-büro",
        "東京オフィス",
    ]


def test_sample_has_tunnels_sharing_a_host() -> None:
    hosts = tunnelframe.origin_hosts(tunnelframe.load_sample())
    shared = hosts[hosts["shared"]]
    assert len(shared) >= 3 and shared["n_tunnels"].max() >= 3
    assert hosts.iloc[0]["shared"]  # shared origins sort first


def test_sample_is_small_and_fresh_on_every_call() -> None:
    path = REPO / "data" / "sample-fleet.json.gz"
    assert path.stat().st_size < 300_000
    assert json.loads(gzip.decompress(path.read_bytes())) == tunnelframe.load_sample()
    first = tunnelframe.load_sample()
    first["tunnels"].clear()
    assert len(tunnelframe.load_sample()["tunnels"]) == 212


@pytest.mark.slow
def test_wheel_ships_the_sample_and_the_calendar(tmp_path: Path) -> None:
    subprocess.run(
        [*PIP_WHEEL, "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("tunnelframe-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "tunnelframe/datasets.py" in names
        assert "tunnelframe/data/cloudflared-releases.csv" in names
        sample = archive.read("tunnelframe/data/sample-fleet.json.gz")
    assert sample == (REPO / "data" / "sample-fleet.json.gz").read_bytes()


def test_sample_flattens_into_frames() -> None:
    from tunnelframe.frames import connections_frame, connectors_frame, tunnels_frame

    fleet = tunnelframe.load_sample()
    connectors = [c for t in fleet["tunnels"] for c in t["connectors"]]
    conns = [x for c in connectors for x in c["conns"]]
    # The only idle connectors of the sample are offline WARP Connector members: one row each.
    idle = [c for c in connectors if not c["conns"]]
    assert idle and {c.get("ha_status") for c in idle} == {"offline"}
    assert len(connections_frame(fleet)) == len(conns) + len(idle)
    frame = connectors_frame(fleet)
    assert len(frame) == len(connectors)
    # WARP Connector connections carry no is_pending_reconnect: they count as active.
    assert frame["n_active"].sum() == sum(not x.get("is_pending_reconnect") for x in conns)
    assert len(tunnels_frame(fleet)) == 212
