"""Plots of a fleet history: a version rollout and an HA timeline.

Each function takes the small frame a history query returns, draws on the given Axes (or
``plt.gca()``) and returns it; none calls ``plt.show()`` or ``savefig``. They share the
plumbing of :mod:`tunnelframe.plotting` (input checks, the empty-frame message, labels safe
for any tunnel name, colours), and matplotlib is imported only when a plot is drawn, so
``import tunnelframe`` stays fast.
"""

from __future__ import annotations

from itertools import cycle
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tunnelframe._checks import _check_frame
from tunnelframe._text import plural
from tunnelframe.history import HA_STATES
from tunnelframe.plotting._common import (
    _OTHER_COLOR,
    _axes,
    _check_top,
    _concise_dates,
    _date_num,
    _label,
    _say_empty,
    _title,
    _tunnel_labels,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_ha_timeline", "plot_version_rollout"]

# Worst states in warm colours, HA in green; one colour per state of HA_STATES.
_STATE_COLORS = {
    "down": "#b2182b",
    "single_connector": "#ef8a62",
    "degraded": "#d1b3e6",
    "single_colo": "#fddbc7",
    "ok": "#7fbf7b",
}
_NO_VERSION = "(no version)"
#: Width (days) of what one snapshot alone shows, and the time shown around it.
_MARK_DAYS = 1 / 24
_ONE_TIME_DAYS = 0.5


def plot_version_rollout(
    rollout: pd.DataFrame, *, ax: Axes | None = None, top: int | None = 8, **kwargs: Any
) -> Axes:
    """Stacked shares of connectors per cloudflared version over time.

    Parameters
    ----------
    rollout : pandas.DataFrame
        The frame from :func:`tunnelframe.version_rollout`.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default the current Axes (``plt.gca()``).
    top : int or None, default 8
        Versions drawn on their own: those with the highest peak share; the rest are stacked
        as one grey ``other`` band on top. ``None`` draws every version.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.stackplot` (e.g. ``colors``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: one stacked band per version, oldest at the bottom, newest first
        in the legend. An empty frame gives an Axes that says so.

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
    frame = _check_frame(
        rollout,
        "plot_version_rollout",
        what="a version rollout",
        source="tunnelframe.version_rollout",
        columns=("fetched_at", "version", "share"),
    )
    top = _check_top(top, "top", "plot_version_rollout")
    ax = _axes(ax)
    title = "cloudflared version rollout"
    if frame.empty:
        return _say_empty(ax, title, "snapshots")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb
    from matplotlib.ticker import PercentFormatter

    # categorical keeps the query's version order (oldest first), which strings would not
    versions = frame["version"].astype("category")
    if versions.isna().any():
        versions = versions.cat.set_categories([_NO_VERSION, *versions.cat.categories])
        versions = versions.fillna(_NO_VERSION)
    shares = (
        pd.DataFrame(
            {"fetched_at": frame["fetched_at"], "version": versions, "share": frame["share"]}
        )
        .pivot_table(
            index="fetched_at", columns="version", values="share", aggfunc="sum", observed=True
        )
        .fillna(0.0)
    )
    n_named = len(shares.columns)
    if top is not None and n_named > top:
        keep = shares.max().nlargest(top).index
        other = shares.drop(columns=keep).sum(axis=1)
        shares = shares[[c for c in shares.columns if c in keep]].assign(other=other)
        n_named = top
    # the colour cycle without its greys (grey is for "other"), unless it has nothing else
    cycle_colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    hues = [c for c in cycle_colors if len(set(to_rgb(c))) > 1] or cycle_colors
    palette = cycle(hues)
    colors = [next(palette) for _ in range(n_named)] + [_OTHER_COLOR] * (
        len(shares.columns) - n_named
    )
    labels = [_label(version) for version in shares.columns]
    options: dict[str, Any] = {"colors": colors, "labels": labels}
    options.update(kwargs)
    x = _date_num(shares.index)
    bands = [shares[c].to_numpy(np.float64) for c in shares.columns]
    if len(shares) == 1:  # one snapshot: a band as wide as a mark, so that it shows
        x = np.array([x[0] - _MARK_DAYS / 2, x[0] + _MARK_DAYS / 2])
        bands = [np.repeat(band, 2) for band in bands]
        ax.set_xlim(float(x.mean()) - _ONE_TIME_DAYS / 2, float(x.mean()) + _ONE_TIME_DAYS / 2)
    ax.stackplot(x, *bands, **options)
    # Newest version first in the legend, as it is on top of the stack.
    handles, names = ax.get_legend_handles_labels()
    ax.legend(
        handles[::-1],
        names[::-1],
        title="version",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
    )
    if len(shares) > 1:  # no margins: the bands start and end with the history
        first, last = _date_num(shares.index[[0, -1]])
        ax.set_xlim(float(first), float(last))
    _concise_dates(ax)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share of connectors")
    ax.set_xlabel("fetched at (UTC)")
    _title(ax, f"{title}: {plural(len(shares), 'snapshot')}")
    return ax


def plot_ha_timeline(
    episodes: pd.DataFrame, *, ax: Axes | None = None, top: int | None = 20, **kwargs: Any
) -> Axes:
    """One bar per tunnel over time, coloured by HA state: down, single connector, single colo...

    Parameters
    ----------
    episodes : pandas.DataFrame
        The frame from :func:`tunnelframe.ha_episodes`.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default the current Axes (``plt.gca()``).
    top : int or None, default 20
        Tunnels drawn: those with the most hours outside the ``ha`` state (the worst at the
        top); ``None`` draws every tunnel.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.broken_barh` (one call per tunnel).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: one row per tunnel (labelled with its name, and the start of its
        id where two tunnels share a name), one legend entry per state drawn. An empty frame
        gives an Axes that says so.

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
    frame = _check_frame(
        episodes,
        "plot_ha_timeline",
        what="HA episodes",
        source="tunnelframe.ha_episodes",
        columns=("tunnel_id", "tunnel_name", "state", "start_at", "end_at", "hours"),
    )
    top = _check_top(top, "top", "plot_ha_timeline")
    ax = _axes(ax)
    title = "HA state per tunnel"
    frame = frame[frame["end_at"] >= frame["start_at"]]
    if frame.empty:
        return _say_empty(ax, title, "HA episodes")
    from matplotlib.patches import Patch

    state = frame["state"].astype(str)
    bad_hours = frame["hours"].where(state != "ok", 0.0)
    worst = bad_hours.groupby(frame["tunnel_id"], observed=True).sum()
    worst = worst.sort_values(ascending=False, kind="stable")
    chosen = list(worst.index[:top])
    keys = frame.groupby("tunnel_id", observed=True)["tunnel_name"].last().loc[chosen]
    labels = _tunnel_labels(keys.reset_index())
    starts, ends = _date_num(frame["start_at"]), _date_num(frame["end_at"])
    # A state seen at one instant only (the last snapshot's news, or a store of one snapshot)
    # lasts no time: drawn as wide as a mark from that instant on, so that it shows.
    span = float(ends.max() - starts.min())
    if span > 0:
        ends = np.where(ends > starts, ends, starts + span / 100)
    else:
        starts, ends = starts - _MARK_DAYS / 2, ends + _MARK_DAYS / 2
        ax.set_xlim(
            float(starts.min()) + _MARK_DAYS / 2 - _ONE_TIME_DAYS / 2,
            float(starts.min()) + _MARK_DAYS / 2 + _ONE_TIME_DAYS / 2,
        )
    tunnel = frame["tunnel_id"].to_numpy()
    drawn: set[str] = set()
    for row, tunnel_id in enumerate(chosen):
        runs = np.flatnonzero(tunnel == tunnel_id)
        states = state.iloc[runs].tolist()
        ax.broken_barh(
            list(zip(starts[runs], ends[runs] - starts[runs], strict=True)),
            (row - 0.4, 0.8),
            facecolors=[_STATE_COLORS[s] for s in states],
            **kwargs,
        )
        drawn.update(states)
    ax.set_yticks(range(len(chosen)), labels)
    ax.set_ylim(len(chosen) - 0.5, -0.5)
    _concise_dates(ax)
    ax.set_xlabel("time (UTC)")
    shown = f"{len(chosen)} of {plural(len(worst), 'tunnel')}"
    _title(ax, f"{title} ({shown}, most hours out of HA first)")
    ax.legend(
        handles=[Patch(color=_STATE_COLORS[s], label=s) for s in HA_STATES if s in drawn],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
    )
    return ax
