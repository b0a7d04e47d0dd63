"""Benchmark the analysis functions against the cost of flattening the same fleet.

It generates one seeded fleet of about ``--connections`` connections with
``tunnelframe.simulator.generate_fleet`` (about 136k tunnels for 10^6), times
``connections_frame(fleet)`` (the flatten), then times every case of ``CASES`` on the resulting
frame, and prints each one's seconds and ratio to the flatten time. Target: every analysis costs
at most half the flatten time (ratio <= 0.5). Times are the best of ``--repeat`` runs.

Adding a case is one entry in ``CASES``: a name and a function of the connections frame.

Run: ``.venv/bin/python benchmarks/bench_analysis.py [--connections 1000000] [--repeat 3]``.
It is a script, not a test: the machine is shared, so run it sparingly. Exit status 1 when a
case misses its target.
"""

from __future__ import annotations

import argparse
import gc
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

import tunnelframe as tf
from tunnelframe.simulator import DEFAULT_AS_OF, generate_fleet


@dataclass(frozen=True)
class Case:
    """One analysis step: ``run(frame)`` must cost at most ``target`` times the flatten."""

    name: str
    run: Callable[[pd.DataFrame], Any]
    target: float = 0.5


CASES: list[Case] = [
    Case("version_drift", lambda frame: tf.version_drift(frame, as_of=DEFAULT_AS_OF)),
    Case("version_summary", lambda frame: tf.version_summary(frame, as_of=DEFAULT_AS_OF)),
    Case("colo_distribution", lambda frame: tf.colo_distribution(frame)),
    Case("colo_distribution[metro]", lambda frame: tf.colo_distribution(frame, by="metro")),
    Case("colo_distribution[region]", lambda frame: tf.colo_distribution(frame, by="region")),
    Case("ha_report", lambda frame: tf.ha_report(frame, level="connector")),
    Case("ha_report[tunnel]", lambda frame: tf.ha_report(frame, level="tunnel")),
]


def best_of(repeat: int, step: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs of ``step``, in seconds, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return min(times), result


def _rows(tunnel: dict[str, Any]) -> int:
    """Rows of a tunnel in ``connections_frame``: one per connection, one per idle connector."""
    return sum(max(1, len(c.get("conns") or [])) for c in tunnel.get("connectors") or [])


def build_fleet(connections: int, *, seed: int) -> dict[str, Any]:
    """A generated fleet of ``connections`` rows or just over (the fewest tunnels that reach it).

    The number of tunnels to generate is sized from a 1000-tunnel pilot, with a 5 % margin.
    """
    pilot = generate_fleet(1000, seed=seed, as_of=DEFAULT_AS_OF)
    per_tunnel = sum(map(_rows, pilot["tunnels"])) / 1000
    n_tunnels = max(1, math.ceil(1.05 * connections / per_tunnel))
    fleet = generate_fleet(n_tunnels, seed=seed, as_of=DEFAULT_AS_OF)
    rows = 0
    for i, tunnel in enumerate(fleet["tunnels"]):
        rows += _rows(tunnel)
        if rows >= connections:
            return {**fleet, "tunnels": fleet["tunnels"][: i + 1]}
    return fleet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    fleet = build_fleet(args.connections, seed=args.seed)
    built = time.perf_counter() - start
    flatten, frame = best_of(args.repeat, lambda: tf.connections_frame(fleet))
    n_connectors = frame["connector_id"].nunique()
    print(
        f"fleet: {len(fleet['tunnels']):,} tunnels, {n_connectors:,} connectors, "
        f"{len(frame):,} rows (generated in {built:.1f} s); best of {args.repeat}\n"
    )
    print(f"{'step':<26} {'seconds':>8} {'ratio':>7} {'target':>8}  result")
    print(f"{'connections_frame':<26} {flatten:>8.3f} {1:>7.2f} {'':>8}  (reference)")
    failed = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tf.StaleReleasesWarning)  # generated fleets are dated
        for case in CASES:
            seconds, _ = best_of(args.repeat, lambda case=case: case.run(frame))
            ratio = seconds / flatten
            ok = ratio <= case.target
            failed += not ok
            target, verdict = f"<= {case.target}", "pass" if ok else "FAIL"
            print(f"{case.name:<26} {seconds:>8.3f} {ratio:>7.2f} {target:>8}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
