"""The tunnels × metros (or colo sites) heatmap of connections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from tunnelframe._deprecate import renamed
from tunnelframe._text import plural
from tunnelframe._types import FleetSource
from tunnelframe.plotting._common import (
    _OTHER_COLOR,
    _axes,
    _check_top,
    _colo_geo,
    _compact,
    _distribution,
    _fleet_frame,
    _label,
    _say_empty,
    _title,
    _tunnel_labels,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_MIN_FONT = 4.0  # points: smaller numbers cannot be read


def _ems(text: str) -> float:
    """The width of a cell number in ems, close to DejaVu Sans (digits 0.64, the point 0.32)."""
    return sum(0.64 if c.isdigit() else 0.32 if c == "." else 0.6 for c in text)


__all__ = ["plot_tunnel_colo_heatmap"]


@renamed(frame="source")
def plot_tunnel_colo_heatmap(
    source: FleetSource,
    *,
    by: Literal["metro", "site"] = "metro",
    top_tunnels: int | None = 30,
    top_colos: int | None = 20,
    active_only: bool = True,
    annotate: bool | None = None,
    colorbar: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Heatmap of connections per tunnel (rows) and metro or colo site (columns).

    Tunnels with the most connections come first, columns likewise; an empty cell means the
    tunnel has no connection there. By metro (the default), a row with a single filled cell
    is a tunnel in one metro only (``single_metro`` of :func:`tunnelframe.ha_report`): it
    would not survive the loss of that metro. Counts come from
    :func:`tunnelframe.colo_distribution` with ``by="tunnel"``, its sites summed per metro.

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        The fleet (as :func:`tunnelframe.connections_frame` takes it), or the result of
        ``colo_distribution(..., by="tunnel")``, drawn as it is.
    by : {"metro", "site"}, default "metro"
        Columns are metros (``ORD``) or sites, the ``colo_name`` the API gives (``ord12``).
    top_tunnels, top_colos : int or None, default 30 and 20
        Show the tunnels (columns) with the most connections and sum the rest into an "other"
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
    >>> import matplotlib.pyplot as plt
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.simulator.generate_fleet(20, seed=1))
    >>> fig, ax = plt.subplots()
    >>> ax = tf.plot_tunnel_colo_heatmap(conns, top_tunnels=5, top_colos=5, ax=ax)
    >>> len(ax.get_yticklabels()) <= 6
    True
    """
    frame = _fleet_frame(source, "plot_tunnel_colo_heatmap")
    top_tunnels = _check_top(top_tunnels, "top_tunnels", "plot_tunnel_colo_heatmap")
    top_colos = _check_top(top_colos, "top_colos", "plot_tunnel_colo_heatmap")
    if by not in ("metro", "site"):
        raise ValueError(f"plot_tunnel_colo_heatmap: by={by!r} is not 'metro' or 'site'")
    ax = _axes(ax)
    what = "active connections" if active_only else "connections"
    title = f"{what.capitalize()} per tunnel and {by}"
    dist = _distribution(frame, "tunnel", active_only, "plot_tunnel_colo_heatmap")
    if dist.empty:
        return _say_empty(ax, title, what)
    columns = dist["colo_name"].astype(str)
    if by == "metro":
        metro_of = _colo_geo(sorted(set(columns)))["metro"].astype(object)
        columns = columns.map(metro_of)
    # A missing account or tunnel id (a single connector's payload) is a key like any other:
    # NaN keys would vanish from the pivot below and leave nothing to draw.
    tunnel_key = (
        dist["account_id"].astype("string").fillna("<NA>")
        + "/"
        + dist["tunnel_id"].astype("string").fillna("<NA>")
    ).astype(object)
    grid = pd.DataFrame(
        {
            "tunnel": tunnel_key.to_numpy(),
            "colo": columns.to_numpy(dtype=object),
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
    col_labels = [_label(c) for c in cols]
    if top_colos is not None and n_colos > top_colos:
        other = grid.iloc[:, top_colos:].sum(axis=1)
        grid = grid.iloc[:, :top_colos].assign(**{"\0other": other})
        col_labels = [*col_labels[:top_colos], f"other ({plural(n_colos - top_colos, by)})"]
    if top_tunnels is not None and n_tunnels > top_tunnels:
        other_row = grid.iloc[top_tunnels:].sum(axis=0).to_frame().T
        grid = pd.concat([grid.iloc[:top_tunnels], other_row])
        rest = plural(n_tunnels - top_tunnels, "tunnel")
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
    if colorbar:
        from matplotlib.ticker import MaxNLocator

        bar = ax.figure.colorbar(image, ax=ax, label=what, shrink=0.8)
        bar.locator = MaxNLocator(integer=True)  # counts: no 2.5 connections
        bar.update_ticks()
    # A number must fit its cell: with many columns the cells are narrower than "1.2k" at
    # the tick size, so the font shrinks to fit (measured in ems) and a cell too
    # narrow even for the smallest font is left without a number. The margin keeps
    # neighbouring numbers of the "other" row from running together.
    box = ax.get_window_extent()
    points = 72 / ax.figure.dpi
    cell_w, cell_h = box.width * points / n_cols, box.height * points / n_rows
    for (i, j), n in np.ndenumerate(values):
        if not n or not (annotate or is_other[i, j]):
            continue
        text = _compact(n)
        font = min(size * 0.8, 0.75 * cell_w / _ems(text), 0.9 * cell_h)
        if font < _MIN_FONT:
            continue
        if is_other[i, j]:
            color = "black"
        else:
            r, g, b, _ = image.cmap(image.norm(n))
            color = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
        ax.text(j, i, text, ha="center", va="center", fontsize=font, color=color)
    ax.set_xlabel(by)
    ax.set_ylabel("tunnel")
    shown_t = min(n_tunnels, top_tunnels or n_tunnels)
    shown_c = min(n_colos, top_colos or n_colos)
    _title(ax, f"{title} ({_top(shown_t, n_tunnels, 'tunnel')}, {_top(shown_c, n_colos, by)})")
    return ax


def _top(shown: int, total: int, word: str) -> str:
    """``top 30 of 2,400 tunnels``; all of them shown: ``1 tunnel``, ``12 metros``."""
    return plural(total, word) if shown >= total else f"top {shown:,} of {plural(total, word)}"
