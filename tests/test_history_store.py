"""Tests of the history store's layout: compaction, its safety, the format version, odd files.

The reference for every query is the same history read as a file per snapshot (the layout of
tunnelframe 0.1): compaction must not change any answer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal, assert_index_equal

import tunnelframe as tf
from tunnelframe.history import _layout
from tunnelframe.history._facts import FACT_KINDS as _FACT_KINDS

# 20 tunnels every 3 hours over 2 days: 17 snapshots on 2026-08-18, -19 and -20.
N_TUNNELS, DAYS, EVERY = 20, 2, "3h"
END = "2026-08-21T00:00Z"  # every day of the history has ended

QUERIES: dict[str, Callable[[Any], pd.DataFrame]] = {
    "version_rollout": tf.version_rollout,
    "churn": tf.connector_churn,
    "churn_host": lambda h: tf.connector_churn(h, per="host"),
    "churn_event": lambda h: tf.connector_churn(h, per="event"),
    "colo_shifts": tf.colo_shifts,
    "ha_timeline": tf.ha_timeline,
    "ha_episodes": tf.ha_episodes,
    "load_history": tf.load_history,
    "latest": lambda h: tf.load_history(h, latest=True),
}


@pytest.fixture(scope="module")
def snapshots() -> list[tf.Snapshot]:
    return list(tf.simulator.generate_history(N_TUNNELS, days=DAYS, every=EVERY, seed=7))


@pytest.fixture(scope="module")
def appended(snapshots: list[tf.Snapshot], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store as appended (a file per snapshot), built once: tests get a copy (``store``)."""
    root = tmp_path_factory.mktemp("appended") / "store"
    for snapshot in snapshots:
        tf.append_snapshot(snapshot, root)
    return root


@pytest.fixture(scope="module")
def reference(appended: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every query's answer on the store as appended (a file per snapshot)."""
    root = tmp_path_factory.mktemp("reference") / "store"
    shutil.copytree(appended, root)
    return {name: query(root) for name, query in QUERIES.items()}


@pytest.fixture
def store(appended: Path, tmp_path: Path) -> Path:
    """A copy of the appended store, this test's to change."""
    root = tmp_path / "store"
    shutil.copytree(appended, root)
    return root


def assert_close(left: pd.DataFrame, right: pd.DataFrame, obj: str = "DataFrame") -> None:
    """``assert_frame_equal(check_exact=False)``, the categorical columns compared exactly.

    Hours are summed over runs instead of snapshots: floats are equal up to rounding. Labels
    (categories) are never rounded, and pandas' tolerant path walks them value by value in
    Python (most of this module's time): they are compared exactly, codes and categories.
    """
    assert_index_equal(left.columns, right.columns, obj=f"{obj}.columns")
    labels = [c for c in left.columns if isinstance(left[c].dtype, pd.CategoricalDtype)]
    others = [c for c in left.columns if c not in labels]
    assert_frame_equal(left[labels], right[labels], check_exact=True, obj=obj)
    assert_frame_equal(left[others], right[others], check_exact=False, obj=obj)


def assert_same_answers(
    store: Path, reference: dict[str, pd.DataFrame], names: tuple[str, ...] = tuple(QUERIES)
) -> None:
    for name in names:
        assert_close(QUERIES[name](store), reference[name], obj=name)


def _layout_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_compacted_store_answers_every_query_as_before(store: Path, reference: Any) -> None:
    assert tf.compact_history(store, now=END) == ["2026-08-18", "2026-08-19", "2026-08-20"]
    files = _layout_files(store)
    assert [f for f in files if f.startswith("date=")] == [
        f"date=2026-08-{d}/compacted-000001.parquet" for d in (18, 19, 20)
    ]
    assert sum(f.startswith("_facts/") for f in files) == 3 * len(_FACT_KINDS)
    assert_same_answers(store, reference)
    assert tf.compact_history(store, now=END) == []  # nothing left to do


def test_a_store_of_compacted_days_and_fresh_files_answers_as_before(
    store: Path, reference: Any, snapshots: list[tf.Snapshot], tmp_path: Path
) -> None:
    # Only the first day has ended: the second stays a file per snapshot.
    assert tf.compact_history(store, now="2026-08-19T06:00Z") == ["2026-08-18"]
    assert_same_answers(store, reference)
    # A snapshot arriving late in a compacted day is read beside it, then compacted into it.
    late = tmp_path / "late"
    for snapshot in snapshots:
        if snapshot.fetched_at.day == 18 and snapshot.fetched_at.hour != 21:
            tf.append_snapshot(snapshot, late)
    tf.compact_history(late, now="2026-08-19T06:00Z")
    for snapshot in snapshots:
        if snapshot.fetched_at.day != 18 or snapshot.fetched_at.hour == 21:
            tf.append_snapshot(snapshot, late)
    names = sorted(p.name for p in (late / "date=2026-08-18").iterdir())
    assert names[0].startswith("20260818T210000") and names[1:] == ["compacted-000001.parquet"]
    assert_same_answers(late, reference)
    assert tf.compact_history(late, now=END) == ["2026-08-18", "2026-08-19", "2026-08-20"]
    assert [p.name for p in (late / "date=2026-08-18").iterdir()] == ["compacted-000002.parquet"]
    assert_same_answers(late, reference)


def test_a_day_still_open_keeps_its_facts_as_snapshots_arrive(
    snapshots: list[tf.Snapshot], tmp_path: Path, reference: Any
) -> None:
    root = tmp_path / "store"
    late = next(s for s in snapshots if s.fetched_at.isoformat() == "2026-08-20T06:00:00+00:00")
    for snapshot in snapshots:
        if snapshot is not late:
            tf.append_snapshot(snapshot, root)
            if snapshot.fetched_at.day == 20:  # as `tunnelframe snapshot` does, on the open day
                tf.compact_history(root, now=snapshot.fetched_at)
    facts = sorted(p.name for p in (root / "_facts" / "date=2026-08-20").iterdir())
    assert facts == [f"open-000004-{kind}.parquet" for kind in sorted(_FACT_KINDS)]
    assert_same_answers_but(root, reference, late)
    # a snapshot arriving out of order: the checkpoint no longer covers a prefix of the day
    tf.append_snapshot(late, root)
    assert_same_answers(root, reference)
    tf.compact_history(root, now="2026-08-20T23:00Z")
    assert_same_answers(root, reference)
    tf.compact_history(root, now=END)
    assert not (root / "_facts" / "date=2026-08-20" / "open-000004-snaps.parquet").exists()
    assert_same_answers(root, reference)


def assert_same_answers_but(root: Path, reference: Any, missing: tf.Snapshot) -> None:
    """The answers of the store without ``missing``: those of a store of the others."""
    alone = root.parent / "without"
    for snapshot in tf.simulator.generate_history(N_TUNNELS, days=DAYS, every=EVERY, seed=7):
        if snapshot.fetched_at != missing.fetched_at:
            tf.append_snapshot(snapshot, alone)
    for name in ("version_rollout", "churn_event", "colo_shifts", "ha_episodes", "ha_timeline"):
        expected = QUERIES[name](alone)
        assert_close(QUERIES[name](root), expected, obj=name)


def test_a_history_frame_answers_as_its_store(store: Path, reference: Any) -> None:
    tf.compact_history(store, now=END)
    frame = tf.load_history(store)
    for name in ("version_rollout", "churn", "colo_shifts", "ha_episodes"):
        assert_close(QUERIES[name](frame), reference[name], obj=name)


# -- compaction while others read and write ----------------------------------------------------


def _mutations(monkeypatch: pytest.MonkeyPatch, fail_at: int | None) -> list[str]:
    """Count the renames and deletions a compaction makes; raise at number ``fail_at``."""
    done: list[str] = []
    replace, unlink = os.replace, Path.unlink

    def step(what: str) -> None:
        if len(done) == fail_at:
            raise KeyboardInterrupt(f"killed before {what}")
        done.append(what)

    def counted_replace(src: Any, dst: Any) -> None:
        step(f"rename {Path(dst).name}")
        replace(src, dst)

    def counted_unlink(self: Path, missing_ok: bool = False) -> None:
        step(f"delete {self.name}")
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(os, "replace", counted_replace)
    monkeypatch.setattr(Path, "unlink", counted_unlink)
    return done


def test_a_compaction_killed_at_any_step_leaves_the_store_readable_and_complete(
    snapshots: list[tf.Snapshot], tmp_path: Path
) -> None:
    # One day to compact (2026-08-18), one left open beside it (-19): the store's third day
    # would only repeat the open day's steps, and every step is a compaction and five queries.
    first_day_over = "2026-08-19T00:00Z"
    pristine = tmp_path / "pristine"
    for snapshot in snapshots:
        if snapshot.fetched_at.day < 20:
            tf.append_snapshot(snapshot, pristine)
    store = tmp_path / "store"
    shutil.copytree(pristine, store)
    reference = {name: query(store) for name, query in QUERIES.items()}
    with pytest.MonkeyPatch.context() as patch:
        steps = _mutations(patch, None)
        tf.compact_history(store, now=first_day_over)
    # 2026-08-18: the 6 facts, the compacted file, deleting its 4 snapshots (12:00 to 21:00);
    # 2026-08-19, still open: a checkpoint of 6 facts
    assert len(steps) == 2 * len(_FACT_KINDS) + 5 == 17, steps
    assert steps[-len(_FACT_KINDS) - 1].startswith("delete 20260818T210000"), steps
    for fail_at in range(len(steps)):
        shutil.rmtree(store)
        shutil.copytree(pristine, store)
        with pytest.MonkeyPatch.context() as patch:
            _mutations(patch, fail_at)
            with pytest.raises(KeyboardInterrupt, match="killed before"):
                tf.compact_history(store, now=first_day_over)
        # every snapshot once (the rows), and what the facts say (rollup, runs)
        assert_same_answers(store, reference, ("load_history", "version_rollout", "churn_event"))
        tf.compact_history(store, now=first_day_over)  # finishes the job
        assert [f for f in _layout_files(store) if f.startswith("date=2026-08-18")] == [
            "date=2026-08-18/compacted-000001.parquet"
        ], f"killed at step {fail_at}: {steps[fail_at]}"
        assert_same_answers(store, reference, ("load_history", "ha_episodes"))
    assert_same_answers(store, reference)


@pytest.mark.parametrize("at", [7, 10])
def test_ctrl_c_during_history_compact_exits_130_and_leaves_the_store_whole(
    store: Path, reference: Any, tmp_path: Path, at: int
) -> None:
    # A real SIGINT to a real `tunnelframe history --compact`, sent while it waits before its
    # ``at``-th file (7: the first day's rows, its 6 facts written; 10: the second day, the
    # first one done): no timing luck, the process says where it is.
    gate = tmp_path / "gate"
    gate.mkdir()
    env = {**os.environ, _layout.PAUSE_ENV: f"{at}:{gate}"}
    command = [sys.executable, "-m", "tunnelframe", "history", str(store), "--compact"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            deadline = time.monotonic() + 120
            while not (gate / "paused").exists():
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the compaction never reached its pause"
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, err
    assert err.decode().strip() == "tunnelframe: interrupted"
    assert b"Compacted" not in out
    assert_same_answers(store, reference)  # readable and complete
    assert tf.compact_history(store, now=END) == ["2026-08-18", "2026-08-19", "2026-08-20"][
        (at > 7) :
    ]  # fmt: skip
    assert [f for f in _layout_files(store) if "/2026" in f] == []  # every snapshot file compacted
    assert_same_answers(store, reference)


@pytest.mark.parametrize("name", ["version_rollout", "churn_event", "load_history", "latest"])
def test_a_reader_planning_before_a_compaction_reads_again_after_it(
    store: Path, reference: Any, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    real_plan = _layout.plan
    calls: list[int] = []

    def plan_then_compact(*args: Any, **kwargs: Any) -> _layout.Plan:
        planned = real_plan(*args, **kwargs)
        if not calls:  # the first plan lists the snapshot files; they vanish before reading
            tf.compact_history(store, now=END)
        calls.append(1)
        return planned

    monkeypatch.setattr(_layout, "plan", plan_then_compact)
    assert_close(QUERIES[name](store), reference[name], obj=name)
    assert len(calls) == 2  # read again once, after the compaction


def test_readers_see_every_snapshot_once_while_a_writer_appends_and_compactions_run(
    snapshots: list[tf.Snapshot], tmp_path: Path
) -> None:
    root = tmp_path / "store"
    expected = {
        pd.Timestamp(s.fetched_at): len(tf.load_history(_one(s, tmp_path / f"one{i}")))
        for i, s in enumerate(snapshots)
    }
    appended: list[pd.Timestamp] = []
    tf.append_snapshot(snapshots[0], root)
    appended.append(pd.Timestamp(snapshots[0].fetched_at))
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for snapshot in snapshots[1:]:
                tf.append_snapshot(snapshot, root)
                appended.append(pd.Timestamp(snapshot.fetched_at))
                # compact each day as soon as the writer has moved past it
                tf.compact_history(root, now=snapshot.fetched_at)
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    reads = 0
    while not done.is_set() or reads < 3:
        before = list(appended)
        rows = tf.load_history(root).groupby("fetched_at").size()
        rollout = tf.version_rollout(root)
        # no snapshot missing, none twice, none partial
        assert set(before) <= set(rows.index)
        assert set(rows.index) <= set(expected)
        assert all(rows[t] == expected[t] for t in rows.index)
        assert set(before) <= set(rollout["fetched_at"])
        reads += 1
    writer.join()
    assert not errors
    assert reads >= 3
    assert tf.store_info(root).n_compacted_days >= 2


def _one(snapshot: tf.Snapshot, root: Path) -> Path:
    tf.append_snapshot(snapshot, root)
    return root


def test_a_second_compaction_at_the_same_time_does_nothing(store: Path) -> None:
    with _layout._locked(store) as held:
        assert held
        assert tf.compact_history(store, now=END) == []
    assert tf.compact_history(store, now=END) == ["2026-08-18", "2026-08-19", "2026-08-20"]


# -- the format version and migrations ---------------------------------------------------------


def test_a_new_store_records_its_format_version_and_columns(store: Path) -> None:
    meta = json.loads((store / "_tunnelframe.json").read_text())
    assert meta["format_version"] == tf.history.FORMAT_VERSION == 3
    assert list(meta["columns"]) == tf.history.STORE_SCHEMA.names
    assert tf.store_info(store).format_version == 3


def test_a_tunnelframe_0_1_store_reads_as_is_and_migrates_with_one_call(
    store: Path, reference: Any
) -> None:
    (store / "_tunnelframe.json").unlink()  # 0.1 wrote no version file
    assert tf.store_info(store).format_version == 1
    assert_same_answers(store, reference)
    older = r"has format 1, older than .*\(3\): migrate .* --migrate"
    with pytest.raises(tf.TunnelframeError, match=older):
        tf.compact_history(store, now=END)
    assert tf.migrate_history(store, now=END) == 1
    info = tf.store_info(store)
    assert (info.format_version, info.n_days, info.n_compacted_days) == (3, 3, 3)
    assert info.n_snapshots == 17
    assert_same_answers(store, reference)


def test_other_columns_are_a_migration_never_a_misread(store: Path, reference: Any) -> None:
    # A store written when the columns were in another order and one was missing.
    meta_path = store / "_tunnelframe.json"
    meta = json.loads(meta_path.read_text())
    meta["columns"] = dict(reversed(list(meta["columns"].items())))
    del meta["columns"]["uuid"]  # added since: reads as null
    meta["columns"]["legacy"] = "string"  # removed since: a migration
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(tf.TunnelframeError, match=r"columns differ .* --migrate"):
        tf.version_rollout(store)
    first = sorted(store.glob("date=*/*.parquet"))[0]
    table = pq.read_table(first)
    kept = table.drop_columns(["uuid"])
    old = kept.select(list(reversed(kept.column_names)))
    pq.write_table(old.replace_schema_metadata(table.schema.metadata), first)
    tf.migrate_history(store, now=END)
    assert_same_answers(store, reference)


def test_a_store_of_a_newer_format_is_refused(store: Path) -> None:
    meta = json.loads((store / "_tunnelframe.json").read_text())
    (store / "_tunnelframe.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(tf.TunnelframeError, match=r"format 99 is newer .* upgrade tunnelframe"):
        tf.load_history(store)
    with pytest.raises(tf.TunnelframeError, match=r"format 99 is newer"):
        tf.append_snapshot(next(tf.simulator.generate_history(2, days=0)), store)


# -- odd paths and files -------------------------------------------------------------------------


def test_a_store_path_with_glob_characters_reads_that_store(
    snapshots: list[tf.Snapshot], tmp_path: Path, reference: Any
) -> None:
    store = tmp_path / "store[1]"
    for snapshot in snapshots:
        tf.append_snapshot(snapshot, store)
    for snapshot in tf.simulator.generate_history(3, days=1, every="6h", seed=1):
        tf.append_snapshot(snapshot, tmp_path / "store1")  # what the glob [1] would match
    assert_same_answers(store, reference)
    tf.compact_history(store, now=END)
    assert_same_answers(store, reference)


def test_foreign_files_are_ignored_with_a_warning(store: Path, reference: Any) -> None:
    (store / "README").write_text("my notes")
    pq.write_table(pa.table({"x": [1, 2]}), store / "date=2026-08-19" / "other.parquet")
    pq.write_table(
        pa.table({"x": [1]}), store / "date=2026-08-19" / "20260819T010000.000000Z-00000000.parquet"
    )
    for name, query in QUERIES.items():
        foreign = r"ignoring .*(README|other\.parquet|-00000000\.parquet)"
        with pytest.warns(tf.history.StoreWarning, match=foreign):
            answer = query(store)
        assert_close(answer, reference[name], obj=name)


def test_a_damaged_compacted_day_is_named_and_the_other_days_stay_readable(
    store: Path, reference: Any
) -> None:
    tf.compact_history(store, now=END)
    damaged = store / "date=2026-08-19" / "compacted-000001.parquet"
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(tf.TunnelframeError, match=r"date=2026-08-19/compacted-000001\.parquet"):
        tf.load_history(store)
    later = tf.load_history(store, start="2026-08-20")
    everything = reference["load_history"]
    expected = everything[everything["fetched_at"] >= pd.Timestamp("2026-08-20", tz="UTC")]
    # (the categories are those of the rows read)
    assert_frame_equal(later.astype(object), expected.reset_index(drop=True).astype(object))


# -- beyond one machine --------------------------------------------------------------------------


# dask (2026.8) still passes inplace= to pandas 3.1, which deprecates it: dask's warning.
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index is deprecated")
def test_dask_reads_the_compacted_store_and_gets_the_same_rollout(store: Path) -> None:
    dd = pytest.importorskip("dask.dataframe")
    tf.compact_history(store, now="2026-08-20T06:00Z")  # two days compacted, one open
    # The README's read: the rows are the Parquet files of the date=... partitions.
    rows = dd.read_parquet(
        f"{store}/date=*/*.parquet", columns=["fetched_at", "version", "connector_id"]
    )
    counts = (
        rows.dropna(subset=["connector_id"])
        .astype({"version": "string", "connector_id": "string"})
        .groupby(["fetched_at", "version"])["connector_id"]
        .nunique()
        .compute()
        .sort_index()
    )
    rollout = tf.version_rollout(store).astype({"version": "string"})
    expected = rollout.set_index(["fetched_at", "version"])["n_connectors"].sort_index()
    assert counts.to_dict() == expected.to_dict()


# -- the command line ----------------------------------------------------------------------------


def test_cli_history_prints_the_store_and_compacts_or_migrates_on_demand(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunnelframe.cli import main

    (store / "_tunnelframe.json").unlink()  # a tunnelframe 0.1 store
    assert main(["history", str(store), "--compact"]) == 2
    assert "--migrate" in capsys.readouterr().err
    assert main(["history", str(store), "--migrate"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Migrated {store} from format 1 to 3."
    # the clock says 2026-08-20 has ended too: every day is compacted
    assert re.fullmatch(
        r"Store: format 3, 3 days \(3 compacted\), 17 snapshots, [\d.]+ MB in 23 files\.", lines[1]
    )
    assert len(lines) == 2
    assert main(["history", str(store), "--compact"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Nothing to compact."
    assert main(["history", str(store)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Store: format 3, 3 days (3 compacted), 17 snapshots")
    assert out[1] == "17 snapshots from 2026-08-18 12:00 to 2026-08-20 12:00 UTC, 1 account."


def test_cli_snapshot_compacts_the_days_that_have_ended(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunnelframe.cli import main

    fleet = tf.simulator.generate_fleet(3, seed=1)
    with tf.simulator.serve(fleet) as api:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        account = api.account_ids[0]
        assert main(["snapshot", "--account", account, "--store", str(store)]) == 0
        first = capsys.readouterr().out.splitlines()
        # a run overlapping a compaction (which holds the lock) appends and leaves it alone
        with _layout._locked(store):
            assert main(["snapshot", "--account", account, "--store", str(store)]) == 0
        second = capsys.readouterr().out.splitlines()
    assert len(first) == 1 and first[0].endswith("; compacted 2026-08-18, 2026-08-19, 2026-08-20")
    assert len(second) == 1 and second[0].endswith(".parquet")
    assert tf.store_info(store).n_snapshots == 19


@pytest.mark.parametrize("compact", [False, True])
def test_latest_tolerates_a_damaged_file_of_an_earlier_day(
    store: Path, reference: dict[str, pd.DataFrame], compact: bool
) -> None:
    if compact:
        tf.compact_history(store, now=END)
    first_day = sorted(store.glob("date=*"))[0]
    damaged = sorted(first_day.glob("*.parquet"))[0]
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.warns(tf.history.StoreWarning, match=r"damaged history file .*left out: its day"):
        latest = tf.load_history(store, latest=True)
    assert_frame_equal(latest, reference["latest"])
    with pytest.raises(tf.TunnelframeError, match="damaged"):
        tf.load_history(store)  # every day read: the damage is an error
    last_day = sorted(store.glob("date=*"))[-1]
    newest = sorted(last_day.glob("*.parquet"))[-1]
    newest.write_bytes(newest.read_bytes()[:100])
    with pytest.raises(tf.TunnelframeError, match="damaged history file"):
        tf.load_history(store, latest=True)  # the latest day itself: it may hold the latest


def _small_store(root: Path) -> Path:
    for snapshot in tf.simulator.generate_history(3, days=1, every="12h", seed=3):
        tf.append_snapshot(snapshot, root)
    return root


def test_a_store_path_with_a_tilde_is_the_home_folder_for_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    elsewhere.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    _small_store(Path("~/store"))
    assert (home / "store" / _layout.VERSION_FILE).exists()
    assert not (elsewhere / "~").exists()
    rows = tf.load_history("~/store")
    assert len(rows) == len(tf.load_history(home / "store")) > 0
    assert len(tf.version_rollout("~/store")) == len(tf.version_rollout(home / "store")) > 0


def test_a_file_the_plan_listed_that_is_missing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _small_store(tmp_path / "store")
    real_plan = _layout.plan

    def plan_then_lose_a_file(*args: Any, **kwargs: Any) -> _layout.Plan:
        listed = real_plan(*args, **kwargs)
        files = listed.row_files()
        if files:
            files[0].unlink()  # removed by hand between the listing and the read
        return listed

    monkeypatch.setattr(_layout, "plan", plan_then_lose_a_file)
    with pytest.raises(tf.TunnelframeError, match="a file it lists is missing and no compaction"):
        tf.load_history(root)


def test_migrate_refuses_a_newer_store(tmp_path: Path) -> None:
    root = _small_store(tmp_path / "store")
    version = root / _layout.VERSION_FILE
    meta = json.loads(version.read_text())
    newer = {**meta, "format_version": _layout.FORMAT_VERSION + 1, "columns": {"x": "int64"}}
    version.write_text(json.dumps(newer))
    before = sorted(p.read_bytes() for p in root.rglob("*.parquet"))
    with pytest.raises(tf.TunnelframeError, match=r"is newer than this tunnelframe's .* migrated"):
        tf.migrate_history(root)
    assert json.loads(version.read_text()) == newer  # nothing rewritten down
    assert sorted(p.read_bytes() for p in root.rglob("*.parquet")) == before


def test_migrate_refuses_a_folder_without_a_snapshot(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(tf.TunnelframeError, match="is not a history store: it has no version"):
        tf.migrate_history(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["holiday.jpg"]


def test_a_version_file_with_an_absurd_number_is_a_clear_error(tmp_path: Path) -> None:
    root = _small_store(tmp_path / "store")
    version = root / _layout.VERSION_FILE
    version.write_text(version.read_text().replace(f": {_layout.FORMAT_VERSION},", ": 1e400,"))
    assert "1e400" in version.read_text()
    with pytest.raises(tf.TunnelframeError, match="not a tunnelframe version file"):
        tf.load_history(root)
    with pytest.raises(tf.TunnelframeError, match="not a tunnelframe version file"):
        tf.migrate_history(root)
