"""The one error tree of tunnelframe.

Every error the package raises on purpose derives from :class:`TunnelframeError`, carries its
context as attributes and says what failed, why, and what to do. Caller mistakes (a wrong
argument) stay ``ValueError``/``TypeError``. Nothing here may ever hold an API token.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "AuthError",
    "NotFoundError",
    "RateLimitError",
    "SchemaError",
    "TunnelframeError",
]


class TunnelframeError(Exception):
    """Base class of every error tunnelframe raises on purpose."""


class ApiError(TunnelframeError):
    """The Cloudflare API (or something in front of it) answered with a failure.

    Attributes
    ----------
    status : int or None
        HTTP status, ``None`` when no response arrived.
    codes : list of int
        The ``code`` of every entry in the envelope's ``errors``.
    messages : list of str
        The ``message`` of every entry in the envelope's ``errors``.
    url : str or None
        The URL requested (never carries credentials).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        codes: list[int] | None = None,
        messages: list[str] | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.codes = list(codes or [])
        self.messages = list(messages or [])
        self.url = url


class AuthError(ApiError):
    """HTTP 401/403: the credentials are missing, wrong or lack a permission."""


class NotFoundError(ApiError):
    """HTTP 404 or code 7003/7000: the account, tunnel or connector does not exist."""


class RateLimitError(ApiError):
    """HTTP 429 persisted after every retry."""


class SchemaError(TunnelframeError):
    """A payload does not have the shape the Cloudflare API documents.

    Attributes
    ----------
    path : str
        JSON path of the offending value, e.g. ``result[3].conns[1].opened_at``; ``""`` for
        the payload as a whole, which the message calls ``the payload``.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or 'the payload'}: {problem}")
        self.path = path
        self.problem = problem
