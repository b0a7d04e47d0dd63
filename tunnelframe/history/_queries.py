"""Aggregate queries over a fleet history, run by DuckDB over the history's facts.

Every query reads the facts of :mod:`tunnelframe.history._facts` (per-snapshot rollups and runs
of unchanged connectors, hosts and tunnels): those compaction wrote for closed days, and those
derived when queried from the rows of days not compacted yet, or from an in-memory history
frame. Their cost grows with the number of changes, not of rows. Results are small pandas
frames with declared columns and dtypes. Nothing here writes to the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import pyarrow as pa

from tunnelframe._checks import _BOOL
from tunnelframe._errors import TunnelframeError
from tunnelframe._types import HistoryLike
from tunnelframe._versionorder import _order_version_columns
from tunnelframe.colos import (
    EXPECTED_CONNECTIONS,
    HA_STATES,
    PAIR_HA_RULES,
    TUNNEL_HA_RULES,
    ha_states_sql,
)
from tunnelframe.history import _layout
from tunnelframe.history._facts import FACT_KINDS, derive_facts
from tunnelframe.history._iceberg import IcebergHistory
from tunnelframe.history._schema import STORE_SCHEMA
from tunnelframe.versions import parse_version

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "HA_STATES",
    "colo_shifts",
    "connector_churn",
    "ha_episodes",
    "ha_timeline",
    "version_rollout",
]

#: A store path, a history frame, or an Iceberg table (:class:`IcebergHistory`).
History = HistoryLike | IcebergHistory

_TIME = pd.DatetimeTZDtype("us", "UTC")
_TEXT = pd.ArrowDtype(pa.string())


# Snapshots of each account in order: a snapshot is compared with its account's previous one.
_SEQ = """
CREATE OR REPLACE TEMP VIEW seq AS
SELECT account_id, fetched_at,
    lag(fetched_at) OVER w AS previous_at, lead(fetched_at) OVER w AS next_at
FROM (SELECT DISTINCT account_id, fetched_at FROM f_snaps)
WINDOW w AS (PARTITION BY account_id ORDER BY fetched_at)
"""

# A tunnel that could not be read in some snapshots (``f_unread``) has no facts there: each
# stretch of such snapshots is a gap from the snapshot read before it (``from_at``) to the one
# read after it (``next_at``; NULL when it was not read again), which the runs continue
# across. ``until_at``: until when what was read before holds (``next_at``, else the last
# snapshot of the gap).
_GAP = """
CREATE OR REPLACE TEMP VIEW gap AS
WITH pos AS (
    SELECT account_id, fetched_at,
        row_number() OVER (PARTITION BY account_id ORDER BY fetched_at) AS i
    FROM (SELECT DISTINCT account_id, fetched_at FROM f_snaps)
),
u AS (
    SELECT DISTINCT f.account_id, f.tunnel_id, p.i
    FROM f_unread f JOIN pos p USING (account_id, fetched_at)
),
islands AS (
    SELECT account_id, tunnel_id, min(i) AS lo, max(i) AS hi FROM (
        SELECT *, i - row_number() OVER (PARTITION BY account_id, tunnel_id ORDER BY i) AS g
        FROM u
    ) GROUP BY account_id, tunnel_id, g
)
SELECT x.account_id, x.tunnel_id, b.fetched_at AS from_at, a.fetched_at AS next_at,
    coalesce(a.fetched_at, e.fetched_at) AS until_at
FROM islands x
JOIN pos b ON b.account_id = x.account_id AND b.i = x.lo - 1
JOIN pos e ON e.account_id = x.account_id AND e.i = x.hi
LEFT JOIN pos a ON a.account_id = x.account_id AND a.i = x.hi + 1
"""

# The runs of each kind with what follows and precedes them, for their tunnel: ``after_at``,
# the snapshot after the run's last one in which the tunnel was read (NULL: none); ``end_at``,
# until when the run holds (the account's next snapshot, or across a gap); ``before_at``, the
# snapshot before the run's first one in which the tunnel was read (NULL: none).
# (Each seq lookup is its own materialized step: joined together, DuckDB pairs the two seq
# lookups on account_id first, the square of the snapshots of an account: 75 million rows and
# 9 GB at 30 days of 5-minute snapshots.)
_AROUND = """
CREATE OR REPLACE TEMP VIEW r_{kind} AS
WITH after AS MATERIALIZED (
    SELECT f.*, s.next_at AS s_next_at
    FROM f_{kind} f JOIN seq s ON s.account_id = f.account_id AND s.fetched_at = f.last_at
), around AS MATERIALIZED (
    SELECT a.*, sp.previous_at AS s_previous_at
    FROM after a JOIN seq sp ON sp.account_id = a.account_id AND sp.fetched_at = a.first_at
)
SELECT f.* EXCLUDE (s_next_at, s_previous_at),
    CASE WHEN g.from_at IS NULL THEN f.s_next_at ELSE g.next_at END AS after_at,
    CASE WHEN g.from_at IS NULL THEN coalesce(f.s_next_at, f.last_at) ELSE g.until_at END
        AS end_at,
    CASE WHEN p.next_at IS NULL THEN f.s_previous_at ELSE p.from_at END AS before_at
FROM around f
LEFT JOIN gap g ON g.account_id = f.account_id AND g.tunnel_id = f.tunnel_id
    AND g.from_at = f.last_at
LEFT JOIN gap p ON p.account_id = f.account_id AND p.tunnel_id = f.tunnel_id
    AND p.next_at = f.first_at
"""

# The connectors a tunnel that could not be read is taken to have, at each such snapshot: those
# it had when last read (so counts per snapshot see no teardown).
_CARRIED = """
CREATE OR REPLACE TEMP VIEW carried AS
SELECT u.fetched_at, u.account_id, c.tunnel_id, c.connector_id, c.version, c.host
FROM f_unread u JOIN r_connectors c ON c.account_id = u.account_id
    AND c.tunnel_id = u.tunnel_id AND c.last_at < u.fetched_at AND u.fetched_at <= c.end_at
"""


def _connect(history: History, plan: _layout.Plan | None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``f_<kind>`` of the facts of ``history`` and ``seq``."""
    import duckdb  # imported on first query: `import tunnelframe` stays fast

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    iceberg: dict[str, pa.Table] = {}
    rows: Any
    if isinstance(history, IcebergHistory):
        rows, iceberg = history.sources(_VIEW_COLUMNS)
        for name in _VIEW_COLUMNS:  # a table written before they were
            if name not in rows.column_names:
                rows = rows.append_column(name, pa.nulls(len(rows), STORE_SCHEMA.field(name).type))
    elif plan is None:
        assert isinstance(history, pd.DataFrame)
        missing = [c for c in ("fetched_at", "account_id", "tunnel_id") if c not in history]
        if missing:
            raise ValueError(
                f"history frame lacks column(s) {', '.join(missing)}: pass a store path or a "
                "frame from tunnelframe.load_history"
            )
        rows = _arrow(history)
    else:
        files = plan.dirty_rows()
        rows = _parquet(con, files, schema=STORE_SCHEMA) if files else STORE_SCHEMA.empty_table()
    if isinstance(rows, duckdb.DuckDBPyRelation):
        rows.create_view("rows")
    else:
        con.register("rows", rows)
    derive_facts(con, "rows")
    for kind in FACT_KINDS:
        stored = [] if plan is None else plan.facts(kind)
        if kind in iceberg:
            con.register(f"stored_{kind}", iceberg[kind])
            con.execute(
                f"CREATE TEMP VIEW f_{kind} AS "
                f"SELECT * FROM d_{kind} UNION ALL BY NAME SELECT * FROM stored_{kind}"
            )
        elif stored:
            facts = _parquet(con, stored)
            if isinstance(facts, duckdb.DuckDBPyRelation):
                facts.create_view(f"stored_{kind}")
            else:
                con.register(f"stored_{kind}", facts)
            con.execute(
                f"CREATE TEMP VIEW f_{kind} AS "
                f"SELECT * FROM d_{kind} UNION ALL BY NAME SELECT * FROM stored_{kind}"
            )
        else:
            con.execute(f"CREATE TEMP VIEW f_{kind} AS SELECT * FROM d_{kind}")
    con.execute(_SEQ)
    con.execute(_GAP)
    for kind in ("connectors", "hosts", "tunnels"):
        con.execute(_AROUND.format(kind=kind))
    con.execute(_CARRIED)
    return con


def _parquet(con: duckdb.DuckDBPyConnection, files: list[Path], schema: Any = None) -> Any:
    """``files`` (checked by the plan) for DuckDB to scan, columns matched by name.

    DuckDB's own reader is fastest, but expands glob characters in every path, so a store
    whose path has any (``store[1]``) is read through a pyarrow dataset instead.
    """
    import pyarrow.dataset as ds

    paths = [str(f) for f in files]
    if any(c in p for p in paths for c in "[]*?{}"):
        return ds.dataset(paths, format="parquet", schema=schema)
    return con.read_parquet(paths, union_by_name=True)


# The stored columns the view reads (the others are never converted from a frame).
_VIEW_COLUMNS = (
    "fetched_at", "account_id", "tunnel_id", "tunnel_name", "tunnel_status", "connector_id",
    "version", "run_at", "connection_id", "colo_name", "is_pending_reconnect", "origin_ip",
    "tun_type", "ha_status", "record", "status", "detail",
)  # fmt: skip


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The columns of ``frame`` the view needs, as Arrow; absent optional columns are null."""
    columns = {}
    for name in _VIEW_COLUMNS:
        if name in frame.columns:
            columns[name] = pa.array(frame[name], from_pandas=True)
        else:
            columns[name] = pa.nulls(len(frame), type=STORE_SCHEMA.field(name).type)
    return pa.table(columns)


def _run(history: History, sql: str, dtypes: dict[str, Any]) -> pd.DataFrame:
    import duckdb

    def read(plan: _layout.Plan | None) -> pa.Table:
        con = None
        try:
            con = _connect(history, plan)
            return con.sql(sql).to_arrow_table()
        except FileNotFoundError:
            raise  # compacted meanwhile: read_consistent reads again
        except (duckdb.Error, OSError, pa.ArrowException) as exc:
            if any(vanished in str(exc) for vanished in _VANISHED):
                raise FileNotFoundError(str(exc)) from exc
            raise _damaged(plan, exc) from exc
        finally:
            if con is not None:
                con.close()

    if isinstance(history, pd.DataFrame | IcebergHistory):
        table = read(None)
    else:
        table = _layout.read_consistent(history, read)
    frame = table.to_pandas(types_mapper={pa.bool_(): _BOOL}.get)
    return _typed(frame, dtypes)


# How DuckDB and pyarrow say that a file of the plan is gone (a compaction removed it).
_VANISHED = ("No such file or directory", "No files found that match the pattern")


def _damaged(plan: _layout.Plan | None, exc: Exception) -> TunnelframeError:
    where = "history frame" if plan is None else f"history store {plan.root}"
    return TunnelframeError(f"cannot read {where}: {str(exc).splitlines()[0]}")


def _typed(frame: pd.DataFrame, dtypes: dict[str, Any]) -> pd.DataFrame:
    """``frame`` with exactly the columns of ``dtypes``, in order, with those dtypes.

    ``"category"`` gives sorted categories and ``"text"`` plain text, both as pyarrow strings,
    like the frames of :mod:`tunnelframe.frames`.
    """
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for column, dtype in dtypes.items():
        values: pd.Series = frame[column].reset_index(drop=True)
        if dtype == _TIME:
            values = pd.to_datetime(values, utc=True).astype(_TIME)
        elif isinstance(dtype, pd.CategoricalDtype):  # before "category", which it equals
            values = values.astype(_TEXT).astype(dtype)
        elif dtype == "category":
            values = values.astype(_TEXT)
            categories = pd.Index(sorted(values.dropna().unique()), dtype=_TEXT)
            values = values.astype(pd.CategoricalDtype(categories))
        elif dtype == "text":
            values = values.astype(_TEXT)
        else:
            values = values.astype(dtype)
        out[column] = values
    return _order_version_columns(out)


def version_rollout(history: History) -> pd.DataFrame:
    """Share of connectors running each cloudflared version, at each snapshot.

    A connector counts once per snapshot, whatever its number of connections; idle connectors
    count too, and so do those of a tunnel that could not be read, as last read. Follow a
    release rolling out by plotting ``share`` over ``fetched_at`` per ``version``
    (:func:`plot_version_rollout`).

    Parameters
    ----------
    history : str, path-like or pandas.DataFrame
        A history store directory (read out of core by DuckDB) or a frame from
        :func:`load_history`.

    Returns
    -------
    pandas.DataFrame
        ``fetched_at`` (tz-aware UTC), ``version`` (category, ordered oldest to newest, unknown
        versions such as ``DEV`` first), ``n_connectors`` (int64), ``share`` (float64, sums to
        1 per snapshot);
        sorted by ``fetched_at`` then version.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(5, days=2):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> rollout = tf.version_rollout(store)
    >>> rollout.groupby("fetched_at")["share"].sum().round(6).unique().tolist()
    [1.0]
    """
    sql = """
    SELECT fetched_at, version, sum(n_connectors) AS n_connectors FROM (
        SELECT fetched_at, version, n_connectors FROM f_versions
        UNION ALL
        SELECT fetched_at, version, count(DISTINCT connector_id) AS n_connectors
        FROM carried GROUP BY fetched_at, account_id, version
    ) GROUP BY fetched_at, version
    """
    frame = _run(history, sql, {"fetched_at": _TIME, "version": "text", "n_connectors": "int64"})
    # A connector has one version per snapshot, so the per-version counts add up to the
    # snapshot's connectors. (Shares are taken here, on the small result: a window in the
    # query costs DuckDB more memory than the whole aggregation.)
    total = frame.groupby("fetched_at")["n_connectors"].transform("sum")
    frame["share"] = (frame["n_connectors"] / total).astype("float64")
    order = pd.Index(_version_order(frame["version"].dropna().unique().tolist()), dtype=_TEXT)
    frame["version"] = frame["version"].astype(pd.CategoricalDtype(order, ordered=True))
    return frame.sort_values(["fetched_at", "version"], ignore_index=True)


_CHURN_EVENTS = ("restart", "new_host", "removed_host")

# Events between consecutive snapshots of an account. A host is the origin IP a connector runs
# from (the connector id itself for an idle connector): cloudflared draws a new connector id at
# every start, so a new id on a host seen in the previous snapshot is a restart; a new id on an
# unseen host is a new host; a host whose connectors are all gone is a removed host.
_CHURN_CTE = """
WITH
-- runs of a connector and of a host, with the snapshot after the run (see r_<kind>)
c AS (SELECT * FROM r_connectors),
hp AS (SELECT * FROM r_hosts),
-- a run that does not continue the connector's previous run: the connector appeared
appeared AS (
    SELECT r.*, r.before_at AS previous_at FROM (
        SELECT *, lag(after_at) OVER (
            PARTITION BY account_id, tunnel_id, connector_id ORDER BY first_at) AS continues
        FROM c
    ) r
    WHERE r.before_at IS NOT NULL AND r.continues IS DISTINCT FROM r.first_at
),
events AS (
    SELECT a.first_at AS fetched_at, a.previous_at, a.account_id, a.tunnel_id, a.tunnel_name,
        a.host, CASE WHEN p.host IS NULL THEN 'new_host' ELSE 'restart' END AS event,
        a.connector_id, a.version, p.connector_id AS previous_connector_id,
        p.version AS previous_version,
        p.host IS NOT NULL AND a.version IS DISTINCT FROM p.version AS upgraded
    FROM appeared a LEFT JOIN f_hosts p
        ON p.account_id = a.account_id AND p.tunnel_id = a.tunnel_id AND p.host = a.host
        AND p.first_at <= a.previous_at AND a.previous_at <= p.last_at
    UNION ALL
    -- a host run that the next snapshot does not continue: the host was removed
    SELECT p.after_at, p.last_at, p.account_id, p.tunnel_id, p.tunnel_name, p.host,
        'removed_host', NULL, NULL, p.connector_id, p.version, false
    FROM hp p ANTI JOIN f_hosts n
        ON n.account_id = p.account_id AND n.tunnel_id = p.tunnel_id AND n.host = p.host
        AND n.first_at = p.after_at
    WHERE p.after_at IS NOT NULL
)"""

_CHURN_SQL = {
    "event": f"""{_CHURN_CTE}
    SELECT * FROM events
    ORDER BY fetched_at, account_id, tunnel_name, host, event, connector_id,
        previous_connector_id, tunnel_id""",
    "snapshot": f"""{_CHURN_CTE},
    counts AS (
        SELECT fetched_at, account_id,
            count(*) FILTER (WHERE event = 'restart') AS n_restarts,
            count(*) FILTER (WHERE upgraded) AS n_upgrades,
            count(*) FILTER (WHERE event = 'new_host') AS n_new_hosts,
            count(*) FILTER (WHERE event = 'removed_host') AS n_removed_hosts
        FROM events GROUP BY ALL
    ),
    sizes AS (
        SELECT fetched_at, account_id, sum(n_connectors) AS n_connectors,
            sum(n_hosts) AS n_hosts
        FROM (
            SELECT fetched_at, account_id, n_connectors, n_hosts FROM f_snaps
            UNION ALL
            SELECT fetched_at, account_id, count(DISTINCT connector_id),
                count(DISTINCT host)
            FROM carried GROUP BY fetched_at, account_id
        ) GROUP BY ALL
    )
    SELECT s.fetched_at, s.account_id, coalesce(s.n_connectors, 0) AS n_connectors,
        coalesce(s.n_hosts, 0) AS n_hosts, coalesce(n_restarts, 0) AS n_restarts,
        coalesce(n_upgrades, 0) AS n_upgrades, coalesce(n_new_hosts, 0) AS n_new_hosts,
        coalesce(n_removed_hosts, 0) AS n_removed_hosts
    FROM sizes s LEFT JOIN counts c USING (fetched_at, account_id)
    ORDER BY s.fetched_at, s.account_id""",
    "host": f"""{_CHURN_CTE},
    seen AS (
        SELECT account_id, tunnel_id, host, arg_max(tunnel_name, last_at) AS tunnel_name,
            min(first_at) AS first_seen_at, max(last_at) AS last_seen_at,
            count(DISTINCT connector_id) AS n_connectors
        FROM f_connectors GROUP BY ALL
    ),
    counts AS (
        SELECT account_id, tunnel_id, host, count(*) AS n_restarts,
            count(*) FILTER (WHERE upgraded) AS n_upgrades
        FROM events WHERE event = 'restart' GROUP BY ALL
    )
    SELECT s.account_id, s.tunnel_id, s.tunnel_name, s.host, s.first_seen_at, s.last_seen_at,
        s.n_connectors, coalesce(c.n_restarts, 0) AS n_restarts,
        coalesce(c.n_upgrades, 0) AS n_upgrades,
        CASE WHEN s.last_seen_at > s.first_seen_at
            THEN coalesce(c.n_restarts, 0)
                / (epoch(s.last_seen_at - s.first_seen_at) / 86400.0) END AS restarts_per_day
    FROM seen s LEFT JOIN counts c USING (account_id, tunnel_id, host)
    ORDER BY restarts_per_day DESC NULLS LAST, s.account_id, s.tunnel_name, s.host,
        s.tunnel_id""",
}

_CHURN_DTYPES: dict[str, dict[str, Any]] = {
    "event": {
        "fetched_at": _TIME,
        "previous_at": _TIME,
        "account_id": "category",
        "tunnel_id": "category",
        "tunnel_name": "category",
        "host": "text",
        "event": pd.CategoricalDtype(pd.Index(_CHURN_EVENTS, dtype=_TEXT)),
        "connector_id": "text",
        "version": "category",
        "previous_connector_id": "text",
        "previous_version": "category",
        "upgraded": _BOOL,
    },
    "snapshot": {
        "fetched_at": _TIME,
        "account_id": "category",
        "n_connectors": "int64",
        "n_hosts": "int64",
        "n_restarts": "int64",
        "n_upgrades": "int64",
        "n_new_hosts": "int64",
        "n_removed_hosts": "int64",
    },
    "host": {
        "account_id": "category",
        "tunnel_id": "category",
        "tunnel_name": "category",
        "host": "text",
        "first_seen_at": _TIME,
        "last_seen_at": _TIME,
        "n_connectors": "int64",
        "n_restarts": "int64",
        "n_upgrades": "int64",
        "restarts_per_day": "float64",
    },
}


def connector_churn(
    history: History, *, per: Literal["snapshot", "host", "event"] = "snapshot"
) -> pd.DataFrame:
    """Connectors appearing and disappearing between snapshots: restarts, new and removed hosts.

    Each snapshot is compared with the previous snapshot of the same account. A *host* is the
    origin IP a connector connects from (the connector id for an idle connector, which has no
    connection). cloudflared draws a new connector id every time it starts, so:

    - ``restart``: a connector id not in the previous snapshot, on a host that was (it is an
      *upgrade* when its version differs from the host's previous one);
    - ``new_host``: a new connector id on a host the tunnel did not have;
    - ``removed_host``: a host the tunnel had, with no connector left.

    Hosts behind one NAT address look like one host; a host whose address changes looks like
    one removed and one new host. A tunnel that could not be read in a snapshot (a failed
    ``/connections``) is compared with its last read, and counts with the connectors and hosts
    it then had: never removed and added again.

    Parameters
    ----------
    history : str, path-like or pandas.DataFrame
        A history store directory (read out of core by DuckDB) or a frame from
        :func:`load_history`.
    per : {"snapshot", "host", "event"}
        ``"snapshot"``: counts per snapshot and account (the first snapshot of an account is
        the baseline, all zero); ``"host"``: restarts per host, most restarts per day first
        (which hosts restart every day); ``"event"``: one row per event.

    Returns
    -------
    pandas.DataFrame
        For ``per="snapshot"``: ``fetched_at, account_id, n_connectors, n_hosts, n_restarts,
        n_upgrades, n_new_hosts, n_removed_hosts``. For ``per="host"``: ``account_id,
        tunnel_id, tunnel_name, host, first_seen_at, last_seen_at, n_connectors, n_restarts,
        n_upgrades, restarts_per_day``. For ``per="event"``: ``fetched_at, previous_at,
        account_id, tunnel_id, tunnel_name, host, event, connector_id, version,
        previous_connector_id, previous_version, upgraded``.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(5, days=3):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> churn = tf.connector_churn(store)
    >>> churn.columns.tolist()[:4]
    ['fetched_at', 'account_id', 'n_connectors', 'n_hosts']
    """
    if per not in _CHURN_SQL:
        raise ValueError(f"per={per!r} is not one of 'snapshot', 'host', 'event'")
    return _run(history, _CHURN_SQL[per], _CHURN_DTYPES[per])


def colo_shifts(history: History) -> pd.DataFrame:
    """Tunnels whose set of colos changed from one of their snapshots to the next.

    The colos of a tunnel are those of its active connections (pending reconnects excluded).
    Each observation of a tunnel is compared with its previous observation; a tunnel's first
    observation is the baseline. Find "which tunnel lost its second colo last night" with
    ``shifts.query("n_colos_before >= 2 and n_colos_after < 2")``.

    Parameters
    ----------
    history : str, path-like or pandas.DataFrame
        A history store directory (read out of core by DuckDB) or a frame from
        :func:`load_history`.

    Returns
    -------
    pandas.DataFrame
        One row per change: ``fetched_at, previous_at, account_id, tunnel_id, tunnel_name,
        colos_before, colos_after, colos_lost, colos_gained`` (category: colo codes, sorted,
        joined with ","; empty when none), ``n_colos_before, n_colos_after`` (int64); sorted by
        ``fetched_at``.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(5, days=3):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> tf.colo_shifts(store).columns.tolist()[-2:]
    ['n_colos_before', 'n_colos_after']
    """
    sql = """
    WITH pairs AS (
        SELECT *,
            lag(colos) OVER w AS before,
            lag(last_at) OVER w AS previous_at
        FROM f_tunnels WINDOW w AS (PARTITION BY account_id, tunnel_id ORDER BY first_at)
    )
    SELECT first_at AS fetched_at, previous_at, account_id, tunnel_id, tunnel_name,
        array_to_string(before, ',') AS colos_before,
        array_to_string(colos, ',') AS colos_after,
        coalesce((SELECT string_agg(c, ',' ORDER BY c) FROM unnest(before) AS u(c)
            WHERE NOT list_contains(colos, c)), '') AS colos_lost,
        coalesce((SELECT string_agg(c, ',' ORDER BY c) FROM unnest(colos) AS u(c)
            WHERE NOT list_contains(before, c)), '') AS colos_gained,
        len(before) AS n_colos_before, len(colos) AS n_colos_after
    FROM pairs WHERE previous_at IS NOT NULL AND before <> colos
    ORDER BY fetched_at, account_id, tunnel_name, tunnel_id
    """
    text = "category"
    return _run(
        history,
        sql,
        {
            "fetched_at": _TIME,
            "previous_at": _TIME,
            "account_id": text,
            "tunnel_id": text,
            "tunnel_name": text,
            "colos_before": text,
            "colos_after": text,
            "colos_lost": text,
            "colos_gained": text,
            "n_colos_before": "int64",
            "n_colos_after": "int64",
        },
    )


def _flag_sql(state: str) -> str:
    """Whether a tunnel's rule for ``state`` holds (set whatever its state), as SQL."""
    tunnel, pair = dict(TUNNEL_HA_RULES), dict(PAIR_HA_RULES)
    return f"CASE WHEN pair THEN {pair.get(state, 'false')} ELSE {tunnel[state]} END"


# HA facts of each tunnel at each snapshot, and how long they held: until the account's next
# snapshot (the last snapshot of an account holds for no time). The state comes from the rule
# tables ha_report uses (tunnelframe.colos.TUNNEL_HA_RULES; WARP Connector pairs by
# PAIR_HA_RULES). Facts compacted before they recorded n_active and n_short read as cloudflared
# holding its expected connections and "degraded" as the API said.
_STATES_CTE = f"""
WITH counted AS (
    SELECT t.* REPLACE (
            coalesce(t.n_active, {EXPECTED_CONNECTIONS} * t.n_connectors) AS n_active,
            coalesce(t.n_short, CASE WHEN t.degraded THEN 1 ELSE 0 END) AS n_short,
            coalesce(t.pair, false) AS pair,
            coalesce(t.n_members_active, 0) AS n_members_active,
            coalesce(t.n_members_passive, 0) AS n_members_passive
        ),
        t.n_connectors AS n_active_connectors
    FROM r_tunnels t
),
states AS (
    SELECT t.*, epoch(t.end_at - t.first_at) / 3600.0 AS hours,
        CASE WHEN pair THEN {ha_states_sql(PAIR_HA_RULES)}
            ELSE {ha_states_sql(TUNNEL_HA_RULES)} END AS state
    FROM counted t
)"""


def ha_timeline(history: History) -> pd.DataFrame:
    """Per tunnel, the time spent down, on a single connector, in a single colo or degraded.

    At each snapshot a tunnel is *down* (no active connection), *single connector* (one
    connector with active connections), *degraded* (a connector, not one a restart left
    behind, short of 4 active connections) or *single colo* (two or more active connections,
    all in one colo), as :func:`tunnelframe.ha_report` judges a snapshot (the same rule table,
    :data:`tunnelframe.colos.TUNNEL_HA_RULES`); WARP Connector tunnels are judged as
    active/passive pairs (:data:`tunnelframe.colos.PAIR_HA_RULES`). The counts overlap (one
    connector in one colo is both), as ``ha_report``'s flags do. What a snapshot shows holds
    until the account's next snapshot (for a tunnel that could not be read in the next ones,
    until it is read again), so the hours add up over the store; the last snapshot adds no time.

    Parameters
    ----------
    history : str, path-like or pandas.DataFrame
        A history store directory (read out of core by DuckDB) or a frame from
        :func:`load_history`.

    Returns
    -------
    pandas.DataFrame
        One row per tunnel: ``account_id, tunnel_id, tunnel_name`` (category; the latest name),
        ``first_seen_at, last_seen_at`` (tz-aware UTC), ``n_snapshots`` (int64),
        ``observed_hours, ha_hours, down_hours, single_connector_hours, single_colo_hours,
        degraded_hours`` (float64; ``ha_hours``: in state ``ok``, no rule broken),
        ``ha_share`` (``ha_hours / observed_hours``, NaN when nothing was observed); worst
        ``ha_share`` first.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(5, days=2):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> timeline = tf.ha_timeline(store)
    >>> bool((timeline["observed_hours"] == 48.0).all())
    True
    """
    sql = f"""{_STATES_CTE},
    per_tunnel AS (
        SELECT account_id, tunnel_id, arg_max(tunnel_name, last_at) AS tunnel_name,
            min(first_at) AS first_seen_at, max(last_at) AS last_seen_at,
            sum(n_snapshots) AS n_snapshots, sum(hours) AS observed_hours,
            sum(CASE WHEN state = 'ok' THEN hours ELSE 0 END) AS ha_hours,
            sum(CASE WHEN {_flag_sql("down")} THEN hours ELSE 0 END) AS down_hours,
            sum(CASE WHEN {_flag_sql("single_connector")} THEN hours ELSE 0 END)
                AS single_connector_hours,
            sum(CASE WHEN {_flag_sql("single_colo")} THEN hours ELSE 0 END) AS single_colo_hours,
            sum(CASE WHEN {_flag_sql("degraded")} THEN hours ELSE 0 END) AS degraded_hours
        FROM states GROUP BY account_id, tunnel_id
    )
    SELECT *, CASE WHEN observed_hours > 0 THEN ha_hours / observed_hours END AS ha_share
    FROM per_tunnel
    ORDER BY ha_share ASC NULLS LAST, account_id, tunnel_name, tunnel_id
    """
    hours = "float64"
    return _run(
        history,
        sql,
        {
            "account_id": "category",
            "tunnel_id": "category",
            "tunnel_name": "category",
            "first_seen_at": _TIME,
            "last_seen_at": _TIME,
            "n_snapshots": "int64",
            "observed_hours": hours,
            "ha_hours": hours,
            "down_hours": hours,
            "single_connector_hours": hours,
            "single_colo_hours": hours,
            "degraded_hours": hours,
            "ha_share": hours,
        },
    )


def ha_episodes(history: History) -> pd.DataFrame:
    """Per tunnel, the runs of consecutive snapshots in one HA state: the timeline to plot.

    A snapshot's state is the worst that applies, in the order of :data:`HA_STATES`:
    ``down``, ``single_connector``, ``degraded``, ``single_colo``, ``ok``: the ``status``
    :func:`tunnelframe.ha_report` gives the tunnel at that snapshot (see :func:`ha_timeline`).
    An episode lasts from its first snapshot to the account's snapshot after its last one.

    Parameters
    ----------
    history : str, path-like or pandas.DataFrame
        A history store directory (read out of core by DuckDB) or a frame from
        :func:`load_history`.

    Returns
    -------
    pandas.DataFrame
        ``account_id, tunnel_id, tunnel_name`` (category), ``state`` (category of
        :data:`HA_STATES`), ``start_at, end_at`` (tz-aware UTC), ``hours`` (float64),
        ``n_snapshots`` (int64); sorted by tunnel then ``start_at``.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(5, days=3):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> episodes = tf.ha_episodes(store)
    >>> set(episodes["state"]) <= set(tf.HA_STATES)
    True
    """
    sql = f"""{_STATES_CTE},
    marked AS (
        SELECT *, CASE WHEN state IS DISTINCT FROM lag(state) OVER w THEN 1 ELSE 0 END AS change
        FROM states WINDOW w AS (PARTITION BY account_id, tunnel_id ORDER BY first_at)
    ),
    numbered AS (
        SELECT *, sum(change) OVER (PARTITION BY account_id, tunnel_id ORDER BY first_at)
            AS episode
        FROM marked
    )
    SELECT account_id, tunnel_id, arg_max(tunnel_name, last_at) AS tunnel_name, state,
        min(first_at) AS start_at, max(end_at) AS end_at, sum(hours) AS hours,
        sum(n_snapshots) AS n_snapshots
    FROM numbered GROUP BY account_id, tunnel_id, episode, state
    ORDER BY account_id, tunnel_name, tunnel_id, start_at
    """
    return _run(
        history,
        sql,
        {
            "account_id": "category",
            "tunnel_id": "category",
            "tunnel_name": "category",
            "state": pd.CategoricalDtype(pd.Index(HA_STATES, dtype=_TEXT)),
            "start_at": _TIME,
            "end_at": _TIME,
            "hours": "float64",
            "n_snapshots": "int64",
        },
    )


def _version_order(versions: list[str]) -> list[str]:
    """Versions oldest to newest, compared as numbers; unknown ones (``DEV``) first."""
    return sorted(versions, key=lambda v: (parse_version(v), v))
