"""Benchmark ``tunnelframe.connections_frame`` against the obvious pandas baseline.

For each size n (connections) it builds one seeded, realistic ``/connections`` result (a list of
connector objects with ~4 connections each: UUIDs, versions, colos, IPs, ISO timestamps with
microseconds and "Z") and times, on that same payload:

* tunnelframe: ``connections_frame(result)``;
* baseline: ``pd.json_normalize(result, record_path="conns", meta=[...],
  meta_prefix="connector_")`` followed by ``pd.to_datetime(..., utc=True)`` on the timestamps.

It prints seconds (best of 3 runs, of 2 at 10^6), speed-up, deep memory per row and µs per row
(to show cost grows linearly).
Targets at 10^6: at least 4x faster than the baseline and at most 110 bytes per row.

Run: ``.venv/bin/python benchmarks/bench_frames.py [--sizes 1000 10000 100000 1000000]``. It is
a script, not a test: the machine is shared, so run it sparingly.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pandas as pd

from tunnelframe import connections_frame

COLOS = ["AMS", "ATL", "BOM", "CDG", "DEN", "DFW", "EWR", "FRA", "GRU", "HKG", "IAD", "LAX",
         "LHR", "MAD", "MIA", "NRT", "ORD", "SEA", "SIN", "SJC", "SYD", "YYZ"]  # fmt: skip
ARCHES = ("linux_amd64", "linux_arm64", "linux_arm", "darwin_arm64", "windows_amd64")
FEATURES = (
    ["ha-origin", "serialized_headers", "support_datagram_v3_2", "management_logs"],
    ["ha-origin", "serialized_headers", "allow_remote_config", "support_datagram_v3"],
    ["ha-origin", "serialized_headers"],
)
VERSIONS = [f"{y}.{m}.{p}" for y in (2024, 2025, 2026) for m in range(1, 13) for p in range(3)]
TIMESTAMPS = ("opened_at", "connector_run_at")


def _timestamp(rng: random.Random, base: datetime) -> str:
    moment = base - timedelta(seconds=rng.randrange(90 * 86400), microseconds=rng.randrange(10**6))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_result(n: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """A ``/connections`` result with ``n`` connections (~4 per connector), reproducibly.

    It goes through JSON like a real response, so no two strings share one Python object.
    """
    rng = random.Random(seed)
    base = datetime(2026, 8, 20, tzinfo=UTC)
    result: list[dict[str, Any]] = []
    left = n
    while left > 0:
        connector_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        version = rng.choice(VERSIONS[-12:]) if rng.random() < 0.7 else rng.choice(VERSIONS)
        origin_ip = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
        n_conns = min(left, 4 if rng.random() < 0.9 else rng.randrange(1, 6))
        first, second = rng.sample(COLOS, 2)
        conns = []
        for i in range(n_conns):
            conn_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            conns.append(
                {
                    "colo_name": first if i % 2 == 0 else second,
                    "id": conn_id,
                    "is_pending_reconnect": rng.random() < 0.03,
                    "origin_ip": origin_ip,
                    "opened_at": _timestamp(rng, base),
                    "uuid": conn_id,
                    "client_id": connector_id,
                    "client_version": version,
                }
            )
        result.append(
            {
                "id": connector_id,
                "features": rng.choice(FEATURES),
                "version": version,
                "arch": rng.choice(ARCHES),
                "config_version": rng.randrange(0, 40),
                "run_at": _timestamp(rng, base),
                "conns": conns,
            }
        )
        left -= n_conns
    parsed: list[dict[str, Any]] = json.loads(json.dumps(result))
    return parsed


def baseline(result: list[dict[str, Any]]) -> pd.DataFrame:
    """What one would write without tunnelframe."""
    frame = pd.json_normalize(
        result,
        record_path="conns",
        meta=["id", "arch", "version", "config_version", "run_at", "features"],
        meta_prefix="connector_",
    )
    for column in TIMESTAMPS:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _best_of(fn: Callable[[], pd.DataFrame], repeats: int) -> tuple[float, pd.DataFrame]:
    best, frame = float("inf"), pd.DataFrame()
    for _ in range(repeats):
        del frame
        gc.collect()
        start = time.perf_counter()
        frame = fn()
        best = min(best, time.perf_counter() - start)
    return best, frame


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**3, 10**4, 10**5, 10**6])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    header = (
        f"{'n':>9} {'tf s':>8} {'base s':>8} {'speed-up':>8} {'tf B/row':>9} "
        f"{'base B/row':>10} {'tf µs/row':>9} {'base µs/row':>11}"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        result = build_result(n, seed=args.seed)
        # Best of several runs for both: the first run in a process also pays for fresh memory
        # (page faults in arrow's and Python's allocators), ~0.5 s at 10^6 for tunnelframe.
        repeats = 3 if n <= 10**5 else 2
        tf_s, tf_frame = _best_of(partial(connections_frame, result), repeats)
        base_s, base_frame = _best_of(partial(baseline, result), repeats)
        assert len(tf_frame) == len(base_frame) == n, (len(tf_frame), len(base_frame), n)
        tf_b = tf_frame.memory_usage(deep=True).sum() / n
        base_b = base_frame.memory_usage(deep=True).sum() / n
        print(
            f"{n:>9} {tf_s:>8.3f} {base_s:>8.3f} {base_s / tf_s:>7.1f}x {tf_b:>9.1f} "
            f"{base_b:>10.1f} {tf_s / n * 1e6:>9.2f} {base_s / n * 1e6:>11.2f}",
            flush=True,
        )
        del result, tf_frame, base_frame


if __name__ == "__main__":
    main()
