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

The rate budget: a thread-safe limiter keeps at most ``requests_per_window`` requests in any
sliding ``window_s`` seconds, and reads the ``Ratelimit`` response header
(``"default";r=<remaining>;t=<seconds to reset>``) to stop before the server starts refusing.
"""

from __future__ import annotations

import collections
import email.utils
import ipaddress
import json
import logging
import os
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import requests
import requests.adapters
import urllib3.exceptions

from tunnelframe._errors import ApiError, AuthError, NotFoundError, RateLimitError, SchemaError

__all__ = ["DEFAULT_BASE_URL", "Client"]

DEFAULT_BASE_URL: Final = "https://api.cloudflare.com/client/v4"

_log = logging.getLogger(__name__)

_STATUSES: Final = ("inactive", "degraded", "healthy", "down")
_NOT_FOUND_CODES: Final = frozenset({7000, 7003})
_AUTH_CODES: Final = frozenset({9109, 10000})
_RATELIMIT_REMAINING = re.compile(r"(?:^|[;,\s])(?:r|remaining)=(\d+)")
_RATELIMIT_RESET = re.compile(r"(?:^|[;,\s])(?:t|reset)=(\d+)")
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


class _Budget:
    """A thread-safe request budget shared by every worker of one :class:`Client`.

    Three things can hold a request back: the local sliding window (at most ``limit`` requests
    in ``window_s`` seconds), the server's own count from the ``Ratelimit`` header, and a pause
    after a 429 that applies to every worker until ``Retry-After`` has passed.
    """

    def __init__(self, limit: int, window_s: float) -> None:
        self._limit = limit
        self._window_s = window_s
        self._cond = threading.Condition()
        self._sent: collections.deque[float] = collections.deque()
        self._paused_until = 0.0
        self._server_remaining: int | None = None
        self._server_reset_at = 0.0
        self._inflight = 0
        self._announced_until = 0.0

    def _wait_s(self, now: float) -> float:
        waits = [self._paused_until - now]
        while self._sent and self._sent[0] <= now - self._window_s:
            self._sent.popleft()
        if len(self._sent) >= self._limit:
            waits.append(self._sent[0] + self._window_s - now)
        if self._server_remaining is not None and self._server_remaining <= 0:
            if now < self._server_reset_at:
                waits.append(self._server_reset_at - now)
            else:
                self._server_remaining = None  # a new server window: unknown until a reply
        return max(waits)

    def acquire(self) -> None:
        """Block until one more request fits the budget, then count it as sent."""
        with self._cond:
            while True:
                now = time.monotonic()
                wait = self._wait_s(now)
                if wait <= 0:
                    break
                if wait > 5 and now + wait > self._announced_until:
                    self._announced_until = now + wait  # once per wait, not once per worker
                    _log.warning(
                        "request budget spent: waiting %.0f s before the next request", wait
                    )
                self._cond.wait(timeout=wait)
            self._sent.append(now)
            self._inflight += 1
            if self._server_remaining is not None:
                self._server_remaining -= 1

    def release(self, headers: Mapping[str, str] | None) -> None:
        """Mark a request finished and learn the server's count from its headers."""
        with self._cond:
            if headers is not None:
                header = headers.get("Ratelimit")
                if header:
                    remaining = _RATELIMIT_REMAINING.search(header)
                    reset = _RATELIMIT_RESET.search(header)
                    if remaining is not None and reset is not None:
                        self._learn(int(remaining.group(1)), int(reset.group(1)))
            self._inflight -= 1
            self._cond.notify_all()

    def _learn(self, remaining: int, reset_s: int) -> None:
        # Requests still in flight may not be in the server's count yet: assume they are
        # not, so the estimate errs on the safe side.
        now = time.monotonic()
        estimate = remaining - max(0, self._inflight - 1)
        reset_at = now + reset_s  # ``t`` is whole seconds rounded up: never too early
        if self._server_remaining is None or now >= self._server_reset_at:
            self._server_remaining, self._server_reset_at = estimate, reset_at
        else:
            # Same window: replies arrive out of order, so an older, higher count must not
            # undo a newer, lower one.
            self._server_remaining = min(self._server_remaining, estimate)
            self._server_reset_at = min(self._server_reset_at, reset_at)

    def pause(self, seconds: float) -> None:
        """Hold every worker back for ``seconds`` (after a 429)."""
        with self._cond:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._cond.notify_all()


class _Retryable(Exception):
    """An attempt failed in a way worth retrying; ``error`` is raised if none is left."""

    def __init__(self, error: ApiError, *, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, got {base_url!r}"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("base_url must not carry credentials, a query or a fragment")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(
            f"refusing plain http:// to {parts.hostname}: the token would travel unencrypted; "
            "use https:// (plain http is allowed only to loopback, e.g. the simulator)"
        )
    return base_url.rstrip("/")


def _retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _query_value(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be a timezone-aware datetime, got a naive one")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a str or datetime, got {type(value).__name__}")


def _envelope_errors(envelope: object) -> list[tuple[int | None, str | None]]:
    """(code, message) of every entry of an envelope's ``errors`` and their ``error_chain``."""
    found: list[tuple[int | None, str | None]] = []
    if not isinstance(envelope, Mapping):
        return found
    pending = list(envelope.get("errors") or [])
    while pending:
        item = pending.pop(0)
        if not isinstance(item, Mapping):
            continue
        code = item.get("code")
        number = None
        if isinstance(code, int) and not isinstance(code, bool):
            number = code
        elif isinstance(code, str) and code.isdigit():
            number = int(code)
        message = item.get("message")
        found.append((number, None if message is None else str(message)))
        chain = item.get("error_chain")
        if isinstance(chain, list):
            pending.extend(chain)
    return found


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
        self.base_url: str = _check_base_url(
            base_url or os.environ.get("CLOUDFLARE_BASE_URL") or DEFAULT_BASE_URL
        )
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self._budget = _Budget(int(requests_per_window), float(window_s))
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

    def _ensure_pool(self, size: int) -> None:
        """Make room for ``size`` concurrent connections (only on a session we created)."""
        if self._owns_session and size > self._pool_size:
            self._mount(size)

    def __repr__(self) -> str:
        auth = "token" if self._token is not None else "email+api_key"
        return f"Client(base_url={self.base_url!r}, account_id={self.account_id!r}, auth={auth})"

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

    def _account(self, account_id: str | None) -> str:
        account = account_id or self.account_id
        if not account:
            raise ValueError("no account id: pass account_id=... or set CLOUDFLARE_ACCOUNT_ID")
        return account

    def _hint(self, kind: type[ApiError], account: str | None) -> str:
        if kind is AuthError:
            which = (
                "the API token (CLOUDFLARE_API_TOKEN)"
                if self._token is not None
                else "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY"
            )
            where = f" on account {account}" if account else ""
            return (
                f"check that {which} is valid and has the Cloudflare Tunnel Read permission{where}"
            )
        if kind is NotFoundError:
            return (
                "check the account id and the tunnel or connector id "
                "(a tunnel can be deleted between two calls)"
            )
        if kind is RateLimitError:
            return (
                "the token's request budget is spent (Cloudflare allows 1200 requests per "
                "5 minutes); wait a few minutes, or lower requests_per_window / max_workers"
            )
        return "retry later; if it persists, check https://www.cloudflarestatus.com"

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
        found = _envelope_errors(envelope)
        codes = [code for code, _ in found if code is not None]
        messages = [message for _, message in found if message is not None]
        if kind is None:
            if status == 429:
                kind = RateLimitError
            elif status in (401, 403) or (status is not None and _AUTH_CODES & set(codes)):
                kind = AuthError
            elif status == 404 or _NOT_FOUND_CODES & set(codes):
                kind = NotFoundError
            else:
                kind = ApiError
        detail = ", ".join(
            " ".join(
                ([f"code {code}"] if code is not None else [])
                + ([f'"{message}"'] if message is not None else [])
            )
            for code, message in found
            if code is not None or message is not None
        )
        parts = [problem] + ([detail] if detail else [])
        text = f"{what} failed: {', '.join(parts)}: {self._hint(kind, account)}"
        return kind(
            self._scrub(text),
            status=status,
            codes=codes,
            messages=[self._scrub(message) for message in messages],
            url=self._scrub(url),
        )

    # -- one call, with retries ------------------------------------------------------------

    def _attempt(
        self, url: str, params: Mapping[str, str] | None, what: str, account: str | None
    ) -> Any:
        """Send one request and return the envelope, or raise _Retryable / ApiError."""
        with self._counts_lock:
            self._n_requests += 1
        headers: Mapping[str, str] | None = None
        self._budget.acquire()
        started = time.monotonic()
        try:
            try:
                response = self._session.get(
                    url,
                    params=params,
                    headers=self._headers(),
                    timeout=self.timeout,
                    stream=True,
                )
            except requests.exceptions.SSLError as exc:
                raise self._error(
                    what,
                    f"TLS failure ({type(exc).__name__})",
                    status=None,
                    account=account,
                    url=url,
                    kind=ApiError,
                ) from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                raise _Retryable(
                    self._error(
                        what,
                        f"no response ({type(exc).__name__}: {exc})",
                        status=None,
                        account=account,
                        url=url,
                        kind=ApiError,
                    )
                ) from exc
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
                raise _Retryable(
                    self._error(
                        what,
                        f"HTTP {status}, body truncated after {len(body)} bytes: "
                        f"{body[:_BODY_QUOTE_BYTES]!r}",
                        status=status,
                        account=account,
                        url=url,
                        kind=ApiError,
                    )
                ) from exc
            finally:
                response.close()
        finally:
            self._budget.release(headers)
        body = b"".join(chunks)
        _log.debug(
            "%s -> HTTP %s (%d bytes, %.0f ms)",
            what,
            status,
            len(body),
            1000 * (time.monotonic() - started),
        )
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = None
        if status == 429:
            raise _Retryable(
                self._error(
                    what, "HTTP 429", status=status, envelope=envelope, account=account, url=url
                ),
                retry_after=_retry_after_s(headers.get("Retry-After")),
            )
        if status >= 500:
            raise _Retryable(
                self._error(
                    what,
                    f"HTTP {status}",
                    status=status,
                    envelope=envelope,
                    account=account,
                    url=url,
                )
            )
        if not isinstance(envelope, Mapping):
            problem = "the body is not JSON" if envelope is None else "the body is no envelope"
            raise self._error(
                what,
                f"HTTP {status}, {problem}: {body[:_BODY_QUOTE_BYTES]!r}",
                status=status,
                account=account,
                url=url,
            )
        if status >= 400 or envelope.get("success") is not True:
            problem = f"HTTP {status}" + (", success is false" if status < 400 else "")
            raise self._error(
                what, problem, status=status, envelope=envelope, account=account, url=url
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
        account = self._account(account_id)
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
            key: _query_value(key, value) for key, value in filters.items() if value is not None
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
        account = self._account(account_id)
        path = (
            f"/accounts/{self._segment(account, 'account_id')}"
            f"/cfd_tunnel/{self._segment(tunnel_id, 'tunnel_id')}"
        )
        result: dict[str, Any] = self._result(self._get(path, account=account), dict, f"GET {path}")
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
        account = self._account(account_id)
        path = (
            f"/accounts/{self._segment(account, 'account_id')}"
            f"/cfd_tunnel/{self._segment(tunnel_id, 'tunnel_id')}/connections"
        )
        result: list[dict[str, Any]] = self._result(
            self._get(path, account=account), list, f"GET {path}"
        )
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
        account = self._account(account_id)
        path = (
            f"/accounts/{self._segment(account, 'account_id')}"
            f"/cfd_tunnel/{self._segment(tunnel_id, 'tunnel_id')}"
            f"/connectors/{self._segment(connector_id, 'connector_id')}"
        )
        result: dict[str, Any] = self._result(self._get(path, account=account), dict, f"GET {path}")
        return result
