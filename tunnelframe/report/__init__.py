"""Reports of a fleet (HTML, Markdown), its findings as data, and its frames as files.

:func:`write_report` turns a snapshot (or a snapshot file, a fleet, a connections frame) into
one self-contained HTML page or a Markdown file: the fleet at a glance, the findings with the
rows concerned, version drift, the colo distribution and map, connection ages, and every
tunnel with its connectors. :func:`findings` gives the same findings as a frame (what
``tunnelframe check`` prints), :func:`export_frames` writes the three frames as Parquet or CSV.

Everything from the API is treated as untrusted text: the renderers escape it, and with
``redact_ips=True`` no origin IP or route network survives anywhere in the file. Nothing here
fetches; the API token is never part of a source, so it cannot reach a report.

The judging (rules, findings, check, diff, fix-first ranking) is :mod:`tunnelframe.engine`'s;
this package only renders it, and re-exports the engine's public names for code that imports
them from here. Layout: ``_write`` (:func:`write_report`, the sections in order in
:data:`SECTIONS`), ``_sections``, ``_fixsection``, ``_since`` and ``_history`` (section
builders), ``_doc`` (the format-neutral document), ``_html`` and ``_markdown`` (renderers),
``_redact`` (IP pseudonyms), ``_export`` (frames as files).
"""

from __future__ import annotations

from tunnelframe.engine import (
    CHANGES,
    CHECK_SCHEMA,
    DIFF_COLUMNS,
    RULES,
    CheckResult,
    Ignore,
    calendar_notes,
    check_fleet,
    diff_snapshots,
    findings,
    load_ignores,
)
from tunnelframe.report._export import export_frames
from tunnelframe.report._redact import REDACT_KEY_ENV
from tunnelframe.report._write import SECTIONS, report_format, write_report

__all__ = [
    "CHANGES",
    "CHECK_SCHEMA",
    "DIFF_COLUMNS",
    "REDACT_KEY_ENV",
    "RULES",
    "SECTIONS",
    "CheckResult",
    "Ignore",
    "calendar_notes",
    "check_fleet",
    "diff_snapshots",
    "export_frames",
    "findings",
    "load_ignores",
    "report_format",
    "write_report",
]
