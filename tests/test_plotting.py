"""Tests of tunnelframe.plotting: what each plot draws, on a small fleet worked out by hand."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import itertools

import matplotlib.colors as mcolors
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe import plotting
from tunnelframe.plotting import (
    REGION_COLORS,
    STATUS_COLORS,
    plot_colo_distribution,
    plot_colo_map,
    plot_connection_ages,
    plot_tunnel_colo_heatmap,
    plot_version_distribution,
    plot_version_drift,
)

ACCOUNT = "0123456789abcdef0123456789abcdef"
AS_OF = pd.Timestamp("2026-08-20T12:00:00Z")
OTHER_GREY = "#BBBBBB"


def _conn(cid: str, n: int, colo: str, opened_at: str, *, pending: bool = False) -> dict[str, Any]:
    return {
        "id": f"{cid}-{n}",
        "client_id": cid,
        "colo_name": colo,
        "is_pending_reconnect": pending,
        "opened_at": opened_at,
        "origin_ip": "203.0.113.7",
    }


def _connector(cid: str, version: str, run_at: str, colos: list[str]) -> dict[str, Any]:
    return {
        "id": cid,
        "arch": "linux_amd64",
        "version": version,
        "run_at": run_at,
        "conns": [_conn(cid, i, colo, run_at) for i, colo in enumerate(colos)],
    }


def _fleet() -> dict[str, Any]:
    """Three tunnels, six connectors, as of 2026-08-20 12:00 UTC (latest release 2026.8.2).

    ========  ==========  ===========  ================  ===============================
    tunnel    connector   version      started (before)  connections (active)
    ========  ==========  ===========  ================  ===============================
    web-prod  c1          2026.8.2     6 h               DFW DFW IAH IAH
    web-prod  c2          2025.8.0 *   24 h              LAX LAX SJC (+ SJC pending)
    db-main   c3          DEV          240 h             FRA AMS
    db-main   c4          2026.7.3     48 h              (idle)
    cache     c5          2026.8.2     0.5 h             DFW LAX
    cache     c6          2025.8.1     456 h             DFW
    ========  ==========  ===========  ================  ===============================

    * 2025.8.0 (2025-08-08) is older than a year before 2026.8.2 (2026-08-14): unsupported;
    2025.8.1 (2025-08-21) is 23 releases behind and still supported, 2025.8.0 is 24 behind,
    2026.7.3 is 3 behind. Active connections per colo: DFW 4, LAX 3, IAH 2, AMS 1, FRA 1,
    SJC 1 (12 in all).
    """
    c2 = _connector("c2", "2025.8.0", "2026-08-19T12:00:00Z", ["LAX", "LAX", "SJC"])
    c2["conns"].append(_conn("c2", 3, "SJC", "2026-08-19T12:00:00Z", pending=True))
    return {
        "tunnels": [
            {
                "id": "t1",
                "account_tag": ACCOUNT,
                "name": "web-prod",
                "status": "healthy",
                "connectors": [
                    _connector(
                        "c1", "2026.8.2", "2026-08-20T06:00:00Z", ["DFW", "DFW", "IAH", "IAH"]
                    ),
                    c2,
                ],
            },
            {
                "id": "t2",
                "account_tag": ACCOUNT,
                "name": "db-main",
                "status": "degraded",
                "connectors": [
                    _connector("c3", "DEV", "2026-08-10T12:00:00Z", ["FRA", "AMS"]),
                    _connector("c4", "2026.7.3", "2026-08-18T12:00:00Z", []),
                ],
            },
            {
                "id": "t3",
                "account_tag": ACCOUNT,
                "name": "cache",
                "status": "healthy",
                "connectors": [
                    _connector("c5", "2026.8.2", "2026-08-20T11:30:00Z", ["DFW", "LAX"]),
                    _connector("c6", "2025.8.1", "2026-08-01T12:00:00Z", ["DFW"]),
                ],
            },
        ]
    }


@pytest.fixture
def conns() -> pd.DataFrame:
    return tf.connections_frame(_fleet())


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


@pytest.fixture
def ax() -> Any:
    return plt.figure(figsize=(8, 5)).add_subplot()


def _hex(color: Any) -> str:
    return mcolors.to_hex(color).upper()


def _ticks(labels: Any) -> list[str]:
    return [label.get_text() for label in labels]


def _texts(ax: Any) -> list[str]:
    return [text.get_text() for text in ax.texts]


# --------------------------------------------------------------------------------------------
# Package surface


def test_import_tunnelframe_does_not_import_matplotlib() -> None:
    code = "import sys, tunnelframe; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_plots_are_exported() -> None:
    names = [name for name in plotting.__all__ if name.startswith("plot_")]
    assert len(names) == 9
    for name in names:
        assert getattr(tf, name) is getattr(plotting, name)
        assert name in tf.__all__


@pytest.mark.parametrize(
    ("n", "text"),
    [(7, "7"), (999, "999"), (1000, "1.0k"), (3140, "3.1k"), (30385, "30k"), (2_500_000, "2.5M")],
)
def test_heatmap_cells_hold_compact_counts(n: int, text: str) -> None:
    assert plotting._common._compact(n) == text


@pytest.mark.parametrize(
    ("n", "total", "text"), [(1, 3, "33%"), (84, 18663, "0.5%"), (0, 5, "0%"), (5, 5, "100%")]
)
def test_bar_labels_give_a_decimal_only_under_one_percent(n: int, total: int, text: str) -> None:
    assert plotting._common._percent(n, total) == text


@pytest.mark.parametrize(
    ("plot", "options"),
    [
        (plot_version_distribution, {"as_of": AS_OF}),
        (plot_version_drift, {"as_of": AS_OF}),
        (plot_colo_distribution, {}),
        (plot_colo_map, {}),
        (plot_tunnel_colo_heatmap, {}),
        (plot_connection_ages, {"as_of": AS_OF}),
        (tf.plot_version_rollout, {}),
        (tf.plot_ha_timeline, {}),
    ],
)
def test_every_plot_returns_the_axes_given_or_the_current_one(
    plot: Any, options: dict[str, Any], conns: pd.DataFrame
) -> None:
    data = _HISTORY_FRAMES[plot]() if plot in _HISTORY_FRAMES else conns
    _, (left, right) = plt.subplots(1, 2)
    assert plot(data, ax=left, **options) is left
    plt.sca(right)
    assert plot(data, **options) is right
    # the same words; where a title wraps depends on where its Axes sit in the figure
    assert left.get_title() and left.get_title().split() == right.get_title().split()


@pytest.mark.parametrize(
    ("plot", "options", "message"),
    [
        (plot_version_distribution, {"as_of": AS_OF}, "No connectors in this frame"),
        (plot_version_drift, {"as_of": AS_OF}, "No connectors in this frame"),
        (plot_colo_distribution, {}, "No active connections in this frame"),
        (plot_colo_map, {}, "No active connections in this frame"),
        (plot_tunnel_colo_heatmap, {}, "No active connections in this frame"),
        (plot_connection_ages, {"as_of": AS_OF}, "No active connections in this frame"),
    ],
)
def test_an_empty_frame_says_so_on_the_axes(
    plot: Any, options: dict[str, Any], message: str, conns: pd.DataFrame, ax: Any
) -> None:
    assert plot(conns.iloc[:0], ax=ax, **options) is ax
    assert _texts(ax) == [message]
    assert ax.get_title()
    assert not ax.patches and not ax.collections and not ax.images


@pytest.mark.parametrize(
    ("plot", "options"),
    [
        (plot_version_distribution, {"as_of": AS_OF}),
        (plot_version_drift, {"as_of": AS_OF, "by": "released_on"}),
        (plot_colo_distribution, {}),
        (plot_colo_map, {}),
        (plot_tunnel_colo_heatmap, {}),
        (plot_connection_ages, {"as_of": AS_OF, "level": "connector"}),
        (tf.plot_version_rollout, {"top": 2}),
        (tf.plot_ha_timeline, {"top": 1}),
    ],
)
def test_plots_leave_their_frame_alone(
    plot: Any, options: dict[str, Any], conns: pd.DataFrame, ax: Any
) -> None:
    data = _HISTORY_FRAMES[plot]() if plot in _HISTORY_FRAMES else conns
    before = data.copy()
    plot(data, ax=ax, **options)
    pd.testing.assert_frame_equal(data, before)


@pytest.mark.parametrize(
    "plot",
    [
        plot_version_distribution,
        plot_version_drift,
        plot_colo_distribution,
        plot_colo_map,
        plot_tunnel_colo_heatmap,
        plot_connection_ages,
    ],
)
def test_a_non_frame_is_a_type_error(plot: Any) -> None:
    with pytest.raises(TypeError, match=r"expects a connections frame .* got int"):
        plot(5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: plot_version_distribution(f, top=0), r"top=0 must be a positive integer"),
        (lambda f: plot_colo_distribution(f, top=2.5), r"top=2.5 must be a positive integer"),
        (lambda f: plot_colo_distribution(f, top=True), r"top=True must be a positive integer"),
        (lambda f: plot_tunnel_colo_heatmap(f, top_colos=-1), r"top_colos=-1 must be"),
        (lambda f: plot_colo_map(f, label_top=-1), r"label_top=-1 must be an integer >= 0"),
        (lambda f: plot_version_drift(f, by="month"), r"by='month' is not 'releases_behind'"),
        (lambda f: plot_connection_ages(f, level="tunnel"), r"level='tunnel' is not"),
        (lambda f: plot_connection_ages(f, bins=0), r"bins=0 must be a positive integer"),
    ],
)
def test_bad_options_are_value_errors(call: Any, message: str, conns: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=message):
        call(conns)


def test_a_tunnel_name_is_one_plain_line_in_every_label(ax: Any) -> None:
    fleet = _fleet()
    fleet["tunnels"][0]["name"] = "web\nprod   $\\frac$ " + "x" * 50
    fleet["tunnels"][2]["connectors"][0]["version"] = "2026.8.2\n$"
    conns = tf.connections_frame(fleet)
    plot_tunnel_colo_heatmap(conns, ax=ax)
    # whitespace runs become one space, "$" is escaped (no mathtext), 40 characters at most
    assert _ticks(ax.get_yticklabels())[0] == r"web prod \$\frac\$ " + "x" * 22 + "…"
    _, other = plt.subplots()
    plot_version_distribution(conns, as_of=AS_OF, ax=other)
    assert r"2026.8.2 \$" in _ticks(other.get_yticklabels())
    for axes in (ax, other):
        axes.figure.canvas.draw()  # an unescaped "$\\frac$" fails to parse here


# --------------------------------------------------------------------------------------------
# Versions


def test_version_distribution_draws_one_bar_per_version_newest_first(
    conns: pd.DataFrame, ax: Any
) -> None:
    plot_version_distribution(conns, as_of=AS_OF, ax=ax)
    assert _ticks(ax.get_yticklabels()) == ["2026.8.2", "2026.7.3", "2025.8.1", "2025.8.0", "DEV"]
    assert [bar.get_width() for bar in ax.patches] == [2, 1, 1, 1, 1]
    assert [_hex(bar.get_facecolor()) for bar in ax.patches] == [
        STATUS_COLORS["current"],
        STATUS_COLORS["behind"],
        STATUS_COLORS["behind"],
        STATUS_COLORS["unsupported"],
        STATUS_COLORS["unknown"],
    ]
    # the unsupported version's tick label is in the warning colour too
    assert _hex(ax.get_yticklabels()[3].get_color()) == STATUS_COLORS["unsupported"]
    assert ax.get_title() == "cloudflared versions of 6 connectors (latest 2026.8.2)"
    assert _texts(ax) == ["2 (33%)", "1 (17%)", "1 (17%)", "1 (17%)", "1 (17%)"]
    assert ax.get_xlabel() == "connectors"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "current",
        "behind, supported",
        "unsupported (> 1 year older than latest)",
        "unknown (DEV or no version)",
    ]


def test_version_distribution_sums_the_rest_into_one_other_bar_per_status(
    conns: pd.DataFrame, ax: Any
) -> None:
    fleet = _fleet()
    # two more behind versions, so that three of them fall outside the top
    fleet["tunnels"][1]["connectors"].append(
        _connector("c7", "2026.6.1", "2026-08-18T12:00:00Z", ["AMS"])
    )
    fleet["tunnels"][1]["connectors"].append(
        _connector("c8", "2026.5.0", "2026-08-18T12:00:00Z", ["AMS"])
    )
    # top 2 by connectors: 2026.8.2 (2), then the newest of the versions with 1: 2026.7.3;
    # left: behind 2026.6.1, 2026.5.0, 2025.8.1; unsupported 2025.8.0; unknown DEV
    plot_version_distribution(tf.connections_frame(fleet), top=2, as_of=AS_OF, ax=ax)
    assert _ticks(ax.get_yticklabels()) == [
        "2026.8.2",
        "2026.7.3",
        "other behind (3 versions)",
        "2025.8.0",
        "DEV",
    ]
    assert [bar.get_width() for bar in ax.patches] == [2, 1, 3, 1, 1]
    assert [bar.get_hatch() for bar in ax.patches] == [None, None, "//", None, None]
    assert _hex(ax.patches[2].get_facecolor()) == STATUS_COLORS["behind"]
    assert _hex(ax.patches[3].get_facecolor()) == STATUS_COLORS["unsupported"]
    assert ax.get_title() == "cloudflared versions of 8 connectors (latest 2026.8.2)"


def test_version_distribution_passes_kwargs_to_barh(conns: pd.DataFrame, ax: Any) -> None:
    plot_version_distribution(conns, as_of=AS_OF, ax=ax, color="black", height=0.5)
    assert {_hex(bar.get_facecolor()) for bar in ax.patches} == {"#000000"}
    assert {bar.get_height() for bar in ax.patches} == {0.5}


def _bars(ax: Any) -> dict[str, list[tuple[float, float, float]]]:
    """Per bar container label: (x centre, bottom, height) of each bar."""
    return {
        container.get_label(): [
            (bar.get_x() + bar.get_width() / 2, bar.get_y(), bar.get_height()) for bar in container
        ]
        for container in ax.containers
    }


def test_version_drift_stacks_connectors_by_releases_behind(conns: pd.DataFrame, ax: Any) -> None:
    plot_version_drift(conns, as_of=AS_OF, ax=ax)
    assert _bars(ax) == {
        "current": [(0, 0, 2)],
        "behind, supported": [(3, 0, 1), (23, 0, 1)],
        "unsupported (> 1 year older than latest)": [(24, 0, 1)],
    }
    assert [_hex(c.patches[0].get_facecolor()) for c in ax.containers] == [
        STATUS_COLORS["current"],
        STATUS_COLORS["behind"],
        STATUS_COLORS["unsupported"],
    ]
    # the support boundary lies between 23 (supported) and 24 (unsupported) releases behind
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [23.5, 23.5]
    assert "support ends →" in _texts(ax)
    assert ax.get_title() == "Version drift of cloudflared connectors: releases behind 2026.8.2"
    assert ax.get_xlabel() == "releases behind the latest release (2026.8.2)"
    assert ax.get_legend().get_title().get_text() == (  # wrapped to the legend's width
        "not shown: 1 connector with\nan unknown version"
    )


def test_version_drift_takes_a_version_drift_frame_as_it_is(conns: pd.DataFrame) -> None:
    _, (left, right) = plt.subplots(1, 2)
    drift = tf.version_drift(conns, as_of=AS_OF)
    plot_version_drift(conns, as_of=AS_OF, ax=left)
    plot_version_drift(drift, ax=right)
    assert _bars(left) == _bars(right)


def test_version_drift_by_release_month_shades_the_unsupported_window(
    conns: pd.DataFrame, ax: Any
) -> None:
    plot_version_drift(conns, by="released_on", as_of=AS_OF, ax=ax)
    months = {
        label: [
            (mdates.num2date(bar.get_x()).strftime("%Y-%m"), bar.get_y(), bar.get_height())
            for bar in container
        ]
        for label, container in ((c.get_label(), c) for c in ax.containers)
    }
    # 2025-08 holds 2025.8.1 (supported) with 2025.8.0 (unsupported) stacked on top
    assert months == {
        "current": [("2026-08", 0, 2)],
        "behind, supported": [("2025-08", 0, 1), ("2026-07", 0, 1)],
        "unsupported (> 1 year older than latest)": [("2025-08", 1, 1)],
    }
    assert "← unsupported: released before 2025-08-14" in _texts(ax)
    (latest_line,) = ax.get_lines()
    assert mdates.num2date(latest_line.get_xdata()[0]).strftime("%Y-%m-%d") == "2026-08-14"
    assert ax.get_xlabel() == "release date of the version they run (by month)"


def _latest_line_day(ax: Any) -> str:
    (line,) = ax.get_lines()
    return str(mdates.num2date(line.get_xdata()[0]).strftime("%Y-%m-%d"))


def test_version_drift_by_release_date_follows_the_calendar_it_was_measured_with(
    conns: pd.DataFrame, tmp_path: Path
) -> None:
    # a calendar in which 2026.8.2 came out two days later than in the bundled one
    calendar = tf.load_releases()
    calendar.loc[calendar["version"] == "2026.8.2", "released_on"] = pd.Timestamp(
        "2026-08-16", tz="UTC"
    )
    path = tmp_path / "releases.csv"
    calendar.assign(released_on=calendar["released_on"].dt.strftime("%Y-%m-%d")).to_csv(
        path, index=False
    )
    _, (left, right) = plt.subplots(1, 2)
    plot_version_drift(conns, by="released_on", releases=path, as_of=AS_OF, ax=left)
    drift = tf.version_drift(conns, releases=path, as_of=AS_OF)
    plot_version_drift(drift, by="released_on", ax=right)
    for ax in (left, right):
        assert _latest_line_day(ax) == "2026-08-16"
        assert "← unsupported: released before 2025-08-16" in _texts(ax)


def test_version_drift_by_release_date_marks_a_pinned_latest(conns: pd.DataFrame, ax: Any) -> None:
    # 2026.8.9 is not in the calendar: its date comes with it
    plot_version_drift(
        conns, by="released_on", latest=("2026.8.9", "2026-08-19"), as_of=AS_OF, ax=ax
    )
    assert _latest_line_day(ax) == "2026-08-19"
    assert "← unsupported: released before 2025-08-19" in _texts(ax)


def test_version_drift_says_so_when_no_version_is_known(conns: pd.DataFrame, ax: Any) -> None:
    dev_only = conns[conns["version"] == "DEV"]
    plot_version_drift(dev_only, as_of=AS_OF, ax=ax)
    assert _texts(ax) == [
        "No connectors with a known version in this frame",
        "1 connector with unknown version or release date",
    ]


# --------------------------------------------------------------------------------------------
# Colos


def test_colo_distribution_draws_colos_by_connections(conns: pd.DataFrame, ax: Any) -> None:
    plot_colo_distribution(conns, ax=ax)
    assert _ticks(ax.get_yticklabels()) == [
        "DFW (Dallas)",
        "LAX (Los Angeles)",
        "IAH (Houston)",
        "AMS (Amsterdam)",
        "FRA (Frankfurt)",
        "SJC (San Jose)",
    ]
    assert [bar.get_width() for bar in ax.patches] == [4, 3, 2, 1, 1, 1]
    north_america, europe = REGION_COLORS["North America"], REGION_COLORS["Europe"]
    assert [_hex(bar.get_facecolor()) for bar in ax.patches] == [
        north_america,
        north_america,
        north_america,
        europe,
        europe,
        north_america,
    ]
    assert _texts(ax)[:2] == ["4 (33.3%)", "3 (25.0%)"]
    assert ax.get_title() == "Active connections per metro: 12 in 6 metros (6 sites)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["North America", "Europe"]


def test_colo_distribution_puts_the_rest_in_one_other_bar(conns: pd.DataFrame, ax: Any) -> None:
    plot_colo_distribution(conns, top=3, ax=ax)
    labels = _ticks(ax.get_yticklabels())
    assert labels[-1] == "other (3 metros)"
    assert len(labels) == 4
    assert [bar.get_width() for bar in ax.patches] == [4, 3, 2, 3]
    assert _hex(ax.patches[-1].get_facecolor()) == OTHER_GREY


def test_colo_distribution_counts_pending_reconnects_on_request(
    conns: pd.DataFrame, ax: Any
) -> None:
    plot_colo_distribution(conns, active_only=False, ax=ax)
    # SJC now has 2 (one active, one pending) and sorts before AMS and FRA
    assert [bar.get_width() for bar in ax.patches] == [4, 3, 2, 2, 1, 1]
    assert _ticks(ax.get_yticklabels())[3] == "SJC (San Jose)"
    assert ax.get_xlabel() == "connections"


def test_colo_distribution_keeps_a_large_fleet_to_top_n(ax: Any) -> None:
    big = tf.connections_frame(tf.simulator.generate_fleet(300, seed=3))
    n_colos = big["colo_name"].nunique()
    assert n_colos > 10  # the point of the test
    plot_colo_distribution(big, top=10, ax=ax)
    labels = _ticks(ax.get_yticklabels())
    assert len(ax.patches) == 11
    assert labels[-1].startswith("other (")
    widths = [bar.get_width() for bar in ax.patches]
    active = big["connection_id"].notna() & ~big["is_pending_reconnect"].fillna(False).astype(bool)
    assert sum(widths) == int(active.sum())


def test_colo_map_sizes_circles_by_connections(conns: pd.DataFrame, ax: Any) -> None:
    plot_colo_map(conns, label_top=2, ax=ax)
    (points,) = ax.collections
    # in colo_distribution order: DFW 4, LAX 3, IAH 2, AMS 1, FRA 1, SJC 1; area 700 * n / 4
    assert list(points.get_sizes()) == [700.0, 525.0, 350.0, 175.0, 175.0, 175.0]
    offsets = points.get_offsets()
    # Cloudflare's coordinates of the metro (its speed test's locations): the airports here.
    assert list(offsets[0]) == pytest.approx([-97.038002, 32.896801])  # DFW (lon, lat)
    assert list(offsets[3]) == pytest.approx([4.76389, 52.308601])  # AMS
    labels = [t.get_text() for t in ax.texts if t.get_text() in {"DFW", "LAX", "IAH"}]
    assert labels == ["DFW", "LAX"]
    assert ax.get_aspect() == 1.0
    assert ax.get_xlim() == (-180.0, 180.0)
    assert ax.get_xlabel() == "longitude"
    assert ax.get_title() == (
        "Where the fleet connects: active connections per metro (12 in 6 metros, 6 sites)"
    )
    assert "circle area ∝ connections (largest: 4 at DFW); no coastlines bundled" in _texts(ax)


def test_colo_map_leaves_out_unknown_colos_and_says_so(conns: pd.DataFrame, ax: Any) -> None:
    odd = conns.copy()
    odd["colo_name"] = odd["colo_name"].cat.rename_categories({"SJC": "QQQ"})
    plot_colo_map(odd, ax=ax)  # no UnknownColoWarning: warnings are errors here
    (points,) = ax.collections
    assert len(points.get_offsets()) == 5
    note = [t for t in _texts(ax) if t.startswith("not shown")]
    assert note == [
        "not shown: 1 metro with unknown location (1 connection)\n"
        "circle area ∝ connections (largest: 4 at DFW); no coastlines bundled"
    ]


def _site_conns() -> pd.DataFrame:
    """Chicago in three sites and a legacy code (ORD), Los Angeles in one, Madrid in two."""
    sites = ["ord02", "ord06", "ord12", "ord12", "ORD", "lax07", "lax07", "mad01", "MAD06"]
    return tf.connections_frame(
        {
            "tunnels": [
                {
                    "id": "t1",
                    "name": "sites",
                    "account_tag": "a" * 32,
                    "status": "healthy",
                    "connectors": [
                        {
                            "id": "k1",
                            "conns": [
                                {"id": f"x{i}", "colo_name": site, "is_pending_reconnect": False}
                                for i, site in enumerate(sites)
                            ],
                        }
                    ],
                }
            ]
        }
    )


def test_colo_plots_on_site_codes_count_per_metro(ax: Any) -> None:
    conns = _site_conns()
    plot_colo_distribution(conns, ax=ax)
    assert _ticks(ax.get_yticklabels()) == [
        "ORD (Chicago, 4 sites)",
        "LAX (Los Angeles)",
        "MAD (Madrid, 2 sites)",
    ]
    assert [bar.get_width() for bar in ax.patches] == [5, 2, 2]
    assert ax.get_title() == "Active connections per metro: 9 in 3 metros (7 sites)"


def test_colo_distribution_plot_by_site(ax: Any) -> None:
    plot_colo_distribution(_site_conns(), by="site", top=3, ax=ax)
    assert _ticks(ax.get_yticklabels()) == [
        "lax07 (Los Angeles)",
        "ord12 (Chicago)",
        "MAD06 (Madrid)",
        "other (4 sites)",
    ]
    assert [bar.get_width() for bar in ax.patches] == [2, 2, 1, 4]
    with pytest.raises(ValueError, match="by='colo' is not 'metro', 'site', 'country' or 'region'"):
        plot_colo_distribution(_site_conns(), by="colo", ax=ax)  # type: ignore[arg-type]


def test_colo_map_puts_the_sites_of_a_metro_on_one_point(ax: Any) -> None:
    plot_colo_map(_site_conns(), ax=ax)
    (points,) = ax.collections
    assert list(points.get_sizes()) == pytest.approx([700.0, 280.0, 280.0])  # ORD 5, LAX/MAD 2
    assert list(points.get_offsets()[0]) == pytest.approx([-87.9048, 41.9786])  # Chicago
    assert ax.get_title() == (
        "Where the fleet connects: active connections per metro (9 in 3 metros, 7 sites)"
    )


def test_colo_map_passes_kwargs_to_scatter(conns: pd.DataFrame, ax: Any) -> None:
    plot_colo_map(conns, ax=ax, marker="s", alpha=0.3)
    (points,) = ax.collections
    assert points.get_alpha() == 0.3


def test_heatmap_has_tunnels_as_rows_and_colos_as_columns(conns: pd.DataFrame, ax: Any) -> None:
    plot_tunnel_colo_heatmap(conns, ax=ax)
    # tunnels by connections: web-prod 7, cache 3, db-main 2; colos: DFW 4, LAX 3, IAH 2, then
    # AMS, FRA, SJC (1 each, by name)
    assert _ticks(ax.get_yticklabels()) == ["web-prod", "cache", "db-main"]
    assert _ticks(ax.get_xticklabels()) == ["DFW", "LAX", "IAH", "AMS", "FRA", "SJC"]
    (image,) = ax.images
    values = image.get_array()
    assert values.filled(0).tolist() == [
        [2, 2, 2, 0, 0, 1],
        [2, 1, 0, 0, 0, 0],
        [0, 0, 0, 1, 1, 0],
    ]
    assert values.mask.sum() == 10  # empty cells are not coloured
    assert len(ax.texts) == 8  # every filled cell annotated
    assert ax.get_title() == ("Active connections per tunnel and metro (3 tunnels, 6 metros)")
    # the colour bar counts connections: whole numbers only
    bar = ax.figure.axes[-1]
    ticks = [t for t in bar.get_yticks() if bar.get_ylim()[0] <= t <= bar.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_heatmap_sums_the_rest_into_grey_other_row_and_column(conns: pd.DataFrame, ax: Any) -> None:
    plot_tunnel_colo_heatmap(conns, top_tunnels=2, top_colos=3, ax=ax)
    assert _ticks(ax.get_yticklabels()) == ["web-prod", "cache", "other (1 tunnel)"]
    assert _ticks(ax.get_xticklabels()) == ["DFW", "LAX", "IAH", "other (3 metros)"]
    (image,) = ax.images
    assert image.get_array().data.tolist() == [
        [2, 2, 2, 1],
        [2, 1, 0, 0],
        [0, 0, 0, 2],
    ]
    # the other row and column are grey patches outside the colour scale
    assert image.get_array().mask[-1].all() and image.get_array().mask[:, -1].all()
    assert len(ax.patches) == 6
    assert {_hex(p.get_facecolor()) for p in ax.patches} == {OTHER_GREY}
    assert image.norm.vmax == 2


def test_heatmap_tells_apart_tunnels_that_share_a_name(ax: Any) -> None:
    fleet = _fleet()
    fleet["tunnels"][2]["name"] = "web-prod"
    fleet["tunnels"][2]["id"] = "0f0e0d0c-aaaa-bbbb-cccc-000000000003"
    fleet["tunnels"][0]["id"] = "01020304-aaaa-bbbb-cccc-000000000001"
    plot_tunnel_colo_heatmap(tf.connections_frame(fleet), ax=ax, colorbar=False)
    assert _ticks(ax.get_yticklabels()) == [
        "web-prod (01020304)",
        "web-prod (0f0e0d0c)",
        "db-main",
    ]
    assert len(ax.figure.axes) == 1  # no colour bar


# --------------------------------------------------------------------------------------------
# Ages


def test_connection_ages_histogram_counts_active_connections(conns: pd.DataFrame, ax: Any) -> None:
    plot_connection_ages(conns, as_of=AS_OF, bins=12, ax=ax)
    assert len(ax.patches) == 12
    assert sum(bar.get_height() for bar in ax.patches) == 12
    assert ax.get_xscale() == "log"
    # ages: 0.5 h ×2, 6 h ×4, 24 h ×3, 240 h ×2, 456 h: median (6 + 24) / 2 = 15 h
    (median,) = ax.get_lines()
    assert median.get_xdata()[0] == 15.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["median 15.0 h"]
    assert ax.get_title() == "Age of active connections (12 connections)"
    assert ax.get_ylabel() == "connections"
    assert "1 d" in _ticks(ax.get_xticklabels())


def test_connector_uptimes_histogram(conns: pd.DataFrame, ax: Any) -> None:
    plot_connection_ages(conns, level="connector", as_of=AS_OF, ax=ax)
    assert sum(bar.get_height() for bar in ax.patches) == 6
    # uptimes: 0.5, 6, 24, 48, 240, 456 h: median 36 h
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["median 36.0 h"]
    assert ax.get_title() == "Connector uptime since (re)start (6 connectors)"


def test_connection_ages_takes_a_connection_ages_frame(conns: pd.DataFrame) -> None:
    _, (left, right) = plt.subplots(1, 2)
    plot_connection_ages(conns, as_of=AS_OF, ax=left)
    plot_connection_ages(tf.connection_ages(conns, as_of=AS_OF), ax=right)
    assert [b.get_height() for b in left.patches] == [b.get_height() for b in right.patches]


def test_connection_ages_leaves_out_times_after_as_of(conns: pd.DataFrame, ax: Any) -> None:
    # as of 2026-08-20 09:00, c1 (opened 06:00 → 3 h) counts, c5 (opened 11:30) is in the future
    with pytest.warns(tf.AsOfWarning, match="as_of=2026-08-20 09:00 UTC is before the data"):
        plot_connection_ages(conns, as_of="2026-08-20T09:00:00Z", ax=ax, color="black")
    assert sum(bar.get_height() for bar in ax.patches) == 10
    assert "not shown: 2 without a time stamp or stamped after as_of" in _texts(ax)
    assert {_hex(bar.get_facecolor()) for bar in ax.patches} == {"#000000"}


def test_connection_ages_draws_ages_under_a_minute_in_the_first_bin(ax: Any) -> None:
    frame = tf.connection_ages(tf.connections_frame(_fleet()), as_of="2026-08-20T11:30:10Z")
    plot_connection_ages(frame, bins=5, ax=ax)
    # c5's two connections are 10 s old: clipped to one minute, the left edge of the first bin
    assert ax.patches[0].get_x() == pytest.approx(1 / 60)
    assert ax.patches[0].get_height() >= 2
    assert not np.isnan([bar.get_height() for bar in ax.patches]).any()


# --------------------------------------------------------------------------------------------
# History plots (tunnelframe.history): drawn from frames shaped like the query results


def _rollout() -> pd.DataFrame:
    """Three daily snapshots: 2026.7.3 rolls out over 2026.7.0, DEV and a connector with no
    version hang on; versions ordered as version_rollout orders them (unknown first)."""
    order = ["DEV", "2026.7.0", "2026.7.3"]
    rows = [
        ("2026-08-01", "DEV", 0.1),
        ("2026-08-01", "2026.7.0", 0.7),
        ("2026-08-01", None, 0.2),
        ("2026-08-02", "DEV", 0.1),
        ("2026-08-02", "2026.7.0", 0.4),
        ("2026-08-02", "2026.7.3", 0.5),
        ("2026-08-03", "DEV", 0.1),
        ("2026-08-03", "2026.7.3", 0.9),
    ]
    return pd.DataFrame(
        {
            "fetched_at": pd.to_datetime([r[0] for r in rows], utc=True),
            "version": pd.Categorical([r[1] for r in rows], categories=order, ordered=True),
            "n_connectors": [1] * len(rows),
            "share": [r[2] for r in rows],
        }
    )


def _episodes() -> pd.DataFrame:
    """Two tunnels named "edge" (one with stray whitespace) and "core": 30, 12 and 0 hours
    out of HA."""
    rows = [
        ("t1", "edge", "down", "2026-08-01T00:00Z", "2026-08-02T06:00Z", 30.0),
        ("t2", " edge\n", "single_colo", "2026-08-01T00:00Z", "2026-08-01T12:00Z", 12.0),
        ("t2", " edge\n", "ok", "2026-08-01T12:00Z", "2026-08-02T06:00Z", 18.0),
        ("t3", "core", "ok", "2026-08-01T00:00Z", "2026-08-02T06:00Z", 30.0),
    ]
    columns = ["tunnel_id", "tunnel_name", "state", "start_at", "end_at", "hours"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("start_at", "end_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.assign(account_id=ACCOUNT)


def test_version_rollout_stacks_versions_oldest_first_and_no_version_too(ax: Any) -> None:
    assert tf.plot_version_rollout(_rollout(), ax=ax) is ax
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["2026.7.3", "2026.7.0", "DEV", "(no version)"]
    # the bottom band is "(no version)": 20% on the first day, then none
    bottom = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert bottom.max() == pytest.approx(0.2)
    assert ax.get_title() == "cloudflared version rollout: 3 snapshots"
    first, last = ax.get_xlim()
    assert mdates.num2date(last) - mdates.num2date(first) == pd.Timedelta(days=2)


def test_version_rollout_sums_the_rest_into_a_grey_other_band(ax: Any) -> None:
    # peak shares: 2026.7.3 0.9, 2026.7.0 0.7, (no version) 0.2, DEV 0.1
    tf.plot_version_rollout(_rollout(), top=2, ax=ax)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["other", "2026.7.3", "2026.7.0"]
    colors = [_hex(band.get_facecolor()[0]) for band in ax.collections]
    assert colors[-1] == OTHER_GREY
    assert OTHER_GREY not in colors[:-1] and "#7F7F7F" not in colors[:-1]


def test_ha_timeline_draws_the_worst_tunnels_first_with_plain_labels(ax: Any) -> None:
    assert tf.plot_ha_timeline(_episodes(), ax=ax) is ax
    # " edge\n" is "edge" as a label, so both tunnels get the start of their id
    assert _ticks(ax.get_yticklabels()) == ["edge (t1)", "edge (t2)", "core"]
    assert len(ax.collections) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["down", "single_colo", "ok"]
    assert ax.get_title() == "HA state per tunnel (3 of 3 tunnels, most hours out of HA first)"
    _, other = plt.subplots()
    tf.plot_ha_timeline(_episodes(), top=1, ax=other)
    assert _ticks(other.get_yticklabels()) == ["edge"]


@pytest.mark.parametrize(
    ("plot", "frame", "message"),
    [
        (tf.plot_version_rollout, _rollout, "No snapshots in this frame"),
        (tf.plot_ha_timeline, _episodes, "No HA episodes in this frame"),
    ],
)
def test_empty_history_plots_say_so(plot: Any, frame: Any, message: str, ax: Any) -> None:
    assert plot(frame().iloc[:0], ax=ax) is ax
    assert _texts(ax) == [message]
    assert ax.get_title()
    assert not ax.collections


@pytest.mark.parametrize(
    ("plot", "frame", "message"),
    [
        (
            tf.plot_version_rollout,
            _rollout,
            r"expects a version rollout .*version_rollout\), got list",
        ),
        (tf.plot_ha_timeline, _episodes, r"expects HA episodes .*ha_episodes\), got list"),
    ],
)
def test_history_plots_refuse_what_is_not_theirs(plot: Any, frame: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        plot([{"share": 1.0}])
    with pytest.raises(ValueError, match=r"top=0 must be a positive integer"):
        plot(frame(), top=0)


def test_heatmap_without_account_or_tunnel_ids(tmp_path: Path) -> None:
    # A single connector's payload has neither: it is still one row of the heatmap.
    payload = {
        "id": "c1",
        "conns": [{"id": "x1", "colo_name": "dfw01"}, {"id": "x2", "colo_name": "lax01"}],
    }
    one = tf.connections_frame(payload)
    ax = tf.plot_tunnel_colo_heatmap(one, by="site")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dfw01", "lax01"]
    assert len(ax.get_yticklabels()) == 1
    plt.close("all")
    fleet = tf.connections_frame(tf.simulator.generate_fleet(3, seed=1)).assign(account_id=pd.NA)
    ax = tf.plot_tunnel_colo_heatmap(fleet)
    assert len(ax.get_yticklabels()) == fleet["tunnel_id"].nunique()
    assert tf.write_report(one, tmp_path / "one.html").exists()


def _history_over(first: str, last: str, n: int) -> dict[Any, pd.DataFrame]:
    """A rollout and HA episodes of ``n`` snapshots from ``first`` to ``last`` (UTC): a
    version replacing another, one tunnel going down and back, one that goes down at the last
    snapshot (an episode of no length), one always ok."""
    times = (
        pd.date_range(first, last, periods=n, tz="UTC")
        if n > 1
        else pd.DatetimeIndex([pd.Timestamp(first, tz="UTC")])
    )
    share = np.linspace(0.0, 1.0, n) if n > 1 else np.array([0.5])
    rollout = pd.DataFrame(
        {
            "fetched_at": np.repeat(times, 2),
            "version": pd.Categorical(["2026.7.0", "2026.8.2"] * n, ["2026.7.0", "2026.8.2"]),
            "n_connectors": 1,
            "share": np.column_stack([1 - share, share]).ravel(),
        }
    )
    mid, end = times[n // 2], times[-1]
    rows = [
        ("t1", "flapping", "ok", times[0], mid),
        ("t1", "flapping", "down", mid, end),
        ("t2", "late-down", "ok", times[0], end),
        ("t2", "late-down", "down", end, end),
        ("t3", "steady", "ok", times[0], end),
    ]
    episodes = pd.DataFrame(
        rows, columns=["tunnel_id", "tunnel_name", "state", "start_at", "end_at"]
    )
    episodes = episodes[episodes["end_at"] >= episodes["start_at"]].drop_duplicates(
        ["tunnel_id", "start_at"], keep="last"
    )
    hours = (episodes["end_at"] - episodes["start_at"]).dt.total_seconds() / 3600
    episodes = episodes.assign(hours=hours, account_id=ACCOUNT, n_snapshots=1)
    return {tf.plot_version_rollout: rollout, tf.plot_ha_timeline: episodes}


#: Short and long stores: (first snapshot, last snapshot, snapshots).
_SPANS = {
    "10 minutes": ("2026-08-20T11:50Z", "2026-08-20T12:00Z", 11),
    "3 hours": ("2026-08-20T09:00Z", "2026-08-20T12:00Z", 7),
    "1 day, over midnight": ("2026-08-19T12:00Z", "2026-08-20T12:00Z", 13),
    "3 days": ("2026-08-17T12:00Z", "2026-08-20T12:00Z", 13),
    "45 days, over a month's end": ("2026-07-06T12:00Z", "2026-08-20T12:00Z", 46),
    "400 days, over a year's end": ("2025-07-16T12:00Z", "2026-08-20T12:00Z", 58),
}
# What a date tick may read: 12:00, 19, Aug, Aug-19, 2026; the first may add its day or year.
_DATE_TICK = (
    r"(\d\d:\d\d|\d\d|[A-Z][a-z]{2}|[A-Z][a-z]{2}-\d\d|\d{4})(\n([A-Z][a-z]{2}-\d\d|\d{4}))?"
)


@pytest.mark.parametrize("plot", [tf.plot_version_rollout, tf.plot_ha_timeline])
@pytest.mark.parametrize("span", list(_SPANS))
def test_history_plots_date_their_time_axis_readably(plot: Any, span: str) -> None:
    first, last, n = _SPANS[span]
    fig, ax = plt.subplots()  # the notebook's default size
    plot(_history_over(first, last, n)[plot], ax=ax)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    lo, hi = ax.get_xlim()
    ticks = zip(ax.get_xticklabels(), ax.get_xticks(), strict=True)
    labels = [t for t, x in ticks if lo <= x <= hi]
    texts = [t.get_text() for t in labels]
    assert len(texts) >= 3, texts
    # dates and times, never raw day numbers (20685.5) or empty ticks
    assert all(re.fullmatch(_DATE_TICK, t) for t in texts), texts
    # the first tick says which day (or month, or year) it is when the ticks cross one
    start = mdates.num2date(min(x for x in ax.get_xticks() if lo <= x))
    end = mdates.num2date(max(x for x in ax.get_xticks() if x <= hi))
    offset = ax.xaxis.get_major_formatter().get_offset()
    if re.fullmatch(r"\d\d:\d\d", texts[0].split("\n")[0]):
        assert f"{start:%b-%d}" in texts[0] or (
            start.date() == end.date() and f"{start:%Y-%b-%d}" in offset
        ), (texts, offset)
    if re.fullmatch(r"\d\d", texts[0]) or re.fullmatch(r"[A-Z][a-z]{2}-\d\d", texts[0]):
        assert texts[0] == f"{start:%b-%d}" or (start.month == end.month), (texts, offset)
    if start.year != end.year:
        assert str(start.year) in texts[0], texts
    # no two labels overlap, and none is cut by the figure's edge
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert all(not a.overlaps(b) for a, b in itertools.pairwise(boxes)), texts
    for box in boxes:
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y0 >= 0, (texts, box)


def test_history_plots_of_one_snapshot_draw_it_at_its_time() -> None:
    frames = _history_over("2026-08-20T12:00Z", "2026-08-20T12:00Z", 1)
    when = mdates.date2num(pd.Timestamp("2026-08-20T12:00Z").to_pydatetime())
    for plot, frame in frames.items():
        fig, ax = plt.subplots()
        plot(frame, ax=ax)
        assert not _texts(ax), plot  # not "No ... in this frame"
        lo, hi = ax.get_xlim()
        assert lo < when < hi and hi - lo <= 1, (plot, lo, hi)  # hours around it, not years
        drawn = [c.get_paths()[0].get_extents() for c in ax.collections]
        assert drawn and all(b.width > 0 and b.x0 <= when <= b.x1 for b in drawn), plot
        fig.canvas.draw()
        assert all(re.fullmatch(r"\d\d:\d\d", t.get_text()) for t in ax.get_xticklabels())


def test_ha_timeline_shows_a_state_first_seen_at_the_last_snapshot() -> None:
    episodes = _history_over("2026-08-19T12:00Z", "2026-08-20T12:00Z", 13)[tf.plot_ha_timeline]
    ax = tf.plot_ha_timeline(episodes)
    row = _ticks(ax.get_yticklabels()).index("late-down")
    bars = ax.collections[row]
    colours = [_hex(c) for c in bars.get_facecolors()]
    widths = [p.get_extents().width for p in bars.get_paths()]
    assert colours == [_hex("#7fbf7b"), _hex("#b2182b")]  # ok, then down
    assert widths[1] > 0


# The history plots take the frame of their history query, not a connections frame.
_HISTORY_FRAMES: dict[Any, Any] = {
    tf.plot_version_rollout: _rollout,
    tf.plot_ha_timeline: _episodes,
}


def test_heatmap_sums_the_sites_of_a_metro(ax: Any) -> None:
    plot_tunnel_colo_heatmap(_site_conns(), ax=ax, colorbar=False)
    assert _ticks(ax.get_xticklabels()) == ["ORD", "LAX", "MAD"]
    assert ax.images[0].get_array().filled(0).tolist() == [[5, 2, 2]]
    assert ax.get_xlabel() == "metro"
    ax.clear()
    plot_tunnel_colo_heatmap(_site_conns(), by="site", top_colos=2, ax=ax, colorbar=False)
    assert _ticks(ax.get_xticklabels()) == ["lax07", "ord12", "other (5 sites)"]


# --------------------------------------------------------------------------------------------
# Plots that fit (#14): no legend over the data, whole-number counts, month ticks, style colours


def _one_connector() -> pd.DataFrame:
    conns = tf.load_sample(frame="connections")
    return conns[conns["connector_id"] == conns["connector_id"].dropna().iloc[0]]


@pytest.mark.parametrize("plot", ["colo_distribution", "colo_map"])
@pytest.mark.parametrize("case", ["sample", "one connector"])
def test_the_region_legend_covers_no_data(plot: str, case: str) -> None:
    import matplotlib.pyplot as plt

    conns = tf.load_sample(frame="connections") if case == "sample" else _one_connector()
    fig, ax = plt.subplots()  # the notebook size
    getattr(tf, f"plot_{plot}")(conns, ax=ax)
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    drawn = [*ax.patches, *ax.texts]
    for artist in drawn:
        assert not legend.overlaps(artist.get_window_extent()), artist
    for collection in ax.collections:  # scatter markers: their centres, in pixels
        points = collection.get_offset_transform().transform(collection.get_offsets())
        assert len(points) and not any(legend.contains(x, y) for x, y in points)
    assert drawn or ax.collections
    plt.close(fig)


def test_count_axes_have_whole_number_ticks_and_one_month_gets_month_ticks() -> None:
    import matplotlib.pyplot as plt

    one = _one_connector()
    fig, ax = plt.subplots()
    tf.plot_version_drift(one, by="released_on", ax=ax, as_of=tf.datasets.SAMPLE_AS_OF)
    fig.canvas.draw()
    assert all(float(t).is_integer() for t in ax.get_yticks())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[:2] == ["Aug", "Sep"]  # months, not days, for one release month
    plt.close(fig)
    fig, ax = plt.subplots()
    tf.plot_colo_distribution(one, ax=ax)
    assert all(float(t).is_integer() for t in ax.get_xticks())
    plt.close(fig)


def test_the_median_line_takes_its_colour_from_the_style() -> None:
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    conns = tf.load_sample(frame="connections")
    with plt.style.context("dark_background"):
        fig, ax = plt.subplots()
        tf.plot_connection_ages(conns, ax=ax, as_of=tf.datasets.SAMPLE_AS_OF)
        (median,) = [line for line in ax.lines if line.get_label().startswith("median")]
        assert to_hex(median.get_color()) == "#ffffff"
        plt.close(fig)


def _ha_bars(ax: Any) -> dict[str, tuple[int, int]]:
    """Each bar of plot_ha_status as (its total length, its solid part), by its label."""
    solid, faded = ax.containers
    labels = [t.get_text() for t in ax.get_yticklabels()]
    for first, second in zip(solid, faded, strict=True):  # one bar: solid, then the rest
        assert second.get_x() == pytest.approx(first.get_width())
    return {
        label: (int(a.get_width() + b.get_width()), int(a.get_width()))
        for label, a, b in zip(labels, solid, faded, strict=True)
    }


def test_plot_ha_status_draws_the_numbers_the_report_and_check_count() -> None:
    # Issue 20: the chart drew single_colo 0 beside a footnote "single colo 7"; it now draws
    # one bar per problem as ha_report's flag counts it, the numbers findings and check give.
    fleet = tf.load_sample()
    as_of = tf.datasets.SAMPLE_AS_OF
    ax = tf.plot_ha_status(fleet)
    bars = _ha_bars(ax)
    assert {label: n for label, (n, _) in bars.items()} == {
        "down": 21,
        "single_connector": 50,
        "degraded": 29,
        "single_colo": 7,
        "ok": 92,
        "inactive": 17,
    }
    violations = tf.check_fleet(fleet, as_of=as_of).violations
    tunnels = violations.groupby("rule", observed=True)["tunnel_id"].nunique()
    assert bars["down"][0] == len(violations[violations["rule"] == "down"]) == tunnels["down"]
    assert bars["single_connector"][0] == tunnels["single-connector"]
    assert bars["single_colo"][0] == tunnels["single-colo"]
    # degraded: the tunnels of the connectors check flags as degraded, down or reconnecting
    short = violations[violations["rule"].isin(["degraded", "reconnecting"])]
    assert bars["degraded"][0] == short["tunnel_id"].nunique()
    # every tunnel once in the solid parts (its status); a bar's label is its whole length
    assert sum(solid for _, solid in bars.values()) == 195
    assert bars["single_colo"][1] == 0  # all 7 have one connector up: a worse problem
    texts = [t.get_text() for t in ax.texts]
    assert "7 (4%)" in texts and "21 (11%)" in texts
    assert "every bar that applies" in ax.get_xlabel()
    assert "flagged" not in ax.get_xlabel()  # no footnote to contradict
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["its status (worst problem)", "also has a worse problem"]
    assert all(float(t).is_integer() for t in ax.get_xticks())
    plt.close(ax.get_figure())
    # drawn at the notebook's size, the legend covers no bar
    _fig, ax = plt.subplots()
    _assert_fits(tf.plot_ha_status(fleet, ax=ax))


def test_plot_ha_status_bars_are_ha_reports_flag_columns() -> None:
    report = tf.ha_report(tf.simulator.generate_fleet(300, seed=4), level="tunnel")
    status = report["status"].astype(str)
    drawn = _ha_bars(tf.plot_ha_status(report))
    for state, (n, solid) in drawn.items():
        has = (
            report[state]
            if state in ("single_connector", "degraded", "single_colo")
            else (status == state)
        )
        assert (n, solid) == (int(has.sum()), int((status == state).sum())), state
    assert drawn["degraded"][0] > drawn["degraded"][1]  # the case that needs the hatching
    # a bar is read from its flag column, not judged again: change the column, the bar follows
    moved = report.assign(single_colo=report["single_colo"] | (status == "ok"))
    again = plt.figure().add_subplot()
    assert _ha_bars(tf.plot_ha_status(moved, ax=again))["single_colo"][0] == int(
        moved["single_colo"].sum()
    )
    with pytest.raises(ValueError, match="lacks degraded"):
        tf.plot_ha_status(report.drop(columns="degraded"))


def test_plot_ha_status_of_connectors_draws_each_in_one_bar() -> None:
    fleet = tf.load_sample()
    report = tf.ha_report(fleet, level="connector")
    drawn = _ha_bars(tf.plot_ha_status(fleet, level="connector"))
    assert list(drawn) == ["down", "degraded", "single_colo", "ok"]
    assert drawn == {s: (int((report["status"] == s).sum()),) * 2 for s in drawn}
    assert sum(n for n, _ in drawn.values()) == len(report)


def test_plot_ha_status_of_an_empty_frame_says_so() -> None:
    with pytest.warns(tf.PartialFleetWarning):  # a frame holds no tunnel without connectors
        ax = tf.plot_ha_status(tf.load_sample(frame="connections").iloc[:0])
    assert "No" in " ".join(t.get_text() for t in ax.texts)


_FLEET_PLOTS = {
    "version_distribution": (plot_version_distribution, {"as_of": tf.datasets.SAMPLE_AS_OF}),
    "version_drift": (plot_version_drift, {"as_of": tf.datasets.SAMPLE_AS_OF}),
    "version_drift by release date": (
        plot_version_drift,
        {"as_of": tf.datasets.SAMPLE_AS_OF, "by": "released_on"},
    ),
    "colo_distribution": (plot_colo_distribution, {}),
    "colo_distribution by site": (plot_colo_distribution, {"by": "site"}),
    "colo_distribution by country": (plot_colo_distribution, {"by": "country"}),
    "colo_distribution by region": (plot_colo_distribution, {"by": "region"}),
    "colo_map": (plot_colo_map, {}),
    "tunnel_colo_heatmap": (plot_tunnel_colo_heatmap, {}),
    "connection_ages": (plot_connection_ages, {"as_of": tf.datasets.SAMPLE_AS_OF}),
    "ha_status": (tf.plot_ha_status, {}),
}


def _assert_fits(ax: Any) -> None:
    """The legend covers no note and no bar, and every line of the title is inside the figure.

    Drawn at the notebook's default size (6.4 x 4.8 inches), without a layout engine: what
    ``fig, ax = plt.subplots()`` gives in a notebook cell.
    """
    fig = ax.get_figure()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = ax.title.get_window_extent(renderer)
    assert ax.get_title()
    assert title.x0 >= 0 and title.x1 <= fig.bbox.width, (ax.get_title(), title, fig.bbox)
    legend = ax.get_legend()
    if legend is None:
        return
    box = legend.get_window_extent(renderer)
    for text in ax.texts:  # notes and annotations ("support ends", "unsupported: ...")
        if text.get_text():
            assert not box.overlaps(text.get_window_extent(renderer)), text.get_text()
    for patch in ax.patches:  # bars and cells, the data a legend would hide
        extent = patch.get_window_extent(renderer)
        if extent.width and extent.height:
            assert not box.overlaps(extent), patch


@pytest.mark.parametrize("name", list(_FLEET_PLOTS))
@pytest.mark.parametrize("case", ["sample", "one connector"])
@pytest.mark.filterwarnings("ignore::tunnelframe.PartialFleetWarning")  # frames, on purpose
def test_every_fleet_plot_fits_its_axes(name: str, case: str) -> None:
    plot, options = _FLEET_PLOTS[name]
    conns = tf.load_sample(frame="connections") if case == "sample" else _one_connector()
    fig, ax = plt.subplots()
    assert tuple(fig.get_size_inches()) == (6.4, 4.8)
    _assert_fits(plot(conns, ax=ax, **options))


def test_a_long_title_wraps_inside_the_figure() -> None:
    conns = tf.connections_frame(tf.simulator.generate_fleet(300, seed=3))
    _fig, ax = plt.subplots()
    plot_tunnel_colo_heatmap(conns, ax=ax)
    # "... (top 30 of 3xx tunnels, top 20 of NN metros)" is drawn on two lines
    _fig.canvas.draw()
    line = ax.title.get_fontsize() * _fig.dpi / 72
    assert ax.title.get_window_extent().height > 1.8 * line
    _assert_fits(ax)


def test_heatmap_numbers_fit_their_cells_on_a_large_fleet() -> None:
    conns = tf.connections_frame(tf.simulator.generate_fleet(3000))
    fig, ax = plt.subplots()
    plot_tunnel_colo_heatmap(conns, ax=ax)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    n_cols = len(ax.get_xticks())
    cell = ax.get_window_extent(renderer).width / n_cols
    other_row = [t for t in ax.texts if t.get_position()[1] == len(ax.get_yticks()) - 1]
    assert len(other_row) == n_cols  # every "other" cell keeps its number
    boxes = sorted((t.get_window_extent(renderer) for t in other_row), key=lambda b: b.x0)
    assert all(b.width < cell for b in boxes)
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes))  # never touching


@pytest.mark.parametrize("by", ["country", "region"])
def test_colo_distribution_by_country_and_region(by: str, ax: Any) -> None:
    conns = tf.load_sample(frame="connections")
    plot_colo_distribution(conns, by=by, top=None, ax=ax)
    table = tf.colo_distribution(conns, by=by)
    assert [b.get_width() for b in ax.patches] == table["connections"].tolist()
    labels = _ticks(ax.get_yticklabels())
    assert labels[0].startswith(str(table[by].iloc[0]) + " (")
    words = {"country": "countries", "region": "regions"}
    assert f"in {len(table)} {words[by]}" in ax.get_title()
    if by == "region":
        colors = [_hex(b.get_facecolor()) for b in ax.patches]
        assert colors == [_hex(REGION_COLORS[r]) for r in table["region"].astype(str)]


def _drawn(ax: Any) -> tuple[Any, ...]:
    return (
        [
            (round(p.get_x(), 6), round(p.get_width(), 6), round(p.get_height(), 6))
            for p in ax.patches
        ],
        _ticks(ax.get_yticklabels()),
        _ticks(ax.get_xticklabels()),
        ax.get_title(),
        [c.get_offsets().tolist() for c in ax.collections],
    )


@pytest.mark.parametrize(
    ("plot", "result"),
    [
        (plot_colo_distribution, lambda s: tf.colo_distribution(s, by="metro")),
        (plot_colo_map, lambda s: tf.colo_distribution(s, by="metro")),
        (plot_tunnel_colo_heatmap, lambda s: tf.colo_distribution(s, by="tunnel")),
        (plot_version_drift, lambda s: tf.version_drift(s, as_of=AS_OF)),
        (plot_version_distribution, lambda s: tf.version_summary(s, as_of=AS_OF)),
        (plot_connection_ages, lambda s: tf.connection_ages(s, as_of=AS_OF)),
    ],
)
def test_a_plot_takes_a_snapshot_and_its_analysis_result(plot: Any, result: Any) -> None:
    fleet = tf.simulator.generate_fleet(30, seed=5)
    snap = tf.Snapshot(
        fetched_at=AS_OF.to_pydatetime(), account_ids=["a"], tunnels=fleet["tunnels"]
    )
    options = (
        {"as_of": AS_OF}
        if plot in (plot_version_drift, plot_version_distribution, plot_connection_ages)
        else {}
    )
    drawn = []
    for source in (snap, tf.connections_frame(fleet), fleet):
        fig, ax = plt.subplots()
        drawn.append(_drawn(plot(source, ax=ax, **options)))
        plt.close(fig)
    fig, ax = plt.subplots()
    drawn.append(_drawn(plot(result(snap), ax=ax)))  # compute once, draw many
    assert (drawn[0][0] or drawn[0][4]) and all(d == drawn[0] for d in drawn[1:])


def test_a_colo_result_grouped_another_way_is_refused() -> None:
    sites = tf.colo_distribution(tf.simulator.generate_fleet(5, seed=1))
    with pytest.raises(ValueError, match=r"given is by='site', this chart needs by='metro'"):
        plot_colo_distribution(sites, by="metro")
    plot_colo_distribution(sites, by="site")
