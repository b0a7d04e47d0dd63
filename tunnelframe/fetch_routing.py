"""Read what each tunnel serves (opt-in): published hostnames, private routes, DNS records.

:func:`fetch_routing` adds to a fetched :class:`~tunnelframe.snapshot.Snapshot` the reads
that say what breaks when a tunnel is down. They cost requests and permissions beyond the
tunnel ones, so nothing reads them unless asked, and each has a stated bound:

========================  ===========================================  ===========================
part                      requests                                     permission (any of)
========================  ===========================================  ===========================
``configurations``        1 per live, remotely managed cloudflared     Cloudflare Tunnel Read;
                          tunnel (``config_src: cloudflare``)          Cloudflare One Connector:
                                                                       cloudflared Read
``routes``                ceil(routes / 1000) per account              Cloudflare One Networks
                                                                       Read (was Zero Trust Read)
``dns``                   ceil(zones / 50) per account, plus 1 per     Zone Read and DNS Read
                          zone per 5,000 CNAMEs to a tunnel
========================  ===========================================  ===========================

A locally managed tunnel keeps its ingress rules in cloudflared's own ``config.yml``: the
API has none, so its configuration is not requested (its hostnames show only through DNS).
A part the token may not read (HTTP 401/403) is skipped with one note naming the permission
it needs, and everything else is still read; any other failure is a note too. It must not
speak HTTP itself (that is ``client``) nor build frames (that is ``frames``).
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final

from tunnelframe._deprecate import positional_to_keyword
from tunnelframe._errors import ApiError, AuthError, TunnelframeError
from tunnelframe.client import Client
from tunnelframe.snapshot import Snapshot

__all__ = ["ROUTING_PARTS", "ROUTING_PERMISSIONS", "fetch_routing"]

#: The parts :func:`fetch_routing` can read.
ROUTING_PARTS: Final = ("configurations", "routes", "dns")

#: The token permission each part needs (Cloudflare's API reference: "Accepted Permissions").
ROUTING_PERMISSIONS: Final = {
    "configurations": "Cloudflare Tunnel Read (or Cloudflare One Connector: cloudflared Read)",
    "routes": "Cloudflare One Networks Read (formerly Zero Trust Read)",
    "zones": "Zone Read",
    "dns": "DNS Read",
}

_WITHOUT: Final = {
    "configurations": "the published hostnames of remotely managed tunnels are unknown",
    "routes": "the private network routes are unknown",
    "zones": "the DNS records pointing at tunnels are unknown",
    "dns": "the DNS records pointing at tunnels are unknown",
}


def _is_remotely_managed(tunnel: Mapping[str, Any]) -> bool:
    return (
        (tunnel.get("tun_type") or "cfd_tunnel") == "cfd_tunnel"
        and not tunnel.get("deleted_at")
        and (tunnel.get("config_src") == "cloudflare" or tunnel.get("remote_config") is True)
    )


def _note(part: str, exc: TunnelframeError, *, tunnel_id: str | None = None) -> dict[str, Any]:
    status = getattr(exc, "status", None)
    codes = list(getattr(exc, "codes", []) or [])
    if isinstance(exc, AuthError):
        message = (
            f"{part} not read: the token may not read them (HTTP {status}"
            + (f", code {', '.join(map(str, codes))}" if codes else "")
            + f"): give it {ROUTING_PERMISSIONS[part]}; until then {_WITHOUT[part]}"
        )
    else:
        what = f"{part} of tunnel {tunnel_id}" if tunnel_id else part
        message = f"{what} not read: {exc}"
    return {
        "part": part,
        "tunnel_id": tunnel_id,
        "status": status,
        "codes": codes,
        "message": message,
    }


@positional_to_keyword(1, "client")
def fetch_routing(
    snapshot: Snapshot,
    *,
    client: Client | None = None,
    parts: str | Iterable[str] = ROUTING_PARTS,
    max_workers: int = 8,
) -> Snapshot:
    """The snapshot with what its tunnels serve: hostnames, private routes, DNS records.

    Reads, for every account of the snapshot, the parts asked (see the module docstring for
    their request cost and permission) and returns a new Snapshot whose ``routing`` holds the
    raw results, the parts ``read`` completely and a ``notes`` list (one per part skipped,
    one per tunnel whose configuration failed); ``n_requests`` adds the requests made.

    Parameters
    ----------
    snapshot : Snapshot
        A fetched fleet (:func:`tunnelframe.fetch_fleet`).
    client : Client, optional
        Default: ``Client()`` from the ``CLOUDFLARE_*`` environment variables.
    parts : str or iterable of str
        Among ``"configurations"``, ``"routes"``, ``"dns"`` (default: all three).
    max_workers : int
        Concurrent configuration reads.

    Returns
    -------
    Snapshot

    Examples
    --------
    >>> from tunnelframe.fetch import fetch_fleet
    >>> from tunnelframe.simulator import serve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "shop",
    ...     "status": "down", "config_src": "cloudflare"}], "routing": {
    ...     "configurations": {"t1": {"tunnel_id": "t1", "config": {"ingress": [
    ...         {"hostname": "shop.example.com", "service": "http://localhost:80"},
    ...         {"service": "http_status:404"}]}}},
    ...     "routes": [{"id": "r1", "network": "10.20.0.0/16", "tunnel_id": "t1"}]}}
    >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
    ...     snap = fetch_fleet(client=client, account_id="acc1", progress=False)
    ...     snap = fetch_routing(snap, client=client)
    >>> snap.routing["read"], [r["network"] for r in snap.routing["routes"]]
    (['configurations', 'routes', 'dns'], ['10.20.0.0/16'])
    """
    chosen = (parts,) if isinstance(parts, str) else tuple(dict.fromkeys(parts))
    if not chosen or any(part not in ROUTING_PARTS for part in chosen):
        raise ValueError(f"parts must be among {', '.join(ROUTING_PARTS)}, got {list(chosen)!r}")
    if max_workers < 1:
        raise ValueError(f"max_workers must be >= 1, got {max_workers}")
    own_client = client is None
    active = Client(pool_size=max_workers) if client is None else client
    try:
        before = active.n_requests
        routing = _fetch_routing(active, snapshot, chosen, max_workers)
        spent = active.n_requests - before
    finally:
        if own_client:
            active.close()
    routing["n_requests"] = spent
    return Snapshot(
        fetched_at=snapshot.fetched_at,
        account_ids=snapshot.account_ids,
        tunnels=snapshot.tunnels,
        errors=snapshot.errors,
        n_requests=snapshot.n_requests + spent,
        routing=routing,
    )


def _fetch_routing(
    client: Client, snapshot: Snapshot, parts: tuple[str, ...], max_workers: int
) -> dict[str, Any]:
    notes: list[dict[str, Any]] = []
    read: list[str] = []
    routing: dict[str, Any] = {"read": read, "notes": notes}
    if "configurations" in parts:
        configurations = _configurations(client, snapshot, max_workers, notes)
        if configurations is not None:
            routing["configurations"] = configurations
            read.append("configurations")
    if "routes" in parts:
        try:
            routing["routes"] = [
                route
                for account in snapshot.account_ids
                for route in client.list_routes(account_id=account)
            ]
            read.append("routes")
        except TunnelframeError as exc:
            notes.append(_note("routes", exc))
    if "dns" in parts:
        try:
            zones = [z for a in snapshot.account_ids for z in client.list_zones(account_id=a)]
        except TunnelframeError as exc:
            notes.append(_note("zones", exc))
        else:
            routing["zones"] = zones
            try:
                routing["dns_records"] = [
                    {**record, "zone_id": record.get("zone_id") or zone.get("id")}
                    for zone in zones
                    for record in client.list_tunnel_dns_records(str(zone.get("id")))
                ]
                read.append("dns")
            except TunnelframeError as exc:
                notes.append(_note("dns", exc))
    return routing


def _configurations(
    client: Client, snapshot: Snapshot, max_workers: int, notes: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """Each remotely managed tunnel's configuration; None when the token may not read them."""
    todo = [
        (str(t.get("id")), str(t.get("account_tag") or snapshot.account_ids[0]))
        for t in snapshot.tunnels
        if _is_remotely_managed(t)
    ]
    found: dict[str, Any] = {}
    refused: list[AuthError] = []
    stop = threading.Event()  # one permission covers every tunnel: the first refusal stops all

    def read(tunnel_id: str, account: str) -> dict[str, Any] | None:
        if stop.is_set():
            return None
        try:
            return client.get_tunnel_configuration(tunnel_id, account_id=account)
        except AuthError as exc:
            stop.set()
            refused.append(exc)
            return None

    client.ensure_pool(max_workers)
    with concurrent.futures.ThreadPoolExecutor(
        max_workers=max_workers, thread_name_prefix="tunnelframe-routing"
    ) as pool:
        futures = {pool.submit(read, tid, account): tid for tid, account in todo}
        try:
            for future in concurrent.futures.as_completed(futures):
                tid = futures[future]
                try:
                    result = future.result()
                except (TunnelframeError, ValueError) as exc:
                    error = exc if isinstance(exc, TunnelframeError) else ApiError(str(exc))
                    notes.append(_note("configurations", error, tunnel_id=tid))
                else:
                    if result is not None:
                        found[tid] = result
        except BaseException:  # Ctrl+C: stop the calls in progress now
            stop.set()
            client.cancel()
            for waiting in futures:
                waiting.cancel()
            raise
    denied = refused[0] if refused else None
    if denied is not None:
        notes.append(_note("configurations", denied))
        return None
    return found
