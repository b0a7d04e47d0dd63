"""Small text helpers shared by analysis labels, plots, reports and the CLI."""

from __future__ import annotations

import re

__all__ = ["encodable", "one_line", "plural"]

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
