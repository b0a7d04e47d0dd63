"""The snapshot: a fleet as fetched at one moment, and its file format.

:class:`Snapshot` holds the raw tunnels (each with its connectors), the per-tunnel failures and
the request count; :meth:`Snapshot.save` and :func:`load_snapshot` are the one place that
writes and reads the ``tunnelframe.snapshot`` JSON document (gzip when the name ends in
``.gz``). Fetching lives in :mod:`tunnelframe.fetch`; flattening in :mod:`tunnelframe.frames`.
"""

from __future__ import annotations

import gzip
import json
import os
import warnings
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd

from tunnelframe import _io
from tunnelframe._errors import SchemaError, TunnelframeDeprecationWarning
from tunnelframe._io import atomic_write, read_json
from tunnelframe._types import FleetSource
from tunnelframe.frames import connections_frame, connectors_frame, tunnels_frame

__all__ = ["Snapshot", "TunnelList", "as_connections", "load_snapshot"]

_FORMAT: Final = "tunnelframe.snapshot"
_VERSION: Final = 1
_ERROR_COLUMNS: Final = ("account_id", "tunnel_id", "tunnel_name", "status", "codes", "message")
#: Largest snapshot accepted once a ``.json.gz`` file is inflated (the client's cap on one
#: response is 64 MiB; a whole fleet's snapshot may hold many responses).
MAX_INFLATED_BYTES: Final = _io.MAX_INFLATED_BYTES


class TunnelList(list[dict[str, Any]]):
    """The raw tunnels of a snapshot: ``snapshot.tunnels``, a plain list.

    Calling it (``snapshot.tunnels()``) still returns the tunnels frame, with a
    :class:`~tunnelframe.TunnelframeDeprecationWarning`, for one release: write
    ``snapshot.tunnels_frame()`` (``snapshot.tunnels`` is the list, as the history store's
    ``SnapshotLike`` has it).

    Examples
    --------
    >>> from tunnelframe.snapshot import TunnelList
    >>> tunnels = TunnelList([{"id": "t1", "name": "blog", "connectors": [{"id": "c1"}]}])
    >>> tunnels[0]["name"]
    'blog'
    """

    def __init__(
        self, tunnels: Iterable[dict[str, Any]] = (), *, observed_at: datetime | None = None
    ) -> None:
        super().__init__(tunnels)
        self.observed_at = observed_at

    def __call__(self) -> pd.DataFrame:
        warnings.warn(
            "snapshot.tunnels() is deprecated and goes in the next release: write "
            "snapshot.tunnels_frame() (snapshot.tunnels is the list of tunnels)",
            TunnelframeDeprecationWarning,
            stacklevel=2,
        )
        frame = tunnels_frame({"tunnels": list(self)})
        if self.observed_at is not None and frame["observed_at"].isna().any():
            default = pd.Timestamp(self.observed_at).tz_convert("UTC")
            frame["observed_at"] = frame["observed_at"].fillna(default)
        return frame


class Snapshot:
    """A fleet as fetched at one moment, with what went wrong and what it cost.

    Attributes
    ----------
    fetched_at : datetime
        When the fetch started (tz-aware UTC).
    account_ids : list of str
        The accounts read.
    tunnels : list of dict
        Raw Tunnel objects, each with ``"connectors"``: what its ``/connections`` returned
        (``[]`` when it has none, was not read, or failed), and, from an incremental refresh,
        ``"observed_at"``: when they were read (ISO 8601; absent means ``fetched_at``).
        :meth:`tunnels_frame` gives them as a frame.
    errors : list of dict
        One per tunnel whose ``/connections`` failed: ``account_id``, ``tunnel_id``,
        ``tunnel_name``, ``status`` (HTTP status or None), ``codes``, ``message``.
    n_requests : int
        HTTP requests made, retries included.
    routing : dict or None
        What the tunnels serve, when it was read (:func:`tunnelframe.fetch_routing`): the
        raw ``configurations``, ``routes``, ``zones`` and ``dns_records``, the parts ``read``
        and the ``notes`` on parts skipped. None: not read.
    as_of : datetime or None
        The moment the data describes when it is not ``fetched_at``: a sample or simulated
        fleet pictured on its own date (``tunnelframe demo`` records the sample's). Analyses
        of the snapshot measure ages there unless given another ``as_of``; None (the
        default, every live fetch): at ``fetched_at``.

    Examples
    --------
    >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["acc1"],
    ...                 tunnels=[{"id": "t1", "account_tag": "acc1", "connectors": []}])
    >>> snap.fleet["tunnels"][0]["id"], snap.errors
    ('t1', [])
    """

    def __init__(
        self,
        fetched_at: datetime,
        account_ids: Iterable[str],
        tunnels: Iterable[dict[str, Any]],
        errors: Iterable[dict[str, Any]] = (),
        n_requests: int = 0,
        routing: Mapping[str, Any] | None = None,
        as_of: datetime | None = None,
    ) -> None:
        if not isinstance(fetched_at, datetime) or fetched_at.tzinfo is None:
            raise ValueError(f"fetched_at must be a tz-aware datetime, got {fetched_at!r}")
        if as_of is not None and (not isinstance(as_of, datetime) or as_of.tzinfo is None):
            raise ValueError(f"as_of must be None or a tz-aware datetime, got {as_of!r}")
        self.as_of: datetime | None = as_of
        self.fetched_at: datetime = fetched_at
        self.account_ids: list[str] = list(account_ids)
        self.tunnels: TunnelList = TunnelList(tunnels, observed_at=fetched_at)
        self.errors: list[dict[str, Any]] = list(errors)
        self.n_requests: int = int(n_requests)
        self.routing: dict[str, Any] | None = None if routing is None else dict(routing)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return (
            self.fetched_at == other.fetched_at
            and self.account_ids == other.account_ids
            and list(self.tunnels) == list(other.tunnels)
            and self.errors == other.errors
            and self.n_requests == other.n_requests
            and self.routing == other.routing
            and self.as_of == other.as_of
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def fleet(self) -> dict[str, Any]:
        """The fleet dict ``{"tunnels": [...]}`` every frame function accepts (with
        ``"routing"`` when it was read)."""
        fleet: dict[str, Any] = {"tunnels": list(self.tunnels)}
        if self.routing is not None:
            fleet["routing"] = self.routing
        return fleet

    def connections(self, *, include_idle: bool = True) -> pd.DataFrame:
        """One row per connection (see :func:`tunnelframe.frames.connections_frame`).

        Examples
        --------
        >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
        ...     tunnels=[{"id": "t1", "connectors": [{"id": "c1", "conns": [
        ...         {"id": "x1", "colo_name": "DFW"}, {"id": "x2", "colo_name": "LAX"}]}]}])
        >>> list(snap.connections()["colo_name"])
        ['DFW', 'LAX']
        """
        return connections_frame(self.fleet, include_idle=include_idle)

    def tunnels_frame(self) -> pd.DataFrame:
        """One row per tunnel (see :func:`tunnelframe.frames.tunnels_frame`), ``observed_at``
        defaulting to ``fetched_at`` (a tunnel of a full read was read at fetch time).

        Examples
        --------
        >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
        ...     tunnels=[{"id": "t1", "name": "blog", "connectors": [{"id": "c1"}]}])
        >>> snap.tunnels_frame()[["tunnel_name", "n_connectors"]].to_dict("records")
        [{'tunnel_name': 'blog', 'n_connectors': 1}]
        """
        return tunnels_frame(self)

    def connectors(self) -> pd.DataFrame:
        """One row per connector (see :func:`tunnelframe.frames.connectors_frame`).

        Examples
        --------
        >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
        ...     tunnels=[{"id": "t1", "connectors": [{"id": "c1", "conns": []}]}])
        >>> list(snap.connectors()["connector_id"])
        ['c1']
        """
        return connectors_frame(self.fleet)

    def errors_frame(self) -> pd.DataFrame:
        """One row per failed tunnel: account_id, tunnel_id, tunnel_name, status, codes, message.

        ``status`` is a nullable integer (NA: no response), ``codes`` the error codes joined
        with ",".

        Examples
        --------
        >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
        ...     tunnels=[], errors=[{"account_id": "a", "tunnel_id": "t9", "tunnel_name": "x",
        ...                          "status": 404, "codes": [7003], "message": "gone"}])
        >>> snap.errors_frame()[["tunnel_id", "status", "codes"]].to_dict("records")
        [{'tunnel_id': 't9', 'status': 404, 'codes': '7003'}]
        """
        rows = [
            {
                "account_id": error.get("account_id"),
                "tunnel_id": error.get("tunnel_id"),
                "tunnel_name": error.get("tunnel_name"),
                "status": error.get("status"),
                "codes": ",".join(str(code) for code in error.get("codes") or []),
                "message": error.get("message"),
            }
            for error in self.errors
        ]
        frame = pd.DataFrame(rows, columns=list(_ERROR_COLUMNS))
        return frame.astype(
            {
                "account_id": "category",
                "tunnel_id": "string",
                "tunnel_name": "string",
                "status": "Int64",
                "codes": "string",
                "message": "string",
            }
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the snapshot as JSON (gzip when the name ends in ``.gz``), atomically.

        The file is written next to ``path`` under a temporary name, then renamed over it,
        so a reader never sees half a snapshot.

        Returns
        -------
        Path
            The path written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
        ...                 tunnels=[])
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "fleet.json.gz"
        >>> load_snapshot(snap.save(target)) == snap
        True
        """
        target = Path(path)
        document = {
            "format": _FORMAT,
            "version": _VERSION,
            "fetched_at": self.fetched_at.astimezone(UTC).isoformat(),
            "account_ids": list(self.account_ids),
            "n_requests": self.n_requests,
            "errors": self.errors,
            "tunnels": list(self.tunnels),
        }
        if self.routing is not None:  # an optional key: older readers of version 1 ignore it
            document["routing"] = self.routing
        if self.as_of is not None:
            document["as_of"] = self.as_of.astimezone(UTC).isoformat()
        try:
            data = json.dumps(document, ensure_ascii=False, indent=None).encode()
        except UnicodeEncodeError:  # a lone surrogate in a name: \u escapes keep it exactly
            data = json.dumps(document, ensure_ascii=True, indent=None).encode()
        if target.name.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        return atomic_write(target, data)

    def __repr__(self) -> str:
        n_connectors = sum(len(t.get("connectors") or []) for t in self.tunnels)
        return (
            f"Snapshot(fetched_at={self.fetched_at.isoformat()!r}, "
            f"account_ids={self.account_ids!r}, tunnels={len(self.tunnels)}, "
            f"connectors={n_connectors}, errors={len(self.errors)}, "
            f"n_requests={self.n_requests})"
        )


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Read a snapshot written by :meth:`Snapshot.save` (``.json`` or ``.json.gz``).

    Raises
    ------
    SchemaError
        The file is not a tunnelframe snapshot, or a damaged or hand-edited one: a cut or
        corrupt gzip file, one that inflates past ``MAX_INFLATED_BYTES`` (256 MiB), JSON
        nested too deeply, or a value of the wrong kind (``errors[]`` fields included). ``path``
        names the file and, after a ``:``, the JSON path (``fleet.json:account_ids[0]``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
    ...                 tunnels=[{"id": "t1", "connectors": []}], n_requests=2)
    >>> load_snapshot(snap.save(pathlib.Path(tempfile.mkdtemp()) / "s.json")).n_requests
    2
    """
    source = Path(path)
    document = read_json(source, max_inflated_bytes=MAX_INFLATED_BYTES)
    if not isinstance(document, Mapping) or document.get("format") != _FORMAT:
        raise SchemaError(str(source), f'no "format": "{_FORMAT}" marker: not a snapshot')
    if document.get("version") != _VERSION:
        raise SchemaError(
            f"{source}:version",
            f"snapshot version {document.get('version')!r} is not {_VERSION}: upgrade tunnelframe",
        )
    for key, kind in (("tunnels", list), ("account_ids", list), ("errors", list)):
        if not isinstance(document.get(key), kind):
            raise SchemaError(f"{source}:{key}", f"expected a list, got {document.get(key)!r:.60}")
    for index, account in enumerate(document["account_ids"]):
        if not isinstance(account, str) or not account:
            raise SchemaError(
                f"{source}:account_ids[{index}]",
                f"expected an account id (a non-empty string), got {json.dumps(account):.60}",
            )
    for key in ("tunnels", "errors"):
        for index, item in enumerate(document[key]):
            if not isinstance(item, Mapping):
                raise SchemaError(
                    f"{source}:{key}[{index}]", f"expected an object, got {json.dumps(item):.60}"
                )
    for index, tunnel in enumerate(document["tunnels"]):
        if not isinstance(tunnel.get("connectors", []), list):
            raise SchemaError(
                f"{source}:tunnels[{index}].connectors",
                f"expected a list, got {json.dumps(tunnel['connectors']):.60}",
            )
    for index, error in enumerate(document["errors"]):
        _check_error(error, f"{source}:errors[{index}]")
    n_requests = document.get("n_requests") or 0
    if isinstance(n_requests, bool) or not isinstance(n_requests, int) or n_requests < 0:
        raise SchemaError(
            f"{source}:n_requests", f"expected a whole number >= 0, got {n_requests!r:.60}"
        )
    routing = document.get("routing")
    if routing is not None and not isinstance(routing, Mapping):
        raise SchemaError(f"{source}:routing", f"expected an object, got {routing!r:.60}")
    try:
        fetched_at = datetime.fromisoformat(str(document.get("fetched_at")))
    except ValueError as exc:
        raise SchemaError(f"{source}:fetched_at", "not an ISO 8601 date-time") from exc
    if fetched_at.tzinfo is None:
        raise SchemaError(f"{source}:fetched_at", "has no time zone")
    as_of = None
    if document.get("as_of") is not None:
        try:
            as_of = datetime.fromisoformat(str(document["as_of"]))
        except ValueError as exc:
            raise SchemaError(f"{source}:as_of", "not an ISO 8601 date-time") from exc
        if as_of.tzinfo is None:
            raise SchemaError(f"{source}:as_of", "has no time zone")
        as_of = as_of.astimezone(UTC)
    return Snapshot(
        fetched_at=fetched_at.astimezone(UTC),
        account_ids=document["account_ids"],
        tunnels=document["tunnels"],
        errors=document["errors"],
        n_requests=n_requests,
        routing=routing,
        as_of=as_of,
    )


def _check_error(error: Mapping[str, Any], path: str) -> None:
    """SchemaError for an ``errors[]`` record whose fields are not what a fetch writes."""
    for key in ("account_id", "tunnel_id", "tunnel_name", "message"):
        value = error.get(key)
        if value is not None and not isinstance(value, str):
            raise SchemaError(f"{path}.{key}", f"expected a string or null, got {value!r:.60}")
    status = error.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
    ):
        raise SchemaError(
            f"{path}.status", f"expected an HTTP status (100 to 599) or null, got {status!r:.60}"
        )
    codes = error.get("codes")
    if codes is None:
        return
    if not isinstance(codes, list):
        raise SchemaError(f"{path}.codes", f"expected a list of error codes, got {codes!r:.60}")
    for index, code in enumerate(codes):
        if isinstance(code, bool) or not isinstance(code, int):
            raise SchemaError(
                f"{path}.codes[{index}]", f"expected an integer error code, got {code!r:.60}"
            )


def as_connections(source: FleetSource) -> object:
    """The connections frame of a Snapshot, a saved snapshot's path, a fleet dict or a payload.

    What every analysis function does with its first argument, so ``tf.version_drift(snap)``,
    ``tf.ha_report("fleet.json.gz", level="tunnel")`` and ``tf.version_drift(conns)`` all
    work. Anything else (a connections frame above all) is returned as it is, for the function
    to check.

    Examples
    --------
    >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
    ...     tunnels=[{"id": "t1", "connectors": [{"id": "c1", "conns": [{"id": "x1"}]}]}])
    >>> as_connections(snap)["connection_id"].tolist()
    ['x1']
    >>> frame = snap.connections()
    >>> as_connections(frame) is frame
    True
    """
    if isinstance(source, Snapshot):
        return source.connections()
    if isinstance(source, (str, os.PathLike)):
        return load_snapshot(source).connections()
    if isinstance(source, Mapping | list):
        return connections_frame(source)
    return source
