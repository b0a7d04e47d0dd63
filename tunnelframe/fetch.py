"""Fetch a whole fleet (or one tunnel, or one connector) and keep it as a snapshot.

This module orchestrates :class:`~tunnelframe.Client` calls: it lists the tunnels of one or
more accounts, reads every tunnel's ``/connections`` concurrently, records each failure instead
of dropping it, and wraps the result in a :class:`~tunnelframe.snapshot.Snapshot` (whose file
format lives in :mod:`tunnelframe.snapshot`). It must not speak HTTP itself (that is
``client``) nor flatten payloads (that is ``frames``).

Which tunnels are read: with ``skip_inactive=True`` (the default) a deleted tunnel or one
whose status is ``inactive`` (never run) cannot have connectors, so its ``/connections`` is not
requested; it stays in the snapshot with ``"connectors": []``. A fleet of N tunnels therefore
costs ``ceil(N / 1000)`` list calls plus one call per tunnel that can have connectors.

Tunnel types: ``tun_types="cfd_tunnel"`` (the default) lists ``/cfd_tunnel`` as before; with
``"warp_connector"`` among the types, one listing of ``/tunnels?tun_types=…`` covers them all
(so the list calls stay ``ceil(N / 1000)`` for the whole mixed fleet) and each tunnel's
``/connections`` is read under its own ``tun_type``. The default stays cloudflared only: the
same calls, frames and token permission as before for every existing script, since a token
scoped to *Cloudflare One Connector: cloudflared Read* need not cover WARP Connector.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import signal
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Unpack

from tunnelframe._deprecate import positional_to_keyword, renamed
from tunnelframe._errors import ApiError, SchemaError, TunnelframeError, TunnelframeWarning
from tunnelframe._fleetfile import FleetFile, TokenGroup, load_fleet_file
from tunnelframe._listfilters import FleetFilters
from tunnelframe._refresh import plan_reads
from tunnelframe._text import encodable, plural
from tunnelframe.client import TUN_TYPES, Client
from tunnelframe.frames import connections_frame, connectors_frame, tunnels_frame
from tunnelframe.snapshot import Snapshot

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fetch_connector", "fetch_fleet", "fetch_tunnel"]


def _can_have_connectors(tunnel: Mapping[str, Any]) -> bool:
    return not tunnel.get("deleted_at") and tunnel.get("status") != "inactive"


#: Seconds past the fetch deadline a worker gets to notice it before its tunnel is recorded.
_GRACE_S: Final = 2.0

_TUNNEL_PATH: Final = re.compile(r"^tunnels\[(\d+)\]")


def _error_record(account: str, tunnel: Mapping[str, Any], error: ApiError) -> dict[str, Any]:
    # Other people's text (a name, an API message) with a lone surrogate would make the whole
    # snapshot unencodable: every text entering errors is made encodable.
    def text(value: object) -> str | None:
        return None if value is None else encodable(value)

    return {
        "account_id": text(account),
        "tunnel_id": text(tunnel.get("id")),
        "tunnel_name": text(tunnel.get("name")),
        "status": error.status,
        "codes": list(error.codes),
        "message": encodable(error),
    }


def _tun_type(tunnel: Mapping[str, Any]) -> str:
    """The endpoint kind of a tunnel object (a tunnel without ``tun_type`` is cloudflared's)."""
    value = tunnel.get("tun_type")
    return value if isinstance(value, str) and value else "cfd_tunnel"


def _kinds(kinds: str | Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return ("cfd_tunnel",)
    chosen = (kinds,) if isinstance(kinds, str) else tuple(dict.fromkeys(kinds))
    if not chosen or any(kind not in TUN_TYPES for kind in chosen):
        raise ValueError(
            f"tun_types must be one or more of {', '.join(TUN_TYPES)}, got {list(chosen)!r}"
        )
    return chosen


def _accounts(client: Client, account_id: str | Iterable[str] | None) -> list[str]:
    if account_id is None:
        return [client.resolve_account(None)]
    if isinstance(account_id, str):
        return [account_id]
    accounts = list(dict.fromkeys(account_id))
    if not accounts or not all(isinstance(a, str) and a for a in accounts):
        raise ValueError(f"account_id must be an id or a non-empty list of ids, got {accounts!r}")
    return accounts


@positional_to_keyword(0, "client")
@renamed(kinds="tun_types")
def fetch_fleet(
    *,
    client: Client | None = None,
    account_id: str | Iterable[str] | None = None,
    include_deleted: bool = False,
    skip_inactive: bool = True,
    tun_types: str | Iterable[str] | None = None,
    max_workers: int = 8,
    progress: bool = True,
    deadline: float | None = None,
    previous: Snapshot | None = None,
    max_requests: int | None = None,
    budget_share: float = 0.5,
    fleet_file: str | os.PathLike[str] | FleetFile | None = None,
    **filters: Unpack[FleetFilters],
) -> Snapshot:
    """Fetch every tunnel of one or more accounts with its connectors.

    Lists the tunnels (1000 per page), then reads ``/connections`` of every tunnel that can
    have connectors on ``max_workers`` threads. A tunnel whose call fails (deleted meanwhile,
    persistent 5xx, a redirect, an id that is no id, the deadline, ...) or whose connectors
    cannot be flattened into frames is recorded in ``snapshot.errors`` (its ``connectors``
    stay ``[]``) and the fetch goes on; a failure to list an account raises.

    Ctrl+C stops the fetch promptly: every wait and every call in progress ends, and the
    ``KeyboardInterrupt`` propagates (nothing is returned or written).

    Parameters
    ----------
    client : Client, optional
        Default: ``Client()`` from the ``CLOUDFLARE_*`` environment variables.
    account_id : str or list of str, optional
        Default: the client's account. Several accounts go into one snapshot.
    include_deleted : bool
        Also list deleted tunnels (their connectors are not read when ``skip_inactive``).
    skip_inactive : bool
        Do not read ``/connections`` of deleted tunnels and of ``inactive`` (never run) ones.
    tun_types : str or iterable of str, optional
        Tunnel types to read: ``"cfd_tunnel"`` (cloudflared, the default) and/or
        ``"warp_connector"`` (WARP Connector, now Cloudflare Mesh). Several types are listed
        in one pass of ``/tunnels?tun_types=…``; see the module docstring for the default.
    max_workers : int
        Concurrent ``/connections`` calls.
    progress : bool
        Show a progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal).
    deadline : float, optional
        Seconds the whole fetch may take (see :meth:`Client.limit`): the listing raises
        :class:`ApiError` past it; a tunnel not read by then is recorded in
        ``snapshot.errors``. Default: no deadline (each request still has the client's
        ``Policy.request_deadline``).
    **filters
        The API's list filters but ``is_deleted`` (say ``include_deleted``): ``name``,
        ``existed_at``, ``uuid``, ``was_active_at``, ``was_inactive_at``, ``include_prefix``,
        ``exclude_prefix``, ``status``, as in :meth:`Client.list_tunnels`.
    previous : Snapshot, optional
        Refresh incrementally from this earlier snapshot (see "Incremental refresh" below).
        An empty snapshot (no tunnels) makes every tunnel new: a first, capped read.
    max_requests : int, optional
        Incremental refresh: the most requests this call may make (listing included).
    budget_share : float
        Incremental refresh: the share of the client's rate budget
        (``client.requests_per_window``) this call may spend, 0 < share <= 1; default half.
    fleet_file : path or FleetFile, optional
        Many accounts, one token each (TOML; see :func:`tunnelframe.load_fleet_file`): every
        account of the file is read with the token in the environment variable the file
        names, each token within its own budget share (the file's, not ``budget_share``:
        its client allows only that many requests in any window). Every variable is checked
        before anything is fetched. Not with ``client`` or ``account_id``.

    Returns
    -------
    Snapshot

    Notes
    -----
    **Incremental refresh** (``previous`` given): every tunnel is listed as usual (the list
    carries each tunnel's ``status``, ``conns_active_at`` and ``conns_inactive_at``); then, within
    the cap (``max_requests`` and ``budget_share``, whichever is smaller, less the list calls),
    ``/connections`` is read for every tunnel that is new, whose list entry changed, or whose
    read failed in ``previous``; tunnels no longer listed are dropped; the rest are carried
    forward from ``previous`` and the longest-unread of them are re-read with what is left of
    the cap. Each tunnel records when its connectors were read (``observed_at``). A tunnel
    that needed a read but found no room is carried forward as it was (a changed one, so the
    next refresh sees the change again), or, new or failed before, recorded in ``errors``
    ("not read yet"), so the next refresh reads it first. Changes the list cannot show (one
    connector of several restarting) are seen when the rotation reaches the tunnel.

    Examples
    --------
    >>> from tunnelframe.simulator import serve
    >>> fleet = {"tunnels": [
    ...     {"id": "t1", "account_tag": "acc1", "name": "web", "status": "healthy",
    ...      "connectors": [{"id": "c1", "conns": [{"id": "x1", "colo_name": "DFW"}]}]},
    ...     {"id": "t2", "account_tag": "acc1", "name": "new", "status": "inactive"}]}
    >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
    ...     snap = fetch_fleet(client=client, account_id=api.account_id, progress=False)
    >>> len(snap.tunnels), snap.n_requests, list(snap.connections()["colo_name"])
    (2, 2, ['DFW'])
    """
    for key in filters:
        if key not in FleetFilters.__optional_keys__:
            raise TypeError(f"fetch_fleet() got an unexpected keyword argument {key!r}")
    if max_workers < 1:
        raise ValueError(f"max_workers must be >= 1, got {max_workers}")
    if not (isinstance(budget_share, int | float) and 0 < budget_share <= 1):
        raise ValueError(
            f"budget_share must be a share of the budget, 0 < share <= 1, got {budget_share!r}"
        )
    if max_requests is not None and (isinstance(max_requests, bool) or max_requests < 1):
        raise ValueError(f"max_requests must be a whole number >= 1, got {max_requests!r}")
    if previous is not None and not isinstance(previous, Snapshot):
        raise TypeError(f"previous must be a Snapshot, got {type(previous).__name__}")
    options: dict[str, Any] = {
        "filters": {**filters, "is_deleted": None if include_deleted else False},
        "skip_inactive": skip_inactive,
        "kinds": _kinds(tun_types),
        "max_workers": max_workers,
        "progress": progress,
        "ends_at": None if deadline is None else time.monotonic() + deadline,
    }
    if fleet_file is not None:
        if client is not None or account_id is not None:
            raise ValueError(
                "fleet_file names the accounts and their tokens: give no client or account_id"
            )
        fleet = fleet_file if isinstance(fleet_file, FleetFile) else load_fleet_file(fleet_file)
        return _fetch_fleet_file(
            fleet, previous=previous, max_requests=max_requests, deadline=deadline, **options
        )
    own_client = client is None
    active_client = Client(pool_size=max_workers) if client is None else client
    try:
        with active_client.limit(deadline=deadline):
            return _fetch_fleet(
                active_client,
                accounts=_accounts(active_client, account_id),
                **options,
                previous=previous,
                cap=_cap(active_client, max_requests, budget_share),
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
    kinds: tuple[str, ...],
    max_workers: int,
    progress: bool,
    previous: Snapshot | None = None,
    cap: int = 0,
    ends_at: float | None = None,
) -> Snapshot:
    # tqdm.auto warns on import in a Jupyter kernel without ipywidgets: only import it when a
    # bar is wanted (the plain tqdm, disabled, costs nothing and says nothing).
    if progress:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm

    client.ensure_pool(max_workers)
    fetched_at = datetime.now(UTC)
    requests_before = client.n_requests
    tunnels: list[dict[str, Any]] = []
    owners: list[str] = []
    for account in accounts:
        tun_types = None if kinds == ("cfd_tunnel",) else list(kinds)
        listed = client.list_tunnels(
            account_id=account, per_page=1000, tun_types=tun_types, **filters
        )
        for tunnel in listed:
            tunnels.append({**tunnel, "connectors": []})
            owners.append(account)
    readable = [
        (not skip_inactive or _can_have_connectors(tunnel)) and _tun_type(tunnel) in kinds
        for tunnel in tunnels
    ]
    errors: dict[int, dict[str, Any]] = {}
    if previous is None:
        todo = [index for index, ok in enumerate(readable) if ok]
    else:
        slots = max(0, cap - (client.n_requests - requests_before))
        todo = _carry_forward(tunnels, owners, readable, previous, errors, slots, fetched_at)
    _say_how_long(client, len(todo), client.n_requests - requests_before + len(todo))
    # The pool is shut down by hand: on Ctrl+C or the deadline it is left without joining a
    # worker still stuck in a request (client.cancel() ends those as soon as it can).
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=max_workers, thread_name_prefix="tunnelframe-fetch"
    )
    joined = False
    with tqdm(
        total=len(todo),
        desc=f"reading connectors of {len(todo):,} tunnel{'' if len(todo) == 1 else 's'}",
        unit="tunnel",
        disable=not progress,
    ) as bar:
        futures: dict[concurrent.futures.Future[list[dict[str, Any]]], int] = {}
        try:
            with _ctrl_c_held():
                for index in todo:
                    tunnel_id = str(tunnels[index].get("id"))
                    future = pool.submit(
                        client.list_connectors,
                        tunnel_id,
                        account_id=owners[index],
                        tun_type=_tun_type(tunnels[index]),
                    )
                    futures[future] = index
            handled: set[int] = set()

            def take(future: concurrent.futures.Future[list[dict[str, Any]]]) -> None:
                index = futures[future]
                handled.add(index)
                try:
                    tunnels[index]["connectors"] = future.result()
                    if previous is not None:
                        tunnels[index]["observed_at"] = _iso(datetime.now(UTC))
                except ApiError as exc:
                    errors[index] = _error_record(owners[index], tunnels[index], exc)
                except (TunnelframeError, ValueError) as exc:  # malformed payload or id
                    errors[index] = _error_record(owners[index], tunnels[index], ApiError(str(exc)))

            # Past the deadline (and a grace for workers to notice it) the rest is recorded.
            wait = None if ends_at is None else max(0.0, ends_at - time.monotonic()) + _GRACE_S
            try:
                for future in concurrent.futures.as_completed(futures, timeout=wait):
                    take(future)
                    bar.update(1)
                    if errors:
                        bar.set_postfix(errors=len(errors), refresh=False)
            except concurrent.futures.TimeoutError:
                client.cancel()
                late = ApiError("not read: the fetch deadline passed while it was being read")
                for future, index in futures.items():
                    if index in handled:
                        continue
                    if future.done() and not future.cancelled():
                        take(future)
                    else:
                        errors[index] = _error_record(owners[index], tunnels[index], late)
            else:
                pool.shutdown(wait=True)
                joined = True
        except BaseException:  # Ctrl+C above all: stop the workers' waits and calls now
            client.cancel()
            raise
        finally:
            if not joined:
                pool.shutdown(wait=False, cancel_futures=True)
                # Cancelled workers end at their next chunk or wait; one that does not within
                # the grace is left behind rather than waited for.
                concurrent.futures.wait(futures, timeout=_GRACE_S)
    kept = _quarantine(tunnels, owners, errors)
    return Snapshot(
        fetched_at=fetched_at,
        account_ids=accounts,
        tunnels=[tunnels[index] for index in kept],
        errors=[errors[index] for index in sorted(errors)],
        n_requests=client.n_requests - requests_before,
    )


def _part(previous: Snapshot | None, accounts: Iterable[str]) -> Snapshot | None:
    """The part of ``previous`` about ``accounts`` (its tunnels and its errors)."""
    if previous is None:
        return None
    mine = set(accounts)
    return Snapshot(
        fetched_at=previous.fetched_at,
        account_ids=[a for a in previous.account_ids if a in mine],
        tunnels=[t for t in previous.tunnels if str(t.get("account_tag")) in mine],
        errors=[e for e in previous.errors if str(e.get("account_id")) in mine],
        n_requests=0,
    )


def _fetch_fleet_file(
    fleet: FleetFile,
    *,
    previous: Snapshot | None,
    max_requests: int | None,
    deadline: float | None,
    max_workers: int,
    **options: Any,
) -> Snapshot:
    """Read every token group of a fleet file (a few at once), each within its own budget."""
    tokens = fleet.tokens()  # every variable checked before anything is fetched

    def one(group: TokenGroup, client: Client) -> Snapshot:
        with client.limit(deadline=deadline):
            return _fetch_fleet(
                client,
                accounts=list(group.account_ids),
                previous=_part(previous, group.account_ids),
                cap=_cap(client, max_requests, 1.0),
                max_workers=max_workers,
                **options,
            )

    clients = [
        (
            group,
            Client(
                token,
                requests_per_window=group.requests_allowed,
                window_s=group.window_s,
                pool_size=max_workers,
            ),
        )
        for group, token in tokens
    ]
    del tokens
    parts: list[Snapshot] = []
    try:
        if len(clients) == 1:
            parts.append(one(*clients[0]))
        else:
            with concurrent.futures.ThreadPoolExecutor(
                max_workers=min(4, len(clients)), thread_name_prefix="tunnelframe-token"
            ) as pool:
                futures = [pool.submit(one, group, client) for group, client in clients]
                try:
                    parts = [future.result() for future in futures]
                except BaseException:  # Ctrl+C or one token's failure: stop every token
                    for _, client in clients:
                        client.cancel()
                    for future in futures:
                        future.cancel()
                    raise
    finally:
        for _, client in clients:
            client.close()
    first = min(part.fetched_at for part in parts)
    for part in parts:
        if part.fetched_at != first:  # each part read at its own time
            for tunnel in part.tunnels:
                tunnel.setdefault("observed_at", _iso(part.fetched_at))
    return Snapshot(
        fetched_at=first,
        account_ids=[a for part in parts for a in part.account_ids],
        tunnels=[t for part in parts for t in part.tunnels],
        errors=[e for part in parts for e in part.errors],
        n_requests=sum(part.n_requests for part in parts),
    )


def _say_how_long(client: Client, n_tunnels: int, n_requests: int) -> None:
    """Warn, before the reads, when the rate budget makes them wait for later windows."""
    per_window, window_s = client.requests_per_window, client.window_s
    if n_requests <= per_window:
        return
    wait_s = (-(-n_requests // per_window) - 1) * window_s  # whole windows after the first
    warnings.warn(
        f"{plural(n_tunnels, 'tunnel')} need about {n_requests:,} requests: the "
        f"{per_window:,}-per-{_duration(window_s)} budget makes this take about "
        f"{_duration(wait_s, plural_unit=True)}",
        TunnelframeWarning,
        stacklevel=6,  # _fetch_fleet, fetch_fleet and its two deprecation wrappers
    )


def _duration(seconds: float, *, plural_unit: bool = False) -> str:
    """``5 minutes`` / ``30 seconds`` (``minute`` alone, as in "per-minute", unless plural)."""
    minutes = seconds / 60
    if seconds >= 60 and (plural_unit or minutes == round(minutes)):
        n, unit = round(minutes), "minute"
    else:
        n, unit = round(seconds), "second"
    if n == 1 and not plural_unit:
        return unit
    return plural(n, unit)


def _cap(client: Client, max_requests: int | None, budget_share: float) -> int:
    """The requests an incremental refresh may make: its share of the budget, at most."""
    cap = int(budget_share * client.requests_per_window)
    return cap if max_requests is None else min(cap, max_requests)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _seconds(value: object, default: datetime) -> float:
    """POSIX seconds of an ``observed_at`` value (``default`` when absent or unreadable)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment.timestamp()
    return default.timestamp()


def _carry_forward(
    tunnels: list[dict[str, Any]],
    owners: list[str],
    readable: list[bool],
    previous: Snapshot,
    errors: dict[int, dict[str, Any]],
    slots: int,
    fetched_at: datetime,
) -> list[int]:
    """Fill in the tunnels an incremental refresh does not read; the indexes to read, in order.

    Tunnels that cannot have connectors are observed by the listing itself; carried ones take
    their connectors and ``observed_at`` from ``previous``; see :func:`fetch_fleet`'s Notes.
    """
    before = {str(t.get("id")): t for t in previous.tunnels}
    failed = {str(e.get("tunnel_id")) for e in previous.errors}
    observed = {
        key: _seconds(t.get("observed_at"), previous.fetched_at) for key, t in before.items()
    }
    plan = plan_reads(tunnels, readable, before, failed, observed=observed, slots=slots)
    now = _iso(fetched_at)
    for index, ok in enumerate(readable):
        if not ok:
            tunnels[index]["observed_at"] = now
    for index in plan.carried:
        old = before[str(tunnels[index].get("id"))]
        tunnels[index]["connectors"] = old.get("connectors") or []
        tunnels[index]["observed_at"] = old.get("observed_at") or _iso(previous.fetched_at)
    for index in plan.deferred:
        if plan.reasons[index] == "changed":
            # As last read, list fields included: the next refresh sees the change again.
            old = before[str(tunnels[index].get("id"))]
            tunnels[index] = {
                **old,
                "connectors": old.get("connectors") or [],
                "observed_at": old.get("observed_at") or _iso(previous.fetched_at),
            }
        else:
            errors[index] = _error_record(
                owners[index],
                tunnels[index],
                ApiError(
                    f"not read yet: the refresh's share of the request budget was spent "
                    f"({slots} reads after listing); it is read first next time"
                ),
            )
    return plan.reads


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl+C until the block ends (in the main thread, where Python handles it).

    A KeyboardInterrupt raised inside ``pool.submit`` can leave a started worker that the pool
    does not yet track, so leaving the pool would not wait for it; held, it is raised right
    after the block, where every worker is known and stopped by ``client.cancel()``.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _quarantine(
    tunnels: list[dict[str, Any]], owners: list[str], errors: dict[int, dict[str, Any]]
) -> list[int]:
    """Set aside what cannot be flattened, so the rest of the fleet can; the indexes kept.

    One bad connector (or tunnel object) would otherwise make every frame, report and
    history append of the whole snapshot fail. Its connectors move into ``errors`` (and a
    tunnel object that is itself malformed leaves the snapshot, recorded in ``errors``).
    Flattening the fleet once costs little; each failure names the one tunnel to set aside,
    so this loops at most once per bad tunnel.
    """
    kept = list(range(len(tunnels)))
    for _ in range(2 * len(tunnels) + 1):
        fleet = {"tunnels": [tunnels[index] for index in kept]}
        try:
            tunnels_frame(fleet)
            connectors_frame(fleet)
            connections_frame(fleet)
            return kept
        except SchemaError as exc:
            match = _TUNNEL_PATH.match(exc.path)
            if match is None:
                raise
            index = kept[int(match.group(1))]
            if tunnels[index].get("connectors"):
                problem = ApiError(f"its connectors cannot be read: {exc}")
                tunnels[index]["connectors"] = []
            else:
                problem = ApiError(f"the tunnel object cannot be read, left out: {exc}")
                kept.remove(index)
            errors[index] = _error_record(owners[index], tunnels[index], problem)
    raise AssertionError("unreachable")  # pragma: no cover


def _one_tunnel_fleet(
    tunnel: Mapping[str, Any], account: str, connectors: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"tunnels": [{"account_tag": account, **tunnel, "connectors": connectors}]}


@positional_to_keyword(1, "client")
def fetch_tunnel(
    tunnel_id: str,
    *,
    client: Client | None = None,
    account_id: str | None = None,
    tun_type: str = "cfd_tunnel",
) -> pd.DataFrame:
    """The connections frame of one tunnel (two calls: the tunnel, then its connectors).

    ``tun_type`` is the tunnel's kind: ``cfd_tunnel`` (cloudflared) or ``warp_connector``.

    Examples
    --------
    >>> from tunnelframe.simulator import serve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web",
    ...     "connectors": [{"id": "c1", "conns": [{"id": "x1", "colo_name": "DFW"}]}]}]}
    >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
    ...     frame = fetch_tunnel("t1", client=client, account_id="acc1")
    >>> frame[["tunnel_name", "connector_id", "colo_name"]].astype(str).values.tolist()
    [['web', 'c1', 'DFW']]
    """
    own_client = client is None
    active = Client() if client is None else client
    try:
        account = active.resolve_account(account_id)
        tunnel = active.get_tunnel(tunnel_id, account_id=account, tun_type=tun_type)
        connectors = active.list_connectors(tunnel_id, account_id=account, tun_type=tun_type)
    finally:
        if own_client:
            active.close()
    return connections_frame(_one_tunnel_fleet(tunnel, account, connectors))


@positional_to_keyword(2, "client")
def fetch_connector(
    tunnel_id: str,
    connector_id: str,
    *,
    client: Client | None = None,
    account_id: str | None = None,
    tun_type: str = "cfd_tunnel",
) -> pd.DataFrame:
    """The connections frame of one connector (``GET …/connectors/{connector_id}``).

    Only the connector endpoint is called, so tunnel name and status are NA; ``tun_type``
    (``cfd_tunnel`` or ``warp_connector``) picks the endpoint and fills the frame's tun_type.

    Examples
    --------
    >>> from tunnelframe.simulator import serve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web",
    ...     "connectors": [{"id": "c1", "conns": [{"id": "x1", "colo_name": "DFW"},
    ...                                           {"id": "x2", "colo_name": "IAH"}]}]}]}
    >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
    ...     frame = fetch_connector("t1", "c1", client=client, account_id="acc1")
    >>> list(frame["colo_name"])
    ['DFW', 'IAH']
    """
    own_client = client is None
    active = Client() if client is None else client
    try:
        account = active.resolve_account(account_id)
        connector = active.get_connector(
            tunnel_id, connector_id, account_id=account, tun_type=tun_type
        )
    finally:
        if own_client:
            active.close()
    tunnel = {"id": tunnel_id, "tun_type": tun_type}
    return connections_frame(_one_tunnel_fleet(tunnel, account, [connector]))
