"""Per-connector version drift: rows to connectors, measures per distinct version.

Everything is computed on integer codes: the calendar arithmetic once per distinct version,
then mapped to connectors with numpy indexing; nothing loops over rows in Python.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from tunnelframe._checks import (
    _BOOL,
    _check_frame,
    _codes,
    _distinct_text,
    _flags,
    _utc,
    _warn_if_before_data,
)
from tunnelframe._deprecate import renamed
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe._versionorder import _COMMITS, _order_version_columns, _parse
from tunnelframe.snapshot import as_connections
from tunnelframe.versions._calendar import (
    _DATE,
    _HOW_TO_UPDATE,
    _NEG,
    StaleReleasesWarning,
    _Calendar,
    _day,
    _days_to_dates,
    _Latest,
    _minus_year,
    _resolve_latest,
    stale_calendar_note,
)
from tunnelframe.versions._security import _fixes_table, _lacking

__all__ = ["STATUSES", "VERSION_DRIFT_COLUMNS", "version_drift"]

STATUSES = ("current", "behind", "unsupported", "unknown")
_STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))
_ID_COLUMNS = ("account_id", "tunnel_id", "tunnel_name", "connector_id")

#: Columns and dtypes of :func:`version_drift`, in order.
VERSION_DRIFT_COLUMNS: dict[str, Any] = {
    "account_id": "category",
    "tunnel_id": "category",
    "tunnel_name": "category",
    "connector_id": "category",
    "version": "category",
    "released_on": _DATE,
    "latest_version": "category",
    "releases_behind": "Int64",
    "days_behind": "Int64",
    "age_days": "Int64",
    "supported": _BOOL,
    "status": _STATUS_DTYPE,
    "client_version_mismatch": _BOOL,
    "mixed_versions_in_tunnel": _BOOL,
    "n_missing_fixes": "Int64",
    "missing_fix_ids": pd.ArrowDtype(pa.string()),
    "fixed_in": "category",
    "origin_ips": pd.ArrowDtype(pa.string()),
}

_NA = np.iinfo(np.int64).min  # a missing integer measure


@dataclass(frozen=True)
class _PerVersion:
    """Measures per distinct version, plus one trailing entry for 'no version at all'."""

    released_on: np.ndarray  # day, _NA when the version is not in the calendar
    releases_behind: np.ndarray
    days_behind: np.ndarray
    age_days: np.ndarray
    supported: np.ndarray  # 1 True, 0 False, -1 NA
    status: np.ndarray  # index into STATUSES
    newer: np.ndarray  # newer than the latest release


def _per_version(
    keys: np.ndarray, cal: _Calendar, lat: _Latest, as_of_day: np.int64
) -> _PerVersion:
    keys = np.append(keys, -1)
    known = keys >= 0
    base = np.where(known, keys - keys % _COMMITS, -1)
    lo, hi, listed = cal.bounds(base)
    listed &= known
    current = known & (base >= lat.key)
    upto = np.searchsorted(cal.keys, lat.key, side="right")
    behind = upto - np.searchsorted(cal.keys, base, side="right") + (0 if lat.listed else 1)
    cut_lo, cut_hi = _minus_year(lat.lo), _minus_year(lat.hi)
    supported = np.where(lo >= cut_hi, 1, np.where(hi < cut_lo, 0, -1))
    supported = np.where(current, 1, np.where(known, supported, -1))
    days_behind = np.where(listed & (lat.lo == lat.hi), lat.lo - lo, _NA)
    return _PerVersion(
        released_on=np.where(listed, lo, _NA),
        releases_behind=np.where(current, 0, np.where(known, behind, _NA)),
        days_behind=np.where(current, 0, days_behind),
        age_days=np.where(listed, as_of_day - lo, _NA),
        supported=supported,
        status=np.select([~known, current, supported == 0], [3, 0, 2], 1),
        newer=known & (base > lat.key),
    )


def _int_array(values: np.ndarray) -> pd.arrays.IntegerArray:
    missing = values == _NA
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def _date_array(days: np.ndarray) -> pd.Series:
    return _days_to_dates(np.where(days == _NA, _NEG, days))


def _combine(*codes: np.ndarray) -> np.ndarray:
    """Ids of the distinct code tuples, numbered by first appearance."""
    acc = np.zeros(len(codes[0]), dtype=np.int64)
    top = 1
    for part in codes:
        width = int(part.max(initial=-1)) + 2
        if top * width >= 2**62:  # keep the mixed-radix key inside int64
            acc, uniques = pd.factorize(acc)
            top = len(uniques)
        acc = acc * width + (part + 1)
        top *= width
    ids, _ = pd.factorize(acc)
    return ids.astype(np.int64)


def _firsts(ids: np.ndarray) -> np.ndarray:
    """Row of the first appearance of each id (ids numbered by first appearance)."""
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    seen = np.maximum.accumulate(ids)
    return np.flatnonzero(np.concatenate([[True], ids[1:] > seen[:-1]]))


def _without_placeholders(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Drop rows that name no connector and carry none of ``columns`` (tunnel placeholders)."""
    empty = frame["connector_id"].isna().to_numpy(bool, copy=True)
    if not empty.any():
        return frame
    for column in columns:
        if column in frame.columns:
            empty = empty & frame[column].isna().to_numpy(bool)
    return frame[~empty] if empty.any() else frame


@dataclass(frozen=True)
class _Connectors:
    """A frame reduced to one entry per (account_id, tunnel_id, connector_id), in order."""

    rows: np.ndarray  # connector of each row
    first: np.ndarray  # first row of each connector
    tunnel: np.ndarray  # tunnel of each connector

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Connectors:
        n = len(frame)
        parts = [
            _codes(frame[c])[0] if c in frame.columns else np.full(n, -1, dtype=np.int64)
            for c in ("account_id", "tunnel_id", "connector_id")
        ]
        rows = _combine(*parts)
        first = _firsts(rows)
        return cls(rows, first, _combine(parts[0][first], parts[1][first]))

    def take(self, frame: pd.DataFrame, column: str) -> pd.Categorical:
        """The connectors' values of a text column as a categorical (all NA when absent)."""
        if column not in frame.columns:
            return pd.Categorical.from_codes(
                np.full(len(self.first), -1), categories=pd.Index([], dtype="str")
            )
        codes, cats = _codes(frame[column])
        return pd.Categorical.from_codes(codes[self.first], categories=cats)


class _Canon:
    """Distinct versions: ``v2026.8.2`` is ``2026.8.2``; unknown text is told apart by text."""

    def __init__(self) -> None:
        self.ids: dict[object, int] = {}
        self.keys: list[int] = []
        self.names: list[str] = []

    def map(self, values: pd.Index) -> np.ndarray:
        """Canonical id of each value (-1 when empty), plus a trailing -1 for the code -1."""
        out = np.full(len(values) + 1, -1, dtype=np.int64)
        for i, raw in enumerate(values):
            text = str(raw).strip()
            if not text:
                continue
            version = _parse(text)
            token: object = version.key if version.is_known else text.upper()
            if token not in self.ids:
                self.ids[token] = len(self.keys)
                self.keys.append(version.key)
                self.names.append(text)
            out[i] = self.ids[token]
        return out


def _categorical(codes: np.ndarray, values: list[object]) -> pd.Categorical:
    """A str categorical from codes into ``values``, which may repeat; unused values dropped."""
    uniques, inverse = np.unique(
        np.array([str(v) for v in values], dtype=object), return_inverse=True
    )
    lookup = np.append(inverse, -1)
    used = np.zeros(len(uniques) + 1, dtype=bool)
    used[lookup[codes]] = True
    keep = np.flatnonzero(used[:-1])
    renumber = np.full(len(uniques) + 1, -1, dtype=np.int64)
    renumber[keep] = np.arange(len(keep))
    cats = pd.Index(uniques[keep].astype(str), dtype="str")
    return pd.Categorical.from_codes(renumber[lookup[codes]], categories=cats)


@dataclass(frozen=True)
class _Drift:
    frame: pd.DataFrame
    conns: _Connectors
    canon: _Canon
    version: np.ndarray  # canonical id per connector, -1 for none
    n_versions: np.ndarray  # distinct known versions per tunnel
    latest: _Latest
    as_of: pd.Timestamp
    warp: np.ndarray  # per connector: a WARP Connector member (WARP client versions)
    stale: str | None  # the calendar's age note, when it is stale at as_of


def _origin_ips(frame: pd.DataFrame, groups: np.ndarray, n: int) -> list[str]:
    if "origin_ip" not in frame.columns:
        return [""] * n
    return _distinct_text(groups, frame["origin_ip"], n)


def _as_of(as_of: object) -> pd.Timestamp:
    if as_of is None:
        return pd.Timestamp.now(tz="UTC")
    return _utc(as_of, "as_of")


def _drift(
    frame: FleetSource,
    releases: object,
    latest: object,
    as_of: object,
    stacklevel: int,
    func: str,
    fixes: object = None,
) -> _Drift:
    frame = _check_frame(as_connections(frame), func, columns=("connector_id", "version"))
    frame = _without_placeholders(frame, ("version", "client_version"))
    when = _as_of(as_of)
    as_of_day = _day(when, "as_of")
    cal = _Calendar.read(releases)
    fix_table = _fixes_table(fixes)
    lat = _resolve_latest(cal, latest, as_of_day)
    conns = _Connectors.of(frame)
    n_conn = len(conns.first)

    canon = _Canon()
    v_codes, v_cats = _codes(frame["version"])
    version = canon.map(v_cats)[v_codes[conns.first]]
    out_codes = np.where(version >= 0, v_codes[conns.first], -1)
    out_names: list[object] = list(v_cats)
    mismatch = np.zeros(n_conn, dtype=bool)
    if "client_version" in frame.columns:
        c_codes, c_cats = _codes(frame["client_version"])
        row_canon = canon.map(c_cats)[c_codes]
        need = version < 0
        if need.any():  # no version of its own: the first one its connections report
            rows = np.flatnonzero((row_canon >= 0) & need[conns.rows])
            found, at = np.unique(conns.rows[rows], return_index=True)
            version[found] = row_canon[rows[at]]
            out_codes[found] = len(out_names) + c_codes[rows[at]]
            out_names += list(c_cats)
        bad = (row_canon >= 0) & (row_canon != version[conns.rows])
        mismatch[conns.rows[bad]] = True

    known = version >= 0
    width = len(canon.keys) + 1
    pairs = pd.unique(conns.tunnel[known] * width + version[known])
    n_versions = np.bincount(pairs // width, minlength=int(conns.tunnel.max(initial=-1)) + 1)
    mixed = n_versions[conns.tunnel] > 1
    # A WARP Connector reports the WARP client's version (YEAR.MONTH.BUILD.N, e.g.
    # 2025.2.600.0), another release line than cloudflared's and one no calendar is bundled
    # for: it is unknown here (mixed versions within its tunnel still count), never measured
    # against cloudflared's releases.
    measured = version
    warp = np.zeros(n_conn, dtype=bool)
    if "tun_type" in frame.columns:
        warp_rows = (frame["tun_type"] == "warp_connector").fillna(False).to_numpy(dtype=bool)
        warp = warp_rows[conns.first]
        measured = np.where(warp, -1, version)

    per = _per_version(np.array(canon.keys, dtype=np.int64), cal, lat, as_of_day)
    newer = per.newer[measured]
    early = _warn_if_before_data(frame, when, func, stacklevel=stacklevel + 1)
    # Versions newer than the latest release *by as_of* are expected when as_of is early; the
    # calendar is stale only when the data is not newer than as_of.
    if newer.any() and not early:
        seen = sorted({canon.names[v] for v in measured[newer]}, key=_parse, reverse=True)
        more = ", …" if len(seen) > 3 else ""
        warnings.warn(
            f"{int(newer.sum())} connector(s) run versions newer than the latest known release "
            f"{lat.version} ({', '.join(seen[:3])}{more}); they count as current, 0 behind. "
            f"The release calendar is out of date: {_HOW_TO_UPDATE}",
            StaleReleasesWarning,
            stacklevel=stacklevel,
        )

    note = None
    if len(cal.days):
        end = int(np.argmax(cal.days))
        note = stale_calendar_note(
            cal.versions[end], _days_to_dates(cal.days[end : end + 1])[0], when
        )
        if note:
            warnings.warn(note, StaleReleasesWarning, stacklevel=stacklevel)

    # Security fixes per distinct version (its base release), NA for unknown ones.
    bases = np.array([k - k % _COMMITS if k >= 0 else -1 for k in canon.keys], dtype=np.int64)
    n_fix, fix_ids, fixed_in = _lacking(fix_table, bases, lat.key)
    n_fix = np.append(np.where(bases >= 0, n_fix, _NA), _NA)
    fix_ids_all = [ids if base >= 0 else None for ids, base in zip(fix_ids, bases, strict=True)]
    fix_ids_all.append(None)
    fixed_codes = np.array(
        [i if f is not None else -1 for i, f in enumerate(fixed_in)] + [-1], dtype=np.int64
    )

    supported = per.supported[measured]
    columns: dict[str, Any] = {c: conns.take(frame, c) for c in _ID_COLUMNS}
    columns |= {
        "version": _categorical(out_codes, out_names),
        "released_on": _date_array(per.released_on[measured]),
        "latest_version": pd.Categorical.from_codes(
            np.zeros(n_conn, np.int64), categories=pd.Index([lat.version], dtype="str")
        ),
        "releases_behind": _int_array(per.releases_behind[measured]),
        "days_behind": _int_array(per.days_behind[measured]),
        "age_days": _int_array(per.age_days[measured]),
        "supported": _flags(supported == 1, supported < 0),
        "status": pd.Categorical.from_codes(per.status[measured], dtype=_STATUS_DTYPE),
        "client_version_mismatch": _flags(mismatch),
        "mixed_versions_in_tunnel": _flags(mixed),
        "n_missing_fixes": _int_array(n_fix[measured]),
        "missing_fix_ids": pd.arrays.ArrowExtensionArray(
            pa.array([fix_ids_all[v] for v in measured], type=pa.string())
        ),
        "fixed_in": _categorical(fixed_codes[measured], [f or "" for f in fixed_in]),
        # The host(s) to upgrade, so an upgrade list needs no join back to the connections.
        "origin_ips": pd.arrays.ArrowExtensionArray(
            pa.array(_origin_ips(frame, conns.rows, n_conn), type=pa.string())
        ),
    }
    return _Drift(
        _order_version_columns(pd.DataFrame(columns)),
        conns,
        canon,
        measured,
        n_versions,
        lat,
        when,
        warp,
        note,
    )


@renamed(frame="source")
def version_drift(
    source: FleetSource,
    *,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    latest: str | tuple[str, Any] | None = None,
    as_of: TimeLike | None = None,
    fixes: pd.DataFrame | str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """How far behind the newest cloudflared release each connector is, and whether it is supported.

    The rules (what *latest*, *current* and *supported* mean, and what happens to DEV builds,
    git-describe builds and versions missing from the calendar) are in the module docstring.

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        Connections as returned by :func:`tunnelframe.connections_frame` (one row per connection;
        idle connectors as one row). Needs ``connector_id`` and ``version``; uses
        ``account_id``, ``tunnel_id``, ``tunnel_name`` and ``client_version`` when present.
        A connector is one ``(account_id, tunnel_id, connector_id)``; its version is its own
        ``version``, or when that is missing the first ``client_version`` its connections report.
    releases : DataFrame or path, optional
        The release calendar (``version``, ``released_on``); default the bundled one
        (:func:`load_releases`).
    latest : str or (str, date), optional
        The newest release; default the newest in ``releases`` published by ``as_of``.
    as_of : datetime-like, optional
        When to measure ``age_days`` from (and which releases existed); default now. A tz-naive
        value is taken as UTC.
    fixes : DataFrame or path, optional
        The security fixes per release (:func:`load_security_fixes`); default the bundled
        table. ``load_security_fixes(cached=True)`` after :func:`refresh_releases`.

    Returns
    -------
    pandas.DataFrame
        One row per connector, in the order they first appear, with the columns and dtypes of
        :data:`VERSION_DRIFT_COLUMNS`: ``version`` as reported, ``released_on`` (UTC midnight;
        NaT when not in the calendar), ``latest_version``, ``releases_behind``, ``days_behind``,
        ``age_days`` (Int64), ``supported`` (boolean, NA when undecidable), ``status``
        (``current``/``behind``/``unsupported``/``unknown``), ``client_version_mismatch`` (a
        connection reports another ``client_version``), ``mixed_versions_in_tunnel``, and
        the security fixes the connector lacks: ``n_missing_fixes`` (one per advisory id, or
        per fix naming none), ``missing_fix_ids`` (newest first) and ``fixed_in`` (the lowest
        release that has them all; NA when it lacks none). Only fixes in releases up to the
        latest count, and none that a later release reverted.

    Warns
    -----
    StaleReleasesWarning
        Once per call when connectors run versions newer than the latest release, and once
        when the calendar ends more than 60 days before ``as_of``
        (:func:`stale_calendar_note`).

    Examples
    --------
    >>> conns = pd.DataFrame({"connector_id": ["a", "b", "c"],
    ...                       "version": ["2026.8.2", "2025.8.0", "DEV"]})
    >>> drift = version_drift(conns, as_of="2026-09-01")
    >>> drift[["version", "releases_behind", "supported", "status"]]
        version  releases_behind supported       status
    0  2026.8.2                0      True      current
    1  2025.8.0               24     False  unsupported
    2       DEV             <NA>      <NA>      unknown
    """
    return _drift(
        source, releases, latest, as_of, stacklevel=4, func="version_drift", fixes=fixes
    ).frame
