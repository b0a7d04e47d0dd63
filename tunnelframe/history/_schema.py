"""The history store's schema: the Arrow type of every stored column, and where a store is.

Both the rows (:mod:`~tunnelframe.history._store`) and the file layout
(:mod:`~tunnelframe.history._layout`) need these; they live here so neither imports the other
back. No I/O beyond checking that a store directory exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from tunnelframe._types import StoreLike
from tunnelframe.frames import CONNECTIONS_SCHEMA

__all__ = ["RECORDS", "ROW_COLUMNS", "STORE_SCHEMA", "existing_store", "store_root"]

_TEXT = pa.dictionary(pa.int32(), pa.string())
_TIME = pa.timestamp("us", tz="UTC")


def _arrow_type(dtype: Any) -> pa.DataType:
    """How a column of ``dtype`` is stored: as pyarrow converts it, with repeated text as
    dictionaries of int32 codes (so that every file has the same schema)."""
    if isinstance(dtype, str) and dtype == "category":
        return _TEXT
    return pa.array(pd.Series([], dtype=dtype)).type


#: The pandas dtype of every stored column, in order: the snapshot time, then the columns of
#: ``connections_frame`` (:data:`tunnelframe.CONNECTIONS_SCHEMA`), then ``uuid`` (which
#: ``connections_frame`` adds only where some uuid differs from its id).
_FRAME_DTYPES: dict[str, Any] = {
    "fetched_at": CONNECTIONS_SCHEMA["run_at"],
    **CONNECTIONS_SCHEMA,
    "uuid": CONNECTIONS_SCHEMA["connection_id"],
}

#: What else a snapshot holds, one row each, told apart by ``record`` (null: a connection, or a
#: tunnel without connector): ``"unread"``, a tunnel that could not be read (its ``errors[]``
#: record: ``detail`` is the message, ``status`` the HTTP status); ``"routing"``, which routing
#: parts were read (``detail``: JSON ``{"read": [...], "notes": [...]}``; no such row: routing
#: not read); ``"hostname"``, ``"route"``, ``"dns"``, a row of ``hostnames_frame``,
#: ``routes_frame``, ``tunnel_dns_frame`` (:mod:`tunnelframe.frames`), in the columns of the
#: same names (``account_id``, ``tunnel_id``, ``tunnel_name`` and ``tun_type`` shared).
RECORDS = ("unread", "routing", "hostname", "route", "dns")
_EXTRA_DTYPES: dict[str, Any] = {
    "record": "category",
    "detail": "category",
    "status": "Int32",
    "hostname": "category",
    "path": "category",
    "service": "category",
    "source": "category",
    "dns_points_here": "boolean",
    "network": "category",
    "virtual_network_id": "category",
    "virtual_network_name": "category",
    "route_id": "category",
    "zone_id": "category",
    "zone_name": "category",
    "tunnel_state": "category",
    "record_id": "category",
}

#: The columns of a connection row, in the order load_history returns them: the snapshot time,
#: then the connections frame's columns, derived from ``CONNECTIONS_SCHEMA``.
ROW_COLUMNS = tuple(_FRAME_DTYPES)

#: Columns of a stored snapshot: :data:`ROW_COLUMNS`, then those of the other records
#: (:data:`RECORDS`). Every file of a store has exactly this schema, so the dataset reads as
#: one table with DuckDB, pyarrow.dataset, Spark or Dask.
STORE_SCHEMA = pa.schema(
    [(name, _arrow_type(dtype)) for name, dtype in {**_FRAME_DTYPES, **_EXTRA_DTYPES}.items()]
)


def store_root(store: StoreLike) -> Path:
    """The one absolute path of a store: ``~`` is the home folder for every reader and writer
    (left as it is, tunnelframe would write to a folder named ``~`` that DuckDB and pyarrow
    then look for in the home folder)."""
    return Path(os.fspath(store)).expanduser().absolute()


def existing_store(store: StoreLike) -> Path:
    root = store_root(store)
    if not root.is_dir():
        raise FileNotFoundError(
            f"history store {root} does not exist: create it with tunnelframe.append_snapshot "
            "or `tunnelframe snapshot --store DIR`"
        )
    return root
