"""The "Fix these first" block: the head of the fix-first order, then every tunnel to fix.

The order, the worst problem of each tunnel, its date and its one action come from
:func:`tunnelframe.engine.fix_first_tunnels` (computed once, shared with the tunnel details,
which cover every tunnel listed here). The block headlines the first :data:`HEADLINE` tunnels as
the page's first thing and keeps the full list, capped like every long table (all of it in
CSV), one click away. Like every section builder it hands the renderers plain text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tunnelframe._text import plural
from tunnelframe.engine import LONG_DEAD_DAYS, Analysis, Show, fix_first_tunnels
from tunnelframe.report._doc import Block, Cell, Column, Group, Section, Table, Text
from tunnelframe.report._sections import (
    MAX_TABLE_ROWS,
    _csv,
    _known_tunnels,
    fmt_time,
    name_of,
    tunnel_anchor,
)

__all__ = ["HEADLINE", "fix_first"]

#: Tunnels headlined at the top of the page.
HEADLINE = 10

_COLUMNS = (
    Column("Tunnel"),
    Column("Severity", "status"),
    Column("What is wrong", "wide"),
    Column("Since"),
    Column("What to do", "wide", lead=True),
    Column("Hosts", "wide"),
)
_SHOW = (
    Show("Tunnel", "tunnel_name"),
    Show("Severity", "severity"),
    Show("What is wrong", "what"),
    Show("Since", "since_text"),
    Show("What to do", "action"),
    Show("Hosts", "hosts"),
)
_ORDER = (
    f"most urgent first: outages of less than {LONG_DEAD_DAYS} days (most connectors lost, "
    "then most recent), then by severity and how much each breaks, cleanup candidates "
    f"(down {LONG_DEAD_DAYS} days or more) last"
)


def _since_text(said: str, at: Any) -> str:
    return f"{said} an unknown time" if at is None or pd.isna(at) else f"{said} {fmt_time(at)}"


def _hosts_text(hosts: str) -> str:
    parts = [h for h in hosts.split(", ") if h]
    if not parts:
        return "—"
    return ", ".join(parts[:4]) + (f" and {len(parts) - 4} more" if len(parts) > 4 else "")


def _rows(frame: pd.DataFrame, known: set[str]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for t in frame.to_dict("records"):
        tid = str(t["tunnel_id"])
        rows.append(
            [
                Cell(name_of(t["tunnel_name"]), tunnel_anchor(tid) if tid in known else None),
                Cell(str(t["severity"])),
                Cell(str(t["what"])),
                Cell(str(t["since_text"])),
                Cell(str(t["action"])),
                Cell(_hosts_text(str(t["hosts"]))),
            ]
        )
    return rows


def fix_first(a: Analysis) -> Section:
    """The most urgent tunnels first, one row each with its worst problem and one action."""
    frame = fix_first_tunnels(a)
    if frame.empty:
        return Section(
            "fix",
            "Fix these first",
            [Text("Nothing to fix: no tunnel breaks a rule.")],
            toc_note="nothing",
        )
    frame = frame.assign(
        since_text=[
            _since_text(s, at) for s, at in zip(frame["since"], frame["since_at"], strict=True)
        ]
    )
    known = _known_tunnels(a)
    outage = frame["outage"].astype(object)
    n_live = int((outage == "live").sum())
    n_cleanup = int((outage == "cleanup").sum())
    rest = frame[outage.isna()]["severity"].value_counts()
    counts = [
        f"{n_live:,} down now" if n_live else "",
        *(
            f"{rest[s]:,} {word}"
            for s, word in (("high", "high"), ("warn", "warn"), ("info", "info"))
            if rest.get(s, 0)
        ),
        f"{n_cleanup:,} cleanup {'candidate' if n_cleanup == 1 else 'candidates'}"
        if n_cleanup
        else "",
    ]
    said = ", ".join(c for c in counts if c)
    n = len(frame)
    head = frame.head(HEADLINE)
    blocks: list[Block] = [
        Text(
            f"{plural(n, 'tunnel')} to fix ({said}). "
            + (f"The {len(head)} most urgent:" if n > len(head) else "Most urgent first:")
        ),
        Table(_COLUMNS, _rows(head, known), empty="", cards=True),
    ]
    if n > len(head):
        # The list goes as far as the tunnels detailed below (all of them in a smaller
        # fleet), so every tunnel it names can be looked up on the page.
        listed = frame[frame["tunnel_id"].astype(str).isin(known)]
        shown = listed.head(MAX_TABLE_ROWS)
        more = len(listed) - len(shown)
        full = Table(
            _COLUMNS,
            _rows(shown, known),
            empty="",
            more=more,
            csv=_csv(listed, _SHOW) if more else None,
            order=_ORDER,
            cards=True,
        )
        group: list[Block] = [full]
        if len(listed) < n:
            group.append(
                Text(
                    f"The other {n - len(listed):,} tunnels to fix come after these: every "
                    "rule's rows are under Findings, and tunnelframe check lists them all.",
                    note=True,
                )
            )
        title = (
            f"All {plural(n, 'tunnel')} to fix, in this order"
            if len(listed) == n
            else f"The {len(listed):,} most urgent of {n:,} tunnels to fix, in this order"
        )
        blocks.append(Group(title, group, anchor="fix-all"))
    else:
        blocks.append(Text(f"Order: {_ORDER}.", note=True))
    blocks.append(
        Text(
            "Since: when the row's worst problem began, as far as the API tells: a connector's "
            "start, a pending reconnect's opened_at, a tunnel's last connection "
            "(conns_inactive_at). The API keeps no history, so most are lower bounds. "
            "Every rule's rows are under Findings.",
            note=True,
        )
    )
    return Section("fix", "Fix these first", blocks, toc_note=f"{n:,} tunnels")
