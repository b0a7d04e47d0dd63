"""A tunnel that could not be read, and routing, in the history store (format 3).

The fleet is the hand-written one of ``_report_fleet``: ``alpha`` has two connectors (c1, c2)
on two hosts in four colos, every other tunnel stays as it is, so every expected row is known.
Snapshots A and B fall on 2026-08-19, C and D on the 20th: compacting the 19th puts the gap
across stored and derived facts.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _report_fleet as rf
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal

import tunnelframe as tf
from tunnelframe.cli import main

ALPHA = "11111111-1111-4111-8111-111111111111"
TIMES = [
    datetime(2026, 8, 19, 22, tzinfo=UTC),
    datetime(2026, 8, 19, 23, tzinfo=UTC),
    datetime(2026, 8, 20, 0, tzinfo=UTC),
    datetime(2026, 8, 20, 1, tzinfo=UTC),
]
NOW = "2026-08-20T12:00Z"  # the 19th has ended, the 20th is open


def _at(i: int) -> tf.Snapshot:
    snap = rf.snapshot()
    snap.fetched_at = TIMES[i]
    return snap


def _unread(snap: tf.Snapshot, tunnel_id: str = ALPHA) -> tf.Snapshot:
    """``snap`` with the connectors of one tunnel unread: its /connections answered 503."""
    (tunnel,) = [t for t in snap.tunnels if t["id"] == tunnel_id]
    tunnel["connectors"] = []
    snap.errors.append(
        {"account_id": rf.ACCOUNT, "tunnel_id": tunnel_id, "tunnel_name": tunnel["name"],
         "status": 503, "codes": [], "message": "GET .../connections failed: HTTP 503"}
    )  # fmt: skip
    return snap


def _store(root: Path, snapshots: list[tf.Snapshot]) -> Path:
    for snap in snapshots:
        tf.append_snapshot(snap, root)
    return root


def _alpha(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["tunnel_id"].astype(str) == ALPHA].reset_index(drop=True)


def _assert_no_teardown(store: Any) -> None:
    churn = tf.connector_churn(store)
    assert len(churn) == 4
    counts = ["n_restarts", "n_upgrades", "n_new_hosts", "n_removed_hosts"]
    assert churn[counts].to_numpy().sum() == 0, churn
    # the unread tunnel counts with the connectors and hosts it had when last read
    assert churn["n_connectors"].tolist() == [5, 5, 5, 5]
    assert churn["n_hosts"].tolist() == [5, 5, 5, 5]
    assert tf.connector_churn(store, per="event").empty
    hosts = _alpha(tf.connector_churn(store, per="host"))
    assert hosts["n_restarts"].tolist() == [0, 0]
    assert (hosts["first_seen_at"] == TIMES[0]).all() and (hosts["last_seen_at"] == TIMES[3]).all()
    rollout = tf.version_rollout(store)
    per_snapshot = rollout.pivot_table(
        index="fetched_at", columns="version", values="n_connectors", observed=True
    )
    assert len(per_snapshot) == 4
    assert (per_snapshot == per_snapshot.iloc[0]).all().all(), per_snapshot
    assert tf.colo_shifts(store).empty
    episodes = _alpha(tf.ha_episodes(store))
    said = episodes[["state", "start_at", "end_at", "n_snapshots"]].astype(str)
    assert said.to_numpy().tolist() == [
        ["ok", str(pd.Timestamp(TIMES[0])), str(pd.Timestamp(TIMES[3])), "3"]
    ]
    timeline = _alpha(tf.ha_timeline(store))
    assert timeline[["observed_hours", "ha_hours", "down_hours"]].to_numpy().tolist() == [
        [3.0, 3.0, 0.0]
    ]


def test_a_tunnel_unread_in_one_snapshot_continues_its_run(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", [_at(0), _unread(_at(1)), _at(2), _at(3)])
    _assert_no_teardown(store)
    unread = tf.load_history(store, frame="unread")
    alpha = _alpha(unread)
    assert alpha[["fetched_at", "tunnel_name", "status"]].astype(str).to_numpy().tolist() == [
        [str(pd.Timestamp(TIMES[1])), "alpha", "503"]
    ]
    assert "HTTP 503" in alpha["message"].iloc[0]
    assert (unread["tunnel_name"].astype(str) == "flaky").sum() == 4  # rf's error, every time
    # The same across a compacted day (A, B stored as facts) and the open one (C, D).
    assert tf.compact_history(store, now=NOW) == ["2026-08-19"]
    _assert_no_teardown(store)
    assert_frame_equal(tf.load_history(store, frame="unread"), unread)
    assert tf.compact_history(store, now="2026-08-22") == ["2026-08-20"]
    _assert_no_teardown(store)
    assert main(["history", str(store)]) == 0


def test_a_tunnel_really_gone_is_still_a_removed_host(tmp_path: Path) -> None:
    # The contrast: no connector and no error is a teardown, then a return.
    gone = _at(1)
    gone.tunnels[0]["connectors"] = []
    store = _store(tmp_path / "store", [_at(0), gone, _at(2), _at(3)])
    events = tf.connector_churn(store, per="event")
    assert events["event"].astype(str).tolist() == ["removed_host"] * 2 + ["new_host"] * 2
    assert _alpha(tf.ha_episodes(store))["state"].astype(str).tolist() == ["ok", "down", "ok"]


def test_a_restart_during_the_gap_is_a_restart_since_the_last_read(tmp_path: Path) -> None:
    back = _at(2)
    c1 = back.tunnels[0]["connectors"][0]
    c1["id"] = "c1b"
    for conn in c1["conns"]:
        conn["client_id"] = "c1b"
    store = _store(tmp_path / "store", [_at(0), _unread(_at(1)), back])
    events = tf.connector_churn(store, per="event")
    said = events[["event", "connector_id", "previous_connector_id"]].astype(str)
    assert said.to_numpy().tolist() == [["restart", "c1b", "c1"]]
    assert events["previous_at"].tolist() == [pd.Timestamp(TIMES[0])]


def test_a_tunnel_unread_at_the_end_is_not_removed(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", [_at(0), _unread(_at(1)), _unread(_at(2))])
    assert tf.connector_churn(store, per="event").empty
    assert tf.connector_churn(store)["n_connectors"].tolist() == [5, 5, 5]
    # what was last read holds until the last snapshot
    assert _alpha(tf.ha_timeline(store))["observed_hours"].tolist() == [2.0]


# -- routing ----------------------------------------------------------------------------------

ROUTING = {
    "read": ["configurations", "routes", "dns"],
    "notes": [],
    "configurations": {
        ALPHA: {"config": {"ingress": [
            {"hostname": "shop.example.com", "service": "http://localhost:80"},
            {"hostname": "api.example.com", "path": "/v1", "service": "http://localhost:81"},
            {"service": "http_status:404"},
        ]}}
    },
    "routes": [
        {"id": "r1", "network": "10.20.0.0/16", "tunnel_id": ALPHA, "tun_type": "cfd_tunnel",
         "virtual_network_id": "v1", "virtual_network_name": "default"},
        {"id": "r0", "network": "10.9.0.0/16", "tunnel_id": ALPHA,
         "deleted_at": "2026-08-01T00:00:00Z"},
    ],
    "dns_records": [
        {"id": "d1", "zone_id": "z1", "zone_name": "example.com", "name": "shop.example.com",
         "type": "CNAME", "content": f"{ALPHA}.cfargotunnel.com"},
        {"id": "d2", "zone_id": "z1", "zone_name": "example.com", "name": "old.example.com",
         "type": "CNAME", "content": "99999999-9999-4999-8999-999999999999.cfargotunnel.com"},
    ],
}  # fmt: skip


def _routed(i: int, routing: dict[str, Any] | None = ROUTING) -> tf.Snapshot:
    snap = _at(i)
    snap.routing = copy.deepcopy(routing)
    return snap


def test_routing_is_kept_and_read_back_as_its_frames(tmp_path: Path) -> None:
    skipped = {**ROUTING, "read": ["configurations", "routes"], "dns_records": [],
               "notes": [{"part": "dns", "message": "dns not read: HTTP 403"}]}  # fmt: skip
    snaps = [_routed(0), _at(1), _routed(2, skipped)]
    store = _store(tmp_path / "store", snaps)
    for stage in ("appended", "compacted"):
        read = tf.load_history(store, frame="routing")
        # B read no routing: no row, so "not read", never "serves nothing"
        assert read["fetched_at"].tolist() == [pd.Timestamp(TIMES[0]), pd.Timestamp(TIMES[2])]
        assert read["read"].tolist() == ["configurations,routes,dns", "configurations,routes"]
        assert json.loads(read["notes"].iloc[1])[0]["part"] == "dns"
        for frame, make in (
            ("hostnames", tf.hostnames_frame),
            ("routes", tf.routes_frame),
            ("tunnel_dns", tf.tunnel_dns_frame),
        ):
            stored = tf.load_history(store, frame=frame)
            for snap in (snaps[0], snaps[2]):
                mine = stored[stored["fetched_at"] == snap.fetched_at].drop(columns="fetched_at")
                expected = make(snap.fleet)
                assert len(expected) or frame == "tunnel_dns", frame
                assert_frame_equal(
                    mine.reset_index(drop=True), expected, check_categorical=False, obj=frame
                )
        latest = tf.load_history(store, frame="hostnames", latest=True)
        assert set(latest["hostname"]) == {"shop.example.com", "api.example.com"}
        assert stage == "compacted" or tf.compact_history(store, now="2026-08-22")
    # routing rows are no connections: the connections and every query are as without them
    plain = _store(tmp_path / "plain", [_at(0), _at(1), _at(2)])
    tf.compact_history(plain, now="2026-08-22")
    assert_frame_equal(tf.load_history(store), tf.load_history(plain))
    assert_frame_equal(tf.ha_timeline(store), tf.ha_timeline(plain))


# -- migration of a format 2 store ------------------------------------------------------------


def _as_format_2(root: Path) -> None:
    """Rewrite a store as tunnelframe 0.2 left it: no record columns, no unread facts."""
    from tunnelframe.history._schema import ROW_COLUMNS

    for path in root.glob("date=*/*.parquet"):
        table = pq.read_table(path)
        old = table.select(list(ROW_COLUMNS)).replace_schema_metadata(table.schema.metadata)
        pq.write_table(old, path)
    for path in root.glob("_facts/date=*/*-unread.parquet"):
        path.unlink()
    columns = {f.name: str(f.type) for f in tf.history.STORE_SCHEMA if f.name in ROW_COLUMNS}
    (root / "_tunnelframe.json").write_text(json.dumps({"format_version": 2, "columns": columns}))


def test_a_format_2_store_migrates_and_then_records_unread_tunnels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = [_at(0), _at(1), _at(2)]
    for snap in clean:
        snap.errors = []
    store = _store(tmp_path / "store", clean)
    tf.compact_history(store, now=NOW)
    reference = {q.__name__: q(store) for q in (tf.connector_churn, tf.ha_episodes)}
    _as_format_2(store)
    # It reads as it is (the new columns read as null); maintenance wants the migration.
    assert_frame_equal(tf.connector_churn(store), reference["connector_churn"])
    with pytest.raises(tf.TunnelframeError, match=r"format 2, older .* --migrate"):
        tf.compact_history(store, now=NOW)
    assert main(["history", str(store), "--migrate"]) == 0
    assert capsys.readouterr().out.startswith(f"Migrated {store} from format 2 to 3.")
    assert tf.store_info(store).format_version == 3
    for path in store.glob("date=*/*.parquet"):
        assert pq.read_schema(path).names == tf.history.STORE_SCHEMA.names, path
    assert (store / "_facts" / "date=2026-08-19" / "000001-unread.parquet").exists()
    assert_frame_equal(tf.connector_churn(store), reference["connector_churn"])
    assert_frame_equal(tf.ha_episodes(store), reference["ha_episodes"])
    # A migrated store continues a run across a failed read too (from its compacted day).
    tf.append_snapshot(_unread(_at(3)), store)
    later = _at(3)
    later.fetched_at = datetime(2026, 8, 20, 2, tzinfo=UTC)
    tf.append_snapshot(later, store)
    assert tf.connector_churn(store, per="event").empty
    assert main(["history", str(store), "--migrate"]) == 0  # again: nothing to do


def test_the_latest_view_of_a_store_serves_what_its_snapshot_served(tmp_path: Path) -> None:
    snaps = [_routed(0), _routed(1)]
    store = _store(tmp_path / "store", snaps)
    latest = tf.load_history(store, latest=True)
    routing = latest.attrs["routing"]
    assert routing["read"] == sorted(ROUTING["read"])
    for make in (tf.hostnames_frame, tf.routes_frame, tf.tunnel_dns_frame):
        again = make({"tunnels": snaps[1].tunnels, "routing": routing})
        assert_frame_equal(again, make(snaps[1].fleet), obj=make.__name__)
    # The history report shows what the latest snapshot's tunnels serve.
    report = tmp_path / "r.md"
    assert main(["history", str(store), "-o", str(report)]) == 0
    text = report.read_text()
    assert "shop.example.com" in text and "10.20.0.0/16" in text
    # A latest snapshot that did not read routing: "not read", not "serves nothing".
    tf.append_snapshot(_at(2), store)
    assert tf.load_history(store, latest=True).attrs["routing"] is None
    assert main(["history", str(store), "-o", str(report)]) == 0
    assert "shop.example.com" not in report.read_text()
    # export of a store: the routing travels with the rows into Iceberg
    pytest.importorskip("pyiceberg")
    from tunnelframe.history import export_iceberg, iceberg_history

    target = iceberg_history(f"iceberg+sqlite:///{tmp_path}/catalog.db")
    export_iceberg(store, target)
    records = target.load().to_pandas()["record"].value_counts().to_dict()
    assert records == {"routing": 2, "hostname": 4, "route": 2, "dns": 4, "unread": 3}


def test_cli_snapshot_with_routing_keeps_it_in_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunnelframe import watch

    store = tmp_path / "store"
    with tf.simulator.serve(tf.simulator.generate_fleet(12, seed=3)) as api:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        account = api.account_ids[0]
        command = ["snapshot", "--account", account, "--store", str(store)]
        assert main([*command, "--routing"]) == 0
        assert main(command) == 0  # then one without: routing not read
    capsys.readouterr()
    kept = watch.latest_snapshot(store, [account])
    assert kept is not None and kept.routing is None
    read = tf.load_history(store, frame="routing")
    assert len(read) == 1 and read["read"].iloc[0] == "configurations,routes,dns"
    hostnames = tf.load_history(store, frame="hostnames")
    assert len(hostnames) > 0
    assert set(hostnames["fetched_at"]) == set(read["fetched_at"])
    assert tf.load_history(store, latest=True).attrs["routing"] is None
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(f'[[account]]\nid = "{account}"\ntoken_env = "CLOUDFLARE_API_TOKEN"\n')
    assert main(["snapshot", "--fleet", str(fleet), "--store", str(store), "--routing"]) == 2
    assert "--routing reads with one token" in capsys.readouterr().err


def test_the_run_views_grow_with_the_runs_not_the_square_of_the_snapshots(tmp_path: Path) -> None:
    # Looking up a run's first and last snapshot in one join, DuckDB paired the two lookups on
    # the account first: n² rows for n snapshots of an account, 9 GB at 30 days of 5 minutes.
    from tunnelframe.history import _layout, _queries

    # More runs than snapshots, most of them in stored facts: what made DuckDB choose it.
    store = tmp_path / "store"
    snapshots = list(tf.simulator.generate_history(100, days=2, every="30min"))
    for snap in snapshots:
        tf.append_snapshot(snap, store)
    tf.compact_history(store, now="2026-08-20T13:00Z")
    profile = tmp_path / "profile.json"

    sizes: list[int] = []

    def run(plan: Any) -> None:
        con = _queries._connect(store, plan)
        con.execute("PRAGMA enable_profiling='json'")
        con.execute(f"PRAGMA profiling_output='{profile}'")
        for kind in ("connectors", "hosts", "tunnels"):
            con.sql(f"SELECT count(*) FROM r_{kind}").fetchall()
            walk(json.loads(profile.read_text()))  # each query's profile replaces the last
        con.close()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            for key in ("operator_cardinality", "intermediate_rows"):
                if key in node:
                    sizes.append(int(node[key]))
            for value in node.values():
                walk(value)

    _layout.read_consistent(store, run)
    assert sizes, "DuckDB's profile names no operator's rows"
    assert max(sizes) < len(snapshots) ** 2 / 4  # 554 here; 9,409 with the one join
