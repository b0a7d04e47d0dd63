"""What the history queries need, kept as it is compacted: per-snapshot rollups and intervals.

A store's rows (one per connection per snapshot) grow with every snapshot; what the queries
ask about changes far more slowly. So compaction derives, once per day, five small tables (the
*facts*) and the queries read those instead of the rows:

- ``snaps``: per snapshot and account, the number of connectors and hosts;
- ``versions``: per snapshot, account and version, the number of connectors;
- ``connectors``: per connector, the runs of consecutive snapshots of its account in which it
  was seen with the same tunnel name, version, start and host (``first_at``, ``last_at``,
  ``n_snapshots``);
- ``hosts``: the same runs per host (origin IP) of a tunnel, with its newest connector;
- ``tunnels``: the same runs per tunnel, with its active colos, connectors and degradation;
- ``unread``: per snapshot, the tunnels that could not be read (``errors[]``), with the error.

A tunnel that could not be read has no rows in that snapshot, so its runs end before it and
start again after it; the queries continue them across the gap (what was last read holds until
the tunnel is read again), never a teardown followed by a return.

A run ends when anything it records changes, when its subject is missing from a snapshot of
its account, and at the end of the day; the queries join the runs of consecutive days. A day
still open keeps a checkpoint of its facts so far (updated by :func:`compact_history`, which
``tunnelframe snapshot`` runs after each append); the facts of the snapshots after it are
derived from their rows when queried.
Nothing here touches files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tunnelframe.colos import EXPECTED_CONNECTIONS
from tunnelframe.frames import ACTIVE_SQL, PENDING_SQL

if TYPE_CHECKING:
    import duckdb

__all__ = ["FACT_KINDS", "derive_facts", "merge_runs_sql"]

#: The fact tables, in the order compaction writes them.
FACT_KINDS = ("snaps", "versions", "connectors", "hosts", "tunnels", "unread")

# The view every derivation reads: only the columns needed, text as VARCHAR whatever the
# source (Parquet dictionaries, pandas categoricals), "active" per the contract: a connection
# that is not pending reconnect.
ROWS_VIEW = f"""
CREATE OR REPLACE TEMP VIEW h AS
SELECT
    CAST(fetched_at AS TIMESTAMPTZ) AS fetched_at,
    CAST(account_id AS VARCHAR) AS account_id,
    CAST(tunnel_id AS VARCHAR) AS tunnel_id,
    CAST(tunnel_name AS VARCHAR) AS tunnel_name,
    CAST(tunnel_status AS VARCHAR) AS tunnel_status,
    CAST(connector_id AS VARCHAR) AS connector_id,
    CAST(version AS VARCHAR) AS version,
    CAST(run_at AS TIMESTAMPTZ) AS run_at,
    CAST(colo_name AS VARCHAR) AS colo_name,
    CAST(origin_ip AS VARCHAR) AS origin_ip,
    CAST(tun_type AS VARCHAR) AS tun_type,
    CAST(ha_status AS VARCHAR) AS ha_status,
    {ACTIVE_SQL} AS active,
    {PENDING_SQL} AS pending
FROM {{source}} WHERE record IS NULL
"""

# The tunnels that could not be read (records of the rows, see STORE_SCHEMA).
UNREAD_VIEW = """
CREATE OR REPLACE TEMP VIEW u AS
SELECT CAST(fetched_at AS TIMESTAMPTZ) AS fetched_at, CAST(account_id AS VARCHAR) AS account_id,
    CAST(tunnel_id AS VARCHAR) AS tunnel_id, CAST(tunnel_name AS VARCHAR) AS tunnel_name,
    CAST(status AS INTEGER) AS status, CAST(detail AS VARCHAR) AS message
FROM {source} WHERE record = 'unread'
"""


def _runs(source: str, keys: str) -> str:
    """Runs of consecutive snapshots (of the account) of ``source`` with the same ``keys``."""
    return f"""
    SELECT {keys}, min(fetched_at) AS first_at, max(fetched_at) AS last_at,
        count(*) AS n_snapshots
    FROM (
        SELECT x.*, p.i - row_number() OVER (PARTITION BY {keys} ORDER BY x.fetched_at) AS run
        FROM ({source}) x JOIN {{prefix}}pos p USING (account_id, fetched_at)
    )
    GROUP BY {keys}, run
    """


_CONN = """
SELECT account_id, tunnel_id, connector_id, fetched_at,
    any_value(tunnel_name) AS tunnel_name, any_value(version) AS version,
    coalesce(any_value(run_at), TIMESTAMPTZ '1970-01-01') AS started,
    coalesce(min(origin_ip), connector_id) AS host
FROM h WHERE connector_id IS NOT NULL
GROUP BY account_id, tunnel_id, connector_id, fetched_at
"""

# Each host's newest connector at each snapshot.
_HOSTS = """
SELECT account_id, tunnel_id, host, fetched_at, any_value(tunnel_name) AS tunnel_name,
    arg_max(connector_id, started) AS connector_id, arg_max(version, started) AS version
FROM {prefix}conn GROUP BY account_id, tunnel_id, host, fetched_at
"""

# Per connector at each snapshot: its active and pending connections, and whether a restart
# left it behind (``replaced``: only pending reconnects while a newer connector of its tunnel
# is up, or run times unknown), as tunnelframe.colos judges it; then the counts the HA rules
# (tunnelframe.colos.TUNNEL_HA_RULES, PAIR_HA_RULES) read, per tunnel.
_TUNNELS = f"""
WITH per_connector AS (
    SELECT account_id, tunnel_id, fetched_at, connector_id,
        count(*) FILTER (WHERE active) AS a, count(*) FILTER (WHERE pending) AS p,
        any_value(run_at) AS run_at, any_value(ha_status) AS ha_status
    FROM h WHERE connector_id IS NOT NULL
    GROUP BY account_id, tunnel_id, fetched_at, connector_id
),
judged AS (
    SELECT *, a = 0 AND p > 0 AND bool_or(a > 0) OVER t
        AND coalesce(max(CASE WHEN a > 0 THEN run_at END) OVER t > run_at, true) AS replaced
    FROM per_connector WINDOW t AS (PARTITION BY account_id, tunnel_id, fetched_at)
),
members AS (
    SELECT account_id, tunnel_id, fetched_at,
        count(*) FILTER (WHERE a < {EXPECTED_CONNECTIONS} AND NOT replaced) AS n_short,
        count(*) FILTER (WHERE ha_status = 'active') AS n_members_active,
        count(*) FILTER (WHERE ha_status = 'passive') AS n_members_passive
    FROM judged GROUP BY account_id, tunnel_id, fetched_at
)
SELECT account_id, tunnel_id, fetched_at, any_value(tunnel_name) AS tunnel_name,
    coalesce(list(DISTINCT colo_name ORDER BY colo_name)
        FILTER (WHERE active AND colo_name IS NOT NULL), []) AS colos,
    count(DISTINCT connector_id) FILTER (WHERE active) AS n_connectors,
    count(DISTINCT colo_name) FILTER (WHERE active) AS n_colos,
    coalesce(bool_or(tunnel_status = 'degraded'), false) AS degraded,
    count(*) FILTER (WHERE active) AS n_active,
    coalesce(any_value(m.n_short), 0) AS n_short,
    coalesce(bool_or(tun_type = 'warp_connector'), false) AS pair,
    coalesce(any_value(m.n_members_active), 0) AS n_members_active,
    coalesce(any_value(m.n_members_passive), 0) AS n_members_passive
FROM h LEFT JOIN members m USING (account_id, tunnel_id, fetched_at)
GROUP BY account_id, tunnel_id, fetched_at
"""

# What a tunnel's run records: a run ends when any of these changes.
_TUNNEL_KEYS = (
    "account_id, tunnel_id, tunnel_name, colos, n_connectors, n_colos, degraded, n_active, "
    "n_short, pair, n_members_active, n_members_passive"
)

_DERIVE = [
    (
        "snaps",
        # A snapshot in which no tunnel could be read is a snapshot too.
        """
        SELECT account_id, fetched_at, count(DISTINCT connector_id) AS n_connectors,
            count(DISTINCT coalesce(origin_ip, connector_id))
                FILTER (WHERE connector_id IS NOT NULL) AS n_hosts
        FROM (
            SELECT account_id, fetched_at, connector_id, origin_ip FROM h
            UNION ALL SELECT account_id, fetched_at, NULL, NULL FROM u
        )
        GROUP BY account_id, fetched_at
        """,
    ),
    (
        "versions",
        """
        SELECT account_id, fetched_at, version, count(DISTINCT connector_id) AS n_connectors
        FROM h WHERE connector_id IS NOT NULL GROUP BY account_id, fetched_at, version
        """,
    ),
    (
        "pos",
        """
        SELECT account_id, fetched_at,
            row_number() OVER (PARTITION BY account_id ORDER BY fetched_at) AS i
        FROM {prefix}snaps
        """,
    ),
    ("conn", _CONN),
    (
        "connectors",
        _runs(
            "SELECT * FROM {prefix}conn",
            "account_id, tunnel_id, connector_id, tunnel_name, version, started, host",
        ),
    ),
    (
        "hosts",
        _runs(_HOSTS, "account_id, tunnel_id, host, tunnel_name, connector_id, version"),
    ),
    (
        "tunnels",
        _runs(_TUNNELS, _TUNNEL_KEYS),
    ),
    (
        "unread",
        """
        SELECT account_id, tunnel_id, fetched_at, any_value(tunnel_name) AS tunnel_name,
            any_value(status) AS status, any_value(message) AS message
        FROM u GROUP BY account_id, tunnel_id, fetched_at
        """,
    ),
]


def derive_facts(con: duckdb.DuckDBPyConnection, source: str, prefix: str = "d_") -> None:
    """Create the temp tables ``{prefix}<kind>`` of :data:`FACT_KINDS` from the rows in ``source``.

    ``source`` is a view or table of store rows (:data:`STORE_SCHEMA` columns, by name).
    """
    con.execute(ROWS_VIEW.format(source=source))
    con.execute(UNREAD_VIEW.format(source=source))
    for name, sql in _DERIVE:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {prefix}{name} AS {sql.format(prefix=prefix)}")
    con.execute(f"DROP TABLE {prefix}conn")
    con.execute(f"DROP TABLE {prefix}pos")


# The columns that identify a run of each kind (what a run records).
RUN_KEYS = {
    "connectors": "account_id, tunnel_id, connector_id, tunnel_name, version, started, host",
    "hosts": "account_id, tunnel_id, host, tunnel_name, connector_id, version",
    "tunnels": _TUNNEL_KEYS,
}


def merge_runs_sql(kind: str, source: str, snaps: str) -> str:
    """SQL of the facts of ``kind`` in ``source`` with runs that continue one another joined.

    Two runs of the same subject and record continue one another when the second starts at the
    snapshot (of the account, per ``snaps``) after the first ends.
    """
    if kind not in RUN_KEYS:
        return f"SELECT * FROM {source}"
    keys = RUN_KEYS[kind]
    return f"""
    WITH seq AS (
        SELECT account_id, fetched_at,
            lead(fetched_at) OVER (PARTITION BY account_id ORDER BY fetched_at) AS next_at
        FROM (SELECT DISTINCT account_id, fetched_at FROM {snaps})
    ),
    r AS (
        SELECT x.*, s.next_at AS after_at FROM {source} x
        JOIN seq s ON s.account_id = x.account_id AND s.fetched_at = x.last_at
    ),
    m AS (
        SELECT *, CASE WHEN lag(after_at) OVER w IS NOT DISTINCT FROM first_at THEN 0 ELSE 1 END
            AS starts
        FROM r WINDOW w AS (PARTITION BY {keys} ORDER BY first_at)
    ),
    g AS (SELECT *, sum(starts) OVER (PARTITION BY {keys} ORDER BY first_at) AS run FROM m)
    SELECT {keys}, min(first_at) AS first_at, max(last_at) AS last_at,
        CAST(sum(n_snapshots) AS BIGINT) AS n_snapshots
    FROM g GROUP BY {keys}, run
    """
