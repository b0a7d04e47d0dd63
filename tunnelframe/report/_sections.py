"""The sections of a report, each built by one function from the fleet's :class:`Analysis`.

:data:`tunnelframe.report.SECTIONS` lists the builders in report order. A builder takes the
:class:`~tunnelframe.engine.Analysis` and returns a
:class:`~tunnelframe.report._doc.Section` (or None to leave itself out). To add a section,
write a builder that returns plain-text blocks and insert it into ``SECTIONS``; both
renderers, the table of contents and escaping follow automatically (the History section
lives in ``_history``).
Builders hold no markup and never escape: they hand the renderers plain text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from tunnelframe import plotting
from tunnelframe._text import plural
from tunnelframe.colos import PAIR_STATUSES
from tunnelframe.engine import RULES, Analysis, Rule, Show, detailed_tunnels
from tunnelframe.frames import edge_strings
from tunnelframe.report._doc import (
    Block,
    Cell,
    Column,
    Fields,
    Figure,
    Finding,
    Group,
    Section,
    Stat,
    Stats,
    Table,
    Text,
)
from tunnelframe.report._exposure import exposure_blocks
from tunnelframe.versions import parse_version

__all__: list[str] = []

SectionBuilder = Callable[[Analysis], Section | None]

NA_TEXT = "–"
UNNAMED = "(unnamed)"


# --------------------------------------------------------------------------------------------
# helpers


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays, lists: not a scalar NA
        return False


def fmt_time(value: Any) -> str:
    """``2026-08-20 12:00 UTC``; a UTC midnight (a release day) as just the date."""
    if _missing(value):
        return NA_TEXT
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if stamp == stamp.normalize():
        return f"{stamp:%Y-%m-%d}"
    return f"{stamp:%Y-%m-%d %H:%M} UTC"


def fmt(value: Any) -> str:
    """Any cell value as text: NA as a dash, times in UTC, floats with one decimal."""
    if _missing(value):
        return NA_TEXT
    if isinstance(value, pd.Timestamp):
        return fmt_time(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def name_of(value: Any) -> str:
    return UNNAMED if _missing(value) or str(value) == "" else str(value)


def pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole else NA_TEXT


_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def tunnel_anchor(tunnel_id: Any) -> str:
    """The in-page anchor of a tunnel's detail: ``t-<id>``, hashed when the id is odd."""
    text = str(tunnel_id)
    if _SAFE_ID.fullmatch(text):
        return f"t-{text}"
    return "t-" + hashlib.sha256(text.encode()).hexdigest()[:16]


#: Rows a table shows; a longer one says "and N more" and carries every row as CSV.
MAX_TABLE_ROWS = 50


_NUMBER = re.compile(r"-?[\d,]+(\.\d+)?%?")


def _cell_text(show: Show, value: Any) -> str:
    text = name_of(value) if show.column == "tunnel_name" else fmt(value)
    # A spreadsheet runs a cell starting with = + - @ as a formula (CSV injection): quote it,
    # unless it is a plain number.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv(frame: pd.DataFrame, show: Sequence[Show]) -> str:
    out = pd.DataFrame(
        {
            s.title: [_cell_text(s, v) for v in frame[s.column]]
            if s.column in frame.columns
            else [""] * len(frame)
            for s in show
        }
    )
    # \r\n line ends make the writer quote every cell holding a CR or LF (a bare CR would
    # start a new row whose first cell a spreadsheet runs as a formula).
    text: str = out.to_csv(index=False, lineterminator="\r\n")
    return text


@dataclass(frozen=True)
class Order:
    """How a table's rows are ordered, worst first, so that a capped table keeps the rows that
    matter: sort ``by`` these columns (``ascending`` per column; missing values last), and say
    so in ``words`` ("longest down first")."""

    by: tuple[str, ...]
    ascending: tuple[bool, ...]
    words: str


def table(
    frame: pd.DataFrame,
    show: Sequence[Show],
    *,
    caption: str | None = None,
    empty: str = "Nothing to show.",
    known_tunnels: set[str] | None = None,
    limit: int | None = MAX_TABLE_ROWS,
    order: Order | None = None,
    cards: bool = False,
) -> Table:
    """A :class:`Table` of ``frame``'s ``show`` columns; tunnel names link to their detail.

    ``order`` sorts the rows first (stably, so ties keep the frame's order). Past ``limit``
    rows the table shows the first ``limit`` and carries all of them as CSV.
    """
    if order is not None and len(frame) > 1:
        by = [c for c in order.by if c in frame.columns]
        if by:
            ascending = [a for c, a in zip(order.by, order.ascending, strict=True) if c in by]
            frame = frame.sort_values(by, ascending=ascending, kind="stable", na_position="last")
    columns = [Column(s.title, s.kind) for s in show]
    rows: list[list[Cell]] = []
    more, csv = 0, None
    if limit is not None and len(frame) > limit:
        more, csv = len(frame) - limit, _csv(frame, show)
        frame = frame.iloc[:limit]
    wanted = [c for c in dict.fromkeys([*(s.column for s in show), "tunnel_id"]) if c in frame]
    records = frame[wanted].to_dict("records")
    for record in records:
        row = []
        for s in show:
            value = record.get(s.column)
            if s.column == "tunnel_name":
                tid = record.get("tunnel_id")
                anchor = (
                    tunnel_anchor(tid)
                    if known_tunnels is not None and not _missing(tid) and str(tid) in known_tunnels
                    else None
                )
                row.append(Cell(name_of(value), anchor))
            else:
                row.append(Cell(fmt(value)))
        rows.append(row)
    return Table(
        columns,
        rows,
        caption=caption,
        empty=empty,
        more=more,
        csv=csv,
        order=None if order is None else order.words,
        cards=cards,
    )


def table_group(
    summary: str,
    frame: pd.DataFrame,
    show: Sequence[Show],
    *,
    empty: str,
    known_tunnels: set[str] | None = None,
    open_rows: int = 10,
    order: Order | None = None,
) -> Group:
    """One table of ``frame`` under a collapsible ``summary``, open when it is short."""
    return Group(
        summary,
        [table(frame, show, known_tunnels=known_tunnels, empty=empty, order=order)],
        open=len(frame) <= open_rows,
    )


def _known_tunnels(a: Analysis) -> set[str]:
    """The tunnels with a detail section to link to: the head of the fix-first order."""
    return detailed_tunnels(a)


def _figure(
    a: Analysis,
    plot: str,
    alt: str,
    *,
    data: object = None,
    caption: str | None = None,
    size: tuple[float, float] = (9.0, 4.5),
    **kwargs: Any,
) -> Figure:
    """A figure of ``plot`` drawing ``data``: the analysis result the section already has
    (compute once, draw many), else the connections."""

    def draw(ax: Any) -> object:
        source = a.connections if data is None else data
        return a.quietly(getattr(plotting, plot), source, ax=ax, **kwargs)

    return Figure(draw=draw, alt=alt, caption=caption, size=size)


# --------------------------------------------------------------------------------------------
# sections


def glance(a: Analysis) -> Section:
    """The fleet at a glance: tunnels by status, connectors, connections, versions, colos."""
    data = a.data
    tunnels = a.live_tunnels
    n_deleted = len(data.tunnels) - len(tunnels)
    statuses = tunnels["tunnel_status"].astype("object").fillna("unknown").astype(str)
    by_status = statuses.value_counts()
    order = [s for s in ("healthy", "degraded", "down", "inactive") if s in by_status.index]
    order += sorted(s for s in by_status.index if s not in order)
    tunnel_detail = " · ".join(f"{by_status[s]:,} {s}" for s in order)
    if n_deleted:
        tunnel_detail += f" · {n_deleted:,} deleted (not counted)"
    if not data.tunnels_complete:
        tunnel_detail += " · only tunnels with connectors are known"

    connectors = data.connectors
    n_up = int((connectors["n_active"] > 0).sum())
    n_active = int(connectors["n_active"].sum())
    n_pending = int(connectors["n_pending"].sum())

    v = a.versions
    n_versions = len(v.by_version)
    unsupported = int((a.drift["status"] == "unsupported").sum())
    metros = a.metros
    top = metros.head(3)
    colo_detail = (
        "busiest metros: "
        + ", ".join(f"{c} {s:.0%}" for c, s in zip(top["metro"], top["share"], strict=True))
        if len(top)
        else "no active connection"
    )
    stats = [
        Stat("Tunnels", f"{len(tunnels):,}", tunnel_detail),
        Stat(
            "Connectors",
            f"{len(connectors):,}",
            f"{n_up:,} up · {len(connectors) - n_up:,} without an active connection",
        ),
        Stat("Active connections", f"{n_active:,}", f"{n_pending:,} pending reconnect"),
        Stat(
            "cloudflared versions",
            f"{n_versions:,}",
            f"latest {v.latest_version} · {v.current_share:.0%} of connectors current · "
            f"{plural(unsupported, 'unsupported connector')}"
            if v.n_connectors
            else f"latest {v.latest_version}",
        ),
        Stat("Metros", f"{len(metros):,}", f"{len(a.colos):,} sites · {colo_detail}"),
        *_kinds_stat(a),
        Stat(
            "Accounts",
            f"{len(data.account_ids):,}",
            _errors_detail(a),
        ),
    ]
    status_table = Table(
        [Column("Tunnel status (API)", "status"), Column("Tunnels", "num"), Column("Share", "num")],
        [
            [Cell(s), Cell(f"{by_status[s]:,}"), Cell(pct(by_status[s], len(tunnels)))]
            for s in order
        ],
        caption="Tunnels by the status the API reports",
        empty="No tunnels.",
    )
    return Section("glance", "The fleet at a glance", [Stats(stats), status_table])


def _kinds_stat(a: Analysis) -> list[Stat]:
    """Tunnels per kind, and the WARP Connector pairs' verdicts, when the fleet has any."""
    kinds = a.live_tunnels["tun_type"].astype("object").fillna("cfd_tunnel").value_counts()
    if set(kinds.index) <= {"cfd_tunnel"}:
        return []
    detail = " · ".join(f"{n:,} {kind}" for kind, n in kinds.items())
    pairs = a.pair_ha["status"].astype(str).value_counts()
    verdicts = " · ".join(f"{pairs[s]:,} {s}" for s in PAIR_STATUSES if s in pairs.index)
    return [
        Stat("Tunnel types", f"{len(kinds):,}", detail),
        Stat("WARP Connector pairs", f"{len(a.pair_ha):,}", verdicts or "none running"),
    ]


def _errors_detail(a: Analysis) -> str:
    errors = a.data.errors
    if errors is None:
        return "fetch errors unknown (only a snapshot records them)"
    if len(errors):
        return f"{plural(len(errors), 'tunnel')} could not be fetched"
    return "every tunnel fetched"


_FEWEST_ACTIVE = Order(("n_active", "n_pending"), (True, True), "fewest active connections first")
_MOST_BEHIND = Order(("releases_behind",), (False,), "most releases behind first")
#: Each rule's rows worst first (then by tunnel, as the rule gives them).
WORST_FIRST: dict[str, Order] = {
    "unsupported": _MOST_BEHIND,
    "releases-behind": _MOST_BEHIND,
    "vulnerable": Order(("n_missing_fixes",), (False,), "most missing security fixes first"),
    "deprecated-platform": Order(("past_cutoff",), (False,), "past the cutoff first"),
    "degraded": _FEWEST_ACTIVE,
    "down": Order(("down_days",), (False,), "longest down first"),
    "reconnecting": _FEWEST_ACTIVE,
    "single-connector": _FEWEST_ACTIVE,
    "single-colo": _FEWEST_ACTIVE,
    "pair-ha": Order(("n_active", "n_passive"), (True, True), "fewest active members first"),
    "config-drift": Order(("_config_lag",), (False,), "furthest behind its tunnel first"),
}


def _worst_first(rule: Rule, rows: pd.DataFrame) -> pd.DataFrame:
    if rule.id == "config-drift" and {"config_version", "tunnel_config_version"} <= set(rows):
        lag = pd.to_numeric(rows["tunnel_config_version"], errors="coerce") - pd.to_numeric(
            rows["config_version"], errors="coerce"
        )
        return rows.assign(_config_lag=lag)
    return rows


def findings(a: Analysis, rules: Sequence[Rule] = RULES) -> Section:
    """Every rule with the rows that break it, most serious first."""
    known = _known_tunnels(a)
    blocks: list[Block] = []
    total = 0
    order = {"high": 0, "warn": 1, "info": 2}
    clean: list[Block] = []
    for rule in sorted(rules, key=lambda r: order[r.severity]):
        rows = a.rows_of(rule)
        if rows is None:
            if rule.unavailable:
                blocks.append(
                    Finding(
                        rule.id,
                        rule.title,
                        rule.severity,
                        rule.description,
                        0,
                        unavailable=rule.unavailable,
                    )
                )
            continue
        total += len(rows)
        # a rule whose rows escalate (a platform past its cutoff) shows its worst row's
        worst = min((rule.severity_of(r) for r in rows.to_dict("records")), key=order.__getitem__,
                    default=rule.severity)  # fmt: skip
        (blocks if len(rows) else clean).append(
            Finding(
                rule.id,
                rule.title,
                worst,
                rule.description,
                len(rows),
                table(
                    _worst_first(rule, rows),
                    rule.show,
                    known_tunnels=known,
                    order=WORST_FIRST.get(rule.id),
                    cards=True,
                ),
            )
        )
    unchecked = any(isinstance(b, Finding) and b.unavailable for b in blocks)
    if total:
        said = (
            f"{plural(total, 'finding')}. Each rule lists the rows concerned; tunnel names "
            "link to the tunnel's detail below."
        )
    elif unchecked:
        said = "Nothing to report in the rules this source can be checked against."
    else:
        said = "Nothing to report: every rule passes."
    intro = Text(said)
    # Rules that pass come last, after everything that needs attention.
    return Section("findings", "Findings", [intro, *blocks, *clean], toc_note=f"{total:,}")


_BY_VERSION = (
    Show("Version", "version", "mono"),
    Show("Released", "released_on"),
    Show("Releases behind", "releases_behind", "num"),
    Show("Status", "status", "status"),
    Show("Connectors", "n_connectors", "num"),
    Show("Share", "share", "num"),
)
_BY_TUNNEL = (
    Show("Tunnel", "tunnel_name"),
    Show("Connectors", "n_connectors", "num"),
    Show("Versions", "n_versions", "num"),
    Show("Oldest", "oldest_version", "mono"),
    Show("Newest", "newest_version", "mono"),
    Show("Unsupported", "n_unsupported", "num"),
)


def versions(a: Analysis) -> Section:
    """Which cloudflared versions run, and how far behind the newest release they are."""
    v = a.versions
    if not v.n_connectors:
        return Section("versions", "Version drift", [Text("No connectors, so no versions.")])
    median = (
        ""
        if pd.isna(v.median_releases_behind)
        else (f" The median connector is {v.median_releases_behind:g} releases behind.")
    )
    intro = Text(
        f"Measured against cloudflared {v.latest_version}, the newest release known on "
        f"{fmt_time(v.as_of.normalize())}: {v.current_share:.0%} of {v.n_connectors:,} connectors "
        f"run it, {v.behind_share:.0%} are behind but supported, {v.unsupported_share:.0%} are "
        f"unsupported (released more than a year before it) and {v.unknown_share:.0%} report "
        f"no usable version.{median} Oldest version in use: {v.oldest_version or NA_TEXT}."
        + (
            f" {v.warp_share:.0%} are WARP Connector members, which run the WARP client "
            f"(versions {', '.join(v.by_warp_version['version'])}), not cloudflared."
            if len(v.by_warp_version)
            else ""
        )
    )
    by_version = v.by_version.assign(share=v.by_version["share"].map("{:.1%}".format))
    multi = v.by_tunnel[(v.by_tunnel["n_versions"] > 1) | (v.by_tunnel["n_unsupported"] > 0)]
    return Section(
        "versions",
        "Version drift",
        [
            intro,
            _figure(
                a,
                "plot_version_distribution",
                "Connectors per cloudflared version, coloured by support status",
                data=a.versions,
                size=(9.0, 5.0),
            ),
            _figure(
                a,
                "plot_version_drift",
                "Connectors by releases behind the newest cloudflared",
                data=a.drift,
            ),
            table(by_version, _BY_VERSION, caption="Connectors per version, newest first"),
            *_exposure(a),
            table_group(
                f"Tunnels running several versions or an unsupported one ({len(multi):,})",
                multi,
                _BY_TUNNEL,
                known_tunnels=_known_tunnels(a),
                empty="Every tunnel runs one supported version.",
                order=Order(
                    ("n_unsupported", "n_versions"),
                    (False, False),
                    "most unsupported connectors first, then most versions",
                ),
            ),
        ],
        toc_note=f"{v.current_share:.0%} current",
    )


def _exposure(a: Analysis) -> list[Block]:
    drift = a.drift
    exposed = drift[drift["n_missing_fixes"].fillna(0).astype("int64").to_numpy() > 0]
    fixed_in = exposed["fixed_in"].dropna().astype(str)
    target = max(fixed_in, key=parse_version) if len(fixed_in) else None
    return list(exposure_blocks(a.exposure, len(exposed), target))


_METROS = (
    Show("Metro", "metro", "mono"),
    Show("City", "city"),
    Show("Country", "country", "mono"),
    Show("Region", "region"),
    Show("Sites", "n_sites", "num"),
    Show("Connections", "connections", "num"),
    Show("Share", "share_text", "num"),
)
_COLOS = (
    Show("Site", "colo_name", "mono"),
    Show("Metro", "metro", "mono"),
    Show("City", "city"),
    Show("Country", "country", "mono"),
    Show("Region", "region"),
    Show("Connections", "connections", "num"),
    Show("Share", "share_text", "num"),
)
_REGIONS = (
    Show("Region", "region"),
    Show("Metros", "n_metros", "num"),
    Show("Sites", "n_sites", "num"),
    Show("Connections", "connections", "num"),
    Show("Share", "share_text", "num"),
)


_BUSIEST = Order(("connections",), (False,), "most connections first")


def _rows_height(n: int, *, top: int) -> float:
    """Figure height (inches) for a chart with one row per item, at most ``top`` + "other"."""
    return min(max(1.6 + 0.27 * min(n, top + 1), 3.0), 10.0)


def colos(a: Analysis) -> Section:
    """Where the fleet's active connections land: by metro, by region, on a map; every metro
    and every site (the colo code the API gives, ``ord12``) in tables."""
    dist = a.colos
    if dist.empty:
        return Section("colos", "Colo distribution", [Text("No active connections.")])
    info = a.colo_info
    names = dist["colo_name"].astype(str)
    metros = a.metros
    metro_names = metros["metro"].astype(str)
    metro_info = a.metro_info
    by_metro = metros.assign(
        city=metro_names.map(metro_info["city"]),
        country=metro_names.map(metro_info["country"].astype(object)),
        region=metro_names.map(metro_info["region"].astype(object)),
        share_text=metros["share"].map(lambda s: f"{s:.1%}"),
    )
    located = dist.assign(
        metro=names.map(info["metro"]),
        city=names.map(info["city"]),
        country=names.map(info["country"].astype(object)),
        region=names.map(info["region"].astype(object)),
        share_text=dist["share"].map(lambda s: f"{s:.1%}"),
    )
    regions = a.regions.assign(share_text=a.regions["share"].map(lambda s: f"{s:.1%}"))
    n_regions = int(regions["region"].notna().sum())
    return Section(
        "colos",
        "Colo distribution",
        [
            Text(
                f"{int(dist['connections'].sum()):,} active connections land in "
                f"{plural(len(dist), 'site')} of {plural(len(metros), 'metro')} across "
                f"{plural(n_regions, 'region')}. A site is the colo code the API gives "
                "(ord12); its metro is the city's IATA code (ORD), shared by its sites."
            ),
            _figure(
                a,
                "plot_colo_map",
                "Map of the metros the fleet connects to, circle area proportional to connections",
                data=a.metros,
                size=(9.0, 4.8),
            ),
            table(regions, _REGIONS, caption="Active connections by region"),
            _figure(
                a,
                "plot_colo_distribution",
                "Active connections per metro, coloured by region",
                data=a.metros,
                size=(9.0, _rows_height(len(metros), top=20)),
            ),
            _figure(
                a,
                "plot_tunnel_colo_heatmap",
                "Active connections per tunnel and metro (the 30 busiest tunnels)",
                data=a.colos_by_tunnel,
                size=(9.0, _rows_height(a.colos_by_tunnel["tunnel_id"].nunique(), top=30)),
            ),
            table_group(
                f"Every metro ({len(metros):,})",
                by_metro,
                _METROS,
                empty="No active connections.",
                open_rows=12,
                order=_BUSIEST,
            ),
            table_group(
                f"Every site ({len(dist):,})",
                located,
                _COLOS,
                empty="No active connections.",
                open_rows=0,
                order=_BUSIEST,
            ),
        ],
        toc_note=plural(len(metros), "metro"),
    )


_RESTARTS = (
    Show("Tunnel", "tunnel_name"),
    Show("Connector", "connector_id", "mono"),
    Show("Started", "run_at"),
    Show("Uptime (hours)", "uptime_hours", "num"),
    Show("Active conns", "n_active", "num"),
)


def ages(a: Analysis) -> Section | None:
    """How long connections have been open and connectors running; recent restarts."""
    per_connector = a.ages
    if per_connector.empty:
        return None
    recent = per_connector[per_connector["restarted_recently"].fillna(False).astype(bool)]
    recent = recent.sort_values("uptime_hours").reset_index(drop=True)
    return Section(
        "ages",
        "Connection ages and restarts",
        [
            Text(
                f"Ages are measured at {fmt_time(a.data.as_of)}. cloudflared starts under a new "
                "connector id each time, so a short uptime means a restart or a new deployment."
            ),
            _figure(
                a,
                "plot_connection_ages",
                "Histogram of connection ages on a log scale",
                as_of=a.data.as_of,
            ),
            table_group(
                f"Connectors started in the last day ({len(recent):,})",
                recent,
                _RESTARTS,
                known_tunnels=_known_tunnels(a),
                empty="No connector started in the last day.",
                order=Order(("uptime_hours",), (True,), "most recent start first"),
            ),
        ],
        toc_note=f"{len(recent):,} recent restarts",
    )


_CONNECTOR_DETAIL = (
    Show("Connector ID", "connector_id", "mono"),
    Show("Created", "run_at"),
    Show("Architecture", "arch", "mono"),
    Show("Version", "version", "mono"),
    Show("Support", "support", "status"),
    Show("Origin IP", "origin_ips", "mono"),
    Show("Edge", "edges", "mono"),
    Show("HA", "ha", "status"),
)


_TUNNEL_ROW = (
    Show("Tunnel", "tunnel_name"),
    Show("Tunnel ID", "tunnel_id", "mono"),
    Show("Status", "tunnel_status", "status"),
    Show("Connectors", "n_connectors", "num"),
    Show("Versions", "versions", "mono"),
    Show("Origin IPs", "hosts", "mono"),
)


def tunnels(a: Analysis) -> Section:
    """Every tunnel with its connectors, as ``cloudflared tunnel info`` lists them."""
    keys = ["account_id", "tunnel_id", "connector_id"]
    connectors = a.data.connectors.copy()
    for k in keys:
        connectors[k] = connectors[k].astype("object")
    drift = a.drift[[*keys, "status"]].astype({k: "object" for k in keys})
    ha = a.ha_connectors[[*keys, "status"]].astype({k: "object" for k in keys})
    connectors = connectors.merge(
        drift.rename(columns={"status": "support"}), on=keys, how="left"
    ).merge(ha.rename(columns={"status": "ha"}), on=keys, how="left")
    connectors["support"] = connectors["support"].astype("object")
    # A WARP Connector member's HA is its ha_status (active, passive, offline).
    connectors["ha"] = (
        connectors["ha"].astype("object").fillna(connectors["ha_status"].astype("object"))
    )
    connectors = connectors.sort_values("run_at", ascending=False, kind="stable")
    detailed = _known_tunnels(a)
    shown = connectors[connectors["tunnel_id"].isin(detailed)]
    by_tunnel = {tid: g for tid, g in shown.groupby("tunnel_id", sort=False)}
    n_connectors = connectors["tunnel_id"].value_counts().to_dict()
    # The one-row summary of each tunnel, once for all (not a filter per tunnel: 3,000 of
    # them), in plain loops: a pandas group per tunnel costs more than the work.
    versions_sets: dict[str, set[str]] = {}
    hosts_lists: dict[str, list[str]] = {}
    for tid, version, ips in zip(
        connectors["tunnel_id"].astype(str),
        connectors["version"].astype(object),
        connectors["origin_ips"].astype(object),
        strict=True,
    ):
        if not _missing(version):
            versions_sets.setdefault(tid, set()).add(str(version))
        if not _missing(ips):
            hosts_lists.setdefault(tid, []).append(str(ips))
    versions_of = {tid: ", ".join(sorted(v)) for tid, v in versions_sets.items()}
    hosts_of = {tid: ", ".join(v) for tid, v in hosts_lists.items()}
    edges_of = {
        str(tid): str(text) for tid, text in edge_strings(a.connections, by="tunnel_id").items()
    }
    several_accounts = len(a.data.account_ids) > 1

    live = a.live_tunnels.copy()
    live["_sort"] = live["tunnel_name"].astype("object").map(lambda n: name_of(n).casefold())
    live = live.sort_values(["_sort", "tunnel_id"], kind="stable")
    groups: list[Block] = []
    records = cast(list[dict[str, Any]], live.to_dict("records"))
    rest: list[dict[str, Any]] = []
    for t in records:
        tid = str(t["tunnel_id"])
        mine = by_tunnel.get(tid, connectors.iloc[0:0])
        edges = edges_of.get(tid, "")
        if tid not in detailed:
            rest.append(
                {
                    "tunnel_name": t["tunnel_name"],
                    "tunnel_id": tid,
                    "tunnel_status": t["tunnel_status"],
                    "n_connectors": n_connectors.get(tid, 0),
                    "versions": versions_of.get(tid, ""),
                    "hosts": hosts_of.get(tid, ""),
                }
            )
            continue
        fields = [("ID", tid)]
        if several_accounts:
            fields.append(("Account", fmt(t["account_id"])))
        fields += [
            ("Created", fmt_time(t.get("created_at"))),
            ("Type", fmt(t.get("tun_type"))),
            ("Configuration", _config_text(t)),
            ("Active since", fmt_time(t.get("conns_active_at"))),
            ("Inactive since", fmt_time(t.get("conns_inactive_at"))),
        ]
        serves = a.serving.of(tid)[1]
        if serves is not None:  # what it serves, when the routing was read
            fields.append(("Serves", serves))
        blocks: list[Block] = [Fields(fields)]
        blocks.append(table(mine, _CONNECTOR_DETAIL, empty="No connector is running this tunnel."))
        groups.append(
            Group(
                name_of(t["tunnel_name"]),
                blocks,
                anchor=tunnel_anchor(tid),
                status=None if _missing(t["tunnel_status"]) else str(t["tunnel_status"]),
                meta=f"{plural(len(mine), 'connector')}" + (f" · {edges}" if edges else ""),
            )
        )
    intro = Text(
        "Each tunnel with its active connections per colo, then its connectors, newest first, "
        "as cloudflared tunnel info lists them. Support is the version's support status, HA "
        "the connector's high-availability verdict."
        + (
            ""
            if a.data.tunnels_complete
            else " Tunnels without connectors are not known from a connections frame."
        )
    )
    out: list[Block] = [intro, *groups]
    if rest:
        out.append(
            Group(
                f"{plural(len(rest), 'more tunnel')}, one row each (the most urgent "
                f"{len(groups):,} are detailed above)",
                [table(_by_status(pd.DataFrame(rest)), _TUNNEL_ROW, order=_DOWN_FIRST)],
                anchor="more-tunnels",
            )
        )
    return Section("tunnels", "Tunnels in detail", out, toc_note=plural(len(live), "tunnel"))


#: The API's tunnel statuses, worst first.
_STATUS_RANK = {"down": 0, "degraded": 1, "inactive": 2, "healthy": 3}
_DOWN_FIRST = Order(("_status_rank",), (True,), "down first, then degraded, inactive, healthy")


def _by_status(rows: pd.DataFrame) -> pd.DataFrame:
    rank = rows["tunnel_status"].astype(object).map(_STATUS_RANK)
    return rows.assign(_status_rank=rank.fillna(len(_STATUS_RANK)).astype("int64"))


def _config_text(t: dict[str, Any]) -> str:
    src = t.get("config_src")
    remote = t.get("remote_config")
    if not _missing(src):
        return "remote (Cloudflare dashboard)" if str(src) == "cloudflare" else "local"
    if not _missing(remote):
        return "remote (Cloudflare dashboard)" if remote else "local"
    return NA_TEXT
