"""The HA rules as data: which state a tunnel (or connector) is in, defined once.

A rule is a state and a condition over a tunnel's counts; a tunnel takes the state of the
first rule that holds, else ``ok``. The condition is an expression both pandas
(:meth:`pandas.DataFrame.eval`) and DuckDB read, so :func:`tunnelframe.ha_report` (pandas)
and the history queries (:func:`tunnelframe.ha_episodes`, :func:`tunnelframe.ha_timeline`,
SQL) are generated from the same table and cannot drift apart. The counts, per tunnel:

- ``n_active``: active connections (a connection that is not a pending reconnect, as
  :func:`tunnelframe.frames.connection_flags` defines it);
- ``n_active_connectors``: connectors holding at least one active connection;
- ``n_short``: connectors short of :data:`EXPECTED_CONNECTIONS` active connections, those a
  restart left behind (``replaced``) not counted;
- ``n_colos``: distinct sites (``colo_name``) of the active connections.

WARP Connector tunnels run active/passive pairs: :data:`PAIR_HA_RULES` judges them over
``n_members_active`` and ``n_members_passive`` (members by ``ha_status``), in the same
vocabulary. Nothing here reads data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CONNECTOR_HA_RULES",
    "EXPECTED_CONNECTIONS",
    "HA_STATES",
    "PAIR_HA_RULES",
    "TUNNEL_HA_RULES",
    "ha_states",
    "ha_states_sql",
    "holds",
]

#: The active connections a healthy cloudflared connector holds (cloudflared opens 4).
EXPECTED_CONNECTIONS = 4

#: A tunnel's HA states, worst first (:func:`tunnelframe.ha_report`'s ``status``,
#: :func:`tunnelframe.ha_episodes`' ``state``); a tunnel takes the first whose rule holds.
HA_STATES = ("down", "single_connector", "degraded", "single_colo", "ok")

#: The ordered rules of a cloudflared tunnel's state: (state, condition over its counts).
TUNNEL_HA_RULES: tuple[tuple[str, str], ...] = (
    ("down", "n_active == 0"),
    ("single_connector", "n_active_connectors == 1"),
    ("degraded", "n_short > 0"),
    ("single_colo", "n_colos == 1"),  # one active connection reaches one site too
)

#: The ordered rules of one cloudflared connector's state (``expected``: the active
#: connections it should hold).
CONNECTOR_HA_RULES: tuple[tuple[str, str], ...] = (
    ("down", "n_active == 0"),
    ("degraded", "n_active < expected"),
    ("single_colo", "n_colos == 1"),
)

#: The ordered rules of a WARP Connector tunnel (an active/passive pair), in the same
#: vocabulary: no active member is ``down``, one member and no standby is
#: ``single_connector``, two members claiming active is ``degraded``.
PAIR_HA_RULES: tuple[tuple[str, str], ...] = (
    ("down", "n_members_active == 0"),
    ("degraded", "n_members_active > 1"),
    ("single_connector", "n_members_passive == 0"),
)


def ha_states(counts: pd.DataFrame, rules: tuple[tuple[str, str], ...]) -> np.ndarray:
    """The pandas form of ``rules``: each row's state (object array) from its counts.

    Examples
    --------
    >>> counts = pd.DataFrame({"n_active": [0, 4, 8], "n_active_connectors": [0, 1, 2],
    ...                        "n_short": [0, 0, 0], "n_colos": [0, 2, 1]})
    >>> ha_states(counts, TUNNEL_HA_RULES).tolist()
    ['down', 'single_connector', 'single_colo']
    """
    if counts.empty:
        return np.array([], dtype=object)
    conditions = [holds(counts, condition) for _, condition in rules]
    return np.select(conditions, [state for state, _ in rules], "ok").astype(object)


def holds(counts: pd.DataFrame, condition: str) -> np.ndarray:
    """Where ``condition`` (one rule's) holds over ``counts``, as a bool array.

    Examples
    --------
    >>> holds(pd.DataFrame({"n_colos": [1, 2], "n_active": [4, 4]}),
    ...       "n_colos == 1 and n_active > 1").tolist()
    [True, False]
    """
    return np.asarray(counts.eval(condition), dtype=bool)


def ha_states_sql(rules: tuple[tuple[str, str], ...]) -> str:
    """The SQL form of ``rules``: a ``CASE`` expression over columns named as the counts.

    Examples
    --------
    >>> print(ha_states_sql(PAIR_HA_RULES))  # doctest: +NORMALIZE_WHITESPACE
    CASE WHEN n_members_active == 0 THEN 'down' WHEN n_members_active > 1 THEN 'degraded'
    WHEN n_members_passive == 0 THEN 'single_connector' ELSE 'ok' END
    """
    whens = " ".join(f"WHEN {condition} THEN '{state}'" for state, condition in rules)
    return f"CASE {whens} ELSE 'ok' END"
