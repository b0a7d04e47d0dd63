"""tunnelframe.snapshot: damaged and hand-edited snapshot files give one clear error (issue #12)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import tunnelframe
from tunnelframe import SchemaError


def _saved(tmp_path: Path) -> Path:
    snap = tunnelframe.Snapshot(
        fetched_at=datetime(2026, 8, 20, tzinfo=UTC),
        account_ids=["acc1"],
        tunnels=[{"id": "t1", "connectors": []}],
    )
    return snap.save(tmp_path / "fleet.json.gz")


def test_a_truncated_or_corrupt_gz_snapshot_names_the_file(tmp_path: Path) -> None:
    good = _saved(tmp_path).read_bytes()
    truncated = tmp_path / "truncated.json.gz"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(SchemaError, match=r"truncated\.json\.gz: .*gzip") as info:
        tunnelframe.load_snapshot(truncated)
    assert info.value.path == str(truncated)
    corrupt = tmp_path / "corrupt.json.gz"
    corrupt.write_bytes(good[:12] + bytes(255 - b for b in good[12:]))
    with pytest.raises(SchemaError, match=r"corrupt\.json\.gz: .*gzip"):
        tunnelframe.load_snapshot(corrupt)


def test_deeply_nested_json_is_a_schema_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(SchemaError, match=r"deep\.json: .*nested too deeply"):
        tunnelframe.load_snapshot(deep)


@pytest.mark.parametrize(
    ("edit", "where", "problem"),
    [
        (lambda d: d.update(account_ids=[None]), "account_ids[0]", "expected an account id"),
        (lambda d: d.update(account_ids=[7]), "account_ids[0]", "expected an account id"),
        (lambda d: d.update(tunnels=[{"id": "t1"}, 5]), "tunnels[1]", "expected an object"),
        (lambda d: d["tunnels"][0].update(connectors={}), "tunnels[0].connectors", "a list"),
        (lambda d: d.update(errors=["oops"]), "errors[0]", "expected an object"),
        (lambda d: d.update(n_requests="many"), "n_requests", "a whole number"),
        (lambda d: d.update(fetched_at=None), "fetched_at", "not an ISO 8601"),
    ],
)
def test_hand_edits_name_the_file_and_the_path(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], where: str, problem: str
) -> None:
    document = json.loads(gzip.decompress(_saved(tmp_path).read_bytes()))
    edit(document)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SchemaError, match=re.escape(problem)) as info:
        tunnelframe.load_snapshot(path)
    assert info.value.path == f"{path}:{where}"
