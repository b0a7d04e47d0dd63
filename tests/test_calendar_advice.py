"""Advice about the release calendar names what its reader can type.

A command-line user is told the options (``--refresh-releases``, ``--releases FILE``); a Python
caller the keyword arguments (``releases=``, ``latest=``); never the other's. Each path that
gives the advice is tried from both sides: the stale-calendar note (stderr, the report, the
warning), the "fleet runs a newer release" note, and a refresh that cannot reach GitHub (the
loopback port 9 answers nothing).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import _report_fleet as rf
import pytest

import tunnelframe as tf
from tunnelframe.cli import main

#: What only a Python caller can type, and what only a command-line user can.
KEYWORDS = re.compile(r"\b(releases|latest)=")
OPTIONS = re.compile(r"--(refresh-)?releases\b")
DEAD = "http://127.0.0.1:9/releases"


def _says_cli_words(text: str) -> None:
    assert OPTIONS.search(text), text
    assert not KEYWORDS.search(text), text


def _says_python_words(text: str) -> None:
    assert KEYWORDS.search(text), text
    assert not OPTIONS.search(text), text


@pytest.fixture
def snapshot_path(tmp_path: Path) -> Path:
    return rf.snapshot().save(tmp_path / "snap.json.gz")


def test_a_stale_calendar_on_the_command_line_names_options(
    snapshot_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.md"
    assert main(["report", str(snapshot_path), "-o", str(out), "--as-of", "2027-01-01"]) == 0
    err = capsys.readouterr().err
    assert "The release calendar ends at 2026.8.2" in err
    _says_cli_words(err)
    assert "--refresh-releases" in err and "--releases FILE" in err
    # the report the command wrote says it in the same words
    text = out.read_text(encoding="utf-8").replace("\\", "")
    assert "The release calendar ends at 2026.8.2" in text
    _says_cli_words(text)


def test_a_stale_calendar_in_python_names_keywords(tmp_path: Path) -> None:
    with pytest.warns(tf.StaleReleasesWarning) as record:
        tf.version_drift(rf.fleet(), as_of="2027-01-01")
    _says_python_words(str(record[0].message))
    assert "releases=tunnelframe.refresh_releases()" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tf.StaleReleasesWarning)
        text = tf.write_report(rf.fleet(), tmp_path / "r.md", as_of="2027-01-01").read_text()
    assert "The release calendar ends at 2026.8.2" in text
    _says_python_words(text.replace("\\", ""))


def test_a_fleet_newer_than_the_calendar_is_told_in_each_readers_words(
    snapshot_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "releases.csv"
    old.write_text("version,released_on\n2026.7.3,2026-07-20\n2024.1.0,2024-01-03\n")
    assert main(["check", str(snapshot_path), "--releases", str(old), "-q"]) == 1
    err = capsys.readouterr().err
    (note,) = [line for line in err.splitlines() if "newer than the newest release" in line]
    _says_cli_words(note)
    notes = tf.report.calendar_notes(rf.snapshot(), as_of=rf.AS_OF, releases=old)
    (note,) = [n for n in notes if "newer than the newest release" in n]
    _says_python_words(note)


def test_a_failed_refresh_is_told_in_each_readers_words(
    snapshot_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TUNNELFRAME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TUNNELFRAME_RELEASES_URL", DEAD)
    argv = ["report", str(snapshot_path), "-o", str(tmp_path / "r.md"), "--refresh-releases"]
    assert main(argv) == 2
    (error,) = capsys.readouterr().err.splitlines()
    assert error.startswith("tunnelframe: error: GET http://127.0.0.1:9/releases failed")
    _says_cli_words(error)
    assert "--releases FILE" in error
    with pytest.raises(tf.TunnelframeError) as caught:
        tf.refresh_releases(url=DEAD, timeout=2, cache_dir=tmp_path / "cache")
    _says_python_words(str(caught.value))
