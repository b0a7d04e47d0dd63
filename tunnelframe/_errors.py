"""The one error tree of tunnelframe.

Every error the package raises on purpose derives from :class:`TunnelframeError`, carries its
context as attributes and says what failed, why, and what to do. Caller mistakes (a wrong
argument) stay ``ValueError``/``TypeError``. Nothing here may ever hold an API token.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "AsOfWarning",
    "AuthError",
    "NotFoundError",
    "PartialFleetWarning",
    "RateLimitError",
    "SchemaError",
    "TunnelframeDeprecationWarning",
    "TunnelframeError",
    "TunnelframeWarning",
]


class TunnelframeError(Exception):
    """Base class of every error tunnelframe raises on purpose.

    Examples
    --------
    Catch every error tunnelframe raises on purpose, whatever its kind:

    >>> import tunnelframe as tf
    >>> try:
    ...     tf.connections_frame({"id": "c1", "conns": [{"id": 5}]})
    ... except tf.TunnelframeError as exc:
    ...     print(type(exc).__name__, exc)
    SchemaError conns[0].id: expected a string or null, got integer 5
    """


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

    Examples
    --------
    >>> import tunnelframe as tf
    >>> failed = {"success": False, "errors": [{"code": 7003, "message": "No route for the URI"}]}
    >>> try:
    ...     tf.connections_frame(failed)
    ... except tf.ApiError as exc:
    ...     print(exc.codes, exc.messages)
    [7003] ['No route for the URI']
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
    """HTTP 401/403: the credentials are missing, wrong or lack a permission.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> with tf.simulator.serve(tf.simulator.generate_fleet(2)) as api:
    ...     client = tf.Client("x" * 40, account_id=api.account_id, base_url=api.url)
    ...     try:
    ...         client.list_tunnels()
    ...     except tf.AuthError as exc:
    ...         print(exc.status, exc.codes)
    403 [10000]
    """


class NotFoundError(ApiError):
    """HTTP 404 or code 7003/7000: the account, tunnel or connector does not exist.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> with tf.simulator.serve(tf.simulator.generate_fleet(2)) as api:
    ...     client = tf.Client(api.token, account_id=api.account_id, base_url=api.url)
    ...     try:
    ...         client.get_tunnel("00000000-0000-0000-0000-000000000000")
    ...     except tf.NotFoundError as exc:
    ...         print(exc.status, exc.codes)
    404 [7003]
    """


class RateLimitError(ApiError):
    """HTTP 429 persisted after every retry.

    Examples
    --------
    An :class:`ApiError` like the others: catch it alone to wait and try again later.

    >>> import tunnelframe as tf
    >>> issubclass(tf.RateLimitError, tf.ApiError)
    True
    """


class SchemaError(TunnelframeError):
    """A payload does not have the shape the Cloudflare API documents.

    Attributes
    ----------
    path : str
        JSON path of the offending value, e.g. ``result[3].conns[1].opened_at``; ``""`` for
        the payload as a whole, which the message calls ``the payload``.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> try:
    ...     tf.connections_frame({"result": [{"id": "c1", "conns": [{"opened_at": 0}]}]})
    ... except tf.SchemaError as exc:
    ...     print(exc.path)
    result[0].conns[0].opened_at
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or 'the payload'}: {problem}")
        self.path = path
        self.problem = problem


class TunnelframeWarning(UserWarning):
    """Base class of every warning tunnelframe gives: silence them all with one filter.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> issubclass(tf.AsOfWarning, tf.TunnelframeWarning)
    True
    """


class PartialFleetWarning(TunnelframeWarning):
    """A tunnel-level answer was asked of a connections frame, which lists no tunnel without
    connectors: pass the Snapshot (or its path, or the fleet) to count every tunnel.

    Examples
    --------
    >>> import warnings, tunnelframe as tf
    >>> conns = tf.connections_frame(tf.load_sample())
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = tf.ha_report(conns, level="tunnel")
    >>> caught[0].category.__name__
    'PartialFleetWarning'
    """


class AsOfWarning(TunnelframeWarning):
    """``as_of`` is earlier than the data it is applied to (ages would come out negative).

    Examples
    --------
    >>> import warnings, tunnelframe as tf
    >>> conns = tf.connections_frame(tf.load_sample())
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = tf.connection_ages(conns, as_of="2020-01-01")
    >>> caught[0].category.__name__
    'AsOfWarning'
    """


class TunnelframeDeprecationWarning(TunnelframeWarning, DeprecationWarning):
    """A name or a way of calling that still works for one release: the message says what to
    write instead.

    Examples
    --------
    >>> import warnings, tunnelframe as tf
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = tf.ha_report(frame=tf.load_sample(), level="tunnel")  # the old name of ``source``
    >>> caught[0].category.__name__
    'TunnelframeDeprecationWarning'
    """
