"""The "Since the previous snapshot" section (``write_report(..., previous=...)``).

Shows what :func:`tunnelframe.diff_snapshots` found between the previous snapshot and this
one, grouped by kind of change. Like every section builder it hands the renderers plain text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tunnelframe.engine import CHANGES, Analysis, Show
from tunnelframe.report._doc import Section, Stat, Stats, Text
from tunnelframe.report._sections import _known_tunnels, fmt_time, table_group

__all__ = ["since_previous"]

#: Each kind of change in words, for the cards (the tables keep the kind's id, as diff prints it).
CHANGE_WORDS = {
    "tunnel-added": "tunnels added",
    "tunnel-removed": "tunnels removed",
    "tunnel-status": "tunnel status changes",
    "ha-status": "HA status changes",
    "connector-added": "connectors added",
    "connector-removed": "connectors removed",
    "connector-restarted": "connectors restarted",
    "upgraded": "connectors upgraded",
    "downgraded": "connectors downgraded",
    "metro-gained": "metros gained",
    "metro-lost": "metros lost",
    "site-gained": "sites gained",
    "site-lost": "sites lost",
}
_SHOW_LIMIT = 200  # rows shown per change table; the rest are counted


def since_previous(a: Analysis) -> Section | None:
    """The "Since the previous snapshot" section (``write_report(..., previous=...)``)."""
    diff: pd.DataFrame | None = a.previous_diff
    if diff is None:
        return None
    when = a.previous_fetched_at
    intro = (
        f"Compared with the previous snapshot ({fmt_time(when)})."
        if when is not None
        else "Compared with the previous snapshot."
    )
    if diff.empty:
        return Section(
            "since",
            "Since the previous snapshot",
            [Text(intro + " Nothing changed.")],
            toc_note="no change",
        )
    counts = diff["change"].value_counts()
    stats = Stats(
        [Stat(CHANGE_WORDS.get(c, c), f"{int(counts[c]):,}") for c in CHANGES if counts.get(c, 0)]
    )
    show = (
        Show("Tunnel", "tunnel_name"),
        Show("Change", "change", "mono"),
        Show("Connector", "connector_id", "mono"),
        Show("Host", "host", "mono"),
        Show("Before", "before", "mono"),
        Show("After", "after", "mono"),
    )
    known = _known_tunnels(a)
    blocks: list[Any] = [Text(intro), stats]
    groups = [
        (
            "Tunnels and HA",
            ("tunnel-added", "tunnel-removed", "tunnel-status", "unreadable", "ha-status"),
        ),
        ("Connectors", ("connector-added", "connector-removed", "connector-restarted")),
        ("Versions", ("upgraded", "downgraded")),
        ("Colos", ("metro-gained", "metro-lost", "site-gained", "site-lost")),
    ]
    for title, kinds in groups:
        part = diff[diff["change"].isin(kinds)]
        if part.empty:
            continue
        shown = part.head(_SHOW_LIMIT)
        more = len(part) - len(shown)
        summary = f"{title} ({len(part):,})" + (f", first {len(shown):,} shown" if more else "")
        blocks.append(table_group(summary, shown, show, empty="", known_tunnels=known))
    return Section(
        "since", "Since the previous snapshot", blocks, toc_note=f"{len(diff):,} changes"
    )
