"""The living simulator: list fields move as the API's do, every change is recorded with its
time, one token per account with its rate window on the simulated clock."""

from __future__ import annotations

from datetime import timedelta

import requests

import tunnelframe as tf
from tunnelframe.simulator import LivingFleet, SimClock


def _fields(tunnel: dict[str, object]) -> tuple[object, object, object]:
    return tunnel.get("status"), tunnel.get("conns_active_at"), tunnel.get("conns_inactive_at")


def test_list_fields_move_as_the_apis_do() -> None:
    fleet = LivingFleet(1, 300, seed=4, churn=30)
    before = {t["id"]: _fields(t) for t in fleet.fleet()["tunnels"]}
    changes = fleet.advance(12 * 3600)
    assert changes == fleet.changes and changes
    assert [c.at for c in changes] == sorted(c.at for c in changes)
    assert all(0 < c.at <= 12 * 3600 for c in changes)
    kinds = {c.kind for c in changes}
    assert {"restart", "upgrade", "degrade", "down", "up", "created", "deleted"} <= kinds
    now = {t["id"]: t for t in fleet.fleet()["tunnels"]}
    for tunnel in now.values():
        active = [
            sum(not c.get("is_pending_reconnect") for c in k.get("conns") or [])
            for k in tunnel.get("connectors") or []
        ]
        if tunnel["status"] == "inactive":
            continue
        if not any(active):  # down: when it lost its last connection, no active time
            assert tunnel["status"] == "down"
        else:
            assert tunnel["conns_active_at"]
            expected = "degraded" if any(0 < n < 4 for n in active) else "healthy"
            assert tunnel["status"] == expected
    downs = [c for c in changes if c.kind == "down"]
    assert downs and all(c.list_visible for c in downs)
    for change in downs:  # conns_inactive_at is the moment it went down
        tunnel = now.get(change.tunnel_id)
        if tunnel is not None and tunnel["status"] == "down":
            stamp = fleet.clock.start + timedelta(seconds=change.at)
            assert tunnel["conns_inactive_at"] == stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            assert tunnel["conns_active_at"] is None
    ups = [c for c in changes if c.kind == "up"]
    assert ups and all(c.list_visible for c in ups)
    last_up = {c.tunnel_id: c for c in ups}
    last_down = {c.tunnel_id: c for c in downs}
    for key, change in last_up.items():  # back up: active since then, no inactive time
        tunnel = now.get(key)
        if tunnel is None or (key in last_down and last_down[key].at > change.at):
            continue
        stamp = fleet.clock.start + timedelta(seconds=change.at)
        assert tunnel["conns_active_at"] == stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert tunnel["conns_inactive_at"] is None
        assert _fields(tunnel) != before.get(key)
    # A restart of one connector among healthy others moves no list field.
    quiet = [c for c in changes if c.kind == "restart" and not c.list_visible]
    assert quiet
    assert not any(c.list_visible for c in changes if c.kind == "single-colo")


def test_the_same_seed_makes_the_same_changes() -> None:
    one, two = LivingFleet(1, 100, seed=9, churn=20), LivingFleet(1, 100, seed=9, churn=20)
    assert one.advance(6 * 3600) == two.advance(6 * 3600)
    assert one.fleet() == two.fleet()


def test_served_with_one_token_per_account_on_the_simulated_clock() -> None:
    clock = SimClock(speed=0)
    fleet = LivingFleet(2, 20, seed=2, churn=50, clock=clock)
    with fleet.serve(budget=(5, 300.0), refresh_s=0.05) as api:
        tokens = api.tokens  # type: ignore[attr-defined]
        first, second = fleet.accounts

        def status(token: str, account: str) -> int:
            reply = requests.get(
                f"{api.url}/accounts/{account}/cfd_tunnel",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            return reply.status_code

        with tf.Client(tokens[first], base_url=api.url, max_retries=0) as client:
            assert len(client.list_tunnels(account_id=first)) > 0
        assert [status(tokens[first], first) for _ in range(5)] == [200] * 4 + [429]
        assert status(tokens[second], first) == 403  # not this token's account
        assert status(tokens[second], second) == 200  # its own budget, untouched
        clock.advance(300)  # the window ends on the simulated clock, not the real one
        assert status(tokens[first], first) == 200
        # and the fleet moves on the same clock while it is served
        served = api.n_requests
        clock.advance(24 * 3600)
        moved = fleet.advance()
        assert moved
        api.set_fleet(fleet.fleet())
        with tf.Client(tokens[first], base_url=api.url, max_retries=0) as client:
            ids = {t["id"] for t in client.list_tunnels(account_id=first)}
        assert ids == {t["id"] for t in fleet.fleet()["tunnels"] if t["account_tag"] == first}
        assert api.n_requests > served
