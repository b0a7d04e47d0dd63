"""The fleet's versions at a glance: ``VersionSummary`` and ``version_summary``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tunnelframe._checks import _BOOL
from tunnelframe._deprecate import renamed
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe._versionorder import _order_version_columns
from tunnelframe.versions._calendar import _DATE, _POS
from tunnelframe.versions._drift import _STATUS_DTYPE, _categorical, _drift, _firsts

__all__ = ["VersionSummary", "version_summary"]

_BY_VERSION_COLUMNS: dict[str, Any] = {
    "version": "category",
    "released_on": _DATE,
    "releases_behind": "Int64",
    "supported": _BOOL,
    "status": _STATUS_DTYPE,
    "n_connectors": "Int64",
    "share": "float64",
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


@dataclass(frozen=True, eq=False)
class VersionSummary:
    """The fleet's versions at a glance, as returned by :func:`version_summary`.

    Attributes
    ----------
    by_version : pandas.DataFrame
        One row per reported version, newest first (versions without a number, such as
        ``DEV``, then connectors without any version, last): ``version, released_on,
        releases_behind, supported, status, n_connectors, share`` (share of all connectors,
        0–1).
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
    current_share, behind_share, unsupported_share, unknown_share : float
        Share of all connectors with each status, 0–1 (with ``warp_share`` they add up to 1;
        NaN without connectors). The reprs and the report show them as percentages.
    median_releases_behind : float
        Over connectors with a known version (NaN when there are none).
    oldest_version : str or None
        The oldest version in use (unknown versions ignored).
    warp_share : float
        Share of connectors that are WARP Connector members, 0–1: they run the WARP client,
        another release line, so they are neither current nor unknown cloudflared versions.
        The five shares add up to 1.
    by_warp_version : pandas.DataFrame
        The WARP client versions of those members (``version, n_connectors, share``), newest
        first; they are not rows of ``by_version``.
    stale_calendar : str or None
        The sentence saying the release calendar ends more than 60 days before ``as_of``
        (:func:`tunnelframe.versions.stale_calendar_note`), or None.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> conns = tf.connections_frame(tf.load_sample())
    >>> summary = tf.version_summary(conns, as_of=tf.datasets.SAMPLE_AS_OF)
    >>> summary.latest_version, summary.n_connectors == conns["connector_id"].nunique()
    ('2026.8.2', True)
    >>> shares = [summary.current_share, summary.behind_share, summary.unsupported_share]
    >>> round(sum(shares) + summary.unknown_share + summary.warp_share, 9)
    1.0
    """

    by_version: pd.DataFrame
    by_tunnel: pd.DataFrame
    n_connectors: int
    n_tunnels: int
    latest_version: str
    as_of: pd.Timestamp
    current_share: float
    behind_share: float
    unsupported_share: float
    unknown_share: float
    median_releases_behind: float
    oldest_version: str | None
    warp_share: float = 0.0
    by_warp_version: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"version": [], "n_connectors": [], "share": []}
        ).astype({"version": "str", "n_connectors": "Int64", "share": "float64"})
    )
    stale_calendar: str | None = None

    def _lines(self) -> list[str]:
        warp = f" | WARP Connector {self.warp_share:.1%}" if len(self.by_warp_version) else ""
        lines = [
            f"VersionSummary: {self.n_connectors:,} connectors in {self.n_tunnels:,} tunnels, "
            f"latest release {self.latest_version}, as of {self.as_of:%Y-%m-%d %H:%M} UTC",
        ]
        if self.stale_calendar:
            lines.append(f"stale calendar: {self.stale_calendar}")
        lines += [
            f"current {self.current_share:.1%} | behind {self.behind_share:.1%} | "
            f"unsupported {self.unsupported_share:.1%} | unknown {self.unknown_share:.1%}{warp}",
            f"median releases behind {self.median_releases_behind:g} | "
            f"oldest version in use {self.oldest_version or '-'}",
        ]
        if len(self.by_warp_version):
            shown = ", ".join(
                f"{v} ×{n}"
                for v, n in zip(
                    self.by_warp_version["version"],
                    self.by_warp_version["n_connectors"],
                    strict=True,
                )
            )
            lines.append(f"WARP client versions (not cloudflared's): {shown}")
        lines.append(
            f".by_version: {len(self.by_version)} rows | .by_tunnel: {len(self.by_tunnel)} rows"
        )
        return lines

    def _shown(self, n: int) -> pd.DataFrame:
        """The first ``n`` versions for display: dates as dates, shares as percentages."""
        shown = self.by_version.head(n).copy()
        shown["released_on"] = shown["released_on"].dt.strftime("%Y-%m-%d").fillna("-")
        shown["share"] = shown["share"].map("{:.1%}".format)
        return shown.astype(object).where(shown.notna(), "-")

    def _more(self, n: int) -> str:
        rest = len(self.by_version) - n
        return f"… {rest} more version(s) in .by_version" if rest > 0 else ""

    def __repr__(self) -> str:
        table = self._shown(10).to_string(index=False)
        return "\n".join(filter(None, [*self._lines(), "", table, self._more(10)]))

    def _repr_html_(self) -> str:
        import html

        lines = "<br>".join(html.escape(line) for line in self._lines())
        table = self._shown(20).to_html(index=False)
        more = html.escape(self._more(20))
        return f"<p>{lines}</p>{table}" + (f"<p>{more}</p>" if more else "")


@renamed(frame="source")
def version_summary(
    source: FleetSource,
    *,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    latest: str | tuple[str, Any] | None = None,
    as_of: TimeLike | None = None,
    fixes: pd.DataFrame | str | os.PathLike[str] | None = None,
) -> VersionSummary:
    """Summarise the versions of a fleet: per version, per tunnel, and in a few numbers.

    Parameters
    ----------
    source : Snapshot, path, fleet dict or pandas.DataFrame
        Connections as returned by :func:`tunnelframe.connections_frame` (see
        :func:`version_drift`, which this summarises).
    releases, latest, as_of, fixes
        As in :func:`version_drift`.

    Returns
    -------
    VersionSummary
        Frames ``by_version`` and ``by_tunnel`` and scalar fields; its repr (and HTML repr in a
        notebook) shows the numbers and the top of ``by_version``.

    Warns
    -----
    StaleReleasesWarning
        As :func:`version_drift`: versions newer than the latest release, or a calendar that
        ends more than 60 days before ``as_of`` (then ``stale_calendar`` says so too).

    Examples
    --------
    >>> conns = pd.DataFrame({"tunnel_id": ["t1", "t1", "t2"], "connector_id": ["a", "b", "c"],
    ...                       "version": ["2026.8.2", "2025.8.0", "2026.8.2"]})
    >>> summary = version_summary(conns, as_of="2026-09-01")
    >>> summary.current_share, summary.oldest_version
    (0.6666666666666666, '2025.8.0')
    >>> summary.by_version[["version", "n_connectors", "share"]]
        version  n_connectors     share
    0  2026.8.2             2  0.666667
    1  2025.8.0             1  0.333333
    """
    drift = _drift(
        source, releases, latest, as_of, stacklevel=4, func="version_summary", fixes=fixes
    )
    out, n = drift.frame, len(drift.frame)
    keys = np.append(np.array(drift.canon.keys, dtype=np.int64), -1)[drift.version]

    # by version: one row per reported spelling, measures taken from its first connector
    codes = out["version"].cat.codes.to_numpy(np.int64)
    # WARP Connector members run the WARP client: their versions get their own table (a
    # member reporting no version stays an unknown one).
    warp = drift.warp & (codes >= 0)
    warp_codes = codes[warp]
    rows = np.flatnonzero(~warp)
    counts = np.bincount(codes[rows] + 1, minlength=len(out["version"].cat.categories) + 1)
    present = np.flatnonzero(counts) - 1
    first = np.full(len(counts), n, dtype=np.int64)
    first[codes[rows][::-1] + 1] = rows[::-1]
    at = first[present + 1]
    spelled = np.append(out["version"].cat.categories.to_numpy(str), "")[present]
    order = np.lexsort((spelled, -keys[at], present < 0))
    at, present = at[order], present[order]
    by_version = out.iloc[at][["version", "released_on", "releases_behind", "supported", "status"]]
    by_version = by_version.assign(
        n_connectors=pd.array(counts[present + 1], dtype="Int64"),
        share=counts[present + 1] / n if n else np.zeros(0),
    ).reset_index(drop=True)

    # by tunnel
    tunnel = drift.conns.tunnel
    n_tunnels = int(tunnel.max(initial=-1)) + 1
    t_first = _firsts(tunnel)
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
            "n_versions": pd.array(drift.n_versions, dtype="Int64"),
            "oldest_version": _categorical(oldest, names),
            "newest_version": _categorical(newest, names),
            "n_unsupported": pd.array(
                np.bincount(tunnel[unsupported], minlength=n_tunnels), dtype="Int64"
            ),
        }
    )
    by_tunnel = by_tunnel.iloc[np.argsort(oldest_key, kind="stable")].reset_index(drop=True)
    by_tunnel = _order_version_columns(by_tunnel)

    w_counts = np.bincount(warp_codes, minlength=len(out["version"].cat.categories))
    w_present = np.flatnonzero(w_counts)
    w_names = [str(v) for v in out["version"].cat.categories[w_present]]
    w_order = sorted(range(len(w_present)), key=lambda i: _warp_key(w_names[i]), reverse=True)
    by_warp_version = pd.DataFrame(
        {
            "version": pd.array([w_names[i] for i in w_order], dtype="str"),
            "n_connectors": pd.array([w_counts[w_present[i]] for i in w_order], dtype="Int64"),
            "share": np.array([w_counts[w_present[i]] / n for i in w_order], dtype="float64"),
        }
    )
    status = out["status"].cat.codes.to_numpy(np.int64)
    status_share = np.bincount(np.where(warp, 4, status), minlength=5) / n if n else [np.nan] * 5
    behind = out["releases_behind"].dropna().to_numpy(np.int64)
    return VersionSummary(
        by_version=by_version,
        by_tunnel=by_tunnel,
        n_connectors=n,
        n_tunnels=n_tunnels,
        latest_version=drift.latest.version,
        as_of=drift.as_of,
        current_share=float(status_share[0]),
        behind_share=float(status_share[1]),
        unsupported_share=float(status_share[2]),
        unknown_share=float(status_share[3]),
        median_releases_behind=float(np.median(behind)) if len(behind) else float("nan"),
        oldest_version=drift.canon.names[drift.version[np.argmin(np.where(keys >= 0, keys, _POS))]]
        if (keys >= 0).any()
        else None,
        warp_share=float(status_share[4]),
        by_warp_version=by_warp_version,
        stale_calendar=drift.stale,
    )


def _warp_key(version: str) -> tuple[int, ...]:
    """A WARP client version (``2025.2.600.0``) as numbers, for ordering."""
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))
