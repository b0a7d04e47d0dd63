"""``tunnelframe.watch`` and ``tunnelframe watch``: cycles, the store's latest view, restart,
failed cycles, SIGTERM mid-cycle; ``snapshot --incremental`` from the store."""

from __future__ import annotations

import copy
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import hostile, reply

import tunnelframe as tf
from tunnelframe.cli import main
from tunnelframe.simulator import Faults, serve
from tunnelframe.watch import Cycle, Watcher, WatchPolicy, latest_snapshot


def _fleet(n: int = 30) -> dict[str, Any]:
    return copy.deepcopy(tf.simulator.generate_fleet(n, seed=7))


def _readable(fleet: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        t for t in fleet["tunnels"] if t.get("status") != "inactive" and not t.get("deleted_at")
    ]


def _reads(api: Any, since: int) -> list[str]:
    return [
        path.split("?")[0].split("/")[-2]
        for _, path, _ in api.request_log[since:]
        if path.split("?")[0].endswith("/connections")
    ]


def test_each_cycle_stores_the_view_and_reports_the_changes(tmp_path: Path) -> None:
    fleet = _fleet()
    seen: list[Cycle] = []
    with serve(fleet) as api, tf.Client(api.token, base_url=api.url) as client:
        watcher = Watcher(
            tmp_path / "store",
            client=client,
            account_id=api.account_id,
            policy=WatchPolicy(interval_s=0.01, max_requests=2),
            on_cycle=seen.append,
        )
        first = watcher.cycle()
        target = _readable(fleet)[0]
        target["status"], target["connectors"] = "down", []
        target["conns_inactive_at"] = "2026-08-20T12:00:00Z"
        api.set_fleet(fleet)
        before = api.n_requests
        second = watcher.cycle()
        assert _reads(api, before) == [target["id"]]
        assert api.n_requests - before == 2
    assert seen == [first, second]
    assert first.changes.empty  # the first view of a store has nothing to compare with
    assert set(second.changes["tunnel_id"].astype(str)) == {target["id"]}
    records = second.change_records()
    assert records and all(r["tunnel_id"] == target["id"] for r in records)
    json.dumps(records)  # JSON-ready
    history = tf.load_history(tmp_path / "store")
    assert history["fetched_at"].nunique() == 2
    assert latest_snapshot(tmp_path / "store", [api.account_id]) == second.snapshot


def test_a_restart_resumes_from_the_store(tmp_path: Path) -> None:
    fleet = _fleet()
    store = tmp_path / "store"
    with serve(fleet) as api, tf.Client(api.token, base_url=api.url) as client:
        first = Watcher(store, client=client, account_id=api.account_id).cycle()
        target = _readable(fleet)[1]
        target["status"] = "degraded"
        target["connectors"] = target["connectors"][:1]
        api.set_fleet(fleet)
        before = api.n_requests
        restarted = Watcher(
            store, client=client, account_id=api.account_id, policy=WatchPolicy(max_requests=2)
        )
        cycle = restarted.cycle()
        # Not a full read: the list, then only the changed tunnel.
        assert _reads(api, before) == [target["id"]]
    assert not cycle.changes.empty
    assert set(cycle.changes["tunnel_id"].astype(str)) == {target["id"]}
    assert len(cycle.snapshot.tunnels) == len(first.snapshot.tunnels)


def test_a_watch_into_an_iceberg_table_resumes_from_its_state_folder(tmp_path: Path) -> None:
    pytest.importorskip("pyiceberg", reason="pip install 'tunnelframe[iceberg]'")
    from tunnelframe.history import iceberg_history

    fleet = _fleet()
    uri, state = f"iceberg+sqlite:///{tmp_path}/catalog.db", tmp_path / "state"
    with serve(fleet) as api, tf.Client(api.token, base_url=api.url) as client:
        with pytest.raises(ValueError, match="state"):
            Watcher(uri, client=client, account_id=api.account_id)  # where would a view go?
        first = Watcher(uri, client=client, account_id=api.account_id, state=state).cycle()
        target = _readable(fleet)[1]
        target["status"] = "degraded"
        target["connectors"] = target["connectors"][:1]
        api.set_fleet(fleet)
        before = api.n_requests
        restarted = Watcher(
            iceberg_history(uri),
            client=client,
            account_id=api.account_id,
            policy=WatchPolicy(max_requests=2),
            state=state,
        )
        cycle = restarted.cycle()
        assert _reads(api, before) == [target["id"]]  # resumed: only the changed tunnel
    assert set(cycle.changes["tunnel_id"].astype(str)) == {target["id"]}
    assert latest_snapshot(state, [api.account_id]) == cycle.snapshot
    assert not any(tmp_path.glob("**/date=*"))  # no local store beside the table
    rows = iceberg_history(uri).load().to_pandas()
    assert sorted(rows["fetched_at"].unique()) == [
        first.snapshot.fetched_at,
        cycle.snapshot.fetched_at,
    ]
    assert tf.connector_churn(iceberg_history(uri))["fetched_at"].nunique() == 2


def test_failed_reads_are_recorded_and_a_failed_cycle_is_retried_in_place(
    tmp_path: Path,
) -> None:
    fleet = _fleet()
    broken = _readable(fleet)[2]["id"]
    store = tmp_path / "store"
    with (
        serve(fleet, faults=Faults(broken_tunnels=frozenset({broken}))) as api,
        tf.Client(api.token, base_url=api.url, max_retries=0) as client,
    ):
        watcher = Watcher(
            store,
            client=client,
            account_id=api.account_id,
            policy=WatchPolicy(interval_s=0.01, retry_s=0.01),
        )
        first = watcher.cycle()
        assert [e["tunnel_id"] for e in first.snapshot.errors] == [broken]
        watcher.policy = WatchPolicy(interval_s=0.01, retry_s=0.01, max_requests=3)
        # Now every request fails: the cycle fails and is tried again until the API is back.
        api.faults = Faults(error_rate=1.0)
        attempts: list[int] = []

        def heal(record: Any) -> None:
            attempts.append(1)
            if len(attempts) == 2:
                api.faults = Faults()

        handler = _Calls(heal)
        tf.watch._log.addHandler(handler)
        try:
            before = api.n_requests
            cycles = watcher.run(max_cycles=1)
        finally:
            tf.watch._log.removeHandler(handler)
        assert len(attempts) == 2
        # The failed reads of the first view come first: the place was kept.
        reads = _reads(api, before)
        assert broken in reads and len(reads) == 2  # it, then one of the rotation
    assert cycles[0].snapshot.errors == []
    assert broken in set(cycles[0].snapshot.connections()["tunnel_id"].astype(str))


class _Calls:
    """A logging handler calling ``fn`` on every record (to act when a cycle fails)."""

    level = 0

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def handle(self, record: Any) -> None:
        self.fn(record)

    def __getattr__(self, name: str) -> Any:  # the rest of logging.Handler's interface
        return lambda *args, **kwargs: None


@pytest.mark.parametrize("kind", ["directory", "iceberg"])
def test_sigterm_mid_cycle_finishes_the_cycle_then_exits(tmp_path: Path, kind: str) -> None:
    if kind == "iceberg":
        pytest.importorskip("pyiceberg", reason="pip install 'tunnelframe[iceberg]'")
    fleet = _fleet(20)
    readable = _readable(fleet)
    gated = readable[0]["id"]
    reached, released = threading.Event(), threading.Event()
    by_id = {t["id"]: t for t in fleet["tunnels"]}

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        if path.endswith("/cfd_tunnel"):
            tunnels = [{k: v for k, v in t.items() if k != "connectors"} for t in fleet["tunnels"]]
            info = {"count": len(tunnels), "page": 1, "per_page": 1000, "total_count": len(tunnels)}
            reply(
                handler,
                200,
                {
                    "success": True,
                    "errors": [],
                    "messages": [],
                    "result": tunnels,
                    "result_info": info,
                },
            )
            return
        tunnel_id = path.split("/")[-2]
        if tunnel_id == gated:
            reached.set()
            released.wait(timeout=120)  # held until the watcher has had its SIGTERM
        result = by_id[tunnel_id].get("connectors") or []
        reply(handler, 200, {"success": True, "errors": [], "messages": [], "result": result})

    store, state = str(tmp_path / "store"), tmp_path / "store"
    if kind == "iceberg":
        store, state = f"iceberg+sqlite:///{tmp_path}/catalog.db", tmp_path / "state"
    with hostile(answer) as url:
        env = {
            **os.environ,
            "CLOUDFLARE_API_TOKEN": "sekrit-token-0123456789-abcdefghij",
            "CLOUDFLARE_ACCOUNT_ID": fleet["tunnels"][0]["account_tag"],
            "CLOUDFLARE_BASE_URL": url,
            "PYTHONFAULTHANDLER": "1",
        }
        command = [
            sys.executable,
            "-m",
            "tunnelframe",
            "watch",
            "--store",
            store,
            *(["--state", str(state)] if kind == "iceberg" else []),
            "--interval",
            "3600",
        ]
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        ) as proc:
            try:
                assert reached.wait(timeout=120), "the watcher never read connections"
                proc.send_signal(signal.SIGTERM)
                released.set()
                out, err = proc.communicate(timeout=120)
            finally:
                released.set()
                proc.kill()
    assert proc.returncode == 0, err
    assert "stopping after the cycle in progress" in err
    assert "cycle 1" in err and "cycle 2" not in err
    assert out == ""  # the first view of a store: no change to print
    assert "sekrit" not in out + err
    view = latest_snapshot(state, [fleet["tunnels"][0]["account_tag"]])
    assert view is not None and view.errors == []
    read = {str(t["id"]) for t in view.tunnels if t.get("connectors")}
    assert gated in read
    assert read == {t["id"] for t in readable if t.get("connectors")}
    if kind == "iceberg":  # the finished cycle's view is in the table, once
        from tunnelframe.history import iceberg_history

        rows = iceberg_history(store).load().to_pandas()
        assert list(rows["fetched_at"].unique()) == [view.fetched_at]
        assert gated in set(rows.loc[rows["connection_id"].notna(), "tunnel_id"])


def test_watch_into_an_iceberg_store_needs_a_state_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["watch", "--store", f"iceberg+sqlite:///{tmp_path}/c.db", "--cycles", "1"])
    assert code == 2
    assert "--state DIR" in capsys.readouterr().err


def test_snapshot_incremental_starts_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = _fleet()
    store = tmp_path / "store"
    with serve(fleet) as api:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", api.account_id)
        assert main(["snapshot", "--store", str(store)]) == 0
        full = api.n_requests
        assert full == 1 + len(_readable(fleet))
        # 0.005 of 1,200 requests: the list and 5 reads, all from the rotation
        assert (
            main(["snapshot", "--store", str(store), "--incremental", "--budget-share", "0.005"])
            == 0
        )
        assert api.n_requests - full == 6
        assert len(_reads(api, full)) == 5
    capsys.readouterr()
    history = tf.load_history(store)
    assert history["fetched_at"].nunique() == 2
    by_time = [
        g.drop(columns="fetched_at").reset_index(drop=True)
        for _, g in history.groupby("fetched_at")
    ]
    assert by_time[0].equals(by_time[1])  # nothing changed: the same view
