"""The ``vulnerable`` and ``deprecated-platform`` rules on hand-worked fleets, in findings, in
``check`` (with their ``--no-`` flags) and in the fix-first order.

The bundled security table (read from cloudflared's RELEASE_NOTES at d1df7985) gives: 2026.7.2
fixes VULN-118896; 2026.7.3 (out 2026-07-22) fixes VULN-143514 and one CVE without an id;
2026.8.0 fixes one vulnerability without an id (grpc); 2026.8.0/8.1's VULN-141859 was reverted
in 2026.8.2. The platform table: windows_386 and darwin_amd64 stop getting releases on
2027-01-01.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe.cli import main


def _connector(cid: str, version: str, arch: str = "linux_amd64") -> dict[str, Any]:
    conns = [{"id": f"{cid}-{i}", "colo_name": c} for i, c in enumerate(["dfw01", "iad02"] * 2)]
    return {"id": cid, "version": version, "arch": arch, "conns": conns}


def _fleet(*connectors: dict[str, Any]) -> dict[str, Any]:
    return {
        "tunnels": [
            {
                "id": "t1",
                "account_tag": "a",
                "name": "web",
                "status": "healthy",
                "connectors": list(connectors),
            }
        ]
    }


FLEET = _fleet(
    _connector("old", "2026.5.0"),
    _connector("before", "2026.7.2"),
    _connector("describe", "2026.7.2-1-gd1df7985"),
    _connector("dev", "DEV"),
    _connector("latest", "2026.8.2"),
)


def _found(fleet: dict[str, Any], rule: str, as_of: str) -> pd.DataFrame:
    return tf.findings(fleet, as_of=as_of, rules=[rule])


def test_vulnerable_names_the_fix_and_the_upgrade() -> None:
    found = _found(FLEET, "vulnerable", "2026-08-20")
    assert found["connector_id"].astype(str).tolist() == ["before", "describe", "old"]
    assert set(found["severity"].astype(str)) == {"high"}
    messages = dict(zip(found["connector_id"].astype(str), found["message"], strict=True))
    assert messages["old"] == (
        'vulnerable: connector old of tunnel "web" (t1) runs cloudflared 2026.5.0; 2026.7.3 '
        "fixes VULN-143514; 2026.7.2 fixes VULN-118896; and 3 more security fixes name no "
        "advisory id; upgrade to 2026.8.0 or later"
    )
    # a git-describe build is judged as the release it builds on
    assert messages["describe"] == messages["before"].replace(
        "connector before", "connector describe"
    ).replace("runs cloudflared 2026.7.2", "runs cloudflared 2026.7.2-1-gd1df7985")


def test_vulnerable_just_before_and_after_a_fix() -> None:
    # 2026.7.3 came out on 2026-07-22: the day before, 2026.7.2 lacked nothing
    assert "before" not in _found(FLEET, "vulnerable", "2026-07-21")["connector_id"].tolist()
    after = _found(FLEET, "vulnerable", "2026-07-23")
    row = after[after["connector_id"] == "before"].iloc[0]
    assert row["message"].endswith(
        "runs cloudflared 2026.7.2; 2026.7.3 fixes VULN-143514; and 1 more security fix names "
        "no advisory id; upgrade to 2026.7.3 or later"
    )


def test_deprecated_platform_warns_before_the_cutoff_and_is_high_after() -> None:
    fleet = _fleet(
        _connector("win32", "2026.8.2", "windows_386"),
        _connector("mac", "2026.8.2", "darwin_amd64"),
        _connector("linux", "2026.8.2", "linux_amd64"),
    )
    # 2026-12-31 is 139 days after the bundled calendar's end: findings says it is stale
    with pytest.warns(tf.StaleReleasesWarning, match="ends at 2026.8.2 .*, 139 days before"):
        before = _found(fleet, "deprecated-platform", "2026-12-31")
    assert before["connector_id"].astype(str).tolist() == ["mac", "win32"]
    assert before["severity"].astype(str).tolist() == ["warn", "warn"]
    assert before["message"].iloc[1] == (
        'deprecated-platform: connector win32 of tunnel "web" (t1) runs on 32-bit Windows '
        "(windows_386), which stops getting cloudflared releases on 2027-01-01; move it to "
        "windows_amd64"
    )
    with pytest.warns(tf.StaleReleasesWarning):
        after = _found(fleet, "deprecated-platform", "2027-01-01")
    assert after["severity"].astype(str).tolist() == ["high", "high"]
    assert (
        "which has not got cloudflared releases since 2027-01-01; move it to darwin_arm64"
        in (after["message"].iloc[0])
    )


def test_check_runs_both_rules_and_each_has_its_no_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = _fleet(_connector("old", "2026.5.0", "darwin_amd64"))
    snap = tf.Snapshot(
        fetched_at=pd.Timestamp("2026-08-20T12:00:00Z").to_pydatetime(),
        account_ids=["a"],
        tunnels=fleet["tunnels"],
    )
    path = snap.save(tmp_path / "fleet.json")
    ours = ("vulnerable", "deprecated-platform")
    others = [f"--no-{r.id}" for r in tf.report.RULES if r.id not in ours]
    assert main(["check", str(path), *others]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "[high] vulnerable",
        "[warn] deprecated-platform",
    ]
    assert main(["check", str(path), *others, "--no-vulnerable"]) == 1
    assert capsys.readouterr().out.startswith("[warn] deprecated-platform: connector old")
    assert main(["check", str(path), *others, "--no-vulnerable", "--no-deprecated-platform"]) == 0


def test_check_fleet_warns_when_the_calendar_is_stale_and_the_cli_says_it_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = _fleet(_connector("latest", "2026.8.2"))
    with pytest.warns(tf.StaleReleasesWarning) as record:
        result = tf.check_fleet(fleet, as_of="2026-11-01")
    assert len(record) == 1
    assert str(record[0].message) in result.notes
    snap = tf.Snapshot(
        fetched_at=pd.Timestamp("2026-11-01T00:00:00Z").to_pydatetime(),
        account_ids=["a"],
        tunnels=fleet["tunnels"],
    )
    path = snap.save(tmp_path / "fleet.json")
    main(["check", str(path)])
    err = capsys.readouterr().err
    assert err.count("The release calendar ends at 2026.8.2 (2026-08-14), 79 days before") == 1


def test_vulnerable_sorts_beside_unsupported_above_releases_behind() -> None:
    ids = [r.id for r in tf.report.RULES]
    assert ids.index("unsupported") + 1 == ids.index("vulnerable") < ids.index("releases-behind")
    rules = {r.id: r for r in tf.report.RULES}
    assert rules["vulnerable"].severity == rules["unsupported"].severity == "high"
    assert rules["releases-behind"].severity != "high"


def test_report_versions_section_shows_the_fleets_exposure(tmp_path: Path) -> None:
    text = tf.write_report(FLEET, tmp_path / "r.md", as_of="2026-08-20").read_text()
    section = text[text.index("## Version drift") :]
    # old (2026.5.0), before and describe (2026.7.2) lack fixes; all are cleared by 2026.8.0
    assert (
        "3 connectors lack security fixes of later releases (see the vulnerable finding). One "
        "upgrade target, cloudflared 2026.8.0 or later, clears all of them." in section
    )
    start = section.index("Security fixes the fleet lacks")
    rows = [line for line in section[start:].splitlines() if line.startswith("| 2026.")]
    assert rows[0] == (
        "| 2026.8.0 | (no advisory id) | chore: Bump grpc to v.1.83.0 to fix vulnerability | 3 "
        "| 3 |"
    )
    assert rows[1] == (
        "| 2026.7.3 | VULN-143514 | VULN-143514: Windows svc: use --token-file instead of "
        "--token | 3 | 0 |"
    )
    assert [row.split(" | ")[0] for row in rows] == ["| 2026.8.0", "| 2026.7.3", "| 2026.7.3",
                                                     "| 2026.7.2", "| 2026.5.1"]  # fmt: skip
    exposure = tf.security_exposure(tf.version_drift(FLEET, as_of="2026-08-20"))
    assert exposure["n_connectors"].tolist() == [3, 3, 3, 1, 1]  # 8.0; 7.3 ×2; 7.2; 5.1
    assert exposure["n_cleared"].tolist() == [3, 0, 0, 0, 0]
