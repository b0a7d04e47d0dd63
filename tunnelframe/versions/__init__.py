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
* **WARP Connector.** A connector of a ``warp_connector`` tunnel (``tun_type`` column) runs the
  Cloudflare WARP client, whose versions are ``YEAR.MONTH.BUILD.N`` (``2025.1.861.0``,
  ``2025.2.600.0``: the WARP release notes in cloudflare/cloudflare-docs, PRs #19501 and
  #20115, and ``warp-cli`` output). That is another release line with no calendar bundled
  here, so its status is ``unknown`` and every measure NA, rather than a comparison with
  cloudflared's releases; ``mixed_versions_in_tunnel`` still compares a pair's members.
* **Security fixes.** A connector lacks the security fixes of the releases after its base
  release, up to and including the latest (``data/cloudflared-security.json``, read from
  cloudflared's ``RELEASE_NOTES`` and ``CHANGES.md`` at a named commit; a fix a later release
  reverted counts nowhere). ``fixed_in`` is the lowest release with all it lacks.
* **Calendar age.** A calendar ending more than :data:`STALE_AFTER_DAYS` days before
  ``as_of`` raises a :class:`StaleReleasesWarning` (:func:`stale_calendar_note`).
* ``released_on`` is the UTC midnight of the release day (``datetime64[us, UTC]``), so it can be
  subtracted from ``run_at``; ``age_days`` counts whole days from it to ``as_of``.
"""

from __future__ import annotations

from tunnelframe.versions._calendar import (
    STALE_AFTER_DAYS,
    StaleReleasesWarning,
    load_releases,
    refresh_releases,
    stale_calendar_note,
)
from tunnelframe.versions._config import CONFIG_DRIFT_COLUMNS, config_drift
from tunnelframe.versions._drift import STATUSES, VERSION_DRIFT_COLUMNS, version_drift
from tunnelframe.versions._parse import Version, parse_version
from tunnelframe.versions._platforms import (
    DEPRECATED_PLATFORMS_COLUMNS,
    deprecated_platforms,
    load_platform_deprecations,
)
from tunnelframe.versions._security import (
    SECURITY_FIXES_COLUMNS,
    load_security_fixes,
    parse_changes,
    parse_release_notes,
    security_exposure,
)
from tunnelframe.versions._summary import VersionSummary, version_summary

__all__ = [
    "CONFIG_DRIFT_COLUMNS",
    "DEPRECATED_PLATFORMS_COLUMNS",
    "SECURITY_FIXES_COLUMNS",
    "STALE_AFTER_DAYS",
    "STATUSES",
    "VERSION_DRIFT_COLUMNS",
    "StaleReleasesWarning",
    "Version",
    "VersionSummary",
    "config_drift",
    "deprecated_platforms",
    "load_platform_deprecations",
    "load_releases",
    "load_security_fixes",
    "parse_changes",
    "parse_release_notes",
    "parse_version",
    "refresh_releases",
    "security_exposure",
    "stale_calendar_note",
    "version_drift",
    "version_summary",
]
