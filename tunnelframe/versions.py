"""Version drift: which cloudflared connectors are outdated, and which are no longer supported.

Analysis on the frames of :mod:`tunnelframe.frames` and on the release calendar bundled as
``data/cloudflared-releases.csv``. Everything here works offline and on whole columns: versions
are parsed once per distinct value, never per row and never compared as strings. The only
network access is the opt-in :func:`refresh_releases`; nothing else here may touch the network,
and no function modifies the frame it is given.

The rules, in one place (every public function follows them):

* **Versions.** ``YYYY.M.PATCH``, with an optional leading ``v`` and an optional git-describe
  suffix (``2026.8.2-1-gd1df7985``: one commit on top of 2026.8.2, after it and before the next
  release). ``DEV``, empty and missing values are *unknown*: they sort first and get status
  ``unknown``, with every other measure NA. A git-describe build is measured as the release it
  builds on (its *base*): same ``released_on``, ``releases_behind`` and support.
* **Latest.** The newest release is ``latest=`` when given; otherwise the newest release of the
  calendar published on or before ``as_of`` (so an old snapshot is judged against the releases
  of its day). Versions are never inferred from the fleet: a version newer than the latest
  counts as current (0 behind, supported) and a :class:`StaleReleasesWarning` says how to update.
* **Current** means the base release is the latest or newer.
* **releases_behind** counts the calendar's releases after the base release, up to and including
  the latest, plus the latest itself when it is not in the calendar (then it is a lower bound).
* **Support.** Cloudflare supports versions released within one year of the most recent release:
  ``supported`` iff ``released_on >= latest's released_on - 1 year`` (calendar year, boundary
  included; with latest 2023.1.0 of 2023-01-12, 2022.1.1 of 2022-01-12 is supported and 2022.1.0
  of 2022-01-06 is not).
* **Versions missing from the calendar.** ``released_on``, ``days_behind`` and ``age_days`` stay
  NA (no date is invented). Support is still decided when the date is bounded well enough:
  cloudflared names a release after its month (all 269 bundled releases were tagged in the month
  their version names) and versions rise with time, so a missing version was released in its
  month, after the previous known release and before the next. ``supported`` is True when even
  the earliest possible date is inside the window, False when even the latest possible date is
  outside it, NA otherwise. The same bounds apply to a ``latest=`` version missing from the
  calendar (also capped by ``as_of``); pass ``latest=(version, date)`` to pin it.
* ``released_on`` is the UTC midnight of the release day (``datetime64[us, UTC]``), so it can be
  subtracted from ``run_at``; ``age_days`` counts whole days from it to ``as_of``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, overload

import numpy as np
import pandas as pd

from tunnelframe._data import _data_path
from tunnelframe._errors import SchemaError, TunnelframeError

__all__ = [
    "CONFIG_DRIFT_COLUMNS",
    "STATUSES",
    "VERSION_DRIFT_COLUMNS",
    "StaleReleasesWarning",
    "Version",
    "VersionSummary",
    "config_drift",
    "load_releases",
    "parse_version",
    "refresh_releases",
    "version_drift",
    "version_summary",
]

STATUSES = ("current", "behind", "unsupported", "unknown")
_DATE = pd.DatetimeTZDtype(unit="us", tz="UTC")
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
    "supported": "boolean",
    "status": _STATUS_DTYPE,
    "client_version_mismatch": "boolean",
    "mixed_versions_in_tunnel": "boolean",
}

#: Columns and dtypes of :func:`config_drift`, in order.
CONFIG_DRIFT_COLUMNS: dict[str, Any] = {
    "account_id": "category",
    "tunnel_id": "category",
    "tunnel_name": "category",
    "connector_id": "category",
    "version": "category",
    "run_at": _DATE,
    "config_version": "Int64",
    "tunnel_config_version": "Int64",
    "config_versions_behind": "Int64",
}

_BY_VERSION_COLUMNS: dict[str, Any] = {
    "version": "category",
    "released_on": _DATE,
    "releases_behind": "Int64",
    "supported": "boolean",
    "status": _STATUS_DTYPE,
    "n_connectors": "Int64",
    "pct": "float64",
}

_BY_TUNNEL_COLUMNS: dict[str, Any] = {
    "account_id": "category",
    "tunnel_id": "category",
    "tunnel_name": "category",
    "n_connectors": "Int64",
    "n_versions": "Int64",
    "oldest_version": "category",
    "newest_version": "category",
    "n_unsupported": "Int64",
}

_GITHUB_RELEASES_URL = "https://api.github.com/repos/cloudflare/cloudflared/releases"
_HOW_TO_UPDATE = (
    "pass releases=tunnelframe.refresh_releases() (online), releases=<CSV with version,"
    "released_on>, or latest='YYYY.M.PATCH' (or latest=('YYYY.M.PATCH', 'YYYY-MM-DD'))"
)


class StaleReleasesWarning(UserWarning):
    """The fleet runs versions newer than the newest known release: the calendar is out of date."""


# --------------------------------------------------------------------------------------------
# Parsing


class Version(NamedTuple):
    """A parsed cloudflared version; tuples order like the versions.

    ``commits`` counts the commits of a git-describe build on top of its release (0 for a
    release). The unknown version is ``Version(-1, -1, -1, -1)`` and sorts first.
    """

    year: int
    month: int
    patch: int
    commits: int = 0

    @property
    def is_known(self) -> bool:
        """Whether this is a real version (not ``DEV``, empty, missing or unparsable)."""
        return self.year >= 0

    @property
    def key(self) -> int:
        """An ``int`` ordering like the version (-1 when unknown), as ``parse_version(series)``."""
        if not self.is_known:
            return -1
        return ((self.year * 1000 + self.month) * 100_000 + self.patch) * 1_000_000 + self.commits

    @property
    def release(self) -> str | None:
        """The release this version is or builds on, as ``YYYY.M.PATCH``; None when unknown."""
        return f"{self.year}.{self.month}.{self.patch}" if self.is_known else None


_UNKNOWN = Version(-1, -1, -1, -1)
_VERSION_RE = re.compile(
    r"v?(\d{4})\.(\d{1,3})\.(\d{1,5})(?:-(\d{1,6})-g[0-9a-f]{4,40})?(?:-dirty)?", re.IGNORECASE
)
_COMMITS = 1_000_000  # key = base key + commits
_MONTH_KEY = 100_000 * _COMMITS  # key // _MONTH_KEY == year * 1000 + month


def _parse(value: object) -> Version:
    if not isinstance(value, str):
        return _UNKNOWN
    match = _VERSION_RE.fullmatch(value.strip())
    if match is None:
        return _UNKNOWN
    year, month, patch, commits = match.groups()
    return Version(int(year), int(month), int(patch), int(commits or 0))


@overload
def parse_version(s: str | None) -> Version: ...
@overload
def parse_version(s: pd.Series) -> pd.Series: ...
def parse_version(s: object) -> Version | pd.Series:
    """Parse a cloudflared version into something that orders like the versions.

    Parameters
    ----------
    s : str, None or pandas.Series
        ``YYYY.M.PATCH``, optionally with a leading ``v`` or a git-describe suffix
        (``2026.8.2-1-gd1df7985``). ``DEV``, empty, missing (None/NA) and unparsable values are
        unknown and sort before every version.

    Returns
    -------
    Version or pandas.Series
        For one value, a :class:`Version` tuple. For a Series, an ``int64`` Series of sort keys
        (``Version.key``; -1 for unknown) on the same index, computed once per distinct value:
        ``frame.sort_values("version", key=parse_version)`` sorts by version.

    Examples
    --------
    >>> parse_version("2025.10.1") > parse_version("2025.9.0")
    True
    >>> parse_version("2026.8.2-1-gd1df7985") > parse_version("v2026.8.2")
    True
    >>> parse_version("DEV").is_known
    False
    >>> frame = pd.DataFrame({"version": ["2025.10.1", "DEV", "2025.9.0"]})
    >>> frame.sort_values("version", key=parse_version)["version"].tolist()
    ['DEV', '2025.9.0', '2025.10.1']
    """
    if isinstance(s, pd.Series):
        codes, cats = _codes(s)
        keys = np.array([_parse(c).key for c in cats] + [-1], dtype=np.int64)
        return pd.Series(keys[codes], index=s.index, name=s.name, dtype="int64")
    if s is None or isinstance(s, str) or (isinstance(s, float) and np.isnan(s)) or s is pd.NA:
        return _parse(s)
    raise TypeError(f"parse_version expects a str, None or a pandas Series, got {type(s).__name__}")


# --------------------------------------------------------------------------------------------
# The release calendar


def _cache_dir() -> Path:
    env = os.environ.get("TUNNELFRAME_CACHE_DIR")
    if env:
        return Path(env)
    system = platform.system()
    if system == "Windows":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "tunnelframe"
    if system == "Darwin":
        return Path.home() / "Library" / "Caches" / "tunnelframe"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "tunnelframe"


def _calendar_frame(versions: list[str], days: np.ndarray) -> pd.DataFrame:
    """The public calendar: ``version`` (str), ``released_on`` (UTC midnight), newest first."""
    frame = pd.DataFrame(
        {
            "version": pd.array(versions, dtype="str"),
            "released_on": _days_to_dates(days),
        }
    )
    return frame.iloc[::-1].reset_index(drop=True)


def load_releases(*, cached: bool = False) -> pd.DataFrame:
    """Load the cloudflared release calendar bundled with tunnelframe.

    Parameters
    ----------
    cached : bool, default False
        Return the calendar saved by the last :func:`refresh_releases` instead, when there is
        one (in ``$TUNNELFRAME_CACHE_DIR`` or the user's cache folder); the bundled one otherwise.

    Returns
    -------
    pandas.DataFrame
        ``version`` (str, ``YYYY.M.PATCH``) and ``released_on`` (UTC midnight of the tag day),
        newest first.

    Examples
    --------
    >>> releases = load_releases()
    >>> releases.iloc[0].tolist()
    ['2026.8.2', Timestamp('2026-08-14 00:00:00+0000', tz='UTC')]
    """
    cal = _Calendar.read(_cache_dir() / "cloudflared-releases.csv" if cached else None)
    return _calendar_frame(cal.versions, cal.days)


def refresh_releases(
    *,
    url: str = _GITHUB_RELEASES_URL,
    timeout: float = 10.0,
    cache_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Read cloudflared's releases from GitHub, cache them, and return the updated calendar.

    Opt-in and the only function of tunnelframe's analysis that uses the network. The result is
    the bundled calendar plus every newer release GitHub lists (bundled dates win where both
    know a version), saved as ``cloudflared-releases.csv`` in the cache folder so that
    ``load_releases(cached=True)`` returns it offline later.

    Parameters
    ----------
    url : str
        The GitHub releases endpoint (pages of ``tag_name``/``published_at`` objects).
    timeout : float, default 10.0
        Seconds to wait for each page.
    cache_dir : path, optional
        Where to save it; default ``$TUNNELFRAME_CACHE_DIR`` or the user's cache folder.

    Returns
    -------
    pandas.DataFrame
        The calendar, shaped like :func:`load_releases`.

    Raises
    ------
    TunnelframeError
        GitHub could not be reached or answered with an error (nothing is cached then).
    SchemaError
        A page is not a JSON array of releases.

    Examples
    --------
    >>> releases = refresh_releases()  # doctest: +SKIP
    >>> drift = version_drift(frame, releases=releases)  # doctest: +SKIP
    """
    import urllib.error
    import urllib.request

    from tunnelframe import __version__

    found: dict[str, str] = {}
    for page in range(1, 51):
        request = urllib.request.Request(
            f"{url}?per_page=100&page={page}",
            headers={
                "Accept": "application/vnd.github+json",
                "User-Agent": f"tunnelframe/{__version__}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                payload = json.load(response)
        except (OSError, ValueError) as exc:
            raise TunnelframeError(
                f"GET {url} failed: {exc}: check the connection, or {_HOW_TO_UPDATE}"
            ) from exc
        if not isinstance(payload, list):
            raise SchemaError(f"page {page}", "expected a JSON array of GitHub releases")
        for item in payload:
            if not isinstance(item, dict) or item.get("draft") or item.get("prerelease"):
                continue
            version, when = _parse(item.get("tag_name")), item.get("published_at")
            if version.is_known and version.commits == 0 and isinstance(when, str):
                found.setdefault(str(version.release), when)
        if len(payload) < 100:
            break
    bundled = load_releases()
    extra = pd.DataFrame({"version": list(found), "released_on": list(found.values())})
    extra = extra[~extra["version"].isin(bundled["version"])]
    bundled["released_on"] = bundled["released_on"].dt.strftime("%Y-%m-%d")
    cal = _Calendar.from_frame(pd.concat([bundled, extra], ignore_index=True))
    frame = _calendar_frame(cal.versions, cal.days)
    folder = Path(cache_dir) if cache_dir is not None else _cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "cloudflared-releases.csv.tmp"
    frame.assign(released_on=frame["released_on"].dt.strftime("%Y-%m-%d")).to_csv(tmp, index=False)
    tmp.replace(folder / "cloudflared-releases.csv")
    return frame


_NEG = np.int64(-(2**62))  # "no bound" below, in days
_POS = np.int64(2**62)  # "no bound" above, in days


def _days_to_dates(days: np.ndarray) -> pd.Series:
    """Days since 1970-01-01 (``_NEG``/``_POS`` = NA) to UTC midnights."""
    values = np.where((days == _NEG) | (days == _POS), np.iinfo(np.int64).min, days * 86_400)
    stamps = values.astype("datetime64[s]").astype("datetime64[us]")
    return pd.Series(stamps).dt.tz_localize("UTC")


def _day(value: object, what: str) -> np.int64:
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}={value!r} is not a date or time: use e.g. '2026-11-28'") from exc
    if pd.isna(stamp):
        raise ValueError(f"{what} is missing: use e.g. '2026-11-28'")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return np.int64((stamp.normalize() - pd.Timestamp(0)) // pd.Timedelta(days=1))


def _minus_year(day: np.int64) -> np.int64:
    if day in (_NEG, _POS):
        return day
    stamp = pd.Timestamp(0) + pd.Timedelta(days=int(day)) - pd.DateOffset(years=1)
    return np.int64((stamp - pd.Timestamp(0)) // pd.Timedelta(days=1))


@dataclass(frozen=True)
class _Calendar:
    """Releases sorted by version: base keys and release days since the epoch."""

    versions: list[str]
    keys: np.ndarray
    days: np.ndarray

    @classmethod
    def read(cls, releases: object) -> _Calendar:
        if releases is None or (isinstance(releases, Path) and not releases.exists()):
            releases = _data_path("cloudflared-releases.csv")
        if isinstance(releases, str | os.PathLike):
            return cls.from_frame(pd.read_csv(releases, dtype=str, keep_default_na=False))
        if isinstance(releases, pd.DataFrame):
            return cls.from_frame(releases)
        raise TypeError(
            f"releases must be a DataFrame or a CSV path, got {type(releases).__name__}"
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> _Calendar:
        missing = [c for c in ("version", "released_on") if c not in frame.columns]
        if missing:
            raise ValueError(
                f"releases lacks column(s) {missing}: it needs version and released_on "
                "(see tunnelframe.load_releases())"
            )
        parsed = [_parse(v) for v in frame["version"]]
        for row, (raw, version) in enumerate(zip(frame["version"], parsed, strict=True)):
            if not version.is_known or version.commits:
                raise ValueError(f"releases row {row}: version {raw!r} is not YYYY.M.PATCH")
        dates = pd.to_datetime(frame["released_on"], utc=True, errors="coerce", format="mixed")
        bad = np.flatnonzero(dates.isna().to_numpy(bool))
        if len(bad):
            raw = frame["released_on"].iloc[bad[0]]
            raise ValueError(f"releases row {bad[0]}: released_on {raw!r} is not a date")
        days = (dates.dt.tz_localize(None).dt.normalize() - pd.Timestamp(0)) // pd.Timedelta(days=1)
        table = pd.DataFrame(
            {
                "key": [v.key for v in parsed],
                "day": days.to_numpy(np.int64),
                "version": [v.release for v in parsed],
            }
        ).drop_duplicates()
        clash = table["key"].duplicated(keep=False)
        if clash.any():
            raise ValueError(
                f"releases gives two dates for {sorted(set(table.loc[clash, 'version']))}: "
                "keep one row per version"
            )
        table = table.sort_values("key")
        return cls(
            list(table["version"]),
            table["key"].to_numpy(np.int64),
            table["day"].to_numpy(np.int64),
        )

    def bounds(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Earliest and latest possible release day of each base key, and whether it is listed.

        A listed version has its day as both bounds. Any other was released in the month its
        version names, after the release before it and before the release after it.
        """
        n = len(self.keys)
        left = np.searchsorted(self.keys, keys, side="left")
        right = np.searchsorted(self.keys, keys, side="right")
        listed = right > left
        prev_max = np.concatenate([[_NEG], np.maximum.accumulate(self.days)])
        next_min = np.concatenate([np.minimum.accumulate(self.days[::-1])[::-1], [_POS]])
        lo, hi = prev_max[left], next_min[right]
        month = keys // _MONTH_KEY
        year, mon = month // 1000, month % 1000
        valid = (keys >= 0) & (mon >= 1) & (mon <= 12)
        months = np.where(valid, (year - 1970) * 12 + mon - 1, 0)
        first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        last = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1
        lo = np.where(valid, np.maximum(lo, first), lo)
        hi = np.where(valid, np.minimum(hi, last), hi)
        exact = self.days[np.minimum(left, n - 1)] if n else np.zeros(len(keys), np.int64)
        lo, hi = np.where(listed, exact, lo), np.where(listed, exact, hi)
        impossible = lo > hi  # a calendar whose dates do not rise with its versions
        return np.where(impossible, _NEG, lo), np.where(impossible, _POS, hi), listed


class _Latest(NamedTuple):
    version: str
    key: int
    lo: np.int64  # earliest possible release day
    hi: np.int64  # latest possible release day
    listed: bool  # in the calendar (else counted as one extra release)


def _resolve_latest(cal: _Calendar, latest: object, as_of_day: np.int64) -> _Latest:
    if latest is None:
        known = np.flatnonzero(cal.days <= as_of_day)
        if not len(known):
            raise ValueError(
                f"the release calendar has no release on or before as_of "
                f"({_days_to_dates(np.array([as_of_day]))[0].date()}): {_HOW_TO_UPDATE}"
            )
        i = known[np.argmax(cal.keys[known])]
        return _Latest(cal.versions[i], int(cal.keys[i]), cal.days[i], cal.days[i], True)
    date: object = None
    if isinstance(latest, tuple) and len(latest) == 2:
        latest, date = latest
    version = _parse(latest)
    if not isinstance(latest, str) or not version.is_known:
        raise ValueError(
            f"latest={latest!r} is not a cloudflared version: use 'YYYY.M.PATCH' "
            "or ('YYYY.M.PATCH', 'YYYY-MM-DD')"
        )
    key = version.key - version.commits
    listed = bool(np.isin(key, cal.keys))
    if date is not None:
        day = _day(date, "latest's date")
        return _Latest(str(version.release), key, day, day, listed)
    lo, hi, _ = cal.bounds(np.array([key], dtype=np.int64))
    if not listed and lo[0] <= as_of_day < hi[0]:
        hi[0] = as_of_day  # it was out by as_of
    return _Latest(str(version.release), key, lo[0], hi[0], listed)


# --------------------------------------------------------------------------------------------
# Per distinct version


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


# --------------------------------------------------------------------------------------------
# From rows to connectors


def _codes(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 = NA) and the distinct values they index."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(np.int64), s.cat.categories
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniques)


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


def _check_frame(frame: object, required: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            "frame must be a pandas DataFrame (tunnelframe.connections_frame(...)), "
            f"got {type(frame).__name__}"
        )
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"frame lacks column(s) {missing}: pass tunnelframe.connections_frame(...) output"
        )
    return frame


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
    latest: _Latest
    as_of: pd.Timestamp


def _as_of(as_of: object) -> pd.Timestamp:
    if as_of is None:
        return pd.Timestamp.now(tz="UTC")
    _day(as_of, "as_of")  # validates
    stamp = pd.Timestamp(as_of)  # type: ignore[arg-type]
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _drift(
    frame: object, releases: object, latest: object, as_of: object, stacklevel: int
) -> _Drift:
    frame = _check_frame(frame, ("connector_id", "version"))
    frame = _without_placeholders(frame, ("version", "client_version"))
    when = _as_of(as_of)
    as_of_day = _day(when, "as_of")
    cal = _Calendar.read(releases)
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

    per = _per_version(np.array(canon.keys, dtype=np.int64), cal, lat, as_of_day)
    newer = per.newer[version]
    if newer.any():
        seen = sorted({canon.names[v] for v in version[newer]}, key=_parse, reverse=True)
        more = ", …" if len(seen) > 3 else ""
        warnings.warn(
            f"{int(newer.sum())} connector(s) run versions newer than the latest known release "
            f"{lat.version} ({', '.join(seen[:3])}{more}); they count as current, 0 behind. "
            f"The release calendar is out of date: {_HOW_TO_UPDATE}",
            StaleReleasesWarning,
            stacklevel=stacklevel,
        )

    supported = per.supported[version]
    columns: dict[str, Any] = {c: conns.take(frame, c) for c in _ID_COLUMNS}
    columns |= {
        "version": _categorical(out_codes, out_names),
        "released_on": _date_array(per.released_on[version]),
        "latest_version": pd.Categorical.from_codes(
            np.zeros(n_conn, np.int64), categories=pd.Index([lat.version], dtype="str")
        ),
        "releases_behind": _int_array(per.releases_behind[version]),
        "days_behind": _int_array(per.days_behind[version]),
        "age_days": _int_array(per.age_days[version]),
        "supported": pd.arrays.BooleanArray(supported == 1, supported < 0),
        "status": pd.Categorical.from_codes(per.status[version], dtype=_STATUS_DTYPE),
        "client_version_mismatch": pd.arrays.BooleanArray(mismatch, np.zeros(n_conn, bool)),
        "mixed_versions_in_tunnel": pd.arrays.BooleanArray(mixed, np.zeros(n_conn, bool)),
    }
    return _Drift(pd.DataFrame(columns), conns, canon, version, lat, when)


def version_drift(
    frame: pd.DataFrame,
    *,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    latest: str | tuple[str, Any] | None = None,
    as_of: Any = None,
) -> pd.DataFrame:
    """How far behind the newest cloudflared release each connector is, and whether it is supported.

    The rules (what *latest*, *current* and *supported* mean, and what happens to DEV builds,
    git-describe builds and versions missing from the calendar) are in the module docstring.

    Parameters
    ----------
    frame : pandas.DataFrame
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

    Returns
    -------
    pandas.DataFrame
        One row per connector, in the order they first appear, with the columns and dtypes of
        :data:`VERSION_DRIFT_COLUMNS`: ``version`` as reported, ``released_on`` (UTC midnight;
        NaT when not in the calendar), ``latest_version``, ``releases_behind``, ``days_behind``,
        ``age_days`` (Int64), ``supported`` (boolean, NA when undecidable), ``status``
        (``current``/``behind``/``unsupported``/``unknown``), ``client_version_mismatch`` (a
        connection reports another ``client_version``) and ``mixed_versions_in_tunnel``.

    Warns
    -----
    StaleReleasesWarning
        Once per call when connectors run versions newer than the latest release.

    Examples
    --------
    >>> conns = pd.DataFrame({"connector_id": ["a", "b", "c"],
    ...                       "version": ["2026.8.2", "2025.8.0", "DEV"]})
    >>> drift = version_drift(conns, as_of="2026-09-01")
    >>> drift[["version", "releases_behind", "supported", "status"]]
        version  releases_behind  supported       status
    0  2026.8.2                0       True      current
    1  2025.8.0               24      False  unsupported
    2       DEV             <NA>       <NA>      unknown
    """
    return _drift(frame, releases, latest, as_of, stacklevel=3).frame


# --------------------------------------------------------------------------------------------
# The fleet at a glance


@dataclass(frozen=True, eq=False)
class VersionSummary:
    """The fleet's versions at a glance, as returned by :func:`version_summary`.

    Attributes
    ----------
    by_version : pandas.DataFrame
        One row per reported version, newest first (versions without a number, such as
        ``DEV``, then connectors without any version, last): ``version, released_on,
        releases_behind, supported, status, n_connectors, pct`` (percent of all connectors).
    by_tunnel : pandas.DataFrame
        One row per tunnel, the one running the oldest version first (tunnels with no known
        version last): ``account_id, tunnel_id, tunnel_name, n_connectors, n_versions,
        oldest_version, newest_version, n_unsupported``.
    n_connectors, n_tunnels : int
        Connectors and tunnels counted.
    latest_version : str
        The latest release everything is measured against.
    as_of : pandas.Timestamp
        When ages are measured (UTC).
    pct_current, pct_behind, pct_unsupported, pct_unknown : float
        Percent of all connectors with each status (they add up to 100; NaN without connectors).
    median_releases_behind : float
        Over connectors with a known version (NaN when there are none).
    oldest_version : str or None
        The oldest version in use (unknown versions ignored).
    """

    by_version: pd.DataFrame
    by_tunnel: pd.DataFrame
    n_connectors: int
    n_tunnels: int
    latest_version: str
    as_of: pd.Timestamp
    pct_current: float
    pct_behind: float
    pct_unsupported: float
    pct_unknown: float
    median_releases_behind: float
    oldest_version: str | None

    def _lines(self) -> list[str]:
        return [
            f"VersionSummary: {self.n_connectors:,} connectors in {self.n_tunnels:,} tunnels, "
            f"latest release {self.latest_version}, as of {self.as_of:%Y-%m-%d %H:%M} UTC",
            f"current {self.pct_current:.1f}% | behind {self.pct_behind:.1f}% | "
            f"unsupported {self.pct_unsupported:.1f}% | unknown {self.pct_unknown:.1f}%",
            f"median releases behind {self.median_releases_behind:g} | "
            f"oldest version in use {self.oldest_version or '-'}",
            f".by_version: {len(self.by_version)} rows | .by_tunnel: {len(self.by_tunnel)} rows",
        ]

    def __repr__(self) -> str:
        return "\n".join([*self._lines(), "", self.by_version.head(10).to_string(index=False)])

    def _repr_html_(self) -> str:
        import html

        lines = "<br>".join(html.escape(line) for line in self._lines())
        table = self.by_version.head(20).to_html(index=False)
        return f"<p>{lines}</p>{table}"


def version_summary(
    frame: pd.DataFrame,
    *,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    latest: str | tuple[str, Any] | None = None,
    as_of: Any = None,
) -> VersionSummary:
    """Summarise the versions of a fleet: per version, per tunnel, and in a few numbers.

    Parameters
    ----------
    frame : pandas.DataFrame
        Connections as returned by :func:`tunnelframe.connections_frame` (see
        :func:`version_drift`, which this summarises).
    releases, latest, as_of
        As in :func:`version_drift`.

    Returns
    -------
    VersionSummary
        Frames ``by_version`` and ``by_tunnel`` and scalar fields; its repr (and HTML repr in a
        notebook) shows the numbers and the top of ``by_version``.

    Warns
    -----
    StaleReleasesWarning
        Once per call when connectors run versions newer than the latest release.

    Examples
    --------
    >>> conns = pd.DataFrame({"tunnel_id": ["t1", "t1", "t2"], "connector_id": ["a", "b", "c"],
    ...                       "version": ["2026.8.2", "2025.8.0", "2026.8.2"]})
    >>> summary = version_summary(conns, as_of="2026-09-01")
    >>> summary.pct_current, summary.oldest_version
    (66.66666666666667, '2025.8.0')
    >>> summary.by_version[["version", "n_connectors", "pct"]]
        version  n_connectors        pct
    0  2026.8.2             2  66.666667
    1  2025.8.0             1  33.333333
    """
    drift = _drift(frame, releases, latest, as_of, stacklevel=3)
    out, n = drift.frame, len(drift.frame)
    keys = np.append(np.array(drift.canon.keys, dtype=np.int64), -1)[drift.version]

    # by version: one row per reported spelling, measures taken from its first connector
    codes = out["version"].cat.codes.to_numpy(np.int64)
    counts = np.bincount(codes + 1, minlength=len(out["version"].cat.categories) + 1)
    present = np.flatnonzero(counts) - 1
    first = np.full(len(counts), n, dtype=np.int64)
    first[codes[::-1] + 1] = np.arange(n)[::-1]
    at = first[present + 1]
    order = np.lexsort((out["version"].to_numpy(str)[at], -keys[at], present < 0))
    at, present = at[order], present[order]
    by_version = out.iloc[at][["version", "released_on", "releases_behind", "supported", "status"]]
    by_version = by_version.assign(
        n_connectors=pd.array(counts[present + 1], dtype="Int64"),
        pct=100.0 * counts[present + 1] / n if n else np.zeros(0),
    ).reset_index(drop=True)

    # by tunnel
    tunnel = drift.conns.tunnel
    n_tunnels = int(tunnel.max(initial=-1)) + 1
    t_first = _firsts(tunnel)
    known = drift.version >= 0
    width = len(drift.canon.keys) + 1
    pairs = pd.unique(tunnel[known] * width + drift.version[known])
    parsed = keys >= 0
    sort = np.lexsort((keys[parsed], tunnel[parsed]))
    k_tunnel, k_version = tunnel[parsed][sort], drift.version[parsed][sort]
    oldest = np.full(n_tunnels, -1, dtype=np.int64)
    newest = np.full(n_tunnels, -1, dtype=np.int64)
    oldest[k_tunnel[::-1]] = k_version[::-1]
    newest[k_tunnel] = k_version
    oldest_key = np.append(np.array(drift.canon.keys, dtype=np.int64), _POS)[oldest]
    names: list[object] = list(drift.canon.names)
    unsupported = (out["status"] == "unsupported").to_numpy(bool)
    by_tunnel = pd.DataFrame(
        {
            "account_id": out["account_id"].array[t_first],
            "tunnel_id": out["tunnel_id"].array[t_first],
            "tunnel_name": out["tunnel_name"].array[t_first],
            "n_connectors": pd.array(np.bincount(tunnel, minlength=n_tunnels), dtype="Int64"),
            "n_versions": pd.array(np.bincount(pairs // width, minlength=n_tunnels), dtype="Int64"),
            "oldest_version": _categorical(oldest, names),
            "newest_version": _categorical(newest, names),
            "n_unsupported": pd.array(
                np.bincount(tunnel[unsupported], minlength=n_tunnels), dtype="Int64"
            ),
        }
    )
    by_tunnel = by_tunnel.iloc[np.argsort(oldest_key, kind="stable")].reset_index(drop=True)

    status_pct = (
        100.0 * np.bincount(out["status"].cat.codes, minlength=4) / n if n else [np.nan] * 4
    )
    behind = out["releases_behind"].dropna().to_numpy(np.int64)
    return VersionSummary(
        by_version=by_version,
        by_tunnel=by_tunnel,
        n_connectors=n,
        n_tunnels=n_tunnels,
        latest_version=drift.latest.version,
        as_of=drift.as_of,
        pct_current=float(status_pct[0]),
        pct_behind=float(status_pct[1]),
        pct_unsupported=float(status_pct[2]),
        pct_unknown=float(status_pct[3]),
        median_releases_behind=float(np.median(behind)) if len(behind) else float("nan"),
        oldest_version=drift.canon.names[drift.version[np.argmin(np.where(keys >= 0, keys, _POS))]]
        if (keys >= 0).any()
        else None,
    )


# --------------------------------------------------------------------------------------------
# Remote configuration


def _remote_flags(
    frame: pd.DataFrame, conns: _Connectors, tunnels: pd.DataFrame | None
) -> np.ndarray | None:
    """Whether each connector's tunnel is remotely managed; None when nothing says."""
    source = frame
    if tunnels is not None:
        _check_frame(tunnels, ("tunnel_id",))
        if not {"remote_config", "config_src"} & set(tunnels.columns):
            raise ValueError("tunnels lacks remote_config and config_src: pass tunnels_frame(...)")
        lookup = tunnels.drop_duplicates("tunnel_id").set_index(
            tunnels.drop_duplicates("tunnel_id")["tunnel_id"].astype(str)
        )
        ids = pd.Series(conns.take(frame, "tunnel_id")).astype(str)
        source = lookup.reindex(ids.to_numpy()).reset_index(drop=True)
        first = np.arange(len(source))
    else:
        first = conns.first
    flags = None
    if "remote_config" in source.columns:
        flags = source["remote_config"].astype("boolean").fillna(False).to_numpy(bool)[first]
    if "config_src" in source.columns:
        src = (source["config_src"].astype(str) == "cloudflare").to_numpy(bool)[first]
        flags = src if flags is None else flags | src
    return flags


def config_drift(frame: pd.DataFrame, *, tunnels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Connectors of remotely managed tunnels that run an older configuration than their tunnel.

    A tunnel's configuration version is the newest ``config_version`` any of its connectors
    runs; a connector with a lower one has not applied the newest configuration yet.
    Connectors without a ``config_version`` are left out.

    Parameters
    ----------
    frame : pandas.DataFrame
        Connections as returned by :func:`tunnelframe.connections_frame` (or connectors, as
        returned by :func:`tunnelframe.connectors_frame`). Needs ``connector_id`` and
        ``config_version``.
    tunnels : pandas.DataFrame, optional
        :func:`tunnelframe.tunnels_frame` output, to keep only remotely managed tunnels
        (``remote_config`` true or ``config_src == "cloudflare"``). Without it, a
        ``remote_config``/``config_src`` column of ``frame`` is used when present; otherwise
        every tunnel is checked (connectors of a locally managed tunnel all report the same
        version, so they never show up).

    Returns
    -------
    pandas.DataFrame
        One row per lagging connector, in the order they first appear, with the columns and
        dtypes of :data:`CONFIG_DRIFT_COLUMNS`: the ids, ``version``, ``run_at``,
        ``config_version``, ``tunnel_config_version`` (the tunnel's newest) and
        ``config_versions_behind``.

    Examples
    --------
    >>> conns = pd.DataFrame({"tunnel_id": ["t1", "t1", "t1"], "connector_id": ["a", "b", "c"],
    ...                       "config_version": [7, 5, 7]})
    >>> config_drift(conns)[["connector_id", "config_version", "tunnel_config_version"]]
      connector_id  config_version  tunnel_config_version
    0            b               5                      7
    """
    frame = _check_frame(frame, ("connector_id", "config_version"))
    frame = _without_placeholders(frame, ("config_version",))
    conns = _Connectors.of(frame)
    raw = pd.to_numeric(frame["config_version"], errors="coerce").astype("Float64")
    valid = raw.notna().to_numpy(bool)[conns.first]
    values = raw.fillna(0).to_numpy(np.int64)[conns.first]
    n_tunnels = int(conns.tunnel.max(initial=-1)) + 1
    newest = np.full(n_tunnels, _NA, dtype=np.int64)
    np.maximum.at(newest, conns.tunnel[valid], values[valid])
    tunnel_newest = newest[conns.tunnel]
    lagging = valid & (values < tunnel_newest)
    remote = _remote_flags(frame, conns, tunnels)
    if remote is not None:
        lagging &= remote
    pick = np.flatnonzero(lagging)
    columns: dict[str, Any] = {c: conns.take(frame, c)[pick] for c in (*_ID_COLUMNS, "version")}
    if "run_at" in frame.columns:
        run_at = pd.to_datetime(frame["run_at"], utc=True, errors="coerce").astype(_DATE)
        columns["run_at"] = run_at.array[conns.first[pick]]
    else:
        columns["run_at"] = _days_to_dates(np.full(len(pick), _NEG))
    columns |= {
        "config_version": _int_array(values[pick]),
        "tunnel_config_version": _int_array(tunnel_newest[pick]),
        "config_versions_behind": _int_array(tunnel_newest[pick] - values[pick]),
    }
    return pd.DataFrame(columns)
