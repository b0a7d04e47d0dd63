"""Benchmark ``tunnelframe.simulator.generate_fleet``: how fast realistic fleets are made.

Other benchmarks build their payloads with the generator, so it must make ~10^6 connections in
a few seconds. For each size it prints the tunnels, connectors and connections made, the
seconds taken (best of ``--repeat``) and µs per connection (to show cost grows linearly).
Target: 125,000 tunnels (~900,000 connections) in under 15 s.

Run: ``.venv/bin/python benchmarks/bench_generator.py [--sizes 1000 10000 125000]``. It is a
script, not a test: the machine is shared, so run it sparingly.
"""

from __future__ import annotations

import argparse
import time

from tunnelframe.simulator import generate_fleet

TARGET_TUNNELS = 125_000
TARGET_SECONDS = 15.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, TARGET_TUNNELS])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{'tunnels':>9} {'connectors':>10} {'connections':>11} {'seconds':>8} {'µs/conn':>8}")
    for size in args.sizes:
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            fleet = generate_fleet(size, seed=1)
            best = min(best, time.perf_counter() - start)
        connectors = [c for tunnel in fleet["tunnels"] for c in tunnel["connectors"]]
        n_conns = sum(len(c["conns"]) for c in connectors)
        per_conn = best / max(n_conns, 1) * 1e6
        print(f"{size:>9,} {len(connectors):>10,} {n_conns:>11,} {best:>8.2f} {per_conn:>8.2f}")
        if size == TARGET_TUNNELS:
            verdict = "met" if best < TARGET_SECONDS else "MISSED"
            print(f"target: {TARGET_TUNNELS:,} tunnels in < {TARGET_SECONDS:.0f} s: {verdict}")
        del fleet, connectors


if __name__ == "__main__":
    main()
