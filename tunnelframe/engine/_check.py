"""``check``: the report's rules as a pass/fail verdict for cron and CI.

:func:`run_check` (public as :func:`tunnelframe.check_fleet`) applies the rule table of
:mod:`~tunnelframe.engine._findings` to a fleet, keeps the tunnels a caller selects by name
pattern, hides the violations an ignore file lists (until each entry expires) and returns a
:class:`CheckResult`: the violations, what was hidden and why, and a stable JSON document
(:data:`CHECK_SCHEMA`). Nothing here prints or exits; the CLI does that.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pandas as pd

from tunnelframe._deprecate import renamed
from tunnelframe._text import plural
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe.engine._findings import FINDINGS_COLUMNS, RULES, judge
from tunnelframe.engine._releases import warn_if_stale
from tunnelframe.engine._source import FleetData, resolve

__all__ = [
    "CHECK_SCHEMA",
    "CheckResult",
    "Ignore",
    "check_fleet",
    "load_ignores",
    "run_check",
    "select_tunnels",
]

#: The name and version of the JSON document ``CheckResult.to_json()`` returns. The version
#: changes only when a key is removed or changes meaning; new keys may appear within a version.
CHECK_SCHEMA = ("tunnelframe.check", 1)

_SEVERITIES = ("high", "warn", "info")


@dataclass(frozen=True)
class Ignore:
    """One entry of an ignore file: which violations to hide, why, and until when.

    ``pattern`` is a shell-style pattern (``*``, ``?``, ``[...]``, case-sensitive) matched
    against the tunnel name, the tunnel id and the connector id of a violation; ``rule``
    (optional) limits the entry to one rule id; ``expires`` (optional) is the last day it
    hides anything.

    Examples
    --------
    >>> from datetime import date
    >>> entry = Ignore("legacy-*", "retired in Q4", rule="unsupported", expires=date(2026, 12, 31))
    >>> entry.matches({"rule": "unsupported", "tunnel_name": "legacy-db"})
    True
    >>> entry.expired(date(2027, 1, 1))
    True
    """

    pattern: str
    reason: str
    rule: str | None = None
    expires: date | None = None

    def matches(self, row: Mapping[Any, Any]) -> bool:
        if self.rule is not None and row["rule"] != self.rule:
            return False
        return any(
            isinstance(row.get(key), str) and fnmatchcase(row[key], self.pattern)
            for key in ("tunnel_name", "tunnel_id", "connector_id")
        )

    def expired(self, on: date) -> bool:
        return self.expires is not None and on > self.expires

    def as_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "rule": self.rule,
            "reason": self.reason,
            "expires": None if self.expires is None else self.expires.isoformat(),
        }

    def describe(self) -> str:
        rule = f" ({self.rule})" if self.rule else ""
        return f"{self.pattern!r}{rule}: {self.reason}"


def load_ignores(path: str | os.PathLike[str]) -> list[Ignore]:
    """Read an ignore file: a TOML document of ``[[ignore]]`` tables.

    Each table has ``pattern`` and ``reason`` (required strings), and optionally ``rule`` (a
    rule id) and ``expires`` (a TOML date, the last day the entry applies)::

        [[ignore]]
        pattern = "legacy-*"
        rule = "unsupported"
        reason = "retired with the old datacenter, OPS-123"
        expires = 2026-12-31

    Raises
    ------
    ValueError
        The file is not TOML, or an entry lacks a key, has an unknown one or a wrong type;
        the message names the entry (``ignore[2].expires``).
    OSError
        The file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ignore.toml"
    >>> _ = path.write_text('[[ignore]]\\npattern = "lab-*"\\nreason = "test rigs"\\n')
    >>> load_ignores(path)
    [Ignore(pattern='lab-*', reason='test rigs', rule=None, expires=None)]
    """
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"ignore file {path}: not valid TOML: {exc}") from exc
    unknown_top = sorted(set(document) - {"ignore"})
    if unknown_top:
        raise ValueError(
            f"ignore file {path}: unknown key(s) {', '.join(unknown_top)}: only [[ignore]] "
            "tables are allowed"
        )
    entries = document.get("ignore", [])
    if not isinstance(entries, list):
        raise ValueError(f"ignore file {path}: 'ignore' must be an array of tables ([[ignore]])")
    rule_ids = {r.id for r in RULES}
    out: list[Ignore] = []
    for i, entry in enumerate(entries):
        where = f"ignore file {path}: ignore[{i}]"
        extra = sorted(set(entry) - {"pattern", "reason", "rule", "expires"})
        if extra:
            raise ValueError(f"{where}: unknown key(s) {', '.join(extra)}")
        for key in ("pattern", "reason"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise ValueError(f"{where}.{key}: a non-empty string is required")
        rule = entry.get("rule")
        if rule is not None and rule not in rule_ids:
            raise ValueError(
                f"{where}.rule: unknown rule {rule!r}: choose from {', '.join(sorted(rule_ids))}"
            )
        expires = entry.get("expires")
        if expires is not None and (not isinstance(expires, date) or hasattr(expires, "hour")):
            raise ValueError(f"{where}.expires: a TOML date is required (e.g. 2026-12-31)")
        out.append(Ignore(entry["pattern"], entry["reason"], rule, expires))
    return out


@dataclass(frozen=True)
class CheckResult:
    """What :func:`tunnelframe.check_fleet` found: violations, hidden ones and the fleet.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> def connector(cid, colos):
    ...     conns = [{"id": f"{cid}-{i}", "colo_name": c} for i, c in enumerate(colos)]
    ...     return {"id": cid, "version": "2026.8.2", "conns": conns}
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...     "status": "healthy", "connectors": [connector("c1", ["DFW", "DFW", "LAX", "LAX"]),
    ...                                         connector("c2", ["ORD", "ORD", "IAD", "IAD"])]}]}
    >>> result = tf.check_fleet(fleet, as_of="2026-08-20")
    >>> result.ok, result.summary()
    (True, 'ok: 1 tunnel, 2 connectors, 8 active connections. No violations.')
    >>> result.to_json()["counts"]["violations"]
    0
    """

    #: one row per violation still reported (the columns of :func:`tunnelframe.findings`)
    violations: pd.DataFrame
    #: violations hidden by an ignore entry, with ``ignored_by`` (the entry's pattern)
    ignored: pd.DataFrame
    #: ignore entries past their ``expires`` day: they hide nothing any more
    expired: list[Ignore]
    rules: list[str]
    as_of: pd.Timestamp
    fetched_at: pd.Timestamp | None
    source: str
    n_tunnels: int
    n_connectors: int
    n_active: int
    #: which entry hid each row of ``ignored`` (same order)
    ignored_by: list[Ignore] = field(default_factory=list)
    #: what the analyses warned about (a stale release calendar, unknown colos), as sentences
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no violation is left to report."""
        return self.violations.empty

    def fleet_line(self) -> str:
        """``5 tunnels, 5 connectors, 18 active connections.``"""
        return (
            f"{plural(self.n_tunnels, 'tunnel')}, {plural(self.n_connectors, 'connector')}, "
            f"{plural(self.n_active, 'active connection')}."
        )

    def lines(self) -> list[str]:
        """One line per violation, as ``tunnelframe check`` prints it: the severity (the words
        of the report: high, warn, info), the rule's message, and the hosts concerned (origin
        IPs and architecture), e.g. ``[high] unsupported: connector … ; host 198.51.100.7
        (linux_amd64)``."""
        out = []
        for severity, message, host in zip(
            self.violations["severity"].astype(str),
            self.violations["message"].astype(str),
            self.violations["host"].astype(object),
            strict=True,
        ):
            on = "" if host is None or pd.isna(host) or not str(host) else f"; host {host}"
            out.append(f"[{severity}] {message}{on}")
        return out

    def summary(self) -> str:
        """The closing line of the text output, e.g. ``FAIL: 3 violations (2 high, 1 warn) ...``."""
        ignored = f" {len(self.ignored):,} ignored." if len(self.ignored) else ""
        expired = (
            f" {plural(len(self.expired), 'expired ignore entry', 'expired ignore entries')} "
            f"no longer {'hides' if len(self.expired) == 1 else 'hide'} anything."
            if self.expired
            else ""
        )
        if self.ok:
            return f"ok: {self.fleet_line()} No violations.{ignored}{expired}"
        counts = self.violations["severity"].astype(str).value_counts()
        by = ", ".join(f"{counts[s]:,} {s}" for s in _SEVERITIES if s in counts)
        tunnels = self.violations["tunnel_id"].nunique()
        return (
            f"FAIL: {plural(len(self.violations), 'violation')} ({by}) in "
            f"{plural(tunnels, 'tunnel')}; checked {self.fleet_line()}{ignored}{expired}"
        )

    def to_json(self) -> dict[str, Any]:
        """The result as the stable JSON document ``tunnelframe check --format json`` prints.

        Keys: ``schema`` ("tunnelframe.check"), ``schema_version`` (1), ``ok`` (bool),
        ``as_of`` and ``fetched_at`` (ISO 8601 UTC, ``fetched_at`` null when unknown),
        ``source``, ``fleet`` (``tunnels``, ``connectors``, ``active_connections``),
        ``rules`` (the rule ids applied), ``counts`` (``violations``, ``ignored``,
        ``expired_ignores``, and one count per severity ``high``/``warn``/``info``),
        ``violations`` (objects with ``rule``, ``severity``, ``title``, ``account_id``,
        ``tunnel_id``, ``tunnel_name``, ``connector_id`` (null for a tunnel-level finding),
        ``host`` (origin IPs and architecture, as the report shows them; null when unknown),
        ``message``, ``impact`` (how many hostnames and private routes the tunnel serves; null
        when the routing was not read) and ``serves`` (them in words)), ``ignored`` (the
        same objects plus ``ignored_by``, an ignore entry)
        , ``expired_ignores`` (ignore entries: ``pattern``, ``rule``, ``reason``,
        ``expires``) and ``notes`` (sentences: a stale release calendar, unknown colos).
        """
        severities = self.violations["severity"].astype(str).value_counts()
        ignored = [
            {**row, "ignored_by": entry.as_dict()}
            for row, entry in zip(_records(self.ignored), self.ignored_by, strict=True)
        ]
        return {
            "schema": CHECK_SCHEMA[0],
            "schema_version": CHECK_SCHEMA[1],
            "ok": self.ok,
            "as_of": _iso(self.as_of),
            "fetched_at": None if self.fetched_at is None else _iso(self.fetched_at),
            "source": self.source,
            "fleet": {
                "tunnels": self.n_tunnels,
                "connectors": self.n_connectors,
                "active_connections": self.n_active,
            },
            "rules": list(self.rules),
            "counts": {
                "violations": len(self.violations),
                "ignored": len(self.ignored),
                "expired_ignores": len(self.expired),
                **{s: int(severities.get(s, 0)) for s in _SEVERITIES},
            },
            "violations": _records(self.violations),
            "ignored": ignored,
            "expired_ignores": [entry.as_dict() for entry in self.expired],
            "notes": list(self.notes),
        }


def _iso(value: pd.Timestamp) -> str:
    return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    def value(key: str, v: Any) -> Any:
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            return None
        return int(v) if key == "impact" else str(v)

    return [
        {k: value(k, v) for k, v in row.items() if k in FINDINGS_COLUMNS}
        for row in frame.to_dict("records")
    ]


def select_tunnels(
    frame: pd.DataFrame, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> pd.Series:
    """Rows of ``frame`` whose tunnel name or id matches an ``include`` pattern (all when
    none is given) and no ``exclude`` pattern."""

    def hit(patterns: Sequence[str]) -> pd.Series:
        names = frame["tunnel_name"].astype(object).where(frame["tunnel_name"].notna(), "")
        ids = frame["tunnel_id"].astype(object).where(frame["tunnel_id"].notna(), "")
        return pd.Series(
            [
                any(fnmatchcase(str(n), p) or fnmatchcase(str(t), p) for p in patterns)
                for n, t in zip(names, ids, strict=True)
            ],
            index=frame.index,
            dtype=bool,
        )

    keep = hit(include) if include else pd.Series(True, index=frame.index)
    if exclude:
        keep &= ~hit(exclude)
    return keep


def run_check(
    data: FleetData,
    *,
    max_releases_behind: int | None = None,
    rules: Iterable[str] | None = None,
    expected_connections: int = 4,
    tunnels: Sequence[str] = (),
    exclude_tunnels: Sequence[str] = (),
    ignores: Sequence[Ignore] = (),
    releases: Any = None,
) -> CheckResult:
    """Apply the rules to ``data`` and split the violations into reported and ignored."""
    analysis, chosen, found = judge(
        data,
        rules=rules,
        max_releases_behind=max_releases_behind,
        expected_connections=expected_connections,
        releases=releases,
    )
    found = found[select_tunnels(found, tunnels, exclude_tunnels)].reset_index(drop=True)

    today = data.as_of.date()
    active = [entry for entry in ignores if not entry.expired(today)]
    expired = [entry for entry in ignores if entry.expired(today)]
    hidden_by: list[Ignore | None] = []
    for row in found.to_dict("records"):
        hidden_by.append(next((entry for entry in active if entry.matches(row)), None))
    mask = pd.Series([h is not None for h in hidden_by], index=found.index, dtype=bool)

    connectors = data.connectors
    tunnels_frame = analysis.live_tunnels  # deleted tunnels are no part of a fleet
    conn_keep = select_tunnels(connectors, tunnels, exclude_tunnels)
    tun_keep = select_tunnels(tunnels_frame, tunnels, exclude_tunnels)
    return CheckResult(
        violations=found[~mask].reset_index(drop=True),
        ignored=found[mask].reset_index(drop=True),
        expired=expired,
        rules=[r.id for r in chosen],
        as_of=data.as_of,
        fetched_at=data.fetched_at,
        source=data.origin,
        n_tunnels=int(tun_keep.sum()),
        n_connectors=int(conn_keep.sum()),
        n_active=int(connectors.loc[conn_keep, "n_active"].sum()),
        ignored_by=[h for h in hidden_by if h is not None],
        notes=list(analysis.notes),
    )


@renamed(kind="tun_type")
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
    tun_type: str | None = None,
) -> CheckResult:
    """Check a fleet against the report's rules: what ``tunnelframe check`` runs.

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame
        As in :func:`write_report`.
    as_of, max_releases_behind, rules, expected_connections, releases, tun_type
        As in :func:`findings`.
    tunnels : sequence of str, optional
        Shell-style patterns (``web-*``): check only tunnels whose name or id matches one.
    exclude_tunnels : sequence of str, optional
        Patterns of tunnels to leave out.
    ignore : path or sequence of Ignore, optional
        Known exceptions (:func:`load_ignores`): a violation an entry matches is moved to
        ``ignored``; an entry past its ``expires`` day (at ``as_of``) hides nothing and is
        listed in ``expired``.

    Warns
    -----
    StaleReleasesWarning
        When the release calendar in use ends more than 60 days before ``as_of`` (the same
        sentence is one of the result's ``notes``).

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
    data = resolve(source, as_of=as_of, tun_type=tun_type)
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
    warn_if_stale(releases, data.as_of, stacklevel=3)
    return result
