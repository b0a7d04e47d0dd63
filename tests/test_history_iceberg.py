"""The Iceberg history target: same answers as the local store, safe writers, clear faults.

SQLite catalogs run everywhere; the concurrent-writer test starts its own PostgreSQL 15
cluster on loopback (Debian's ``postgresql``) and the Spark test runs PySpark in local mode
(Java from ``default-jre-headless``); each skips, saying what to install, where absent.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe._errors import TunnelframeError
from tunnelframe.history import (
    IcebergHistory,
    _iceberg,
    compact_iceberg,
    export_iceberg,
    history_summary,
    iceberg_history,
    load_latest,
)
from tunnelframe.history._store import _to_table

pytest.importorskip("pyiceberg", reason="pip install 'tunnelframe[iceberg]'")

QUERIES = {
    "version_rollout": tf.version_rollout,
    "connector_churn": tf.connector_churn,
    "hosts": lambda h: tf.connector_churn(h, per="host"),
    "colo_shifts": tf.colo_shifts,
    "ha_timeline": tf.ha_timeline,
    "ha_episodes": tf.ha_episodes,
}
ROOT = Path(__file__).resolve().parents[1]


def _same(local: Any, table: IcebergHistory) -> None:
    for name, query in QUERIES.items():
        expected = query(local)
        assert len(expected), name
        pd.testing.assert_frame_equal(query(table), expected, obj=name)


@pytest.fixture(scope="module")
def snapshots() -> list[Any]:
    return list(tf.simulator.generate_history(10, days=3, every="2h", seed=4))


def _target(tmp_path: Path, name: str = "catalog.db") -> IcebergHistory:
    return iceberg_history(f"iceberg+sqlite:///{tmp_path}/{name}")


def _unread_and_routed(snapshots: list[Any]) -> list[Any]:
    """``snapshots`` with tunnels that could not be read (one across a midnight, one at the end)
    and routing read in some of them: what the store records beside the connections."""
    out = copy.deepcopy(snapshots)
    for index, which in [(16, 1), (17, 1), (18, 1), (35, 2), (36, 2)]:
        tunnel = out[index].tunnels[which]
        assert tunnel["connectors"], (index, which)
        tunnel["connectors"] = []
        out[index].errors.append(
            {"account_id": tunnel["account_tag"], "tunnel_id": tunnel["id"],
             "tunnel_name": tunnel["name"], "status": 503, "codes": [], "message": "HTTP 503"}
        )  # fmt: skip
    for snapshot in out[::6]:
        first = snapshot.tunnels[0]["id"]
        snapshot.routing = {"read": ["routes"], "notes": [], "routes": [
            {"id": "r1", "network": "10.1.0.0/16", "tunnel_id": first}]}  # fmt: skip
    return out


def test_queries_equal_the_local_store_before_and_after_maintenance(
    tmp_path: Path, snapshots: list[Any]
) -> None:
    store, table = tmp_path / "store", _target(tmp_path)
    snapshots = _unread_and_routed(snapshots)
    for snapshot in snapshots:
        tf.append_snapshot(snapshot, store)
        tf.append_snapshot(snapshot, table)
    _same(store, table)
    now = "2026-08-20T13:00Z"
    assert compact_iceberg(table, now=now) == tf.compact_history(store, now=now)
    _same(store, table)
    # Closed days are read from the stored facts, not derived from the rows again.
    rows, facts = table.sources()
    assert set(rows.to_pandas()["fetched_at"].dt.strftime("%Y-%m-%d")) == {"2026-08-20"}
    assert len(facts["snaps"]) > 0
    assert len(facts["unread"]) == 3  # the tunnel unread across the 18th's midnight
    assert tf.connector_churn(table, per="event").query("event == 'removed_host'").empty
    # The other records travel in the rows: routing, unread tunnels.
    records = table.load().to_pandas()["record"].value_counts().to_dict()
    assert records == {"unread": 5, "routing": 7, "route": 7}
    # The latest snapshot's view carries what its tunnels serve, as the local store's does.
    latest = load_latest(table)
    assert latest.attrs["routing"]["routes"][0]["network"] == "10.1.0.0/16"
    assert latest.attrs["routing"] == tf.load_history(store, latest=True).attrs["routing"]
    # The report's History section shows the summary: the same from either.
    mine, theirs = history_summary(table), history_summary(store)
    for field in dataclasses.fields(mine):
        pd.testing.assert_frame_equal(getattr(mine, field.name), getattr(theirs, field.name))
    # One sorted file per closed day.
    files = table.rows_table().inspect.files().to_pandas()
    assert len(files) == 3 + sum(s.fetched_at.date().isoformat() == "2026-08-20" for s in snapshots)


def test_a_retried_append_writes_nothing(tmp_path: Path, snapshots: list[Any]) -> None:
    table = _target(tmp_path)
    for snapshot in snapshots[:4]:
        tf.append_snapshot(snapshot, table)
    before = table.load().num_rows
    key = tf.append_snapshot(snapshots[1], table)
    assert key.startswith(snapshots[1].fetched_at.isoformat())
    assert table.load().num_rows == before
    compact_iceberg(table, now="2026-08-20T13:00Z")
    tf.append_snapshot(snapshots[1], table)  # its Iceberg snapshot is expired; facts know it
    assert table.load().num_rows == before


def test_maintenance_expires_what_keep_allows_and_retries_are_found_by_rows(
    tmp_path: Path,
) -> None:
    # In real time: maintenance expires the Iceberg snapshots of the day not closed yet too,
    # so a retried append to it is found by its rows (a closed day's by its facts).
    now = pd.Timestamp.now(tz="UTC").floor("min")
    older = tf.simulator.generate_history(
        4, days=1 / 24, every="20min", start=now - pd.Timedelta(days=3)
    )
    snapshots = [
        *older,
        *tf.simulator.generate_history(
            4, days=1 / 24, every="20min", start=now - pd.Timedelta(hours=1)
        ),
    ]
    table = _target(tmp_path)
    for snapshot in snapshots:
        tf.append_snapshot(snapshot, table)
    before = table.load().num_rows
    closed = compact_iceberg(table, now=now + pd.Timedelta(minutes=1), keep=pd.Timedelta(0))
    assert closed == [f"{now - pd.Timedelta(days=3):%Y-%m-%d}"]
    assert len(table.rows_table().metadata.snapshots) == 1  # the head only
    for snapshot in snapshots:
        tf.append_snapshot(snapshot, table)  # retried
    assert table.load().num_rows == before


def test_appends_expire_old_iceberg_snapshots_and_retries_find_their_rows(
    tmp_path: Path, snapshots: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every Iceberg snapshot kept costs every append, so an append expires those older than
    # twice KEEP_SNAPSHOTS: here, with nothing kept, all but the head.
    monkeypatch.setattr(_iceberg, "KEEP_SNAPSHOTS", pd.Timedelta(0))
    store, table = tmp_path / "store", _target(tmp_path)
    for snapshot in snapshots[:6]:
        tf.append_snapshot(snapshot, store)
        tf.append_snapshot(snapshot, table)
    assert len(table.rows_table().metadata.snapshots) == 1
    before = table.load().num_rows
    for snapshot in snapshots[:6]:
        tf.append_snapshot(snapshot, table)  # retried: its Iceberg snapshot is gone
    assert table.load().num_rows == before
    _same(store, table)


def test_maintenance_deletes_files_once_no_snapshot_uses_them(
    tmp_path: Path, snapshots: list[Any]
) -> None:
    table = _target(tmp_path)
    for snapshot in snapshots[:12]:  # the 17th and the 18th: one file per append
        tf.append_snapshot(snapshot, table)
    rows = table.load().num_rows
    data = Path(table.rows_table().metadata.location.removeprefix("file://")) / "data"

    def on_disk() -> set[str]:
        return {str(p) for p in data.rglob("*") if p.is_file()}

    def used() -> set[str]:
        files = table.rows_table().inspect.all_files()["file_path"].to_pylist()
        return {f.removeprefix("file://") for f in files}

    assert on_disk() == used() and len(used()) == 12
    # Both days closed, every Iceberg snapshot but the head expired: the 12 files are replaced
    # by one per day and deleted.
    now = pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=1)
    assert compact_iceberg(table, now=now, keep=pd.Timedelta(0)) == ["2026-08-17", "2026-08-18"]
    assert on_disk() == used() and len(used()) == 2
    assert table.load().num_rows == rows
    # A file nothing uses (a writer killed before its commit) is found after the next expiry:
    # maintenance reads no manifest when nothing expired since it last did.
    orphan = data / "orphan.parquet"
    shutil.copy(sorted(used())[0], orphan)
    os.utime(orphan, (0, 0))
    compact_iceberg(table, now=now, keep=pd.Timedelta(0))
    assert orphan.exists()
    tf.append_snapshot(snapshots[12], table)  # a new head: the old one can expire
    now = pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=1)
    compact_iceberg(table, now=now, keep=pd.Timedelta(0))
    assert not orphan.exists()
    assert on_disk() == used()


def test_a_late_snapshot_reopens_its_day(tmp_path: Path, snapshots: list[Any]) -> None:
    store, table = tmp_path / "store", _target(tmp_path)
    late = snapshots[18]  # the 19th: the days closed around it are two runs of days
    for snapshot in snapshots:
        if snapshot is not late:
            tf.append_snapshot(snapshot, store)
            tf.append_snapshot(snapshot, table)
    compact_iceberg(table, now="2026-08-21T13:00Z")
    tf.append_snapshot(late, table)
    tf.append_snapshot(late, store)
    _same(store, table)
    assert late.fetched_at.date().isoformat() in compact_iceberg(table, now="2026-08-21T13:00Z")
    _same(store, table)


def _killed(code: str, tmp_path: Path) -> None:
    """Run ``code`` in a process that kills itself (os._exit) where the code says."""
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(code))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 9, done.stderr


def test_maintenance_killed_between_facts_and_mark_loses_nothing(
    tmp_path: Path, snapshots: list[Any]
) -> None:
    store, table = tmp_path / "store", _target(tmp_path)
    for snapshot in snapshots:
        tf.append_snapshot(snapshot, store)
        tf.append_snapshot(snapshot, table)
    _killed(
        f"""
        import os
        from tunnelframe.history import _iceberg
        commit = _iceberg._commit_facts
        def die_before_mark(table, data, where):
            if table.name()[-1].endswith("_snaps"):
                os._exit(9)  # every other kind of facts is committed, the day is not marked
            commit(table, data, where)
        _iceberg._commit_facts = die_before_mark
        target = _iceberg.iceberg_history("iceberg+sqlite:///{tmp_path}/catalog.db")
        _iceberg.compact_iceberg(target, now="2026-08-20T13:00Z")
        """,
        tmp_path,
    )
    table = _target(tmp_path)
    assert not table.sources()[1]["snaps"].num_rows  # nothing marked closed
    assert table.facts_table("versions").scan().to_arrow().num_rows  # facts no one reads
    _same(store, table)
    compact_iceberg(table, now="2026-08-20T13:00Z")
    tf.compact_history(store, now="2026-08-20T13:00Z")
    _same(store, table)


def test_an_append_killed_before_its_commit_leaves_the_table_whole(
    tmp_path: Path, snapshots: list[Any]
) -> None:
    table = _target(tmp_path)
    for snapshot in snapshots[:3]:
        tf.append_snapshot(snapshot, table)
    before = table.load()
    _killed(
        f"""
        import os
        import tunnelframe as tf
        from pyiceberg.table import Transaction
        from tunnelframe.history import iceberg_history
        def die(self, *args, **kwargs):
            os._exit(9)  # the data file is written, the commit never happens
        Transaction.commit_transaction = die
        snapshot = list(tf.simulator.generate_history(10, days=3, every="2h", seed=4))[3]
        tf.append_snapshot(snapshot, iceberg_history("iceberg+sqlite:///{tmp_path}/catalog.db"))
        """,
        tmp_path,
    )
    table = _target(tmp_path)
    assert table.load().equals(before)
    tf.append_snapshot(snapshots[3], table)
    assert table.load().num_rows > before.num_rows


def test_a_writer_that_always_commits_first_gives_a_clear_error(
    tmp_path: Path, snapshots: list[Any]
) -> None:
    table, other = _target(tmp_path), _target(tmp_path)
    tf.append_snapshot(snapshots[0], table)
    with table.rows_table().transaction() as tx:  # give up quickly for the test
        tx.set_properties({"commit.retry.num-retries": "2", "commit.retry.min-wait-ms": "1"})
    theirs = iter(snapshots[1:])
    commit = table.catalog.commit_table

    def lose(*args: Any, **kwargs: Any) -> Any:
        tf.append_snapshot(next(theirs), other)  # the other writer commits first, every time
        return commit(*args, **kwargs)

    table.catalog.commit_table = lose  # type: ignore[method-assign]
    with pytest.raises(TunnelframeError, match="other writers kept committing first"):
        tf.append_snapshot(snapshots[-1], table)
    table.catalog.commit_table = commit  # type: ignore[method-assign]
    times = set(table.load().to_pandas()["fetched_at"])
    assert times == {s.fetched_at for s in snapshots[:4]}  # theirs whole, ours not at all


def test_a_newer_column_is_a_schema_evolution(tmp_path: Path, snapshots: list[Any]) -> None:
    table = _target(tmp_path)
    tf.append_snapshot(snapshots[0], table)
    rows = table.rows_table()
    with rows.update_schema() as update:  # as an older tunnelframe wrote it
        update.delete_column("arch")
    old_files = set(rows.inspect.files()["file_path"].to_pylist())
    tf.append_snapshot(snapshots[1], table)
    rows = table.rows_table()
    assert "arch" in rows.schema().column_names
    assert old_files < set(rows.inspect.files()["file_path"].to_pylist())  # nothing rewritten
    frame = table.load().to_pandas()
    first = frame["fetched_at"] == snapshots[0].fetched_at
    assert frame.loc[first, "arch"].isna().all()
    assert frame.loc[~first, "arch"].notna().any()


def test_a_format_2_table_takes_the_new_records_and_facts(
    tmp_path: Path, snapshots: list[Any]
) -> None:
    from tunnelframe.history._schema import ROW_COLUMNS

    store, table = tmp_path / "store", _target(tmp_path)
    later = _unread_and_routed(snapshots)[14:20]  # a tunnel unread at the 3rd, 4th, 5th
    for snapshot in snapshots[:14]:
        tf.append_snapshot(snapshot, store)
        tf.append_snapshot(snapshot, table)
    rows = table.rows_table()
    with rows.update_schema() as update:  # as tunnelframe 0.2 made it
        for name in rows.schema().column_names:
            if name not in ROW_COLUMNS:
                update.delete_column(name)
    with rows.transaction() as tx:
        tx.set_properties({"tunnelframe.format-version": "2"})
    table.catalog.drop_table(table.facts_identifier("unread"))
    _same(store, table)  # read as it is
    for snapshot in later:
        tf.append_snapshot(snapshot, store)
        tf.append_snapshot(snapshot, table)
    rows = table.rows_table()
    assert rows.metadata.properties["tunnelframe.format-version"] == "3"  # 0.2 refuses it now
    assert "record" in rows.schema().column_names
    now = "2026-08-20T13:00Z"
    assert compact_iceberg(table, now=now) == tf.compact_history(store, now=now)
    assert len(table.facts_table("unread").scan().to_arrow()) == 3
    _same(store, table)


def test_a_foreign_or_newer_table_is_refused(tmp_path: Path, snapshots: list[Any]) -> None:
    table = _target(tmp_path)
    tf.append_snapshot(snapshots[0], table)
    with table.rows_table().transaction() as tx:
        tx.set_properties({"tunnelframe.format-version": "99"})
    with pytest.raises(TunnelframeError, match=r"format 99.*upgrade tunnelframe"):
        tf.append_snapshot(snapshots[1], table)
    with pytest.raises(TunnelframeError, match="upgrade tunnelframe"):
        tf.version_rollout(table)
    with table.catalog.load_table(table.identifier).transaction() as tx:
        tx.remove_properties("tunnelframe.format-version")
    with pytest.raises(TunnelframeError, match="not written by tunnelframe"):
        tf.version_rollout(table)


def test_a_missing_table_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--export-iceberg"):
        tf.version_rollout(_target(tmp_path))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_credentials_stay_out_of_uris_errors_and_reprs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t-Catalog-Pw"
    with pytest.raises(ValueError, match="TUNNELFRAME_CATALOG_PASSWORD") as caught:
        iceberg_history(f"iceberg+postgresql://tf:{secret}@127.0.0.1/db?warehouse={tmp_path}")
    assert secret not in str(caught.value)
    (tmp_path / "pw").write_text(secret + "\n")
    monkeypatch.setenv("TUNNELFRAME_CATALOG_PASSWORD_FILE", str(tmp_path / "pw"))
    uri = f"iceberg+postgresql://tf@127.0.0.1:{_free_port()}/db?warehouse={tmp_path}"
    with pytest.raises(TunnelframeError, match="cannot reach the Iceberg catalog") as unreachable:
        iceberg_history(uri)
    text = str(unreachable.value) + repr(unreachable.value) + str(unreachable.value.__cause__)
    assert secret not in text
    assert "127.0.0.1" in text


# -- PostgreSQL -------------------------------------------------------------------------------

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres_user(argv: list[str]) -> list[str]:
    """Run ``argv`` unprivileged: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "nobody", "--", *argv]


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A fresh PostgreSQL cluster on loopback with a password; yields its catalog URI."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql")
    # Not under pytest's private temp folder: the unprivileged user must reach it.
    home = Path(tempfile.mkdtemp(prefix="tunnelframe-pg-"))
    home.chmod(0o755)
    data, pwfile = home / "data", home / "pw"
    pwfile.write_text("tf-test-password\n")
    pwfile.chmod(0o644)
    if os.geteuid() == 0:
        shutil.chown(home, "nobody")
    subprocess.run(
        _as_postgres_user(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "tf",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c max_connections=50"
    subprocess.run(
        _as_postgres_user(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(home / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"iceberg+postgresql://tf@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(home, ignore_errors=True)


_WRITER = """
import copy, sys
import pandas as pd
import tunnelframe as tf
from tunnelframe.history import iceberg_history
uri, writer, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
target = iceberg_history(uri)
base = next(iter(tf.simulator.generate_history(6, days=0, seed=3)))
for i in range(n):
    # Writer w's i-th snapshot: its own time, so every (writer, i) is a distinct snapshot.
    at = pd.Timestamp(base.fetched_at) + pd.Timedelta(minutes=5 * i, seconds=writer)
    snapshot = copy.copy(base)
    snapshot.fetched_at = at.to_pydatetime()
    tf.append_snapshot(snapshot, target)
"""


@pytest.mark.slow
def test_writers_in_four_processes_lose_and_double_nothing(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNNELFRAME_CATALOG_PASSWORD", "tf-test-password")
    uri = f"{postgres}?warehouse={tmp_path}/warehouse"
    target = iceberg_history(uri)
    writers, each = 4, 8
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), uri, str(w), str(each)], stderr=subprocess.PIPE, text=True
        )
        for w in range(writers)
    ]
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=280)
            assert proc.returncode == 0, err
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    rows = target.load().to_pandas()
    base = next(iter(tf.simulator.generate_history(6, days=0, seed=3)))
    counts = rows.groupby("fetched_at").size()
    assert len(counts) == writers * each  # nothing lost
    one = _to_table(base, fetched_at=pd.Timestamp(base.fetched_at), account_ids=base.account_ids)
    assert (counts == one.num_rows).all()  # nothing doubled
    expected = {
        pd.Timestamp(base.fetched_at) + pd.Timedelta(minutes=5 * i, seconds=w)
        for w in range(writers)
        for i in range(each)
    }
    assert set(counts.index) == expected
    assert len(target.rows_table().metadata.snapshots) == writers * each  # one commit each


# -- Spark ------------------------------------------------------------------------------------

_SPARK_ROLLOUT = """
SELECT fetched_at, CAST(version AS STRING) AS version, sum(n) AS n_connectors
FROM (
    SELECT account_id, fetched_at, version, count(DISTINCT connector_id) AS n
    FROM rows WHERE connector_id IS NOT NULL GROUP BY account_id, fetched_at, version
)
GROUP BY fetched_at, version
"""


@pytest.mark.slow
def test_spark_reads_the_same_rollout_as_duckdb(
    tmp_path: Path, snapshots: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark", reason="pip install pyspark")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: apt-get install default-jre-headless")
    from pyspark.sql import SparkSession

    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only

    store, table = tmp_path / "store", _target(tmp_path)
    for snapshot in snapshots:
        tf.append_snapshot(snapshot, store)
    tf.compact_history(store, now="2026-08-20T13:00Z")
    assert export_iceberg(store, table) == 4
    _same(store, table)  # the closed days' facts travelled with them
    assert len(table.sources()[1]["snaps"]) > 0
    # The Iceberg table's current data files, as its scan plan lists them (reading through the
    # Iceberg Spark runtime would need its JAR from Maven).
    files = [task.file.file_path for task in table.rows_table().scan().plan_files()]
    expected = tf.version_rollout(store)[["fetched_at", "version", "n_connectors"]]
    expected = expected.assign(version=expected["version"].astype(str))
    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        # a few hundred rows: one shuffle partition, not the default 200 tasks per GROUP BY
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    try:
        for source in (spark.read.parquet(str(store)), spark.read.parquet(*files)):
            source.createOrReplaceTempView("rows")
            # Rows, not toPandas: PySpark warns about the pandas this project uses.
            got = pd.DataFrame(
                [r.asDict() for r in spark.sql(_SPARK_ROLLOUT).collect()],
                columns=["fetched_at", "version", "n_connectors"],
            )
            got["fetched_at"] = pd.to_datetime(got["fetched_at"]).dt.tz_localize("UTC")
            got = got.sort_values(["fetched_at", "version"], ignore_index=True)
            want = expected.sort_values(["fetched_at", "version"], ignore_index=True)
            pd.testing.assert_frame_equal(
                got.astype({"n_connectors": "int64"}),
                want.astype({"fetched_at": got["fetched_at"].dtype}),
                check_dtype=False,
            )
    finally:
        spark.stop()


def test_the_cli_exports_a_store_and_summarises_the_table(
    tmp_path: Path, snapshots: list[Any]
) -> None:
    store = tmp_path / "store"
    for snapshot in snapshots:
        tf.append_snapshot(snapshot, store)
    tf.compact_history(store, now="2026-08-20T13:00Z")
    uri = f"iceberg+sqlite:///{tmp_path}/catalog.db"
    env = {**os.environ, "COLUMNS": "100"}
    cli = [sys.executable, "-m", "tunnelframe"]
    done = subprocess.run(
        [*cli, "history", str(store), "--export-iceberg", uri],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Exported 4 days" in done.stdout
    ours = subprocess.run(
        [*cli, "history", uri], capture_output=True, text=True, env=env, timeout=120
    )
    theirs = subprocess.run(
        [*cli, "history", str(store)], capture_output=True, text=True, env=env, timeout=120
    )
    assert ours.returncode == 0, ours.stderr
    # The same summary lines, the first (what the store is) aside.
    assert ours.stdout.splitlines()[1:] == theirs.stdout.splitlines()[1:]
    compacted = subprocess.run(
        [*cli, "history", uri, "--compact"], capture_output=True, text=True, env=env, timeout=120
    )
    assert compacted.returncode == 0, compacted.stderr
