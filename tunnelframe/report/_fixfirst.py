"""The "Fix these first" block: one row per tunnel that breaks a rule, most urgent first.

Built from the rows of every rule (:meth:`~tunnelframe.report._findings.Analysis.rows_of`,
computed once and shared with the Findings section): a tunnel's row says what is wrong, since
when (for a down tunnel the time its last connection went, telling a long-dead tunnel, a
cleanup candidate, from a fresh incident), on which hosts (origin IPs and architecture) and
what to do. Rows are ranked by severity, then by impact (how many rules and rows the tunnel
breaks), then by name. Like every section builder it hands the renderers plain text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tunnelframe._text import plural
from tunnelframe.report._doc import Cell, Column, Section, Table, Text
from tunnelframe.report._findings import RULES, Analysis
from tunnelframe.report._sections import _known_tunnels, fmt_time, name_of, tunnel_anchor

__all__ = ["LONG_DEAD_DAYS", "MAX_ROWS", "fix_first"]

#: A tunnel down for at least this many days is a cleanup candidate, not an incident.
LONG_DEAD_DAYS = 30
#: Rows shown; the rest are counted ("and N more").
MAX_ROWS = 25

_RANK = {"high": 0, "warn": 1, "info": 2}
_LABEL = {"high": "high", "warn": "warning", "info": "info"}


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _down_words(days: Any) -> str:
    if _missing(days):
        return "down (since an unknown time)"
    if days >= LONG_DEAD_DAYS:
        return f"down for {plural(round(days), 'day')}: long dead, a cleanup candidate"
    if days < 1:
        minutes = days * 24 * 60
        span = (
            plural(round(minutes), "minute") if minutes < 120 else plural(round(days * 24), "hour")
        )
        return f"down for {span}: a fresh incident"
    return f"down for {plural(round(days), 'day')}"


def fix_first(a: Analysis) -> Section:
    """One row per tunnel with a finding, ranked by severity then impact."""
    tunnels: dict[tuple[str, str], dict[str, Any]] = {}
    for rule in RULES:
        found = a.rows_of(rule)
        if found is None or found.empty:
            continue
        for row in found.to_dict("records"):
            key = (str(row.get("account_id")), str(row.get("tunnel_id")))
            t = tunnels.setdefault(
                key,
                {
                    "name": row.get("tunnel_name"),
                    "tunnel_id": row.get("tunnel_id"),
                    "rank": 9,
                    "rules": [],
                    "n_rows": 0,
                    "hosts": [],
                    "advice": [],
                    "since": "",
                    "what": [],
                },
            )
            t["rank"] = min(t["rank"], _RANK[rule.severity])
            t["n_rows"] += 1
            if rule.id not in t["rules"]:
                t["rules"].append(rule.id)
                what = rule.title
                if rule.id == "down":
                    since: Any = row.get("conns_inactive_at")
                    days = (
                        None
                        if _missing(since)
                        else (a.data.as_of - pd.Timestamp(since)).total_seconds() / 86400
                    )
                    what = _down_words(days)
                    t["since"] = "unknown" if _missing(since) else fmt_time(since)
                t["what"].append(what)
                if rule.advice and rule.advice not in t["advice"]:
                    t["advice"].append(rule.advice)
            for host in str(row.get("host") or "").split(", "):
                if host and host not in t["hosts"]:
                    t["hosts"].append(host)
    if not tunnels:
        return Section(
            "fix",
            "Fix these first",
            [Text("Nothing to fix: no tunnel breaks a rule.")],
            toc_note="nothing",
        )
    ranked = sorted(
        tunnels.values(),
        key=lambda t: (t["rank"], -len(t["rules"]), -t["n_rows"], name_of(t["name"]).casefold()),
    )
    known = _known_tunnels(a)
    severities = ("high", "warn", "info")
    columns = [
        Column("Tunnel"),
        Column("Severity", "status"),
        Column("What is wrong", "wide"),
        Column("Since"),
        Column("Hosts", "wide"),
        Column("What to do", "wide"),
    ]
    rows: list[list[Cell]] = []
    for t in ranked[:MAX_ROWS]:
        tid = t["tunnel_id"]
        anchor = tunnel_anchor(tid) if not _missing(tid) and str(tid) in known else None
        hosts = t["hosts"]
        shown_hosts = ", ".join(hosts[:4]) + (
            f" and {len(hosts) - 4} more" if len(hosts) > 4 else ""
        )
        rows.append(
            [
                Cell(name_of(t["name"]), anchor),
                Cell(severities[t["rank"]]),
                Cell("; ".join(t["what"])),
                Cell(t["since"] or "—"),
                Cell(shown_hosts or "—"),
                Cell("; ".join(t["advice"])),
            ]
        )
    counts = pd.Series([severities[t["rank"]] for t in ranked]).value_counts()
    said = ", ".join(f"{counts[s]:,} {_LABEL[s]}" for s in severities if s in counts)
    blocks: list[Any] = [
        Text(
            f"{len(ranked):,} tunnels need attention ({said}), most urgent first: by severity, "
            "then by how many rules they break. Details per rule are under Findings."
        ),
        Table(columns, rows, caption="One row per tunnel", empty=""),
    ]
    if len(ranked) > MAX_ROWS:
        blocks.append(
            Text(f"… and {len(ranked) - MAX_ROWS:,} more tunnels: see Findings.", note=True)
        )
    return Section("fix", "Fix these first", blocks, toc_note=f"{len(ranked):,} tunnels")
