"""Plots of a fleet history: a version rollout and an HA timeline.

Each function takes the small frame a history query returns, draws on the given Axes (or
``plt.gca()``) and returns it; none calls ``plt.show()`` or ``savefig``. matplotlib is imported
only when a plot is drawn, so ``import tunnelframe`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from tunnelframe.history._queries import HA_STATES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_ha_timeline", "plot_version_rollout"]

# Worst states in warm colours, HA in green; matches the order of HA_STATES.
_STATE_COLORS = {
    "down": "#b2182b",
    "single_connector": "#ef8a62",
    "single_colo": "#fddbc7",
    "degraded": "#d1b3e6",
    "ha": "#7fbf7b",
}


def _require(frame: object, columns: list[str], func: str, source: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{func} takes the frame from {source}, not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{func}: frame lacks column(s) {', '.join(missing)}: pass the frame from {source}"
        )
    return frame


def plot_version_rollout(
    rollout: pd.DataFrame, *, ax: Axes | None = None, top: int = 8, **kwargs: Any
) -> Axes:
    """Stacked shares of connectors per cloudflared version over time.

    Parameters
    ----------
    rollout : pandas.DataFrame
        The frame from :func:`tunnelframe.version_rollout`.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default ``plt.gca()``.
    top : int, default 8
        Versions drawn on their own: those with the highest peak share; the rest are stacked
        as ``other``.
    **kwargs
        Passed to ``Axes.stackplot``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: one stacked band per version, oldest at the bottom.

    Examples
    --------
    >>> import tempfile, matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(20, days=10):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> ax = tf.plot_version_rollout(tf.version_rollout(store))
    >>> ax.get_ylabel()
    'share of connectors'
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    frame = _require(
        rollout, ["fetched_at", "version", "share"], "plot_version_rollout", "version_rollout"
    )
    if ax is None:
        ax = plt.gca()
    shares = frame.pivot_table(
        index="fetched_at", columns="version", values="share", aggfunc="sum", observed=True
    ).fillna(0.0)
    if len(shares.columns) > top:
        keep = shares.max().nlargest(top).index
        other = shares.drop(columns=keep).sum(axis=1)
        shares = shares[[c for c in shares.columns if c in keep]]
        shares["other"] = other
    if len(shares):
        ax.stackplot(
            shares.index.to_numpy(),
            *(shares[c].to_numpy() for c in shares.columns),
            labels=[str(c) for c in shares.columns],
            **kwargs,
        )
        # Newest version first in the legend, as it is on top of the stack.
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], title="version", loc="upper left", fontsize="small")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share of connectors")
    ax.set_xlabel("fetched at (UTC)")
    ax.set_title("cloudflared version rollout")
    return ax


def plot_ha_timeline(
    episodes: pd.DataFrame, *, ax: Axes | None = None, top: int = 20, **kwargs: Any
) -> Axes:
    """One bar per tunnel over time, coloured by HA state: down, single connector, single colo...

    Parameters
    ----------
    episodes : pandas.DataFrame
        The frame from :func:`tunnelframe.ha_episodes`.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default ``plt.gca()``.
    top : int, default 20
        Tunnels drawn: those with the most hours outside the ``ha`` state (the worst at the
        top).
    **kwargs
        Passed to ``Axes.broken_barh``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: one row per tunnel (labelled with its name), one legend entry per
        state drawn.

    Examples
    --------
    >>> import tempfile, matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> store = tempfile.mkdtemp()
    >>> for snapshot in tf.simulator.generate_history(20, days=10):
    ...     _ = tf.append_snapshot(snapshot, store)
    >>> ax = tf.plot_ha_timeline(tf.ha_episodes(store), top=5)
    >>> len(ax.get_yticks()) <= 5
    True
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    date2num: Callable[..., Any] = mdates.date2num  # untyped in matplotlib
    frame = _require(
        episodes,
        ["tunnel_id", "tunnel_name", "state", "start_at", "end_at", "hours"],
        "plot_ha_timeline",
        "ha_episodes",
    )
    if ax is None:
        ax = plt.gca()
    frame = frame[frame["end_at"] > frame["start_at"]]
    state = frame["state"].astype(str)
    bad_hours = frame["hours"].where(state != "ha", 0.0)
    worst = bad_hours.groupby(frame["tunnel_id"], observed=True).sum()
    worst = worst.sort_values(ascending=False, kind="stable")
    chosen = list(worst.index[:top])
    names = frame.groupby("tunnel_id", observed=True)["tunnel_name"].last()
    drawn: set[str] = set()
    for row, tunnel_id in enumerate(chosen):
        runs = frame[frame["tunnel_id"] == tunnel_id]
        starts = date2num(runs["start_at"].dt.tz_convert(None).to_numpy())
        ends = date2num(runs["end_at"].dt.tz_convert(None).to_numpy())
        states = runs["state"].astype(str).tolist()
        ax.broken_barh(
            list(zip(starts, ends - starts, strict=True)),
            (row - 0.4, 0.8),
            facecolors=[_STATE_COLORS[s] for s in states],
            **kwargs,
        )
        drawn.update(states)
    ax.set_yticks(range(len(chosen)), [str(names[t]) for t in chosen])
    ax.set_ylim(len(chosen) - 0.5, -0.5)
    ax.xaxis_date()
    ax.set_xlabel("time (UTC)")
    ax.set_title("HA state per tunnel")
    if drawn:
        ax.legend(
            handles=[Patch(color=_STATE_COLORS[s], label=s) for s in HA_STATES if s in drawn],
            loc="upper right",
            fontsize="small",
        )
    return ax
