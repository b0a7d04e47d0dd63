"""Parsing cloudflared versions into orderable tuples, and version columns ordered by release.

A shared leaf: frames, the history store and the analysis layers all order ``version`` and
``client_version`` columns the same way (unknown builds first, then releases oldest to newest,
a git-describe build right after its tag). No I/O, no calendar.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__: list[str] = []


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

#: The columns holding cloudflared versions, ordered categoricals in every frame.
_VERSION_COLUMNS = frozenset(
    {
        "version",
        "client_version",
        "latest_version",
        "previous_version",
        "oldest_version",
        "newest_version",
        "fixed_in",
    }
)


def _parse(value: object) -> Version:
    if not isinstance(value, str):
        return _UNKNOWN
    match = _VERSION_RE.fullmatch(value.strip())
    if match is None:
        return _UNKNOWN
    year, month, patch, commits = match.groups()
    return Version(int(year), int(month), int(patch), int(commits or 0))


#: A WARP client version (``2025.2.600.0``), reported by WARP Connector members: another
#: release line, ordered after every cloudflared version so ``min()`` never picks one.
_WARP_RE = re.compile(r"\d{4}\.\d{1,2}\.\d{1,6}\.\d{1,6}")


def _ordered_versions(values: pd.Series) -> pd.Categorical:
    """``values`` as a categorical ordered by release (unknown first, ties by text; WARP
    client versions last, in their own order).

    A categorical keeps its codes' values (only its categories are re-ordered), so this costs
    one parse per distinct value.
    """
    cat = pd.Categorical(values)
    categories = cat.categories
    texts = [str(c) for c in categories]
    keys = [
        (1, *(int(p) for p in t.strip().split(".")))
        if _WARP_RE.fullmatch(t.strip())
        else (0, _parse(t).key)
        for t in texts
    ]
    order = sorted(range(len(texts)), key=lambda i: (keys[i], texts[i]))
    if cat.ordered and order == list(range(len(texts))):
        return cat
    return cat.reorder_categories(categories[np.asarray(order, dtype=np.int64)], ordered=True)


def _order_version_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each categorical version column ordered by release (in place; returned)."""
    for column in _VERSION_COLUMNS.intersection(frame.columns):
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = _ordered_versions(frame[column])
    return frame
