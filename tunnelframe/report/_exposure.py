"""The versions section's security exposure: connectors per missing fix, and what one upgrade
target clears. Built from :func:`tunnelframe.security_exposure` (computed once by the
analysis); plain text and tables for the renderers, nothing computed twice.
"""

from __future__ import annotations

import pandas as pd

from tunnelframe._text import plural
from tunnelframe.report._doc import Cell, Column, Table, Text

__all__: list[str] = []


def exposure_blocks(
    exposure: pd.DataFrame, n_exposed: int, target: str | None
) -> list[Text | Table]:
    """A sentence and a table: who lacks which security fix, and the upgrade that clears all."""
    if not n_exposed or target is None:
        return [Text("No connector lacks a security fix of a release up to the latest one.")]
    best = exposure.sort_values(["n_cleared", "version"], ascending=[False, True]).iloc[0]
    rows = [
        [
            Cell(str(r["version"])),
            Cell(str(r["advisory_ids"]) or "(no advisory id)"),
            Cell(str(r["summary"])),
            Cell(f"{int(r['n_connectors']):,}"),
            Cell(f"{int(r['n_cleared']):,}"),
        ]
        for r in exposure.to_dict("records")
    ]
    columns = [
        Column("Fixed in", "mono"),
        Column("Advisories", "mono"),
        Column("Fix (release notes)", "wide"),
        Column("Connectors lacking it", "num"),
        Column("Upgrading to it clears", "num"),
    ]
    return [
        Text(
            f"{plural(n_exposed, 'connector')} {'lacks' if n_exposed == 1 else 'lack'} security "
            f"fixes of later releases (see the vulnerable finding). One upgrade target, "
            f"cloudflared {target} or later, clears "
            f"{'it' if n_exposed == 1 else 'all of them'}"
            + (
                f"; {best['version']} would clear {plural(int(best['n_cleared']), 'connector')}."
                if best["version"] != target and int(best["n_cleared"])
                else "."
            )
        ),
        Table(
            columns,
            rows,
            caption="Security fixes the fleet lacks, newest first (from cloudflared's notes)",
        ),
    ]
