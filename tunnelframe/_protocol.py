"""The Cloudflare v4 API's conventions as tunnelframe's client applies them, with no HTTP library.

Which base URLs are allowed (plain ``http://`` only to loopback), how a list filter is written
in a query, and how a failed reply becomes an :class:`~tunnelframe.ApiError`: the envelope's
``errors`` with their ``error_chain``, the error class that the status and codes call for, and a
hint that says what to do. Pure functions: nothing here sends a request or holds a credential
(the client passes ``scrub`` to keep secrets out of messages).
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Final

from tunnelframe._errors import ApiError, AuthError, NotFoundError, RateLimitError

__all__ = ["DEFAULT_BASE_URL", "api_error", "check_base_url", "envelope_errors", "query_value"]

DEFAULT_BASE_URL: Final = "https://api.cloudflare.com/client/v4"

_NOT_FOUND_CODES: Final = frozenset({7000, 7003})
# 6111: "Invalid format for Authorization header", sent inside the error_chain of a 6003
# ("Invalid request headers"): a credentials problem, not one to retry.
_AUTH_CODES: Final = frozenset({6111, 9109, 10000})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """``base_url`` without its trailing slash; ValueError unless https, or http to loopback."""
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


def query_value(name: str, value: object) -> str:
    """A list filter as the API reads it: booleans in lower case, times in RFC 3339 UTC."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be a timezone-aware datetime, got a naive one")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a str or datetime, got {type(value).__name__}")


def envelope_errors(envelope: object) -> list[tuple[int | None, str | None]]:
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


def _hint(kind: type[ApiError], *, auth: str, account: str | None) -> str:
    if kind is AuthError:
        which = (
            "the API token (CLOUDFLARE_API_TOKEN)"
            if auth == "token"
            else "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY"
        )
        where = f" on account {account}" if account else ""
        return f"check that {which} is valid and has the Cloudflare Tunnel Read permission{where}"
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


def api_error(
    what: str,
    problem: str,
    *,
    status: int | None,
    envelope: object,
    url: str,
    kind: type[ApiError] | None,
    auth: str,
    account: str | None,
    scrub: Callable[[str], str],
) -> ApiError:
    """The error for a failed call: ``{what} failed: {problem}, {codes and messages}: {hint}``.

    ``kind`` None picks the class from the status and the envelope's codes (429: RateLimitError;
    401, 403 or an auth code: AuthError; 404 or code 7000/7003: NotFoundError; else ApiError).
    ``auth`` is ``"token"`` or ``"email+api_key"`` (for the hint); ``scrub`` removes secrets
    from every text the error carries.
    """
    found = envelope_errors(envelope)
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
    text = f"{what} failed: {', '.join(parts)}: {_hint(kind, auth=auth, account=account)}"
    return kind(
        scrub(text),
        status=status,
        codes=codes,
        messages=[scrub(message) for message in messages],
        url=scrub(url),
    )
