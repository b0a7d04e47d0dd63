"""Deprecated spellings kept for one release: renamed parameters and a client given by position.

A decorator here maps the old call onto the new signature and warns with
:class:`~tunnelframe.TunnelframeDeprecationWarning`; the function itself keeps only the new
signature (what ``inspect.signature``, the docs and ``tests/test_signatures.py`` see).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from tunnelframe._errors import TunnelframeDeprecationWarning

__all__ = ["positional_to_keyword", "renamed"]

P = ParamSpec("P")
R = TypeVar("R")


def _warn(message: str) -> None:
    # stacklevel 3: the caller of the decorated function
    warnings.warn(message, TunnelframeDeprecationWarning, stacklevel=3)


def renamed(**old_to_new: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Accept each old keyword (``frame=...``) as its new name, with a deprecation warning.

    Examples
    --------
    >>> import warnings
    >>> @renamed(frame="source")
    ... def f(source: int) -> int:
    ...     return source
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     f(frame=3)
    3
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        names = list(inspect.signature(func).parameters)
        positions = {
            new: names.index(new) if new in names else len(names) for new in old_to_new.values()
        }

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs or positions[new] < len(args):
                        raise TypeError(
                            f"{func.__name__}() got both {old}= and {new}=: pass only {new}="
                        )
                    _warn(
                        f"{func.__name__}({old}=...) is deprecated and goes in the next "
                        f"release: write {func.__name__}({new}=...)"
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def positional_to_keyword(
    n_positional: int, name: str
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Take a ``name`` argument given by position after the first ``n_positional`` ones as
    ``name=...``, with a deprecation warning (``fetch_tunnel("t1", client)``).

    Examples
    --------
    >>> import warnings
    >>> @positional_to_keyword(1, "client")
    ... def f(tunnel_id: str, *, client: object = None) -> object:
    ...     return client
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     f("t1", "c")
    'c'
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            if len(args) > n_positional:
                if len(args) > n_positional + 1 or name in kwargs:
                    raise TypeError(
                        f"{func.__name__}() takes {n_positional} positional argument(s)"
                        f" and {name}= by keyword"
                    )
                _warn(
                    f"{func.__name__}() with {name} by position is deprecated and goes in the "
                    f"next release: write {func.__name__}(..., {name}={name})"
                )
                kwargs[name] = args[-1]
                args = args[:-1]
            return func(*args, **kwargs)

        return wrapper

    return decorate
