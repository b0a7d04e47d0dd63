"""The declared schemas of the frames: column names, order and dtypes.

One constant per frame; ``tunnelframe.frames`` re-exports them. Nothing here reads payloads.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

__all__ = ["CONNECTIONS_SCHEMA", "CONNECTORS_SCHEMA", "TUNNELS_SCHEMA"]

_TIME = "datetime64[us, UTC]"
_TEXT = pd.ArrowDtype(pa.string())
_BOOL = pd.ArrowDtype(pa.bool_())

_CONTEXT_SCHEMA: dict[str, str | pd.ArrowDtype] = {
    "account_id": "category",
    "tunnel_id": "category",
    "tunnel_name": "category",
    "tunnel_status": "category",
}
_CONNECTOR_SCHEMA: dict[str, str | pd.ArrowDtype] = {
    "connector_id": "category",
    "arch": "category",
    "version": "category",
    "config_version": "Int32",
    "run_at": _TIME,
    "features": "category",
}

# Added for WARP Connector (Cloudflare Mesh), after every older column so that none moves:
# the tunnel's ``tun_type`` (``cfd_tunnel``, ``warp_connector``; NA when the payload has no
# tunnel or the tunnel no ``tun_type``) and the connector's ``ha_status`` (WARP Connector only:
# ``active``, ``passive``, ``offline``; NA for cloudflared, which has no such field).
_KIND_SCHEMA: dict[str, str | pd.ArrowDtype] = {
    "tun_type": "category",
    "ha_status": "category",
}

#: Columns, order and dtypes of :func:`connections_frame`. The dtypes are chosen to keep a
#: million connections near 100 bytes per row while staying ordinary pandas:
#:
#: * ``"category"``: repeated text; the categories are sorted, distinct pyarrow strings
#:   (``pd.ArrowDtype(pa.string())``) and the codes the smallest integer type that fits;
#: * ``string[pyarrow]`` (``pd.ArrowDtype(pa.string())``): unique text, missing value ``pd.NA``;
#: * ``bool[pyarrow]`` (``pd.ArrowDtype(pa.bool_())``): nullable boolean, missing value
#:   ``pd.NA`` (``frame["is_pending_reconnect"].fillna(False).astype(bool)`` gives numpy bools);
#: * ``"Int32"``: pandas' nullable integer (cloudflared keeps ``config_version`` as an int32);
#: * ``"datetime64[us, UTC]"``: tz-aware UTC times, NaT when missing or a placeholder.
#:
#: A ``uuid`` column (``string[pyarrow]``) is appended only when some connection's ``uuid``
#: differs from its ``id``.
CONNECTIONS_SCHEMA: dict[str, str | pd.ArrowDtype] = {
    **_CONTEXT_SCHEMA,
    **_CONNECTOR_SCHEMA,
    "connection_id": _TEXT,
    "client_id": "category",
    "client_version": "category",
    "colo_name": "category",
    "is_pending_reconnect": _BOOL,
    "opened_at": _TIME,
    "origin_ip": "category",
    **_KIND_SCHEMA,
}

#: Columns, order and dtypes of :func:`connectors_frame` (same conventions as
#: :data:`CONNECTIONS_SCHEMA`).
CONNECTORS_SCHEMA: dict[str, str | pd.ArrowDtype] = {
    **_CONTEXT_SCHEMA,
    **_CONNECTOR_SCHEMA,
    "n_connections": "int64",
    "n_active": "int64",
    "n_pending": "int64",
    "edges": _TEXT,
    "origin_ips": _TEXT,
    **_KIND_SCHEMA,
}

#: Columns, order and dtypes of :func:`tunnels_frame` (same conventions as
#: :data:`CONNECTIONS_SCHEMA`; ``metadata`` holds the tunnel's metadata dict, or None).
TUNNELS_SCHEMA: dict[str, str | pd.ArrowDtype] = {
    **_CONTEXT_SCHEMA,
    "tun_type": "category",
    "created_at": _TIME,
    "deleted_at": _TIME,
    "conns_active_at": _TIME,
    "conns_inactive_at": _TIME,
    "remote_config": _BOOL,
    "config_src": "category",
    "metadata": "object",
    "n_connectors": "Int64",
    "n_connections": "Int64",
}
