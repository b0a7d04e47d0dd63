"""Parsing cloudflared versions into orderable tuples and integer sort keys.

Pure functions on strings and on whole columns (once per distinct value); no I/O, no calendar.
"""

from __future__ import annotations

import re
from typing import NamedTuple, overload

import numpy as np
import pandas as pd

from tunnelframe._checks import _codes

__all__ = ["Version", "parse_version"]


class Version(NamedTuple):
    """A parsed cloudflared version; tuples order like the versions.

    ``commits`` counts the commits of a git-describe build on top of its release (0 for a
    release). The unknown version is ``Version(-1, -1, -1, -1)`` and sorts first.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> v = tf.parse_version("2026.8.2-1-gd1df7985")
    >>> v, v.release
    (Version(year=2026, month=8, patch=2, commits=1), '2026.8.2')
    >>> tf.parse_version("2025.10.1") > tf.parse_version("2025.9.3")
    True
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
