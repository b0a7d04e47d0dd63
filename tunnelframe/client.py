"""A small, careful HTTP client for the Cloudflare Tunnel API (read-only).

This is the only module of tunnelframe that imports ``requests``. It knows the four read
endpoints, the response envelope, authentication, retries and the rate budget, and returns the
raw ``result`` objects. It must not import pandas, build frames or write files, and it must
never let the API token reach a repr, a log record, an exception or a URL.

Every limit is one :class:`~tunnelframe.Policy` (timeouts, retries, backoff, the cap on waits,
the largest response). Retry policy (GET only, bounded by ``policy.max_retries`` extra attempts
per call):

- HTTP 429: every worker sharing the client pauses until ``Retry-After`` (plus a little jitter),
  then the call is retried; after the last retry :class:`~tunnelframe.RateLimitError`.
- HTTP 5xx, timeouts, dropped connections and truncated bodies: retried after an exponential
  backoff with full jitter (``uniform(0, min(backoff_max, backoff_base * 2**attempt))``).
- Anything else (4xx, a 200 with ``success: false``, a body that is not JSON) fails at once.
- A redirect (3xx) is never followed (the API never redirects, and the legacy
  ``X-Auth-Key`` would go wherever ``Location`` says): it fails at once.

Limits: no wait the server asks for lasts more than ``policy.max_wait`` (300 s); a request takes
at most ``policy.request_deadline`` seconds from connecting to its last body byte; a body
larger than ``policy.max_response_bytes`` once decompressed is refused. Within
:meth:`Client.limit` a whole run of calls has one deadline, and :meth:`Client.cancel` (Ctrl+C)
ends every wait and every call in progress at its next chunk.

The rate budget (:mod:`tunnelframe._ratelimit`, which needs no HTTP library): a thread-safe
limiter keeps at most ``requests_per_window`` requests in any sliding ``window_s`` seconds, and
reads the ``Ratelimit`` response header (``"default";r=<remaining>;t=<seconds to reset>``) to
stop before the server starts refusing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import random
import socket
import threading
import time
import traceback
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Unpack

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions

from tunnelframe._errors import ApiError, AuthError, SchemaError
from tunnelframe._listfilters import TunnelFilters, query_params
from tunnelframe._policy import Policy
from tunnelframe._protocol import DEFAULT_BASE_URL, api_error, check_base_url
from tunnelframe._ratelimit import Budget, retry_after_s
from tunnelframe._version import __version__

__all__ = ["DEFAULT_BASE_URL", "TUN_TYPES", "Client", "Policy", "get_public_json"]

_log = logging.getLogger(__name__)

#: The tunnel types whose connectors tunnelframe reads: cloudflared (``cfd_tunnel``) and WARP
#: Connector, now Cloudflare Mesh (``warp_connector``). Their endpoints mirror each other.
TUN_TYPES: Final = ("cfd_tunnel", "warp_connector")
_BODY_QUOTE_BYTES: Final = 120
_CHUNK_BYTES: Final = 16 * 1024
# Cloudflare API tokens are 40 characters and global API keys 37; anything much shorter is a
# typo or a placeholder, and scrubbing a very short secret out of messages would garble them.
_MIN_SECRET_CHARS: Final = 16
_DOT_SEGMENTS: Final = frozenset({".", ".."})


def _check_credential(value: str, what: str, *, secret: bool) -> str:
    """``value`` without surrounding whitespace; AuthError naming ``what``, never the value."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    cleaned = value.strip()
    if any(not 0x21 <= ord(char) <= 0x7E for char in cleaned):
        raise AuthError(
            f"{what} contains a character that cannot be sent in an HTTP header (a space, a "
            "control character or a non-ASCII one): copy it again from the Cloudflare dashboard"
        )
    if secret and len(cleaned) < _MIN_SECRET_CHARS:
        raise AuthError(
            f"{what} is only {len(cleaned)} characters long, too short to be a Cloudflare "
            f"credential (tokens have 40, global API keys 37): check it was copied whole"
        )
    return cleaned


class _Secret:
    """Holds a credential; its repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a tunnelframe credential cannot be pickled")


def _count(value: object) -> int | None:
    """A ``result_info`` count as an int >= 1, or None when it is missing or absurd."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 1 or value != int(value):
        return None
    return int(value)


class _Watch:
    """One request's total deadline: past it, its socket is shut so no read can go on.

    A server that sends the status line or the headers a byte at a time never trips the
    per-read timeout; shutting the socket down is the one way to end that read from outside.
    """

    __slots__ = ("_lock", "connection", "expired")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connection: Any = None
        self.expired = False

    def attach(self, connection: Any) -> None:
        with self._lock:
            self.connection = connection
            expired = self.expired
        if expired:
            self._shut(connection)

    def done(self) -> bool:
        """Whether the deadline has passed (or the call was cancelled)."""
        return self.expired

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            connection = self.connection
        if connection is not None:
            self._shut(connection)

    @staticmethod
    def _shut(connection: Any) -> None:
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


_WATCHED = threading.local()


class _WatchedConnection:
    """Mixin: a connection that tells the current request's :class:`_Watch` it is in use."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._attach()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._attach()
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _attach(self) -> None:
        watch = getattr(_WATCHED, "watch", None)
        if watch is not None:
            watch.attach(self)


class _HTTPConnection(_WatchedConnection, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose connections a request's total deadline can shut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


#: Listings of one call: a total_count that changes on every one of them is an error.
_LIST_PASSES: Final = 3


class _CountChanged(Exception):
    """``result_info.total_count`` moved between two pages of one listing."""

    def __init__(self, before: int, after: int) -> None:
        super().__init__(f"{before} -> {after}")
        self.before = before
        self.after = after


class _Retryable(Exception):
    """An attempt failed in a way worth retrying; ``error`` is raised if none is left."""

    def __init__(self, error: ApiError, *, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class Client:
    """Read-only client for the Cloudflare Tunnel API (or the tunnelframe simulator).

    Parameters
    ----------
    token : str, optional
        API token; default ``CLOUDFLARE_API_TOKEN``. It needs the *Cloudflare Tunnel Read*
        permission on the account.
    account_id : str, optional
        Account to read; default ``CLOUDFLARE_ACCOUNT_ID``. Every method also takes it.
    base_url : str, optional
        API base; default ``CLOUDFLARE_BASE_URL`` or ``https://api.cloudflare.com/client/v4``.
        Plain ``http://`` is refused except to loopback.
    email, api_key : str, optional
        Legacy global-key authentication; default ``CLOUDFLARE_EMAIL``/``CLOUDFLARE_API_KEY``.
        Used only when no token is given.
    policy : Policy, optional
        Timeouts, retries, backoff, the cap on waits and the largest response; default
        ``Policy()``. ``timeout``, ``max_retries``, ``backoff_base`` and ``backoff_max``, when
        given, replace the policy's fields.
    timeout : float, optional
        Seconds to wait for the server to connect or send the next bytes.
    max_retries : int, optional
        Extra attempts per call after a 429, a 5xx, a timeout, a dropped connection or a
        truncated body.
    requests_per_window, window_s : int, float
        Client-side budget: at most this many requests in any ``window_s`` seconds
        (Cloudflare allows 1200 per 5 minutes per token).
    session : requests.Session, optional
        Used for every request when given (its adapters are left as they are).
    backoff_base, backoff_max : float, optional
        Exponential backoff with full jitter, in seconds, between retries of 5xx and
        connection failures.
    pool_size : int
        Connections kept open to the API host (when tunnelframe creates the session).

    Examples
    --------
    >>> from tunnelframe.simulator import serve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web",
    ...                       "status": "healthy", "connectors": []}]}
    >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
    ...     [tunnel["name"] for tunnel in client.list_tunnels(account_id="acc1")]
    ['web']
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        account_id: str | None = None,
        base_url: str | None = None,
        email: str | None = None,
        api_key: str | None = None,
        policy: Policy | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        requests_per_window: int = 1200,
        window_s: float = 300.0,
        session: requests.Session | None = None,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
        pool_size: int = 16,
    ) -> None:
        overrides: dict[str, Any] = {
            name: value
            for name, value in (
                ("timeout", timeout),
                ("max_retries", max_retries),
                ("backoff_base", backoff_base),
                ("backoff_max", backoff_max),
            )
            if value is not None
        }
        self.policy: Policy = dataclasses.replace(policy or Policy(), **overrides)
        if requests_per_window < 1 or window_s <= 0:
            raise ValueError("requests_per_window must be >= 1 and window_s > 0")
        self._token: _Secret | None = None
        self._email: str | None = None
        self._api_key: _Secret | None = None
        token = token or None
        if token is None and not (email or api_key):
            token = os.environ.get("CLOUDFLARE_API_TOKEN") or None
        if token is not None:
            self._token = _Secret(
                _check_credential(token, "the API token (CLOUDFLARE_API_TOKEN)", secret=True)
            )
        else:
            email = email or os.environ.get("CLOUDFLARE_EMAIL") or None
            api_key = api_key or os.environ.get("CLOUDFLARE_API_KEY") or None
            if email is None or api_key is None:
                missing = "CLOUDFLARE_EMAIL" if email is None else "CLOUDFLARE_API_KEY"
                raise AuthError(
                    "no Cloudflare credentials: pass token=... or set CLOUDFLARE_API_TOKEN "
                    "(a token with Cloudflare Tunnel Read), or the legacy pair "
                    f"CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY ({missing} is not set)"
                )
            self._email = _check_credential(email, "CLOUDFLARE_EMAIL", secret=False)
            self._api_key = _Secret(
                _check_credential(api_key, "the API key (CLOUDFLARE_API_KEY)", secret=True)
            )
        self.account_id: str | None = account_id or os.environ.get("CLOUDFLARE_ACCOUNT_ID") or None
        self.base_url: str = check_base_url(
            base_url or os.environ.get("CLOUDFLARE_BASE_URL") or DEFAULT_BASE_URL
        )
        #: The local rate budget: at most this many requests in any ``window_s`` seconds.
        self.requests_per_window: int = int(requests_per_window)
        self.window_s: float = float(window_s)
        self._cancelled = threading.Event()
        self._deadline_at: float | None = None
        self._limits = 0
        self._budget = Budget(
            int(requests_per_window),
            float(window_s),
            max_wait=self.policy.max_wait,
            cancelled=self._cancelled,
        )
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._pool_size = 0
        if self._owns_session:
            self._mount(pool_size)
        self._counts_lock = threading.Lock()
        self._watches: set[_Watch] = set()
        self._n_requests = 0
        self._n_calls = 0

    # -- plumbing --------------------------------------------------------------------------

    def _mount(self, pool_size: int) -> None:
        # Retries are done by _get, which must see every attempt: no retries in urllib3.
        adapter = _Adapter(pool_connections=4, pool_maxsize=max(1, pool_size), max_retries=0)
        if self._pool_size:  # replacing our own, smaller adapter: close its connections
            self._session.get_adapter("https://").close()
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._pool_size = max(1, pool_size)

    def with_budget(self, requests_per_window: int) -> Client:
        """A new client of the same credentials, URL and policy with its own rate budget.

        For a long-running reader that may use only part of a token's budget: the new
        client's limiter allows ``requests_per_window`` requests in any ``window_s``.

        Examples
        --------
        >>> with Client("an-api-token-of-40-characters-0123456789", account_id="acc1") as c:
        ...     with c.with_budget(600) as half:
        ...         half.requests_per_window, half.account_id
        (600, 'acc1')
        """
        return Client(
            None if self._token is None else self._token.reveal(),
            account_id=self.account_id,
            base_url=self.base_url,
            email=self._email,
            api_key=None if self._api_key is None else self._api_key.reveal(),
            policy=self.policy,
            requests_per_window=requests_per_window,
            window_s=self.window_s,
            pool_size=max(self._pool_size, 1),
        )

    def ensure_pool(self, size: int) -> None:
        """Make room for ``size`` concurrent connections (only on a session the client created).

        Examples
        --------
        >>> with Client("an-api-token-of-40-characters-0123456789", account_id="acc1") as client:
        ...     client.ensure_pool(16)
        """
        if self._owns_session and size > self._pool_size:
            self._mount(size)

    def __repr__(self) -> str:
        return (
            f"Client(base_url={self.base_url!r}, account_id={self.account_id!r}, auth={self._auth})"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a tunnelframe Client holds a credential and cannot be pickled")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections (of a session tunnelframe created; a given one stays open)."""
        if self._owns_session:
            self._session.close()

    @property
    def n_requests(self) -> int:
        """HTTP requests sent so far, every retry included."""
        return self._n_requests

    @property
    def n_calls(self) -> int:
        """API calls made so far (one per method call or list page, retries not counted)."""
        return self._n_calls

    @contextlib.contextmanager
    def limit(self, *, deadline: float | None = None) -> Iterator[Client]:
        """Give every call made in the block one overall deadline; cancelling ends with it.

        Within the block a call that would start, wait or retry after ``deadline`` seconds
        raises :class:`~tunnelframe.ApiError` instead, and a request in progress stops at the
        deadline. :meth:`cancel` (called from another thread, e.g. on Ctrl+C) makes every call
        of this client stop at its next chunk or wait; leaving the block clears both. Blocks
        may nest or overlap: the nearest deadline holds.

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web"}]}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     with client.limit(deadline=60):
        ...         client.get_tunnel("t1", account_id="acc1")["name"]
        'web'
        """
        if deadline is not None and (
            isinstance(deadline, bool)
            or not isinstance(deadline, int | float)
            or not deadline > 0  # NaN too
        ):
            raise ValueError(f"deadline must be a number of seconds > 0, got {deadline!r}")
        with self._counts_lock:
            previous = self._deadline_at
            ends_at = time.monotonic() + deadline if deadline is not None else math.inf
            # Blocks may overlap (two fetches sharing a client): the nearest deadline holds.
            self._deadline_at = ends_at if previous is None else min(previous, ends_at)
            self._limits += 1
        try:
            yield self
        finally:
            with self._counts_lock:
                self._deadline_at = previous
                self._limits -= 1
                if not self._limits:
                    self._cancelled.clear()

    def cancel(self) -> None:
        """Stop every call and wait of this client now (e.g. on Ctrl+C); they raise ApiError.

        Takes effect until the :meth:`limit` block it was called in ends (or for good outside
        of one).
        """
        self._cancelled.set()
        self._budget.wake()
        with self._counts_lock:
            watches = list(self._watches)
        for watch in watches:  # a read stuck in a status line or headers ends now
            watch.expire()

    @property
    def _auth(self) -> str:
        return "token" if self._token is not None else "email+api_key"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "tunnelframe"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        elif self._api_key is not None and self._email is not None:
            headers["X-Auth-Email"] = self._email
            headers["X-Auth-Key"] = self._api_key.reveal()
        return headers

    def _scrub(self, text: str) -> str:
        for secret in (self._token, self._api_key):
            if secret is not None and secret.reveal():
                text = text.replace(secret.reveal(), "<secret>")
        return text

    def resolve_account(self, account_id: str | None) -> str:
        """``account_id``, or the client's own account; ValueError when neither is set.

        Examples
        --------
        >>> with Client("an-api-token-of-40-characters-0123456789", account_id="acc1") as client:
        ...     client.resolve_account(None), client.resolve_account("acc2")
        ('acc1', 'acc2')
        """
        account = account_id or self.account_id
        if not account:
            raise ValueError("no account id: pass account_id=... or set CLOUDFLARE_ACCOUNT_ID")
        return account

    def _error(
        self,
        what: str,
        problem: str,
        *,
        status: int | None,
        envelope: object = None,
        account: str | None,
        url: str,
        kind: type[ApiError] | None = None,
    ) -> ApiError:
        return api_error(
            what,
            problem,
            status=status,
            envelope=envelope,
            url=url,
            kind=kind,
            auth=self._auth,
            account=account,
            scrub=self._scrub,
        )

    # -- one call, with retries ------------------------------------------------------------

    def _cause(self, exc: BaseException) -> BaseException | None:
        """``exc`` to chain from, or None when its text would carry a credential."""
        text = "".join(traceback.format_exception(exc))
        return exc if self._scrub(text) == text else None

    def _remaining_s(self) -> float | None:
        return None if self._deadline_at is None else self._deadline_at - time.monotonic()

    def _attempt(
        self, url: str, params: Mapping[str, str] | None, what: str, account: str | None
    ) -> Any:
        """Send one request and return the envelope, or raise _Retryable / ApiError."""

        def fail(
            problem: str,
            status: int | None,
            envelope: object = None,
            kind: type[ApiError] | None = None,
        ) -> ApiError:
            return self._error(
                what, problem, status=status, envelope=envelope, account=account, url=url, kind=kind
            )

        def quote(body: bytes) -> str:
            # Scrub first, cut after: a cut credential would slip through the scrub.
            scrubbed = self._scrub(body.decode("utf-8", "replace")).encode()
            return repr(scrubbed[:_BODY_QUOTE_BYTES])

        policy = self.policy
        until = self._deadline_at
        if not self._budget.acquire(until=until):
            if self._cancelled.is_set():
                raise fail("cancelled", None, kind=ApiError)
            raise fail(
                "the deadline passes before the request budget allows another request",
                None,
                kind=ApiError,
            )
        with self._counts_lock:
            self._n_requests += 1
        headers: Mapping[str, str] | None = None
        started = time.monotonic()
        ends_at = started + policy.request_deadline
        if until is not None:
            ends_at = min(ends_at, until)
        # The whole request, status line and headers included, ends at ends_at: a timer shuts
        # the socket then (on a session tunnelframe created; a given one is bounded per read).
        watch = _Watch()
        timer = threading.Timer(max(0.0, ends_at - started), watch.expire)
        timer.daemon = True
        with self._counts_lock:
            self._watches.add(watch)
        if self._cancelled.is_set():
            watch.expire()
        _WATCHED.watch = watch
        timer.start()

        def overdue(problem: str) -> str:
            if not watch.done():
                return problem
            if self._cancelled.is_set():
                return "cancelled"
            return (
                f"no complete response within {ends_at - started:.0f} s "
                f"(the request's total deadline, status line and headers included): {problem}"
            )

        try:
            try:
                response = self._session.get(
                    url,
                    params=params,
                    headers=self._headers(),
                    timeout=max(0.001, min(policy.timeout, ends_at - started)),
                    stream=True,
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as exc:
                raise fail(
                    f"TLS failure ({type(exc).__name__})", None, kind=ApiError
                ) from self._cause(exc)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                problem = overdue(self._scrub(f"no response ({type(exc).__name__}: {exc})"))
                if problem == "cancelled":
                    raise fail(problem, None, kind=ApiError) from None
                raise _Retryable(fail(problem, None, kind=ApiError)) from self._cause(exc)
            except Exception as exc:  # e.g. a header requests refuses: its text may hold one
                problem = self._scrub(f"the request was not sent ({type(exc).__name__}: {exc})")
                raise fail(problem, None, kind=ApiError) from self._cause(exc)
            if watch.done():  # a shut socket can look like the end of the headers
                response.close()
                problem = overdue(f"HTTP {response.status_code}, headers cut")
                if problem == "cancelled":
                    raise fail(problem, None, kind=ApiError)
                raise _Retryable(fail(problem, None, kind=ApiError))
            headers = response.headers
            status = response.status_code
            chunks: list[bytes] = []
            size = 0
            read1 = getattr(response.raw, "read1", None)
            try:
                if read1 is not None:
                    # read1 hands over what has arrived (a cut body keeps its first bytes),
                    # and urllib3 decodes at most _CHUNK_BYTES at a time.
                    pieces: Iterator[bytes] = iter(
                        lambda: read1(_CHUNK_BYTES, decode_content=True), b""
                    )
                else:  # a custom adapter on a given session
                    pieces = response.iter_content(chunk_size=_CHUNK_BYTES)
                for data in pieces:
                    chunks.append(data)
                    size += len(data)
                    if self._cancelled.is_set():
                        raise fail("cancelled", status, kind=ApiError)
                    if size > policy.max_response_bytes:
                        raise fail(
                            f"HTTP {status}, the response is larger than "
                            f"{policy.max_response_bytes} bytes decompressed: refused "
                            "(raise Policy.max_response_bytes if it is genuine)",
                            status,
                            kind=ApiError,
                        )
                    if time.monotonic() > ends_at or watch.done():
                        if self._cancelled.is_set():
                            raise fail("cancelled", status, kind=ApiError)
                        raise _Retryable(
                            fail(
                                f"HTTP {status}, the body took longer than "
                                f"{ends_at - started:.0f} s ({size} bytes so far)",
                                status,
                                kind=ApiError,
                            )
                        )
            except (
                urllib3.exceptions.HTTPError,
                OSError,  # requests' own exceptions derive from it
            ) as exc:
                body = b"".join(chunks)
                problem = f"HTTP {status}, body truncated after {len(body)} bytes: {quote(body)}"
                if watch.done():
                    problem = (
                        "cancelled"
                        if self._cancelled.is_set()
                        else (
                            f"HTTP {status}, the body took longer than {ends_at - started:.0f} s "
                            f"({size} bytes so far)"
                        )
                    )
                if problem == "cancelled":
                    raise fail(problem, status, kind=ApiError) from None
                raise _Retryable(fail(problem, status, kind=ApiError)) from self._cause(exc)
            finally:
                response.close()
            if watch.done():  # the shut socket ended the body early: not a whole reply
                if self._cancelled.is_set():
                    raise fail("cancelled", status, kind=ApiError)
                raise _Retryable(
                    fail(
                        f"HTTP {status}, the body took longer than {ends_at - started:.0f} s "
                        f"({size} bytes so far)",
                        status,
                        kind=ApiError,
                    )
                )
        finally:
            timer.cancel()
            _WATCHED.watch = None
            with self._counts_lock:
                self._watches.discard(watch)
            self._budget.release(headers)
        body = b"".join(chunks)
        elapsed_ms = 1000 * (time.monotonic() - started)
        _log.debug("%s -> HTTP %s (%d bytes, %.0f ms)", what, status, len(body), elapsed_ms)
        if 300 <= status < 400:
            location = self._scrub(str(headers.get("Location", "")))[:_BODY_QUOTE_BYTES]
            raise fail(
                f"HTTP {status}, a redirect to {location!r}: the Cloudflare API never redirects, "
                "so it is not followed (check base_url and any proxy in between)",
                status,
                kind=ApiError,
            )
        try:
            envelope = json.loads(body)
        except (ValueError, RecursionError):
            envelope = None
        if status == 429:
            raise _Retryable(
                fail("HTTP 429", status, envelope),
                retry_after=retry_after_s(headers.get("Retry-After"), max_wait=policy.max_wait),
            )
        if status >= 500:
            raise _Retryable(fail(f"HTTP {status}", status, envelope))
        if not isinstance(envelope, Mapping):
            problem = "the body is not JSON" if envelope is None else "the body is no envelope"
            raise fail(f"HTTP {status}, {problem}: {quote(body)}", status)
        if status >= 400 or envelope.get("success") is not True:
            raise fail(
                f"HTTP {status}" + (", success is false" if status < 400 else ""), status, envelope
            )
        return envelope

    def _backoff_s(self, attempt: int) -> float:
        policy = self.policy
        return random.uniform(0, min(policy.backoff_max, policy.backoff_base * 2**attempt))

    def _get(
        self, path: str, params: Mapping[str, str] | None = None, *, account: str | None = None
    ) -> Any:
        """GET ``path`` with retries and return the envelope of a successful reply."""
        url = self.base_url + path
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        what = f"GET {path}{query}"
        with self._counts_lock:
            self._n_calls += 1
        max_retries = self.policy.max_retries
        for attempt in range(max_retries + 1):
            remaining = self._remaining_s()
            if self._cancelled.is_set() or (remaining is not None and remaining <= 0):
                reason = "cancelled" if self._cancelled.is_set() else "the deadline has passed"
                raise self._error(
                    what, reason, status=None, account=account, url=url, kind=ApiError
                )
            try:
                return self._attempt(url, params, what, account)
            except _Retryable as failure:
                if attempt == max_retries:
                    raise failure.error from failure.__cause__
                if failure.retry_after is not None or failure.error.status == 429:
                    wait = failure.retry_after if failure.retry_after is not None else 1.0
                    wait += random.uniform(0, min(1.0, 0.1 * wait + 0.05))
                    remaining = self._remaining_s()
                    if remaining is not None and wait > remaining:
                        raise failure.error from failure.__cause__
                    _log.warning(
                        "%s: HTTP 429, pausing every worker for %.1f s (Retry-After)", what, wait
                    )
                    self._budget.pause(wait)  # the next acquire() waits it out
                else:
                    wait = self._backoff_s(attempt)
                    remaining = self._remaining_s()
                    if remaining is not None and wait > remaining:
                        raise failure.error from failure.__cause__
                    _log.info(
                        "%s: %s; retry %d of %d in %.2f s",
                        what,
                        failure.error.status or "no response",
                        attempt + 1,
                        max_retries,
                        wait,
                    )
                    self._cancelled.wait(wait)  # a sleep that cancel() ends
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _result(envelope: Mapping[str, Any], kind: type, what: str) -> Any:
        result = envelope.get("result")
        if result is None and kind is list:  # the spec's collections allow "result": null
            return []
        if not isinstance(result, kind):
            raise SchemaError(
                "result",
                f"{what}: expected {'an array' if kind is list else 'an object'}, "
                f"got {type(result).__name__}",
            )
        return result

    def _get_result(
        self,
        kind: type,
        account_id: str | None,
        tunnel_id: str,
        below: str = "",
        *,
        tun_type: str = "cfd_tunnel",
    ) -> Any:
        """GET ``/accounts/{account}/{tun_type}/{tunnel_id}[/below]`` and check its result."""
        if tun_type not in TUN_TYPES:
            raise ValueError(f"tun_type must be one of {', '.join(TUN_TYPES)}, got {tun_type!r}")
        account = self.resolve_account(account_id)
        path = (
            f"/accounts/{self._segment(account, 'account_id')}"
            f"/{tun_type}/{self._segment(tunnel_id, 'tunnel_id')}"
        ) + (f"/{below}" if below else "")
        return self._result(self._get(path, account=account), kind, f"GET {path}")

    @staticmethod
    def _segment(value: str, name: str) -> str:
        # "." and ".." would be resolved as path steps and name another endpoint; no id has
        # white space or control characters.
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        if value in _DOT_SEGMENTS or any(not c.isprintable() or c.isspace() for c in value):
            raise ValueError(f"{name} {value!r} is not an id: it would change the request's path")
        return urllib.parse.quote(value, safe="")

    # -- the API ---------------------------------------------------------------------------

    def list_tunnels(
        self,
        *,
        account_id: str | None = None,
        tun_types: str | Iterable[str] | None = None,
        all_types: bool = False,
        per_page: int = 1000,
        **filters: Unpack[TunnelFilters],
    ) -> list[dict[str, Any]]:
        """Every tunnel of an account matching the filters, all pages read.

        Pages are read until as many tunnels as ``result_info.total_count`` announces are in
        hand (or, without a count, until a short page), so no empty page is requested when the
        count is right; an empty page ends the listing too. A tunnel listed on two pages is kept
        once (with a warning in the log). A page that brings nothing new, more pages than
        the first page's ``total_count`` allows, or more than ``Policy.max_pages`` pages raises
        :class:`~tunnelframe.ApiError`: the server is looping. A ``total_count`` that changes
        between pages (a tunnel deleted meanwhile shifts every later one up a page) starts the
        listing again, up to three times; a count lower than the tunnels served is logged.

        Parameters
        ----------
        account_id : str, optional
            Default: the client's account.
        tun_types : str or iterable of str, optional
            Tunnel types (``cfd_tunnel``, ``warp_connector``, ...); implies ``all_types``.
        all_types : bool
            List every tunnel type (``/tunnels``) instead of Cloudflare Tunnels
            (``/cfd_tunnel``).
        per_page : int
            1 to 1000.
        **filters
            The API's list filters (:class:`~tunnelframe._listfilters.TunnelFilters`):
            ``name``, ``uuid``, ``include_prefix``, ``exclude_prefix`` (str: exact name, exact
            tunnel id, name prefix to keep, name prefix to drop), ``is_deleted`` (``True`` only
            deleted tunnels, ``False`` none; ``None``, the API default, both), ``existed_at``,
            ``was_active_at``, ``was_inactive_at`` (tunnels that existed / were active / were
            inactive at that time: aware datetime or RFC 3339 string) and ``status``
            (``"inactive"``, ``"degraded"``, ``"healthy"`` or ``"down"``).

        Returns
        -------
        list of dict
            The raw Tunnel objects.

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": f"t{i}", "account_tag": "acc1", "name": f"web-{i}",
        ...                       "status": "healthy"} for i in range(3)]}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     tunnels = client.list_tunnels(account_id="acc1", per_page=2)
        ...     len(tunnels), client.n_requests
        (3, 2)
        """
        _check_per_page(per_page, 1000)
        params = query_params(filters, caller="list_tunnels")
        account = self.resolve_account(account_id)
        if tun_types is not None:
            all_types = True
            params["tun_types"] = tun_types if isinstance(tun_types, str) else ",".join(tun_types)
        endpoint = "tunnels" if all_types else "cfd_tunnel"
        path = f"/accounts/{self._segment(account, 'account_id')}/{endpoint}"
        return _Pages(self, path, params, account=account, per_page=per_page, noun="tunnel").all()

    def get_tunnel(
        self, tunnel_id: str, *, account_id: str | None = None, tun_type: str = "cfd_tunnel"
    ) -> dict[str, Any]:
        """One tunnel (the raw Tunnel object).

        ``tun_type`` picks the endpoint: ``cfd_tunnel`` (cloudflared) or ``warp_connector``
        (WARP Connector / Cloudflare Mesh); the same holds for the methods below.

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web"}]}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     client.get_tunnel("t1", account_id="acc1")["name"]
        'web'
        """
        result: dict[str, Any] = self._get_result(dict, account_id, tunnel_id, tun_type=tun_type)
        return result

    def list_connectors(
        self, tunnel_id: str, *, account_id: str | None = None, tun_type: str = "cfd_tunnel"
    ) -> list[dict[str, Any]]:
        """The connectors of a tunnel with their connections (``GET …/connections``).

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web",
        ...     "connectors": [{"id": "c1", "version": "2025.10.1", "conns": []}]}]}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     [c["version"] for c in client.list_connectors("t1", account_id="acc1")]
        ['2025.10.1']
        """
        result: list[dict[str, Any]] = self._get_result(
            list, account_id, tunnel_id, "connections", tun_type=tun_type
        )
        return result

    def get_connector(
        self,
        tunnel_id: str,
        connector_id: str,
        *,
        account_id: str | None = None,
        tun_type: str = "cfd_tunnel",
    ) -> dict[str, Any]:
        """One connector of a tunnel with its connections (``GET …/connectors/{id}``).

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web",
        ...     "connectors": [{"id": "c1", "arch": "linux_arm64", "conns": []}]}]}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     client.get_connector("t1", "c1", account_id="acc1")["arch"]
        'linux_arm64'
        """
        connector = self._segment(connector_id, "connector_id")
        result: dict[str, Any] = self._get_result(
            dict, account_id, tunnel_id, f"connectors/{connector}", tun_type=tun_type
        )
        return result

    # -- what tunnels serve (opt-in reads: see tunnelframe.fetch_routing) -----------------

    def get_tunnel_configuration(
        self, tunnel_id: str, *, account_id: str | None = None
    ) -> dict[str, Any]:
        """The configuration of a remotely managed tunnel (``GET …/configurations``).

        The result holds ``config.ingress``: the ingress rules (``hostname``, ``path``,
        ``service``), the last one cloudflared's catch-all without a hostname. A locally
        managed tunnel (``config_src: local``) keeps its rules in cloudflared's own file;
        the API has none for it. Needs *Cloudflare Tunnel Read* (or *Cloudflare One
        Connector: cloudflared Read*).

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "config_src": "cloudflare"}],
        ...     "routing": {"configurations": {"t1": {"tunnel_id": "t1", "config": {"ingress": [
        ...         {"hostname": "shop.example.com", "service": "http://localhost:80"},
        ...         {"service": "http_status:404"}]}}}}}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     config = client.get_tunnel_configuration("t1", account_id="acc1")
        >>> config["config"]["ingress"][0]["hostname"]
        'shop.example.com'
        """
        result: dict[str, Any] = self._get_result(dict, account_id, tunnel_id, "configurations")
        return result

    def list_routes(
        self, *, account_id: str | None = None, is_deleted: bool = False, per_page: int = 1000
    ) -> list[dict[str, Any]]:
        """The account's private network routes (``GET /accounts/{a}/teamnet/routes``).

        Each route has ``network`` (CIDR), ``tunnel_id``, ``tunnel_name``, ``tun_type``,
        ``virtual_network_id`` and ``virtual_network_name``. Deleted routes are left out
        unless ``is_deleted=True`` (only deleted ones). ``per_page`` is 1 to 1000; pages are
        read as :meth:`list_tunnels` reads them (``Policy.max_pages``, a moving
        ``total_count`` lists again, a route on two pages is kept once). Needs *Cloudflare
        One Networks Read* (formerly *Zero Trust Read*).

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1"}], "routing": {"routes": [
        ...     {"id": "r1", "network": "10.20.0.0/16", "tunnel_id": "t1"}]}}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     [r["network"] for r in client.list_routes(account_id="acc1")]
        ['10.20.0.0/16']
        """
        _check_per_page(per_page, 1000)
        account = self.resolve_account(account_id)
        path = f"/accounts/{self._segment(account, 'account_id')}/teamnet/routes"
        params = {"is_deleted": "true" if is_deleted else "false"}
        return _Pages(self, path, params, account=account, per_page=per_page, noun="route").all()

    def list_zones(self, *, account_id: str | None = None) -> list[dict[str, Any]]:
        """The account's zones (``GET /zones?account.id=…``, 50 a page, the most it allows).

        Paged as :meth:`list_tunnels` pages. Needs *Zone Read*.

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1"}], "routing": {"zones": [
        ...     {"id": "z1", "name": "example.com", "account": {"id": "acc1"}}]}}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     [z["name"] for z in client.list_zones(account_id="acc1")]
        ['example.com']
        """
        account = self.resolve_account(account_id)
        params = {"account.id": account}
        return _Pages(self, "/zones", params, account=account, per_page=50, noun="zone").all()

    def list_tunnel_dns_records(
        self, zone_id: str, *, per_page: int = 5000
    ) -> list[dict[str, Any]]:
        """The CNAME records of a zone that point at a tunnel (``<id>.cfargotunnel.com``).

        One filtered listing (``type=CNAME&content.endswith=.cfargotunnel.com``), so a zone
        costs one request per ``per_page`` (1 to 5,000,000) such records, however many other
        records it holds; paged as :meth:`list_tunnels` pages. Needs *DNS Read*.

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1"}], "routing": {
        ...     "zones": [{"id": "z1", "name": "example.com", "account": {"id": "acc1"}}],
        ...     "dns_records": [{"id": "d1", "zone_id": "z1", "name": "shop.example.com",
        ...                      "type": "CNAME", "content": "t1.cfargotunnel.com"}]}}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     [r["name"] for r in client.list_tunnel_dns_records("z1")]
        ['shop.example.com']
        """
        _check_per_page(per_page, 5_000_000)
        path = f"/zones/{self._segment(zone_id, 'zone_id')}/dns_records"
        params = {"type": "CNAME", "content.endswith": ".cfargotunnel.com"}
        pages = _Pages(self, path, params, account=None, per_page=per_page, noun="DNS record")
        return pages.all()


def _check_per_page(per_page: object, most: int) -> None:
    """``per_page`` must be an int the endpoint accepts (1 to ``most``)."""
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= most:
        raise ValueError(f"per_page must be between 1 and {most}, got {per_page!r}")


class _Pages:
    """The pages of one listing (tunnels, routes, zones, DNS records), each as the items it
    adds (iterate once; :meth:`all` reads them all).

    Pages are read until as many items as ``result_info.total_count`` announces are in hand
    (or, without a count, until a short page); an empty page ends the listing too. An item
    listed again (same ``id``) is skipped and counted in :attr:`n_duplicates`. A page that
    brings nothing new, more pages than the first page's ``total_count`` allows, or more than
    ``Policy.max_pages`` pages raises :class:`~tunnelframe.ApiError`: the server is looping.
    A ``total_count`` that changes between pages (an item deleted meanwhile shifts every later
    one up a page, so one would be skipped unseen) starts the listing again from page 1, up to
    three times, yielding only items not yielded yet; a count lower than the items served is
    logged. ``noun`` names one item in messages (``"tunnel"``, ``"DNS record"``).
    """

    def __init__(
        self,
        client: Client,
        path: str,
        params: Mapping[str, str],
        *,
        account: str | None,
        per_page: int,
        noun: str,
    ) -> None:
        self.client, self.path, self.params = client, path, dict(params)
        self.account, self.per_page = account, per_page
        self.noun, self.nouns = noun, f"{noun}s"
        #: items skipped because an earlier page listed them
        self.n_duplicates = 0

    def all(self) -> list[dict[str, Any]]:
        """Every item of the listing, each once (duplicates logged)."""
        items = [item for page in self for item in page]
        if self.n_duplicates:
            _log.warning(
                "GET %s: %d %s(s) listed on more than one page were kept once",
                self.path,
                self.n_duplicates,
                self.noun,
            )
        return items

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        yielded: set[object] = set()
        changes: list[str] = []
        for _ in range(_LIST_PASSES):
            try:
                yield from self._pass(yielded)
                return
            except _CountChanged as changed:
                changes.append(f"{changed.before} -> {changed.after}")
                _log.warning(
                    "GET %s: the %s count changed while listing (%d -> %d): listing again",
                    self.path,
                    self.noun,
                    changed.before,
                    changed.after,
                )
        raise self._looping(
            f"GET {self.path}",
            f"the {self.noun} count changed during each of {_LIST_PASSES} listings "
            f"({', '.join(changes)}): {self.nouns} are being created or deleted, "
            f"so a page-by-page listing could skip live ones; try again when they settle",
        )

    def _looping(self, what: str, problem: str) -> ApiError:
        client = self.client
        return client._error(
            what,
            problem,
            status=None,
            account=self.account,
            url=client.base_url + self.path,
            kind=ApiError,
        )

    def _pass(self, yielded: set[object]) -> Iterator[list[dict[str, Any]]]:
        """One listing from page 1; _CountChanged when ``total_count`` moves meanwhile."""
        client, path, per_page, nouns = self.client, self.path, self.per_page, self.nouns
        seen: set[object] = set()  # listed in this pass
        n_listed = 0
        max_pages: int | None = None
        first_total: int | None = None
        page = 1
        while True:
            envelope = client._get(
                path,
                {**self.params, "page": str(page), "per_page": str(per_page)},
                account=self.account,
            )
            what = f"GET {path}?page={page}"
            result = client._result(envelope, list, what)
            new: list[dict[str, Any]] = []
            n_fresh = 0
            for index, item in enumerate(result):
                if not isinstance(item, Mapping):
                    raise SchemaError(
                        f"result[{index}]",
                        f"{what}: a {self.noun} must be an object, got {type(item).__name__}",
                    )
                key = item.get("id")
                if key is not None and key in seen:
                    self.n_duplicates += 1
                    continue
                seen.add(key)
                n_fresh += 1
                if key is None or key not in yielded:
                    new.append(dict(item))
            n_listed += n_fresh
            info = envelope.get("result_info")
            info = info if isinstance(info, Mapping) else {}
            total = _count(info.get("total_count"))
            if total is not None:
                if first_total is None:
                    first_total = total
                elif total != first_total:
                    raise _CountChanged(first_total, total)
            yielded.update(item.get("id") for item in new)
            yield new
            if not result:
                break
            if not n_fresh:
                raise self._looping(
                    what, f"page {page} lists only {nouns} already listed: the server is looping"
                )
            if total is not None:
                if max_pages is None:  # the first page's count bounds the listing
                    max_pages = math.ceil(total / len(result)) + 1
                if n_listed >= total:
                    break
                if page >= max_pages:
                    raise self._looping(
                        what,
                        f"{page} pages gave {n_listed} of the {total} {nouns} announced: "
                        "the server keeps announcing more than it serves",
                    )
            else:
                served = _count(info.get("per_page"))
                if len(result) < (served or per_page):
                    break
            if page >= client.policy.max_pages:
                raise self._looping(
                    what,
                    f"{page} pages of {nouns} ({n_listed} {nouns}) and the server has not "
                    f"ended the list: stopped at Policy.max_pages ({client.policy.max_pages}); "
                    "raise it if the account really holds more",
                )
            page += 1
        if first_total is not None and n_listed > first_total:
            _log.warning(
                "GET %s: %d %s served, more than the total_count of %d announced: "
                "the count is wrong, so it cannot tell whether the list is complete",
                path,
                n_listed,
                nouns,
                first_total,
            )


def get_public_json(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    accept: str = "application/json",
    hint: str = "check the connection and try again",
    deadline: float | None = None,
    max_bytes: int = 16 * 2**20,
) -> Any:
    """GET a public JSON document (no credential, no API envelope) the way the client speaks HTTP.

    The same conventions as :class:`Client`: ``https://`` (plain ``http://`` only to
    loopback), a timeout per read and a total ``deadline`` (default
    ``Policy().request_deadline``) that covers the status line and headers too, at most
    ``max_bytes`` of body once decompressed, tunnelframe's User-Agent, no token ever sent, and
    one error class: :class:`~tunnelframe.ApiError` (``.status``, ``.url``) with the message
    ``GET {url} failed: {problem}: {hint}``. A redirect is followed (five at most) only to
    ``https://``, or to the same scheme and host. For public data beside the Cloudflare API,
    such as cloudflared's release list on GitHub.

    Examples
    --------
    >>> get_public_json("http://127.0.0.1:9/releases", timeout=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tunnelframe._errors.ApiError: GET http://127.0.0.1:9/releases failed: no response (...
    """
    check_base_url(url)
    headers = {"Accept": accept, "User-Agent": f"tunnelframe/{__version__}"}
    total = Policy().request_deadline if deadline is None else float(deadline)
    ends_at = time.monotonic() + total

    def fail(problem: str, status: int | None) -> ApiError:
        return ApiError(f"GET {url} failed: {problem}: {hint}", status=status, url=url)

    watch = _Watch()
    timer = threading.Timer(max(0.0, total), watch.expire)
    timer.daemon = True
    session = requests.Session()
    session.mount("https://", _Adapter(max_retries=0))
    session.mount("http://", _Adapter(max_retries=0))
    _WATCHED.watch = watch
    timer.start()
    late = f"no complete response within {total:.0f} s (the total deadline)"
    try:
        target, query = url, params
        for _ in range(6):
            try:
                response = session.get(
                    target,
                    params=query,
                    headers=headers,
                    timeout=max(0.001, min(timeout, ends_at - time.monotonic())),
                    stream=True,
                    allow_redirects=False,
                )
            except requests.exceptions.RequestException as exc:
                if watch.done():
                    raise fail(late, None) from exc
                raise fail(f"no response ({type(exc).__name__}: {exc})", None) from exc
            if not response.is_redirect:
                break
            location = urllib.parse.urljoin(target, response.headers.get("Location", ""))
            response.close()
            before, after = urllib.parse.urlsplit(target), urllib.parse.urlsplit(location)
            same = (after.scheme, after.hostname) == (before.scheme, before.hostname)
            try:
                if after.scheme != "https" and not same:
                    raise ValueError("plain http to another host")
                check_base_url(
                    urllib.parse.urlunsplit((after.scheme, after.netloc, after.path, "", ""))
                )
            except ValueError as exc:
                raise fail(
                    f"HTTP {response.status_code}, a redirect to {location[:_BODY_QUOTE_BYTES]!r}"
                    f" is not followed ({exc})",
                    response.status_code,
                ) from None
            target, query = location, None
        else:
            raise fail("more than five redirects", response.status_code)
        status = response.status_code
        chunks: list[bytes] = []
        size = 0
        try:
            for data in response.iter_content(chunk_size=_CHUNK_BYTES):
                chunks.append(data)
                size += len(data)
                if size > max_bytes:
                    raise fail(
                        f"HTTP {status}, the response is larger than {max_bytes} bytes: refused",
                        status,
                    )
                if watch.done():
                    break
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if not watch.done():
                raise fail(f"HTTP {status}, body truncated ({type(exc).__name__})", status) from exc
        finally:
            response.close()
        if watch.done():
            raise fail(late, status)
    finally:
        timer.cancel()
        _WATCHED.watch = None
        session.close()
    if status >= 400:
        raise fail(f"HTTP {status}", status)
    body = b"".join(chunks)
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise fail(
            f"HTTP {status}, the body is not JSON: {body[:_BODY_QUOTE_BYTES]!r}", status
        ) from exc
