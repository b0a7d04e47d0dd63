"""Fetch a whole fleet (or one tunnel, or one connector) and keep it as a snapshot.

This module orchestrates :class:`~tunnelframe.Client` calls: it lists the tunnels of one or
more accounts, reads every tunnel's ``/connections`` concurrently, records each failure instead
of dropping it, and wraps the result in a :class:`Snapshot` that saves to and loads from JSON.
It must not speak HTTP itself (that is ``client``) nor flatten payloads (that is ``frames``).

Which tunnels are read: with ``skip_inactive=True`` (the default) a deleted tunnel or one
whose status is ``inactive`` (never run) cannot have connectors, so its ``/connections`` is not
requested; it stays in the snapshot with ``"connectors": []``. A fleet of N tunnels therefore
costs ``ceil(N / 1000)`` list calls plus one call per tunnel that can have connectors.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from tunnelframe._errors import ApiError, SchemaError, TunnelframeError
from tunnelframe.client import Client

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Snapshot",
    "TunnelList",
    "fetch_connector",
    "fetch_fleet",
    "fetch_tunnel",
    "load_snapshot",
]

_FORMAT: Final = "tunnelframe.snapshot"
_VERSION: Final = 1
_ERROR_COLUMNS: Final = ("account_id", "tunnel_id", "tunnel_name", "status", "codes", "message")


class TunnelList(list[dict[str, Any]]):
    """The raw tunnels of a snapshot: a plain list that, called, returns the tunnels frame.

    ``snapshot.tunnels`` is the fleet's tunnel list (each tunnel with ``"connectors"``);
    ``snapshot.tunnels()`` is :func:`tunnelframe.frames.tunnels_frame` of it.

    Examples
    --------
    >>> from tunnelframe.fetch import TunnelList
    >>> tunnels = TunnelList([{"id": "t1", "name": "blog", "connectors": [{"id": "c1"}]}])
    >>> tunnels[0]["name"], tunnels()[["tunnel_name", "n_connectors"]].to_dict("records")
    ('blog', [{'tunnel_name': 'blog', 'n_connectors': 1}])
    """

    def __call__(self) -> pd.DataFrame:
        from tunnelframe.frames import tunnels_frame

        return tunnels_frame({"tunnels": list(self)})


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
        (``[]`` when it has none, was not read, or failed). Calling it, ``tunnels()``, gives
        the tunnels frame.
    errors : list of dict
        One per tunnel whose ``/connections`` failed: ``account_id``, ``tunnel_id``,
        ``tunnel_name``, ``status`` (HTTP status or None), ``codes``, ``message``.
    n_requests : int
        HTTP requests made, retries included.

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
    ) -> None:
        if not isinstance(fetched_at, datetime) or fetched_at.tzinfo is None:
            raise ValueError(f"fetched_at must be a tz-aware datetime, got {fetched_at!r}")
        self.fetched_at: datetime = fetched_at
        self.account_ids: list[str] = list(account_ids)
        self.tunnels: TunnelList = TunnelList(tunnels)
        self.errors: list[dict[str, Any]] = list(errors)
        self.n_requests: int = int(n_requests)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return (
            self.fetched_at == other.fetched_at
            and self.account_ids == other.account_ids
            and list(self.tunnels) == list(other.tunnels)
            and self.errors == other.errors
            and self.n_requests == other.n_requests
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def fleet(self) -> dict[str, Any]:
        """The fleet dict ``{"tunnels": [...]}`` every frame function accepts."""
        return {"tunnels": list(self.tunnels)}

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
        from tunnelframe.frames import connections_frame

        return connections_frame(self.fleet, include_idle=include_idle)

    def connectors(self) -> pd.DataFrame:
        """One row per connector (see :func:`tunnelframe.frames.connectors_frame`).

        Examples
        --------
        >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
        ...     tunnels=[{"id": "t1", "connectors": [{"id": "c1", "conns": []}]}])
        >>> list(snap.connectors()["connector_id"])
        ['c1']
        """
        from tunnelframe.frames import connectors_frame

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
        import pandas as pd

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
        data = json.dumps(document, ensure_ascii=False, indent=None).encode()
        if target.name.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return target

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
        The file is not a tunnelframe snapshot.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> snap = Snapshot(fetched_at=datetime(2026, 8, 20, tzinfo=UTC), account_ids=["a"],
    ...                 tunnels=[{"id": "t1", "connectors": []}], n_requests=2)
    >>> load_snapshot(snap.save(pathlib.Path(tempfile.mkdtemp()) / "s.json")).n_requests
    2
    """
    source = Path(path)
    raw = source.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise SchemaError(str(source), f"not JSON ({exc}): is it a tunnelframe snapshot?") from exc
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
    try:
        fetched_at = datetime.fromisoformat(str(document.get("fetched_at")))
    except ValueError as exc:
        raise SchemaError(f"{source}:fetched_at", "not an ISO 8601 date-time") from exc
    if fetched_at.tzinfo is None:
        raise SchemaError(f"{source}:fetched_at", "has no time zone")
    return Snapshot(
        fetched_at=fetched_at.astimezone(UTC),
        account_ids=[str(account) for account in document["account_ids"]],
        tunnels=document["tunnels"],
        errors=document["errors"],
        n_requests=int(document.get("n_requests") or 0),
    )


def _can_have_connectors(tunnel: Mapping[str, Any]) -> bool:
    return not tunnel.get("deleted_at") and tunnel.get("status") != "inactive"


def _error_record(account: str, tunnel: Mapping[str, Any], error: ApiError) -> dict[str, Any]:
    return {
        "account_id": account,
        "tunnel_id": tunnel.get("id"),
        "tunnel_name": tunnel.get("name"),
        "status": error.status,
        "codes": list(error.codes),
        "message": str(error),
    }


def _accounts(client: Client, account_id: str | Iterable[str] | None) -> list[str]:
    if account_id is None:
        return [client._account(None)]
    if isinstance(account_id, str):
        return [account_id]
    accounts = list(dict.fromkeys(account_id))
    if not accounts or not all(isinstance(a, str) and a for a in accounts):
        raise ValueError(f"account_id must be an id or a non-empty list of ids, got {accounts!r}")
    return accounts


def fetch_fleet(
    client: Client | None = None,
    *,
    account_id: str | Iterable[str] | None = None,
    name: str | None = None,
    existed_at: datetime | str | None = None,
    uuid: str | None = None,
    was_active_at: datetime | str | None = None,
    was_inactive_at: datetime | str | None = None,
    include_prefix: str | None = None,
    exclude_prefix: str | None = None,
    status: str | None = None,
    include_deleted: bool = False,
    skip_inactive: bool = True,
    max_workers: int = 8,
    progress: bool = True,
) -> Snapshot:
    """Fetch every tunnel of one or more accounts with its connectors.

    Lists the tunnels (1000 per page), then reads ``/connections`` of every tunnel that can
    have connectors on ``max_workers`` threads. A tunnel whose call fails (deleted meanwhile,
    persistent 5xx, ...) is recorded in ``snapshot.errors`` and the fetch goes on; a failure
    to list an account raises.

    Parameters
    ----------
    client : Client, optional
        Default: ``Client()`` from the ``CLOUDFLARE_*`` environment variables.
    account_id : str or list of str, optional
        Default: the client's account. Several accounts go into one snapshot.
    name, existed_at, uuid, was_active_at, was_inactive_at, include_prefix, exclude_prefix,
    status
        List filters, as in :meth:`Client.list_tunnels`.
    include_deleted : bool
        Also list deleted tunnels (their connectors are not read when ``skip_inactive``).
    skip_inactive : bool
        Do not read ``/connections`` of deleted tunnels and of ``inactive`` (never run) ones.
    max_workers : int
        Concurrent ``/connections`` calls.
    progress : bool
        Show a progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal).

    Returns
    -------
    Snapshot

    Examples
    --------
    >>> from tunnelframe.simulator import serve
    >>> fleet = {"tunnels": [
    ...     {"id": "t1", "account_tag": "acc1", "name": "web", "status": "healthy",
    ...      "connectors": [{"id": "c1", "conns": [{"id": "x1", "colo_name": "DFW"}]}]},
    ...     {"id": "t2", "account_tag": "acc1", "name": "new", "status": "inactive"}]}
    >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
    ...     snap = fetch_fleet(client, account_id=api.account_id, progress=False)
    >>> len(snap.tunnels), snap.n_requests, list(snap.connections()["colo_name"])
    (2, 2, ['DFW'])
    """
    if max_workers < 1:
        raise ValueError(f"max_workers must be >= 1, got {max_workers}")
    own_client = client is None
    active_client = Client(pool_size=max_workers) if client is None else client
    try:
        return _fetch_fleet(
            active_client,
            accounts=_accounts(active_client, account_id),
            filters={
                "name": name,
                "existed_at": existed_at,
                "uuid": uuid,
                "was_active_at": was_active_at,
                "was_inactive_at": was_inactive_at,
                "include_prefix": include_prefix,
                "exclude_prefix": exclude_prefix,
                "status": status,
                "is_deleted": None if include_deleted else False,
            },
            skip_inactive=skip_inactive,
            max_workers=max_workers,
            progress=progress,
        )
    finally:
        if own_client:
            active_client.close()


def _fetch_fleet(
    client: Client,
    *,
    accounts: list[str],
    filters: dict[str, Any],
    skip_inactive: bool,
    max_workers: int,
    progress: bool,
) -> Snapshot:
    # tqdm.auto warns on import in a Jupyter kernel without ipywidgets: only import it when a
    # bar is wanted (the plain tqdm, disabled, costs nothing and says nothing).
    if progress:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm

    client._ensure_pool(max_workers)
    fetched_at = datetime.now(UTC)
    requests_before = client.n_requests
    tunnels: list[dict[str, Any]] = []
    owners: list[str] = []
    for account in accounts:
        for tunnel in client.list_tunnels(account_id=account, per_page=1000, **filters):
            tunnels.append({**tunnel, "connectors": []})
            owners.append(account)
    todo = [
        index
        for index, tunnel in enumerate(tunnels)
        if not skip_inactive or _can_have_connectors(tunnel)
    ]
    errors: dict[int, dict[str, Any]] = {}
    with (
        tqdm(total=len(todo), desc="connectors", unit="tunnel", disable=not progress) as bar,
        concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="tunnelframe-fetch"
        ) as pool,
    ):
        futures = {
            pool.submit(
                client.list_connectors, str(tunnels[index].get("id")), account_id=owners[index]
            ): index
            for index in todo
        }
        try:
            for future in concurrent.futures.as_completed(futures):
                index = futures[future]
                try:
                    tunnels[index]["connectors"] = future.result()
                except ApiError as exc:
                    errors[index] = _error_record(owners[index], tunnels[index], exc)
                except TunnelframeError as exc:  # a malformed payload: keep it as an error
                    errors[index] = _error_record(owners[index], tunnels[index], ApiError(str(exc)))
                bar.update(1)
                if errors:
                    bar.set_postfix(errors=len(errors), refresh=False)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return Snapshot(
        fetched_at=fetched_at,
        account_ids=accounts,
        tunnels=tunnels,
        errors=[errors[index] for index in sorted(errors)],
        n_requests=client.n_requests - requests_before,
    )


def _one_tunnel_fleet(
    tunnel: Mapping[str, Any], account: str, connectors: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"tunnels": [{"account_tag": account, **tunnel, "connectors": connectors}]}


def fetch_tunnel(
    tunnel_id: str, client: Client | None = None, *, account_id: str | None = None
) -> pd.DataFrame:
    """The connections frame of one tunnel (two calls: the tunnel, then its connectors).

    Examples
    --------
    >>> from tunnelframe.simulator import serve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web",
    ...     "connectors": [{"id": "c1", "conns": [{"id": "x1", "colo_name": "DFW"}]}]}]}
    >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
    ...     frame = fetch_tunnel("t1", client, account_id="acc1")
    >>> frame[["tunnel_name", "connector_id", "colo_name"]].astype(str).values.tolist()
    [['web', 'c1', 'DFW']]
    """
    from tunnelframe.frames import connections_frame

    own_client = client is None
    active = Client() if client is None else client
    try:
        account = active._account(account_id)
        tunnel = active.get_tunnel(tunnel_id, account_id=account)
        connectors = active.list_connectors(tunnel_id, account_id=account)
    finally:
        if own_client:
            active.close()
    return connections_frame(_one_tunnel_fleet(tunnel, account, connectors))


def fetch_connector(
    tunnel_id: str,
    connector_id: str,
    client: Client | None = None,
    *,
    account_id: str | None = None,
) -> pd.DataFrame:
    """The connections frame of one connector (``GET …/connectors/{connector_id}``).

    Only the connector endpoint is called, so tunnel name and status are NA.

    Examples
    --------
    >>> from tunnelframe.simulator import serve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web",
    ...     "connectors": [{"id": "c1", "conns": [{"id": "x1", "colo_name": "DFW"},
    ...                                           {"id": "x2", "colo_name": "IAH"}]}]}]}
    >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
    ...     frame = fetch_connector("t1", "c1", client, account_id="acc1")
    >>> list(frame["colo_name"])
    ['DFW', 'IAH']
    """
    from tunnelframe.frames import connections_frame

    own_client = client is None
    active = Client() if client is None else client
    try:
        account = active._account(account_id)
        connector = active.get_connector(tunnel_id, connector_id, account_id=account)
    finally:
        if own_client:
            active.close()
    return connections_frame(_one_tunnel_fleet({"id": tunnel_id}, account, [connector]))
