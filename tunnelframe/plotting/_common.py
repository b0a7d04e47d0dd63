"""Shared plumbing of the plots: colours, input checks, empty Axes, labels, dates and legends.

Private to :mod:`tunnelframe.plotting` and the history plots (:mod:`tunnelframe.history`);
imports matplotlib only inside functions.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tunnelframe._checks import _check_frame
from tunnelframe._types import FleetSource
from tunnelframe.colos import UnknownColoWarning, colo_distribution, colo_info
from tunnelframe.snapshot import as_connections

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__: list[str] = []

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
_MAX_LABEL = 40  # characters of API text (tunnel names, versions) kept in a tick label
_WHITESPACE = re.compile(r"\s+")


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


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
    _title(ax, title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _title(ax: Axes, text: str) -> None:
    """Title the Axes, wrapped onto more lines where one line would run past the figure.

    The title is centred on the Axes, so it fits while neither half crosses a figure edge;
    the width is measured (not guessed from the number of characters) at the figure's size.
    """
    import textwrap

    # wrap=True re-wraps at draw time, after the layout has moved the Axes (a legend beside
    # it, a neighbour): the measure below only fixes where the line breaks fall by default.
    title = ax.set_title(text, wrap=True)
    figure = ax.get_figure(root=True)
    if figure is None:
        return
    fig_width = figure.bbox.width
    centre = ax.get_window_extent().x0 + ax.get_window_extent().width / 2
    room = 2 * min(centre, fig_width - centre) * 0.98
    width = len(text)
    while width > 20 and title.get_window_extent().width > room:
        width = int(width * 0.85)
        title.set_text(textwrap.fill(text, width, break_long_words=False))


def _label(text: object) -> str:
    """API text (a tunnel name, a version) made safe for a one-line matplotlib label.

    Whitespace runs (newlines included) become one space, ``$`` is escaped so that a name
    never turns into mathtext (which may fail to parse when the figure is drawn), and text
    longer than :data:`_MAX_LABEL` characters is cut with an ellipsis.
    """
    one_line = _WHITESPACE.sub(" ", str(text)).strip()
    if len(one_line) > _MAX_LABEL:
        one_line = one_line[: _MAX_LABEL - 1].rstrip() + "…"
    return one_line.replace("$", r"\$")


def _tunnel_labels(keys: pd.DataFrame) -> list[str]:
    """Tunnel labels from ``tunnel_name`` and ``tunnel_id``, one per row of ``keys``.

    Names pass through :func:`_label`; the start of the id is added where two tunnels share a
    label.
    """
    names = pd.Series(
        [_label(name) for name in keys["tunnel_name"].astype("object").fillna("(no name)")]
    )
    ids = keys["tunnel_id"].astype("object").fillna("?").astype(str)
    duplicated = names.duplicated(keep=False).to_numpy()
    return [
        f"{name} ({tid[:8]})" if dup else name
        for name, tid, dup in zip(names, ids, duplicated, strict=True)
    ]


def _mark(ax: Axes, x: float, text: str, color: str) -> None:
    """A small note hanging left of ``x`` (data) from the top of the Axes.

    A note pointing right ("support ends →") near the left edge would run past the Axes:
    it hangs right of ``x`` instead, pointing left.
    """
    left, right = ax.get_xlim()
    side = -1
    if text.endswith(" →") and right != left and (x - left) / (right - left) < 0.35:
        side, text = 1, "← " + text[:-2]
    ax.annotate(
        text,
        xy=(x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4 * side, -4),
        textcoords="offset points",
        ha="right" if side < 0 else "left",
        va="top",
        fontsize="small",
        color=color,
    )


def _date_num(times: pd.Index | pd.Series) -> np.ndarray:
    """Times (naive ones taken as UTC) as matplotlib date numbers."""
    import matplotlib.dates as mdates

    index = pd.DatetimeIndex(times)
    if index.tz is not None:
        index = index.tz_convert(None)
    values = index.to_pydatetime()
    return np.asarray(mdates.date2num(values), dtype=np.float64)  # type: ignore[no-untyped-call]


def _concise_dates(ax: Axes) -> None:
    """Date ticks on the x axis, as few digits as they need (``Jul``, ``2026``, ``08-14``),
    the first naming its date when the ticks cross one (:func:`_dated_first`)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(_concise_formatter()(locator))


_TIME_LABEL = re.compile(r"\d\d:\d\d")
_DAY_LABEL = re.compile(r"\d\d")
_MONTH_LABEL = re.compile(r"[A-Z][a-z]{2}")


def _dated_first(labels: list[str], first: Any, last: Any) -> list[str]:
    """Concise date labels whose first also names its day (``12:00`` over ``Aug-19``) when the
    ticks run over more than one day, its month (``Jul-08``) over more than one month, its year
    (``Sep`` over ``2025``) over more than one year.

    matplotlib's concise labels date only the ticks at a day's or month's start and the offset
    text names the last tick's date, so the ticks of a store of 19-20 Aug read as the 20th.
    """
    out = list(labels)
    if len(out) < 2:
        return out
    if _TIME_LABEL.fullmatch(out[0]) and first.date() != last.date():
        out[0] = f"{out[0]}\n{first:%b-%d}"
    elif _DAY_LABEL.fullmatch(out[0]) and (first.year, first.month) != (last.year, last.month):
        out[0] = f"{first:%b-%d}"
    elif _MONTH_LABEL.fullmatch(out[0]) and first.year != last.year:
        out[0] = f"{out[0]}\n{first:%Y}"
    return out


def _concise_formatter() -> Any:
    """matplotlib's ConciseDateFormatter with :func:`_dated_first` (a class made on first use:
    matplotlib is imported only when a plot is drawn)."""
    global _CONCISE
    if _CONCISE is None:
        import matplotlib.dates as mdates

        class DatedConciseFormatter(mdates.ConciseDateFormatter):
            def format_ticks(self, values: Any) -> list[str]:
                labels = list(super().format_ticks(values))  # type: ignore[no-untyped-call]
                if len(values) < 2:
                    return labels
                ends = (values[0], values[-1])
                first, last = (mdates.num2date(v, tz=self._tz) for v in ends)  # type: ignore[no-untyped-call]
                return _dated_first(labels, first, last)

        _CONCISE = DatedConciseFormatter
    return _CONCISE


_CONCISE: Any = None


def _monthly_dates(ax: Axes, first: float, last: float) -> None:
    """Month ticks (``Jul``, ``2026``) for bars one month wide, whatever the span: the x range
    runs from the first bar's month to the month after the last, so one month gets a tick."""
    import matplotlib.dates as mdates

    first_day = pd.Timestamp(mdates.num2date(first))  # type: ignore[no-untyped-call]
    last_day = pd.Timestamp(mdates.num2date(last))  # type: ignore[no-untyped-call]
    start = first_day.tz_localize(None).to_period("M").to_timestamp()
    end = (last_day.tz_localize(None).to_period("M") + 1).to_timestamp()
    months = (end.year - start.year) * 12 + end.month - start.month
    locator = mdates.MonthLocator(interval=max(1, -(-months // 8)))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlim(float(mdates.date2num(start)), float(mdates.date2num(end)))  # type: ignore[no-untyped-call]


def _integer_counts(ax: Axes, axis: str = "y") -> None:
    """Whole-number ticks on a count axis (no 0.5 connectors)."""
    from matplotlib.ticker import MaxNLocator

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(integer=True))


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


def _percent(n: int, total: int) -> str:
    """``n`` of ``total`` as a percentage: whole numbers, one decimal under 1%."""
    share = 100 * n / total
    return f"{share:.1f}%" if 0 < share < 1 else f"{share:.0f}%"


def _compact(n: float) -> str:
    """A count short enough for a heatmap cell: ``7``, ``950``, ``3.1k``, ``30k``."""
    if n < 1000:
        return f"{n:.0f}"
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


def _fmt_hours(hours: float) -> str:
    """A duration in hours as a short human string: ``45 min``, ``5.2 h``, ``3.1 d``."""
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    if hours < 2 * 365 * 24:
        return f"{hours / 24:.1f} d"
    return f"{hours / (365 * 24):.1f} y"


def _fleet_frame(source: FleetSource, func: str) -> pd.DataFrame:
    """The connections frame of any fleet source (or a frame as it is, an analysis result)."""
    return _check_frame(as_connections(source), func)


#: The key columns of a colo_distribution result, per ``by``.
_DISTRIBUTION_KEYS = {
    "tunnel": ("tunnel_id", "colo_name"),
    "site": ("colo_name",),
    "metro": ("metro",),
    "country": ("country",),
    "region": ("region",),
}


def _distribution(frame: pd.DataFrame, by: str, active_only: bool, func: str) -> pd.DataFrame:
    """``colo_distribution(frame, by=by)``, or ``frame`` itself when it is that result already
    (compute once, draw many); a result grouped another way is a ValueError."""
    columns = set(frame.columns)
    if not ({"connections", "share"} <= columns and "connector_id" not in columns):
        return colo_distribution(frame, by=by, active_only=active_only)  # type: ignore[arg-type]
    made_by = next((b for b, keys in _DISTRIBUTION_KEYS.items() if set(keys) <= columns), "?")
    if made_by != by:
        raise ValueError(
            f"{func}: the colo_distribution given is by={made_by!r}, this chart needs "
            f"by={by!r}: pass colo_distribution(..., by={by!r}) or the fleet itself"
        )
    return frame
