"""tunnelframe.simulator.serve: the loopback API, checked with plain HTTP, the OpenAPI spec and
Cloudflare's official SDK."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import cloudflare
import jsonschema
import pytest
import requests
from conftest import ACCOUNT, openapi_spec, spec_validator, tiny_fleet

from tunnelframe import Client, Snapshot
from tunnelframe.simulator import Faults, SimulatedApi, generate_fleet, serve


@pytest.fixture
def http(api: SimulatedApi) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {api.token}"
        yield session


def get(
    session: requests.Session, api: SimulatedApi, path: str, **params: Any
) -> requests.Response:
    return session.get(f"{api.url}/accounts/{api.account_id}{path}", params=params, timeout=10)


# -- the API's shape -----------------------------------------------------------------------------


def test_pagination_follows_the_api(api: SimulatedApi, http: requests.Session) -> None:
    pages = [get(http, api, "/cfd_tunnel", per_page=2, page=page).json() for page in (1, 2, 3, 4)]
    assert [[t["id"] for t in page["result"]] for page in pages] == [
        ["t1", "t2"],
        ["t3", "t4"],
        ["t5"],
        [],
    ]
    assert [page["result_info"] for page in pages] == [
        {"count": 2, "page": 1, "per_page": 2, "total_count": 5},
        {"count": 2, "page": 2, "per_page": 2, "total_count": 5},
        {"count": 1, "page": 3, "per_page": 2, "total_count": 5},
        {"count": 0, "page": 4, "per_page": 2, "total_count": 5},
    ]
    assert all(page["success"] is True and page["errors"] == [] for page in pages)


def test_default_page_size_is_20() -> None:
    fleet = {"tunnels": [{"id": f"t{i}", "account_tag": ACCOUNT} for i in range(25)]}
    with serve(fleet) as api, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {api.token}"
        body = get(http, api, "/cfd_tunnel").json()
    assert len(body["result"]) == 20
    assert body["result_info"] == {"count": 20, "page": 1, "per_page": 20, "total_count": 25}


@pytest.mark.parametrize(
    "params", [{"per_page": 0}, {"per_page": 1001}, {"page": 0}, {"per_page": "x"}]
)
def test_bad_page_parameters_are_400(
    api: SimulatedApi, http: requests.Session, params: dict[str, Any]
) -> None:
    response = get(http, api, "/cfd_tunnel", **params)
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_filter_total_count_counts_the_matches(api: SimulatedApi, http: requests.Session) -> None:
    body = get(http, api, "/cfd_tunnel", include_prefix="web-", per_page=1).json()
    assert [t["id"] for t in body["result"]] == ["t1"]
    assert body["result_info"] == {"count": 1, "page": 1, "per_page": 1, "total_count": 2}


def test_tunnel_connections_and_connector(api: SimulatedApi, http: requests.Session) -> None:
    t1 = tiny_fleet()["tunnels"][0]
    tunnel = get(http, api, "/cfd_tunnel/t1").json()["result"]
    assert "connectors" not in tunnel
    assert tunnel["name"] == "web-prod"
    assert get(http, api, "/cfd_tunnel/t1/connections").json()["result"] == t1["connectors"]
    assert get(http, api, "/cfd_tunnel/t1/connectors/c2").json()["result"] == t1["connectors"][1]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/cfd_tunnel/nope", 404, 7003),
        ("/cfd_tunnel/nope/connections", 404, 7003),
        ("/cfd_tunnel/t1/connectors/nope", 404, 7003),
        ("/cfd_tunnel/t1/nothing", 404, 7000),
    ],
)
def test_unknown_ids_get_the_failure_envelope(
    api: SimulatedApi, http: requests.Session, path: str, status: int, code: int
) -> None:
    response = get(http, api, path)
    assert response.status_code == status
    body = response.json()
    assert (body["success"], body["result"], body["messages"]) == (False, None, [])
    assert [error["code"] for error in body["errors"]] == [code]


def test_unknown_account_is_not_found(api: SimulatedApi, http: requests.Session) -> None:
    response = http.get(f"{api.url}/accounts/{'f' * 32}/cfd_tunnel", timeout=10)
    assert (response.status_code, response.json()["errors"][0]["code"]) == (404, 7003)


def test_writes_are_refused(api: SimulatedApi, http: requests.Session) -> None:
    response = http.delete(
        f"{api.url}/accounts/{api.account_id}/cfd_tunnel/t1/connections", timeout=10
    )
    assert response.status_code == 405
    assert response.json()["success"] is False


# -- auth and rate limits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}]
)
def test_bad_credentials_get_403_code_10000(api: SimulatedApi, headers: dict[str, str]) -> None:
    response = requests.get(
        f"{api.url}/accounts/{api.account_id}/cfd_tunnel", headers=headers, timeout=10
    )
    assert response.status_code == 403
    assert response.json()["errors"] == [{"code": 10000, "message": "Authentication error"}]


def test_ratelimit_headers_and_429() -> None:
    # A frozen clock, at a value where (start + 60) - now rounds to 60.000000000007 (t=61):
    # the announced reset depends neither on how long the requests take nor on rounding.
    frozen = 262128.62317843034
    with (
        serve(tiny_fleet(), budget=(2, 60), clock=lambda: frozen) as api,
        requests.Session() as http,
    ):
        http.headers["Authorization"] = f"Bearer {api.token}"
        responses = [get(http, api, "/cfd_tunnel/t1") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r.headers["Ratelimit"] for r in responses] == [
        '"default";r=1;t=60',
        '"default";r=0;t=60',
        '"default";r=0;t=60',
    ]
    assert {r.headers["Ratelimit-Policy"] for r in responses} == {'"burst";q=2;w=60'}
    assert "Retry-After" not in responses[1].headers
    assert responses[2].headers["Retry-After"] == "60"
    assert responses[2].json()["success"] is False


def test_the_budget_is_per_credential() -> None:
    with serve(tiny_fleet(), budget=(1, 60), email="me@example.com", api_key="k") as api:
        token = requests.get(
            f"{api.url}/accounts/{ACCOUNT}/cfd_tunnel/t1",
            headers={"Authorization": f"Bearer {api.token}"},
            timeout=10,
        )
        legacy = requests.get(
            f"{api.url}/accounts/{ACCOUNT}/cfd_tunnel/t1",
            headers={"X-Auth-Email": "me@example.com", "X-Auth-Key": "k"},
            timeout=10,
        )
    assert (token.status_code, legacy.status_code) == (200, 200)


# -- faults --------------------------------------------------------------------------------------


def test_dropped_connection_and_truncated_body() -> None:
    with serve(tiny_fleet(), faults={"drop_rate": 1.0}) as api, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {api.token}"
        with pytest.raises(requests.ConnectionError):
            get(http, api, "/cfd_tunnel/t1")
    with serve(tiny_fleet(), faults={"truncate_rate": 1.0}) as api, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {api.token}"
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            get(http, api, "/cfd_tunnel/t1")
    assert api.request_log == [("GET", f"/client/v4/accounts/{ACCOUNT}/cfd_tunnel/t1", 200)]


def test_error_rate_gives_5xx_and_latency_delays() -> None:
    with (
        serve(tiny_fleet(), faults={"error_rate": 1.0}, latency=0.05) as api,
        requests.Session() as http,
    ):
        http.headers["Authorization"] = f"Bearer {api.token}"
        responses = [get(http, api, "/cfd_tunnel/t1") for _ in range(3)]
    assert [r.status_code for r in responses] == [500, 502, 503]
    assert all(r.elapsed.total_seconds() >= 0.05 for r in responses)


def test_faults_are_deterministic() -> None:
    def statuses() -> list[int]:
        faults = Faults(error_rate=0.3, drop_rate=0.2, seed=42)
        with (
            serve(tiny_fleet(), faults=faults) as api,
            Client(api.token, base_url=api.url, backoff_base=0.001, max_retries=20) as client,
        ):
            for tunnel_id in ("t1", "t2", "t3", "t1"):
                client.list_connectors(tunnel_id, account_id=ACCOUNT)
            return sorted(status for _, _, status in api.request_log)

    assert statuses() == statuses()


def test_deleted_after_list() -> None:
    with (
        serve(tiny_fleet(), faults={"deleted_after_list": {"t2"}}) as sim,
        requests.Session() as http,
    ):
        http.headers["Authorization"] = f"Bearer {sim.token}"
        assert get(http, sim, "/cfd_tunnel/t2/connections").status_code == 200  # not listed yet
        assert [t["id"] for t in get(http, sim, "/cfd_tunnel").json()["result"]] == [
            "t1",
            "t2",
            "t3",
            "t4",
            "t5",
        ]
        assert get(http, sim, "/cfd_tunnel/t2/connections").status_code == 404
        assert [t["id"] for t in get(http, sim, "/cfd_tunnel").json()["result"]] == [
            "t1",
            "t3",
            "t4",
            "t5",
        ]


def test_unknown_faults_are_refused() -> None:
    with (
        pytest.raises(TypeError, match="unknown fault"),
        serve(tiny_fleet(), faults={"explode": 1}),
    ):
        pass
    with pytest.raises(ValueError, match="sum to <= 1"):
        Faults(error_rate=0.7, drop_rate=0.7)


# -- what it serves --------------------------------------------------------------------------------


def test_serves_a_snapshot_and_several_accounts() -> None:
    fleet = tiny_fleet()
    fleet["tunnels"][0]["account_tag"] = "b" * 32
    snap = Snapshot(
        fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=[], tunnels=fleet["tunnels"]
    )
    with serve(snap) as api, Client(api.token, base_url=api.url) as client:
        assert api.account_ids == ["b" * 32, ACCOUNT]
        assert api.account_id == "b" * 32
        assert [t["id"] for t in client.list_tunnels(account_id="b" * 32)] == ["t1"]
        assert [t["id"] for t in client.list_tunnels(account_id=ACCOUNT)] == [
            "t2",
            "t3",
            "t4",
            "t5",
        ]
        assert api.n_requests == 2


def test_serve_refuses_what_is_not_a_fleet() -> None:
    with pytest.raises(TypeError, match="needs a fleet dict"), serve([1, 2]):
        pass


def test_simulate_command_serves_until_interrupted() -> None:
    code = "from tunnelframe.simulator import simulate; simulate(port=0, n_tunnels=12, seed=1)"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        assert lines[0].startswith("tunnelframe simulator: 12 tunnels on http://127.0.0.1:")
        settings = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines[1:])
        with Client(
            settings["CLOUDFLARE_API_TOKEN"],
            account_id=settings["CLOUDFLARE_ACCOUNT_ID"],
            base_url=settings["CLOUDFLARE_BASE_URL"],
        ) as client:
            assert len(client.list_tunnels()) == 12
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


# -- against the OpenAPI spec ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return openapi_spec()


def test_every_response_validates_against_the_openapi_spec(spec: dict[str, Any]) -> None:
    ops = spec["operations"]

    validators = {
        op: spec_validator(ops[op]["responses"]["200"]["content"]["application/json"]["schema"])
        for op in ops
        if "200" in ops[op]["responses"]
    }
    success = validators.__getitem__

    # The spec's 4XX responses are allOf(the success envelope, the failure envelope), which no
    # body can satisfy (success must be both true and false); failures are checked against the
    # failure half, tunnel_api-response-common-failure.
    failure = spec_validator(spec["components_resolved"]["tunnel_api-response-common-failure"])
    fleet = generate_fleet(60, seed=2)
    checked: dict[str, int] = {}

    def check(
        validator: jsonschema.Draft7Validator, response: requests.Response, name: str
    ) -> None:
        errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.absolute_path))
        assert not errors, f"{response.url}: {errors[0].message} at {list(errors[0].absolute_path)}"
        checked[name] = checked.get(name, 0) + 1

    with serve(fleet, budget=(10_000, 300)) as api, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {api.token}"
        for page in (1, 2, 3, 4):
            check(
                success("list_cfd_tunnels"),
                get(http, api, "/cfd_tunnel", per_page=25, page=page),
                "list",
            )
        check(
            success("list_all_tunnels"),
            get(http, api, "/tunnels", tun_types="cfd_tunnel"),
            "list_all",
        )
        for tunnel in fleet["tunnels"]:
            check(success("get_cfd_tunnel"), get(http, api, f"/cfd_tunnel/{tunnel['id']}"), "get")
            response = get(http, api, f"/cfd_tunnel/{tunnel['id']}/connections")
            check(success("list_cfd_tunnel_connections"), response, "connections")
            for connector in tunnel.get("connectors", []):
                response = get(
                    http, api, f"/cfd_tunnel/{tunnel['id']}/connectors/{connector['id']}"
                )
                check(success("get_cfd_tunnel_connector"), response, "connector")
        for response in (
            get(http, api, "/cfd_tunnel/f70ff985-a4ef-4643-bbbc-4a0ed4fc8415"),
            get(http, api, "/cfd_tunnel", per_page=5000),
            requests.get(f"{api.url}/accounts/{api.account_id}/cfd_tunnel", timeout=10),
        ):
            assert response.status_code in (400, 403, 404)
            check(failure, response, "failure")
    with serve(fleet, budget=(1, 60)) as api, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {api.token}"
        get(http, api, "/cfd_tunnel")
        response = get(http, api, "/cfd_tunnel")
        assert response.status_code == 429
        check(failure, response, "failure")
    assert checked["get"] == 60
    assert checked["connector"] == sum(len(t.get("connectors", [])) for t in fleet["tunnels"]) > 60
    assert checked["failure"] == 4


def test_the_spec_check_catches_a_bad_body(spec: dict[str, Any]) -> None:
    schema = spec["operations"]["get_cfd_tunnel_connector"]["responses"]["200"]["content"][
        "application/json"
    ]
    validator = spec_validator(schema["schema"])
    good = {
        "success": True,
        "errors": [],
        "messages": [],
        "result": {"id": "1bedc50d-42b3-473c-b108-ff3d10c0d925"},
    }
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "result": {"config_version": "7"}})
    assert not validator.is_valid({**good, "result": {"run_at": "yesterday"}})
    assert not validator.is_valid({key: value for key, value in good.items() if key != "messages"})


# -- Cloudflare's official SDK ---------------------------------------------------------------------


def test_the_official_sdk_lists_gets_and_reads_connections() -> None:
    fleet = generate_fleet(45, seed=4)
    with (
        serve(fleet) as api,
        cloudflare.Cloudflare(api_token=api.token, base_url=api.url, max_retries=0) as cf,
    ):
        tunnels = list(cf.zero_trust.tunnels.cloudflared.list(account_id=api.account_id))
        # Default 20 per page: pages of 20, 20, 5, then the SDK asks for an empty page.
        list_calls = [path for _, path, _ in api.request_log]
        target = next(t for t in fleet["tunnels"] if len(t.get("connectors", [])) >= 2)
        tunnel = cf.zero_trust.tunnels.cloudflared.get(target["id"], account_id=api.account_id)
        connectors = list(
            cf.zero_trust.tunnels.cloudflared.connections.get(
                target["id"], account_id=api.account_id
            )
        )
        connector = cf.zero_trust.tunnels.cloudflared.connectors.get(
            target["connectors"][1]["id"], account_id=api.account_id, tunnel_id=target["id"]
        )

    # What the SDK parsed, dumped back to JSON, is exactly the fleet the simulator serves.
    def raw(model: Any) -> Any:
        return model.model_dump(mode="json", exclude_unset=True)

    def public(tunnel: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in tunnel.items() if key != "connectors"}

    assert [raw(t) for t in tunnels] == [public(t) for t in fleet["tunnels"]]
    # The API of today: no tunnel carries the old connections array (gone since 2026-10-05);
    # the SDK reads it as unset, and the connectors' colos are site codes.
    assert all(t.connections is None for t in tunnels)
    assert all(
        re.fullmatch("[a-z]{3}[0-9]{2}", conn["colo_name"])
        for connector in target["connectors"]
        for conn in connector["conns"]
    )
    assert len(list_calls) == 4
    assert raw(tunnel) == public(target)
    assert [raw(c) for c in connectors] == target["connectors"]
    assert raw(connector) == target["connectors"][1]


# -- WARP Connector (Cloudflare Mesh) ------------------------------------------------------------


def test_warp_connector_endpoints_validate_and_keep_the_kinds_apart(spec: dict[str, Any]) -> None:
    fleet = generate_fleet(6, seed=5, warp_connectors=12)
    warp = [t for t in fleet["tunnels"] if t["tun_type"] == "warp_connector"]
    cfd = [t for t in fleet["tunnels"] if t["tun_type"] == "cfd_tunnel"]
    envelope = spec["operations"]["list_all_tunnels"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    tunnel_schema = spec["components_resolved"]["tunnel_warp_connector_tunnel"]
    list_all, warp_tunnel = spec_validator(envelope), spec_validator(tunnel_schema)
    with serve(fleet) as api, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {api.token}"
        listed = get(http, api, "/warp_connector", per_page=100).json()
        assert [t["id"] for t in listed["result"]] == [t["id"] for t in warp]
        assert all(warp_tunnel.is_valid(t) for t in listed["result"])
        both = get(http, api, "/tunnels", tun_types="cfd_tunnel,warp_connector", per_page=100)
        assert list_all.is_valid(both.json())
        assert len(both.json()["result"]) == len(fleet["tunnels"])
        only = get(http, api, "/tunnels", tun_types="warp_connector", per_page=100).json()
        assert only["result_info"]["total_count"] == len(warp)
        assert [t["id"] for t in get(http, api, "/cfd_tunnel").json()["result"]] == [
            t["id"] for t in cfd
        ]
        # A tunnel lives under its own kind only.
        assert get(http, api, f"/cfd_tunnel/{warp[0]['id']}").status_code == 404
        assert get(http, api, f"/warp_connector/{cfd[0]['id']}/connections").status_code == 404
        got = get(http, api, f"/warp_connector/{warp[0]['id']}").json()["result"]
        assert warp_tunnel.is_valid(got) and got["tun_type"] == "warp_connector"


def test_the_official_sdk_reads_the_warp_connector_endpoints() -> None:
    fleet = generate_fleet(3, seed=6, warp_connectors=25)
    warp = [t for t in fleet["tunnels"] if t["tun_type"] == "warp_connector"]
    target = next(t for t in warp if len(t["connectors"]) >= 2)
    with (
        serve(fleet) as api,
        cloudflare.Cloudflare(api_token=api.token, base_url=api.url, max_retries=0) as cf,
    ):
        sdk = cf.zero_trust.tunnels.warp_connector
        tunnels = list(sdk.list(account_id=api.account_id))
        tunnel = sdk.get(target["id"], account_id=api.account_id)
        members = list(sdk.connections.get(target["id"], account_id=api.account_id))
        member = sdk.connectors.get(
            target["connectors"][1]["id"], account_id=api.account_id, tunnel_id=target["id"]
        )
        both = list(
            cf.zero_trust.tunnels.list(
                account_id=api.account_id, tun_types=["cfd_tunnel", "warp_connector"]
            )
        )

    def raw(model: Any) -> Any:
        return model.model_dump(mode="json", exclude_unset=True)

    def public(tunnel: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in tunnel.items() if key != "connectors"}

    assert [raw(t) for t in tunnels] == [public(t) for t in warp]
    assert raw(tunnel) == public(target)
    assert [raw(m) for m in members] == target["connectors"]
    assert raw(member) == target["connectors"][1]
    assert {m.ha_status for m in members} <= {"active", "passive", "offline"}
    assert [t.id for t in both] == [t["id"] for t in fleet["tunnels"]]
