"""Benchmark: fetch a 1000-tunnel fleet with tunnelframe vs. the official SDK loop.

Both run against the bundled simulator on loopback with 50 ms latency per request (each gets a
fresh simulator, so a fresh 1200-per-5-minutes budget):

- ``tunnelframe.fetch_fleet`` with 8 workers;
- the loop a user would write with Cloudflare's official Python SDK (``cloudflare`` on PyPI):
  list the tunnels with auto-pagination, then ``connections.get`` per tunnel, sequentially.

Targets: tunnelframe's requests = list pages + tunnels that can have connectors (no wasted page),
and at least 6x faster than the SDK loop. Run: ``python benchmarks/bench_fetch.py``.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import cloudflare

import tunnelframe
from tunnelframe.simulator import generate_fleet, serve


def run_tunnelframe(fleet: dict[str, Any], *, latency: float, workers: int) -> dict[str, Any]:
    with serve(fleet, latency=latency) as api:
        with tunnelframe.Client(api.token, account_id=api.account_id, base_url=api.url) as client:
            started = time.perf_counter()
            snap = tunnelframe.fetch_fleet(client=client, max_workers=workers, progress=False)
            wall = time.perf_counter() - started
        connection_ids = {
            conn.get("id")
            for tunnel in snap.tunnels
            for connector in tunnel["connectors"]
            for conn in connector.get("conns") or []
        }
        return {
            "requests": client.n_requests,
            "received": api.n_requests,
            "wall": wall,
            "connections": connection_ids,
            "errors": len(snap.errors),
        }


def run_sdk_loop(fleet: dict[str, Any], *, latency: float) -> dict[str, Any]:
    with serve(fleet, latency=latency) as api:
        with cloudflare.Cloudflare(api_token=api.token, base_url=api.url) as cf:
            started = time.perf_counter()
            # What a user writes: auto-paginating list, then one call per tunnel.
            connectors = []
            for tunnel in cf.zero_trust.tunnels.cloudflared.list(account_id=api.account_id):
                connectors.extend(
                    cf.zero_trust.tunnels.cloudflared.connections.get(
                        tunnel.id, account_id=api.account_id
                    )
                )
            wall = time.perf_counter() - started
        connection_ids = {conn.id for connector in connectors for conn in connector.conns or []}
        return {
            "requests": api.n_requests,
            "received": api.n_requests,
            "wall": wall,
            "connections": connection_ids,
            "errors": 0,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunnels", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    fleet = generate_fleet(args.tunnels, seed=args.seed)
    tunnels = fleet["tunnels"]
    listed = [t for t in tunnels if not t.get("deleted_at")]
    readable = [t for t in listed if t.get("status") != "inactive"]
    n_connectors = sum(len(t.get("connectors") or []) for t in tunnels)
    expected = math.ceil(max(1, len(listed)) / 1000) + len(readable)

    tf = run_tunnelframe(fleet, latency=args.latency, workers=args.workers)
    sdk = run_sdk_loop(fleet, latency=args.latency)

    print(
        f"fleet: {len(tunnels)} tunnels ({len(tunnels) - len(listed)} deleted, "
        f"{len(listed) - len(readable)} never run), {n_connectors} connectors, "
        f"{len(tf['connections'])} connections; latency {args.latency * 1000:.0f} ms"
    )
    print()
    print("| method | requests | wall time (s) | speed-up |")
    print("|---|---:|---:|---:|")
    print(
        f"| SDK loop (list + connections.get, sequential) | {sdk['requests']} | "
        f"{sdk['wall']:.2f} | 1.0x |"
    )
    print(
        f"| tunnelframe.fetch_fleet ({args.workers} workers) | {tf['requests']} | "
        f"{tf['wall']:.2f} | {sdk['wall'] / tf['wall']:.1f}x |"
    )
    print()
    speedup = sdk["wall"] / tf["wall"]
    print(
        f"requests target: {expected} = 1 list page + {len(readable)} tunnels that can have "
        f"connectors -> {'met' if tf['requests'] == expected else 'MISSED'} "
        f"(server received {tf['received']})"
    )
    print(f"speed target: >= 6x -> {'met' if speedup >= 6 else 'MISSED'} ({speedup:.1f}x)")
    same = tf["connections"] == sdk["connections"] and tf["errors"] == 0
    print(f"same connections from both: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
