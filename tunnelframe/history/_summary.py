"""What a history store says, computed once: the query results both ``tunnelframe history``
and the report's History section show.

:func:`history_summary` runs each query of :mod:`tunnelframe.history._queries` once; the CLI
prints its counts and hands the same object to :func:`tunnelframe.write_report`, so
``tunnelframe history -o`` does not run the DuckDB queries twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tunnelframe.history._queries import (
    History,
    colo_shifts,
    connector_churn,
    ha_episodes,
    ha_timeline,
    version_rollout,
)

__all__ = ["HistorySummary", "history_summary", "lost_second_colo"]


def lost_second_colo(shifts: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`~tunnelframe.colo_shifts` where a tunnel went from two colos or more
    to fewer: it lost its colo redundancy.

    Examples
    --------
    >>> shifts = pd.DataFrame({"tunnel_id": ["t1", "t2"], "n_colos_before": [2, 3],
    ...                        "n_colos_after": [1, 2]})
    >>> lost_second_colo(shifts)["tunnel_id"].tolist()
    ['t1']
    """
    return shifts[(shifts["n_colos_before"] >= 2) & (shifts["n_colos_after"] < 2)]


@dataclass(frozen=True)
class HistorySummary:
    """The history queries' results of one store (or history frame), each run once.

    Attributes
    ----------
    rollout, churn, hosts, shifts, timeline, episodes : pandas.DataFrame
        :func:`~tunnelframe.version_rollout`, :func:`~tunnelframe.connector_churn` (per
        snapshot and ``per="host"``), :func:`~tunnelframe.colo_shifts`,
        :func:`~tunnelframe.ha_timeline` and :func:`~tunnelframe.ha_episodes`.

    Examples
    --------
    >>> import tempfile
    >>> import tunnelframe as tf
    >>> from tunnelframe.history import history_summary
    >>> store = tempfile.mkdtemp()
    >>> for snap in tf.simulator.generate_history(5, days=1, every="12h", seed=1):
    ...     _ = tf.append_snapshot(snap, store)
    >>> summary = history_summary(store)
    >>> len(summary.timeline) == summary.timeline["tunnel_id"].nunique()  # one row per tunnel
    True
    """

    rollout: pd.DataFrame
    churn: pd.DataFrame
    hosts: pd.DataFrame
    shifts: pd.DataFrame
    timeline: pd.DataFrame
    episodes: pd.DataFrame

    @property
    def lost(self) -> pd.DataFrame:
        """The colo shifts where a tunnel lost its second colo (:func:`lost_second_colo`)."""
        return lost_second_colo(self.shifts)


def history_summary(history: History) -> HistorySummary:
    """Run every history query once over ``history`` (a store directory or history frame).

    Examples
    --------
    >>> import tempfile
    >>> import tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snap in tf.simulator.generate_history(5, days=1, every="12h", seed=1):
    ...     _ = tf.append_snapshot(snap, store)
    >>> summary = history_summary(store)
    >>> summary.rollout["fetched_at"].nunique()  # at 0h, 12h and 24h
    3
    """
    return HistorySummary(
        rollout=version_rollout(history),
        churn=connector_churn(history),
        hosts=connector_churn(history, per="host"),
        shifts=colo_shifts(history),
        timeline=ha_timeline(history),
        episodes=ha_episodes(history),
    )
