"""Shared plumbing of the colo analyses: input checks, grouping on codes, per-connector counts.

Private to :mod:`tunnelframe.colos`. Works on integer codes with numpy (no per-row Python) and
never modifies the frame it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from tunnelframe._checks import _codes
from tunnelframe.frames import CONNECTORS_SCHEMA, connection_flags

__all__: list[str] = []

# Text columns take the frames' string dtype, so results line up with connectors_frame's.
_STR: Any = CONNECTORS_SCHEMA["edges"]

_CONNECTOR_KEYS = ("account_id", "tunnel_id", "tunnel_name", "connector_id")
_TUNNEL_KEYS = ("account_id", "tunnel_id", "tunnel_name")


# A site code: three letters (the metro's IATA code) and an optional site number.
_SITE = re.compile(r"([A-Za-z]{3})([0-9]{1,3})?")


def _split(code: str) -> tuple[str, int | None]:
    """``(metro, site number)`` of a colo code: ``ord12`` -> ``("ORD", 12)``, ``ORD`` ->
    ``("ORD", None)``. A code in neither form is its own metro, upper-cased."""
    key = code.strip()
    match = _SITE.fullmatch(key)
    if match is None:
        return key.upper(), None
    number = match.group(2)
    return match.group(1).upper(), None if number is None else int(number)


def _metro_codes(colos: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """The metro of every value of ``colos`` (a column of colo codes) as integer codes into the
    returned labels (-1 for NA); one parse per distinct code, none per row."""
    categorical = pd.Categorical(colos)
    sites = np.asarray(categorical.codes, dtype=np.int64)
    metros = [_split(str(code))[0] for code in categorical.categories]
    metro_of_site, labels = pd.factorize(pd.Series(metros, dtype=object))
    metro_of_site = np.asarray(metro_of_site, dtype=np.int64)
    out = np.where(sites >= 0, metro_of_site[np.maximum(sites, 0)] if len(metros) else -1, -1)
    return out.astype(np.int64), pd.Index(labels)


class _Groups(NamedTuple):
    codes: np.ndarray  # group of every row, numbered by first appearance
    first: np.ndarray  # row position of each group's first row

    @property
    def n(self) -> int:
        return len(self.first)


def _groups(frame: pd.DataFrame, columns: Sequence[str]) -> _Groups:
    """Group rows by the combination of ``columns`` (NA is a value like any other)."""
    key = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for column in columns:
        codes, labels = _codes(frame[column])
        width = len(labels) + 1
        if size * width >= 2**62:  # keep the combined key inside int64
            key, uniques = pd.factorize(key)
            size = len(uniques)
        key = key * width + (codes + 1)
        size *= width
    group_codes, uniques = pd.factorize(key)
    _, first = np.unique(group_codes, return_index=True)
    return _Groups(group_codes.astype(np.int64), first)


def _take(frame: pd.DataFrame, columns: Sequence[str], rows: np.ndarray) -> dict[str, Any]:
    return {c: frame[c].take(rows).reset_index(drop=True) for c in columns}


def _pair_counts(
    groups: np.ndarray, colos: np.ndarray, n_colos: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (group, colo) pairs sorted by group then colo code, with their row counts."""
    pairs, counts = np.unique(groups * (n_colos + 1) + colos, return_counts=True)
    return pairs // (n_colos + 1), pairs % (n_colos + 1), counts


def _labelled(key_frame: pd.DataFrame, label: Callable[..., str]) -> pd.Series:
    """Apply ``label`` once per distinct row of ``key_frame`` (no per-row Python)."""
    groups = _groups(key_frame, list(key_frame.columns))
    combos = key_frame.iloc[groups.first].itertuples(index=False, name=None)
    texts = np.array([label(*combo) for combo in combos], dtype=object)
    labels: pd.Series = pd.Series(texts[groups.codes] if len(texts) else [], dtype=_STR)
    return labels


def _sorted_category(values: pd.Series) -> pd.Series:
    """The same values as a categorical whose categories are the observed ones, sorted."""
    observed = pd.Series(values.dropna().unique()).astype(str)
    return pd.Series(pd.Categorical(values.astype(object), categories=sorted(observed)))


class _Connectors(NamedTuple):
    """Per-connector counts, aligned on connectors in order of first appearance."""

    rows: np.ndarray  # frame position of each connector's first row
    tunnel: np.ndarray  # tunnel group code of each connector
    n_tunnels: int
    tunnel_rows: np.ndarray  # frame position of each tunnel's first row
    n_active: np.ndarray
    n_pending: np.ndarray
    n_colos: np.ndarray  # distinct sites of active connections
    n_metros: np.ndarray  # distinct metros of active connections
    only_colo: np.ndarray  # the site when n_colos == 1, else ""
    replaced: np.ndarray
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray]  # active (tunnel, site) pairs and counts
    colo_labels: np.ndarray
    n_tunnel_metros: np.ndarray  # distinct metros of each tunnel's active connections
    tunnel_active: np.ndarray  # active connections of each tunnel, with or without connector
    tunnel_pending: np.ndarray
    tunnel_anonymous: np.ndarray  # connections of each tunnel that name no connector


def _connectors(frame: pd.DataFrame) -> _Connectors:
    active_all, pending_all = connection_flags(frame)
    tunnels = _groups(frame, ("account_id", "tunnel_id"))
    rows = np.flatnonzero(frame["connector_id"].notna().to_numpy())
    sub = frame[["account_id", "tunnel_id", "connector_id", "colo_name", "run_at"]].iloc[rows]
    groups = _groups(sub, ("account_id", "tunnel_id", "connector_id"))
    active, pending = active_all[rows], pending_all[rows]
    n_active = np.bincount(groups.codes[active], minlength=groups.n)
    n_pending = np.bincount(groups.codes[pending], minlength=groups.n)
    tunnel = tunnels.codes[rows[groups.first]]

    colo_all, labels = _codes(frame["colo_name"])
    colo_codes = colo_all[rows]
    colo_labels = labels.astype(str).to_numpy()
    located = active & (colo_codes >= 0)
    group_of_pair, colo_of_pair, _ = _pair_counts(
        groups.codes[located], colo_codes[located], len(labels)
    )
    n_colos = np.bincount(group_of_pair, minlength=groups.n)
    only_colo = np.full(groups.n, "", dtype=object)
    single = np.flatnonzero(n_colos == 1)
    only_colo[single] = colo_labels[colo_of_pair[np.searchsorted(group_of_pair, single)]]
    # Tunnel level counts every connection, those that name no connector too (cloudflared's
    # 'tunnel list -o json' gives no client_id): only connector-level answers are unknown.
    located_all = active_all & (colo_all >= 0)
    tunnel_pairs = _pair_counts(tunnels.codes[located_all], colo_all[located_all], len(labels))
    metro_all, metro_labels = _metro_codes(frame["colo_name"])
    metro_codes = metro_all[rows]
    n_metros = np.bincount(
        _pair_counts(groups.codes[located], metro_codes[located], len(metro_labels))[0],
        minlength=groups.n,
    )
    n_tunnel_metros = np.bincount(
        _pair_counts(tunnels.codes[located_all], metro_all[located_all], len(metro_labels))[0],
        minlength=tunnels.n,
    )
    tunnel_active = np.bincount(tunnels.codes[active_all], minlength=tunnels.n)
    tunnel_pending = np.bincount(tunnels.codes[pending_all], minlength=tunnels.n)
    anonymous = (active_all | pending_all) & frame["connector_id"].isna().to_numpy()
    tunnel_anonymous = np.bincount(tunnels.codes[anonymous], minlength=tunnels.n)

    # A connector with only pending reconnects while a newer connector of its tunnel is up is
    # what a restart leaves behind for a few minutes (cloudflared starts under a new id).
    run_at = pd.to_datetime(sub["run_at"].take(groups.first), utc=True).reset_index(drop=True)
    up = n_active > 0
    latest_up = run_at.where(up).groupby(tunnel).max().reindex(tunnel).reset_index(drop=True)
    tunnel_has_up = np.bincount(tunnel, weights=up, minlength=tunnels.n)[tunnel] > 0
    newer = (latest_up > run_at).to_numpy(dtype=bool)
    unknown = (latest_up.isna() | run_at.isna()).to_numpy(dtype=bool)
    replaced = ~up & (n_pending > 0) & tunnel_has_up & (newer | unknown)
    return _Connectors(
        rows[groups.first],
        tunnel,
        tunnels.n,
        tunnels.first,
        n_active,
        n_pending,
        n_colos,
        n_metros,
        only_colo,
        replaced,
        tunnel_pairs,
        colo_labels,
        n_tunnel_metros,
        tunnel_active,
        tunnel_pending,
        tunnel_anonymous,
    )
