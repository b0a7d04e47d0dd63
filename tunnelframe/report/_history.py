"""The History section of a report: what changed over the snapshots of a history store.

:func:`history_section` builds a format-neutral :class:`~tunnelframe.report._doc.Section` from
a :class:`~tunnelframe.history.HistorySummary` (each history query run once): rollout and HA
timeline figures, tables of the tunnels with the least HA, the hosts that restart most and the
tunnels that lost a colo. :func:`history` is its builder in :data:`tunnelframe.report.SECTIONS`,
used when ``write_report(..., history=store)`` is given. Like every section builder it hands
the renderers plain text: no markup, no escaping. With a redactor, no origin IP reaches the text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tunnelframe.engine import Analysis, FrameRedactor, Show
from tunnelframe.history import HistorySummary
from tunnelframe.plotting import plot_ha_timeline, plot_version_rollout
from tunnelframe.report._doc import Figure, Section, Stat, Stats, Text
from tunnelframe.report._sections import _known_tunnels, fmt_time, table_group

__all__ = ["history", "history_section"]

_TOP = 20  # rows per table, worst first

_LEAST_HA = (
    Show("Tunnel", "tunnel_name"),
    Show("Observed h", "observed_hours", "num"),
    Show("Down h", "down_hours", "num"),
    Show("One connector h", "single_connector_hours", "num"),
    Show("One colo h", "single_colo_hours", "num"),
    Show("Degraded h", "degraded_hours", "num"),
    Show("HA", "ha_pct", "num"),
)
_RESTARTING = (
    Show("Tunnel", "tunnel_name"),
    Show("Host", "host", "mono"),
    Show("Restarts", "n_restarts", "num"),
    Show("Upgrades", "n_upgrades", "num"),
    Show("Per day", "per_day", "num"),
    Show("Last seen", "last_seen_at"),
)
_LOST_COLO = (
    Show("When", "fetched_at"),
    Show("Tunnel", "tunnel_name"),
    Show("Before", "colos_before", "mono"),
    Show("After", "colos_after", "mono"),
    Show("Lost", "colos_lost", "mono"),
)


def history_section(
    summary: HistorySummary,
    *,
    redactor: FrameRedactor | None = None,
    known_tunnels: set[str] | None = None,
) -> Section:
    """The report section of a history store (or history frame), from its summary.

    Parameters
    ----------
    summary : HistorySummary
        :func:`tunnelframe.history.history_summary` of the store or history frame.
    redactor : Redactor, optional
        Replaces every origin IP (the hosts) with its pseudonym.
    known_tunnels : set of str, optional
        Tunnel ids that have a detail section in the report, to link to.
    """
    rollout = summary.rollout
    if rollout.empty:
        return Section(
            "history", "History", [Text("The history store holds no snapshot yet.")], "empty"
        )
    churn, hosts = summary.churn, summary.hosts
    timeline, episodes, lost = summary.timeline, summary.episodes, summary.lost
    if redactor is not None:
        # Every frame this section draws or tabulates: the figures are pictures, where the
        # final scrub of the page's text cannot reach a tunnel name that holds an IP.
        hosts = redactor.frame(hosts, ip_columns=("host",))
        churn, timeline = redactor.frame(churn), redactor.frame(timeline)
        episodes, lost = redactor.frame(episodes), redactor.frame(lost)

    snapshots = rollout["fetched_at"].drop_duplicates()
    first, last = snapshots.min(), snapshots.max()
    days = (last - first).total_seconds() / 86400
    lost = lost.sort_values("fetched_at", ascending=False, kind="stable").head(_TOP)
    not_ha = timeline[timeline["ha_share"] < 1].head(_TOP).copy()
    not_ha["ha_pct"] = (not_ha["ha_share"] * 100).map(lambda v: f"{v:.0f} %")
    restarting = hosts[hosts["n_restarts"] > 0].head(_TOP).copy()
    restarting["per_day"] = restarting["restarts_per_day"].map(
        lambda v: "–" if pd.isna(v) else f"{v:.2f}"
    )
    newest = rollout[rollout["fetched_at"] == last].sort_values("version", ascending=False)
    top_version = newest.iloc[0] if len(newest) else None

    stats = Stats(
        [
            Stat("Snapshots", f"{len(snapshots):,}", f"over {days:,.1f} days"),
            Stat(
                "Restarts",
                f"{int(churn['n_restarts'].sum()):,}",
                f"{int(churn['n_upgrades'].sum()):,} of them upgrades",
            ),
            Stat(
                "Hosts",
                f"+{int(churn['n_new_hosts'].sum()):,} / −{int(churn['n_removed_hosts'].sum()):,}",
                "added / removed",
            ),
            Stat(
                "Lost a second colo",
                f"{int(lost['tunnel_id'].nunique()):,}",
                "tunnels, at least once",
            ),
        ]
    )
    blocks: list[Any] = [
        Text(
            f"{len(snapshots):,} snapshots from {fmt_time(first)} to {fmt_time(last)}. Each "
            "snapshot is compared with the previous one of its account: a connector id not "
            "seen before on a known host (origin IP) is a restart, since cloudflared draws a "
            "new id each time it starts; what a snapshot shows is taken to hold until the "
            "next one."
        ),
        stats,
        Figure(
            draw=lambda ax: plot_version_rollout(rollout, ax=ax),
            alt="Share of connectors per cloudflared version at each snapshot, stacked"
            + (
                f"; newest version at the last snapshot {top_version['version']} "
                f"({top_version['share']:.0%})"
                if top_version is not None
                else ""
            ),
            size=(9.0, 4.5),
        ),
        Figure(
            draw=lambda ax: plot_ha_timeline(episodes, ax=ax, top=_TOP),
            alt="HA state of the tunnels with the least redundancy over time",
            size=(9.0, 0.6 + 0.3 * min(_TOP, max(1, timeline["tunnel_id"].nunique()))),
        ),
        table_group(
            f"Tunnels with the least HA ({len(not_ha):,} shown)",
            not_ha,
            _LEAST_HA,
            known_tunnels=known_tunnels,
            empty="Every tunnel had two connectors in two colos at every snapshot.",
            open_rows=_TOP,
        ),
        table_group(
            f"Hosts that restart most ({len(restarting):,} shown)",
            restarting,
            _RESTARTING,
            known_tunnels=known_tunnels,
            empty="No host restarted.",
        ),
        table_group(
            f"Tunnels that lost their second colo ({len(lost):,} times shown)",
            lost,
            _LOST_COLO,
            known_tunnels=known_tunnels,
            empty="No tunnel went from two colos or more to fewer.",
        ),
    ]
    return Section(
        "history",
        "History",
        blocks,
        toc_note=f"{len(snapshots):,} snapshots",
    )


def history(a: Analysis) -> Section | None:
    """What changed over the snapshots of a history store (``write_report(history=...)``)."""
    if a.history is None:
        return None
    return history_section(a.history, redactor=a.redactor, known_tunnels=_known_tunnels(a))
