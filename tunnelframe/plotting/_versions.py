"""Version plots: connectors per version, and how far behind they are (by releases or date)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from tunnelframe._deprecate import renamed
from tunnelframe._text import plural
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe.plotting._common import (
    _DRIFT_COLUMNS,
    _EMPTY_COLOR,
    _STATUS_LABELS,
    STATUS_COLORS,
    _axes,
    _bar_labels,
    _check_top,
    _date_num,
    _fleet_frame,
    _integer_counts,
    _label,
    _mark,
    _monthly_dates,
    _note,
    _percent,
    _say_empty,
    _title,
)
from tunnelframe.versions import VersionSummary, version_drift, version_summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_version_distribution", "plot_version_drift"]


@renamed(frame="source")
def plot_version_distribution(
    source: FleetSource | VersionSummary,
    *,
    top: int | None = 15,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    latest: str | tuple[str, Any] | None = None,
    as_of: TimeLike | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Bar chart of connectors per cloudflared version, coloured by support status.

    One horizontal bar per reported version, newest at the top, labelled with its connector
    count and share; current versions green, supported-but-behind blue, unsupported vermillion,
    unknown (``DEV``, no version) grey. Counts come from :func:`tunnelframe.version_summary`.

    Parameters
    ----------
    source : Snapshot, path, fleet dict, pandas.DataFrame or VersionSummary
        The fleet (as :func:`tunnelframe.connections_frame` takes it), or the result of
        :func:`tunnelframe.version_summary`, drawn as it is (``releases``, ``latest`` and
        ``as_of`` are then ignored).
    top : int or None, default 15
        Show the ``top`` versions with the most connectors; the others are summed into one
        hatched "other" bar per status (so unsupported stragglers stay visible), or shown
        by name when a status has only one of them. ``None`` shows all.
    releases, latest, as_of
        As in :func:`tunnelframe.version_drift`: the release calendar, the newest release and
        the moment support is judged at (default now; pass a snapshot's ``fetched_at``).
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default the current Axes (``plt.gca()``).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> fig, ax = plt.subplots()
    >>> ax = tf.plot_version_distribution(conns, top=5, as_of=tf.simulator.DEFAULT_AS_OF, ax=ax)
    >>> ax.get_xlabel()
    'connectors'
    """
    top = _check_top(top, "top", "plot_version_distribution")
    if isinstance(source, VersionSummary):
        summary = source
    else:
        frame = _fleet_frame(source, "plot_version_distribution")
        summary = version_summary(frame, releases=releases, latest=latest, as_of=as_of)
    ax = _axes(ax)
    if summary.n_connectors == 0:
        return _say_empty(ax, "cloudflared versions", "connectors")
    table = summary.by_version.assign(
        label=[
            _label(v) for v in summary.by_version["version"].astype("object").fillna("(no version)")
        ],
        n=summary.by_version["n_connectors"].astype(np.int64),
        status=summary.by_version["status"].astype("object").fillna("unknown"),
        hatch="",
    )
    if top is not None and len(table) > top:
        # the top versions by connectors (ties: the newer), shown in version order
        keep = table["n"].sort_values(ascending=False, kind="stable").index[:top]
        shown = table.loc[sorted(keep)]
        rest = table.drop(index=keep)
        others = []
        for status in STATUS_COLORS:
            part = rest[rest["status"] == status]
            if len(part) == 1:  # a bucket of one is that version
                others.append({**part.iloc[0].to_dict(), "hatch": ""})
            elif len(part):
                label = f"other {status} ({plural(len(part), 'version')})"
                others.append(
                    {"label": label, "n": int(part["n"].sum()), "status": status, "hatch": "//"}
                )
        # Only the drawn columns, and no empty frame: pandas 2.2 warns when concat would
        # take dtypes from all-NA columns.
        columns = ["label", "n", "status", "hatch"]
        parts = [shown[columns]] + ([pd.DataFrame(others, columns=columns)] if others else [])
        table = pd.concat(parts, ignore_index=True)
    y = np.arange(len(table))
    options: dict[str, Any] = {
        "color": [STATUS_COLORS[s] for s in table["status"]],
        "edgecolor": "white",
        "height": 0.8,
    }
    options.update(kwargs)
    bars = ax.barh(y, table["n"].to_numpy(), **options)
    for bar, hatch in zip(bars, table["hatch"], strict=True):
        if hatch:
            bar.set_hatch(hatch)
    total = summary.n_connectors
    _bar_labels(ax, bars, [f"{n:,} ({_percent(n, total)})" for n in table["n"]])
    ax.set_yticks(y, labels=table["label"].tolist())
    for tick, status in zip(ax.get_yticklabels(), table["status"], strict=True):
        if status == "unsupported":
            tick.set_color(STATUS_COLORS["unsupported"])
    ax.set_ylim(len(table) - 0.5, -0.5)  # newest on top
    ax.set_xlabel("connectors")
    _integer_counts(ax, "x")
    ax.set_ylabel("cloudflared version")
    _title(
        ax,
        f"cloudflared versions of {plural(total, 'connector')} (latest {summary.latest_version})",
    )
    _status_legend(ax, table["status"])
    return ax


def _status_legend(ax: Axes, statuses: Sequence[str] | pd.Series, **legend: Any) -> None:
    from matplotlib.patches import Patch

    seen = set(statuses)
    handles = [
        Patch(facecolor=color, label=_STATUS_LABELS[status])
        for status, color in STATUS_COLORS.items()
        if status in seen
    ]
    # outside the Axes, right of it: no bar or note is ever hidden under the legend
    ax.legend(
        handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1), **legend
    )


def _drift_frame(frame: pd.DataFrame, releases: Any, latest: Any, as_of: Any) -> pd.DataFrame:
    if all(column in frame.columns for column in _DRIFT_COLUMNS):
        return frame
    return version_drift(frame, releases=releases, latest=latest, as_of=as_of)


def _latest_release_day(drift: pd.DataFrame) -> pd.Timestamp | None:
    """The release day of the version everything was measured against, read off the drift.

    A connector behind the latest release is ``days_behind`` days older than it; when every
    connector is current, the oldest release among them is the latest itself (the others are
    newer). None when no connector has a known release date. Deriving the day from the drift
    rather than from a calendar follows whatever ``releases`` and ``latest`` produced it.
    """
    released = pd.Series(pd.to_datetime(drift["released_on"], utc=True))
    behind = drift["status"].isin(["behind", "unsupported"]).to_numpy(bool)
    days = pd.to_numeric(drift["days_behind"], errors="coerce").astype("float64")
    latest = (released + pd.to_timedelta(days, unit="D"))[behind].dropna()
    if latest.empty:
        latest = released[(drift["status"] == "current").to_numpy(bool)].dropna()
        if latest.empty:
            return None
        return pd.Timestamp(latest.min())
    return pd.Timestamp(latest.iloc[0])


@renamed(frame="source")
def plot_version_drift(
    source: FleetSource,
    *,
    by: Literal["releases_behind", "released_on"] = "releases_behind",
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    latest: str | tuple[str, Any] | None = None,
    as_of: TimeLike | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Stacked bars of connectors by how far behind they are, unsupported ones in vermillion.

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        The fleet (as :func:`tunnelframe.connections_frame` takes it), or the
        output of :func:`tunnelframe.version_drift` (used as it is).
    by : {"releases_behind", "released_on"}, default "releases_behind"
        ``"releases_behind"``: one bar per number of releases behind the latest.
        ``"released_on"``: connectors per month their version was released, with the
        unsupported window (released more than a year before the latest) shaded.
    releases, latest, as_of
        As in :func:`tunnelframe.version_drift` (ignored when ``source`` is its output).
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default the current Axes (``plt.gca()``).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.bar` (one call per status).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Notes
    -----
    Connectors whose version has no number (``DEV``) or, with ``by="released_on"``, is missing
    from the calendar cannot be placed; a note on the Axes says how many were left out.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> fig, ax = plt.subplots()
    >>> ax = tf.plot_version_drift(conns, as_of=tf.simulator.DEFAULT_AS_OF, ax=ax)
    >>> ax.get_ylabel()
    'connectors'
    """
    frame = _fleet_frame(source, "plot_version_drift")
    if by not in ("releases_behind", "released_on"):
        raise ValueError(f"plot_version_drift: by={by!r} is not 'releases_behind' or 'released_on'")
    ax = _axes(ax)
    drift = _drift_frame(frame, releases, latest, as_of)
    title = "Version drift of cloudflared connectors"
    if drift.empty:
        return _say_empty(ax, title, "connectors")
    latest_version = (
        str(drift["latest_version"].dropna().iloc[0])
        if drift["latest_version"].notna().any()
        else "?"
    )
    status = drift["status"].astype("object").fillna("unknown")
    if by == "releases_behind":
        key = drift["releases_behind"]
    else:
        released = pd.Series(pd.to_datetime(drift["released_on"], utc=True)).dt.tz_convert(None)
        key = pd.Series(released.dt.to_period("M").dt.to_timestamp())
    placed = key.notna().to_numpy() & (status != "unknown").to_numpy()
    n_left_out = int((~placed).sum())
    if not placed.any():
        _say_empty(ax, title, "connectors with a known version")
        _note(ax, f"{plural(n_left_out, 'connector')} with unknown version or release date")
        return ax
    counts = (
        pd.DataFrame({"key": key[placed].to_numpy(), "status": status[placed].to_numpy()})
        .groupby(["key", "status"])
        .size()
        .unstack("status", fill_value=0)
        .sort_index()
    )
    if by == "releases_behind":
        x: Any = counts.index.to_numpy(np.int64)
        width: Any = 0.8
    else:
        x = _date_num(counts.index)
        width = 25.0  # days: one bar per month
    bottom = np.zeros(len(counts))
    for name in ("current", "behind", "unsupported"):
        if name not in counts.columns:
            continue
        heights = counts[name].to_numpy()
        options: dict[str, Any] = {"color": STATUS_COLORS[name], "width": width}
        if by == "released_on":
            options["align"] = "edge"
        options.update(kwargs)
        drawn = heights > 0  # no zero-height bars: the containers hold only what is seen
        ax.bar(
            x[drawn], heights[drawn], bottom=bottom[drawn], label=_STATUS_LABELS[name], **options
        )
        bottom = bottom + heights
    ax.set_ylabel("connectors")
    _integer_counts(ax, "y")
    if by == "releases_behind":
        ax.set_xlim(-1, max(int(x.max()), 5) + 1)  # first: the mark sides by where it falls
        _mark_support_end(ax, drift)
        ax.set_xlabel(f"releases behind the latest release ({latest_version})")
        _title(ax, f"{title}: releases behind {latest_version}")
    else:
        _shade_unsupported(ax, _latest_release_day(drift))
        _monthly_dates(ax, float(x.min()), float(x.max()))
        ax.set_xlabel("release date of the version they run (by month)")
        _title(ax, f"{title}: by release date (latest {latest_version})")
    ax.set_ylim(0, float(bottom.max()) * 1.15)  # room for the annotations above the bars
    left_out = None
    if n_left_out:
        what = "an unknown version" if by == "releases_behind" else "no known release date"
        left_out = f"not shown: {plural(n_left_out, 'connector')} with {what}"
    # Outside the Axes, right of it: inside, it covered the "unsupported" note or the bars.
    legend = ax.legend(
        fontsize="small",
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        title=_wrap(left_out, 28),
        title_fontsize="small",
    )
    legend.get_title().set_color(_EMPTY_COLOR)
    return ax


def _wrap(text: str | None, width: int) -> str | None:
    return textwrap.fill(text, width) if text else None


def _mark_support_end(ax: Axes, drift: pd.DataFrame) -> None:
    """A dashed line between the most-behind supported and the least-behind unsupported bar."""
    behind = drift["releases_behind"]
    supported = behind[drift["supported"].fillna(False).astype(bool).to_numpy()].dropna()
    unsupported = behind[(drift["status"] == "unsupported").to_numpy()].dropna()
    if supported.empty or unsupported.empty or supported.max() >= unsupported.min():
        return
    where = (float(supported.max()) + float(unsupported.min())) / 2
    ax.axvline(where, color=STATUS_COLORS["unsupported"], linestyle="--", linewidth=1)
    _mark(ax, where, "support ends →", STATUS_COLORS["unsupported"])


def _shade_unsupported(ax: Axes, latest_day: pd.Timestamp | None) -> None:
    """Shade release dates more than a year before the latest release; mark the latest."""
    if latest_day is None:
        return
    cutoff = (latest_day - pd.DateOffset(years=1)).tz_convert(None)
    left, right = ax.get_xlim()
    cut, end = _date_num(pd.DatetimeIndex([cutoff, latest_day.tz_convert(None)]))
    if left < cut:
        ax.axvspan(left, cut, color=STATUS_COLORS["unsupported"], alpha=0.08, linewidth=0)
        _mark(
            ax,
            cut,
            f"← unsupported: released before {cutoff:%Y-%m-%d}",
            STATUS_COLORS["unsupported"],
        )
    ax.axvline(end, color=STATUS_COLORS["current"], linestyle=":", linewidth=1)
    ax.set_xlim(left, max(right, end + 20))
