"""The dtype conventions every frame of the package follows (#14): one boolean dtype, flags
that cannot be missing never are, ids with one dtype everywhere, versions ordered by release.

Cross-cutting on purpose: a new analysis frame is checked here without a test of its own.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe.snapshot import Snapshot

# Conventions of shape and dtype hold for a connections frame too, which judges only the
# tunnels it holds (and warns that it does).
pytestmark = pytest.mark.filterwarnings("ignore::tunnelframe.PartialFleetWarning")

AS_OF = "2026-08-20T12:00:00Z"

#: Flags that are always known; the others may be NA (documented on their functions).
NEVER_MISSING = {
    "client_version_mismatch",
    "mixed_versions_in_tunnel",
    "replaced",
    "single_connector",
    "degraded",
    "single_colo",
    "single_metro",
}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    fleet = tf.load_sample()
    conns = tf.connections_frame(fleet)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bundled calendar may be older than the clock
        summary = tf.version_summary(conns, as_of=AS_OF)
        return {
            "connections": conns,
            "connectors": tf.connectors_frame(fleet),
            "tunnels": tf.tunnels_frame(fleet),
            "version_drift": tf.version_drift(conns, as_of=AS_OF),
            "by_version": summary.by_version,
            "by_tunnel": summary.by_tunnel,
            "ha_connector": tf.ha_report(conns, level="connector"),
            "ha_tunnel": tf.ha_report(conns, level="tunnel"),
            "connection_ages": tf.connection_ages(conns, as_of=AS_OF),
            "findings": tf.findings(conns, as_of=AS_OF),
        }


def test_every_boolean_column_is_bool_pyarrow(frames: dict[str, pd.DataFrame]) -> None:
    seen = set()
    values: dict[str, set[object]] = {column: set() for column in NEVER_MISSING}
    for name, frame in frames.items():
        for column, dtype in frame.dtypes.items():
            if pd.api.types.is_bool_dtype(dtype):
                seen.add(column)
                assert str(dtype) == "bool[pyarrow]", (name, column)
                if column in NEVER_MISSING:
                    assert frame[column].notna().all(), (name, column)
                    values[str(column)].update(frame[column].tolist())
    assert seen >= NEVER_MISSING
    # Each never-missing flag is really computed: the sample has rows of both kinds (a flag
    # filled with one constant fails here). No connector of the sample runs a version its
    # connections disagree with, so that flag must be False throughout.
    assert values.pop("client_version_mismatch") == {False}
    assert {c: v for c, v in values.items() if v != {True, False}} == {}


def test_an_id_has_one_dtype_in_every_frame(frames: dict[str, pd.DataFrame]) -> None:
    for column in ("account_id", "tunnel_id", "tunnel_name", "connector_id"):
        dtypes = {
            name: str(frame[column].dtype)
            for name, frame in frames.items()
            if column in frame.columns
        }
        assert set(dtypes.values()) == {"category"}, (column, dtypes)
    merged = frames["findings"].merge(frames["connectors"], on="tunnel_id", how="left")
    assert merged["tunnel_id"].dtype != object


def test_every_version_column_is_ordered_by_release(frames: dict[str, pd.DataFrame]) -> None:
    for name, frame in frames.items():
        for column in frame.columns:
            if column.endswith("version") and column != "config_version":
                assert frame[column].dtype.ordered, (name, column)
                keys = tf.parse_version(pd.Series(frame[column].cat.categories.astype(str)))
                # WARP client versions (YEAR.MONTH.BUILD.N) come last, so min() is never one
                warp = keys.index[frame[column].cat.categories.str.count(r"\.") == 3]
                assert list(warp) == list(keys.index[len(keys) - len(warp) :]), (name, column)
                assert keys.drop(warp).is_monotonic_increasing, (name, column)


ANALYSES = {
    "version_drift": lambda s: tf.version_drift(s, as_of=AS_OF),
    "version_summary": lambda s: tf.version_summary(s, as_of=AS_OF).by_version,
    "config_drift": tf.config_drift,
    "colo_distribution": tf.colo_distribution,
    "format_edges": tf.format_edges,
    "ha_report": lambda s: tf.ha_report(s, level="connector"),
    "ha_report_tunnel": lambda s: tf.ha_report(s, level="tunnel"),  # a frame: warns
    "connection_ages": lambda s: tf.connection_ages(s, as_of=AS_OF),
}


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_every_analysis_takes_a_snapshot_a_path_or_a_frame(name: str, tmp_path: Path) -> None:
    fleet = tf.load_sample()
    snap = Snapshot(fetched_at=datetime(2026, 8, 20, 12, tzinfo=UTC), account_ids=["a"],
                    tunnels=fleet["tunnels"])  # fmt: skip
    path = snap.save(tmp_path / "fleet.json.gz")
    analysis = ANALYSES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bundled calendar may be older than the clock
        expected = analysis(snap)
        for source in (path, str(path), fleet):
            pd.testing.assert_frame_equal(analysis(source), expected)
        from_frame = analysis(snap.connections())
    if name == "ha_report_tunnel":  # a frame has no connector-less tunnels; a snapshot has
        tunnels = snap.tunnels_frame()
        # WARP pairs are pair_ha_report's; deleted tunnels are no part of the fleet
        cfd = tunnels[(tunnels["tun_type"] != "warp_connector") & tunnels["deleted_at"].isna()]
        assert len(expected) == len(cfd) > len(from_frame)
        expected = expected.iloc[: len(from_frame)]
    pd.testing.assert_frame_equal(
        from_frame, expected, check_categorical=name != "ha_report_tunnel"
    )


def test_ha_report_of_a_snapshot_counts_every_tunnel_the_api_lists() -> None:
    fleet = tf.load_sample()
    snap = Snapshot(fetched_at=datetime(2026, 8, 20, 12, tzinfo=UTC), account_ids=["a"],
                    tunnels=fleet["tunnels"])  # fmt: skip
    report = tf.ha_report(snap, level="tunnel")
    api = snap.tunnels_frame()
    # WARP pairs are pair_ha_report's; deleted tunnels are no part of the fleet
    api = api[(api["tun_type"] != "warp_connector") & api["deleted_at"].isna()]
    assert sorted(report["tunnel_id"].astype(str)) == sorted(api["tunnel_id"].astype(str))
    idle = report[report["n_connectors"] == 0]
    assert len(idle) == int((api["n_connectors"] == 0).sum()) > 0
    # a tunnel that never connected is inactive, apart from down; every other idle one is down
    never = set(api.loc[api["tunnel_status"] == "inactive", "tunnel_id"].astype(str))
    is_inactive = idle["tunnel_id"].astype(str).isin(never)
    assert is_inactive.any() and (~is_inactive).any()
    assert (idle.loc[is_inactive, "status"] == "inactive").all()
    assert (idle.loc[~is_inactive, "status"] == "down").all()
    assert idle["reason"].str.startswith("no connector (the API says").all()
    assert not idle["status_mismatch"].any()
    # status is the most urgent problem; each problem has its own flag, set whatever the status
    assert int(report["single_colo"].sum()) > int((report["status"] == "single_colo").sum())
    assert int(report["degraded"].sum()) > int((report["status"] == "degraded").sum())
    for flag in ("single_connector", "degraded", "single_colo", "single_metro", "status_mismatch"):
        assert str(report[flag].dtype) == "bool[pyarrow]" and report[flag].notna().all()


def test_an_analysis_of_something_else_names_what_it_takes() -> None:
    with pytest.raises(TypeError, match=r"version_drift expects a connections frame.*got int"):
        tf.version_drift(5)  # type: ignore[arg-type]
    with pytest.raises(tf.SchemaError, match=r"\[0\]"):  # a list is a payload: checked as one
        tf.version_drift([1, 2, 3])  # type: ignore[list-item]


@pytest.mark.parametrize("as_of", [1756000000, 1.7e9])
def test_a_number_as_of_is_refused_not_read_as_1970(as_of: object) -> None:
    conns = tf.connections_frame(tf.load_sample())
    for analysis in (tf.version_drift, tf.connection_ages):
        with pytest.raises(TypeError, match=r"as_of=.* is a number, not a time.*unit='s'"):
            analysis(conns, as_of=as_of)


def test_an_as_of_before_the_data_warns_with_the_real_cause() -> None:
    conns = tf.connections_frame(tf.load_sample())
    with pytest.warns(tf.AsOfWarning, match=r"connection_ages: as_of=2025-01-01 00:00 UTC is "
                      r"before the data.*2026-08-20"):  # fmt: skip
        ages = tf.connection_ages(conns, as_of="2025-01-01")
    assert (ages["age_hours"] < 0).all()
    # Not the stale-calendar warning: the calendar is not what is wrong.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tf.version_drift(conns, as_of="2025-01-01")
    assert [w.category for w in caught] == [tf.AsOfWarning]
    assert "version_drift: as_of=2025-01-01" in str(caught[0].message)


def test_an_as_of_at_the_fetch_time_does_not_warn() -> None:
    conns = tf.connections_frame(tf.load_sample())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.connection_ages(conns, as_of=AS_OF)


@pytest.mark.parametrize("module", [tf, tf.datasets])
def test_tab_completion_shows_only_public_names(module: object) -> None:
    names = [n for n in dir(module) if not n.startswith("_")]
    leaks = {"annotations", "Any", "UTC", "datetime", "gzip", "json", "functools"}
    assert not leaks & set(names)
    public = {n for n in module.__all__ if not n.startswith("_")}  # type: ignore[attr-defined]
    assert public <= set(names)


@pytest.mark.parametrize("name", ["connections", "connectors", "tunnels"])
def test_load_sample_hands_back_a_frame(name: str) -> None:
    builder = getattr(tf, f"{name}_frame")
    pd.testing.assert_frame_equal(tf.load_sample(frame=name), builder(tf.load_sample()))


def test_load_sample_names_the_frames_it_has() -> None:
    with pytest.raises(ValueError, match="frame='conns' is not one of 'connections'"):
        tf.load_sample(frame="conns")  # type: ignore[call-overload]


def test_drift_and_ha_carry_the_hosts_so_an_upgrade_list_needs_no_join() -> None:
    fleet = {"tunnels": [{"id": "t1", "name": "web", "connectors": [
        {"id": "c1", "version": "2024.1.0", "conns": [
            {"id": "a", "colo_name": "DFW", "origin_ip": "192.0.2.9"},
            {"id": "b", "colo_name": "LAX", "origin_ip": "192.0.2.10"},
            {"id": "c", "colo_name": "LAX", "origin_ip": "192.0.2.9"}]},
        {"id": "c2", "version": "2026.8.2", "conns": [{"id": "d", "colo_name": "DFW"}]},
    ]}]}  # fmt: skip
    drift = tf.version_drift(fleet, as_of=AS_OF)
    assert drift["origin_ips"].tolist() == ["192.0.2.10, 192.0.2.9", ""]
    assert str(drift["origin_ips"].dtype) == "string[pyarrow]"
    connectors = tf.ha_report(fleet, level="connector")
    assert connectors["origin_ips"].tolist() == ["192.0.2.10, 192.0.2.9", ""]
    tunnels = tf.ha_report(fleet, level="tunnel")
    assert tunnels["origin_ips"].tolist() == ["192.0.2.10, 192.0.2.9"]
