"""Tests of tunnelframe.history: the Parquet store, its atomic append and the DuckDB queries.

Most expectations come from a four-snapshot history written by hand (``_SCENARIO``) whose
rollout, churn, colo shifts and HA hours are worked out in the comments next to each test.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pytest

import tunnelframe as tf
from tunnelframe.history import _store
from tunnelframe.snapshot import Snapshot

ACCOUNT = "0123456789abcdef0123456789abcdef"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
HALF_DAY = timedelta(hours=12)


def _connector(cid: str, version: str, ip: str, colos: list[str]) -> dict[str, Any]:
    return {
        "id": cid,
        "version": version,
        "arch": "linux_amd64",
        "run_at": "2026-02-01T00:00:00Z",
        "conns": [
            {
                "id": f"{cid}-{i}",
                "colo_name": colo,
                "is_pending_reconnect": False,
                "opened_at": "2026-02-01T00:00:05Z",
                "origin_ip": ip,
            }
            for i, colo in enumerate(colos)
        ],
    }


def _tunnel(tid: str, name: str, status: str, connectors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": tid, "account_tag": ACCOUNT, "name": name, "status": status,
            "connectors": connectors}  # fmt: skip


TWO = ["DFW", "IAH", "DFW", "IAH"]

# Tunnel t1 "web" keeps two or three hosts; t2 "db" has one host that loses a colo, then goes
# down, then comes back with a new connector id.
#   s0 03-01 00:00  web: c1 2026.1.0 @1.1.1.1, c2 2026.1.0 @2.2.2.2   db: d1 2025.10.1 FRA+AMS
#   s1 03-01 12:00  web: c3 2026.2.0 @1.1.1.1 (restart, upgrade), c2   db: d1 FRA x3, degraded
#   s2 03-02 00:00  web: c3, c4 2026.1.0 @2.2.2.2 (restart), c5 @5.5.5.5 (new host, DFW+ATL)
#                   db: no connector, down
#   s3 03-02 12:00  web: c3, c4 (5.5.5.5 removed)                      db: d2 @3.3.3.3 FRA+AMS
_SCENARIO: list[list[dict[str, Any]]] = [
    [
        _tunnel("t1", "web", "healthy", [
            _connector("c1", "2026.1.0", "1.1.1.1", TWO),
            _connector("c2", "2026.1.0", "2.2.2.2", TWO),
        ]),
        _tunnel("t2", "db", "healthy", [
            _connector("d1", "2025.10.1", "3.3.3.3", ["FRA", "AMS", "FRA", "AMS"])
        ]),
    ],
    [
        _tunnel("t1", "web", "healthy", [
            _connector("c3", "2026.2.0", "1.1.1.1", TWO),
            _connector("c2", "2026.1.0", "2.2.2.2", TWO),
        ]),
        _tunnel("t2", "db", "degraded", [
            _connector("d1", "2025.10.1", "3.3.3.3", ["FRA", "FRA", "FRA"])
        ]),
    ],
    [
        _tunnel("t1", "web", "healthy", [
            _connector("c3", "2026.2.0", "1.1.1.1", TWO),
            _connector("c4", "2026.1.0", "2.2.2.2", TWO),
            _connector("c5", "2026.2.0", "5.5.5.5", ["DFW", "ATL", "DFW", "ATL"]),
        ]),
        _tunnel("t2", "db", "down", []),
    ],
    [
        _tunnel("t1", "web", "healthy", [
            _connector("c3", "2026.2.0", "1.1.1.1", TWO),
            _connector("c4", "2026.1.0", "2.2.2.2", TWO),
        ]),
        _tunnel("t2", "db", "healthy", [
            _connector("d2", "2025.10.1", "3.3.3.3", ["FRA", "AMS", "FRA", "AMS"])
        ]),
    ],
]  # fmt: skip

S0, S1, S2, S3 = (pd.Timestamp(T0 + i * HALF_DAY) for i in range(4))


def _snapshots() -> list[Snapshot]:
    return [
        Snapshot(fetched_at=T0 + i * HALF_DAY, account_ids=[ACCOUNT], tunnels=tunnels)
        for i, tunnels in enumerate(_SCENARIO)
    ]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    for snapshot in _snapshots():
        tf.append_snapshot(snapshot, root)
    return root


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# -- the store ---------------------------------------------------------------------------------


def test_the_store_schema_is_the_connections_frame_plus_fetched_at() -> None:
    # A new connections column must be added to the store schema too (with a migration).
    schema = tf.history.STORE_SCHEMA
    rows = ["fetched_at", *tf.CONNECTIONS_SCHEMA, "uuid"]
    assert list(tf.history._schema.ROW_COLUMNS) == rows
    # then the records of format 3: unread tunnels (record, detail, status) and the columns
    # of the routing frames (account_id, tunnel_id, tunnel_name and tun_type shared)
    extra = schema.names[len(rows) :]
    assert extra[:3] == ["record", "detail", "status"]
    frames = tf.frames
    routing = {*frames.HOSTNAMES_SCHEMA, *frames.ROUTES_SCHEMA, *frames.TUNNEL_DNS_SCHEMA}
    assert set(extra[3:]) == routing - set(rows)
    schema = pa.schema([schema.field(name) for name in rows])
    # Repeated text as int32-coded dictionaries (so every file has one schema), unique text as
    # strings, times as UTC microseconds, config_version as cloudflared's int32.
    text = pa.dictionary(pa.int32(), pa.string())
    time = pa.timestamp("us", tz="UTC")
    assert {name: schema.field(name).type for name in schema.names} == {
        "fetched_at": time,
        **dict.fromkeys(["account_id", "tunnel_id", "tunnel_name", "tunnel_status"], text),
        **dict.fromkeys(["connector_id", "arch", "version", "features", "client_id"], text),
        **dict.fromkeys(["client_version", "colo_name", "origin_ip"], text),
        # WARP Connector: files written before these two read them as null (no rewrite needed;
        # test_a_store_written_before_warp_connector_still_reads).
        **dict.fromkeys(["tun_type", "ha_status"], text),
        "config_version": pa.int32(),
        "run_at": time,
        "opened_at": time,
        "connection_id": pa.string(),
        "uuid": pa.string(),
        "is_pending_reconnect": pa.bool_(),
    }


def test_append_writes_one_file_per_snapshot_in_its_date_partition(tmp_path: Path) -> None:
    root = tmp_path / "store"
    paths = [tf.append_snapshot(s, root) for s in _snapshots()]
    assert [p.parent.name for p in paths] == ["date=2026-03-01"] * 2 + ["date=2026-03-02"] * 2
    assert paths[1].name.startswith("20260301T120000.000000Z-")
    snapshots = sorted(str(p.relative_to(root)) for p in paths)
    assert _files(root) == ["_tunnelframe.json", *snapshots]


def test_appending_the_same_snapshot_again_writes_nothing(store: Path) -> None:
    before = _files(store)
    again = tf.append_snapshot(_snapshots()[1], store)
    assert again == store / "date=2026-03-01" / again.name
    assert _files(store) == before
    assert len(tf.load_history(store)) == 48


def test_load_history_has_every_row_with_the_connections_frame_dtypes(store: Path) -> None:
    history = tf.load_history(store)
    # Rows: s0 4+4+4, s1 4+4+3, s2 4+4+4 and one for the down tunnel, s3 4+4+4.
    assert len(history) == 48
    assert history.groupby("fetched_at").size().tolist() == [12, 11, 13, 12]
    assert history["fetched_at"].is_monotonic_increasing
    expected = {"fetched_at": "datetime64[us, UTC]"} | {
        c: str(d) for c, d in tf.CONNECTIONS_SCHEMA.items()
    }
    assert {c: str(d) for c, d in history.dtypes.items()} == expected
    first = _snapshots()[0].connections()
    assert history.columns[1:].tolist() == first.columns.tolist()
    assert history["account_id"].unique().tolist() == [ACCOUNT]


def test_load_history_keeps_a_down_tunnel_as_one_bare_row(store: Path) -> None:
    history = tf.load_history(store, start=S2, end=S3)
    bare = history[history["tunnel_name"] == "db"]
    assert len(bare) == 1
    assert bare["tunnel_status"].tolist() == ["down"]
    assert bare["connector_id"].isna().all() and bare["connection_id"].isna().all()


def test_load_history_start_is_inclusive_end_exclusive(store: Path) -> None:
    history = tf.load_history(store, start="2026-03-01T12:00", end="2026-03-02T12:00:00Z")
    assert history["fetched_at"].unique().tolist() == [S1, S2]


def test_load_history_filters_tunnels_by_id_or_name(store: Path) -> None:
    by_name = tf.load_history(store, tunnels=["db"])
    by_id = tf.load_history(store, tunnels=["t2"])
    # db: 4 + 3 + 1 (down) + 4 rows.
    assert len(by_name) == 12
    pd.testing.assert_frame_equal(by_name, by_id)
    assert set(by_name["tunnel_id"]) == {"t2"}


def test_load_history_opens_only_the_partitions_in_range(store: Path) -> None:
    damaged = store / "date=2026-02-27"
    damaged.mkdir()
    (damaged / "20260227T000000.000000Z-deadbeef.parquet").write_bytes(b"not parquet at all")
    assert len(tf.load_history(store, start="2026-03-01")) == 48
    assert len(tf.load_history(store, start="2026-03-02", end="2026-03-03")) == 25
    named = r"damaged history file .*date=2026-02-27/20260227T000000\.000000Z-deadbeef\.parquet"
    with pytest.raises(tf.TunnelframeError, match=named) as raised:
        tf.load_history(store)
    assert "\n" not in str(raised.value)
    with pytest.raises(tf.TunnelframeError, match=named):
        tf.ha_timeline(store)


def test_load_history_of_an_empty_range_is_empty_with_the_same_columns(store: Path) -> None:
    everything = tf.load_history(store)
    nothing = tf.load_history(store, start="2027-01-01")
    assert nothing.empty
    assert nothing.columns.tolist() == everything.columns.tolist()


def test_load_history_errors(tmp_path: Path, store: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"history store .*missing does not exist"):
        tf.load_history(tmp_path / "missing")
    with pytest.raises(ValueError, match="start='soon' is not a time"):
        tf.load_history(store, start="soon")


def test_the_store_reads_unchanged_with_pyarrow_dataset(store: Path) -> None:
    dataset = pads.dataset(store, format="parquet", partitioning="hive")
    table = dataset.to_table()
    assert table.num_rows == 48
    # The documented partition filter: s2 (13 rows) and s3 (12 rows).
    assert dataset.to_table(filter=pads.field("date") >= "2026-03-02").num_rows == 25
    theirs = table.to_pandas()
    ours = tf.load_history(store)
    assert sorted(theirs["connection_id"].dropna()) == sorted(ours["connection_id"].dropna())
    # The partition column they add is the UTC date of fetched_at.
    dates = pd.to_datetime(theirs["date"].astype(str)).dt.date
    assert (dates == theirs["fetched_at"].dt.date).all()


def test_the_store_reads_with_the_documented_duckdb_query(store: Path) -> None:
    glob = str(store / "date=*" / "*.parquet")
    rows = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true)"
    ).fetchall()
    assert rows == [(48,)]


def test_a_failed_append_leaves_the_store_as_it_was(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _files(store)
    late = Snapshot(fetched_at=T0 + 4 * HALF_DAY, account_ids=[ACCOUNT], tunnels=_SCENARIO[3])
    real_write = _store.pq.write_table

    def write_then_fail(table: Any, sink: Any, **kwargs: Any) -> None:
        real_write(table, sink, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(_store.pq, "write_table", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        tf.append_snapshot(late, store)
    assert _files(store) == before
    assert tf.load_history(store)["fetched_at"].max() == S3


_CRASH = """
import os, sys
import pyarrow.parquet as pq
import tunnelframe as tf
from tunnelframe.snapshot import load_snapshot

def half_then_die(table, sink, **kwargs):
    sink.write(b"PAR1 half a file")
    sink.flush()
    os._exit(3)  # the process dies: no cleanup, no exception handling

pq.write_table = half_then_die
tf.append_snapshot(load_snapshot(sys.argv[1]), sys.argv[2])
"""


def test_an_append_killed_midway_leaves_an_ignored_temp_file(store: Path, tmp_path: Path) -> None:
    late = Snapshot(fetched_at=T0 + 4 * HALF_DAY, account_ids=[ACCOUNT], tunnels=_SCENARIO[3])
    saved = late.save(tmp_path / "late.json")
    crash = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CRASH), str(saved), str(store)],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert crash.returncode == 3, crash.stderr.decode()
    leftovers = [p for p in store.rglob("*") if p.name.endswith(".parquet.tmp")]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".")
    # Every reader sees exactly the four snapshots written before the crash.
    assert len(tf.load_history(store)) == 48
    assert tf.version_rollout(store)["fetched_at"].nunique() == 4
    assert pads.dataset(store, format="parquet", partitioning="hive").count_rows() == 48
    # The cron job's next run appends normally.
    tf.append_snapshot(late, store)
    assert tf.load_history(store)["fetched_at"].nunique() == 5


def test_tunnels_that_failed_to_fetch_or_never_ran_are_not_recorded_as_down(
    tmp_path: Path,
) -> None:
    tunnels = [
        _tunnel("t1", "web", "healthy", [_connector("c1", "2026.1.0", "1.1.1.1", TWO)]),
        _tunnel("t2", "failed", "healthy", []),
        _tunnel("t3", "never", "inactive", []),
        {**_tunnel("t4", "gone", "down", []), "deleted_at": "2026-01-01T00:00:00Z"},
        _tunnel("t5", "down", "down", []),
    ]
    errors = [{"account_id": ACCOUNT, "tunnel_id": "t2", "tunnel_name": "failed",
               "status": 500, "codes": [], "message": "boom"}]  # fmt: skip
    snapshot = Snapshot(fetched_at=T0, account_ids=[ACCOUNT], tunnels=tunnels, errors=errors)
    tf.append_snapshot(snapshot, tmp_path)
    history = tf.load_history(tmp_path)
    assert sorted(history["tunnel_name"].unique()) == ["down", "web"]


def test_account_id_comes_from_the_snapshot_when_tunnels_lack_account_tag(
    tmp_path: Path,
) -> None:
    tunnel = {
        "id": "t1",
        "name": "web",
        "connectors": [_connector("c1", "2026.1.0", "1.1.1.1", TWO)],
    }
    tf.append_snapshot(Snapshot(fetched_at=T0, account_ids=["acc"], tunnels=[tunnel]), tmp_path)
    assert tf.load_history(tmp_path)["account_id"].unique().tolist() == ["acc"]


# -- the queries -------------------------------------------------------------------------------


def test_version_rollout(store: Path) -> None:
    rollout = tf.version_rollout(store)
    third, two_thirds = 1 / 3, 2 / 3
    expected = pd.DataFrame(
        {
            "fetched_at": [S0, S0, S1, S1, S1, S2, S2, S3, S3, S3],
            "version": ["2025.10.1", "2026.1.0",
                        "2025.10.1", "2026.1.0", "2026.2.0",
                        "2026.1.0", "2026.2.0",
                        "2025.10.1", "2026.1.0", "2026.2.0"],
            "n_connectors": [1, 2, 1, 1, 1, 1, 2, 1, 1, 1],
            "share": [third, two_thirds, third, third, third, third, two_thirds,
                      third, third, third],
        }
    )  # fmt: skip
    assert rollout["fetched_at"].tolist() == expected["fetched_at"].tolist()
    assert rollout["version"].astype(str).tolist() == expected["version"].tolist()
    assert rollout["n_connectors"].tolist() == expected["n_connectors"].tolist()
    assert rollout["share"].tolist() == pytest.approx(expected["share"].tolist())
    assert rollout["version"].cat.categories.tolist() == ["2025.10.1", "2026.1.0", "2026.2.0"]
    assert rollout["version"].cat.ordered
    assert str(rollout["fetched_at"].dtype) == "datetime64[us, UTC]"


def test_connector_churn_per_snapshot(store: Path) -> None:
    churn = tf.connector_churn(store)
    assert churn["fetched_at"].tolist() == [S0, S1, S2, S3]
    # s1: c3 replaces c1 on 1.1.1.1 with a newer version.
    # s2: c4 replaces c2 on 2.2.2.2 (same version); 5.5.5.5 is new; 3.3.3.3 (db) is gone.
    # s3: 5.5.5.5 is gone; 3.3.3.3 is back (new to the snapshot before: a new host).
    assert churn["n_connectors"].tolist() == [3, 3, 3, 3]
    assert churn["n_hosts"].tolist() == [3, 3, 3, 3]
    assert churn["n_restarts"].tolist() == [0, 1, 1, 0]
    assert churn["n_upgrades"].tolist() == [0, 1, 0, 0]
    assert churn["n_new_hosts"].tolist() == [0, 0, 1, 1]
    assert churn["n_removed_hosts"].tolist() == [0, 0, 1, 1]


def test_connector_churn_per_host(store: Path) -> None:
    hosts = tf.connector_churn(store, per="host")
    # 1.1.1.1 and 2.2.2.2: one restart each in 1.5 days; 3.3.3.3 none; 5.5.5.5 seen once.
    assert hosts["host"].tolist() == ["1.1.1.1", "2.2.2.2", "3.3.3.3", "5.5.5.5"]
    assert hosts["tunnel_name"].astype(str).tolist() == ["web", "web", "db", "web"]
    assert hosts["n_connectors"].tolist() == [2, 2, 2, 1]
    assert hosts["n_restarts"].tolist() == [1, 1, 0, 0]
    assert hosts["n_upgrades"].tolist() == [1, 0, 0, 0]
    per_day = hosts["restarts_per_day"].tolist()
    assert per_day[:3] == pytest.approx([1 / 1.5, 1 / 1.5, 0.0])
    assert math.isnan(per_day[3])
    assert hosts["first_seen_at"].tolist() == [S0, S0, S0, S2]
    assert hosts["last_seen_at"].tolist() == [S3, S3, S3, S2]


def test_connector_churn_events(store: Path) -> None:
    events = tf.connector_churn(store, per="event")
    got = list(
        zip(
            events["fetched_at"],
            events["host"],
            events["event"].astype(str),
            events["connector_id"].fillna("-"),
            events["previous_connector_id"].fillna("-"),
            events["upgraded"],
            strict=True,
        )
    )
    assert got == [
        (S1, "1.1.1.1", "restart", "c3", "c1", True),
        (S2, "3.3.3.3", "removed_host", "-", "d1", False),
        (S2, "2.2.2.2", "restart", "c4", "c2", False),
        (S2, "5.5.5.5", "new_host", "c5", "-", False),
        (S3, "3.3.3.3", "new_host", "d2", "-", False),
        (S3, "5.5.5.5", "removed_host", "-", "c5", False),
    ]
    assert events["previous_version"].astype(str).tolist()[0] == "2026.1.0"


def test_connector_churn_rejects_an_unknown_per(store: Path) -> None:
    with pytest.raises(ValueError, match="per='day' is not one of"):
        tf.connector_churn(store, per="day")  # type: ignore[arg-type]


def test_colo_shifts(store: Path) -> None:
    shifts = tf.colo_shifts(store)
    got = [
        (r.fetched_at, r.tunnel_name, r.colos_before, r.colos_after, r.colos_lost,
         r.colos_gained, r.n_colos_before, r.n_colos_after)
        for r in shifts.itertuples()
    ]  # fmt: skip
    assert got == [
        (S1, "db", "AMS,FRA", "FRA", "AMS", "", 2, 1),
        (S2, "db", "FRA", "", "FRA", "", 1, 0),
        (S2, "web", "DFW,IAH", "ATL,DFW,IAH", "", "ATL", 2, 3),
        (S3, "db", "", "AMS,FRA", "", "AMS,FRA", 0, 2),
        (S3, "web", "ATL,DFW,IAH", "DFW,IAH", "ATL", "", 3, 2),
    ]
    lost_second = shifts.query("n_colos_before >= 2 and n_colos_after < 2")
    assert lost_second["tunnel_name"].tolist() == ["db"]
    assert shifts["previous_at"].tolist() == [S0, S1, S1, S2, S2]


def test_ha_timeline(store: Path) -> None:
    timeline = tf.ha_timeline(store)
    # Each snapshot's state holds 12 h, until the next one; s3 adds nothing.
    # db: s0 one connector in two colos; s1 one connector, one colo, degraded; s2 down.
    # web: two or three connectors in two or three colos throughout.
    assert timeline["tunnel_name"].astype(str).tolist() == ["db", "web"]
    db, web = timeline.iloc[0], timeline.iloc[1]
    assert (db.n_snapshots, web.n_snapshots) == (4, 4)
    assert (db.first_seen_at, db.last_seen_at) == (S0, S3)
    assert db.observed_hours == 36.0 and web.observed_hours == 36.0
    assert (db.ha_hours, db.down_hours, db.single_connector_hours) == (0.0, 12.0, 24.0)
    assert (db.single_colo_hours, db.degraded_hours, db.ha_share) == (12.0, 12.0, 0.0)
    assert (web.ha_hours, web.down_hours, web.single_connector_hours) == (36.0, 0.0, 0.0)
    assert (web.single_colo_hours, web.degraded_hours, web.ha_share) == (0.0, 0.0, 1.0)


def test_ha_episodes(store: Path) -> None:
    episodes = tf.ha_episodes(store)
    got = [
        (r.tunnel_name, r.state, r.start_at, r.end_at, r.hours, r.n_snapshots)
        for r in episodes.itertuples()
    ]
    assert got == [
        ("db", "single_connector", S0, S2, 24.0, 2),
        ("db", "down", S2, S3, 12.0, 1),
        ("db", "single_connector", S3, S3, 0.0, 1),
        ("web", "ok", S0, S3, 36.0, 4),
    ]
    assert episodes["state"].cat.categories.tolist() == list(tf.HA_STATES)


_QUERIES = [
    tf.version_rollout,
    tf.colo_shifts,
    tf.ha_timeline,
    tf.ha_episodes,
    tf.connector_churn,
    lambda h: tf.connector_churn(h, per="host"),
    lambda h: tf.connector_churn(h, per="event"),
]


@pytest.mark.parametrize("query", _QUERIES)
def test_a_loaded_frame_gives_what_the_store_gives_and_is_not_modified(
    store: Path, query: Any
) -> None:
    history = tf.load_history(store)
    before = history.copy()
    pd.testing.assert_frame_equal(query(history), query(store))
    pd.testing.assert_frame_equal(history, before)


@pytest.mark.parametrize("query", _QUERIES)
def test_queries_over_a_store_never_load_it_into_pandas(
    store: Path, monkeypatch: pytest.MonkeyPatch, query: Any
) -> None:
    # Issue 7's scale rule: DuckDB reads the Parquet files; only the small result is pandas.
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the store was read outside DuckDB")

    monkeypatch.setattr(_store, "_to_frame", refuse)
    monkeypatch.setattr(_store, "_rows_dataset", refuse)
    monkeypatch.setattr(pd, "read_parquet", refuse)
    result = query(store)
    assert 0 < len(result) < 48  # an aggregate of the store's 48 rows


@pytest.mark.parametrize("query", _QUERIES)
def test_an_empty_store_gives_empty_frames_with_the_same_columns(
    store: Path, tmp_path: Path, query: Any
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    full = query(store)
    nothing = query(empty)
    assert nothing.empty
    assert nothing.columns.tolist() == full.columns.tolist()
    assert [str(d) for d in nothing.dtypes] == [str(d) for d in full.dtypes]


def test_a_frame_without_history_columns_is_refused() -> None:
    frame = _snapshots()[0].connections()
    with pytest.raises(ValueError, match=r"history frame lacks column.* fetched_at"):
        tf.version_rollout(frame)


# -- plots -------------------------------------------------------------------------------------


@pytest.fixture
def plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_version_rollout_stacks_one_band_per_version(store: Path, plt: Any) -> None:
    _, ax = plt.subplots()
    out = tf.plot_version_rollout(tf.version_rollout(store), ax=ax)
    assert out is ax
    assert len(ax.collections) == 3
    # Newest on top of the stack, so first in the legend.
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["2026.2.0", "2026.1.0", "2025.10.1"]
    assert ax.get_ylabel() == "share of connectors"
    assert ax.get_ylim() == (0.0, 1.0)


def test_plot_version_rollout_groups_the_rest_as_other(store: Path, plt: Any) -> None:
    # Peak shares: 2026.1.0 2/3, 2026.2.0 2/3, 2025.10.1 1/3: the last goes to "other".
    ax = tf.plot_version_rollout(tf.version_rollout(store), top=2)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["other", "2026.2.0", "2026.1.0"]
    assert ax is plt.gca()


def test_plot_ha_timeline_draws_the_worst_tunnels_first(store: Path, plt: Any) -> None:
    _, ax = plt.subplots()
    out = tf.plot_ha_timeline(tf.ha_episodes(store), ax=ax)
    assert out is ax
    # db spent 36 h out of HA, web none: db on the first row.
    assert [t.get_text() for t in ax.get_yticklabels()] == ["db", "web"]
    assert len(ax.collections) == 2
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["down", "single_connector", "ok"]
    _, ax = plt.subplots()
    tf.plot_ha_timeline(tf.ha_episodes(store), ax=ax, top=1)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["db"]


def test_plots_refuse_a_frame_that_is_not_theirs(store: Path, plt: Any) -> None:
    with pytest.raises(ValueError, match=r"frame lacks column.*share.*version_rollout"):
        tf.plot_version_rollout(tf.ha_episodes(store))
    with pytest.raises(ValueError, match=r"frame lacks column.*state.*ha_episodes"):
        tf.plot_ha_timeline(tf.version_rollout(store))


# -- the synthetic history ---------------------------------------------------------------------


def test_generate_history_ends_at_the_default_as_of_by_default() -> None:
    snapshots = list(tf.simulator.generate_history(3, days=2))
    assert [s.fetched_at for s in snapshots] == [
        datetime(2026, 8, 18, 12, tzinfo=UTC),
        datetime(2026, 8, 19, 12, tzinfo=UTC),
        datetime(2026, 8, 20, 12, tzinfo=UTC),
    ]
    hourly = list(tf.simulator.generate_history(3, days=0.25, every="2h", start="2026-01-01"))
    assert [s.fetched_at.hour for s in hourly] == [0, 2, 4, 6]


def test_generate_history_is_deterministic() -> None:
    first = list(tf.simulator.generate_history(15, days=5, seed=4))
    again = list(tf.simulator.generate_history(15, days=5, seed=4))
    other = list(tf.simulator.generate_history(15, days=5, seed=5))
    assert first == again
    assert first != other


def test_generate_history_rejects_bad_steps() -> None:
    with pytest.raises(ValueError, match="every='soon' is not a duration"):
        next(iter(tf.simulator.generate_history(3, every="soon")))
    with pytest.raises(ValueError, match="every='0s' must be a positive duration"):
        next(iter(tf.simulator.generate_history(3, every="0s")))
    with pytest.raises(ValueError, match="days=-1 must be a number of days"):
        next(iter(tf.simulator.generate_history(3, days=-1)))


@pytest.fixture(scope="module")
def synthetic() -> list[Snapshot]:
    return list(tf.simulator.generate_history(60, days=60, seed=2))


def _active(connector: dict[str, Any]) -> int:
    return sum(not c.get("is_pending_reconnect") for c in connector.get("conns") or [])


def test_synthetic_statuses_follow_the_status_rule(synthetic: list[Snapshot]) -> None:
    for snapshot in synthetic:
        for tunnel in snapshot.tunnels:
            if tunnel.get("deleted_at") or tunnel["status"] == "inactive":
                continue
            active = [n for n in map(_active, tunnel["connectors"]) if n]
            if not active:
                expected = "down"
            elif any(n < 4 for n in active):
                expected = "degraded"
            else:
                expected = "healthy"
            assert tunnel["status"] == expected, (snapshot.fetched_at, tunnel["name"])


def test_synthetic_connectors_never_run_an_unreleased_version(
    synthetic: list[Snapshot],
) -> None:
    releases = tf.load_releases()
    released_on = dict(zip(releases["version"], releases["released_on"], strict=True))
    for snapshot in synthetic:
        for tunnel in snapshot.tunnels:
            for connector in tunnel["connectors"]:
                release = connector["version"].split("-")[0]
                if release in released_on:
                    assert pd.Timestamp(released_on[release]) <= snapshot.fetched_at


def test_synthetic_new_connectors_started_since_the_previous_snapshot(
    synthetic: list[Snapshot],
) -> None:
    # cloudflared draws a new connector id when it starts: an id first seen in a snapshot
    # started after the previous one was taken.
    seen: set[str] = set()
    n_new = 0
    for previous, snapshot in itertools.pairwise(synthetic):
        seen |= {c["id"] for t in previous.tunnels for c in t["connectors"]}
        for tunnel in snapshot.tunnels:
            for connector in tunnel["connectors"]:
                if connector["id"] in seen:
                    continue
                n_new += 1
                run_at = pd.Timestamp(connector["run_at"])
                assert previous.fetched_at < run_at <= snapshot.fetched_at
    assert n_new > 100


def test_synthetic_history_rolls_out_releases_and_restarts(
    synthetic: list[Snapshot], tmp_path: Path
) -> None:
    for snapshot in synthetic:
        tf.append_snapshot(snapshot, tmp_path)
    rollout = tf.version_rollout(tmp_path)
    # 2026.8.0 came out on 2026-08-12, within the 60 days before 2026-08-20: nobody runs it at
    # the start, auto-updating hosts do at the end.
    newest = rollout[rollout["version"].astype(str).str.startswith("2026.8.")]
    assert newest["fetched_at"].min() > pd.Timestamp("2026-08-12", tz="UTC")
    assert newest.groupby("fetched_at")["share"].sum().iloc[-1] > 0.15
    churn = tf.connector_churn(tmp_path)
    assert churn["n_restarts"].iloc[1:].gt(0).all()
    assert churn["n_upgrades"].sum() > 0
    assert churn["n_new_hosts"].sum() > 0 and churn["n_removed_hosts"].sum() > 0
    hosts = tf.connector_churn(tmp_path, per="host")
    assert (hosts["restarts_per_day"] >= 1).any()
    assert len(tf.colo_shifts(tmp_path)) > 0
    timeline = tf.ha_timeline(tmp_path)
    assert (timeline["single_colo_hours"] > 0).any()
    assert (timeline["degraded_hours"] > 0).any()


def test_load_history_latest_reads_each_account_sets_newest_snapshot(store: Path) -> None:
    other = Snapshot(fetched_at=T0 + HALF_DAY, account_ids=["other"], tunnels=[
        {"id": "t9", "name": "elsewhere", "connectors": [
            _connector("z1", "2026.1.0", "9.9.9.9", TWO)]}])  # fmt: skip
    tf.append_snapshot(other, store)
    latest = tf.load_history(store, latest=True)
    # "other" was last fetched at s1, our account at s3.
    assert sorted(latest.groupby("account_id", observed=True)["fetched_at"].max().items()) == [
        (ACCOUNT, S3),
        ("other", S1),
    ]
    assert len(latest) == 12 + 4
    before = tf.load_history(store, end=S3, latest=True, tunnels=["web"])
    assert before["fetched_at"].unique().tolist() == [S2]
    assert set(before["tunnel_name"]) == {"web"}


# -- the report section ------------------------------------------------------------------------


def test_write_report_with_a_store_adds_the_history_section(store: Path, tmp_path: Path) -> None:
    latest = tf.load_history(store, latest=True).drop(columns="fetched_at")
    plain = tf.write_report(latest, tmp_path / "plain.md", as_of=S3).read_text()
    assert "## History" not in plain
    text = tf.write_report(latest, tmp_path / "r.md", as_of=S3, history=store).read_text()
    history = text[text.index("## History") :]
    assert "4 snapshots from 2026-03-01 to 2026-03-02 12:00 UTC" in history
    assert "| Restarts | 2 | 1 of them upgrades |" in history
    # db: 0 % HA; web had HA throughout, so it is not listed.
    least = history[history.index("### Tunnels with the least HA") :]
    least = least[: least.index("###", 4)]
    assert "| db | 36.0 | 12.0 | 24.0 | 12.0 | 12.0 | 0 % |" in least
    assert "| web |" not in least
    assert "| 2026-03-01 12:00 UTC | db | AMS,FRA | FRA | AMS |" in history
    assert "| web | 1.1.1.1 | 1 | 1 | 0.67 |" in history


def test_the_history_section_hides_origin_ips_when_redacting(store: Path, tmp_path: Path) -> None:
    latest = tf.load_history(store, latest=True).drop(columns="fetched_at")
    for name in ("r.md", "r.html"):
        text = tf.write_report(
            latest, tmp_path / name, history=store, redact_ips=True, redact_key="k"
        ).read_text()
        assert "History" in text
        for ip in ("1.1.1.1", "2.2.2.2", "3.3.3.3", "5.5.5.5"):
            assert ip not in text


# -- the command line --------------------------------------------------------------------------


def test_cli_snapshot_appends_each_fetch_to_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunnelframe.cli import main

    store = tmp_path / "store"
    fleet = {"tunnels": _SCENARIO[0]}
    with tf.simulator.serve(fleet) as api:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        assert main(["snapshot", "--account", ACCOUNT, "--store", str(store)]) == 0
        assert main(["snapshot", "--account", ACCOUNT, "--store", str(store)]) == 0
        token = api.token
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("2 tunnels, 3 connectors, 12 active connections. Appended to ")
    assert lines[0].endswith(".parquet") and str(store.resolve()) in lines[0]
    assert token not in captured.out + captured.err
    history = tf.load_history(store)
    assert history["fetched_at"].nunique() == 2
    assert set(history["connector_id"].dropna()) == {"c1", "c2", "d1"}


def test_cli_history_summarises_the_store_and_writes_a_report(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunnelframe.cli import main

    out = tmp_path / "history.md"
    assert main(["history", str(store), "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"Store: format 3, 2 days \(0 compacted\), 4 snapshots, 0\.0 MB in 5 files\.", lines[0]
    )
    assert lines[1:] == [
        "4 snapshots from 2026-03-01 00:00 to 2026-03-02 12:00 UTC, 1 account.",
        "Connectors: 3 at the latest snapshot; 2 restarts (1 upgrade), 2 hosts added, 2 removed.",
        "Daily restarters: 0 hosts restarting at least once a day.",
        "Colos: 5 changes of a tunnel's colos; 1 tunnel lost a second colo at least once.",
        "HA: 1 of 2 tunnels spent time down, on one connector or in one colo.",
        f"Report: {out.resolve()}",
    ]
    text = out.read_text()
    assert text.startswith("# Cloudflare Tunnel fleet history, 2026-03-02")
    assert "## History" in text


def test_cli_history_of_a_missing_or_empty_store_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunnelframe.cli import main

    assert main(["history", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tunnelframe: error: history store ") and "does not exist" in err
    assert len(err.splitlines()) == 1
    assert main(["history", str(tmp_path)]) == 2
    assert "holds no snapshot yet" in capsys.readouterr().err
    assert main(["snapshot", "--account", ACCOUNT]) == 2
    assert "--store" in capsys.readouterr().err


# -- a store written before WARP Connector support (tun_type, ha_status) --------------------------

# tests/data/before-warp/ was written by tunnelframe at commit 3c06405 (before the tun_type and
# ha_status columns): generate_fleet(6, seed=3) fetched from the simulator, fetched_at
# 2026-08-20T12:00Z, saved with Snapshot.save and append_snapshot.
BEFORE_WARP = Path(__file__).resolve().parent / "data" / "before-warp"


def test_a_store_written_before_warp_connector_still_reads(tmp_path: Path) -> None:
    store = tmp_path / "store"
    import shutil

    shutil.copytree(BEFORE_WARP / "store-before-warp", store)
    old = tf.load_snapshot(BEFORE_WARP / "snapshot-before-warp.json.gz")
    history = tf.load_history(store)
    # 71 connections, and one row for the tunnel that is down without connectors.
    assert len(history) == len(old.connections()) + 1 == 72
    assert history["tun_type"].isna().all() and history["ha_status"].isna().all()
    history = history[history["connector_id"].notna()]
    # load_history orders rows by time, tunnel, connector, connection (whatever the layout)
    keys = ["tunnel_id", "connector_id", "connection_id"]
    expected = old.connections().astype({k: str for k in keys}).sort_values(keys)
    history = history.astype({k: str for k in keys}).sort_values(keys)
    for column in ("tunnel_id", "connector_id", "connection_id", "colo_name", "version"):
        assert history[column].astype(str).tolist() == expected[column].astype(str).tolist()
    # A mixed snapshot appended today sits beside the old file; both read as one frame.
    from tunnelframe.simulator import generate_fleet

    fleet = generate_fleet(2, seed=3, warp_connectors=3)
    new = Snapshot(
        fetched_at=datetime(2026, 8, 21, 12, tzinfo=UTC),
        account_ids=[fleet["tunnels"][0]["account_tag"]],
        tunnels=fleet["tunnels"],
        errors=[],
        n_requests=0,
    )
    tf.append_snapshot(new, store)
    both = tf.load_history(store)
    bare = [
        t
        for t in fleet["tunnels"]
        if not t["connectors"] and not t.get("deleted_at") and t["status"] != "inactive"
    ]
    assert len(both) == 72 + len(new.connections()) + len(bare)
    assert set(both["tun_type"].dropna().astype(str)) == {"cfd_tunnel", "warp_connector"}
    assert set(both["ha_status"].dropna().astype(str)) <= {"active", "passive", "offline"}


def test_redacted_history_figures_draw_no_ip_even_inside_names(tmp_path: Path, plt: Any) -> None:
    # The figures are pictures: the page's final text scrub cannot reach their labels.
    from tunnelframe.report._doc import Figure
    from tunnelframe.report._history import history_section
    from tunnelframe.report._redact import Redactor

    names = {"db": "db ip-198-51-100-7", "web": "web 203.0.113.9 2001:db8::5"}
    root = tmp_path / "store"
    for snapshot in _snapshots():
        for tunnel in snapshot.tunnels:
            tunnel["name"] = names.get(tunnel["name"], tunnel["name"])
        tf.append_snapshot(snapshot, root)
    section = history_section(tf.history.history_summary(root), redactor=Redactor("k"))
    figures = [block for block in section.blocks if isinstance(block, Figure)]
    assert len(figures) == 2
    texts: list[str] = []
    for figure in figures:
        _, ax = plt.subplots()
        figure.draw(ax)
        texts += [label.get_text() for label in ax.get_yticklabels() + ax.get_xticklabels()]
        texts += [text.get_text() for text in ax.texts]
    drawn = " ".join(texts)
    assert "db ip-ip-" in drawn  # the HA timeline labels its rows with the tunnel names
    for raw in ("198-51-100-7", "203.0.113.9", "2001:db8::5"):
        assert raw not in drawn


def test_load_history_orders_versions_by_release(tmp_path: Path) -> None:
    snapshot = Snapshot(
        fetched_at=T0,
        account_ids=[ACCOUNT],
        tunnels=[{"id": "t1", "name": "web", "connectors": [
            {"id": "c1", "version": "2022.12.1", "conns": [{"id": "a", "client_version": "DEV"}]},
            {"id": "c2", "version": "2022.6.3", "conns": [{"id": "b", "colo_name": "DFW"}]},
        ]}],
    )  # fmt: skip
    tf.append_snapshot(snapshot, tmp_path / "store")
    history = tf.load_history(tmp_path / "store")
    assert history["version"].dtype.ordered
    assert list(history["version"].cat.categories) == ["2022.6.3", "2022.12.1"]
    assert history["version"].max() == "2022.12.1"
    assert history["client_version"].dtype.ordered
