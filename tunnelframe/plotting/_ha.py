"""The HA status of a snapshot's tunnels or connectors, as bars per status (:func:`ha_report`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from tunnelframe._text import plural
from tunnelframe._types import FleetSource
from tunnelframe.colos import ha_report
from tunnelframe.plotting._common import (
    _axes,
    _bar_labels,
    _integer_counts,
    _say_empty,
    _title,
)
from tunnelframe.plotting._history import _STATE_COLORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_ha_status"]

_FLAGS = ("single_connector", "single_colo", "single_metro")


def plot_ha_status(
    source: FleetSource,
    *,
    level: Literal["tunnel", "connector"] = "tunnel",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Bar chart of how many tunnels (or connectors) are in each HA status.

    Parameters
    ----------
    source : Snapshot, path, fleet dict, connections frame or ha_report result
        What :func:`tunnelframe.ha_report` takes (a Snapshot counts its connector-less tunnels
        too), or its result, drawn as it is (compute once, draw many).
    level : {"tunnel", "connector"}, default "tunnel"
        Which ``ha_report`` to draw when ``source`` is not one already.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default the current Axes (``plt.gca()``).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> ax = tf.plot_ha_status(tf.load_sample())
    >>> [t.get_text() for t in ax.get_yticklabels()][-1]
    'down'
    """
    ax = _axes(ax)
    if isinstance(source, pd.DataFrame) and {"status", "reason"} <= set(source.columns):
        report = source
    else:
        report = ha_report(source, level=level)
    what = "tunnel" if "n_active_connectors" in report.columns else "connector"
    title = f"HA status of {plural(len(report), what)}"
    if not len(report):
        return _say_empty(ax, title, f"{what}s")
    counts = report["status"].value_counts(sort=False)  # every status, in its order
    colors = [_STATE_COLORS.get(s, "#999999") for s in counts.index]
    options: dict[str, Any] = {"color": colors, "height": 0.7}
    options.update(kwargs)
    y = list(range(len(counts)))
    bars = ax.barh(y, counts.to_numpy(), **options)
    total = int(counts.sum())
    _bar_labels(ax, bars, [f"{n:,} ({100 * n / total:.0f}%)" for n in counts.to_numpy()])
    ax.set_yticks(y, labels=[str(s) for s in counts.index])
    ax.set_ylim(len(counts) - 0.5, -0.5)
    ax.set_xlim(0, max(1, int(counts.max())) * 1.25)  # room for the labels
    _integer_counts(ax, "x")
    _title(ax, title)
    flags = [f"{c.replace('_', ' ')} {int(report[c].sum()):,}" for c in _FLAGS if c in report]
    # The status names the most urgent problem; the flags count every one (below the axis,
    # where no bar can run into them).
    ax.set_xlabel(f"{what}s" + (f"\nflagged: {', '.join(flags)}" if flags else ""))
    return ax
