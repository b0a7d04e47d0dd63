"""Input checks and small array helpers shared by the analysis, plotting and history layers.

Private: nothing here is part of the public API, and nothing here knows about HTTP or matplotlib.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from tunnelframe._errors import AsOfWarning

__all__: list[str] = []

#: The package's one boolean dtype, in every frame: ``bool[pyarrow]``. A flag that cannot be
#: missing never holds NA (so ``astype(bool)``, ``~`` and ``frame[flag]`` just work); one that
#: can (``supported`` for an unknown version) holds ``pd.NA``: ``fillna(False)`` first.
_BOOL = pd.ArrowDtype(pa.bool_())


def _flags(values: object, missing: object = None) -> pd.api.extensions.ExtensionArray:
    """``values`` (bools) as ``bool[pyarrow]``, NA where ``missing`` is true."""
    series = pd.Series(values, dtype="boolean")
    array = series.fillna(False).to_numpy(dtype=bool)
    mask = series.isna().to_numpy() if missing is None else np.asarray(missing, dtype=bool)
    return pd.arrays.ArrowExtensionArray(pa.array(array, type=pa.bool_(), mask=mask))


def _check_frame(
    frame: object,
    func: str,
    *,
    columns: Sequence[str] = (),
    what: str = "a connections frame",
    source: str = "tunnelframe.connections_frame",
) -> pd.DataFrame:
    """``frame`` itself when it is a DataFrame with ``columns``; else a TypeError or ValueError."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"{func} expects {what} (a pandas DataFrame from {source}), got {type(frame).__name__}"
        )
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{func}: frame lacks column(s) {', '.join(missing)}: pass the frame from {source}"
        )
    return frame


def _utc(value: object, name: str) -> pd.Timestamp:
    """``value`` (a datetime, Timestamp or ISO 8601 string) as a UTC Timestamp; naive means UTC.

    A number is refused: pandas would read it as nanoseconds since 1970, never what was meant.
    """
    if isinstance(value, (int, float, np.number)):
        raise TypeError(
            f"{name}={value!r} is a number, not a time: pass a datetime, a pandas Timestamp or "
            f"an ISO 8601 string (for Unix seconds: pd.Timestamp({value!r}, unit='s', tz='UTC'))"
        )
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name}={value!r} is not a time: pass a datetime, a pandas Timestamp or an "
            "ISO 8601 string"
        ) from exc
    if pd.isna(stamp):
        raise ValueError(f"{name} is missing (NaT): pass a datetime or an ISO 8601 string")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _codes(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 for NA) and the distinct values they index, cheap for categoricals."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(dtype=np.int64), series.cat.categories
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniques)


def _warn_if_before_data(
    frame: pd.DataFrame, as_of: pd.Timestamp, func: str, *, stacklevel: int = 3
) -> bool:
    """Warn (and return True) when ``as_of`` is earlier than times the frame records.

    A connector started or a connection opened after ``as_of`` means ``as_of`` is not the
    moment of the data (an early date typed by hand): ages come out negative and releases the
    fleet already runs look unreleased.
    """
    stamps = [
        frame[column].max()
        for column in ("run_at", "opened_at")
        if column in frame.columns and frame[column].notna().any()
    ]
    if not stamps or max(stamps) <= as_of:
        return False
    latest = max(stamps)
    warnings.warn(
        f"{func}: as_of={as_of:%Y-%m-%d %H:%M} UTC is before the data, which records a start "
        f"or connection at {latest:%Y-%m-%d %H:%M} UTC: ages come out negative and versions "
        "the fleet runs look unreleased. "
        "Pass the snapshot's fetch time (or omit as_of for now)",
        AsOfWarning,
        stacklevel=stacklevel,
    )
    return True


def _distinct_text(groups: np.ndarray, series: pd.Series, n_groups: int) -> list[str]:
    """The distinct values of ``series`` per group (``groups``: each row's group, -1 none),
    sorted as text and joined with ``", "``; ``""`` for a group without any."""
    out = [""] * n_groups
    codes, values = _codes(series)
    keep = (codes >= 0) & (groups >= 0)
    if not keep.any():
        return out
    texts = [str(v) for v in values]
    order = sorted(range(len(texts)), key=texts.__getitem__)
    rank = np.empty(len(texts), dtype=np.int64)
    rank[order] = np.arange(len(texts))
    pairs = np.unique(groups[keep] * len(texts) + rank[codes[keep]])
    for group, value in zip(*(a.tolist() for a in np.divmod(pairs, len(texts))), strict=True):
        text = texts[order[value]]
        out[group] = f"{out[group]}, {text}" if out[group] else text
    return out
