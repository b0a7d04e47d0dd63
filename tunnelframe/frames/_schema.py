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
#:   ``version`` and ``client_version`` are *ordered* categoricals in release order (unknown
#:   builds such as ``DEV`` first, a git-describe build right after its tag), so ``max``,
#:   ``min``, ``sort_values`` and comparisons with a version the column holds work; to compare
#:   with any version, use ``tf.parse_version(frame["version"]) >= tf.parse_version(v).key``;
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
    # Added for incremental refresh, after every older column so that none moves.
    "observed_at": _TIME,
}

#: What each column of the frames above means and when it is NA, as ``column: (meaning, when
#: NA)``: one entry per column name, shared by every frame that has the column. The
#: documentation site builds its column tables from the schemas and these notes (a column
#: without a note fails the docs build).
_COLUMN_NOTES: dict[str, tuple[str, str]] = {
    "account_id": (
        "The Cloudflare account (the tunnel's ``account_tag``).",
        "The payload carries no tunnel (a bare connector or connector list).",
    ),
    "tunnel_id": (
        "The tunnel's UUID (the tunnel object's ``id``).",
        "The payload carries no tunnel.",
    ),
    "tunnel_name": ("The tunnel's name.", "The payload carries no tunnel, or no name."),
    "tunnel_status": (
        "Cloudflare's status of the tunnel: ``healthy`` (serving traffic), ``degraded`` "
        "(serving, but unhealthy), ``down`` (no connections to the edge) or ``inactive`` "
        "(never run).",
        "The payload carries no tunnel, or no status.",
    ),
    "connector_id": (
        "The connector (``Client``) id: a new random UUID each time a cloudflared process "
        "starts, so a restart is a new connector.",
        "The connector object has no ``id``.",
    ),
    "arch": (
        "The connector's ``GOOS_GOARCH``, e.g. ``linux_amd64``.",
        "Not reported.",
    ),
    "version": (
        "The cloudflared version the connector runs, as reported (``2025.10.1``, ``DEV``, "
        "``2026.8.2-1-gd1df7985``).",
        "Not reported.",
    ),
    "config_version": (
        "The remote configuration version the connector runs (remotely managed tunnels).",
        "Not reported.",
    ),
    "run_at": (
        "When the connector process started (UTC).",
        "NaT: missing, unparseable or a placeholder time.",
    ),
    "features": (
        'The connector\'s features joined with ``,`` in payload order (``""`` for none).',
        "The connector has no ``features`` key.",
    ),
    "connection_id": (
        "The connection's id (one of the connector's HA connections to the edge).",
        "The connector has no connections (an idle connector's single row).",
    ),
    "client_id": (
        "The connector the connection belongs to, as the connection reports it (normally "
        "equal to ``connector_id``).",
        "An idle connector's row, or not reported.",
    ),
    "client_version": (
        "The cloudflared version the connection reports (normally equal to ``version``).",
        "An idle connector's row, or not reported.",
    ),
    "colo_name": (
        "The Cloudflare data centre the connection lands in, as the API names it: today a "
        "site code such as ``ord02`` (older data: an IATA code such as ``DFW``).",
        "An idle connector's row, or not reported.",
    ),
    "is_pending_reconnect": (
        "True: the connection dropped and Cloudflare still tracks it for a few minutes; "
        "False (or NA) counts as active.",
        "An idle connector's row, or not reported.",
    ),
    "opened_at": (
        "When the connection was opened (UTC).",
        "NaT: an idle connector's row, or missing, unparseable or a placeholder time.",
    ),
    "origin_ip": (
        "The public IP of the host running cloudflared, as Cloudflare saw it.",
        "An idle connector's row, or not reported.",
    ),
    "n_connections": (
        "Connections: per connector, its ``conns``; per tunnel, its connectors' ``conns`` (or "
        "its deprecated ``connections`` array).",
        "Never per connector; per tunnel, NA when the tunnel object carries neither connectors "
        "nor ``connections``, as today's API tunnel objects do.",
    ),
    "n_active": (
        "The connector's connections that are not pending reconnect.",
        "Never.",
    ),
    "n_pending": (
        "The connector's connections with ``is_pending_reconnect`` true.",
        "Never.",
    ),
    "edges": (
        "Active connections per colo as ``cloudflared tunnel list`` prints them: "
        '``"2xDFW, 2xLAX"``, colos sorted (``""`` when none).',
        "Never.",
    ),
    "origin_ips": (
        'The connector\'s distinct origin IPs, sorted as text, joined with ``", "``.',
        'Never (``""`` when none is reported).',
    ),
    "tun_type": (
        "The kind of tunnel: ``cfd_tunnel`` (cloudflared), ``warp_connector``, ...",
        "Not reported.",
    ),
    "ha_status": (
        "A WARP Connector member's role in its active/passive pair: ``active``, ``passive`` "
        "or ``offline``.",
        "A cloudflared connector (it has no such field), or not reported.",
    ),
    "created_at": ("When the tunnel was created (UTC).", "NaT: not reported or a placeholder."),
    "deleted_at": (
        "When the tunnel was deleted (UTC).",
        "NaT: the tunnel is not deleted (the API sends null or a placeholder).",
    ),
    "conns_active_at": (
        "When the tunnel established at least one connection to the edge (UTC).",
        "NaT: the tunnel is inactive (null), not reported, or a placeholder.",
    ),
    "conns_inactive_at": (
        "When the tunnel became inactive: no connections to the edge (UTC).",
        "NaT: the tunnel is active (null), not reported, or a placeholder.",
    ),
    "remote_config": (
        "True: the tunnel is managed remotely (its configuration lives in Cloudflare).",
        "Not reported.",
    ),
    "config_src": (
        "Where the tunnel's configuration comes from: ``local`` or ``cloudflare``.",
        "Not reported.",
    ),
    "metadata": ("The tunnel's free-form ``metadata`` object, as a dict.", "None: not reported."),
    "observed_at": (
        "When the tunnel's connectors were read (UTC): the snapshot's ``fetched_at`` for a full "
        "read, earlier for a tunnel an incremental refresh carried forward. Connection ages and "
        "other times of its connectors are as of this moment.",
        "NaT: a payload that is no tunnelframe snapshot (the API has no such field).",
    ),
    "n_connectors": (
        "The tunnel's connectors (in a fleet, 0 when it has none), or the distinct "
        "``client_id`` of its deprecated ``connections`` array.",
        "The tunnel object carries neither connectors nor ``connections`` (today's API tunnel "
        "objects), or a connection there has no ``client_id``.",
    ),
}
