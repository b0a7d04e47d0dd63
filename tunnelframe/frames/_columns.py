"""Build pandas columns from the payload's columns, and the text summaries of connectors.

Nothing here reads raw payloads (that is ``_payload``) or validates anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa

from tunnelframe._versionorder import _order_version_columns
from tunnelframe.frames._payload import _NAT, _NO_STRINGS, _Payload
from tunnelframe.frames._schema import _CONTEXT_SCHEMA

__all__: list[str] = []


def _categorical(codes: np.ndarray, categories: pa.Array) -> pd.Categorical:
    """A categorical from codes (-1: NA) into ``categories`` (distinct, sorted strings)."""
    strings = pd.arrays.ArrowExtensionArray(categories)
    dtype = pd.CategoricalDtype(pd.Index(strings, copy=False))
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _take_codes(encoded: tuple[np.ndarray, pa.Array], rows: np.ndarray | None) -> pd.Categorical:
    """A categorical of the rows ``rows`` of an encoded column (row -1: NA)."""
    codes, categories = encoded
    if rows is not None:
        codes = np.append(codes, -1)[rows]
    return _categorical(codes, categories)


def _take_times(micros: np.ndarray, rows: np.ndarray | None) -> pd.api.extensions.ExtensionArray:
    if rows is not None:
        micros = np.append(micros, _NAT)[rows]
    return cast(
        pd.api.extensions.ExtensionArray, pd.array(micros.view("M8[us]")).tz_localize("UTC")
    )


def _take_masked(
    pair: tuple[np.ndarray, np.ndarray], rows: np.ndarray | None, dtype: str
) -> pd.api.extensions.ExtensionArray:
    values, mask = pair
    if rows is not None:
        values = np.append(values, values.dtype.type(0))[rows]
        mask = np.append(mask, True)[rows]
    if dtype == "bool":
        return pd.arrays.ArrowExtensionArray(pa.array(values, type=pa.bool_(), mask=mask))
    return pd.arrays.IntegerArray(values, mask)


def _take_strings(arr: pa.Array, rows: np.ndarray | None) -> pd.api.extensions.ExtensionArray:
    if rows is not None:
        arr = arr.take(pa.array(rows, mask=rows < 0))
    return pd.arrays.ArrowExtensionArray(arr)


def _text(values: list[str]) -> pd.api.extensions.ExtensionArray:
    return pd.arrays.ArrowExtensionArray(pa.array(values, type=pa.string()))


def _empty_like(schema: Mapping[str, str | pd.ArrowDtype]) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for name, dtype in schema.items():
        if dtype == "category":
            columns[name] = _categorical(np.zeros(0, dtype=np.int8), _NO_STRINGS)
        else:
            columns[name] = pd.Series([], dtype=dtype).array
    return columns


def _context(p: _Payload, connector_rows: np.ndarray) -> dict[str, Any]:
    """Tunnel context columns for rows whose connector indices are ``connector_rows``."""
    if not p.tunnels:
        empty = _categorical(np.full(len(connector_rows), -1, dtype=np.int8), _NO_STRINGS)
        return dict.fromkeys(_CONTEXT_SCHEMA, empty)
    tunnel_rows = p.tunnel_of[connector_rows] if len(p.tunnel_of) else connector_rows
    return {name: _take_codes(p.tunnel[name], tunnel_rows) for name in _CONTEXT_SCHEMA}


def _connector_columns(p: _Payload, rows: np.ndarray | None) -> dict[str, Any]:
    c = p.connector
    return {
        "connector_id": _take_codes(c["connector_id"], rows),
        "arch": _take_codes(c["arch"], rows),
        "version": _take_codes(c["version"], rows),
        "config_version": _take_masked(c["config_version"], rows, "Int32"),
        "run_at": _take_times(c["run_at"], rows),
        "features": _take_codes(c["features"], rows),
    }


def _kind_columns(p: _Payload, connector_rows: np.ndarray) -> dict[str, Any]:
    """``tun_type`` (of the tunnel) and ``ha_status`` (of the connector) for rows whose
    connector indices are ``connector_rows``."""
    if p.tunnels:
        tunnel_rows = p.tunnel_of[connector_rows] if len(p.tunnel_of) else connector_rows
        tun_type = _take_codes(p.tunnel["tun_type"], tunnel_rows)
    else:
        tun_type = _categorical(np.full(len(connector_rows), -1, dtype=np.int8), _NO_STRINGS)
    ha_status = _take_codes(p.connector["ha_status"], connector_rows)
    # Only a WARP Connector (Cloudflare Mesh) member has ha_status: its /connections reply
    # given as it is, with no tunnel around it, is still WARP's.
    warp = (tun_type.codes < 0) & (ha_status.codes >= 0)
    if warp.any():
        values = tun_type.astype(object)
        values[warp] = "warp_connector"
        names = pa.array(sorted({str(v) for v in values[~pd.isna(values)]}), type=pa.string())
        lookup = {name: code for code, name in enumerate(names.to_pylist())}
        codes = np.array([lookup.get(v, -1) if isinstance(v, str) else -1 for v in values])
        tun_type = _categorical(codes.astype(np.int8), names)
    return {"tun_type": tun_type, "ha_status": ha_status}


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    # Version columns order by release (so max, min, sort and < work), not as text.
    return _order_version_columns(pd.DataFrame(columns, copy=False))


def _edge_strings(
    groups: np.ndarray,
    colo_codes: np.ndarray,
    colos: list[str],
    active: np.ndarray,
    n_groups: int,
) -> list[str]:
    """cloudflared's edge string per group, e.g. ``"1xATL, 2xDFW"``.

    ``groups`` and ``colo_codes`` (-1: unknown colo) give each connection's group and colo;
    only connections where ``active`` and whose colo is known are counted. Colos are sorted by
    name as ``cloudflared tunnel list`` sorts them; a group with none gets ``""``.
    """
    out = [""] * n_groups
    keep = active & (colo_codes >= 0)
    if not keep.any():
        return out
    rank = np.empty(len(colos), dtype=np.int64)
    rank[np.argsort(np.asarray(colos, dtype=object), kind="stable")] = np.arange(len(colos))
    by_name = sorted(colos)
    pairs = groups[keep] * len(colos) + rank[colo_codes[keep]]
    uniques, counts = np.unique(pairs, return_counts=True)
    pair_groups, pair_colos = np.divmod(uniques, len(colos))
    bounds = np.flatnonzero(np.diff(pair_groups)) + 1
    starts = np.concatenate(([0], bounds)).tolist()
    stops = np.concatenate((bounds, [len(uniques)])).tolist()
    labels = [
        f"{n}x{by_name[c]}" for n, c in zip(counts.tolist(), pair_colos.tolist(), strict=True)
    ]
    for group, start, stop in zip(pair_groups[starts].tolist(), starts, stops, strict=True):
        out[group] = ", ".join(labels[start:stop])
    return out


def _distinct_strings(
    groups: np.ndarray, codes: np.ndarray, categories: list[str], n_groups: int
) -> list[str]:
    """The distinct known values per group, sorted and joined with ", " ("" when none)."""
    out = [""] * n_groups
    keep = codes >= 0
    if not keep.any():
        return out
    order = sorted(range(len(categories)), key=categories.__getitem__)
    rank = np.empty(len(categories), dtype=np.int64)
    rank[order] = np.arange(len(categories))
    uniques = np.unique(groups[keep] * len(categories) + rank[codes[keep]])
    pair_groups, pair_values = np.divmod(uniques, len(categories))
    for group, value in zip(pair_groups.tolist(), pair_values.tolist(), strict=True):
        text = categories[order[value]]
        out[group] = f"{out[group]}, {text}" if out[group] else text
    return out
