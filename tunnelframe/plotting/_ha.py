"""The HA of a snapshot's tunnels (or connectors) as bars: one per problem, counted as
:func:`ha_report`'s flags count it, so the chart says the numbers the report and ``check`` say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from tunnelframe._text import plural
from tunnelframe._types import FleetSource
from tunnelframe.colos import HA_STATES, TUNNEL_HA_RULES, ha_report
from tunnelframe.plotting._common import (
    _axes,
    _bar_labels,
    _integer_counts,
    _percent,
    _say_empty,
    _title,
)
from tunnelframe.plotting._history import _STATE_COLORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_ha_status"]

#: The connector states, worst first (a connector has no flags: one bar each, its status).
_CONNECTOR_STATES = ("down", "degraded", "single_colo", "ok")
_INACTIVE_COLOR = "#999999"
_OVERLAP_ALPHA = 0.35
_HATCH_COLOR = "0.35"


def plot_ha_status(
    source: FleetSource,
    *,
    level: Literal["tunnel", "connector"] = "tunnel",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Bar chart of how many tunnels have each HA problem (or connectors, each HA status).

    Tunnel level: one bar per HA state, worst first (``down``, ``single_connector``,
    ``degraded``, ``single_colo``, ``ok``), then ``inactive``. A problem's bar counts every
    tunnel that has it, as :func:`tunnelframe.ha_report`'s flag column of that name does
    (``report["single_colo"].sum()``), so it shows the numbers the report's findings and
    ``tunnelframe check`` give. A tunnel with two problems counts in both bars: the solid part
    of a bar is the tunnels whose ``status`` (worst problem) it is, the hatched part those
    that also have a worse one. ``ok`` and ``inactive`` are statuses only. Connector level:
    one bar per connector ``status``, each connector in one.

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
        Passed to :meth:`matplotlib.axes.Axes.barh` (the solid and the hatched parts).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> ax = tf.plot_ha_status(tf.load_sample())
    >>> [t.get_text() for t in ax.get_yticklabels()][:4]
    ['down', 'single_connector', 'degraded', 'single_colo']
    """
    from matplotlib.colors import to_rgba_array

    ax = _axes(ax)
    if isinstance(source, pd.DataFrame) and {"status", "reason"} <= set(source.columns):
        report = source
    else:
        report = ha_report(source, level=level)
    tunnels = "n_active_connectors" in report.columns
    what = "tunnel" if tunnels else "connector"
    title = f"HA of {plural(len(report), what)}"
    if not len(report):
        return _say_empty(ax, title, f"{what}s")
    counts = _tunnel_counts(report) if tunnels else _connector_counts(report)
    colors = [_STATE_COLORS.get(s, _INACTIVE_COLOR) for s in counts.index]
    y = np.arange(len(counts))
    options: dict[str, Any] = {"color": colors, "height": 0.7}
    options.update(kwargs)
    ax.barh(y, counts["status"].to_numpy(), **options)
    # the tunnels a worse problem outranks, after the solid part: each bar ends at the count
    # a person gets from the flag column, where its label goes
    worse = (counts["n"] - counts["status"]).to_numpy()
    faded = {**options, "hatch": "///", "edgecolor": _HATCH_COLOR, "linewidth": 0}
    faded["color"] = to_rgba_array(options["color"], _OVERLAP_ALPHA)  # the hatch stays dark
    ends = ax.barh(y, worse, left=counts["status"].to_numpy(), **faded)
    _bar_labels(ax, ends, [f"{n:,} ({_percent(n, len(report))})" for n in counts["n"]])
    ax.set_yticks(y, labels=list(counts.index))
    ax.set_ylim(len(counts) - 0.5, -0.5)
    ax.set_xlim(0, max(1, int(counts["n"].max())) * 1.25)  # room for the labels
    _integer_counts(ax, "x")
    _title(ax, title)
    if tunnels:
        ax.set_xlabel("tunnels (a tunnel counts in every bar that applies)")
        if worse.any():
            from matplotlib.patches import Patch

            ax.legend(
                handles=[
                    Patch(color=_HATCH_COLOR, label="its status (worst problem)"),
                    Patch(
                        facecolor=to_rgba_array(_HATCH_COLOR, _OVERLAP_ALPHA)[0],
                        edgecolor=_HATCH_COLOR,
                        hatch="///",
                        linewidth=0,
                        label="also has a worse problem",
                    ),
                ],
                loc="best",  # clear of the bars
                fontsize="small",
            )
    else:
        ax.set_xlabel("connectors (each in one bar: its status)")
    return ax


def _tunnel_counts(report: pd.DataFrame) -> pd.DataFrame:
    """Per state, worst first: ``n`` tunnels with it (its flag, else its status) and
    ``status`` those whose status it is."""
    flags = [state for state, _ in TUNNEL_HA_RULES[1:]]  # ha_report's flag columns
    missing = [flag for flag in flags if flag not in report.columns]
    if missing:
        raise ValueError(
            f"plot_ha_status: the ha_report result lacks {', '.join(missing)}: pass "
            "ha_report(..., level='tunnel') whole, or the fleet data"
        )
    status = report["status"].astype("object").to_numpy()
    rows = {}
    for state in (*HA_STATES, "inactive"):
        is_status = status == state
        has = report[state].to_numpy(dtype=bool) if state in flags else is_status
        rows[state] = (int(has.sum()), int(is_status.sum()))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["n", "status"])


def _connector_counts(report: pd.DataFrame) -> pd.DataFrame:
    status = report["status"].astype("object").to_numpy()
    rows = {state: [int((status == state).sum())] * 2 for state in _CONNECTOR_STATES}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["n", "status"])
