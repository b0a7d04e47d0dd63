"""A loopback HTTP server that answers like the Cloudflare Tunnel API, faults included.

It serves a fleet (from :func:`generate_fleet`, a snapshot, or a hand-written dict) under the
API's own paths (``cfd_tunnel``, ``warp_connector`` and ``tunnels?tun_types=``; a tunnel is
served under the endpoint of its ``tun_type``, ``cfd_tunnel`` when it has none), with its
envelope, pagination, filters, bearer-token check, ``Ratelimit`` headers and 429s, so
tunnelframe and Cloudflare's official SDK can be tested and benchmarked offline. It listens on
127.0.0.1 only, reads only, and never talks to the real API.

What it answers (pages, filters, faults, the budget) lives in :mod:`._api`.
"""

from __future__ import annotations

import contextlib
import json
import math
import secrets
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

from tunnelframe.simulator._api import (
    _CODE_BAD_REQUEST,
    _CODE_RATE_LIMITED,
    _CODE_SERVER_ERROR,
    _DEFAULT_ACCOUNT,
    _DEFAULT_PER_PAGE,
    _KINDS,
    _PREFIX,
    Faults,
    _as_faults,
    _BadRequest,
    _envelope,
    _failure,
    _filtered,
    _not_found,
    _page_number,
    _Window,
)
from tunnelframe.simulator._generator import generate_fleet
from tunnelframe.simulator._routing import RoutingApi, derive_routing

__all__ = ["Faults", "SimulatedApi", "serve", "simulate"]


class _Http(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True
    api: SimulatedApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is normal
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stall
    server: _Http
    timeout = 60  # idle keep-alive connections close after a minute

    def setup(self) -> None:
        super().setup()
        self.server.api._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.api._track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.api._handle(self)

    def _refuse(self) -> None:
        self.server.api._respond(self, 405, _failure(7001, "Method not allowed: read only"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and notebooks read the request log instead


class SimulatedApi:
    """A running simulator: where it listens, how to authenticate, what it has seen.

    Attributes
    ----------
    url : str
        Base URL, like ``https://api.cloudflare.com/client/v4``.
    token : str
        The bearer token it accepts.
    account_id : str
        The first (usually only) account of the fleet; ``account_ids`` lists them all.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> with tf.simulator.serve(tf.simulator.generate_fleet(3)) as api:
    ...     client = tf.Client(api.token, account_id=api.account_id, base_url=api.url)
    ...     n_tunnels = len(client.list_tunnels())
    ...     print(api.url.startswith("http://127.0.0.1:"), n_tunnels, api.n_requests)
    True 3 1
    """

    def __init__(
        self,
        fleet: Mapping[str, Any],
        *,
        token: str,
        latency: float,
        faults: Faults,
        budget: tuple[int, float],
        email: str | None,
        api_key: str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.email = email
        self.api_key = api_key
        self.latency = latency
        self.faults = faults
        self._window = _Window(int(budget[0]), float(budget[1]), clock)
        self._lock = threading.Lock()
        self._n_requests = 0
        self._answered = 0
        self._seen: dict[str, int] = {}
        self._log: list[tuple[str, str, int]] = []
        self._deleted: set[str] = set()
        self._connections: set[socket.socket] = set()
        self._tunnels: dict[str, list[dict[str, Any]]] = {}
        self._by_id: dict[tuple[str, str], dict[str, Any]] = {}
        self._connectors: dict[tuple[str, str], list[dict[str, Any]] | None] = {}
        #: More tokens, each allowed some accounts, each with its own rate window.
        self._scoped: dict[str, frozenset[str]] = {}
        self._load(fleet)
        self.account_ids: list[str] = list(self._tunnels) or [_DEFAULT_ACCOUNT]
        self.account_id: str = self.account_ids[0]
        #: hostnames, routes and DNS (the fleet's ``"routing"``, or derived from its tunnels)
        self.routing = RoutingApi(
            fleet.get("routing") or derive_routing(fleet.get("tunnels", [])),
            {tid: account for account, tid in self._by_id},
        )
        self.url = ""

    def _load(self, fleet: Mapping[str, Any]) -> None:
        tunnels: dict[str, list[dict[str, Any]]] = {}
        by_id: dict[tuple[str, str], dict[str, Any]] = {}
        connectors_of: dict[tuple[str, str], list[dict[str, Any]] | None] = {}
        for tunnel in fleet.get("tunnels", []):
            account = str(tunnel.get("account_tag") or _DEFAULT_ACCOUNT)
            public = {key: value for key, value in tunnel.items() if key != "connectors"}
            tunnels.setdefault(account, []).append(public)
            by_id[account, str(tunnel.get("id"))] = public
            connectors = tunnel.get("connectors")
            # "connectors": null is served as "result": null, which the spec allows
            connectors_of[account, str(tunnel.get("id"))] = (
                None if connectors is None and "connectors" in tunnel else list(connectors or [])
            )
        with self._lock:
            self._tunnels, self._by_id, self._connectors = tunnels, by_id, connectors_of

    def set_fleet(self, fleet: object) -> None:
        """Serve ``fleet`` from now on (the same accounts; tunnels may come, go and change).

        How a test or a living fleet moves the
        served state; requests already being answered see the old fleet or the new, whole.
        """
        self._load(_as_fleet(fleet))

    def add_token(self, token: str, accounts: Iterable[str]) -> None:
        """Accept one more bearer token, allowed only ``accounts``, with its own rate window.

        As Cloudflare advises providers (a user, so a token and a budget, per customer): each
        token's requests count against its own quota, never another token's.
        """
        with self._lock:
            self._scoped[token] = frozenset(accounts)

    def __repr__(self) -> str:
        return (
            f"SimulatedApi(url={self.url!r}, account_ids={self.account_ids!r}, "
            f"n_requests={self.n_requests})"
        )

    @property
    def n_requests(self) -> int:
        """HTTP requests received so far (faulted and refused ones included)."""
        with self._lock:
            return self._n_requests

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """(method, path with query, HTTP status) of every request; status 0: dropped."""
        with self._lock:
            return list(self._log)

    def exhaust_budget(self) -> None:
        """Spend the rest of the current rate window, as another client of the token would."""
        self._window.exhaust(("token", "key"))

    def deny(self, *parts: str) -> None:
        """Answer 403 (code 10000) to reads of ``parts``, as for a token without the permission.

        ``parts`` among ``"configurations"`` (Cloudflare Tunnel Read), ``"routes"`` (Zero
        Trust / Cloudflare One Networks Read), ``"zones"`` (Zone Read), ``"dns"`` (DNS Read).

        Examples
        --------
        >>> import requests
        >>> with serve({"tunnels": [{"id": "t1", "account_tag": "acc1"}]}) as api:
        ...     api.deny("routes")
        ...     requests.get(f"{api.url}/accounts/acc1/teamnet/routes", timeout=5,
        ...                  headers={"Authorization": f"Bearer {api.token}"}).status_code
        403
        """
        self.routing.deny(*parts)

    def delete_tunnel(self, tunnel_id: str) -> None:
        """Make a tunnel vanish now: every later call about it answers 404."""
        with self._lock:
            self._deleted.add(tunnel_id)

    # -- connection bookkeeping, so that stopping the server closes keep-alive sockets --------

    def _track(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(sock)
            else:
                self._connections.discard(sock)

    def _close_connections(self) -> None:
        with self._lock:
            sockets = list(self._connections)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    # -- answering ----------------------------------------------------------------------------

    def _ratelimit_headers(self, remaining: int, reset_s: float) -> dict[str, str]:
        quota, window_s = self._window.peek()
        return {
            "Ratelimit": f'"default";r={max(0, remaining)};t={max(0, math.ceil(reset_s))}',
            "Ratelimit-Policy": f'"burst";q={quota};w={math.ceil(window_s)}',
        }

    def _respond(
        self,
        handler: _Handler,
        status: int,
        body: object,
        headers: Mapping[str, str] | None = None,
        *,
        truncate: bool = False,
    ) -> None:
        if isinstance(body, bytes):
            payload, content_type = body, "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
        self._record(handler, status)  # before answering, so a client never outruns the log
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Cf-Ray", f"{secrets.token_hex(8)}-SIM")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        if truncate:
            handler.wfile.write(payload[: len(payload) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
        else:
            handler.wfile.write(payload)

    def _record(self, handler: _Handler, status: int) -> None:
        with self._lock:
            self._log.append((handler.command, handler.path, status))

    def _credential(self, handler: _Handler) -> str | None:
        auth = handler.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and secrets.compare_digest(
            auth[len("Bearer ") :].strip(), self.token
        ):
            return "token"
        if auth.startswith("Bearer "):
            given = auth[len("Bearer ") :].strip()
            with self._lock:
                scoped = list(self._scoped)
            for token in scoped:
                if secrets.compare_digest(given, token):
                    return f"scoped:{token}"
        email, key = handler.headers.get("X-Auth-Email"), handler.headers.get("X-Auth-Key")
        if (
            self.email is not None
            and self.api_key is not None
            and email == self.email
            and key is not None
            and secrets.compare_digest(key, self.api_key)
        ):
            return "key"
        return None

    def _handle(self, handler: _Handler) -> None:
        with self._lock:
            self._n_requests += 1
        if self.latency > 0:
            time.sleep(self.latency)
        credential = self._credential(handler)
        if credential is None:
            quota, window_s = self._window.peek()
            self._respond(
                handler,
                403,
                _failure(10000, "Authentication error"),
                self._ratelimit_headers(quota, window_s),
            )
            return
        allowed, remaining, reset_s = self._window.take(credential)
        headers = self._ratelimit_headers(remaining, reset_s)
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(reset_s)))
            self._respond(
                handler,
                429,
                _failure(
                    _CODE_RATE_LIMITED,
                    f"More than {self._window.quota} requests per {self._window.window_s:g} "
                    "seconds reached. Please wait and consider throttling your request speed",
                ),
                headers,
            )
            return
        with self._lock:
            nth = self._seen.get(handler.path, 0)
            self._seen[handler.path] = nth + 1
        fault = self.faults.fault(handler.path, nth)
        if fault == "drop":
            self._record(handler, 0)
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "error":
            status = (500, 502, 503)[nth % 3]
            body: object = (
                b"<html><body><h1>502 Bad Gateway</h1>cloudflare</body></html>"
                if status == 502
                else _failure(_CODE_SERVER_ERROR, f"Internal error (simulated HTTP {status})")
            )
            self._respond(handler, status, body, headers)
            return
        status, payload = self._route(handler.path, credential)
        self._respond(handler, status, payload, headers, truncate=fault == "truncate")
        if self.faults.exhaust_budget_after is not None:
            with self._lock:
                self._answered += 1
                storm = self._answered == self.faults.exhaust_budget_after
            if storm:
                self.exhaust_budget()

    def _route(self, raw_path: str, credential: str = "token") -> tuple[int, dict[str, Any]]:
        parts = urllib.parse.urlsplit(raw_path)
        pairs = urllib.parse.parse_qsl(parts.query)
        query = dict(pairs)
        # The spec says tun_types is comma separated; the official SDK repeats the key instead.
        types = [value for key, value in pairs if key == "tun_types"]
        if types:
            query["tun_types"] = ",".join(types)
        path = parts.path.rstrip("/")
        if not path.startswith(_PREFIX + "/"):
            return 404, _failure(7000, "No route for that URI")
        segments = [urllib.parse.unquote(s) for s in path[len(_PREFIX) + 1 :].split("/")]
        routed = self._route_routing(segments, query)
        if routed is not None:
            return routed
        if len(segments) < 3 or segments[0] != "accounts" or segments[2] not in _KINDS:
            return 404, _failure(7000, "No route for that URI")
        account, kind, rest = segments[1], segments[2], segments[3:]
        if credential.startswith("scoped:"):
            with self._lock:
                allowed = self._scoped.get(credential[len("scoped:") :], frozenset())
            if account not in allowed:
                return 403, _failure(10000, "Authentication error")
        if account not in self._tunnels and account not in self.account_ids:
            return 404, _not_found(path)
        try:
            if not rest:
                return 200, self._list(account, query, kind=kind)
        except _BadRequest as exc:
            return 400, _failure(_CODE_BAD_REQUEST, str(exc))
        if kind == "tunnels":
            return 404, _failure(7000, "No route for that URI")
        tunnel_id = rest[0]
        with self._lock:
            gone = tunnel_id in self._deleted
            by_id, connectors_of = self._by_id, self._connectors
        tunnel = None if gone else by_id.get((account, tunnel_id))
        if tunnel is None or tunnel.get("tun_type", "cfd_tunnel") != kind:
            return 404, _not_found(path)
        if tunnel_id in self.faults.broken_tunnels:
            return 503, _failure(_CODE_SERVER_ERROR, "Internal error (simulated HTTP 503)")
        connectors = connectors_of[account, tunnel_id]
        if len(rest) == 1:
            return 200, _envelope(tunnel)
        if rest[1:] == ["connections"]:
            return 200, _envelope(connectors)
        if len(rest) == 3 and rest[1] == "connectors":
            for connector in connectors or []:
                if connector.get("id") == rest[2]:
                    return 200, _envelope(connector)
            return 404, _not_found(path)
        return 404, _failure(7000, "No route for that URI")

    def _route_routing(
        self, segments: list[str], query: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]] | None:
        if segments[:1] == ["accounts"] and segments[1:2] and segments[1] not in self.account_ids:
            return None  # answered 404 below, as for any unknown account
        tunnel = None
        if len(segments) == 5 and segments[0] == "accounts" and segments[2] == "cfd_tunnel":
            with self._lock:
                gone = segments[3] in self._deleted
            found = None if gone else self._by_id.get((segments[1], segments[3]))
            if found is not None and not found.get("deleted_at"):
                tunnel = found
        return self.routing.answer(segments, query, tunnel)

    def _list(self, account: str, query: Mapping[str, str], *, kind: str) -> dict[str, Any]:
        page = _page_number(query, "page", 1, None)
        per_page = _page_number(query, "per_page", _DEFAULT_PER_PAGE, 1000)
        with self._lock:
            deleted = set(self._deleted)
        tunnels = [
            tunnel for tunnel in self._tunnels.get(account, []) if tunnel.get("id") not in deleted
        ]
        matching = _filtered(tunnels, query, kind=kind)
        result = matching[(page - 1) * per_page : page * per_page]
        vanishing = self.faults.deleted_after_list & {str(t.get("id")) for t in result}
        if vanishing:
            with self._lock:
                self._deleted.update(vanishing)
        info = {
            "count": len(result),
            "page": page,
            "per_page": per_page,
            "total_count": len(matching),
        }
        return _envelope(result, info)


def _as_fleet(fleet: object) -> Mapping[str, Any]:
    if hasattr(fleet, "fleet") and not isinstance(fleet, Mapping):
        fleet = fleet.fleet
    if isinstance(fleet, Mapping) and isinstance(fleet.get("tunnels", []), list):
        return fleet
    raise TypeError(
        "serve() needs a fleet dict {'tunnels': [...]} (e.g. from generate_fleet) or a "
        f"Snapshot, got {type(fleet).__name__}"
    )


@contextlib.contextmanager
def serve(
    fleet: object,
    *,
    latency: float = 0.0,
    faults: Faults | Mapping[str, Any] | None = None,
    budget: tuple[int, float] = (1200, 300.0),
    token: str | None = None,
    email: str | None = None,
    api_key: str | None = None,
    port: int = 0,
    clock: Callable[[], float] | None = None,
) -> Iterator[SimulatedApi]:
    """Serve a fleet as the Cloudflare Tunnel API on 127.0.0.1 while the block runs.

    Parameters
    ----------
    fleet : dict or Snapshot
        ``{"tunnels": [...]}`` as :func:`generate_fleet` returns, or a Snapshot. Every
        ``account_tag`` becomes an account (a tunnel without one joins a default account).
    latency : float
        Seconds each request waits before its answer.
    faults : Faults or dict, optional
        Injected faults, e.g. ``{"error_rate": 0.1, "drop_rate": 0.1}``.
    budget : (int, float)
        ``(quota, window_s)``: requests allowed per credential per fixed window; past it,
        429 with ``Retry-After`` until the window ends. Cloudflare: 1200 per 300 s.
    token : str, optional
        The bearer token to accept (default: a fresh random one).
    email, api_key : str, optional
        Also accept this legacy ``X-Auth-Email``/``X-Auth-Key`` pair.
    port : int
        TCP port; 0 picks a free one.
    clock : callable, optional
        Monotonic seconds for the rate window (default ``time.monotonic``); a test passes a
        frozen clock so that the ``Ratelimit`` header it reads does not depend on timing.

    Yields
    ------
    SimulatedApi
        ``.url``, ``.token``, ``.account_id``, ``.account_ids``, ``.n_requests``,
        ``.request_log``.

    Examples
    --------
    >>> import tunnelframe
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web",
    ...     "status": "healthy", "connectors": [{"id": "c1", "conns": []}]}]}
    >>> with serve(fleet, latency=0.01) as api:
    ...     with tunnelframe.Client(api.token, account_id=api.account_id,
    ...                             base_url=api.url) as client:
    ...         [c["id"] for c in client.list_connectors("t1")]
    ['c1']
    """
    if latency < 0:
        raise ValueError(f"latency must be >= 0 seconds, got {latency}")
    if budget[0] < 1 or budget[1] <= 0:
        raise ValueError(f"budget must be (quota >= 1, window_s > 0), got {budget!r}")
    api = SimulatedApi(
        _as_fleet(fleet),
        token=token or f"sim-{secrets.token_urlsafe(24)}",
        latency=float(latency),
        faults=_as_faults(faults),
        budget=budget,
        email=email,
        api_key=api_key,
        clock=clock or time.monotonic,
    )
    server = _Http(("127.0.0.1", port), _Handler)
    server.api = api
    api.url = f"http://127.0.0.1:{server.server_address[1]}{_PREFIX}"
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        daemon=True,
        name="tunnelframe-simulator",
    )
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        api._close_connections()
        thread.join()


def simulate(
    *,
    port: int = 8787,
    n_tunnels: int = 200,
    seed: int = 0,
    latency: float = 0.0,
    token: str | None = None,
    out: IO[str] | None = None,
    as_of: datetime | str | None = None,
    budget: tuple[int, float] = (1200, 300.0),
) -> None:
    """Serve a generated fleet on 127.0.0.1 until interrupted (``tunnelframe simulate``).

    Prints the base URL, token and account as environment variables for tunnelframe (and the
    official SDK) to pick up. ``token`` fixes the token (default: a random one); ``as_of`` is
    the fleet's "now" (default 2026-08-20T12:00:00Z, the generator's; pass the current time
    for a fleet whose times are shifted to the present); ``budget`` is the rate limit, requests
    per window of seconds per credential (default: the API's 1200 per 5 minutes), as
    :func:`serve`'s.

    Examples
    --------
    >>> simulate(port=8787, n_tunnels=50)  # doctest: +SKIP
    tunnelframe simulator: 50 tunnels on http://127.0.0.1:8787/client/v4 (Ctrl+C stops it)
    """
    stream = out if out is not None else sys.stdout
    with serve(
        generate_fleet(n_tunnels, seed=seed, as_of=as_of),
        latency=latency,
        token=token,
        port=port,
        budget=budget,
    ) as api:
        print(
            f"tunnelframe simulator: {n_tunnels} tunnels on {api.url} (Ctrl+C stops it)\n"
            f"export CLOUDFLARE_BASE_URL={api.url}\n"
            f"export CLOUDFLARE_API_TOKEN={api.token}\n"
            f"export CLOUDFLARE_ACCOUNT_ID={api.account_id}",
            file=stream,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
