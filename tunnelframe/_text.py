"""Small text helpers shared by analysis labels, plots, reports and the CLI."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["calendar_advice", "cli_audience", "encodable", "for_audience", "one_line", "plural"]

#: Who reads the advice a message gives: a Python caller (keyword arguments) unless the
#: command line runs the code (options and environment variables).
_AUDIENCE: ContextVar[str] = ContextVar("tunnelframe_audience", default="python")

# Control characters, line and paragraph separators, the bidi controls that reorder what a
# terminal shows (U+200E/F, U+202A-202E, U+2066-2069) and lone surrogates (not encodable).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def plural(n: int, word: str, words: str | None = None) -> str:
    """``n`` and ``word``, with ``words`` (default ``word + "s"``) unless ``n`` is 1.

    Examples
    --------
    >>> plural(1, "colo"), plural(1200, "tunnel"), plural(2, "entry", "entries")
    ('1 colo', '1,200 tunnels', '2 entries')
    """
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def one_line(text: object) -> str:
    """Return ``text`` on one line, control characters shown as escapes (``\\n``, ``\\x1b``).

    Tunnel names and API messages are other people's text: a newline would break the
    one-line-per-violation contract of ``check``, an escape sequence could rewrite a terminal,
    a bidi control (``\\u202e``) could reorder what it shows. Lone surrogates are escaped too,
    so the result can always be encoded. The one escaping of every terminal line.

    Examples
    --------
    >>> one_line("a\\nb")
    'a\\\\nb'
    """
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(text))


def encodable(text: object) -> str:
    """``text`` as a str that UTF-8 can encode: lone surrogates shown as escapes (``\\ud800``).

    For other people's text that is stored (error records of a snapshot): one lone surrogate
    would make every later ``json.dumps(...).encode()`` of the whole document fail.

    Examples
    --------
    >>> encodable("web\\ud800")
    'web\\\\ud800'
    """
    return _SURROGATE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(text))


@contextlib.contextmanager
def cli_audience() -> Iterator[None]:
    """Word advice for a command-line user while the block runs (:func:`for_audience`).

    Examples
    --------
    >>> with cli_audience():
    ...     for_audience(python="pass releases=...", cli="pass --releases FILE")
    'pass --releases FILE'
    """
    token = _AUDIENCE.set("cli")
    try:
        yield
    finally:
        _AUDIENCE.reset(token)


def for_audience(*, python: str, cli: str) -> str:
    """``cli`` inside :func:`cli_audience` (the command line runs), else ``python``.

    So advice names what its reader can type: a keyword argument for a Python caller, an
    option or variable for a command-line user, never the other's.

    Examples
    --------
    >>> for_audience(python="pass releases=...", cli="pass --releases FILE")
    'pass releases=...'
    """
    return cli if _AUDIENCE.get() == "cli" else python


def calendar_advice(*, refresh: bool = True) -> str:
    """What a user can do about a missing or old release calendar, in the reader's words.

    A command-line user is told the options (``--refresh-releases``, ``--releases FILE``), a
    Python caller the keyword arguments (``releases=``, ``latest=``); never the other's.

    Parameters
    ----------
    refresh : bool, default True
        Offer reading GitHub again; False when that is what just failed.

    Returns
    -------
    str
        A clause that ends a sentence: "pass ...".

    Examples
    --------
    >>> calendar_advice(refresh=False)
    "pass releases=<a CSV path with version,released_on> or latest='YYYY.M.PATCH'"
    """
    cli = "pass --releases FILE (a CSV with version,released_on)"
    python = "pass releases=<a CSV path with version,released_on> or latest='YYYY.M.PATCH'"
    if refresh:
        cli = (
            "pass --refresh-releases (reads GitHub once and caches the calendar for every "
            "later command), or --releases FILE (a CSV with version,released_on)"
        )
        python = (
            "pass releases=tunnelframe.refresh_releases() (reads GitHub once and caches the "
            "calendar for every later call), releases=<a CSV path with version,released_on>, "
            "or latest='YYYY.M.PATCH'"
        )
    return for_audience(python=python, cli=cli)
