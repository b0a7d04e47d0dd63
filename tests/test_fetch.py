"""tunnelframe.fetch: whole-fleet fetches and snapshots, against the simulator over loopback."""

from __future__ import annotations

import gzip
import http.server
import json
import logging
import re
import signal
import threading
import time
import urllib.parse
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import requests
from conftest import ACCOUNT, hostile, make_client, numbered_fleet, reply, tiny_fleet

import tunnelframe
from tunnelframe import (
    Policy,
    SchemaError,
    Snapshot,
    fetch_connector,
    fetch_fleet,
    fetch_tunnel,
    load_snapshot,
)
from tunnelframe.client import Client
from tunnelframe.simulator import Faults, SimulatedApi, generate_fleet, serve


def connections_paths(api: SimulatedApi) -> list[str]:
    return sorted(path for _, path, _ in api.request_log if path.endswith("/connections"))


def test_fetch_fleet_reads_connectors_of_tunnels_that_can_have_them(
    api: SimulatedApi, client: Client
) -> None:
    snap = fetch_fleet(client=client, progress=False)
    # Listed (deleted excluded): t1..t4; t4 is inactive, so only t1, t2, t3 are read.
    assert [t["id"] for t in snap.tunnels] == ["t1", "t2", "t3", "t4"]
    assert [len(t["connectors"]) for t in snap.tunnels] == [2, 1, 0, 0]
    assert snap.tunnels[0] == tiny_fleet()["tunnels"][0]
    assert snap.n_requests == client.n_requests == api.n_requests == 4
    assert connections_paths(api) == [
        f"/client/v4/accounts/{ACCOUNT}/cfd_tunnel/{tid}/connections" for tid in ("t1", "t2", "t3")
    ]
    assert "is_deleted=false" in api.request_log[0][1]
    assert snap.account_ids == [ACCOUNT]
    assert snap.errors == []
    assert snap.fetched_at.tzinfo is not None


def test_frames_of_a_snapshot(client: Client) -> None:
    snap = fetch_fleet(client=client, progress=False)
    connections = snap.connections()
    # c1 and c2 hold 4 connections each, c3 holds 2.
    assert len(connections) == 10
    assert connections["colo_name"].astype(str).tolist() == (
        ["DFW", "DFW", "IAH", "IAH", "LAX", "LAX", "SJC", "SJC", "AMS", "FRA"]
    )
    assert snap.connectors()["connector_id"].astype(str).tolist() == ["c1", "c2", "c3"]
    assert snap.tunnels_frame()["tunnel_id"].astype(str).tolist() == ["t1", "t2", "t3", "t4"]
    pd.testing.assert_frame_equal(connections, tunnelframe.connections_frame(snap.fleet))


def test_include_deleted_and_skip_inactive(api: SimulatedApi, client: Client) -> None:
    snap = fetch_fleet(client=client, include_deleted=True, skip_inactive=False, progress=False)
    assert [t["id"] for t in snap.tunnels] == ["t1", "t2", "t3", "t4", "t5"]
    assert snap.n_requests == 6  # one list page, five /connections
    assert "is_deleted" not in api.request_log[0][1]


def test_filters_reach_the_list_call(api: SimulatedApi, client: Client) -> None:
    snap = fetch_fleet(client=client, include_prefix="web-", status="healthy", progress=False)
    assert [t["id"] for t in snap.tunnels] == ["t1"]
    assert snap.n_requests == 2


def test_several_accounts_go_into_one_snapshot() -> None:
    fleet = numbered_fleet(3, account="a" * 32, prefix="a")
    fleet["tunnels"] += numbered_fleet(2, account="b" * 32, prefix="b")["tunnels"]
    with serve(fleet) as api, make_client(api) as client:
        assert api.account_ids == ["a" * 32, "b" * 32]
        snap = fetch_fleet(client=client, account_id=api.account_ids, progress=False)
    assert snap.account_ids == ["a" * 32, "b" * 32]
    assert [t["id"] for t in snap.tunnels] == ["a00000", "a00001", "a00002", "b00000", "b00001"]
    assert snap.n_requests == 2 + 5
    assert snap.connections()["account_id"].astype(str).tolist() == ["a" * 32] * 3 + ["b" * 32] * 2


def test_a_tunnel_deleted_mid_fetch_is_recorded() -> None:
    with (
        serve(tiny_fleet(), faults={"deleted_after_list": {"t2"}}) as api,
        make_client(api) as client,
    ):
        snap = fetch_fleet(client=client, progress=False)
    assert [t["id"] for t in snap.tunnels] == ["t1", "t2", "t3", "t4"]
    assert snap.tunnels[1]["connectors"] == []
    [error] = snap.errors
    assert {k: error[k] for k in ("account_id", "tunnel_id", "tunnel_name", "status", "codes")} == {
        "account_id": ACCOUNT,
        "tunnel_id": "t2",
        "tunnel_name": "web-stage",
        "status": 404,
        "codes": [7003],
    }
    assert "GET /accounts/" in error["message"]
    assert len(snap.connections()) == 8  # t1's connections are all there
    frame = snap.errors_frame()
    assert frame.columns.tolist() == [
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "status",
        "codes",
        "message",
    ]
    assert frame.loc[0, "status"] == 404
    assert frame.loc[0, "codes"] == "7003"


def test_a_persistently_failing_tunnel_is_recorded() -> None:
    faults = Faults(broken_tunnels={"t1"})
    with serve(tiny_fleet(), faults=faults) as api, make_client(api, max_retries=2) as client:
        snap = fetch_fleet(client=client, progress=False)
    assert [(e["tunnel_id"], e["status"], e["codes"]) for e in snap.errors] == [
        ("t1", 503, [10500])
    ]
    assert [len(t["connectors"]) for t in snap.tunnels] == [0, 1, 0, 0]
    assert snap.n_requests == 1 + 3 + 2  # list, t1 three times, t2, t3


def test_errors_frame_of_a_clean_snapshot_is_empty_with_the_columns(client: Client) -> None:
    frame = fetch_fleet(client=client, progress=False).errors_frame()
    assert frame.empty
    assert frame.dtypes.astype(str).tolist() == [
        "category",
        "string",
        "string",
        "Int64",
        "string",
        "string",
    ]


def test_a_429_storm_still_fetches_every_tunnel() -> None:
    # Right after the list call someone else spends the window: every worker gets a 429 with
    # Retry-After, all of them pause, then the fetch finishes within the budget.
    fleet = numbered_fleet(30)
    faults = Faults(exhaust_budget_after=1)
    with serve(fleet, budget=(20, 1), faults=faults) as api, make_client(api) as client:
        snap = fetch_fleet(client=client, max_workers=8, progress=False)
        statuses = [status for _, _, status in api.request_log]
    assert snap.errors == []
    assert [len(t["connectors"]) for t in snap.tunnels] == [1] * 30
    assert 1 <= statuses.count(429) <= 8  # one storm: at most the 8 requests in flight
    assert statuses.count(200) == 31


def test_faults_do_not_change_the_result() -> None:
    # 20 % of requests faulted (10 % answered 5xx, 10 % dropped): the fetch must return exactly
    # what the fault-free fetch returns, which in turn is the fleet itself.
    fleet = generate_fleet(60, seed=5)
    live = [tunnel for tunnel in fleet["tunnels"] if "deleted_at" not in tunnel]
    with serve(fleet) as api, make_client(api) as client:
        clean = fetch_fleet(client=client, progress=False)
        assert {status for _, _, status in api.request_log} == {200}
    assert clean.tunnels == live
    assert clean.errors == []
    faults = Faults(error_rate=0.1, drop_rate=0.1, seed=3)
    with serve(fleet, faults=faults) as api, make_client(api, max_retries=8) as client:
        faulty = fetch_fleet(client=client, progress=False)
        statuses = [status for _, _, status in api.request_log]
    dropped, failed = statuses.count(0), sum(status >= 500 for status in statuses)
    assert dropped and failed
    assert set(statuses) <= {0, 200, 500, 502, 503}
    assert faulty.errors == []
    # Every fault costs exactly one more request; nothing else changes.
    assert faulty.n_requests == len(statuses) == clean.n_requests + dropped + failed
    assert faulty.tunnels == clean.tunnels
    pd.testing.assert_frame_equal(faulty.connections(), clean.connections())


def test_fetch_fleet_without_a_client_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, api: SimulatedApi
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", api.account_id)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
    assert len(fetch_fleet(progress=False).tunnels) == 4


def test_progress_bar_goes_to_stderr(client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    fetch_fleet(client=client, progress=True)
    assert "3/3" in capsys.readouterr().err


def test_listing_failures_raise(api: SimulatedApi) -> None:
    with (
        make_client(api, token="wrong-token-0123456789") as client,
        pytest.raises(tunnelframe.AuthError),
    ):
        fetch_fleet(client=client, progress=False)


def test_bad_arguments(client: Client) -> None:
    with pytest.raises(ValueError, match="max_workers must be >= 1"):
        fetch_fleet(client=client, max_workers=0)
    with pytest.raises(ValueError, match="non-empty list of ids"):
        fetch_fleet(client=client, account_id=[])


# -- one tunnel, one connector -------------------------------------------------------------------


def test_fetch_tunnel_and_fetch_connector(client: Client) -> None:
    frame = fetch_tunnel("t1", client=client)
    assert len(frame) == 8
    assert set(frame["tunnel_name"].astype(str)) == {"web-prod"}
    assert frame["connector_id"].astype(str).tolist() == ["c1"] * 4 + ["c2"] * 4
    one = fetch_connector("t2", "c3", client=client)
    assert one["colo_name"].astype(str).tolist() == ["AMS", "FRA"]
    assert one["tunnel_id"].astype(str).tolist() == ["t2", "t2"]
    assert client.n_requests == 3


# -- snapshots on disk ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fleet.json", "fleet.json.gz"])
def test_snapshot_round_trip(tmp_path: Path, name: str) -> None:
    with (
        serve(tiny_fleet(), faults={"deleted_after_list": {"t2"}}) as api,
        make_client(api) as client,
    ):
        snap = fetch_fleet(client=client, progress=False)
    path = snap.save(tmp_path / name)
    assert path == tmp_path / name
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    loaded = load_snapshot(path)
    assert loaded == snap
    assert loaded.fetched_at == snap.fetched_at
    assert loaded.errors == snap.errors
    assert loaded.n_requests == snap.n_requests == 4
    pd.testing.assert_frame_equal(loaded.connections(), snap.connections())
    pd.testing.assert_frame_equal(loaded.tunnels_frame(), snap.tunnels_frame())
    pd.testing.assert_frame_equal(loaded.errors_frame(), snap.errors_frame())


def test_save_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text("old")
    snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"], tunnels=[])
    snap.save(path)
    assert json.loads(path.read_text())["format"] == "tunnelframe.snapshot"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap.json"]


def test_load_snapshot_refuses_other_files(tmp_path: Path) -> None:
    (tmp_path / "fleet.json").write_text(json.dumps(tiny_fleet()))
    with pytest.raises(SchemaError, match="not a snapshot"):
        load_snapshot(tmp_path / "fleet.json")
    (tmp_path / "junk.json.gz").write_bytes(gzip.compress(b"{oops"))
    with pytest.raises(SchemaError, match="not JSON"):
        load_snapshot(tmp_path / "junk.json.gz")


def test_the_token_is_absent_from_snapshots_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = "sekrit-token-b7e1d0"
    caplog.set_level(logging.DEBUG)
    faults = Faults(deleted_after_list=frozenset({"t2"}), drop_rate=0.2, error_rate=0.2)
    with (
        serve(tiny_fleet(), token=token, faults=faults) as api,
        make_client(api, max_retries=8) as client,
    ):
        snap = fetch_fleet(client=client, progress=False)
    assert snap.errors  # the deleted tunnel's error message is saved too
    for name in ("s.json", "s.json.gz"):
        raw = snap.save(tmp_path / name).read_bytes()
        text = gzip.decompress(raw) if name.endswith(".gz") else raw
        assert token.encode() not in text
    texts = [repr(snap), str(snap), snap.errors_frame().to_csv(), caplog.text]
    texts += [record.getMessage() for record in caplog.records]
    texts += [path for _, path, _ in api.request_log]  # the URLs the server saw
    assert caplog.records
    assert all(token not in text for text in texts)


# -- a mixed fleet: cloudflared and WARP Connector -------------------------------------------------


def test_a_mixed_fleet_is_read_at_the_request_floor() -> None:
    fleet = generate_fleet(30, seed=8, warp_connectors=20)
    tunnels = fleet["tunnels"]
    readable = [t for t in tunnels if not t.get("deleted_at") and t["status"] != "inactive"]
    with serve(fleet) as api, make_client(api) as client:
        snap = fetch_fleet(
            client=client,
            tun_types=("cfd_tunnel", "warp_connector"),
            include_deleted=True,
            progress=False,
        )
        paths = [path for _, path, _ in api.request_log]
    # One listing of /tunnels covers both kinds (50 tunnels, one page of 1000), then one
    # /connections per tunnel that can have connectors, under its own kind.
    assert snap.n_requests == api.n_requests == 1 + len(readable)
    assert "/tunnels?" in paths[0] and "tun_types=cfd_tunnel%2Cwarp_connector" in paths[0]
    assert sorted(p for p in paths if p.endswith("/connections")) == sorted(
        f"/client/v4/accounts/{api.account_id}/{t['tun_type']}/{t['id']}/connections"
        for t in readable
    )
    assert [t["id"] for t in snap.tunnels] == [t["id"] for t in tunnels]
    assert [t["connectors"] for t in snap.tunnels] == [t["connectors"] for t in tunnels]
    assert snap.errors == []


def test_kinds_pick_the_endpoint_and_are_checked() -> None:
    fleet = generate_fleet(5, seed=8, warp_connectors=6)
    with serve(fleet) as api, make_client(api) as client:
        cfd = fetch_fleet(client=client, include_deleted=True, progress=False)
        warp = fetch_fleet(
            client=client, tun_types="warp_connector", include_deleted=True, progress=False
        )
        with pytest.raises(ValueError, match="tun_types must be one or more of cfd_tunnel"):
            fetch_fleet(client=client, tun_types=("magic",), progress=False)
    assert [t["id"] for t in cfd.tunnels] == [t["id"] for t in fleet["tunnels"][:5]]
    assert [t["id"] for t in warp.tunnels] == [t["id"] for t in fleet["tunnels"][5:]]
    assert "/cfd_tunnel?" in api.request_log[0][1]


def test_fetch_tunnel_and_connector_of_a_warp_connector() -> None:
    fleet = generate_fleet(1, seed=8, warp_connectors=12)
    warp = [t for t in fleet["tunnels"] if t["tun_type"] == "warp_connector"]
    target = next(t for t in warp if len(t["connectors"]) >= 2)
    member = target["connectors"][1]
    with serve(fleet) as api, make_client(api) as client:
        frame = fetch_tunnel(target["id"], client=client, tun_type="warp_connector")
        one = fetch_connector(target["id"], member["id"], client=client, tun_type="warp_connector")
        with pytest.raises(tunnelframe.NotFoundError, match="7003"):
            fetch_tunnel(target["id"], client=client)  # it is not a cfd_tunnel
        with pytest.raises(ValueError, match="tun_type must be one of"):
            fetch_tunnel(target["id"], client=client, tun_type="warp")
    n_conns = sum(len(c["conns"]) for c in target["connectors"])
    assert len(frame) == n_conns
    assert set(frame["tunnel_name"].astype(str)) == {target["name"]}
    assert one["connector_id"].astype(str).tolist() == [member["id"]] * len(member["conns"])


def test_a_snapshot_written_before_warp_connector_still_loads() -> None:
    # Written by tunnelframe at commit 3c06405 (see tests/test_history.py, BEFORE_WARP).
    path = Path(__file__).resolve().parent / "data" / "before-warp" / "snapshot-before-warp.json.gz"
    snap = load_snapshot(path)
    frame = snap.connections()
    assert len(snap.tunnels) == 6 and len(frame) == 71
    assert set(frame["tun_type"].astype(str)) == {"cfd_tunnel"}
    assert frame["ha_status"].isna().all()
    assert snap.connectors()["n_active"].sum() == frame["is_pending_reconnect"].eq(False).sum()


def test_a_null_connections_result_means_no_connectors() -> None:
    # The spec's /connections reply is a collection whose result is "nullable": the simulator
    # answers "result": null for a tunnel given "connectors": None.
    fleet = tiny_fleet()
    fleet["tunnels"][1]["connectors"] = None
    with serve(fleet) as api, make_client(api) as client:
        raw = requests.get(
            f"{api.url}/accounts/{ACCOUNT}/cfd_tunnel/t2/connections",
            headers={"Authorization": f"Bearer {api.token}"},
            timeout=10,
        ).json()
        assert raw["success"] is True and raw["result"] is None
        assert client.list_connectors("t2") == []
        snap = fetch_fleet(client=client, progress=False)
    assert snap.errors == []
    assert [len(t["connectors"]) for t in snap.tunnels] == [2, 0, 0, 0]
    assert snap.connectors()["tunnel_id"].astype(str).tolist() == ["t1", "t1"]


# -- hardening (issue #12): one bad tunnel never spoils the fleet; deadline; Ctrl+C ---------------

SECRET = "sekrit-token-0123456789-abcdefghij"


def _two_tunnels(
    connections: Callable[[str], tuple[int, object, dict[str, str]]],
) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    """A hostile API: the list gives t1 and t2 (healthy); ``connections(tunnel_id)`` answers."""

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlsplit(handler.path).path
        if path.endswith("/cfd_tunnel"):
            tunnels = [
                {"id": tid, "name": f"web-{tid}", "status": "healthy"} for tid in ("t1", "t2")
            ]
            body = {"success": True, "errors": [], "messages": [], "result": tunnels}
            body["result_info"] = {"page": 1, "per_page": 1000, "count": 2, "total_count": 2}
            reply(handler, 200, body)
            return
        tunnel_id = path.split("/")[-2]
        status, body, headers = connections(tunnel_id)
        reply(handler, status, body, headers)

    return answer


def _ok(connectors: object) -> tuple[int, object, dict[str, str]]:
    return 200, {"success": True, "errors": [], "messages": [], "result": connectors}, {}


def test_a_connector_that_cannot_be_flattened_lands_in_errors() -> None:
    fleet = tiny_fleet()
    fleet["tunnels"][1]["connectors"][0]["conns"] = 7  # t2's connector: conns is no list
    with serve(fleet) as api, make_client(api) as client:
        snap = fetch_fleet(client=client, progress=False)
    assert [(e["tunnel_id"], e["status"]) for e in snap.errors] == [("t2", None)]
    assert re.search(
        r"its connectors cannot be read: tunnels\[1\]\.connectors\[0\]\.conns",
        snap.errors[0]["message"],
    )
    assert set(snap.connections()["tunnel_id"].dropna()) == {"t1"}
    assert len(snap.connectors()) == 2 and len(snap.tunnels_frame()) == 4  # t5 is deleted


def test_a_redirecting_tunnel_is_an_error_and_the_fleet_goes_on() -> None:
    def connections(tunnel_id: str) -> tuple[int, object, dict[str, str]]:
        if tunnel_id == "t2":  # a redirect loop
            return (
                302,
                b"",
                {"Location": f"/client/v4/accounts/a/cfd_tunnel/{tunnel_id}/connections"},
            )
        return _ok([{"id": "c1", "conns": [{"id": "x1", "colo_name": "dfw01"}]}])

    with hostile(_two_tunnels(connections)) as url, Client(SECRET, base_url=url) as client:
        snap = fetch_fleet(client=client, account_id="a", progress=False)
    assert [(e["tunnel_id"], e["status"]) for e in snap.errors] == [("t2", 302)]
    assert "not followed" in snap.errors[0]["message"]
    assert list(snap.connections()["connector_id"]) == ["c1"]


def test_a_tunnel_whose_id_is_no_id_is_an_error_and_the_fleet_goes_on() -> None:
    fleet = tiny_fleet()
    fleet["tunnels"][1]["id"] = ".."
    with serve(fleet) as api, make_client(api) as client:
        snap = fetch_fleet(client=client, progress=False)
    assert [e["tunnel_id"] for e in snap.errors] == [".."]
    assert re.search(r"tunnel_id '\.\.' is not an id", snap.errors[0]["message"])
    assert set(snap.connections()["tunnel_id"].dropna()) == {"t1"}


def test_the_fetch_deadline_records_tunnels_it_cannot_wait_for() -> None:
    def connections(tunnel_id: str) -> tuple[int, object, dict[str, str]]:
        if tunnel_id == "t2":
            failure = {"success": False, "errors": [{"code": 10429}], "result": None}
            return 429, failure, {"Retry-After": "300"}
        return _ok([])

    started = time.monotonic()
    with hostile(_two_tunnels(connections)) as url, Client(SECRET, base_url=url) as client:
        snap = fetch_fleet(client=client, account_id="a", progress=False, deadline=60)
    assert time.monotonic() - started < 60  # it did not wait the 300 s it could not afford
    assert [(e["tunnel_id"], e["status"]) for e in snap.errors] == [("t2", 429)]
    with pytest.raises(ValueError, match="deadline must be a number of seconds > 0"):
        fetch_fleet(client=client, account_id="a", progress=False, deadline=0)


def test_ctrl_c_stops_a_waiting_fetch_promptly() -> None:
    main = threading.main_thread().ident
    assert main is not None

    def connections(tunnel_id: str) -> tuple[int, object, dict[str, str]]:
        failure = {"success": False, "errors": [{"code": 10429}], "result": None}
        return 429, failure, {"Retry-After": "120"}

    answer = _two_tunnels(connections)
    interrupted: list[bool] = []

    def then_ctrl_c(handler: http.server.BaseHTTPRequestHandler) -> None:
        answer(handler)
        if handler.path.split("?")[0].endswith("/connections") and not interrupted:
            interrupted.append(True)
            signal.pthread_kill(main, signal.SIGINT)  # as a terminal's Ctrl+C would

    started = time.monotonic()
    with hostile(then_ctrl_c) as url, Client(SECRET, base_url=url) as client:
        with pytest.raises(KeyboardInterrupt):
            fetch_fleet(client=client, account_id="a", progress=False, max_workers=2)
        elapsed = time.monotonic() - started
        # Stopped at once: no worker still waits out the 120 s, and the client works again.
        assert elapsed < 60

        def workers() -> list[threading.Thread]:
            return [t for t in threading.enumerate() if t.name.startswith("tunnelframe-fetch")]

        for _ in range(100):  # the pool is left, not joined: its threads end on their own
            if not workers():
                break
            time.sleep(0.05)
        assert not workers()
        assert interrupted == [True]


def _headers_forever(seconds: float) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    """The list answers; every ``/connections`` sends its headers a byte at a time."""
    listing = _two_tunnels(lambda tunnel_id: _ok([]))

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        if not handler.path.split("?")[0].endswith("/connections"):
            listing(handler)
            return
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:  # each byte well within the read timeout
            handler.wfile.write(b"X")
            handler.wfile.flush()
            time.sleep(0.01)

    return answer


def test_the_fetch_deadline_is_kept_when_a_read_is_stuck_in_its_headers() -> None:
    policy = Policy(timeout=5, max_retries=0)
    started = time.monotonic()
    with (
        hostile(_headers_forever(60)) as url,
        Client(SECRET, base_url=url, policy=policy) as client,
    ):
        snap = fetch_fleet(client=client, account_id="a", progress=False, deadline=1.5)
    assert time.monotonic() - started < 20
    assert sorted(e["tunnel_id"] for e in snap.errors) == ["t1", "t2"]
    assert len(snap.tunnels) == 2


def test_ctrl_c_leaves_a_fetch_whose_reads_are_stuck_in_their_headers() -> None:
    main = threading.main_thread().ident
    assert main is not None
    policy = Policy(timeout=5, max_retries=0)
    timer = threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT))
    started = time.monotonic()
    with (
        hostile(_headers_forever(60)) as url,
        Client(SECRET, base_url=url, policy=policy) as client,
    ):
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            fetch_fleet(client=client, account_id="a", progress=False, max_workers=2)
    assert time.monotonic() - started < 20


def test_a_lone_surrogate_in_a_failed_tunnel_does_not_lose_the_fetch(tmp_path: Path) -> None:
    def connections(tunnel_id: str) -> tuple[int, object, dict[str, str]]:
        if tunnel_id == "t1":
            failure = {"success": False, "errors": [{"code": 7003, "message": "bad \ud800"}]}
            return 404, {**failure, "result": None}, {}
        return _ok([])

    listing = _two_tunnels(connections)

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        if handler.path.split("?")[0].endswith("/cfd_tunnel"):
            tunnels = [
                {"id": "t1", "name": "web", "status": "healthy"},
                {"id": "t2", "name": "bad\ud800name", "status": "healthy"},
            ]
            body = {"success": True, "errors": [], "messages": [], "result": tunnels}
            body["result_info"] = {"page": 1, "per_page": 1000, "count": 2, "total_count": 2}
            reply(handler, 200, body)
            return
        listing(handler)

    with hostile(answer) as url, Client(SECRET, base_url=url) as client:
        snap = fetch_fleet(client=client, account_id="a", progress=False)
    assert [e["tunnel_id"] for e in snap.errors] == ["t1", "t2"]
    assert 'bad \\ud800"' in snap.errors[0]["message"]
    assert snap.errors[1]["tunnel_name"] == "bad\\ud800name"
    json.dumps(snap.errors, ensure_ascii=False).encode()  # encodable, as every report needs
    assert load_snapshot(snap.save(tmp_path / "s.json")) == snap


def test_a_fleet_past_one_budget_window_says_up_front_how_long_it_takes() -> None:
    # 1 list + 15 reads = 16 requests, 8 per second: the second window comes a second later.
    with (
        serve(numbered_fleet(15)) as api,
        make_client(api, requests_per_window=8, window_s=1.0) as client,
        pytest.warns(tunnelframe.TunnelframeWarning) as caught,
    ):
        snap = fetch_fleet(client=client, progress=False)
    assert len(snap.tunnels) == 15 and not snap.errors
    said = [str(w.message) for w in caught if "budget" in str(w.message)]
    assert said == [
        "15 tunnels need about 16 requests: the 8-per-second budget makes this take about 1 second"
    ]
    assert caught[0].filename == __file__  # said where the caller's fetch_fleet is


def test_a_fleet_within_one_budget_window_says_nothing_about_time() -> None:
    with (
        serve(numbered_fleet(7)) as api,
        make_client(api, requests_per_window=8, window_s=1.0) as client,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error")
        snap = fetch_fleet(client=client, progress=False)
    assert len(snap.tunnels) == 7
