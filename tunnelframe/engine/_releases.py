"""Which cloudflared release calendar a report or a check measures with, and how current it is.

:func:`choose_calendar` picks the calendar: the one the caller gives (a frame or a CSV file),
else the one :func:`tunnelframe.refresh_releases` cached when it knows a newer release than the
bundled one, else the bundled one. :func:`calendar_view` then tells whether it is stale for
``as_of`` (a date-based warning with advice a CLI user can follow) and whether the fleet runs
releases newer than it knows, in which case the newest of those is taken as the latest release.
Nothing here fetches.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tunnelframe._text import calendar_advice
from tunnelframe.versions import (
    StaleReleasesWarning,
    load_releases,
    load_security_fixes,
    parse_version,
    stale_calendar_note,
)

__all__ = [
    "Calendar",
    "calendar_view",
    "choose_calendar",
    "choose_fixes",
    "warn_if_stale",
]


@dataclass(frozen=True)
class Calendar:
    """A release calendar, where it came from, and what the analyses should use."""

    frame: pd.DataFrame
    origin: str
    #: the latest release to measure against when the fleet runs newer ones (else None)
    latest: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def newest(self) -> tuple[str, pd.Timestamp]:
        i = int(self.frame["released_on"].to_numpy().argmax())
        return str(self.frame["version"].iloc[i]), pd.Timestamp(self.frame["released_on"].iloc[i])


def _read(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype={"version": "string", "released_on": "string"})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"release calendar {path}: not a CSV file ({exc})") from exc
    missing = [c for c in ("version", "released_on") if c not in frame.columns]
    if missing or frame.empty:
        raise ValueError(
            f"release calendar {path}: needs the columns version,released_on and one row per "
            f"release{' (missing: ' + ', '.join(missing) + ')' if missing else ''}"
        )
    try:
        dates = pd.to_datetime(frame["released_on"], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"release calendar {path}: released_on must be dates ({exc})") from exc
    return pd.DataFrame({"version": frame["version"].astype(str), "released_on": dates})


def choose_calendar(releases: pd.DataFrame | str | os.PathLike[str] | None) -> Calendar:
    """The calendar to measure with (see the module docstring)."""
    if isinstance(releases, pd.DataFrame):
        return Calendar(releases, "the calendar given")
    if releases is not None:
        path = Path(releases)
        return Calendar(_read(path), f"release calendar {path.name}")
    bundled = load_releases()
    cached = load_releases(cached=True)
    if cached["released_on"].max() > bundled["released_on"].max():
        return Calendar(cached, "the refreshed release calendar (cache)")
    return Calendar(bundled, "the release calendar bundled with tunnelframe")


def calendar_view(calendar: Calendar, connections: pd.DataFrame, as_of: pd.Timestamp) -> Calendar:
    """``calendar`` with its notes for ``as_of`` and, when the fleet is ahead of it, ``latest``."""
    version, released = calendar.newest
    notes: list[str] = []
    latest: str | None = None
    names = connections["version"].dropna().astype(str).unique()
    parsed = [parse_version(str(name)) for name in names]
    known = [v for v in parsed if v.is_known and v.commits == 0]
    newest_run = max(known, default=None)
    if newest_run is not None and newest_run > parse_version(version):
        latest = str(newest_run.release)
        notes.append(
            f"The fleet runs cloudflared {latest}, newer than the newest release {version} "
            f"({released:%Y-%m-%d}) in {calendar.origin}: the latest release is taken from the "
            f"fleet ({latest}); release dates after {version} are unknown; to update the "
            f"calendar, {calendar_advice()}."
        )
    stale = stale_calendar_note(version, released, as_of)
    if stale:
        notes.append(stale)
    return Calendar(calendar.frame, calendar.origin, latest, notes)


def choose_fixes() -> pd.DataFrame:
    """The security fixes to measure with: the table :func:`tunnelframe.refresh_releases`
    cached when it extends the bundled one (built on the same cloudflared commit), else the
    bundled table."""
    bundled = load_security_fixes()
    cached = load_security_fixes(cached=True)
    same_base = cached.attrs.get("source", {}).get("commit") == bundled.attrs["source"]["commit"]
    return cached if same_base and cached.attrs.get("refreshed_at") else bundled


def warn_if_stale(
    releases: pd.DataFrame | str | os.PathLike[str] | None, as_of: pd.Timestamp, *, stacklevel: int
) -> None:
    """Warn as :func:`tunnelframe.version_drift` does when the calendar in use is stale at
    ``as_of`` (the same sentence the report and the CLI print as a note)."""
    version, released = choose_calendar(releases).newest
    note = stale_calendar_note(version, released, as_of)
    if note:
        warnings.warn(note, StaleReleasesWarning, stacklevel=stacklevel + 1)
