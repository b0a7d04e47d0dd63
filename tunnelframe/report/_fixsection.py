"""The "Fix these first" block: one row per tunnel that breaks a rule, most urgent first.

The ranking is the engine's (:func:`tunnelframe.engine.fix_first_tunnels`): a tunnel's row
says what is wrong, since when, on which hosts and what to do. Like every section builder it
hands the renderers plain text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tunnelframe.engine import RULES, SINCE, Analysis, fix_first_tunnels
from tunnelframe.report._doc import Cell, Column, Section, Table, Text
from tunnelframe.report._sections import _known_tunnels, fmt_time, name_of, tunnel_anchor

__all__ = ["MAX_ROWS", "fix_first"]

#: Rows shown; the rest are counted ("and N more").
MAX_ROWS = 25

_LABEL = {"high": "high", "warn": "warning", "info": "info"}


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def fix_first(a: Analysis) -> Section:
    """One row per tunnel with a finding, ranked by severity then impact."""
    ranked = fix_first_tunnels(a)
    if not ranked:
        return Section(
            "fix",
            "Fix these first",
            [Text("Nothing to fix: no tunnel breaks a rule.")],
            toc_note="nothing",
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
                Cell("unknown" if t["since"] is None else fmt_time(t["since"])),
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
    shown = [r.id for r in RULES if any(r.id in t["rules"] for t in ranked)]
    blocks.append(
        Text(
            "Since: the row's most severe finding, dated from its oldest row: "
            + "; ".join(f"{rid}: {SINCE[rid]}" for rid in shown)
            + ".",
            note=True,
        )
    )
    return Section("fix", "Fix these first", blocks, toc_note=f"{len(ranked):,} tunnels")
