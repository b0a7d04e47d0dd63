"""Regenerate the bundled sample fleet after a change to the generator.

Run ``python -m tunnelframe.simulator.regenerate_sample`` from a repository checkout: it
rewrites ``data/sample-fleet.json.gz`` (or the path given as the only argument) from
:func:`tunnelframe.simulator.generate_fleet` with the sample's fixed seed and ``as_of``. The
output is byte-for-byte reproducible (no gzip timestamp). It is a maintainer tool: nothing in
the package calls it, and it never touches the network.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from tunnelframe.datasets import (
    SAMPLE_AS_OF,
    SAMPLE_FILE,
    SAMPLE_N_TUNNELS,
    SAMPLE_N_WARP_CONNECTORS,
    SAMPLE_SEED,
)
from tunnelframe.simulator._generator import generate_fleet

__all__: list[str] = []


def _sample_bytes() -> bytes:
    """The gzip bytes of the sample fleet, as the generator makes it today."""
    fleet = generate_fleet(
        SAMPLE_N_TUNNELS,
        seed=SAMPLE_SEED,
        as_of=SAMPLE_AS_OF,
        warp_connectors=SAMPLE_N_WARP_CONNECTORS,
    )
    text = json.dumps(fleet, ensure_ascii=False, separators=(",", ":")) + "\n"
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def _main(argv: list[str] | None = None) -> int:
    """Write the sample to ``argv[0]`` or the repository's ``data/``; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        target = Path(args[0])
    else:
        data_dir = Path(__file__).resolve().parents[2] / "data"
        if not data_dir.is_dir():
            print(
                f"no repository data directory at {data_dir}: pass an output path", file=sys.stderr
            )
            return 2
        target = data_dir / SAMPLE_FILE
    target.write_bytes(_sample_bytes())
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
