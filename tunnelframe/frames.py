"""Raw Cloudflare Tunnel payloads to typed pandas DataFrames.

``connections_frame`` (one row per connection), ``connectors_frame`` (one row per connector) and
``tunnels_frame`` (one row per tunnel) flatten what the API returns (or what a fleet snapshot
holds) into frames that follow the schema constants below. This module knows no HTTP: it never
fetches anything, and it never modifies the payload it is given.

Accepted input (``data``)
-------------------------
* one connector ("Client") object: the ``result`` of GET ``…/connectors/{id}``;
* a list of connector objects: the ``result`` of GET ``…/connections``;
* an API envelope ``{"success": true, "result": …}`` around either of them; an envelope with
  ``"success": false`` raises :class:`tunnelframe.ApiError` with the envelope's codes and messages;
* a fleet ``{"tunnels": [tunnel + {"connectors": [...]}, ...]}``; the account is the tunnel's
  ``account_tag``.

Coercions (everything else that the OpenAPI schema does not allow raises
:class:`tunnelframe.SchemaError` naming the JSON path, e.g. ``result[3].conns[1].colo_name``)
--------------------------------------------------------------------------------------------
* a missing key and an explicit ``null`` are the same: NA. Unknown keys are ignored.
* text fields must be JSON strings; a number, boolean, array or object there is an error.
* ``config_version`` must be an integer in the int32 range (cloudflared keeps it as an int32);
  an integral float such as ``3.0`` becomes ``3``; ``3.5``, booleans and strings are errors.
* ``is_pending_reconnect`` and ``remote_config`` must be JSON booleans.
* ``features`` must be an array of strings; it becomes one string, the features joined with
  ``","`` in payload order (``""`` for an empty array, NA when absent).
* timestamps must be strings. They are parsed as ISO 8601 / RFC 3339 (a timestamp without an
  offset is taken as UTC; digits past the microsecond are dropped). An unparseable string and a
  placeholder become NaT, never an error and never a bogus date: placeholders are instants at or
  before the Unix epoch (Go's zero time ``0001-01-01T00:00:00Z``, ``1970-01-01T00:00:00Z``) and
  instants in or after the year 9999 ("never" sentinels).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tunnelframe._errors import ApiError, SchemaError

__all__ = [
    "CONNECTIONS_SCHEMA",
    "CONNECTORS_SCHEMA",
    "TUNNELS_SCHEMA",
    "connections_frame",
    "connectors_frame",
    "tunnels_frame",
]

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
        except (pa.ArrowInvalid, pa.ArrowTypeError):
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


def _parse_time(text: str) -> int:
    """Microseconds since the epoch of one ISO 8601 string, or _NAT when it does not parse."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return _NAT
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


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
    for key in ("id", "arch", "version", "run_at"):
        cols[f"connector.{key}"] = arr.field(key)
    cols.update(zip(_CONN_KEYS, flat.flatten(), strict=True))
    return cols


class _Payload:
    """The validated columns of one payload, at tunnel, connector and connection level."""

    def __init__(self, data: Any, *, tunnels: bool = False) -> None:
        self.fleet = False
        self.tunnels: list[dict[str, Any]] = []
        self.tunnel_paths: list[str] = []
        self.tunnel_of = np.zeros(0, dtype=np.int64)
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
                if value is not None and value.__class__ is not list:
                    raise SchemaError(
                        _join(cpath(k), "conns"),
                        f"expected an array of connection objects or null, got {_describe(value)}",
                    )
        except AttributeError:
            _fail(connectors, _is_object, cpath, "a connector object")
        joined = _features(features, _at(cpath, "features"))
        try:
            cols = _fast_columns(connectors)
        except _NotFast:
            cols = self._slow_columns(connectors)
        self.counts = cols.pop("counts")
        self._starts = np.cumsum(self.counts) - self.counts
        self.n_conns = int(self.counts.sum())
        self.connector: dict[str, Any] = {
            "connector_id": _codes(cols["connector.id"]),
            "arch": _codes(cols["connector.arch"]),
            "version": _codes(cols["connector.version"]),
            "config_version": _ints32(config_versions, _at(cpath, "config_version")),
            "run_at": _times(cols["connector.run_at"]),
            "features": _codes(_strings(joined, _at(cpath, "features"))),
        }
        del config_versions, features, joined

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

        # Tunnel level (a fleet only).
        objs, tpath = self.tunnels, self.tunnel_paths.__getitem__
        self.tunnel: dict[str, Any] = {}
        for key, name in (
            ("account_tag", "account_id"),
            ("id", "tunnel_id"),
            ("name", "tunnel_name"),
            ("status", "tunnel_status"),
            ("tun_type", "tun_type"),
            ("config_src", "config_src"),
        ):
            self.tunnel[name] = _codes(_strings(_field(objs, key), _at(tpath, key)))
        for key in ("created_at", "deleted_at", "conns_active_at", "conns_inactive_at"):
            self.tunnel[key] = _times(_strings(_field(objs, key), _at(tpath, key)))
        self.tunnel["remote_config"] = _bools(
            _booleans(_field(objs, "remote_config"), _at(tpath, "remote_config"))
        )
        metadata = _field(objs, "metadata")
        for i, value in enumerate(metadata):
            if value is not None and not isinstance(value, dict):
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
        conns: list[Any] = []
        counts: list[int] = []
        for connector in connectors:  # already checked: objects whose conns is a list or null
            get = connector.get
            ids.append(get("id"))
            archs.append(get("arch"))
            versions.append(get("version"))
            run_ats.append(get("run_at"))
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
        ):
            cols[f"connector.{key}"] = _strings(values, _at(cpath, key))
        del ids, archs, versions, run_ats
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
        """Find the connector objects in ``data`` and how to name the path of each.

        With ``tunnels`` (for tunnels_frame) a non-fleet ``data`` holds tunnel objects.
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
                if not isinstance(data, Mapping | list):
                    raise SchemaError(
                        "result",
                        f"expected an object or an array of objects, got {_describe(data)}",
                    )
            if isinstance(data, Mapping):
                data = [data]
                if tunnels:
                    return self._tunnels(data, None, single=root)
                return data, lambda k: root
        if isinstance(data, list):
            if tunnels:
                return self._tunnels(data, root)
            return data, lambda k: f"{root}[{k}]"
        raise TypeError(
            "data must be a connector object, a list of them, an API envelope or a fleet "
            f"(a dict or a list, as json.loads returns), not {type(data).__name__}"
        )

    def _tunnels(
        self, tunnels: Any, root: str | None, *, single: str = ""
    ) -> tuple[list[Any], _Where]:
        """Collect the connectors of every tunnel (``root``: JSON path of the tunnel list,
        None for one bare tunnel object, whose path is ``single``)."""
        if not isinstance(tunnels, list):
            raise SchemaError(
                root or "", f"expected an array of tunnel objects, got {_describe(tunnels)}"
            )
        paths = [single] if root is None else [f"{root}[{i}]" for i in range(len(tunnels))]
        _check_objects(tunnels, paths.__getitem__, "a tunnel object")
        self.tunnels, self.tunnel_paths = tunnels, paths
        connectors: list[Any] = []
        where: list[tuple[int, int]] = []
        if self.fleet:
            for i, value in enumerate(_field(tunnels, "connectors")):
                if value is None:
                    continue
                if not isinstance(value, list):
                    raise SchemaError(
                        _join(paths[i], "connectors"),
                        f"expected an array of connector objects or null, got {_describe(value)}",
                    )
                connectors.extend(value)
                where.extend((i, j) for j in range(len(value)))
        self.tunnel_of = np.fromiter((i for i, _ in where), dtype=np.int64, count=len(where))
        return connectors, lambda k: _join(_join(paths[where[k][0]], "connectors"), where[k][1])

    def _conn_path(self, index: int) -> str:
        """JSON path of the connection at ``index`` in the flattened connection list."""
        k = int(np.searchsorted(self._starts + self.counts, index, side="right"))
        return _join(_join(self._connector_path(k), "conns"), index - int(self._starts[k]))


def _api_error(envelope: Mapping[str, Any]) -> ApiError:
    """The ApiError for an envelope that says ``"success": false``."""
    errors = envelope.get("errors")
    codes: list[int] = []
    messages: list[str] = []
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, Mapping):
            if isinstance(item.get("code"), int):
                codes.append(item["code"])
            if isinstance(item.get("message"), str):
                messages.append(item["message"])
    detail = "; ".join(f"code {c}" for c in codes) + (": " if codes and messages else "")
    detail += "; ".join(messages)
    return ApiError(
        f'the payload is a failed API response ("success": false{", " + detail if detail else ""})'
        ": it holds no data; fix the request and fetch again",
        codes=codes,
        messages=messages,
    )


# --------------------------------------------------------------------------- building frames


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
    if not p.fleet:
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


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(columns, copy=False)


def connections_frame(data: Any, *, include_idle: bool = True) -> pd.DataFrame:
    """Flatten connector payloads to one row per connection.

    Parameters
    ----------
    data : dict or list
        One connector object, a list of them, an API envelope around either, or a fleet
        ``{"tunnels": [...]}`` (see the module docstring), as ``json.loads`` returns it.
    include_idle : bool, default True
        Keep a connector that has no connections as one row whose connection columns are NA,
        so no connector is lost. False drops those rows.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`CONNECTIONS_SCHEMA` in that order (plus ``uuid`` when some
        connection's ``uuid`` differs from its ``id``); rows in payload order: connectors in
        order, each connector's connections in order. Tunnel columns are NA unless ``data`` is a
        fleet. A fleet's tunnels without connectors give no rows (see :func:`tunnels_frame`).

    Raises
    ------
    SchemaError
        A value has a shape or type the API does not document; ``.path`` names it.
    ApiError
        ``data`` is an envelope with ``"success": false``.
    TypeError
        ``data`` is neither a dict nor a list.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> connector = {"id": "c1", "version": "2025.10.1", "conns": [
    ...     {"id": "a", "colo_name": "DFW", "opened_at": "2026-01-02T03:04:05.123456Z"},
    ...     {"id": "b", "colo_name": "LAX", "is_pending_reconnect": True}]}
    >>> frame = tf.connections_frame(connector)
    >>> frame[["connector_id", "connection_id", "colo_name", "is_pending_reconnect"]]
      connector_id connection_id colo_name is_pending_reconnect
    0           c1             a       DFW                 <NA>
    1           c1             b       LAX                 True
    >>> frame["opened_at"].iloc[0]
    Timestamp('2026-01-02 03:04:05.123456+0000', tz='UTC')
    """
    p = _Payload(data)
    counts = p.counts
    idle = counts == 0
    per_connector = np.maximum(counts, 1) if include_idle else counts
    connector_rows = np.repeat(np.arange(p.n_connectors, dtype=np.int64), per_connector)
    conn_rows: np.ndarray | None = None
    if include_idle and idle.any():
        row_starts = np.cumsum(per_connector) - per_connector
        conn_rows = np.arange(len(connector_rows), dtype=np.int64)
        conn_rows += (p._starts - row_starts)[connector_rows]
        conn_rows[idle[connector_rows]] = -1
    identity = bool((per_connector == 1).all())
    columns = _context(p, connector_rows)
    columns.update(_connector_columns(p, None if identity else connector_rows))
    c = p.conn
    columns["connection_id"] = _take_strings(c["connection_id"], conn_rows)
    columns["client_id"] = _take_codes(c["client_id"], conn_rows)
    columns["client_version"] = _take_codes(c["client_version"], conn_rows)
    columns["colo_name"] = _take_codes(c["colo_name"], conn_rows)
    columns["is_pending_reconnect"] = _take_masked(c["is_pending_reconnect"], conn_rows, "bool")
    columns["opened_at"] = _take_times(c["opened_at"], conn_rows)
    columns["origin_ip"] = _take_codes(c["origin_ip"], conn_rows)
    if c["uuid"] is not None:
        columns["uuid"] = _take_strings(c["uuid"], conn_rows)
    if not len(connector_rows):
        return _frame(_empty_like(CONNECTIONS_SCHEMA))
    return _frame(columns)


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


def _edges(frame: pd.DataFrame, *, by: str | list[str] = "connector_id") -> pd.Series:
    """Active connections per colo as cloudflared prints them, one string per group.

    ``frame`` has at least the columns ``colo_name`` and ``is_pending_reconnect`` (a
    connections frame); groups are the distinct values of ``by`` (NA is a group too), sorted.
    Pending reconnects and connections without a colo are not counted; a group without active
    connections gets ``""``. Shared with :func:`tunnelframe.colos.format_edges`.
    """
    keys = [by] if isinstance(by, str) else list(by)
    grouped = frame.groupby(keys, observed=True, dropna=False, sort=True)
    index = grouped.size().index
    if not len(frame):
        return pd.Series([], index=index, dtype=_TEXT, name="edges")
    groups = grouped.ngroup().to_numpy(dtype=np.int64)
    colo = pd.Categorical(frame["colo_name"])
    pending = frame["is_pending_reconnect"].astype("boolean")
    active = ~pending.to_numpy(dtype=bool, na_value=False)
    codes = np.asarray(colo.codes, dtype=np.int64)
    colos = [str(c) for c in colo.categories]
    strings = _edge_strings(groups, codes, colos, active, len(index))
    return pd.Series(strings, index=index, dtype=_TEXT, name="edges")


def connectors_frame(data: Any) -> pd.DataFrame:
    """Summarise connector payloads to one row per connector.

    Parameters
    ----------
    data : dict or list
        One connector object, a list of them, an API envelope around either, or a fleet
        ``{"tunnels": [...]}`` (see the module docstring), as ``json.loads`` returns it.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`CONNECTORS_SCHEMA` in that order, one row per connector in
        payload order: the connector columns of :func:`connections_frame` plus
        ``n_connections``, ``n_pending`` (``is_pending_reconnect`` true), ``n_active`` (the
        others), ``edges`` (active connections per colo as ``cloudflared tunnel list`` prints
        them: ``"2xDFW, 2xLAX"``, colos sorted, connections without a colo left out, ``""`` when
        none) and ``origin_ips`` (the distinct origin IPs, sorted as text, joined with ``", "``).

    Raises
    ------
    SchemaError, ApiError, TypeError
        As :func:`connections_frame`.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> connector = {"id": "c1", "conns": [
    ...     {"id": "a", "colo_name": "DFW", "origin_ip": "192.0.2.1"},
    ...     {"id": "b", "colo_name": "ATL", "origin_ip": "192.0.2.1"},
    ...     {"id": "c", "colo_name": "DFW", "is_pending_reconnect": False},
    ...     {"id": "d", "colo_name": "LAX", "is_pending_reconnect": True}]}
    >>> row = tf.connectors_frame(connector).iloc[0]
    >>> row["n_connections"], row["n_active"], row["n_pending"], row["edges"], row["origin_ips"]
    (np.int64(4), np.int64(3), np.int64(1), '1xATL, 2xDFW', '192.0.2.1')
    """
    p = _Payload(data)
    k = p.n_connectors
    if not k:
        return _frame(_empty_like(CONNECTORS_SCHEMA))
    conn_groups = np.repeat(np.arange(k, dtype=np.int64), p.counts)
    pending_values, pending_mask = p.conn["is_pending_reconnect"]
    pending = pending_values & ~pending_mask
    n_pending = np.bincount(conn_groups, weights=pending, minlength=k).astype(np.int64)
    colo_codes, colos = p.conn["colo_name"]
    ip_codes, ips = p.conn["origin_ip"]
    columns = _context(p, np.arange(k, dtype=np.int64))
    columns.update(_connector_columns(p, None))
    columns["n_connections"] = p.counts.copy()
    columns["n_active"] = p.counts - n_pending
    columns["n_pending"] = n_pending
    edges = _edge_strings(conn_groups, colo_codes, colos.to_pylist(), ~pending, k)
    columns["edges"] = _text(edges)
    columns["origin_ips"] = _text(_distinct_strings(conn_groups, ip_codes, ips.to_pylist(), k))
    return _frame(columns)


def tunnels_frame(data: Any) -> pd.DataFrame:
    """One row per tunnel, with its connector and connection counts.

    Parameters
    ----------
    data : dict or list
        A fleet ``{"tunnels": [...]}`` (see the module docstring). Tunnel objects straight from
        the API (the ``result`` of GET ``…/cfd_tunnel`` or ``…/cfd_tunnel/{id}``, bare or in
        their envelope) are accepted too; they carry no connectors, so ``n_connectors`` and
        ``n_connections`` are NA for them.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`TUNNELS_SCHEMA` in that order, one row per tunnel in payload
        order: ``account_id`` from ``account_tag``, ``tunnel_id``, ``tunnel_name``,
        ``tunnel_status`` from ``id``, ``name``, ``status``, the other tunnel fields under their
        own names (the deprecated ``connections`` array is ignored), ``n_connectors`` (length
        of ``connectors``, 0 when absent) and ``n_connections`` (their connections).

    Raises
    ------
    SchemaError, ApiError, TypeError
        As :func:`connections_frame`.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = {"tunnels": [
    ...     {"id": "t1", "name": "blog", "status": "healthy", "remote_config": True,
    ...      "connectors": [{"id": "c1", "conns": [{"id": "a"}, {"id": "b"}]}, {"id": "c2"}]},
    ...     {"id": "t2", "name": "old", "status": "inactive"}]}
    >>> tf.tunnels_frame(fleet)[["tunnel_name", "remote_config", "n_connectors", "n_connections"]]
      tunnel_name remote_config  n_connectors  n_connections
    0        blog          True             2              2
    1         old          <NA>             0              0
    """
    p = _Payload(data, tunnels=True)
    n = len(p.tunnels)
    if not n:
        return _frame(_empty_like(TUNNELS_SCHEMA))
    t = p.tunnel
    columns: dict[str, Any] = {name: _take_codes(t[name], None) for name in _CONTEXT_SCHEMA}
    columns["tun_type"] = _take_codes(t["tun_type"], None)
    for name in ("created_at", "deleted_at", "conns_active_at", "conns_inactive_at"):
        columns[name] = _take_times(t[name], None)
    columns["remote_config"] = _take_masked(t["remote_config"], None, "bool")
    columns["config_src"] = _take_codes(t["config_src"], None)
    metadata = np.empty(n, dtype=object)
    metadata[:] = t["metadata"]
    columns["metadata"] = metadata
    if p.fleet:
        n_connectors = np.bincount(p.tunnel_of, minlength=n)
        n_connections = np.bincount(p.tunnel_of, weights=p.counts, minlength=n).astype(np.int64)
        columns["n_connectors"] = pd.array(n_connectors, dtype="Int64")
        columns["n_connections"] = pd.array(n_connections, dtype="Int64")
    else:
        columns["n_connectors"] = pd.array([pd.NA] * n, dtype="Int64")
        columns["n_connections"] = pd.array([pd.NA] * n, dtype="Int64")
    return _frame(columns)
