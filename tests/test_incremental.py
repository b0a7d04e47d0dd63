"""Incremental refresh (``fetch_fleet(previous=...)``) and ``observed_at``, over the loopback
simulator: what is read, what is carried forward, and what it costs, request by request."""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe._refresh import plan_reads
from tunnelframe.simulator import Faults, serve

N_TUNNELS = 40


def _fleet() -> dict[str, Any]:
    return copy.deepcopy(tf.simulator.generate_fleet(N_TUNNELS, seed=21))


def _readable(fleet: dict[str, Any]) -> list[str]:
    return [
        t["id"]
        for t in fleet["tunnels"]
        if t.get("status") != "inactive" and not t.get("deleted_at")
    ]


def _reads(api: Any, since: int) -> list[str]:
    """The tunnel ids whose /connections was requested after the ``since``-th request."""
    return [
        path.split("/")[-2]
        for _, path, _ in api.request_log[since:]
        if path.split("?")[0].endswith("/connections")
    ]


def _fetch(api: Any, client: tf.Client, **kwargs: Any) -> tf.Snapshot:
    return tf.fetch_fleet(client=client, account_id=api.account_id, progress=False, **kwargs)


def _without_observed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="observed_at")


def test_observed_at_defaults_to_fetched_at_for_a_full_read_and_old_files(tmp_path: Any) -> None:
    fleet = _fleet()
    with serve(fleet) as api, tf.Client(api.token, base_url=api.url) as client:
        snap = _fetch(api, client)
    tunnels = snap.tunnels_frame()
    assert tunnels["observed_at"].notna().all()
    assert (tunnels["observed_at"] == pd.Timestamp(snap.fetched_at)).all()
    # A snapshot file written before observed_at existed reads the same way.
    assert all("observed_at" not in t for t in snap.tunnels)
    again = tf.load_snapshot(snap.save(tmp_path / "old.json.gz")).tunnels_frame()
    assert (again["observed_at"] == pd.Timestamp(snap.fetched_at)).all()
    # A raw fleet (no snapshot) does not know: NaT, not a guess.
    assert tf.tunnels_frame(fleet)["observed_at"].isna().all()


def test_carried_forward_rows_give_the_same_frames_as_a_full_read() -> None:
    fleet = _fleet()
    with serve(fleet) as api, tf.Client(api.token, base_url=api.url) as client:
        first = _fetch(api, client)
        before = api.n_requests
        again = _fetch(api, client, previous=first, max_requests=1)  # the list call only
        assert api.n_requests - before == 1
        assert _reads(api, before) == []
        full = _fetch(api, client)
    assert again.n_requests == 1
    pd.testing.assert_frame_equal(again.connections(), full.connections())
    pd.testing.assert_frame_equal(again.connectors(), full.connectors())
    pd.testing.assert_frame_equal(
        _without_observed(again.tunnels_frame()), _without_observed(full.tunnels_frame())
    )
    # Carried forward: observed when the first snapshot read them; the others (never run,
    # nothing to read) are observed by the listing itself.
    tunnels = again.tunnels_frame()
    carried = tunnels["tunnel_id"].astype(str).isin(_readable(fleet))
    assert (tunnels.loc[carried, "observed_at"] == pd.Timestamp(first.fetched_at)).all()
    assert (tunnels.loc[~carried, "observed_at"] == pd.Timestamp(again.fetched_at)).all()
    assert (~carried).any()
    assert again.errors == []


def test_a_changed_tunnel_is_picked_up_by_the_list_alone() -> None:
    fleet = _fleet()
    with serve(fleet) as api, tf.Client(api.token, base_url=api.url) as client:
        first = _fetch(api, client)
        target = next(t for t in fleet["tunnels"] if t["id"] in _readable(fleet))
        target["status"] = "down"
        target["conns_inactive_at"] = "2026-08-20T11:59:00Z"
        target["connectors"] = []
        api.set_fleet(fleet)
        before = api.n_requests
        snap = _fetch(api, client, previous=first, max_requests=2)
        assert _reads(api, before) == [target["id"]]
        assert api.n_requests - before == 2
    tunnels = snap.tunnels_frame().set_index(snap.tunnels_frame()["tunnel_id"].astype(str))
    assert tunnels.loc[target["id"], "tunnel_status"] == "down"
    assert tunnels.loc[target["id"], "n_connectors"] == 0
    assert tunnels.loc[target["id"], "observed_at"] > pd.Timestamp(first.fetched_at)
    assert target["id"] not in set(snap.connections()["tunnel_id"].astype(str))


def test_deleted_and_new_tunnels() -> None:
    fleet = _fleet()
    with serve(fleet) as api, tf.Client(api.token, base_url=api.url) as client:
        first = _fetch(api, client)
        gone = _readable(fleet)[0]
        newcomer = copy.deepcopy(
            next(t for t in fleet["tunnels"] if t["id"] == _readable(fleet)[1])
        )
        newcomer["id"], newcomer["name"] = "0000aaaa-0000-4000-8000-000000000001", "newcomer"
        fleet["tunnels"] = [t for t in fleet["tunnels"] if t["id"] != gone] + [newcomer]
        api.set_fleet(fleet)
        before = api.n_requests
        snap = _fetch(api, client, previous=first, max_requests=2)
        assert _reads(api, before) == [newcomer["id"]]
    ids = {str(t["id"]) for t in snap.tunnels}
    assert gone not in ids and newcomer["id"] in ids
    assert len(snap.tunnels) == len(first.tunnels)
    assert "newcomer" in set(snap.connections()["tunnel_name"].astype(str))


def test_a_failed_read_is_retried_next_cycle_before_the_rotation() -> None:
    fleet = _fleet()
    broken = _readable(fleet)[3]
    with (
        serve(fleet, faults=Faults(broken_tunnels=frozenset({broken}))) as api,
        tf.Client(api.token, base_url=api.url, max_retries=0) as client,
    ):
        first = _fetch(api, client)
        assert [e["tunnel_id"] for e in first.errors] == [broken]
        api.faults = Faults()
        before = api.n_requests
        snap = _fetch(api, client, previous=first, max_requests=2)
        assert _reads(api, before) == [broken]
    assert snap.errors == []
    assert broken in set(snap.connections()["tunnel_id"].astype(str))


def test_the_rotation_reads_the_longest_unread_with_what_is_left() -> None:
    fleet = _fleet()
    readable = _readable(fleet)
    with serve(fleet) as api, tf.Client(api.token, base_url=api.url) as client:
        snap = _fetch(api, client)
        # 5 requests a cycle: 1 list + 4 reads; every readable tunnel once, in listing order
        for cycle in range(math.ceil(len(readable) / 4)):
            before = api.n_requests
            # one worker: reads complete in listing order, so "longest unread" is that order
            snap = _fetch(api, client, previous=snap, max_requests=5, max_workers=1)
            reads = _reads(api, before)
            assert api.n_requests - before == 1 + len(reads) == 5
            # in listing order, starting over with the first ones once all were read
            expected = [readable[(4 * cycle + k) % len(readable)] for k in range(4)]
            assert sorted(reads) == sorted(expected)
        assert len(readable) % 4, "the fleet should make the rotation wrap mid-cycle"


def test_budget_share_caps_the_requests() -> None:
    fleet = _fleet()
    with (
        serve(fleet) as api,
        tf.Client(api.token, base_url=api.url, requests_per_window=20) as client,
    ):
        empty = tf.Snapshot(fetched_at=datetime.now(UTC), account_ids=[api.account_id], tunnels=[])
        before = api.n_requests
        snap = _fetch(api, client, previous=empty, budget_share=0.5)  # 10 requests
        assert api.n_requests - before == 10
    unread = len(_readable(fleet)) - 9
    assert len(snap.errors) == unread
    assert all(e["message"].startswith("not read yet") for e in snap.errors)


def test_the_plan_defers_a_change_it_cannot_afford_and_sees_it_again() -> None:
    listed = [{"id": "a", "status": "down"}, {"id": "b", "status": "healthy"}]
    previous = {"a": {"status": "healthy"}, "b": {"status": "degraded"}}
    plan = plan_reads(listed, [True, True], previous, set(), observed={}, slots=1)
    assert plan.reads == [0] and plan.deferred == [1] and plan.reasons[1] == "changed"


def test_observed_at_drives_connection_ages_of_a_snapshot() -> None:
    fleet = _fleet()
    snap = tf.Snapshot(
        fetched_at=tf.simulator.DEFAULT_AS_OF,
        account_ids=["a"],
        tunnels=copy.deepcopy(fleet["tunnels"]),
    )
    target = _readable(fleet)[0]
    earlier = pd.Timestamp(snap.fetched_at) - pd.Timedelta(hours=3)
    for tunnel in snap.tunnels:
        if tunnel["id"] == target:
            tunnel["observed_at"] = earlier.isoformat()
    ages = tf.connection_ages(snap)
    at_fetch = tf.connection_ages(snap, as_of=snap.fetched_at)
    delta = (at_fetch["age_hours"] - ages["age_hours"]).groupby(ages["tunnel_id"].astype(str)).max()
    assert delta[target] == pytest.approx(3.0)
    assert (delta.drop(target) == 0).all()
