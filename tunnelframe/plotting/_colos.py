"""Colo plots: connections per colo as bars, and on a longitude/latitude map."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from tunnelframe._deprecate import renamed
from tunnelframe._text import plural
from tunnelframe._types import FleetSource
from tunnelframe.colos import colo_distribution
from tunnelframe.plotting._common import (
    _MAX_MARKER_AREA,
    _OTHER_COLOR,
    _UNKNOWN_REGION,
    _axes,
    _bar_labels,
    _check_top,
    _colo_geo,
    _distribution,
    _fleet_frame,
    _integer_counts,
    _label,
    _note,
    _region_colors,
    _region_legend,
    _say_empty,
    _title,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_colo_distribution", "plot_colo_map"]

_PLURALS = {"country": "countries"}


def _colo_table(
    frame: pd.DataFrame, active_only: bool, by: Literal["metro", "site"]
) -> pd.DataFrame:
    """Connections per metro or site with geography; ``code`` is the metro or the site."""
    if by not in ("metro", "site"):
        raise ValueError(f"by={by!r} is not 'metro' or 'site'")
    dist = _distribution(frame, by, active_only, f"by={by!r}")
    codes = dist["metro" if by == "metro" else "colo_name"].astype(str)
    geo = _colo_geo(codes.tolist()).reindex(codes.to_numpy())
    n_sites = dist["n_sites"].to_numpy(np.int64) if by == "metro" else np.ones(len(dist), int)
    return pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "n_sites": n_sites,
            "connections": dist["connections"].to_numpy(np.int64),
            "share": dist["share"].to_numpy(np.float64),
            "city": geo["city"].astype("object").to_numpy(),
            "region": geo["region"].astype("object").fillna(_UNKNOWN_REGION).to_numpy(),
            "latitude": geo["latitude"].to_numpy(np.float64),
            "longitude": geo["longitude"].to_numpy(np.float64),
        }
    )


@renamed(frame="source")
def plot_colo_distribution(
    source: FleetSource,
    *,
    by: Literal["metro", "site", "country", "region"] = "metro",
    top: int | None = 20,
    active_only: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Bar chart of connections per Cloudflare metro (or site, country, region), coloured by region.

    Counts come from :func:`tunnelframe.colo_distribution`; city and region from
    :func:`tunnelframe.colo_info` (unknown codes are shown, in grey, as region "unknown").

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        The fleet (as :func:`tunnelframe.connections_frame` takes it), or the result of
        :func:`tunnelframe.colo_distribution` with the same ``by``, drawn as it is
        (``active_only`` is then what it was computed with).
    by : {"metro", "site", "country", "region"}, default "metro"
        One bar per metro (``ORD``, its sites summed; the label says how many sites), per
        site, the ``colo_name`` the API gives (``ord12``), or per country (``US``) or region
        (``North America``) as :func:`tunnelframe.colo_info` places the sites (the label says
        how many metros; sites it cannot place form one "unknown" bar).
    top : int or None, default 20
        Show the ``top`` bars with the most connections and one "other" bar for the rest;
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
    >>> import matplotlib.pyplot as plt
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> fig, ax = plt.subplots()
    >>> ax = tf.plot_colo_distribution(conns, top=10, ax=ax)
    >>> len(ax.patches) <= 11
    True
    """
    frame = _fleet_frame(source, "plot_colo_distribution")
    top = _check_top(top, "top", "plot_colo_distribution")
    if by not in ("metro", "site", "country", "region"):
        raise ValueError(
            f"plot_colo_distribution: by={by!r} is not 'metro', 'site', 'country' or 'region'"
        )
    ax = _axes(ax)
    what = "active connections" if active_only else "connections"
    if by == "country" or by == "region":
        table = _area_table(frame, active_only, by)
    else:
        table = _colo_table(frame, active_only, by)
    if table.empty:
        return _say_empty(ax, f"{what.capitalize()} per {by}", what)
    total, n_colos = int(table["connections"].sum()), len(table)
    if by in ("country", "region"):
        labels = [
            _label(f"{code} ({plural(n, 'metro')})")
            for code, n in zip(table["code"], table["n_metros"], strict=True)
        ]
    else:
        labels = [
            _label(_bar_label(code, city, n_sites if by == "metro" else 0))
            for code, city, n_sites in zip(
                table["code"], table["city"], table["n_sites"], strict=True
            )
        ]
    colors = _region_colors(table["region"])
    counts = table["connections"].tolist()
    if top is not None and n_colos > top:
        rest = counts[top:]
        labels = [*labels[:top], f"other ({plural(len(rest), by, _PLURALS.get(by))})"]
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
    _integer_counts(ax, "x")
    title = f"{what.capitalize()} per {by}: {total:,} in {plural(n_colos, by, _PLURALS.get(by))}"
    if by != "site":
        title += f" ({plural(int(table['n_sites'].sum()), 'site')})"
    _title(ax, title)
    shown_regions = table["region"].iloc[: len(counts) if top is None else top]
    # Outside the Axes: inside, it covers the top bar or the labels of short ones.
    _region_legend(ax, shown_regions.tolist(), loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


@renamed(frame="source")
def plot_colo_map(
    source: FleetSource,
    *,
    label_top: int = 10,
    active_only: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Map of the metros a fleet connects to, each a circle whose area is its connection count.

    The sites of a metro (``ord02``, ``ord12``) share its location, so the map counts per metro
    (``ORD``), as :func:`tunnelframe.colo_distribution` with ``by="metro"``; coordinates come
    from :func:`tunnelframe.colo_info` (Cloudflare's, mostly the airport's). The map is an
    equirectangular longitude/latitude grid with equal aspect: tunnelframe draws no
    coastlines because none ships with its dependencies (and it never downloads one).

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        The fleet (as :func:`tunnelframe.connections_frame` takes it), or the result of
        ``colo_distribution(..., by="metro")``, drawn as it is.
    label_top : int, default 10
        Write the code of the ``label_top`` metros with the most connections next to them
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
    >>> import matplotlib.pyplot as plt
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> fig, ax = plt.subplots()
    >>> ax = tf.plot_colo_map(conns, label_top=3, ax=ax)
    >>> ax.get_xlabel()
    'longitude'
    """
    frame = _fleet_frame(source, "plot_colo_map")
    if isinstance(label_top, bool) or not isinstance(label_top, int | np.integer) or label_top < 0:
        raise ValueError(f"plot_colo_map: label_top={label_top!r} must be an integer >= 0")
    ax = _axes(ax)
    what = "active connections" if active_only else "connections"
    title = f"Where the fleet connects: {what} per metro"
    table = _colo_table(frame, active_only, "metro")
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
        [_label(code) for code in top_rows["code"]],
    )
    # Under the map, not beside it: inside, the lower left corner is South America, and
    # beside it the legend takes the width the (wide, equal-aspect) map needs.
    from matplotlib.transforms import offset_copy

    regions = located["region"].tolist()
    _region_legend(
        ax,
        regions,
        loc="upper center",
        # below the tick labels and the axis label, whatever the map's height
        bbox_to_anchor=(0.5, 0),
        bbox_transform=offset_copy(ax.transAxes, ax.get_figure(root=True), y=-36, units="points"),
        ncols=min(4, max(1, len(set(regions)))),
    )
    total = int(table["connections"].sum())
    n_sites = int(table["n_sites"].sum())
    _title(ax, f"{title} ({total:,} in {plural(len(table), 'metro')}, {plural(n_sites, 'site')})")
    first = table.iloc[0]
    note = (
        f"circle area ∝ connections (largest: {int(first['connections']):,} at "
        f"{_label(first['code'])}); no coastlines bundled"
    )
    missing = len(table) - len(located)
    if missing:
        lost = int(table["connections"].sum() - located["connections"].sum())
        note = (
            f"not shown: {plural(missing, 'metro')} with unknown location "
            f"({plural(lost, 'connection')})\n{note}"
        )
    _note(ax, note)
    return ax


def _area_table(
    frame: pd.DataFrame, active_only: bool, by: Literal["country", "region"]
) -> pd.DataFrame:
    """Connections per country or region; ``region`` colours the bars (a country's region)."""
    dist = _distribution(frame, by, active_only, f"by={by!r}")
    codes = dist[by].astype("object").fillna(_UNKNOWN_REGION).astype(str)
    if by == "region":
        regions = codes
    else:
        if "connections" in frame.columns and "connector_id" not in frame.columns:
            raise ValueError(
                "by='country': the countries' regions come from the sites: pass the fleet, "
                "not a colo_distribution"
            )
        sites = colo_distribution(frame, active_only=active_only)["colo_name"].astype(str)
        geo = _colo_geo(sorted(set(sites))).dropna(subset=["country"])
        region_of = dict(zip(geo["country"], geo["region"].astype("object"), strict=True))
        regions = codes.map(lambda c: region_of.get(c) or _UNKNOWN_REGION)
    return pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "n_sites": dist["n_sites"].to_numpy(np.int64),
            "n_metros": dist["n_metros"].to_numpy(np.int64),
            "connections": dist["connections"].to_numpy(np.int64),
            "region": regions.to_numpy(),
        }
    )


def _bar_label(code: str, city: object, n_sites: int) -> str:
    where = [city] if isinstance(city, str) and city else []
    if n_sites > 1:
        where.append(plural(n_sites, "site"))
    return f"{code} ({', '.join(where)})" if where else code


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
        # bold capitals run ~0.7 em; the pad keeps labels apart once the layout (legend,
        # title) has shrunk the map a little after they were placed
        pad = 0.4 * size
        width, height = 0.7 * size * len(text) + pad, size + pad
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
    ax.set_xticks(range(-180, 181, 60))  # every 30°, the labels touch on a small map
    ax.set_yticks(range(-60, 81, 20))
    ax.grid(True, color="0.85", linewidth=0.6, zorder=0)
    ax.axhline(0, color="0.7", linewidth=0.8, zorder=1)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.tick_params(labelsize="small")
