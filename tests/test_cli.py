"""Tests of the ``tunnelframe`` command line: in-process through ``main``, and once each as the
console script and as ``python -m tunnelframe``.

Live commands talk to the real simulator on loopback through the environment variables a user
would set. Expected violations come from the hand-written fleet in ``_report_fleet``.
"""

from __future__ import annotations

import gzip
import http.server
import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _report_fleet as rf
import pandas as pd
import pytest
from conftest import hostile, reply

import tunnelframe as tf
from tunnelframe.cli import main
from tunnelframe.datasets import SAMPLE_AS_OF
from tunnelframe.simulator import SimulatedApi, serve

COMMANDS = [
    "demo",
    "fetch",
    "report",
    "export",
    "simulate",
    "check",
    "snapshot",
    "watch",
    "history",
]

#: What ``check`` prints for the hand-written snapshot, rule by rule (worked out by hand from
#: the fleet's docstring; the tunnel name with a newline is shown with ``\n``): the severity,
#: the rule's message and the host, as the report shows them.
UNSUPPORTED = (
    '[high] unsupported: connector c3 of tunnel "<script>alert(1)</script>" '
    "(22222222-2222-4222-8222-222222222222) runs cloudflared 2024.1.0, released 2024-01-03, "
    "66 releases behind 2026.8.2; host 198.51.100.7 (linux_amd64)"
)
DOWN = (
    '[high] down: tunnel "gone" (44444444-4444-4444-8444-444444444444): the API reports the '
    "tunnel down and lists no connector"
)
FETCH_ERROR = (
    '[high] fetch-error: tunnel "flaky" (66666666-6666-4666-8666-666666666666) could not be '
    "read: HTTP 500: GET /connections failed: HTTP 500 after 3 retries"
)


@pytest.fixture
def snapshot_path(tmp_path: Path) -> Path:
    return rf.snapshot().save(tmp_path / "snap.json.gz")


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedApi]:
    """The hand-written fleet served on loopback, with the environment pointing at it."""
    with serve(rf.fleet()) as running:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", running.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", running.url)
        monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
        yield running


# --------------------------------------------------------------------------------------------
# parsing, help, errors


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_on_every_command(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command, "--help"] if command else ["--help"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: tunnelframe {command or ''}".rstrip())
    if command is None:
        for name in COMMANDS:
            assert name in out


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_tells_the_true_exit_status(
    command: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    # 2 is "could not run" for every command (1 is only check's and diff's "found something"):
    # no help may say a known error exits 1, and every one ends with the same statement.
    assert main([command, "--help"] if command else ["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "Exit status: 0 done and clean; 1 found something (check: violations, diff: a "
        "change); 2 could not run (usage, unreadable input, API or network failure); 130 "
        "interrupted (Ctrl+C)."
    ) in out
    says_1_for_an_error = r"exit(?: status)? 1 (?:on|when [^.;)]*(?:error|could not))"
    assert re.search(says_1_for_an_error, out, re.I) is None


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"tunnelframe {tf.__version__}\n"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["nope"], "invalid choice: 'nope'"),
        (["report"], "the following arguments are required: SNAPSHOT"),
        (["export", "x.json"], "the following arguments are required: DIR"),
        (["check"], "give either a SNAPSHOT or --account ID, not both and not neither"),
        (["check", "s.json", "--account", "a"], "give either a SNAPSHOT or --account ID"),
        (["check", "s.json", "--max-releases-behind", "-1"], "must be 0 or more, not -1"),
        (["check", "s.json", "--as-of", "yesterday"], "not a date or time: 'yesterday'"),
        (["report", "s.json", "--format", "pdf"], "invalid choice: 'pdf'"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: tunnelframe")
    assert says in err


def test_known_error_is_one_line_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json.gz"
    assert main(["report", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"tunnelframe: error: {missing}: No such file or directory\n"


def test_bad_snapshot_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["check", str(bad)]) == 2  # could not run: not "violations found"
    err = capsys.readouterr().err
    assert err.startswith("tunnelframe: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(
    tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.json.gz")
    argv = ["--debug", "report", missing] if where == "before" else ["report", missing, "--debug"]
    assert main(argv) == 2  # the traceback is added, the status stays "could not run"
    err = capsys.readouterr().err
    assert "Traceback" in err and "FileNotFoundError" in err


def test_unwritable_output_names_the_directory(
    snapshot_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no" / "such" / "r.html"
    assert main(["report", str(snapshot_path), "-o", str(target)]) == 2
    assert capsys.readouterr().err == (f"tunnelframe: error: {target.parent}: no such directory\n")


# --------------------------------------------------------------------------------------------
# report, export


def test_report_default_name_here(
    snapshot_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["report", str(snapshot_path)]) == 0
    assert capsys.readouterr().out == f"Report: {work / 'snap.html'}\n"
    assert (work / "snap.html").read_text().startswith("<!doctype html>")
    assert main(["report", str(snapshot_path), "--format", "md"]) == 0
    assert (work / "snap.md").read_text().startswith("# Cloudflare Tunnel fleet report")


def test_report_options(snapshot_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "shared.md"
    argv = ["report", str(snapshot_path), "-o", str(out), "--redact-ips", "--title", "For <you>"]
    assert main(argv) == 0
    text = out.read_text()
    assert text.startswith("# For &lt;you&gt;\n")
    for ip in rf.IPS:
        assert ip not in text
    # a suffix that is neither .html nor .md: HTML unless --format says otherwise
    odd = tmp_path / "report.txt"
    assert main(["report", str(snapshot_path), "-o", str(odd)]) == 0
    assert odd.read_text().startswith("<!doctype html>")


def test_export_command(
    snapshot_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "frames"
    assert main(["export", str(snapshot_path), str(out), "--format", "csv"]) == 0
    names = ["connections.csv", "connectors.csv", "tunnels.csv"]
    assert capsys.readouterr().out.splitlines() == [str(out / n) for n in names]
    assert sorted(p.name for p in out.iterdir()) == names


def test_export_command_xlsx(
    snapshot_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "frames"
    assert main(["export", str(snapshot_path), str(out), "--format", "xlsx"]) == 0
    assert capsys.readouterr().out.splitlines() == [str(out / "fleet.xlsx")]
    sheets = pd.read_excel(out / "fleet.xlsx", sheet_name=None)
    assert list(sheets) == ["findings", "tunnels", "connectors", "connections"]
    # the findings sheet is check's, judged at the snapshot's time unless --as-of says else
    now = sheets["findings"]
    assert sorted(now["rule"]) == sorted(
        str(r) for r in tf.check_fleet(snapshot_path).violations["rule"]
    )
    assert "alpha" not in set(now["tunnel_name"])


def test_export_xlsx_judges_findings_as_of(tmp_path: Path) -> None:
    fleet = rf.fleet()
    fleet["tunnels"][3]["conns_inactive_at"] = "2026-08-20T11:00:00Z"  # "gone": down an hour
    snap = tf.Snapshot(fetched_at=rf.AS_OF, account_ids=[rf.ACCOUNT], tunnels=fleet["tunnels"])
    path = snap.save(tmp_path / "snap.json.gz")

    def down(*extra: str) -> pd.Series:
        out = tmp_path / str(len(extra))
        assert main(["export", str(path), str(out), "--format", "xlsx", *extra]) == 0
        found = pd.read_excel(out / "fleet.xlsx", sheet_name="findings")
        return found[found["rule"] == "down"].iloc[0]

    fresh = down()
    assert fresh["action"].startswith("start cloudflared for this tunnel")
    assert (fresh["since"], fresh["since_at (UTC)"]) == (
        "down since",
        pd.Timestamp("2026-08-20 11:00"),
    )
    assert down("--as-of", "2026-10-20")["action"].startswith("delete the tunnel if nothing uses")


# --------------------------------------------------------------------------------------------
# check


def test_check_prints_one_line_per_violation(
    snapshot_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(snapshot_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10
    assert lines[0] == UNSUPPORTED
    # c3 (2024.1.0) and c4 (2026.7.3) lack security fixes of later releases
    assert lines[1].startswith("[high] vulnerable: connector c3 of ")
    assert lines[2].startswith("[high] vulnerable: connector c4 of ")
    lines = lines[:1] + lines[3:]
    assert lines[1].startswith(
        '[high] degraded: connector c4 of tunnel "pipe|name\\nsecond line & "quotes"" '
        "(33333333-3333-4333-8333-333333333333): 2 of 4 expected connections active"
    )
    assert lines[2] == DOWN
    assert lines[3].startswith('[warn] single-connector: tunnel "<script>alert(1)</script>"')
    assert lines[4].startswith('[info] single-origin: tunnel "<script>alert(1)</script>"')
    assert lines[5].startswith('[warn] single-colo: tunnel "<script>alert(1)</script>"')
    assert lines[6] == FETCH_ERROR
    assert lines[7] == (
        "FAIL: 9 violations (6 high, 2 warn, 1 info) in 4 tunnels; checked 5 tunnels, "
        "5 connectors, 18 active connections."
    )


def test_check_rules_can_be_turned_off(
    snapshot_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", str(snapshot_path), "--no-single-colo", "--no-single-connector"]
    argv += ["--no-single-origin", "--no-vulnerable"]
    assert main([*argv, "--no-fetch-errors"]) == 1
    assert capsys.readouterr().out.splitlines()[:-1:2] == [UNSUPPORTED, DOWN]
    everything_off = [*argv, "--no-unsupported", "--no-degraded", "--no-down", "--no-fetch-errors"]
    assert main(everything_off) == 0
    assert capsys.readouterr().out == (
        "ok: 5 tunnels, 5 connectors, 18 active connections. No violations.\n"
    )
    assert main([*everything_off, "-q"]) == 0
    assert capsys.readouterr().out == ""


def test_check_max_releases_behind(snapshot_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # c3 (2024.1.0) is 66 releases behind, c4 (2026.7.3) 3, the others 0.
    off = [
        "--no-unsupported",
        "--no-vulnerable",
        "--no-degraded",
        "--no-down",
        "--no-single-colo",
        "--no-single-connector",
        "--no-single-origin",
    ]
    argv = ["check", str(snapshot_path), *off, "--no-fetch-errors"]
    assert main([*argv, "--max-releases-behind", "2"]) == 1
    lines = capsys.readouterr().out.splitlines()[:-1]
    assert [line.split(" of ")[0] for line in lines] == [
        "[warn] releases-behind: connector c3",
        "[warn] releases-behind: connector c4",
    ]
    assert main([*argv, "--max-releases-behind", "3"]) == 1
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main([*argv, "--max-releases-behind", "66", "-q"]) == 0


def test_check_as_of(snapshot_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # On 2024-06-01, 2024.1.0 was still supported.
    argv = ["check", str(snapshot_path), "--as-of", "2024-06-01", "--no-degraded", "--no-down"]
    argv += ["--no-single-colo", "--no-single-connector", "--no-fetch-errors", "-q"]
    argv += ["--no-single-origin"]
    argv += ["--no-vulnerable"]  # 2024.1.0 lacked fixes of later 2024 releases
    assert main(argv) == 0


def test_check_escapes_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = rf.snapshot()
    snap.tunnels[1]["name"] = "red\x1b[31malert\r"
    path = snap.save(tmp_path / "s.json")
    argv = ["check", str(path), "--no-degraded", "--no-down", "--no-fetch-errors"]
    assert main([*argv, "--no-vulnerable"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out
    assert 'tunnel "red\\x1b[31malert\\r"' in out
    assert len(out.splitlines()) == 5


def test_check_live_account(api: SimulatedApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--account", api.account_id]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    # the live fetch has no fetch error; the release calendar ends in 2026.8.2, so today
    # measures as the snapshot's fetch time did
    assert lines[0] == UNSUPPORTED
    assert DOWN in lines and FETCH_ERROR not in lines
    assert api.token not in captured.out + captured.err


# --------------------------------------------------------------------------------------------
# fetch, demo, simulate


def test_fetch_saves_a_snapshot(
    api: SimulatedApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fleet.json.gz"
    assert main(["fetch", "--account", api.account_id, "-o", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "5 tunnels, 5 connectors, 18 active connections.",
        f"Snapshot: {out}",
    ]
    assert len(tf.load_snapshot(out).tunnels) == 5
    for text in (captured.out, captured.err, gzip.decompress(out.read_bytes()).decode()):
        assert api.token not in text


def test_fetch_default_name(
    api: SimulatedApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", api.account_id)
    assert main(["fetch", "--no-progress"]) == 0
    written = capsys.readouterr().out.splitlines()[-1].removeprefix("Snapshot: ")
    assert re.fullmatch(r"snapshot-\d{8}T\d{6}Z\.json\.gz", Path(written).name)
    assert Path(written).parent == tmp_path


def test_fetch_without_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["fetch", "--account", "a" * 32]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tunnelframe: error: no Cloudflare credentials")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "unset", "says"),
    [
        (["fetch", "--account", "a" * 32], "CLOUDFLARE_API_TOKEN", "set CLOUDFLARE_API_TOKEN"),
        (["check", "--account", "a" * 32], "CLOUDFLARE_API_TOKEN", "set CLOUDFLARE_API_TOKEN"),
        (["fetch"], "CLOUDFLARE_ACCOUNT_ID", "give --account ID or set CLOUDFLARE_ACCOUNT_ID"),
    ],
)
def test_a_cli_error_names_options_and_variables_not_keyword_arguments(
    argv: list[str],
    unset: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "t" * 40)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "a" * 32)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:9")  # never reached
    for name in (unset, "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main([*argv, "--no-progress"] if argv[0] == "fetch" else argv) == 2
    err = capsys.readouterr().err
    assert re.search(r"\b[a-z_]+=\.\.\.|pass [a-z_]+=", err) is None, err
    assert says in err


def _sample_counts() -> tuple[int, int, int]:
    """Tunnels (not deleted), connectors and active connections of the sample, by hand."""
    tunnels = [t for t in tf.load_sample()["tunnels"] if not t.get("deleted_at")]
    connectors = [c for t in tunnels for c in t.get("connectors") or []]
    active = [
        x for c in connectors for x in c.get("conns") or [] if not x.get("is_pending_reconnect")
    ]
    return len(tunnels), len(connectors), len(active)


def test_demo_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo.html"
    assert main(["demo", "-o", str(out), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    n_tunnels, n_connectors, n_active = _sample_counts()
    assert re.fullmatch(
        r"Served the bundled sample fleet on loopback and fetched it through the client in "
        r"\d+\.\d s \(\d+ requests\)\.",
        lines[0],
    )
    # the sample is shown as of its own date, not today's
    assert lines[1] == (
        f"As of 2026-08-20 12:00 UTC: {n_tunnels:,} tunnels, {n_connectors:,} connectors, "
        f"{n_active:,} active connections."
    )
    # one line per rule that found something, "  <count>  <title>", counts adding up
    assert (m := re.fullmatch(r"Findings \((\d+)\):", lines[2]))
    rules = [re.fullmatch(r"  +(\d+)  ([a-z].*)", line) for line in lines[3:-1]]
    assert all(rules) and sum(int(r.group(1)) for r in rules if r) == int(m.group(1))
    assert "unsupported connectors" in [r.group(2) for r in rules if r]
    assert lines[-1] == f"Report: {out}"
    text = out.read_text()
    assert "<title>Sample fleet report (tunnelframe demo)</title>" in text
    assert "<dt>As of</dt><dd>2026-08-20 12:00 UTC</dd>" in text


def test_demo_keeps_its_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = tmp_path / "demo.json.gz"
    argv = ["demo", "-o", str(tmp_path / "demo.md"), "--no-progress", "--snapshot", str(snap)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert f"Snapshot: {snap}" in captured.out
    assert "as of the sample's 2026-08-20 12:00 UTC" in captured.out
    n_tunnels, _, _ = _sample_counts()
    assert f"Rendering the report ({n_tunnels:,} tunnels)..." in captured.err
    kept = tf.load_snapshot(snap)
    assert len(kept.tunnels) == n_tunnels
    # it records the sample's date, and later commands measure there without being told
    assert kept.as_of == tf.datasets.SAMPLE_AS_OF and kept.fetched_at > kept.as_of
    assert main(["check", str(snap), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["as_of"] == "2026-08-20T12:00:00Z"
    later = tmp_path / "later.md"
    assert main(["report", str(snap), "-o", str(later)]) == 0
    assert "- **As of:** 2026-08-20 12:00 UTC\n" in later.read_text()
    # the kept snapshot feeds check and diff
    assert main(["check", str(snap), "-q"]) == 1
    assert main(["diff", str(snap), str(snap)]) == 0


def test_report_says_a_stale_calendar_on_stderr(
    snapshot_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.md"
    assert main(["report", str(snapshot_path), "-o", str(out), "--as-of", "2027-01-01"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("tunnelframe: warning: The release calendar ends at 2026.8.2")
    assert "--refresh-releases" in err and err.count("\n") == 1
    assert main(["report", str(snapshot_path), "-o", str(out)]) == 0
    assert capsys.readouterr().err == ""


def test_history_report_is_measured_at_the_latest_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The hand-written snapshot was fetched 2026-08-20 12:00; the report of the store says so
    # (not today), so c3 (2024.1.0) is unsupported as of then.
    store = tmp_path / "store"
    tf.append_snapshot(rf.snapshot(), store)
    out = tmp_path / "history.md"
    assert main(["history", str(store), "-o", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"Report: {out}"
    text = out.read_text()
    assert "- **As of:** 2026-08-20 12:00 UTC" in text.splitlines()
    assert "### 1 · unsupported connectors (high)" in text
    assert "## History" in text


def test_console_script_help() -> None:
    script = shutil.which("tunnelframe", path=str(Path(sys.executable).parent))
    assert script, "the tunnelframe console script is not installed next to this Python"
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("usage: tunnelframe")


def test_python_m_tunnelframe_demo(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "tunnelframe", "demo", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"Report: {out}"
    # stderr is a pipe here, not a terminal: no progress bar, just what the demo is doing
    assert "100%" not in done.stderr and "reading connectors" not in done.stderr
    assert done.stderr.startswith("Rendering the report (")
    assert out.stat().st_size > 100_000


def test_simulate_serves_until_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "tunnelframe", "simulate", "--port", "0", "--tunnels", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            banner = [proc.stdout.readline() for _ in range(4)]
            assert banner[0].startswith("tunnelframe simulator: 3 tunnels on http://127.0.0.1:")
            env = dict(line.removeprefix("export ").strip().split("=", 1) for line in banner[1:])
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            out = tmp_path / "s.json"
            assert main(["fetch", "-o", str(out), "--no-progress"]) == 0
            assert len(json.loads(out.read_text())["tunnels"]) == 3
        finally:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err  # stopped by Ctrl+C, as every command is
    assert env["CLOUDFLARE_API_TOKEN"] not in capsys.readouterr().out


def test_ctrl_c_during_a_waiting_fetch_exits_130_and_writes_nothing(tmp_path: Path) -> None:
    waiting = threading.Event()

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        if path.endswith("/cfd_tunnel"):
            tunnels = [{"id": "t1", "name": "web", "status": "healthy"}]
            reply(handler, 200, {"success": True, "errors": [], "result": tunnels})
            return
        failure = {"success": False, "errors": [{"code": 10429}], "result": None}
        reply(handler, 429, failure, {"Retry-After": "3600"})  # capped at Policy.max_wait
        waiting.set()  # the fetch now waits out the Retry-After

    out = tmp_path / "s.json"
    with hostile(answer) as url:
        env = {
            **os.environ,
            "CLOUDFLARE_API_TOKEN": "sekrit-token-0123456789-abcdefghij",
            "CLOUDFLARE_ACCOUNT_ID": "a",
            "CLOUDFLARE_BASE_URL": url,
            "PYTHONFAULTHANDLER": "1",  # a hang dumps every thread's stack on SIGABRT below
        }
        command = [sys.executable, "-m", "tunnelframe", "fetch", "-o", str(out), "--no-progress"]
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        ) as proc:
            try:
                assert waiting.wait(timeout=120), "the fetch never reached the server"
                proc.send_signal(signal.SIGINT)
                try:
                    # Far below the capped wait (Policy.max_wait, 300 s), with room for a loaded
                    # machine: the process stops on the signal, not on a clock.
                    _, err = proc.communicate(timeout=200)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGABRT)
                    pytest.fail(f"the fetch ignored Ctrl+C; its threads:\n{proc.communicate()[1]}")
            finally:
                proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "tunnelframe: interrupted"
    assert list(tmp_path.iterdir()) == []


def test_check_takes_its_rules_and_flags_from_the_report_rule_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--help"]) == 0
    help_text = capsys.readouterr().out
    for rule in tf.report.RULES:
        assert f"--no-{rule.id}" in help_text
    # config drift, which the report lists, is a check rule like the others
    snap = tf.Snapshot(
        fetched_at=SAMPLE_AS_OF, account_ids=["a"], tunnels=tf.load_sample()["tunnels"]
    )
    path = snap.save(tmp_path / "sample.json")
    others = [f"--no-{rule.id}" for rule in tf.report.RULES if rule.id != "config-drift"]
    assert main(["check", str(path), *others]) == 1
    lines = capsys.readouterr().out.splitlines()[:-1]  # the last is the summary
    # one line per connector behind its tunnel's configuration (20 in today's sample)
    assert len(lines) == len(tf.config_drift(snap.connections())) > 0
    assert all(line.startswith("[info] config-drift: connector ") for line in lines)
    assert main(["check", str(path), *others, "--no-config-drift", "-q"]) == 0


# --------------------------------------------------------------------------------------------
# check for CI and cron: exit codes, JSON, filters, ignore file, expected connections


def test_check_could_not_run_exits_2(
    api: SimulatedApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-the-token-" + "x" * 26)
    assert main(["check", "--account", api.account_id]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("tunnelframe: error: GET ")
    assert "CLOUDFLARE_API_TOKEN" in captured.err and "not-the-token" not in captured.err
    assert captured.err.count("\n") == 1  # one line, no traceback


def test_check_unreadable_ignore_file_exits_2(
    snapshot_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "ignore.toml"
    bad.write_text('[[ignore]]\npattern = "x"\n')
    assert main(["check", str(snapshot_path), "--ignore-file", str(bad)]) == 2
    assert "ignore[0].reason: a non-empty string is required" in capsys.readouterr().err
    assert main(["check", str(snapshot_path), "--ignore-file", str(tmp_path / "none")]) == 2


def test_check_json_follows_its_schema(
    snapshot_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(snapshot_path)]) == 1
    text_lines = capsys.readouterr().out.splitlines()
    assert main(["check", str(snapshot_path), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "tunnelframe.check" and doc["schema_version"] == 1
    assert doc["ok"] is False
    assert doc["as_of"] == "2026-08-20T12:00:00Z" == doc["fetched_at"]
    assert doc["fleet"] == {"tunnels": 5, "connectors": 5, "active_connections": 18}
    assert doc["rules"] == [r.id for r in tf.report.RULES]
    assert doc["counts"] == {
        "violations": 9,
        "ignored": 0,
        "expired_ignores": 0,
        "high": 6,
        "warn": 2,
        "info": 1,
    }
    # the text lines say what the JSON holds: severity, message, host
    assert [
        f"[{v['severity']}] {v['message']}" + (f"; host {v['host']}" if v["host"] else "")
        for v in doc["violations"]
    ] == text_lines[:-1]
    assert doc["violations"][0]["host"] == "198.51.100.7 (linux_amd64)"
    assert set(doc["violations"][0]) == {
        "rule",
        "severity",
        "title",
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "connector_id",
        "host",
        "message",
        "impact",
        "serves",
    }
    down = next(v for v in doc["violations"] if v["rule"] == "down")
    assert down["connector_id"] is None and down["severity"] == "high"
    assert doc["ignored"] == [] and doc["expired_ignores"] == []
    clean = ["--no-" + r.id for r in tf.report.RULES]
    assert main(["check", str(snapshot_path), "--format", "json", *clean]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_check_tunnel_patterns(snapshot_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(snapshot_path), "--tunnel", "go*", "--tunnel", "fla*"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        DOWN,
        FETCH_ERROR,
        "FAIL: 2 violations (2 high) in 2 tunnels; checked 1 tunnel, 0 connectors, "
        "0 active connections.",
    ]
    argv = ["check", str(snapshot_path), "--exclude-tunnel", "<script>*", "--exclude-tunnel"]
    assert main([*argv, "66666666-*", "--exclude-tunnel", "pipe*", "--exclude-tunnel", "gone"]) == 0
    assert capsys.readouterr().out == (
        "ok: 2 tunnels, 2 connectors, 8 active connections. No violations.\n"
    )


def test_check_ignore_file_hides_until_it_expires(
    snapshot_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ignore = tmp_path / "ignore.toml"
    ignore.write_text(
        "[[ignore]]\n"
        'pattern = "gone"\n'
        'reason = "decommissioned, OPS-1"\n'
        "[[ignore]]\n"
        'pattern = "<script>*"\n'
        'rule = "unsupported"\n'
        'reason = "vendor appliance"\n'
        "expires = 2026-08-19\n"  # the day before the snapshot: expired
        "[[ignore]]\n"
        'pattern = "c4"\n'
        'reason = "being rebuilt"\n'
        "expires = 2026-08-20\n"  # the snapshot's day: still applies
    )
    assert main(["check", str(snapshot_path), "--ignore-file", str(ignore)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert DOWN not in lines and UNSUPPORTED in lines
    assert not any(line.startswith("degraded: connector c4") for line in lines)
    # c4's two violations (vulnerable, degraded) and gone's one
    assert lines[-1].endswith(" 3 ignored. 1 expired ignore entry no longer hides anything.")
    assert captured.err == (
        "tunnelframe: warning: ignore entry '<script>*' (unsupported): vendor appliance "
        "expired on 2026-08-19: its violations are reported again\n"
    )
    assert (
        main(["check", str(snapshot_path), "--ignore-file", str(ignore), "--format", "json"]) == 1
    )
    doc = json.loads(capsys.readouterr().out)
    assert [(v["tunnel_name"], v["ignored_by"]["reason"]) for v in doc["ignored"]] == [
        (rf.PIPE, "being rebuilt"),
        (rf.PIPE, "being rebuilt"),
        ("gone", "decommissioned, OPS-1"),
    ]
    assert doc["expired_ignores"] == [
        {
            "pattern": "<script>*",
            "rule": "unsupported",
            "reason": "vendor appliance",
            "expires": "2026-08-19",
        }
    ]


def test_check_expected_connections(
    snapshot_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # c4 holds 2 active connections: degraded against 4, healthy against 2
    argv = ["check", str(snapshot_path), "--no-fetch-errors", "--no-unsupported"]
    argv += ["--no-single-connector", "--no-single-colo", "--no-single-origin"]
    argv += ["--no-vulnerable"]
    assert main(argv) == 1
    lines = capsys.readouterr().out.splitlines()[:-1]
    assert lines[0].startswith("[high] degraded: connector c4 ") and lines[1:] == [DOWN]
    assert main([*argv, "--expected-connections", "2"]) == 1
    assert capsys.readouterr().out.splitlines()[:-1] == [DOWN]
    assert main([*argv, "--expected-connections", "0"]) == 2


def test_check_releases_file_and_stale_calendar(
    snapshot_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A calendar that ends at 2026.7.3: the fleet runs 2026.8.2, newer than it knows.
    old = tmp_path / "releases.csv"
    old.write_text("version,released_on\n2026.7.3,2026-07-20\n2024.1.0,2024-01-03\n")
    argv = ["check", str(snapshot_path), "--releases", str(old), "--max-releases-behind", "0"]
    only = [f"--no-{r.id}" for r in tf.report.RULES if r.id != "releases-behind"]
    assert main([*argv, *only]) == 1
    captured = capsys.readouterr()
    assert "the latest release is taken from the fleet (2026.8.2)" in captured.err
    assert "--refresh-releases" in captured.err
    # measured against 2026.8.2 (taken from the fleet), c4 on 2026.7.3 is one behind
    assert "2026.7.3, 1 releases behind 2026.8.2" in captured.out
    # as of 2027, the bundled calendar (ends 2026-08-14) is stale: said on stderr
    assert main(["check", str(snapshot_path), "--as-of", "2027-01-01", "-q", *only]) == 0
    err = capsys.readouterr().err
    assert "The release calendar ends at 2026.8.2 (2026-08-14), 140 days before 2027-01-01" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("name,date\nx,y\n")
    assert main(["check", str(snapshot_path), "--releases", str(bad)]) == 2
    assert "needs the columns version,released_on" in capsys.readouterr().err


class _GitHubReleases(http.server.BaseHTTPRequestHandler):
    """One page of GitHub releases: 2026.8.3, two days before the snapshot."""

    def do_GET(self) -> None:
        page = [{"tag_name": "2026.8.3", "published_at": "2026-08-18T10:00:00Z"}]
        body = json.dumps(page if self.path.endswith("page=1") else []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_refresh_releases_is_used_by_the_next_command(
    snapshot_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    only = [f"--no-{r.id}" for r in tf.report.RULES if r.id != "releases-behind"]
    argv = ["check", str(snapshot_path), "--max-releases-behind", "0", *only]
    monkeypatch.setenv("TUNNELFRAME_CACHE_DIR", str(tmp_path / "cache"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GitHubReleases)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/repos/cloudflare/cloudflared/releases"
        monkeypatch.setenv("TUNNELFRAME_RELEASES_URL", url)
        assert main([*argv, "--refresh-releases"]) == 1
    finally:
        server.shutdown()
        server.server_close()
    captured = capsys.readouterr()
    assert "Release calendar refreshed: newest cloudflared 2026.8.3 (2026-08-18)." in captured.err
    # measured against 2026.8.3: c1, c2 and c5 (2026.8.2) are one behind, c4 (2026.7.3) four
    behind = [line.split(", ")[1] for line in captured.out.splitlines()[:-1] if "c4" in line]
    assert behind == ["4 releases behind 2026.8.3 (the limit is 0); host 192.0.2.44 (linux_amd64)"]
    assert len(captured.out.splitlines()[:-1]) == 5  # c1..c5
    # the next command, offline (the server is gone), reads the refreshed cache by itself
    assert main(argv) == 1
    assert captured.out == capsys.readouterr().out
    # without that cache, the bundled calendar ends at 2026.8.2: only c3 and c4 are behind
    monkeypatch.setenv("TUNNELFRAME_CACHE_DIR", str(tmp_path / "empty"))
    assert main(argv) == 1
    assert len(capsys.readouterr().out.splitlines()[:-1]) == 2


TOKEN = "simulated-token-" + "0123456789" * 2 + "abcd"  # 40 characters, as a real one


def test_simulate_as_of_now_with_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", "--port", "0", "--tunnels", "3", "--as-of", "now", "--token", TOKEN]
    started = datetime.now(UTC)
    with subprocess.Popen(
        [sys.executable, "-m", "tunnelframe", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            banner = [proc.stdout.readline() for _ in range(4)]
            env = dict(line.removeprefix("export ").strip().split("=", 1) for line in banner[1:])
            assert env["CLOUDFLARE_API_TOKEN"] == TOKEN
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            out = tmp_path / "s.json"
            # stderr is not a terminal here: no progress bar even without --no-progress
            assert main(["fetch", "-o", str(out)]) == 0
            assert "reading connectors" not in capsys.readouterr().err
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
    runs = tf.load_snapshot(out).connectors()["run_at"].dropna()
    # the fleet's times are shifted to the present: its connectors started in the last weeks
    assert len(runs) and runs.max() <= started + timedelta(minutes=1)
    assert runs.max() > started - timedelta(days=30)


def test_progress_bar_is_labelled_in_tunnels(
    api: SimulatedApi, capsys: pytest.CaptureFixture[str]
) -> None:
    with tf.Client(api.token, base_url=api.url) as client:
        tf.fetch_fleet(client=client, account_id=api.account_id, progress=True)
    # the fleet lists 5 tunnels; the inactive one has no connectors to read
    assert "reading connectors of 4 tunnels" in capsys.readouterr().err


# WARP Connector: --tun-type (--kind, its old spelling, for one release)


@pytest.fixture
def mixed_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedApi]:
    """A generated mixed fleet (cloudflared and WARP Connector) on loopback."""
    with serve(tf.simulator.generate_fleet(8, seed=3, warp_connectors=8)) as running:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", running.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", running.url)
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", running.account_id)
        yield running


def test_fetch_tun_type_picks_what_is_listed(mixed_api: SimulatedApi, tmp_path: Path) -> None:
    cfd, both = tmp_path / "cfd.json.gz", tmp_path / "both.json.gz"
    assert main(["fetch", "-o", str(cfd), "--no-progress"]) == 0
    assert main(["fetch", "--tun-type", "all", "-o", str(both), "--no-progress"]) == 0
    kinds = [{t["tun_type"] for t in tf.load_snapshot(path).tunnels} for path in (cfd, both)]
    assert kinds == [{"cfd_tunnel"}, {"cfd_tunnel", "warp_connector"}]
    lists = [path for _, path, _ in mixed_api.request_log if "/connections" not in path]
    assert "/cfd_tunnel?" in lists[0] and "/tunnels?" in lists[1]


def test_check_tun_type_filters_the_findings(
    mixed_api: SimulatedApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "both.json.gz"
    assert main(["fetch", "--tun-type", "all", "-o", str(path), "--no-progress"]) == 0
    capsys.readouterr()
    # [:-1]: the last line is the summary
    main(["check", str(path), "--tun-type", "warp_connector"])
    warp = capsys.readouterr().out.splitlines()[:-1]
    main(["check", str(path), "--tun-type", "cfd_tunnel"])
    cfd = capsys.readouterr().out.splitlines()[:-1]
    main(["check", str(path)])
    every = capsys.readouterr().out.splitlines()[:-1]
    assert warp and all(line.startswith("[high] pair-ha: WARP Connector") for line in warp)
    assert cfd and not any(line.startswith("[high] pair-ha") for line in cfd)
    assert sorted(every) == sorted(warp + cfd)
    # Live, --tun-type also says what to fetch.
    assert main(["check", "--account", mixed_api.account_id, "--tun-type", "warp_connector"]) == 1
    assert capsys.readouterr().out.splitlines()[:-1] == warp


def test_the_old_kind_spelling_works_and_says_so_in_one_line_on_stderr(
    mixed_api: SimulatedApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "both.json.gz"
    assert main(["fetch", "--kind", "all", "-o", str(path), "--no-progress"]) == 0
    note = (
        "tunnelframe: warning: --kind is deprecated and goes in the next release: write --tun-type"
    )
    assert capsys.readouterr().err.splitlines()[0] == note
    assert {t["tun_type"] for t in tf.load_snapshot(path).tunnels} == {
        "cfd_tunnel",
        "warp_connector",
    }
    runs = {}
    for option in ("--tun-type", "--kind"):
        status = main(["check", str(path), option, "warp_connector"])
        runs[option] = (status, capsys.readouterr())
    (new, new_out), (old, old_out) = runs["--tun-type"], runs["--kind"]
    assert old == new == 1  # the exit status is the command's own
    assert old_out.out == new_out.out and "deprecated" not in old_out.out  # stdout: data only
    assert old_out.err == note + "\n" + new_out.err  # one line more, no traceback
    assert "deprecated" not in new_out.err
    for command in (["report", str(path), "-o", str(tmp_path / "r.md")], ["check", str(path)]):
        assert main([*command, "--tun-type", "all", "--kind", "all"]) == 2
        assert "not allowed with argument --tun-type" in capsys.readouterr().err
    # the snapshot command hands the library its own spelling: nothing deprecated is said
    assert main(["snapshot", "--store", str(tmp_path / "store"), "--tun-type", "all"]) == 0
    assert "deprecated" not in capsys.readouterr().err


def test_simulate_on_an_impossible_port_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", "--port", "70000"]) == 2
    assert "a TCP port is 0 to 65535, not 70000" in capsys.readouterr().err


def test_outputs_are_checked_before_the_fetch(
    api: SimulatedApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = ["--account", api.account_id]
    missing = tmp_path / "no-such-folder" / "s.json.gz"
    assert main(["fetch", *account, "-o", str(missing), "--no-progress"]) == 2
    assert f"the folder {missing.parent} does not exist" in capsys.readouterr().err
    a_file = tmp_path / "store"
    a_file.write_text("not a folder")
    assert main(["snapshot", *account, "--store", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert f"--store {a_file}: is a file, not a history store folder" in err
    assert api.n_requests == 0  # nothing fetched in vain


def test_a_damaged_snapshot_is_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = rf.snapshot().save(tmp_path / "snap.json.gz").read_bytes()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(good[: len(good) // 2])
    assert main(["report", str(cut), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"tunnelframe: error: {cut}: a damaged gzip file")


# --------------------------------------------------------------------------------------------
# exit codes and terminals (issue 22)


def _bad_snapshot(tmp_path: Path, **error: object) -> Path:
    snap = rf.snapshot()
    record = {"account_id": "a", "tunnel_id": "t9", "tunnel_name": "x", "status": 503,
              "codes": [], "message": "HTTP 503"}  # fmt: skip
    snap.errors.append({**record, **error})
    path = tmp_path / "bad.json"
    document = json.loads(snap.save(tmp_path / "good.json").read_text())
    document["errors"] = snap.errors
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    "case", ["codes", "status", "ignore-list", "ignore-deep", "bug", "bug-debug"]
)
def test_everything_that_is_not_found_something_exits_2(
    case: str,
    tmp_path: Path,
    snapshot_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["check", str(snapshot_path)]
    if case == "codes":
        argv = ["check", str(_bad_snapshot(tmp_path, codes=5))]
    elif case == "status":
        argv = ["diff", str(_bad_snapshot(tmp_path, status=4.5)), str(snapshot_path)]
    elif case == "ignore-list":
        ignore = tmp_path / "ignore.toml"
        ignore.write_text("ignore = [1, 2]\n")
        argv += ["--ignore-file", str(ignore)]
    elif case == "ignore-deep":
        ignore = tmp_path / "ignore.toml"
        ignore.write_text("ignore = " + "[" * 20_000 + "]" * 20_000 + "\n")
        argv += ["--ignore-file", str(ignore)]
    else:

        def broken(*args: object, **kwargs: object) -> object:
            raise ZeroDivisionError("a bug")

        monkeypatch.setattr(tf.cli, "write_report", broken)
        argv = ["report", str(snapshot_path), "-o", str(tmp_path / "r.html")]
        if case == "bug-debug":
            argv.insert(0, "--debug")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("tunnelframe: error: ") or "Traceback" in err
    assert ("Traceback" in err) == (case == "bug-debug")


def test_ctrl_c_during_a_duckdb_query_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import duckdb

    store = tmp_path / "store"
    for snapshot in tf.simulator.generate_history(2, days=1, every="12h", seed=1):
        tf.append_snapshot(snapshot, store)

    def slow_query(*args: object, **kwargs: object) -> object:
        return duckdb.sql("SELECT count(*) FROM range(100000000000) a").fetchall()

    monkeypatch.setattr(tf.cli, "history_summary", slow_query)
    main_id = threading.main_thread().ident
    assert main_id is not None
    timer = threading.Timer(1.0, signal.pthread_kill, (main_id, signal.SIGINT))
    timer.start()
    try:
        assert main(["history", str(store)]) == 130
    finally:
        timer.cancel()
    assert capsys.readouterr().err.strip().endswith("tunnelframe: interrupted")


def test_simulate_help_lists_every_setting_of_the_simulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", "--help"]) == 0
    out = capsys.readouterr().out
    options = {"n_tunnels": "--tunnels", "as_of": "--as-of"}
    for name in inspect.signature(tf.simulator.simulate).parameters:
        if name != "out":  # the CLI's stdout
            assert re.search(rf"^  {options.get(name, '--' + name)} \S+\s+\S", out, re.M), name
    assert main(["simulate", "--budget", "12"]) == 2
    assert "not REQUESTS/SECONDS" in capsys.readouterr().err


def test_simulate_exits_130_on_ctrl_c(capsys: pytest.CaptureFixture[str]) -> None:
    main_id = threading.main_thread().ident
    assert main_id is not None
    timer = threading.Timer(1.0, signal.pthread_kill, (main_id, signal.SIGINT))
    timer.start()
    try:
        assert main(["simulate", "--port", "0", "--tunnels", "2"]) == 130
    finally:
        timer.cancel()
    assert "interrupted" in capsys.readouterr().err


def test_diff_into_head_is_no_broken_pipe(tmp_path: Path) -> None:
    old = tf.Snapshot(
        fetched_at=datetime(2026, 8, 19, tzinfo=UTC), account_ids=["a"],
        tunnels=tf.simulator.generate_fleet(400, seed=1)["tunnels"],
    )  # fmt: skip
    new = tf.Snapshot(
        fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
        tunnels=tf.simulator.generate_fleet(400, seed=2)["tunnels"],
    )  # fmt: skip
    a, b = old.save(tmp_path / "a.json"), new.save(tmp_path / "b.json")
    assert len(tf.diff_snapshots(a, b)) > 2000  # far more than a pipe holds
    script = (
        f"{sys.executable} -m tunnelframe diff {a} {b} 2>{tmp_path / 'err'} | head -1; "
        "echo ${PIPESTATUS[0]}"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    first, status = done.stdout.splitlines()
    assert first and status == "1"  # changes found, whoever stopped reading
    assert (tmp_path / "err").read_text() == ""


def test_bidi_controls_and_escapes_are_escaped_on_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = rf.snapshot()
    new = rf.snapshot()
    new.fetched_at = rf.AS_OF + timedelta(days=1)
    new.tunnels[0]["name"] = new.tunnels[1]["name"] = "web\u202egnp.exe\x1b[2J"
    old.tunnels[0]["connectors"][0]["version"] = "2024.1.0"  # upgraded since: a change
    a, b = old.save(tmp_path / "a.json"), new.save(tmp_path / "b.json")
    for argv in (["diff", str(a), str(b)], ["check", str(b)]):
        assert main(argv) == 1
        out = capsys.readouterr().out
        assert "\u202e" not in out and "\x1b" not in out
        assert "\\u202e" in out
    store = tmp_path / "store"
    tf.append_snapshot(new, store)
    (store / "evil\x1b]0;owned\x07\u2066.txt").write_text("x")
    assert main(["history", str(store)]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u2066" not in err and "\x07" not in err
    assert "tunnelframe: warning: ignoring" in err and "\\x1b]0;owned" in err


def test_snapshot_exits_0_when_only_the_compaction_after_the_append_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(*args: object, **kwargs: object) -> object:
        raise tf.TunnelframeError("disk full")

    monkeypatch.setattr(tf, "compact_history", failing)
    store = tmp_path / "store"
    with serve(tf.simulator.generate_fleet(3, seed=1)) as api:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", api.account_ids[0])
        assert main(["snapshot", "--store", str(store)]) == 0
    out, err = capsys.readouterr()
    assert "Appended to" in out
    assert "warning: the snapshot is stored, but compacting the store failed: disk full" in err
    assert tf.store_info(store).n_snapshots == 1
