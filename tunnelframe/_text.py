"""Small text helpers shared by analysis labels, plots, reports and the CLI."""

from __future__ import annotations

import re

__all__ = ["one_line", "plural"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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
    one-line-per-violation contract of ``check``, an escape sequence could rewrite a terminal.

    Examples
    --------
    >>> one_line("a\\nb")
    'a\\\\nb'
    """
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(text))
