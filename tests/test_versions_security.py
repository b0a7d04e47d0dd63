"""Tests of the security side of tunnelframe.versions: the release-notes parser (on real lines of
cloudflared's RELEASE_NOTES), the shipped table, the fixes each connector lacks, deprecated
platforms, the calendar's age and WARP Connector versions in summaries.

Expectations are worked out by hand from the lines and tables below.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

import tunnelframe as tf

NOTES = Path(__file__).parent / "data" / "cloudflared-release-notes-excerpt.txt"
COMMIT = "d1df7985bdf189c4caf34e290bafbf8f411e603b"


def _rows(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    return list(zip(frame["version"], frame["advisory_ids"], frame["reverted_in"], strict=True))


# --------------------------------------------------------------------------------------------
# the parser, on real lines of cloudflared's RELEASE_NOTES (tests/data, copied verbatim)


def test_parser_on_real_release_notes_lines() -> None:
    fixes = tf.parse_release_notes(NOTES.read_text(encoding="utf-8"))
    assert list(fixes.columns) == list(tf.SECURITY_FIXES_COLUMNS)
    assert _rows(fixes) == [
        ("2026.8.1", "VULN-141859", "2026.8.2"),  # reverted by 2026.8.2's "Revert …"
        ("2026.8.0", "VULN-141859", "2026.8.2"),
        ("2026.8.0", "", ""),  # "Bump grpc to v.1.83.0 to fix vulnerability"
        ("2026.7.3", "VULN-143514", ""),
        ("2026.7.3", "", ""),  # "… to fix CVE"
        ("2026.7.2", "VULN-118896", ""),
        ("2026.7.2", "VULN-118896", ""),
        ("2026.3.0", "", ""),  # "… to address CVE's"
        ("2026.3.0", "GO-2026-4394", ""),
        ("2026.2.0", "GO-2026-4340, GO-2026-4341", ""),
        ("2025.8.0", "GO-2025-3770", ""),
        ("2024.1.0", "VULN-44842", ""),
        ("2021.10.4", "CVE-2020-29652", ""),
        ("2020.3.0", "", ""),  # "Insecure randomness vulnerability in github.com/miekg/dns"
    ]
    assert fixes["summary"].iloc[3] == (
        "VULN-143514: Windows svc: use --token-file instead of --token"
    )
    assert fixes["source"].iloc[3] == "RELEASE_NOTES:14"
    text = " ".join(fixes["summary"])
    # left out: tooling, tests, CI and unmarked hardening
    for left_out in ("govuln", "vulncheck", "ssh server tests", "[CI]", "AUTH-9041", "TUN-5960"):
        assert left_out not in text


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("- 2026-07-22 VULN-143514: Windows svc: use --token-file instead of --token", "fix"),
        ("- 2026-08-07 chore: Bump grpc to v.1.83.0 to fix vulnerability", "fix"),
        ("- 2025-06-12 TUN-9467: bump coredns to solve CVE", "fix"),
        ("- 2022-04-06 TUN-5995: Update prometheus to 1.12.1 to avoid vulnerabilities", "fix"),
        ("- 2026-01-02 Bump x to fix GHSA-abcd-2345-wxyz", "fix"),
        ("- 2024-11-05 VULN-66059: remove ssh server tests", None),
        ("- 2025-09-22 TUN-9855: Create script to ignore vulnerabilities from govuln check", None),
        ('- 2026-07-08 Revert "TUN-10557: Bump quic-go v0.59.1"', None),
        ("- 2026-05-07 TUN-10513: Disable /debug/pprof/cmdline endpoint", None),
    ],
)
def test_each_rule_of_the_parser(line: str, kind: str | None) -> None:
    fixes = tf.parse_release_notes(f"2026.1.0\n{line}\n")
    assert len(fixes) == (1 if kind else 0)


def test_parse_changes_reads_the_security_section_only() -> None:
    # Real lines of cloudflared's CHANGES.md (2023.3.1), shortened in the middle.
    changes = (
        "## 2023.3.2\n### Notices\n- Due to the nature of QuickTunnels …\n\n"
        "## 2023.3.1\n### Breaking Change\n- Running a tunnel without ingress rules …\n\n"
        "### Security Fixes\n- Windows 32 bit machines MSI now defaults to Program Files to "
        "install cloudflared. (See CVE-2023-1314). The cloudflared client itself is "
        "unaffected.\n\n### Bug Fixes\n- Fixed a bug that would cause running tunnel on "
        "Bastion mode and without ingress rules to crash.\n"
    )
    fixes = tf.parse_changes(changes)
    assert _rows(fixes) == [("2023.3.1", "CVE-2023-1314", "")]
    assert fixes["source"].iloc[0] == "CHANGES.md:10"


def test_shipped_table_names_its_commit_and_every_fixing_release() -> None:
    fixes = tf.load_security_fixes()
    assert fixes.attrs["source"]["commit"] == COMMIT
    assert fixes.attrs["refreshed_at"] is None
    live = fixes[fixes["reverted_in"] == ""]
    assert live.groupby("version", sort=False)["advisory_ids"].agg(
        lambda ids: ", ".join(i for i in ids if i)
    ).to_dict() == {
        "2026.8.0": "",
        "2026.7.3": "VULN-143514",
        "2026.7.2": "VULN-118896, VULN-118896",
        "2026.5.1": "",
        "2026.3.0": "GO-2026-4394",
        "2026.2.0": "GO-2026-4340, GO-2026-4341",
        "2025.8.0": "GO-2025-3770",
        "2025.6.1": "",
        "2024.1.0": "VULN-44842",
        "2023.3.1": "CVE-2023-1314",
        "2022.5.0": "VULN-8383",
        "2022.4.0": "",
        "2021.10.4": "CVE-2020-29652",
        "2020.3.0": "",
    }
    assert set(fixes["version"]) <= set(tf.load_releases()["version"])


# --------------------------------------------------------------------------------------------
# the fixes each connector lacks

FLEET = pd.DataFrame(
    {
        "tunnel_id": ["t1"] * 6,
        "connector_id": ["before", "after", "describe", "dev", "old", "none"],
        "version": ["2026.7.2", "2026.7.3", "2026.7.2-3-gabcdef12", "DEV", "2026.5.0", "2026.8.0"],
    }
)


def _lacks(drift: pd.DataFrame) -> dict[str, tuple[Any, str | None, str | None]]:
    return {
        str(c): (
            None if pd.isna(n) else int(n),
            None if pd.isna(ids) else str(ids),
            None if pd.isna(v) else str(v),
        )
        for c, n, ids, v in zip(
            drift["connector_id"],
            drift["n_missing_fixes"],
            drift["missing_fix_ids"],
            drift["fixed_in"],
            strict=True,
        )
    }


def test_missing_fixes_just_before_and_after_a_fix() -> None:
    drift = tf.version_drift(FLEET, as_of="2026-08-20")
    assert _lacks(drift) == {
        # 2026.7.3's VULN-143514 and unnamed x/text fix, 2026.8.0's unnamed grpc fix
        "before": (3, "VULN-143514", "2026.8.0"),
        "after": (1, "", "2026.8.0"),
        # a git-describe build is measured as the release it builds on
        "describe": (3, "VULN-143514", "2026.8.0"),
        "dev": (None, None, None),
        # + 2026.5.1's unnamed fix and 2026.7.2's VULN-118896 (two lines, one advisory)
        "old": (5, "VULN-143514, VULN-118896", "2026.8.0"),
        # 2026.8.0 and 8.1's VULN-141859 path normalization was reverted in 2026.8.2
        "none": (0, "", None),
    }
    assert str(drift["n_missing_fixes"].dtype) == "Int64"
    assert drift["fixed_in"].dtype.ordered


def test_missing_fixes_count_only_releases_out_by_as_of() -> None:
    with pytest.warns(tf.StaleReleasesWarning, match="newer than the latest known release"):
        drift = tf.version_drift(FLEET, as_of="2026-07-18")  # latest 2026.7.2
    lacks = _lacks(drift)
    assert lacks["old"] == (2, "VULN-118896", "2026.7.2")
    assert lacks["before"] == (0, "", None)


def test_missing_fixes_from_a_hand_table() -> None:
    fixes = pd.DataFrame(
        {
            "version": ["2026.8.2", "2026.7.3", "2026.7.3", "2026.6.0"],
            "advisory_ids": ["CVE-2026-0002", "GO-2026-0001, CVE-2026-0001", "", "VULN-1"],
            "summary": ["x"] * 4,
            "source": ["hand"] * 4,
            "reverted_in": ["", "", "", "2026.7.0"],
        }
    )
    drift = tf.version_drift(FLEET, as_of="2026-08-20", fixes=fixes)
    assert _lacks(drift)["old"] == (4, "CVE-2026-0002, GO-2026-0001, CVE-2026-0001", "2026.8.2")
    assert _lacks(drift)["none"] == (1, "CVE-2026-0002", "2026.8.2")
    with pytest.raises(ValueError, match=r"fixes lacks column\(s\) \['reverted_in'\]"):
        tf.version_drift(FLEET, as_of="2026-08-20", fixes=fixes.drop(columns="reverted_in"))


# --------------------------------------------------------------------------------------------
# deprecated platforms


def test_deprecated_platforms_before_and_after_the_cutoff() -> None:
    conns = pd.DataFrame(
        {
            "tunnel_id": ["t1", "t1", "t2", "t2"],
            "connector_id": ["win32", "linux", "intel-mac", "intel-mac"],
            "arch": ["windows_386", "linux_amd64", "darwin_amd64", "darwin_amd64"],
        }
    )
    before = tf.deprecated_platforms(conns, as_of="2026-12-31T23:59:59Z")
    assert before["connector_id"].tolist() == ["win32", "intel-mac"]
    assert before["replaced_by"].tolist() == ["windows_amd64", "darwin_arm64"]
    assert before["past_cutoff"].tolist() == [False, False]
    after = tf.deprecated_platforms(conns, as_of="2027-01-01")
    assert after["past_cutoff"].tolist() == [True, True]
    assert list(after.columns) == list(tf.DEPRECATED_PLATFORMS_COLUMNS)
    source = tf.load_platform_deprecations().attrs["source"]
    assert source["announced_on"] == "2026-09-18" and "changelog" in source["where"]


# --------------------------------------------------------------------------------------------
# the calendar's age


def test_calendar_age_warns_after_60_days() -> None:
    # The bundled calendar ends at 2026.8.2 of 2026-08-14: 60 days later is 2026-10-13.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.version_drift(FLEET, as_of="2026-10-13T23:00:00Z")
    for analysis in (tf.version_drift, tf.version_summary):
        with pytest.warns(tf.StaleReleasesWarning) as record:
            analysis(FLEET, as_of="2026-10-14")
        assert len(record) == 1 and record[0].filename == __file__
        assert str(record[0].message).startswith(
            "The release calendar ends at 2026.8.2 (2026-08-14), 61 days before 2026-10-14: "
        )
        assert "releases=tunnelframe.refresh_releases()" in str(record[0].message)


def test_version_summary_says_the_calendar_is_stale_in_one_line() -> None:
    with pytest.warns(tf.StaleReleasesWarning):
        summary = tf.version_summary(FLEET, as_of="2026-12-01")
    note = tf.stale_calendar_note("2026.8.2", "2026-08-14", "2026-12-01")
    assert summary.stale_calendar == note
    lines = repr(summary).split("\n")
    assert lines[1] == f"stale calendar: {note}"
    assert sum("release calendar ends" in line for line in lines) == 1
    assert "stale calendar: The release calendar ends at 2026.8.2" in summary._repr_html_()
    quiet = tf.version_summary(FLEET, as_of="2026-08-20")
    assert quiet.stale_calendar is None and "stale calendar" not in repr(quiet)


# --------------------------------------------------------------------------------------------
# WARP Connector versions in summaries


def test_mixed_fleet_summary_gives_warp_versions_their_own_line() -> None:
    frame = pd.DataFrame(
        {
            "tunnel_id": ["t1", "t1", "w1", "w1", "w2", "t2"],
            "tun_type": ["cfd_tunnel"] * 2 + ["warp_connector"] * 3 + ["cfd_tunnel"],
            "connector_id": ["a", "b", "w-a", "w-b", "w-c", "d"],
            "version": ["2026.8.2", "2026.5.0", "2025.2.600.0", "2025.1.861.0", "2025.2.600.0",
                        "DEV"],
        }
    )  # fmt: skip
    summary = tf.version_summary(frame, as_of="2026-08-20")
    assert summary.n_connectors == 6
    shares = (summary.current_share, summary.behind_share, summary.unknown_share)
    assert shares == pytest.approx((1 / 6, 1 / 6, 1 / 6))
    assert summary.warp_share == pytest.approx(3 / 6)
    assert summary.by_version["version"].astype(str).tolist() == ["2026.8.2", "2026.5.0", "DEV"]
    assert summary.by_warp_version["version"].tolist() == ["2025.2.600.0", "2025.1.861.0"]
    assert summary.by_warp_version["n_connectors"].tolist() == [2, 1]
    assert summary.oldest_version == "2026.5.0"
    text = repr(summary)
    assert "unknown 16.7% | WARP Connector 50.0%" in text
    assert "WARP client versions (not cloudflared's): 2025.2.600.0 ×2, 2025.1.861.0 ×1" in text
    drift = tf.version_drift(frame, as_of="2026-08-20")
    assert drift["version"].min() == "DEV"  # unknown first; never a WARP version
    assert drift["version"].drop(index=5).min() == "2026.5.0"


# --------------------------------------------------------------------------------------------
# refresh: release bodies and a notes file


class _Releases(BaseHTTPRequestHandler):
    pages: ClassVar[dict[int, Any]] = {}

    def do_GET(self) -> None:
        page = int(self.path.split("page=")[-1])
        body = json.dumps(self.pages.get(page, [])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def github() -> Iterator[tuple[str, type[_Releases]]]:
    handler = type("Handler", (_Releases,), {"pages": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/releases", handler
    finally:
        server.shutdown()
        server.server_close()


def test_refresh_reads_security_fixes_from_release_bodies(
    github: tuple[str, type[_Releases]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = github
    handler.pages[1] = [
        {
            "tag_name": "2026.10.0",
            "published_at": "2026-10-02T09:00:00Z",
            "body": "- 2026-09-30 VULN-150001: Reject oversized headers\n"
            '- 2026-09-29 Revert "VULN-143514: Windows svc: use --token-file"\n'
            "### SHA256 Checksums:\n```\ncloudflared-linux-amd64: 0123abcd\n```",
        },
        {"tag_name": "2026.9.0", "published_at": "2026-09-03T10:00:00Z", "body": None},
        # a bundled release: its fixes come from the bundled table, not from its body
        {"tag_name": "2026.8.2", "published_at": "2026-08-14T10:00:00Z", "body": "- VULN-9: x"},
    ]
    monkeypatch.setenv("TUNNELFRAME_CACHE_DIR", str(tmp_path))
    tf.refresh_releases(url=url)
    cached = tf.load_security_fixes(cached=True)
    assert cached.attrs["refreshed_at"] is not None
    assert cached.attrs["source"]["commit"] == COMMIT
    assert cached.attrs["source"]["refreshed_from"] == url
    assert _rows(cached)[0] == ("2026.10.0", "VULN-150001", "")
    assert cached["source"].iloc[0] == f"{url} 2026.10.0:1"
    assert "VULN-9" not in set(cached["advisory_ids"])
    reverted = cached[cached["advisory_ids"] == "VULN-143514"]
    assert reverted["reverted_in"].tolist() == ["2026.10.0"]
    assert len(cached) == len(tf.load_security_fixes()) + 1
    drift = tf.version_drift(
        FLEET, releases=tf.load_releases(cached=True), as_of="2026-10-05", fixes=cached
    )
    assert _lacks(drift)["after"] == (2, "VULN-150001", "2026.10.0")


def test_refresh_reads_a_notes_file(github: tuple[str, type[_Releases]], tmp_path: Path) -> None:
    url, handler = github
    handler.pages[1] = [{"tag_name": "2026.9.0", "published_at": "2026-09-03T10:00:00Z"}]
    notes = tmp_path / "RELEASE_NOTES"
    notes.write_text("2026.9.0\n- 2026-09-01 fix: Bump x/net to fix CVE-2026-12345\n\n"
                     + NOTES.read_text(encoding="utf-8"), encoding="utf-8")  # fmt: skip
    tf.refresh_releases(url=url, cache_dir=tmp_path, notes=notes)
    doc = json.loads((tmp_path / "cloudflared-security.json").read_text(encoding="utf-8"))
    assert doc["source"]["refreshed_from"] == "RELEASE_NOTES"
    assert doc["fixes"][0] == {
        "version": "2026.9.0",
        "advisory_ids": ["CVE-2026-12345"],
        "summary": "fix: Bump x/net to fix CVE-2026-12345",
        "source": "RELEASE_NOTES:2",
        "reverted_in": None,
    }
    with pytest.raises(ValueError, match=r"notes='.*missing': cannot read it"):
        tf.refresh_releases(url=url, cache_dir=tmp_path, notes=tmp_path / "missing")
