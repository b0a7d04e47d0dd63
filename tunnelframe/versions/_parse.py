"""Parsing cloudflared versions into orderable tuples and integer sort keys.

Pure functions on strings and on whole columns (once per distinct value); no I/O, no calendar.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import pandas as pd

from tunnelframe._checks import _codes
from tunnelframe._versionorder import Version, _parse

__all__ = ["Version", "parse_version"]


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
