"""Read and validate raw payloads into columns (arrow arrays, numpy codes and masks).

The fast path hands the whole connector list to pyarrow's C++ conversion of dicts to a declared
struct type; when that fails, a slow Python pass finds the first bad value and raises
SchemaError naming its JSON path (or, for input arrow cannot read but the schema allows, such as
non-dict mappings, produces the same columns). Nothing here builds a DataFrame.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tunnelframe._errors import ApiError, SchemaError
from tunnelframe._protocol import envelope_errors

__all__: list[str] = []

_CONN_KEYS = (
    "id",
    "uuid",
    "client_id",
    "client_version",
    "colo_name",
    "is_pending_reconnect",
    "opened_at",
    "origin_ip",
)
_NO_STRINGS = pa.array([], type=pa.string())
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAT = np.iinfo(np.int64).min
# 9999-01-01T00:00:00Z in microseconds since the epoch: from here on a time is a sentinel.
_MAX_US = (datetime(9999, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_INT32 = (-(2**31), 2**31 - 1)
_JSON_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}

_Where = Callable[[int], str]


# --------------------------------------------------------------------------- errors and paths


def _join(base: str, key: str | int) -> str:
    """Extend a JSON path: ``_join("result[3]", "conns")`` is ``result[3].conns``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


def _at(path: _Where, key: str) -> _Where:
    """Name the field ``key`` of the objects that ``path`` names."""
    return lambda i: _join(path(i), key)


def _describe(value: Any) -> str:
    """Name the JSON type of ``value`` and show a short repr of it, for error messages."""
    if value is None:
        return "null"
    name = _JSON_NAMES.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{name} {text if len(text) <= 40 else text[:37] + '...'}"


def _fail(values: list[Any], ok: Callable[[Any], bool], where: _Where, want: str) -> NoReturn:
    """Raise SchemaError for the first value in ``values`` that ``ok`` rejects."""
    for i, value in enumerate(values):
        if not ok(value):
            if ok is _is_str and isinstance(value, str):  # json.loads lets "\ud800" through
                raise SchemaError(where(i), f"{_describe(value)} is not valid Unicode text")
            raise SchemaError(where(i), f"expected {want}, got {_describe(value)}")
    # Only reachable if a fast path and its validator disagree: still a schema problem.
    raise SchemaError(where(0) if values else "", f"expected {want}")


def _is_str(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_object(value: Any) -> bool:
    return isinstance(value, Mapping)


def _check_objects(items: list[Any], where: _Where, what: str) -> None:
    """Make sure every item is a JSON object (a Mapping), so ``.get`` can read it."""
    if not all(issubclass(t, Mapping) for t in set(map(type, items))):
        _fail(items, _is_object, where, what)


def _field(items: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
    """The values of ``key`` in every object (None where the key is missing)."""
    return [item.get(key) for item in items]


# --------------------------------------------------------------------------- column converters


def _strings(values: list[Any], where: _Where) -> pa.Array:
    """Validate a text column and return it as an arrow string array."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        _fail(values, _is_str, where, "a string or null")


def _small(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """Codes in the smallest integer dtype pandas would pick for ``n_categories``."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(dtype).max:
            return codes.astype(dtype, copy=False)
    return codes


def _codes(arr: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Dictionary-encode a string array: codes (-1 for NA) into sorted distinct categories."""
    encoded = arr.dictionary_encode()
    first_seen = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False))
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    rank[-1] = -1  # first_seen -1 (NA) stays -1
    return _small(rank[first_seen], len(order)), encoded.dictionary.take(order)


def _ints32(values: list[Any], where: _Where) -> tuple[np.ndarray, np.ndarray]:
    """Validate an int32 column: (values, missing mask). Integral floats become ints."""
    if set(map(type, values)) <= {int, type(None)}:
        try:
            arr = pa.array(values, type=pa.int32())
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass  # out of range: the loop below names it
        else:
            data = arr.fill_null(0).to_numpy(zero_copy_only=False)
            return np.array(data, dtype=np.int32), arr.is_null().to_numpy(zero_copy_only=False)
    out = np.zeros(len(values), dtype=np.int32)
    mask = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        if value is None:
            mask[i] = True
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not _INT32[0] <= value <= _INT32[1]
        ):
            raise SchemaError(
                where(i), f"expected an integer in the int32 range or null, got {_describe(value)}"
            )
        out[i] = value
    return out, mask


def _booleans(values: list[Any], where: _Where) -> pa.Array:
    """Validate a boolean column and return it as an arrow boolean array."""
    try:
        return pa.array(values, type=pa.bool_())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        _fail(values, lambda v: v is None or isinstance(v, bool), where, "a boolean or null")


def _bools(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values, missing mask) of an arrow boolean array."""
    data = arr.fill_null(False).to_numpy(zero_copy_only=False)
    mask = arr.is_null().to_numpy(zero_copy_only=False)
    return np.asarray(data, dtype=bool), np.asarray(mask, dtype=bool)


# RFC 3339 (section 5.6) allows a lower-case "t" and "z", and a leap second ":60".
_RFC3339_LEAP = re.compile(r"^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d):60(?=[.,Zz+-]|$)")


def _parse_time(text: str) -> int:
    """Microseconds since the epoch of one RFC 3339 / ISO 8601 string, or _NAT.

    A leap second ``23:59:60`` counts as the next minute's ``:00``, as POSIX time does.
    """
    text = text[:10] + text[10:11].upper() + text[11:]
    if text[-1:] == "z":
        text = text[:-1] + "Z"
    leap, replaced = _RFC3339_LEAP.subn(r"\1:59", text)
    try:
        moment = datetime.fromisoformat(leap)
    except (ValueError, OverflowError):
        return _NAT
    if replaced:
        moment += timedelta(seconds=1)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return (moment - _EPOCH) // timedelta(microseconds=1)
    except OverflowError:  # an offset pushes it past year 9999: a sentinel anyway
        return _NAT


def _times(arr: pa.Array) -> np.ndarray:
    """Parse a string array to int64 microseconds since the epoch (``_NAT`` for NaT)."""
    try:
        parsed = pc.cast(arr, pa.timestamp("us", tz="UTC")).cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Some string is not what arrow parses: parse each distinct string in Python.
        encoded = arr.dictionary_encode()
        uniques = [_parse_time(text) for text in encoded.dictionary.to_pylist()]
        parsed = pa.array(uniques, type=pa.int64()).take(encoded.indices)
    micros = np.array(parsed.fill_null(_NAT).to_numpy(zero_copy_only=False), dtype=np.int64)
    micros[(micros <= 0) | (micros >= _MAX_US)] = _NAT
    return micros


def _features(values: list[Any], where: _Where) -> list[str | None]:
    """Join each features array with "," (None stays None)."""
    if set(map(type, values)) <= {list, type(None)}:
        try:
            return [None if value is None else ",".join(value) for value in values]
        except TypeError:
            pass  # a feature that is not a string: the loop below names it
    out: list[str | None] = []
    for i, value in enumerate(values):
        if value is None:
            out.append(None)
            continue
        if not isinstance(value, list):
            raise SchemaError(
                where(i), f"expected an array of strings or null, got {_describe(value)}"
            )
        for j, item in enumerate(value):
            if not isinstance(item, str):
                raise SchemaError(_join(where(i), j), f"expected a string, got {_describe(item)}")
        out.append(",".join(value))
    return out


# --------------------------------------------------------------------------- what a payload is

# Keys that only one kind of object has (the spec, cfapi's structs and cloudflared's Info).
_TUNNEL_KEYS = frozenset(
    {
        "account_tag",
        "name",
        "created_at",
        "deleted_at",
        "conns_active_at",
        "conns_inactive_at",
        "status",
        "tun_type",
        "remote_config",
        "config_src",
        "metadata",
        "connections",
        "connectors",
        "createdAt",
    }
)
_CONNECTOR_KEYS = frozenset(
    {"conns", "arch", "version", "run_at", "features", "config_version", "ha_status"}
)
_CONNECTION_KEYS = frozenset(_CONN_KEYS) - {"id"}  # every object has an id
_PASS_CONNECTORS = (
    "pass a connector object (GET .../connectors/{id}), a list of them (GET .../connections) "
    "or a fleet"
)


# cloudflared's 'tunnel diag' tunnelstate.json (diagnostic.TunnelState): the connector's own
# view of its HA connections (index, isConnected, protocol, edgeAddress), no colo, no API data.
_TUNNELSTATE_KEYS = frozenset({"tunnelID", "connectorID", "icmp_sources"})
# cloudflared's '-o yaml' output: yaml.v3 lower-cases Go field names that carry no yaml tag.
_YAML_KEYS = frozenset(
    {"coloname", "ispendingreconnect", "originip", "openedat", "createdat", "deletedat", "runat"}
)
_KNOWN_KEYS = _TUNNEL_KEYS | _CONNECTOR_KEYS | frozenset(_CONN_KEYS)


def _refuse_foreign(obj: Mapping[str, Any], path: str) -> None:
    """SchemaError for an object that is no API payload, saying what it looks like instead."""
    if not _TUNNELSTATE_KEYS.isdisjoint(obj):
        raise SchemaError(
            path,
            "got cloudflared's 'tunnel diag' tunnelstate.json (keys "
            f"{', '.join(sorted(_TUNNELSTATE_KEYS.intersection(obj)))}): the connector's own "
            "view of its connections, with no colo or connector data of the API; pass the "
            "result of GET .../connections or cloudflared's 'tunnel info -o json' instead",
        )
    yaml_keys = _YAML_KEYS.intersection(obj)
    if yaml_keys:
        raise SchemaError(
            path,
            f"got lower-case keys ({', '.join(sorted(yaml_keys))}) as cloudflared's '-o yaml' "
            "output writes them: tunnelframe reads the API's and cloudflared's JSON keys "
            "(colo_name, is_pending_reconnect, ...); run 'cloudflared tunnel list -o json' "
            "(or 'tunnel info -o json') instead",
        )


def _refuse_unrelated(obj: Any, path: str) -> None:
    """SchemaError for an object none of whose keys any tunnel, connector or connection has."""
    if isinstance(obj, Mapping) and obj and _KNOWN_KEYS.isdisjoint(obj):
        keys = sorted(map(str, obj))
        shown = ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")
        raise SchemaError(
            path,
            f"got an object with none of the keys of a tunnel, connector or connection (its "
            f"keys: {shown}): not a Cloudflare Tunnel payload; pass a fleet, tunnel objects or "
            "connector objects (GET .../connections)",
        )


def _kind(obj: Mapping[str, Any], path: str = "") -> str:
    """What an object is, from its keys: ``"info"`` (cloudflared's ``tunnel info -o json``:
    ``id``, ``name``, ``createdAt``, ``conns``), ``"connector"`` (it has ``conns``, or only
    connector keys), ``"tunnel"``, ``"connection"`` or ``"unknown"`` (only keys every kind may
    have, such as ``id``). An object that is no payload at all (``tunnel diag`` state,
    ``-o yaml`` keys) raises SchemaError naming ``path``."""
    if not _TUNNELSTATE_KEYS.isdisjoint(obj) or not _YAML_KEYS.isdisjoint(obj):
        _refuse_foreign(obj, path)
    if "createdAt" in obj or ("conns" in obj and "name" in obj):
        return "info"
    if "conns" in obj:
        return "connector"
    if not _TUNNEL_KEYS.isdisjoint(obj):
        return "tunnel"
    if not _CONNECTOR_KEYS.isdisjoint(obj):
        return "connector"
    if not _CONNECTION_KEYS.isdisjoint(obj):
        return "connection"
    return "unknown"


def _connection_error(path: str) -> SchemaError:
    return SchemaError(
        path,
        "got a connection object (an item of a connector's 'conns'), not a connector: "
        + _PASS_CONNECTORS,
    )


def _list_kind(items: list[Any], root: str) -> str:
    """The kind of the first object in ``items`` whose kind shows ("unknown" when none does)."""
    for k, item in enumerate(items):
        if isinstance(item, Mapping):
            kind = _kind(item, _join(root, k))
            if kind == "connection":
                raise _connection_error(_join(root, k))
            if kind != "unknown":
                return "tunnel" if kind == "info" else kind
    # Objects with unknown keys beside known ones are payloads (the spec allows extra keys);
    # a list none of whose objects has a single key of ours is something else altogether.
    if not any(isinstance(item, Mapping) and not _KNOWN_KEYS.isdisjoint(item) for item in items):
        for k, item in enumerate(items):
            _refuse_unrelated(item, _join(root, k))
    return "unknown"


def _check_connector(obj: Any, path: str) -> None:
    """Raise SchemaError when an item of a connector list is a tunnel or a connection."""
    kind = _kind(obj, path)
    if kind == "connection":
        raise _connection_error(path)
    if kind in ("tunnel", "info"):
        raise SchemaError(
            path,
            f"got a tunnel object (keys {', '.join(sorted(_TUNNEL_KEYS.intersection(obj)))}) "
            "where a connector object belongs: a list is all connectors or all tunnels, and a "
            "fleet nests each tunnel's connectors under its 'connectors'",
        )


def _not_tunnels(path: str, what: str, *, among: str = "") -> SchemaError:
    """The error for connector payloads given where tunnel objects belong."""
    where = f" in an array of {among}" if among else ""
    return SchemaError(
        path,
        f"got {what}{where}: tunnels_frame needs tunnel objects (a fleet, the result of GET "
        ".../cfd_tunnel, or cloudflared's 'tunnel list -o json' / 'tunnel info -o json'); "
        "pass connectors to connections_frame or connectors_frame",
    )


def _by_client(connections: Any, path: str) -> dict[str | None, list[int]]:
    """Positions of a tunnel's deprecated ``connections``, grouped by ``client_id`` in order of
    first appearance (None: no client_id, as in cloudflared's ``tunnel list -o json``)."""
    if not isinstance(connections, list):
        raise SchemaError(
            path, f"expected an array of connection objects or null, got {_describe(connections)}"
        )
    groups: dict[str | None, list[int]] = {}
    for j, item in enumerate(connections):
        if not isinstance(item, Mapping):
            raise SchemaError(
                _join(path, j), f"expected a connection object, got {_describe(item)}"
            )
        client_id = item.get("client_id")
        if client_id is not None and not _is_str(client_id):
            raise SchemaError(
                _join(_join(path, j), "client_id"),
                f"expected a string or null, got {_describe(client_id)}",
            )
        groups.setdefault(client_id, []).append(j)
    return groups


# --------------------------------------------------------------------------- walking the payload


_CONNECTION_TYPE = pa.struct(
    [(key, pa.bool_() if key == "is_pending_reconnect" else pa.string()) for key in _CONN_KEYS]
)
_CONNECTOR_TYPE = pa.struct(
    [
        ("id", pa.string()),
        ("arch", pa.string()),
        ("version", pa.string()),
        ("run_at", pa.string()),
        ("ha_status", pa.string()),
        ("features", pa.list_(pa.string())),
        ("conns", pa.list_(_CONNECTION_TYPE)),
    ]
)


class _NotFast(Exception):
    """The payload has something arrow does not convert: take the slow, precise path."""


def _fast_columns(connectors: list[Any]) -> dict[str, Any]:
    """Read every connector and connection field in one C++ pass (pyarrow's conversion of
    dicts to a declared struct type); raise _NotFast where it cannot (a wrong type, a null
    connection), so the slow path can name the offending value."""
    try:
        arr = pa.array(connectors, type=_CONNECTOR_TYPE)
    except (pa.ArrowException, UnicodeError, TypeError, ValueError, OverflowError) as exc:
        raise _NotFast from exc
    conns = arr.field("conns")
    flat = pc.list_flatten(conns)
    if flat.null_count:
        raise _NotFast
    offsets = np.asarray(conns.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    cols: dict[str, Any] = {"counts": np.diff(offsets)}
    for key in ("id", "arch", "version", "run_at", "ha_status"):
        cols[f"connector.{key}"] = arr.field(key)
    cols["connector.features"] = pc.binary_join(arr.field("features"), ",")
    cols.update(zip(_CONN_KEYS, flat.flatten(), strict=True))
    return cols


class _Payload:
    """The validated columns of one payload, at tunnel, connector and connection level."""

    def __init__(self, data: Any, *, tunnels: bool = False) -> None:
        self.fleet = False
        self.tunnels: list[Mapping[str, Any]] = []
        self.tunnel_paths: list[str] = []
        self.tunnel_of = np.zeros(0, dtype=np.int64)
        self.tunnel_known = np.zeros(0, dtype=bool)
        self.tunnel_countable = np.zeros(0, dtype=bool)
        self._want_tunnels = tunnels
        self._renames: dict[int, dict[str, str]] = {}  # tunnel index: JSON key of a field
        self._connectors_key: dict[int, str] = {}  # tunnel index: key holding its connectors
        # connector index: (path of a tunnel's "connections", positions of its conns there)
        self._legacy: dict[int, tuple[str, list[int]]] = {}
        connectors, self._connector_path = self._locate(data, tunnels)
        self.n_connectors = len(connectors)
        cpath = self._connector_path

        # config_version and features need Python-level checks arrow cannot do (3.5 is not an
        # int32, "abc" is not an array); the conns check keeps both paths equally strict.
        config_versions: list[Any] = []
        features: list[Any] = []
        try:
            for k, connector in enumerate(connectors):
                get = connector.get
                config_versions.append(get("config_version"))
                features.append(get("features"))
                value = get("conns")
                if value is None or "name" in connector:  # a usual connector skips this
                    _check_connector(connector, cpath(k))  # a tunnel, an info, a connection?
                if value is not None and value.__class__ is not list:
                    raise SchemaError(
                        _join(cpath(k), "conns"),
                        f"expected an array of connection objects or null, got {_describe(value)}",
                    )
        except AttributeError:
            _fail(connectors, _is_object, cpath, "a connector object")
        try:
            if not set(map(type, features)) <= {list, type(None)}:
                raise _NotFast  # arrow would read "abc" as ["a", "b", "c"]
            cols = _fast_columns(connectors)
        except _NotFast:
            cols = self._slow_columns(connectors)
            cols["connector.features"] = _strings(
                _features(features, _at(cpath, "features")), _at(cpath, "features")
            )
        self.counts = cols.pop("counts")
        self._starts = np.cumsum(self.counts) - self.counts
        self.n_conns = int(self.counts.sum())
        self.connector: dict[str, Any] = {
            "connector_id": _codes(cols["connector.id"]),
            "arch": _codes(cols["connector.arch"]),
            "version": _codes(cols["connector.version"]),
            "config_version": _ints32(config_versions, _at(cpath, "config_version")),
            "run_at": _times(cols["connector.run_at"]),
            "features": _codes(cols["connector.features"]),
            "ha_status": _codes(cols["connector.ha_status"]),
        }
        del config_versions, features

        self.conn: dict[str, Any] = {}
        ids, uuids = cols["id"], cols["uuid"]
        if ids.equals(uuids):  # the usual case: uuid repeats id
            self.conn["connection_id"] = ids
            self.conn["uuid"] = None
        else:
            self.conn["connection_id"] = pc.coalesce(ids, uuids)
            differs = pc.fill_null(pc.not_equal(ids, uuids), False)
            self.conn["uuid"] = uuids if pc.any(differs).as_py() else None
        for key in ("client_id", "client_version", "colo_name", "origin_ip"):
            self.conn[key] = _codes(cols[key])
        self.conn["is_pending_reconnect"] = _bools(cols["is_pending_reconnect"])
        self.conn["opened_at"] = _times(cols["opened_at"])
        del cols

        # Tunnel level (a fleet, or tunnel objects for tunnels_frame).
        objs, paths, renames = self.tunnels, self.tunnel_paths, self._renames
        self.tunnel: dict[str, Any] = {}
        if not objs:
            return

        def tpath(i: int) -> str:
            return paths[i]

        def at(key: str) -> _Where:
            return lambda i: _join(paths[i], renames.get(i, {}).get(key, key))

        for key, name in (
            ("account_tag", "account_id"),
            ("id", "tunnel_id"),
            ("name", "tunnel_name"),
            ("status", "tunnel_status"),
            ("tun_type", "tun_type"),
            ("config_src", "config_src"),
        ):
            self.tunnel[name] = _codes(_strings(_field(objs, key), at(key)))
        for key in (
            "created_at",
            "deleted_at",
            "conns_active_at",
            "conns_inactive_at",
            "observed_at",
        ):
            self.tunnel[key] = _times(_strings(_field(objs, key), at(key)))
        self.tunnel["remote_config"] = _bools(
            _booleans(_field(objs, "remote_config"), at("remote_config"))
        )
        metadata = _field(objs, "metadata")
        for i, value in enumerate(metadata):
            if value is not None and not isinstance(value, Mapping):
                raise SchemaError(
                    _join(tpath(i), "metadata"),
                    f"expected an object or null, got {_describe(value)}",
                )
        self.tunnel["metadata"] = [None if m is None else dict(m) for m in metadata]

    def _slow_columns(self, connectors: list[Any]) -> dict[str, Any]:
        """The columns of ``_fast_columns``, read in Python, naming the path of a bad value."""
        cpath = self._connector_path
        ids: list[Any] = []
        archs: list[Any] = []
        versions: list[Any] = []
        run_ats: list[Any] = []
        ha_statuses: list[Any] = []
        conns: list[Any] = []
        counts: list[int] = []
        for connector in connectors:  # already checked: objects whose conns is a list or null
            get = connector.get
            ids.append(get("id"))
            archs.append(get("arch"))
            versions.append(get("version"))
            run_ats.append(get("run_at"))
            ha_statuses.append(get("ha_status"))
            value = get("conns") or []
            conns.extend(value)
            counts.append(len(value))
        self.counts = np.array(counts, dtype=np.int64)
        self._starts = np.cumsum(self.counts) - self.counts
        cols: dict[str, Any] = {"counts": self.counts}
        for key, values in (
            ("id", ids),
            ("arch", archs),
            ("version", versions),
            ("run_at", run_ats),
            ("ha_status", ha_statuses),
        ):
            cols[f"connector.{key}"] = _strings(values, _at(cpath, key))
        del ids, archs, versions, run_ats, ha_statuses
        path = self._conn_path
        raw: list[list[Any]] = [[] for _ in _CONN_KEYS]
        appends = [column.append for column in raw]
        for i, conn in enumerate(conns):
            if not isinstance(conn, Mapping):
                raise SchemaError(path(i), f"expected a connection object, got {_describe(conn)}")
            for append, key in zip(appends, _CONN_KEYS, strict=True):
                append(conn.get(key))
        del conns
        for key, values in zip(_CONN_KEYS, raw, strict=True):
            where = _at(path, key)
            if key == "is_pending_reconnect":
                cols[key] = _booleans(values, where)
            else:
                cols[key] = _strings(values, where)
        return cols

    def _locate(self, data: Any, tunnels: bool) -> tuple[list[Any], _Where]:
        """Recognise what ``data`` is, find its connector objects and how to name each one's path.

        ``tunnels`` (for tunnels_frame) asks for tunnel objects: connector payloads are an error
        there, and an object or list whose kind cannot be told is read as tunnels, not connectors.
        """
        root = ""
        if isinstance(data, Mapping):
            if "tunnels" in data:
                self.fleet = True
                return self._tunnels(data["tunnels"], "tunnels")
            if "result" in data or "success" in data:
                if data.get("success") is False:
                    raise _api_error(data)
                root, data = "result", data.get("result")
                if data is None:  # the spec allows "result": null for a collection: nothing
                    return [], lambda k: root
                if not isinstance(data, Mapping | list):
                    raise SchemaError(
                        "result",
                        f"expected an object or an array of objects, got {_describe(data)}",
                    )
            if isinstance(data, Mapping):
                if not data:
                    raise SchemaError(
                        root,
                        "got an empty object: it is no tunnel, connector or fleet; pass a "
                        "fleet, tunnel objects (GET .../cfd_tunnel, cloudflared's 'tunnel "
                        "list/info -o json') or connector objects (GET .../connections)",
                    )
                kind = _kind(data, root)
                if kind == "connection":
                    raise _connection_error(root)
                if kind == "unknown":
                    _refuse_unrelated(data, root)
                if kind == "connector" or (kind == "unknown" and not tunnels):
                    if tunnels:
                        raise _not_tunnels(root, "a connector object")
                    return [data], lambda k: root
                return self._tunnels([data], None, single=root)
        if isinstance(data, list):
            kind = _list_kind(data, root)
            if kind == "connector" or (kind == "unknown" and not tunnels):
                if tunnels:
                    raise _not_tunnels(root, "an array of connector objects")
                return data, lambda k: f"{root}[{k}]"
            return self._tunnels(data, root)
        raise TypeError(
            "data must be a connector object, a list of them, an API envelope, a fleet, tunnel "
            "objects or cloudflared's tunnel info/list JSON (a dict or a list, as json.loads "
            f"returns), not {type(data).__name__}"
        )

    def _tunnels(
        self, tunnels: Any, root: str | None, *, single: str = ""
    ) -> tuple[list[Any], _Where]:
        """Collect the connectors of every tunnel (``root``: JSON path of the tunnel list,
        None for one bare tunnel object, whose path is ``single``).

        A tunnel's connectors are its ``connectors`` (a fleet: what ``/connections`` returned)
        or, for cloudflared's ``tunnel info -o json``, its ``conns``. When it has neither, its
        deprecated ``connections`` array is read: one connector per distinct ``client_id``
        (None: unknown), holding only ``id`` and its connections.
        """
        if not isinstance(tunnels, list):
            raise SchemaError(
                root or "", f"expected an array of tunnel objects, got {_describe(tunnels)}"
            )
        paths = [single] if root is None else [f"{root}[{i}]" for i in range(len(tunnels))]
        _check_objects(tunnels, paths.__getitem__, "a tunnel object")
        objs: list[Mapping[str, Any]] = []
        connectors: list[Any] = []
        where: list[tuple[int, int]] = []
        # per tunnel: whether its connectors are known, and whether their number is
        known = np.full(len(tunnels), self.fleet, dtype=bool)
        countable = np.ones(len(tunnels), dtype=bool)
        for i, tunnel in enumerate(tunnels):
            kind = _kind(tunnel, paths[i])
            if kind in ("connector", "connection"):
                raise _not_tunnels(paths[i], f"a {kind} object", among="tunnel objects")
            if kind == "info":  # cloudflared's Info: createdAt, and the connectors in conns
                self._renames[i] = {"created_at": "createdAt"}
                tunnel = {
                    **{k: v for k, v in tunnel.items() if k not in ("createdAt", "conns")},
                    "created_at": tunnel.get("createdAt"),
                }
                key, value = "conns", tunnels[i].get("conns")
                known[i] = True  # cloudflared writes Go's empty slice as null
            else:
                key, value = "connectors", tunnel.get("connectors")
            objs.append(tunnel)
            if value is not None:
                if not isinstance(value, list):
                    raise SchemaError(
                        _join(paths[i], key),
                        f"expected an array of connector objects or null, got {_describe(value)}",
                    )
                known[i] = True
                connectors.extend(value)
                where.extend((i, j) for j in range(len(value)))
                self._connectors_key[i] = key
                continue
            if "connections" not in tunnel:
                continue
            known[i] = True  # the key is there (null: cloudflared's empty slice): it is known
            legacy = tunnel["connections"]
            if legacy is None:
                continue
            path = _join(paths[i], "connections")
            for client_id, positions in _by_client(legacy, path).items():
                countable[i] &= client_id is not None
                self._legacy[len(connectors)] = (path, positions)
                connectors.append({"id": client_id, "conns": [legacy[j] for j in positions]})
                where.append((i, -1))
        self.tunnels, self.tunnel_paths = objs, paths
        self.tunnel_known, self.tunnel_countable = known, countable
        if not self._want_tunnels and len(objs) and not known.any():
            raise SchemaError(
                root if root is not None else single,
                "no tunnel object here carries connectors (no 'connectors', 'conns' or "
                "'connections'): today's GET .../cfd_tunnel does not list connections; pass "
                "each tunnel's GET .../connections result, a fleet (tf.fetch_fleet(...).fleet) "
                "or cloudflared's 'tunnel info -o json', or use tunnels_frame",
            )
        self.tunnel_of = np.fromiter((i for i, _ in where), dtype=np.int64, count=len(where))

        def connector_path(k: int) -> str:
            i, j = where[k]
            if j < 0:
                return self._legacy[k][0]
            return _join(_join(paths[i], self._connectors_key.get(i, "connectors")), j)

        return connectors, connector_path

    def _conn_path(self, index: int) -> str:
        """JSON path of the connection at ``index`` in the flattened connection list."""
        k = int(np.searchsorted(self._starts + self.counts, index, side="right"))
        j = index - int(self._starts[k])
        if k in self._legacy:
            path, positions = self._legacy[k]
            return _join(path, positions[j])
        return _join(_join(self._connector_path(k), "conns"), j)


def _api_error(envelope: Mapping[str, Any]) -> ApiError:
    """The ApiError for an envelope that says ``"success": false``."""
    found = envelope_errors(envelope)
    codes = [code for code, _ in found if code is not None]
    messages = [message for _, message in found if message is not None]
    detail = "; ".join(f"code {c}" for c in codes) + (": " if codes and messages else "")
    detail += "; ".join(messages)
    return ApiError(
        f'the payload is a failed API response ("success": false{", " + detail if detail else ""})'
        ": it holds no data; fix the request and fetch again",
        codes=codes,
        messages=messages,
    )
