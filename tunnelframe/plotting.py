"""Plots of a fleet: versions, version drift, colos, a colo map, tunnels × colos, connection ages.

Every ``plot_*`` function takes a connections frame (:func:`tunnelframe.connections_frame`)
first, computes what it shows with the analysis functions of :mod:`tunnelframe.versions` and
:mod:`tunnelframe.colos` (never its own version of their rules), draws on ``ax`` (default the
current Axes), passes ``**kwargs`` to one named matplotlib call and returns the Axes. Large
fleets are cut to the top N with an "other" bucket; an empty frame gives an Axes that says so.

matplotlib is imported inside the functions so ``import tunnelframe`` stays fast. Nothing here
calls ``plt.show()`` or ``savefig``, modifies its input, or downloads anything (the colo map
draws a latitude/longitude grid: no installed dependency ships a world outline).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from tunnelframe.colos import (
    UnknownColoWarning,
    colo_distribution,
    colo_info,
    connection_ages,
)
from tunnelframe.versions import load_releases, version_drift, version_summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_colo_distribution",
    "plot_colo_map",
    "plot_connection_ages",
    "plot_tunnel_colo_heatmap",
    "plot_version_distribution",
    "plot_version_drift",
]

# Okabe-Ito: told apart with every common colour-vision deficiency. Vermillion is kept for
# problems (unsupported versions) in the version plots.
STATUS_COLORS = {
    "current": "#009E73",
    "behind": "#0072B2",
    "unsupported": "#D55E00",
    "unknown": "#999999",
}
_STATUS_LABELS = {
    "current": "current",
    "behind": "behind, supported",
    "unsupported": "unsupported (> 1 year older than latest)",
    "unknown": "unknown (DEV or no version)",
}
REGION_COLORS = {
    "North America": "#0072B2",
    "Europe": "#E69F00",
    "Asia": "#009E73",
    "Oceania": "#CC79A7",
    "South America": "#56B4E9",
    "Middle East": "#D55E00",
    "Africa": "#F0E442",
}
_OTHER_COLOR = "#BBBBBB"
_UNKNOWN_REGION = "unknown"
_EMPTY_COLOR = "0.35"
_DRIFT_COLUMNS = ("status", "releases_behind", "released_on", "latest_version")
_MAX_MARKER_AREA = 700.0  # points², for the colo with the most connections on the map


# --------------------------------------------------------------------------------------------
# Shared plumbing


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def _check_frame(frame: object, func: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"{func} expects a connections frame (a pandas DataFrame from "
            f"tunnelframe.connections_frame), got {type(frame).__name__}"
        )
    return frame


def _check_top(value: object, name: str, func: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{func}: {name}={value!r} must be a positive integer or None (all)")
    return int(value)


def _say_empty(ax: Axes, title: str, what: str) -> Axes:
    """Title the Axes and say in its middle that there is nothing to draw."""
    ax.text(
        0.5,
        0.5,
        f"No {what} in this frame",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize="large",
        color=_EMPTY_COLOR,
    )
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _note(ax: Axes, text: str) -> None:
    """A small grey remark in the lower right corner, inside the Axes."""
    ax.text(
        0.99,
        0.01,
        text,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize="small",
        color=_EMPTY_COLOR,
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _colo_geo(codes: Sequence[str]) -> pd.DataFrame:
    """City, region and coordinates per colo; unknown codes get NA (and no warning: the plots
    show them as "unknown" instead)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColoWarning)
        return colo_info(list(codes))


def _region_legend(ax: Axes, regions: Sequence[str], **legend: Any) -> Any:
    from matplotlib.patches import Patch

    present = [r for r in [*REGION_COLORS, _UNKNOWN_REGION] if r in set(regions)]
    handles = [
        Patch(facecolor=REGION_COLORS.get(r, _OTHER_COLOR), edgecolor="0.3", linewidth=0.5, label=r)
        for r in present
    ]
    return ax.legend(handles=handles, title="region", fontsize="small", **legend)


def _region_colors(regions: pd.Series) -> list[str]:
    return [REGION_COLORS.get(r, _OTHER_COLOR) for r in regions]


def _bar_labels(ax: Axes, bars: Any, texts: Sequence[str]) -> None:
    ax.bar_label(bars, labels=list(texts), padding=3, fontsize="small")
    # room for the labels right of the longest bar
    ax.set_xlim(0, ax.get_xlim()[1] * 1.15)


def _fmt_hours(hours: float) -> str:
    """A duration in hours as a short human string: ``45 min``, ``5.2 h``, ``3.1 d``."""
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    if hours < 2 * 365 * 24:
        return f"{hours / 24:.1f} d"
    return f"{hours / (365 * 24):.1f} y"


# --------------------------------------------------------------------------------------------
# Versions


def plot_version_distribution(
    frame: pd.DataFrame,
    *,
    top: int | None = 15,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    latest: str | tuple[str, Any] | None = None,
    as_of: Any = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Bar chart of connectors per cloudflared version, coloured by support status.

    One horizontal bar per reported version, newest at the top, labelled with its connector
    count and share; current versions green, supported-but-behind blue, unsupported vermillion,
    unknown (``DEV``, no version) grey. Counts come from :func:`tunnelframe.version_summary`.

    Parameters
    ----------
    frame : pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`.
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
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> ax = tf.plot_version_distribution(conns, top=5, as_of=tf.simulator.DEFAULT_AS_OF)
    >>> ax.get_xlabel()
    'connectors'
    """
    frame = _check_frame(frame, "plot_version_distribution")
    top = _check_top(top, "top", "plot_version_distribution")
    ax = _axes(ax)
    summary = version_summary(frame, releases=releases, latest=latest, as_of=as_of)
    if summary.n_connectors == 0:
        return _say_empty(ax, "cloudflared versions", "connectors")
    table = summary.by_version.assign(
        label=summary.by_version["version"].astype("object").fillna("(no version)"),
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
                label = f"other {status} ({_plural(len(part), 'version')})"
                others.append(
                    {"label": label, "n": int(part["n"].sum()), "status": status, "hatch": "//"}
                )
        table = pd.concat([shown, pd.DataFrame(others)], ignore_index=True)
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
    _bar_labels(ax, bars, [f"{n:,} ({100 * n / total:.0f}%)" for n in table["n"]])
    ax.set_yticks(y, labels=table["label"].tolist())
    for tick, status in zip(ax.get_yticklabels(), table["status"], strict=True):
        if status == "unsupported":
            tick.set_color(STATUS_COLORS["unsupported"])
    ax.set_ylim(len(table) - 0.5, -0.5)  # newest on top
    ax.set_xlabel("connectors")
    ax.set_ylabel("cloudflared version")
    ax.set_title(
        f"cloudflared versions of {_plural(total, 'connector')} (latest {summary.latest_version})"
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
    ax.legend(handles=handles, fontsize="small", loc=legend.pop("loc", "lower right"), **legend)


def _drift_frame(frame: pd.DataFrame, releases: Any, latest: Any, as_of: Any) -> pd.DataFrame:
    if all(column in frame.columns for column in _DRIFT_COLUMNS):
        return frame
    return version_drift(frame, releases=releases, latest=latest, as_of=as_of)


def _latest_release_day(
    drift: pd.DataFrame, releases: pd.DataFrame | str | os.PathLike[str] | None
) -> pd.Timestamp | None:
    """The release day of the version everything was measured against, when the calendar has it."""
    latest = drift["latest_version"].dropna()
    if latest.empty:
        return None
    calendar = releases if isinstance(releases, pd.DataFrame) else load_releases()
    if isinstance(releases, str | os.PathLike):
        calendar = pd.read_csv(releases)
    match = calendar.loc[calendar["version"].astype(str) == str(latest.iloc[0]), "released_on"]
    if match.empty:
        return None
    return pd.Timestamp(pd.to_datetime(match.iloc[0], utc=True))


def plot_version_drift(
    frame: pd.DataFrame,
    *,
    by: Literal["releases_behind", "released_on"] = "releases_behind",
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    latest: str | tuple[str, Any] | None = None,
    as_of: Any = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Stacked bars of connectors by how far behind they are, unsupported ones in vermillion.

    Parameters
    ----------
    frame : pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`, or the
        output of :func:`tunnelframe.version_drift` (used as it is).
    by : {"releases_behind", "released_on"}, default "releases_behind"
        ``"releases_behind"``: one bar per number of releases behind the latest.
        ``"released_on"``: connectors per month their version was released, with the
        unsupported window (released more than a year before the latest) shaded.
    releases, latest, as_of
        As in :func:`tunnelframe.version_drift` (ignored when ``frame`` is its output).
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
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> ax = tf.plot_version_drift(conns, as_of=tf.simulator.DEFAULT_AS_OF)
    >>> ax.get_ylabel()
    'connectors'
    """
    frame = _check_frame(frame, "plot_version_drift")
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
        _note(ax, f"{_plural(n_left_out, 'connector')} with unknown version or release date")
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
    if by == "releases_behind":
        _mark_support_end(ax, drift)
        ax.set_xlabel(f"releases behind the latest release ({latest_version})")
        ax.set_xlim(-1, max(int(x.max()), 5) + 1)
        ax.set_title(f"{title}: releases behind {latest_version}")
    else:
        _shade_unsupported(ax, _latest_release_day(drift, releases))
        _concise_dates(ax)
        ax.set_xlabel("release date of the version they run (by month)")
        ax.set_title(f"{title}: by release date (latest {latest_version})")
    ax.set_ylim(0, float(bottom.max()) * 1.15)  # room for the annotations above the bars
    left_out = None
    if n_left_out:
        what = "an unknown version" if by == "releases_behind" else "no known release date"
        left_out = f"not shown: {_plural(n_left_out, 'connector')} with {what}"
    legend = ax.legend(
        fontsize="small",
        loc="upper right" if by == "releases_behind" else "upper left",
        title=left_out,
        title_fontsize="small",
    )
    legend.get_title().set_color(_EMPTY_COLOR)
    return ax


def _mark_support_end(ax: Axes, drift: pd.DataFrame) -> None:
    """A dashed line between the most-behind supported and the least-behind unsupported bar."""
    behind = drift["releases_behind"]
    supported = behind[drift["supported"].fillna(False).astype(bool).to_numpy()].dropna()
    unsupported = behind[(drift["status"] == "unsupported").to_numpy()].dropna()
    if supported.empty or unsupported.empty or supported.max() >= unsupported.min():
        return
    where = (float(supported.max()) + float(unsupported.min())) / 2
    ax.axvline(where, color=STATUS_COLORS["unsupported"], linestyle="--", linewidth=1)
    ax.annotate(
        "support ends →",
        xy=(where, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-4, -4),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize="small",
        color=STATUS_COLORS["unsupported"],
    )


def _date_num(times: pd.Index) -> np.ndarray:
    """Naive (UTC) times as matplotlib date numbers."""
    import matplotlib.dates as mdates

    values = pd.DatetimeIndex(times).to_pydatetime()
    return np.asarray(mdates.date2num(values), dtype=np.float64)  # type: ignore[no-untyped-call]


def _concise_dates(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _shade_unsupported(ax: Axes, latest_day: pd.Timestamp | None) -> None:
    """Shade release dates more than a year before the latest release; mark the latest."""
    if latest_day is None:
        return
    cutoff = (latest_day - pd.DateOffset(years=1)).tz_convert(None)
    left, right = ax.get_xlim()
    cut, end = _date_num(pd.DatetimeIndex([cutoff, latest_day.tz_convert(None)]))
    if left < cut:
        ax.axvspan(left, cut, color=STATUS_COLORS["unsupported"], alpha=0.08, linewidth=0)
        ax.annotate(
            f"← unsupported: released before {cutoff:%Y-%m-%d}",
            xy=(cut, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-4, -4),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize="small",
            color=STATUS_COLORS["unsupported"],
        )
    ax.axvline(end, color=STATUS_COLORS["current"], linestyle=":", linewidth=1)
    ax.set_xlim(left, max(right, end + 20))


# --------------------------------------------------------------------------------------------
# Colos


def _colo_table(frame: pd.DataFrame, active_only: bool) -> pd.DataFrame:
    dist = colo_distribution(frame, active_only=active_only)
    codes = dist["colo_name"].astype(str)
    geo = _colo_geo(codes.tolist()).reindex(codes.to_numpy())
    return pd.DataFrame(
        {
            "colo_name": codes.to_numpy(),
            "connections": dist["connections"].to_numpy(np.int64),
            "share": dist["share"].to_numpy(np.float64),
            "city": geo["city"].astype("object").to_numpy(),
            "region": geo["region"].astype("object").fillna(_UNKNOWN_REGION).to_numpy(),
            "latitude": geo["latitude"].to_numpy(np.float64),
            "longitude": geo["longitude"].to_numpy(np.float64),
        }
    )


def plot_colo_distribution(
    frame: pd.DataFrame,
    *,
    top: int | None = 20,
    active_only: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Bar chart of connections per Cloudflare colo, coloured by region.

    Counts come from :func:`tunnelframe.colo_distribution`; city and region from
    :func:`tunnelframe.colo_info` (unknown codes are shown, in grey, as region "unknown").

    Parameters
    ----------
    frame : pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`.
    top : int or None, default 20
        Show the ``top`` colos with the most connections and one "other" bar for the rest;
        ``None`` shows all.
    active_only : bool, default True
        Count only active connections; ``False`` counts pending reconnects too.
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
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> ax = tf.plot_colo_distribution(conns, top=10)
    >>> len(ax.patches) <= 11
    True
    """
    frame = _check_frame(frame, "plot_colo_distribution")
    top = _check_top(top, "top", "plot_colo_distribution")
    ax = _axes(ax)
    what = "active connections" if active_only else "connections"
    table = _colo_table(frame, active_only)
    if table.empty:
        return _say_empty(ax, f"{what.capitalize()} per colo", what)
    total, n_colos = int(table["connections"].sum()), len(table)
    labels = [
        f"{code} ({city})" if isinstance(city, str) and city else code
        for code, city in zip(table["colo_name"], table["city"], strict=True)
    ]
    colors = _region_colors(table["region"])
    counts = table["connections"].tolist()
    if top is not None and n_colos > top:
        rest = counts[top:]
        labels = [*labels[:top], f"other ({_plural(len(rest), 'colo')})"]
        colors = [*colors[:top], _OTHER_COLOR]
        counts = [*counts[:top], sum(rest)]
    y = np.arange(len(counts))
    options: dict[str, Any] = {"color": colors, "height": 0.8}
    options.update(kwargs)
    bars = ax.barh(y, counts, **options)
    _bar_labels(ax, bars, [f"{n:,} ({100 * n / total:.1f}%)" for n in counts])
    ax.set_yticks(y, labels=labels)
    ax.set_ylim(len(counts) - 0.5, -0.5)
    ax.set_xlabel(what)
    ax.set_title(f"{what.capitalize()} per colo: {total:,} in {_plural(n_colos, 'colo')}")
    shown_regions = table["region"].iloc[: len(counts) if top is None else top]
    _region_legend(ax, shown_regions.tolist(), loc="best")
    return ax


def plot_colo_map(
    frame: pd.DataFrame,
    *,
    label_top: int = 10,
    active_only: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Map of the colos a fleet connects to, each a circle whose area is its connection count.

    Colo coordinates come from :func:`tunnelframe.colo_info` (airport locations), counts from
    :func:`tunnelframe.colo_distribution`. The map is an equirectangular longitude/latitude
    grid with equal aspect: tunnelframe draws no coastlines because none ships with its
    dependencies (and it never downloads one).

    Parameters
    ----------
    frame : pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`.
    label_top : int, default 10
        Write the code of the ``label_top`` colos with the most connections next to them
        (0: no labels).
    active_only : bool, default True
        Count only active connections; ``False`` counts pending reconnects too.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default the current Axes (``plt.gca()``).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on. Marker areas are ``700 * connections / max(connections)`` points².

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> ax = tf.plot_colo_map(conns, label_top=3)
    >>> ax.get_xlabel()
    'longitude'
    """
    frame = _check_frame(frame, "plot_colo_map")
    if isinstance(label_top, bool) or not isinstance(label_top, int | np.integer) or label_top < 0:
        raise ValueError(f"plot_colo_map: label_top={label_top!r} must be an integer >= 0")
    ax = _axes(ax)
    what = "active connections" if active_only else "connections"
    title = f"Where the fleet connects: {what} per colo"
    table = _colo_table(frame, active_only)
    if table.empty:
        return _say_empty(ax, title, what)
    located = table.dropna(subset=["latitude", "longitude"]).reset_index(drop=True)
    _graticule(ax)
    biggest = int(table["connections"].max())
    sizes = _MAX_MARKER_AREA * located["connections"].to_numpy(np.float64) / biggest
    options: dict[str, Any] = {
        "s": sizes,
        "c": _region_colors(located["region"]),
        "alpha": 0.75,
        "edgecolors": "0.2",
        "linewidths": 0.5,
        "zorder": 3,
    }
    options.update(kwargs)
    ax.scatter(located["longitude"], located["latitude"], **options)
    radii = np.sqrt(sizes / np.pi)  # points
    top_rows = located.head(label_top)
    _place_labels(
        ax,
        top_rows["longitude"].to_numpy(np.float64),
        top_rows["latitude"].to_numpy(np.float64),
        radii[: len(top_rows)],
        top_rows["colo_name"].tolist(),
    )
    _region_legend(ax, located["region"].tolist(), loc="lower left", ncols=2)
    total = int(table["connections"].sum())
    ax.set_title(f"{title} ({total:,} in {_plural(len(table), 'colo')})")
    first = table.iloc[0]
    note = (
        f"circle area ∝ connections (largest: {int(first['connections']):,} at "
        f"{first['colo_name']}); no coastlines bundled"
    )
    missing = len(table) - len(located)
    if missing:
        lost = int(table["connections"].sum() - located["connections"].sum())
        note = (
            f"not shown: {_plural(missing, 'colo')} with unknown location "
            f"({_plural(lost, 'connection')})\n{note}"
        )
    _note(ax, note)
    return ax


def _place_labels(
    ax: Axes, xs: np.ndarray, ys: np.ndarray, radii: np.ndarray, texts: Sequence[str]
) -> None:
    """Label circles, each beside its circle where it overlaps no label placed before it.

    Greedy, in the order given (most important first), in points measured on the Axes as
    laid out now; good enough for a dozen labels on a map.
    """
    if not len(texts):
        return
    from matplotlib.font_manager import FontProperties

    size = FontProperties(size="x-small").get_size_in_points()
    ax.apply_aspect()
    to_points = 72.0 / ax.figure.dpi
    centres = ax.transData.transform(np.column_stack([xs, ys])) * to_points
    placed: list[tuple[float, float, float, float]] = []
    directions = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
    for (cx, cy), x, y, radius, text in zip(centres, xs, ys, radii, texts, strict=True):
        width, height = 0.65 * size * len(text), size
        choice = None
        for extra in (2.0, 2.0 + 1.5 * size, 2.0 + 3.0 * size):
            for dx, dy in directions:
                off = (radius + extra) / (math.sqrt(2) if dx and dy else 1.0)
                ox, oy = dx * off, dy * off
                left = cx + ox - (width / 2 if dx == 0 else 0 if dx > 0 else width)
                bottom = cy + oy - (height / 2 if dy == 0 else 0 if dy > 0 else height)
                box = (left, bottom, left + width, bottom + height)
                if not any(
                    box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                    for b in placed
                ):
                    choice = (ox, oy, dx, dy, box)
                    break
            if choice is not None:
                break
        if choice is None:  # crowded everywhere: above the circle, overlapping
            off = radius + 2.0
            choice = (0.0, off, 0, 1, (cx - width / 2, cy + off, cx + width / 2, cy + off + height))
        ox, oy, dx, dy, box = choice
        placed.append(box)
        ax.annotate(
            text,
            (x, y),
            xytext=(ox, oy),
            textcoords="offset points",
            ha="center" if dx == 0 else "left" if dx > 0 else "right",
            va="center" if dy == 0 else "bottom" if dy > 0 else "top",
            fontsize="x-small",
            fontweight="bold",
            zorder=4,
        )


def _graticule(ax: Axes) -> None:
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 80)
    ax.set_aspect("equal")
    ax.set_xticks(range(-180, 181, 30))
    ax.set_yticks(range(-60, 81, 20))
    ax.grid(True, color="0.85", linewidth=0.6, zorder=0)
    ax.axhline(0, color="0.7", linewidth=0.8, zorder=1)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.tick_params(labelsize="small")


def _tunnel_labels(keys: pd.DataFrame) -> list[str]:
    """Tunnel names, with the start of the id added where two tunnels share a name."""
    names = keys["tunnel_name"].astype("object").fillna("(no name)").astype(str)
    ids = keys["tunnel_id"].astype("object").fillna("?").astype(str)
    duplicated = names.duplicated(keep=False).to_numpy()
    return [
        f"{name} ({tid[:8]})" if dup else name
        for name, tid, dup in zip(names, ids, duplicated, strict=True)
    ]


def plot_tunnel_colo_heatmap(
    frame: pd.DataFrame,
    *,
    top_tunnels: int | None = 30,
    top_colos: int | None = 20,
    active_only: bool = True,
    annotate: bool | None = None,
    colorbar: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Heatmap of connections per tunnel (rows) and colo (columns).

    Tunnels with the most connections come first, colos likewise; an empty cell means the
    tunnel has no connection there. A tunnel whose row has a single filled cell lands in one
    colo only: no high availability. Counts come from
    :func:`tunnelframe.colo_distribution` with ``by="tunnel"``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`.
    top_tunnels, top_colos : int or None, default 30 and 20
        Show the tunnels (colos) with the most connections and sum the rest into an "other"
        row (column); ``None`` shows all.
    active_only : bool, default True
        Count only active connections; ``False`` counts pending reconnects too.
    annotate : bool, optional
        Write the count in every filled cell; default when the grid has at most 800 cells.
        The "other" row and column are always annotated, in grey cells outside the colour
        scale.
    colorbar : bool, default True
        Add a colour bar (it takes its room from ``ax``).
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default the current Axes (``plt.gca()``).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``cmap``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> ax = tf.plot_tunnel_colo_heatmap(conns, top_tunnels=5, top_colos=5)
    >>> len(ax.get_yticklabels()) <= 6
    True
    """
    frame = _check_frame(frame, "plot_tunnel_colo_heatmap")
    top_tunnels = _check_top(top_tunnels, "top_tunnels", "plot_tunnel_colo_heatmap")
    top_colos = _check_top(top_colos, "top_colos", "plot_tunnel_colo_heatmap")
    ax = _axes(ax)
    what = "active connections" if active_only else "connections"
    title = f"{what.capitalize()} per tunnel and colo"
    dist = colo_distribution(frame, by="tunnel", active_only=active_only)
    if dist.empty:
        return _say_empty(ax, title, what)
    tunnel_key = (
        dist["account_id"].astype("object").astype(str)
        + "/"
        + dist["tunnel_id"].astype("object").astype(str)
    )
    grid = pd.DataFrame(
        {
            "tunnel": tunnel_key.to_numpy(),
            "colo": dist["colo_name"].astype(str).to_numpy(),
            "n": dist["connections"].to_numpy(np.int64),
        }
    ).pivot_table(index="tunnel", columns="colo", values="n", aggfunc="sum", fill_value=0)
    # most connections first; ties by label so the picture is stable
    keys = dist.assign(tunnel=tunnel_key.to_numpy()).drop_duplicates("tunnel").set_index("tunnel")
    labels = pd.Series(_tunnel_labels(keys), index=keys.index)
    row_total = grid.sum(axis=1)
    rows = sorted(grid.index, key=lambda t: (-row_total[t], labels[t]))
    col_total = grid.sum(axis=0)
    cols = sorted(grid.columns, key=lambda c: (-col_total[c], c))
    grid = grid.loc[rows, cols]
    n_tunnels, n_colos = grid.shape
    row_labels = [labels[t] for t in rows]
    col_labels = list(cols)
    if top_colos is not None and n_colos > top_colos:
        other = grid.iloc[:, top_colos:].sum(axis=1)
        grid = grid.iloc[:, :top_colos].assign(**{"\0other": other})
        col_labels = [*col_labels[:top_colos], f"other ({_plural(n_colos - top_colos, 'colo')})"]
    if top_tunnels is not None and n_tunnels > top_tunnels:
        other_row = grid.iloc[top_tunnels:].sum(axis=0).to_frame().T
        grid = pd.concat([grid.iloc[:top_tunnels], other_row])
        rest = _plural(n_tunnels - top_tunnels, "tunnel")
        row_labels = [*row_labels[:top_tunnels], f"other ({rest})"]
    values = grid.to_numpy(np.float64)
    # The "other" row and column are sums of many tunnels or colos: they get their own grey
    # cells so they do not set the colour scale of the ordinary cells.
    is_other = np.zeros(values.shape, dtype=bool)
    other_cols = top_colos is not None and n_colos > top_colos
    other_rows = top_tunnels is not None and n_tunnels > top_tunnels
    if other_cols:
        is_other[:, -1] = True
    if other_rows:
        is_other[-1, :] = True
    shown = np.ma.masked_where((values == 0) | is_other, values)
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"].with_extremes(bad="#F2F2F2")
    ordinary = values[~is_other]
    options: dict[str, Any] = {
        "cmap": cmap,
        "aspect": "auto",
        "interpolation": "nearest",
        "vmin": 0,
        "vmax": max(float(ordinary.max()) if ordinary.size else 1.0, 1.0),
    }
    options.update(kwargs)
    image = ax.imshow(shown, **options)
    n_rows, n_cols = values.shape
    size = max(5.0, min(10.0, 320 / max(n_rows, n_cols)))
    from matplotlib.patches import Rectangle

    for i, j in zip(*np.nonzero(is_other), strict=True):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=_OTHER_COLOR, edgecolor="none"))
    ax.set_yticks(np.arange(n_rows), labels=row_labels, fontsize=size)
    ax.set_xticks(np.arange(n_cols), labels=col_labels, fontsize=size, rotation=90)
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=0.8)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="minor", length=0)
    if annotate is None:
        annotate = n_rows * n_cols <= 800
    for (i, j), n in np.ndenumerate(values):
        if not n or not (annotate or is_other[i, j]):
            continue
        if is_other[i, j]:
            color = "black"
        else:
            r, g, b, _ = image.cmap(image.norm(n))
            color = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
        ax.text(j, i, f"{n:.0f}", ha="center", va="center", fontsize=size * 0.8, color=color)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=what, shrink=0.8)
    ax.set_xlabel("colo")
    ax.set_ylabel("tunnel")
    shown_t = min(n_tunnels, top_tunnels or n_tunnels)
    shown_c = min(n_colos, top_colos or n_colos)
    ax.set_title(
        f"{title} (top {shown_t} of {_plural(n_tunnels, 'tunnel')}, "
        f"top {shown_c} of {_plural(n_colos, 'colo')})"
    )
    return ax


# --------------------------------------------------------------------------------------------
# Ages


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


def plot_connection_ages(
    frame: pd.DataFrame,
    *,
    level: Literal["connection", "connector"] = "connection",
    as_of: Any = None,
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
    frame : pandas.DataFrame
        A connections frame, as returned by :func:`tunnelframe.connections_frame`, or the
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
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> ax = tf.plot_connection_ages(conns, as_of=tf.simulator.DEFAULT_AS_OF)
    >>> ax.get_xscale()
    'log'
    """
    frame = _check_frame(frame, "plot_connection_ages")
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
        _note(ax, f"{_plural(n_left_out, unit[:-1])} without a time stamp or stamped after as_of")
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
    median = float(np.median(hours))
    ax.axvline(
        max(median, low),
        color="0.15",
        linestyle="--",
        linewidth=1,
        label=f"median {_fmt_hours(median)}",
    )
    ax.legend(fontsize="small", loc="upper left")
    ax.set_xlabel("age (log scale)" if level == "connection" else "uptime (log scale)")
    ax.set_ylabel(unit)
    ax.set_title(f"{title} ({hours.size:,} {unit})")
    if n_left_out:
        _note(ax, f"not shown: {n_left_out:,} without a time stamp or stamped after as_of")
    return ax
