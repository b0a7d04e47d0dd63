"""Reports of a fleet (HTML, Markdown), its findings as data, and its frames as files.

:func:`write_report` turns a snapshot (or a snapshot file, a fleet, a connections frame) into
one self-contained HTML page or a Markdown file: the fleet at a glance, the findings with the
rows concerned, version drift, the colo distribution and map, connection ages, and every
tunnel with its connectors. :func:`findings` gives the same findings as a frame (what
``tunnelframe check`` prints), :func:`export_frames` writes the three frames as Parquet or CSV.

Everything from the API is treated as untrusted text: the renderers escape it, and with
``redact_ips=True`` no origin IP survives anywhere in the file. Nothing here fetches; the API
token is never part of a source, so it cannot reach a report.

Layout of the package: ``_source`` (source → frames), ``_findings`` (analyses and rules),
``_sections`` (section builders, in report order in :data:`SECTIONS`), ``_history`` (the
History section, from a :class:`~tunnelframe.history.HistorySummary`), ``_doc``
(the format-neutral document), ``_html`` and ``_markdown`` (renderers), ``_redact``.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from tunnelframe._io import atomic_write
from tunnelframe._types import FleetSource, HistoryLike, TimeLike
from tunnelframe._version import __version__
from tunnelframe.history import HistorySummary, history_summary
from tunnelframe.report import _sections
from tunnelframe.report._check import CHECK_SCHEMA, CheckResult, Ignore, load_ignores, run_check
from tunnelframe.report._diff import CHANGES, DIFF_COLUMNS, diff_frames, since_previous
from tunnelframe.report._doc import Document, Section
from tunnelframe.report._findings import RULES, Analysis, findings_frame
from tunnelframe.report._fixfirst import fix_first
from tunnelframe.report._history import history
from tunnelframe.report._html import render_html
from tunnelframe.report._markdown import render_markdown
from tunnelframe.report._redact import REDACT_KEY_ENV, Redactor
from tunnelframe.report._releases import choose_calendar
from tunnelframe.report._sections import SectionBuilder, fmt_time
from tunnelframe.report._source import FleetData, redact, resolve
from tunnelframe.versions import StaleReleasesWarning, stale_calendar_note

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
    kind: str | None = None,
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
        ``ip-`` + 12 hex digits of HMAC-SHA256 under a key, so the report can be shared
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
    kind : {"cfd_tunnel", "warp_connector"}, optional
        Report only the tunnels of this kind (``tun_type``; a tunnel without one counts as
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
    data = resolve(source, as_of=as_of, kind=kind)
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
        before = resolve(previous, as_of=data.as_of, kind=kind)
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


def findings(
    source: FleetSource,
    *,
    as_of: TimeLike | None = None,
    max_releases_behind: int | None = None,
    rules: Iterable[str] | None = None,
    expected_connections: int = 4,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    kind: str | None = None,
) -> pd.DataFrame:
    """One row per rule violation in a fleet: the report's findings as data.

    Rules (ids): ``unsupported`` (cloudflared released more than a year before the newest
    release), ``releases-behind`` (more than ``max_releases_behind`` releases behind; only
    when that is given), ``degraded`` (a connector with fewer than 4 active connections, or
    none, unless it is only lingering after a restart; a tunnel the API reports down with no
    connector), ``single-connector``, ``single-colo`` (every active connection in one colo),
    ``pair-ha`` (a WARP Connector tunnel without exactly one active and at least one passive
    member), ``config-drift`` (a connector behind its tunnel's remote configuration) and
    ``fetch-errors`` (a tunnel whose connectors could not be read). The cloudflared rules
    (``degraded``, ``single-connector``, ``single-colo``) leave WARP Connector tunnels to
    ``pair-ha``, and ``unsupported`` never flags a WARP Connector (its version is not
    cloudflared's). ``vulnerable``: a connector lacking security fixes a later release (up to
    the latest) carries, with the release that has them all; ``deprecated-platform``: a
    connector on a platform (``arch``) that stops getting releases, a warning before the
    cutoff and high after it.

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame
        As in :func:`write_report`.
    as_of : datetime-like, optional
        As in :func:`write_report`.
    max_releases_behind : int, optional
        Turns on the ``releases-behind`` rule with this limit.
    rules : iterable of str, optional
        The rule ids to apply; default all.
    expected_connections : int, default 4
        The active connections a healthy connector holds (cloudflared opens 4).
    releases : DataFrame or path, optional
        The cloudflared release calendar (:func:`tunnelframe.load_releases`); default the
        newest of the bundled one and the one :func:`tunnelframe.refresh_releases` cached.
    kind : {"cfd_tunnel", "warp_connector"}, optional
        Only the tunnels of this kind, as in :func:`write_report`.

    Returns
    -------
    pandas.DataFrame
        ``rule`` (category, rule order), ``severity`` (category: high, warn, info),
        ``title``, ``account_id``, ``tunnel_id``, ``tunnel_name``, ``connector_id`` (NA for a
        tunnel-level finding) and ``message`` (one line, as ``tunnelframe check`` prints it);
        strings are pandas ``string`` dtype. Empty when the fleet is clean.

    Raises
    ------
    ValueError
        An unknown rule id, or a negative ``max_releases_behind``.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...     "status": "healthy", "connectors": [{"id": "c1", "version": "2024.1.0", "conns": [
    ...         {"id": f"x{i}", "colo_name": "DFW"} for i in range(4)]}]}]}
    >>> found = tf.findings(fleet, as_of="2026-08-20")
    >>> list(found["rule"])
    ['unsupported', 'single-connector', 'single-colo']
    >>> print(found["message"][1])  # doctest: +NORMALIZE_WHITESPACE
    single-connector: tunnel "web" (t1): 1 connector up (no host redundancy);
    all 4 active connections in DFW
    """
    known = {r.id: r for r in RULES}
    wanted = list(known) if rules is None else list(rules)
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise ValueError(
            f"unknown rule(s) {', '.join(map(repr, unknown))}: choose from {', '.join(known)}"
        )
    data = resolve(source, as_of=as_of, kind=kind)
    analysis = Analysis(
        data,
        max_releases_behind=max_releases_behind,
        expected_connections=expected_connections,
        releases=releases,
    )
    found = findings_frame(analysis, [known[r] for r in known if r in wanted])
    _warn_if_stale(releases, data.as_of)
    return found


def _warn_if_stale(
    releases: pd.DataFrame | str | os.PathLike[str] | None, as_of: pd.Timestamp
) -> None:
    """Warn as :func:`tunnelframe.version_drift` does when the calendar in use is stale at
    ``as_of`` (the same sentence the report and the CLI print as a note)."""
    version, released = choose_calendar(releases).newest
    note = stale_calendar_note(version, released, as_of)
    if note:
        warnings.warn(note, StaleReleasesWarning, stacklevel=3)


def calendar_notes(
    source: FleetSource,
    *,
    as_of: TimeLike | None = None,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    kind: str | None = None,
) -> list[str]:
    """What a report of ``source`` will say about its release calendar, as sentences.

    Empty when the calendar is current; else a note that it ends long before ``as_of``
    (with what to do about it) and/or that the fleet runs releases newer than it knows
    (the latest release is then taken from the fleet). The CLI prints these on stderr.

    Examples
    --------
    >>> fleet = {"tunnels": [{"id": "t1", "connectors": [{"id": "c1", "version": "2026.8.2",
    ...     "conns": [{"id": "x1", "colo_name": "DFW"}]}]}]}
    >>> calendar_notes(fleet, as_of="2026-08-20")
    []
    >>> print(calendar_notes(fleet, as_of="2027-01-01")[0][:78])
    The release calendar ends at 2026.8.2 (2026-08-14), 140 days before 2027-01-01
    """
    analysis = Analysis(resolve(source, as_of=as_of, kind=kind), releases=releases)
    return list(analysis.calendar.notes)


def diff_snapshots(old: FleetSource, new: FleetSource) -> pd.DataFrame:
    """What changed from one snapshot of a fleet to a later one: one row per change.

    Changes (``change``, in this order within a tunnel): ``tunnel-added``,
    ``tunnel-removed``, ``tunnel-status`` (the API's status), ``ha-status`` (ok, degraded,
    single connector or colo, down: :func:`tunnelframe.ha_report`), ``connector-added``,
    ``connector-removed``, ``connector-restarted`` (a new connector id on the same host:
    same origin IPs and architecture), ``upgraded`` / ``downgraded`` (cloudflared, ``before``
    -> ``after``), ``metro-gained`` / ``metro-lost`` and ``site-gained`` / ``site-lost``
    (colos holding active connections; a site such as ``ord12`` belongs to the metro ``ORD``,
    and sites are listed only where they say more than the metro). No history store needed.

    Parameters
    ----------
    old, new : Snapshot, str, PathLike, dict or pandas.DataFrame
        The two fleets, as in :func:`write_report`.

    Returns
    -------
    pandas.DataFrame
        ``change`` (category, the order above), ``account_id``, ``tunnel_id``,
        ``tunnel_name``, ``connector_id``, ``host`` (origin IPs and architecture),
        ``before``, ``after`` and ``message`` (one line), strings as pandas ``string``;
        sorted by tunnel name, tunnel id and change. Empty when nothing changed.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> def fleet(cid, version, colos):
    ...     conns = [{"id": f"{cid}{i}", "colo_name": c, "origin_ip": "192.0.2.1"}
    ...              for i, c in enumerate(colos)]
    ...     return {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...         "status": "healthy", "connectors": [{"id": cid, "version": version,
    ...         "arch": "linux_amd64", "conns": conns}]}]}
    >>> old = fleet("c1", "2026.7.0", ["dfw01", "dfw02", "lax01", "lax01"])
    >>> new = fleet("c2", "2026.8.2", ["dfw01", "dfw01", "ord12", "ord12"])
    >>> for message in tf.diff_snapshots(old, new)["message"]:
    ...     print(message)
    connector-restarted: tunnel "web" (t1): connector c1 -> c2 on 192.0.2.1 (linux_amd64)
    upgraded: tunnel "web" (t1): connector c2 on 192.0.2.1 (linux_amd64): 2026.7.0 -> 2026.8.2
    metro-gained: tunnel "web" (t1): active connections now reach ORD
    metro-lost: tunnel "web" (t1): no active connection in LAX any more
    site-gained: tunnel "web" (t1): active connections now reach ord12
    site-lost: tunnel "web" (t1): no active connection in dfw02 any more
    site-lost: tunnel "web" (t1): no active connection in lax01 any more
    """
    return diff_frames(resolve(old), resolve(new))


def check_fleet(
    source: FleetSource,
    *,
    as_of: TimeLike | None = None,
    max_releases_behind: int | None = None,
    rules: Iterable[str] | None = None,
    expected_connections: int = 4,
    tunnels: Sequence[str] = (),
    exclude_tunnels: Sequence[str] = (),
    ignore: str | os.PathLike[str] | Sequence[Ignore] | None = None,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    kind: str | None = None,
) -> CheckResult:
    """Check a fleet against the report's rules: what ``tunnelframe check`` runs.

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame
        As in :func:`write_report`.
    as_of, max_releases_behind, rules, expected_connections, releases, kind
        As in :func:`findings`.
    tunnels : sequence of str, optional
        Shell-style patterns (``web-*``): check only tunnels whose name or id matches one.
    exclude_tunnels : sequence of str, optional
        Patterns of tunnels to leave out.
    ignore : path or sequence of Ignore, optional
        Known exceptions (:func:`load_ignores`): a violation an entry matches is moved to
        ``ignored``; an entry past its ``expires`` day (at ``as_of``) hides nothing and is
        listed in ``expired``.

    Returns
    -------
    CheckResult
        ``ok``, ``violations`` and ``ignored`` (frames shaped like :func:`findings`),
        ``expired``, ``summary()`` (one line) and ``to_json()`` (the stable JSON document
        ``tunnelframe check --format json`` prints; schema in :meth:`CheckResult.to_json`).

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...     "status": "healthy", "connectors": [{"id": "c1", "version": "2024.1.0", "conns": [
    ...         {"id": f"x{i}", "colo_name": "DFW"} for i in range(4)]}]}]}
    >>> result = tf.check_fleet(fleet, as_of="2026-08-20", rules=["unsupported"])
    >>> result.ok
    False
    >>> print(result.summary())  # doctest: +NORMALIZE_WHITESPACE
    FAIL: 1 violation (1 high) in 1 tunnel; checked 1 tunnel, 1 connector,
    4 active connections.
    >>> tf.check_fleet(fleet, as_of="2026-08-20", exclude_tunnels=["w*"]).ok
    True
    """
    entries = (
        []
        if ignore is None
        else load_ignores(ignore)
        if isinstance(ignore, (str, os.PathLike))
        else list(ignore)
    )
    data = resolve(source, as_of=as_of, kind=kind)
    result = run_check(
        data,
        max_releases_behind=max_releases_behind,
        rules=rules,
        expected_connections=expected_connections,
        tunnels=list(tunnels),
        exclude_tunnels=list(exclude_tunnels),
        ignores=entries,
        releases=releases,
    )
    _warn_if_stale(releases, data.as_of)
    return result


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Nested values (the tunnel ``metadata`` dicts) as JSON text: both formats can hold it."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = (
                out[col]
                .map(
                    lambda v: (
                        json.dumps(v, sort_keys=True, default=str)
                        if isinstance(v, (dict, list))
                        else v
                    )
                )
                .astype("string")
            )
    return out


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with ``'``."""
    out = frame.copy()
    for col in out.columns:
        kind = out[col].dtype
        if (
            pd.api.types.is_object_dtype(kind)
            or pd.api.types.is_string_dtype(kind)
            or isinstance(kind, pd.CategoricalDtype)
        ):
            text = out[col].astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
            if risky.any():
                out[col] = text.mask(risky, "'" + text)
    return out


def export_frames(
    source: FleetSource,
    directory: str | os.PathLike[str],
    *,
    format: Literal["parquet", "csv", "xlsx"] = "parquet",
) -> dict[str, Path]:
    """Write the connections, connectors and tunnels frames of a fleet as Parquet, CSV or Excel.

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame
        As in :func:`write_report`.
    directory : str or PathLike
        Where to write ``connections``, ``connectors`` and ``tunnels`` (``.parquet`` or
        ``.csv``); created when missing, existing files of those names are replaced.
    format : {"parquet", "csv", "xlsx"}, default "parquet"
        Parquet keeps the dtypes (categories, nullable integers, UTC times); CSV writes
        times as ISO 8601. ``"xlsx"`` writes one workbook, ``fleet.xlsx``, with one sheet per
        frame; Excel has no time zones, so times are written in UTC and their header says so
        (``opened_at (UTC)``); it needs openpyxl (``pip install "tunnelframe[xlsx]"``). The
        tunnels' ``metadata`` is written as JSON text. In CSV and Excel, a text cell that
        starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
        ``'``, as spreadsheet-safe CSV writers do, so that a spreadsheet shows a hostile
        tunnel name instead of running it as a formula (numbers are left alone).

    Returns
    -------
    dict of str to pathlib.Path
        ``{"connections": ..., "connectors": ..., "tunnels": ...}`` (for ``"xlsx"`` all three
        are the one workbook).

    Examples
    --------
    >>> import tempfile
    >>> import tunnelframe as tf
    >>> paths = tf.export_frames(tf.simulator.generate_fleet(3, seed=1), tempfile.mkdtemp(),
    ...                          format="csv")
    >>> sorted(p.name for p in paths.values())
    ['connections.csv', 'connectors.csv', 'tunnels.csv']
    """
    if format not in ("parquet", "csv", "xlsx"):
        raise ValueError(f"format must be 'parquet', 'csv' or 'xlsx', not {format!r}")
    data: FleetData = resolve(source)
    root = Path(directory)
    frames = {
        "connections": data.connections,
        "connectors": data.connectors,
        "tunnels": data.tunnels,
    }
    if format == "xlsx":
        return _write_xlsx(frames, root)
    root.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, frame in frames.items():
        path = root / f"{name}.{format}"
        flat = _flat(frame)
        if format == "parquet":
            flat.to_parquet(path, index=False)
        else:
            safe = _spreadsheet_safe(flat)
            safe.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        written[name] = path
    return written


def _write_xlsx(frames: dict[str, pd.DataFrame], root: Path) -> dict[str, Path]:
    """One workbook, one sheet per frame; times as naive UTC under a ``(UTC)`` header."""
    if importlib.util.find_spec("openpyxl") is None:  # pandas' xlsx writer
        raise ImportError(
            'export_frames(format="xlsx") needs openpyxl: pip install "tunnelframe[xlsx]"'
        )
    root.mkdir(parents=True, exist_ok=True)
    path = root / "fleet.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            sheet = _spreadsheet_safe(_flat(frame))
            for col in sheet.columns:
                dtype = sheet[col].dtype
                if isinstance(dtype, pd.DatetimeTZDtype):
                    sheet[col] = sheet[col].dt.tz_convert("UTC").dt.tz_localize(None)
                elif not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
                    # Excel cells hold plain values: categories, pyarrow text and nullable
                    # flags as Python objects, NA as an empty cell.
                    sheet[col] = sheet[col].astype(object).where(sheet[col].notna(), None)
            utc = [c for c in sheet.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
            sheet = sheet.rename(columns={c: f"{c} (UTC)" for c in utc})
            sheet.to_excel(writer, sheet_name=name, index=False)
    return dict.fromkeys(frames, path)
