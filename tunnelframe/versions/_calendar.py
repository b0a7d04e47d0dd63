"""The cloudflared release calendar: loading, refreshing, date bounds and the latest release.

Reads the bundled CSV, a user's CSV or frame, and (only in the opt-in ``refresh_releases``)
GitHub's release list. Dates are handled as whole UTC days since 1970-01-01.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from tunnelframe._data import _data_path
from tunnelframe._errors import SchemaError, TunnelframeError, TunnelframeWarning
from tunnelframe._io import atomic_write
from tunnelframe._text import calendar_advice
from tunnelframe._types import TimeLike
from tunnelframe._versionorder import _MONTH_KEY, _parse
from tunnelframe.client import get_public_json
from tunnelframe.versions._cache import _cache_dir
from tunnelframe.versions._security import _refreshed, _write_cache

__all__ = [
    "STALE_AFTER_DAYS",
    "StaleReleasesWarning",
    "load_releases",
    "refresh_releases",
    "stale_calendar_note",
]

_log = logging.getLogger(__name__)

_DATE = pd.DatetimeTZDtype(unit="us", tz="UTC")
_GITHUB_RELEASES_URL = "https://api.github.com/repos/cloudflare/cloudflared/releases"


#: A calendar whose newest release is older than this, at ``as_of``, is called stale:
#: cloudflared has shipped a release every few weeks since 2020.
STALE_AFTER_DAYS = 60


class StaleReleasesWarning(TunnelframeWarning):
    """The release calendar is out of date.

    Raised when the fleet runs versions newer than the newest known release, and when the
    calendar ends more than :data:`STALE_AFTER_DAYS` days before ``as_of`` (its text is
    :func:`stale_calendar_note`'s, the same sentence the CLI and the report print).

    Examples
    --------
    >>> import warnings
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame({"id": "c1", "version": "2099.1.0"})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     drift = tf.version_drift(conns, as_of="2026-08-20")
    >>> caught[0].category.__name__, drift["status"].iloc[0]
    ('StaleReleasesWarning', 'current')
    """


def stale_calendar_note(version: str, released_on: TimeLike, as_of: TimeLike) -> str | None:
    """The sentence saying a calendar ending at ``version`` is stale at ``as_of``, or None.

    A calendar is stale when its newest release (``version`` of ``released_on``) is more than
    :data:`STALE_AFTER_DAYS` days before ``as_of``: newer releases are probably missing, so
    connectors look more current, better supported and less exposed than they are.

    Parameters
    ----------
    version : str
        The calendar's newest release.
    released_on, as_of : datetime-like
        Its release day, and the moment measured at (tz-naive values are UTC).

    Returns
    -------
    str or None
        One sentence with what to do, or None when the calendar is recent enough.

    Examples
    --------
    >>> stale_calendar_note("2026.8.2", "2026-08-14", "2026-09-01") is None
    True
    >>> stale_calendar_note("2026.8.2", "2026-08-14", "2026-12-01")[:72]
    'The release calendar ends at 2026.8.2 (2026-08-14), 109 days before 2026'
    """
    released, when = pd.Timestamp(released_on), pd.Timestamp(as_of)
    age = (_day(when, "as_of") - _day(released, "released_on")).item()
    if age <= STALE_AFTER_DAYS:
        return None
    return (
        f"The release calendar ends at {version} ({released:%Y-%m-%d}), {age} days before "
        f"{when:%Y-%m-%d}: newer cloudflared releases are probably missing, so connectors "
        f"may look more current, better supported and less exposed than they are; "
        f"to update it, {calendar_advice()}."
    )


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
    cache = _cache_dir() / "cloudflared-releases.csv"
    cal = _Calendar.read(cache if cached and cache.exists() else None)
    return _calendar_frame(cal.versions, cal.days)


def refresh_releases(
    *,
    url: str = _GITHUB_RELEASES_URL,
    timeout: float = 10.0,
    cache_dir: str | os.PathLike[str] | None = None,
    deadline: float = 60.0,
    notes: str | os.PathLike[str] | None = None,
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
        Seconds to wait for the next bytes of a page.
    deadline : float, default 60.0
        Seconds the whole refresh may take, every page and redirect included (each page is
        also capped at 16 MiB). A release dated before the month its version names
        (``2099.12.0`` published in 2026) is refused: it would make every connector look
        years behind.
    cache_dir : path, optional
        Where to save it; default ``$TUNNELFRAME_CACHE_DIR`` or the user's cache folder.
    notes : path, optional
        A copy of cloudflared's ``RELEASE_NOTES`` to read the security fixes of releases newer
        than the bundled table from; default the release bodies GitHub lists (read with the
        same rules, :func:`tunnelframe.versions.parse_release_notes`). The fixes are saved
        beside the calendar (``cloudflared-security.json``, with ``refreshed_at``), for
        ``load_security_fixes(cached=True)``.

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
    notes_text = None
    if notes is not None:
        try:
            notes_text = Path(notes).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"notes={str(notes)!r}: cannot read it as text ({exc})") from exc
    found: dict[str, str] = {}
    ends_at = time.monotonic() + deadline
    bodies: dict[str, object] = {}
    for page in range(1, 51):
        left = ends_at - time.monotonic()
        if left <= 0:
            raise TunnelframeError(
                f"refreshing the release calendar took longer than {deadline:.0f} s "
                f"({page - 1} pages read, nothing cached): {calendar_advice(refresh=False)}"
            )
        payload = get_public_json(
            url,
            params={"per_page": "100", "page": str(page)},
            timeout=timeout,
            accept="application/vnd.github+json",
            hint=f"check the connection, or {calendar_advice(refresh=False)}",
            deadline=left,
        )
        if not isinstance(payload, list):
            raise SchemaError(f"page {page}", "expected a JSON array of GitHub releases")
        for item in payload:
            if not isinstance(item, dict) or item.get("draft") or item.get("prerelease"):
                continue
            version, when = _parse(item.get("tag_name")), item.get("published_at")
            if version.is_known and version.commits == 0 and isinstance(when, str):
                if _before_its_month(str(version.release), when):
                    _log.warning(
                        "refresh_releases: %s is dated %s, before the month its version "
                        "names: refused",
                        str(version.release)[:40],
                        when[:40],
                    )
                    continue
                found.setdefault(str(version.release), when)
                bodies.setdefault(str(version.release), item.get("body"))
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
    dated = frame.assign(released_on=frame["released_on"].dt.strftime("%Y-%m-%d"))
    text = dated.to_csv(index=False)
    fixes, header = _refreshed(
        bodies,
        notes_text,
        after=str(bundled["version"].iloc[0]),
        origin=Path(notes).name if notes is not None else url,
        when=pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
    )
    atomic_write(folder / "cloudflared-releases.csv", text.encode("utf-8"))
    _write_cache(fixes, header, folder)
    return frame


def _before_its_month(version: str, published: str) -> bool:
    """Whether a release is dated before the month its ``YYYY.M`` version names (a lie: a
    version names the month it ships in), or is dated at all unreadably."""
    year, _, rest = version.partition(".")
    month = rest.partition(".")[0]
    try:
        when = pd.Timestamp(published)
        named = pd.Timestamp(year=int(year), month=int(month), day=1, tz="UTC")
    except (ValueError, TypeError, OverflowError):
        return True
    if when.tzinfo is None:
        when = when.tz_localize("UTC")
    return bool(when < named - pd.Timedelta(days=1))  # a day of slack for time zones


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
        if releases is None:
            return _bundled()
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


@functools.cache
def _bundled() -> _Calendar:
    """The bundled calendar, read once (a frozen value: nothing may modify its arrays)."""
    cal = _Calendar.read(_data_path("cloudflared-releases.csv"))
    for array in (cal.keys, cal.days):
        array.flags.writeable = False
    return cal


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
                f"({_days_to_dates(np.array([as_of_day]))[0].date()}): {calendar_advice()}"
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
