"""What the simulated Cloudflare Tunnel API answers: faults, filters, pages, budget, envelopes.

The pure part of the simulator, with no sockets: :mod:`._server` feeds it requests. Faults are
deterministic: whether the n-th request for a given URL is faulted depends only on the seed,
the URL and n, never on thread timing, so a test under faults is reproducible. Nothing here
talks to the real API.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from tunnelframe._listfilters import matches, parse_query

__all__ = ["Faults"]

_PREFIX: Final = "/client/v4"
_DEFAULT_ACCOUNT: Final = "0c0ffee0c0ffee0c0ffee0c0ffee0c0f"
_DEFAULT_PER_PAGE: Final = 20  # what the simulator assumes Cloudflare uses without per_page
_KINDS: Final = ("cfd_tunnel", "warp_connector", "tunnels")
# Cloudflare publishes no list of error codes. Auth (10000) and not-found (7003, 7000) follow
# what the API is seen to send; these three are the simulator's own, chosen >= 1000 as the
# OpenAPI spec requires of every code.
_CODE_BAD_REQUEST: Final = 1001
_CODE_RATE_LIMITED: Final = 10429
_CODE_SERVER_ERROR: Final = 10500


@dataclass(frozen=True)
class Faults:
    """Faults the simulator injects, each a fraction of requests (0 to 1).

    Parameters
    ----------
    error_rate : float
        Requests answered with a 5xx (500 or 503 with a JSON envelope, 502 with an HTML page).
    drop_rate : float
        Requests whose connection is closed without an answer.
    truncate_rate : float
        Requests whose body is cut in half (``Content-Length`` announces the whole body).
    deleted_after_list : iterable of str
        Tunnel ids deleted right after a list response has shown them: their ``/connections``
        (and every other call) then answers 404 with code 7003.
    broken_tunnels : iterable of str
        Tunnel ids whose every call answers 503 (a persistent server-side failure).
    exhaust_budget_after : int, optional
        After this many answered requests, someone else (the dashboard, another script)
        spends the rest of the current rate window once: a 429 storm until it ends.
    seed : int
        Picks which requests are faulted (by URL and by how often that URL was asked).

    Examples
    --------
    >>> from tunnelframe.simulator import serve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "acc1", "name": "web"}]}
    >>> with serve(fleet, faults=Faults(error_rate=1.0)) as api:
    ...     import requests
    ...     requests.get(f"{api.url}/accounts/acc1/cfd_tunnel/t1", timeout=5,
    ...                  headers={"Authorization": f"Bearer {api.token}"}).status_code
    500
    """

    error_rate: float = 0.0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    deleted_after_list: frozenset[str] = field(default_factory=frozenset)
    broken_tunnels: frozenset[str] = field(default_factory=frozenset)
    exhaust_budget_after: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.drop_rate, self.truncate_rate)
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise ValueError(
                "error_rate, drop_rate and truncate_rate must be in [0, 1] and sum to <= 1"
            )
        object.__setattr__(self, "deleted_after_list", frozenset(self.deleted_after_list))
        object.__setattr__(self, "broken_tunnels", frozenset(self.broken_tunnels))

    def fault(self, key: str, nth: int) -> str | None:
        """The fault of the ``nth`` request of ``key`` (a path): ``"drop"``, ``"error"``,
        ``"truncate"`` or None, drawn from a hash of ``seed``, so a run is reproducible.

        Examples
        --------
        >>> Faults(error_rate=1.0).fault("/accounts/a/cfd_tunnel", 1), Faults().fault("/x", 1)
        ('error', None)
        """
        digest = hashlib.blake2b(f"{self.seed}|{key}|{nth}".encode(), digest_size=8).digest()
        draw = int.from_bytes(digest, "big") / 2**64
        for kind, rate in (
            ("drop", self.drop_rate),
            ("error", self.error_rate),
            ("truncate", self.truncate_rate),
        ):
            if draw < rate:
                return kind
            draw -= rate
        return None


class _BadRequest(Exception):
    pass


def _filtered(
    tunnels: Iterable[Mapping[str, Any]], query: Mapping[str, str], *, kind: str
) -> list[Mapping[str, Any]]:
    """The tunnels matching the documented list filters, in fleet order.

    ``kind`` is the endpoint: ``cfd_tunnel`` or ``warp_connector`` list their own type (a
    tunnel without ``tun_type`` is a ``cfd_tunnel``), ``tunnels`` every type or ``tun_types``.
    """
    all_types = kind == "tunnels"
    try:
        filters = parse_query(query)
    except ValueError as exc:
        raise _BadRequest(str(exc)) from None
    types = None
    if all_types and query.get("tun_types"):
        types = {part.strip() for part in query["tun_types"].split(",") if part.strip()}
    out = []
    for tunnel in tunnels:
        tun_type = tunnel.get("tun_type", "cfd_tunnel")
        if not all_types and tun_type != kind:
            continue
        if types is not None and tun_type not in types:
            continue
        if matches(tunnel, filters):
            out.append(tunnel)
    return out


def _page_number(query: Mapping[str, str], name: str, default: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        number = float(raw)
    except ValueError:
        raise _BadRequest(f"{name} must be a number, got {raw!r}") from None
    if not number.is_integer() or number < 1 or (high is not None and number > high):
        limit = f"1..{high}" if high is not None else ">= 1"
        raise _BadRequest(f"{name} must be an integer in {limit}, got {raw!r}")
    return int(number)


def _envelope(result: object, result_info: Mapping[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = dict(result_info)
    return body


def _failure(code: int, message: str) -> dict[str, Any]:
    return {
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": None,
    }


class _Window:
    """A fixed-window request budget per credential, like Cloudflare's."""

    def __init__(
        self, quota: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.quota = quota
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def take(self, key: str) -> tuple[bool, int, float]:
        """Count one request; return (allowed, remaining, seconds to reset)."""
        with self._lock:
            now = self._clock()
            start, used = self._windows.get(key, (now, 0))
            if now - start >= self.window_s:
                start, used = now, 0
            allowed = used < self.quota
            if allowed:
                used += 1
            self._windows[key] = (start, used)
            # window_s - elapsed, not (start + window_s) - now: the latter rounds, and a reset
            # of 60.000000000007 s would be announced as t=61.
            return allowed, self.quota - used, self.window_s - (now - start)

    def peek(self) -> tuple[int, float]:
        return self.quota, self.window_s

    def exhaust(self, keys: Iterable[str]) -> None:
        """Spend what is left of the current window of every key."""
        with self._lock:
            now = self._clock()
            for key in keys:
                start, _ = self._windows.get(key, (now, 0))
                if now - start >= self.window_s:
                    start = now
                self._windows[key] = (start, self.quota)


def _not_found(path: str) -> dict[str, Any]:
    return _failure(7003, f"Could not route to {path}, perhaps your object identifier is invalid?")


def _as_faults(faults: Faults | Mapping[str, Any] | None) -> Faults:
    if faults is None:
        return Faults()
    if isinstance(faults, Faults):
        return faults
    if isinstance(faults, Mapping):
        try:
            return Faults(**faults)
        except TypeError as exc:
            raise TypeError(f"unknown fault in {sorted(faults)}: {exc}") from None
    raise TypeError(f"faults must be a Faults, a dict or None, got {type(faults).__name__}")
