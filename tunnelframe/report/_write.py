"""Writing a report: the sections in order, the document's header and notes, one file.

:func:`write_report` resolves the source, judges it once (:class:`tunnelframe.engine.Analysis`),
builds every section of :data:`SECTIONS` from that analysis and renders the document as HTML or
Markdown, redacting origin IPs when asked. It judges nothing itself.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Literal

import pandas as pd

from tunnelframe._deprecate import renamed
from tunnelframe._io import atomic_write
from tunnelframe._types import FleetSource, HistoryLike, TimeLike
from tunnelframe._version import __version__
from tunnelframe.engine import Analysis, FleetData, diff_frames, resolve
from tunnelframe.history import HistorySummary, history_summary
from tunnelframe.report import _sections
from tunnelframe.report._doc import Document, Section
from tunnelframe.report._fixsection import fix_first
from tunnelframe.report._history import history
from tunnelframe.report._html import render_html
from tunnelframe.report._markdown import render_markdown
from tunnelframe.report._redact import Redactor, redact
from tunnelframe.report._routing import routing
from tunnelframe.report._sections import SectionBuilder, fmt_time
from tunnelframe.report._since import since_previous

__all__ = ["SECTIONS", "report_format", "write_report"]

#: The report's sections, in order. Insert a builder here to add a section.
SECTIONS: list[SectionBuilder] = [
    fix_first,
    _sections.glance,
    since_previous,
    _sections.findings,
    _sections.versions,
    _sections.colos,
    _sections.ages,
    history,
    routing,
    _sections.tunnels,
]

_SUFFIX_FORMATS: dict[str, Literal["html", "md"]] = {
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
}
_FORMATS: dict[str, Literal["html", "md"]] = {"html": "html", "md": "md", "markdown": "md"}


def report_format(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    default: Literal["html", "md"] | None = None,
) -> Literal["html", "md"]:
    """The report format for ``path``: ``format`` wins, else the suffix, else ``default``.

    Raises
    ------
    ValueError
        ``format`` is not html/md, or the suffix says nothing and there is no ``default``.

    Examples
    --------
    >>> report_format("fleet.md"), report_format("fleet.txt", default="html")
    ('md', 'html')
    """
    if format is not None:
        if format not in _FORMATS:
            raise ValueError(f"format must be 'html' or 'md', not {format!r}")
        return _FORMATS[format]
    path = Path(path)
    try:
        return _SUFFIX_FORMATS[path.suffix.lower()]
    except KeyError:
        if default is not None:
            return default
        raise ValueError(
            f"cannot tell the report format from the name {path.name!r}: end it in .html or "
            ".md, or pass format='html' or 'md'"
        ) from None


def _document(analysis: Analysis, *, title: str | None) -> Document:
    data = analysis.data
    sections: list[Section] = []
    for build in SECTIONS:
        section = build(analysis)
        if section is not None:
            sections.append(section)
    header = [
        ("Fetched", fmt_time(data.fetched_at) if data.fetched_at is not None else "unknown"),
        ("As of", fmt_time(data.as_of)),
        ("Accounts", ", ".join(data.account_ids) or "none"),
        ("Source", data.origin),
        ("Made by", f"tunnelframe {__version__}"),
    ]
    notes: list[str] = []
    if data.fetched_at is not None and data.as_of != data.fetched_at:
        notes.append(
            f"Ages, version drift and the support window are measured as of "
            f"{fmt_time(data.as_of)}, not at the fetch time ({fmt_time(data.fetched_at)})."
        )
    if data.redacted:
        notes.append(
            "Origin IPs are replaced by keyed pseudonyms (ip-…): one IP has one pseudonym "
            "throughout this report, and the IPs cannot be recovered without the key."
        )
    notes += analysis.notes
    return Document(
        title=title or f"Cloudflare Tunnel fleet report, {data.as_of:%Y-%m-%d}",
        header=header,
        sections=sections,
        notes=notes,
    )


def _write_text(path: Path, text: str) -> None:
    # A reader never sees half a report.
    if not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such directory", str(path.parent))
    atomic_write(path, text.encode("utf-8"))


@renamed(kind="tun_type")
def write_report(
    source: FleetSource,
    path: str | os.PathLike[str],
    *,
    format: Literal["html", "md"] | None = None,
    redact_ips: bool = False,
    title: str | None = None,
    as_of: TimeLike | None = None,
    redact_key: str | bytes | None = None,
    history: HistoryLike | HistorySummary | None = None,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    expected_connections: int = 4,
    previous: FleetSource | None = None,
    tun_type: str | None = None,
) -> Path:
    """Write a report of a fleet as one self-contained HTML page or as Markdown.

    Sections: the fleet at a glance, findings (unsupported, degraded or down connectors,
    single-connector and single-colo tunnels, configuration drift, fetch errors) each with the
    rows concerned, version drift, colo distribution and map, connection ages, and every
    tunnel with its connectors as ``cloudflared tunnel info`` lists them. The HTML page loads
    nothing from anywhere (inline CSS, figures as data URIs), reads on a laptop, a phone and
    on paper; the Markdown file carries the same findings and tables, without the figures.

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame
        A :class:`~tunnelframe.Snapshot`, the path of a saved snapshot, a fleet dict, or a
        connections frame (:func:`tunnelframe.connections_frame`). A connections frame knows
        no fetch errors and no tunnel without connectors; the report says so.
    path : str or PathLike
        The file to write; its directory must exist.
    format : {"html", "md"}, optional
        Default: from the suffix of ``path`` (``.html``/``.htm`` or ``.md``/``.markdown``).
    redact_ips : bool, default False
        Replace every origin IP (and any IP address in tunnel names or error messages) with
        ``ip-`` + 12 hex digits of HMAC-SHA256 under a key, and every private route's network
        (``10.20.0.0/16``) with ``net-`` + 12 hex digits, so the report can be shared
        outside the team. The same key gives the same pseudonyms.
    title : str, optional
        Default: "Cloudflare Tunnel fleet report, <as_of date>".
    as_of : datetime-like, optional
        The moment ages and version drift are measured at. Default: the snapshot's
        ``fetched_at`` (so a report of a snapshot is reproducible), else now.
    redact_key : str or bytes, optional
        The redaction key. Default: the ``TUNNELFRAME_REDACT_KEY`` environment variable,
        else a random key for this report only (pseudonyms then match within it only).
    history : str, PathLike, pandas.DataFrame or HistorySummary, optional
        A history store (:func:`tunnelframe.append_snapshot`), a history frame, or their
        :func:`~tunnelframe.history.history_summary` (computed once, shared with the caller):
        adds a History section (version rollout, HA timeline, restarts, lost colos).
    releases : DataFrame or path, optional
        The cloudflared release calendar (``version``, ``released_on``; a frame or a CSV
        file). Default: the one :func:`tunnelframe.refresh_releases` cached when it knows a
        newer release than the bundled one, else the bundled one.
    expected_connections : int, default 4
        The active connections a healthy connector holds (cloudflared opens 4).
    previous : Snapshot, str, PathLike, dict or pandas.DataFrame, optional
        An earlier snapshot of the fleet: adds a "Since the previous snapshot" section
        (:func:`diff_snapshots` of it and ``source``).
    tun_type : {"cfd_tunnel", "warp_connector"}, optional
        Report only the tunnels of this type (a tunnel without ``tun_type`` counts as
        ``cfd_tunnel``). Default: every kind, side by side.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        The format cannot be told from ``path`` or is unknown; ``as_of`` is not a time.
    TypeError
        ``source`` is none of the accepted kinds.
    OSError
        The file cannot be written (or a snapshot path cannot be read).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import tunnelframe as tf
    >>> fleet = tf.simulator.generate_fleet(5, seed=1)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "fleet.md"
    >>> tf.write_report(fleet, out, as_of="2026-08-20T12:00Z").name
    'fleet.md'
    >>> "## Findings" in out.read_text()
    True
    """
    target = Path(path)
    fmt = report_format(target, format)
    data = resolve(source, as_of=as_of, tun_type=tun_type)
    redactor: Redactor | None = None
    if redact_ips:
        redactor = Redactor(redact_key)
        data = redact(data, redactor)
    summary = (
        history
        if history is None or isinstance(history, HistorySummary)
        else history_summary(history)
    )
    before: FleetData | None = None
    if previous is not None:
        before = resolve(previous, as_of=data.as_of, tun_type=tun_type)
        if redactor is not None:
            before = redact(before, redactor)
    analysis = Analysis(
        data,
        history=summary,
        redactor=redactor,
        releases=releases,
        expected_connections=expected_connections,
        previous_diff=None if before is None else diff_frames(before, data),
        previous_fetched_at=None if before is None else before.fetched_at,
    )
    doc = _document(analysis, title=title)
    text = render_html(doc) if fmt == "html" else render_markdown(doc)
    if redactor is not None:
        # Belt and braces: an IP hidden in free text (a tunnel name, an error message)
        # never leaves either.
        text = redactor.scrub_known(text)
    _write_text(target, text)
    return target
