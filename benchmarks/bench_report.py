"""Benchmark the HTML report at scale: size and time per tunnel, 200 vs 3,000 tunnels.

It generates seeded fleets with ``tunnelframe.simulator.generate_fleet`` (200 and 3,000 tunnels
by default), writes each one's HTML report as of the generator's date and prints one table:
tunnels, seconds, seconds per tunnel, MB, and the ratio of its time to the smallest fleet's.
Targets (issue #23): the 3,000-tunnel report is at most 1.5 MB and takes at most 1.5 times
the 200-tunnel report's time. A small report is written first so that one-off costs (imports,
the font cache) are not charged to the first fleet. Times are the best of ``--repeat`` runs.

Run: ``.venv/bin/python benchmarks/bench_report.py [--tunnels 200 3000] [--repeat 1]``.
It is a script, not a test: the machine is shared, so run it sparingly. Exit status 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib

import tunnelframe as tf
from tunnelframe.simulator import DEFAULT_AS_OF, generate_fleet

MAX_MB = 1.5
MAX_RATIO = 1.5


def measure(n_tunnels: int, repeat: int, folder: Path) -> tuple[float, float]:
    fleet = generate_fleet(n_tunnels, seed=0)
    best = float("inf")
    path = folder / f"report-{n_tunnels}.html"
    for _ in range(repeat):
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tf.write_report(fleet, path, as_of=DEFAULT_AS_OF)
        best = min(best, time.perf_counter() - started)
    return best, path.stat().st_size / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunnels", type=int, nargs="+", default=[200, 3000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    matplotlib.use("Agg")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        measure(20, 1, Path(tmp))  # warm up
        for n in sorted(args.tunnels):
            seconds, mb = measure(n, args.repeat, Path(tmp))
            rows.append((n, seconds, seconds / n, mb))
    base = rows[0][1]
    ok = True
    print(f"{'tunnels':>8}  {'seconds':>8}  {'s/tunnel':>9}  {'ratio':>6}  {'MB':>6}  target")
    for n, seconds, per, mb in rows:
        ratio = seconds / base
        good = mb <= MAX_MB and ratio <= MAX_RATIO
        ok &= good
        print(
            f"{n:>8,}  {seconds:>8.2f}  {per:>9.5f}  {ratio:>6.2f}  {mb:>6.2f}  "
            f"{'ok' if good else 'MISSED'} (<= {MAX_MB} MB, ratio <= {MAX_RATIO})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
