"""Connection ages and connector uptimes as a log-scale histogram."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from tunnelframe._deprecate import renamed
from tunnelframe._text import plural
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe.colos import connection_ages
from tunnelframe.plotting._common import (
    STATUS_COLORS,
    _axes,
    _fleet_frame,
    _fmt_hours,
    _integer_counts,
    _note,
    _say_empty,
    _title,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_connection_ages"]

_AGE_TICKS = (
    (1 / 60, "1 min"),
    (1.0, "1 h"),
    (6.0, "6 h"),
    (24.0, "1 d"),
    (24.0 * 7, "1 w"),
    (24.0 * 30, "30 d"),
    (24.0 * 91, "3 mo"),
    (24.0 * 365, "1 y"),
    (24.0 * 365 * 2, "2 y"),
)


@renamed(frame="source")
def plot_connection_ages(
    source: FleetSource,
    *,
    level: Literal["connection", "connector"] = "connection",
    as_of: TimeLike | None = None,
    bins: int = 30,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Histogram of how long connections have been open, or connectors running, on a log scale.

    Ages come from :func:`tunnelframe.connection_ages`. A pile-up at short ages means
    connections flapping (connection level) or connectors restarting (connector level); a
    dashed line marks the median.

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        The fleet (as :func:`tunnelframe.connections_frame` takes it), or the
        output of :func:`tunnelframe.connection_ages` (used as it is).
    level : {"connection", "connector"}, default "connection"
        Age of each active connection (since ``opened_at``) or uptime of each connector (since
        ``run_at``).
    as_of : datetime-like, optional
        The "now" ages are measured at; default the current time. Pass a snapshot's
        ``fetched_at`` (or :data:`tunnelframe.simulator.DEFAULT_AS_OF` for generated fleets).
    bins : int, default 30
        Number of logarithmic bins.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default the current Axes (``plt.gca()``).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.hist`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Notes
    -----
    Ages under a minute are drawn in the first bin; ages without a time stamp, or negative
    (stamped after ``as_of``), are left out and counted in a note on the Axes.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> fig, ax = plt.subplots()
    >>> ax = tf.plot_connection_ages(conns, as_of=tf.simulator.DEFAULT_AS_OF, ax=ax)
    >>> ax.get_xscale()
    'log'
    """
    frame = _fleet_frame(source, "plot_connection_ages")
    if level not in ("connection", "connector"):
        raise ValueError(
            f"plot_connection_ages: level={level!r} is not 'connection' or 'connector'"
        )
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(f"plot_connection_ages: bins={bins!r} must be a positive integer")
    ax = _axes(ax)
    column = "age_hours" if level == "connection" else "uptime_hours"
    has_ages = column in frame.columns
    ages = frame if has_ages else connection_ages(frame, as_of=as_of, level=level)
    if level == "connection":
        title, what, unit = "Age of active connections", "active connections", "connections"
    else:
        title, what, unit = "Connector uptime since (re)start", "connectors", "connectors"
    if ages.empty:
        return _say_empty(ax, title, what)
    hours = ages[column].to_numpy(np.float64)
    usable = np.isfinite(hours) & (hours >= 0)
    n_left_out = int((~usable).sum())
    hours = hours[usable]
    if hours.size == 0:
        _say_empty(ax, title, f"{what} with a usable time stamp")
        _note(ax, f"{plural(n_left_out, unit[:-1])} without a time stamp or stamped after as_of")
        return ax
    low = 1 / 60
    clipped = np.clip(hours, low, None)
    high = max(float(clipped.max()), low * 10)
    edges = np.geomspace(low, high * 1.001, bins + 1)
    options: dict[str, Any] = {
        "bins": edges,
        "color": STATUS_COLORS["behind"],
        "edgecolor": "white",
        "linewidth": 0.5,
    }
    options.update(kwargs)
    ax.hist(clipped, **options)
    ax.set_xscale("log")
    ticks = [(t, label) for t, label in _AGE_TICKS if low <= t <= high * 1.5]
    ax.set_xticks([t for t, _ in ticks], labels=[label for _, label in ticks])
    ax.minorticks_off()
    import matplotlib

    median = float(np.median(hours))
    ax.axvline(
        max(median, low),
        color=matplotlib.rcParams["text.color"],  # the style's: readable on a dark one too
        linestyle="--",
        linewidth=1,
        label=f"median {_fmt_hours(median)}",
    )
    ax.legend(fontsize="small", loc="upper left")
    ax.set_xlabel("age (log scale)" if level == "connection" else "uptime (log scale)")
    ax.set_ylabel(unit)
    _integer_counts(ax, "y")
    _title(ax, f"{title} ({hours.size:,} {unit})")
    if n_left_out:
        _note(ax, f"not shown: {n_left_out:,} without a time stamp or stamped after as_of")
    return ax
