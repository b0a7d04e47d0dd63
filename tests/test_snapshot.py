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
from tunnelframe import SchemaError, load_snapshot


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


def test_a_gz_snapshot_that_inflates_past_the_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tunnelframe.snapshot, "MAX_INFLATED_BYTES", 1_000_000)
    document = {
        "format": "tunnelframe.snapshot",
        "version": 1,
        "fetched_at": "2026-08-20T00:00:00+00:00",
        "account_ids": ["a"],
        "errors": [],
        "tunnels": [],
    }
    padded = json.dumps(document).replace('"tunnels"', " " * 5_000_000 + '"tunnels"')
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(padded.encode()))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(SchemaError, match=r"bomb\.json\.gz: inflates to more than 1,000,000"):
        load_snapshot(bomb)
    small = tmp_path / "small.json.gz"  # under the cap, several gzip members: read whole
    data = json.dumps(document).encode()
    small.write_bytes(gzip.compress(data[:40]) + gzip.compress(data[40:]))
    assert load_snapshot(small).account_ids == ["a"]
    assert tunnelframe.snapshot.MAX_INFLATED_BYTES == 1_000_000


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("codes", 5, r"errors\[0\]\.codes"),
        ("codes", [1.5], r"errors\[0\]\.codes\[0\]"),
        ("status", 4.5, r"errors\[0\]\.status"),
        ("status", True, r"errors\[0\]\.status"),
        ("message", ["x"], r"errors\[0\]\.message"),
        ("tunnel_id", 7, r"errors\[0\]\.tunnel_id"),
    ],
)
def test_error_records_are_validated_when_loading(
    tmp_path: Path, field: str, value: object, path: str
) -> None:
    error = {"account_id": "a", "tunnel_id": "t1", "tunnel_name": "web", "status": 503,
             "codes": [10000], "message": "HTTP 503"}  # fmt: skip
    document = {
        "format": "tunnelframe.snapshot",
        "version": 1,
        "fetched_at": "2026-08-20T00:00:00+00:00",
        "account_ids": ["a"],
        "errors": [{**error, field: value}],
        "tunnels": [],
    }
    target = tmp_path / "s.json"
    target.write_text(json.dumps(document))
    with pytest.raises(SchemaError, match=path):
        load_snapshot(target)
    target.write_text(json.dumps({**document, "errors": [error]}))
    assert load_snapshot(target).errors_frame()["status"].tolist() == [503]
