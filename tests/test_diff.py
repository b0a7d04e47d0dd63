"""``tunnelframe.diff_snapshots``, ``tunnelframe diff`` and the report's "since the previous
snapshot" section, on the hand-written fleet of ``_report_fleet`` and a later copy of it whose
changes are made by hand below (so every expected row is known)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import _report_fleet as rf
import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe.cli import main

ALPHA = "11111111-1111-4111-8111-111111111111"
EVIL_ID = "22222222-2222-4222-8222-222222222222"
PIPE_ID = "33333333-3333-4333-8333-333333333333"
GONE_ID = "44444444-4444-4444-8444-444444444444"


def later() -> tf.Snapshot:
    """The fleet a day later, with the changes listed in the comments."""
    snap = rf.snapshot()
    snap.fetched_at = rf.AS_OF + timedelta(days=1)
    alpha, evil, pipe, gone, _idle = snap.tunnels
    # c1 restarts as c1b on the same host (203.0.113.10, linux_amd64), now in ORD not LAX
    c1 = alpha["connectors"][0]
    c1["id"] = "c1b"
    for i, conn in enumerate(c1["conns"]):
        conn["id"], conn["client_id"] = f"c1b-{i}", "c1b"
        conn["colo_name"] = ["DFW", "DFW", "ORD", "ORD"][i]
    # c3 (2024.1.0) is upgraded in place (same id) to 2026.8.2
    evil["connectors"][0]["version"] = "2026.8.2"
    # c4 is gone from its host, a new host joins with c6; the tunnel turns healthy
    pipe["connectors"] = [
        pipe["connectors"][1],
        rf._connector("c6", "2026.8.2", ["SEA", "SEA", "LAX", "LAX"], "192.0.2.77", 4),
    ]
    pipe["status"] = "healthy"
    # "gone" stays down; a new tunnel appears
    gone["status"] = "down"
    snap.tunnels.append(rf._tunnel("77777777-7777-4777-8777-777777777777", "new", "inactive", []))
    return snap


def test_diff_snapshots_one_row_per_change() -> None:
    diff = tf.diff_snapshots(rf.snapshot(), later())
    assert list(diff.columns) == list(tf.report.DIFF_COLUMNS)
    rows = [
        (r["tunnel_id"][:2], r["change"], r["connector_id"], r["before"], r["after"])
        for r in diff.to_dict("records")
    ]
    na = None
    assert [tuple(na if v is None or v != v else v for v in row) for row in rows] == [
        # sorted by tunnel name: <script>..., alpha, new, pipe|name
        ("22", "upgraded", "c3", "2024.1.0", "2026.8.2"),
        ("11", "connector-restarted", "c1b", "c1", "c1b"),
        ("11", "metro-lost", na, "LAX", na),
        ("77", "tunnel-added", na, na, "inactive"),
        ("33", "tunnel-status", na, "degraded", "healthy"),
        ("33", "ha-status", na, "degraded", "ok"),
        ("33", "connector-added", "c6", na, "2026.8.2"),
        ("33", "connector-removed", "c4", "2026.7.3", na),
        ("33", "metro-gained", na, na, "SEA"),
        ("33", "metro-lost", na, "DFW", na),
    ]
    restarted = diff[diff["change"] == "connector-restarted"].iloc[0]
    assert restarted["host"] == "203.0.113.10 (linux_amd64)"
    assert restarted["message"] == (
        f'connector-restarted: tunnel "alpha" ({ALPHA}): connector c1 -> c1b on '
        "203.0.113.10 (linux_amd64)"
    )
    # nothing changed between a snapshot and itself
    assert tf.diff_snapshots(rf.snapshot(), rf.snapshot()).empty


def test_diff_downgrade_and_sites() -> None:
    old, new = rf.fleet(), rf.fleet()
    new["tunnels"][0]["connectors"][1]["version"] = "2026.7.3"
    for conn in old["tunnels"][0]["connectors"][1]["conns"]:
        conn["colo_name"] = "ord12"
    for i, conn in enumerate(new["tunnels"][0]["connectors"][1]["conns"]):
        conn["colo_name"] = ["ord12", "ord12", "ord08", "ord08"][i]
    diff = tf.diff_snapshots(old, new)
    assert list(diff["change"].astype(str)) == ["downgraded", "site-gained"]
    assert list(diff["after"]) == ["2026.7.3", "ord08"]


def test_diff_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = rf.snapshot().save(tmp_path / "old.json.gz")
    new = later().save(tmp_path / "new.json.gz")
    assert main(["diff", str(old), str(new)]) == 1
    lines = capsys.readouterr().out.splitlines()
    kinds = pd.Series([line.split(":")[0] for line in lines[:-1]]).value_counts()
    said = ", ".join(f"{kinds[k]} {k}" for k in tf.engine.CHANGES if k in kinds.index)
    # the text ends with the counts by kind, in the order of CHANGES
    assert len(lines) == 11 and lines[-1] == f"10 changes: {said}."
    assert lines[1].startswith('connector-restarted: tunnel "alpha"')
    assert main(["diff", str(old), str(new), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    # a documented, versioned document like check's
    assert (doc["schema"], doc["schema_version"]) == ("tunnelframe.diff", 1)
    assert doc["counts"] == {"changes": 10, **{k: int(n) for k, n in kinds.items()}}
    assert list(doc["counts"])[1:] == [k for k in tf.engine.CHANGES if k in kinds.index]
    for side, snap in (("old", rf.snapshot()), ("new", later())):
        assert doc[side]["fetched_at"] == f"{snap.fetched_at:%Y-%m-%dT%H:%M:%SZ}"
        assert doc[side]["account_ids"] == list(snap.account_ids)
        assert doc[side]["tunnels"] == len(snap.tunnels)
    records = doc["changes"]
    assert [r["message"] for r in records] == lines[:-1]
    assert records[0]["change"] == "upgraded" and records[3]["connector_id"] is None
    assert main(["diff", str(old), str(old)]) == 0
    assert capsys.readouterr().out == "No change.\n"
    assert main(["diff", str(old), str(tmp_path / "missing.json")]) == 2


def test_report_since_the_previous_snapshot(tmp_path: Path) -> None:
    old = rf.snapshot().save(tmp_path / "old.json.gz")
    new = later().save(tmp_path / "new.json.gz")
    out = tf.write_report(new, tmp_path / "r.md", previous=old)
    text = out.read_text()
    assert "## Since the previous snapshot" in text
    assert "Compared with the previous snapshot (2026-08-20 12:00 UTC)" in text
    assert text.index("## Since the previous snapshot") < text.index("## Findings")
    assert "c1b" in text and "connector-restarted" in text
    # the cards name each kind of change in words; the slug stays in the tables only
    assert "| connectors restarted | 2 |" in text or "| connectors restarted |" in text
    assert "| connector-restarted |" not in text.split("## Since the previous snapshot")[1][:600]
    # redacted: the hosts of the section are pseudonyms too
    red = tf.write_report(new, tmp_path / "red.html", previous=old, redact_ips=True)
    html = red.read_text()
    assert "Since the previous snapshot" in html
    assert not any(ip in html for ip in rf.IPS)
    assert main(["report", str(new), "--previous", str(old), "-o", str(tmp_path / "c.md")]) == 0
    assert "## Since the previous snapshot" in (tmp_path / "c.md").read_text()


def test_a_tunnel_that_could_not_be_read_is_not_reported_torn_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = rf.snapshot()
    new = rf.snapshot()
    new.fetched_at = rf.AS_OF + timedelta(days=1)
    alpha = new.tunnels[0]
    assert alpha["id"] == ALPHA and alpha["connectors"]
    alpha["connectors"] = []  # its /connections failed: one 503
    new.errors.append(
        {"account_id": alpha["account_tag"], "tunnel_id": ALPHA, "tunnel_name": alpha["name"],
         "status": 503, "codes": [], "message": "GET .../connections failed: HTTP 503"}
    )  # fmt: skip
    changes = tf.diff_snapshots(old, new)
    assert changes[["change", "tunnel_id", "before", "after"]].astype(str).to_numpy().tolist() == [
        ["unreadable", ALPHA, "read", "unreadable"]
    ]
    assert "could not be read in the newer snapshot (HTTP 503)" in changes["message"].iloc[0]
    # Read again the day after: nothing came back, since nothing was gone.
    changes = tf.diff_snapshots(new, old)
    assert changes["change"].astype(str).tolist() == ["unreadable"]
    # Unread in both (a watch cycle that has not reached it yet): no change to report.
    assert tf.diff_snapshots(new, new).empty
    a, b = old.save(tmp_path / "a.json"), new.save(tmp_path / "b.json")
    assert main(["diff", str(a), str(b)]) == 0  # no change found: exit 0, and said so
    out = capsys.readouterr().out
    assert "connector-removed" not in out and "site-lost" not in out
    assert "No change. 1 tunnel could not be read: changes unknown." in out
    report = tmp_path / "r.md"
    assert main(["report", str(b), "--previous", str(a), "-o", str(report)]) == 0
    text = report.read_text()
    assert "unreadable" in text and "connector-removed" not in text
