"""A small, careful HTTP client for the Cloudflare Tunnel API (read-only).

This is the only module of tunnelframe that imports ``requests``. It knows the four read
endpoints, the response envelope, authentication, retries and the rate budget, and returns the
raw ``result`` objects. It must not import pandas, build frames or write files, and it must
never let the API token reach a repr, a log record, an exception or a URL.

Retry policy (GET only, bounded by ``max_retries`` extra attempts per call):

- HTTP 429: every worker sharing the client pauses until ``Retry-After`` (plus a little jitter),
  then the call is retried; after the last retry :class:`~tunnelframe.RateLimitError`.
- HTTP 5xx, timeouts, dropped connections and truncated bodies: retried after an exponential
  backoff with full jitter (``uniform(0, min(backoff_max, backoff_base * 2**attempt))``).
- Anything else (4xx, a 200 with ``success: false``, a body that is not JSON) fails at once.

The rate budget (:mod:`tunnelframe._ratelimit`, which needs no HTTP library): a thread-safe
limiter keeps at most ``requests_per_window`` requests in any sliding ``window_s`` seconds, and
reads the ``Ratelimit`` response header (``"default";r=<remaining>;t=<seconds to reset>``) to
stop before the server starts refusing.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import urllib.parse
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import requests
import requests.adapters
import urllib3.exceptions

from tunnelframe._errors import ApiError, AuthError, SchemaError
from tunnelframe._protocol import DEFAULT_BASE_URL, api_error, check_base_url, query_value
from tunnelframe._ratelimit import Budget, retry_after_s
from tunnelframe._version import __version__

__all__ = ["DEFAULT_BASE_URL", "Client", "get_public_json"]

_log = logging.getLogger(__name__)

_STATUSES: Final = ("inactive", "degraded", "healthy", "down")
_BODY_QUOTE_BYTES: Final = 120


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
    timeout : float
        Seconds to wait for the server on each attempt.
    max_retries : int
        Extra attempts per call after a 429, a 5xx, a timeout, a dropped connection or a
        truncated body.
    requests_per_window, window_s : int, float
        Client-side budget: at most this many requests in any ``window_s`` seconds
        (Cloudflare allows 1200 per 5 minutes per token).
    session : requests.Session, optional
        Used for every request when given (its adapters are left as they are).
    backoff_base, backoff_max : float
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
        timeout: float = 30.0,
        max_retries: int = 5,
        requests_per_window: int = 1200,
        window_s: float = 300.0,
        session: requests.Session | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        pool_size: int = 16,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if requests_per_window < 1 or window_s <= 0:
            raise ValueError("requests_per_window must be >= 1 and window_s > 0")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        self._token: _Secret | None = None
        self._email: str | None = None
        self._api_key: _Secret | None = None
        token = token or None
        if token is None and not (email or api_key):
            token = os.environ.get("CLOUDFLARE_API_TOKEN") or None
        if token is not None:
            self._token = _Secret(token)
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
            self._email = email
            self._api_key = _Secret(api_key)
        self.account_id: str | None = account_id or os.environ.get("CLOUDFLARE_ACCOUNT_ID") or None
        self.base_url: str = check_base_url(
            base_url or os.environ.get("CLOUDFLARE_BASE_URL") or DEFAULT_BASE_URL
        )
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self._budget = Budget(int(requests_per_window), float(window_s))
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._pool_size = 0
        if self._owns_session:
            self._mount(pool_size)
        self._counts_lock = threading.Lock()
        self._n_requests = 0
        self._n_calls = 0

    # -- plumbing --------------------------------------------------------------------------

    def _mount(self, pool_size: int) -> None:
        # Retries are done by _get, which must see every attempt: no retries in urllib3.
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4, pool_maxsize=max(1, pool_size), max_retries=0
        )
        if self._pool_size:  # replacing our own, smaller adapter: close its connections
            self._session.get_adapter("https://").close()
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._pool_size = max(1, pool_size)

    def ensure_pool(self, size: int) -> None:
        """Make room for ``size`` concurrent connections (only on a session the client created).

        Examples
        --------
        >>> with Client("token", account_id="acc1") as client:
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
        >>> with Client("token", account_id="acc1") as client:
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

        with self._counts_lock:
            self._n_requests += 1
        headers: Mapping[str, str] | None = None
        self._budget.acquire()
        started = time.monotonic()
        try:
            try:
                response = self._session.get(
                    url, params=params, headers=self._headers(), timeout=self.timeout, stream=True
                )
            except requests.exceptions.SSLError as exc:
                raise fail(f"TLS failure ({type(exc).__name__})", None, kind=ApiError) from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                problem = f"no response ({type(exc).__name__}: {exc})"
                raise _Retryable(fail(problem, None, kind=ApiError)) from exc
            headers = response.headers
            status = response.status_code
            chunks: list[bytes] = []
            read1 = getattr(response.raw, "read1", None)
            try:
                if read1 is not None:
                    # read1 hands over what has arrived, so a cut body keeps its first bytes.
                    while data := read1(64 * 1024, decode_content=True):
                        chunks.append(data)
                else:  # a custom adapter on a given session
                    chunks.extend(response.iter_content(chunk_size=64 * 1024))
            except (
                urllib3.exceptions.HTTPError,
                OSError,  # requests' own exceptions derive from it
            ) as exc:
                body = b"".join(chunks)
                problem = (
                    f"HTTP {status}, body truncated after {len(body)} bytes: "
                    f"{body[:_BODY_QUOTE_BYTES]!r}"
                )
                raise _Retryable(fail(problem, status, kind=ApiError)) from exc
            finally:
                response.close()
        finally:
            self._budget.release(headers)
        body = b"".join(chunks)
        elapsed_ms = 1000 * (time.monotonic() - started)
        _log.debug("%s -> HTTP %s (%d bytes, %.0f ms)", what, status, len(body), elapsed_ms)
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = None
        if status == 429:
            raise _Retryable(
                fail("HTTP 429", status, envelope),
                retry_after=retry_after_s(headers.get("Retry-After")),
            )
        if status >= 500:
            raise _Retryable(fail(f"HTTP {status}", status, envelope))
        if not isinstance(envelope, Mapping):
            problem = "the body is not JSON" if envelope is None else "the body is no envelope"
            raise fail(f"HTTP {status}, {problem}: {body[:_BODY_QUOTE_BYTES]!r}", status)
        if status >= 400 or envelope.get("success") is not True:
            raise fail(
                f"HTTP {status}" + (", success is false" if status < 400 else ""), status, envelope
            )
        return envelope

    def _backoff_s(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    def _get(
        self, path: str, params: Mapping[str, str] | None = None, *, account: str | None = None
    ) -> Any:
        """GET ``path`` with retries and return the envelope of a successful reply."""
        url = self.base_url + path
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        what = f"GET {path}{query}"
        with self._counts_lock:
            self._n_calls += 1
        for attempt in range(self.max_retries + 1):
            try:
                return self._attempt(url, params, what, account)
            except _Retryable as failure:
                if attempt == self.max_retries:
                    raise failure.error from failure.__cause__
                if failure.retry_after is not None or failure.error.status == 429:
                    wait = failure.retry_after if failure.retry_after is not None else 1.0
                    wait += random.uniform(0, min(1.0, 0.1 * wait + 0.05))
                    _log.warning(
                        "%s: HTTP 429, pausing every worker for %.1f s (Retry-After)", what, wait
                    )
                    self._budget.pause(wait)  # the next acquire() waits it out
                else:
                    wait = self._backoff_s(attempt)
                    _log.info(
                        "%s: %s; retry %d of %d in %.2f s",
                        what,
                        failure.error.status or "no response",
                        attempt + 1,
                        self.max_retries,
                        wait,
                    )
                    time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _result(envelope: Mapping[str, Any], kind: type, what: str) -> Any:
        result = envelope.get("result")
        if not isinstance(result, kind):
            raise SchemaError(
                "result",
                f"{what}: expected {'an array' if kind is list else 'an object'}, "
                f"got {type(result).__name__}",
            )
        return result

    def _get_result(
        self, kind: type, account_id: str | None, tunnel_id: str, below: str = ""
    ) -> Any:
        """GET ``/accounts/{account}/cfd_tunnel/{tunnel_id}[/below]`` and check its result."""
        account = self.resolve_account(account_id)
        path = (
            f"/accounts/{self._segment(account, 'account_id')}"
            f"/cfd_tunnel/{self._segment(tunnel_id, 'tunnel_id')}"
        ) + (f"/{below}" if below else "")
        return self._result(self._get(path, account=account), kind, f"GET {path}")

    @staticmethod
    def _segment(value: str, name: str) -> str:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        return urllib.parse.quote(value, safe="")

    # -- the API ---------------------------------------------------------------------------

    def list_tunnels(
        self,
        *,
        account_id: str | None = None,
        name: str | None = None,
        is_deleted: bool | None = None,
        existed_at: datetime | str | None = None,
        uuid: str | None = None,
        was_active_at: datetime | str | None = None,
        was_inactive_at: datetime | str | None = None,
        include_prefix: str | None = None,
        exclude_prefix: str | None = None,
        status: str | None = None,
        tun_types: str | list[str] | None = None,
        all_types: bool = False,
        per_page: int = 1000,
    ) -> list[dict[str, Any]]:
        """Every tunnel of an account matching the filters, all pages read.

        Pages are read until ``result_info`` shows the last one (a short page, or
        ``page * per_page >= total_count``), so no empty page is requested.

        Parameters
        ----------
        account_id : str, optional
            Default: the client's account.
        name, uuid, include_prefix, exclude_prefix : str, optional
            Exact name, exact tunnel id, name prefix to keep, name prefix to drop.
        is_deleted : bool, optional
            ``True`` only deleted tunnels, ``False`` none; ``None`` (the API default) both.
        existed_at, was_active_at, was_inactive_at : datetime or str, optional
            Tunnels that existed / were active / were inactive at that time (aware datetime
            or RFC 3339 string).
        status : {"inactive", "degraded", "healthy", "down"}, optional
        tun_types : str or list of str, optional
            Tunnel types (``cfd_tunnel``, ``warp_connector``, ...); implies ``all_types``.
        all_types : bool
            List every tunnel type (``/tunnels``) instead of Cloudflare Tunnels
            (``/cfd_tunnel``).
        per_page : int
            1 to 1000.

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
        if not 1 <= per_page <= 1000 or isinstance(per_page, bool):
            raise ValueError(f"per_page must be between 1 and 1000, got {per_page!r}")
        if status is not None and status not in _STATUSES:
            raise ValueError(f"status must be one of {', '.join(_STATUSES)}, got {status!r}")
        account = self.resolve_account(account_id)
        filters: dict[str, object] = {
            "name": name,
            "is_deleted": is_deleted,
            "existed_at": existed_at,
            "uuid": uuid,
            "was_active_at": was_active_at,
            "was_inactive_at": was_inactive_at,
            "include_prefix": include_prefix,
            "exclude_prefix": exclude_prefix,
            "status": status,
        }
        if tun_types is not None:
            all_types = True
            filters["tun_types"] = tun_types if isinstance(tun_types, str) else ",".join(tun_types)
        params = {
            key: query_value(key, value) for key, value in filters.items() if value is not None
        }
        endpoint = "tunnels" if all_types else "cfd_tunnel"
        path = f"/accounts/{self._segment(account, 'account_id')}/{endpoint}"
        tunnels: list[dict[str, Any]] = []
        page = 1
        while True:
            envelope = self._get(
                path, {**params, "page": str(page), "per_page": str(per_page)}, account=account
            )
            result = self._result(envelope, list, f"GET {path}")
            tunnels.extend(result)
            info = envelope.get("result_info")
            info = info if isinstance(info, Mapping) else {}
            served_per_page = info.get("per_page")
            size = int(served_per_page) if isinstance(served_per_page, int | float) else per_page
            total = info.get("total_count")
            if not result or len(result) < max(1, size):
                break
            if isinstance(total, int | float) and page * size >= total:
                break
            page += 1
        return tunnels

    def get_tunnel(self, tunnel_id: str, *, account_id: str | None = None) -> dict[str, Any]:
        """One tunnel (the raw Tunnel object).

        Examples
        --------
        >>> from tunnelframe.simulator import serve
        >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web"}]}
        >>> with serve(fleet) as api, Client(api.token, base_url=api.url) as client:
        ...     client.get_tunnel("t1", account_id="acc1")["name"]
        'web'
        """
        result: dict[str, Any] = self._get_result(dict, account_id, tunnel_id)
        return result

    def list_connectors(
        self, tunnel_id: str, *, account_id: str | None = None
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
        result: list[dict[str, Any]] = self._get_result(list, account_id, tunnel_id, "connections")
        return result

    def get_connector(
        self, tunnel_id: str, connector_id: str, *, account_id: str | None = None
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
            dict, account_id, tunnel_id, f"connectors/{connector}"
        )
        return result


def get_public_json(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    accept: str = "application/json",
    hint: str = "check the connection and try again",
) -> Any:
    """GET a public JSON document (no credential, no API envelope) the way the client speaks HTTP.

    The same conventions as :class:`Client`: ``https://`` (plain ``http://`` only to
    loopback), a timeout, tunnelframe's User-Agent, no token ever sent, and one error class:
    :class:`~tunnelframe.ApiError` (``.status``, ``.url``) with the message
    ``GET {url} failed: {problem}: {hint}``. For public data beside the Cloudflare API, such as
    cloudflared's release list on GitHub.

    Examples
    --------
    >>> get_public_json("http://127.0.0.1:9/releases", timeout=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tunnelframe._errors.ApiError: GET http://127.0.0.1:9/releases failed: no response (...
    """
    check_base_url(url)
    headers = {"Accept": accept, "User-Agent": f"tunnelframe/{__version__}"}

    def fail(problem: str, status: int | None) -> ApiError:
        return ApiError(f"GET {url} failed: {problem}: {hint}", status=status, url=url)

    try:
        response = requests.get(url, params=params, headers=headers, timeout=timeout)
    except requests.exceptions.RequestException as exc:
        raise fail(f"no response ({type(exc).__name__}: {exc})", None) from exc
    if response.status_code >= 400:
        raise fail(f"HTTP {response.status_code}", response.status_code)
    try:
        return response.json()
    except ValueError as exc:
        raise fail(
            f"HTTP {response.status_code}, the body is not JSON: "
            f"{response.content[:_BODY_QUOTE_BYTES]!r}",
            response.status_code,
        ) from exc
