"""How long and how hard the client tries: one small, frozen settings object.

:class:`Policy` holds every limit of a call (timeouts, retries, backoff, the cap on any wait the
server asks for, the largest response accepted), so a user passes one object and a test reads
it back. It knows no HTTP library and does no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

__all__ = ["Policy"]

#: Cloudflare's rate window is 5 minutes: no server-requested wait is worth more.
MAX_WAIT_S: Final = 300.0


@dataclass(frozen=True)
class Policy:
    """Limits of every call the client makes.

    Parameters
    ----------
    timeout : float
        Seconds to wait for the server to connect or to send the next bytes.
    request_deadline : float
        Seconds one request may take in all, from sending it to the last byte of its body,
        status line and headers included (a server that sends one byte a second never trips
        ``timeout``; this stops it: past the deadline the socket is shut).
    max_retries : int
        Extra attempts per call after a 429, a 5xx, a timeout, a dropped connection or a
        truncated body.
    backoff_base, backoff_max : float
        Exponential backoff with full jitter, in seconds, between retries of 5xx and
        connection failures.
    max_wait : float
        Cap, in seconds, on any wait the server asks for (``Retry-After``, the reset of the
        ``Ratelimit`` header). Cloudflare's window is 300 s.
    max_response_bytes : int
        Largest response body accepted, counted after decompression.
    max_pages : int
        Most pages one listing reads (100 pages of 1,000 is a hundred times Cloudflare's
        1,000-tunnel account limit): a server serving full pages of new ids forever stops here.

    Examples
    --------
    >>> Policy(max_retries=2).max_wait
    300.0
    """

    timeout: float = 30.0
    request_deadline: float = 120.0
    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_wait: float = MAX_WAIT_S
    max_response_bytes: int = 64 * 2**20
    max_pages: int = 100

    def __post_init__(self) -> None:
        for name in ("timeout", "request_deadline", "max_wait"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}")
        for name in ("backoff_base", "backoff_max"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError(f"max_retries must be an int, got {self.max_retries!r}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if isinstance(self.max_response_bytes, bool) or not isinstance(
            self.max_response_bytes, int
        ):
            raise TypeError(f"max_response_bytes must be an int, got {self.max_response_bytes!r}")
        if self.max_response_bytes < 1:
            raise ValueError(f"max_response_bytes must be >= 1, got {self.max_response_bytes}")
        if isinstance(self.max_pages, bool) or not isinstance(self.max_pages, int):
            raise TypeError(f"max_pages must be an int, got {self.max_pages!r}")
        if self.max_pages < 1:
            raise ValueError(f"max_pages must be >= 1, got {self.max_pages}")
