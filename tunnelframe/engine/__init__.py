"""The judging engine: the rule table, the analyses it reads, and what it finds in a fleet.

It sits above the data layers (``frames``, ``versions``, ``colos``, ``history``) and below
everything that shows its answers (``plotting``, ``report``, the CLI, alerts, metrics), so
``check``, ``diff`` and a report judge a fleet with the same code. It renders nothing and
never fetches.

Layout of the package: ``_source`` (any fleet source -> :class:`FleetData`), ``_releases``
(the release calendar a judgement uses), ``_findings`` (:class:`Analysis`, the rule table
:data:`RULES`, :func:`findings`), ``_check`` (:func:`check_fleet`: selection, ignores, the
JSON document), ``_diff`` (:func:`diff_snapshots`) and ``_fixfirst`` (which tunnels to fix
first, and since when).
"""

from __future__ import annotations

from tunnelframe.engine._check import (
    CHECK_SCHEMA,
    CheckResult,
    Ignore,
    check_fleet,
    load_ignores,
)
from tunnelframe.engine._diff import (
    CHANGES,
    DIFF_COLUMNS,
    DIFF_SCHEMA,
    diff_counts,
    diff_document,
    diff_frames,
    diff_snapshots,
)
from tunnelframe.engine._findings import (
    FINDINGS_COLUMNS,
    RULES,
    Analysis,
    ColumnKind,
    FrameRedactor,
    Rule,
    Severity,
    Show,
    calendar_notes,
    findings,
)
from tunnelframe.engine._fixfirst import (
    ACTED_COLUMNS,
    FIX_COLUMNS,
    LONG_DEAD_DAYS,
    MAX_DETAILED_TUNNELS,
    acted_findings,
    detailed_tunnels,
    fix_first_tunnels,
    urgency,
)
from tunnelframe.engine._source import KINDS, FleetData, resolve

__all__ = [
    "ACTED_COLUMNS",
    "CHANGES",
    "CHECK_SCHEMA",
    "DIFF_COLUMNS",
    "DIFF_SCHEMA",
    "FINDINGS_COLUMNS",
    "FIX_COLUMNS",
    "KINDS",
    "LONG_DEAD_DAYS",
    "MAX_DETAILED_TUNNELS",
    "RULES",
    "Analysis",
    "CheckResult",
    "ColumnKind",
    "FleetData",
    "FrameRedactor",
    "Ignore",
    "Rule",
    "Severity",
    "Show",
    "acted_findings",
    "calendar_notes",
    "check_fleet",
    "detailed_tunnels",
    "diff_counts",
    "diff_document",
    "diff_frames",
    "diff_snapshots",
    "findings",
    "fix_first_tunnels",
    "load_ignores",
    "resolve",
    "urgency",
]
