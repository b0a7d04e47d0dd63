"""Tests for tunnelframe.frames: payloads in every accepted shape to typed frames."""

from __future__ import annotations

import copy
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import ACCOUNT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tunnelframe as tf
from tunnelframe.frames import (
    CONNECTIONS_SCHEMA,
    CONNECTORS_SCHEMA,
    TUNNELS_SCHEMA,
    connection_flags,
    connections_frame,
    connectors_frame,
    edge_strings,
    tunnels_frame,
)

UTC_TS = pd.Timestamp

CONNECTION_COLUMNS = [
    "account_id",
    "tunnel_id",
    "tunnel_name",
    "tunnel_status",
    "connector_id",
    "arch",
    "version",
    "config_version",
    "run_at",
    "features",
    "connection_id",
    "client_id",
    "client_version",
    "colo_name",
    "is_pending_reconnect",
    "opened_at",
    "origin_ip",
    "tun_type",
    "ha_status",
]


def conn(cid: str, colo: str, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "uuid": cid, "colo_name": colo, **extra}


def connector_a() -> dict[str, Any]:
    """A connector with three connections, in the shape GET .../connectors/{id} returns."""
    return {
        "id": "aaaaaaaa-0000-4000-8000-000000000001",
        "arch": "linux_amd64",
        "version": "2025.10.1",
        "config_version": 7,
        "run_at": "2026-08-01T10:00:00.250000Z",
        "features": ["ha-origin", "serialized_headers"],
        "conns": [
            conn(
                "c-1",
                "DFW",
                client_id="aaaaaaaa-0000-4000-8000-000000000001",
                client_version="2025.10.1",
                is_pending_reconnect=False,
                opened_at="2026-08-01T10:00:01.000001Z",
                origin_ip="198.51.100.7",
            ),
            conn("c-2", "ATL", is_pending_reconnect=True, origin_ip="198.51.100.7"),
            conn("c-3", "DFW", opened_at="2026-08-01T12:00:01+02:00", origin_ip="192.0.2.1"),
        ],
    }


def connector_b() -> dict[str, Any]:
    """An idle connector: no connections at all."""
    return {"id": "bbbb", "arch": "linux_arm64", "version": "2024.2.1", "conns": []}


def connector_c() -> dict[str, Any]:
    return {"id": "cccc", "version": "2025.10.1", "conns": [conn("c-4", "LAX")]}


def fleet() -> dict[str, Any]:
    return {
        "tunnels": [
            {
                "id": "t1",
                "account_tag": "acct1",
                "name": "web",
                "status": "healthy",
                "tun_type": "cfd_tunnel",
                "created_at": "2024-01-01T00:00:00Z",
                "deleted_at": None,
                "conns_active_at": "2026-08-01T10:00:01Z",
                "remote_config": True,
                "config_src": "cloudflare",
                "metadata": {"owner": "ops"},
                "connections": [{"id": "deprecated"}],
                "connectors": [connector_a(), connector_b()],
            },
            {"id": "t2", "account_tag": "acct2", "name": "empty", "status": "inactive"},
            {
                "id": "t3",
                "account_tag": "acct1",
                "name": "db",
                "status": "degraded",
                "remote_config": False,
                "connectors": [connector_c()],
            },
        ]
    }


def assert_schema(frame: pd.DataFrame, schema: dict[str, Any]) -> None:
    assert list(frame.columns) == list(schema)
    for column, dtype in schema.items():
        assert frame[column].dtype == dtype, column
        if dtype == "category":
            assert frame[column].cat.categories.dtype == pd.ArrowDtype(pa.string()), column


def values(series: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else v for v in series.tolist()]


# --------------------------------------------------------------------------- input shapes


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(connector_a(), id="connector"),
        pytest.param([connector_a()], id="list"),
        pytest.param({"success": True, "errors": [], "result": connector_a()}, id="envelope-one"),
        pytest.param({"success": True, "result": [connector_a()]}, id="envelope-list"),
        pytest.param({"tunnels": [{"id": "t", "connectors": [connector_a()]}]}, id="fleet"),
    ],
)
def test_every_input_shape_gives_the_same_connection_rows(data: Any) -> None:
    frame = connections_frame(data)
    assert_schema(frame, CONNECTIONS_SCHEMA)
    assert values(frame["connection_id"]) == ["c-1", "c-2", "c-3"]
    assert values(frame["connector_id"]) == ["aaaaaaaa-0000-4000-8000-000000000001"] * 3
    assert values(frame["colo_name"]) == ["DFW", "ATL", "DFW"]
    assert values(frame["is_pending_reconnect"]) == [False, True, None]
    assert values(frame["origin_ip"]) == ["198.51.100.7", "198.51.100.7", "192.0.2.1"]
    assert values(frame["client_id"]) == ["aaaaaaaa-0000-4000-8000-000000000001", None, None]
    assert values(frame["client_version"]) == ["2025.10.1", None, None]
    assert values(frame["arch"]) == ["linux_amd64"] * 3
    assert values(frame["config_version"]) == [7] * 3
    assert values(frame["features"]) == ["ha-origin,serialized_headers"] * 3
    assert frame["run_at"].tolist() == [UTC_TS("2026-08-01 10:00:00.25", tz="UTC")] * 3
    assert values(frame["opened_at"]) == [
        UTC_TS("2026-08-01 10:00:01.000001", tz="UTC"),
        None,
        UTC_TS("2026-08-01 10:00:01", tz="UTC"),  # +02:00 converted to UTC
    ]


def test_non_fleet_input_has_na_context_columns() -> None:
    frame = connections_frame([connector_a()])
    for column in ("account_id", "tunnel_id", "tunnel_name", "tunnel_status"):
        assert frame[column].isna().all(), column
        assert frame[column].dtype == "category"


def test_fleet_rows_carry_their_tunnel_in_payload_order() -> None:
    frame = connections_frame(fleet())
    assert values(frame["connection_id"]) == ["c-1", "c-2", "c-3", None, "c-4"]
    assert values(frame["connector_id"]) == [
        *["aaaaaaaa-0000-4000-8000-000000000001"] * 3,
        "bbbb",
        "cccc",
    ]
    assert values(frame["tunnel_id"]) == ["t1", "t1", "t1", "t1", "t3"]
    assert values(frame["tunnel_name"]) == ["web", "web", "web", "web", "db"]
    assert values(frame["tunnel_status"]) == ["healthy"] * 4 + ["degraded"]
    assert values(frame["account_id"]) == ["acct1"] * 5
    assert_schema(frame, CONNECTIONS_SCHEMA)


def test_categories_are_sorted_and_codes_compact() -> None:
    frame = connections_frame([connector_a(), connector_c()])
    assert list(frame["colo_name"].cat.categories) == ["ATL", "DFW", "LAX"]
    assert frame["colo_name"].cat.codes.dtype == np.int8


def test_input_is_not_modified() -> None:
    data = fleet()
    before = copy.deepcopy(data)
    connections_frame(data)
    connectors_frame(data)
    tunnels_frame(data)
    assert data == before


def read_only(connectors: list[dict[str, Any]]) -> list[Any]:
    """The same connectors as read-only mappings: arrow cannot convert those, so frames takes
    its slow, validating path; the result must not change."""
    return [
        MappingProxyType({**c, "conns": [MappingProxyType(x) for x in c.get("conns") or []]})
        for c in connectors
    ]


def test_mappings_other_than_dict_give_the_same_frame() -> None:
    connectors = [connector_a(), connector_b(), connector_c()]
    data = {"conns": [{"id": "i-2", "uuid": "u-2"}]}
    for payload in (connectors, [*connectors, data]):
        for include_idle in (True, False):
            pd.testing.assert_frame_equal(
                connections_frame(read_only(payload), include_idle=include_idle),
                connections_frame(payload, include_idle=include_idle),
            )
        pd.testing.assert_frame_equal(
            connectors_frame(read_only(payload)), connectors_frame(payload)
        )


def test_unknown_keys_are_ignored() -> None:
    data = connector_c()
    data["surprise"] = {"nested": [1, 2]}
    data["conns"][0]["also_new"] = 5
    frame = connections_frame(data)
    assert list(frame.columns) == CONNECTION_COLUMNS
    assert values(frame["connection_id"]) == ["c-4"]


def test_non_json_data_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not int"):
        connections_frame(5)
    with pytest.raises(TypeError, match="not NoneType"):
        connectors_frame(None)
    with pytest.raises(FileNotFoundError):  # a string is a saved snapshot's path
        tunnels_frame("tunnels")


def test_failed_envelope_is_an_api_error() -> None:
    envelope = {
        "success": False,
        "errors": [{"code": 7003, "message": "No route for the URI"}],
        "messages": [],
        "result": None,
    }
    with pytest.raises(tf.ApiError, match="code 7003: No route for the URI") as info:
        connections_frame(envelope)
    assert info.value.codes == [7003]
    assert info.value.messages == ["No route for the URI"]
    with pytest.raises(tf.ApiError, match="success"):
        tunnels_frame({"success": False, "errors": "garbled"})


def test_failed_envelope_reads_the_error_chain_as_the_client_does() -> None:
    envelope = {
        "success": False,
        "errors": [
            {
                "code": 6003,
                "message": "Invalid request headers",
                "error_chain": [
                    {"code": 6111, "message": "Invalid format for Authorization header"}
                ],
            }
        ],
        "result": None,
    }
    expected = "code 6003; code 6111: Invalid request headers; Invalid format for Authorization"
    with pytest.raises(tf.ApiError, match=expected) as info:
        connectors_frame(envelope)
    assert info.value.codes == [6003, 6111]


# --------------------------------------------------------------------------- idle connectors, uuid


def test_idle_connector_is_one_na_row_by_default() -> None:
    frame = connections_frame([connector_b(), {"id": "dddd"}, connector_c()])
    assert values(frame["connector_id"]) == ["bbbb", "dddd", "cccc"]
    assert values(frame["connection_id"]) == [None, None, "c-4"]
    assert values(frame["colo_name"]) == [None, None, "LAX"]
    assert values(frame["is_pending_reconnect"]) == [None, None, None]
    assert frame["opened_at"].isna().tolist() == [True, True, True]
    assert values(frame["arch"]) == ["linux_arm64", None, None]


def test_include_idle_false_drops_idle_connectors() -> None:
    frame = connections_frame([connector_b(), connector_a(), connector_c()], include_idle=False)
    assert values(frame["connection_id"]) == ["c-1", "c-2", "c-3", "c-4"]
    assert values(frame["connector_id"]) == [*["aaaaaaaa-0000-4000-8000-000000000001"] * 3, "cccc"]
    assert values(frame["run_at"].isna()) == [False, False, False, True]
    only_idle = connections_frame(connector_b(), include_idle=False)
    assert len(only_idle) == 0
    assert_schema(only_idle, CONNECTIONS_SCHEMA)


def test_uuid_equal_to_id_adds_no_column() -> None:
    assert "uuid" not in connections_frame(connector_a()).columns


def test_missing_id_is_filled_from_uuid_without_a_uuid_column() -> None:
    data = {"conns": [{"uuid": "u-1"}, {"id": "i-2"}, {"id": "i-3", "uuid": "i-3"}, {}]}
    frame = connections_frame(data)
    assert values(frame["connection_id"]) == ["u-1", "i-2", "i-3", None]
    assert "uuid" not in frame.columns


def test_uuid_that_differs_from_id_gets_its_own_column() -> None:
    data = {"conns": [{"id": "i-1", "uuid": "i-1"}, {"id": "i-2", "uuid": "u-2"}, {"uuid": "u-3"}]}
    frame = connections_frame(data)
    assert list(frame.columns) == [*CONNECTION_COLUMNS, "uuid"]
    assert values(frame["connection_id"]) == ["i-1", "i-2", "u-3"]
    assert values(frame["uuid"]) == ["i-1", "u-2", "u-3"]
    assert frame["uuid"].dtype == pd.ArrowDtype(pa.string())


# --------------------------------------------------------------------------- coercions, times


def test_integral_float_config_version_becomes_int() -> None:
    frame = connections_frame([{"config_version": 3.0}, {"config_version": None}, {}])
    assert values(frame["config_version"]) == [3, None, None]
    assert frame["config_version"].dtype == "Int32"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-08-01T10:00:00.123456Z", UTC_TS("2026-08-01 10:00:00.123456", tz="UTC")),
        ("2026-08-01T12:00:00+02:00", UTC_TS("2026-08-01 10:00:00", tz="UTC")),
        ("2026-08-01T10:00:00", UTC_TS("2026-08-01 10:00:00", tz="UTC")),  # naive: UTC
        ("2026-08-01T10:00:00.123456789Z", UTC_TS("2026-08-01 10:00:00.123456", tz="UTC")),
        ("1970-01-01T00:00:00.000001Z", UTC_TS("1970-01-01 00:00:00.000001", tz="UTC")),
        ("0001-01-01T00:00:00Z", None),  # Go's zero time
        ("1970-01-01T00:00:00Z", None),  # Unix zero time
        ("1601-01-01T00:00:00Z", None),  # before the epoch: a placeholder too
        ("9999-12-31T23:59:59.999999Z", None),  # "never"
        ("not a time", None),
        ("", None),
        (None, None),
    ],
)
def test_timestamps_parse_to_utc_or_nat(text: str | None, expected: pd.Timestamp | None) -> None:
    frame = connections_frame({"run_at": text, "conns": [{"opened_at": text}]})
    for column in ("run_at", "opened_at"):
        assert frame[column].dtype == "datetime64[us, UTC]"
        got = frame[column].iloc[0]
        if expected is None:
            assert got is pd.NaT, column
        else:
            assert got == expected, column


def test_one_bad_timestamp_does_not_spoil_the_others() -> None:
    texts = ["2026-08-01T10:00:00Z", "garbage", "0001-01-01T00:00:00Z", "2026-08-02T10:00:00Z"]
    data = {"conns": [{"opened_at": text} for text in texts]}
    got = connections_frame(data)["opened_at"]
    assert values(got) == [
        UTC_TS("2026-08-01 10:00", tz="UTC"),
        None,
        None,
        UTC_TS("2026-08-02 10:00", tz="UTC"),
    ]


# --------------------------------------------------------------------------- schema errors


def bad_list(index: int, bad_conn: Any) -> list[Any]:
    """Four connectors; connector ``index`` has a good connection then ``bad_conn``."""
    data: list[Any] = [connector_c() for _ in range(4)]
    data[index] = {"id": "x", "conns": [{"id": "ok"}, bad_conn]}
    return data


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"success": True, "result": 5}, "result", "got integer 5"),
        ({"result": [connector_c(), "x"]}, "result[1]", "expected a connector object"),
        ([connector_c(), None], "[1]", "expected a connector object, got null"),
        ([{"conns": {"id": "a"}}], "[0].conns", "expected an array of connection objects"),
        ({"result": bad_list(3, 7)}, "result[3].conns[1]", "expected a connection object"),
        (bad_list(3, ["x"]), "[3].conns[1]", "got array"),
        (bad_list(3, None), "[3].conns[1]", "got null"),
        ({"conns": [{}, "x"]}, "conns[1]", "expected a connection object"),
        ({"result": {"conns": [{}, 1]}}, "result.conns[1]", "expected a connection object"),
        (
            {"result": bad_list(3, {"is_pending_reconnect": "maybe"})},
            "result[3].conns[1].is_pending_reconnect",
            "expected a boolean or null, got string 'maybe'",
        ),
        (bad_list(0, {"is_pending_reconnect": 1}), "[0].conns[1].is_pending_reconnect", "integer"),
        (bad_list(2, {"colo_name": {"a": 1}}), "[2].conns[1].colo_name", "got object"),
        (bad_list(2, {"colo_name": 5}), "[2].conns[1].colo_name", "expected a string or null"),
        (bad_list(1, {"id": 12}), "[1].conns[1].id", "got integer 12"),
        (bad_list(1, {"uuid": ["u"]}), "[1].conns[1].uuid", "got array"),
        (bad_list(1, {"origin_ip": True}), "[1].conns[1].origin_ip", "got boolean True"),
        (bad_list(1, {"client_version": 2025.1}), "[1].conns[1].client_version", "number"),
        (bad_list(1, {"opened_at": 1700000000}), "[1].conns[1].opened_at", "got integer"),
        (bad_list(1, {"colo_name": "A\ud800"}), "[1].conns[1].colo_name", "not valid Unicode"),
        ([{}, {"config_version": "abc"}], "[1].config_version", "got string 'abc'"),
        ([{"config_version": 3.5}], "[0].config_version", "int32 range or null, got number 3.5"),
        ([{"config_version": True}], "[0].config_version", "got boolean True"),
        ([{"config_version": 2**31}], "[0].config_version", "int32 range"),
        ([{"version": {"v": 1}}], "[0].version", "got object"),
        ([{"arch": 64}], "[0].arch", "got integer 64"),
        ([{"run_at": ["2026"]}], "[0].run_at", "got array"),
        ([{}, {"features": "ha-origin"}], "[1].features", "expected an array of strings"),
        ([{"features": ["a", 3]}], "[0].features[1]", "expected a string, got integer 3"),
        ({"tunnels": {"id": "t"}}, "tunnels", "expected an array of tunnel objects"),
        ({"tunnels": [{}, 5]}, "tunnels[1]", "expected a tunnel object"),
        ({"tunnels": [{}, {"connectors": {}}]}, "tunnels[1].connectors", "expected an array"),
        (
            {"tunnels": [{}, {}, {"connectors": [{"conns": [{}, {"colo_name": {"x": 1}}]}]}]},
            "tunnels[2].connectors[0].conns[1].colo_name",
            "expected a string or null, got object",
        ),
        ({"tunnels": [{}, {"connectors": [{}, 3]}]}, "tunnels[1].connectors[1]", "connector obj"),
        ({"tunnels": [{"name": 3}]}, "tunnels[0].name", "got integer 3"),
        ({"tunnels": [{"status": None}, {"account_tag": []}]}, "tunnels[1].account_tag", "array"),
        ({"tunnels": [{"remote_config": "yes"}]}, "tunnels[0].remote_config", "boolean or null"),
        ({"tunnels": [{"metadata": [1]}]}, "tunnels[0].metadata", "expected an object or null"),
        ({"tunnels": [{"created_at": 5}]}, "tunnels[0].created_at", "got integer 5"),
    ],
)
def test_wrong_shapes_raise_schema_error_naming_the_path(
    data: Any, path: str, message: str
) -> None:
    for build in (connections_frame, connectors_frame):
        with pytest.raises(tf.SchemaError, match=message) as info:
            build(data)
        assert info.value.path == path
        assert str(info.value).startswith(f"{path}: ")


def many(key: str, bad: Any, *, at: int = 15) -> list[dict[str, Any]]:
    """One connector, 20 connections sharing ``key``'s value "DFW" except ``bad`` at ``at``."""
    conns = [{"id": f"c{i}", key: "DFW", "client_id": "k"} for i in range(20)]
    conns[at][key] = bad
    return [{"id": "k", "conns": conns}]


@pytest.mark.parametrize("key", ["colo_name", "client_id", "origin_ip", "client_version"])
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (5, "expected a string or null, got integer 5"),
        ({"x": 1}, "got object"),
        (["DFW"], "got array"),
        ("DF\udc00", "not valid Unicode"),
    ],
)
def test_schema_errors_in_repetitive_columns_name_the_row(key: str, bad: Any, message: str) -> None:
    # Few distinct values take the hashing path, one value per connector the per-connector one.
    with pytest.raises(tf.SchemaError, match=message) as info:
        connections_frame(many(key, bad))
    assert info.value.path == f"[0].conns[15].{key}"


def test_repetitive_columns_encode_like_distinct_ones() -> None:
    data = many("colo_name", "AMS", at=3)
    data.append({"id": "k2", "conns": [{"id": "z", "colo_name": "SJC", "client_id": "other"}]})
    frame = connections_frame(data)
    assert values(frame["colo_name"]) == ["DFW"] * 3 + ["AMS"] + ["DFW"] * 16 + ["SJC"]
    assert list(frame["colo_name"].cat.categories) == ["AMS", "DFW", "SJC"]
    assert values(frame["client_id"]) == ["k"] * 20 + ["other"]
    assert list(frame["client_id"].cat.categories) == ["k", "other"]
    assert values(frame["connector_id"]) == ["k"] * 20 + ["k2"]


def test_client_id_categories_hold_only_client_ids() -> None:
    # client_id equals the connector id, but the idle connector's id is no client_id.
    data = [connector_c(), {"id": "idle"}, {"id": "dddd", "conns": [{"client_id": "dddd"}]}]
    frame = connections_frame(data)
    assert values(frame["client_id"]) == [None, None, "dddd"]
    frame = connections_frame(
        [
            {"id": "a", "conns": [{"client_id": "a"}, {"client_id": "a"}]},
            {"id": "idle"},
            {"id": "b", "conns": [{"client_id": "b"}]},
        ]
    )
    assert values(frame["client_id"]) == ["a", "a", None, "b"]
    assert list(frame["client_id"].cat.categories) == ["a", "b"]
    assert list(frame["connector_id"].cat.categories) == ["a", "b", "idle"]


def test_tunnels_frame_reports_paths_of_plain_tunnel_lists() -> None:
    with pytest.raises(tf.SchemaError, match="got integer 3") as info:
        tunnels_frame({"success": True, "result": [{}, {"name": 3}]})
    assert info.value.path == "result[1].name"
    with pytest.raises(tf.SchemaError, match="boolean or null") as info:
        tunnels_frame({"remote_config": "yes"})
    assert info.value.path == "remote_config"
    with pytest.raises(tf.SchemaError, match="expected a tunnel object") as info:
        tunnels_frame([{}, 3])
    assert info.value.path == "[1]"


# --------------------------------------------------------------------------- empty inputs


@pytest.mark.parametrize(
    "data",
    [[], {"success": True, "result": []}, {"tunnels": []}, {"tunnels": [{"id": "t"}]}],
    ids=["list", "envelope", "fleet", "fleet-without-connectors"],
)
def test_empty_inputs_keep_columns_and_dtypes(data: Any) -> None:
    for build, schema in (
        (connections_frame, CONNECTIONS_SCHEMA),
        (connectors_frame, CONNECTORS_SCHEMA),
    ):
        frame = build(data)
        assert len(frame) == 0
        assert_schema(frame, schema)
    assert_schema(tunnels_frame({"tunnels": []}), TUNNELS_SCHEMA)
    assert len(tunnels_frame({"tunnels": []})) == 0


# --------------------------------------------------------------------------- connectors_frame


def test_connectors_frame_counts_and_edges_like_cloudflared() -> None:
    # cloudflared tunnel list prints this connector as "1xATL, 2xDFW".
    connector = {
        "id": "x",
        "conns": [
            conn("1", "DFW", origin_ip="203.0.113.9"),
            conn("2", "ATL", is_pending_reconnect=False, origin_ip="198.51.100.7"),
            conn("3", "DFW", is_pending_reconnect=False, origin_ip="203.0.113.9"),
            conn("4", "LAX", is_pending_reconnect=True, origin_ip="203.0.113.10"),
        ],
    }
    frame = connectors_frame(connector)
    assert_schema(frame, CONNECTORS_SCHEMA)
    row = frame.iloc[0]
    assert (row["n_connections"], row["n_active"], row["n_pending"]) == (4, 3, 1)
    assert row["edges"] == "1xATL, 2xDFW"
    assert row["origin_ips"] == "198.51.100.7, 203.0.113.10, 203.0.113.9"


def test_connectors_frame_one_row_per_connector_in_fleet_order() -> None:
    frame = connectors_frame(fleet())
    assert values(frame["connector_id"]) == ["aaaaaaaa-0000-4000-8000-000000000001", "bbbb", "cccc"]
    assert values(frame["tunnel_id"]) == ["t1", "t1", "t3"]
    assert frame["n_connections"].tolist() == [3, 0, 1]
    assert frame["n_active"].tolist() == [2, 0, 1]
    assert frame["n_pending"].tolist() == [1, 0, 0]
    # c-2 (ATL) is pending, so only DFW is printed; the idle connector gets "".
    assert frame["edges"].tolist() == ["2xDFW", "", "1xLAX"]
    assert frame["origin_ips"].tolist() == ["192.0.2.1, 198.51.100.7", "", ""]
    assert values(frame["config_version"]) == [7, None, None]
    assert_schema(frame, CONNECTORS_SCHEMA)


def test_edges_leave_out_connections_without_a_colo() -> None:
    frame = connectors_frame({"conns": [{"id": "a"}, conn("b", "SJC"), conn("c", "SJC")]})
    assert frame["edges"].tolist() == ["2xSJC"]
    assert frame["n_active"].tolist() == [3]


def test_edges_helper_groups_a_connections_frame() -> None:
    frame = connections_frame(fleet())
    edges = edge_strings(frame)
    assert edges.to_dict() == {
        "aaaaaaaa-0000-4000-8000-000000000001": "2xDFW",
        "bbbb": "",
        "cccc": "1xLAX",
    }
    by_tunnel = edge_strings(frame, by=["tunnel_id"])
    assert by_tunnel.to_dict() == {"t1": "2xDFW", "t3": "1xLAX"}
    plain = pd.DataFrame(
        {
            "k": [1, 1, 1, 2],
            "colo_name": ["LAX", "DFW", "LAX", None],
            "is_pending_reconnect": [None, False, False, False],
        }
    )
    assert edge_strings(plain, by="k").to_dict() == {1: "1xDFW, 2xLAX", 2: ""}
    assert len(edge_strings(plain.iloc[:0], by="k")) == 0


# --------------------------------------------------------------------------- tunnels_frame


def test_tunnels_frame_fields_and_counts() -> None:
    frame = tunnels_frame(fleet())
    assert_schema(frame, TUNNELS_SCHEMA)
    assert values(frame["tunnel_id"]) == ["t1", "t2", "t3"]
    assert values(frame["account_id"]) == ["acct1", "acct2", "acct1"]
    assert values(frame["tunnel_name"]) == ["web", "empty", "db"]
    assert values(frame["tunnel_status"]) == ["healthy", "inactive", "degraded"]
    assert values(frame["tun_type"]) == ["cfd_tunnel", None, None]
    assert values(frame["created_at"]) == [UTC_TS("2024-01-01", tz="UTC"), None, None]
    assert frame["deleted_at"].isna().all()
    assert values(frame["remote_config"]) == [True, None, False]
    assert values(frame["config_src"]) == ["cloudflare", None, None]
    assert frame["metadata"].tolist() == [{"owner": "ops"}, None, None]
    assert frame["n_connectors"].tolist() == [2, 0, 1]
    assert frame["n_connections"].tolist() == [3, 0, 1]
    assert "connections" not in frame.columns


def test_tunnels_frame_of_api_tunnel_objects_has_na_counts() -> None:
    envelope = {"success": True, "result": [{"id": "t1", "name": "a"}, {"id": "t2"}]}
    frame = tunnels_frame(envelope)
    assert values(frame["tunnel_id"]) == ["t1", "t2"]
    assert frame["n_connectors"].isna().all()
    assert frame["n_connections"].isna().all()
    one = tunnels_frame({"success": True, "result": {"id": "t9", "status": "down"}})
    assert values(one["tunnel_status"]) == ["down"]
    assert_schema(one, TUNNELS_SCHEMA)


# --------------------------------------------------------------------------- real fleets


def test_sample_fleet_flattens_without_losing_a_connector() -> None:
    data = tf.load_sample()
    connectors = [c for t in data["tunnels"] for c in t.get("connectors") or []]
    frame = connections_frame(data)
    assert len(frame) == sum(max(len(c.get("conns") or []), 1) for c in connectors)
    assert_schema(frame.iloc[:, :19], CONNECTIONS_SCHEMA)
    summary = connectors_frame(data)
    assert len(summary) == len(connectors)
    assert summary["n_connections"].sum() == frame["connection_id"].notna().sum()
    tunnels = tunnels_frame(data)
    assert len(tunnels) == len(data["tunnels"])
    assert tunnels["n_connectors"].sum() == len(connectors)


def test_payloads_served_by_the_simulator(client: Any) -> None:
    # conftest's tiny fleet: t1 has c1 (2xDFW, 2xIAH) and c2 (2xLAX, 2xSJC), all active.
    frame = connections_frame(client.list_connectors("t1"))
    assert_schema(frame, CONNECTIONS_SCHEMA)
    assert values(frame["connector_id"]) == ["c1"] * 4 + ["c2"] * 4
    assert values(frame["colo_name"]) == ["DFW", "DFW", "IAH", "IAH", "LAX", "LAX", "SJC", "SJC"]
    assert frame["opened_at"].eq(UTC_TS("2026-08-01 10:00", tz="UTC")).all()
    one = connections_frame(client.get_connector("t1", "c2"))
    assert values(one["connection_id"]) == [f"c2-x{i}" for i in range(4)]
    assert connectors_frame(client.list_connectors("t1"))["edges"].tolist() == [
        "2xDFW, 2xIAH",
        "2xLAX, 2xSJC",
    ]
    tunnels = tunnels_frame(client.list_tunnels())
    assert values(tunnels["tunnel_name"]) == ["web-prod", "web-stage", "db-main", "new-one",
                                              "old-gone"]  # fmt: skip
    assert values(tunnels["account_id"]) == [ACCOUNT] * 5
    assert tunnels["n_connectors"].isna().all()


# --------------------------------------------------------------------------- property test

_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_.:é", max_size=12)
_MOMENT = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(8999, 12, 31), timezones=st.just(UTC)
) | st.datetimes(
    min_value=datetime(1971, 1, 2),
    max_value=datetime(8999, 12, 30),
    timezones=st.sampled_from([timezone(timedelta(hours=2)), timezone(timedelta(hours=-7))]),
)
_TIME_TEXT = _MOMENT.map(lambda d: d.isoformat().replace("+00:00", "Z"))
_EXTRA = st.dictionaries(st.sampled_from(["zz", "colo_id", "extra"]), st.integers(), max_size=2)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _objects(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects where every field may be missing or null, plus unknown keys."""
    optional = {key: _maybe(value) for key, value in fields.items()}
    return st.tuples(st.fixed_dictionaries({}, optional=optional), _EXTRA).map(
        lambda pair: {**pair[1], **pair[0]}
    )


_ID = st.uuids().map(str) | _TEXT
_CONNECTION = _objects(
    {
        "id": _ID,
        "uuid": _ID,
        "client_id": _ID,
        "client_version": _TEXT,
        "colo_name": st.sampled_from(["DFW", "LAX", "AMS", "ATL"]) | _TEXT,
        "is_pending_reconnect": st.booleans(),
        "opened_at": _TIME_TEXT,
        "origin_ip": _TEXT,
    }
)
_CONNECTOR = _objects(
    {
        "id": _ID,
        "arch": st.sampled_from(["linux_amd64", "linux_arm64"]),
        "version": _TEXT,
        "config_version": st.integers(-(2**31), 2**31 - 1),
        "run_at": _TIME_TEXT,
        "features": st.lists(_TEXT, max_size=3),
        "conns": st.lists(_CONNECTION, max_size=5),
    }
)
_SHAPE = st.sampled_from(["list", "envelope", "fleet"])


def _instant(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(datetime.fromisoformat(text)).tz_convert("UTC")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(connectors=st.lists(_CONNECTOR, max_size=6), shape=_SHAPE, cut=st.integers(0, 6))
def test_property_every_value_comes_through(
    connectors: list[dict[str, Any]], shape: str, cut: int
) -> None:
    if shape == "list":
        data: Any = connectors
    elif shape == "envelope":
        data = {"success": True, "errors": [], "result": connectors}
    else:  # split the connectors over two tunnels
        data = {
            "tunnels": [
                {"id": "t0", "account_tag": "a", "connectors": connectors[:cut]},
                {"id": "t1", "name": "n", "connectors": connectors[cut:]},
            ]
        }
    known = {"id", "arch", "version", "config_version", "run_at", "features", "conns"}
    if shape != "fleet" and any(connectors) and not any(known & set(c) for c in connectors):
        # Not one key of ours anywhere: no payload (a data-centre list, say), refused.
        with pytest.raises(tf.SchemaError, match="none of the keys of a tunnel, connector"):
            connections_frame(data)
        return
    frame = connections_frame(data)
    assert len(frame) == sum(max(len(c.get("conns") or []), 1) for c in connectors)
    assert list(frame.columns)[:19] == CONNECTION_COLUMNS
    row = 0
    for k, connector in enumerate(connectors):
        conns = connector.get("conns") or [None]
        for item in conns:
            got = frame.iloc[row]
            expect = {
                "connector_id": connector.get("id"),
                "arch": connector.get("arch"),
                "version": connector.get("version"),
                "config_version": connector.get("config_version"),
                "run_at": _instant(connector.get("run_at")),
                "features": None
                if connector.get("features") is None
                else ",".join(connector["features"]),
            }
            if shape == "fleet":
                expect["tunnel_id"] = "t0" if k < cut else "t1"
                expect["account_id"] = "a" if k < cut else None
            c = item or {}
            expect.update(
                {
                    "connection_id": c.get("id") if c.get("id") is not None else c.get("uuid"),
                    "client_id": c.get("client_id"),
                    "client_version": c.get("client_version"),
                    "colo_name": c.get("colo_name"),
                    "is_pending_reconnect": c.get("is_pending_reconnect"),
                    "opened_at": _instant(c.get("opened_at")),
                    "origin_ip": c.get("origin_ip"),
                }
            )
            for column, value in expect.items():
                cell = got[column]
                if value is None:
                    assert pd.isna(cell), (row, column, cell)
                else:
                    assert cell == value, (row, column, cell, value)
            if "uuid" in frame.columns:
                uuid = c.get("uuid")
                assert pd.isna(got["uuid"]) if uuid is None else got["uuid"] == uuid, row
            row += 1
    differs = any(
        c.get("uuid") is not None and c.get("id") is not None and c["uuid"] != c["id"]
        for connector in connectors
        for c in connector.get("conns") or []
    )
    assert ("uuid" in frame.columns) == differs
    summary = connectors_frame(data)
    assert summary["n_connections"].tolist() == [len(c.get("conns") or []) for c in connectors]
    if shape == "list":  # the slow path reads the same values
        pd.testing.assert_frame_equal(connections_frame(read_only(connectors)), frame)


_KEYS = st.sampled_from(
    ["tunnels", "connectors", "result", "success", "errors", "conns", "id", "uuid", "features",
     "config_version", "run_at", "opened_at", "colo_name", "is_pending_reconnect", "metadata",
     "remote_config", "account_tag", "name", "status", "created_at", "code", "message"]
)  # fmt: skip
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(
        ["2026-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=3), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.lists(_JSON, max_size=4) | st.dictionaries(_KEYS, _JSON, max_size=4))
def test_property_any_json_gives_a_frame_or_one_of_our_errors(data: Any) -> None:
    for build in (connections_frame, connectors_frame, tunnels_frame):
        try:
            frame = build(data)
        except (tf.SchemaError, tf.ApiError) as exc:
            assert str(exc)
        else:
            assert isinstance(frame, pd.DataFrame)


# --------------------------------------------------------------------------- payload shapes
# Small literals in the shapes cloudflared and the API write: cloudflared's cfapi.Tunnel,
# cfapi.Connection and cfapi.ActiveClient structs (json tags: id, name, created_at,
# deleted_at, connections; colo_name, id, is_pending_reconnect, origin_ip, opened_at; id,
# features, version, arch, run_at, conns), its tunnel.Info (id, name, createdAt, conns), and
# the tunnel object of Cloudflare's API reference (with the deprecated connections array).

TUNNEL_ID = "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415"
CLIENT_ID = "1bedc50d-42b3-473c-b108-ff3d10c0d925"
GO_ZERO = "0001-01-01T00:00:00Z"


def api_tunnel(**extra: Any) -> dict[str, Any]:
    """A tunnel object as GET .../cfd_tunnel listed it before 2026-10-05."""
    return {
        "id": TUNNEL_ID,
        "account_tag": "699d98642c564d2e855e9661899b7252",
        "name": "blog",
        "created_at": "2021-01-25T18:22:34.317854Z",
        "deleted_at": None,
        "status": "healthy",
        "tun_type": "cfd_tunnel",
        "remote_config": True,
        "metadata": {},
        "connections": [
            {
                "client_id": CLIENT_ID,
                "client_version": "2022.7.1",
                "colo_name": "bos01",
                "id": "c0000000-0000-4000-8000-000000000001",
                "is_pending_reconnect": False,
                "opened_at": "2021-01-25T18:22:34.317854Z",
                "origin_ip": "10.1.0.137",
                "uuid": "c0000000-0000-4000-8000-000000000001",
            },
            {
                "client_id": CLIENT_ID,
                "client_version": "2022.7.1",
                "colo_name": "phl01",
                "id": "c0000000-0000-4000-8000-000000000002",
                "is_pending_reconnect": False,
                "opened_at": "2021-01-25T18:22:35Z",
                "origin_ip": "10.1.0.137",
            },
            {
                "client_id": "2bedc50d-42b3-473c-b108-ff3d10c0d925",
                "client_version": "2022.7.1",
                "colo_name": "bos01",
                "id": "c0000000-0000-4000-8000-000000000003",
                "is_pending_reconnect": True,
                "origin_ip": "10.1.0.138",
            },
        ],
        **extra,
    }


def cloudflared_list() -> list[dict[str, Any]]:
    """``cloudflared tunnel list -o json``: cfapi.Tunnel, whose connections have no client_id;
    a Go zero time for "not deleted" and null for an empty slice."""
    return [
        {
            "id": TUNNEL_ID,
            "name": "blog",
            "created_at": "2023-03-01T09:00:00.123456Z",
            "deleted_at": GO_ZERO,
            "connections": [
                {
                    "colo_name": "DFW",
                    "id": "d0000000-0000-4000-8000-000000000001",
                    "is_pending_reconnect": False,
                    "origin_ip": "198.51.100.4",
                    "opened_at": "2023-03-01T09:00:01Z",
                },
                {
                    "colo_name": "LAX",
                    "id": "d0000000-0000-4000-8000-000000000002",
                    "is_pending_reconnect": False,
                    "origin_ip": "198.51.100.4",
                    "opened_at": "2023-03-01T09:00:02Z",
                },
            ],
        },
        {
            "id": "aaaaaaaa-0000-4000-8000-00000000000a",
            "name": "idle",
            "created_at": "2023-03-02T09:00:00Z",
            "deleted_at": GO_ZERO,
            "connections": None,
        },
    ]


def cloudflared_info() -> dict[str, Any]:
    """``cloudflared tunnel info -o json``: tunnel.Info with cfapi.ActiveClient connectors."""
    conns = [
        {
            "colo_name": site,
            "id": f"e0000000-0000-4000-8000-00000000000{i}",
            "is_pending_reconnect": False,
            "origin_ip": "203.0.113.9",
            "opened_at": f"2026-06-01T08:00:0{i}Z",
        }
        for i, site in enumerate(["ord02", "ord06", "ord12", "ord12"], start=1)
    ]
    return {
        "id": TUNNEL_ID,
        "name": "blog",
        "createdAt": "2024-01-15T12:00:00Z",
        "conns": [
            {
                "id": CLIENT_ID,
                "features": ["ha-origin", "serialized_headers"],
                "version": "2026.5.0",
                "arch": "linux_amd64",
                "run_at": "2026-06-01T07:59:59Z",
                "conns": conns,
            },
            {
                "id": "3bedc50d-42b3-473c-b108-ff3d10c0d925",
                "features": None,
                "version": "2026.5.0",
                "arch": "linux_arm64",
                "run_at": "2026-06-01T07:00:00Z",
                "conns": None,
            },
        ],
    }


CONNECTOR_FIELDS = ["arch", "version", "config_version", "run_at", "features"]


@pytest.mark.parametrize(
    "data",
    [
        [api_tunnel()],
        {"success": True, "errors": [], "messages": [], "result": [api_tunnel()]},
        {"success": True, "errors": [], "messages": [], "result": api_tunnel()},
        api_tunnel(),
    ],
    ids=["list", "list-envelope", "get-envelope", "tunnel"],
)
def test_tunnel_objects_give_one_row_per_deprecated_connection(data: Any) -> None:
    frame = connections_frame(data)
    assert_schema(frame, CONNECTIONS_SCHEMA)
    assert values(frame["tunnel_id"]) == [TUNNEL_ID] * 3
    assert values(frame["tunnel_name"]) == ["blog"] * 3
    assert values(frame["account_id"]) == ["699d98642c564d2e855e9661899b7252"] * 3
    # the connector is the connection's client_id, never the tunnel id
    assert values(frame["connector_id"]) == [CLIENT_ID, CLIENT_ID, "2" + CLIENT_ID[1:]]
    assert values(frame["colo_name"]) == ["bos01", "phl01", "bos01"]
    assert values(frame["is_pending_reconnect"]) == [False, False, True]
    assert frame["connection_id"].str[-1].tolist() == ["1", "2", "3"]
    assert values(frame["client_version"]) == ["2022.7.1"] * 3
    assert frame["opened_at"].iloc[0] == UTC_TS("2021-01-25T18:22:34.317854", tz="UTC")
    assert frame[CONNECTOR_FIELDS].isna().all().all()

    summary = connectors_frame(data)
    assert_schema(summary, CONNECTORS_SCHEMA)
    assert values(summary["connector_id"]) == [CLIENT_ID, "2" + CLIENT_ID[1:]]
    assert summary["n_connections"].tolist() == [2, 1]
    assert summary["n_pending"].tolist() == [0, 1]
    assert summary["edges"].tolist() == ["1xbos01, 1xphl01", ""]
    assert summary["origin_ips"].tolist() == ["10.1.0.137", "10.1.0.138"]

    tunnels = tunnels_frame(data)
    assert (tunnels["n_connectors"].tolist(), tunnels["n_connections"].tolist()) == ([2], [3])


def test_connectors_win_over_the_deprecated_connections_array() -> None:
    # A snapshot older than 2026-10-05 holds both; they are the same connections, and the
    # connectors (from /connections) are complete, so the array is not read.
    connector = {"id": CLIENT_ID, "version": "2026.5.0", "conns": [{"id": "x", "colo_name": "a"}]}
    data = {"tunnels": [api_tunnel(connectors=[connector]), api_tunnel(id="t2")]}
    frame = connections_frame(data)
    assert values(frame["tunnel_id"]) == [TUNNEL_ID] + ["t2"] * 3
    assert values(frame["connection_id"])[0] == "x"
    assert values(frame["version"]) == ["2026.5.0", None, None, None]
    assert tunnels_frame(data)["n_connections"].tolist() == [1, 3]


def test_cloudflared_tunnel_list_json() -> None:
    data = cloudflared_list()
    frame = connections_frame(data)
    assert values(frame["tunnel_id"]) == [TUNNEL_ID] * 2
    assert values(frame["colo_name"]) == ["DFW", "LAX"]
    # cloudflared's Connection struct has no client_id: the connector is unknown, not invented
    assert frame["connector_id"].isna().all()
    assert frame[CONNECTOR_FIELDS].isna().all().all()
    summary = connectors_frame(data)
    assert summary["connector_id"].isna().all()
    assert (summary["n_connections"].tolist(), summary["edges"].tolist()) == ([2], ["1xDFW, 1xLAX"])
    tunnels = tunnels_frame(data)
    assert values(tunnels["tunnel_name"]) == ["blog", "idle"]
    assert values(tunnels["created_at"])[0] == UTC_TS("2023-03-01T09:00:00.123456", tz="UTC")
    assert tunnels["deleted_at"].isna().all()  # Go's zero time is "never"
    assert tunnels["n_connections"].tolist() == [2, 0]  # null: Go's empty slice
    assert tunnels["n_connectors"].isna().tolist() == [True, False]  # no client_id to count


def test_cloudflared_tunnel_info_json() -> None:
    data = cloudflared_info()
    frame = connections_frame(data)
    assert len(frame) == 5  # four connections and one idle connector
    assert values(frame["tunnel_id"]) == [TUNNEL_ID] * 5
    assert values(frame["tunnel_name"]) == ["blog"] * 5
    assert values(frame["connector_id"]) == [CLIENT_ID] * 4 + ["3" + CLIENT_ID[1:]]
    assert values(frame["colo_name"]) == ["ord02", "ord06", "ord12", "ord12", None]
    assert values(frame["arch"]) == ["linux_amd64"] * 4 + ["linux_arm64"]
    assert frame["opened_at"].iloc[3] == UTC_TS("2026-06-01T08:00:04", tz="UTC")
    summary = connectors_frame(data)
    assert summary["n_connections"].tolist() == [4, 0]
    assert summary["edges"].tolist() == ["1xord02, 1xord06, 2xord12", ""]
    tunnels = tunnels_frame(data)
    assert_schema(tunnels, TUNNELS_SCHEMA)
    assert values(tunnels["tunnel_id"]) == [TUNNEL_ID]
    assert values(tunnels["created_at"]) == [UTC_TS("2024-01-15T12:00:00", tz="UTC")]
    assert (tunnels["n_connectors"].tolist(), tunnels["n_connections"].tolist()) == ([2], [4])
    no_conns = {**data, "conns": None}  # a tunnel without connectors: Go writes null
    assert len(connections_frame(no_conns)) == 0
    assert tunnels_frame(no_conns)["n_connectors"].tolist() == [0]


def test_paths_in_cloudflared_and_deprecated_shapes_name_the_json_key() -> None:
    info = cloudflared_info()
    info["conns"][0]["conns"][1]["opened_at"] = 5
    with pytest.raises(tf.SchemaError, match="got integer 5") as err:
        connections_frame(info)
    assert err.value.path == "conns[0].conns[1].opened_at"
    with pytest.raises(tf.SchemaError, match="got integer 7") as err:
        tunnels_frame({**cloudflared_info(), "createdAt": 7})
    assert err.value.path == "createdAt"
    tunnels = cloudflared_list()
    tunnels[0]["connections"][1]["colo_name"] = ["LAX"]
    with pytest.raises(tf.SchemaError, match="got array") as err:
        connectors_frame({"result": tunnels})
    assert err.value.path == "result[0].connections[1].colo_name"
    tunnels[0]["connections"][1] = {"client_id": 3}
    with pytest.raises(tf.SchemaError, match="got integer 3") as err:
        connections_frame(tunnels)
    assert err.value.path == "[0].connections[1].client_id"
    with pytest.raises(tf.SchemaError, match="expected an array of connection objects") as err:
        connections_frame([api_tunnel(connections="none")])
    assert err.value.path == "[0].connections"


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (connector_a(), ""),
        ([connector_a(), connector_b()], ""),
        ({"success": True, "result": [connector_c()]}, "result"),
        ({"success": True, "result": connector_c()}, "result"),
    ],
    ids=["connector", "list", "list-envelope", "get-envelope"],
)
def test_tunnels_frame_refuses_connector_payloads(data: Any, path: str) -> None:
    with pytest.raises(tf.SchemaError, match="tunnels_frame needs tunnel objects") as err:
        tunnels_frame(data)
    assert err.value.path == path
    assert "connectors_frame" in str(err.value)


def test_todays_tunnel_list_has_no_connectors_to_flatten() -> None:
    tunnel = {k: v for k, v in api_tunnel().items() if k != "connections"}  # since 2026-10-05
    today = {"success": True, "result": [tunnel]}
    for build in (connections_frame, connectors_frame):
        with pytest.raises(tf.SchemaError, match=r"GET \.\.\./connections result") as err:
            build(today)
        assert err.value.path == "result"
    tunnels = tunnels_frame(today)
    assert values(tunnels["tunnel_id"]) == [TUNNEL_ID]
    assert tunnels["n_connections"].isna().all()


@pytest.mark.parametrize("build", [connections_frame, connectors_frame, tunnels_frame])
def test_a_null_result_is_no_connectors(build: Any) -> None:
    schema = {
        connections_frame: CONNECTIONS_SCHEMA,
        connectors_frame: CONNECTORS_SCHEMA,
        tunnels_frame: TUNNELS_SCHEMA,
    }[build]
    frame = build({"success": True, "errors": [], "messages": [], "result": None})
    assert len(frame) == 0
    assert_schema(frame, schema)


@pytest.mark.parametrize("build", [connections_frame, connectors_frame, tunnels_frame])
@pytest.mark.parametrize(
    ("data", "path"), [({}, ""), ({"success": True, "result": {}}, "result")], ids=["bare", "env"]
)
def test_an_empty_object_is_a_schema_error(build: Any, data: Any, path: str) -> None:
    with pytest.raises(tf.SchemaError, match="got an empty object") as err:
        build(data)
    assert err.value.path == path


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ([{"id": "c-1", "colo_name": "DFW"}], "[0]", "got a connection object"),
        ({"result": {"id": "c-1", "opened_at": "2026"}}, "result", "got a connection object"),
        ([connector_c(), api_tunnel()], "[1]", "got a tunnel object"),
        ({"tunnels": [{"connectors": [cloudflared_info()]}]}, "tunnels[0].connectors[0]", "tunnel"),
        ([api_tunnel(), connector_c()], "[1]", "got a connector object in an array of tunnel"),
    ],
)
def test_wrong_kinds_say_what_they_saw(data: Any, path: str, message: str) -> None:
    for build in (connections_frame, connectors_frame):
        with pytest.raises(tf.SchemaError, match=message) as err:
            build(data)
        assert err.value.path == path


def test_rfc3339_lower_case_t_and_z_and_a_leap_second_parse() -> None:
    conns = [
        {"id": "a", "opened_at": "2026-08-01t10:00:00z"},
        {"id": "b", "opened_at": "2016-12-31T23:59:60Z"},  # a real leap second
        {"id": "c", "opened_at": "2016-12-31t23:59:60.250+01:00"},
    ]
    frame = connections_frame([{"id": "c1", "conns": conns}])
    assert frame["opened_at"].tolist() == [
        pd.Timestamp("2026-08-01T10:00:00Z"),
        pd.Timestamp("2017-01-01T00:00:00Z"),  # as POSIX time counts it
        pd.Timestamp("2016-12-31T23:00:00.250Z"),
    ]


def test_connectors_rebuilt_from_connections_match_connectors_frame() -> None:
    # A report of a connections frame rebuilds the connectors: every column must survive, so a
    # new connectors column cannot silently turn NA there.
    fleet = tf.simulator.generate_fleet(200, seed=3)
    rebuilt = tf.frames.connectors_from_connections(connections_frame(fleet))
    pd.testing.assert_frame_equal(rebuilt, connectors_frame(fleet), check_categorical=False)


# -- WARP Connector: tun_type and ha_status ------------------------------------------------------


def warp_fleet() -> dict[str, Any]:
    """A cloudflared tunnel beside a WARP Connector pair (one member active, one passive) and
    a tunnel without tun_type (an old payload)."""
    member = {
        "id": "m1",
        "arch": "linux_amd64",
        "version": "2025.2.600.0",
        "ha_status": "active",
        "run_at": "2026-08-01T10:00:00Z",
        "conns": [{"id": "w1", "client_id": "m1", "colo_name": "FRA", "origin_ip": "192.0.2.9"}],
    }
    return {
        "tunnels": [
            {"id": "t1", "tun_type": "cfd_tunnel", "connectors": [connector_a()]},
            {
                "id": "t2",
                "tun_type": "warp_connector",
                "connectors": [
                    member,
                    {
                        **member,
                        "id": "m2",
                        "ha_status": "passive",
                        "conns": [{"id": "w2", "client_id": "m2", "colo_name": "AMS"}],
                    },
                ],
            },
            {"id": "t3", "connectors": [{"id": "c9", "conns": []}]},
        ]
    }


def test_tun_type_and_ha_status_columns() -> None:
    frame = connections_frame(warp_fleet())
    by_connector = frame.groupby("connector_id", observed=True, sort=False)
    kinds = by_connector["tun_type"].first().astype(object).where(lambda s: s.notna(), None)
    assert kinds.to_dict() == {
        "aaaaaaaa-0000-4000-8000-000000000001": "cfd_tunnel",
        "m1": "warp_connector",
        "m2": "warp_connector",
        "c9": None,
    }
    ha = frame.dropna(subset=["connection_id"]).set_index("connection_id")["ha_status"]
    assert (ha["w1"], ha["w2"]) == ("active", "passive")
    assert frame.loc[frame["tun_type"] == "cfd_tunnel", "ha_status"].isna().all()
    # WARP Connector connections carry no is_pending_reconnect: NA, not False.
    assert frame.loc[frame["tun_type"] == "warp_connector", "is_pending_reconnect"].isna().all()
    connectors = connectors_frame(warp_fleet())
    assert connectors["ha_status"].astype(object).where(
        connectors["ha_status"].notna(), None
    ).tolist() == [None, "active", "passive", None]
    assert_schema(connectors, CONNECTORS_SCHEMA)
    rebuilt = tf.frames.connectors_from_connections(frame)
    pd.testing.assert_frame_equal(rebuilt, connectors)
    tunnels = tunnels_frame(warp_fleet())
    assert tunnels["tun_type"].astype(object).where(tunnels["tun_type"].notna(), None).tolist() == [
        "cfd_tunnel",
        "warp_connector",
        None,
    ]


def test_a_bad_ha_status_names_its_path() -> None:
    fleet = warp_fleet()
    fleet["tunnels"][1]["connectors"][1]["ha_status"] = 1
    with pytest.raises(tf.SchemaError, match=r"tunnels\[1\]\.connectors\[1\]\.ha_status") as info:
        connections_frame(fleet)
    assert info.value.path == "tunnels[1].connectors[1].ha_status"


def test_a_mixed_generated_fleet_rebuilds_its_connectors() -> None:
    from tunnelframe.simulator import generate_fleet

    fleet = generate_fleet(20, seed=4, warp_connectors=15)
    frame = connections_frame(fleet)
    pd.testing.assert_frame_equal(
        tf.frames.connectors_from_connections(frame), connectors_frame(fleet)
    )
    warp = frame[frame["tun_type"] == "warp_connector"]
    assert set(warp["ha_status"].astype(str)) <= {"active", "passive", "offline"}
    assert frame.loc[frame["tun_type"] == "cfd_tunnel", "ha_status"].isna().all()


@pytest.mark.parametrize(
    "data", [[api_tunnel()], cloudflared_list(), cloudflared_info()], ids=["api", "list", "info"]
)
def test_frames_rebuilt_from_the_connections_of_every_shape_agree(data: Any) -> None:
    conns = connections_frame(data)
    rebuilt = tf.frames.connectors_from_connections(conns)
    pd.testing.assert_frame_equal(rebuilt, connectors_frame(data), check_categorical=False)
    tunnels = tunnels_frame(data)
    tunnels = tunnels[tunnels["n_connections"] > 0].reset_index(drop=True)  # no rows: no tunnel
    counts = ["tunnel_id", "n_connectors", "n_connections"]
    pd.testing.assert_frame_equal(
        tf.frames.tunnels_from_connections(conns)[counts], tunnels[counts], check_categorical=False
    )


# -- versions order as versions (#14) --------------------------------------------------------

_VERSIONS = ["2022.12.1", "DEV", "2022.6.3", "2024.9.1-8-g7bf5da36", "2024.9.1", "2024.10.0"]


def _versions_fleet() -> dict[str, Any]:
    connectors = [
        {"id": f"c{i}", "version": v, "conns": [{"id": f"x{i}", "client_version": v}]}
        for i, v in enumerate(_VERSIONS)
    ]
    half = len(connectors) // 2
    return {
        "tunnels": [
            {"id": "t1", "name": "one", "connectors": connectors[:half]},
            {"id": "t2", "name": "two", "connectors": connectors[half:]},
        ]
    }


_RELEASE_ORDER = ["DEV", "2022.6.3", "2022.12.1", "2024.9.1", "2024.9.1-8-g7bf5da36", "2024.10.0"]


@pytest.mark.parametrize("build", [connections_frame, connectors_frame])
def test_version_columns_are_ordered_by_release(build: Any) -> None:
    frame = build(_versions_fleet())
    for column in ("version", "client_version") if build is connections_frame else ("version",):
        assert frame[column].dtype.ordered
        # Unknown builds first; a git-describe build right after its tag; 2022.12 after 2022.6.
        assert list(frame[column].cat.categories) == _RELEASE_ORDER
    assert frame["version"].max() == "2024.10.0"
    assert frame["version"].min() == "DEV"
    assert frame.sort_values("version")["version"].tolist() == _RELEASE_ORDER
    newest = frame.groupby("tunnel_name", observed=True)["version"].max()
    assert newest.astype(str).to_dict() == {"one": "2022.12.1", "two": "2024.10.0"}
    assert frame.loc[frame["version"] >= "2024.9.1", "version"].tolist() == [
        "2024.9.1-8-g7bf5da36", "2024.9.1", "2024.10.0",
    ]  # fmt: skip


def test_empty_and_rebuilt_frames_order_versions_too() -> None:
    empty = connections_frame({"tunnels": []})
    assert empty["version"].dtype.ordered and empty["client_version"].dtype.ordered
    rebuilt = tf.frames.connectors_from_connections(connections_frame(_versions_fleet()))
    assert rebuilt["version"].dtype.ordered
    assert rebuilt["version"].max() == "2024.10.0"


def test_version_order_keeps_the_connections_frame_compact() -> None:
    frame = connections_frame(_versions_fleet())
    assert frame["version"].cat.codes.dtype == np.int8
    assert isinstance(frame["version"].cat.categories.dtype, pd.ArrowDtype)


def test_a_warp_connector_connections_reply_given_as_is_is_warp() -> None:
    # GET /warp_connector/{id}/connections, no tunnel around it: ha_status says WARP.
    reply = {
        "success": True,
        "errors": [],
        "messages": [],
        "result": [
            {
                "id": "1bd8ca6c-0000-4000-8000-000000000001",
                "arch": "linux_amd64",
                "version": "2025.9.1",
                "ha_status": "active",
                "run_at": "2026-05-01T10:00:00Z",
                "conns": [
                    {
                        "id": "a1",
                        "client_id": "1bd8ca6c-0000-4000-8000-000000000001",
                        "colo_name": "ord02",
                        "opened_at": "2026-05-01T10:00:01Z",
                    }
                ],
            },
            {
                "id": "1bd8ca6c-0000-4000-8000-000000000002",
                "version": "2025.9.1",
                "ha_status": "passive",
                "conns": [],
            },
        ],
    }
    conns = tf.connections_frame(reply)
    assert conns["tun_type"].astype(str).tolist() == ["warp_connector"] * 2
    assert tf.connectors_frame(reply)["tun_type"].astype(str).tolist() == ["warp_connector"] * 2
    pairs = tf.pair_ha_report(conns)
    assert pairs[["n_active", "n_passive", "status"]].astype(str).to_numpy().tolist() == [
        ["1", "1", "ok"]
    ]
    # not judged against cloudflared's 4 connections
    assert tf.ha_report(conns, level="connector").empty
    cloudflared = tf.connections_frame([{"id": "c1", "conns": []}])
    assert cloudflared["tun_type"].isna().all()


# cloudflared's 'tunnel diag' tunnelstate.json (diagnostic.TunnelState, tunnelstate.
# IndexedConnectionInfo): the connector's own view, not an API payload.
_TUNNELSTATE = {
    "tunnelID": "6d1c3a1e-0000-4000-8000-000000000001",
    "connectorID": "1bd8ca6c-0000-4000-8000-000000000001",
    "connections": [
        {"isConnected": True, "protocol": 1, "edgeAddress": "198.41.192.7", "index": 1},
        {"isConnected": True, "protocol": 1, "edgeAddress": "198.41.200.13", "index": 2},
        {"isConnected": True, "protocol": 1, "edgeAddress": "198.41.192.57"},
        {"isConnected": True, "protocol": 1, "edgeAddress": "198.41.200.73", "index": 3},
    ],
    "icmp_sources": ["192.168.1.10", "fe80::1"],
}

# cloudflared's 'tunnel list -o yaml' read back with a YAML parser: yaml.v3 writes the Go
# field names lower-cased (cfapi.Tunnel and cfapi.Connection carry json tags only).
_TUNNEL_LIST_YAML = """\
- id: 6d1c3a1e-0000-4000-8000-000000000001
  name: web
  createdat: 2024-01-01T00:00:00Z
  deletedat: 0001-01-01T00:00:00Z
  connections:
    - coloname: ord02
      id: 00000000-0000-4000-8000-000000000001
      ispendingreconnect: false
      originip: 203.0.113.7
      openedat: 2026-05-02T10:00:00Z
"""

# A list of unrelated objects (Cloudflare's speed-test data-centre list).
_LOCATIONS = [
    {
        "iata": "TIA",
        "lat": 41.4147,
        "lon": 19.7206,
        "cca2": "AL",
        "region": "Europe",
        "city": "Tirana",
    },
    {
        "iata": "ALG",
        "lat": 36.691,
        "lon": 3.21541,
        "cca2": "DZ",
        "region": "Africa",
        "city": "Algiers",
    },
]


@pytest.mark.parametrize("frame", [tf.connections_frame, tf.connectors_frame, tf.tunnels_frame])
def test_tunnel_diag_state_is_refused(frame: Any) -> None:
    with pytest.raises(tf.SchemaError, match=r"'tunnel diag' tunnelstate.json \(keys connec"):
        frame(_TUNNELSTATE)


@pytest.mark.parametrize("frame", [tf.connections_frame, tf.connectors_frame, tf.tunnels_frame])
def test_tunnel_list_yaml_keys_are_refused(frame: Any) -> None:
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(_TUNNEL_LIST_YAML)
    with pytest.raises(tf.SchemaError, match=r"^\[0\]: got lower-case keys \(createdat, del"):
        frame(data)
    with pytest.raises(tf.SchemaError, match=r"got lower-case keys \(coloname, id"[:30]):
        frame(data[0]["connections"])


@pytest.mark.parametrize("frame", [tf.connections_frame, tf.connectors_frame])
def test_a_list_of_unrelated_objects_is_refused(frame: Any) -> None:
    with pytest.raises(tf.SchemaError, match=r"none of the keys .* \(its keys: cca2, city, iata"):
        frame(_LOCATIONS)
    with pytest.raises(tf.SchemaError, match="none of the keys"):
        frame(_LOCATIONS[0])


def test_connectors_frame_counts_active_connections_as_ha_report_does() -> None:
    # One definition of "active": an entry with neither id nor colo_name is no connection,
    # a pending reconnect is not active, the rest are; connectors_frame and ha_report agree.
    fleet = {
        "tunnels": [
            {
                "id": "t1",
                "status": "healthy",
                "connectors": [
                    {
                        "id": "c1",
                        "conns": [
                            {},
                            {"id": "a"},
                            {"colo_name": "DFW"},
                            {"id": "b", "colo_name": "LAX", "is_pending_reconnect": True},
                            {"is_pending_reconnect": True},
                        ],
                    }
                ],
            }
        ]
    }
    row = tf.connectors_frame(fleet).iloc[0]
    assert (row["n_connections"], row["n_active"], row["n_pending"]) == (5, 2, 1)
    ha = tf.ha_report(fleet, level="connector")
    assert int(ha["n_active"].iloc[0]) == row["n_active"]
    conns = tf.connections_frame(fleet)
    active, pending = connection_flags(conns)
    assert (int(active.sum()), int(pending.sum())) == (2, 1)
    rebuilt = tf.connectors_frame(conns).iloc[0]
    assert (rebuilt["n_active"], rebuilt["n_pending"]) == (2, 1)


def test_every_frame_function_takes_every_form_of_a_fleet(tmp_path: Path) -> None:
    fleet = tf.load_sample()
    snap = tf.Snapshot(
        fetched_at=tf.datasets.SAMPLE_AS_OF,
        account_ids=["a"],
        tunnels=fleet["tunnels"],
    )
    path = snap.save(tmp_path / "fleet.json.gz")
    expected = tf.connections_frame(fleet)
    for source in (snap, path, str(path), fleet):
        pd.testing.assert_frame_equal(tf.connections_frame(source), expected)
        pd.testing.assert_frame_equal(tf.connectors_frame(source), tf.connectors_frame(fleet))
    tunnels = tf.tunnels_frame(snap)
    assert tunnels["observed_at"].notna().all()  # a snapshot's tunnels were read at fetch time
    pd.testing.assert_frame_equal(tf.tunnels_frame(path), tunnels)
    pd.testing.assert_frame_equal(tf.connections_frame(expected), expected)
    with pytest.warns(tf.PartialFleetWarning, match="Snapshot"):
        from_frame = tf.tunnels_frame(expected)
    assert len(from_frame) < len(tunnels)  # it cannot list the tunnels without connectors
