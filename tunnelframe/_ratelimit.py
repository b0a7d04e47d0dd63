"""The request budget of the Cloudflare client: a thread-safe limiter and ``Retry-After``.

:class:`Budget` keeps every worker of one client within ``limit`` requests per sliding
``window_s`` seconds, learns the server's own count from the ``Ratelimit`` response header
(``"default";r=<remaining>;t=<seconds to reset>``; with several items, the most restrictive)
to stop before the server starts refusing, and after a 429 pauses every worker until
``Retry-After`` has passed. No wait is longer than ``max_wait`` (Cloudflare's window is five
minutes), and a wait ends early when the client is cancelled (Ctrl+C) or would pass a deadline.
It knows no HTTP library: :mod:`tunnelframe.client` feeds it headers.
"""

from __future__ import annotations

import collections
import email.utils
import logging
import math
import re
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime

__all__ = ["Budget", "ratelimit", "retry_after_s"]

_log = logging.getLogger("tunnelframe.client")  # its messages are the client's
_RATELIMIT_REMAINING = re.compile(r"(?:^|[;,\s])(?:r|remaining)=(\d+)")
_RATELIMIT_RESET = re.compile(r"(?:^|[;,\s])(?:t|reset)=(\d+)")


class Budget:
    """A thread-safe request budget shared by every worker of one client.

    Three things can hold a request back: the local sliding window (at most ``limit`` requests
    in ``window_s`` seconds), the server's own count from the ``Ratelimit`` header, and a pause
    after a 429 that applies to every worker until ``Retry-After`` has passed.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        max_wait: float = 300.0,
        cancelled: threading.Event | None = None,
    ) -> None:
        self._limit = limit
        self._window_s = window_s
        self._max_wait = max_wait
        self._cancelled = cancelled if cancelled is not None else threading.Event()
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

    def acquire(self, *, until: float | None = None) -> bool:
        """Block until one more request fits the budget, then count it as sent.

        Returns False, counting nothing, when the client is cancelled or when the wait would
        end after ``until`` (a ``time.monotonic()`` deadline).
        """
        with self._cond:
            while True:
                if self._cancelled.is_set():
                    return False
                now = time.monotonic()
                wait = self._wait_s(now)
                if wait <= 0:
                    break
                if until is not None and now + wait > until:
                    return False
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
        return True

    def wake(self) -> None:
        """Wake every waiting worker (after the client was cancelled)."""
        with self._cond:
            self._cond.notify_all()

    def release(self, headers: Mapping[str, str] | None) -> None:
        """Mark a request finished and learn the server's count from its headers."""
        with self._cond:
            if headers is not None:
                learned = ratelimit(headers.get("Ratelimit"))
                if learned is not None:
                    self._learn(learned[0], min(float(learned[1]), self._max_wait))
            self._inflight -= 1
            self._cond.notify_all()

    def _learn(self, remaining: int, reset_s: float) -> None:
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
            seconds = min(seconds, self._max_wait)
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._cond.notify_all()


def ratelimit(header: str | None) -> tuple[int, int] | None:
    """(remaining, seconds to reset) of the most restrictive item of a ``Ratelimit`` header.

    The header is a list of items (``"default";r=50;t=30, "burst";r=0;t=5``): the one with
    the fewest requests left wins, and of those the one with the longest wait. The older
    draft's syntax, one policy whose parameters are separated by commas
    (``limit=100, remaining=50, reset=30``), is read too.

    Examples
    --------
    >>> ratelimit('"default";r=50;t=30, "burst";r=0;t=5')
    (0, 5)
    >>> ratelimit("limit=100, remaining=50, reset=30")
    (50, 30)
    >>> ratelimit(None) is None
    True
    """
    if not header:
        return None
    found = []
    for item in header.split(","):
        remaining = _RATELIMIT_REMAINING.search(item)
        reset = _RATELIMIT_RESET.search(item)
        if remaining is not None and reset is not None:
            found.append((int(remaining.group(1)), int(reset.group(1))))
    if not found:  # the older draft: one policy, its parameters separated by commas
        remaining = _RATELIMIT_REMAINING.search(header)
        reset = _RATELIMIT_RESET.search(header)
        if remaining is None or reset is None:
            return None
        found.append((int(remaining.group(1)), int(reset.group(1))))
    return min(found, key=lambda pair: (pair[0], -pair[1]))


def retry_after_s(value: str | None, *, max_wait: float = 300.0) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Never more than ``max_wait``: ``86400``, ``1e10`` or ``inf`` wait ``max_wait``.
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else min(max_wait, max(0.0, seconds))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max_wait, max(0.0, (when - datetime.now(UTC)).total_seconds()))
