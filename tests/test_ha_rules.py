"""One HA rule table, two forms: ha_report (pandas) and the history queries (SQL) agree.

A generated history, bent at every snapshot into the cases where two forms drift apart
(pending reconnects, connections without a colo, one-connection tunnels, two connectors in one
site with one short, WARP Connector pairs), is judged snapshot by snapshot with
:func:`tunnelframe.ha_report` / :func:`tunnelframe.pair_ha_report` and, from a store, with
:func:`tunnelframe.ha_episodes`, :func:`tunnelframe.ha_timeline` and
:func:`tunnelframe.colo_shifts`: every state, flag hour and colo change must match.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe.colos import PAIR_HA_RULES, TUNNEL_HA_RULES, ha_states, ha_states_sql
from tunnelframe.frames import ACTIVE_SQL, PENDING_SQL, connection_flags

# pair_ha_report's words in the one vocabulary (PAIR_HA_RULES)
_PAIR_AS_HA = {
    "ok": "ok",
    "no_standby": "single_connector",
    "multiple_active": "degraded",
    "down": "down",
}


def _bend(tunnel: dict[str, Any], case: int) -> None:
    """Turn a generated tunnel into one of the cases the two forms must agree on."""
    connectors = tunnel.get("connectors") or []
    if not connectors:
        return
    if case == 0:  # connections without a colo
        for connector in connectors:
            for conn in connector["conns"][:2]:
                conn["colo_name"] = None
    elif case == 1:  # pending reconnects, a whole connector of them
        connectors[0]["conns"] = [
            {**c, "is_pending_reconnect": True} for c in connectors[0]["conns"]
        ]
    elif case == 2:  # one connection on one connector (a quick tunnel)
        tunnel["connectors"] = [{**connectors[0], "conns": connectors[0]["conns"][:1]}]
    elif case in (3, 6):  # two connectors all in one site; in case 3 one holds 3 connections
        first = connectors[0]
        colo = next((c["colo_name"] for c in first["conns"] if c.get("colo_name")), "ord12")
        conns = [{**c, "colo_name": colo, "is_pending_reconnect": False} for c in first["conns"]]
        second = {
            **first,
            "id": first["id"][:-4] + "beef",
            "conns": [{**c, "id": c["id"] + "-b"} for c in conns[: 3 if case == 3 else 4]],
        }
        tunnel["connectors"] = [{**first, "conns": conns}, second]
    elif case == 4:  # a WARP Connector pair, its members in turn active, passive, offline
        tunnel["tun_type"] = "warp_connector"
        for index, connector in enumerate(connectors):
            connector["ha_status"] = ("active", "passive", "offline")[(index + len(connectors)) % 3]
    elif case == 5:  # a connector with no connection at all
        connectors[-1]["conns"] = []


@pytest.fixture(scope="module")
def bent(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tf.Snapshot], Path]:
    store = tmp_path_factory.mktemp("store")
    snapshots = []
    for k, generated in enumerate(tf.simulator.generate_history(42, days=3, every="12h", seed=7)):
        tunnels = copy.deepcopy(list(generated.tunnels))
        for i, tunnel in enumerate(tunnels):
            _bend(tunnel, (i + k) % 8)
        snapshot = tf.Snapshot(generated.fetched_at, generated.account_ids, tunnels)
        tf.append_snapshot(snapshot, store)
        snapshots.append(snapshot)
    return snapshots, store


def _expected_states(snapshot: tf.Snapshot) -> pd.DataFrame:
    """Each tunnel's state at ``snapshot`` as ha_report and pair_ha_report judge it."""
    conns = snapshot.connections()
    cfd = tf.ha_report(snapshot, level="tunnel")  # tunnels without a connector too
    pairs = tf.pair_ha_report(conns)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "tunnel_id": cfd["tunnel_id"].astype(str),
                    "state": cfd["status"].astype(str),
                    "single_connector": cfd["single_connector"].astype(bool),
                    "single_colo": cfd["single_colo"].astype(bool),
                    "pair": False,
                }
            ),
            pd.DataFrame(
                {
                    "tunnel_id": pairs["tunnel_id"].astype(str),
                    "state": pairs["status"].astype(str).map(_PAIR_AS_HA),
                    "single_connector": pairs["status"].astype(str) == "no_standby",
                    "single_colo": False,
                    "pair": True,
                }
            ),
        ],
        ignore_index=True,
    )


def test_the_bent_history_holds_every_case(bent: tuple[list[tf.Snapshot], Path]) -> None:
    snapshots, _ = bent
    states = pd.concat([_expected_states(s) for s in snapshots])
    assert set(states["state"]) - {"inactive"} == set(tf.HA_STATES)
    conns = pd.concat([s.connections() for s in snapshots])
    active, pending = connection_flags(conns)
    assert pending.any() and (active & conns["colo_name"].isna().to_numpy()).any()
    assert states["pair"].any()


def test_ha_episodes_agree_with_ha_report_at_every_snapshot(
    bent: tuple[list[tf.Snapshot], Path],
) -> None:
    snapshots, store = bent
    episodes = tf.ha_episodes(store)
    assert list(episodes["state"].cat.categories) == list(tf.HA_STATES)
    mismatches = []
    last = pd.Timestamp(snapshots[-1].fetched_at)
    for snapshot in snapshots:
        at = pd.Timestamp(snapshot.fetched_at)
        # the episode holding at this snapshot: the latest to start by then, unless it ended
        # (the tunnel is gone) before the last snapshot
        held = episodes[(episodes["start_at"] <= at) & (at <= episodes["end_at"])]
        held = held.sort_values("start_at").groupby("tunnel_id", observed=True).tail(1)
        held = held[(at < held["end_at"]) | (at == last)]
        history = held.set_index(held["tunnel_id"].astype(str))["state"].astype(str)
        assert history.index.is_unique
        expected = _expected_states(snapshot).set_index("tunnel_id")["state"]
        # the store holds every tunnel that has connectors or ran (never-run ones are left out)
        assert set(history.index) <= set(expected.index)
        for tunnel_id, state in history.items():
            if expected[tunnel_id] != state:
                mismatches.append((str(at), tunnel_id, expected[tunnel_id], state))
    assert mismatches == []


def test_ha_timeline_hours_are_ha_reports_flags(bent: tuple[list[tf.Snapshot], Path]) -> None:
    snapshots, store = bent
    rows = []
    for snapshot, after in itertools.pairwise(snapshots):
        hours = (after.fetched_at - snapshot.fetched_at).total_seconds() / 3600
        rows.append(_expected_states(snapshot).assign(hours=hours))
    judged = pd.concat(rows)
    observed = set(tf.ha_timeline(store)["tunnel_id"].astype(str))
    judged = judged[judged["tunnel_id"].isin(observed)]
    h = judged["hours"]
    expected = (
        pd.DataFrame(
            {
                "tunnel_id": judged["tunnel_id"],
                "ha_hours": h.where(judged["state"] == "ok", 0.0),
                "down_hours": h.where(judged["state"] == "down", 0.0),
                "single_connector_hours": h.where(judged["single_connector"], 0.0),
                "single_colo_hours": h.where(judged["single_colo"], 0.0),
            }
        )
        .groupby("tunnel_id")
        .sum()
        .sort_index()
    )
    timeline = tf.ha_timeline(store)
    timeline = timeline.assign(tunnel_id=timeline["tunnel_id"].astype(str)).set_index("tunnel_id")
    got = timeline.loc[expected.index, expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_names=False)


def _active_colos(snapshot: tf.Snapshot, observed: set[str]) -> dict[str, str]:
    """Each observed tunnel's active colos at ``snapshot``, from its connections frame."""
    conns = snapshot.connections()
    active, _ = connection_flags(conns)
    located = conns[active & conns["colo_name"].notna().to_numpy()]
    colos = located.groupby(located["tunnel_id"].astype(str))["colo_name"].agg(
        lambda s: ",".join(sorted(set(map(str, s))))
    )
    return dict.fromkeys(observed, "") | colos.to_dict()


def _text(value: Any) -> str:
    return "" if pd.isna(value) else str(value)


def test_colo_shifts_agree_with_each_snapshots_active_colos(
    bent: tuple[list[tf.Snapshot], Path],
) -> None:
    snapshots, store = bent
    # the tunnels each snapshot put in the store (with connectors or not; never-run ones not)
    rows = tf.load_history(store)
    observed = rows.groupby("fetched_at")["tunnel_id"].agg(lambda t: set(t.astype(str)))
    expected = set()
    for before, after in itertools.pairwise(snapshots):
        old = _active_colos(before, observed[pd.Timestamp(before.fetched_at)])
        new = _active_colos(after, observed[pd.Timestamp(after.fetched_at)])
        for tunnel_id in old.keys() & new.keys():
            if old[tunnel_id] != new[tunnel_id]:
                at = pd.Timestamp(after.fetched_at)
                expected.add((at, tunnel_id, old[tunnel_id], new[tunnel_id]))
    shifts = tf.colo_shifts(store)
    got = {
        (r.fetched_at, str(r.tunnel_id), _text(r.colos_before), _text(r.colos_after))
        for r in shifts.itertuples()
    }
    assert expected and got == expected


def test_sql_active_and_pending_are_connection_flags() -> None:
    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame(
        {
            "connection_id": pd.array(
                np.where(rng.random(n) < 0.3, None, "x"), dtype=pd.ArrowDtype(pa_string())
            ),
            "colo_name": pd.array(
                np.where(rng.random(n) < 0.3, None, "ord12"), dtype=pd.ArrowDtype(pa_string())
            ),
            "is_pending_reconnect": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
        }
    )
    active, pending = connection_flags(frame)
    sql = duckdb.sql(f"SELECT {ACTIVE_SQL} AS a, {PENDING_SQL} AS p FROM frame").df()
    assert sql["a"].tolist() == active.tolist()
    assert sql["p"].tolist() == pending.tolist()
    assert active.any() and pending.any() and (~active & ~pending).any()


def pa_string() -> Any:
    import pyarrow as pa

    return pa.string()


@pytest.mark.parametrize(
    ("counts", "state"),
    [
        # the boundaries, each rule's first case and the one just past it
        ({"n_active": 0, "n_active_connectors": 0, "n_short": 1, "n_colos": 0}, "down"),
        ({"n_active": 1, "n_active_connectors": 1, "n_short": 1, "n_colos": 1}, "single_connector"),
        ({"n_active": 8, "n_active_connectors": 2, "n_short": 1, "n_colos": 1}, "degraded"),
        ({"n_active": 7, "n_active_connectors": 2, "n_short": 0, "n_colos": 1}, "single_colo"),
        ({"n_active": 8, "n_active_connectors": 2, "n_short": 0, "n_colos": 2}, "ok"),
        # colo-less active connections: no site, so not single_colo
        ({"n_active": 8, "n_active_connectors": 2, "n_short": 0, "n_colos": 0}, "ok"),
        # one active connection reaches one site too (i22: single-site whatever the count)
        ({"n_active": 1, "n_active_connectors": 2, "n_short": 0, "n_colos": 1}, "single_colo"),
        ({"n_active": 2, "n_active_connectors": 2, "n_short": 0, "n_colos": 1}, "single_colo"),
    ],
)
def test_the_rule_table_in_pandas_and_sql(counts: dict[str, int], state: str) -> None:
    frame = pd.DataFrame({k: [v] for k, v in counts.items()})
    assert ha_states(frame, TUNNEL_HA_RULES).tolist() == [state]
    assert duckdb.sql(f"SELECT {ha_states_sql(TUNNEL_HA_RULES)} AS s FROM frame").df()[
        "s"
    ].tolist() == [state]


@pytest.mark.parametrize(
    ("active", "passive", "state"),
    [(0, 2, "down"), (2, 0, "degraded"), (1, 0, "single_connector"), (1, 1, "ok")],
)
def test_the_pair_rules(active: int, passive: int, state: str) -> None:
    frame = pd.DataFrame({"n_members_active": [active], "n_members_passive": [passive]})
    assert ha_states(frame, PAIR_HA_RULES).tolist() == [state]


def test_the_sample_has_one_number_of_down_tunnels() -> None:
    # Issue 20 found four: 21 (report, check), 38 (ha_report of the fetched Snapshot: never
    # connected tunnels as down), 43 (ha_report of the fleet: deleted ones too) and 3
    # (ha_report of a connections frame: tunnels without connectors missing).
    fleet = tf.load_sample()
    as_of = tf.datasets.SAMPLE_AS_OF
    with (
        tf.simulator.serve(fleet) as api,
        tf.Client(api.token, account_id=api.account_id, base_url=api.url) as client,
    ):
        snap = tf.fetch_fleet(client=client, account_id=api.account_ids, progress=False)
    found = tf.findings(snap, as_of=as_of)
    in_findings = set(found.loc[found["rule"] == "down", "tunnel_id"].astype(str))
    checked = tf.check_fleet(snap, as_of=as_of, rules=["down"]).violations
    of_snapshot = tf.ha_report(snap, level="tunnel")
    of_fleet = tf.ha_report(fleet, level="tunnel")

    def down(report: pd.DataFrame) -> set[str]:
        return set(report.loc[report["status"] == "down", "tunnel_id"].astype(str))

    assert len(in_findings) == 21
    assert set(checked["tunnel_id"].astype(str)) == in_findings
    assert down(of_snapshot) == in_findings
    assert down(of_fleet) == in_findings
    # never connected: its own status, not down; deleted: no row at all
    tunnels = tf.tunnels_frame(fleet)
    never = tunnels["tunnel_status"].astype(str).eq("inactive") & tunnels["deleted_at"].isna()
    inactive = set(of_fleet.loc[of_fleet["status"] == "inactive", "tunnel_id"].astype(str))
    assert inactive and inactive <= set(tunnels.loc[never, "tunnel_id"].astype(str))
    deleted = set(tunnels.loc[tunnels["deleted_at"].notna(), "tunnel_id"].astype(str))
    assert deleted and not deleted & set(of_fleet["tunnel_id"].astype(str))
    # a connections frame cannot answer for every tunnel, and says so
    with pytest.warns(tf.PartialFleetWarning, match="Pass the Snapshot"):
        tf.ha_report(snap.connections(), level="tunnel")


def test_the_sample_has_one_number_of_tunnels_and_of_single_colo_tunnels() -> None:
    # The fleet as the API lists it (deleted tunnels left out) and the fleet file give one
    # count; the single-colo rule is the HA rule table's flag, not a second definition.
    fleet = tf.load_sample()
    as_of = tf.datasets.SAMPLE_AS_OF
    with (
        tf.simulator.serve(fleet) as api,
        tf.Client(api.token, account_id=api.account_id, base_url=api.url) as client,
    ):
        snap = tf.fetch_fleet(
            client=client,
            account_id=api.account_ids,
            tun_types=("cfd_tunnel", "warp_connector"),
            progress=False,
        )
    of_fleet = tf.check_fleet(fleet, as_of=as_of, rules=["single-colo"])
    of_snapshot = tf.check_fleet(snap, as_of=as_of, rules=["single-colo"])
    assert of_fleet.n_tunnels == of_snapshot.n_tunnels == len(snap.tunnels) == 207
    flagged = tf.ha_report(snap, level="tunnel")
    flagged = set(flagged.loc[flagged["single_colo"], "tunnel_id"].astype(str))
    assert len(flagged) == 7
    for result in (of_fleet, of_snapshot):
        assert set(result.violations["tunnel_id"].astype(str)) == flagged
